"""Burn rates, alerts and drift of a scale store, from mergeable partial counts.

The analyses of :mod:`toolkit.slo` and :mod:`toolkit.drift` on a store written by
:func:`toolkit.scale.ingest`, computed from the counts that :func:`toolkit.scale.minute_counts`,
:func:`toolkit.scale.histogram` and :func:`toolkit.scale.group_counts` merge from the
store's Parquet parts (on a Dask cluster when a ``client`` is given). The statistics are
then computed by the same code as on a collected frame, so a store and
``scale.scan(store).collect()`` give the same answers, with or without a cluster.

Re-exported by :mod:`toolkit.scale`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import polars as pl

from toolkit import slo as _slo
from toolkit._validation import (
    BACKEND,
    Backend,
    InstanceOf,
    Interval,
    OneOf,
    Strings,
    caller,
    reject,
    validate_params,
)
from toolkit.drift._compare import (
    _DEFAULT_BINS,
    _RESULT_SCHEMA,
    _choose,
    _count_statistics,
    _finish_table,
    _numeric_values,
    _result_rows,
)
from toolkit.drift._windowed import (
    _check_every,
    _moment,
    _reference_window,
    _window_grid,
    _with_window_start,
)
from toolkit.errors import ParameterError, preview
from toolkit.ingest._io import PathLike
from toolkit.scale._partials import _check_edges, group_counts, histogram, minute_counts
from toolkit.scale._store import _TABLE, TIME, TableName, check_filters, check_table, scan
from toolkit.schema import to_pandas
from toolkit.slo._budget import _objective, _windows_in
from toolkit.slo._params import _fixed_ns, _text

__all__ = [
    "DimensionDrift",
    "GroupGap",
    "alerts",
    "burn_rates",
    "drift",
    "group_gaps",
    "most_drifted",
]


_MINUTE_NS = 60_000_000_000
_COUNT_TESTS = ("psi", "jensenshannon", "chisquare")
#: ``good``: the expression marking a good event.
_GOOD = InstanceOf(
    pl.Expr, description="a polars expression such as pl.col('status_code') != 'error'"
)
#: ``columns`` of the searches over candidate columns.
_COLUMNS = Strings(description="a list of column names")


# --------------------------------------------------------------------------- parameters


def _check_table(table: object, function: str) -> TableName:
    return cast(TableName, check_table(table, function).name)


def _schema(store: PathLike, table: TableName, filters: dict[str, Any]) -> pl.Schema:
    return scan(store, table, filters or None).collect_schema()


def _check_by(by: object, schema: pl.Schema, function: str) -> list[str]:
    if by is None:
        return []
    listed = [by] if isinstance(by, str) else by
    if not isinstance(listed, Sequence) or not all(isinstance(b, str) for b in listed):
        raise reject(
            "by", "be None, a column name or a list of column names", by, function=function
        )
    for name in listed:
        if name not in schema:
            raise reject(
                "by",
                "name columns of the store's table "
                f"(available: {preview(', '.join(schema.names()), 300)})",
                name,
                function=function,
            )
    return list(listed)


# --------------------------------------------------------------------------- SLO counts


def _check_slo_inputs(
    good: object, target: object, resolution: object, function: str, period: object = None
) -> int:
    """Check ``good``, ``target`` and ``resolution``; return the resolution in ns."""
    objective = _objective(target, function, period)
    res_ns = _fixed_ns(resolution, "resolution", function)
    if res_ns % _MINUTE_NS:
        raise reject(
            "resolution",
            "be a whole number of minutes (the store is counted per minute)",
            resolution,
            function=function,
        )
    if objective.slices is not None and objective.slices[0] % _MINUTE_NS:
        raise reject(
            "target",
            "be an SLO whose time slices are whole minutes (the store is counted per minute)",
            got=f"time_slice_window {_text(objective.slices[0])}",
            function=function,
        )
    return res_ns


def _check_durations(values: Sequence[object], res_ns: int, parameter: str, function: str) -> None:
    for value in values:
        ns = _fixed_ns(value, parameter, function)
        _windows_in(ns, res_ns, parameter, function)


def _event_counts(
    store: PathLike,
    good: pl.Expr,
    table: TableName,
    by: object,
    filters: dict[str, Any],
    client: Any,
    function: str,
) -> tuple[pl.DataFrame, list[str]]:
    """Good and total events per minute and group, the SLI ignoring a null ``good``.

    :mod:`toolkit.slo` leaves an event whose ``good`` is null out (the SLI does not apply
    to it): ``total`` is :func:`toolkit.scale.minute_counts`' ``total - unknown``, and
    minutes without an event left are dropped, as the event path of :mod:`toolkit.slo`
    never sees them.
    """
    keys = _check_by(by, _schema(store, table, filters), function)
    options: dict[str, Any] = {
        "table": table,
        "by": keys,
        "filters": filters or None,
        "client": client,
    }
    counts = minute_counts(store, good, **options)
    merged = (
        counts.with_columns(pl.col("total") - pl.col("unknown"))
        .drop("unknown")
        .filter(pl.col("total") > 0)
    )
    return merged, keys


@validate_params(good=_GOOD, table=_TABLE, backend=BACKEND)
def burn_rates(
    store: PathLike,
    target: float | _slo.SLO,
    *,
    good: pl.Expr,
    windows: Sequence[str] = ("5m", "30m", "1h", "6h", "3d"),
    table: TableName = "spans",
    by: str | Sequence[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    resolution: str = "1m",
    client: Any = None,
    backend: Backend = "polars",
) -> Any:
    """Burn rates over trailing windows, from a store's per-minute counts.

    The same frame as :func:`toolkit.slo.burn_rates` on ``scale.scan(store).collect()``
    with ``good`` as a Boolean column, computed from :func:`toolkit.scale.minute_counts`
    (per Parquet part, on the cluster when ``client`` is given, then summed): only the
    per-minute counts reach this process.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`toolkit.scale.ingest`.
    good : polars.Expr
        Boolean expression marking a good event, e.g. ``pl.col("status_code") != "error"``.
        An event where it is null is left out of both counts (the SLI does not apply to
        it), as :mod:`toolkit.slo` does; this costs a second pass over the store.
    target : float or SLO
        The objective (0.999), or an SLO (its target and budgeting method are used;
        Timeslices need slices of whole minutes).
    windows : sequence of str, default ("5m", "30m", "1h", "6h", "3d")
        Window lengths, multiples of ``resolution``.
    table : {"spans", "logs", "metrics"}, default "spans"
        The event time is ``start_time`` for spans, ``time`` otherwise.
    by : str or list of str, optional
        Evaluate each group (``"service_name"`` ...) on its own; None: one series of every
        event.
    filters : mapping, optional
        As for :func:`toolkit.scale.scan` (``service_name``, ``start``, ``end``).
    resolution : str, default "1m"
        Bucket length, a whole number of minutes.
    client : dask.distributed.Client, optional
        Count on this cluster's workers.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        As :func:`toolkit.slo.burn_rates`: ``time`` (the window's end), the ``by``
        columns, ``window``, ``bad``, ``total``, ``error_ratio`` and ``burn_rate``.

    Raises
    ------
    ParameterError
        If ``good``, ``target``, ``windows``, ``resolution``, ``by``, ``table`` or
        ``filters`` is not valid.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> import polars as pl
    >>> from toolkit import scale
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t0 = 1_793_577_600_000_000_000  # 2026-11-02T00:00:00Z in ns
    >>> spans = [{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": f"{i + 1:016x}",
    ...           "name": "chat", "startTimeUnixNano": str(t0 + i * 60_000_000_000),
    ...           "endTimeUnixNano": str(t0 + i * 60_000_000_000 + 10**9),
    ...           "status": {"code": 2 if i == 1 else 1}} for i in range(4)]
    >>> line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
    >>> _ = (d / "a.jsonl").write_text(line + "\\n")
    >>> _ = scale.ingest(d / "a.jsonl", d / "store")
    >>> rates = burn_rates(d / "store", 0.9, good=pl.col("status_code") != "error", windows=["2m"])
    >>> rates["burn_rate"].to_list()
    [0.0, 5.000000000000001, 5.000000000000001, 0.0]
    """
    function = caller() or "scale.burn_rates"
    tbl = _check_table(table, function)
    flt = check_filters(filters, function)
    res_ns = _check_slo_inputs(good, target, resolution, function)
    if isinstance(windows, str) or not isinstance(windows, Sequence) or not windows:
        raise reject("windows", "be a non-empty list of durations", windows)
    _check_durations(windows, res_ns, "windows", function)
    counts, keys = _event_counts(store, good, tbl, by, flt, client, function)
    return _slo.burn_rates(
        counts,
        target,
        windows=windows,
        good="good",
        total="total",
        time="minute",
        by=keys or None,
        resolution=resolution,
        backend=backend,
    )


@validate_params(
    good=_GOOD, table=_TABLE, policy=[InstanceOf(_slo.AlertPolicy), None], backend=BACKEND
)
def alerts(
    store: PathLike,
    target: float | _slo.SLO,
    *,
    good: pl.Expr,
    policy: _slo.AlertPolicy | None = None,
    table: TableName = "spans",
    by: str | Sequence[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    resolution: str = "1m",
    merge_gap: str | None = None,
    client: Any = None,
    backend: Backend = "polars",
) -> Any:
    """The multiwindow, multi-burn-rate alerts that would have fired, from a store.

    The same frame as :func:`toolkit.slo.alerts` on ``scale.scan(store).collect()`` with
    ``good`` as a Boolean column, computed from the per-minute counts of
    :func:`toolkit.scale.minute_counts` (merged from the store's parts, on the cluster when
    ``client`` is given).

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`toolkit.scale.ingest`.
    good : polars.Expr
        Boolean expression marking a good event; where it is null the event is left out
        (see :func:`burn_rates`).
    target : float or SLO
        The objective, or an SLO.
    policy : AlertPolicy, optional
        None: :data:`toolkit.slo.WORKBOOK` (page 14.4 over 1h/5m, page 6 over 6h/30m,
        ticket 1 over 3d/6h).
    table : {"spans", "logs", "metrics"}, default "spans"
    by : str or list of str, optional
        Evaluate each group on its own; None: one series of every event.
    filters : mapping, optional
        As for :func:`toolkit.scale.scan`.
    resolution : str, default "1m"
        Bucket length, a whole number of minutes; the policy's windows are multiples of it.
    merge_gap : str, optional
        As for :func:`toolkit.slo.alerts`: join firings separated by at most this time.
    client : dask.distributed.Client, optional
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        As :func:`toolkit.slo.alerts`: one row per alert (the ``by`` columns,
        ``severity``, ``start``, ``end``, ``long_window``, ``short_window``,
        ``threshold``, ``burn_rate``, ``short_burn_rate``, ``budget_consumed``,
        ``resolved``), ordered by ``start``.

    Raises
    ------
    ParameterError
        If a parameter is not valid.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> import polars as pl
    >>> from toolkit import scale
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t0 = 1_793_577_600_000_000_000  # 2026-11-02T00:00:00Z in ns
    >>> spans = [{"traceId": "5b8efff798038103d269b633813fc60c", "spanId": f"{i + 1:016x}",
    ...           "name": "chat", "startTimeUnixNano": str(t0 + i * 60_000_000_000),
    ...           "endTimeUnixNano": str(t0 + i * 60_000_000_000 + 10**9),
    ...           "status": {"code": 2 if 60 <= i < 70 else 1}} for i in range(120)]
    >>> line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
    >>> _ = (d / "a.jsonl").write_text(line + "\\n")
    >>> _ = scale.ingest(d / "a.jsonl", d / "store")
    >>> fired = alerts(d / "store", 0.99, good=pl.col("status_code") != "error")
    >>> fired.select("severity", "long_window", pl.col("start", "end").dt.strftime("%H:%M")).rows()
    [('ticket', '3d', '01:01', '02:00'), ('page', '6h', '01:04', '01:39'),
     ('page', '1h', '01:09', '01:15')]
    """
    function = caller() or "scale.alerts"
    tbl = _check_table(table, function)
    flt = check_filters(filters, function)
    if policy is None:
        policy = _slo.WORKBOOK
    res_ns = _check_slo_inputs(good, target, resolution, function, period=policy.period)
    _check_durations(
        [w for r in policy.rules for w in (r.long_window, r.short_window)],
        res_ns,
        "policy",
        function,
    )
    if merge_gap is not None:
        _check_durations([merge_gap], res_ns, "merge_gap", function)
    counts, keys = _event_counts(store, good, tbl, by, flt, client, function)
    return _slo.alerts(
        counts,
        target,
        good="good",
        time="minute",
        policy=policy,
        total="total",
        by=keys or None,
        resolution=resolution,
        merge_gap=merge_gap,
        backend=backend,
    )


# --------------------------------------------------------------------------- drift


_TEST = OneOf(*_COUNT_TESTS, description="'psi', 'jensenshannon' or 'chisquare'")


def _check_test(test: object, function: str) -> str:
    if isinstance(test, str) and test in ("ks", "wasserstein"):
        # reject's wording, with the reason joined to it: the raw samples are not kept
        raise ParameterError(
            f"The 'test' parameter of {function} must be {_TEST.words()}. Got {test!r} "
            f"instead: {test} needs the raw samples, which the store's mergeable counts do "
            "not keep. Use 'psi' or 'chisquare' (counts per bin), or drift.windowed on a "
            "sample collected with scale.scan."
        )
    if not _TEST.accepts(test):
        raise reject("test", "be " + _TEST.words(), test, function=function)
    return cast(str, test)


def _check_every_us(every: str, function: str) -> None:
    """Window bounds are datetime.datetime filters: ``every`` must be whole microseconds."""
    if every.endswith("ns") and int(every[:-2]) % 1000:
        raise reject(
            "every",
            "be a whole number of microseconds (windows are read with datetime filters)",
            every,
            function=function,
        )


def _later(a: dt.datetime, b: dt.datetime | None) -> dt.datetime:
    return a if b is None else max(a, b)


def _earlier(a: dt.datetime, b: dt.datetime | None) -> dt.datetime:
    return a if b is None else min(a, b)


def _no_reference(function: str, column: str, rows: int) -> ParameterError:
    return ParameterError(
        f"The reference of {function} has no value in column {column!r} "
        f"({rows:,} rows, all null): nothing to compare against."
    )


def _window_counts(
    store: PathLike,
    column: str,
    edges: list[float] | None,
    bounds: tuple[dt.datetime, dt.datetime],
    table: TableName,
    filters: dict[str, Any],
    client: Any,
    grid: pl.DataFrame | None = None,
    every: str | None = None,
) -> pl.DataFrame:
    """Counts of ``column`` in ``[start, end)`` of ``bounds``: ``_window`` (0, or with
    ``grid`` and ``every`` the window of ``grid`` each row falls in), ``key`` (bin index
    with ``edges``, else the value as text; null for a null or NaN) and ``count``.

    One mergeable aggregation over the whole range: with ``every``, the partials count
    per window (``scale.histogram``/``scale.group_counts`` with ``every``).
    """
    key_type: pl.DataType = pl.Int64() if edges is not None else pl.String()
    empty = pl.DataFrame(schema={"_window": pl.Int64, "key": key_type, "count": pl.Int64})
    start, end = bounds
    if start >= end:
        return empty
    span = {**filters, "start": start, "end": end}
    if edges is not None:
        h = histogram(store, column, edges, every=every, table=table, filters=span, client=client)
        # bin i holds edges[i-1] <= x < edges[i]: its index is the edges <= its lower bound
        codes = np.searchsorted(edges, h["bin_lower"].fill_null(-math.inf), side="right")
        key = pl.when(pl.col("bin_lower").is_null()).then(None).otherwise(pl.Series(codes))
    else:
        h = group_counts(store, [column], every=every, table=table, filters=span, client=client)
        key = pl.col(column).cast(pl.String)
    if grid is None:
        window = pl.lit(0, dtype=pl.Int64)
    else:
        h = h.join(grid, on="window_start", how="left", maintain_order="left")
        window = pl.col("_window")
    out = h.select(window.alias("_window"), key.cast(key_type).alias("key"), "count")
    return pl.concat([empty, out], how="vertical")


def _dense(
    counts: pl.DataFrame, n_windows: int, categories: pl.Series | None, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """(windows, width) float64 counts and the null count of each window."""
    missing = counts.filter(pl.col("key").is_null())
    nulls = np.zeros(n_windows, dtype=np.int64)
    np.add.at(nulls, missing["_window"].to_numpy(), missing["count"].to_numpy())
    valid = counts.filter(pl.col("key").is_not_null())
    if categories is not None:
        lookup = pl.DataFrame(
            {"key": categories, "code": pl.int_range(categories.len(), eager=True)}
        )
        codes = valid.join(lookup, on="key", how="left", maintain_order="left")["code"].to_numpy()
    else:
        codes = valid["key"].to_numpy()
    dense = np.zeros((n_windows, width), dtype=np.float64)
    np.add.at(dense, (valid["_window"].to_numpy(), codes), valid["count"].to_numpy())
    return dense, nulls


@validate_params(
    column=InstanceOf(str),
    table=_TABLE,
    bins=[Interval(int, 2, None), None],
    threshold=[None, Interval(float, 0, None)],
    backend=BACKEND,
)
def drift(
    store: PathLike,
    column: str,
    *,
    reference: tuple[Any, Any],
    every: str = "1h",
    test: str = "psi",
    bins: int | None = None,
    edges: Sequence[float] | None = None,
    start: Any = None,
    end: Any = None,
    table: TableName = "spans",
    filters: Mapping[str, Any] | None = None,
    client: Any = None,
    threshold: float | None = None,
    backend: Backend = "polars",
) -> Any:
    """Drift of one column in every window of a store against a reference window.

    The same rows as :func:`toolkit.drift.windowed` on ``scale.scan(store, table,
    filters).collect()`` with ``columns=[column]``, ``tests={column: test}``, ``bins`` and
    ``thresholds={column: threshold}``, computed from counts merged from the store's parts
    (on the cluster when ``client`` is given): :func:`toolkit.scale.histogram` for a
    numeric column, :func:`toolkit.scale.group_counts` for a string or boolean one. Only
    the tests that work from counts are offered.

    Numeric columns are binned as :func:`~toolkit.drift.windowed` bins them, at the
    reference's quantiles; with ``edges=None`` those edges are computed exactly from the
    reference window's values of ``column``, which are **collected on the driver** (one
    column, the reference window only). Pass ``edges`` to keep everything on the cluster
    (the result then equals ``windowed`` only when the edges are the same).

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`toolkit.scale.ingest`.
    column : str
        The column to test (numeric, string or boolean).
    reference : (start, end)
        The reference window: aware datetimes or ISO-8601 text with a zone; end exclusive.
    every : str, default "1h"
        Window width (``"15m"``, ``"1h"``, ``"1d"`` ...; whole microseconds), aligned as
        :func:`toolkit.drift.windowed` aligns it.
    test : {"psi", "jensenshannon", "chisquare"}, default "psi"
        ``ks`` and ``wasserstein`` need the raw samples and are refused.
    bins : int, optional
        Quantile bins of a numeric column (default 10 for psi, 30 otherwise).
    edges : sequence of float, optional
        Fixed, strictly increasing bin edges for a numeric column instead of ``bins``.
    start, end : datetime or str, optional
        The period (end exclusive); default from the first to the last row. Empty windows
        are listed with ``n_current`` = 0 and null statistics.
    table : {"spans", "logs", "metrics"}, default "spans"
        The time is ``start_time`` for spans, ``time`` otherwise.
    filters : mapping, optional
        As for :func:`toolkit.scale.scan`; they restrict the reference and the windows.
    client : dask.distributed.Client, optional
    threshold : float, optional
        Overrides the test's default threshold (psi 0.1, jensenshannon 0.1, chisquare
        p <= 0.05).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        As :func:`toolkit.drift.windowed`: one row per window, ``window_start``,
        ``column``, ``kind``, ``test``, ``statistic``, ``p_value``, ``p_value_adjusted``,
        ``threshold``, ``drifted``, ``n_reference``, ``n_current``, ``nulls_reference``,
        ``nulls_current``, ``reason``.

    Raises
    ------
    ParameterError
        If a parameter is not valid, the column is absent or of another type, or the
        reference window holds no value of it.

    Notes
    -----
    What reaches the driver: the counts per window and bin (or category); the
    reference's values of ``column`` when ``edges`` is None for a numeric column; and,
    when ``start`` or ``end`` is left out, the first and last time of the period (read
    from the time column). Each window is one mergeable aggregation over the parts of
    its days, so many narrow windows cost many passes.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from toolkit import scale
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t0 = 1_793_577_600_000_000_000  # 2026-11-02T00:00:00Z in ns
    >>> def span(i):  # one span every 10 minutes; a new locale from 04:00
    ...     loc = ["en", "fr"][i % 2] if i < 24 else "hi"
    ...     t = t0 + i * 600_000_000_000
    ...     return {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": f"{i + 1:016x}",
    ...             "name": "chat", "startTimeUnixNano": str(t), "endTimeUnixNano": str(t + 1),
    ...             "attributes": [{"key": "locale", "value": {"stringValue": loc}}]}
    >>> spans = [span(i) for i in range(36)]
    >>> line = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]})
    >>> _ = (d / "a.jsonl").write_text(line + "\\n")
    >>> _ = scale.ingest(d / "a.jsonl", d / "store")
    >>> out = drift(d / "store", "attributes.locale", reference=("2026-11-02T00:00Z",
    ...             "2026-11-02T02:00Z"), every="2h", test="chisquare")
    >>> out.select(pl.col("window_start").dt.hour(), "n_current", "drifted").rows()
    [(0, 12, False), (2, 12, False), (4, 12, True)]
    """
    function = caller() or "scale.drift"
    tbl = _check_table(table, function)
    flt = check_filters(filters, function)
    test = _check_test(test, function)
    every = _check_every(every, function)
    _check_every_us(every, function)
    ref_start, ref_end = _reference_window(reference, function)
    schema = _schema(store, tbl, flt)
    if column not in schema:
        raise reject(
            "column",
            "name a column of the store's table "
            f"(available: {preview(', '.join(schema.names()), 300)})",
            column,
        )
    dtype = schema[column]
    if dtype.is_numeric():
        kind = "numeric"
    elif dtype in (pl.String, pl.Boolean, pl.Categorical) or isinstance(dtype, pl.Enum):
        kind = "categorical"
    else:
        raise reject(
            "column",
            "name a numeric, string or boolean column",
            got=f"{column!r} of type {dtype}",
        )
    if edges is not None:
        if kind != "numeric":
            raise ParameterError(
                f"The 'edges' parameter of {function} applies to numeric columns only. "
                f"Got edges for the {dtype} column {column!r} instead."
            )
        if bins is not None:
            raise reject("bins", "be None when 'edges' is given", bins)
        fixed: list[float] | None = _check_edges(edges, function)
    else:
        fixed = None

    # The period, as drift.windowed takes it from the collected frame.
    time_col = TIME[tbl]
    time_type = schema[time_col]
    lo = _moment(start, "start", function) if start is not None else None
    hi = _moment(end, "end", function) if end is not None else None
    last: dt.datetime | None = None
    if lo is None:  # from the first row; the last one too when no end is given
        lo, last = (
            scan(store, tbl, flt or None)
            .select(pl.col(time_col).min().alias("lo"), pl.col(time_col).max().alias("hi"))
            .collect()
            .row(0)
        )
    elif hi is None:
        after = {**flt, "start": _later(lo, flt.get("start"))}
        last = scan(store, tbl, after).select(pl.col(time_col).max()).collect().item()
    if lo is None or (last is None and hi is None):
        empty = pl.DataFrame(schema={"window_start": time_type, **_RESULT_SCHEMA})
        return to_pandas(empty) if backend == "pandas" else empty
    grid = _window_grid(
        lo, hi if hi is not None else last, every, time_type, last_included=hi is None
    )
    n_windows = grid.height
    # each window's rows: [window_start, window_end) within the period and the filters
    clip_lo = flt.get("start") if start is None else _later(lo, flt.get("start"))
    clip_hi = flt.get("end") if hi is None else _earlier(hi, flt.get("end"))
    bounds = [
        (_later(a, clip_lo), _earlier(b, clip_hi))
        for a, b in grid.select(
            "window_start", pl.col("window_start").dt.offset_by(every).alias("window_end")
        ).iter_rows()
    ]

    # The reference window's counts (and, for numeric columns, its quantile edges).
    ref_bounds = (_later(ref_start, flt.get("start")), _earlier(ref_end, flt.get("end")))
    if kind == "numeric" and fixed is None:  # windowed's edges: the reference's quantiles
        ref_filters = {**flt, "start": ref_bounds[0], "end": ref_bounds[1]}
        ref_column = scan(store, tbl, ref_filters).select(column).collect().to_series()
        values = _numeric_values(ref_column)
        if values.size == 0:
            raise _no_reference(function, column, ref_column.len())
        n_bins = bins if bins is not None else _DEFAULT_BINS[test]
        fixed = np.unique(np.quantile(values, np.arange(1, n_bins) / n_bins)).tolist()
        if not all(math.isfinite(v) for v in fixed):
            raise ParameterError(
                f"The reference of {function} holds infinite values in column {column!r}, "
                "so its quantiles cannot be bin edges: pass finite 'edges'."
            )
    ref_long = _window_counts(store, column, fixed, ref_bounds, tbl, flt, client)
    period = (
        min((a for a, b in bounds if a < b), default=bounds[0][0]),
        max((b for a, b in bounds if a < b), default=bounds[0][0]),
    )
    categories = None
    if kind == "categorical":
        cur_long = _window_counts(store, column, None, period, tbl, flt, client, grid, every)
        categories = (
            pl.concat([ref_long["key"], cur_long["key"]]).drop_nulls().unique(maintain_order=True)
        )
        width = max(categories.len(), 1)
    else:
        width = len(fixed) + 1 if fixed is not None else 1
    ref_dense, ref_nulls = _dense(ref_long, 1, categories, width)
    m = int(ref_dense.sum())
    if m == 0:
        raise _no_reference(function, column, int(ref_nulls[0]))
    if kind == "numeric":
        cur_long = _window_counts(store, column, fixed, period, tbl, flt, client, grid, every)
    cur_dense, cur_nulls = _dense(cur_long, n_windows, categories, width)
    choice = _choose(
        column,
        kind,
        m,
        {column: test},
        None if threshold is None else {column: threshold},
        function,
    )
    result = _count_statistics(ref_dense[0], cur_dense, test)
    rows = _result_rows(column, kind, choice, result, m, int(ref_nulls[0]), cur_nulls)
    out = _with_window_start(_finish_table([rows], None), grid)
    return to_pandas(out) if backend == "pandas" else out


# --------------------------------------------------------------------------- which dimension


@dataclass(frozen=True)
class DimensionDrift:
    """The dimension whose mix moved most, among several tested with :func:`drift`.

    Attributes
    ----------
    column : str or None
        The column with the highest statistic in any window (None: no column had a
        window to test).
    windows : polars.DataFrame
        :func:`drift`'s rows for ``column``.
    ranking : polars.DataFrame
        One row per column tested: ``column``, ``max_statistic``, ``drifted_windows``,
        ``windows``, highest first.
    """

    column: str | None
    windows: pl.DataFrame
    ranking: pl.DataFrame

    @property
    def flagged(self) -> tuple[dt.datetime, ...]:
        """Starts of the windows of ``column`` that drifted."""
        if self.column is None or self.windows.height == 0:
            return ()
        rows = self.windows.filter(pl.col("drifted").fill_null(False))
        return tuple(rows["window_start"].to_list())


@validate_params(columns=_COLUMNS)
def most_drifted(
    store: PathLike,
    columns: Sequence[str],
    *,
    reference: tuple[Any, Any],
    **options: Any,
) -> DimensionDrift:
    """Test each column's drift with :func:`drift`; return the one that moved most.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`toolkit.scale.ingest`.
    columns : sequence of str
        Candidate columns (e.g. :attr:`toolkit.scale.FleetPlan.dimensions`).
    reference : (start, end)
        The reference window.
    **options
        Passed to :func:`drift` (``every``, ``test``, ``filters``, ``client`` ...).

    Returns
    -------
    DimensionDrift

    Examples
    --------
    >>> import datetime as dt, pathlib, tempfile
    >>> t0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> most_drifted(pathlib.Path(tempfile.mkdtemp()), [], reference=(t0, t0)).column is None
    True
    """
    results: dict[str, pl.DataFrame] = {}
    for column in columns:
        try:
            results[column] = drift(store, column, reference=reference, **options)
        except ParameterError:  # e.g. no value of the column in the reference window
            results[column] = pl.DataFrame()
    ranking = pl.DataFrame(
        [
            (
                column,
                frame["statistic"].max() if frame.height else None,
                int(frame["drifted"].fill_null(False).sum()) if frame.height else 0,
                frame.height,
            )
            for column, frame in results.items()
        ],
        schema={
            "column": pl.String,
            "max_statistic": pl.Float64,
            "drifted_windows": pl.Int64,
            "windows": pl.Int64,
        },
        orient="row",
    ).sort("max_statistic", descending=True, nulls_last=True)
    tested = ranking.filter(pl.col("max_statistic").is_not_null())
    if tested.height == 0:
        return DimensionDrift(None, pl.DataFrame(), ranking)
    best = str(tested["column"][0])
    return DimensionDrift(best, results[best], ranking)


@dataclass(frozen=True)
class GroupGap:
    """The group whose outcome rate stands out most, over several group columns.

    Attributes
    ----------
    column : str or None
        The group column of the widest gap (None: no call had the outcome).
    group : str or None
        Its group with the highest rate.
    rate : float or None
        That group's share of calls with the outcome.
    rest : float or None
        The share among the column's other groups.
    groups : polars.DataFrame
        For ``column``: ``group``, ``outcome`` (calls with it), ``calls``, ``rate``,
        highest first.
    ranking : polars.DataFrame
        One row per column: ``column``, ``group``, ``rate``, ``rest``, ``ratio``
        (``rate / rest``; null when ``rest`` is 0), widest gap first.
    """

    column: str | None
    group: str | None
    rate: float | None
    rest: float | None
    groups: pl.DataFrame
    ranking: pl.DataFrame


def _outcome_flag(dtype: pl.DataType, column: str, value: str) -> pl.Expr:
    if isinstance(dtype, pl.List):
        return pl.col(column).list.contains(value)
    return pl.col(column).cast(pl.String) == value


@validate_params(columns=_COLUMNS)
def group_gaps(
    store: PathLike,
    columns: Sequence[str],
    outcome_column: str,
    *,
    value: str = "content_filter",
    min_calls: int = 30,
    **options: Any,
) -> GroupGap:
    """Per group column, how often each group's calls had an outcome; the widest gap.

    Counts come from :func:`toolkit.scale.group_counts` (merged per part, on the cluster
    when ``client`` is given). Rows whose outcome is null are left out (not model calls).
    The outcome column may hold a list (``gen_ai.response.finish_reasons``) or a string.

    Parameters
    ----------
    store : str or path-like
        A store written by :func:`toolkit.scale.ingest`.
    columns : sequence of str
        Candidate group columns (e.g. :attr:`toolkit.scale.FleetPlan.dimensions`).
    outcome_column : str
        The column of outcomes (finish reasons).
    value : str, default "content_filter"
        The outcome counted (a refusal by the content filter).
    min_calls : int, default 30
        Groups with fewer calls are left out of the comparison.
    **options
        ``filters``, ``client``, ``table``: passed to :func:`toolkit.scale.group_counts`.

    Returns
    -------
    GroupGap

    Examples
    --------
    >>> import pathlib, tempfile
    >>> gap = group_gaps(pathlib.Path(tempfile.mkdtemp()), [], "attributes.outcome")
    >>> gap.column, gap.ranking.columns
    (None, ['column', 'group', 'rate', 'rest', 'ratio'])
    """

    groups_schema = {"group": pl.String, "outcome": pl.Int64, "calls": pl.Int64, "rate": pl.Float64}
    per_column: dict[str, pl.DataFrame] = {}
    rows = []
    for column in columns:
        counts = group_counts(store, [column, outcome_column], **options)
        counts = counts.filter(pl.col(outcome_column).is_not_null() & pl.col(column).is_not_null())
        flag = _outcome_flag(counts.schema[outcome_column], outcome_column, value)
        groups = (
            counts.group_by(pl.col(column).cast(pl.String).alias("group"))
            .agg(
                pl.col("count").filter(flag.fill_null(False)).sum().cast(pl.Int64).alias("outcome"),
                pl.col("count").sum().cast(pl.Int64).alias("calls"),
            )
            .filter(pl.col("calls") >= min_calls)
            .with_columns((pl.col("outcome") / pl.col("calls")).alias("rate"))
            .sort(["rate", "group"], descending=[True, False])
        )
        per_column[column] = groups
        if groups.height < 2 or groups["outcome"].sum() == 0:
            continue
        top, others = groups.row(0, named=True), groups.slice(1)
        rest = int(others["outcome"].sum()) / int(others["calls"].sum())
        rows.append(
            (
                column,
                top["group"],
                float(top["rate"]),
                rest,
                float(top["rate"]) / rest if rest > 0 else None,
            )
        )
    ranking = pl.DataFrame(
        rows,
        schema={
            "column": pl.String,
            "group": pl.String,
            "rate": pl.Float64,
            "rest": pl.Float64,
            "ratio": pl.Float64,
        },
        orient="row",
    ).sort(["ratio", "rate"], descending=True, nulls_last=False)
    if ranking.height == 0:
        return GroupGap(None, None, None, None, pl.DataFrame(schema=groups_schema), ranking)
    best = ranking.row(0, named=True)
    return GroupGap(
        best["column"],
        best["group"],
        best["rate"],
        best["rest"],
        per_column[best["column"]],
        ranking,
    )
