"""Prometheus rules from SLO objects: recording and burn-rate alerting rules, sloth specs,
bucket alignment of latency thresholds, and promtool rule unit tests from real series.

The rules implement the same multiwindow, multi-burn-rate policy as :func:`toolkit.slo.alerts`
(by default the SRE Workbook's: page at 14.4x over 1 h confirmed by 5 min, page at 6x over
6 h / 30 min, ticket at 1x over 3 d / 6 h), on the metrics that measure each SLI:

* vLLM's histograms (``vllm:time_to_first_token_seconds``, ``vllm:e2e_request_latency_seconds``,
  ``vllm:inter_token_latency_seconds``) and its ``vllm:request_success_total`` counter (bad
  where ``finished_reason`` is ``abort`` or ``error``);
* the OpenTelemetry GenAI metrics as a Prometheus server names them after OTLP ingestion
  (:func:`prometheus_metric_name`: dots to underscores, the unit as a suffix, ``_total`` on
  counters), e.g. ``gen_ai.server.time_to_first_token`` becomes
  ``gen_ai_server_time_to_first_token_seconds``.

One recording rule per window holds the SLI's error ratio (``slo:sli_error:ratio_rate5m``,
labelled ``slo`` and ``service``, as sloth names them), computed with ``increase()``: a ratio
of increases is the ratio of rates, and on scrapes that cover the window Prometheus computes
it from exact counts, as the toolkit does. Each policy rule becomes one alerting rule (pyrra's
layout: one alert name per SLO, the rule told apart by ``severity``, ``long_window`` and
``short_window`` labels) that fires when the burn rate, ``ratio / (1 - target)``, exceeds the
rule's threshold over both windows, ``>`` as in :func:`toolkit.slo.alerts`. The recording rules
and the alerts of one SLO share a group, so an alert reads the ratios of the same evaluation.

:func:`rule_tests` writes a ``promtool test rules`` file from a stretch of real series: the
series as scraped, and at every evaluation the alerts :func:`toolkit.slo.alerts` fires on the
counts of the same series. ``promtool`` passing says that Prometheus's engine fires exactly
those alerts, minute for minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit._validation import (
    InstanceOf,
    OneOf,
    duration_ns,
    frame_in,
    reject,
    utc_time,
    validate_params,
)
from toolkit.errors import FormatError, ParameterError, ToolkitWarning, preview
from toolkit.slo._budget import WORKBOOK, AlertPolicy, BurnRateRule, alerts
from toolkit.slo._metrics import metric_counts
from toolkit.slo._openslo import SLO, load_slos

__all__ = [
    "OTEL_GENAI_BUCKETS",
    "VLLM_BUCKETS",
    "BucketAlignmentWarning",
    "RuleFiles",
    "bucket_alignment",
    "load_alert_policies",
    "parse_alert_policies",
    "prometheus_metric_name",
    "prometheus_rules",
    "promtool_command",
    "rule_tests",
    "sloth_spec",
    "write_rules",
]

Source = Literal["vllm", "otel-server", "otel-client"]
Misaligned = Literal["interpolate", "nearest", "raise"]
_SOURCE = OneOf("vllm", "otel-server", "otel-client")
_MISALIGNED = OneOf(
    "interpolate", "nearest", "raise", description="'interpolate', 'nearest' or 'raise'"
)
_NAME = InstanceOf(str, description="a metric name")

#: vLLM's fixed histogram buckets (vllm/v1/metrics/loggers.py), by family.
VLLM_BUCKETS: Mapping[str, tuple[float, ...]] = {
    "vllm:time_to_first_token_seconds": (
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
        10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
    ),
    "vllm:inter_token_latency_seconds": (
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
        10.0, 20.0, 40.0, 80.0,
    ),
    "vllm:time_per_output_token_seconds": (
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
        10.0, 20.0, 40.0, 80.0,
    ),
    "vllm:e2e_request_latency_seconds": (
        0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
        120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0,
    ),
    "vllm:request_queue_time_seconds": (
        0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
        120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0,
    ),
}  # fmt: skip

_DURATION_ADVICE = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)  # fmt: skip
_TTFT_ADVICE = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                5.0, 7.5, 10.0)  # fmt: skip
_TPOT_ADVICE = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)

#: The explicit bucket boundaries the OTel GenAI semantic conventions advise, by metric.
OTEL_GENAI_BUCKETS: Mapping[str, tuple[float, ...]] = {
    "gen_ai.client.operation.duration": _DURATION_ADVICE,
    "gen_ai.server.request.duration": _DURATION_ADVICE,
    "gen_ai.server.time_to_first_token": _TTFT_ADVICE,
    "gen_ai.client.operation.time_to_first_chunk": _TTFT_ADVICE,
    "gen_ai.server.time_per_output_token": _TPOT_ADVICE,
    "gen_ai.client.operation.time_per_output_chunk": _TPOT_ADVICE,
}

# The metric family that measures each SLI, per metric source, when an SLO names none.
_FAMILIES: Mapping[str, Mapping[str, str]] = {
    "vllm": {
        "availability": "vllm:request_success_total",
        "ttft_s": "vllm:time_to_first_token_seconds",
        "latency_s": "vllm:e2e_request_latency_seconds",
        "tpot_s": "vllm:inter_token_latency_seconds",
    },
    "otel-server": {
        "availability": "gen_ai.server.request.duration",
        "ttft_s": "gen_ai.server.time_to_first_token",
        "latency_s": "gen_ai.server.request.duration",
        "tpot_s": "gen_ai.server.time_per_output_token",
    },
    "otel-client": {
        "availability": "gen_ai.client.operation.duration",
        "ttft_s": "gen_ai.client.operation.time_to_first_chunk",
        "latency_s": "gen_ai.client.operation.duration",
        "tpot_s": "gen_ai.client.operation.time_per_output_chunk",
    },
}
_OTEL_UNITS = dict.fromkeys(OTEL_GENAI_BUCKETS, "s") | {"gen_ai.client.token.usage": "{token}"}
_BAD = {"finished_reason": ("abort", "error")}
_UNIT_WORDS = {
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "min": "minutes",
    "h": "hours",
    "d": "days",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "KBy": "kilobytes",
    "MBy": "megabytes",
    "GBy": "gigabytes",
    "%": "percent",
    "Hz": "hertz",
    "W": "watts",
    "J": "joules",
    "Cel": "celsius",
}
_PER_WORDS = {"s": "second", "m": "minute", "min": "minute", "h": "hour", "d": "day"}
_LABELS = re.compile(r"\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_DURATION = re.compile(r"^(?:\d+(?:ms|s|m|h|d|w|y))+$")
_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
       "y": 31_536_000_000}  # fmt: skip


class BucketAlignmentWarning(ToolkitWarning):
    """An SLO's latency threshold is not a bucket bound of the histogram that measures it.

    The good events can then only be interpolated between the bounds around the threshold;
    ``.alignment`` holds the row of :func:`bucket_alignment` (bounds, error bound, nearest).
    """

    def __init__(self, message: str, alignment: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.alignment = dict(alignment)


# --------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------


@validate_params(
    name=_NAME,
    kind=OneOf("histogram", "counter", "gauge", description="'histogram', 'counter' or 'gauge'"),
)
def prometheus_metric_name(
    name: str,
    *,
    kind: Literal["histogram", "counter", "gauge"] = "histogram",
    unit: str | None = None,
) -> str:
    """The name a Prometheus server gives an OTLP metric (its default translation).

    Prometheus's OTLP receiver (and the collector's Prometheus exporters) with the default
    ``UnderscoreEscapingWithSuffixes`` strategy: every character outside ``[a-zA-Z0-9_:]``
    becomes ``_`` (runs collapsed), the unit is appended as a word (``s`` -> ``_seconds``,
    ``By`` -> ``_bytes``, ``1/s`` -> ``_per_second``; ``{token}``-style annotations are
    dropped; ``1`` gives ``_ratio`` on gauges only) unless the name already ends with it,
    and counters get ``_total``. Names that are already Prometheus names (vLLM's) are
    returned as they are. Histograms keep the family name; the series are ``_bucket``,
    ``_count`` and ``_sum``.

    Parameters
    ----------
    name : str
        The OTel metric name (``gen_ai.server.time_to_first_token``).
    kind : {"histogram", "counter", "gauge"}, default "histogram"
    unit : str, optional
        The UCUM unit; None: the GenAI conventions' unit for GenAI metrics, else none.

    Returns
    -------
    str

    Examples
    --------
    >>> prometheus_metric_name("gen_ai.server.time_to_first_token")
    'gen_ai_server_time_to_first_token_seconds'
    >>> prometheus_metric_name("gen_ai.client.token.usage")
    'gen_ai_client_token_usage'
    >>> prometheus_metric_name("http.server.active_requests", kind="counter", unit="{request}")
    'http_server_active_requests_total'
    >>> prometheus_metric_name("vllm:e2e_request_latency_seconds")
    'vllm:e2e_request_latency_seconds'
    """
    if not name:
        raise reject("name", "be " + _NAME.words(), name)
    if re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name) and unit is None:
        return name
    if unit is None:
        unit = _OTEL_UNITS.get(name)
    out = re.sub(r"[^a-zA-Z0-9_:]+", "_", name).strip("_")
    out = re.sub(r"__+", "_", out)
    if out[:1].isdigit():
        out = f"_{out}"
    words: list[str] = []
    if unit:
        main, _, per = re.sub(r"\{[^}]*\}", "", unit).partition("/")
        if main == "1":
            main = "ratio" if kind == "gauge" and not per else ""
        main_word = _UNIT_WORDS.get(main, re.sub(r"[^a-zA-Z0-9]+", "_", main).strip("_"))
        if main_word:
            words.append(main_word)
        if per:
            per_word = _PER_WORDS.get(per, re.sub(r"[^a-zA-Z0-9]+", "_", per).strip("_"))
            if per_word:
                words.append(f"per_{per_word}")
    for word in words:
        if not out.endswith(f"_{word}"):
            out = f"{out}_{word}"
    if kind == "counter" and not out.endswith("_total"):
        out = f"{out}_total"
    return out


def _label_name(name: str) -> str:
    bare = name.removeprefix("label.")
    return re.sub(r"__+", "_", re.sub(r"[^a-zA-Z0-9_]", "_", bare))


def _slug(name: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-zA-Z0-9]+", "-", name)).strip("-").lower() or "slo"


def _alert_name(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    return "".join(w[:1].upper() + w[1:] for w in words) + "ErrorBudgetBurn"


def _le_values(bound: float) -> list[str]:
    """The spellings of a bucket bound: Python clients' ("10.0") and Go's ("10")."""
    if math.isinf(bound):
        return ["+Inf"]
    python = repr(float(bound))
    go = python[:-2] if python.endswith(".0") else python
    return sorted({python, go}, key=len)


def _le_matcher(bound: float) -> str:
    values = _le_values(bound)
    if len(values) == 1:
        return f'le="{values[0]}"'
    return 'le=~"' + "|".join(v.replace(".", "\\\\.") for v in values) + '"'


def _duration_ms(value: object, parameter: str, function: str) -> int:
    """Milliseconds of a duration in the toolkit's one grammar (Prometheus counts in ms)."""
    ns = duration_ns(value, parameter=parameter, function=function)
    if ns % 1_000_000:
        raise reject(
            parameter,
            "be a whole number of milliseconds (the finest unit of a Prometheus duration)",
            value,
            function=function,
        )
    return ns // 1_000_000


def _prom_text(value: object, parameter: str, function: str) -> str:
    """A duration as Prometheus duration text: as written when it is one ('1h', '90s'),
    else its shortest exact text ('1.5h' and 'PT90M' give '1h30m')."""
    if isinstance(value, str) and _DURATION.match(value):
        return value
    return _prom_duration(_duration_ms(value, parameter, function))


def _window(value: object, function: str) -> str:
    """A policy window as its shortest Prometheus text, so '90m' and '1.5h' record one
    series ('1h30m')."""
    return _prom_duration(_duration_ms(value, "policy", function))


def _prom_duration(ms: int) -> str:
    if ms == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        n, ms = divmod(ms, _MS[unit])
        if n:
            out.append(f"{n}{unit}")
    if ms:
        out.append(f"{ms}ms")
    return "".join(out)


# --------------------------------------------------------------------------------------
# SLIs as PromQL
# --------------------------------------------------------------------------------------


def _metric_type(metrics: pl.DataFrame | None, family: str) -> str | None:
    if metrics is None:
        return None
    if metrics.filter(pl.col("name") == f"{family}_bucket").height:
        return "histogram"
    found = metrics.filter(pl.col("name") == family)["type"].drop_nulls()
    return str(found[0]) if found.len() else None


def _family(s: Any, source: str, metrics: pl.DataFrame | None, function: str) -> tuple[str, str]:
    """(toolkit family name, kind) of the metric measuring an SLO."""
    if s.sli is None:
        raise reject(
            "slos",
            "hold SLOs with an SLI",
            got=f"{s.name!r} (it has none: an OpenSLO file whose sources are not of type toolkit)",
            function=function,
        )
    if s.budgeting_method != "Occurrences":
        raise reject(
            "slos",
            "hold Occurrences SLOs (burn-rate rules on event counts do not measure Timeslices)",
            got=f"{s.name!r} (it budgets Timeslices)",
            function=function,
        )
    family = s.metric or _FAMILIES[source].get(s.sli)
    if family is None:
        raise reject(
            "slos",
            "hold SLOs whose metric is known",
            got=f"{s.name!r} (it measures {s.sli!r} and names no metric family)",
            hint="Set SLO.metric.",
            function=function,
        )
    kind = _metric_type(metrics, family)
    if kind is None:
        known_histogram = family in VLLM_BUCKETS or family in OTEL_GENAI_BUCKETS
        if s.sli == "availability":
            kind = "histogram" if known_histogram else "counter"
        else:
            kind = "histogram"
    if s.sli != "availability" and kind != "histogram":
        raise reject(
            "slos",
            "hold latency SLOs measured by a histogram",
            got=f"{s.name!r} (it names {family!r}, a {kind})",
            function=function,
        )
    return family, kind


def _prom_family(family: str, kind: str) -> str:
    if kind == "counter":
        return prometheus_metric_name(family, kind="counter") if "." in family else family
    return prometheus_metric_name(family, kind="histogram")


def _selector(name: str, matchers: Sequence[str]) -> str:
    return f"{name}{{{','.join(matchers)}}}" if matchers else name


def _sum(expr: str, by: Sequence[str]) -> str:
    return f"sum by ({', '.join(by)}) ({expr})" if by else f"sum({expr})"


def _bounds_for(family: str, metrics: pl.DataFrame | None) -> tuple[list[float], str]:
    if metrics is not None:
        rows = metrics.filter(pl.col("name") == f"{family}_bucket")
        if rows.height:
            found = sorted(b for b in set(rows["le"].drop_nulls().to_list()) if math.isfinite(b))
            return found, "scrape"
    if family in VLLM_BUCKETS:
        return list(VLLM_BUCKETS[family]), "vLLM defaults"
    if family in OTEL_GENAI_BUCKETS:
        return list(OTEL_GENAI_BUCKETS[family]), "OTel GenAI advice"
    return [], "unknown"


class _Sli:
    """The PromQL of one SLO's error ratio, with ``@WINDOW@`` and ``@FN@`` placeholders."""

    def __init__(self, errors: str, total: str, metric: str) -> None:
        self.errors = errors
        self.total = total
        self.metric = metric

    @staticmethod
    def fill(text: str, window: str, fn: str) -> str:
        return text.replace("@WINDOW@", window).replace("@FN@", fn)

    def ratio(self, window: str, fn: str = "increase") -> str:
        errors = self.fill(self.errors, window, fn)
        total = self.fill(self.total, window, fn)
        return f"(\n  {errors}\n)\n/\n  {total}"


def _sli(
    s: Any,
    *,
    source: str,
    metrics: pl.DataFrame | None,
    by: Sequence[str],
    matchers: Sequence[str],
    bad: Mapping[str, Sequence[str]],
    misaligned: str,
    function: str,
) -> tuple[_Sli, dict[str, Any] | None]:
    family, kind = _family(s, source, metrics, function)
    name = _prom_family(family, kind)
    if s.sli == "availability":
        if kind == "counter":
            series = name
            bad_matchers = [
                f'{_label_name(k)}=~"{"|".join(re.escape(v) for v in vs)}"' for k, vs in bad.items()
            ]
        else:
            series = f"{name}_count"
            bad_matchers = ['error_type!=""']
        total = _sum("@FN@(" + _selector(series, matchers) + "[@WINDOW@])", by)
        errors = _sum("@FN@(" + _selector(series, [*matchers, *bad_matchers]) + "[@WINDOW@])", by)
        # no bad series in a group: 0 errors, not an absent ratio
        errors = f"({errors} or 0 * {total})"
        return _Sli(errors, total, name), None
    bounds, origin = _bounds_for(family, metrics)
    threshold = float(s.threshold)
    buckets = f"{name}_bucket"
    inf = 'le="+Inf"'
    total = _sum("@FN@(" + _selector(buckets, [*matchers, inf]) + "[@WINDOW@])", by)

    def bucket(b: float) -> str:
        return _sum("@FN@(" + _selector(buckets, [*matchers, _le_matcher(b)]) + "[@WINDOW@])", by)

    alignment = None
    if bounds and threshold not in bounds:
        alignment = _align_row(s, family, threshold, bounds, origin, metrics)
        if misaligned == "raise":
            raise reject(
                "slos",
                "hold thresholds that are bucket bounds of their histogram",
                got=f"threshold {threshold:g} in SLO {s.name!r}",
                hint=alignment["message"],
                function=function,
            )
        lower, upper = alignment["lower"], alignment["upper"]
        if misaligned == "nearest":
            good = bucket(alignment["nearest"])
        elif upper is None:
            good = bucket(lower)
        elif lower is None:
            good = f"{bucket(upper)} * {threshold / upper!r}"
        else:
            f = (threshold - lower) / (upper - lower)
            good = f"({bucket(lower)} * {1.0 - f!r} + {bucket(upper)} * {f!r})"
    else:
        good = bucket(threshold)
    errors = f"({total} - {good})" if s.op in ("lte", "lt") else good
    return _Sli(errors, total, name), alignment


# --------------------------------------------------------------------------------------
# Bucket alignment
# --------------------------------------------------------------------------------------


def _between(
    metrics: pl.DataFrame | None, family: str, lower: float | None, upper: float | None
) -> float | None:
    """Fraction of the histogram's requests between two bounds, from the scrape's counts."""
    if metrics is None or metrics.filter(pl.col("name") == f"{family}_bucket").height == 0:
        return None

    def good(b: float | None) -> tuple[float, float]:
        if b is None:
            any_bound = metrics.filter(pl.col("name") == f"{family}_bucket")["le"].drop_nulls()
            finite = min(float(v) for v in any_bound.to_list() if math.isfinite(v))
            counts = metric_counts(metrics, family, threshold=finite)
            return 0.0, float(counts["total"].sum())
        counts = metric_counts(metrics, family, threshold=b)
        return float(counts["good"].sum()), float(counts["total"].sum())

    low, total = good(lower)
    if upper is None:
        high = total
    else:
        high, total = good(upper)
    return None if total <= 0 else (high - low) / total


def _align_row(
    s: Any,
    family: str,
    threshold: float,
    bounds: list[float],
    origin: str,
    metrics: pl.DataFrame | None,
) -> dict[str, Any]:
    below = [b for b in bounds if b <= threshold]
    above = [b for b in bounds if b >= threshold]
    lower = below[-1] if below else None
    upper = above[0] if above else None
    candidates = [b for b in (lower, upper) if b is not None]
    nearest = min(candidates, key=lambda b: (abs(b - threshold), b))
    fraction = _between(metrics, family, lower, upper) if threshold not in bounds else 0.0
    aligned = threshold in bounds
    low = 0.0 if lower is None else lower
    high = math.inf if upper is None else upper
    span = f"between {low:g} and {high:g}"
    message = (
        f"SLO {s.name!r}: threshold {threshold:g} is a bucket bound of {family}"
        if aligned
        else f"SLO {s.name!r}: threshold {threshold:g} is not a bucket bound of {family} "
        f"({origin}: {', '.join(f'{b:g}' for b in bounds)}); it lies {span}, so the "
        "good events are interpolated and off by at most the requests in that bucket ("
        + ("unknown without the scrape" if fraction is None else f"{fraction:.2%} of them")
        + f"). The nearest bound is {nearest:g}: an objective at {nearest:g} is counted exactly."
    )
    return {
        "slo": s.name,
        "metric": family,
        "threshold": threshold,
        "aligned": aligned,
        "lower": lower,
        "upper": upper,
        "nearest": threshold if aligned else nearest,
        "error_bound": fraction,
        "bounds_from": origin,
        "message": message,
    }


_ALIGN_SCHEMA = {
    "slo": pl.String,
    "metric": pl.String,
    "threshold": pl.Float64,
    "aligned": pl.Boolean,
    "lower": pl.Float64,
    "upper": pl.Float64,
    "nearest": pl.Float64,
    "error_bound": pl.Float64,
    "bounds_from": pl.String,
    "message": pl.String,
}


def _check_slos(slos: object, function: str) -> list[Any]:
    if isinstance(slos, SLO):
        return [slos]
    if isinstance(slos, Mapping):
        slos = list(slos.values())
    if hasattr(slos, "slos") and isinstance(slos.slos, Mapping):  # ServiceObjectives
        slos = list(slos.slos.values())
    if (
        isinstance(slos, str)
        or not isinstance(slos, Sequence)
        or not slos
        or not all(isinstance(s, SLO) for s in slos)
    ):
        raise reject(
            "slos",
            "be a non-empty list of SLO objects (as slo.load_slos returns them)",
            slos,
            function=function,
        )
    names = [s.name for s in slos]
    if len(set(names)) != len(names):
        raise reject("slos", "hold SLOs with distinct names", names, function=function)
    return list(slos)


def _check_source(source: object, function: str) -> str:
    if not _SOURCE.accepts(source):
        raise reject("source", "be " + _SOURCE.words(), source, function=function)
    return str(source)


def _metrics(metrics: Any, function: str) -> pl.DataFrame | None:
    if metrics is None:
        return None
    frame = frame_in(metrics, parameter="metrics", function=function)
    missing = {"name", "le", "value", "time"} - set(frame.columns)
    if missing:
        raise reject(
            "metrics",
            "be the metrics table (columns name, le, value, time ...)",
            got=f"a frame without {', '.join(sorted(missing))}",
            function=function,
        )
    return frame


@validate_params(source=_SOURCE)
def bucket_alignment(slos: Any, metrics: Any = None, *, source: Source = "vllm") -> pl.DataFrame:
    """Whether each latency SLO's threshold is a bucket bound of the histogram measuring it.

    A histogram counts requests per bucket; between two bounds it cannot say how many
    requests were below a threshold. When an objective's threshold is not a bound, a rule
    (or ``histogram_quantile``) can only interpolate, and the answer may be off by up to
    the share of requests in the bucket around the threshold. Check this before anything
    else: the nearest bound is usually an objective as good, and is counted exactly.

    The bounds are read from the scrape (the ``le`` values of the family's ``_bucket``
    series in ``metrics``) when it holds the family, else vLLM's fixed buckets or the
    OTel GenAI conventions' advice.

    Parameters
    ----------
    slos : list of SLO
        As :func:`toolkit.slo.load_slos` returns them (availability SLOs are left out).
    metrics : polars or pandas DataFrame, optional
        The metrics table: the bounds, and the share of requests between them.
    source : {"vllm", "otel-server", "otel-client"}, default "vllm"
        Which metrics measure an SLO that names no ``metric``.

    Returns
    -------
    polars.DataFrame
        One row per latency SLO: ``slo``, ``metric``, ``threshold``, ``aligned``, ``lower``
        and ``upper`` (the bounds around the threshold, both the threshold when aligned;
        null below the first bound or above the last), ``nearest`` (the nearest bound;
        the threshold itself when aligned),
        ``error_bound`` (the fraction of the scraped requests between ``lower`` and
        ``upper``: the most the interpolated good fraction can be off; null without the
        scrape), ``bounds_from`` ("scrape", "vLLM defaults", "OTel GenAI advice") and
        ``message``.

    Examples
    --------
    >>> from toolkit import slo
    >>> ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=3.0)
    >>> bucket_alignment([ttft]).select("aligned", "lower", "upper", "nearest").row(0)
    (False, 2.5, 5.0, 2.5)
    """
    function = "slo.bucket_alignment"
    source = _check_source(source, function)  # type: ignore[assignment]
    listed = _check_slos(slos, function)
    table = _metrics(metrics, function)
    rows = []
    for s in listed:
        if s.sli in (None, "availability") or s.budgeting_method != "Occurrences":
            continue
        family, _ = _family(s, source, table, function)
        bounds, origin = _bounds_for(family, table)
        if not bounds:
            continue
        rows.append(_align_row(s, family, float(s.threshold), bounds, origin, table))
    return (
        pl.DataFrame(rows, schema=_ALIGN_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=_ALIGN_SCHEMA)
    )


# --------------------------------------------------------------------------------------
# Rule files
# --------------------------------------------------------------------------------------


class _Block(str):
    """A string dumped as a YAML literal block."""


def _dump(data: Any) -> str:
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: 20x faster

    class Dumper(base):  # type: ignore[misc, valid-type]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def block(dumper: yaml.SafeDumper, value: _Block) -> yaml.Node:
        return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")

    Dumper.add_representer(_Block, block)
    return str(yaml.dump(data, Dumper=Dumper, sort_keys=False, width=1_000_000, allow_unicode=True))


def _by_labels(by: object, function: str) -> list[str]:
    if by is None:
        return []
    listed = [by] if isinstance(by, str) else list(by) if isinstance(by, Sequence) else None
    if listed is None or not all(isinstance(b, str) and b for b in listed):
        raise reject("by", "be a label name or a list of them (e.g. 'pool')", by, function=function)
    return [_label_name(b) for b in listed]


def _matchers(selector: object, function: str) -> list[str]:
    if selector is None:
        return []
    if isinstance(selector, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in selector.items()
    ):
        return [f'{_label_name(k)}="{v}"' for k, v in selector.items()]
    raise reject(
        "selector",
        "map label names to values (e.g. {'job': 'vllm'})",
        selector,
        function=function,
    )


def _policy(policy: object, function: str) -> Any:
    if policy is None:
        return WORKBOOK
    if not isinstance(policy, AlertPolicy):
        raise reject(
            "policy",
            "be an AlertPolicy, a mapping of SLO name to AlertPolicy, or None",
            policy,
            function=function,
        )
    return policy


def _policies(policy: object, slos: Sequence[Any], function: str) -> dict[str, Any]:
    """The policy of each SLO: one for all, or per SLO name (WORKBOOK for the others)."""
    if isinstance(policy, Mapping):
        unknown = set(policy) - {n for s in slos for n in (s.name, s.name.split("/", 1)[0])}
        if unknown:
            raise reject(
                "policy",
                "map names of the SLOs to policies",
                got=f"{preview(sorted(unknown))} (they name none)",
                function=function,
            )
        return {
            s.name: _policy(policy.get(s.name, policy.get(s.name.split("/", 1)[0])), function)
            for s in slos
        }
    one = _policy(policy, function)
    return {s.name: one for s in slos}


def _text_option(value: object, name: str, parameter: str, function: str) -> str | None:
    if isinstance(value, Mapping):
        value = value.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise reject(
            parameter,
            "be a string or a mapping of SLO name to string",
            value,
            function=function,
        )
    return value


def _annotations(
    s: Any, rule: Any, policy: Any, by: Sequence[str], runbook: str | None, dashboard: str | None
) -> dict[str, str]:
    period_ms = _duration_ms(policy.period, "period", "AlertPolicy")
    spent = (
        rule.burn_rate * _duration_ms(rule.long_window, "long_window", "BurnRateRule") / period_ms
    )
    where = "".join(f" {b} {{{{ $labels.{b} }}}}" for b in by)
    out = {
        "summary": f"SLO {s.name}{where}: error budget burning {rule.burn_rate:g}x over "
        f"{rule.long_window} and {rule.short_window}",
        "description": f"{s.describe()}. Over the last {rule.long_window} (still over the last "
        f"{rule.short_window}) the error ratio is above {rule.burn_rate:g} times the budget "
        f"of {s.error_budget:.6g}: {spent:.3g} of the {policy.period} budget spent in "
        f"{rule.long_window}.",
    }
    if runbook is not None:
        out["runbook_url" if re.match(r"https?://", runbook) else "runbook"] = runbook
    if dashboard is not None:
        out["dashboard"] = dashboard
    return out


def _rules_model(
    slos: Any,
    *,
    policy: Any,
    metrics: Any,
    by: Any,
    selector: Any,
    bad: Any,
    source: Any,
    interval: str,
    for_: str | None,
    labels: Mapping[str, str] | None,
    runbook: Any,
    dashboard: Any,
    misaligned: Any,
    function: str,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """(rule file mapping, alignment rows, per-SLO alert specs)."""
    listed = _check_slos(slos, function)
    policies = _policies(policy, listed, function)
    source = _check_source(source, function)
    table = _metrics(metrics, function)
    keys = _by_labels(by, function)
    matchers = _matchers(selector, function)
    if not _MISALIGNED.accepts(misaligned):
        raise reject("misaligned", "be " + _MISALIGNED.words(), misaligned, function=function)
    bad_map = _BAD if bad is None else bad
    if not isinstance(bad_map, Mapping) or not bad_map:
        raise reject(
            "bad",
            "map a label to the values that mark failed requests "
            "(e.g. {'finished_reason': ['abort', 'error']})",
            bad,
            function=function,
        )
    bad_map = {k: [v] if isinstance(v, str) else list(v) for k, v in bad_map.items()}
    interval = _prom_text(interval, "interval", function)
    if for_ is not None:
        for_ = _prom_text(for_, "for_", function)
    extra = dict(labels or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
        raise reject("labels", "map label names to strings", labels, function=function)
    groups = []
    alignments = []
    specs = []
    for s in listed:
        policy = policies[s.name]
        windows: list[str] = []
        for rule in policy.rules:
            for w in (
                _window(rule.short_window, function),
                _window(rule.long_window, function),
            ):
                if w not in windows:
                    windows.append(w)
        windows.sort(key=lambda w: _duration_ms(w, "policy", function))
        sli, alignment = _sli(
            s,
            source=source,
            metrics=table,
            by=keys,
            matchers=matchers,
            bad=bad_map,
            misaligned=misaligned,
            function=function,
        )
        if alignment is not None:
            alignments.append(alignment)
        slo_labels = {"slo": s.name, **({"service": s.service} if s.service else {})}
        rules: list[dict[str, Any]] = [
            {
                "record": f"slo:sli_error:ratio_rate{w}",
                "expr": _Block(sli.ratio(w) + "\n"),
                "labels": dict(slo_labels),
            }
            for w in windows
        ]
        budget = 1.0 - s.target
        selector_text = ",".join(f'{k}="{v}"' for k, v in slo_labels.items())
        name = _alert_name(s.name)
        runbook_text = _text_option(runbook, s.name, "runbook", function)
        dashboard_text = _text_option(dashboard, s.name, "dashboard", function)
        alert_rules = []
        for rule in policy.rules:
            long_window = _window(rule.long_window, function)
            short_window = _window(rule.short_window, function)
            rule_labels = {
                **extra,
                **slo_labels,
                "severity": rule.severity,
                "long_window": long_window,
                "short_window": short_window,
            }
            annotations = _annotations(s, rule, policy, keys, runbook_text, dashboard_text)
            expr = (
                f"slo:sli_error:ratio_rate{long_window}{{{selector_text}}} / {budget!r}"
                f" > {float(rule.burn_rate)!r}\nand\n"
                f"slo:sli_error:ratio_rate{short_window}{{{selector_text}}} / {budget!r}"
                f" > {float(rule.burn_rate)!r}\n"
            )
            entry: dict[str, Any] = {"alert": name, "expr": _Block(expr)}
            if for_ is not None:
                entry["for"] = for_
            entry["labels"] = rule_labels
            entry["annotations"] = annotations
            rules.append(entry)
            alert_rules.append((rule, rule_labels, annotations))
        groups.append({"name": f"slo-{_slug(s.name)}", "interval": interval, "rules": rules})
        specs.append({"slo": s, "alert": name, "rules": alert_rules, "sli": sli, "policy": policy})
    return {"groups": groups}, alignments, specs


def _header(alignments: list[dict[str, Any]], what: str) -> str:
    lines = [f"# {what} written by genai-sre-toolkit (toolkit.slo)."]
    for a in alignments:
        lines.append("# WARNING " + a["message"])
    return "\n".join(lines) + "\n"


def _warn(alignments: list[dict[str, Any]]) -> None:
    for a in alignments:
        warnings.warn(BucketAlignmentWarning(a["message"], a), stacklevel=3)


@validate_params(source=_SOURCE, misaligned=_MISALIGNED)
def prometheus_rules(
    slos: Any,
    *,
    policy: Any = None,
    metrics: Any = None,
    by: str | Sequence[str] | None = None,
    selector: Mapping[str, str] | None = None,
    bad: Mapping[str, Sequence[str]] | None = None,
    source: Source = "vllm",
    interval: str = "1m",
    for_: str | None = None,
    labels: Mapping[str, str] | None = None,
    runbook: str | Mapping[str, str] | None = None,
    dashboard: str | Mapping[str, str] | None = None,
    misaligned: Misaligned = "interpolate",
) -> str:
    """The Prometheus rule file (YAML) of the given SLOs: error ratios and burn-rate alerts.

    One group per SLO, evaluated every ``interval``: a recording rule
    ``slo:sli_error:ratio_rate<window>`` per window of the policy (the SLI's error ratio,
    labelled ``slo`` and ``service``), then one alerting rule per policy rule, named after
    the SLO (``TtftErrorBudgetBurn``), that fires when ``ratio / (1 - target)`` exceeds the
    rule's burn rate over both its windows, with labels ``severity``, ``slo``, ``service``,
    ``long_window``, ``short_window`` and the ``by`` labels, and annotations ``summary``,
    ``description``, ``runbook_url`` (or ``runbook``) and ``dashboard``. Without ``for_``,
    the alerts fire at the first evaluation that breaches, as :func:`toolkit.slo.alerts`.

    A latency threshold that is not a bucket bound of its histogram is reported first, by a
    :class:`BucketAlignmentWarning` and a comment at the top of the file
    (:func:`bucket_alignment`), and then interpolated between the bounds around it (or see
    ``misaligned``).

    Parameters
    ----------
    slos : list of SLO
        As :func:`toolkit.slo.load_slos` returns them (or a ``ServiceObjectives``).
    policy : AlertPolicy or mapping of SLO name to AlertPolicy, optional
        None: :data:`toolkit.slo.WORKBOOK`, the policy :func:`toolkit.slo.alerts` uses (also
        for SLOs a mapping leaves out, e.g. :func:`load_alert_policies` of an OpenSLO file).
    metrics : polars or pandas DataFrame, optional
        A scrape of the metrics: histogram bounds, metric types.
    by : str or list of str, optional
        Labels to evaluate each group of on its own (``"pool"``); None: one SLI for all.
    selector : mapping, optional
        Label matchers added to every series (``{"job": "vllm"}``).
    bad : mapping of label to values, optional
        Which series of an availability counter count failures; default
        ``{"finished_reason": ["abort", "error"]}`` (vLLM). An availability SLO measured by
        an OTel histogram counts ``error_type`` set as failures.
    source : {"vllm", "otel-server", "otel-client"}, default "vllm"
        The metrics of SLOs that name no ``metric``: vLLM's, or the OTel GenAI server or
        client metrics under their Prometheus names (:func:`prometheus_metric_name`).
    interval : str, default "1m"
        Evaluation interval of the groups.
    for_ : str, optional
        Prometheus ``for:`` of every alert ("2m"): how long a breach must last to fire.
    labels : mapping, optional
        Labels added to every alert (``{"team": "llm-platform"}``).
    runbook, dashboard : str or mapping of SLO name to str, optional
        The runbook step or URL and the dashboard link of the alerts (may use
        ``{{ $labels.pool }}``).
    misaligned : {"interpolate", "nearest", "raise"}, default "interpolate"
        A threshold between bucket bounds: interpolate linearly between them, use the
        nearest bound, or raise.

    Returns
    -------
    str
        The rule file's YAML text.

    Examples
    --------
    >>> from toolkit import slo
    >>> ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=2.5)
    >>> text = prometheus_rules([ttft], by="pool")
    >>> [line.strip() for line in text.splitlines() if "record:" in line][:2]
    ['- record: slo:sli_error:ratio_rate5m', '- record: slo:sli_error:ratio_rate30m']
    >>> print(text[text.index("- alert"):].split("labels")[0])  # doctest: +NORMALIZE_WHITESPACE
    - alert: TtftErrorBudgetBurn
      expr: |
        slo:sli_error:ratio_rate1h{slo="ttft"} / 0.010000000000000009 > 14.4
        and
        slo:sli_error:ratio_rate5m{slo="ttft"} / 0.010000000000000009 > 14.4
    <BLANKLINE>
    """
    function = "slo.prometheus_rules"
    model, alignments, _ = _rules_model(
        slos,
        policy=policy,
        metrics=metrics,
        by=by,
        selector=selector,
        bad=bad,
        source=source,
        interval=interval,
        for_=for_,
        labels=labels,
        runbook=runbook,
        dashboard=dashboard,
        misaligned=misaligned,
        function=function,
    )
    _warn(alignments)
    return _header(alignments, "Prometheus rules") + _dump(model)


def promtool_command(path: str | os.PathLike[str], *, test: bool = False) -> str:
    """The command that checks a rule file (or runs a rule unit test file) with promtool.

    Examples
    --------
    >>> promtool_command("slo-rules.yml")
    'promtool check rules slo-rules.yml'
    >>> promtool_command("slo-rules.test.yml", test=True)
    'promtool test rules slo-rules.test.yml'
    """
    import shlex

    return f"promtool {'test' if test else 'check'} rules {shlex.quote(os.fspath(path))}"


@dataclass(frozen=True)
class RuleFiles:
    """The files :func:`write_rules` wrote, the alignment of their thresholds, the check.

    Attributes
    ----------
    rules, sloth : pathlib.Path
        The Prometheus rule file and the sloth spec.
    alignment : polars.DataFrame
        :func:`bucket_alignment` of the SLOs (read it first: misaligned thresholds are
        interpolated).
    command : str
        The ``promtool check rules`` command for ``rules``.
    """

    rules: Path
    sloth: Path
    alignment: pl.DataFrame
    command: str


@validate_params(
    source=_SOURCE,
    folder=[InstanceOf(str, os.PathLike, description="a path"), None],
    name=InstanceOf(str, description="a file stem such as 'slo-rules'"),
)
def write_rules(
    slos: Any,
    folder: str | os.PathLike[str] | None = None,
    *,
    metrics: Any = None,
    by: str | Sequence[str] | None = None,
    policy: Any = None,
    source: Source = "vllm",
    runbook: str | Mapping[str, str] | None = None,
    dashboard: str | Mapping[str, str] | None = None,
    name: str = "slo-rules",
) -> RuleFiles:
    """Write the Prometheus rules and the sloth spec of the SLOs into a folder.

    ``<name>.yml`` (:func:`prometheus_rules`) and ``<name>.sloth.yml`` (:func:`sloth_spec`).
    Thresholds that are not bucket bounds are reported in ``alignment`` (and at the top of
    the files) rather than warned about.

    Parameters
    ----------
    slos : list of SLO, or ServiceObjectives
    folder : path, optional
        None: the folder of the report being written (``genai-sre report --out``, from the
        ``GENAI_SRE_REPORT_DIR`` variable the report runner sets), else the working directory.
    metrics, by, policy, source, runbook, dashboard
        As in :func:`prometheus_rules`.
    name : str, default "slo-rules"
        The files' stem.

    Returns
    -------
    RuleFiles

    Examples
    --------
    >>> import tempfile
    >>> from toolkit import slo
    >>> ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=2.5)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = write_rules([ttft], folder)
    ...     print(files.rules.name, files.sloth.name, files.command.split()[:3])
    slo-rules.yml slo-rules.sloth.yml ['promtool', 'check', 'rules']
    """
    function = "slo.write_rules"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise reject("name", "be a file stem such as 'slo-rules'", name, function=function)
    if folder is None:
        folder = os.environ.get("GENAI_SRE_REPORT_DIR") or os.getcwd()
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "metrics": metrics,
        "by": by,
        "source": source,
        "runbook": runbook,
        "dashboard": dashboard,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BucketAlignmentWarning)
        rules = prometheus_rules(slos, policy=policy, **options)
        sloth = sloth_spec(slos, **options)
    alignment = bucket_alignment(slos, metrics, source=source)
    rules_path = target / f"{name}.yml"
    sloth_path = target / f"{name}.sloth.yml"
    rules_path.write_text(rules, encoding="utf-8")
    sloth_path.write_text(sloth, encoding="utf-8")
    return RuleFiles(rules_path, sloth_path, alignment, promtool_command(rules_path))


# --------------------------------------------------------------------------------------
# OpenSLO alert policies
# --------------------------------------------------------------------------------------


def _fail(where: str | None, record: int, column: str, problem: str) -> FormatError:
    return FormatError(problem, path=where, record=record, column=column)


def _condition_rule(spec: Any, where: str | None, record: int, at: str) -> BurnRateRule:
    if not isinstance(spec, Mapping):
        raise _fail(where, record, at, f"expected a mapping; got {preview(spec)}")
    condition = spec.get("condition")
    kind = condition.get("kind") if isinstance(condition, Mapping) else None
    if not isinstance(condition, Mapping) or kind != "burnrate":
        raise _fail(
            where,
            record,
            f"{at}.condition.kind",
            "expected a condition of kind 'burnrate' (the kind a burn-rate rule implements); "
            f"got {preview(kind)}",
        )
    op = condition.get("op", "gt")
    if op not in ("gt", "gte"):
        raise _fail(
            where,
            record,
            f"{at}.condition.op",
            "expected 'gt' or 'gte' (a burn-rate alert fires above its threshold); "
            f"got {preview(op)}",
        )
    threshold = condition.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise _fail(
            where,
            record,
            f"{at}.condition.threshold",
            f"expected a positive number; got {preview(threshold)}",
        )
    long_window = condition.get("lookbackWindow")
    if not isinstance(long_window, str) or not _DURATION.match(long_window):
        raise _fail(
            where,
            record,
            f"{at}.condition.lookbackWindow",
            f"expected a duration such as '1h'; got {preview(long_window)}",
        )
    short_window = condition.get("alertAfter")
    if short_window is None:  # the SRE Workbook's short window: 1/12 of the long one
        short_window = _prom_duration(_duration_ms(long_window, "lookbackWindow", "") // 12)
    elif not isinstance(short_window, str) or not _DURATION.match(short_window):
        raise _fail(
            where,
            record,
            f"{at}.condition.alertAfter",
            f"expected a duration such as '5m'; got {preview(short_window)}",
        )
    severity = spec.get("severity") or "page"
    try:
        return BurnRateRule(str(severity), long_window, short_window, float(threshold))
    except ParameterError as exc:
        raise _fail(where, record, f"{at}.condition", str(exc)) from None


def _named(documents: list[Any], kind: str) -> dict[str, tuple[int, Any]]:
    out = {}
    for number, d in enumerate(documents, start=1):
        if isinstance(d, Mapping) and d.get("kind") == kind:
            name = (d.get("metadata") or {}).get("name")
            if isinstance(name, str):
                out[name] = (number, d)
    return out


def _policy_rules(
    doc: Any,
    number: int,
    at: str,
    conditions: Mapping[str, tuple[int, Any]],
    where: str | None,
) -> list[BurnRateRule]:
    spec = doc.get("spec") if isinstance(doc, Mapping) else None
    listed = spec.get("conditions") if isinstance(spec, Mapping) else None
    if not isinstance(listed, list) or not listed:
        raise _fail(
            where,
            number,
            f"{at}spec.conditions",
            f"expected a non-empty list; got {preview(listed)}",
        )
    out = []
    for index, item in enumerate(listed):
        column = f"{at}spec.conditions[{index}]"
        if isinstance(item, Mapping) and "conditionRef" in item:
            ref = item["conditionRef"]
            if ref not in conditions:
                raise _fail(
                    where,
                    number,
                    f"{column}.conditionRef",
                    f"no kind: AlertCondition document named {preview(ref)} (found: "
                    f"{preview(', '.join(conditions) or 'none')})",
                )
            ref_number, ref_doc = conditions[ref]
            out.append(_condition_rule(ref_doc.get("spec"), where, ref_number, "spec"))
        elif isinstance(item, Mapping):
            out.append(_condition_rule(item.get("spec"), where, number, f"{column}.spec"))
        else:
            raise _fail(
                where,
                number,
                column,
                f"expected a conditionRef or an inline AlertCondition; got {preview(item)}",
            )
    return out


def parse_alert_policies(
    text: str, *, path: str | os.PathLike[str] | None = None
) -> dict[str, AlertPolicy]:
    """The OpenSLO v1 alert policies of each SLO, as burn-rate policies.

    ``kind: SLO`` documents name their policies in ``spec.alertPolicies`` (by name, as
    ``alertPolicyRef``, or inline); ``kind: AlertPolicy`` documents list ``conditions``
    (``conditionRef`` to a ``kind: AlertCondition`` document, or inline). Each burn-rate
    condition becomes a :class:`~toolkit.slo.BurnRateRule`: its ``severity``, the
    ``lookbackWindow`` as the long window, ``alertAfter`` as the short window that confirms
    the burn still goes on (default a twelfth of the long one, as the SRE Workbook's 1h/5m,
    6h/30m and 3d/6h) and ``threshold`` as the burn rate (``op`` gt or gte: an alert fires
    above it). The policy's period is the SLO's time window.

    Parameters
    ----------
    text : str
        OpenSLO v1 YAML.
    path : path, optional
        For error messages.

    Returns
    -------
    dict of str to AlertPolicy
        Keyed by the SLO document's ``metadata.name``; SLOs without alert policies are left
        out (:func:`prometheus_rules` gives them :data:`~toolkit.slo.WORKBOOK`).

    Examples
    --------
    >>> text = '''
    ... apiVersion: openslo/v1
    ... kind: AlertCondition
    ... metadata: {name: fast-burn}
    ... spec:
    ...   severity: page
    ...   condition: {kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 5m}
    ... ---
    ... apiVersion: openslo/v1
    ... kind: AlertPolicy
    ... metadata: {name: paging}
    ... spec:
    ...   conditions: [{conditionRef: fast-burn}]
    ... ---
    ... apiVersion: openslo/v1
    ... kind: SLO
    ... metadata: {name: ttft}
    ... spec:
    ...   timeWindow: [{duration: 28d, isRolling: true}]
    ...   alertPolicies: [paging]
    ... '''
    >>> [(r.severity, r.long_window, r.short_window, r.burn_rate)
    ...  for r in parse_alert_policies(text)["ttft"].rules]
    [('page', '1h', '5m', 14.4)]
    """
    import yaml

    where = None if path is None else os.fspath(path)
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(f"not valid YAML: {problem}", path=where, line=line) from None
    conditions = _named(documents, "AlertCondition")
    policies = _named(documents, "AlertPolicy")
    found: dict[str, AlertPolicy] = {}
    for number, doc in enumerate(documents, start=1):
        if not isinstance(doc, Mapping) or doc.get("kind") != "SLO":
            continue
        spec = doc.get("spec") or {}
        listed = spec.get("alertPolicies") if isinstance(spec, Mapping) else None
        if not listed:
            continue
        if not isinstance(listed, list):
            raise _fail(
                where, number, "spec.alertPolicies", f"expected a list; got {preview(listed)}"
            )
        rules: list[BurnRateRule] = []
        for index, item in enumerate(listed):
            column = f"spec.alertPolicies[{index}]"
            ref = item if isinstance(item, str) else None
            if isinstance(item, Mapping) and "alertPolicyRef" in item:
                ref = item["alertPolicyRef"]
            if ref is not None:
                if ref not in policies:
                    raise _fail(
                        where,
                        number,
                        column,
                        f"no kind: AlertPolicy document named {preview(ref)} (found: "
                        f"{preview(', '.join(policies) or 'none')})",
                    )
                ref_number, ref_doc = policies[ref]
                rules.extend(_policy_rules(ref_doc, ref_number, "", conditions, where))
            elif isinstance(item, Mapping) and item.get("kind") == "AlertPolicy":
                rules.extend(_policy_rules(item, number, f"{column}.", conditions, where))
            else:
                raise _fail(
                    where,
                    number,
                    column,
                    "expected a policy name, an alertPolicyRef or an inline AlertPolicy; "
                    f"got {preview(item)}",
                )
        windows = spec.get("timeWindow") or [{}]
        first = windows[0] if isinstance(windows, list) and windows else {}
        duration = first.get("duration") if isinstance(first, Mapping) else None
        fixed = isinstance(duration, str) and re.fullmatch(r"\d+[mhdw]", duration) is not None
        name = (doc.get("metadata") or {}).get("name")
        try:
            found[str(name)] = AlertPolicy(tuple(rules), period=str(duration) if fixed else "30d")
        except ParameterError as exc:
            raise _fail(where, number, "spec.alertPolicies", str(exc)) from None
    return found


@validate_params(path=InstanceOf(str, os.PathLike, description="a path to a YAML file"))
def load_alert_policies(path: str | os.PathLike[str]) -> dict[str, AlertPolicy]:
    """:func:`parse_alert_policies` of an OpenSLO v1 YAML file.

    Examples
    --------
    >>> from importlib.resources import files
    >>> load_alert_policies(str(files("toolkit") / "data" / "slo" / "llm_service.yaml"))
    {}
    """
    file = Path(path)
    if not file.is_file():
        raise reject("path", "name a YAML file", got=f"{preview(os.fspath(path))} (not a file)")
    return parse_alert_policies(file.read_text(encoding="utf-8"), path=file)


# --------------------------------------------------------------------------------------
# sloth
# --------------------------------------------------------------------------------------


@validate_params(
    source=_SOURCE,
    misaligned=_MISALIGNED,
    service=[InstanceOf(str, description="a non-empty string"), None],
)
def sloth_spec(
    slos: Any,
    *,
    metrics: Any = None,
    by: str | Sequence[str] | None = None,
    selector: Mapping[str, str] | None = None,
    bad: Mapping[str, Sequence[str]] | None = None,
    source: Source = "vllm",
    service: str | None = None,
    labels: Mapping[str, str] | None = None,
    runbook: str | Mapping[str, str] | None = None,
    dashboard: str | Mapping[str, str] | None = None,
    kubernetes: bool = False,
    misaligned: Misaligned = "interpolate",
) -> str:
    """The sloth SLO spec (``prometheus/v1``) of the given SLOs, for teams that use sloth.

    One document per service (sloth's unit), each SLO with its ``objective`` (percent),
    ``sli.events`` (``error_query`` and ``total_query`` with sloth's ``{{.window}}``
    placeholder, the same series as :func:`prometheus_rules`) and ``alerting`` (name,
    labels, annotations, ``page_alert`` and ``ticket_alert``). sloth applies its own alert
    windows (for 30 days: page 14.4x 1h/5m and 6x 6h/30m, ticket 3x 1d/2h and 1x 3d/6h), so
    its tickets may fire where :func:`toolkit.slo.alerts` does not: the rule file of
    :func:`prometheus_rules` is the one that matches the notebook.

    Parameters
    ----------
    slos : list of SLO
    metrics, by, selector, bad, source, misaligned
        As in :func:`prometheus_rules`.
    service : str, optional
        sloth's ``service`` for SLOs without one (default "llm-service").
    labels : mapping, optional
        sloth's top-level ``labels`` (added to every rule).
    runbook, dashboard : str or mapping of SLO name to str, optional
        Alert annotations ``runbook_url``/``runbook`` and ``dashboard``.
    kubernetes : bool, default False
        Write the ``sloth.slok.dev/v1`` ``PrometheusServiceLevel`` resource (sloth's
        Kubernetes controller) instead of the plain ``prometheus/v1`` spec.

    Returns
    -------
    str
        YAML, documents separated by ``---``.

    Examples
    --------
    >>> from toolkit import slo
    >>> ttft = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=2.5, service="llm-gateway")
    >>> print(sloth_spec([ttft]).split("sli:")[0])  # doctest: +NORMALIZE_WHITESPACE
    # sloth SLO spec written by genai-sre-toolkit (toolkit.slo).
    version: prometheus/v1
    service: llm-gateway
    slos:
    - name: ttft
      objective: 99.0
      description: 99% of events with ttft_s <= 2.5 over a rolling 30d
    <BLANKLINE>
    """
    function = "slo.sloth_spec"
    listed = _check_slos(slos, function)
    source = _check_source(source, function)  # type: ignore[assignment]
    table = _metrics(metrics, function)
    keys = _by_labels(by, function)
    matchers = _matchers(selector, function)
    if not _MISALIGNED.accepts(misaligned):
        raise reject("misaligned", "be " + _MISALIGNED.words(), misaligned, function=function)
    bad_map = {k: [v] if isinstance(v, str) else list(v) for k, v in (bad or _BAD).items()}
    if service == "":
        raise reject("service", "be a non-empty string or None", service, function=function)
    services: dict[str, list[dict[str, Any]]] = {}
    alignments = []
    for s in listed:
        sli, alignment = _sli(
            s,
            source=source,
            metrics=table,
            by=keys,
            matchers=matchers,
            bad=bad_map,
            misaligned=misaligned,
            function=function,
        )
        if alignment is not None:
            alignments.append(alignment)
        annotations = {"summary": f"SLO {s.name}: error budget burning too fast"}
        runbook_text = _text_option(runbook, s.name, "runbook", function)
        dashboard_text = _text_option(dashboard, s.name, "dashboard", function)
        if runbook_text is not None:
            key = "runbook_url" if re.match(r"https?://", runbook_text) else "runbook"
            annotations[key] = runbook_text
        if dashboard_text is not None:
            annotations["dashboard"] = dashboard_text
        entry = {
            "name": _slug(s.name),
            "objective": round(s.target * 100.0, 10),
            "description": s.describe(),
            "sli": {
                "events": {
                    "error_query": _Block(sli.fill(sli.errors, "{{.window}}", "rate") + "\n"),
                    "total_query": _Block(sli.fill(sli.total, "{{.window}}", "rate") + "\n"),
                }
            },
            "alerting": {
                "name": _alert_name(s.name),
                "labels": {"slo": s.name},
                "annotations": annotations,
                "page_alert": {"labels": {"severity": "page"}},
                "ticket_alert": {"labels": {"severity": "ticket"}},
            },
        }
        services.setdefault(s.service or service or "llm-service", []).append(entry)
    _warn(alignments)
    documents = []
    for name, entries in services.items():
        body: dict[str, Any] = {"service": name}
        if labels:
            body["labels"] = dict(labels)
        body["slos"] = entries
        if kubernetes:
            documents.append(
                {
                    "apiVersion": "sloth.slok.dev/v1",
                    "kind": "PrometheusServiceLevel",
                    "metadata": {"name": _slug(name)},
                    "spec": body,
                }
            )
        else:
            documents.append({"version": "prometheus/v1", **body})
    header = _header(alignments, "sloth SLO spec")
    return header + "---\n".join(_dump(d) for d in documents)


# --------------------------------------------------------------------------------------
# promtool rule unit tests
# --------------------------------------------------------------------------------------


def _instant(value: object, parameter: str, function: str) -> dt.datetime | None:
    if value is None:
        return None
    return utc_time(value, parameter=parameter, function=function)


def _render(text: str, labels: Mapping[str, str], parameter: str, function: str) -> str:
    out = _LABELS.sub(lambda m: labels.get(m.group(1), ""), text)
    if "{{" in out:
        raise reject(
            parameter,
            "template only {{ $labels.name }} for a rule test",
            text,
            function=function,
        )
    return out


def _series_values(values: list[float | None]) -> str:
    """promtool's expanding notation: runs of equal steps as ``a+bxn``, gaps as ``_``."""
    out: list[str] = []
    i = 0
    n = len(values)

    def num(v: float) -> str:
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)

    while i < n:
        v = values[i]
        if v is None:
            j = i
            while j + 1 < n and values[j + 1] is None:
                j += 1
            out.append("_" if j == i else f"_x{j - i + 1}")
            i = j + 1
            continue
        j = i + 1
        step = None
        while j < n and values[j] is not None:
            d = values[j] - v if step is None else None  # type: ignore[operator]
            if step is None:
                step = d
            elif values[j] - values[j - 1] != step:  # type: ignore[operator]
                break
            j += 1
        run = j - i - 1
        if run >= 2 and step is not None:
            sign = "+" if step >= 0 else "-"
            out.append(f"{num(v)}{sign}{num(abs(step))}x{run}")
            i = j
        else:
            out.append(num(v))
            i += 1
    return " ".join(out)


def _stretch_group(
    specs: list[dict[str, Any]],
    table: pl.DataFrame,
    start_at: dt.datetime | None,
    end_at: dt.datetime | None,
    *,
    keys: list[str],
    bad_map: Mapping[str, list[str]],
    source: str,
    step_ns: int,
    for_ns: int,
    function: str,
) -> dict[str, Any]:
    """One promtool test group: the stretch's series (rebased) and the expected alerts."""
    if start_at is not None:
        table = table.filter(pl.col("time") >= start_at)
    if end_at is not None:
        table = table.filter(pl.col("time") <= end_at)
    by_columns = [f"label.{k}" for k in keys]
    wanted: list[pl.DataFrame] = []
    counted: dict[str, pl.DataFrame] = {}
    for spec in specs:
        s = spec["slo"]
        family, kind = _family(s, source, table, function)
        if s.sli == "availability" and kind != "counter":
            raise reject(
                "slos",
                "hold availability SLOs measured by a counter for a rule test",
                got=f"{s.name!r} (measured by histogram {family!r})",
                function=function,
            )
        if s.sli == "availability":
            rows = table.filter(pl.col("name") == family)
            name = spec["sli"].metric
        else:
            rows = table.filter(
                (pl.col("name") == f"{family}_bucket")
                & pl.col("le").is_in([float(s.threshold), math.inf])
            )
            name = f"{spec['sli'].metric}_bucket"
        if rows.height == 0:
            raise reject(
                "metrics",
                f"hold the series of SLO {s.name!r} ({family}) in the stretch",
                got="none",
                function=function,
            )
        if s.sli == "availability":
            counts = metric_counts(rows, family, bad=bad_map, by=by_columns or None)
        else:
            counts = metric_counts(
                rows, family, threshold=float(s.threshold), by=by_columns or None
            )
        wanted.append(rows.with_columns(pl.lit(name).alias("_prom")))
        counted[s.name] = counts
    series = pl.concat(wanted, how="diagonal_relaxed").unique(maintain_order=True)
    label_columns = [
        c
        for c in series.columns
        if c.startswith("label.") and series[c].null_count() < series.height
    ]
    epoch = series.select(pl.col("time").dt.epoch("ns")).to_series()
    origin_ns, last_ns = int(epoch.min()), int(epoch.max())  # type: ignore[arg-type]
    t0 = dt.datetime.fromtimestamp(origin_ns // 1_000_000_000, dt.UTC)
    offsets = {int(x) - origin_ns for x in epoch.unique().to_list()}
    grid_ns = math.gcd(*offsets) or step_ns
    if step_ns % grid_ns or origin_ns % grid_ns:
        raise reject(
            "metrics",
            "hold scrapes on a grid that divides the interval "
            f"({_prom_duration(step_ns // 1_000_000)})",
            got=f"times that step by {grid_ns / 1e9:g} s",
            function=function,
        )
    n_points = (last_ns - origin_ns) // grid_ns + 1
    input_series = []
    for key, group in series.sort("time").group_by(
        ["_prom", "le", *label_columns], maintain_order=True
    ):
        at = group.select((pl.col("time").dt.epoch("ns") - origin_ns) // grid_ns).to_series()
        values: list[float | None] = [None] * n_points
        total = 0.0
        previous: float | None = None
        # rebased to 0 at the stretch's first sample, resets removed: the same increases
        for index, value in zip(at.to_list(), group["value"].to_list(), strict=True):
            v = float(value)
            if previous is not None:
                total += v - previous if v >= previous else v
            previous = v
            values[int(index)] = total
        first = next(i for i, v in enumerate(values) if v is not None)
        missing = [i for i in range(first, n_points) if values[i] is None]
        if missing:
            when = dt.datetime.fromtimestamp((origin_ns + missing[0] * grid_ns) / 1e9, dt.UTC)
            raise reject(
                "metrics",
                "hold every scrape of the series it tests (Prometheus extrapolates increase() "
                "over a gap)",
                got=f"{key[0]} (it misses {len(missing)} scrape(s), the first at "
                f"{when.isoformat()})",
                hint="Choose a stretch without one.",
                function=function,
            )
        name, le, *label_values = key
        pairs = [
            (c.removeprefix("label."), v)
            for c, v in zip(label_columns, label_values, strict=True)
            if v is not None
        ]
        if le is not None:
            pairs.append(("le", _le_values(float(le))[-1]))
        text = ",".join(f'{k}="{v}"' for k, v in pairs)
        input_series.append({"series": f"{name}{{{text}}}", "values": _series_values(values)})
    evaluations = list(range(origin_ns + step_ns, last_ns + 1, step_ns))
    if not evaluations:
        raise reject(
            "stretches",
            "give stretches longer than one interval",
            got=f"one from {t0.isoformat()} holding a single evaluation time",
            function=function,
        )
    tests = []
    for spec in specs:
        s = spec["slo"]
        fired = alerts(counted[s.name], s, policy=spec["policy"], by=by_columns or None)
        firing: dict[int, list[dict[str, Any]]] = {}
        by_rule = {
            (r.severity, r.long_window, r.short_window): (lab, ann) for r, lab, ann in spec["rules"]
        }
        for row in fired.iter_rows(named=True):
            rule_labels, annotations = by_rule[
                (row["severity"], row["long_window"], row["short_window"])
            ]
            labels_all = {**{k: str(row[f"label.{k}"]) for k in keys}, **rule_labels}
            expected = {
                "exp_labels": labels_all,
                "exp_annotations": {
                    k: _render(
                        v, labels_all, "dashboard" if k == "dashboard" else "runbook", function
                    )
                    for k, v in annotations.items()
                },
            }
            begin = int(row["start"].timestamp() * 1e9) + for_ns
            stop = int(row["end"].timestamp() * 1e9) + (0 if row["resolved"] else step_ns)
            for when_ns in range(begin, stop, step_ns):
                firing.setdefault(when_ns, []).append(expected)
        for when_ns in evaluations:
            exp = sorted(firing.get(when_ns, []), key=lambda e: sorted(e["exp_labels"].items()))
            tests.append(
                {
                    "eval_time": _prom_duration((when_ns - origin_ns) // 1_000_000),
                    "alertname": spec["alert"],
                    "exp_alerts": exp,
                }
            )
    return {
        "name": f"SLO alerts on real series from {t0.isoformat()} (time 0)",
        "interval": _prom_duration(grid_ns // 1_000_000),
        "input_series": input_series,
        "alert_rule_test": tests,
    }


@validate_params(source=_SOURCE)
def rule_tests(
    slos: Any,
    metrics: Any,
    *,
    stretches: Sequence[tuple[Any, Any]] | None = None,
    rule_file: str = "slo-rules.yml",
    policy: Any = None,
    by: str | Sequence[str] | None = None,
    bad: Mapping[str, Sequence[str]] | None = None,
    source: Source = "vllm",
    interval: str = "1m",
    for_: str | None = None,
    labels: Mapping[str, str] | None = None,
    runbook: str | Mapping[str, str] | None = None,
    dashboard: str | Mapping[str, str] | None = None,
) -> str:
    """A ``promtool test rules`` file: real series, and the alerts the toolkit fires on them.

    One test group per stretch of the scrape. Its input series are the scraped series the
    rules of :func:`prometheus_rules` read (same options), from the stretch's first sample
    (promtool's time 0) to its end, each rebased to start at 0 with its increases as
    scraped (counter resets removed): Prometheus then counts from the first sample, as
    :func:`toolkit.slo.metric_counts` does, and windows reaching before the stretch are
    clipped alike. At every ``interval`` of the stretch and for every SLO, the expected
    alerts are those :func:`toolkit.slo.alerts` fires on the counts of the stretch (no
    ``merge_gap``), with the labels and annotations of their rules; an evaluation where none
    fires expects none. With ``for_``, an alert is expected ``for_`` after its breach
    started. When ``promtool test rules`` passes, Prometheus's engine fired exactly these
    alerts, evaluation for evaluation.

    The scrapes must lie on one grid that divides ``interval``, without a gap: Prometheus
    extrapolates ``increase()`` across a missing scrape, which a count does not.
    Thresholds must be bucket bounds (interpolated rules have no exact count to compare).

    Parameters
    ----------
    slos : list of SLO
        With ``metric`` families the metrics hold (or the defaults of ``source``).
    metrics : polars or pandas DataFrame
        The metrics table of a Prometheus scrape.
    stretches : list of (start, end), optional
        Time-zone aware datetimes or ISO-8601 strings; None: the whole scrape. Every
        evaluation costs promtool all the policy's windows: a day or two per stretch keeps
        a test to seconds.
    rule_file : str, default "slo-rules.yml"
        The rule file as promtool should find it (relative to the test file).
    policy, by, bad, source, interval, for_, labels, runbook, dashboard
        As in :func:`prometheus_rules`: pass the values the rule file was written with.

    Returns
    -------
    str
        The test file's YAML text.

    Examples
    --------
    >>> from toolkit import slo
    >>> from toolkit.ingest.prometheus import parse_exposition
    >>> lines = ["# TYPE ttft histogram"]
    >>> for minute in range(4):
    ...     at = 1793577600000 + 60000 * minute
    ...     lines += [f'ttft_bucket{{le="1.0"}} {10 * minute} {at}',
    ...               f'ttft_bucket{{le="+Inf"}} {10 * minute + 5 * minute // 3} {at}']
    >>> metrics = parse_exposition("\\n".join(lines))
    >>> ttft = slo.SLO("ttft", 0.9, sli="ttft_s", threshold=1.0, metric="ttft")
    >>> text = rule_tests([ttft], metrics)
    >>> [s.strip() for s in text.splitlines() if s.startswith(("  - series", "    values"))]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['- series: ttft_bucket{le="1.0"}', 'values: 0+10x3',
     '- series: ttft_bucket{le="+Inf"}', 'values: 0 11+12x2']
    """
    function = "slo.rule_tests"
    table = _metrics(metrics, function)
    if table is None:
        raise reject("metrics", "be the metrics table of a scrape", None, function=function)
    _, _, specs = _rules_model(
        slos,
        policy=policy,
        metrics=table,
        by=by,
        selector=None,
        bad=bad,
        source=source,
        interval=interval,
        for_=for_,
        labels=labels,
        runbook=runbook,
        dashboard=dashboard,
        misaligned="raise",
        function=function,
    )
    if stretches is None:
        pairs: list[tuple[dt.datetime | None, dt.datetime | None]] = [(None, None)]
    elif (
        not isinstance(stretches, Sequence)
        or not stretches
        or not all(isinstance(p, Sequence) and len(p) == 2 for p in stretches)
    ):
        raise reject("stretches", "be a list of (start, end) pairs", stretches, function=function)
    else:
        pairs = [
            (_instant(a, "stretches", function), _instant(b, "stretches", function))
            for a, b in stretches
        ]
    groups = [
        _stretch_group(
            specs,
            table,
            start_at,
            end_at,
            keys=_by_labels(by, function),
            bad_map={k: [v] if isinstance(v, str) else list(v) for k, v in (bad or _BAD).items()},
            source=str(source),
            step_ns=_duration_ms(interval, "interval", function) * 1_000_000,
            for_ns=0 if for_ is None else _duration_ms(for_, "for_", function) * 1_000_000,
            function=function,
        )
        for start_at, end_at in pairs
    ]
    document = {"rule_files": [rule_file], "evaluation_interval": interval, "tests": groups}
    return (
        "# promtool rule unit test written by genai-sre-toolkit (toolkit.slo.rule_tests);\n"
        "# time 0 of each test is its first scrape. Run: promtool test rules <this file>\n"
        + _dump(document)
    )


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def register_cli(sub: Any) -> None:
    """Add ``genai-sre rules`` to the command line's subparsers."""
    parser = sub.add_parser(
        "rules",
        help="write Prometheus rules (and a sloth spec) from an OpenSLO file",
        description="Write the Prometheus recording and multiwindow burn-rate alerting rules "
        "of the SLOs in an OpenSLO v1 YAML file (the policy of toolkit.slo.alerts), report "
        "latency thresholds that are not bucket bounds, and print the promtool command that "
        "checks the file.",
    )
    parser.add_argument("slo_file", help="OpenSLO v1 YAML (e.g. toolkit/data/slo/llm_service.yaml)")
    parser.add_argument("--out", required=True, help="the rule file to write")
    parser.add_argument("--sloth", default=None, help="also write a sloth prometheus/v1 spec here")
    parser.add_argument(
        "--by", action="append", default=None, help="label evaluated on its own (repeatable)"
    )
    parser.add_argument(
        "--metrics",
        default=None,
        help="a scrape (file or folder) to read the histogram bounds from",
    )
    parser.add_argument(
        "--source",
        default="vllm",
        choices=sorted(_FAMILIES),
        help="metrics of SLOs that name none (default vllm)",
    )
    parser.add_argument("--runbook", default=None, help="runbook step or URL of the alerts")
    parser.add_argument("--dashboard", default=None, help="dashboard link of the alerts")
    parser.add_argument("--for", dest="for_", default=None, help="Prometheus for: of the alerts")
    parser.set_defaults(handler=_cli)


def _cli(args: argparse.Namespace) -> int:
    import sys

    slos = load_slos(args.slo_file)
    metrics = None
    if args.metrics is not None:
        import toolkit

        metrics = toolkit.load_metrics(args.metrics)
    options: dict[str, Any] = {
        "metrics": metrics,
        "by": args.by,
        "source": args.source,
        "runbook": args.runbook,
        "dashboard": args.dashboard,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BucketAlignmentWarning)
        policies = load_alert_policies(args.slo_file)
        text = prometheus_rules(slos, policy=policies or None, for_=args.for_, **options)
        sloth = sloth_spec(slos, **options) if args.sloth else None
    seen = set()
    for w in caught:
        message = str(w.message)
        if message not in seen:
            seen.add(message)
            print(f"warning: {message}", file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(slos)} SLOs)")
    if sloth is not None:
        path = Path(args.sloth)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sloth, encoding="utf-8")
        print(f"wrote {path} (sloth generate -i {path})")
    print(f"check it: {promtool_command(out)}")
    return 0
