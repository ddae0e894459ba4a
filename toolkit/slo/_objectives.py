"""Objectives chosen from the data (thresholds, the pool column, trace sampling,
:func:`service_objectives`) and the tables of the SLO notebook.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from toolkit._validation import Duration, Interval, frame_in, validate_params
from toolkit.schema import TIME, require_columns
from toolkit.slo._budget import (
    _ALERT_SCHEMA,
    AlertPolicy,
    alerts,
    budget_by_slice,
    burn_rates,
    error_budget,
    good_fraction,
)
from toolkit.slo._metrics import metric_counts
from toolkit.slo._openslo import SLO, load_slos
from toolkit.slo._params import _AVAILABILITY, _check_target, _columns, _time_column
from toolkit.slo._sli import good_events, percentiles

#: What each SLI of an LLM service is called, its vLLM metric family, and how it is shown.
_SLIS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "availability": ("availability", ("vllm:request_success_total",), ""),
    "ttft_s": ("ttft", ("vllm:time_to_first_token_seconds",), "TTFT"),
    "latency_s": ("latency", ("vllm:e2e_request_latency_seconds",), "end-to-end latency"),
    "tpot_s": (
        "tpot",
        ("vllm:time_per_output_token_seconds", "vllm:inter_token_latency_seconds"),
        "TPOT",
    ),
}
_NICE = (1.0, 2.5, 5.0)
_POOL_WORDS = ("pool", "deployment", "cluster", "model_name", "response_model", "request_model")


@dataclass(frozen=True)
class Choice:
    """A value chosen from the data, and how it was chosen (a sentence for the reader).

    Examples
    --------
    >>> Choice(0.02, "traced calls / requests counted by the metrics").value
    0.02
    """

    value: Any
    how: str


def _filled_numeric(frame: pl.DataFrame | None, column: str) -> bool:
    return (
        frame is not None
        and column in frame.columns
        and frame.schema[column].is_numeric()
        and frame[column].drop_nulls().drop_nans().len() > 0
    )


def _metric_names(metrics: pl.DataFrame | None) -> set[str]:
    if metrics is None or "name" not in metrics.columns or metrics.height == 0:
        return set()
    return set(metrics["name"].unique().drop_nulls().to_list())


def _bounds(metrics: pl.DataFrame, family: str) -> list[float]:
    buckets = metrics.filter(pl.col("name") == f"{family}_bucket")
    return sorted(b for b in set(buckets["le"].drop_nulls().to_list()) if math.isfinite(b))


def _nice_ceiling(value: float) -> float:
    """The smallest number of the 1-2.5-5 series at or above ``value``."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for k in (exponent, exponent + 1):
        for m in _NICE:
            candidate = float(f"{m * 10.0**k:.6g}")
            if candidate >= value * (1 - 1e-12):
                return candidate
    return float(f"{10.0 ** (exponent + 1):.6g}")  # pragma: no cover


def _seconds_text(value: float) -> str:
    return f"{value:.3g} s"


def choose_threshold(
    *,
    calls: Any = None,
    column: str | None = None,
    metrics: Any = None,
    metric: str | None = None,
    quantile: float = 0.95,
) -> Choice | None:
    """A latency threshold from the data: a histogram bucket bound near the calls' quantile.

    With a histogram (``metric``'s ``_bucket`` series in ``metrics``) the threshold is its
    smallest finite bucket bound at or above the ``quantile`` of the traced calls'
    ``column`` (of the histogram itself, when there are no calls): the metrics can then
    count good events exactly. Without a histogram it is the calls' quantile rounded up
    to the 1-2.5-5 series (0.0274 s gives 0.05 s).

    Parameters
    ----------
    calls : polars or pandas DataFrame, optional
        Usually ``llm_calls``; failed calls are left out (where ``is_error`` exists).
    column : str, optional
        The calls' SLI column (``"ttft_s"``).
    metrics : polars or pandas DataFrame, optional
        The canonical metrics table.
    metric : str, optional
        The histogram family (``"vllm:time_to_first_token_seconds"``).
    quantile : float, default 0.95
        Which share of events the threshold should about cover.

    Returns
    -------
    Choice or None
        The threshold and a sentence saying how it was chosen; None when neither source
        holds a value.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [0.1 * i for i in range(1, 101)]})  # p95 9.5 s
    >>> choose_threshold(calls=calls, column="ttft_s").value
    10.0
    """
    function = "slo.choose_threshold"
    q = _check_target(quantile, "quantile", function)
    frame = None if calls is None else frame_in(calls, parameter="calls", function=function)
    table = None if metrics is None else frame_in(metrics, parameter="metrics", function=function)
    observed: float | None = None
    source = ""
    if column is not None and frame is not None and _filled_numeric(frame, column):
        values = frame
        if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean:
            values = frame.filter(~pl.col("is_error").fill_null(False))
        series = values[column].drop_nulls().drop_nans()
        if series.len():
            found = series.quantile(q, interpolation="linear")
            observed = float(found) if isinstance(found, int | float) else None
            source = f"the traced calls' p{q * 100:g} ({_seconds_text(observed or 0.0)})"
    bounds: list[float] = []
    if table is not None and metric is not None and f"{metric}_bucket" in _metric_names(table):
        bounds = _bounds(table, metric)
    if bounds:
        assert table is not None
        assert metric is not None
        if observed is None:
            counts = [metric_counts(table, metric, threshold=b) for b in bounds]
            fractions = [
                float(c["good"].sum()) / float(c["total"].sum()) if c["total"].sum() else 0.0
                for c in counts
            ]
            reached = [b for b, f in zip(bounds, fractions, strict=True) if f >= q]
            if not reached and not any(fractions):
                return None
            value = reached[0] if reached else bounds[-1]
            return Choice(
                value,
                f"{value:g} s: the smallest bucket bound of {metric} holding "
                f"{q:.0%} of its requests" + ("" if reached else " (none does: the largest)"),
            )
        above = [b for b in bounds if b >= observed]
        value = above[0] if above else bounds[-1]
        return Choice(
            value,
            f"{value:g} s: the smallest bucket bound of {metric} at or above {source}"
            if above
            else f"{value:g} s: the largest bucket bound of {metric}, below {source}",
        )
    if observed is None:
        return None
    value = _nice_ceiling(observed)
    return Choice(value, f"{value:g} s: {source}, rounded up")


def pool_column(
    frame: Any,
    *,
    columns: Sequence[str] | None = None,
    prefix: str | None = None,
    max_values: int = 12,
) -> str | None:
    """The column that names the deployment (pool, cluster, model) of each row, if any.

    The first column, in the order pool, deployment, cluster, model name, response model,
    request model (by name, case-insensitive), with between 2 and ``max_values`` distinct
    non-null values. Metrics labels (``label.pool``) and span attributes
    (``attributes.deployment.pool``) alike.

    Parameters
    ----------
    frame : polars or pandas DataFrame
        ``llm_calls``, the metrics table, spans ...
    columns : sequence of str, optional
        The candidates; None: every String column of ``frame``.
    prefix : str, optional
        Only columns whose name starts with it (``"label."`` for metrics labels).
    max_values : int, default 12

    Returns
    -------
    str or None
        The column's name; None when no column qualifies (group nothing).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"attributes.app.route": ["chat", "rag"],
    ...                       "attributes.deployment.pool": ["h100", "l4"]})
    >>> pool_column(calls)
    'attributes.deployment.pool'
    >>> pool_column(calls.with_columns(pl.lit("h100").alias("attributes.deployment.pool")))
    """
    function = "slo.pool_column"
    data = frame_in(frame, parameter="frame", function=function)
    names = (
        [c for c in data.columns if data.schema[c] == pl.String]
        if columns is None
        else _columns(data, columns, "columns", function)
    )
    if prefix is not None:
        names = [n for n in names if n.startswith(prefix)]
    for word in _POOL_WORDS:
        for name in names:
            if word not in name.lower().replace(".", "_").replace("-", "_"):
                continue
            distinct = data[name].drop_nulls().n_unique()
            if 2 <= distinct <= max_values:
                return name
    return None


def _request_counts(metrics: pl.DataFrame) -> pl.DataFrame | None:
    names = _metric_names(metrics)
    for family in ("vllm:e2e_request_latency_seconds", "vllm:time_to_first_token_seconds"):
        if f"{family}_bucket" in names:
            bounds = _bounds(metrics, family)
            if bounds:
                return metric_counts(metrics, family, threshold=bounds[0])  # type: ignore[no-any-return]
    if "vllm:request_success_total" in names and "label.finished_reason" in metrics.columns:
        return metric_counts(  # type: ignore[no-any-return]
            metrics, "vllm:request_success_total", bad={"finished_reason": []}
        )
    return None


#: ``given``: the share of requests traced.
_SAMPLING = Interval(
    float,
    0,
    1,
    closed="right",
    description="a fraction in (0, 1] (0.02 for 2 % of requests traced)",
)


@validate_params(given=[_SAMPLING, None])
def trace_sampling(calls: Any, metrics: Any = None, *, given: float | None = None) -> Choice:
    """The fraction of requests that were traced: traced calls over the requests the metrics count.

    Calls in the period the metrics cover (of the models the counters name in ``model_name``,
    when the metrics carry it and some calls match), divided by the requests vLLM's counters saw
    there (``vllm:e2e_request_latency_seconds`` or ``vllm:time_to_first_token_seconds``
    counts, else ``vllm:request_success_total``), rounded to two significant digits as a
    sampler's ratio is set; 1.0 when the ratio reaches 0.95 or there is nothing to
    compare with (with a sentence saying so).

    Parameters
    ----------
    calls : polars or pandas DataFrame
        ``llm_calls``.
    metrics : polars or pandas DataFrame, optional
        The canonical metrics table.
    given : float, optional
        The ratio the user knows (the sampler's setting): returned as is, when in (0, 1].

    Returns
    -------
    Choice

    Examples
    --------
    >>> import polars as pl
    >>> trace_sampling(pl.DataFrame({"start_time": []})).value
    1.0
    >>> trace_sampling(None, given=0.1)
    Choice(value=0.1, how='0.1, as given')
    """
    function = "slo.trace_sampling"
    if given is not None:
        return Choice(float(given), f"{float(given):g}, as given")
    if calls is None:
        return Choice(1.0, "1.0: no traced calls")
    frame = frame_in(calls, parameter="calls", function=function)
    table = None if metrics is None else frame_in(metrics, parameter="metrics", function=function)
    counts = _request_counts(table) if table is not None else None
    if counts is None or counts.height == 0 or frame.height == 0:
        return Choice(
            1.0,
            "1.0 assumed: no request counter of vLLM to compare the traced calls with; "
            "set trace_sampling if the traces are sampled",
        )
    start = counts["start_time"].min()
    step = counts["start_time"].unique().sort().diff().drop_nulls().min()
    end = counts["start_time"].max()
    assert isinstance(start, dt.datetime)
    assert isinstance(end, dt.datetime)
    if isinstance(step, dt.timedelta):
        end = end + step
    t = _time_column(frame, "start_time", function)
    served = frame.filter((t >= start) & (t < end))
    # only the calls of the models the counters count (another service's calls, e.g. to an
    # external API, are traced but never reach these engines)
    if table is not None and "label.model_name" in table.columns:
        models = table["label.model_name"].drop_nulls().unique().to_list()
        named = [c for c in ("request_model", "response_model") if c in served.columns]
        if models and named:
            ours = served.filter(pl.any_horizontal(pl.col(c).is_in(models) for c in named))
            served = ours if ours.height else served
    traced = served.height
    requests = float(counts["total"].sum())
    if requests <= 0:
        return Choice(1.0, "1.0 assumed: the metrics count no request")
    ratio = traced / requests
    if ratio >= 0.95:
        return Choice(1.0, f"1.0: {traced:,} traced calls for {requests:,.0f} requests counted")
    if ratio == 0:
        return Choice(1.0, "1.0 assumed: no traced call in the period the metrics cover")
    value = float(f"{ratio:.2g}")
    return Choice(
        value,
        f"{value:g}: {traced:,} traced calls for {requests:,.0f} requests counted by vLLM "
        "(rounded to two digits)",
    )


@dataclass(frozen=True)
class ServiceObjectives:
    """The objectives of an LLM service that its data can measure, and how they were set.

    Attributes
    ----------
    slos : dict of str to SLO
        Keyed by SLI (``"availability"``, ``"ttft_s"``, ``"latency_s"``, ``"tpot_s"``).
    notes : tuple of str
        One sentence per choice made from the data (thresholds) or objective left out.
    """

    slos: dict[str, SLO]
    notes: tuple[str, ...] = ()


def service_objectives(
    *,
    calls: Any = None,
    metrics: Any = None,
    slo_file: str | os.PathLike[str] | None = None,
    period: str = "30d",
    availability_target: float = 0.995,
    ttft_threshold_s: float | None = None,
    ttft_target: float = 0.99,
    latency_threshold_s: float | None = None,
    latency_target: float = 0.99,
    tpot_threshold_s: float | None = None,
    tpot_target: float = 0.99,
    quantile: float = 0.95,
) -> ServiceObjectives:
    """Availability, TTFT, latency and TPOT objectives for what ``calls``/``metrics`` hold.

    An objective is kept when the traced calls carry its SLI (``is_error``, ``ttft_s``,
    ``latency_s``, ``tpot_s``) or vLLM's metrics hold its family; each gets the vLLM
    metric that measures it when the metrics have one. A threshold left None is chosen
    from the data by :func:`choose_threshold` (a bucket bound near the calls'
    ``quantile``). A threshold given that is not a bucket bound of the metric measures the
    SLI from traces only. With ``slo_file`` the OpenSLO file's objectives replace these
    (keyed by their SLI).

    Parameters
    ----------
    calls, metrics : polars or pandas DataFrame, optional
        ``llm_calls`` and the metrics table (either may be None).
    slo_file : path, optional
        OpenSLO v1 YAML (:func:`load_slos`).
    period : str, default "30d"
        The rolling SLO window.
    availability_target, ttft_target, latency_target, tpot_target : float
        Targets (domain defaults: 99.5 % of calls succeed, 99 % within each threshold).
    ttft_threshold_s, latency_threshold_s, tpot_threshold_s : float, optional
        Thresholds in seconds; None: chosen from the data.
    quantile : float, default 0.95
        The quantile a chosen threshold sits near.

    Returns
    -------
    ServiceObjectives

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"is_error": [False, True], "ttft_s": [0.4, None]})
    >>> found = service_objectives(calls=calls, ttft_threshold_s=2.0)
    >>> [s.describe() for s in found.slos.values()]  # doctest: +NORMALIZE_WHITESPACE
    ['99.5% of events succeed over a rolling 30d',
     '99% of events with ttft_s <= 2 over a rolling 30d']
    """
    function = "slo.service_objectives"
    frame = None if calls is None else frame_in(calls, parameter="calls", function=function)
    table = None if metrics is None else frame_in(metrics, parameter="metrics", function=function)
    names = _metric_names(table)
    notes: list[str] = []
    if slo_file is not None:
        loaded = load_slos(slo_file)
        keyed = {s.sli: s for s in loaded if s.sli is not None}
        return ServiceObjectives(keyed, (f"objectives from {slo_file}",))
    targets = {
        "availability": availability_target,
        "ttft_s": ttft_target,
        "latency_s": latency_target,
        "tpot_s": tpot_target,
    }
    given = {
        "ttft_s": ttft_threshold_s,
        "latency_s": latency_threshold_s,
        "tpot_s": tpot_threshold_s,
    }
    slos: dict[str, SLO] = {}
    for sli, (name, families, words) in _SLIS.items():
        found = [f for f in families if f in names or f"{f}_bucket" in names]
        metric = found[0] if found else None
        if sli == "availability":
            traced = (
                frame is not None
                and "is_error" in frame.columns
                and frame.schema["is_error"] == pl.Boolean
                and frame.height > 0
            )
            if not traced and metric is None:
                continue
            slos[sli] = SLO(name, targets[sli], sli=sli, time_window=period, metric=metric)
            continue
        traced = _filled_numeric(frame, sli)
        if metric is not None and f"{metric}_bucket" not in names:
            metric = None
        if not traced and metric is None:
            notes.append(
                f"No {words} objective: neither the traced calls nor the metrics measure it."
            )
            continue
        threshold = given[sli]
        if threshold is None:
            choice = choose_threshold(
                calls=frame if traced else None,
                column=sli,
                metrics=table,
                metric=metric,
                quantile=quantile,
            )
            if choice is None:
                notes.append(f"No {words} objective: no value to choose a threshold from.")
                continue
            threshold = choice.value
            notes.append(f"{words[0].upper()}{words[1:]} threshold {choice.how}.")
        elif metric is not None and float(threshold) not in _bounds(table, metric):  # type: ignore[arg-type]
            notes.append(
                f"{words[0].upper()}{words[1:]} threshold {threshold:g} s is not a bucket "
                f"bound of {metric} "
                f"({', '.join(f'{b:g}' for b in _bounds(table, metric))}): "  # type: ignore[arg-type]
                "measured from the traced calls only."
            )
            metric = None
            if not traced:
                continue
        slos[sli] = SLO(
            name, targets[sli], sli=sli, threshold=threshold, time_window=period, metric=metric
        )
    return ServiceObjectives(slos, tuple(notes))


@validate_params(
    every=Duration(),
    windows=Interval(float, 0.0, 1.0, closed="both"),
    min_events=Interval(int, 1, None),
)
def baseline_objectives(
    *,
    calls: Any = None,
    metrics: Any = None,
    every: str | dt.timedelta = "1h",
    windows: float = 0.75,
    min_events: int = 20,
    period: str = "30d",
    availability_target: float = 0.995,
    ttft_target: float = 0.99,
    latency_target: float = 0.99,
    tpot_target: float = 0.99,
) -> ServiceObjectives:
    """Objectives that the service's own ordinary level meets, to find what changed.

    Where no objective is declared, thresholds chosen near a quantile of the whole period
    (:func:`service_objectives`) are missed by a slow pool all the time and burn on every
    window. Here each latency threshold holds the service to its own history: per ``every``
    window with at least ``min_events`` successful traced calls, the SLI's ``target``
    quantile (p99 for a 99 % objective); over those windows, their ``windows`` quantile (the
    level three windows in four stay under); then the smallest histogram bucket bound at or
    above it, so that the metrics count good events exactly (rounded up to the 1-2.5-5
    series without a histogram, or above its largest bound). An incident covering fewer than
    a quarter of the windows does not move it. Call it per pool: a pool is held to its own
    level. Without traced calls the thresholds come from the metrics
    (:func:`choose_threshold` at the target).

    Parameters
    ----------
    calls, metrics : polars or pandas DataFrame, optional
        ``llm_calls`` (with ``start_time``) and the metrics table of one pool or service.
    every : str or timedelta, default "1h"
        The windows over which the ordinary level is measured.
    windows : float, default 0.75
        The quantile over windows of their per-window quantile.
    min_events : int, default 20
        Windows with fewer successful traced calls are left out.
    period : str, default "30d"
        The rolling SLO window.
    availability_target, ttft_target, latency_target, tpot_target : float
        Targets, as in :func:`service_objectives`.

    Returns
    -------
    ServiceObjectives
        With one note per threshold saying how it was set.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> t0 = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)
    >>> calls = pl.DataFrame({
    ...     "start_time": [t0 + dt.timedelta(minutes=m) for m in range(600)],
    ...     "is_error": False,
    ...     "ttft_s": [0.1 * (1 + m % 60) for m in range(600)]})  # p99 5.9 s every hour
    >>> found = baseline_objectives(calls=calls)
    >>> found.slos["ttft_s"].threshold
    10.0
    """
    function = "slo.baseline_objectives"
    frame = None if calls is None else frame_in(calls, parameter="calls", function=function)
    table = None if metrics is None else frame_in(metrics, parameter="metrics", function=function)
    targets = {"ttft_s": ttft_target, "latency_s": latency_target, "tpot_s": tpot_target}
    _check_target(availability_target, "availability_target", function)
    for sli, target in targets.items():
        _check_target(target, f"{sli.removesuffix('_s')}_target", function)
    every_text = every if isinstance(every, str) else f"{int(every.total_seconds())}s"
    thresholds: dict[str, float | None] = {}
    notes: list[str] = []
    names = _metric_names(table)
    for sli, target in targets.items():
        family = _SLIS[sli][1][0]
        words = _SLIS[sli][2]
        if frame is None or not _filled_numeric(frame, sli) or "start_time" not in frame.columns:
            thresholds[sli] = None
            continue
        ok = frame.filter(pl.col(sli).is_not_null() & pl.col(sli).is_not_nan())
        if "is_error" in ok.columns and ok.schema["is_error"] == pl.Boolean:
            ok = ok.filter(~pl.col("is_error").fill_null(False))
        per = (
            ok.sort("start_time")
            .group_by_dynamic("start_time", every=every_text)
            .agg(pl.len().alias("n"), pl.col(sli).quantile(target, "linear").alias("q"))
            .filter(pl.col("n") >= min_events)
        )
        if per.height:
            level = float(per["q"].quantile(windows, "linear") or 0.0)
            how = (
                f"the p{windows * 100:g} over {per.height} {every_text} windows of their "
                f"p{target * 100:g} ({_seconds_text(level)})"
            )
        else:
            level = float(ok[sli].quantile(target, "linear") or 0.0)
            how = (
                f"the traced calls' p{target * 100:g} ({_seconds_text(level)}; no "
                f"{every_text} window holds {min_events} calls)"
            )
        bounds = _bounds(table, family) if table is not None and f"{family}_bucket" in names else []
        above = [b for b in bounds if b >= level]
        if above:
            thresholds[sli] = above[0]
            notes.append(
                f"{words[0].upper()}{words[1:]} threshold {above[0]:g} s: the smallest bucket "
                f"bound of {family} at or above {how}."
            )
        else:
            thresholds[sli] = _nice_ceiling(level)
            notes.append(
                f"{words[0].upper()}{words[1:]} threshold {thresholds[sli]:g} s: {how}, rounded up."
            )
    found = service_objectives(
        calls=frame,
        metrics=table,
        period=period,
        availability_target=availability_target,
        ttft_threshold_s=thresholds["ttft_s"],
        ttft_target=ttft_target,
        latency_threshold_s=thresholds["latency_s"],
        latency_target=latency_target,
        tpot_threshold_s=thresholds["tpot_s"],
        tpot_target=tpot_target,
        quantile=max(targets.values()),
    )
    return ServiceObjectives(found.slos, (*notes, *found.notes))


def metric_events(
    metrics: Any, objectives: ServiceObjectives | Mapping[str, SLO], *, by: str | None = None
) -> dict[str, pl.DataFrame]:
    """Good and total counts per SLI from vLLM's metrics, for each objective with a metric.

    Availability counts ``vllm:request_success_total`` increases, bad where
    ``finished_reason`` is ``abort`` or ``error``; a latency SLI counts its histogram at the
    objective's threshold (:func:`metric_counts`).

    Parameters
    ----------
    metrics : polars or pandas DataFrame, optional
        The metrics table; None gives no counts.
    objectives : ServiceObjectives or mapping of SLI to SLO
    by : str, optional
        The label to keep (``"label.pool"``).

    Returns
    -------
    dict of str to polars.DataFrame
        Keyed by SLI, only those the metrics measure.

    Examples
    --------
    >>> metric_events(None, {"availability": SLO("availability", 0.99, sli="availability")})
    {}
    """
    function = "slo.metric_events"
    if metrics is None:
        return {}
    table = frame_in(metrics, parameter="metrics", function=function)
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    names = _metric_names(table)
    out: dict[str, pl.DataFrame] = {}
    for sli, s in slos.items():
        if s.metric is None or not {s.metric, f"{s.metric}_bucket"} & names:
            continue
        if f"{s.metric}_bucket" in names:
            if s.threshold is None or s.threshold not in _bounds(table, s.metric):
                continue
            out[sli] = metric_counts(table, s.metric, threshold=s.threshold, by=by)
        elif "label.finished_reason" in table.columns:
            out[sli] = metric_counts(
                table, s.metric, bad={"finished_reason": ["abort", "error"]}, by=by
            )
    return out


def trace_events(
    calls: Any, objectives: ServiceObjectives | Mapping[str, SLO]
) -> dict[str, pl.DataFrame]:
    """:func:`good_events` of the calls for every objective whose SLI the calls carry.

    Parameters
    ----------
    calls : polars or pandas DataFrame, optional
        ``llm_calls``; None gives no events.
    objectives : ServiceObjectives or mapping of SLI to SLO

    Returns
    -------
    dict of str to polars.DataFrame
        Keyed by SLI.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"is_error": [False, True]})
    >>> slos = {"availability": SLO("availability", 0.99, sli="availability"),
    ...         "ttft_s": SLO("ttft", 0.99, sli="ttft_s", threshold=1.0)}
    >>> list(trace_events(calls, slos))
    ['availability']
    """
    if calls is None:
        return {}
    frame = frame_in(calls, parameter="calls", function="slo.trace_events")
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    out: dict[str, pl.DataFrame] = {}
    for sli, s in slos.items():
        if s.sli == _AVAILABILITY:
            if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean:
                out[sli] = good_events(frame, s)
        elif s.sli is not None and _filled_numeric(frame, s.sli):
            out[sli] = good_events(frame, s)
    return out


def compare_sources(
    objectives: ServiceObjectives | Mapping[str, SLO],
    from_metrics: Mapping[str, Any],
    from_traces: Mapping[str, Any],
) -> pl.DataFrame:
    """Each SLI as the metrics and as the traced calls measure it, side by side.

    Parameters
    ----------
    objectives : ServiceObjectives or mapping of SLI to SLO
    from_metrics : mapping of SLI to counts
        :func:`metric_events`.
    from_traces : mapping of SLI to events
        :func:`trace_events`.

    Returns
    -------
    polars.DataFrame
        One row per objective: ``slo``, ``sli``, ``target``, ``metrics_good`` and
        ``metrics_events`` (null without metrics), ``traces_good`` and ``traced_events``
        (null without traces), ``gap`` (metrics minus traces).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> slos = {"availability": SLO("availability", 0.99, sli="availability")}
    >>> counts = pl.DataFrame({"start_time": [t], "good": [99.0], "total": [100.0]})
    >>> calls = pl.DataFrame({"start_time": [t] * 4, "is_good": [True, True, True, False]})
    >>> compare_sources(slos, {"availability": counts}, {"availability": calls}).select(
    ...     "metrics_good", "traces_good", "gap").row(0)
    (0.99, 0.75, 0.24)
    """
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    rows = []
    for sli, s in slos.items():
        row: dict[str, Any] = {"slo": s.name, "sli": sli, "target": s.target}
        for prefix, events, count in (
            ("metrics", from_metrics, "metrics_events"),
            ("traces", from_traces, "traced_events"),
        ):
            fraction = good_fraction(events[sli]) if sli in events else None
            row[f"{prefix}_good"] = None if fraction is None else fraction["fraction"].item()
            row[count] = None if fraction is None else fraction["total"].item()
        rows.append(row)
    schema = {
        "slo": pl.String,
        "sli": pl.String,
        "target": pl.Float64,
        "metrics_good": pl.Float64,
        "metrics_events": pl.Float64,
        "traces_good": pl.Float64,
        "traced_events": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        (pl.col("metrics_good") - pl.col("traces_good")).alias("gap")
    )


def _pooled(frame: pl.DataFrame, pool: str | None, name: str) -> pl.DataFrame:
    if pool is None:
        return frame.with_columns(pl.lit("all").alias("pool"), pl.lit(name).alias("slo"))
    return frame.rename({pool: "pool"}).with_columns(
        pl.col("pool").cast(pl.String).fill_null("(none)"), pl.lit(name).alias("slo")
    )


def budget_table(
    objectives: ServiceObjectives | Mapping[str, SLO],
    from_metrics: Mapping[str, Any],
    from_traces: Mapping[str, Any],
    *,
    metrics_pool: str | None = None,
    traces_pool: str | None = None,
    every: str = "1h",
) -> pl.DataFrame:
    """The error budget of every objective per step and pool, from metrics where they measure it.

    The SLIs the metrics measure come from them (every request); the others from the
    traced calls, their ``slo`` suffixed " (traces)".

    Parameters
    ----------
    objectives : ServiceObjectives or mapping of SLI to SLO
    from_metrics, from_traces : mapping of SLI to events
        :func:`metric_events` and :func:`trace_events`.
    metrics_pool, traces_pool : str, optional
        The pool column of each source (``"label.pool"``, ``"attributes.deployment.pool"``);
        None: one series per SLO, pool "all".
    every : str, default "1h"

    Returns
    -------
    polars.DataFrame
        :func:`error_budget`'s columns with ``pool`` (String) for the pool column, plus
        ``slo`` and ``series`` ("slo / pool").

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t0 + timedelta(hours=h) for h in range(4)],
    ...                    "is_good": [True, True, True, False]})
    >>> slos = {"availability": SLO("availability", 0.5, sli="availability", time_window="4h")}
    >>> table = budget_table(slos, {}, {"availability": ev}, every="4h")
    >>> table.select("slo", "pool", "budget_consumed").row(-1)
    ('availability (traces)', 'all', 0.5)
    """
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    parts = [
        _pooled(
            error_budget(counts, slos[sli], by=metrics_pool, every=every),
            metrics_pool,
            slos[sli].name,
        )
        for sli, counts in from_metrics.items()
        if sli in slos
    ] + [
        _pooled(
            error_budget(events, slos[sli], by=traces_pool, every=every),
            traces_pool,
            slos[sli].name + " (traces)",
        )
        for sli, events in from_traces.items()
        if sli in slos and sli not in from_metrics
    ]
    if not parts:
        return pl.DataFrame(
            schema={"time": TIME, "pool": pl.String, "slo": pl.String, "series": pl.String}
        )
    return pl.concat(parts, how="diagonal_relaxed").with_columns(
        pl.concat_str("slo", pl.lit(" / "), "pool").alias("series")
    )


def latest_budget(budgets: pl.DataFrame) -> pl.DataFrame:
    """The last row of each SLO and pool of :func:`budget_table`: the budget at the period's end.

    Examples
    --------
    >>> import polars as pl
    >>> b = pl.DataFrame({"time": [2, 1, 1], "slo": ["a", "a", "b"], "pool": "all",
    ...                   "budget_consumed": [0.5, 0.1, 0.2]})
    >>> latest_budget(b)["budget_consumed"].to_list()
    [0.5, 0.2]
    """
    require_columns(budgets, ["time", "slo", "pool"], table="budgets", where="slo.latest_budget")
    return (
        budgets.sort("time").group_by("slo", "pool", maintain_order=True).last().sort("slo", "pool")
    )


def alert_table(
    objectives: ServiceObjectives | Mapping[str, SLO],
    events: Mapping[str, Any],
    *,
    pool: str | None = None,
    merge_gap: str | None = "30m",
    policy: AlertPolicy | None = None,
) -> pl.DataFrame:
    """The burn-rate alerts of every objective (:func:`alerts`), with ``slo`` and ``pool``.

    Parameters
    ----------
    objectives : ServiceObjectives or mapping of SLI to SLO
    events : mapping of SLI to events or counts
        :func:`metric_events` or :func:`trace_events`.
    pool : str, optional
        The pool column of ``events``; None: pool "all".
    merge_gap : str or None, default "30m"
    policy : AlertPolicy, optional

    Returns
    -------
    polars.DataFrame
        ``slo``, ``pool``, then :func:`alerts`' columns, ordered by ``start``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> counts = pl.DataFrame({"start_time": [t0 + timedelta(minutes=m) for m in range(180)],
    ...     "good": [50.0 if 60 <= m < 90 else 100.0 for m in range(180)], "total": 100.0})
    >>> slos = {"ttft_s": SLO("ttft", 0.999, sli="ttft_s", threshold=1.0)}
    >>> alert_table(slos, {"ttft_s": counts}).select("slo", "pool", "severity").rows()
    [('ttft', 'all', 'page'), ('ttft', 'all', 'ticket'), ('ttft', 'all', 'page')]
    """
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    parts = [
        _pooled(
            alerts(frame, slos[sli], policy=policy, by=pool, merge_gap=merge_gap),
            pool,
            slos[sli].name,
        )
        for sli, frame in events.items()
        if sli in slos
    ]
    empty = pl.DataFrame(schema={"slo": pl.String, "pool": pl.String, **_ALERT_SCHEMA})
    out = pl.concat([empty, *[p.select(empty.columns) for p in parts]], how="vertical_relaxed")
    return out.sort("start", "slo", "pool", maintain_order=True)


def slice_table(
    objectives: ServiceObjectives | Mapping[str, SLO],
    from_traces: Mapping[str, Any],
    dimensions: Sequence[str],
    *,
    pool: str | None = None,
) -> pl.DataFrame:
    """Which slices burned each objective's budget (:func:`budget_by_slice` per dimension).

    Parameters
    ----------
    objectives : ServiceObjectives or mapping of SLI to SLO
    from_traces : mapping of SLI to events
        :func:`trace_events`.
    dimensions : sequence of str
        Columns of the events (``toolkit.dimensions(calls)``); those absent are skipped,
        and so is ``pool`` itself.
    pool : str, optional
        Slice within each pool (``"attributes.deployment.pool"``); None: pool "all".

    Returns
    -------
    polars.DataFrame
        ``slo``, ``dimension`` (the column without its ``attributes.`` prefix), ``pool``,
        ``slice`` (the value, as text), ``bad``, ``total``, ``burn_rate`` and
        ``burn_contribution``, the largest contribution first.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t] * 4, "attributes.route": ["a", "a", "b", "b"],
    ...                    "is_good": [False, False, True, False]})
    >>> slos = {"availability": SLO("availability", 0.5, sli="availability")}
    >>> slice_table(slos, {"availability": ev}, ["attributes.route"]).select(
    ...     "dimension", "slice", "burn_contribution").rows()
    [('route', 'a', 1.0), ('route', 'b', 0.5)]
    """
    slos = objectives.slos if isinstance(objectives, ServiceObjectives) else dict(objectives)
    columns = [
        "slo",
        "dimension",
        "pool",
        "slice",
        "bad",
        "total",
        "burn_rate",
        "burn_contribution",
    ]
    parts = []
    for sli, events in from_traces.items():
        if sli not in slos:
            continue
        frame = frame_in(events, parameter="from_traces", function="slo.slice_table")
        for dimension in dimensions:
            if dimension not in frame.columns or dimension == pool:
                continue
            if pool is not None and frame.group_by(pool).agg(pl.col(dimension).n_unique())[
                dimension
            ].max() in (0, 1):
                continue  # one value per pool (the pool's server, say): not a slice of it
            keys = [pool, dimension] if pool is not None else [dimension]
            table = budget_by_slice(frame, slos[sli], keys).rename({dimension: "slice"})
            table = _pooled(table, pool, slos[sli].name).with_columns(
                pl.col("slice").cast(pl.String),
                pl.lit(dimension.removeprefix("attributes.")).alias("dimension"),
            )
            parts.append(table.select(columns))
    empty = pl.DataFrame(
        schema={
            "slo": pl.String,
            "dimension": pl.String,
            "pool": pl.String,
            "slice": pl.String,
            "bad": pl.Float64,
            "total": pl.Float64,
            "burn_rate": pl.Float64,
            "burn_contribution": pl.Float64,
        }
    )
    out = pl.concat([empty, *parts], how="vertical_relaxed")
    return out.sort("burn_contribution", descending=True, nulls_last=True, maintain_order=True)


def latency_table(
    calls: Any,
    columns: Sequence[str] = ("ttft_s", "tpot_s", "latency_s"),
    q: Sequence[float] = (0.5, 0.95, 0.99),
    *,
    by: str | None = None,
) -> pl.DataFrame:
    """Percentiles of each latency SLI the calls carry, one row per SLI (and pool).

    Parameters
    ----------
    calls : polars or pandas DataFrame
    columns : sequence of str, default ("ttft_s", "tpot_s", "latency_s")
        Those without a value are skipped.
    q : sequence of float, default (0.5, 0.95, 0.99)
    by : str, optional
        A pool column.

    Returns
    -------
    polars.DataFrame
        ``sli``, the ``by`` column, then one column per percentile (``p50`` ...).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"ttft_s": [1.0, 2.0, 3.0], "tpot_s": [None, None, None]})
    >>> latency_table(calls, q=[0.5]).rows()
    [('ttft_s', 2.0)]
    """
    frame = frame_in(calls, parameter="calls", function="slo.latency_table")
    parts = [
        percentiles(frame, column, q, by=by).with_columns(pl.lit(column).alias("sli"))
        for column in columns
        if _filled_numeric(frame, column)
    ]
    index = ["sli", by] if by is not None else ["sli"]
    if not parts:
        return pl.DataFrame(schema={"sli": pl.String})
    out: pl.DataFrame = pl.concat(parts, how="vertical_relaxed").pivot(
        on="name", index=index, values="value"
    )
    return out


def pooled_burn_rates(
    objective: SLO,
    events: Any,
    *,
    pool: str | None = None,
    windows: Sequence[str] = ("1h", "6h", "3d"),
) -> pl.DataFrame:
    """:func:`burn_rates` of one objective with its pool column named ``pool`` ("all" without).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t0 + timedelta(minutes=m) for m in range(4)],
    ...                    "is_good": [True, False, True, True]})
    >>> pooled_burn_rates(SLO("a", 0.9), ev, windows=["2m"])["pool"].unique().to_list()
    ['all']
    """
    return _pooled(burn_rates(events, objective, windows=windows, by=pool), pool, objective.name)
