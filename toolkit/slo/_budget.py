"""Error budgets and multiwindow burn-rate alerts over good/total series: the internal
bucket series, the alert policies (:class:`BurnRateRule`, :class:`AlertPolicy`,
:data:`WORKBOOK`), :func:`burn_rates`, :func:`alerts`, :func:`error_budget`,
:func:`budget_by_slice` and :func:`good_fraction`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from toolkit._validation import (
    BACKEND,
    InstanceOf,
    Interval,
    caller,
    frame_in,
    reject,
    validate_params,
)
from toolkit.errors import preview
from toolkit.schema import TIME
from toolkit.slo._openslo import SLO
from toolkit.slo._params import (
    _K,
    Backend,
    _check_target,
    _columns,
    _every,
    _fixed_ns,
    _out,
    _text,
    _time_column,
)
from toolkit.slo._sli import _windowed


def _counts(
    events: Any, good: object, total: object, time: object, by: object, function: str
) -> tuple[pl.DataFrame, list[str]]:
    """Rows ``_t`` (ns since epoch, Int64), by..., ``good``, ``total`` (Float64)."""
    frame = frame_in(events, parameter="events", function=function)
    keys = _columns(frame, by, "by", function)
    if not isinstance(good, str):
        raise reject("good", "be a column name", good, function=function)
    if good not in frame.columns and good == "is_good" and {"good", "total"} <= set(frame.columns):
        good = "good"
    if good not in frame.columns:
        raise reject(
            "good",
            "name a Boolean column (one row per event, e.g. from slo.good_events) or a "
            "numeric count column with a 'total' column beside it "
            f"(available: {preview(', '.join(frame.columns), 300)})",
            good,
            function=function,
        )
    t = _time_column(frame, time, function).dt.epoch("ns").alias("_t")
    dtype = frame.schema[good]
    if dtype == pl.Boolean:
        rows = frame.filter(pl.col(good).is_not_null()).select(
            t, *keys, pl.col(good).cast(pl.Float64).alias("good"), pl.lit(1.0).alias("total")
        )
    elif dtype.is_numeric():
        if not isinstance(total, str) or total not in frame.columns:
            raise reject(
                "total",
                f"name the count column beside the numeric good column {good!r} "
                f"(available: {preview(', '.join(frame.columns), 300)})",
                total,
                function=function,
            )
        if not frame.schema[total].is_numeric():
            raise reject(
                "total",
                "name a numeric column",
                got=f"{total!r} of type {frame.schema[total]}",
                function=function,
            )
        rows = frame.select(
            t,
            *keys,
            pl.col(good).cast(pl.Float64).alias("good"),
            pl.col(total).cast(pl.Float64).alias("total"),
        )
        bad = rows.filter(
            pl.col("good").is_null()
            | pl.col("total").is_null()
            | (pl.col("good") < 0)
            | (pl.col("good") > pl.col("total"))
            | pl.col("total").is_nan()
            | pl.col("good").is_nan()
        )
        if bad.height:
            row = bad.row(0, named=True)
            raise reject(
                "events",
                f"hold counts with 0 <= {good} <= {total}",
                got=f"{bad.height} rows that do not, e.g. {good}={row['good']!r}, "
                f"{total}={row['total']!r},",
                function=function,
            )
    else:
        raise reject(
            "good",
            "name a Boolean or numeric column",
            got=f"{good!r} of type {dtype}",
            function=function,
        )
    return rows, keys


def _timeslices(
    rows: pl.DataFrame, keys: list[str], slice_ns: int, slice_target: float
) -> pl.DataFrame:
    """One row per slice with events: good 1.0 when its good ratio reaches the target."""
    return (
        rows.with_columns((pl.col("_t") // slice_ns * slice_ns).alias("_t"))
        .group_by([*keys, "_t"])
        .agg(pl.col("good").sum(), pl.col("total").sum())
        .filter(pl.col("total") > 0)
        .select(
            "_t",
            *keys,
            (pl.col("good") / pl.col("total") >= slice_target).cast(pl.Float64).alias("good"),
            pl.lit(1.0).alias("total"),
        )
    )


def _grid(rows: pl.DataFrame, keys: list[str], res_ns: int) -> pl.DataFrame:
    """Counts per bucket on a gap-free grid (same for every group), sorted by group, bucket.

    Columns: by..., ``_bucket`` (Int64 index, bucket start = index * res), good, total, bad.
    """
    binned = (
        rows.with_columns((pl.col("_t") // res_ns).alias(_K))
        .group_by([*keys, _K])
        .agg(pl.col("good").sum(), pl.col("total").sum())
    )
    if binned.height == 0:
        return pl.DataFrame(
            schema={
                **{k: rows.schema[k] for k in keys},
                _K: pl.Int64,
                "good": pl.Float64,
                "total": pl.Float64,
                "bad": pl.Float64,
            }
        )
    first, last = binned[_K].min(), binned[_K].max()
    assert isinstance(first, int)
    assert isinstance(last, int)
    ks = pl.DataFrame({_K: pl.int_range(first, last + 1, eager=True, dtype=pl.Int64)})
    full = binned.select(keys).unique().join(ks, how="cross") if keys else ks
    return (
        full.join(binned, on=[*keys, _K], how="left")
        .with_columns(pl.col("good").fill_null(0.0), pl.col("total").fill_null(0.0))
        .with_columns((pl.col("total") - pl.col("good")).alias("bad"))
        .sort([*keys, _K])
    )


def _window_sum(column: str, n: int, keys: list[str]) -> pl.Expr:
    """Sum of ``column`` over the last ``n`` buckets (this one included), per group."""
    cum = pl.col(column).cum_sum()
    lagged = cum.shift(n).fill_null(0.0)
    expr = cum - lagged
    return expr.over(keys) if keys else expr


def _burn(n: int, keys: list[str], error_budget: float) -> pl.Expr:
    bad = _window_sum("bad", n, keys)
    total = _window_sum("total", n, keys)
    return pl.when(total > 0).then(bad / total / error_budget).otherwise(None)


def _to_time(ns: pl.Expr) -> pl.Expr:
    return ns.cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")


_BURN_RATE = Interval(float, 0, None, closed="right", description="a positive number")


@dataclass(frozen=True)
class BurnRateRule:
    """Fire when the burn rate exceeds ``burn_rate`` over both windows.

    Parameters
    ----------
    severity : str
        ``"page"``, ``"ticket"`` ...
    long_window, short_window : str
        Durations ("1h", "5m"); the short one confirms the burn is still going on.
    burn_rate : float
        Threshold, > 0 (14.4: the budget of a 30-day window spent in about 2 days).
    """

    severity: str
    long_window: str
    short_window: str
    burn_rate: float

    def __post_init__(self) -> None:
        long_ns = _fixed_ns(self.long_window, "long_window", "BurnRateRule")
        short_ns = _fixed_ns(self.short_window, "short_window", "BurnRateRule")
        if short_ns > long_ns:
            raise reject(
                "short_window",
                f"not be longer than long_window ({self.long_window})",
                self.short_window,
                function="BurnRateRule",
            )
        if not _BURN_RATE.accepts(self.burn_rate):
            raise reject(
                "burn_rate", "be " + _BURN_RATE.words(), self.burn_rate, function="BurnRateRule"
            )
        if not isinstance(self.severity, str) or not self.severity:
            raise reject(
                "severity", "be a non-empty string", self.severity, function="BurnRateRule"
            )


@dataclass(frozen=True)
class AlertPolicy:
    """Multiwindow, multi-burn-rate alerting rules for an SLO period.

    Parameters
    ----------
    rules : tuple of BurnRateRule
    period : str, default "30d"
        The SLO period the burn rates refer to (used for the budget consumed).

    Examples
    --------
    >>> [(r.severity, r.long_window, r.short_window, r.burn_rate) for r in WORKBOOK.rules]
    [('page', '1h', '5m', 14.4), ('page', '6h', '30m', 6.0), ('ticket', '3d', '6h', 1.0)]
    >>> AlertPolicy.workbook("28d").rules[0].burn_rate
    13.44
    """

    rules: tuple[BurnRateRule, ...]
    period: str = "30d"

    def __post_init__(self) -> None:
        if (
            not isinstance(self.rules, tuple)
            or not self.rules
            or not all(isinstance(r, BurnRateRule) for r in self.rules)
        ):
            raise reject(
                "rules",
                "be a non-empty tuple of BurnRateRule",
                self.rules,
                function="AlertPolicy",
            )
        _fixed_ns(self.period, "period", "AlertPolicy")

    @classmethod
    def workbook(cls, period: str = "30d") -> AlertPolicy:
        """The Google SRE Workbook policy, scaled to ``period``.

        Page when 2 % of the period's budget is spent in 1 h (confirmed over 5 min) or 5 %
        in 6 h (30 min); ticket when 10 % is spent in 3 days (6 h). The burn-rate
        thresholds are ``fraction * period / long_window``: 14.4, 6 and 1 for 30 days.
        """
        period_ns = _fixed_ns(period, "period", "AlertPolicy.workbook")
        spec = (
            ("page", "1h", "5m", 0.02),
            ("page", "6h", "30m", 0.05),
            ("ticket", "3d", "6h", 0.10),
        )
        return cls(
            tuple(
                BurnRateRule(
                    severity,
                    long,
                    short,
                    round(spent * period_ns / _fixed_ns(long, "long_window", "workbook"), 9),
                )
                for severity, long, short, spent in spec
            ),
            period=period,
        )


#: The SRE Workbook defaults for a 30-day SLO: page 14.4 (1h/5m), page 6 (6h/30m), ticket 1 (3d/6h).
WORKBOOK = AlertPolicy.workbook("30d")
#: ``policy``: the burn-rate alerting rules.
_POLICY = InstanceOf(AlertPolicy)


@dataclass(frozen=True)
class _Objective:
    target: float
    period: str
    rolling: bool
    time_zone: str
    slices: tuple[int, float] | None  # (slice ns, slice target) for Timeslices


def _objective(target: object, function: str, period: object = None) -> _Objective:
    if isinstance(target, SLO):
        slices = None
        if target.budgeting_method == "Timeslices":
            assert target.time_slice_window is not None
            assert target.time_slice_target is not None
            slices = (
                _fixed_ns(target.time_slice_window, "time_slice_window", function),
                target.time_slice_target,
            )
        return _Objective(
            target.target,
            str(period) if period is not None else target.time_window,
            target.rolling,
            target.time_zone,
            slices,
        )
    value = _check_target(target, "target", function)
    return _Objective(value, "30d" if period is None else str(period), True, "UTC", None)


def _series(
    events: Any,
    objective: _Objective,
    good: object,
    total: object,
    time: object,
    by: object,
    res_ns: int,
    function: str,
) -> tuple[pl.DataFrame, list[str], int]:
    rows, keys = _counts(events, good, total, time, by, function)
    if objective.slices is not None:
        slice_ns, slice_target = objective.slices
        rows = _timeslices(rows, keys, slice_ns, slice_target)
        res_ns = max(res_ns, slice_ns)
        if res_ns % slice_ns:
            raise reject(
                "resolution",
                f"be a multiple of the SLO's time slice ({_text(slice_ns)})",
                got=_text(res_ns),
                function=function,
            )
    return _grid(rows, keys, res_ns), keys, res_ns


def _windows_in(ns: int, res_ns: int, parameter: str, function: str) -> int:
    if ns % res_ns:
        raise reject(
            parameter,
            f"be a multiple of the resolution ({_text(res_ns)})",
            got=_text(ns),
            function=function,
        )
    return ns // res_ns


@validate_params(backend=BACKEND)
def burn_rates(
    events: Any,
    target: float | SLO,
    *,
    windows: Sequence[str] = ("5m", "30m", "1h", "6h", "3d"),
    good: str = "is_good",
    time: str = "start_time",
    total: str = "total",
    by: str | Sequence[str] | None = None,
    resolution: str = "1m",
    backend: Backend = "polars",
) -> Any:
    """Burn rate over trailing windows, at every bucket end.

    Parameters
    ----------
    events : polars or pandas DataFrame
        One row per event with a Boolean ``good`` column, or counts with numeric ``good``
        and ``total`` columns (see the module docstring).
    target : float or SLO
        The objective (0.99), or an SLO (its target and budgeting method are used).
    windows : sequence of str, default ("5m", "30m", "1h", "6h", "3d")
        Window lengths, multiples of ``resolution``.
    good, time, total : str
        Column names.
    by : str or list of str, optional
        Evaluate each group (pool, route ...) on its own.
    resolution : str, default "1m"
        Bucket length.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        Long format, one row per evaluation time, group and window: ``time`` (the window's
        end), the ``by`` columns, ``window``, ``bad``, ``total``, ``error_ratio`` and
        ``burn_rate`` (null when the window holds no event).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t0 + timedelta(minutes=m) for m in range(4)],
    ...                    "is_good": [True, False, True, True]})
    >>> burn_rates(ev, 0.9, windows=["2m"])["burn_rate"].to_list()
    [0.0, 5.000000000000001, 5.000000000000001, 0.0]
    """
    function = caller() or "slo.burn_rates"
    objective = _objective(target, function)
    res_ns = _fixed_ns(resolution, "resolution", function)
    if isinstance(windows, str) or not isinstance(windows, Sequence) or not windows:
        raise reject("windows", "be a non-empty list of durations", windows)
    grid, keys, res_ns = _series(events, objective, good, total, time, by, res_ns, function)
    budget = 1.0 - objective.target
    parts = []
    for w in windows:
        n = _windows_in(_fixed_ns(w, "windows", function), res_ns, "windows", function)
        bad = _window_sum("bad", n, keys)
        tot = _window_sum("total", n, keys)
        parts.append(
            grid.select(
                _to_time((pl.col(_K) + 1) * res_ns).alias("time"),
                *keys,
                pl.lit(_text(n * res_ns)).alias("window"),
                bad.alias("bad"),
                tot.alias("total"),
            )
            .with_columns(
                pl.when(pl.col("total") > 0)
                .then(pl.col("bad") / pl.col("total"))
                .otherwise(None)
                .alias("error_ratio")
            )
            .with_columns((pl.col("error_ratio") / budget).alias("burn_rate"))
        )
    out = pl.concat(parts) if parts else pl.DataFrame()
    return _out(out.sort([*keys, "time"], maintain_order=True), backend)


_ALERT_SCHEMA: dict[str, pl.DataType] = {
    "severity": pl.String(),
    "start": TIME,
    "end": TIME,
    "long_window": pl.String(),
    "short_window": pl.String(),
    "threshold": pl.Float64(),
    "burn_rate": pl.Float64(),
    "short_burn_rate": pl.Float64(),
    "budget_consumed": pl.Float64(),
    "resolved": pl.Boolean(),
}


@validate_params(policy=[_POLICY, None], backend=BACKEND)
def alerts(
    events: Any,
    target: float | SLO,
    *,
    good: str = "is_good",
    time: str = "start_time",
    policy: AlertPolicy | None = None,
    total: str = "total",
    by: str | Sequence[str] | None = None,
    resolution: str = "1m",
    merge_gap: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """The multiwindow, multi-burn-rate alerts that would have fired.

    At every bucket end ``t`` each rule of ``policy`` is evaluated: it fires when the burn
    rate over ``[t - long_window, t)`` and the one over ``[t - short_window, t)`` both
    *exceed* its threshold (``>``, as the Workbook's Prometheus rules). A run of firing
    evaluations is one alert.

    Parameters
    ----------
    events : polars or pandas DataFrame
        One row per event with a Boolean ``good`` column, or pre-aggregated counts with
        numeric ``good`` and ``total`` columns (e.g. :func:`metric_counts`); see the module
        docstring.
    target : float or SLO
        The objective (0.999), or an SLO (its target and, for Timeslices budgeting, its
        slices are used).
    good : str, default "is_good"
        Boolean column, or numeric count column. When ``"is_good"`` is not a column but
        ``good`` and ``total`` are, those are used.
    time : str, default "start_time"
        Time-zone aware Datetime column (event time, or the start of a count interval).
    policy : AlertPolicy, optional
        None: :data:`WORKBOOK`, the SRE Workbook defaults for a 30-day SLO.
    total : str, default "total"
        Count column of pre-aggregated frames.
    by : str or list of str, optional
        Evaluate each group (pool, route ...) on its own.
    resolution : str, default "1m"
        Bucket length; every window must be a multiple of it.
    merge_gap : str, optional
        Count a rule that stops firing and fires again within this time ("15m") as one
        alert, as a pager that keeps an incident open would. None: every run of firing
        evaluations is an alert of its own.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        One row per alert, ordered by ``start``: the ``by`` columns, ``severity``,
        ``start`` (first evaluation that fired), ``end`` (first evaluation that no longer
        fired; the last evaluation when still firing), ``long_window``, ``short_window``,
        ``threshold`` (the rule's burn rate), ``burn_rate`` and ``short_burn_rate`` (the
        peaks over the long and short windows while firing), ``budget_consumed`` (bad
        events from ``start - long_window`` to ``end`` as a fraction of the error budget of
        one policy period at the group's observed traffic rate) and ``resolved``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> counts = pl.DataFrame({
    ...     "start_time": [t0 + timedelta(minutes=m) for m in range(180)],
    ...     "good": [50.0 if 60 <= m < 90 else 100.0 for m in range(180)],
    ...     "total": 100.0,
    ... })
    >>> fired = alerts(counts, 0.999)   # half the requests fail from 01:00 to 01:30
    >>> fired.select("severity", "long_window", pl.col("start", "end").dt.strftime("%H:%M"),
    ...              pl.col("burn_rate").round(1)).rows()  # doctest: +NORMALIZE_WHITESPACE
    [('page', '6h', '01:01', '02:00', 166.7), ('ticket', '3d', '01:01', '03:00', 166.7),
     ('page', '1h', '01:02', '01:35', 250.0)]
    """
    function = caller() or "slo.alerts"
    if policy is None:
        policy = WORKBOOK
    objective = _objective(target, function, period=policy.period)
    res_ns = _fixed_ns(resolution, "resolution", function)
    grid, keys, res_ns = _series(events, objective, good, total, time, by, res_ns, function)
    key_schema = {k: grid.schema[k] for k in keys}
    empty = pl.DataFrame(schema={**key_schema, **_ALERT_SCHEMA})
    if grid.height == 0:
        return _out(empty, backend)
    gap_n = 0
    if merge_gap is not None:
        gap_n = _windows_in(
            _fixed_ns(merge_gap, "merge_gap", function), res_ns, "merge_gap", function
        )
    budget = 1.0 - objective.target
    period_ns = _fixed_ns(policy.period, "period", function)
    last_k = grid[_K].max()
    span = (grid[_K].max() - grid[_K].min() + 1) * res_ns  # type: ignore[operator]
    cum_bad = pl.col("bad").cum_sum()
    if keys:
        cum_bad = cum_bad.over(keys)
    base = grid.with_columns(
        cum_bad.alias("_cum_bad"),
        (pl.col("total").sum().over(keys) if keys else pl.col("total").sum()).alias("_all"),
    )
    found = []
    for rule in policy.rules:
        n_long = _windows_in(
            _fixed_ns(rule.long_window, "long_window", function), res_ns, "policy", function
        )
        n_short = _windows_in(
            _fixed_ns(rule.short_window, "short_window", function), res_ns, "policy", function
        )
        lag = pl.col("_cum_bad").shift(n_long).fill_null(0.0)
        frame = base.with_columns(
            _burn(n_long, keys, budget).alias("_long"),
            _burn(n_short, keys, budget).alias("_short"),
            (lag.over(keys) if keys else lag).alias("_before"),
        ).with_columns(
            ((pl.col("_long") > rule.burn_rate) & (pl.col("_short") > rule.burn_rate))
            .fill_null(False)
            .alias("_fire")
        )
        if gap_n:
            at = pl.when(pl.col("_fire")).then(pl.col(_K))
            before, after = at.forward_fill(), at.backward_fill()
            if keys:
                before, after = before.over(keys), after.over(keys)
            frame = frame.with_columns(
                (pl.col("_fire") | ((after - before - 1) <= gap_n).fill_null(False)).alias("_fire")
            )
        change = pl.col("_fire") != pl.col("_fire").shift(1).fill_null(False)
        run = change.cum_sum()
        frame = frame.with_columns((run.over(keys) if keys else run).alias("_run"))
        fired = (
            frame.filter(pl.col("_fire"))
            .group_by([*keys, "_run"])
            .agg(
                pl.col(_K).min().alias("_first"),
                pl.col(_K).max().alias("_last"),
                pl.col("_long").max().alias("burn_rate"),
                pl.col("_short").max().alias("short_burn_rate"),
                pl.col("_before").first().alias("_before"),
                pl.col("_cum_bad").last().alias("_after"),
                pl.col("_all").first().alias("_all"),
            )
        )
        allowed = budget * pl.col("_all") * (period_ns / span)
        found.append(
            fired.select(
                *keys,
                pl.lit(rule.severity).alias("severity"),
                _to_time((pl.col("_first") + 1) * res_ns).alias("start"),
                _to_time(
                    pl.when(pl.col("_last") == last_k)
                    .then(pl.col("_last") + 1)
                    .otherwise(pl.col("_last") + 2)
                    * res_ns
                ).alias("end"),
                pl.lit(rule.long_window).alias("long_window"),
                pl.lit(rule.short_window).alias("short_window"),
                pl.lit(float(rule.burn_rate)).alias("threshold"),
                "burn_rate",
                "short_burn_rate",
                ((pl.col("_after") - pl.col("_before")) / allowed).alias("budget_consumed"),
                (pl.col("_last") != last_k).alias("resolved"),
            )
        )
    out = pl.concat([empty, *found], how="vertical_relaxed") if found else empty
    return _out(out.sort(["start", "severity", *keys, "long_window"]), backend)


@validate_params(backend=BACKEND)
def error_budget(
    events: Any,
    target: float | SLO,
    *,
    period: str | None = None,
    calendar: bool | None = None,
    every: str = "1h",
    good: str = "is_good",
    time: str = "start_time",
    total: str = "total",
    by: str | Sequence[str] | None = None,
    time_zone: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """The error budget over time: SLI, burn rate, budget consumed and remaining.

    At the end ``t`` of every step the SLO window is a rolling ``[t - period, t)`` or, for
    calendar periods, from the start of the current period (a calendar day, week, month ...
    in ``time_zone``) to ``t``. The budget of one period is ``1 - target`` of the period's
    events; when the data covers only part of the window (``coverage`` < 1), the period's
    events are estimated from the observed rate, so ``budget_consumed`` is the window's burn
    rate times its coverage: burning at 1x for 7 days of a 30-day period spends 23 %.

    Parameters
    ----------
    events : polars or pandas DataFrame
        Events or counts (see the module docstring).
    target : float or SLO
        The objective, or an SLO (its target, window, calendar/rolling, time zone and
        budgeting method are used).
    period : str, optional
        SLO window ("30d"; "1mo", "1w" with calendar periods). Default: the SLO's, or "30d".
    calendar : bool, optional
        Calendar periods instead of a rolling window. Default: the SLO's, or False.
    every : str, default "1h"
        Step of the evaluation (a fixed duration dividing a rolling ``period``).
    good, time, total, by
        As in :func:`alerts`.
    time_zone : str, optional
        Zone of calendar periods (default the SLO's, or UTC).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        One row per step and group: ``time`` (end of the step), the ``by`` columns,
        ``window_start``, ``good``, ``total`` (in the window), ``sli`` (good / total),
        ``burn_rate``, ``coverage``, ``budget_consumed`` and ``budget_remaining``
        (``1 - budget_consumed``; negative once the budget is exhausted).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t0 + timedelta(hours=h) for h in range(48)],
    ...                    "good": 99.0, "total": 100.0})   # 1 % bad for two days
    >>> b = error_budget(ev, 0.99, period="30d", every="1d")
    >>> b.select("burn_rate", "coverage", pl.col("budget_consumed").round(4)).rows()
    [(1.0, 0.03333333333333333, 0.0333), (1.0, 0.06666666666666667, 0.0667)]
    """
    function = caller() or "slo.error_budget"
    objective = _objective(target, function, period=period)
    is_calendar = (not objective.rolling) if calendar is None else bool(calendar)
    zone = time_zone or objective.time_zone
    _, step_ns = _every(every, "every", function)
    if step_ns is None:
        raise reject("every", "be a fixed duration ('1h', '1d')", every)
    grid, keys, res_ns = _series(events, objective, good, total, time, by, step_ns, function)
    if res_ns != step_ns:
        raise reject("every", "be a multiple of the SLO's time slice", every)
    budget = 1.0 - objective.target
    schema_out = {
        "time": TIME,
        **{k: grid.schema[k] for k in keys},
        "window_start": TIME,
        "good": pl.Float64(),
        "total": pl.Float64(),
        "sli": pl.Float64(),
        "burn_rate": pl.Float64(),
        "coverage": pl.Float64(),
        "budget_consumed": pl.Float64(),
        "budget_remaining": pl.Float64(),
    }
    if grid.height == 0:
        return _out(pl.DataFrame(schema=schema_out), backend)
    first_k = grid[_K].min()
    assert isinstance(first_k, int)
    data_start = first_k * res_ns
    end = (pl.col(_K) + 1) * res_ns
    if not is_calendar:
        period_ns = _fixed_ns(objective.period, "period", function)
        n = _windows_in(period_ns, res_ns, "period", function)
        covered = pl.min_horizontal(end - data_start, pl.lit(period_ns))
        frame = grid.with_columns(
            _window_sum("good", n, keys).alias("_good"),
            _window_sum("total", n, keys).alias("_total"),
            _to_time(end - covered).alias("window_start"),
            (covered / period_ns).alias("coverage"),
        )
    else:
        cal, _ = _every(objective.period, "period", function)
        local = _to_time(pl.col(_K) * res_ns).dt.convert_time_zone(zone)
        frame = grid.with_columns(local.dt.truncate(cal).alias("_p0")).with_columns(
            pl.col("_p0").dt.offset_by(cal).alias("_p1")
        )
        p0 = pl.col("_p0").dt.convert_time_zone("UTC").dt.epoch("ns")
        p1 = pl.col("_p1").dt.convert_time_zone("UTC").dt.epoch("ns")
        start = pl.max_horizontal(p0, pl.lit(data_start))
        group = [*keys, "_p0"]
        frame = frame.with_columns(
            pl.col("good").cum_sum().over(group).alias("_good"),
            pl.col("total").cum_sum().over(group).alias("_total"),
            _to_time(start).alias("window_start"),
            ((end - start) / (p1 - p0)).alias("coverage"),
        )
    sli = pl.when(pl.col("_total") > 0).then(pl.col("_good") / pl.col("_total"))
    out = (
        frame.select(
            _to_time(end).alias("time"),
            *keys,
            "window_start",
            pl.col("_good").alias("good"),
            pl.col("_total").alias("total"),
            sli.alias("sli"),
            ((1.0 - sli) / budget).alias("burn_rate"),
            "coverage",
        )
        .with_columns(
            (pl.col("burn_rate").fill_null(0.0) * pl.col("coverage")).alias("budget_consumed")
        )
        .with_columns((1.0 - pl.col("budget_consumed")).alias("budget_remaining"))
    )
    return _out(out.sort([*keys, "time"]), backend)


@validate_params(backend=BACKEND)
def budget_by_slice(
    events: Any,
    target: float | SLO,
    by: str | Sequence[str],
    *,
    good: str = "is_good",
    time: str = "start_time",
    total: str = "total",
    backend: Backend = "polars",
) -> Any:
    """Which slices (route, tier, locale, pool ...) burned the error budget.

    Parameters
    ----------
    events : polars or pandas DataFrame
        Events or counts (see the module docstring).
    target : float or SLO
    by : str or list of str
        The dimensions that define a slice.
    good, time, total : str
        Column names, as in :func:`alerts`.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        One row per slice, most bad events first: the ``by`` columns, ``good``, ``total``,
        ``bad``, ``error_ratio``, ``burn_rate`` (the slice's own), ``share_of_bad`` (its
        share of all bad events) and ``burn_contribution`` (its bad events over the
        budget of all events: the contributions add up to the overall burn rate).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> ev = pl.DataFrame({"start_time": [t] * 4, "route": ["a", "a", "b", "b"],
    ...                    "is_good": [False, False, True, False]})
    >>> budget_by_slice(ev, 0.5, "route").select("route", "bad", "burn_contribution").rows()
    [('a', 2.0, 1.0), ('b', 1.0, 0.5)]
    """
    function = caller() or "slo.budget_by_slice"
    objective = _objective(target, function)
    if by is None:
        raise reject("by", "name columns", None)
    rows, keys = _counts(events, good, total, time, by, function)
    budget = 1.0 - objective.target
    all_total = float(rows["total"].sum())
    all_bad = all_total - float(rows["good"].sum())
    out = (
        rows.group_by(keys)
        .agg(pl.col("good").sum(), pl.col("total").sum())
        .with_columns((pl.col("total") - pl.col("good")).alias("bad"))
        .with_columns(
            pl.when(pl.col("total") > 0).then(pl.col("bad") / pl.col("total")).alias("error_ratio")
        )
        .with_columns(
            (pl.col("error_ratio") / budget).alias("burn_rate"),
            (pl.col("bad") / all_bad if all_bad else pl.lit(0.0)).alias("share_of_bad"),
            (pl.col("bad") / (budget * all_total) if all_total else pl.lit(None, pl.Float64)).alias(
                "burn_contribution"
            ),
        )
        .sort(["bad", *keys], descending=[True, *([False] * len(keys))], nulls_last=True)
    )
    return _out(out, backend)


@validate_params(backend=BACKEND)
def good_fraction(
    events: Any,
    good: str = "is_good",
    *,
    by: str | Sequence[str] | None = None,
    every: str | dt.timedelta | None = None,
    window: str | dt.timedelta | None = None,
    time: str = "start_time",
    total: str = "total",
    backend: Backend = "polars",
) -> Any:
    """The SLI as a fraction of good events, overall or by dimensions, per window.

    Parameters
    ----------
    events : polars or pandas DataFrame
        Events with a Boolean ``good`` column (nulls are not counted) or counts with numeric
        ``good`` and ``total`` columns.
    good : str, default "is_good"
    by : str or list of str, optional
    every : str or timedelta, optional
        Calendar buckets ("1h", "1d", "1mo"); None: over all events.
    window : str or timedelta, optional
        With ``every``: trailing windows of this length evaluated every step.
    time, total : str
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame
        The ``by`` columns, ``window_start``/``window_end`` (with ``every``), ``good``,
        ``total`` (Float64 counts) and ``fraction`` (null for an empty window).

    Examples
    --------
    >>> import polars as pl
    >>> ev = pl.DataFrame({"is_good": [True, True, False, None], "pool": list("aabb")})
    >>> good_fraction(ev, by="pool").rows()
    [('a', 2.0, 2.0, 1.0), ('b', 0.0, 1.0, 0.0)]
    """
    function = caller() or "slo.good_fraction"
    frame = frame_in(events, parameter="events", function=function)
    if every is None:  # the time does not matter: stand in a constant one
        time = "_no_time"
        frame = frame.with_columns(pl.lit(0).cast(TIME).alias(time))
    rows, keys = _counts(frame, good, total, time, by, function)
    aggs = [pl.col("good").sum(), pl.col("total").sum()]
    out = _windowed(rows, _to_time(pl.col("_t")), keys, every, window, aggs, function)
    out = out.with_columns(
        pl.when(pl.col("total") > 0).then(pl.col("good") / pl.col("total")).alias("fraction")
    )
    return _out(out, backend)
