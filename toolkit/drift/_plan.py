"""Planning a drift analysis from the data (window widths, the reference window, the
columns: :func:`plan`, :class:`DriftPlan`) and the steps between the calls
(:func:`share_shift`, :func:`most_drifted`, :func:`window_series`,
:func:`clean_reference`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import (
    Frame,
    InstanceOf,
    Interval,
    OneOf,
    Strings,
    UTCTime,
    duration_ns,
    polars_duration,
    reject,
    validate_params,
)
from toolkit.drift._windowed import EVERY, REFERENCE, _moment, _reference_window, _time_column
from toolkit.errors import SchemaError, preview

WIDTHS: tuple[str, ...] = ("1w", "1d", "1h", "15m", "5m", "1m", "1s")


def _seconds(every: str) -> int:
    """Whole seconds of a duration (the one grammar)."""
    return duration_ns(every) // 1_000_000_000


@validate_params(start=UTCTime(), end=UTCTime(), min_windows=Interval(int, 1, None, closed="left"))
def window_width(start: Any, end: Any, *, min_windows: int = 6) -> str:
    """The widest of :data:`WIDTHS` that cuts ``[start, end)`` into ``min_windows`` or more.

    A week gives ``"1d"`` (7 daily windows) with the default 6, a day ``"1h"``; with
    ``min_windows=24`` a week gives ``"1h"``. Periods too short for any width get ``"1s"``.

    Parameters
    ----------
    start, end : datetime or str
        The period: aware datetimes or ISO-8601 text with a zone.
    min_windows : int, default 6
        The fewest windows the period must hold.

    Returns
    -------
    str
        A polars duration (``"1d"``, ``"1h"`` ...).

    Examples
    --------
    >>> window_width("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z")
    '1d'
    >>> window_width("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z", min_windows=24)
    '1h'
    >>> window_width("2026-11-02T00:00:00Z", "2026-11-02T23:59:00Z")
    '1h'
    """
    function = "drift.window_width"
    lo = _moment(start, "start", function)
    hi = _moment(end, "end", function)
    span = max((hi - lo).total_seconds(), 0.0)
    for every in WIDTHS:
        if span / _seconds(every) >= min_windows - 1:
            # a period of n windows' width touches n + 1 windows: 6 days are 7 daily ones
            return every
    return WIDTHS[-1]


@validate_params(frame=Frame())
def default_columns(frame: Any) -> list[str]:
    """The columns the drift of an llm_calls table is tested on when none are named.

    The slice dimensions found in the data (:func:`toolkit.dimensions`: attributes with a
    few values and enough calls each) and the canonical token counts (``input_tokens``,
    ``output_tokens``, ``cached_input_tokens``, ``reasoning_tokens``: every numeric column
    whose name ends in ``_tokens`` outside the ``attributes.`` / ``resource.`` columns) that
    hold at least one value.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        Usually ``llm_calls``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"attributes.user.tier": ["free", "pro"] * 30,
    ...                       "input_tokens": list(range(60)), "reasoning_tokens": [None] * 60,
    ...                       "latency_s": [1.0] * 60})
    >>> default_columns(calls)
    ['attributes.user.tier', 'input_tokens']
    """
    from toolkit.ingest.discover import dimensions

    data: pl.DataFrame = frame
    tokens = [
        c
        for c, dtype in data.schema.items()
        if c.endswith("_tokens")
        and not c.startswith(("attributes.", "resource."))
        and dtype.is_numeric()
        and data[c].null_count() < data.height
    ]
    return [*dimensions(data), *tokens]


@dataclass(frozen=True)
class DriftPlan:
    """What a drift analysis of a table compares, chosen from the data unless given.

    Made by :func:`plan`.

    Attributes
    ----------
    every : str
        Width of the windows tested against the reference.
    series_every : str
        Width of the buckets of the series searched for change points.
    reference : (datetime, datetime) or None
        The reference window (UTC, end exclusive); None when the table is empty.
    reference_how : str
        How the reference was chosen, in words.
    columns : tuple of str
        The columns to test (those with a value in the reference).
    support : toolkit.Support
        Whether the table supports the windowed drift tests, and what is missing if not.
    share_support : toolkit.Support
        ``support``, and a categorical column among ``columns`` (for :func:`share_shift`).
    series_support : toolkit.Support
        ``support``, and a series to search for change points: a categorical column or the
        prompt length (``input_tokens``) among ``columns``.
    """

    every: str
    series_every: str
    reference: tuple[dt.datetime, dt.datetime] | None
    reference_how: str
    columns: tuple[str, ...]
    support: Any
    share_support: Any
    series_support: Any


@validate_params(
    frame=Frame(),
    every=[EVERY, None],
    series_every=[EVERY, None],
    reference=InstanceOf(tuple, list, description="a (start, end) pair, either of them None"),
    columns=[Strings(description="a list of column names"), None],
    time=InstanceOf(str),
    fraction=Interval(float, 0, 1, closed="neither", description="a number in (0, 1)"),
    min_rows=Interval(int, 0, None),
)
def plan(
    frame: Any,
    *,
    every: str | None = None,
    series_every: str | None = None,
    reference: tuple[Any, Any] = (None, None),
    columns: Sequence[str] | None = None,
    time: str = "start_time",
    fraction: float = 1 / 3,
    min_rows: int = 100,
) -> DriftPlan:
    """Choose the windows, the reference and the columns of a drift analysis from the data.

    - ``every`` (None): :func:`window_width` of the period (daily windows for a week,
      hourly for a day); ``series_every`` (None): the same with at least 24 buckets
      (hourly for a week).
    - ``reference`` (None, None): the first ``fraction`` of the period, in whole windows
      of ``every`` from the first window (at least one). A period that starts with a
      change is better served by a reference the user names.
    - ``columns`` (None): :func:`default_columns`; columns without a value in the
      reference are left out (they cannot be tested).
    - ``support`` is met when the table has ``min_rows`` rows, the reference holds rows,
      some window after it holds rows, and a column is left to test.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        Usually ``llm_calls`` (may be empty: the plan then says what is missing).
    every, series_every : str, optional
        Window widths (``"1d"``, ``"1h"`` ...).
    reference : (start, end)
        Either end may be None (chosen as above); aware datetimes or ISO-8601 text.
    columns : list of str, optional
    time : str, default "start_time"
    fraction : float, default 1/3
        Share of the period the reference takes by default, in (0, 1).
    min_rows : int, default 100

    Returns
    -------
    DriftPlan

    Raises
    ------
    ColumnNotFoundError
        If a named column or ``time_column`` is not in the table.
    ParameterError
        If a width, the reference or ``fraction`` is not valid.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> calls = pl.DataFrame({"start_time": [t0 + dt.timedelta(hours=i) for i in range(168)],
    ...                       "input_tokens": list(range(168))})
    >>> p = plan(calls)
    >>> p.every, p.series_every, p.columns, p.support.ok
    ('1d', '1h', ('input_tokens',), True)
    >>> [t.day for t in p.reference]
    [2, 4]
    """
    time_column = time
    from toolkit.ingest.discover import Support
    from toolkit.schema import require_columns

    function = "drift.plan"
    if len(reference) != 2:
        raise reject("reference", "be a (start, end) pair, either of them None", reference)
    every = None if every is None else polars_duration(every, parameter="every")
    series_every = (
        None if series_every is None else polars_duration(series_every, parameter="series_every")
    )
    data: pl.DataFrame = frame
    require_columns(
        data, [time_column], table="llm_calls", where=f"(the time column of {function})"
    )
    if columns is not None:
        require_columns(
            data, list(columns), table="llm_calls", where=f"(the columns of {function})"
        )
    needs = (
        f"llm_calls ({min_rows:,} calls or more) over a reference window and at least one "
        "window after it"
    )
    how = "export the model-call spans (gen_ai.*) of a longer period"
    times = data[time_column].drop_nulls()
    if times.len() == 0:
        none = Support("drift", needs, "no llm_calls", ("llm_calls",), how)
        return DriftPlan(
            every or "1d", series_every or "1h", None, "no calls", (), none, none, none
        )
    first: Any = times.min()
    last: Any = times.max()
    every = every or window_width(first, last)
    series_every = series_every or window_width(first, last, min_windows=24)
    start = pl.select(pl.lit(first).dt.truncate(every)).item()
    given_start = reference[0] is not None
    given_end = reference[1] is not None
    ref_start = _moment(reference[0], "reference", function) if given_start else start
    if given_end:
        ref_end = _moment(reference[1], "reference", function)
    else:
        windows = max(1, int((last - ref_start).total_seconds() * fraction // _seconds(every)))
        ref_end = ref_start + dt.timedelta(seconds=windows * _seconds(every))
    if ref_end <= ref_start:
        raise reject(
            "reference",
            "end after it starts",
            got=f"{ref_start.isoformat()} .. {ref_end.isoformat()}",
        )
    if given_start and given_end:
        how_text = "given"
    elif given_start or given_end:
        how_text = f"{'end' if given_start else 'start'} chosen from the data: " + (
            f"the first {fraction:.0%} of the period in whole {every} windows"
            if given_start
            else "the start of the first window"
        )
    else:
        how_text = f"the first {fraction:.0%} of the period, in whole {every} windows"
    col = pl.col(time_column)
    in_ref = data.filter((col >= ref_start) & (col < ref_end))
    after = data.filter(col >= ref_end).height
    chosen = default_columns(data) if columns is None else list(columns)
    testable = [
        c
        for c in chosen
        if in_ref[c].null_count() < in_ref.height
        and (in_ref.schema[c].is_numeric() or in_ref.schema[c] in (pl.String, pl.Boolean))
    ]
    missing: list[str] = []
    if data.height < min_rows:
        missing.append(f"at least {min_rows:,} calls")
    if in_ref.height == 0:
        missing.append("calls in the reference window")
    if after == 0:
        missing.append("calls after the reference window")
    if not testable:
        missing.append(
            "a column with values in the reference (an attribute with a few values or token counts)"
        )
    found = (
        f"{data.height:,} calls from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC; "
        f"{in_ref.height:,} in the reference, {after:,} after it"
    )
    support = Support("drift", needs, found, tuple(missing), how if missing else "")
    categorical = [c for c in testable if not in_ref.schema[c].is_numeric()]
    how_dims = (
        "set request attributes with a few values (user tier, route, locale) on the model-call "
        "spans, or name the columns in drift_columns"
    )
    columns_found = "; columns tested: " + (", ".join(testable) or "none")

    def extended(name: str, also: str, lacking: str | None) -> Any:
        more = () if lacking is None else (lacking,)
        both = (*missing, *more)
        hows = [h for h in (how if missing else "", how_dims if more else "") if h]
        return Support(name, f"{needs}, with {also}", found + columns_found, both, "; ".join(hows))

    share_support = extended(
        "category shares",
        "a categorical column with values in the reference",
        None if categorical else "a categorical column",
    )
    series_support = extended(
        "change points",
        "a categorical column or the prompt length (input_tokens) with values in the reference",
        None
        if categorical or "input_tokens" in testable
        else "a categorical column or input_tokens",
    )
    return DriftPlan(
        every,
        series_every,
        (ref_start, ref_end),
        how_text,
        tuple(testable),
        support,
        share_support,
        series_support,
    )


@validate_params(table=Frame(), kind=OneOf("categorical", "numeric"))
def most_drifted(
    table: Any, *, kind: Literal["categorical", "numeric"] = "categorical"
) -> str | None:
    """The column of a :func:`compare` table that drifted most, among those of a kind.

    Drifted columns come first, then the larger statistic (as :func:`compare` ranks the
    distances of one test: compare columns of one test with each other).

    Parameters
    ----------
    table : polars.DataFrame or pandas.DataFrame
        The output of :func:`compare`.
    kind : {"categorical", "numeric"}, default "categorical"

    Returns
    -------
    str or None
        None when no column of that kind was tested.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"column": ["a", "b", "n"], "kind": ["categorical"] * 2 + ["numeric"],
    ...                   "statistic": [0.3, 0.2, 9.0], "drifted": [False, True, True]})
    >>> most_drifted(t)
    'b'
    """
    function = "drift.most_drifted"
    data: pl.DataFrame = table
    _needs(data, ["column", "kind", "statistic", "drifted"], function, "drift.compare")
    rows = data.filter(pl.col("kind") == kind).sort(
        pl.col("drifted").fill_null(False),
        pl.col("statistic").fill_null(-np.inf),
        descending=True,
    )
    return None if rows.height == 0 else str(rows["column"][0])


def _needs(data: pl.DataFrame, columns: Sequence[str], function: str, source: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise SchemaError(
            f"The frame given to {function} lacks {missing} (available: "
            f"{preview(', '.join(data.columns), 300)}); expected the output of {source}."
        )


@validate_params(reference=Frame(), current=Frame(), column=InstanceOf(str))
def share_shift(reference: Any, current: Any, column: str) -> pl.DataFrame:
    """How the share of each value of a categorical column moved from reference to current.

    Parameters
    ----------
    reference, current : polars.DataFrame or pandas.DataFrame
        The two samples (e.g. calls of the reference window and calls after it).
    column : str
        A categorical column of both (nulls count as a value of their own).

    Returns
    -------
    polars.DataFrame
        One row per value: ``value`` (as text), ``reference`` and ``current`` (share of the
        rows; 0 where absent), ``change`` (current - reference), ``reference_rows``,
        ``current_rows``; the value that grew most first.

    Raises
    ------
    ColumnNotFoundError
        If ``column`` is not in both frames.

    Examples
    --------
    >>> import polars as pl
    >>> ref = pl.DataFrame({"locale": ["en", "en", "en", "de"]})
    >>> cur = pl.DataFrame({"locale": ["en", "hi", "hi", "de"]})
    >>> share_shift(ref, cur, "locale").select("value", "reference", "current", "change").rows()
    [('hi', 0.0, 0.5, 0.5), ('de', 0.25, 0.25, 0.0), ('en', 0.75, 0.25, -0.5)]
    """
    from toolkit.schema import require_columns

    function = "drift.share_shift"
    ref: pl.DataFrame = reference
    cur: pl.DataFrame = current
    for frame, name in ((ref, "reference"), (cur, "current")):
        require_columns(
            frame, [column], table=name, where=f"(the 'column' parameter of {function})"
        )

    def counts(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return (
            frame.select(pl.col(column).cast(pl.String).alias("value"))
            .group_by("value")
            .len(name=f"{name}_rows")
            .with_columns(pl.col(f"{name}_rows").cast(pl.Int64))
        )

    joined = (
        counts(ref, "reference")
        .join(counts(cur, "current"), on="value", how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("reference_rows", "current_rows").fill_null(0))
    )
    return (
        joined.with_columns(
            (pl.col("reference_rows") / max(ref.height, 1)).alias("reference"),
            (pl.col("current_rows") / max(cur.height, 1)).alias("current"),
        )
        .with_columns((pl.col("current") - pl.col("reference")).alias("change"))
        .select("value", "reference", "current", "change", "reference_rows", "current_rows")
        .sort(["change", "value"], descending=[True, False], nulls_last=True)
    )


@validate_params(
    frame=Frame(),
    every=EVERY,
    share=[InstanceOf(tuple, list, description="a (column, value) pair"), None],
    log_mean=[InstanceOf(str), None],
    time=InstanceOf(str),
)
def window_series(
    frame: Any,
    *,
    every: str = "1h",
    share: tuple[str, Any] | None = None,
    log_mean: str | None = None,
    time: str = "start_time",
) -> pl.DataFrame:
    """Per-window series to search for change points: calls, a value's share, a log mean.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per event (e.g. llm_calls).
    every : str, default "1h"
        Window width.
    share : (column, value), optional
        Adds ``share``: the share of the window's rows whose ``column`` equals ``value``.
    log_mean : str, optional
        A positive numeric column (``input_tokens``): adds ``mean_log``, the mean of its
        natural log over the window's rows with a positive value (prompt length drifts
        multiplicatively, and the log keeps a few huge prompts from dominating).
    time : str, default "start_time"

    Returns
    -------
    polars.DataFrame
        One row per window with rows, sorted: ``window_start``, ``calls`` and the columns
        asked for.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in (0, 0, 1, 1)]
    >>> f = pl.DataFrame({"start_time": t, "locale": ["en", "hi", "hi", "hi"],
    ...                   "input_tokens": [1, 1, 1, 0]})
    >>> window_series(f, share=("locale", "hi"), log_mean="input_tokens").rows()[1][1:]
    (2, 1.0, 0.0)
    """
    time_column = time
    from toolkit.schema import require_columns

    function = "drift.window_series"
    every = polars_duration(every, parameter="every")
    data: pl.DataFrame = frame
    _time_column(data, time_column, function)
    if share is not None and len(share) != 2:
        raise reject("share", "be a (column, value) pair", share)
    named = [share[0] if share is not None else None, log_mean]
    require_columns(data, named, table="frame", where=f"(a parameter of {function})")
    aggs = [pl.len().cast(pl.Int64).alias("calls")]
    if share is not None:
        aggs.append((pl.col(share[0]) == share[1]).fill_null(False).mean().alias("share"))
    if log_mean is not None:
        if not data.schema[log_mean].is_numeric():
            raise SchemaError(
                f"Column {log_mean!r} given to {function} is {data.schema[log_mean]}; "
                "expected a numeric column."
            )
        value = pl.col(log_mean).cast(pl.Float64)
        aggs.append(value.filter(value > 0).log().mean().alias("mean_log"))
    return (
        data.drop_nulls(time_column)
        .group_by(pl.col(time_column).dt.truncate(every).alias("window_start"))
        .agg(aggs)
        .sort("window_start")
    )


@validate_params(reference=REFERENCE, windows=Frame(), start=InstanceOf(str), end=InstanceOf(str))
def clean_reference(
    reference: tuple[Any, Any], windows: Any, *, start: str = "start", end: str = "end"
) -> tuple[dt.datetime, dt.datetime]:
    """The longest part of a reference window that overlaps none of some incident windows.

    A reference that holds an incident (a stale index, an outage) makes every normal window
    look drifted; this keeps the longest stretch of it clear of them.

    Parameters
    ----------
    reference : (start, end)
        Aware datetimes or ISO-8601 text; end exclusive.
    windows : polars.DataFrame or pandas.DataFrame
        One row per window to avoid, with ``start`` and ``end`` columns (end exclusive; a
        null end runs to the end of the reference).
    start, end : str
        The column names.

    Returns
    -------
    (datetime, datetime)
        The reference itself when no window overlaps it; when windows cover all of it, the
        reference too (nothing better is left).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = lambda h: dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(hours=h)
    >>> w = pl.DataFrame({"start": [t(32)], "end": [t(38)]})
    >>> [x.isoformat() for x in clean_reference((t(0), t(48)), w)]
    ['2026-11-02T00:00:00+00:00', '2026-11-03T08:00:00+00:00']
    """
    from toolkit.schema import require_columns

    function = "drift.clean_reference"
    lo, hi = _reference_window(reference, function)
    data: pl.DataFrame = windows
    require_columns(data, [start, end], table="windows", where=f"(the windows of {function})")
    cuts = sorted(
        (max(lo, s.astimezone(dt.UTC)), min(hi, e.astimezone(dt.UTC) if e is not None else hi))
        for s, e in data.select(start, end).drop_nulls(start).iter_rows()
        if s < hi and (e is None or e > lo)
    )
    parts: list[tuple[dt.datetime, dt.datetime]] = []
    cursor = lo
    for s, e in cuts:
        if s > cursor:
            parts.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < hi:
        parts.append((cursor, hi))
    if not parts:
        return lo, hi
    return max(parts, key=lambda p: (p[1] - p[0], -p[0].timestamp()))
