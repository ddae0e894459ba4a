"""The checks of the parameters every SLO function shares: durations, targets, columns,
the time column and the backend of the result.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import polars as pl

from toolkit.errors import ParameterError, preview
from toolkit.schema import to_pandas

Backend = Literal["polars", "pandas"]
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
_FIXED = re.compile(r"^(?:\d+(?:ns|us|ms|s|m|h|d|w))+$")
_PART = re.compile(r"(\d+)(ns|us|ms|s|m|h|d|w)")
_CALENDAR = re.compile(r"^\d+(?:mo|q|y)$")
_OPS: dict[str, str] = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_AVAILABILITY = "availability"
_K = "_bucket"  # bucket index column of the internal series


def _fixed_ns(value: object, parameter: str, function: str) -> int:
    """A fixed duration ('5m', '1h30m', '30d', a timedelta) in nanoseconds, > 0."""
    problem = (
        f"The {parameter!r} parameter of {function} must be a positive fixed duration such "
        "as '5m', '1h', '30d' (units ns, us, ms, s, m, h, d, w) or a datetime.timedelta. "
        f"Got {preview(value)} instead."
    )
    if isinstance(value, dt.timedelta):
        ns = (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    elif isinstance(value, str) and _FIXED.match(value.strip()):
        ns = sum(int(n) * _NS[u] for n, u in _PART.findall(value.strip()))
    else:
        raise ParameterError(problem)
    if ns <= 0:
        raise ParameterError(problem)
    return ns


def _text(ns: int) -> str:
    """A duration in nanoseconds as its shortest exact text ('1h', '90m', '3d')."""
    for unit in ("d", "h", "m", "s", "ms", "us"):
        if ns % _NS[unit] == 0:
            return f"{ns // _NS[unit]}{unit}"
    return f"{ns}ns"


def _every(value: object, parameter: str, function: str) -> tuple[str, int | None]:
    """A polars window duration: fixed (with its ns) or calendar ('1mo', '1q', '1y')."""
    if isinstance(value, str) and _CALENDAR.match(value.strip()):
        return value.strip(), None
    try:
        ns = _fixed_ns(value, parameter, function)
    except ParameterError:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a positive duration such as "
            "'1h', '1d', '1w' or a calendar one ('1mo', '1q', '1y'), or a datetime.timedelta. "
            f"Got {preview(value)} instead."
        ) from None
    return f"{ns}ns", ns


def _out(frame: pl.DataFrame, backend: Backend) -> Any:
    return to_pandas(frame) if backend == "pandas" else frame


def _check_target(value: object, parameter: str, function: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(float(value))
        or not 0.0 < float(value) < 1.0
    ):
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a number strictly between "
            f"0 and 1 (0.999 for 99.9 %). Got {preview(value)} instead."
        )
    return float(value)


def _columns(frame: pl.DataFrame, names: object, parameter: str, function: str) -> list[str]:
    """``by``-style column names: None, one name or a list; each must be a column."""
    if names is None:
        return []
    listed = [names] if isinstance(names, str) else names
    if not isinstance(listed, Sequence) or not all(isinstance(n, str) for n in listed):
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a column name or a list of "
            f"column names. Got {preview(names)} instead."
        )
    out: list[str] = []
    for name in listed:
        if name not in frame.columns:
            raise ParameterError(
                f"The {parameter!r} parameter of {function} must name columns of the frame "
                f"(available: {preview(', '.join(frame.columns), 300)}). "
                f"Got {preview(name)} instead."
            )
        out.append(name)
    return out


def _time_column(frame: pl.DataFrame, time: object, function: str) -> pl.Expr:
    """The time column as Datetime('ns', 'UTC'); a naive or non-temporal column is refused."""
    if not isinstance(time, str) or time not in frame.columns:
        raise ParameterError(
            f"The 'time' parameter of {function} must name a Datetime column of the frame "
            f"(available: {preview(', '.join(frame.columns), 300)}). Got {preview(time)} instead."
        )
    dtype = frame.schema[time]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise ParameterError(
            f"The 'time' parameter of {function} must name a time-zone aware Datetime column "
            f"(UTC, as the canonical tables have). Got column {time!r} of type {dtype} instead; "
            "a time without its zone is never guessed."
        )
    if frame[time].null_count():
        raise ParameterError(
            f"The 'time' parameter of {function} names column {time!r}, which holds "
            f"{frame[time].null_count()} null times; every event needs its time."
        )
    return pl.col(time).dt.convert_time_zone("UTC").dt.cast_time_unit("ns")
