"""Windowed drift: every window of a period against one reference window
(:func:`windowed`), and the first time each column drifted for good (:func:`detections`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Duration,
    Frame,
    InstanceOf,
    Interval,
    Strings,
    UTCTime,
    frame_out,
    polars_duration,
    reject,
    time_column,
    utc_time,
    validate_params,
)
from toolkit.drift._compare import _RESULT_SCHEMA, SHARED, _columns, _drift_table
from toolkit.errors import SchemaError, preview


def _moment(value: object, name: str, function: str) -> dt.datetime:
    """A time with a zone (aware datetime or ISO-8601 text), as UTC: the one check."""
    return utc_time(value, parameter=name, function=function)


#: A window width, as the drift functions take it.
EVERY = Duration(description="a positive duration such as '1h', '15m' or '1d'")
#: A (start, end) pair of times with their zone (checked further by :func:`_reference_window`).
REFERENCE = InstanceOf(tuple, list, description="a (start, end) pair")
#: An optional time with its zone.
MOMENT = [UTCTime(), None]


def _check_every(every: object, function: str, name: str = "every") -> str:
    """``every`` in the one duration grammar, as polars duration text."""
    if not EVERY.accepts(every):
        raise reject(name, "be " + EVERY.words(), every, function=function)
    return polars_duration(every, parameter=name, function=function)


def _time_column(frame: pl.DataFrame, column: str, function: str) -> None:
    """The one time-column check (a zone-less column is a SchemaError)."""
    time_column(frame, column, parameter="time", function=function)


@validate_params(
    frame=Frame(),
    reference=REFERENCE,
    every=EVERY,
    columns=[Strings(description="a list of column names"), None],
    time=InstanceOf(str),
    start=MOMENT,
    end=MOMENT,
    **SHARED,
)
def windowed(
    frame: Any,
    *,
    reference: tuple[Any, Any],
    every: str = "1h",
    columns: Sequence[str] | None = None,
    time: str = "start_time",
    start: Any = None,
    end: Any = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    correction: Literal["bonferroni", "holm", "fdr_bh"] | None = None,
    bins: int | None = None,
    backend: Backend = "polars",
) -> Any:
    """Drift of every window of a period against a reference window, per column.

    The rows of ``frame`` with ``reference[0] <= time < reference[1]`` are the reference;
    every window of width ``every`` (aligned on the epoch, as ``polars.Expr.dt.truncate``)
    from ``start`` to ``end`` is a current sample, compared as :func:`compare` does (same
    tests, thresholds and automatic choice, decided once on the reference size). Windows
    inside the reference are listed too: they show the noise level. Each column is
    computed in one vectorised pass over all windows: sorting, binary searches and counts,
    no loop over windows.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per event (e.g. llm_calls) with a time column.
    reference : (start, end)
        The reference window: aware datetimes or ISO-8601 text with a zone; end exclusive.
    every : str, default "1h"
        Window width (``"15m"``, ``"1h"``, ``"1d"`` ...).
    columns : list of str, optional
        Columns to test (default: every testable column except ``time_column``).
    time : str, default "start_time"
    start, end : datetime or str, optional
        The period (end exclusive); default from the first to the last row. Empty windows
        are listed with ``n_current`` = 0 and null statistics.
    tests, thresholds, correction, bins
        As in :func:`compare`; the correction is applied per window, across columns.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per window and column, sorted by window then column order:
        ``window_start``, then the columns of :func:`compare` (``column``, ``kind``,
        ``test``, ``statistic``, ``p_value``, ``p_value_adjusted``, ``threshold``,
        ``drifted``, ``n_reference``, ``n_current``, ``nulls_reference``,
        ``nulls_current``, ``reason``). KS p-values are asymptotic
        (``scipy.stats.ks_2samp(method="asymp")``).

    Raises
    ------
    ParameterError
        If a parameter is not valid or the reference window holds no value of a column.
    SchemaError
        If ``time_column`` is not a time-zone-aware Datetime column.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> f = pl.DataFrame({
    ...     "start_time": [t0 + dt.timedelta(minutes=10 * i) for i in range(36)],
    ...     "locale": ["en"] * 24 + ["hi"] * 12})
    >>> out = windowed(f, reference=(t0, t0 + dt.timedelta(hours=2)), every="2h")
    >>> out.select("window_start", "test", "drifted").rows()  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.datetime(2026, 11, 2, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
      'chisquare', False),
     (datetime.datetime(2026, 11, 2, 2, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
      'chisquare', False),
     (datetime.datetime(2026, 11, 2, 4, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
      'chisquare', True)]
    """
    time_column = time
    function = "drift.windowed"
    every = polars_duration(every, parameter="every")
    ref_start, ref_end = _reference_window(reference, function)
    data: pl.DataFrame = frame
    _time_column(data, time_column, function)
    dtype = data.schema[time_column]
    names = _columns([data], columns, function, {time_column})
    times = pl.col(time_column)
    in_ref = (times >= pl.lit(ref_start, dtype=dtype)) & (times < pl.lit(ref_end, dtype=dtype))
    ref = data.filter(in_ref)
    lo = _moment(start, "start", function) if start is not None else data[time_column].min()
    hi = _moment(end, "end", function) if end is not None else None
    period = data.filter(times.is_not_null())
    if start is not None:
        period = period.filter(times >= pl.lit(lo, dtype=dtype))
    if hi is not None:
        period = period.filter(times < pl.lit(hi, dtype=dtype))
    if lo is None or (period.height == 0 and hi is None):
        empty = pl.DataFrame(schema={"window_start": dtype, **_RESULT_SCHEMA})
        return frame_out(empty, backend)
    last = hi if hi is not None else period[time_column].max()
    grid = _window_grid(lo, last, every, dtype, last_included=hi is None)
    period = period.with_columns(times.dt.truncate(every).alias("window_start")).join(
        grid, on="window_start", how="left", maintain_order="left"
    )
    window = period["_window"].to_numpy().astype(np.int64)
    table = _drift_table(
        ref, period, window, grid.height, names, tests, thresholds, correction, bins, function
    )
    out = _with_window_start(table, grid)
    return frame_out(out, backend)


def _reference_window(reference: object, function: str) -> tuple[dt.datetime, dt.datetime]:
    """The (start, end) of a reference window, as aware UTC datetimes, end after start."""
    if not isinstance(reference, tuple | list) or len(reference) != 2:
        raise reject("reference", "be a (start, end) pair", reference, function=function)
    ref_start = _moment(reference[0], "reference", function)
    ref_end = _moment(reference[1], "reference", function)
    if ref_end <= ref_start:
        raise reject(
            "reference",
            "end after it starts",
            got=f"{ref_start.isoformat()} .. {ref_end.isoformat()}",
            function=function,
        )
    return ref_start, ref_end


def _window_grid(
    lo: Any, last: Any, every: str, dtype: pl.DataType, *, last_included: bool
) -> pl.DataFrame:
    """``window_start`` (from ``lo`` truncated to ``every`` up to ``last``) and ``_window``."""
    return pl.select(
        pl.datetime_range(
            pl.lit(lo, dtype=dtype).dt.truncate(every),
            pl.lit(last, dtype=dtype),
            every,
            closed="both" if last_included else "left",
        ).alias("window_start")
    ).with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_window"))


def _with_window_start(table: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    """:func:`_drift_table`'s rows with their ``window_start``, in window order."""
    return (
        table.join(grid, on="_window", how="left")
        .sort("_window", maintain_order=True)
        .select("window_start", *_RESULT_SCHEMA)
    )


@validate_params(
    windows=Frame(),
    consecutive=Interval(int, 1, None, closed="left"),
    after=MOMENT,
    backend=BACKEND,
)
def detections(
    windows: Any,
    *,
    consecutive: int = 1,
    after: Any = None,
    backend: Backend = "polars",
) -> Any:
    """When each column drifted: the first run of ``consecutive`` drifted windows.

    Parameters
    ----------
    windows : polars.DataFrame or pandas.DataFrame
        The output of :func:`windowed`.
    consecutive : int, default 1
        Windows in a row that must be drifted (empty windows break a run): 2 or 3 keeps an
        isolated false alarm (at the rate of the test's threshold) from counting.
    after : datetime or str, optional
        Only windows starting at or after this time (e.g. the reference's end).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per column, in the order of ``windows``: ``column``, ``test``,
        ``detected_at`` (start of the run's first window; null when never detected; the
        alarm is raised at the end of the run's last window), ``windows_drifted`` and
        ``windows`` (windows with data after ``after``), ``max_statistic``.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in range(5)]
    >>> w = pl.DataFrame({"window_start": t, "column": ["x"] * 5, "test": ["psi"] * 5,
    ...                   "statistic": [0.0, 0.3, 0.0, 0.3, 0.4], "n_current": [9] * 5,
    ...                   "drifted": [False, True, False, True, True]})
    >>> detections(w, consecutive=2).select("column", "detected_at").row(0)
    ('x', datetime.datetime(2026, 11, 2, 3, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')))
    """
    function = "drift.detections"
    data: pl.DataFrame = windows
    needed = ["window_start", "column", "test", "statistic", "drifted", "n_current"]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise SchemaError(
            f"The windows frame given to {function} lacks {missing} (available: "
            f"{preview(', '.join(data.columns), 300)}); expected the output of drift.windowed."
        )
    if after is not None:
        moment = _moment(after, "after", function)
        data = data.filter(pl.col("window_start") >= pl.lit(moment, dtype=pl.Datetime("ns", "UTC")))
    flag = pl.col("drifted").fill_null(False).cast(pl.Int64)
    run = data.sort("column", "window_start", maintain_order=True).with_columns(
        flag.rolling_sum(consecutive).over("column").alias("_run"),
        pl.col("window_start").shift(consecutive - 1).over("column").alias("_run_start"),
    )
    order = data.select("column").unique(maintain_order=True)
    out = order.join(
        run.group_by("column").agg(
            pl.col("test").first(),
            pl.col("_run_start").filter(pl.col("_run") == consecutive).first().alias("detected_at"),
            pl.col("drifted").fill_null(False).sum().cast(pl.Int64).alias("windows_drifted"),
            (pl.col("n_current") > 0).sum().cast(pl.Int64).alias("windows"),
            pl.col("statistic").max().alias("max_statistic"),
        ),
        on="column",
        how="left",
        maintain_order="left",
    )
    return frame_out(out, backend)
