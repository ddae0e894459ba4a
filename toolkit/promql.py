"""PromQL-style helpers on the metrics table: counter rates and histogram quantiles.

They work on the long ``metrics`` table of :mod:`toolkit.schema` whatever its source
(Prometheus scrapes or OTLP), and follow Prometheus 3 semantics so that a number computed
here matches the one a dashboard shows:

* :func:`increase` and :func:`rate` are ``increase(x[w])`` and ``rate(x[w])`` evaluated at
  every sample time ``t`` of every series, over the left-open window ``(t - w, t]``: a
  decrease between two samples is a counter reset (the new value counts from zero), and the
  result is extrapolated to the window edges exactly as Prometheus' ``extrapolatedRate``
  does (not beyond where the counter would reach zero, and at most half a sampling interval
  past the first sample when it lies far from the window start).
* :func:`histogram_quantile` is ``histogram_quantile(q, x_bucket)`` on cumulative
  ``<family>_bucket`` rows, or ``histogram_quantile(q, rate(x_bucket[w]))`` with ``window``.

A *series* is a metric name plus the values of every ``label.*``, ``resource.*``,
``service_name`` and ``scope_name`` column that is set for that metric. ``by`` names a subset
(``"model_name"`` or ``"label.model_name"``); series that share it are summed at equal
times, like ``sum by (...)``. Samples are matched on exact time stamps, which is what a
directory of scrapes gives (all samples of a file share its time).

Examples
--------
>>> import polars as pl
>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2026, 11, 21, tzinfo=timezone.utc)
>>> counter = pl.DataFrame({
...     "time": [t0 + timedelta(minutes=i) for i in range(3)],
...     "name": "requests_total", "type": "counter", "unit": None,
...     "value": [0.0, 60.0, 120.0], "le": None,
... }).with_columns(pl.col("time").dt.cast_time_unit("ns"))
>>> rate(counter, "requests_total", window="5m")["rate_per_s"].to_list()
[None, 0.2, 0.4]
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Duration,
    Frame,
    InstanceOf,
    Interval,
    Names,
    duration_ns,
    frame_out,
    reject,
    validate_params,
)
from toolkit.schema import METRICS, validate

__all__ = ["histogram_quantile", "increase", "rate"]

_KEY_PREFIXES = ("label.", "resource.")
_KEY_FIXED = ("service_name", "scope_name")
#: Types whose counting series rate() accepts (unknown: the caller's responsibility).
_RATE_TYPES = ("counter", "histogram", "summary", "unknown")


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


def _select_name(df: pl.DataFrame, name: str, parameter: str) -> pl.DataFrame:
    rows = df.filter(pl.col("name") == name)
    if rows.height == 0:
        names = df["name"].unique().sort().to_list()
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise reject(
            parameter,
            "name a series of the metrics table",
            got=f"{name!r}, which has no rows,",
            hint=hint,
        )
    return rows


def _key_columns(rows: pl.DataFrame) -> list[str]:
    """Series-identifying columns that are set for these rows."""
    candidates = [c for c in rows.columns if c.startswith(_KEY_PREFIXES) or c in _KEY_FIXED]
    if not candidates:
        return []
    counts = rows.select(pl.col(candidates).is_not_null().any())
    return sorted(c for c in candidates if counts[c][0])


def _by_columns(df: pl.DataFrame, by: str | Sequence[str]) -> list[str]:
    names = [by] if isinstance(by, str) else by
    columns: list[str] = []
    for n in names:
        if n in df.columns and (n.startswith(_KEY_PREFIXES) or n in _KEY_FIXED):
            columns.append(n)
        elif f"label.{n}" in df.columns:
            columns.append(f"label.{n}")
        else:
            available = sorted(
                c for c in df.columns if c.startswith(_KEY_PREFIXES) or c in _KEY_FIXED
            )
            shown_labels = ", ".join(repr(a) for a in available[:30]) or "none"
            raise reject(
                "by",
                f"name label columns of the metrics table (available: {shown_labels})",
                got=f"{n!r}, which is not one",
            )
    return list(dict.fromkeys(columns))


# --------------------------------------------------------------------------------------
# increase / rate
# --------------------------------------------------------------------------------------


def _check_counting(rows: pl.DataFrame, name: str) -> None:
    bad_types = sorted(set(rows["type"].unique().to_list()) - set(_RATE_TYPES), key=str)
    problem = ""
    if bad_types:
        problem = f"its type is {', '.join(repr(t) for t in bad_types)}"
    elif name.endswith("_created"):
        problem = "a _created series holds creation times, not counts"
    elif "label.quantile" in rows.columns and rows["label.quantile"].is_not_null().any():
        problem = "the quantile series of a summary are not cumulative"
    elif "temporality" in rows.columns and (rows["temporality"] == "delta").any():
        problem = "it has delta temporality (sum its values instead)"
    if problem:
        raise reject(
            "name",
            "name a cumulative counter (or the _bucket/_sum/_count series of a histogram or "
            "summary)",
            got=f"{name!r}: {problem}",
        )


def _series_increase(rows: pl.DataFrame, keys: list[str], window_ns: int) -> pl.DataFrame:
    """Extrapolated increase over ``(t - w, t]`` at every sample of every series.

    Returns ``keys + [time, increase]``; ``increase`` is null where the window holds fewer
    than two samples.
    """
    rows = rows.select(*keys, "time", "value").sort(*keys, "time")
    dup = rows.filter(pl.struct(*keys, "time").is_duplicated())
    if dup.height:
        where = dup.row(0, named=True)
        labels = ", ".join(f"{k}={where[k]!r}" for k in keys) or "no labels"
        raise reject(
            "metrics",
            "hold one sample per series and time",
            got=f"{dup.height} rows that repeat a series at the same time, e.g. at "
            f"{where['time']} ({labels})",
        )
    over = keys or None
    value = pl.col("value")
    prev = value.shift(1).over(over) if over else value.shift(1)
    reset = pl.when(value < prev).then(prev).otherwise(0.0)
    rows = rows.with_columns(
        (reset.cum_sum().over(over) if over else reset.cum_sum()).alias("_resets")
    )
    window = rows.rolling(
        index_column="time",
        period=f"{window_ns}ns",
        closed="right",
        group_by=keys or None,
    ).agg(
        pl.col("value").first().alias("_v0"),
        pl.col("value").last().alias("_v1"),
        pl.col("_resets").first().alias("_r0"),
        pl.col("_resets").last().alias("_r1"),
        pl.col("time").first().alias("_t0"),
        pl.len().alias("_n"),
    )
    seconds = 1e9
    raw = pl.col("_v1") - pl.col("_v0") + pl.col("_r1") - pl.col("_r0")
    sampled = (pl.col("time") - pl.col("_t0")).dt.total_nanoseconds().cast(pl.Float64) / seconds
    to_start = (
        pl.col("_t0") - (pl.col("time") - pl.duration(nanoseconds=window_ns))
    ).dt.total_nanoseconds().cast(pl.Float64) / seconds
    average = sampled / (pl.col("_n") - 1).cast(pl.Float64)
    threshold = average * 1.1
    # Same order as Prometheus: cap at half an interval, then not beyond the zero point.
    to_start = pl.when(to_start >= threshold).then(average / 2).otherwise(to_start)
    to_zero = sampled * (pl.col("_v0") / raw)
    to_start = (
        pl.when((raw > 0) & (pl.col("_v0") >= 0) & (to_zero < to_start))
        .then(to_zero)
        .otherwise(to_start)
    )
    # The window ends at the evaluated sample, so the distance to the end is zero.
    extrapolated = sampled + to_start
    result = pl.when(pl.col("_n") >= 2).then(raw * extrapolated / sampled)
    return window.select(*keys, "time", result.alias("increase"))


def _sum_by(frame: pl.DataFrame, by: list[str], column: str) -> pl.DataFrame:
    """``sum by (by)`` at equal times: the sum of the values present, null if none is."""
    value = pl.col(column)
    return (
        frame.group_by(*by, "time")
        .agg(pl.when(value.is_not_null().any()).then(value.sum()).alias(column))
        .sort(*by, "time")
    )


def _counter_result(
    metrics: pl.DataFrame, name: str, window: object, by: str | Sequence[str] | None, column: str
) -> pl.DataFrame:
    window_ns = duration_ns(window)
    df = validate(metrics, METRICS)
    rows = _select_name(df, name, "name")
    _check_counting(rows, name)
    keys = _key_columns(rows)
    groups = keys if by is None else _by_columns(df, by)
    for c in groups:
        if c not in keys:  # a label unset for this metric: one null group
            keys.append(c)
    out = _series_increase(rows, keys, window_ns)
    if column == "rate_per_s":
        out = out.with_columns((pl.col("increase") / (window_ns / 1e9)).alias(column))
    out = out.sort(*keys, "time") if by is None else _sum_by(out, groups, column)
    return out.select("time", pl.lit(name).alias("name"), *groups, column)


@validate_params(
    metrics=Frame(),
    name=InstanceOf(str, description="a metric name (str)"),
    window=Duration(),
    by=[Names(description="a label name or a list of them"), None],
    backend=BACKEND,
)
def increase(
    metrics: Any,
    name: str,
    *,
    window: str | dt.timedelta = "5m",
    by: str | Sequence[str] | None = None,
    backend: Backend = "polars",
) -> Any:
    """Increase of a counter over a trailing window, like PromQL ``increase(x[w])``.

    Parameters
    ----------
    metrics : polars.DataFrame or pandas.DataFrame
        The metrics table.
    name : str
        Series name as in the table (``"vllm:prompt_tokens_total"``, ``"x_bucket"``...). It
        must be a cumulative counter or the ``_bucket``/``_sum``/``_count`` series of a
        histogram or summary.
    window : str or datetime.timedelta, default "5m"
        Trailing window ``w``, in Prometheus syntax (``"30s"``, ``"5m"``, ``"1h30m"``).
    by : str or list of str, optional
        Labels to keep (``"model_name"`` or ``"label.model_name"``); series sharing them are
        summed at equal times. Default: every series separately.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``time`` (each sample time of the series), ``name``, the series' label columns (or
        the ``by`` ones), and ``increase`` (Float64, in the counter's unit): the increase over
        ``(time - window, time]`` with counter resets and Prometheus' extrapolation; null where
        the window holds fewer than two samples. Sorted by labels, then time.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 21, tzinfo=timezone.utc)
    >>> counter = pl.DataFrame({
    ...     "time": [t0 + timedelta(minutes=i) for i in range(5)],
    ...     "name": "tokens_total", "type": "counter", "unit": None,
    ...     "value": [0.0, 10.0, 20.0, 5.0, 15.0], "le": None,
    ... }).with_columns(pl.col("time").dt.cast_time_unit("ns"))
    >>> increase(counter, "tokens_total", window="5m")["increase"].to_list()
    [None, 10.0, 20.0, 25.0, 35.0]
    """
    return frame_out(_counter_result(metrics, name, window, by, "increase"), backend)


@validate_params(
    metrics=Frame(),
    name=InstanceOf(str, description="a metric name (str)"),
    window=Duration(),
    by=[Names(description="a label name or a list of them"), None],
    backend=BACKEND,
)
def rate(
    metrics: Any,
    name: str,
    *,
    window: str | dt.timedelta = "5m",
    by: str | Sequence[str] | None = None,
    backend: Backend = "polars",
) -> Any:
    """Per-second rate of a counter over a trailing window, like PromQL ``rate(x[w])``.

    Parameters
    ----------
    metrics : polars.DataFrame or pandas.DataFrame
        The metrics table.
    name : str
        Series name of a cumulative counter (or of a histogram's or summary's
        ``_bucket``/``_sum``/``_count`` series).
    window : str or datetime.timedelta, default "5m"
        Trailing window ``w`` (``"30s"``, ``"5m"``, ``"1h30m"``).
    by : str or list of str, optional
        Labels to keep; series sharing them are summed at equal times, like
        ``sum by (...) (rate(x[w]))``. Default: every series separately.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``time``, ``name``, the label columns, and ``rate_per_s`` (Float64): the extrapolated
        increase over ``(time - window, time]`` divided by the window in seconds; null where
        the window holds fewer than two samples.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 21, tzinfo=timezone.utc)
    >>> counter = pl.DataFrame({
    ...     "time": [t0 + timedelta(minutes=i) for i in range(5)],
    ...     "name": "tokens_total", "type": "counter", "unit": None,
    ...     "value": [0.0, 10.0, 20.0, 5.0, 15.0], "le": None,
    ... }).with_columns(pl.col("time").dt.cast_time_unit("ns"))
    >>> rate(counter, "tokens_total", window="5m")["rate_per_s"].round(4).to_list()
    [None, 0.0333, 0.0667, 0.0833, 0.1167]
    """
    return frame_out(_counter_result(metrics, name, window, by, "rate_per_s"), backend)


# --------------------------------------------------------------------------------------
# histogram_quantile
# --------------------------------------------------------------------------------------


def _bucket_rows(df: pl.DataFrame, family: str) -> tuple[str, pl.DataFrame]:
    bucket = f"{family}_bucket"
    rows = df.filter(pl.col("name") == bucket)
    if rows.height == 0 and family.endswith("_bucket"):
        bucket = family
        rows = df.filter(pl.col("name") == bucket)
    if rows.height == 0:
        names = (
            df.filter(pl.col("name").str.ends_with("_bucket"))["name"]
            .str.strip_suffix("_bucket")
            .unique()
            .sort()
            .to_list()
        )
        close = difflib.get_close_matches(family, names, n=3)
        hint = f"Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise reject(
            "family",
            "name a histogram with '<family>_bucket' rows in the metrics table",
            got=f"{family!r}, which has none,",
            hint=hint,
        )
    if rows["le"].is_null().any():
        raise reject(
            "family",
            "name a histogram whose bucket rows all have an 'le' bound",
            got=f"{family!r}, with {rows['le'].null_count()} bucket rows without one",
        )
    return bucket.removesuffix("_bucket"), rows


def _quantiles(buckets: pl.DataFrame, groups: list[str], q: float) -> pl.DataFrame:
    """Prometheus' bucketQuantile per (groups, time) from cumulative counts per ``le``."""
    g = [*groups, "time"]
    le = pl.col("le")
    count = pl.col("_count")
    frame = buckets.sort(*g, "le").with_columns(
        count.cum_max().over(g).alias("_mono"),  # bucket counts forced monotonic
    )
    mono = pl.col("_mono")
    frame = frame.with_columns(
        (q * mono.last().over(g)).alias("_rank"),
        le.shift(1).over(g).alias("_prev_le"),
        mono.shift(1).over(g).alias("_prev_count"),
    )
    hit = (mono >= pl.col("_rank")) & (le != math.inf)
    frame = frame.with_columns(hit.alias("_hit"))
    frame = frame.with_columns(
        (pl.col("_hit") & (pl.col("_hit").cast(pl.Int64).cum_sum().over(g) == 1)).alias("_first")
    )
    start = pl.col("_prev_le").fill_null(0.0)
    below = pl.col("_prev_count").fill_null(0.0)
    inside = (
        pl.when(pl.col("_prev_le").is_null() & (le <= 0))
        .then(le)
        .otherwise(start + (le - start) * ((pl.col("_rank") - below) / (mono - below)))
    )
    finite = le.filter(le != math.inf)
    return frame.group_by(g).agg(
        pl.when(count.is_null().any())
        .then(None)
        .when(~(le == math.inf).any() | (pl.len() < 2) | (mono.last() == 0))
        .then(math.nan)
        .when(~pl.col("_first").any())
        .then(finite.max())
        .otherwise(inside.filter(pl.col("_first")).first())
        .alias("value")
    )


@validate_params(
    metrics=Frame(),
    family=InstanceOf(str, description="a histogram name (str)"),
    q=Interval(float, 0, 1, description="a number between 0 and 1"),
    window=[Duration(), None],
    by=[Names(description="a label name or a list of them"), None],
    backend=BACKEND,
)
def histogram_quantile(
    metrics: Any,
    family: str,
    q: float,
    *,
    window: str | dt.timedelta | None = None,
    by: str | Sequence[str] | None = None,
    backend: Backend = "polars",
) -> Any:
    """Quantile of a histogram from its cumulative buckets, like PromQL ``histogram_quantile``.

    Parameters
    ----------
    metrics : polars.DataFrame or pandas.DataFrame
        The metrics table, with ``<family>_bucket`` rows carrying ``le``.
    family : str
        Histogram name without ``_bucket`` (``"vllm:e2e_request_latency_seconds"``).
    q : float
        Quantile, between 0 and 1.
    window : str or datetime.timedelta, optional
        When given, the quantile of the observations made during the trailing window:
        ``histogram_quantile(q, rate(<family>_bucket[window]))``, computed on the bucket
        increases (see :func:`increase`). When not, the quantile of everything observed
        since the histogram started (its cumulative buckets).
    by : str or list of str, optional
        Labels to keep; the buckets of series sharing them are summed at equal times, like
        ``histogram_quantile(q, sum by (le, ...) (...))``. Default: every series separately.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``time``, ``name`` (the family), the label columns, ``quantile`` (``q``) and ``value``
        (Float64, in the unit of the bucket bounds). Inside the bucket holding the rank
        ``q * count`` the value is interpolated linearly (from 0 for the first bucket, unless
        its bound is not positive); a rank in the ``+Inf`` bucket gives the highest finite
        bound. ``value`` is NaN, as in Prometheus, when there is no ``+Inf`` bucket, fewer
        than two bounds, or no observation; null when ``window`` holds fewer than two
        samples of a bucket.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 21, tzinfo=timezone.utc)
    >>> buckets = pl.DataFrame({
    ...     "time": [t] * 4, "name": "latency_seconds_bucket", "type": "histogram",
    ...     "unit": "s", "value": [10.0, 30.0, 40.0, 40.0], "le": [0.1, 0.5, 1.0, float("inf")],
    ... }).with_columns(pl.col("time").dt.cast_time_unit("ns"))
    >>> histogram_quantile(buckets, "latency_seconds", 0.5)["value"].to_list()  # 0.1 + 0.4 * 10/20
    [0.3]
    """
    window_ns = None if window is None else duration_ns(window)
    df = validate(metrics, METRICS)
    name, rows = _bucket_rows(df, family)
    if "temporality" in rows.columns and (rows["temporality"] == "delta").any():
        raise reject(
            "family",
            "name a histogram with cumulative buckets",
            got=f"{family!r}, whose buckets have delta temporality",
        )
    keys = _key_columns(rows)
    groups = keys if by is None else _by_columns(df, by)
    keys += [c for c in groups if c not in keys]  # a label unset for this family: null
    if window_ns is not None:
        counts = _series_increase(rows, [*keys, "le"], window_ns).rename({"increase": "_count"})
    else:
        counts = rows.select(*keys, "le", "time", pl.col("value").alias("_count"))
    summed = counts.group_by(*groups, "time", "le").agg(
        pl.when(pl.col("_count").is_null().any())
        .then(None)
        .otherwise(pl.col("_count").sum())
        .alias("_count")
    )
    out = _quantiles(summed, groups, float(q)).sort(*groups, "time")
    out = out.select(
        "time",
        pl.lit(name).alias("name"),
        *groups,
        pl.lit(float(q)).alias("quantile"),
        pl.col("value").cast(pl.Float64),
    )
    return frame_out(out, backend)
