"""The checks of the parameters every SLO function shares: durations, targets, columns,
the time column and the backend of the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import polars as pl

from toolkit._validation import (
    Backend,
    Duration,
    Interval,
    duration_ns,
    frame_out,
    reject,
    time_column,
)
from toolkit.errors import preview

__all__ = ["Backend"]

Op = Literal["lt", "lte", "gt", "gte"]
Budgeting = Literal["Occurrences", "Timeslices"]

_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
_CALENDAR = Duration(calendar=True)
_TARGET = Interval(
    float,
    0,
    1,
    closed="neither",
    description="a number strictly between 0 and 1 (0.999 for 99.9 %)",
)
_OPS: dict[str, str] = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_AVAILABILITY = "availability"
_K = "_bucket"  # bucket index column of the internal series


def _fixed_ns(value: object, parameter: str, function: str) -> int:
    """A fixed duration ('5m', '1h30m', '30d', a timedelta) in nanoseconds, > 0: the
    toolkit's one duration grammar (:func:`toolkit._validation.duration_ns`)."""
    return duration_ns(value, parameter=parameter, function=function)


def _text(ns: int) -> str:
    """A duration in nanoseconds as its shortest exact text ('1h', '90m', '3d')."""
    for unit in ("d", "h", "m", "s", "ms", "us"):
        if ns % _NS[unit] == 0:
            return f"{ns // _NS[unit]}{unit}"
    return f"{ns}ns"


def _every(value: object, parameter: str, function: str) -> tuple[str, int | None]:
    """A polars window duration: fixed (with its ns) or calendar ('1mo', '1q', '1y')."""
    if not _CALENDAR.accepts(value):
        raise reject(parameter, "be " + _CALENDAR.describe(), value, function=function)
    if isinstance(value, str) and value.strip()[-1:] in ("o", "q", "y"):
        return value.strip(), None
    ns = duration_ns(value, parameter=parameter, function=function)
    return f"{ns}ns", ns


def _out(frame: pl.DataFrame, backend: Backend) -> Any:
    return frame_out(frame, backend)


def _check_target(value: object, parameter: str, function: str) -> float:
    if not _TARGET.accepts(value):
        raise reject(parameter, "be " + _TARGET.words(), value, function=function)
    return float(value)  # type: ignore[arg-type]


def _columns(frame: pl.DataFrame, names: object, parameter: str, function: str) -> list[str]:
    """``by``-style column names: None, one name or a list; each must be a column."""
    if names is None:
        return []
    listed = [names] if isinstance(names, str) else names
    if not isinstance(listed, Sequence) or not all(isinstance(n, str) for n in listed):
        raise reject(
            parameter, "be a column name or a list of column names", names, function=function
        )
    out: list[str] = []
    for name in listed:
        if name not in frame.columns:
            raise reject(
                parameter,
                f"name columns of the frame (available: {preview(', '.join(frame.columns), 300)})",
                name,
                function=function,
            )
        out.append(name)
    return out


def _time_column(frame: pl.DataFrame, time: object, function: str) -> pl.Expr:
    """The time column as Datetime('ns', 'UTC'): the toolkit's one time-column check
    (:func:`toolkit._validation.time_column`; a naive column is a SchemaError)."""
    if not isinstance(time, str):
        raise reject("time", "be a column name", time, function=function)
    time_column(frame, time, parameter="time", function=function, nulls=False)
    return pl.col(time).dt.convert_time_zone("UTC").dt.cast_time_unit("ns")
