"""A first look at a folder's telemetry: its tables, the service per time bucket, the GPUs.

The tour notebook (``00_tour``) is built from these functions; each takes a canonical table
(or a :class:`toolkit.Catalog`) and returns a tidy frame or a small frozen dataclass:

- :func:`choose_bucket`: a time-bucket width that gives a readable number of points for a
  period (1 h for a week, 1 min for an hour).
- :func:`tables_overview`: rows, columns, first and last time of each table.
- :func:`metrics_overview`: one row per metric series name, with its samples and time range.
- :func:`call_series`, :func:`span_series`, :func:`token_series`: traffic, latency, errors
  and tokens per time bucket, from ``llm_calls`` (or, without model calls, from ``spans``).
- :func:`gpu_series`: GPU utilisation per bucket and GPU model.
- :func:`call_summary`: the headline numbers of the calls (or spans).
- :func:`next_steps`: which notebooks a catalog's tables support, and what the others miss.

Examples
--------
>>> import datetime as dt
>>> from toolkit.overview import choose_bucket
>>> t0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
>>> choose_bucket(t0, t0 + dt.timedelta(days=7)), choose_bucket(t0, t0 + dt.timedelta(hours=1))
('1h', '1m')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from toolkit._validation import (
    Duration,
    Frame,
    InstanceOf,
    Interval,
    caller,
    frame_in,
    polars_duration,
    reject,
    time_column,
    validate_params,
)
from toolkit.schema import require_columns

__all__ = [
    "NOTEBOOKS",
    "CallSummary",
    "call_series",
    "call_summary",
    "choose_bucket",
    "gpu_series",
    "metrics_overview",
    "next_steps",
    "span_series",
    "tables_overview",
    "token_series",
]

#: Bucket widths :func:`choose_bucket` picks from, narrowest first, with their length.
BUCKETS: tuple[tuple[str, dt.timedelta], ...] = (
    ("1s", dt.timedelta(seconds=1)),
    ("10s", dt.timedelta(seconds=10)),
    ("1m", dt.timedelta(minutes=1)),
    ("5m", dt.timedelta(minutes=5)),
    ("15m", dt.timedelta(minutes=15)),
    ("1h", dt.timedelta(hours=1)),
    ("6h", dt.timedelta(hours=6)),
    ("1d", dt.timedelta(days=1)),
    ("1w", dt.timedelta(weeks=1)),
)

#: The time columns (first, last) of each canonical table.
_TIME: Mapping[str, tuple[str, str]] = {
    "spans": ("start_time", "end_time"),
    "llm_calls": ("start_time", "start_time"),
    "logs": ("time", "time"),
    "metrics": ("time", "time"),
    "gpu": ("time", "time"),
    "workload": ("arrival_time", "arrival_time"),
}

#: The curated notebooks after the tour: (notebook, what it audits, the analyses of
#: :attr:`toolkit.Catalog.supports` it needs; any one of them is enough to run part of it).
NOTEBOOKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("01_slo_error_budget", "SLOs, error budgets and burn-rate alerts", ("slo",)),
    ("02_trace_bottlenecks", "critical paths and the slowest steps of requests", ("traces",)),
    ("03_explainability", "which request features explain slow or failed calls", ("explain",)),
    ("04_bias_audit", "outcome rates across user groups", ("fairness",)),
    (
        "05_drift_and_hallucinations",
        "drift of the request mix and groundedness of answers",
        ("drift", "quality"),
    ),
    (
        "06_gpu_capacity_planning",
        "GPU utilisation, queueing and the fleet the peak needs",
        ("capacity", "gpu"),
    ),
    ("07_fleet_scale", "the same questions over a partitioned store on Dask", ("scale",)),
)

_EVERY = Duration(description="a positive duration such as '1m', '1h' or '1d'")


def _frame(df: pl.DataFrame, table: str, columns: Sequence[str | None], time: str) -> pl.DataFrame:
    require_columns(df, columns, table=table, where=f"(needed by {caller()})")
    return time_column(df, time, table=table, parameter=None)


@validate_params(
    start=[InstanceOf(dt.datetime), None],
    end=[InstanceOf(dt.datetime), None],
    max_buckets=Interval(int, 1, None, closed="left"),
)
def choose_bucket(
    start: dt.datetime | None, end: dt.datetime | None, *, max_buckets: int = 200
) -> str:
    """The narrowest bucket width that splits ``[start, end]`` into at most ``max_buckets``.

    Parameters
    ----------
    start, end : datetime or None
        The period (e.g. :attr:`toolkit.Catalog.period`). None (no data): ``"1h"``.
    max_buckets : int, default 200
        The most points a time-series figure should have.

    Returns
    -------
    str
        A polars duration from :data:`BUCKETS` (``"1m"``, ``"1h"``, ``"1d"`` ...).

    Examples
    --------
    >>> import datetime as dt
    >>> t0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> choose_bucket(t0, t0 + dt.timedelta(hours=4)), choose_bucket(t0, t0 + dt.timedelta(days=90))
    ('5m', '1d')
    >>> choose_bucket(None, None)
    '1h'
    """
    if start is None or end is None:
        return "1h"
    length = max(end - start, dt.timedelta(0))
    for name, width in BUCKETS:
        if length / width <= max_buckets:
            return name
    return BUCKETS[-1][0]


@validate_params()
def tables_overview(tables: Any) -> pl.DataFrame:
    """Rows, columns and the first and last time of each table.

    Parameters
    ----------
    tables : Catalog or mapping of str to DataFrame
        A :class:`toolkit.Catalog` (its tables, ``llm_calls`` included) or canonical tables
        by name (``{"spans": ..., "logs": ...}``).

    Returns
    -------
    polars.DataFrame
        ``table``, ``rows``, ``columns``, ``first``, ``last`` (UTC; null for a table without
        a known time column), in the order given.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = [dt.datetime(2026, 1, 5, h, tzinfo=dt.UTC) for h in (1, 2, 3)]
    >>> logs = pl.DataFrame({"time": t, "body": ["a", "b", "c"]})
    >>> tables_overview({"logs": logs}).select("table", "rows", "columns").rows()
    [('logs', 3, 2)]
    """
    if isinstance(tables, Mapping):
        frames = {str(k): frame_in(v, parameter="tables") for k, v in tables.items()}
    elif hasattr(tables, "tables") and hasattr(tables, "table"):
        frames = {name: tables.table(name) for name in tables.tables}
    else:
        raise reject(
            "tables",
            "be a toolkit.Catalog or a mapping of table names to frames",
            got=type(tables).__name__,
        )
    rows = []
    for name, frame in frames.items():
        first_col, last_col = _TIME.get(name, ("", ""))
        first = frame[first_col].min() if first_col in frame.columns else None
        last = frame[last_col].max() if last_col in frame.columns else None
        rows.append((name, frame.height, frame.width, first, last))
    return pl.DataFrame(
        rows,
        schema={
            "table": pl.String,
            "rows": pl.Int64,
            "columns": pl.Int64,
            "first": pl.Datetime("ns", "UTC"),
            "last": pl.Datetime("ns", "UTC"),
        },
        orient="row",
    )


@validate_params(metrics=Frame())
def metrics_overview(metrics: Any) -> pl.DataFrame:
    """One row per metric name: its type, unit, samples, label sets and time range.

    Parameters
    ----------
    metrics : polars.DataFrame or pandas.DataFrame
        The canonical ``metrics`` table.

    Returns
    -------
    polars.DataFrame
        ``name``, ``type``, ``unit``, ``samples``, ``series`` (distinct label sets), ``first``,
        ``last``, sorted by name.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> m = pl.DataFrame({"time": [t, t, t], "name": ["up", "up", "waiting"],
    ...                   "type": ["gauge"] * 3, "unit": [None] * 3, "value": [1.0, 1.0, 3.0],
    ...                   "label.job": ["a", "b", "a"]})
    >>> metrics_overview(m).select("name", "samples", "series").rows()
    [('up', 2, 2), ('waiting', 1, 1)]
    """
    df = _frame(metrics, "metrics", ["time", "name", "type", "unit"], "time")
    labels = sorted(c for c in df.columns if c.startswith("label."))
    series = pl.struct(labels).n_unique() if labels else pl.lit(1, dtype=pl.UInt32)
    return (
        df.group_by("name")
        .agg(
            pl.col("type").drop_nulls().first(),
            pl.col("unit").drop_nulls().first(),
            pl.len().cast(pl.Int64).alias("samples"),
            series.cast(pl.Int64).alias("series"),
            pl.col("time").min().alias("first"),
            pl.col("time").max().alias("last"),
        )
        .sort("name")
    )


def _bucketed(
    df: pl.DataFrame, time: str, every: str, by: str | None
) -> pl.dataframe.group_by.DynamicGroupBy:
    if by is None:
        return df.sort(time).group_by_dynamic(time, every=every)
    df = df.with_columns(pl.col(by).cast(pl.String).fill_null("(unknown)"))
    return df.sort(by, time).group_by_dynamic(time, every=every, group_by=by)


@validate_params(calls=Frame(), every=_EVERY, by=[InstanceOf(str), None])
def call_series(calls: Any, every: str, *, by: str | None = "request_model") -> pl.DataFrame:
    """Traffic, latency, errors and tokens of the LLM calls per time bucket (and ``by``).

    Parameters
    ----------
    calls : polars.DataFrame or pandas.DataFrame
        The ``llm_calls`` table.
    every : str
        Bucket width (a polars duration: ``"1m"``, ``"1h"`` ...), e.g. from
        :func:`choose_bucket`.
    by : str or None, default "request_model"
        Column that splits the series (a null value becomes ``"(unknown)"``); None: one
        series.

    Returns
    -------
    polars.DataFrame
        ``start_time``, ``by`` (when given), ``calls``, ``p50_latency_s``, ``p95_latency_s``,
        ``p95_ttft_s``, ``error_ratio``, ``input_tokens``, ``output_tokens``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> t = [t0 + dt.timedelta(minutes=m) for m in (0, 20, 40, 70)]
    >>> calls = pl.DataFrame({"start_time": t, "request_model": ["a", "a", "b", "a"],
    ...                       "latency_s": [1.0, 2.0, 3.0, 4.0], "ttft_s": [None] * 4,
    ...                       "is_error": [False, True, False, False],
    ...                       "input_tokens": [10, 20, 30, 40], "output_tokens": [1, 2, 3, 4]},
    ...                      schema_overrides={"ttft_s": pl.Float64})
    >>> call_series(calls, "1h").select("request_model", "calls", "error_ratio").rows()
    [('a', 2, 0.5), ('a', 1, 0.0), ('b', 1, 0.0)]
    """
    every = polars_duration(every)
    needed = ["start_time", "latency_s", "ttft_s", "is_error", "input_tokens", "output_tokens"]
    df = _frame(calls, "llm_calls", [*needed, by], "start_time")
    return _bucketed(df, "start_time", every, by).agg(
        pl.len().cast(pl.Int64).alias("calls"),
        pl.col("latency_s").quantile(0.5).alias("p50_latency_s"),
        pl.col("latency_s").quantile(0.95).alias("p95_latency_s"),
        pl.col("ttft_s").quantile(0.95).alias("p95_ttft_s"),
        pl.col("is_error").cast(pl.Float64).mean().alias("error_ratio"),
        pl.col("input_tokens").sum().alias("input_tokens"),
        pl.col("output_tokens").sum().alias("output_tokens"),
    )


@validate_params(spans=Frame(), every=_EVERY, by=[InstanceOf(str), None])
def span_series(spans: Any, every: str, *, by: str | None = "service_name") -> pl.DataFrame:
    """Spans, their duration and their error share per time bucket (and ``by``).

    For traces whose spans are not model calls (any instrumentation): the load and latency
    of each service over the period.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        The ``spans`` table.
    every : str
        Bucket width (a polars duration).
    by : str or None, default "service_name"
        Column that splits the series; None: one series.

    Returns
    -------
    polars.DataFrame
        ``start_time``, ``by`` (when given), ``spans``, ``p50_duration_ms``,
        ``p95_duration_ms``, ``error_ratio`` (share of spans with status ``error``).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = [dt.datetime(2026, 1, 5, 0, m, tzinfo=dt.UTC) for m in (0, 1, 2)]
    >>> spans = pl.DataFrame({"start_time": t, "service_name": ["api"] * 3,
    ...                       "duration_ms": [10.0, 20.0, 30.0],
    ...                       "status_code": ["ok", "error", "unset"]})
    >>> span_series(spans, "1h").select("spans", "p50_duration_ms", "error_ratio").rows()
    [(3, 20.0, 0.333...)]
    """
    every = polars_duration(every)
    df = _frame(spans, "spans", ["start_time", "duration_ms", "status_code", by], "start_time")
    return _bucketed(df, "start_time", every, by).agg(
        pl.len().cast(pl.Int64).alias("spans"),
        pl.col("duration_ms").quantile(0.5).alias("p50_duration_ms"),
        pl.col("duration_ms").quantile(0.95).alias("p95_duration_ms"),
        (pl.col("status_code") == "error").cast(pl.Float64).mean().alias("error_ratio"),
    )


@validate_params(calls=Frame(), every=_EVERY)
def token_series(calls: Any, every: str) -> pl.DataFrame:
    """Input and output tokens of the LLM calls per time bucket, in long format.

    Parameters
    ----------
    calls : polars.DataFrame or pandas.DataFrame
        The ``llm_calls`` table.
    every : str
        Bucket width (a polars duration).

    Returns
    -------
    polars.DataFrame
        ``start_time``, ``tokens`` (``"input"`` or ``"output"``), ``count``.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = [dt.datetime(2026, 1, 5, 0, m, tzinfo=dt.UTC) for m in (0, 30)]
    >>> calls = pl.DataFrame({"start_time": t, "input_tokens": [10, 20],
    ...                       "output_tokens": [1, None]})
    >>> token_series(calls, "1h").rows()
    [(datetime.datetime(2026, 1, 5, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 'input', 30),
     (datetime.datetime(2026, 1, 5, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 'output', 1)]
    """
    every = polars_duration(every)
    df = _frame(calls, "llm_calls", ["start_time", "input_tokens", "output_tokens"], "start_time")
    return (
        _bucketed(df, "start_time", every, None)
        .agg(
            pl.col("input_tokens").sum().alias("input"),
            pl.col("output_tokens").sum().alias("output"),
        )
        .unpivot(index="start_time", variable_name="tokens", value_name="count")
        .sort("start_time", "tokens")
    )


@validate_params(gpu=Frame(), every=_EVERY, by=[InstanceOf(str), None])
def gpu_series(gpu: Any, every: str, *, by: str | None = "gpu_model") -> pl.DataFrame:
    """Mean and peak GPU utilisation per time bucket (and ``by``, e.g. GPU model).

    Parameters
    ----------
    gpu : polars.DataFrame or pandas.DataFrame
        The ``gpu`` table (DCGM scrapes, nvidia-smi logs ...).
    every : str
        Bucket width (a polars duration).
    by : str or None, default "gpu_model"
        Column that splits the series; None: one series.

    Returns
    -------
    polars.DataFrame
        ``time``, ``by`` (when given), ``util_pct`` (mean over the GPUs and samples of the
        bucket), ``max_util_pct``, ``gpus`` (distinct GPUs seen: uuid, else host and index).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> gpu = pl.DataFrame({"time": [t, t], "host": ["n1", "n1"], "gpu_index": [0, 1],
    ...                     "gpu_uuid": [None, None], "gpu_model": ["L4", "L4"],
    ...                     "util_pct": [20.0, 60.0]},
    ...                    schema_overrides={"gpu_uuid": pl.String})
    >>> gpu_series(gpu, "1h").select("gpu_model", "util_pct", "max_util_pct", "gpus").rows()
    [('L4', 40.0, 60.0, 2)]
    """
    every = polars_duration(every)
    df = _frame(gpu, "gpu", ["time", "util_pct", "host", "gpu_index", "gpu_uuid", by], "time")
    device = pl.coalesce(
        pl.col("gpu_uuid"),
        pl.concat_str(
            pl.col("host").fill_null(""), pl.col("gpu_index").cast(pl.String), separator="/"
        ),
    )
    return _bucketed(df.with_columns(device.alias("__gpu")), "time", every, by).agg(
        pl.col("util_pct").mean().alias("util_pct"),
        pl.col("util_pct").max().alias("max_util_pct"),
        pl.col("__gpu").n_unique().cast(pl.Int64).alias("gpus"),
    )


@dataclass(frozen=True)
class CallSummary:
    """Headline numbers of a period's LLM calls.

    Attributes
    ----------
    calls : int
        Model calls.
    errors : int
        Failed calls (``is_error``).
    error_ratio : float or None
        ``errors / calls``; None without calls.
    p95_latency_s, p95_ttft_s : float or None
        95th percentiles; None when no call records the value.
    input_tokens, output_tokens : int
        Token totals (calls without a count are left out).
    busiest_bucket_calls : int
        The most calls in one bucket of ``every`` (all models together).
    """

    calls: int
    errors: int
    error_ratio: float | None
    p95_latency_s: float | None
    p95_ttft_s: float | None
    input_tokens: int
    output_tokens: int
    busiest_bucket_calls: int


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@validate_params(calls=Frame(), every=_EVERY)
def call_summary(calls: Any, every: str) -> CallSummary:
    """The headline numbers of the LLM calls: volume, errors, latency, tokens, busiest bucket.

    Parameters
    ----------
    calls : polars.DataFrame or pandas.DataFrame
        The ``llm_calls`` table.
    every : str
        Bucket width for ``busiest_bucket_calls`` (a polars duration).

    Returns
    -------
    CallSummary

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> t = [t0 + dt.timedelta(minutes=m) for m in (0, 20, 40, 70)]
    >>> calls = pl.DataFrame({"start_time": t, "latency_s": [1.0, 2.0, 3.0, 4.0],
    ...                       "ttft_s": [None] * 4, "is_error": [False, True, False, False],
    ...                       "input_tokens": [10, 20, 30, 40], "output_tokens": [1, 2, 3, 4]},
    ...                      schema_overrides={"ttft_s": pl.Float64})
    >>> s = call_summary(calls, "1h")
    >>> s.calls, s.errors, s.error_ratio, s.p95_ttft_s, s.input_tokens, s.busiest_bucket_calls
    (4, 1, 0.25, None, 100, 3)
    """
    every = polars_duration(every)
    needed = ["start_time", "latency_s", "ttft_s", "is_error", "input_tokens", "output_tokens"]
    df = _frame(calls, "llm_calls", needed, "start_time")
    busiest = _bucketed(df, "start_time", every, None).agg(pl.len().alias("n"))["n"].max()
    errors = int(df["is_error"].sum() or 0)
    return CallSummary(
        calls=df.height,
        errors=errors,
        error_ratio=errors / df.height if df.height else None,
        p95_latency_s=_float(df["latency_s"].quantile(0.95)),
        p95_ttft_s=_float(df["ttft_s"].quantile(0.95)),
        input_tokens=int(df["input_tokens"].sum() or 0),
        output_tokens=int(df["output_tokens"].sum() or 0),
        busiest_bucket_calls=int(busiest or 0),  # type: ignore[arg-type]
    )


def next_steps(supports: Mapping[str, Any]) -> pl.DataFrame:
    """Which curated notebooks a catalog's tables support, and what the others miss.

    Parameters
    ----------
    supports : mapping of str to Support
        :attr:`toolkit.Catalog.supports`.

    Returns
    -------
    polars.DataFrame
        One row per notebook of :data:`NOTEBOOKS`: ``notebook``, ``about``, ``runs``
        (``"yes"``: every analysis it needs is supported, ``"in part"``: some, ``"no"``:
        none, the notebook is "not applicable"), ``found`` (what the supported analyses
        use), ``missing`` and ``how`` (for the analyses that are not supported).

    Examples
    --------
    >>> from toolkit import Support
    >>> s = {name: Support(name, "spans", "spans with 3 rows")
    ...      for name in ("slo", "traces", "explain", "fairness", "drift", "quality", "scale")}
    >>> s["capacity"] = Support("capacity", "calls", "spans with 3 rows")
    >>> s["gpu"] = Support("gpu", "the gpu table", "no gpu table", ("gpu",), "scrape DCGM")
    >>> next_steps(s).filter(notebook="06_gpu_capacity_planning").select("runs", "how").rows()
    [('in part', 'gpu: scrape DCGM')]
    """
    rows = []
    for notebook, about, analyses in NOTEBOOKS:
        checks = [supports[a] for a in analyses if a in supports]
        ok = [c for c in checks if getattr(c, "ok", False)]
        unmet = [c for c in checks if not getattr(c, "ok", False)]
        runs = "yes" if checks and not unmet else ("in part" if ok else "no")
        rows.append(
            (
                notebook,
                about,
                runs,
                "; ".join(f"{c.name}: {c.found}" for c in ok) or None,
                "; ".join(f"{c.name}: {', '.join(c.missing)}" for c in unmet) or None,
                "; ".join(f"{c.name}: {c.how}" for c in unmet if c.how) or None,
            )
        )
    return pl.DataFrame(
        rows,
        schema=["notebook", "about", "runs", "found", "missing", "how"],
        orient="row",
    )
