"""Discrete-event simulation of continuous batching for :mod:`toolkit.capacity`.

Each replica runs *steps*. At the start of a step it admits waiting requests in arrival
order while it has a sequence slot (``max_num_seqs``) and KV-cache room for the request's
``input + output`` tokens (a reservation held until the request ends; the head of the queue
blocks the others, as in the sample's engine). The step then spends its token budget
(``max_batched_tokens``): one token per decoding sequence, then prompt chunks of the short
prompts in arrival order, then the rest on the one long prompt being prefilled (prompts
above ``long_prefill_tokens`` are prefilled one at a time, like vLLM with
``max_long_partial_prefills=1``). Its duration comes from the :class:`ServiceModel`. A
request's first token comes at the end of the step that finishes its prompt; it then
needs ``output - 1`` more steps.

Requests go to the replica with the fewest outstanding (running + waiting) requests, as the
sample's gateway does. Optional limits: a waiting queue of ``max_waiting`` (beyond it the
request is rejected, HTTP 503) and a ``timeout_s`` on the wait for admission (HTTP 504).

Speed: steps in which nothing but decoding happens are identical, so the simulation jumps
over them to the next finish or arrival; the work is proportional to arrivals, finishes and
prefill chunks, not to decode steps.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import InstanceOf, Interval, caller, frame_in, validate_params
from toolkit.capacity._model import ServiceModel
from toolkit.errors import SchemaError, preview
from toolkit.schema import TIME

__all__ = ["OUTCOMES", "Simulation", "simulate"]

#: Outcome codes of a simulated request.
OUTCOMES = ("ok", "timeout", "rejected")
_OK, _TIMEOUT, _REJECTED = 0, 1, 2


class _Replica:
    __slots__ = ("busy", "clock", "heap", "kv", "n_dec", "n_seq", "pre_l", "pre_s", "step", "wait")

    def __init__(self) -> None:
        self.clock = 0.0
        self.step = 0
        self.wait: deque[int] = deque()
        self.pre_s: deque[int] = deque()
        self.pre_l: deque[int] = deque()
        self.n_dec = 0
        self.n_seq = 0
        self.kv = 0
        self.heap: list[tuple[int, int]] = []
        self.busy = 0.0


def _run(
    arrival: list[float],
    prompt: list[int],
    output: list[int],
    need: list[int],
    model: ServiceModel,
    replicas: int,
    max_waiting: int | None,
    timeout_s: float | None,
) -> tuple[list[int], list[int], list[float], list[float], list[float], list[float]]:
    n = len(arrival)
    budget_max = model.max_batched_tokens
    long_thr = model.long_prefill_tokens
    base = model.step_base_s
    per_seq = model.step_s_per_seq
    per_kv = model.step_s_per_kv_token
    extra = max(model.prefill_base_s - model.step_base_s, 0.0)
    lin = model.prefill_s_per_token
    quad_c = model.prefill_s_per_token2
    cap = model.kv_capacity_tokens
    max_seqs = model.max_num_seqs
    timeout = math.inf if timeout_s is None else timeout_s
    left = list(prompt)
    first = [-1.0] * n
    end = [-1.0] * n
    admit = [-1.0] * n
    outcome = [_OK] * n
    where = [-1] * n
    reps = [_Replica() for _ in range(replicas)]
    heappush, heappop = heapq.heappush, heapq.heappop
    inf = math.inf

    def advance(r: _Replica, t: float) -> None:
        wait, pre_s, pre_l, heap = r.wait, r.pre_s, r.pre_l, r.heap
        while True:
            # admission at the start of a step
            while wait:
                i = wait[0]
                if r.clock - arrival[i] > timeout:
                    wait.popleft()
                    outcome[i] = _TIMEOUT
                    end[i] = arrival[i] + timeout
                    continue
                if r.n_seq >= max_seqs or r.kv + need[i] > cap:
                    break
                wait.popleft()
                r.n_seq += 1
                r.kv += need[i]
                admit[i] = r.clock
                (pre_l if prompt[i] > long_thr else pre_s).append(i)
            if r.n_dec == 0 and not pre_s and not pre_l:
                if r.clock < t != inf:
                    r.clock = t
                return
            if r.clock >= t:
                return
            budget = budget_max - r.n_dec
            chunk = 0
            quad = 0.0
            done: list[int] = []
            while budget > 0 and pre_s:
                i = pre_s[0]
                rest = left[i]
                c = rest if rest <= budget else budget
                if quad_c:
                    o = prompt[i] - rest
                    quad += (o + c) * (o + c) - o * o
                left[i] = rest - c
                budget -= c
                chunk += c
                if rest == c:
                    pre_s.popleft()
                    done.append(i)
                else:
                    break
            if budget > 0 and pre_l:
                i = pre_l[0]
                rest = left[i]
                c = rest if rest <= budget else budget
                if quad_c:
                    o = prompt[i] - rest
                    quad += (o + c) * (o + c) - o * o
                left[i] = rest - c
                chunk += c
                if rest == c:
                    pre_l.popleft()
                    done.append(i)
            s = base + per_seq * r.n_dec + per_kv * r.kv
            if chunk:
                s += extra + lin * chunk + quad_c * quad
                k = 1
            else:  # only decoding: identical steps up to the next finish or arrival
                k = heap[0][0] - r.step
                if t != inf:
                    kt = math.ceil((t - r.clock) / s)
                    k = min(k, kt)
                k = max(k, 1)
            r.clock += k * s
            r.step += k
            r.busy += k * s
            while heap and heap[0][0] <= r.step:
                j = heappop(heap)[1]
                end[j] = r.clock
                r.n_dec -= 1
                r.n_seq -= 1
                r.kv -= need[j]
            for i in done:
                first[i] = r.clock
                if output[i] <= 1:
                    end[i] = r.clock
                    r.n_seq -= 1
                    r.kv -= need[i]
                else:
                    r.n_dec += 1
                    heappush(heap, (r.step + output[i] - 1, i))

    for i in range(n):
        t = arrival[i]
        best = 0
        best_load = -1
        for index, r in enumerate(reps):
            advance(r, t)
            load = r.n_seq + len(r.wait)
            if best_load < 0 or load < best_load:
                best, best_load = index, load
        chosen = reps[best]
        where[i] = best
        if need[i] > cap or (max_waiting is not None and len(chosen.wait) >= max_waiting):
            outcome[i] = _REJECTED
            end[i] = t
            continue
        chosen.wait.append(i)
    for r in reps:
        advance(r, inf)
        for i in r.wait:  # only timeouts can be left behind
            outcome[i] = _TIMEOUT
            end[i] = arrival[i] + timeout
    busy = [r.busy for r in reps]
    return where, outcome, admit, first, end, busy


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`.

    Attributes
    ----------
    requests : polars.DataFrame
        One row per request, in arrival order: ``arrival_time``, ``input_tokens``,
        ``output_tokens``, ``replica``, ``outcome`` (ok, timeout, rejected), ``queue_s``
        (arrival to admission), ``ttft_s``, ``tpot_s`` (null for one-token outputs),
        ``latency_s`` (null unless ok).
    model : ServiceModel
    replicas : int
    busy_s : tuple of float
        Seconds each replica spent running steps.
    duration_s : float
        Length of the replayed window (first to last arrival, at least 1 s).
    makespan_s : float
        First arrival to the last request's end (the drain included).
    """

    requests: pl.DataFrame
    model: ServiceModel
    replicas: int
    busy_s: tuple[float, ...]
    duration_s: float
    makespan_s: float

    @property
    def utilisation(self) -> float:
        """Share of the makespan the replicas spent running steps (mean over replicas)."""
        return float(np.mean(self.busy_s)) / self.makespan_s

    def summary(self, *, ttft_slo_s: float, tpot_slo_s: float) -> dict[str, float]:
        """Latency percentiles, SLO attainment and goodput of the simulated requests.

        A request attains the SLO when it succeeded, its TTFT is at most ``ttft_slo_s`` and
        its TPOT at most ``tpot_slo_s`` (one-token outputs have no TPOT and pass it).
        Failed requests count as infinitely slow in the percentiles.

        Examples
        --------
        >>> import polars as pl, datetime as dt
        >>> from toolkit.capacity import ServiceModel, simulate
        >>> m = ServiceModel("m", "gpu", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
        >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        >>> demand = pl.DataFrame({"arrival_time": [t0, t0 + dt.timedelta(seconds=1)],
        ...                        "input_tokens": [100, 100], "output_tokens": [11, 11]})
        >>> s = simulate(demand, m, replicas=1).summary(ttft_slo_s=1.0, tpot_slo_s=0.05)
        >>> s["slo_attainment"], round(s["ttft_p50_s"], 3), round(s["tpot_p50_s"], 3)
        (1.0, 0.03, 0.02)
        """
        df = self.requests
        ok = (df["outcome"] == "ok").to_numpy()
        ttft = np.where(ok, df["ttft_s"].fill_null(np.inf).to_numpy(), np.inf)
        tpot_raw = df["tpot_s"].to_numpy()
        tpot_raw = np.where(np.isnan(tpot_raw.astype(np.float64)), 0.0, tpot_raw)
        tpot = np.where(ok, tpot_raw, np.inf)
        good = ok & (ttft <= ttft_slo_s) & (tpot <= tpot_slo_s)
        n = max(df.height, 1)
        served = df.filter(pl.col("outcome") == "ok")
        tokens = float(
            served.select(pl.col("input_tokens").sum() + pl.col("output_tokens").sum()).item()
        )
        multi = df.filter((pl.col("outcome") == "ok") & pl.col("tpot_s").is_not_null())["tpot_s"]

        def q(values: np.ndarray, p: float) -> float:
            if not values.size:
                return math.nan
            # no interpolation: failed requests are +inf and inf - inf is undefined
            return float(np.quantile(values, p, method="inverted_cdf"))

        return {
            "requests": float(df.height),
            "arrival_rate_rps": df.height / self.duration_s,
            "ttft_p50_s": q(ttft, 0.5),
            "ttft_p99_s": q(ttft, 0.99),
            "tpot_p50_s": q(multi.to_numpy(), 0.5) if multi.len() else math.nan,
            "tpot_p99_s": q(tpot[tpot > 0], 0.99),
            "slo_attainment": float(good.sum()) / n,
            "goodput_rps": float(good.sum()) / self.duration_s,
            "failed_share": float((~ok).sum()) / n,
            "tokens_per_s": tokens / self.duration_s,
            "utilisation": self.utilisation,
        }


def _demand_arrays(demand: Any, function: str) -> pl.DataFrame:
    df = frame_in(demand, parameter="demand", function=function)
    missing = [c for c in ("arrival_time", "input_tokens", "output_tokens") if c not in df.columns]
    if missing:
        raise SchemaError(
            f"The demand frame given to {function} is missing {missing} (a workload table is "
            f"expected). Available columns: {preview(df.columns, 300)}."
        )
    dtype = df.schema["arrival_time"]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise SchemaError(
            f"The 'arrival_time' column given to {function} must be a time-zone-aware "
            f"datetime. Got {dtype} instead."
        )
    df = df.select(
        pl.col("arrival_time").dt.convert_time_zone("UTC").cast(TIME),
        "input_tokens",
        "output_tokens",
    )
    bad = df.filter(
        pl.col("input_tokens").is_null()
        | pl.col("output_tokens").is_null()
        | (pl.col("input_tokens") < 1)
        | (pl.col("output_tokens") < 1)
    )
    if bad.height:
        raise SchemaError(
            f"The demand frame given to {function} has {bad.height} rows whose input_tokens "
            f"or output_tokens is null or below 1 (first: {preview(bad.row(0), 200)}); drop "
            "or fill them first."
        )
    return df.sort("arrival_time", maintain_order=True)


@validate_params(
    model=InstanceOf(ServiceModel),
    replicas=Interval(int, 1, None, description="an integer >= 1"),
    prefix_cache_hit_rate=Interval(float, 0, 1, closed="left"),
)
def simulate(
    demand: Any,
    model: ServiceModel,
    replicas: int,
    *,
    max_waiting: int | None = None,
    timeout_s: float | None = None,
    prefix_cache_hit_rate: float = 0.0,
) -> Simulation:
    """Replay arrivals through a fleet of continuous-batching replicas.

    Parameters
    ----------
    demand : frame
        A workload table (``arrival_time``, ``input_tokens``, ``output_tokens``), real or
        forecast; replayed in arrival order.
    model : ServiceModel
        The replica's service model and engine limits.
    replicas : int
        Replicas in the fleet (GPUs = replicas x ``model.gpus_per_replica``).
    max_waiting : int, optional
        Waiting-queue limit per replica; arrivals beyond it are rejected.
    timeout_s : float, optional
        Requests still waiting for admission after this long time out.
    prefix_cache_hit_rate : float, default 0.0
        Share of every prompt found in the prefix cache (not prefilled again; its KV is
        still held).

    Returns
    -------
    Simulation

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> m = ServiceModel("m", "gpu", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> demand = pl.DataFrame({"arrival_time": [t0], "input_tokens": [1000],
    ...                        "output_tokens": [11]})
    >>> sim = simulate(demand, m, replicas=1)
    >>> sim.requests.select("ttft_s", "tpot_s", "latency_s").row(0)  # 0.02 + 0.1; 10 x 0.02
    (0.12, 0.02, 0.32)
    """
    function = caller() or "capacity.simulate"
    df = _demand_arrays(demand, function)
    t_ns = df["arrival_time"].dt.epoch("ns").to_numpy()
    t0 = int(t_ns[0]) if t_ns.size else 0
    arrival = ((t_ns - t0) / 1e9).tolist()
    inp = df["input_tokens"].to_numpy().astype(np.int64)
    out = df["output_tokens"].to_numpy().astype(np.int64)
    prompt = np.maximum(np.ceil(inp * (1.0 - prefix_cache_hit_rate)), 1).astype(np.int64)
    where, outcome, admit, first, end, busy = _run(
        arrival,
        prompt.tolist(),
        out.tolist(),
        (inp + out).tolist(),
        model,
        replicas,
        max_waiting,
        timeout_s,
    )
    arr = np.asarray(arrival)
    code = np.asarray(outcome, dtype=np.int8)
    ok = code == _OK
    first_a = np.asarray(first)
    end_a = np.asarray(end)
    admit_a = np.asarray(admit)
    ttft = np.where(ok, first_a - arr, np.nan)
    multi = ok & (out > 1)
    tpot = np.where(multi, (end_a - first_a) / np.maximum(out - 1, 1), np.nan)
    requests = pl.DataFrame(
        {
            "arrival_time": df["arrival_time"],
            "input_tokens": df["input_tokens"],
            "output_tokens": df["output_tokens"],
            "replica": pl.Series(where, dtype=pl.Int64),
            "outcome": pl.Series([OUTCOMES[c] for c in outcome], dtype=pl.String),
            "queue_s": pl.Series(np.where(admit_a >= 0, admit_a - arr, np.nan)),
            "ttft_s": pl.Series(ttft),
            "tpot_s": pl.Series(tpot),
            "latency_s": pl.Series(np.where(ok, end_a - arr, np.nan)),
        }
    ).with_columns(pl.col("queue_s", "ttft_s", "tpot_s", "latency_s").fill_nan(None))
    duration = max(float(arr[-1] - arr[0]) if arr.size else 0.0, 1.0)
    makespan = max(float(end_a.max() - arr[0]) if arr.size else 0.0, duration)
    return Simulation(requests, model, replicas, tuple(busy), duration, makespan)
