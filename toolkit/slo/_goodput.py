"""Goodput (DistServe): requests per second that complete within every SLO at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from toolkit._validation import (
    BACKEND,
    Frame,
    Interval,
    caller,
    reject,
    shown,
    validate_params,
)
from toolkit.schema import TIME
from toolkit.slo._params import Backend, _columns, _out, _time_column
from toolkit.slo._sli import _windowed


@validate_params(calls=Frame(), sampling=Interval(float, 0, 1, closed="right"), backend=BACKEND)
def goodput(
    calls: Any,
    thresholds: Mapping[str, float],
    *,
    by: str | Sequence[str] | None = None,
    every: str | dt.timedelta | None = None,
    time: str = "start_time",
    sampling: float = 1.0,
    backend: Backend = "polars",
) -> Any:
    """Requests per second that meet every latency objective at once (DistServe's goodput).

    A call counts when it did not fail (``is_error`` false, where the column exists) and
    every column of ``thresholds`` is at most its threshold (a null value fails).

    Parameters
    ----------
    calls : polars or pandas DataFrame
        Usually ``llm_calls``.
    thresholds : mapping of column to float
        E.g. ``{"ttft_s": 2.0, "tpot_s": 0.05}``.
    by : str or list of str, optional
        E.g. ``"attributes.deployment.pool"``.
    every : str or timedelta, optional
        Per calendar bucket; None: over the whole span of ``calls`` (first to last call,
        for every group alike).
    time : str, default "start_time"
    sampling : float, default 1.0
        Fraction of requests that were traced (0.02 for 2 % head sampling): rates are
        divided by it to estimate the service's requests per second.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, ``window_start``/``window_end``, ``calls``, ``good_calls``
        (Int64, as counted), ``good_fraction``, ``throughput_rps`` and ``goodput_rps``
        (estimated for all requests).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> calls = pl.DataFrame({"start_time": [t0 + timedelta(seconds=s) for s in (0, 30, 60, 90)],
    ...     "ttft_s": [0.5, 3.0, 0.4, 0.2], "tpot_s": [0.02, 0.02, 0.09, 0.03],
    ...     "is_error": [False, False, False, False]})
    >>> goodput(calls, {"ttft_s": 1.0, "tpot_s": 0.05}, every="1m").select(
    ...     "good_calls", pl.col("goodput_rps").round(6)).rows()
    [(1, 0.016667), (1, 0.016667)]
    """
    function = caller() or "slo.goodput"
    frame: pl.DataFrame = calls
    if not isinstance(thresholds, Mapping) or not thresholds:
        raise reject(
            "thresholds",
            "map columns to their maximum (e.g. {'ttft_s': 2.0, 'tpot_s': 0.05})",
            thresholds,
        )
    ok = pl.lit(True)
    for column, limit in thresholds.items():
        [checked] = _columns(frame, column, "thresholds", function)
        if (
            not frame.schema[checked].is_numeric()
            or isinstance(limit, bool)
            or not isinstance(limit, int | float)
        ):
            raise reject(
                "thresholds",
                "map numeric columns to numbers",
                got=f"{column!r} ({frame.schema[checked]}) -> {shown(limit)}",
            )
        ok = ok & (pl.col(checked) <= limit).fill_null(False)
    if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean:
        ok = ok & ~pl.col("is_error").fill_null(True)
    keys = _columns(frame, by, "by", function)
    t = _time_column(frame, time, function)
    aggs = [pl.len().cast(pl.Int64).alias("calls"), ok.sum().cast(pl.Int64).alias("good_calls")]
    if every is None:
        times = frame.select(t.alias("_t"))["_t"]
        lo, hi = times.min(), times.max()
        out = _windowed(frame, t, keys, None, None, aggs, function).with_columns(
            pl.lit(lo, TIME).alias("window_start"), pl.lit(hi, TIME).alias("window_end")
        )
        out = out.select(*keys, "window_start", "window_end", "calls", "good_calls")
    else:
        out = _windowed(frame, t, keys, every, None, aggs, function)
    seconds = (pl.col("window_end") - pl.col("window_start")).dt.total_nanoseconds() / 1e9
    out = out.with_columns(
        pl.when(pl.col("calls") > 0)
        .then(pl.col("good_calls") / pl.col("calls"))
        .alias("good_fraction"),
        pl.when(seconds > 0).then(pl.col("calls") / sampling / seconds).alias("throughput_rps"),
        pl.when(seconds > 0).then(pl.col("good_calls") / sampling / seconds).alias("goodput_rps"),
    )
    return _out(out, backend)
