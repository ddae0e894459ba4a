"""genai-sre-toolkit: the telemetry of LLM services as tidy dataframes.

Load OpenTelemetry traces, logs and metrics into the canonical tables of
:mod:`toolkit.schema`, then audit SLOs, bias, drift and GPU capacity with the
analysis modules. ``import toolkit`` stays light: shap, lime, aif360 and jupyter are
imported only by the functions that use them.
"""

from __future__ import annotations

from toolkit import errors, schema
from toolkit.errors import LoadReport
from toolkit.loaders import (
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
    "LoadReport",
    "__version__",
    "errors",
    "load_logs",
    "load_metrics",
    "load_spans",
    "read_parquet",
    "scan_spans",
    "schema",
    "to_parquet",
    "validate",
]
