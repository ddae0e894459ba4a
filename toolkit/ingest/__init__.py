"""Readers: exported files (and live sources) in, canonical tables out.

One module per family of formats, each turning its files into the tables of
:mod:`toolkit.schema` and doing nothing else: :mod:`~toolkit.ingest.otlp` (OTLP JSON,
JSON Lines, protobuf), :mod:`~toolkit.ingest.otlp_metrics`, :mod:`~toolkit.ingest.jaeger`,
:mod:`~toolkit.ingest.zipkin`, :mod:`~toolkit.ingest.sdk_dump`,
:mod:`~toolkit.ingest.logs`, :mod:`~toolkit.ingest.prometheus` (text exposition and
OpenMetrics), :mod:`~toolkit.ingest.gpu` (nvidia-smi, DCGM) and
:mod:`~toolkit.ingest.workloads` (request traces), :mod:`~toolkit.ingest.predictions` (model
prediction logs); live sources: :mod:`~toolkit.ingest.prometheus_api` (a Prometheus-compatible
HTTP API) and :mod:`~toolkit.ingest.loki` (Loki's query API); :mod:`~toolkit.ingest.backfill`
writes OpenMetrics for ``promtool tsdb create-blocks-from``. :mod:`~toolkit.ingest.detect` tells a
file's table and format from its content; :mod:`~toolkit.ingest.discover` turns a folder
into a :class:`~toolkit.ingest.discover.Catalog` of de-duplicated tables. The readers'
public functions are re-exported by :mod:`toolkit`; modules starting with ``_`` are their
shared internals.
"""

__all__ = [
    "backfill",
    "detect",
    "discover",
    "gpu",
    "jaeger",
    "logs",
    "loki",
    "otlp",
    "otlp_metrics",
    "predictions",
    "prometheus",
    "prometheus_api",
    "sdk_dump",
    "workloads",
    "zipkin",
]
