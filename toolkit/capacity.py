"""GPU capacity planning: how busy the fleet is, what each pool delivers, what demand will
be, and how many GPUs of which kind meet the latency SLOs at the lowest cost.

- **Fleet utilisation** from the ``gpu`` table and vLLM metrics: :func:`gpu_utilisation`
  (distributions, idle and stranded GPUs, power), :func:`utilisation_heatmap`,
  :func:`pool_load` and :func:`saturation_periods`; GPU inventories of real clusters with
  :func:`read_gpu_inventory` and :func:`inventory_summary`.
- **Service models** (:class:`ServiceModel`): prefill and decode step times of one replica
  of a model on a GPU type, fitted from a pool's own calls and vLLM gauges
  (:func:`fit_service_model`) or from a measured performance table such as Splitwise's
  (:func:`read_perf_table`, :func:`fit_splitwise`), with their fit errors.
- **Demand**: :func:`arrival_rate`, :func:`demand_summary` (peak-to-mean, index of
  dispersion, token mix), :func:`forecast_demand` (seasonal, with intervals and a
  backtest), :func:`reconstruct_demand` (every request of a pool from vLLM counters and
  sampled traces), and the what-if transforms :func:`scale_demand`, :func:`scale_prompts`.
- **Sizing**, two ways that check each other: queueing formulas (:func:`erlang_c`,
  :func:`mmc`, :func:`mgc_wait`, :func:`analytic_latency`) and a discrete-event simulation
  of continuous batching (:func:`simulate`); :func:`size_fleet` gives one row per candidate
  fleet with its latency percentiles, SLO attainment, goodput and cost, and the cheapest
  one that meets the SLOs; :func:`latency_vs_load`, :func:`latency_by_load` and
  :func:`what_if` (traffic x1.5, longer prompts, another GPU, prefix caching).

GPU prices are parameters (:data:`DEFAULT_GPU_HOURLY_USD` holds illustrative ones, not
facts). Figures are in :mod:`toolkit.plots.capacity`.

Examples
--------
>>> from toolkit.capacity import erlang_c
>>> round(erlang_c(arrival_rate=10.0, service_rate=1.0, servers=11), 4)
0.6821
"""

from __future__ import annotations

from toolkit._capacity_demand import (
    DemandSummary,
    Forecast,
    arrival_rate,
    demand_summary,
    forecast_demand,
    reconstruct_demand,
    scale_demand,
    scale_prompts,
)
from toolkit._capacity_fleet import (
    gpu_utilisation,
    inventory_summary,
    pool_load,
    read_gpu_inventory,
    saturation_periods,
    utilisation_heatmap,
)
from toolkit._capacity_model import (
    FitError,
    ServiceModel,
    fit_service_model,
    fit_splitwise,
    kv_capacity_tokens,
    read_perf_table,
)
from toolkit._capacity_queueing import MMc, erlang_b, erlang_c, mgc_wait, mmc
from toolkit._capacity_sim import OUTCOMES, Simulation, simulate
from toolkit._capacity_sizing import (
    DEFAULT_GPU_HOURLY_USD,
    Scenario,
    analytic_latency,
    latency_by_load,
    latency_vs_load,
    recommend,
    size_fleet,
    what_if,
)

__all__ = [
    "DEFAULT_GPU_HOURLY_USD",
    "OUTCOMES",
    "DemandSummary",
    "FitError",
    "Forecast",
    "MMc",
    "Scenario",
    "ServiceModel",
    "Simulation",
    "analytic_latency",
    "arrival_rate",
    "demand_summary",
    "erlang_b",
    "erlang_c",
    "fit_service_model",
    "fit_splitwise",
    "forecast_demand",
    "gpu_utilisation",
    "inventory_summary",
    "kv_capacity_tokens",
    "latency_by_load",
    "latency_vs_load",
    "mgc_wait",
    "mmc",
    "pool_load",
    "read_gpu_inventory",
    "read_perf_table",
    "recommend",
    "reconstruct_demand",
    "saturation_periods",
    "scale_demand",
    "scale_prompts",
    "simulate",
    "size_fleet",
    "utilisation_heatmap",
    "what_if",
]
