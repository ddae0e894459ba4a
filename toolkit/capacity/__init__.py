"""GPU capacity planning: how busy the fleet is, what each pool delivers, what demand will
be, and how many GPUs of which kind meet the latency SLOs at the lowest cost.

- **What to plan**, from the data: :func:`plan_pool` finds the pool (the busiest), the
  label and column naming it, its replicas, GPU type and vLLM limits
  (:class:`PoolPlan`, each value with where it came from); :func:`pool_demand` its
  requests from the best source held; :func:`busiest_window`, :func:`weekday_peak_hours`,
  :func:`calibrate`, :func:`replay_periods`, :func:`gpu_sources` and
  :func:`compare_gpu_sources` (two exporters reading the same GPUs).
- **Fleet utilisation** from the ``gpu`` table and vLLM metrics: :func:`gpu_utilisation`
  (distributions, idle and stranded GPUs, power), :func:`utilisation_by_time`,
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
  one that meets the SLOs; :func:`load_sweep`, :func:`latency_by_load` and
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

from toolkit.capacity._demand import (
    DemandSummary,
    Forecast,
    arrival_rate,
    demand_summary,
    forecast_demand,
    reconstruct_demand,
    scale_demand,
    scale_prompts,
)
from toolkit.capacity._fleet import (
    gpu_utilisation,
    inventory_summary,
    pool_load,
    read_gpu_inventory,
    saturation_periods,
    utilisation_by_time,
)
from toolkit.capacity._model import (
    FitQuality,
    ServiceModel,
    fit_service_model,
    fit_splitwise,
    kv_capacity_tokens,
    read_perf_table,
)
from toolkit.capacity._plan import (
    VLLM_DEFAULTS,
    VLLM_LARGE_GPU_DEFAULTS,
    PoolPlan,
    Window,
    busiest_window,
    calibrate,
    compare_gpu_sources,
    covers,
    fit_plan_model,
    gauges_over_time,
    gpu_sources,
    latency_curves,
    paths_support,
    plan_pool,
    pool_demand,
    priced,
    queue_times,
    replay_periods,
    standard_scenarios,
    utilisation_by_model,
    weekday_peak_hours,
)
from toolkit.capacity._queueing import MMc, erlang_b, erlang_c, mgc_wait, mmc
from toolkit.capacity._simulation import OUTCOMES, Simulation, simulate
from toolkit.capacity._sizing import (
    DEFAULT_GPU_HOURLY_USD,
    Scenario,
    analytic_latency,
    latency_by_load,
    load_sweep,
    recommend,
    size_fleet,
    what_if,
)

__all__ = [
    "DEFAULT_GPU_HOURLY_USD",
    "OUTCOMES",
    "VLLM_DEFAULTS",
    "VLLM_LARGE_GPU_DEFAULTS",
    "DemandSummary",
    "FitQuality",
    "Forecast",
    "MMc",
    "PoolPlan",
    "Scenario",
    "ServiceModel",
    "Simulation",
    "Window",
    "analytic_latency",
    "arrival_rate",
    "busiest_window",
    "calibrate",
    "compare_gpu_sources",
    "covers",
    "demand_summary",
    "erlang_b",
    "erlang_c",
    "fit_plan_model",
    "fit_service_model",
    "fit_splitwise",
    "forecast_demand",
    "gauges_over_time",
    "gpu_sources",
    "gpu_utilisation",
    "inventory_summary",
    "kv_capacity_tokens",
    "latency_by_load",
    "latency_curves",
    "load_sweep",
    "mgc_wait",
    "mmc",
    "paths_support",
    "plan_pool",
    "pool_demand",
    "pool_load",
    "priced",
    "queue_times",
    "read_gpu_inventory",
    "read_perf_table",
    "recommend",
    "reconstruct_demand",
    "replay_periods",
    "saturation_periods",
    "scale_demand",
    "scale_prompts",
    "simulate",
    "size_fleet",
    "standard_scenarios",
    "utilisation_by_model",
    "utilisation_by_time",
    "weekday_peak_hours",
    "what_if",
]
