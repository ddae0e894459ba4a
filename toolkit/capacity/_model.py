"""Service models of :mod:`toolkit.capacity`: how fast one replica of a model on a GPU type
prefills and decodes, fitted from telemetry or from a measured performance table.

A replica runs continuous batching in *steps* (iterations). One step decodes one token for
every running sequence and prefills up to the rest of the step's token budget. Its time is

``step_base_s + step_s_per_seq * decoding_seqs + step_s_per_kv_token * kv_tokens_held
+ prefill cost of the chunk``,

and prefilling a prompt of ``T`` tokens alone costs ``prefill_base_s + prefill_s_per_token
* T + prefill_s_per_token2 * T**2`` (the quadratic term is attention). Those coefficients are
what the fits estimate; the engine limits (``max_num_seqs``, ``kv_capacity_tokens``,
``max_batched_tokens``) are configuration, passed in, never guessed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import Frame, Interval, caller, frame_in, reject, validate_params
from toolkit.errors import FormatError, ParameterError, SchemaError, preview

__all__ = [
    "FitQuality",
    "ServiceModel",
    "fit_service_model",
    "fit_splitwise",
    "kv_capacity_tokens",
    "read_perf_table",
]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class FitQuality:
    """How well a fitted quantity reproduces its observations.

    Attributes
    ----------
    quantity : str
        ``"prefill_s"``, ``"tpot_s"``, ``"e2e_s"`` ...
    n : int
        Observations (or bins) compared.
    mape : float
        Mean absolute percentage error, as a fraction (0.05 = 5 %).
    max_ape : float
        Largest absolute percentage error, as a fraction.
    r2 : float
        Coefficient of determination.
    """

    quantity: str
    n: int
    mape: float
    max_ape: float
    r2: float


#: A coefficient of the latency model, in seconds.
_SECONDS = Interval(float, 0, None, description="a finite number >= 0")
#: A size in bytes.
_POSITIVE = Interval(float, 0, None, closed="right", description="a positive number")
#: A count of the engine (GPUs, sequences, tokens).
_COUNT = Interval(int, 1, None, description="an integer >= 1")


@dataclass(frozen=True)
class ServiceModel:
    """One replica of a model on a GPU type: step-time coefficients and engine limits.

    Attributes
    ----------
    name : str
        E.g. ``"llama2-70b on h100-80gb x4"``.
    gpu_type : str
        The GPU type, the key of the hourly price.
    gpus_per_replica : int
        GPUs one replica occupies (tensor parallelism).
    prefill_base_s, prefill_s_per_token, prefill_s_per_token2 : float
        Time to prefill a prompt of T tokens alone: ``base + a T + b T^2``.
    step_base_s, step_s_per_seq, step_s_per_kv_token : float
        Decode step time: ``base + per_seq * sequences + per_kv * KV tokens held``.
    max_num_seqs : int
        Sequences a replica runs at once.
    kv_capacity_tokens : int
        KV-cache capacity of a replica in tokens. A request holds ``input + output``
        tokens from admission to its end (a reservation, as the sample's engine does; vLLM
        allocates on demand and preempts, which this approximates from the safe side).
    max_batched_tokens : int
        Token budget of one step (vLLM ``max_num_batched_tokens``).
    long_prefill_tokens : int
        Prompts longer than this are prefilled one at a time per replica, after the shorter
        ones in the step (vLLM ``long_prefill_token_threshold`` with
        ``max_long_partial_prefills=1``); default ``max_batched_tokens``.
    source : str
        Where the coefficients come from.
    fit : tuple of FitQuality
        Fit errors of the estimated quantities.
    """

    name: str
    gpu_type: str
    gpus_per_replica: int
    prefill_base_s: float
    prefill_s_per_token: float
    prefill_s_per_token2: float
    step_base_s: float
    step_s_per_seq: float
    step_s_per_kv_token: float
    max_num_seqs: int
    kv_capacity_tokens: int
    max_batched_tokens: int = 2048
    long_prefill_tokens: int = 0
    source: str = ""
    fit: tuple[FitQuality, ...] = ()

    def __post_init__(self) -> None:
        function = "capacity.ServiceModel"
        for name in (
            "prefill_base_s",
            "prefill_s_per_token",
            "prefill_s_per_token2",
            "step_base_s",
            "step_s_per_seq",
            "step_s_per_kv_token",
        ):
            value = getattr(self, name)
            if not _SECONDS.accepts(value):
                raise reject(name, "be " + _SECONDS.words(), value, function=function)
        for name in (
            "gpus_per_replica",
            "max_num_seqs",
            "kv_capacity_tokens",
            "max_batched_tokens",
        ):
            value = getattr(self, name)
            if not _COUNT.accepts(value):
                raise reject(name, "be " + _COUNT.words(), value, function=function)
        if self.step_base_s <= 0:
            raise reject(
                "step_base_s", "be > 0 (a step takes time)", self.step_base_s, function=function
            )
        if self.long_prefill_tokens <= 0:
            object.__setattr__(self, "long_prefill_tokens", self.max_batched_tokens)

    def prefill_s(self, tokens: Any) -> Any:
        """Time to prefill ``tokens`` prompt tokens alone (scalar or numpy array).

        Examples
        --------
        >>> m = ServiceModel("m", "gpu", 1, 0.01, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 10_000)
        >>> round(m.prefill_s(1000), 3)
        0.11
        """
        t = np.asarray(tokens, dtype=np.float64)
        out = self.prefill_base_s + self.prefill_s_per_token * t + self.prefill_s_per_token2 * t * t
        return float(out) if out.ndim == 0 else out

    def step_s(self, sequences: Any, kv_tokens: Any = 0.0) -> Any:
        """Decode step time with ``sequences`` running and ``kv_tokens`` held.

        Examples
        --------
        >>> m = ServiceModel("m", "gpu", 1, 0.01, 1e-4, 0.0, 0.02, 0.001, 0.0, 8, 10_000)
        >>> round(m.step_s(10), 3)
        0.03
        """
        b = np.asarray(sequences, dtype=np.float64)
        kv = np.asarray(kv_tokens, dtype=np.float64)
        out = self.step_base_s + self.step_s_per_seq * b + self.step_s_per_kv_token * kv
        return float(out) if out.ndim == 0 else out

    def fit_report(self) -> pl.DataFrame:
        """The fit errors as a frame (one row per quantity).

        Examples
        --------
        >>> m = ServiceModel("m", "gpu", 1, 0.01, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 10_000,
        ...                  fit=(FitQuality("tpot_s", 10, 0.02, 0.05, 0.9),))
        >>> m.fit_report()["mape"].to_list()
        [0.02]
        """
        rows = [
            {
                "model": self.name,
                "quantity": f.quantity,
                "n": f.n,
                "mape": f.mape,
                "max_ape": f.max_ape,
                "r2": f.r2,
            }
            for f in self.fit
        ]
        schema = {
            "model": pl.String,
            "quantity": pl.String,
            "n": pl.Int64,
            "mape": pl.Float64,
            "max_ape": pl.Float64,
            "r2": pl.Float64,
        }
        return pl.DataFrame(rows, schema=schema)

    def with_limits(self, **changes: Any) -> ServiceModel:
        """A copy with other fields (engine limits, name ...), e.g. for a what-if.

        Examples
        --------
        >>> m = ServiceModel("m", "gpu", 1, 0.01, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 10_000)
        >>> m.with_limits(max_num_seqs=16).max_num_seqs
        16
        """
        return replace(self, **changes)


# --------------------------------------------------------------------------- fitting helpers


def _errors(quantity: str, observed: np.ndarray, predicted: np.ndarray) -> FitQuality:
    ape = np.abs(predicted - observed) / np.maximum(np.abs(observed), 1e-12)
    ss_res = float(np.sum((observed - predicted) ** 2))
    ss_tot = float(np.sum((observed - observed.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return FitQuality(quantity, int(observed.size), float(ape.mean()), float(ape.max()), r2)


def _nonneg_lstsq(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Least squares with every coefficient >= 0 (active set: drop negatives and refit)."""
    w = np.ones(y.size) if weights is None else np.sqrt(weights)
    active = list(range(x.shape[1]))
    coef = np.zeros(x.shape[1])
    while active:
        sol, *_ = np.linalg.lstsq(x[:, active] * w[:, None], y * w, rcond=None)
        if (sol >= 0).all():
            coef[:] = 0.0
            coef[active] = sol
            return coef
        active.pop(int(np.argmin(sol)))
    return coef


# --------------------------------------------------------------------------- Splitwise table

_PERF_COLUMNS = {
    "model": pl.String,
    "hardware": pl.String,
    "prompt_size": pl.Int64,
    "batch_size": pl.Int64,
    "token_size": pl.Int64,
    "peak_power": pl.Float64,
    "average_power": pl.Float64,
    "prompt_time": pl.Float64,
    "token_time": pl.Float64,
    "e2e_time": pl.Float64,
    "tensor_parallel": pl.Int64,
}


def read_perf_table(path: PathLike) -> pl.DataFrame:
    """Read a Splitwise-style measured performance table (``perf_model.csv``).

    The file (splitwise-sim ``data/perf_model.csv``) does not document its units. The times
    are **milliseconds**: for every row generating at most 512 tokens, ``e2e_time`` equals
    ``prompt_time + (token_size - 1) * token_time`` to within a few ms (the test checks it),
    and a 70B model's decode step of 29-55 ms per token is the known range on 2-8 A100/H100
    GPUs (in seconds or microseconds it would be physically impossible). Rows generating
    more than 512 tokens have an ``e2e_time`` of about 18 s whatever their length (the run
    seems capped): they are kept, and the fits do not use their ``e2e_time``. The power
    columns look normalised to the GPU's TDP (0-1.09) and are kept under their names.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    polars.DataFrame
        ``model, hardware, tensor_parallel, prompt_size, batch_size, token_size,
        prompt_time_s, token_time_s, e2e_time_s, peak_power, average_power``.

    Raises
    ------
    FormatError
        Missing columns or a value that is not a number, naming the file and line.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "perf.csv"
    >>> _ = p.write_text("model,hardware,prompt_size,batch_size,token_size,peak_power,"
    ...     "average_power,prompt_time,token_time,e2e_time,tensor_parallel\\n"
    ...     "m,h100,512,1,128,0,0,85.0,37.0,4784.0,2\\n")
    >>> read_perf_table(p).select("prompt_time_s", "token_time_s").row(0)
    (0.085, 0.037)
    """
    path = Path(path)
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise FormatError("empty file; expected a header line", path=path, line=1) from None
        missing = [c for c in _PERF_COLUMNS if c not in header]
        if missing:
            raise FormatError(
                f"not a performance table: missing columns {missing}; found {preview(header, 200)}",
                path=path,
                line=1,
            )
        index = {c: header.index(c) for c in _PERF_COLUMNS}
        columns: dict[str, list[Any]] = {c: [] for c in _PERF_COLUMNS}
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise FormatError(
                    f"expected {len(header)} fields, found {len(row)}", path=path, line=line
                )
            for name, dtype in _PERF_COLUMNS.items():
                text = row[index[name]]
                if dtype == pl.String:
                    columns[name].append(text)
                    continue
                try:
                    value: Any = int(text) if dtype == pl.Int64 else float(text)
                except ValueError:
                    kind = "an integer" if dtype == pl.Int64 else "a number"
                    raise FormatError(
                        f"expected {kind}, found {preview(text)}", path=path, line=line, column=name
                    ) from None
                if dtype == pl.Float64 and not math.isfinite(value):
                    raise FormatError(
                        f"expected a finite number, found {preview(text)}",
                        path=path,
                        line=line,
                        column=name,
                    )
                columns[name].append(value)
    frame = pl.DataFrame(columns, schema=_PERF_COLUMNS)
    return frame.select(
        "model",
        "hardware",
        "tensor_parallel",
        "prompt_size",
        "batch_size",
        "token_size",
        (pl.col("prompt_time") / 1000.0).alias("prompt_time_s"),
        (pl.col("token_time") / 1000.0).alias("token_time_s"),
        (pl.col("e2e_time") / 1000.0).alias("e2e_time_s"),
        "peak_power",
        "average_power",
    )


@validate_params(
    gpu_memory_bytes=_POSITIVE,
    gpus=Interval(int, 1, None),
    weights_bytes=Interval(float, 0, None),
    kv_bytes_per_token=_POSITIVE,
    memory_utilisation=Interval(float, 0, 1, closed="right"),
)
def kv_capacity_tokens(
    gpu_memory_bytes: float,
    gpus: int,
    weights_bytes: float,
    kv_bytes_per_token: float,
    *,
    memory_utilisation: float = 0.9,
) -> int:
    """KV-cache tokens a replica can hold: ``(gpus * memory * utilisation - weights) / bytes``.

    Parameters
    ----------
    gpu_memory_bytes : float
        Memory of one GPU (an H100 80GB HBM3 reports 81559 MiB).
    gpus : int
        GPUs of the replica (tensor parallelism).
    weights_bytes : float
        Model weights (parameters x bytes per parameter; 70B at fp16: about 138e9).
    kv_bytes_per_token : float
        ``2 * layers * kv_heads * head_dim * bytes`` (Llama 2 70B at fp16: 2 * 80 * 8 *
        128 * 2 = 327,680).
    memory_utilisation : float, default 0.9
        vLLM ``gpu_memory_utilization``; activations are not subtracted.

    Returns
    -------
    int

    Examples
    --------
    >>> kv_capacity_tokens(81559 * 2**20, 4, 138e9, 327_680)
    518417
    """
    free = gpu_memory_bytes * gpus * memory_utilisation - weights_bytes
    if free <= 0:
        raise ParameterError(
            "The weights do not fit: 'weights_bytes' of capacity.kv_capacity_tokens must be "
            f"below gpus x memory x utilisation ({gpus * gpu_memory_bytes * memory_utilisation:.3g}"
            f" bytes). Got {weights_bytes!r} instead."
        )
    return int(free // kv_bytes_per_token)


@validate_params()
def fit_splitwise(
    table: Any,
    *,
    model: str,
    hardware: str,
    tensor_parallel: int,
    kv_capacity_tokens: int,
    max_num_seqs: int = 256,
    max_batched_tokens: int = 8192,
    gpu_type: str | None = None,
) -> ServiceModel:
    """Fit a :class:`ServiceModel` to a measured performance table (Splitwise layout).

    Prefill: ``prompt_time_s`` of the rows generating 128 tokens, against the tokens
    prefilled together (``T = prompt_size * batch_size``) and the attention term of each
    prompt (``batch_size * prompt_size^2``), as ``base + a T + b batch prompt^2``.
    Decode: ``token_time_s`` of every row against the batch size and the KV tokens held
    (``batch_size * (prompt_size + token_size / 2)``, the mean context while decoding).
    Both by least squares with non-negative coefficients. The fit errors compare each
    measured row with the model, and ``e2e_s`` checks the two together against
    ``e2e_time_s`` (rows generating at most 512 tokens: see :func:`read_perf_table`).

    Parameters
    ----------
    table : frame or path
        :func:`read_perf_table`'s frame, or the path of the CSV.
    model, hardware : str
        Values of the ``model`` and ``hardware`` columns (``"llama2-70b"``, ``"h100-80gb"``).
    tensor_parallel : int
        GPUs per replica (a value of ``tensor_parallel``).
    kv_capacity_tokens : int
        KV-cache tokens of a replica (see :func:`kv_capacity_tokens`); the table does
        not measure it.
    max_num_seqs, max_batched_tokens : int
        Engine limits of the replica.
    gpu_type : str, optional
        Price key; default ``hardware``.

    Returns
    -------
    ServiceModel

    Examples
    --------
    >>> import polars as pl
    >>> rows = [("m", "g", 1, p, b, 128, 0.01 + 1e-4 * p * b, 0.02 + 0.001 * b, 1.0)
    ...         for p in (128, 512, 1024) for b in (1, 2, 4)]
    >>> t = pl.DataFrame(rows, orient="row", schema=["model", "hardware", "tensor_parallel",
    ...     "prompt_size", "batch_size", "token_size", "prompt_time_s", "token_time_s",
    ...     "e2e_time_s"])
    >>> m = fit_splitwise(t, model="m", hardware="g", tensor_parallel=1, kv_capacity_tokens=9)
    >>> round(m.prefill_s_per_token, 6), round(m.step_s_per_seq, 6)
    (0.0001, 0.001)
    """
    function = caller() or "capacity.fit_splitwise"
    df = (
        read_perf_table(table)
        if isinstance(table, str | os.PathLike)
        else frame_in(table, parameter="table", function=function)
    )
    rows = df.filter(
        (pl.col("model") == model)
        & (pl.col("hardware") == hardware)
        & (pl.col("tensor_parallel") == tensor_parallel)
    )
    if rows.height == 0:
        combos = df.select("model", "hardware", "tensor_parallel").unique().sort(pl.all()).rows()
        raise ParameterError(
            f"The 'model', 'hardware' and 'tensor_parallel' parameters of {function} must name "
            f"rows of the table (available: {preview(combos, 300)}). "
            f"Got {(model, hardware, tensor_parallel)!r} instead."
        )
    pre = rows.filter(pl.col("token_size") == 128)
    tokens = (pre["prompt_size"] * pre["batch_size"]).cast(pl.Float64).to_numpy()
    # attention is quadratic in each prompt's own length: batch x prompt^2
    squares = (pre["batch_size"] * pre["prompt_size"] ** 2).cast(pl.Float64).to_numpy()
    y_pre = pre["prompt_time_s"].to_numpy()
    x_pre = np.column_stack([np.ones_like(tokens), tokens, squares])
    c_pre = _nonneg_lstsq(x_pre, y_pre, 1.0 / y_pre**2)  # relative errors
    batch = rows["batch_size"].cast(pl.Float64).to_numpy()
    kv = batch * (rows["prompt_size"].to_numpy() + rows["token_size"].to_numpy() / 2.0)
    y_dec = rows["token_time_s"].to_numpy()
    x_dec = np.column_stack([np.ones_like(batch), batch, kv])
    c_dec = _nonneg_lstsq(x_dec, y_dec, 1.0 / y_dec**2)
    m = ServiceModel(
        name=f"{model} on {hardware} x{tensor_parallel}",
        gpu_type=gpu_type or hardware,
        gpus_per_replica=tensor_parallel,
        prefill_base_s=float(c_pre[0]),
        prefill_s_per_token=float(c_pre[1]),
        prefill_s_per_token2=float(c_pre[2]),
        step_base_s=float(c_dec[0]),
        step_s_per_seq=float(c_dec[1]),
        step_s_per_kv_token=float(c_dec[2]),
        max_num_seqs=max_num_seqs,
        kv_capacity_tokens=kv_capacity_tokens,
        max_batched_tokens=max_batched_tokens,
        source="measured performance table (Splitwise layout), times in ms converted to s",
    )
    fits = [
        _errors("prefill_s", y_pre, x_pre @ c_pre),
        _errors("tpot_s", y_dec, x_dec @ c_dec),
    ]
    e2e = rows.filter(pl.col("token_size") <= 512)
    if e2e.height:
        p = e2e["prompt_size"].cast(pl.Float64).to_numpy()
        b = e2e["batch_size"].cast(pl.Float64).to_numpy()
        n = e2e["token_size"].cast(pl.Float64).to_numpy()
        prefill = c_pre[0] + c_pre[1] * p * b + c_pre[2] * b * p * p
        predicted = prefill + (n - 1.0) * m.step_s(b, b * (p + n / 2.0))
        fits.append(_errors("e2e_s", e2e["e2e_time_s"].to_numpy(), predicted))
    return replace(m, fit=tuple(fits))


# --------------------------------------------------------------------------- from telemetry


def _pool_gauges(metrics: pl.DataFrame, pool: str, pool_label: str) -> pl.DataFrame:
    names = {
        "vllm:num_requests_running": "running",
        "vllm:num_requests_waiting": "waiting",
        "vllm:kv_cache_usage_perc": "kv_usage",
        "vllm:gpu_cache_usage_perc": "kv_usage",
    }
    if pool_label not in metrics.columns:
        raise SchemaError(
            f"The metrics frame has no {pool_label!r} column to select the pool by. "
            f"Available label columns: {[c for c in metrics.columns if c.startswith('label.')]}."
        )
    rows = metrics.filter(pl.col("name").is_in(list(names)) & (pl.col(pool_label) == pool))
    if rows.height == 0:
        raise SchemaError(
            f"The metrics frame has no vLLM gauges (num_requests_running/waiting, "
            f"kv_cache_usage_perc) for {pool_label} = {pool!r}."
        )
    wide = (
        rows.with_columns(pl.col("name").replace_strict(names))
        .group_by("time", "name")
        .agg(pl.col("value").mean())
        .pivot(on="name", index="time", values="value")
        .sort("time")
    )
    for column in ("running", "waiting", "kv_usage"):
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(column))
    return wide


@validate_params(calls=Frame(), metrics=Frame())
def fit_service_model(
    calls: Any,
    metrics: Any,
    *,
    pool: str,
    replicas: int,
    max_num_seqs: int,
    kv_capacity_tokens: int,
    gpu_type: str,
    gpus_per_replica: int = 1,
    max_batched_tokens: int = 2048,
    queue_times: Any = None,
    pool_column: str = "attributes.deployment.pool",
    pool_label: str = "label.pool",
    bins: int = 12,
) -> ServiceModel:
    """Fit a :class:`ServiceModel` to a pool's own calls and vLLM metrics.

    - Decode: each successful call's ``tpot_s`` against the pool's state in the minute it
      started (``vllm:num_requests_running / replicas`` sequences and
      ``vllm:kv_cache_usage_perc * kv_capacity_tokens`` tokens held), by least squares
      with non-negative coefficients.
    - Prefill: ``ttft_s`` minus the time in the server's queue, against ``input_tokens``.
      Queue times come from ``queue_times`` (a frame of ``trace_id`` and
      ``time_in_queue_s``, e.g. the vLLM server spans' ``gen_ai.latency.time_in_queue``);
      without them only calls that started while nothing waited
      (``vllm:num_requests_waiting == 0``) are used. The median per input-length bin
      (``bins`` log-spaced bins) is fitted, so a minority of slow calls (a bad release,
      a prompt queued behind a long one) does not bend the line.

    Parameters
    ----------
    calls : frame
        ``llm_calls`` rows (``start_time``, ``input_tokens``, ``ttft_s``, ``tpot_s``,
        ``is_error`` and ``pool_column``).
    metrics : frame
        The ``metrics`` table with the pool's vLLM gauges (label ``pool_label``).
    pool : str
        The pool to fit.
    replicas, max_num_seqs, kv_capacity_tokens, max_batched_tokens, gpus_per_replica : int
        The pool's configuration (vLLM settings, replica count).
    gpu_type : str
        GPU type (price key), e.g. ``"NVIDIA H100 80GB HBM3"``.
    queue_times : frame, optional
        ``trace_id`` and ``time_in_queue_s``.
    pool_column, pool_label : str
        Column of ``calls`` and label of ``metrics`` naming the pool.
    bins : int, default 12

    Returns
    -------
    ServiceModel
        With fit errors ``tpot_s`` (per call) and ``prefill_s`` (per bin median).

    Raises
    ------
    SchemaError
        A required column or the pool's metrics are missing.
    ParameterError
        Too few calls to fit.
    """
    function = caller() or "capacity.fit_service_model"
    df: pl.DataFrame = calls
    mt: pl.DataFrame = metrics
    need = ("start_time", "input_tokens", "ttft_s", "tpot_s", "is_error", pool_column)
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SchemaError(
            f"The calls frame given to {function} is missing {missing}. "
            f"Available columns: {preview(df.columns, 300)}."
        )
    gauges = _pool_gauges(mt, pool, pool_label)
    own = (
        df.filter((pl.col(pool_column) == pool) & ~pl.col("is_error").fill_null(False))
        .filter(pl.col("ttft_s").is_not_null() & pl.col("input_tokens").is_not_null())
        .sort("start_time")
    )
    own = own.join_asof(gauges, left_on="start_time", right_on="time", strategy="backward")
    dec = own.filter(
        pl.col("tpot_s").is_not_null()
        & pl.col("running").is_not_null()
        & pl.col("kv_usage").is_not_null()
    )
    if dec.height < 10:
        raise reject(
            "calls",
            f"hold at least 10 successful calls of pool {pool!r} with tpot_s and matching "
            "vLLM gauges",
            dec.height,
        )
    seqs = (dec["running"] / replicas).to_numpy()
    held = (dec["kv_usage"] * kv_capacity_tokens).to_numpy()
    y_dec = dec["tpot_s"].to_numpy()
    x_dec = np.column_stack([np.ones_like(seqs), seqs, held])
    c_dec = _nonneg_lstsq(x_dec, y_dec)
    if queue_times is not None:
        qt = frame_in(queue_times, parameter="queue_times", function=function)
        pre = own.join(qt.select("trace_id", "time_in_queue_s"), on="trace_id", how="inner")
        pre = pre.with_columns((pl.col("ttft_s") - pl.col("time_in_queue_s")).alias("_prefill"))
    else:
        pre = own.filter(pl.col("waiting") == 0).with_columns(pl.col("ttft_s").alias("_prefill"))
    pre = pre.filter(pl.col("_prefill") > 0)
    if pre.height < 10:
        raise reject(
            "calls",
            f"hold at least 10 calls of pool {pool!r} whose prefill time can be told from queueing",
            pre.height,
        )
    lo = math.log(max(float(pre["input_tokens"].min()), 1.0))  # type: ignore[arg-type]
    hi = math.log(float(pre["input_tokens"].max()) + 1.0)  # type: ignore[arg-type]
    edges = np.exp(np.linspace(lo, hi, bins + 1))
    bin_id = np.digitize(pre["input_tokens"].cast(pl.Float64).to_numpy(), edges[1:-1])
    per_bin = (
        pre.with_columns(pl.Series("_bin", bin_id, dtype=pl.Int64))
        .group_by("_bin")
        .agg(
            pl.col("input_tokens").median().alias("tokens"),
            pl.col("_prefill").median().alias("prefill"),
            pl.len().alias("n"),
        )
        .filter(pl.col("n") >= 3)
        .sort("tokens")
    )
    tokens = per_bin["tokens"].to_numpy().astype(np.float64)
    y_pre = per_bin["prefill"].to_numpy()
    x_pre = np.column_stack([np.ones_like(tokens), tokens, tokens**2])
    c_pre = _nonneg_lstsq(x_pre, y_pre, per_bin["n"].to_numpy() / np.maximum(y_pre, 1e-6) ** 2)
    return ServiceModel(
        name=f"{pool} ({gpu_type})",
        gpu_type=gpu_type,
        gpus_per_replica=gpus_per_replica,
        prefill_base_s=float(c_pre[0]),
        prefill_s_per_token=float(c_pre[1]),
        prefill_s_per_token2=float(c_pre[2]),
        step_base_s=max(float(c_dec[0]), 1e-4),
        step_s_per_seq=float(c_dec[1]),
        step_s_per_kv_token=float(c_dec[2]),
        max_num_seqs=max_num_seqs,
        kv_capacity_tokens=kv_capacity_tokens,
        max_batched_tokens=max_batched_tokens,
        source=f"fitted from {own.height} llm_calls and vLLM gauges of {pool}",
        fit=(
            _errors("prefill_s", y_pre, x_pre @ c_pre),
            _errors("tpot_s", y_dec, x_dec @ c_dec),
        ),
    )
