"""Assembling canonical frames: per-load context, type unification across batches."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from toolkit._validation import ON_ERROR, reject
from toolkit.errors import (
    FormatError,
    LoadReport,
    SkippedRecord,
    SkippedRecordsWarning,
    ToolkitWarning,
    TypePromotionWarning,
    location,
)
from toolkit.ingest._attributes import string_expr
from toolkit.schema import Table

__all__ = ["ON_ERROR", "LoadContext", "check_on_error", "combine", "finish", "unify_dtypes"]

OnError = Literal["raise", "skip"]


def check_on_error(on_error: str, function: str) -> None:
    """Check an ``on_error`` value in a body that is not itself validated (:data:`ON_ERROR`)."""
    if not ON_ERROR.accepts(on_error):
        raise reject("on_error", "be " + ON_ERROR.words(), on_error, function=function)


@dataclass
class LoadContext:
    """State of one load call: where we are, what was skipped or promoted."""

    function: str
    on_error: OnError = "raise"
    path: Path | None = None
    skipped: list[SkippedRecord] = field(default_factory=list)
    promoted: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0
    notes: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)

    def problem(
        self,
        problem: str,
        *,
        line: int | None = None,
        record: int | None = None,
        column: str | None = None,
        error: type[FormatError] = FormatError,
    ) -> None:
        """Raise ``error`` for a bad record, or record a skip under ``on_error='skip'``."""
        if self.on_error == "raise":
            raise error(problem, path=self.path, line=line, record=record, column=column)
        where = location(self.path, line=line, record=record, column=column)
        self.skipped.append(SkippedRecord(where, problem))


def unify_dtypes(
    schemas: Sequence[dict[str, pl.DataType]],
) -> tuple[dict[str, pl.DataType], dict[str, str]]:
    """The dtype each column gets when frames of these schemas are stacked.

    Int64 with Float64 becomes Float64 (likewise for lists); a Null column takes any other
    dtype; any other disagreement becomes String. Returns the dtypes and the columns that
    were promoted, with their new dtype.
    """
    seen: dict[str, list[pl.DataType]] = {}
    for schema in schemas:
        for name, dtype in schema.items():
            kinds = seen.setdefault(name, [])
            if dtype not in kinds:
                kinds.append(dtype)
    out: dict[str, pl.DataType] = {}
    promoted: dict[str, str] = {}
    for name, kinds in seen.items():
        real = [k for k in kinds if k != pl.Null]
        if not real:
            out[name] = pl.Null()
        elif len(real) == 1:
            out[name] = real[0]
        else:
            kset = set(real)
            if kset == {pl.Int64(), pl.Float64()}:
                out[name] = pl.Float64()
            elif kset == {pl.List(pl.Int64), pl.List(pl.Float64)}:
                out[name] = pl.List(pl.Float64)
            else:
                out[name] = pl.String()
            promoted[name] = str(out[name])
    return out, promoted


def conform(frame: pl.DataFrame, dtypes: dict[str, pl.DataType]) -> pl.DataFrame:
    """Cast ``frame``'s columns to ``dtypes`` (those it has)."""
    exprs = []
    for name, dtype in frame.schema.items():
        target = dtypes.get(name, dtype)
        if target == dtype:
            continue
        if target == pl.String and dtype != pl.Null:
            exprs.append(string_expr(pl.col(name), dtype).alias(name))
        else:
            exprs.append(pl.col(name).cast(target))
    return frame.with_columns(exprs) if exprs else frame


def order_columns(columns: Iterable[str], table: Table) -> list[str]:
    """Fixed columns in canonical order, then dynamic ones by prefix and name."""
    names = list(columns)
    fixed = [c for c in table.names if c in names]
    rest = [c for c in names if c not in table.names]
    prefix_rank = {p: i for i, p in enumerate(table.dynamic_prefixes)}

    def rank(name: str) -> tuple[int, str]:
        for p, i in prefix_rank.items():
            if name.startswith(p):
                return i, name
        return len(prefix_rank), name

    return fixed + sorted(rest, key=rank)


def combine(frames: list[pl.DataFrame], table: Table, ctx: LoadContext) -> pl.DataFrame:
    """Stack batch frames into one, unifying dynamic column types (recorded in ``ctx``)."""
    frames = [f for f in frames if f.width > 0]
    if not frames:
        return table.empty()
    dtypes, promoted = unify_dtypes([dict(f.schema) for f in frames])
    ctx.promoted.update(promoted)
    # An attribute that is null everywhere has no type to infer: it becomes String.
    dtypes = {k: (pl.String() if v == pl.Null else v) for k, v in dtypes.items()}
    # rechunk=False: no second copy of the whole table at the end of a large load
    stacked = pl.concat([conform(f, dtypes) for f in frames], how="diagonal", rechunk=False)
    for col in table.columns:  # optional fixed columns always present, typed
        if col.name not in stacked.columns:
            stacked = stacked.with_columns(pl.lit(None, dtype=col.dtype).alias(col.name))
    return stacked.select(order_columns(stacked.columns, table))


SKIPPED_MESSAGE = "{function} skipped {count} record(s) as asked (on_error='skip'): {listed}"


def finish(
    ctx: LoadContext,
    report: LoadReport | None,
    rows: int,
    *,
    skipped_message: str = SKIPPED_MESSAGE,
) -> None:
    """Fill the caller's report; warn once about promotions, skips and repeated keys.

    ``skipped_message`` words the :class:`~toolkit.errors.SkippedRecordsWarning`: a
    ``str.format`` template with ``{function}``, ``{count}``, ``{s}`` (``"s"`` when more than
    one was skipped), ``{first}`` (the first skip) and ``{listed}`` (the first five, then
    ``"(and N more)"``). The report is filled first, so that it is complete even when a
    warning filter turns the warnings into errors.
    """
    if report is not None:
        report.rows = rows
        report.skipped.extend(ctx.skipped)
        report.promoted.update(ctx.promoted)
        for name, fmt in ctx.formats.items():
            report.files.append(name)
            report.formats[name] = fmt
    if ctx.promoted:
        names = ", ".join(f"{k!r} -> {v}" for k, v in sorted(ctx.promoted.items()))
        warnings.warn(
            f"{ctx.function}: attribute values disagreed in type and were promoted "
            f"(int and double to Float64, any other mix to String): {names}",
            TypePromotionWarning,
            stacklevel=3,
        )
    if ctx.duplicates:
        warnings.warn(
            f"{ctx.function}: {ctx.duplicates} attribute key(s) were repeated within one "
            "record; the last value of each was kept",
            ToolkitWarning,
            stacklevel=3,
        )
    for note in dict.fromkeys(ctx.notes):
        warnings.warn(f"{ctx.function}: {note}", ToolkitWarning, stacklevel=3)
    if ctx.skipped:
        count = len(ctx.skipped)
        listed = "; ".join(str(s) for s in ctx.skipped[:5])
        if count > 5:
            listed += f" (and {count - 5} more)"
        message = skipped_message.format(
            function=ctx.function,
            count=count,
            s="s" if count > 1 else "",
            first=ctx.skipped[0],
            listed=listed,
        )
        warnings.warn(SkippedRecordsWarning(message, ctx.skipped), stacklevel=3)
