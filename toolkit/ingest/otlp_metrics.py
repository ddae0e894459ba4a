"""OTLP metrics (canonical batches) to the long metrics table.

Layout (shared with the Prometheus reader, so helpers work on both):

- gauge points: one ``gauge`` row; monotonic sums: ``counter``; non-monotonic sums
  (up-down counters): ``gauge``; ``temporality`` is ``cumulative`` or ``delta`` for sums
  and histograms;
- histograms: ``<name>_bucket`` rows holding the *cumulative* count up to each ``le``
  bound, the last at ``+inf``; ``<name>_count``, ``<name>_sum`` and, when recorded,
  ``<name>_min`` / ``<name>_max``;
- exponential histograms: the same, with the bounds of the exponential buckets
  (``base = 2 ** 2 ** -scale``; bucket ``i`` holds ``(base**i, base**(i+1)]``, negative
  buckets mirror it, the zero bucket ends at ``zeroThreshold``);
- summaries: ``<name>`` rows with ``label.quantile`` (the quantile as text, as Prometheus
  writes it), ``<name>_count``, ``<name>_sum``.

Values are Float64, as in Prometheus; integer points beyond 2**53 cannot be represented
exactly and are reported in a warning. Exemplars are not part of the table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from toolkit.ingest._attributes import ValueProblem, attributes_long, keyvalue_lists, pivot
from toolkit.ingest._frames import LoadContext
from toolkit.ingest.otlp import Batch

__all__ = ["exponential_bounds", "metrics_from_batch"]

_EXACT = 2**53
_NO_RECORDED_VALUE = 1
_TEMPORALITY = {1: "delta", 2: "cumulative"}


def exponential_bounds(scale: int, offset: int, n: int, *, negative: bool) -> list[float]:
    """Upper bounds of ``n`` exponential-histogram buckets starting at index ``offset``.

    Positive bucket ``i`` covers ``(base**i, base**(i+1)]``, so its upper bound is
    ``base**(i+1)``; negative bucket ``i`` covers ``[-base**(i+1), -base**i)``, upper
    bound ``-base**i``. Returned in the order of the buckets (increasing index).

    Examples
    --------
    >>> exponential_bounds(0, 0, 3, negative=False)
    [2.0, 4.0, 8.0]
    >>> exponential_bounds(1, -1, 2, negative=True)
    [-0.7071067811865476, -1.0]
    """
    exponent = 2.0**-scale
    if negative:
        return [-(2.0 ** ((offset + k) * exponent)) for k in range(n)]
    return [2.0 ** ((offset + k + 1) * exponent) for k in range(n)]


class _Rows:
    def __init__(self) -> None:
        self.time: list[int] = []
        self.start: list[int | None] = []
        self.name: list[str] = []
        self.type: list[str] = []
        self.unit: list[str | None] = []
        self.value: list[float | None] = []
        self.le: list[float | None] = []
        self.temporality: list[str | None] = []
        self.scope: list[str | None] = []
        self.resource: list[int] = []
        self.attrs: list[list[dict[str, Any]]] = []
        self.inexact = 0

    def add(
        self,
        ctx: dict[str, Any],
        point: dict[str, Any],
        name: str,
        mtype: str,
        value: float | None,
        *,
        le: float | None = None,
        attrs: list[dict[str, Any]] | None = None,
    ) -> None:
        self.time.append(ctx["time"])
        self.start.append(ctx["start"])
        self.name.append(name)
        self.type.append(mtype)
        self.unit.append(ctx["unit"])
        self.value.append(value)
        self.le.append(le)
        self.temporality.append(ctx["temporality"])
        self.scope.append(ctx["scope"])
        self.resource.append(ctx["resource"])
        self.attrs.append(point.get("attributes", []) if attrs is None else attrs)


def _int(text: Any) -> int:
    """An OTLP integer (decimal text in the canonical form). The fast reader passes any
    text: a non-integer raises ValueProblem, and the general reader then names it."""
    if text is None:
        return 0
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, str) and text.lstrip("-").isdigit() and text.isascii():
        return int(text)
    raise ValueProblem(f"{str(text)[:40]!r} is not a decimal integer")


def _count(text: Any) -> int:
    """A bucket count: a non-negative integer (negative ones go to the general reader)."""
    value = _int(text)
    if value < 0:
        raise ValueProblem(f"bucket count {value} is negative")
    return value


def _number_value(point: dict[str, Any], rows: _Rows) -> float | None:
    if _int(point.get("flags")) & _NO_RECORDED_VALUE:
        return None
    if point.get("asDouble") is not None:
        return float(point["asDouble"])
    if point.get("asInt") is not None:
        value = int(point["asInt"])
        if abs(value) > _EXACT:
            rows.inexact += 1
        return float(value)
    return None


def _histogram(rows: _Rows, ctx: dict[str, Any], point: dict[str, Any], name: str) -> str | None:
    counts = [_count(c) for c in point.get("bucketCounts") or []]
    bounds = [float(b) for b in point.get("explicitBounds") or []]
    if counts and len(counts) != len(bounds) + 1:
        return (
            f"histogram {name!r} has {len(counts)} bucketCounts for {len(bounds)} "
            "explicitBounds; expected one more count than bounds"
        )
    empty = _int(point.get("flags")) & _NO_RECORDED_VALUE
    running = 0
    for bound, count in zip([*bounds, math.inf], counts, strict=False):
        running += count
        rows.add(
            ctx, point, f"{name}_bucket", "histogram", None if empty else float(running), le=bound
        )
    _histogram_stats(rows, ctx, point, name, empty=bool(empty))
    return None


def _histogram_stats(
    rows: _Rows, ctx: dict[str, Any], point: dict[str, Any], name: str, *, empty: bool
) -> None:
    rows.add(
        ctx, point, f"{name}_count", "histogram", None if empty else float(_int(point.get("count")))
    )
    for stat in ("sum", "min", "max"):
        if point.get(stat) is not None:
            rows.add(
                ctx, point, f"{name}_{stat}", "histogram", None if empty else float(point[stat])
            )


def _exponential(rows: _Rows, ctx: dict[str, Any], point: dict[str, Any], name: str) -> str | None:
    scale = _int(point.get("scale"))
    empty = bool(_int(point.get("flags")) & _NO_RECORDED_VALUE)
    neg = point.get("negative") or {}
    pos = point.get("positive") or {}
    neg_counts = [_count(c) for c in neg.get("bucketCounts") or []]
    pos_counts = [_count(c) for c in pos.get("bucketCounts") or []]
    if not -10 <= scale <= 20:
        return f"exponential histogram {name!r} has scale {scale}; OTLP scales are -10 to 20"
    try:
        neg_bounds = exponential_bounds(
            scale, _int(neg.get("offset")), len(neg_counts), negative=True
        )
        pos_bounds = exponential_bounds(
            scale, _int(pos.get("offset")), len(pos_counts), negative=False
        )
    except OverflowError:
        return (
            f"exponential histogram {name!r}: its bucket offsets put the bounds beyond the "
            "range of a double"
        )
    buckets: list[tuple[float, int]] = list(zip(neg_bounds, neg_counts, strict=True))[::-1]
    buckets.append((float(point.get("zeroThreshold") or 0.0), _int(point.get("zeroCount"))))
    buckets.extend(zip(pos_bounds, pos_counts, strict=True))
    running = 0
    for bound, count in buckets:
        running += count
        rows.add(
            ctx, point, f"{name}_bucket", "histogram", None if empty else float(running), le=bound
        )
    total = _int(point.get("count"))
    rows.add(
        ctx, point, f"{name}_bucket", "histogram", None if empty else float(total), le=math.inf
    )
    _histogram_stats(rows, ctx, point, name, empty=empty)
    return None


def _summary(rows: _Rows, ctx: dict[str, Any], point: dict[str, Any], name: str) -> None:
    empty = bool(_int(point.get("flags")) & _NO_RECORDED_VALUE)
    attrs = point.get("attributes", [])
    for qv in point.get("quantileValues") or []:
        q = float(qv.get("quantile") or 0.0)
        label = {"key": "quantile", "value": {"stringValue": repr(q)}}
        rows.add(
            ctx,
            point,
            name,
            "summary",
            None if empty else float(qv.get("value") or 0.0),
            attrs=[*attrs, label],
        )
    rows.add(
        ctx, point, f"{name}_count", "summary", None if empty else float(_int(point.get("count")))
    )
    rows.add(
        ctx, point, f"{name}_sum", "summary", None if empty else float(point.get("sum") or 0.0)
    )


def _times(point: dict[str, Any]) -> tuple[int, int | None]:
    time = _int(point.get("timeUnixNano"))
    start = _int(point.get("startTimeUnixNano")) or None
    return time, start


def _points(rows: _Rows, metric: dict[str, Any], base: dict[str, Any]) -> str | None:
    name = metric.get("name") or ""
    if not name:
        return "a metric has no name"
    kinds = [
        k
        for k in ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
        if metric.get(k) is not None
    ]
    if len(kinds) != 1:
        return (
            f"metric {name!r} must have exactly one of gauge, sum, histogram, "
            f"exponentialHistogram or summary; found {kinds or 'none'}"
        )
    kind = kinds[0]
    body = metric[kind] or {}
    code = _int(body.get("aggregationTemporality"))
    if kind in ("sum", "histogram", "exponentialHistogram") and code not in (0, 1, 2):
        return (
            f"metric {name!r} has aggregationTemporality {code}; expected 0 (unspecified), "
            "1 (delta) or 2 (cumulative)"
        )
    temporality = _TEMPORALITY.get(code)
    for point in body.get("dataPoints") or []:
        time, start = _times(point)
        if time <= 0:
            return f"a data point of {name!r} has no timeUnixNano"
        ctx = {
            **base,
            "time": time,
            "start": start,
            "temporality": temporality
            if kind in ("sum", "histogram", "exponentialHistogram")
            else None,
        }
        if kind == "gauge":
            rows.add(ctx, point, name, "gauge", _number_value(point, rows))
        elif kind == "sum":
            mtype = "counter" if body.get("isMonotonic") else "gauge"
            rows.add(ctx, point, name, mtype, _number_value(point, rows))
        elif kind == "histogram":
            problem = _histogram(rows, ctx, point, name)
            if problem:
                return problem
        elif kind == "exponentialHistogram":
            problem = _exponential(rows, ctx, point, name)
            if problem:
                return problem
        else:
            _summary(rows, ctx, point, name)
    return None


def _time_series(values: Sequence[int | None]) -> pl.Series:
    arr = pa.array(values, pa.int64())
    return pl.Series(arr).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")


def metrics_from_batch(batch: Batch, ctx: LoadContext) -> pl.DataFrame:
    """The metrics table of one canonical batch (``resourceMetrics`` lists)."""
    rows = _Rows()
    resources: list[list[dict[str, Any]]] = []
    for top, resource_list in enumerate(batch.data.to_pylist()):
        line = int(batch.lines[top])
        where = {"record": line} if batch.by_record else {"line": line}
        for rm in resource_list or []:
            res_index = len(resources)
            resources.append((rm.get("resource") or {}).get("attributes") or [])
            for sm in rm.get("scopeMetrics") or []:
                scope = (sm.get("scope") or {}).get("name")
                for metric in sm.get("metrics") or []:
                    mark = len(rows.time)
                    base = {
                        "unit": metric.get("unit") or None,
                        "scope": scope,
                        "resource": res_index,
                    }
                    problem = _points(rows, metric, base)
                    if problem is not None:
                        _truncate(rows, mark)
                        ctx.problem(problem, line=where.get("line"), record=where.get("record"))
    if rows.inexact:
        ctx.notes.append(
            f"{rows.inexact} integer data point(s) exceed 2**53 and are not "
            "exactly representable as Float64 values"
        )
    n = len(rows.time)
    if n == 0:
        return pl.DataFrame()
    frame = pl.DataFrame(
        {
            "time": _time_series(rows.time),
            "name": pl.Series(rows.name, dtype=pl.String),
            "type": pl.Series(rows.type, dtype=pl.String),
            "unit": pl.Series(rows.unit, dtype=pl.String),
            "value": pl.Series(rows.value, dtype=pl.Float64),
            "le": pl.Series(rows.le, dtype=pl.Float64),
            "start_time": _time_series(rows.start),
            "temporality": pl.Series(rows.temporality, dtype=pl.String),
            "scope_name": pl.Series(rows.scope, dtype=pl.String),
        }
    )
    owners = np.asarray(rows.resource, dtype=np.int64)
    res_cols, promoted, dups = pivot(
        attributes_long(keyvalue_lists(resources)), len(resources), "resource."
    )
    labels, promoted2, dups2 = pivot(attributes_long(keyvalue_lists(rows.attrs)), n, "label.")
    ctx.promoted.update(promoted)
    ctx.promoted.update(promoted2)
    ctx.duplicates += dups + dups2
    idx = pa.array(owners)
    res_series = [pl.Series(k, v.to_arrow().take(idx)).cast(v.dtype) for k, v in res_cols.items()]
    service = next((s for s in res_series if s.name == "resource.service.name"), None)
    frame = frame.with_columns(
        (service.cast(pl.String) if service is not None else pl.lit(None, dtype=pl.String)).alias(
            "service_name"
        ),
        *res_series,
        *labels.values(),
    )
    return frame


def _truncate(rows: _Rows, mark: int) -> None:
    for attr in (
        "time",
        "start",
        "name",
        "type",
        "unit",
        "value",
        "le",
        "temporality",
        "scope",
        "resource",
        "attrs",
    ):
        del getattr(rows, attr)[mark:]
