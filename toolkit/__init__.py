"""genai-sre-toolkit: the telemetry of LLM services as tidy dataframes.

Load OpenTelemetry traces, logs and metrics (and Jaeger, Zipkin, Prometheus, nvidia-smi and
workload-trace files) into the canonical tables of :mod:`toolkit.schema`, then audit SLOs,
bias, drift and GPU capacity with the analysis modules. ``import toolkit`` stays light:
shap, lime, aif360, matplotlib and jupyter are imported only by the functions that use them.
"""

from __future__ import annotations

from toolkit import (
    capacity,
    compliance,
    drift,
    errors,
    explain,
    fairness,
    overview,
    performance,
    promql,
    quality,
    schema,
    semconv,
    slo,
    traces,
    triage,
)
from toolkit.errors import LoadReport
from toolkit.ingest.backfill import write_openmetrics
from toolkit.ingest.discover import Catalog, Support, dimensions, discover
from toolkit.ingest.gpu import gpu_from_metrics, load_gpu, read_dcgm_counters, read_nvidia_smi_csv
from toolkit.ingest.jaeger import read_jaeger
from toolkit.ingest.logs import read_json_logs, read_text_logs
from toolkit.ingest.loki import read_loki
from toolkit.ingest.predictions import load_predictions, predictions_from_spans
from toolkit.ingest.prometheus import parse_exposition, read_prometheus
from toolkit.ingest.prometheus_api import read_prometheus_api
from toolkit.ingest.sdk_dump import read_sdk_dump
from toolkit.ingest.workloads import load_workload, read_servegen, workload_from_llm_calls
from toolkit.ingest.zipkin import read_zipkin
from toolkit.llm import llm_calls
from toolkit.loaders import (
    Loaded,
    load,
    load_logs,
    load_metrics,
    load_spans,
    read_parquet,
    scan_spans,
    to_parquet,
)
from toolkit.schema import GPU, LLM_CALLS, LOGS, METRICS, SPANS, WORKLOAD, validate

__version__ = "0.1.0"

__all__ = [
    "GPU",
    "LLM_CALLS",
    "LOGS",
    "METRICS",
    "SPANS",
    "WORKLOAD",
    "Catalog",
    "LoadReport",
    "Loaded",
    "Support",
    "__version__",
    "capacity",
    "compliance",
    "dimensions",
    "discover",
    "drift",
    "errors",
    "explain",
    "fairness",
    "gpu_from_metrics",
    "llm_calls",
    "load",
    "load_gpu",
    "load_logs",
    "load_metrics",
    "load_predictions",
    "load_spans",
    "load_workload",
    "overview",
    "parse_exposition",
    "performance",
    "predictions_from_spans",
    "promql",
    "quality",
    "read_dcgm_counters",
    "read_jaeger",
    "read_json_logs",
    "read_loki",
    "read_nvidia_smi_csv",
    "read_parquet",
    "read_prometheus",
    "read_prometheus_api",
    "read_sdk_dump",
    "read_servegen",
    "read_text_logs",
    "read_zipkin",
    "scan_spans",
    "schema",
    "semconv",
    "servegen_to_workload",
    "slo",
    "to_parquet",
    "traces",
    "triage",
    "validate",
    "workload_from_llm_calls",
    "write_openmetrics",
]


def __getattr__(name: str) -> object:
    """:func:`toolkit.synth.servegen_to_workload`, imported on first use: ``import toolkit``
    does not load the sample simulator."""
    if name == "servegen_to_workload":
        from toolkit.synth import servegen_to_workload

        return servegen_to_workload
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
