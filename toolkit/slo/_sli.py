"""SLIs from events: :func:`good_events` marks each event good or bad for an SLO;
:func:`percentiles` gives latency percentiles per window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from toolkit._validation import BACKEND, Frame, caller, reject, validate_params
from toolkit.errors import preview
from toolkit.slo._openslo import SLO
from toolkit.slo._params import (
    _AVAILABILITY,
    Backend,
    _columns,
    _every,
    _fixed_ns,
    _out,
    _time_column,
)


@validate_params(calls=Frame(), backend=BACKEND)
def good_events(
    calls: Any, slo: SLO, *, column: str = "is_good", backend: Backend = "polars"
) -> Any:
    """The events with a Boolean column saying whether each one is good for ``slo``.

    ``availability``: good when ``is_error`` is false. A latency SLI (a column such as
    ``ttft_s``): good when the value compares with ``slo.threshold`` as ``slo.op`` says;
    null (not counted) when the value is null or, where an ``is_error`` column exists,
    when the call failed (failures belong to the availability SLO).

    Parameters
    ----------
    calls : polars or pandas DataFrame
        Usually the ``llm_calls`` table.
    slo : SLO
        With its ``sli`` set.
    column : str, default "is_good"
        Name of the added column.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        ``calls`` with ``column`` (Boolean) added or replaced.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [0.5, 3.0, None], "is_error": [False, False, True]})
    >>> good_events(calls, SLO("ttft", 0.99, sli="ttft_s", threshold=2.0))["is_good"].to_list()
    [True, False, None]
    """
    frame: pl.DataFrame = calls
    if not isinstance(slo, SLO) or slo.sli is None:
        raise reject("slo", "be an SLO with its 'sli' set", slo)
    if slo.sli == _AVAILABILITY:
        if "is_error" not in frame.columns or frame.schema["is_error"] != pl.Boolean:
            raise reject(
                "calls",
                "have a Boolean 'is_error' column for the availability SLI (the llm_calls "
                "table has one)",
                got=f"the columns {preview(', '.join(frame.columns), 300)}",
            )
        good = ~pl.col("is_error")
    else:
        if slo.sli not in frame.columns or not frame.schema[slo.sli].is_numeric():
            raise reject(
                "calls",
                f"have a numeric column {slo.sli!r} for SLO {slo.name!r}",
                got=f"the columns {preview(', '.join(frame.columns), 300)}",
            )
        value = pl.col(slo.sli)
        threshold = slo.threshold
        compared = {
            "lt": value < threshold,
            "lte": value <= threshold,
            "gt": value > threshold,
            "gte": value >= threshold,
        }[slo.op]
        failed = (
            pl.col("is_error").fill_null(False)
            if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean
            else pl.lit(False)
        )
        good = pl.when(failed | value.is_null() | value.is_nan()).then(None).otherwise(compared)
    return _out(frame.with_columns(good.cast(pl.Boolean).alias(column)), backend)


def _windowed(
    frame: pl.DataFrame,
    time: pl.Expr,
    by: list[str],
    every: object,
    window: object,
    aggs: list[pl.Expr],
    function: str,
) -> pl.DataFrame:
    """``aggs`` overall (every None), per calendar bucket, or per trailing window."""
    if every is None:
        if window is not None:
            raise reject(
                "window",
                "come with 'every' (the step at which the trailing window is evaluated)",
                got=f"window={preview(window)}, every=None",
                function=function,
            )
        grouped = frame.group_by(by, maintain_order=True) if by else None
        out = grouped.agg(aggs) if grouped is not None else frame.select(aggs)
        return out.sort(by) if by else out
    step, step_ns = _every(every, "every", function)
    data = frame.with_columns(time.alias("_time")).sort([*by, "_time"])
    if window is None:
        period, offset = step, "0ns"
    else:
        window_ns = _fixed_ns(window, "window", function)
        if step_ns is None:
            raise reject(
                "every", "be a fixed duration when 'window' is given", every, function=function
            )
        period, offset = f"{window_ns}ns", f"{step_ns - window_ns}ns"
    out = data.group_by_dynamic(
        "_time",
        every=step,
        period=period,
        offset=offset,
        closed="left",
        label="left",
        include_boundaries=True,
        group_by=by or None,
    ).agg(aggs)
    out = out.rename({"_lower_boundary": "window_start", "_upper_boundary": "window_end"})
    return out.drop("_time").select(
        *by,
        "window_start",
        "window_end",
        *[c for c in out.columns if c not in (*by, "window_start", "window_end", "_time")],
    )


def _quantile_name(q: float) -> str:
    return f"p{q * 100:.6g}"


@validate_params(events=Frame(), backend=BACKEND)
def percentiles(
    events: Any,
    column: str,
    q: Sequence[float] = (0.5, 0.9, 0.95, 0.99),
    *,
    by: str | Sequence[str] | None = None,
    every: str | dt.timedelta | None = None,
    window: str | dt.timedelta | None = None,
    time: str = "start_time",
    backend: Backend = "polars",
) -> Any:
    """Percentiles of a latency SLI, overall or by dimensions, per window.

    Linear interpolation between order statistics, as ``numpy.quantile``'s default.
    Null and NaN values are left out (a failed call has no time to first token).

    Parameters
    ----------
    events : polars or pandas DataFrame
        E.g. ``llm_calls``.
    column : str
        Numeric column (``"ttft_s"``, ``"tpot_s"``, ``"latency_s"``).
    q : sequence of float, default (0.5, 0.9, 0.95, 0.99)
        Quantiles in [0, 1].
    by : str or list of str, optional
        Dimensions (``"attributes.deployment.pool"``, ``"request_model"`` ...).
    every : str or timedelta, optional
        Calendar buckets of this length (``"1h"``, ``"1d"``, ``"1w"``, ``"1mo"``), aligned to
        UTC midnight / Monday / the first of the month. None: one value over all events.
    window : str or timedelta, optional
        With ``every``: a trailing (rolling) window of this length evaluated at each step
        (``every="1h", window="24h"``: the last 24 hours, every hour).
    time : str, default "start_time"
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        Long format: the ``by`` columns, ``window_start`` and ``window_end`` (with
        ``every``), ``quantile`` (Float64), ``name`` (``"p95"``), ``value`` and ``count`` (the
        values the percentile was computed from).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [0.1, 0.2, 0.3, 0.4, None], "pool": list("aabbb")})
    >>> percentiles(calls, "ttft_s", q=[0.5], by="pool").select("pool", "value", "count").rows()
    [('a', 0.15000000000000002, 2), ('b', 0.35, 2)]
    """
    function = caller() or "slo.percentiles"
    frame: pl.DataFrame = events
    [name] = _columns(frame, column, "column", function)
    if not frame.schema[name].is_numeric():
        raise reject(
            "column", "name a numeric column", got=f"{name!r} of type {frame.schema[name]}"
        )
    qs = list(q) if isinstance(q, Sequence) else []
    if not qs or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1 for v in qs
    ):
        raise reject("q", "be a non-empty list of numbers in [0, 1]", q)
    keys = _columns(frame, by, "by", function)
    time_expr = _time_column(frame, time, function) if every is not None else pl.lit(None)
    value = pl.col(name).cast(pl.Float64)
    value = pl.when(value.is_nan()).then(None).otherwise(value)
    aggs = [value.drop_nulls().count().cast(pl.Int64).alias("count")] + [
        value.quantile(float(v), interpolation="linear").alias(_quantile_name(float(v))) for v in qs
    ]
    wide = _windowed(frame, time_expr, keys, every, window, aggs, function)
    index = [c for c in wide.columns if c not in {_quantile_name(float(v)) for v in qs}]
    long = wide.unpivot(
        index=index,
        on=[_quantile_name(float(v)) for v in dict.fromkeys(qs)],
        variable_name="name",
        value_name="value",
    ).with_columns(pl.col("value").cast(pl.Float64))
    lookup = pl.DataFrame(
        {
            "name": [_quantile_name(float(v)) for v in dict.fromkeys(qs)],
            "quantile": [float(v) for v in dict.fromkeys(qs)],
        }
    )
    long = long.join(lookup, on="name", how="left", maintain_order="left")
    order = [c for c in index if c != "count"]
    return _out(
        long.select(*order, "quantile", "name", "value", "count").sort([*order, "quantile"]),
        backend,
    )
