"""Good and total counts from Prometheus histograms and counters (:func:`metric_counts`):
the SLI's events when the data are metrics rather than calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import polars as pl

from toolkit._validation import (
    BACKEND,
    Frame,
    InstanceOf,
    OneOf,
    caller,
    reject,
    validate_params,
)
from toolkit.errors import preview
from toolkit.schema import METRICS, validate
from toolkit.slo._params import Backend, _out


def _label_column(frame: pl.DataFrame, name: str, parameter: str, function: str) -> str:
    labels = [c for c in frame.columns if c.startswith("label.")]
    for candidate in (name, f"label.{name}"):
        if candidate in frame.columns:
            return candidate
    raise reject(
        parameter,
        f"name label columns of the metrics (available: {preview(', '.join(labels), 300)})",
        name,
        function=function,
    )


def _increases(rows: pl.DataFrame, first: str) -> pl.DataFrame:
    """Per-interval increase of each cumulative series (resets handled), at interval start."""
    keys = [
        c
        for c in rows.columns
        if (
            c.startswith(("label.", "resource."))
            or c in ("name", "le", "service_name", "scope_name")
        )
        and rows[c].null_count() < rows.height
    ]
    data = rows.sort([*keys, "time"], nulls_last=True)
    prev = pl.col("value").shift(1).over(keys)
    prev_time = pl.col("time").shift(1).over(keys)
    inc = (
        pl.when(prev.is_null())
        .then(pl.col("value") if first == "count" else None)
        .when(pl.col("value") >= prev)
        .then(pl.col("value") - prev)
        .otherwise(pl.col("value"))
    )
    start = (
        pl.when(prev_time.is_null())
        .then(pl.col("start_time") if "start_time" in rows.columns else None)
        .otherwise(prev_time)
    )
    start = pl.when(start.is_null()).then(pl.col("time")).otherwise(start)
    return data.with_columns(inc.alias("_inc"), start.alias("_start")).filter(
        pl.col("_inc").is_not_null()
    )


_NAME = InstanceOf(str, description="a metric name")


@validate_params(metrics=Frame(), name=_NAME, first=OneOf("skip", "count"), backend=BACKEND)
def metric_counts(
    metrics: Any,
    name: str,
    *,
    threshold: float | None = None,
    bad: Mapping[str, Sequence[str]] | None = None,
    by: str | Sequence[str] | None = None,
    first: Literal["skip", "count"] = "skip",
    backend: Backend = "polars",
) -> Any:
    """Good and total event counts per scrape interval, from a histogram or a counter.

    * A **histogram** family (``vllm:time_to_first_token_seconds``,
      ``vllm:e2e_request_latency_seconds``, ``gen_ai.server.time_to_first_token``): events
      are good when they fall in the bucket ``le == threshold``; ``threshold`` must be one
      of the bucket bounds (a value between bounds would be a guess).
    * A **counter** (``vllm:request_success_total``): every increase counts; increases of
      the series whose label takes one of the ``bad`` values are bad
      (``bad={"finished_reason": ["abort", "error"]}``).

    Increases are taken between consecutive samples of each series; a decrease is a counter
    reset (the new value counts from zero). A row covers one scrape interval and is
    labelled by its start, so per-minute scrapes give per-minute counts that
    :func:`alerts`, :func:`error_budget` and :func:`good_fraction` take directly.

    Parameters
    ----------
    metrics : polars or pandas DataFrame
        The canonical metrics table (Prometheus or OTLP).
    name : str
        The histogram family (without ``_bucket``) or the counter's name.
    threshold : float, optional
        Bucket bound for a histogram.
    bad : mapping of label name to values, optional
        For a counter: which series count bad events.
    by : str or list of str, optional
        Label columns to keep (``"pool"`` or ``"label.pool"``); the others are summed.
    first : {"skip", "count"}, default "skip"
        The first sample of a series has no previous one: "skip" leaves it out; "count"
        counts its whole value (right when the series starts with the process, such as a
        single scrape of a freshly started server), labelled by its ``start_time`` if set,
        else its own time.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        ``start_time`` (interval start, UTC), the ``by`` columns, ``good``, ``total``
        (Float64), sorted by group and time.

    Examples
    --------
    >>> from toolkit.ingest.prometheus import parse_exposition
    >>> text = "\\n".join([
    ...     "# TYPE ttft histogram",
    ...     'ttft_bucket{le="1.0"} 10 1763719200000', 'ttft_bucket{le="+Inf"} 12 1763719200000',
    ...     'ttft_bucket{le="1.0"} 40 1763719260000', 'ttft_bucket{le="+Inf"} 50 1763719260000',
    ... ])
    >>> metric_counts(parse_exposition(text), "ttft", threshold=1.0).select("good", "total").row(0)
    (30.0, 38.0)
    """
    function = caller() or "slo.metric_counts"
    frame: pl.DataFrame = metrics
    validate(frame, METRICS)
    if not name:
        raise reject("name", "be " + _NAME.words(), name)
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    keys = [_label_column(frame, k, "by", function) for k in keys]
    buckets = frame.filter(pl.col("name") == f"{name}_bucket")
    if buckets.height:
        if (
            threshold is None
            or isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
        ):
            raise reject(
                "threshold",
                f"be one of the bucket bounds of histogram {name!r}: "
                f"{sorted(set(buckets['le'].drop_nulls().to_list()))}",
                threshold,
            )
        bounds = set(buckets["le"].drop_nulls().to_list())
        if float(threshold) not in bounds or math.isinf(threshold):
            raise reject(
                "threshold",
                f"be one of the bucket bounds of histogram {name!r}: "
                f"{sorted(b for b in bounds if not math.isinf(b))} (a value between bounds "
                "would need a guess)",
                threshold,
            )
        rows = _increases(buckets.filter(pl.col("le").is_in([float(threshold), math.inf])), first)
        good_expr = pl.when(pl.col("le") == float(threshold)).then(pl.col("_inc")).otherwise(0.0)
        total_expr = pl.when(pl.col("le") == math.inf).then(pl.col("_inc")).otherwise(0.0)
    else:
        rows = frame.filter(pl.col("name") == name)
        if rows.height == 0:
            known = sorted({n.removesuffix("_bucket") for n in frame["name"].unique().to_list()})
            raise reject(
                "name",
                "name a histogram family or a counter of the metrics "
                f"(available: {preview(', '.join(known), 400)})",
                name,
            )
        if bad is None or not isinstance(bad, Mapping) or not bad:
            raise reject(
                "bad",
                f"map a label to the values that mark bad events for counter {name!r} "
                "(e.g. {'finished_reason': ['abort']})",
                bad,
            )
        condition = pl.lit(False)
        for label, values in bad.items():
            column = _label_column(rows, label, "bad", function)
            listed = [values] if isinstance(values, str) else list(values)
            condition = condition | pl.col(column).is_in(listed).fill_null(False)
        rows = _increases(rows, first)
        total_expr = pl.col("_inc")
        good_expr = pl.when(condition).then(0.0).otherwise(pl.col("_inc"))
    out = (
        rows.group_by(["_start", *keys])
        .agg(good_expr.sum().alias("good"), total_expr.sum().alias("total"))
        .rename({"_start": "start_time"})
        .select("start_time", *keys, "good", "total")
        .sort([*keys, "start_time"])
    )
    return _out(out, backend)
