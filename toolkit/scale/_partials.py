"""Mergeable aggregations of a store: counts per minute and group, histograms and
latency sketches (:class:`DDSketch`), computed per Parquet part (on the cluster when a
client is given) and merged by adding counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import (
    Duration,
    InstanceOf,
    Interval,
    Names,
    caller,
    polars_duration,
    reject,
    validate_params,
)
from toolkit.errors import ParameterError
from toolkit.ingest._io import PathLike
from toolkit.scale._store import TIME, TableName, _lazy, _part_lazy, _select, _Selection

# --- mergeable aggregations -----------------------------------------------------------

#: ``alpha``: a sketch's relative accuracy.
_ALPHA = Interval(float, 0, 1, closed="neither", description="a number in (0, 1)")


class DDSketch:
    """A mergeable quantile sketch with relative error ``alpha`` (DDSketch).

    Values ``x > 0`` go to bucket ``ceil(log_gamma(x))`` with
    ``gamma = (1 + alpha) / (1 - alpha)``; zeros are counted apart. The quantile ``q`` is
    the bucket holding the value of rank ``floor(q * (n - 1))`` (numpy's
    ``method="lower"``), returned as ``2 * gamma**k / (gamma + 1)``: within ``alpha``
    relative error of that value. Merging adds bucket counts, so sketches built on parts
    merge into the sketch of the whole. Memory grows with the log of the value range,
    not with the count (about ``ln(max/min) / ln(gamma)`` buckets).

    Parameters
    ----------
    alpha : float, default 0.01
        Relative accuracy, in (0, 1).

    Examples
    --------
    >>> s = DDSketch(0.01)
    >>> s.add([1.0, 2.0, 3.0, 4.0, 100.0])
    >>> round(s.quantile(0.5), 2), s.count
    (2.97, 5)
    """

    @validate_params(alpha=_ALPHA)
    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = float(alpha)
        self.gamma = (1 + self.alpha) / (1 - self.alpha)
        self._lg = math.log(self.gamma)
        self.bins: dict[int, int] = {}
        self.zeros = 0

    @property
    def count(self) -> int:
        """Number of values added."""
        return self.zeros + sum(self.bins.values())

    def add(self, values: Any) -> None:
        """Add values (array-like of non-negative numbers; nulls and NaN are an error)."""
        x = np.asarray(values, dtype=np.float64).ravel()
        if x.size == 0:
            return
        if not np.all(np.isfinite(x)) or np.any(x < 0):
            bad = x[~np.isfinite(x) | (x < 0)][0]
            raise ParameterError(
                "The values added to DDSketch must be finite and non-negative. "
                f"Got {float(bad)!r} instead."
            )
        pos = x[x > 0]
        self.zeros += int(x.size - pos.size)
        keys, counts = np.unique(
            np.ceil(np.log(pos) / self._lg).astype(np.int64), return_counts=True
        )
        for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
            self.bins[k] = self.bins.get(k, 0) + c

    def merge(self, other: DDSketch) -> DDSketch:
        """Add ``other``'s counts into this sketch (same ``alpha``); returns self."""
        if other.alpha != self.alpha:
            raise reject(
                "other",
                f"have alpha {self.alpha}",
                got=f"alpha {other.alpha}",
                function="scale.DDSketch.merge",
            )
        for k, c in other.bins.items():
            self.bins[k] = self.bins.get(k, 0) + c
        self.zeros += other.zeros
        return self

    @validate_params(q=Interval(float, 0, 1))
    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 <= q <= 1), within ``alpha`` relative error; NaN if empty."""
        n = self.count
        if n == 0:
            return math.nan
        rank = math.floor(q * (n - 1))
        if rank < self.zeros:
            return 0.0
        seen = self.zeros
        for k in sorted(self.bins):
            seen += self.bins[k]
            if seen > rank:
                return 2 * self.gamma**k / (self.gamma + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DDSketch)
            and other.alpha == self.alpha
            and other.zeros == self.zeros
            and other.bins == self.bins
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DDSketch(alpha={self.alpha}, count={self.count}, buckets={len(self.bins)})"


def _counts_partial(lf: pl.LazyFrame, time_col: str, good: pl.Expr, by: list[str]) -> pl.DataFrame:
    return (
        lf.group_by([pl.col(time_col).dt.truncate("1m").alias("minute"), *by])
        .agg(
            good=good.fill_null(False).cast(pl.Int64).sum(),
            unknown=good.is_null().cast(pl.Int64).sum(),
            total=pl.len().cast(pl.Int64),
        )
        .collect()
    )


def _part_task(
    part: tuple[str, dict[str, pl.DataType]],
    sel: _Selection,
    fn: Callable[..., Any],
    kwargs: dict[str, Any],
) -> Any:
    """Apply a partial aggregation to one part (runs on a worker)."""
    lf = _part_lazy(sel, part)
    if sel.predicate is not None:
        lf = lf.filter(sel.predicate)
    return fn(lf, **kwargs)


def _partials(sel: _Selection, client: Any, fn: Callable[..., Any], **kwargs: Any) -> list[Any]:
    """``fn`` over the whole selection locally, or over each part on the cluster."""
    if client is None or not sel.files:
        return [fn(_lazy(sel), **kwargs)]
    futures = client.map(_part_task, sel.files, sel=sel, fn=fn, kwargs=kwargs, pure=False)
    out: list[Any] = client.gather(futures)
    return out


#: ``by``: grouping columns.
_BY = Names(description="a column name or a list of them")
#: ``good``: the expression marking a good event.
_GOOD = InstanceOf(pl.Expr, description="a polars expression")
#: ``every``: a time window's width, fixed or calendar (polars' ``dt.truncate``).
_EVERY = [Duration(calendar=True), None]


def _keys(by: str | Sequence[str]) -> list[str]:
    """``by`` (checked with :data:`_BY`) as a list of column names."""
    return [by] if isinstance(by, str) else list(by)


def _window(every: object) -> str | None:
    """``every`` (checked with :data:`_EVERY`) as polars duration text, None for none."""
    return None if every is None else polars_duration(every, calendar=True, parameter="every")


@validate_params(good=_GOOD, by=_BY)
def minute_counts(
    store: PathLike,
    good: pl.Expr,
    *,
    table: TableName = "spans",
    by: str | Sequence[str] = ("service_name",),
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
) -> pl.DataFrame:
    """Good and total event counts per minute, the input of SLIs and burn rates.

    Computed per Parquet part (on the cluster's workers when ``client`` is given) and
    summed: the answer is the same with or without a cluster.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    good : polars.Expr
        Boolean expression marking a good event, e.g. ``pl.col("status_code") != "error"``.
        Where it is null (the SLI does not apply, e.g. no first token recorded) the event
        is not good, and counted in ``unknown`` too.
    table : {"spans", "logs", "metrics"}, default "spans"
    by : str or list of str, default ("service_name",)
        Grouping columns besides the minute.
    filters : mapping, optional
        As for :func:`scan`.
    client : dask.distributed.Client, optional

    Returns
    -------
    polars.DataFrame
        ``minute`` (the minute's start, UTC), the ``by`` columns, ``good``, ``unknown``
        (``good`` was null) and ``total`` (Int64), sorted. :mod:`toolkit.slo` leaves
        unknown events out: pass ``total - unknown`` as its total.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> minute_counts(pathlib.Path(tempfile.mkdtemp()), pl.lit(True)).columns
    ['minute', 'service_name', 'good', 'unknown', 'total']
    """
    keys = _keys(by)
    sel = _select(store, table, filters, caller() or "scale.minute_counts")
    parts: list[pl.DataFrame] = _partials(
        sel, client, _counts_partial, time_col=TIME[sel.table], good=good, by=keys
    )
    return (
        pl.concat(parts, how="vertical")
        .group_by(["minute", *keys])
        .agg(pl.col("good").sum(), pl.col("unknown").sum(), pl.col("total").sum())
        .sort(["minute", *keys], nulls_last=True)
    )


def _window_keys(by: list[str], every: str | None, time_col: str) -> list[pl.Expr]:
    window = [] if every is None else [pl.col(time_col).dt.truncate(every).alias("window_start")]
    return [*window, *(pl.col(b) for b in by)]


def _group_partial(
    lf: pl.LazyFrame, by: list[str], every: str | None, time_col: str
) -> pl.DataFrame:
    return (
        lf.group_by(_window_keys(by, every, time_col)).agg(count=pl.len().cast(pl.Int64)).collect()
    )


@validate_params(by=_BY, every=_EVERY)
def group_counts(
    store: PathLike,
    by: str | Sequence[str],
    *,
    every: str | None = None,
    table: TableName = "spans",
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
) -> pl.DataFrame:
    """Rows per group (e.g. per protected attribute and outcome, for fairness), merged
    from per-part counts.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    by : str or list of str
        Grouping columns (a column absent from every part is an error of polars).
    every : str, optional
        Also count per time window of this width (``"1h"``, ``"1d"``; aligned as
        ``polars.Expr.dt.truncate``) on ``start_time`` (spans) or ``time``.
    table, filters, client
        As for :func:`minute_counts`.

    Returns
    -------
    polars.DataFrame
        ``window_start`` (with ``every``), the ``by`` columns and ``count`` (Int64),
        sorted (nulls last).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> group_counts(pathlib.Path(tempfile.mkdtemp()), "status_code").columns
    ['status_code', 'count']
    """
    keys = _keys(by)
    window = _window(every)
    sel = _select(store, table, filters, caller() or "scale.group_counts")
    parts: list[pl.DataFrame] = _partials(
        sel, client, _group_partial, by=keys, every=window, time_col=TIME[sel.table]
    )
    keys = (["window_start"] if window else []) + keys
    return (
        pl.concat(parts, how="vertical")
        .group_by(keys)
        .agg(pl.col("count").sum())
        .sort(keys, nulls_last=True)
    )


def _histogram_partial(
    lf: pl.LazyFrame,
    column: str,
    edges: list[float],
    by: list[str],
    every: str | None,
    time_col: str,
) -> pl.DataFrame:
    x = pl.col(column).cast(pl.Float64)
    index = pl.sum_horizontal([(x >= e).cast(pl.Int32) for e in edges])
    binned = pl.when(x.is_null() | x.is_nan()).then(None).otherwise(index).alias("bin")
    keys = _window_keys(by, every, time_col)
    return lf.group_by([*keys, binned]).agg(count=pl.len().cast(pl.Int64)).collect()


@validate_params(column=InstanceOf(str), by=_BY, every=_EVERY)
def histogram(
    store: PathLike,
    column: str,
    edges: Sequence[float],
    *,
    by: str | Sequence[str] = (),
    every: str | None = None,
    table: TableName = "spans",
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
) -> pl.DataFrame:
    """Counts of ``column`` in fixed bins (drift histograms), merged from per-part counts.

    No value is dropped: bin ``i`` holds ``edges[i-1] <= x < edges[i]``, with
    ``bin_lower = -inf`` below the first edge and ``bin_upper = +inf`` at or above the
    last; null and NaN values are counted in a row whose bin bounds are null.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    column : str
        A numeric column.
    edges : sequence of float
        Strictly increasing bin edges (at least one).
    by : str or list of str, default ()
        Grouping columns, e.g. ``"service_name"``.
    every : str, optional
        Also count per time window, as for :func:`group_counts`.
    table, filters, client
        As for :func:`minute_counts`.

    Returns
    -------
    polars.DataFrame
        ``window_start`` (with ``every``), the ``by`` columns, ``bin_lower``,
        ``bin_upper`` (Float64) and ``count`` (Int64), sorted; only non-empty bins appear.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> histogram(pathlib.Path(tempfile.mkdtemp()), "duration_ms", [1.0, 10.0]).columns
    ['bin_lower', 'bin_upper', 'count']
    """
    function = caller() or "scale.histogram"
    keys = _keys(by)
    e = _check_edges(edges, function)
    window = _window(every)
    sel = _select(store, table, filters, function)
    parts: list[pl.DataFrame] = _partials(
        sel,
        client,
        _histogram_partial,
        column=column,
        edges=e,
        by=keys,
        every=window,
        time_col=TIME[sel.table],
    )
    keys = (["window_start"] if window else []) + keys
    bins = pl.DataFrame(
        {
            "bin": pl.Series(range(len(e) + 1), dtype=pl.Int32),
            "bin_lower": pl.Series([-math.inf, *e], dtype=pl.Float64),
            "bin_upper": pl.Series([*e, math.inf], dtype=pl.Float64),
        }
    )
    return (
        pl.concat(parts, how="vertical")
        .group_by([*keys, "bin"])
        .agg(pl.col("count").sum())
        .join(bins, on="bin", how="left")
        .sort([*keys, "bin"], nulls_last=True)
        .select(*keys, "bin_lower", "bin_upper", "count")
    )


def _sketch_partial(
    lf: pl.LazyFrame, column: str, by: list[str], alpha: float
) -> dict[tuple[Any, ...], DDSketch]:
    frame = lf.select(*by, column).drop_nulls(column).collect()
    out: dict[tuple[Any, ...], DDSketch] = {}
    if not by:
        s = DDSketch(alpha)
        s.add(frame[column].to_numpy())
        return {(): s} if s.count else {}
    for key, group in frame.group_by(by, maintain_order=True):
        s = DDSketch(alpha)
        s.add(group[column].to_numpy())
        out[tuple(key)] = s
    return out


@validate_params(
    column=InstanceOf(str),
    by=_BY,
    alpha=_ALPHA,
)
def latency_sketches(
    store: PathLike,
    *,
    column: str = "duration_ms",
    by: str | Sequence[str] = ("service_name",),
    alpha: float = 0.01,
    table: TableName = "spans",
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
) -> dict[tuple[Any, ...], DDSketch]:
    """One :class:`DDSketch` of ``column`` per group, merged from per-part sketches.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`ingest`.
    column : str, default "duration_ms"
        Non-negative values to sketch; nulls are left out.
    by : str or list of str, default ("service_name",)
        Grouping columns (``[]`` for one sketch of everything).
    alpha : float, default 0.01
        The sketches' relative accuracy.
    table, filters, client
        As for :func:`minute_counts`.

    Returns
    -------
    dict
        Group key tuple to its sketch.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> latency_sketches(pathlib.Path(tempfile.mkdtemp()))
    {}
    """
    keys = _keys(by)
    sel = _select(store, table, filters, caller() or "scale.latency_sketches")
    partials = _partials(sel, client, _sketch_partial, column=column, by=keys, alpha=alpha)
    merged: dict[tuple[Any, ...], DDSketch] = {}
    for partial in partials:
        for key, sketch in partial.items():
            if key in merged:
                merged[key].merge(sketch)
            else:
                merged[key] = sketch
    return merged


@validate_params()
def latency_percentiles(
    store: PathLike,
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    **options: Any,
) -> pl.DataFrame:
    """Percentiles of latency per group from merged sketches (see :func:`latency_sketches`).

    Parameters
    ----------
    store : str or path-like
    quantiles : sequence of float, default (0.5, 0.9, 0.99)
    **options
        Passed to :func:`latency_sketches` (``column``, ``by``, ``alpha``, ``table``,
        ``filters``, ``client``).

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, ``count``, and one Float64 column per quantile named
        ``p50``, ``p90``, ``p99``, ``p99.9`` ...; each within ``alpha`` relative error of
        the exact lower quantile.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> latency_percentiles(pathlib.Path(tempfile.mkdtemp())).columns
    ['service_name', 'count', 'p50', 'p90', 'p99']
    """
    by = options.get("by", ("service_name",))
    if not _BY.accepts(by):
        raise reject("by", "be " + _BY.words(), by)
    keys = _keys(by)
    sketches = latency_sketches(store, **options)
    names = [f"p{100 * q:g}" for q in quantiles]
    rows = [(*key, s.count, *[s.quantile(q) for q in quantiles]) for key, s in sketches.items()]
    schema: dict[str, Any] = dict.fromkeys(keys)
    if rows:
        frame = pl.DataFrame(rows, schema=[*keys, "count", *names], orient="row")
    else:
        frame = pl.DataFrame(
            schema={
                **dict.fromkeys(schema, pl.String),
                "count": pl.Int64,
                **dict.fromkeys(names, pl.Float64),
            }
        )
    return frame.with_columns(pl.col("count").cast(pl.Int64)).sort(keys, nulls_last=True)


def _check_edges(edges: object, function: str) -> list[float]:
    try:
        e = [float(v) for v in edges] if isinstance(edges, Sequence | np.ndarray) else []
    except (TypeError, ValueError):
        e = []
    if not e or any(not math.isfinite(v) for v in e) or any(a >= b for a, b in pairwise(e)):
        raise reject(
            "edges",
            "be a non-empty sequence of finite, strictly increasing numbers",
            edges,
            function=function,
        )
    return e
