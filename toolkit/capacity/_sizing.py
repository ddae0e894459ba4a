"""Fleet sizing for :mod:`toolkit.capacity`: the analytic queueing model, the simulation,
and the table of candidate fleets with their latency, SLO attainment, goodput and cost."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Frame,
    Interval,
    OneOf,
    caller,
    frame_out,
    reject,
    validate_params,
)
from toolkit.capacity._demand import _seconds, scale_demand, scale_prompts
from toolkit.capacity._model import ServiceModel
from toolkit.capacity._queueing import erlang_c, mgc_wait
from toolkit.capacity._simulation import _demand_arrays, simulate
from toolkit.errors import SchemaError
from toolkit.schema import TIME

__all__ = [
    "DEFAULT_GPU_HOURLY_USD",
    "Scenario",
    "analytic_latency",
    "latency_by_load",
    "load_sweep",
    "recommend",
    "size_fleet",
    "what_if",
]

#: Illustrative hourly prices per GPU in US dollars, **not facts**: rounded on-demand cloud
#: list prices of the kind published in 2025 (they differ by provider, region, commitment
#: and month). Pass your own ``gpu_hourly_usd`` to :func:`size_fleet`; these only make the
#: examples run. Keys are the ``gpu_type`` of the service models (DCGM ``modelName`` or
#: the Splitwise ``hardware`` names).
DEFAULT_GPU_HOURLY_USD: dict[str, float] = {
    "NVIDIA H100 80GB HBM3": 3.00,
    "h100-80gb": 3.00,
    "h100-80gb-pcap": 3.00,
    "NVIDIA A100-SXM4-80GB": 1.80,
    "a100-80gb": 1.80,
    "NVIDIA L4": 0.70,
}


#: ``ttft_slo_s``, ``tpot_slo_s``: a latency objective.
_SLO_S = Interval(float, 0, None, closed="right", description="a number of seconds > 0")
#: ``attainment_target``: the share of requests within the SLOs.
_ATTAINMENT = Interval(float, 0, 1, closed="right")


@validate_params(
    ttft_slo_s=_SLO_S, tpot_slo_s=_SLO_S, prefix_cache_hit_rate=Interval(float, 0, 1, closed="left")
)
def analytic_latency(
    demand: Any,
    model: ServiceModel,
    replicas: int,
    *,
    ttft_slo_s: float,
    tpot_slo_s: float,
    prefix_cache_hit_rate: float = 0.0,
) -> dict[str, float]:
    """Queueing-model estimate of TTFT, TPOT and SLO attainment for one fleet.

    Arrivals are taken as Poisson at the workload's mean rate over its window, split evenly
    over the replicas.

    - Decode: the mean batch ``b`` solves Little's law ``b = (lambda / R) * E[output] *
      TPOT(b)`` with ``TPOT(b) = step(b, b * E[input + output]) / (1 - rho_prefill)``
      (prefill chunks take that share of every replica's time).
    - Admission: each replica has ``min(max_num_seqs, kv_capacity / E[input + output])``
      slots held for a request's residency ``prefill + (output - 1) * TPOT``; the fleet is
      an M/G/c queue over all slots, its wait the Erlang-C mean scaled by ``(1 + cs^2) / 2``
      (Allen-Cunneen).
    - Prefill: an M/G/1 queue per replica (Pollaczek-Khinchine).
    - TTFT = prefill time of the request + wait; the wait is 0 with probability
      ``(1 - C)(1 - rho_prefill)`` and exponential otherwise with the mean of the two waits,
      so TTFT percentiles and the share of requests within ``ttft_slo_s`` follow from the
      workload's own prompt lengths.

    Parameters
    ----------
    demand : frame
        Workload table.
    model : ServiceModel
    replicas : int
    ttft_slo_s, tpot_slo_s : float
    prefix_cache_hit_rate : float, default 0.0

    Returns
    -------
    dict
        ``ttft_p50_s``, ``ttft_p99_s``, ``tpot_s``, ``utilisation`` (of the binding
        resource: prefill or slots), ``slo_attainment``, ``arrival_rate_rps``,
        ``p_wait``. Unstable fleets get infinite latencies and attainment 0.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> m = ServiceModel("m", "gpu", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0 + dt.timedelta(seconds=s) for s in range(60)],
    ...                   "input_tokens": [1000] * 60, "output_tokens": [11] * 60})
    >>> a = analytic_latency(w, m, 1, ttft_slo_s=1.0, tpot_slo_s=0.1)
    >>> round(a["tpot_s"], 4), a["slo_attainment"] > 0.99
    (0.0223, True)
    """
    function = caller() or "capacity.analytic_latency"
    df = _demand_arrays(demand, function)
    ns = df["arrival_time"].dt.epoch("ns").to_numpy()
    duration = max((ns[-1] - ns[0]) / 1e9, 1.0) if ns.size else 1.0
    lam = df.height / duration
    inp = df["input_tokens"].to_numpy().astype(np.float64)
    out = df["output_tokens"].to_numpy().astype(np.float64)
    prompt = np.maximum(np.ceil(inp * (1.0 - prefix_cache_hit_rate)), 1.0)
    s_p = np.asarray(model.prefill_s(prompt), dtype=np.float64)
    es, es2 = float(s_p.mean()), float((s_p**2).mean())
    lam_r = lam / replicas
    rho_p = lam_r * es
    ctx = float((inp + out).mean())
    inf = math.inf
    unstable = {
        "arrival_rate_rps": lam,
        "ttft_p50_s": inf,
        "ttft_p99_s": inf,
        "tpot_s": inf,
        "utilisation": max(rho_p, 1.0),
        "slo_attainment": 0.0,
        "p_wait": 1.0,
    }
    if rho_p >= 1.0:
        return unstable
    x = lam_r * float(out.mean()) / (1.0 - rho_p)
    denom = 1.0 - x * (model.step_s_per_seq + model.step_s_per_kv_token * ctx)
    if denom <= 0:
        return unstable
    batch = x * model.step_base_s / denom
    tpot = float(model.step_s(batch, batch * ctx)) / (1.0 - rho_p)
    slots_r = max(min(model.max_num_seqs, int(model.kv_capacity_tokens // max(ctx, 1.0))), 1)
    servers = replicas * slots_r
    residency = s_p + np.maximum(out - 1.0, 0.0) * tpot
    mean_t = float(residency.mean())
    scv = float(residency.var() / mean_t**2) if mean_t > 0 else 0.0
    load = lam * mean_t
    if load >= servers:
        unstable["utilisation"] = load / servers
        return unstable
    c_wait = erlang_c(lam, 1.0 / mean_t, servers)
    w_slots = mgc_wait(lam, mean_t, scv, servers)
    w_prefill = lam_r * es2 / (2.0 * (1.0 - rho_p))
    p_wait = 1.0 - (1.0 - c_wait) * (1.0 - rho_p)
    mean_cond = (w_slots + w_prefill) / p_wait if p_wait > 0 else 0.0

    def cdf(t: float) -> float:
        slack = t - s_p
        inside = slack >= 0
        if mean_cond <= 0:
            return float(inside.mean())
        tail = p_wait * np.exp(-np.maximum(slack, 0.0) / mean_cond)
        return float(np.where(inside, 1.0 - tail, 0.0).mean())

    def quantile(q: float) -> float:
        lo, hi = 0.0, float(s_p.max()) + 50.0 * max(mean_cond, 1e-3)
        for _ in range(60):
            mid = (lo + hi) / 2
            if cdf(mid) >= q:
                hi = mid
            else:
                lo = mid
        return hi

    attain = float(cdf(ttft_slo_s)) if tpot <= tpot_slo_s else 0.0
    return {
        "arrival_rate_rps": lam,
        "ttft_p50_s": quantile(0.5),
        "ttft_p99_s": quantile(0.99),
        "tpot_s": float(tpot),
        "utilisation": float(max(rho_p, load / servers)),
        "slo_attainment": attain,
        "p_wait": p_wait,
    }


def _models(models: Any, function: str) -> list[ServiceModel]:
    items = [models] if isinstance(models, ServiceModel) else list(models)
    if not items or not all(isinstance(m, ServiceModel) for m in items):
        raise reject(
            "models", "be a ServiceModel or a non-empty sequence of them", models, function=function
        )
    return items


def _replica_list(replicas: Any, function: str) -> list[int]:
    items = [replicas] if isinstance(replicas, int) else list(replicas)
    if not items or not all(
        isinstance(r, int) and not isinstance(r, bool) and r >= 1 for r in items
    ):
        raise reject(
            "replicas",
            "be an integer >= 1 or a sequence of them",
            replicas,
            function=function,
        )
    return sorted(set(items))


def _price(model: ServiceModel, prices: Mapping[str, float], function: str) -> float:
    if model.gpu_type not in prices:
        raise reject(
            "gpu_hourly_usd",
            f"price GPU type {model.gpu_type!r} (priced: {sorted(prices)})",
            got="no price for it",
            function=function,
        )
    return float(prices[model.gpu_type])


_SIZE_SCHEMA = {
    "model": pl.String,
    "gpu_type": pl.String,
    "replicas": pl.Int64,
    "gpus": pl.Int64,
    "arrival_rate_rps": pl.Float64,
    "ttft_p50_s": pl.Float64,
    "ttft_p99_s": pl.Float64,
    "tpot_p50_s": pl.Float64,
    "tpot_p99_s": pl.Float64,
    "slo_attainment": pl.Float64,
    "goodput_rps": pl.Float64,
    "failed_share": pl.Float64,
    "utilisation": pl.Float64,
    "tokens_per_s": pl.Float64,
    "cost_per_hour_usd": pl.Float64,
    "cost_per_million_tokens_usd": pl.Float64,
    "meets_slo": pl.Boolean,
    "analytic_ttft_p50_s": pl.Float64,
    "analytic_ttft_p99_s": pl.Float64,
    "analytic_tpot_s": pl.Float64,
    "analytic_utilisation": pl.Float64,
    "analytic_attainment": pl.Float64,
    "analytic_meets_slo": pl.Boolean,
    "methods_agree": pl.Boolean,
    "recommended": pl.Boolean,
}


@validate_params(
    ttft_slo_s=_SLO_S,
    tpot_slo_s=_SLO_S,
    attainment_target=_ATTAINMENT,
    method=OneOf(
        "both", "simulation", "analytic", description="'both', 'simulation' or 'analytic'"
    ),
    backend=BACKEND,
)
def size_fleet(
    demand: Any,
    models: ServiceModel | Sequence[ServiceModel],
    replicas: int | Sequence[int],
    *,
    ttft_slo_s: float,
    tpot_slo_s: float,
    attainment_target: float = 0.99,
    gpu_hourly_usd: Mapping[str, float] | None = None,
    method: Literal["both", "simulation", "analytic"] = "both",
    max_waiting: int | None = None,
    timeout_s: float | None = None,
    prefix_cache_hit_rate: float = 0.0,
    backend: Backend = "polars",
) -> Any:
    """Every candidate fleet's latency, SLO attainment, goodput and cost, and the cheapest
    that meets the SLOs.

    Each candidate (a service model x a replica count) is checked two ways that check each
    other: the discrete-event simulation of continuous batching replaying ``demand``
    (:func:`simulate`) and the queueing model (:func:`analytic_latency`). A fleet meets
    the SLOs when at least ``attainment_target`` of the requests get their first token
    within ``ttft_slo_s`` and every later token within ``tpot_slo_s`` on average
    (DistServe's goodput definition); the simulation decides when it runs.

    Parameters
    ----------
    demand : frame
        Workload table to replay (real or forecast arrivals): size on the busiest window.
    models : ServiceModel or sequence of ServiceModel
        One per model x GPU type to compare.
    replicas : int or sequence of int
        Replica counts to try.
    ttft_slo_s, tpot_slo_s : float
        Per-request SLO thresholds, seconds.
    attainment_target : float, default 0.99
        Share of requests that must meet both.
    gpu_hourly_usd : mapping, optional
        Price of one GPU-hour per ``gpu_type``; default :data:`DEFAULT_GPU_HOURLY_USD`
        (illustrative, not facts).
    method : {"both", "simulation", "analytic"}, default "both"
    max_waiting, timeout_s, prefix_cache_hit_rate
        Passed to :func:`simulate`.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per candidate fleet: ``model``, ``gpu_type``, ``replicas``, ``gpus``,
        ``arrival_rate_rps``, ``ttft_p50_s``, ``ttft_p99_s``, ``tpot_p50_s``,
        ``tpot_p99_s``, ``slo_attainment``, ``goodput_rps`` (requests per second meeting
        both SLOs), ``failed_share``, ``utilisation`` (share of time the replicas ran
        steps), ``tokens_per_s`` (input + output tokens served), ``cost_per_hour_usd``,
        ``cost_per_million_tokens_usd``, ``meets_slo``, the analytic model's
        ``analytic_ttft_p50_s``, ``analytic_ttft_p99_s``, ``analytic_tpot_s``,
        ``analytic_utilisation``, ``analytic_attainment``, ``analytic_meets_slo``,
        ``methods_agree`` and ``recommended`` (the cheapest fleet meeting the SLOs, fewest
        GPUs on a tie). Simulation columns are null under ``method="analytic"`` and the
        analytic ones under ``"simulation"``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> m = ServiceModel("m", "NVIDIA L4", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0 + dt.timedelta(seconds=s / 4) for s in range(400)],
    ...                   "input_tokens": [1000] * 400, "output_tokens": [50] * 400})
    >>> t = size_fleet(w, m, [1, 2, 4], ttft_slo_s=0.5, tpot_slo_s=0.05)
    >>> t.select("replicas", "meets_slo", "recommended").rows()
    [(1, True, True), (2, True, False), (4, True, False)]
    """
    function = caller() or "capacity.size_fleet"
    items = _models(models, function)
    counts = _replica_list(replicas, function)
    prices = DEFAULT_GPU_HOURLY_USD if gpu_hourly_usd is None else dict(gpu_hourly_usd)
    df = _demand_arrays(demand, function)
    rows: list[dict[str, Any]] = []
    for model in items:
        price = _price(model, prices, function)
        for r in counts:
            gpus = r * model.gpus_per_replica
            row: dict[str, Any] = {
                "model": model.name,
                "gpu_type": model.gpu_type,
                "replicas": r,
                "gpus": gpus,
                "cost_per_hour_usd": gpus * price,
            }
            if method != "analytic":
                sim = simulate(
                    df,
                    model,
                    r,
                    max_waiting=max_waiting,
                    timeout_s=timeout_s,
                    prefix_cache_hit_rate=prefix_cache_hit_rate,
                )
                s = sim.summary(ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s)
                row.update({k: s[k] for k in s if k in _SIZE_SCHEMA})
                row["meets_slo"] = s["slo_attainment"] >= attainment_target
                tokens_h = s["tokens_per_s"] * 3600 / 1e6
                row["cost_per_million_tokens_usd"] = (
                    row["cost_per_hour_usd"] / tokens_h if tokens_h > 0 else None
                )
            if method != "simulation":
                a = analytic_latency(
                    df,
                    model,
                    r,
                    ttft_slo_s=ttft_slo_s,
                    tpot_slo_s=tpot_slo_s,
                    prefix_cache_hit_rate=prefix_cache_hit_rate,
                )
                row.update(
                    {
                        "arrival_rate_rps": a["arrival_rate_rps"],
                        "analytic_ttft_p50_s": a["ttft_p50_s"],
                        "analytic_ttft_p99_s": a["ttft_p99_s"],
                        "analytic_tpot_s": a["tpot_s"],
                        "analytic_utilisation": a["utilisation"],
                        "analytic_attainment": a["slo_attainment"],
                        "analytic_meets_slo": a["slo_attainment"] >= attainment_target,
                    }
                )
            if method == "both":
                row["methods_agree"] = row["meets_slo"] == row["analytic_meets_slo"]
            rows.append(row)
    table = pl.DataFrame(rows, schema=_SIZE_SCHEMA)
    decide = "analytic_meets_slo" if method == "analytic" else "meets_slo"
    ok = table.with_row_index("_i").filter(pl.col(decide))
    best = ok.sort("cost_per_hour_usd", "gpus", "_i").head(1)["_i"].to_list()
    table = table.with_columns(
        pl.Series("recommended", [i in best for i in range(table.height)], dtype=pl.Boolean)
    )
    return frame_out(table, backend)


@validate_params(table=Frame())
def recommend(table: Any) -> pl.DataFrame:
    """The recommended row of :func:`size_fleet`'s table (empty when no fleet meets the SLOs).

    Examples
    --------
    >>> import polars as pl
    >>> recommend(pl.DataFrame({"replicas": [1, 2], "recommended": [False, True]})).height
    1
    """
    df: pl.DataFrame = table
    if "recommended" not in df.columns:
        raise SchemaError("The table given to capacity.recommend needs size_fleet's 'recommended'.")
    return df.filter(pl.col("recommended"))


@validate_params(ttft_slo_s=_SLO_S, tpot_slo_s=_SLO_S, backend=BACKEND)
def load_sweep(
    demand: Any,
    model: ServiceModel,
    replicas: int,
    *,
    factors: Sequence[float] = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
    ttft_slo_s: float,
    tpot_slo_s: float,
    seed: int = 0,
    backend: Backend = "polars",
) -> Any:
    """Latency as traffic grows: the workload scaled by each factor, simulated and modelled.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per factor and method (``simulation``, ``analytic``): ``factor``,
        ``method``, ``arrival_rate_rps``, ``ttft_p50_s``, ``ttft_p99_s``, ``tpot_p50_s``,
        ``slo_attainment``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> m = ServiceModel("m", "gpu", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0 + dt.timedelta(seconds=s) for s in range(100)],
    ...                   "input_tokens": [500] * 100, "output_tokens": [20] * 100})
    >>> load_sweep(w, m, 1, factors=(1.0, 2.0), ttft_slo_s=1.0, tpot_slo_s=0.1).height
    4
    """
    function = caller() or "capacity.load_sweep"
    df = _demand_arrays(demand, function)
    rows: list[dict[str, Any]] = []
    for factor in factors:
        scaled = df if factor == 1.0 else scale_demand(df, factor, seed=seed)
        s = simulate(scaled, model, replicas).summary(ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s)
        a = analytic_latency(scaled, model, replicas, ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s)
        rows.append(
            {
                "factor": float(factor),
                "method": "simulation",
                "arrival_rate_rps": s["arrival_rate_rps"],
                "ttft_p50_s": s["ttft_p50_s"],
                "ttft_p99_s": s["ttft_p99_s"],
                "tpot_p50_s": s["tpot_p50_s"],
                "slo_attainment": s["slo_attainment"],
            }
        )
        rows.append(
            {
                "factor": float(factor),
                "method": "analytic",
                "arrival_rate_rps": a["arrival_rate_rps"],
                "ttft_p50_s": a["ttft_p50_s"],
                "ttft_p99_s": a["ttft_p99_s"],
                "tpot_p50_s": a["tpot_s"],
                "slo_attainment": a["slo_attainment"],
            }
        )
    out = pl.DataFrame(rows)
    return frame_out(out, backend)


@validate_params(measured=Frame(), simulated=Frame(), backend=BACKEND)
def latency_by_load(
    measured: Any,
    simulated: Any,
    *,
    every: str | dt.timedelta = "1h",
    bins: int = 5,
    backend: Backend = "polars",
) -> Any:
    """Measured and simulated latency side by side, per load level.

    Windows of width ``every`` are ranked by the simulated arrival rate (the full-scale
    demand, whatever the traces' sampling) and cut into ``bins`` groups of equal size; per
    group, the median and 90th percentile TTFT and the median TPOT of the measured calls
    (``start_time``) and of the simulated requests (``arrival_time``) in those windows.

    Parameters
    ----------
    measured : frame
        llm_calls with ``start_time``, ``ttft_s``, ``tpot_s`` (of the pool simulated).
    simulated : frame
        :class:`Simulation`'s ``requests``.
    every : str or timedelta, default "1h"
    bins : int, default 5

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``load_bin``, ``load_rps`` (mean simulated arrival rate), ``windows``,
        ``measured_calls``, ``measured_ttft_p50_s``, ``simulated_ttft_p50_s``,
        ``measured_ttft_p90_s``, ``simulated_ttft_p90_s``, ``measured_tpot_p50_s``,
        ``simulated_tpot_p50_s``.
    """
    function = caller() or "capacity.latency_by_load"
    width = _seconds(every, "every", function)
    m: pl.DataFrame = measured
    s: pl.DataFrame = simulated
    for frame, column, name in ((m, "start_time", "measured"), (s, "arrival_time", "simulated")):
        missing = [c for c in (column, "ttft_s", "tpot_s") if c not in frame.columns]
        if missing:
            raise SchemaError(f"The {name} frame given to {function} is missing {missing}.")
    key = f"{width}s"
    sim = s.with_columns(pl.col("arrival_time").cast(TIME).dt.truncate(key).alias("window"))
    load = (
        sim.group_by("window")
        .agg((pl.len() / width).alias("load_rps"))
        .sort("load_rps", "window")
        .with_row_index("_rank")
    )
    n = load.height
    load = load.with_columns((pl.col("_rank") * bins // max(n, 1)).cast(pl.Int64).alias("load_bin"))
    meas = m.with_columns(pl.col("start_time").cast(TIME).dt.truncate(key).alias("window"))
    windows = load.select("window", "load_bin", "load_rps")
    left = (
        meas.join(windows, on="window", how="inner")
        .group_by("load_bin")
        .agg(
            pl.len().alias("measured_calls"),
            pl.col("ttft_s").median().alias("measured_ttft_p50_s"),
            pl.col("ttft_s").quantile(0.9).alias("measured_ttft_p90_s"),
            pl.col("tpot_s").median().alias("measured_tpot_p50_s"),
        )
    )
    right = (
        sim.join(windows, on="window", how="inner")
        .group_by("load_bin")
        .agg(
            pl.col("ttft_s").median().alias("simulated_ttft_p50_s"),
            pl.col("ttft_s").quantile(0.9).alias("simulated_ttft_p90_s"),
            pl.col("tpot_s").median().alias("simulated_tpot_p50_s"),
        )
    )
    per_bin = windows.group_by("load_bin").agg(pl.col("load_rps").mean(), pl.len().alias("windows"))
    out = (
        per_bin.join(left, on="load_bin", how="left")
        .join(right, on="load_bin", how="left")
        .sort("load_bin")
        .select(
            "load_bin",
            "load_rps",
            "windows",
            "measured_calls",
            "measured_ttft_p50_s",
            "simulated_ttft_p50_s",
            "measured_ttft_p90_s",
            "simulated_ttft_p90_s",
            "measured_tpot_p50_s",
            "simulated_tpot_p50_s",
        )
    )
    return frame_out(out, backend)


@dataclass(frozen=True)
class Scenario:
    """A what-if: changes to the traffic, the prompts, the hardware or the cache.

    Attributes
    ----------
    traffic : float, default 1.0
        Multiplier of the request rate (:func:`scale_demand`).
    prompt_factor : float, default 1.0
        Multiplier of prompt lengths (:func:`scale_prompts`).
    model : ServiceModel, optional
        Another model or GPU type instead of the baseline.
    prefix_cache_hit_rate : float, default 0.0
        Share of prompt tokens served from the prefix cache.
    """

    traffic: float = 1.0
    prompt_factor: float = 1.0
    model: ServiceModel | None = None
    prefix_cache_hit_rate: float = 0.0


@validate_params(
    ttft_slo_s=_SLO_S, tpot_slo_s=_SLO_S, attainment_target=_ATTAINMENT, backend=BACKEND
)
def what_if(
    demand: Any,
    model: ServiceModel,
    replicas: Sequence[int],
    scenarios: Mapping[str, Scenario],
    *,
    current_replicas: int,
    ttft_slo_s: float,
    tpot_slo_s: float,
    attainment_target: float = 0.99,
    gpu_hourly_usd: Mapping[str, float] | None = None,
    max_waiting: int | None = None,
    timeout_s: float | None = None,
    seed: int = 0,
    backend: Backend = "polars",
) -> Any:
    """Size the fleet again under each scenario (traffic x1.5, longer prompts, another GPU,
    prefix caching ...).

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per scenario: ``scenario``, ``model``, ``gpu_type``,
        ``attainment_at_current`` (the SLO attainment of ``current_replicas`` under the
        scenario), the recommended fleet's ``replicas``, ``gpus``, ``ttft_p99_s``,
        ``tpot_p99_s``, ``slo_attainment``, ``cost_per_hour_usd`` and
        ``cost_per_million_tokens_usd`` (nulls when no candidate meets the SLOs).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> m = ServiceModel("m", "NVIDIA L4", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0 + dt.timedelta(seconds=s / 4) for s in range(400)],
    ...                   "input_tokens": [1000] * 400, "output_tokens": [50] * 400})
    >>> t = what_if(w, m, [1, 2], {"x2": Scenario(traffic=2.0)}, current_replicas=1,
    ...             ttft_slo_s=0.5, tpot_slo_s=0.05)
    >>> t["scenario"].to_list()
    ['x2']
    """
    function = caller() or "capacity.what_if"
    base = _demand_arrays(demand, function)
    rows: list[dict[str, Any]] = []
    for name, sc in scenarios.items():
        if not isinstance(sc, Scenario):
            raise reject(
                "scenarios", "map names to Scenario", got=f"{type(sc).__name__} for {name!r}"
            )
        d = base
        if sc.traffic != 1.0:
            d = scale_demand(d, sc.traffic, seed=seed)
        if sc.prompt_factor != 1.0:
            d = scale_prompts(d, sc.prompt_factor)
        chosen = sc.model or model
        counts = sorted(set(replicas) | {current_replicas})
        table = size_fleet(
            d,
            chosen,
            counts,
            ttft_slo_s=ttft_slo_s,
            tpot_slo_s=tpot_slo_s,
            attainment_target=attainment_target,
            gpu_hourly_usd=gpu_hourly_usd,
            method="simulation",
            max_waiting=max_waiting,
            timeout_s=timeout_s,
            prefix_cache_hit_rate=sc.prefix_cache_hit_rate,
        )
        current = table.filter(pl.col("replicas") == current_replicas)["slo_attainment"].item()
        best = table.filter(pl.col("recommended"))
        row: dict[str, Any] = {
            "scenario": name,
            "model": chosen.name,
            "gpu_type": chosen.gpu_type,
            "attainment_at_current": current,
        }
        keys = (
            "replicas",
            "gpus",
            "ttft_p99_s",
            "tpot_p99_s",
            "slo_attainment",
            "cost_per_hour_usd",
            "cost_per_million_tokens_usd",
        )
        row.update({k: (best[k].item() if best.height else None) for k in keys})
        rows.append(row)
    schema = {
        "scenario": pl.String,
        "model": pl.String,
        "gpu_type": pl.String,
        "attainment_at_current": pl.Float64,
        "replicas": pl.Int64,
        "gpus": pl.Int64,
        "ttft_p99_s": pl.Float64,
        "tpot_p99_s": pl.Float64,
        "slo_attainment": pl.Float64,
        "cost_per_hour_usd": pl.Float64,
        "cost_per_million_tokens_usd": pl.Float64,
    }
    out = pl.DataFrame(rows, schema=schema)
    return frame_out(out, backend)
