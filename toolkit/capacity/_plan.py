"""What to plan, found from the data, for :mod:`toolkit.capacity`: the pool, its replicas,
GPU type and vLLM limits (:func:`plan_pool`), and the windows and comparisons a capacity
notebook shows (:func:`busiest_window`, :func:`weekday_peak_hours`, :func:`calibrate`,
:func:`replay_periods`, :func:`compare_gpu_sources` ...)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import (
    Interval,
    OneOf,
    caller,
    frame_in,
    reject,
    validate_params,
)
from toolkit.capacity._demand import _seconds, arrival_rate, reconstruct_demand, scale_demand
from toolkit.capacity._model import ServiceModel
from toolkit.capacity._simulation import simulate
from toolkit.capacity._sizing import latency_by_load, load_sweep
from toolkit.errors import ParameterError, SchemaError
from toolkit.schema import require_columns

__all__ = [
    "VLLM_DEFAULTS",
    "VLLM_LARGE_GPU_DEFAULTS",
    "PoolPlan",
    "busiest_window",
    "calibrate",
    "compare_gpu_sources",
    "covers",
    "fit_plan_model",
    "gauges_over_time",
    "gpu_sources",
    "latency_curves",
    "paths_support",
    "plan_pool",
    "pool_demand",
    "priced",
    "queue_times",
    "replay_periods",
    "standard_scenarios",
    "utilisation_by_model",
    "weekday_peak_hours",
]

#: vLLM's own defaults for the engine limits the planner needs (``vllm serve``, the OpenAI
#: server, chunked prefill; ``EngineArgs.get_batch_defaults``): ``max_num_seqs`` 256 and
#: ``max_num_batched_tokens`` 2048, or 1024 and 8192 on a GPU with at least 70 GiB that is
#: not an A100 (:data:`VLLM_LARGE_GPU_DEFAULTS`).
VLLM_DEFAULTS: Mapping[str, int] = {"max_num_seqs": 256, "max_batched_tokens": 2048}
VLLM_LARGE_GPU_DEFAULTS: Mapping[str, int] = {"max_num_seqs": 1024, "max_batched_tokens": 8192}
_LARGE_GPU_BYTES = 70 * 2**30

#: Words that name a pool (or model) in a label or column name, most telling first.
_POOL_WORDS = ("pool", "model", "deployment", "cluster", "service")
#: Words that name one replica of a pool.
_REPLICA_WORDS = ("replica", "instance", "pod", "engine", "worker", "shard")
#: Request counters of vLLM, per finished request.
_COUNTERS = ("vllm:e2e_request_latency_seconds_count", "vllm:request_success_total")
_GAUGES = ("vllm:num_requests_running", "vllm:num_requests_waiting")
_QUEUE_ATTRIBUTE = "attributes.gen_ai.latency.time_in_queue"  # vLLM's server spans


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def _rank(name: str, words: Sequence[str]) -> int:
    tail = "_".join(_words(name.removeprefix("label.").removeprefix("attributes.")))
    for i, word in enumerate(words):
        if word in tail:
            return i
    return len(words)


def _is_replica(name: str) -> bool:
    return _rank(name, _REPLICA_WORDS) < len(_REPLICA_WORDS)


_PLANNED = (
    "pool",
    "pool_label",
    "pool_column",
    "replicas",
    "gpu_type",
    "trace_sampling_ratio",
    "max_num_seqs",
    "kv_capacity_tokens",
    "max_batched_tokens",
    "max_waiting",
    "timeout_s",
)


@dataclass(frozen=True)
class PoolPlan:
    """The pool to plan and its configuration, each value with where it came from.

    Made by :func:`plan_pool`.

    Attributes
    ----------
    pool : str or None
        The pool (or model) planned; None when the data name none.
    pool_label : str or None
        The metrics label column naming the pool (``label.<name>``).
    pool_column : str or None
        The llm_calls column naming the pool.
    replicas : int
        Replicas today (one GPU type each).
    gpu_type : str
        GPU type (the price key), as the GPU telemetry names it.
    trace_sampling_ratio : float
        Share of the pool's requests the traces hold.
    max_num_seqs, kv_capacity_tokens, max_batched_tokens : int
        vLLM limits per replica.
    max_waiting : int or None
        Queue limit per replica (None: unbounded).
    timeout_s : float or None
        Gateway timeout on the wait for admission (None: none).
    calls : int
        Traced calls of the pool.
    metric_samples : int
        Samples of the pool's vLLM request gauges and counters.
    sources : tuple of (str, str)
        For each value: where it came from (a parameter, the data, a default).
    """

    pool: str | None
    pool_label: str | None
    pool_column: str | None
    replicas: int
    gpu_type: str
    trace_sampling_ratio: float
    max_num_seqs: int
    kv_capacity_tokens: int
    max_batched_tokens: int
    max_waiting: int | None
    timeout_s: float | None
    calls: int
    metric_samples: int
    sources: tuple[tuple[str, str], ...] = ()

    @property
    def has_calls(self) -> bool:
        """Whether traced calls of the pool exist."""
        return self.calls > 0

    @property
    def has_metrics(self) -> bool:
        """Whether the pool's vLLM request metrics exist."""
        return self.metric_samples > 0

    def as_dict(self) -> dict[str, Any]:
        """The planned values by parameter name (what :meth:`to_frame` shows)."""
        return {n: getattr(self, n) for n in _PLANNED}

    def candidates(self, given: Sequence[int] | None = None) -> list[int]:
        """Fleet sizes to try: ``given`` (or one below today's up to twice today's + 2),
        today's always included.

        Examples
        --------
        >>> import polars as pl, datetime as dt
        >>> t = [dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)]
        >>> plan = plan_pool(pl.DataFrame({"start_time": t, "request_model": ["m"]}), replicas=4)
        >>> plan.candidates(), plan.candidates([8, 6])
        ([3, 4, 5, 6, 7, 8, 9, 10], [4, 6, 8])
        """
        default = range(max(1, self.replicas - 1), 2 * self.replicas + 3)
        return sorted({self.replicas, *(default if given is None else given)})

    def to_frame(self) -> pl.DataFrame:
        """One row per planned value: ``parameter``, ``value``, ``from``."""
        found = dict(self.sources)
        names = _PLANNED
        values = [getattr(self, n) for n in names]
        return pl.DataFrame(
            {
                "parameter": list(names),
                "value": [
                    f"{v:.4g}" if isinstance(v, float) else ("-" if v is None else str(v))
                    for v in values
                ],
                "from": [found.get(n, "") for n in names],
            }
        )

    @validate_params(kind=OneOf("calls", "metrics"))
    def check(self, kind: str) -> Any:
        """A :class:`toolkit.Support` for a section that needs the pool's ``"calls"`` or
        its vLLM ``"metrics"`` (request gauges and counters, with a label naming the pool).

        Examples
        --------
        >>> import polars as pl, datetime as dt
        >>> t = [dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)]
        >>> plan = plan_pool(pl.DataFrame({"start_time": t, "request_model": ["m"]}))
        >>> plan.check("calls").ok, plan.check("metrics").missing
        (True, ('vLLM request metrics of the pool',))
        """
        from toolkit.ingest.discover import Support

        where = f" of pool {self.pool!r}" if self.pool is not None else ""
        # Without any calls (or vLLM series) the table's own check says how to get them:
        # this one only adds what is missing for the pool.
        if kind == "calls":
            found = (
                f"{self.calls:,} calls{where} (pool column {self.pool_column})"
                if self.pool_column is not None or self.has_calls
                else "no traced calls"
            )
            how = ""
            if not self.has_calls and self.pool_column is not None:
                how = (
                    f"trace the calls of {self.pool!r}, or set pool to a value of "
                    f"{self.pool_column}"
                )
            return Support(
                f"traced calls{where}",
                "traced LLM calls of the pool",
                found,
                () if self.has_calls else ("traced calls of the pool",),
                how,
            )
        found = (
            f"{self.metric_samples:,} samples{where} (label {self.pool_label})"
            if self.pool_label is not None
            else "no vLLM request series"
        )
        how = ""
        if not self.has_metrics and self.pool_label is not None:
            how = (
                "scrape vLLM's /metrics for the pool (num_requests_running, "
                "num_requests_waiting, kv_cache_usage_perc, e2e_request_latency_seconds)"
            )
        return Support(
            f"vLLM metrics{where}",
            "vLLM's request gauges and counters with a label naming the pool",
            found,
            () if self.has_metrics else ("vLLM request metrics of the pool",),
            how,
        )

    def pool_calls(self, calls: Any) -> pl.DataFrame:
        """The calls of the planned pool (all calls when no column names pools)."""
        df = frame_in(calls, parameter="calls", function="capacity.PoolPlan.pool_calls")
        if self.pool_column is None or self.pool is None:
            return df
        require_columns(df, [self.pool_column], table="llm_calls", where="(the pool column)")
        return df.filter(pl.col(self.pool_column) == self.pool)


def _vllm(metrics: pl.DataFrame | None) -> pl.DataFrame | None:
    if metrics is None or "name" not in metrics.columns:
        return None
    rows = metrics.filter(pl.col("name").str.starts_with("vllm:"))
    return rows if rows.height else None


def _label_candidates(vllm: pl.DataFrame) -> list[str]:
    request = vllm.filter(pl.col("name").is_in([*_GAUGES, *_COUNTERS]))
    rows = request if request.height else vllm
    out = []
    for c in rows.columns:
        if not c.startswith("label.") or c in ("label.le", "label.quantile") or _is_replica(c):
            continue
        if rows[c].null_count() < rows.height and rows.schema[c] == pl.String:
            out.append(c)
    return out


def _column_candidates(calls: pl.DataFrame) -> list[str]:
    out = []
    for c in calls.columns:
        named = c in ("request_model", "response_model", "service_name")
        if not (named or c.startswith(("attributes.", "resource."))) or _is_replica(c):
            continue
        if calls.schema[c] != pl.String:
            continue
        values = calls[c].drop_nulls()
        if values.len() and values.n_unique() <= 50:
            out.append(c)
    return out


def _values(frame: pl.DataFrame, column: str) -> set[str]:
    return {str(v) for v in frame[column].drop_nulls().unique().to_list()}


def _counter_rows(vllm: pl.DataFrame, label: str | None, pool: str | None) -> pl.DataFrame:
    for name in _COUNTERS:
        rows = vllm.filter(pl.col("name") == name)
        if label is not None and pool is not None:
            rows = rows.filter(pl.col(label) == pool)
        if rows.height:
            return rows
    return vllm.clear()


def _increase(rows: pl.DataFrame, t0: Any = None, t1: Any = None) -> float:
    """Total increase of a counter's series (resets count from zero) in [t0, t1]."""
    if rows.height == 0:
        return 0.0
    if t0 is not None:
        rows = rows.filter(pl.col("time").is_between(t0, t1))
    keys = [c for c in rows.columns if c.startswith("label.") and rows[c].null_count() == 0]
    d = rows.sort([*keys, "time"]).with_columns(
        pl.col("value").diff().over(keys or None).alias("_d")
    )
    inc = d.select(
        pl.when(pl.col("_d") < 0).then(pl.col("value")).otherwise(pl.col("_d")).sum()
    ).item()
    return float(inc or 0.0)


def _busiest_pool(
    vllm: pl.DataFrame | None,
    calls: pl.DataFrame | None,
    label: str | None,
    column: str | None,
) -> tuple[str | None, str]:
    if vllm is not None and label is not None:
        counts = {v: _increase(_counter_rows(vllm, label, v)) for v in sorted(_values(vllm, label))}
        if counts and max(counts.values()) > 0:
            best = max(counts, key=lambda k: counts[k])
            return best, f"the busiest of {len(counts)} by vLLM's request counter ({label})"
    if calls is not None and column is not None:
        top = calls.group_by(column).len().drop_nulls(column).sort("len", descending=True)
        if top.height:
            return str(top[column][0]), f"the busiest of {top.height} by traced calls ({column})"
    if vllm is not None and label is not None:
        values = sorted(_values(vllm, label))
        if values:
            return values[0], f"the first of {len(values)} ({label})"
    return None, "no label or column names a pool: all requests are planned as one pool"


def _replicas(
    vllm: pl.DataFrame | None,
    calls: pl.DataFrame | None,
    gpu: pl.DataFrame | None,
    plan: dict[str, Any],
) -> tuple[int, str, set[str]]:
    pool, label, column = plan["pool"], plan["pool_label"], plan["pool_column"]
    names: set[str] = set()
    if calls is not None:
        own = calls if column is None or pool is None else calls.filter(pl.col(column) == pool)
        cols = sorted(
            (c for c in own.columns if _is_replica(c) and own.schema[c] == pl.String),
            key=lambda c: _rank(c, _REPLICA_WORDS),
        )
        for c in cols:
            n = own[c].drop_nulls().n_unique()
            if n >= 1 and "service.instance" not in c:
                names = _values(own, c)
                return n, f"distinct {c} of the pool's calls", names
    if vllm is not None:
        own = vllm.filter(pl.col("name").is_in(list(_GAUGES)))
        if label is not None and pool is not None:
            own = own.filter(pl.col(label) == pool)
        keys = [
            c
            for c in own.columns
            if c.startswith("label.") and _is_replica(c) and own[c].null_count() < own.height
        ]
        if own.height and keys:
            n = own.select(keys).unique().height
            return n, f"distinct {', '.join(keys)} of the pool's vLLM gauges", names
    if gpu is not None and gpu.height and plan.get("gpu_rows") is not None:
        rows = plan["gpu_rows"]
        n = rows.select("host", "gpu_index").unique().height
        if n:
            return n, "GPUs of the pool's type in the GPU telemetry", names
    return 1, "none found in the data: 1 assumed (set replicas)", names


def _gpu_type(
    gpu: pl.DataFrame | None, pool: str | None, replica_names: set[str]
) -> tuple[str, str, pl.DataFrame | None]:
    if gpu is None or gpu.height == 0 or "gpu_model" not in gpu.columns:
        return "unknown GPU", "no GPU telemetry (set gpu_type)", None
    text = [c for c in gpu.columns if gpu.schema[c] == pl.String and c != "gpu_model"]
    if replica_names:
        hit = gpu.filter(pl.any_horizontal([pl.col(c).is_in(list(replica_names)) for c in text]))
        if hit.height:
            model = str(hit["gpu_model"].mode().sort()[0])
            return model, "GPUs whose labels name the pool's replicas", hit
    tokens = [w for w in _words(pool or "") if len(w) >= 2 and w not in _POOL_WORDS]
    if tokens:
        haystack = pl.concat_str(
            [pl.col(c).fill_null("") for c in ("gpu_model", *text)], separator=" "
        ).str.to_lowercase()
        hit = gpu.filter(
            pl.any_horizontal([haystack.str.contains(t, literal=True) for t in tokens])
        )
        if hit.height:
            model = str(hit["gpu_model"].mode().sort()[0])
            return model, f"GPUs whose model or host names {pool!r}", hit
    models = gpu["gpu_model"].drop_nulls().unique().to_list()
    if len(models) == 1:
        return str(models[0]), "the only GPU model in the GPU telemetry", gpu
    return "unknown GPU", f"{len(models)} GPU models, none matched to the pool (set gpu_type)", None


def _cache_config(vllm: pl.DataFrame | None, label: str | None, pool: str | None) -> int | None:
    if vllm is None:
        return None
    rows = vllm.filter(pl.col("name") == "vllm:cache_config_info")
    if label is not None and pool is not None and label in rows.columns:
        own = rows.filter(pl.col(label) == pool)
        rows = own if own.height else rows
    if rows.height == 0:
        return None
    for col in ("label.kv_cache_size_tokens",):
        if col in rows.columns:
            v = pl.Series(rows[col]).cast(pl.Float64, strict=False).drop_nulls()
            if v.len():
                return int(v.median())  # type: ignore[arg-type]
    if {"label.num_gpu_blocks", "label.block_size"} <= set(rows.columns):
        blocks = rows["label.num_gpu_blocks"].cast(pl.Float64, strict=False)
        size = rows["label.block_size"].cast(pl.Float64, strict=False)
        v = (blocks * size).drop_nulls()
        if v.len():
            return int(v.median())  # type: ignore[arg-type]
    return None


def _kv_estimate(
    vllm: pl.DataFrame | None, own_calls: pl.DataFrame | None, plan: dict[str, Any]
) -> int | None:
    """Tokens a replica's KV cache holds: the sequences running times the time-weighted
    context of a call, over the KV-cache usage gauge (median over scrapes with 5 %+)."""
    if vllm is None or own_calls is None or own_calls.height < 10:
        return None
    need = ("input_tokens", "output_tokens", "latency_s")
    if any(c not in own_calls.columns for c in need):
        return None
    ok = own_calls.filter(
        pl.col("latency_s").is_not_null()
        & (pl.col("latency_s") > 0)
        & pl.col("input_tokens").is_not_null()
    )
    if ok.height < 10:
        return None
    context = (ok["input_tokens"] + ok["output_tokens"].fill_null(0)).cast(pl.Float64)
    weight = ok["latency_s"]
    per_seq = float((context * weight).sum()) / float(weight.sum())
    names = {
        "vllm:num_requests_running": "running",
        "vllm:kv_cache_usage_perc": "kv",
        "vllm:gpu_cache_usage_perc": "kv",
    }
    rows = vllm.filter(pl.col("name").is_in(list(names)))
    if plan["pool_label"] is not None and plan["pool"] is not None:
        rows = rows.filter(pl.col(plan["pool_label"]) == plan["pool"])
    if rows.height == 0:
        return None
    wide = (
        rows.with_columns(pl.col("name").replace_strict(names))
        .group_by("time", "name")
        .agg(
            pl.when(pl.col("name").first() == "kv")
            .then(pl.col("value").mean())
            .otherwise(pl.col("value").sum())
            .alias("value")
        )
        .pivot(on="name", index="time", values="value")
    )
    if not {"running", "kv"} <= set(wide.columns):
        return None
    wide = wide.filter((pl.col("kv") > 0.05) & (pl.col("running") > 0))
    if wide.height < 10:
        return None
    est = (wide["running"] / plan["replicas"] * per_seq / wide["kv"]).median()
    return int(round(float(est) / 16) * 16) if est else None


def _sampling_ratio(
    vllm: pl.DataFrame | None, own_calls: pl.DataFrame | None, plan: dict[str, Any]
) -> tuple[float, str]:
    if vllm is None or own_calls is None or own_calls.height == 0:
        return 1.0, "1.0 assumed: no vLLM request counter and traced calls to compare"
    rows = _counter_rows(vllm, plan["pool_label"], plan["pool"])
    if rows.height == 0:
        return 1.0, "1.0 assumed: no vLLM request counter for the pool"
    t0: Any = max(rows["time"].min(), own_calls["start_time"].min())  # type: ignore[type-var]
    t1: Any = min(rows["time"].max(), own_calls["start_time"].max())  # type: ignore[type-var]
    if t0 >= t1:
        return 1.0, "1.0 assumed: the counter and the traced calls do not overlap in time"
    counted = _increase(rows, t0, t1)
    traced = own_calls.filter(pl.col("start_time").is_between(t0, t1)).height
    if counted <= 0:
        return 1.0, "1.0 assumed: the request counter did not increase"
    ratio = min(1.0, traced / counted)
    return (
        ratio,
        f"traced calls / {rows['name'][0]} increase where both exist ({traced:,} / {counted:,.0f})",
    )


def _engine_defaults(gpu_rows: pl.DataFrame | None, gpu_type: str) -> tuple[Mapping[str, int], str]:
    memory = None
    if gpu_rows is not None and "mem_total_bytes" in gpu_rows.columns:
        memory = gpu_rows["mem_total_bytes"].max()
    if memory is None:
        return VLLM_DEFAULTS, "vLLM's default (GPU memory unknown: under 70 GiB assumed)"
    gib = float(memory) / 2**30  # type: ignore[arg-type]
    if float(memory) >= _LARGE_GPU_BYTES and "a100" not in gpu_type.lower():  # type: ignore[arg-type]
        return VLLM_LARGE_GPU_DEFAULTS, f"vLLM's default for a {gib:.0f} GiB GPU (70 GiB or more)"
    return VLLM_DEFAULTS, f"vLLM's default for a {gib:.0f} GiB GPU"


def _timeout(own_calls: pl.DataFrame | None) -> float | None:
    if own_calls is None or "error_type" not in own_calls.columns:
        return None
    timed_out = own_calls.filter(
        pl.col("error_type").str.to_lowercase().str.contains("timeout")
        & pl.col("latency_s").is_not_null()
    )
    if timed_out.height < 3:
        return None
    return round(float(timed_out["latency_s"].median()), 1)  # type: ignore[arg-type]


def plan_pool(
    calls: Any = None,
    metrics: Any = None,
    gpu: Any = None,
    *,
    pool: str | None = None,
    pool_label: str | None = None,
    pool_column: str | None = None,
    replicas: int | None = None,
    gpu_type: str | None = None,
    trace_sampling_ratio: float | None = None,
    max_num_seqs: int | None = None,
    kv_capacity_tokens: int | None = None,
    max_batched_tokens: int | None = None,
    max_waiting: int | None = None,
    timeout_s: float | None = None,
) -> PoolPlan:
    """Find the pool to plan and its configuration from the data; parameters override.

    - ``pool_label`` (metrics) and ``pool_column`` (calls): the label of vLLM's request
      series and the calls column whose values overlap most (ties: a name with "pool",
      then "model", "deployment" ...); without metrics or calls, the best-named one.
    - ``pool``: the busiest by vLLM's request counter, else by traced calls.
    - ``replicas``: distinct replica names (a column with "replica", "instance", "pod",
      "engine" ...) of the pool's calls, else of its vLLM gauges, else its GPUs; else 1.
    - ``gpu_type``: the model of the GPUs whose labels name the pool's replicas, else whose
      model or host names the pool, else the only GPU model.
    - ``trace_sampling_ratio``: traced calls over the counter's increase where both exist.
    - ``kv_capacity_tokens``: ``vllm:cache_config_info`` (``kv_cache_size_tokens`` or
      ``num_gpu_blocks x block_size``), else estimated from the KV-cache usage gauge, the
      running sequences and the calls' time-weighted context; else enough for
      ``max_num_seqs`` sequences of the 95th-percentile context.
    - ``max_num_seqs``, ``max_batched_tokens``: vLLM's defaults for the GPU
      (:data:`VLLM_DEFAULTS`, or :data:`VLLM_LARGE_GPU_DEFAULTS` when the pool's GPUs
      have at least 70 GiB and are not A100s).
    - ``timeout_s``: the median latency of calls whose error type names a timeout.
    - ``max_waiting``: unbounded unless given (a gateway's queue limit is not in the data).

    Parameters
    ----------
    calls, metrics, gpu : frame, optional
        The ``llm_calls``, ``metrics`` and ``gpu`` tables (any of them may be missing).
    pool, pool_label, pool_column, replicas, gpu_type, trace_sampling_ratio, max_num_seqs, \
kv_capacity_tokens, max_batched_tokens, max_waiting, timeout_s : optional
        Overrides of what the data say.

    Returns
    -------
    PoolPlan

    Raises
    ------
    ColumnNotFoundError
        A named ``pool_label`` or ``pool_column`` is not in its table.
    ParameterError
        A named ``pool`` is in neither table.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t = [dt.datetime(2026, 1, 1, 0, m, tzinfo=dt.timezone.utc) for m in range(40)]
    >>> calls = pl.DataFrame({"start_time": t, "request_model": ["a"] * 30 + ["b"] * 10,
    ...                       "attributes.replica": [f"r{i % 3}" for i in range(40)]})
    >>> plan = plan_pool(calls)
    >>> plan.pool, plan.pool_column, plan.replicas, plan.max_num_seqs
    ('a', 'request_model', 3, 256)
    """
    function = "capacity.plan_pool"
    cl = None if calls is None else frame_in(calls, parameter="calls", function=function)
    mt = None if metrics is None else frame_in(metrics, parameter="metrics", function=function)
    gp = None if gpu is None else frame_in(gpu, parameter="gpu", function=function)
    vllm = _vllm(mt)
    if pool_label is not None:
        if mt is None:
            raise reject(
                "pool_label",
                "be None when no metrics are given (it names a metrics label)",
                pool_label,
                function=function,
            )
        require_columns(mt, [pool_label], table="metrics", where="(the 'pool_label' parameter)")
    if pool_column is not None:
        if cl is None:
            raise reject(
                "pool_column",
                "be None when no calls are given (it names a calls column)",
                pool_column,
                function=function,
            )
        require_columns(cl, [pool_column], table="llm_calls", where="(the 'pool_column' parameter)")
    sources: dict[str, str] = {}
    labels = _label_candidates(vllm) if vllm is not None else []
    columns = _column_candidates(cl) if cl is not None else []
    label, column = pool_label, pool_column
    if label is None and labels:
        pairs = (
            [
                (len(_values(vllm, lb) & _values(cl, c)), lb, c)  # type: ignore[arg-type]
                for lb in labels
                for c in (columns if column is None else [column])
            ]
            if cl is not None
            else []
        )
        pairs = [p for p in pairs if p[0] > 0]
        if pairs:
            pairs.sort(key=lambda p: (-p[0], _rank(p[1], _POOL_WORDS), _rank(p[2], _POOL_WORDS)))
            label = pairs[0][1]
            if column is None:
                column = pairs[0][2]
                sources["pool_column"] = f"its values match the metrics label {label}"
            sources["pool_label"] = f"its values match the calls column {column}"
        else:
            label = min(labels, key=lambda c: (_rank(c, _POOL_WORDS), c))
            sources["pool_label"] = "the metrics label that best names a pool or model"
    if column is None and columns:
        if label is not None and vllm is not None:
            match = [c for c in columns if _values(cl, c) & _values(vllm, label)]  # type: ignore[arg-type]
            if match:
                column = min(match, key=lambda c: (_rank(c, _POOL_WORDS), c))
                sources["pool_column"] = f"its values match the metrics label {label}"
        if column is None:
            column = min(columns, key=lambda c: (_rank(c, _POOL_WORDS), c))
            sources["pool_column"] = "the calls column that best names a pool or model"
    for name, value in (("pool_label", pool_label), ("pool_column", pool_column)):
        if value is not None:
            sources[name] = "parameter"
    sources.setdefault("pool_label", "no vLLM metrics" if vllm is None else "none found")
    sources.setdefault("pool_column", "no traced calls" if cl is None else "none found")
    if pool is None:
        pool, sources["pool"] = _busiest_pool(vllm, cl, label, column)
    else:
        known = (_values(vllm, label) if vllm is not None and label else set()) | (
            _values(cl, column) if cl is not None and column else set()
        )
        if known and pool not in known:
            raise reject("pool", f"be one of {sorted(known)[:20]}", pool, function=function)
        sources["pool"] = "parameter"
    plan: dict[str, Any] = {"pool": pool, "pool_label": label, "pool_column": column}
    own = None
    if cl is not None:
        own = cl if column is None or pool is None else cl.filter(pl.col(column) == pool)
    metric_samples = 0
    if vllm is not None:
        rows = vllm.filter(pl.col("name").is_in([*_GAUGES, *_COUNTERS]))
        if label is not None and pool is not None:
            rows = rows.filter(pl.col(label) == pool)
        metric_samples = rows.height
    # GPU type first by pod/host names needs the replica names; then replicas may use GPUs.
    n, how, names = _replicas(vllm, own, None, plan)
    if gpu_type is None:
        gpu_type, sources["gpu_type"], plan["gpu_rows"] = _gpu_type(gp, pool, names)
    else:
        sources["gpu_type"] = "parameter"
    if replicas is None:
        if how.startswith("none found") and plan.get("gpu_rows") is not None:
            n, how, _ = _replicas(None, None, gp, plan)
        replicas, sources["replicas"] = n, how
    else:
        sources["replicas"] = "parameter"
    plan["replicas"] = replicas
    if trace_sampling_ratio is None:
        trace_sampling_ratio, sources["trace_sampling_ratio"] = _sampling_ratio(vllm, own, plan)
    else:
        sources["trace_sampling_ratio"] = "parameter"
    defaults, why = _engine_defaults(plan.get("gpu_rows"), gpu_type)
    for name, given in (("max_num_seqs", max_num_seqs), ("max_batched_tokens", max_batched_tokens)):
        sources[name] = "parameter" if given is not None else why
    max_num_seqs = max_num_seqs or defaults["max_num_seqs"]
    max_batched_tokens = max_batched_tokens or defaults["max_batched_tokens"]
    if kv_capacity_tokens is not None:
        sources["kv_capacity_tokens"] = "parameter"
    else:
        kv_capacity_tokens = _cache_config(vllm, label, pool)
        sources["kv_capacity_tokens"] = "vllm:cache_config_info"
        if kv_capacity_tokens is None:
            kv_capacity_tokens = _kv_estimate(vllm, own, plan)
            sources["kv_capacity_tokens"] = (
                "estimated: running sequences x time-weighted context / KV-cache usage"
            )
        if kv_capacity_tokens is None:
            context = 4096.0
            if own is not None and {"input_tokens", "output_tokens"} <= set(own.columns):
                total = (own["input_tokens"] + own["output_tokens"].fill_null(0)).drop_nulls()
                if total.len():
                    context = float(total.quantile(0.95) or context)
            kv_capacity_tokens = int(max_num_seqs * context)
            sources["kv_capacity_tokens"] = (
                "assumed not binding: max_num_seqs x the 95th-percentile context (set it: "
                "vLLM logs '# GPU blocks' x block size at start-up)"
            )
    if timeout_s is None:
        timeout_s = _timeout(own)
        sources["timeout_s"] = (
            "median latency of the pool's timed-out calls" if timeout_s else "none found"
        )
    else:
        sources["timeout_s"] = "parameter"
    sources["max_waiting"] = (
        "parameter" if max_waiting is not None else "unbounded (not in the data)"
    )
    return PoolPlan(
        pool=pool,
        pool_label=label,
        pool_column=column,
        replicas=int(replicas),
        gpu_type=gpu_type,
        trace_sampling_ratio=float(trace_sampling_ratio),
        max_num_seqs=int(max_num_seqs),
        kv_capacity_tokens=int(kv_capacity_tokens),
        max_batched_tokens=int(max_batched_tokens),
        max_waiting=max_waiting,
        timeout_s=timeout_s,
        calls=0 if own is None else own.height,
        metric_samples=metric_samples,
        sources=tuple(sources.items()),
    )


def queue_times(spans: Any) -> pl.DataFrame | None:
    """``trace_id`` and ``time_in_queue_s`` of spans that carry vLLM's queue time.

    vLLM's own OpenTelemetry spans carry ``gen_ai.latency.time_in_queue``; None when no
    span does (then :func:`fit_service_model` uses the calls made while nothing waited).

    Examples
    --------
    >>> import polars as pl
    >>> spans = pl.DataFrame({"trace_id": ["a", "b"],
    ...                       "attributes.gen_ai.latency.time_in_queue": [0.5, None]})
    >>> queue_times(spans).rows()
    [('a', 0.5)]
    """
    df = frame_in(spans, parameter="spans", function="capacity.queue_times")
    if _QUEUE_ATTRIBUTE not in df.columns or "trace_id" not in df.columns:
        return None
    out = df.filter(pl.col(_QUEUE_ATTRIBUTE).is_not_null()).select(
        "trace_id", pl.col(_QUEUE_ATTRIBUTE).cast(pl.Float64).alias("time_in_queue_s")
    )
    return out if out.height else None


def pool_demand(
    plan: PoolPlan,
    *,
    metrics: Any = None,
    calls: Any = None,
    workload: Any = None,
    seed: int = 0,
) -> tuple[pl.DataFrame | None, Any]:
    """The pool's requests as a workload table, from the best source the data hold.

    1. vLLM's request counter with the traced calls' tokens (:func:`reconstruct_demand`):
       every request, when traces are sampled; without traced calls, each request gets
       the mean prompt and generation tokens of its scrape interval (vLLM's token counters);
    2. else the traced calls themselves, thinned traces scaled up by
       ``1 / plan.trace_sampling_ratio`` (:func:`scale_demand`);
    3. else a workload table (an arrival trace).

    Returns
    -------
    (polars.DataFrame or None, toolkit.Support)
        The workload (``arrival_time``, ``input_tokens``, ``output_tokens``, ``model``,
        ``source``; None when none of the three has rows) and a Support saying which
        source it came from or what is missing.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t = [dt.datetime(2026, 1, 1, 0, m, tzinfo=dt.timezone.utc) for m in range(20)]
    >>> calls = pl.DataFrame({"start_time": t, "input_tokens": [100] * 20,
    ...                       "output_tokens": [10] * 20, "request_model": "m"})
    >>> demand, support = pool_demand(plan_pool(calls, trace_sampling_ratio=0.5), calls=calls)
    >>> demand.height, support.found
    (40, 'traced calls of pool m, scaled by 1 / 0.5')
    """
    from toolkit.ingest.discover import Support

    function = "capacity.pool_demand"
    needs = "the pool's requests: traced calls with token counts, or a workload table"
    if metrics is not None and calls is not None and plan.has_metrics and plan.has_calls:
        mt = frame_in(metrics, parameter="metrics", function=function)
        for counter in _COUNTERS:
            rows = mt.filter(pl.col("name") == counter)
            if plan.pool_label is not None and plan.pool is not None:
                rows = rows.filter(pl.col(plan.pool_label) == plan.pool)
            if rows.height >= 2:
                demand = reconstruct_demand(
                    mt,
                    calls,
                    pool=plan.pool or "",
                    counter=counter,
                    pool_label=plan.pool_label or "",
                    pool_column=plan.pool_column or "",
                    seed=seed,
                )
                found = f"{counter} of pool {plan.pool} with the tokens of its traced calls"
                return demand, Support("demand", needs, found)
    if metrics is not None and plan.has_metrics and not plan.has_calls:
        counted = _counter_demand(
            frame_in(metrics, parameter="metrics", function=function), plan, seed=seed
        )
        if counted is not None:
            found = (
                f"vLLM's request and token counters of pool {plan.pool} (each request "
                "with its scrape interval's mean tokens)"
            )
            return counted, Support("demand", needs, found)
    if calls is not None and plan.has_calls:
        own = plan.pool_calls(calls)
        require_columns(own, ["start_time", "input_tokens", "output_tokens"], table="llm_calls")
        traced = (
            own.filter(pl.col("input_tokens").is_not_null() & (pl.col("input_tokens") > 0))
            .select(
                pl.col("start_time").alias("arrival_time"),
                pl.col("input_tokens").cast(pl.Int64),
                pl.col("output_tokens").fill_null(1).clip(lower_bound=1).cast(pl.Int64),
                pl.lit(plan.pool, pl.String).alias("model"),
                pl.lit("traced calls", pl.String).alias("source"),
            )
            .sort("arrival_time")
        )
        if traced.height:
            found = f"traced calls of pool {plan.pool}"
            if plan.trace_sampling_ratio < 1.0:
                traced = scale_demand(traced, 1.0 / plan.trace_sampling_ratio, seed=seed)
                found += f", scaled by 1 / {plan.trace_sampling_ratio:.4g}"
            return traced, Support("demand", needs, found)
    if workload is not None:
        wl = frame_in(workload, parameter="workload", function=function)
        if wl.height:
            return wl.sort("arrival_time"), Support(
                "demand", needs, f"a workload table of {wl.height:,} requests"
            )
    return None, Support(
        "demand",
        needs,
        f"{plan.calls:,} traced calls of the pool, no workload table",
        ("traced calls with token counts or a workload table",),
        "trace the model calls with token counts (gen_ai.usage.*), or add a request-arrival "
        "trace (Azure LLM inference, BurstGPT, Mooncake ...) to the folder",
    )


def _per_interval(metrics: pl.DataFrame, plan: PoolPlan, name: str) -> pl.DataFrame:
    rows = metrics.filter(pl.col("name") == name)
    if plan.pool_label is not None and plan.pool is not None:
        rows = rows.filter(pl.col(plan.pool_label) == plan.pool)
    keys = [c for c in rows.columns if c.startswith("label.") and rows[c].null_count() == 0]
    inc = (
        rows.sort([*keys, "time"])
        .with_columns(pl.col("value").diff().over(keys or None).alias("_d"))
        .with_columns(
            pl.when(pl.col("_d") < 0).then(pl.col("value")).otherwise(pl.col("_d")).alias("_d")
        )
    )
    return inc.group_by("time").agg(pl.col("_d").sum().alias(name)).sort("time")


def _counter_demand(metrics: pl.DataFrame, plan: PoolPlan, *, seed: int) -> pl.DataFrame | None:
    """Arrivals from vLLM's request counter, tokens from its token counters (per interval)."""
    names = ("vllm:prompt_tokens_total", "vllm:generation_tokens_total")
    counter = next((c for c in _COUNTERS if metrics.filter(pl.col("name") == c).height >= 2), None)
    if counter is None or any(metrics.filter(pl.col("name") == n).height < 2 for n in names):
        return None
    table = _per_interval(metrics, plan, counter)
    for n in names:
        table = table.join(_per_interval(metrics, plan, n), on="time", how="left")
    table = table.with_columns(pl.col("time").shift(1).alias("_from")).filter(
        pl.col("_from").is_not_null() & (pl.col(counter) > 0)
    )
    if table.height == 0:
        return None
    counts = table[counter].round().cast(pl.Int64).to_numpy()
    lo = table["_from"].dt.epoch("ns").to_numpy()
    hi = table["time"].dt.epoch("ns").to_numpy()
    rng = np.random.default_rng(seed)
    start = np.repeat(lo, counts)
    arrival = start + (rng.random(start.size) * np.repeat(hi - lo, counts)).astype(np.int64)
    per_in = (table[names[0]].fill_null(0) / table[counter]).round().clip(1).cast(pl.Int64)
    per_out = (table[names[1]].fill_null(0) / table[counter]).round().clip(1).cast(pl.Int64)
    order = np.argsort(arrival, kind="stable")
    return pl.DataFrame(
        {
            "arrival_time": pl.Series(arrival[order], dtype=pl.Int64)
            .cast(pl.Datetime("ns"))
            .dt.replace_time_zone("UTC"),
            "input_tokens": np.repeat(per_in.to_numpy(), counts)[order],
            "output_tokens": np.repeat(per_out.to_numpy(), counts)[order],
            "model": pl.Series([plan.pool] * int(counts.sum()), dtype=pl.String),
            "source": f"reconstructed: {counter} and token counters of {plan.pool}",
        }
    )


@dataclass(frozen=True)
class Window:
    """A time window ``[start, end)`` and the mean arrival rate in it."""

    start: dt.datetime
    end: dt.datetime
    rate_rps: float

    @property
    def hours(self) -> float:
        """Length in hours."""
        return (self.end - self.start).total_seconds() / 3600

    def select(self, frame: Any, column: str = "arrival_time") -> pl.DataFrame:
        """The rows of ``frame`` whose ``column`` falls in ``[start, end)``."""
        df = frame_in(frame, parameter="frame", function="capacity.Window.select")
        require_columns(df, [column], table="frame", where="(Window.select)")
        return df.filter(pl.col(column).is_between(self.start, self.end, closed="left"))


@validate_params(hours=Interval(int, 1, None))
def busiest_window(demand: Any, *, hours: int = 5, every: str | dt.timedelta = "1h") -> Window:
    """The ``hours`` consecutive buckets of ``every`` with the highest mean arrival rate.

    When the demand covers less than ``hours`` buckets, the whole period is the window.

    Parameters
    ----------
    demand : frame
        A workload table (``arrival_time``).
    hours : int, default 5
        Window length, in buckets.
    every : str or timedelta, default "1h"

    Returns
    -------
    Window

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> hourly = [1, 1, 5, 9, 9, 2, 1]  # requests per hour
    >>> times = [t0 + dt.timedelta(hours=h, minutes=k) for h, n in enumerate(hourly)
    ...          for k in range(n)]
    >>> demand = pl.DataFrame({"arrival_time": times, "input_tokens": 100, "output_tokens": 10})
    >>> w = busiest_window(demand, hours=2)
    >>> w.start.hour, w.end.hour, round(w.rate_rps * 3600, 1)
    (3, 5, 9.0)
    """
    function = caller() or "capacity.busiest_window"
    width = dt.timedelta(seconds=_seconds(every, "every", function))
    rate = arrival_rate(demand, every=every)
    if rate.height == 0:
        raise SchemaError(f"The demand given to {function} has no arrivals.")
    if rate.height <= hours:
        return Window(
            rate["time"].min(),  # type: ignore[arg-type]
            rate["time"].max() + width,  # type: ignore[operator,arg-type]
            float(rate["rate_rps"].mean()),  # type: ignore[arg-type]
        )
    rolled = rate.with_columns(pl.col("rate_rps").rolling_mean(hours).alias("_w")).sort(
        "_w", descending=True, nulls_last=True
    )
    end = rolled["time"][0] + width
    return Window(end - hours * width, end, float(rolled["_w"][0]))


def weekday_peak_hours(load: Any, *, pool: str | None, top: int = 5) -> pl.DataFrame:
    """The hours of weekdays (UTC) when the pool's requests waited most often.

    Parameters
    ----------
    load : frame
        :func:`pool_load` at ``every="1h"``.
    pool : str or None
        The pool (None: all rows).
    top : int, default 5

    Returns
    -------
    polars.DataFrame
        ``hour_utc``, ``waiting_share`` (mean over the weekdays), ``requests_per_s``,
        the ``top`` hours by ``waiting_share`` (hours that never queued left out).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t = [dt.datetime(2026, 1, 5, h, tzinfo=dt.timezone.utc) for h in range(24)]  # Monday
    >>> load = pl.DataFrame({"pool": "p", "time": t, "requests_per_s": 1.0,
    ...                      "waiting_share": [0.5 if 13 <= h < 16 else 0.0 for h in range(24)]})
    >>> weekday_peak_hours(load, pool="p")["hour_utc"].to_list()
    [13, 14, 15]
    """
    df = frame_in(load, parameter="load", function="capacity.weekday_peak_hours")
    require_columns(df, ["pool", "time", "waiting_share", "requests_per_s"], table="pool_load")
    if pool is not None:
        df = df.filter(pl.col("pool") == pool)
    return (
        df.filter(pl.col("time").dt.weekday() <= 5)
        .group_by(pl.col("time").dt.hour().alias("hour_utc"))
        .agg(pl.col("waiting_share").mean(), pl.col("requests_per_s").mean())
        .filter(pl.col("waiting_share") > 0)
        .sort(["waiting_share", "hour_utc"], descending=[True, False])
        .head(top)
        .sort("hour_utc")
    )


def gauges_over_time(load: Any, *, pool: str | None, every: str = "15m") -> pl.DataFrame:
    """Running, waiting and KV cache % of a pool per ``every``, long (for a line plot).

    Returns
    -------
    polars.DataFrame
        ``time``, ``gauge`` (``running``, ``waiting``, ``kv_usage``: in %), ``value``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t = [dt.datetime(2026, 1, 1, 0, m, tzinfo=dt.timezone.utc) for m in range(30)]
    >>> load = pl.DataFrame({"pool": "p", "time": t, "running": 2.0, "waiting": 0.0,
    ...                      "kv_usage": 0.5})
    >>> gauges_over_time(load, pool="p").filter(pl.col("gauge") == "kv_usage")["value"].to_list()
    [50.0, 50.0]
    """
    df = frame_in(load, parameter="load", function="capacity.gauges_over_time")
    require_columns(df, ["pool", "time", "running", "waiting", "kv_usage"], table="pool_load")
    if pool is not None:
        df = df.filter(pl.col("pool") == pool)
    return (
        df.sort("time")
        .group_by_dynamic("time", every=every)
        .agg(pl.col("running").mean(), pl.col("waiting").mean(), (pl.col("kv_usage") * 100).mean())
        .unpivot(index="time", variable_name="gauge", value_name="value")
    )


def calibrate(
    demand: Any,
    calls: Any,
    model: ServiceModel,
    replicas: int,
    *,
    max_waiting: int | None = None,
    timeout_s: float | None = None,
    days: float = 1.0,
    every: str = "1h",
    bins: int = 6,
) -> pl.DataFrame:
    """Replay the first ``days`` of the demand on today's fleet and compare TTFT by load.

    The simulated requests and the measured calls of the same period go to
    :func:`latency_by_load`; the ratios of the simulated to the measured TTFT
    percentiles are added.

    Returns
    -------
    polars.DataFrame
        :func:`latency_by_load`'s table with ``ttft_p50_ratio`` and ``ttft_p90_ratio``.
    """
    function = "capacity.calibrate"
    dm = frame_in(demand, parameter="demand", function=function)
    cl = frame_in(calls, parameter="calls", function=function)
    require_columns(dm, ["arrival_time"], table="workload")
    require_columns(cl, ["start_time"], table="llm_calls")
    t0 = dm["arrival_time"].min()
    t1 = t0 + dt.timedelta(days=days)  # type: ignore[operator]
    day = dm.filter(pl.col("arrival_time") < t1)
    sim = simulate(day, model, replicas, max_waiting=max_waiting, timeout_s=timeout_s)
    measured = cl.filter(pl.col("start_time").is_between(t0, t1, closed="left"))
    table = latency_by_load(measured, sim.requests, every=every, bins=bins)
    out: pl.DataFrame = table.with_columns(
        (pl.col("simulated_ttft_p50_s") / pl.col("measured_ttft_p50_s")).alias("ttft_p50_ratio"),
        (pl.col("simulated_ttft_p90_s") / pl.col("measured_ttft_p90_s")).alias("ttft_p90_ratio"),
    )
    return out


def replay_periods(
    demand: Any,
    model: ServiceModel,
    periods: Any,
    *,
    replicas: Sequence[int],
    ttft_slo_s: float,
    tpot_slo_s: float,
    max_waiting: int | None = None,
    timeout_s: float | None = None,
    queued_s: float = 1.0,
) -> pl.DataFrame:
    """Each period's arrivals replayed on each fleet size: queueing, failures, SLO attainment.

    Parameters
    ----------
    demand : frame
        A workload table.
    model : ServiceModel
    periods : frame
        ``start`` and ``end`` (e.g. :func:`saturation_periods`).
    replicas : sequence of int
        Fleet sizes to replay on.
    ttft_slo_s, tpot_slo_s : float
    max_waiting, timeout_s : optional
    queued_s : float, default 1.0
        A request waiting longer than this for admission counts as queued.

    Returns
    -------
    polars.DataFrame
        ``start``, ``end``, ``replicas``, ``requests``, ``queued_share`` (waited over
        ``queued_s`` or never admitted), ``failed_share``, ``slo_attainment``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> m = ServiceModel("m", "gpu", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0 + dt.timedelta(seconds=s) for s in range(60)],
    ...                   "input_tokens": [500] * 60, "output_tokens": [20] * 60})
    >>> p = pl.DataFrame({"start": [t0], "end": [t0 + dt.timedelta(minutes=1)]})
    >>> out = replay_periods(w, m, p, replicas=[1, 2], ttft_slo_s=1.0, tpot_slo_s=0.1)
    >>> out["queued_share"].to_list()
    [0.0, 0.0]
    """
    function = "capacity.replay_periods"
    dm = frame_in(demand, parameter="demand", function=function)
    ps = frame_in(periods, parameter="periods", function=function)
    require_columns(ps, ["start", "end"], table="periods")
    rows: list[dict[str, Any]] = []
    for start, end in ps.select("start", "end").rows():
        window = dm.filter(pl.col("arrival_time").is_between(start, end, closed="left"))
        if window.height == 0:
            continue
        for n in sorted(set(replicas)):
            sim = simulate(window, model, n, max_waiting=max_waiting, timeout_s=timeout_s)
            s = sim.summary(ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s)
            queued = sim.requests["queue_s"].fill_null(math.inf).gt(queued_s).mean()
            rows.append(
                {
                    "start": start,
                    "end": end,
                    "replicas": n,
                    "requests": window.height,
                    "queued_share": float(queued or 0.0),  # type: ignore[arg-type]
                    "failed_share": float(s["failed_share"]),
                    "slo_attainment": float(s["slo_attainment"]),
                }
            )
    schema: dict[str, Any] = {
        "start": ps.schema["start"],
        "end": ps.schema["end"],
        "replicas": pl.Int64,
        "requests": pl.Int64,
        "queued_share": pl.Float64,
        "failed_share": pl.Float64,
        "slo_attainment": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def latency_curves(
    demand: Any,
    model: ServiceModel,
    replicas: Sequence[int | None],
    *,
    ttft_slo_s: float,
    tpot_slo_s: float,
    factors: Sequence[float] = (0.5, 0.75, 1.0, 1.25),
    other_factors: Sequence[float] = (0.5, 1.0, 1.5),
) -> pl.DataFrame:
    """:func:`load_sweep` for several fleet sizes, the method labelled with the size.

    The first fleet is run at ``factors`` by both methods; the others (None entries and
    repeats left out) at ``other_factors`` by the simulation only.

    Returns
    -------
    polars.DataFrame
        :func:`load_sweep`'s columns, ``method`` as ``"<method>, <n> replicas"``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> m = ServiceModel("m", "gpu", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0 + dt.timedelta(seconds=s) for s in range(60)],
    ...                   "input_tokens": [500] * 60, "output_tokens": [20] * 60})
    >>> c = latency_curves(w, m, [1, None, 2], ttft_slo_s=1.0, tpot_slo_s=0.1, factors=(1.0,),
    ...                    other_factors=(1.0,))
    >>> c["method"].to_list()
    ['simulation, 1 replicas', 'analytic, 1 replicas', 'simulation, 2 replicas']
    """
    fleets = list(dict.fromkeys(n for n in replicas if n is not None))
    frames = []
    for i, n in enumerate(fleets):
        curve = load_sweep(
            demand,
            model,
            n,
            factors=tuple(factors if i == 0 else other_factors),
            ttft_slo_s=ttft_slo_s,
            tpot_slo_s=tpot_slo_s,
        )
        if i > 0:
            curve = curve.filter(pl.col("method") == "simulation")
        frames.append(
            curve.with_columns(pl.concat_str(pl.col("method"), pl.lit(f", {n} replicas")))
        )
    if not frames:
        raise reject(
            "replicas",
            "hold at least one fleet size",
            got="none",
            function="capacity.latency_curves",
        )
    out: pl.DataFrame = pl.concat(frames)
    return out


def standard_scenarios(
    model: ServiceModel,
    *,
    other_gpu_type: str | None = None,
    other_kv_capacity_tokens: int | None = None,
) -> dict[str, Any]:
    """The what-if scenarios of a capacity plan: traffic x1.5, prompts x1.5, prefix caching
    serving half of every prompt and, when ``other_gpu_type`` is given, the same model on
    that GPU with ``other_kv_capacity_tokens`` of KV cache (step times kept).

    Examples
    --------
    >>> m = ServiceModel("m", "gpu", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000)
    >>> list(standard_scenarios(m, other_gpu_type="big GPU"))
    ['traffic x1.5', 'prompts x1.5', 'prefix cache 50 %', 'on big GPU']
    """
    from toolkit.capacity._sizing import Scenario

    out: dict[str, Any] = {
        "traffic x1.5": Scenario(traffic=1.5),
        "prompts x1.5": Scenario(prompt_factor=1.5),
        "prefix cache 50 %": Scenario(prefix_cache_hit_rate=0.5),
    }
    if other_gpu_type:
        other = model.with_limits(
            gpu_type=other_gpu_type,
            kv_capacity_tokens=other_kv_capacity_tokens or model.kv_capacity_tokens,
            name=f"{model.name} on {other_gpu_type}",
        )
        out[f"on {other_gpu_type}"] = Scenario(model=other)
    return out


def paths_support(name: str, paths: Mapping[str, Any], *, needs: str, how: str) -> Any:
    """A :class:`toolkit.Support` met when every parameter in ``paths`` names an existing
    file (or, for a list, files that all exist).

    Examples
    --------
    >>> paths_support("public trace", {"azure_trace": None}, needs="a trace", how="set it").missing
    ('azure_trace',)
    """
    from pathlib import Path

    from toolkit.ingest.discover import Support

    missing = []
    found = []
    for key, value in paths.items():
        items = value if isinstance(value, list | tuple) else [value]
        if value is None or not items or not all(Path(str(v)).is_file() for v in items):
            missing.append(key)
            found.append(f"{key} = {value!r}" + ("" if value is None else " (not a file)"))
        else:
            found.append(f"{key} set")
    return Support(name, needs, "; ".join(found), tuple(missing), how if missing else "")


def gpu_sources(
    catalog: Any,
    *,
    tz: str | None = None,
    host: str | None = None,
    start: dt.datetime | str | None = None,
    end: dt.datetime | str | None = None,
) -> dict[str, pl.DataFrame]:
    """The catalog's ``gpu`` table split by the exporter that wrote it (``dcgm``,
    ``nvidia-smi`` ...), so that two readings of the same GPUs can be compared.

    With one exporter the catalog's table is returned as is; with several, each
    exporter's files are read again (with ``tz``, ``host``, ``start`` and ``end`` as given
    to discover).

    Returns
    -------
    dict of str to polars.DataFrame
        Exporter format -> its gpu rows (empty when the catalog holds no gpu table).
    """
    from toolkit._time import utc
    from toolkit.ingest.gpu import load_gpu

    if not catalog.has("gpu"):
        return {}
    files = catalog.files.filter((pl.col("table") == "gpu") & (pl.col("status") == "loaded"))
    formats = sorted(set(files["format"].to_list()))
    if len(formats) <= 1:
        return {formats[0] if formats else "gpu": catalog.table("gpu")}
    out = {}
    for fmt in formats:
        paths = [catalog.root / p for p in files.filter(pl.col("format") == fmt)["path"]]
        frame = load_gpu(paths, tz=tz, host=host)
        if start is not None:
            frame = frame.filter(pl.col("time") >= utc(start, name="start"))
        if end is not None:
            frame = frame.filter(pl.col("time") < utc(end, name="end"))
        out[fmt] = frame
    return dict(
        sorted(out.items(), key=lambda kv: -kv[1].select("gpu_uuid", "host").unique().height)
    )


def compare_gpu_sources(sources: Mapping[str, Any]) -> pl.DataFrame:
    """Two exporters' readings of the same GPUs (matched by UUID, else host and index).

    Returns
    -------
    polars.DataFrame
        One row per GPU read by at least two sources: ``gpu_uuid``, ``gpu_model``,
        ``util_mean_pct.<source>`` per source, ``util_mean_diff_pct`` (largest minus
        smallest) and ``mem_used_mean_diff_bytes``. Empty with fewer than two sources.

    Examples
    --------
    >>> import polars as pl
    >>> a = pl.DataFrame({"gpu_uuid": ["G0", "G1"], "host": "h", "gpu_index": [0, 1],
    ...                   "gpu_model": "L4", "util_pct": [50.0, 10.0], "mem_used_bytes": 1e9})
    >>> b = a.with_columns(pl.col("util_pct") + 1).filter(pl.col("gpu_uuid") == "G0")
    >>> compare_gpu_sources({"dcgm": a, "nvidia-smi": b})["util_mean_diff_pct"].to_list()
    [1.0]
    """
    function = "capacity.compare_gpu_sources"
    frames = {k: frame_in(v, parameter="sources", function=function) for k, v in sources.items()}
    if len(frames) < 2:
        return pl.DataFrame(schema={"gpu_uuid": pl.String, "gpu_model": pl.String})
    per: list[pl.DataFrame] = []
    for name, f in frames.items():
        require_columns(f, ["gpu_uuid", "gpu_model", "util_pct", "mem_used_bytes"], table="gpu")
        per.append(
            f.filter(pl.col("gpu_uuid").is_not_null())
            .group_by("gpu_uuid")
            .agg(
                pl.col("gpu_model").first(),
                pl.col("util_pct").mean().alias(f"util_mean_pct.{name}"),
                pl.col("mem_used_bytes").mean().alias(f"_mem.{name}"),
            )
        )
    joined = per[0]
    for other in per[1:]:
        joined = joined.join(other.drop("gpu_model"), on="gpu_uuid", how="full", coalesce=True)
    util = [f"util_mean_pct.{n}" for n in frames]
    mem = [f"_mem.{n}" for n in frames]
    both = joined.filter(pl.sum_horizontal([pl.col(c).is_not_null() for c in util]) >= 2)
    return (
        both.with_columns(
            (pl.max_horizontal(util) - pl.min_horizontal(util)).alias("util_mean_diff_pct"),
            (pl.max_horizontal(mem) - pl.min_horizontal(mem)).alias("mem_used_mean_diff_bytes"),
        )
        .drop(mem)
        .sort("gpu_uuid")
    )


def utilisation_by_model(per_gpu: Any) -> pl.DataFrame:
    """:func:`gpu_utilisation`'s rows summarised per GPU model.

    Returns
    -------
    polars.DataFrame
        ``gpu_model``, ``gpus``, ``util_mean_pct`` and ``idle_share`` (means over the
        GPUs), ``stranded`` (GPUs).

    Examples
    --------
    >>> import polars as pl
    >>> per_gpu = pl.DataFrame({"gpu_model": ["L4", "L4", "H100"],
    ...                         "util_mean_pct": [10.0, 30.0, 80.0], "idle_share": [0.5, 0.1, 0.0],
    ...                         "status": ["stranded", "ok", "ok"]})
    >>> utilisation_by_model(per_gpu).rows()
    [('H100', 1, 80.0, 0.0, 0), ('L4', 2, 20.0, 0.3, 1)]
    """
    df = frame_in(per_gpu, parameter="per_gpu", function="capacity.utilisation_by_model")
    require_columns(df, ["gpu_model", "util_mean_pct", "idle_share", "status"], table="per_gpu")
    return (
        df.group_by("gpu_model")
        .agg(
            pl.len().cast(pl.Int64).alias("gpus"),
            pl.col("util_mean_pct").mean(),
            pl.col("idle_share").mean(),
            (pl.col("status") == "stranded").sum().cast(pl.Int64).alias("stranded"),
        )
        .sort("gpu_model")
    )


def priced(gpu_hourly_usd: Mapping[str, float] | None, *gpu_types: str) -> dict[str, float]:
    """Prices per GPU-hour with every ``gpu_types`` priced: unknown types get 1.0, so that
    their costs read as GPU-hours (and the comparison between fleets still holds).

    Examples
    --------
    >>> priced({"NVIDIA L4": 0.7}, "NVIDIA L4", "my GPU")
    {'NVIDIA L4': 0.7, 'my GPU': 1.0}
    """
    from toolkit.capacity._sizing import DEFAULT_GPU_HOURLY_USD

    prices = dict(DEFAULT_GPU_HOURLY_USD if gpu_hourly_usd is None else gpu_hourly_usd)
    for t in gpu_types:
        prices.setdefault(t, 1.0)
    return prices


def fit_plan_model(
    plan: PoolPlan, calls: Any, metrics: Any, *, queue_times: Any = None
) -> tuple[ServiceModel | None, Any]:
    """:func:`fit_service_model` for the planned pool, or why it cannot be fitted.

    Returns
    -------
    (ServiceModel or None, toolkit.Support)
        The model (None when the data cannot fit one) and a Support saying so: too few
        successful calls with token counts and timings, or no vLLM gauges in their minutes.
    """
    from toolkit.capacity._model import fit_service_model
    from toolkit.ingest.discover import Support

    needs = (
        "successful calls of the pool with input tokens, TTFT and TPOT, and vLLM's "
        "running / KV-cache gauges in the same minutes"
    )
    how = (
        "trace the model calls with token counts and streaming timings (TTFT), and scrape "
        "vLLM's /metrics over the same period"
    )
    if not (plan.has_calls and plan.has_metrics) or calls is None or metrics is None:
        found = f"{plan.calls:,} calls, {plan.metric_samples:,} vLLM samples of the pool"
        return None, Support("service model", needs, found, ("calls and vLLM metrics",), how)
    try:
        model = fit_service_model(
            calls,
            metrics,
            pool=plan.pool or "",
            replicas=plan.replicas,
            max_num_seqs=plan.max_num_seqs,
            kv_capacity_tokens=plan.kv_capacity_tokens,
            gpu_type=plan.gpu_type,
            max_batched_tokens=plan.max_batched_tokens,
            queue_times=queue_times,
            pool_column=plan.pool_column or "",
            pool_label=plan.pool_label or "",
        )
    except (ParameterError, SchemaError) as exc:
        return None, Support("service model", needs, str(exc), ("enough calls to fit",), how)
    return model, Support("service model", needs, model.source)


def covers(
    frame: Any,
    period: str | dt.timedelta,
    *,
    column: str = "time",
    every: str | dt.timedelta | None = None,
    name: str = "",
) -> Any:
    """A :class:`toolkit.Support` met when ``frame[column]`` spans at least ``period``
    (with ``every``, the times are bucket starts and the last bucket counts in full).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t = [dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2026, 1, 2, 6,
    ...      tzinfo=dt.timezone.utc)]
    >>> covers(pl.DataFrame({"time": t}), "2d", name="forecast").missing
    ('at least 2 days of history',)
    """
    from toolkit.ingest.discover import Support

    function = "capacity.covers"
    need = dt.timedelta(seconds=_seconds(period, "period", function))
    df = frame_in(frame, parameter="frame", function=function)
    require_columns(df, [column], table="frame")
    width = (
        dt.timedelta(0)
        if every is None
        else dt.timedelta(seconds=_seconds(every, "every", function))
    )
    span = (df[column].max() - df[column].min() + width) if df.height else width  # type: ignore[operator]
    days = need / dt.timedelta(days=1)
    what = f"at least {days:g} days of history" if days >= 1 else f"at least {need} of history"
    found = f"{span} of history"
    ok = df.height > 0 and span >= need  # type: ignore[operator]
    return Support(
        name or "history",
        what,
        found,
        () if ok else (what,),
        "" if ok else "export a longer period",
    )
