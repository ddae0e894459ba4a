"""Service level objectives: SLIs, error budgets, multiwindow burn-rate alerts and goodput.

The SRE's first questions about an LLM service: are we inside our objectives, how fast are
we burning the error budget, would we have been paged, and how many requests per second
meet every latency objective at once?

Events and counts
-----------------
Every budget and alert function takes ``events`` in one of two shapes:

* **one row per event** (a request, a model call): a Boolean column ``good`` (default
  ``"is_good"``; :func:`good_events` adds it to an ``llm_calls`` table) and a time column
  (default ``"start_time"``). A null in ``good`` marks an event the SLI does not apply to
  (a failed call has no time to first token): it is left out of both counts.
* **pre-aggregated counts** (what metrics give, e.g. :func:`metric_counts`): a numeric
  ``good`` column and a numeric ``total`` column per row, with the row's time. When the
  default ``good="is_good"`` is not a column but ``good`` and ``total`` are, those are
  used, so ``alerts(metric_counts(...), 0.99)`` needs no further argument.

Both become the same series: good and total counts per ``resolution`` bucket (one minute
by default), bucket ``[b, b + resolution)`` holding the events whose time falls in it, on a
gap-free grid from the first to the last event (empty buckets count zero). An SLI window
of length ``w`` evaluated at time ``t`` (always a bucket end) covers the buckets in
``[t - w, t)``; its burn rate is ``(bad / total) / (1 - target)`` (Google SRE Workbook),
null when the window holds no event. Windows are clipped at the first bucket: the
evaluation at the data's start sees what there is, as Prometheus would.

SLO definitions
---------------
:class:`SLO` is a small frozen dataclass (target, SLI, threshold, time window, budgeting
method); :func:`load_slos` reads them from OpenSLO v1 YAML files (``kind: SLO``, with an
inline ``indicator`` or an ``indicatorRef`` to a ``kind: SLI`` document).
``toolkit/data/slo/llm_service.yaml`` is an example for an LLM gateway.

Into production
---------------
:func:`prometheus_rules` writes the Prometheus recording and burn-rate alerting rules of the
same SLOs and policy as :func:`alerts`, :func:`sloth_spec` the sloth spec,
:func:`bucket_alignment` says which latency thresholds a histogram cannot count exactly, and
:func:`rule_tests` writes a ``promtool test rules`` file from real series whose expected alerts
are :func:`alerts`' (``genai-sre rules SLO_FILE --out FILE`` on the command line).

Examples
--------
>>> import polars as pl
>>> from datetime import datetime, timedelta, timezone
>>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
>>> calls = pl.DataFrame({
...     "start_time": [t0 + timedelta(minutes=m) for m in range(120)],
...     "is_error": [40 <= m < 70 for m in range(120)],   # half an hour of failures
... })
>>> slo = SLO("availability", target=0.999, sli="availability")
>>> fired = alerts(good_events(calls, slo), slo)
>>> fired.select("severity", "start", "long_window", "short_window").row(0)
('page', datetime.datetime(2026, 11, 2, 0, 41, tzinfo=zoneinfo.ZoneInfo(key='UTC')), '1h', '5m')
"""

from __future__ import annotations

from toolkit.slo._budget import (
    WORKBOOK,
    AlertPolicy,
    BurnRateRule,
    alerts,
    budget_by_slice,
    burn_rates,
    error_budget,
    good_fraction,
)
from toolkit.slo._goodput import (
    goodput,
)
from toolkit.slo._incidents import (
    incident_windows,
    label_windows,
    windows_frame,
)
from toolkit.slo._metrics import (
    metric_counts,
)
from toolkit.slo._objectives import (
    Choice,
    ServiceObjectives,
    alert_table,
    baseline_objectives,
    budget_table,
    choose_threshold,
    compare_sources,
    latency_table,
    latest_budget,
    metric_events,
    pool_column,
    pooled_burn_rates,
    service_objectives,
    slice_table,
    trace_events,
    trace_sampling,
)
from toolkit.slo._openslo import (
    SLO,
    load_slos,
    objectives,
    parse_slos,
)
from toolkit.slo._rules import (
    OTEL_GENAI_BUCKETS,
    VLLM_BUCKETS,
    BucketAlignmentWarning,
    RuleFiles,
    bucket_alignment,
    load_alert_policies,
    parse_alert_policies,
    prometheus_metric_name,
    prometheus_rules,
    promtool_command,
    register_cli,
    rule_tests,
    sloth_spec,
    write_rules,
)
from toolkit.slo._sli import (
    good_events,
    percentiles,
)

__all__ = [
    "OTEL_GENAI_BUCKETS",
    "SLO",
    "VLLM_BUCKETS",
    "WORKBOOK",
    "AlertPolicy",
    "BucketAlignmentWarning",
    "BurnRateRule",
    "Choice",
    "RuleFiles",
    "ServiceObjectives",
    "alert_table",
    "alerts",
    "baseline_objectives",
    "bucket_alignment",
    "budget_by_slice",
    "budget_table",
    "burn_rates",
    "choose_threshold",
    "compare_sources",
    "error_budget",
    "good_events",
    "good_fraction",
    "goodput",
    "incident_windows",
    "label_windows",
    "latency_table",
    "latest_budget",
    "load_alert_policies",
    "load_slos",
    "metric_counts",
    "metric_events",
    "objectives",
    "parse_alert_policies",
    "parse_slos",
    "percentiles",
    "pool_column",
    "pooled_burn_rates",
    "prometheus_metric_name",
    "prometheus_rules",
    "promtool_command",
    "register_cli",
    "rule_tests",
    "service_objectives",
    "slice_table",
    "sloth_spec",
    "trace_events",
    "trace_sampling",
    "windows_frame",
    "write_rules",
]
