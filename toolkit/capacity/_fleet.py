"""Fleet utilisation for :mod:`toolkit.capacity`: per-GPU statistics, idle and stranded
GPUs, per-pool load from vLLM metrics, saturation periods, and GPU inventories."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit._validation import (
    BACKEND,
    ON_ERROR,
    Backend,
    Frame,
    caller,
    frame_out,
    reject,
    validate_params,
)
from toolkit.capacity._demand import _seconds
from toolkit.errors import (
    FormatError,
    LoadReport,
    SchemaError,
    SkippedRecord,
    SkippedRecordsWarning,
    preview,
)
from toolkit.schema import GPU, TIME, validate

__all__ = [
    "gpu_utilisation",
    "inventory_summary",
    "pool_load",
    "read_gpu_inventory",
    "saturation_periods",
    "utilisation_by_time",
]

PathLike = str | os.PathLike[str]


def _out(frame: pl.DataFrame, backend: Backend, function: str) -> Any:
    """The result in the library asked for (``backend`` is checked on the way in)."""
    return frame_out(frame, backend)


@validate_params(gpu=Frame(), backend=BACKEND)
def gpu_utilisation(
    gpu: Any,
    *,
    idle_pct: float = 5.0,
    saturated_pct: float = 95.0,
    stranded_memory_share: float = 0.5,
    backend: Backend = "polars",
) -> pl.DataFrame:
    """Per GPU: utilisation and memory-headroom distribution, power, idle and stranded flags.

    Parameters
    ----------
    gpu : frame
        The ``gpu`` table (DCGM scrape or nvidia-smi log).
    idle_pct : float, default 5.0
        A sample at or below this utilisation is idle.
    saturated_pct : float, default 95.0
        A sample at or above this utilisation is saturated.
    stranded_memory_share : float, default 0.5
        A GPU is *stranded* when it holds at least this share of its memory on average
        (a model is loaded: the GPU is allocated) while its median utilisation is idle.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per ``host``, ``gpu_index``, ``gpu_uuid``, ``gpu_model`` (and ``label.pod``
        when present): ``samples``, ``util_mean_pct``, ``util_p50_pct``, ``util_p95_pct``,
        ``idle_share``, ``saturated_share``, ``mem_used_share_mean``,
        ``mem_headroom_p05_bytes`` (the headroom exceeded 95 % of the time),
        ``power_mean_w``, ``power_max_w``, ``status`` (``stranded``, ``idle``,
        ``saturated`` when saturated in at least 10 % of samples, else ``ok``).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> from toolkit.schema import GPU
    >>> t = [dt.datetime(2026, 1, 1, 0, m, tzinfo=dt.timezone.utc) for m in range(4)]
    >>> g = pl.concat([GPU.empty(), pl.DataFrame({"time": pl.Series(t).dt.cast_time_unit("ns"),
    ...     "host": "h", "gpu_index": 0, "gpu_uuid": "GPU-0", "gpu_model": "L4",
    ...     "util_pct": [0.0, 0.0, 2.0, 90.0],
    ...     "mem_used_bytes": 18e9, "mem_total_bytes": 24e9, "power_w": 20.0,
    ...     "temp_c": 40.0, "sm_clock_hz": 1e9})], how="diagonal_relaxed")
    >>> gpu_utilisation(g).select("idle_share", "status").row(0)
    (0.75, 'stranded')
    """
    function = caller() or "capacity.gpu_utilisation"
    df = validate(gpu, GPU)
    keys = ["host", "gpu_index", "gpu_uuid", "gpu_model"]
    if "label.pod" in df.columns:
        keys.append("label.pod")
    util = pl.col("util_pct")
    stats = (
        df.group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("samples"),
            util.mean().alias("util_mean_pct"),
            util.median().alias("util_p50_pct"),
            util.quantile(0.95, "linear").alias("util_p95_pct"),
            (util <= idle_pct).mean().alias("idle_share"),
            (util >= saturated_pct).mean().alias("saturated_share"),
            (pl.col("mem_used_bytes") / pl.col("mem_total_bytes"))
            .mean()
            .alias("mem_used_share_mean"),
            (pl.col("mem_total_bytes") - pl.col("mem_used_bytes"))
            .quantile(0.05, "linear")
            .alias("mem_headroom_p05_bytes"),
            pl.col("power_w").mean().alias("power_mean_w"),
            pl.col("power_w").max().alias("power_max_w"),
        )
        .with_columns(
            pl.when(
                (pl.col("mem_used_share_mean") >= stranded_memory_share)
                & (pl.col("util_p50_pct") <= idle_pct)
            )
            .then(pl.lit("stranded"))
            .when(pl.col("util_p95_pct") <= idle_pct)
            .then(pl.lit("idle"))
            .when(pl.col("saturated_share") >= 0.1)
            .then(pl.lit("saturated"))
            .otherwise(pl.lit("ok"))
            .alias("status")
        )
        .sort(keys)
    )
    return _out(stats, backend, function)  # type: ignore[no-any-return]


@validate_params(gpu=Frame(), backend=BACKEND)
def utilisation_by_time(
    gpu: Any, *, every: str | dt.timedelta = "1h", backend: Backend = "polars"
) -> pl.DataFrame:
    """Mean utilisation per GPU and time bucket (the cells of a heatmap).

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``gpu`` (``host/index``, with the pod when known), ``time``, ``util_pct``,
        ``mem_used_share``, ``power_w``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> from toolkit.schema import GPU
    >>> t = [dt.datetime(2026, 1, 1, h, tzinfo=dt.timezone.utc) for h in (0, 0, 1)]
    >>> g = pl.concat([GPU.empty(), pl.DataFrame({"time": pl.Series(t).dt.cast_time_unit("ns"),
    ...     "host": "h", "gpu_index": 0, "util_pct": [10.0, 30.0, 50.0],
    ...     "mem_used_bytes": 1.0, "mem_total_bytes": 2.0,
    ...     "power_w": 5.0})], how="diagonal_relaxed")
    >>> utilisation_by_time(g)["util_pct"].to_list()
    [20.0, 50.0]
    """
    function = caller() or "capacity.utilisation_by_time"
    width = _seconds(every, "every", function)
    df = validate(gpu, GPU)
    label = pl.concat_str(
        pl.col("host").fill_null("?"),
        pl.lit("/"),
        pl.col("gpu_index").cast(pl.String).fill_null("?"),
    )
    if "label.pod" in df.columns:
        label = (
            pl.when(pl.col("label.pod").is_not_null())
            .then(pl.concat_str(label, pl.lit(" "), pl.col("label.pod")))
            .otherwise(label)
        )
    out = (
        df.with_columns(label.alias("gpu"), pl.col("time").dt.truncate(f"{width}s"))
        .group_by("gpu", "time")
        .agg(
            pl.col("util_pct").mean(),
            (pl.col("mem_used_bytes") / pl.col("mem_total_bytes")).mean().alias("mem_used_share"),
            pl.col("power_w").mean(),
        )
        .sort("gpu", "time")
    )
    return _out(out, backend, function)  # type: ignore[no-any-return]


_GAUGES = {
    "vllm:num_requests_running": "running",
    "vllm:num_requests_waiting": "waiting",
    "vllm:kv_cache_usage_perc": "kv_usage",
    "vllm:gpu_cache_usage_perc": "kv_usage",
}
_COUNTERS = {
    "vllm:e2e_request_latency_seconds_count": "requests_per_s",
    "vllm:prompt_tokens_total": "prompt_tokens_per_s",
    "vllm:generation_tokens_total": "generation_tokens_per_s",
}


@validate_params(metrics=Frame(), backend=BACKEND)
def pool_load(
    metrics: Any,
    *,
    every: str | dt.timedelta = "1m",
    by: str = "label.pool",
    backend: Backend = "polars",
) -> pl.DataFrame:
    """Per pool (or engine) and time bucket: running, waiting, KV-cache use and throughput.

    Gauges (``vllm:num_requests_running``/``waiting``, ``vllm:kv_cache_usage_perc``, or
    the older ``gpu_cache_usage_perc``) are averaged over the bucket (and maxima kept);
    counters (finished requests, prompt and generation tokens) become rates, a decrease
    being a counter reset. Series of the same ``by`` value are summed (gauges: running
    and waiting summed over engines, KV usage averaged).

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``pool``, ``time``, ``running``, ``waiting``, ``waiting_max``, ``waiting_share``
        (share of the bucket's scrapes with at least one request waiting), ``kv_usage``,
        ``kv_usage_max``, ``requests_per_s``, ``prompt_tokens_per_s``,
        ``generation_tokens_per_s``.
    """
    function = caller() or "capacity.pool_load"
    width = _seconds(every, "every", function)
    df: pl.DataFrame = metrics
    if by not in df.columns:
        raise SchemaError(
            f"The metrics frame given to {function} has no {by!r} column. Label columns: "
            f"{[c for c in df.columns if c.startswith('label.')]}."
        )
    series_keys = [c for c in df.columns if c.startswith("label.") and c != "label.le"]
    bucket = f"{width}s"
    g = df.filter(pl.col("name").is_in(list(_GAUGES))).with_columns(
        pl.col("name").replace_strict(_GAUGES, return_dtype=pl.String).alias("_what")
    )
    per_time = g.group_by(by, "time", "_what").agg(
        pl.when(pl.col("_what").first() == "kv_usage")
        .then(pl.col("value").mean())
        .otherwise(pl.col("value").sum())
        .alias("value")
    )
    gauges = (
        per_time.with_columns(pl.col("time").dt.truncate(bucket).alias("bucket"))
        .group_by(by, "bucket", "_what")
        .agg(
            pl.col("value").mean().alias("mean"),
            pl.col("value").max().alias("max"),
            (pl.col("value") >= 1).mean().alias("share"),
        )
    )
    wide = (
        gauges.pivot(on="_what", index=[by, "bucket"], values=["mean", "max", "share"])
        if gauges.height
        else pl.DataFrame(schema={by: pl.String, "bucket": TIME})
    )
    rename = {f"mean_{k}": k for k in ("running", "waiting", "kv_usage")}
    rename.update(
        {
            "max_waiting": "waiting_max",
            "max_kv_usage": "kv_usage_max",
            "share_waiting": "waiting_share",
        }
    )
    wide = wide.rename({k: v for k, v in rename.items() if k in wide.columns})
    c = df.filter(pl.col("name").is_in(list(_COUNTERS)))
    keys = [k for k in series_keys if k in c.columns]
    c = c.sort([*keys, "name", "time"]).with_columns(
        pl.col("value").diff().over([*keys, "name"]).alias("_d")
    )
    c = c.with_columns(
        pl.when(pl.col("_d") < 0).then(pl.col("value")).otherwise(pl.col("_d")).alias("_inc")
    ).filter(pl.col("_inc").is_not_null())
    rates = (
        c.with_columns(
            pl.col("time").dt.truncate(bucket).alias("bucket"),
            pl.col("name").replace_strict(_COUNTERS, return_dtype=pl.String).alias("_what"),
        )
        .group_by(by, "bucket", "_what")
        .agg((pl.col("_inc").sum() / width).alias("rate"))
    )
    rates_wide = (
        rates.pivot(on="_what", index=[by, "bucket"], values="rate")
        if rates.height
        else pl.DataFrame(schema={by: pl.String, "bucket": TIME})
    )
    out = wide.join(rates_wide, on=[by, "bucket"], how="full", coalesce=True)
    columns = [
        "running",
        "waiting",
        "waiting_max",
        "waiting_share",
        "kv_usage",
        "kv_usage_max",
        "requests_per_s",
        "prompt_tokens_per_s",
        "generation_tokens_per_s",
    ]
    out = out.with_columns(
        [pl.lit(None, pl.Float64).alias(k) for k in columns if k not in out.columns]
    )
    result = out.select(pl.col(by).alias("pool"), pl.col("bucket").alias("time"), *columns).sort(
        "pool", "time"
    )
    return _out(result, backend, function)  # type: ignore[no-any-return]


@validate_params(load=Frame(), backend=BACKEND)
def saturation_periods(
    load: Any,
    *,
    waiting_share_min: float = 0.05,
    kv_usage_min: float = 0.95,
    min_duration: str | dt.timedelta = "2h",
    max_gap: str | dt.timedelta = "1h",
    backend: Backend = "polars",
) -> pl.DataFrame:
    """Periods when a pool was saturated: requests waiting, or the KV cache nearly full.

    A bucket of :func:`pool_load` (hourly buckets suit the defaults) is saturated when
    requests were waiting in at least ``waiting_share_min`` of its scrapes, or the KV cache
    reached ``kv_usage_min``. A healthy pool admits at once, so even 5 % of scrapes with a
    queue marks the hours where it runs out of slots or KV cache. Saturated buckets at most
    ``max_gap`` apart are merged; periods shorter than ``min_duration`` are dropped
    (isolated bursts).

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``pool``, ``start``, ``end`` (end of the last bucket), ``minutes``,
        ``waiting_max``, ``kv_usage_max``, ``requests_per_s_mean``, ``cause``
        (``queue``, ``kv_cache`` or ``queue+kv_cache``).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t = [dt.datetime(2026, 1, 1, h, tzinfo=dt.timezone.utc) for h in range(12)]
    >>> load = pl.DataFrame({"pool": "p", "time": t, "waiting_share": [0.0] * 4 + [0.2] * 3
    ...     + [0.0] * 5, "waiting_max": 3.0, "kv_usage_max": 0.5, "requests_per_s": 1.0})
    >>> saturation_periods(load).select("start", "minutes").row(0)
    (datetime.datetime(2026, 1, 1, 4, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 180.0)
    """
    function = caller() or "capacity.saturation_periods"
    df: pl.DataFrame = load
    need = ("pool", "time", "waiting_share", "kv_usage_max")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SchemaError(
            f"The load frame given to {function} is missing {missing} (use pool_load)."
        )
    gap_ns = _seconds(max_gap, "max_gap", function) * 1_000_000_000
    min_ns = _seconds(min_duration, "min_duration", function) * 1_000_000_000
    df = df.sort("pool", "time")
    ns = df["time"].dt.epoch("ns")
    width_ns = int(ns.diff().filter(ns.diff() > 0).min() or 60_000_000_000)  # type: ignore[arg-type]
    queue = pl.col("waiting_share").fill_null(0) >= waiting_share_min
    kv = pl.col("kv_usage_max").fill_null(0) >= kv_usage_min
    sat = df.with_columns(queue.alias("_q"), kv.alias("_kv")).filter(pl.col("_q") | pl.col("_kv"))
    sat = sat.with_columns(pl.col("time").dt.epoch("ns").alias("_ns"))
    sat = sat.with_columns(
        (
            (pl.col("_ns") - pl.col("_ns").shift(1).over("pool")).fill_null(gap_ns + width_ns + 1)
            > gap_ns + width_ns
        )
        .cum_sum()
        .over("pool")
        .alias("_period")
    )
    for optional in ("waiting_max", "kv_usage_max", "requests_per_s"):
        if optional not in sat.columns:
            sat = sat.with_columns(pl.lit(None, pl.Float64).alias(optional))
    periods = (
        sat.group_by("pool", "_period")
        .agg(
            pl.col("time").min().alias("start"),
            (pl.col("time").max() + pl.duration(nanoseconds=width_ns)).alias("end"),
            pl.col("waiting_max").max(),
            pl.col("kv_usage_max").max(),
            pl.col("requests_per_s").mean().alias("requests_per_s_mean"),
            pl.col("_q").any().alias("_anyq"),
            pl.col("_kv").any().alias("_anykv"),
        )
        .with_columns(
            ((pl.col("end") - pl.col("start")).dt.total_nanoseconds() / 60e9).alias("minutes"),
            pl.when(pl.col("_anyq") & pl.col("_anykv"))
            .then(pl.lit("queue+kv_cache"))
            .when(pl.col("_anyq"))
            .then(pl.lit("queue"))
            .otherwise(pl.lit("kv_cache"))
            .alias("cause"),
        )
        .filter(pl.col("minutes") * 60e9 >= min_ns)
        .sort("pool", "start")
        .select(
            "pool",
            "start",
            "end",
            "minutes",
            "waiting_max",
            "kv_usage_max",
            "requests_per_s_mean",
            "cause",
        )
    )
    return _out(periods, backend, function)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- inventory

_INVENTORY = {
    # format: (header, node, gpu model, gpus, cpu (column, divisor), memory MiB column)
    "openb": (("sn", "cpu_milli", "memory_mib", "gpu", "model"), "sn", "model", "gpu"),
    "spot": (
        ("gpu_model", "gpu_capacity_num", "cpu_num", "node_name"),
        "node_name",
        "gpu_model",
        "gpu_capacity_num",
    ),
    "pai": (
        ("machine", "gpu_type", "cap_cpu", "cap_mem", "cap_gpu"),
        "machine",
        "gpu_type",
        "cap_gpu",
    ),
}
_INVENTORY_SCHEMA = {
    "source": pl.String,
    "node": pl.String,
    "gpu_model": pl.String,
    "gpus": pl.Int64,
    "cpu_cores": pl.Float64,
    "memory_mib": pl.Int64,
    "memory_as_published": pl.Int64,
}


def _inventory_format(path: Path) -> tuple[str, list[str], bool]:
    with open(path, newline="", encoding="utf-8") as handle:
        first = handle.readline().strip()
    cells = [c.strip() for c in first.split(",")]
    for fmt, (header, *_rest) in _INVENTORY.items():
        if tuple(cells) == header:
            return fmt, cells, True
    sidecar = path.with_suffix(".header")
    if sidecar.exists():
        names = [c.strip() for c in sidecar.read_text(encoding="utf-8").strip().split(",")]
        if tuple(names) == _INVENTORY["pai"][0]:
            return "pai", names, False
    known = "; ".join(f"{k}: {','.join(v[0])}" for k, v in _INVENTORY.items())
    raise FormatError(
        f"not a known GPU inventory: first line {preview(first)}; expected one of the headers "
        f"({known}), or a header-less CSV with a .header file next to it (PAI)",
        path=path,
        line=1,
    )


@validate_params(on_error=ON_ERROR, backend=BACKEND)
def read_gpu_inventory(
    path: PathLike,
    *,
    on_error: Literal["raise", "skip"] = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> pl.DataFrame:
    """Read a GPU cluster's node inventory (Alibaba cluster-trace formats).

    Supported, detected from the content:

    - ``openb`` (cluster-trace-gpu-v2023 ``openb_node_list_gpu_node.csv``:
      ``sn,cpu_milli,memory_mib,gpu,model``): CPU in millicores, memory in MiB.
    - ``spot`` (cluster-trace-v2026-spot-gpu ``node_info_df.csv``:
      ``gpu_model,gpu_capacity_num,cpu_num,node_name``, in this file order, unlike the
      README's): CPUs in vCPUs; no memory column.
    - ``pai`` (cluster-trace-gpu-v2020 ``pai_machine_spec.csv``): the CSV has **no header**;
      it is read from ``pai_machine_spec.header`` next to it
      (``machine,gpu_type,cap_cpu,cap_mem,cap_gpu``). The dataset does not state the unit
      of ``cap_mem``, so it is kept as published in ``memory_as_published``, never
      converted; CPU-only machines (``gpu_type`` CPU, 0 GPUs) are kept.

    Parameters
    ----------
    path : str or path-like
    on_error : {"raise", "skip"}, default "raise"
        A row with a wrong field count or a non-integer count raises a FormatError naming
        the file, line and column, or is skipped and reported in one SkippedRecordsWarning.
    report : LoadReport, optional
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``source`` (format:file name), ``node``, ``gpu_model`` (as published: ``G2``,
        ``GPU-series-1`` are the datasets' undisclosed codes), ``gpus``, ``cpu_cores``,
        ``memory_mib`` (null unless published in MiB), ``memory_as_published``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "nodes.csv"
    >>> _ = p.write_text("sn,cpu_milli,memory_mib,gpu,model\\nn-0,64000,262144,2,P100\\n")
    >>> read_gpu_inventory(p).select("gpu_model", "gpus", "cpu_cores", "memory_mib").row(0)
    ('P100', 2, 64.0, 262144)
    """
    function = caller() or "capacity.read_gpu_inventory"
    path = Path(path)
    if not path.is_file():
        raise reject("path", "be an existing file", str(path))
    fmt, names, has_header = _inventory_format(path)
    _, node_col, model_col, gpu_col = _INVENTORY[fmt]
    rows: list[dict[str, Any]] = []
    skipped: list[SkippedRecord] = []
    source = f"{fmt}:{path.name}"
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        if has_header:
            next(reader)
        for line, cells in enumerate(reader, start=2 if has_header else 1):
            try:
                if len(cells) != len(names):
                    raise FormatError(
                        f"expected {len(names)} fields ({','.join(names)}), found {len(cells)}: "
                        f"{preview(','.join(cells))}",
                        path=path,
                        line=line,
                    )
                rec = dict(zip(names, cells, strict=True))

                def integer(column: str, rec: dict[str, str] = rec, line: int = line) -> int:
                    text = rec[column].strip()
                    if not text.lstrip("-").isdigit() or int(text) < 0:
                        raise FormatError(
                            f"expected a non-negative integer, found {preview(text)}",
                            path=path,
                            line=line,
                            column=column,
                        )
                    return int(text)

                row: dict[str, Any] = {
                    "source": source,
                    "node": rec[node_col],
                    "gpu_model": rec[model_col] or None,
                    "gpus": integer(gpu_col),
                    "memory_mib": None,
                    "memory_as_published": None,
                }
                if fmt == "openb":
                    row["cpu_cores"] = integer("cpu_milli") / 1000.0
                    row["memory_mib"] = integer("memory_mib")
                    row["memory_as_published"] = row["memory_mib"]
                elif fmt == "spot":
                    row["cpu_cores"] = float(integer("cpu_num"))
                else:
                    row["cpu_cores"] = float(integer("cap_cpu"))
                    row["memory_as_published"] = integer("cap_mem")
                rows.append(row)
            except FormatError as error:
                if on_error == "raise":
                    raise
                skipped.append(SkippedRecord(f"{path}, line {line}", error.problem))
    if skipped:
        import warnings

        if report is not None:
            report.skipped.extend(skipped)
        warnings.warn(
            SkippedRecordsWarning(
                f"{function} skipped {len(skipped)} broken rows of {path} (first: {skipped[0]})",
                skipped,
            ),
            stacklevel=2,
        )
    if report is not None:
        report.files.append(str(path))
        report.formats[str(path)] = fmt
        report.rows = (report.rows or 0) + len(rows)
    frame = pl.DataFrame(rows, schema=_INVENTORY_SCHEMA)
    return _out(frame, backend, function)  # type: ignore[no-any-return]


@validate_params(inventory=Frame(), backend=BACKEND)
def inventory_summary(inventory: Any, *, backend: Backend = "polars") -> pl.DataFrame:
    """GPUs per model in an inventory: nodes, GPUs, GPUs per node, share of the fleet.

    Nodes without GPUs are left out of the GPU counts (they are listed as ``gpus == 0``).

    Examples
    --------
    >>> import polars as pl
    >>> inv = pl.DataFrame({"source": "x", "node": ["a", "b", "c"],
    ...                     "gpu_model": ["T4", "T4", "V100"], "gpus": [2, 4, 8]})
    >>> inventory_summary(inv).select("gpu_model", "gpus", "gpu_share").rows()
    [('V100', 8, 0.5714285714285714), ('T4', 6, 0.42857142857142855)]
    """
    function = caller() or "capacity.inventory_summary"
    df: pl.DataFrame = inventory
    with_gpus = df.filter(pl.col("gpus") > 0)
    out = (
        with_gpus.group_by("source", "gpu_model")
        .agg(
            pl.len().cast(pl.Int64).alias("nodes"),
            pl.col("gpus").sum().cast(pl.Int64),
            pl.col("gpus").min().alias("gpus_per_node_min"),
            pl.col("gpus").max().alias("gpus_per_node_max"),
        )
        .with_columns((pl.col("gpus") / pl.col("gpus").sum().over("source")).alias("gpu_share"))
        .sort(["source", "gpus", "gpu_model"], descending=[False, True, False])
    )
    return _out(out, backend, function)  # type: ignore[no-any-return]
