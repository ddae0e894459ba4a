"""Demand for :mod:`toolkit.capacity`: arrival-rate series, burstiness, token mix, a
seasonal forecast with intervals, and the what-if transforms of a workload."""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import (
    Frame,
    Interval,
    caller,
    duration_ns,
    reject,
    time_column,
    validate_params,
)
from toolkit.errors import SchemaError, preview
from toolkit.schema import TIME

__all__ = [
    "DemandSummary",
    "Forecast",
    "arrival_rate",
    "demand_summary",
    "forecast_demand",
    "reconstruct_demand",
    "scale_demand",
    "scale_prompts",
]


#: ``factor``: how many times the traffic or the prompts.
_FACTOR = Interval(float, 0, None, closed="right", description="a number > 0")
#: ``levels``: the forecast intervals' coverage.
_LEVEL = Interval(float, 0, 1, closed="neither")


def _seconds(value: object, name: str, function: str) -> int:
    """A duration in the toolkit's one grammar ('30s', '1h30m', a timedelta), in whole
    seconds."""
    ns = duration_ns(value, parameter=name, function=function)
    if ns % 1_000_000_000:
        raise reject(name, "be a whole number of seconds", value, function=function)
    return ns // 1_000_000_000


def _time_column(df: pl.DataFrame, function: str) -> str:
    for name in ("arrival_time", "start_time"):
        if name in df.columns:
            time_column(df, name, table="frame", parameter=None, function=function)
            return name
    raise SchemaError(
        f"The frame given to {function} needs 'arrival_time' (workload) or 'start_time' "
        f"(llm_calls). Available columns: {preview(df.columns, 300)}."
    )


@validate_params(frame=Frame(), sampling_ratio=Interval(float, 0, 1, closed="right"))
def arrival_rate(
    frame: Any, *, every: str | dt.timedelta = "1m", sampling_ratio: float = 1.0
) -> pl.DataFrame:
    """Requests and tokens per time bucket, empty buckets included.

    Parameters
    ----------
    frame : frame
        A workload table (``arrival_time``) or llm_calls (``start_time``), with
        ``input_tokens`` and ``output_tokens``.
    every : str or timedelta, default "1m"
        Bucket width (``"30s"``, ``"5m"``, ``"1h"``).
    sampling_ratio : float, default 1.0
        Share of requests the frame holds (0.02 for 2 % head-sampled traces): rates and
        token rates are divided by it; ``requests`` stays the count seen.

    Returns
    -------
    polars.DataFrame
        ``time`` (bucket start), ``requests``, ``input_tokens``, ``output_tokens``,
        ``rate_rps``, ``input_tokens_per_s``, ``output_tokens_per_s``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0, t0 + dt.timedelta(seconds=150)],
    ...                   "input_tokens": [10, 20], "output_tokens": [1, 2]})
    >>> arrival_rate(w, every="1m")["requests"].to_list()
    [1, 0, 1]
    """
    function = caller() or "capacity.arrival_rate"
    width = _seconds(every, "every", function)
    df: pl.DataFrame = frame
    column = _time_column(df, function)
    every_str = f"{width}s"
    counts = (
        df.select(
            pl.col(column)
            .dt.convert_time_zone("UTC")
            .cast(TIME)
            .dt.truncate(every_str)
            .alias("time"),
            pl.col("input_tokens").fill_null(0),
            pl.col("output_tokens").fill_null(0),
        )
        .group_by("time")
        .agg(
            pl.len().cast(pl.Int64).alias("requests"),
            pl.col("input_tokens").sum().cast(pl.Int64),
            pl.col("output_tokens").sum().cast(pl.Int64),
        )
    )
    if counts.height == 0:
        grid = pl.DataFrame(schema={"time": TIME})
    else:
        grid = pl.DataFrame(
            {
                "time": pl.datetime_range(  # type: ignore[call-overload]
                    counts["time"].min(),
                    counts["time"].max(),
                    interval=every_str,
                    time_unit="ns",
                    time_zone="UTC",
                    eager=True,
                )
            }
        )
    scale = 1.0 / (width * sampling_ratio)
    return (
        grid.join(counts, on="time", how="left")
        .with_columns(pl.col("requests", "input_tokens", "output_tokens").fill_null(0))
        .with_columns(
            (pl.col("requests") * scale).alias("rate_rps"),
            (pl.col("input_tokens") * scale).alias("input_tokens_per_s"),
            (pl.col("output_tokens") * scale).alias("output_tokens_per_s"),
        )
        .sort("time")
    )


@dataclass(frozen=True)
class DemandSummary:
    """How much, how bursty and what kind of demand a workload is.

    Attributes
    ----------
    requests : int
    duration_s : float
        First to last bucket, inclusive.
    bucket_s : int
        Bucket width of the rate statistics.
    mean_rps, peak_rps : float
        Mean and largest bucket rate.
    peak_to_mean : float
    index_of_dispersion : float
        Sample variance / mean of the requests per bucket: 1 for a Poisson process, above
        1 for bursty (or time-varying) traffic.
    input_tokens_mean, input_tokens_p50, input_tokens_p90, input_tokens_p99 : float
    output_tokens_mean, output_tokens_p50, output_tokens_p90, output_tokens_p99 : float
    input_token_share : float
        Input tokens / all tokens.
    """

    requests: int
    duration_s: float
    bucket_s: int
    mean_rps: float
    peak_rps: float
    peak_to_mean: float
    index_of_dispersion: float
    input_tokens_mean: float
    input_tokens_p50: float
    input_tokens_p90: float
    input_tokens_p99: float
    output_tokens_mean: float
    output_tokens_p50: float
    output_tokens_p90: float
    output_tokens_p99: float
    input_token_share: float

    def to_frame(self) -> pl.DataFrame:
        """One row per statistic (``statistic``, ``value``)."""
        items = asdict(self)
        return pl.DataFrame({"statistic": list(items), "value": [float(v) for v in items.values()]})

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v:,.4g}</td></tr>"
            for k, v in self.to_frame().iter_rows()
        )
        return f"<table><tr><th>statistic</th><th>value</th></tr>{rows}</table>"


@validate_params(demand=Frame())
def demand_summary(demand: Any, *, every: str | dt.timedelta = "1m") -> DemandSummary:
    """Peak-to-mean, burstiness (index of dispersion) and token mix of a workload.

    Parameters
    ----------
    demand : frame
        Workload table or llm_calls.
    every : str or timedelta, default "1m"
        Bucket of the rate statistics.

    Returns
    -------
    DemandSummary

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0, t0, t0 + dt.timedelta(minutes=1)],
    ...                   "input_tokens": [100, 100, 100], "output_tokens": [100, 100, 100]})
    >>> s = demand_summary(w)
    >>> s.peak_to_mean, s.index_of_dispersion, s.input_token_share  # counts 2, 1
    (1.3333333333333333, 0.3333333333333333, 0.5)
    """
    function = caller() or "capacity.demand_summary"
    df: pl.DataFrame = demand
    series = arrival_rate(df, every=every)
    width = _seconds(every, "every", function)
    if series.height == 0:
        raise reject("demand", "hold arrivals", got="an empty table")
    counts = series["requests"].to_numpy().astype(np.float64)
    mean = float(counts.mean())
    inp = df["input_tokens"].drop_nulls().to_numpy().astype(np.float64)
    out = df["output_tokens"].drop_nulls().to_numpy().astype(np.float64)

    def q(values: np.ndarray, p: float) -> float:
        return float(np.quantile(values, p)) if values.size else math.nan

    total = inp.sum() + out.sum()
    return DemandSummary(
        requests=df.height,
        duration_s=float(series.height * width),
        bucket_s=width,
        mean_rps=mean / width,
        peak_rps=float(counts.max()) / width,
        peak_to_mean=float(counts.max()) / mean if mean > 0 else math.nan,
        index_of_dispersion=float(counts.var(ddof=1)) / mean
        if mean > 0 and counts.size > 1
        else math.nan,
        input_tokens_mean=float(inp.mean()) if inp.size else math.nan,
        input_tokens_p50=q(inp, 0.5),
        input_tokens_p90=q(inp, 0.9),
        input_tokens_p99=q(inp, 0.99),
        output_tokens_mean=float(out.mean()) if out.size else math.nan,
        output_tokens_p50=q(out, 0.5),
        output_tokens_p90=q(out, 0.9),
        output_tokens_p99=q(out, 0.99),
        input_token_share=float(inp.sum() / total) if total > 0 else math.nan,
    )


@dataclass(frozen=True)
class Forecast:
    """A seasonal forecast (see :func:`forecast_demand`).

    Attributes
    ----------
    frame : polars.DataFrame
        ``time``, ``forecast`` and ``lo_<level>`` / ``hi_<level>`` per interval level.
    column : str
        The forecast column of the history (``rate_rps``).
    season_s, bucket_s : int
    backtest_wape : float
        Weighted absolute percentage error (sum |error| / sum actual) of the same method
        predicting the last season of the history from the seasons before it.
    backtest_coverage : dict of str to float
        Share of that last season inside each interval.
    method : str
    """

    frame: pl.DataFrame
    column: str
    season_s: int
    bucket_s: int
    backtest_wape: float
    backtest_coverage: dict[str, float]
    method: str


def _profile(values: np.ndarray, slots: np.ndarray, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
    sums = np.bincount(slots, weights=values, minlength=n_slots)
    counts = np.bincount(slots, minlength=n_slots)
    profile = np.divide(sums, counts, out=np.zeros(n_slots), where=counts > 0)
    return profile, counts


@validate_params(series=Frame())
def forecast_demand(
    series: Any,
    *,
    horizon: str | dt.timedelta = "1d",
    season: str | dt.timedelta = "1d",
    levels: tuple[float, ...] = (0.8, 0.95),
    column: str = "rate_rps",
    day_types: bool = True,
) -> Forecast:
    """Seasonal forecast of an arrival-rate series, with empirical intervals.

    The forecast of a bucket is the mean of the history at the same position in the season
    (time of day for ``season="1d"``, of week for ``"7d"``); with a daily season and
    ``day_types``, weekdays and weekends (Saturday, Sunday, UTC) get their own profiles, so a
    week of history already forecasts a Monday from the weekdays (a day type the history
    lacks falls back to all days). Intervals are multiplicative:
    the quantiles of the history's relative residuals ``y / profile - 1`` (pooled over
    all slots), applied to the forecast; so they hold Poisson noise, day-to-day variation
    and bursts as they were in the history. A backtest predicts the last season from the
    ones before it and reports its error and interval coverage.

    Parameters
    ----------
    series : frame
        :func:`arrival_rate`'s output (regular buckets, ``time`` and ``column``).
    horizon : str or timedelta, default "1d"
        How far past the last bucket to forecast.
    season : str or timedelta, default "1d"
        Season length; the history must hold at least two.
    levels : tuple of float, default (0.8, 0.95)
        Interval levels.
    column : str, default "rate_rps"
    day_types : bool, default True
        Separate weekday and weekend profiles (daily season only).

    Returns
    -------
    Forecast

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> s = pl.DataFrame({"time": [t0 + dt.timedelta(hours=h) for h in range(48)],
    ...                   "rate_rps": [float(h % 24 >= 12) + 1 for h in range(48)]})
    >>> f = forecast_demand(s, horizon="3h", season="1d")
    >>> f.frame["forecast"].to_list(), f.backtest_wape
    ([1.0, 1.0, 1.0], 0.0)
    """
    function = caller() or "capacity.forecast_demand"
    df: pl.DataFrame = series
    if "time" not in df.columns or column not in df.columns:
        raise SchemaError(
            f"The series given to {function} needs 'time' and {column!r} (use "
            f"capacity.arrival_rate). Available columns: {preview(df.columns, 300)}."
        )
    horizon_s = _seconds(horizon, "horizon", function)
    season_s = _seconds(season, "season", function)
    for level in levels:
        if not _LEVEL.accepts(level):
            raise reject("levels", "hold numbers in (0, 1)", levels)
    df = df.sort("time")
    ns = df["time"].dt.epoch("ns").to_numpy()
    if ns.size < 2:
        raise reject("series", "hold at least two buckets", got=str(ns.size))
    step_ns = int(np.min(np.diff(ns)))
    if step_ns <= 0 or np.any(np.diff(ns) % step_ns):
        raise reject(
            "series", "have regular buckets (from capacity.arrival_rate)", got="irregular ones"
        )
    bucket_s = step_ns // 1_000_000_000
    season_ns = season_s * 1_000_000_000
    if season_ns % step_ns:
        raise reject(
            "season", f"be a multiple of the bucket width ({bucket_s} s)", got=f"{season_s} s"
        )
    n_slots = season_ns // step_ns
    if ns[-1] - ns[0] + step_ns < 2 * season_ns:
        raise reject(
            "series",
            f"cover at least two seasons ({2 * season_s} s)",
            got=f"{(ns[-1] - ns[0] + step_ns) / 1e9:.0f} s",
        )
    y = df[column].fill_null(0.0).to_numpy().astype(np.float64)
    split = day_types and season_s == 86400
    n_keys = 2 * n_slots if split else n_slots

    def keys(t: np.ndarray) -> np.ndarray:
        slot = ((t % season_ns) // step_ns).astype(np.int64)
        if not split:
            return slot
        weekend = ((t // 86_400_000_000_000 + 3) % 7) >= 5  # 1970-01-01 was a Thursday
        return slot + n_slots * weekend.astype(np.int64)

    def fitted(t: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Profile per key; a day type never seen falls back to the all-days profile."""
        profile, counts = _profile(v, keys(t), n_keys)
        if split:
            flat, _ = _profile(v, ((t % season_ns) // step_ns).astype(np.int64), n_slots)
            both = np.concatenate([flat, flat])
            profile = np.where(counts > 0, profile, both)
        return profile

    profile = fitted(ns, y)

    def bands(base: np.ndarray, residuals: np.ndarray) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for level in levels:
            tag = f"{round(level * 100):d}"
            lo, hi = np.quantile(residuals, [(1 - level) / 2, 1 - (1 - level) / 2])
            out[f"lo_{tag}"] = np.maximum(base * (1 + lo), 0.0)
            out[f"hi_{tag}"] = np.maximum(base * (1 + hi), 0.0)
        return out

    def rel(values: np.ndarray, base: np.ndarray) -> np.ndarray:
        keep = base > 0
        return values[keep] / base[keep] - 1.0 if keep.any() else np.zeros(1)

    # backtest: the last season from the ones before
    last = ns >= ns[-1] + step_ns - season_ns
    past_profile = fitted(ns[~last], y[~last])
    predicted = past_profile[keys(ns[last])]
    actual = y[last]
    wape = float(np.abs(predicted - actual).sum() / actual.sum()) if actual.sum() > 0 else math.nan
    past_res = rel(y[~last], past_profile[keys(ns[~last])])
    back = bands(predicted, past_res)
    coverage = {
        f"{round(level * 100):d}": float(
            np.mean(
                (actual >= back[f"lo_{round(level * 100):d}"])
                & (actual <= back[f"hi_{round(level * 100):d}"])
            )
        )
        for level in levels
    }
    # the forecast
    n_ahead = horizon_s * 1_000_000_000 // step_ns
    future = ns[-1] + step_ns * np.arange(1, n_ahead + 1, dtype=np.int64)
    base = profile[keys(future)]
    columns: dict[str, Any] = {
        "time": pl.Series(future, dtype=pl.Int64)
        .cast(pl.Datetime("ns"))
        .dt.replace_time_zone("UTC"),
        "forecast": base,
    }
    columns.update(bands(base, rel(y, profile[keys(ns)])))
    return Forecast(
        pl.DataFrame(columns),
        column,
        season_s,
        int(bucket_s),
        wape,
        coverage,
        f"seasonal mean per {bucket_s} s slot of a {season_s} s season"
        + (", weekdays and weekends apart" if split else "")
        + "; intervals from pooled relative residuals",
    )


@validate_params(metrics=Frame(), calls=Frame())
def reconstruct_demand(
    metrics: Any,
    calls: Any,
    *,
    pool: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    counter: str = "vllm:e2e_request_latency_seconds_count",
    pool_label: str = "label.pool",
    pool_column: str = "attributes.deployment.pool",
    seed: int = 0,
) -> pl.DataFrame:
    """Every request of a pool, rebuilt from its vLLM counter and its sampled calls' tokens.

    Traces are often head-sampled (the sample keeps 2 %), but vLLM's counters count every
    request. This puts the counter's increase of each scrape interval as that many arrivals,
    spread uniformly over the interval, and gives each one the tokens of a call of the same
    pool drawn at random from the same hour (all hours when that one has none). Requests
    are counted when they *finish*: at saturation the arrivals shift later by up to the
    queueing time, and requests the gateway rejected or timed out are not counted.

    Parameters
    ----------
    metrics : frame
        The metrics table with ``counter`` for the pool.
    calls : frame
        llm_calls with ``input_tokens``, ``output_tokens`` and ``pool_column``.
    pool : str
    start, end : datetime, optional
        Time range (UTC-aware), end exclusive.
    counter, pool_label, pool_column : str
    seed : int, default 0

    Returns
    -------
    polars.DataFrame
        A workload table (``arrival_time``, ``input_tokens``, ``output_tokens``, ``model``,
        ``source``).
    """
    function = caller() or "capacity.reconstruct_demand"
    mt: pl.DataFrame = metrics
    cl: pl.DataFrame = calls
    if pool_label not in mt.columns:
        raise SchemaError(f"The metrics frame given to {function} has no {pool_label!r} column.")
    rows = (
        mt.filter((pl.col("name") == counter) & (pl.col(pool_label) == pool))
        .group_by("time")
        .agg(pl.col("value").sum())
        .sort("time")
    )
    if rows.height < 2:
        raise SchemaError(
            f"The metrics frame given to {function} has fewer than two samples of "
            f"{counter!r} for {pool_label} = {pool!r}."
        )
    value = rows["value"].to_numpy()
    inc = np.diff(value)
    inc = np.where(inc < 0, value[1:], inc)  # a reset counts from zero
    if np.any(inc != np.round(inc)):
        raise SchemaError(f"The counter {counter!r} has non-integer increases; is it a counter?")
    t_ns = rows["time"].dt.epoch("ns").to_numpy()
    lo_ns, hi_ns = t_ns[:-1], t_ns[1:]
    keep = np.ones(inc.size, bool)
    if start is not None:
        keep &= lo_ns >= int(start.timestamp() * 1e9)
    if end is not None:
        keep &= hi_ns <= int(end.timestamp() * 1e9)
    counts = inc[keep].astype(np.int64)
    lo_ns, hi_ns = lo_ns[keep], hi_ns[keep]
    rng = np.random.default_rng(seed)
    lo = np.repeat(lo_ns, counts)
    width = np.repeat(hi_ns - lo_ns, counts)
    arrival = lo + (rng.random(lo.size) * width).astype(np.int64)
    arrival.sort()
    own = cl.filter(
        (pl.col(pool_column) == pool)
        & pl.col("input_tokens").is_not_null()
        & pl.col("output_tokens").is_not_null()
        & (pl.col("input_tokens") > 0)
        & (pl.col("output_tokens") > 0)
    ).select(
        (pl.col("start_time").dt.epoch("ns") // 3_600_000_000_000).alias("hour"),
        "input_tokens",
        "output_tokens",
    )
    if own.height == 0:
        raise SchemaError(f"The calls frame given to {function} has no call of pool {pool!r}.")
    inp_all = own["input_tokens"].to_numpy()
    out_all = own["output_tokens"].to_numpy()
    hours = own["hour"].to_numpy()
    by_hour = {int(h): np.flatnonzero(hours == h) for h in np.unique(hours)}
    every = np.arange(own.height)
    inp = np.empty(arrival.size, np.int64)
    out = np.empty(arrival.size, np.int64)
    a_hour = arrival // 3_600_000_000_000
    for h in np.unique(a_hour):
        sel = np.flatnonzero(a_hour == h)
        pool_idx = by_hour.get(int(h), every)
        pick = pool_idx[rng.integers(0, pool_idx.size, sel.size)]
        inp[sel] = inp_all[pick]
        out[sel] = out_all[pick]
    return pl.DataFrame(
        {
            "arrival_time": pl.Series(arrival, dtype=pl.Int64)
            .cast(pl.Datetime("ns"))
            .dt.replace_time_zone("UTC"),
            "input_tokens": inp,
            "output_tokens": out,
            "model": pl.Series([None] * arrival.size, dtype=pl.String),
            "source": f"reconstructed: {counter} of {pool} x llm_calls tokens (seed {seed})",
        }
    )


@validate_params(demand=Frame(), factor=_FACTOR)
def scale_demand(
    demand: Any, factor: float, *, seed: int = 0, jitter: str | dt.timedelta = "60s"
) -> pl.DataFrame:
    """A workload with ``factor`` times the traffic and the same mix (a what-if).

    Below 1 each request is kept with probability ``factor``; above 1 each is kept and
    copied ``floor(factor) - 1`` times plus once more with probability ``factor % 1``,
    each copy shifted later by a uniform random delay up to ``jitter`` (wrapped into the
    window), so the copies do not arrive in lockstep.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0 + dt.timedelta(seconds=s) for s in range(100)],
    ...                   "input_tokens": [5] * 100, "output_tokens": [3] * 100})
    >>> scale_demand(w, 2.0).height
    200
    """
    function = caller() or "capacity.scale_demand"
    jitter_ns = _seconds(jitter, "jitter", function) * 1_000_000_000
    df: pl.DataFrame = demand
    column = _time_column(df, function)
    rng = np.random.default_rng(seed)
    if factor <= 1.0:
        return df.filter(pl.Series(rng.random(df.height) < factor)).sort(column)
    whole = math.floor(factor)
    parts = [df]
    ns = df[column].dt.epoch("ns").to_numpy()
    t0, t1 = int(ns.min()), int(ns.max()) + 1
    copies = [df] * (whole - 1)
    extra = factor - whole
    if extra > 0:
        copies.append(df.filter(pl.Series(rng.random(df.height) < extra)))
    for copy in copies:
        shift = (rng.random(copy.height) * jitter_ns).astype(np.int64)
        moved = copy[column].dt.epoch("ns").to_numpy() + shift
        moved = t0 + (moved - t0) % (t1 - t0)
        parts.append(
            copy.with_columns(
                pl.Series(column, moved, dtype=pl.Int64)
                .cast(pl.Datetime("ns"))
                .dt.replace_time_zone("UTC")
                .cast(df.schema[column])
            )
        )
    return pl.concat(parts).sort(column)


@validate_params(demand=Frame(), factor=_FACTOR)
def scale_prompts(demand: Any, factor: float) -> pl.DataFrame:
    """A workload whose prompts are ``factor`` times longer (rounded, at least 1 token).

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    >>> w = pl.DataFrame({"arrival_time": [t0], "input_tokens": [100], "output_tokens": [3]})
    >>> scale_prompts(w, 1.5)["input_tokens"].to_list()
    [150]
    """
    df: pl.DataFrame = demand
    return df.with_columns(
        (pl.col("input_tokens").cast(pl.Float64) * factor)
        .round()
        .clip(lower_bound=1)
        .cast(pl.Int64)
        .alias("input_tokens")
    )
