"""Incident windows from fired alerts: merged, labelled and compared with known ones
(:func:`incident_windows`, :func:`windows_frame`, :func:`label_windows`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from toolkit._validation import Frame, InstanceOf, caller, reject, validate_params
from toolkit.errors import preview
from toolkit.schema import TIME
from toolkit.slo._budget import (
    _ALERT_SCHEMA,
    AlertPolicy,
    _objective,
    _series,
    _to_time,
    _window_sum,
    _windows_in,
    alerts,
)
from toolkit.slo._openslo import SLO
from toolkit.slo._params import _K, _columns, _fixed_ns, _time_column

_WINDOW_SCHEMA: dict[str, pl.DataType] = {
    "incident": pl.String(),
    "start": TIME,
    "end": TIME,
    "source": pl.String(),
    "burn_rate": pl.Float64(),
}


def _label(value: object) -> str:
    return "null" if value is None else str(value)


def _merge_intervals(fired: pl.DataFrame, keys: list[str], gap_ns: int) -> pl.DataFrame:
    """Overlapping intervals (or ones less than ``gap_ns`` apart) of a group merged."""
    ordered = fired.sort([*keys, "start"])
    reach = pl.col("end").cum_max().shift(1)
    if keys:
        reach = reach.over(keys)
    new = (pl.col("start") > reach + pl.duration(nanoseconds=gap_ns)).fill_null(True)
    group = new.cum_sum()
    if keys:
        group = group.over(keys)
    return (
        ordered.with_columns(group.alias("_window"))
        .group_by([*keys, "_window"], maintain_order=True)
        .agg(
            pl.col("start").min(),
            pl.col("end").max(),
            pl.col("burn_rate").max(),
        )
        .drop("_window")
    )


def _worst_period(
    grid: pl.DataFrame, keys: list[str], res_ns: int, n: int, budget: float, min_events: object
) -> pl.DataFrame:
    """The window of ``n`` buckets with the highest bad ratio among those with enough events."""
    first = grid[_K].min()
    last = grid[_K].max()
    assert isinstance(first, int)
    assert isinstance(last, int)
    n = min(n, last - first + 1)  # data shorter than the width: the whole period
    scored = grid.with_columns(
        _window_sum("bad", n, keys).alias("_bad"), _window_sum("total", n, keys).alias("_total")
    ).filter((pl.col(_K) - first + 1 >= n) & (pl.col("_total") > 0))
    if scored.height == 0:
        return scored
    if min_events is None:
        median = scored["_total"].median()
        assert isinstance(median, float)
        floor = max(30.0, median / 4)
    else:
        floor = float(min_events)  # type: ignore[arg-type]
    enough = scored.filter(pl.col("_total") >= floor)
    if enough.height == 0:  # too little traffic anywhere: the window with the most events
        enough = scored.filter(pl.col("_total") == pl.col("_total").max())
    best = (
        enough.with_columns((pl.col("_bad") / pl.col("_total")).alias("_ratio"))
        .sort(["_ratio", "_total", _K], descending=[True, True, False])
        .head(1)
    )
    return best.select(
        *keys,
        _to_time((pl.col(_K) + 1 - n) * res_ns).alias("start"),
        _to_time((pl.col(_K) + 1) * res_ns).alias("end"),
        (pl.col("_ratio") / budget).alias("burn_rate"),
    )


_NAME = InstanceOf(str, description="a non-empty string")


@validate_params(name=[_NAME, None])
def incident_windows(
    events: Any,
    objective: float | SLO,
    *,
    by: str | Sequence[str] | None = None,
    merge_gap: str | None = "30m",
    worst: str = "6h",
    time: str = "start_time",
    good: str = "is_good",
    total: str = "total",
    policy: AlertPolicy | None = None,
    resolution: str = "1m",
    min_events: float | None = None,
    name: str | None = None,
) -> pl.DataFrame:
    """The incident windows of the data: pages merged, else tickets, else the worst period.

    Runs :func:`alerts` on ``events`` and merges the pages of every rule that overlap (or
    are less than ``merge_gap`` apart) into one window per group; when nothing pages, the
    tickets are merged the same way. When nothing fires at all, the single window of width
    ``worst`` with the highest bad ratio (among windows with enough events) is returned, so
    a caller always gets windows from the data to compare with the rest of the period.

    Parameters
    ----------
    events : polars or pandas DataFrame
        One row per event with a Boolean ``good`` column (what :func:`good_events`
        returns), or counts with numeric ``good`` and ``total`` columns
        (:func:`metric_counts`).
    objective : float or SLO
        The target (0.99) or the SLO; an SLO's name names the incidents.
    by : str or list of str, optional
        Evaluate each group (pool, deployment) on its own; the columns are kept.
    merge_gap : str or None, default "30m"
        Alerts less than this apart are one window (also passed to :func:`alerts`).
    worst : str, default "6h"
        Width of the worst period returned when nothing fires (the whole data when it is
        shorter); a multiple of ``resolution``.
    time, good, total : str
        Column names, as for :func:`alerts`.
    policy : AlertPolicy, optional
        None: :data:`WORKBOOK`.
    resolution : str, default "1m"
        Bucket length.
    min_events : float, optional
        Events a candidate worst period needs; None: the larger of 30 and a quarter of the
        median window's events (a window with the most events when none has enough).
    name : str, optional
        What the incidents are named after; None: the SLO's name ("slo" for a bare target).

    Returns
    -------
    polars.DataFrame
        One row per window, ordered by ``start``: ``incident`` (a readable name, e.g.
        ``"ttft on h100-pool"``; the start time is appended where a name repeats),
        ``start``, ``end`` (Datetime ns UTC, ``end`` exclusive), ``source`` ("page",
        "ticket" or "worst period"), ``burn_rate`` (peak long-window burn rate of the
        alerts, or the worst period's burn rate), then the ``by`` columns. Empty when
        ``events`` holds no event.

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
    >>> w = incident_windows(counts, SLO("ttft", 0.999))
    >>> w.select("incident", pl.col("start", "end").dt.strftime("%H:%M"), "source").row(0)
    ('ttft', '01:01', '02:00', 'page')
    >>> quiet = counts.with_columns(good=pl.when(pl.col("good") < 100).then(99.0).otherwise(100.0))
    >>> w = incident_windows(quiet, 0.99, worst="30m", name="errors")
    >>> w.select("incident", pl.col("start", "end").dt.strftime("%H:%M"), "source").row(0)
    ('errors', '01:00', '01:30', 'worst period')
    """
    function = caller() or "slo.incident_windows"
    if name is not None and not name:
        raise reject("name", "be a non-empty string or None", name)
    label = name if name is not None else objective.name if isinstance(objective, SLO) else "slo"
    fired = alerts(
        events,
        objective,
        good=good,
        time=time,
        policy=policy,
        total=total,
        by=by,
        resolution=resolution,
        merge_gap=merge_gap,
    )
    keys = [c for c in fired.columns if c not in _ALERT_SCHEMA]
    gap_ns = 0 if merge_gap is None else _fixed_ns(merge_gap, "merge_gap", function)
    worst_ns = _fixed_ns(worst, "worst", function)
    found = pl.DataFrame(schema={**_WINDOW_SCHEMA, **{k: fired.schema[k] for k in keys}})
    for severity in ("page", "ticket"):
        chosen = fired.filter(pl.col("severity") == severity)
        if chosen.height:
            found = _merge_intervals(chosen, keys, gap_ns).with_columns(
                pl.lit(severity).alias("source")
            )
            break
    else:
        target = _objective(objective, function, period=policy.period if policy else None)
        res_ns = _fixed_ns(resolution, "resolution", function)
        grid, keys, res_ns = _series(events, target, good, total, time, by, res_ns, function)
        if grid.height:
            n = _windows_in(worst_ns, res_ns, "worst", function)
            worst_row = _worst_period(grid, keys, res_ns, n, 1.0 - target.target, min_events)
            found = worst_row.with_columns(pl.lit("worst period").alias("source"))
    if found.height == 0:
        return pl.DataFrame(schema={**_WINDOW_SCHEMA, **{k: found.schema[k] for k in keys}})
    names = (
        pl.concat_str(
            pl.lit(f"{label} on "),
            pl.concat_str(
                [pl.col(k).map_elements(_label, return_dtype=pl.String) for k in keys],
                separator="/",
            ),
        )
        if keys
        else pl.lit(label)
    )
    out = found.sort("start").with_columns(names.alias("incident"))
    repeated = pl.col("incident").count().over("incident") > 1
    out = out.with_columns(
        pl.when(repeated)
        .then(
            pl.concat_str(
                "incident", pl.lit(" ("), pl.col("start").dt.strftime("%a %d %H:%M"), pl.lit(")")
            )
        )
        .otherwise(pl.col("incident"))
        .alias("incident")
    )
    return out.select(
        "incident",
        pl.col("start").cast(TIME),
        pl.col("end").cast(TIME),
        "source",
        pl.col("burn_rate").cast(pl.Float64),
        *keys,
    )


def _instant(value: object, parameter: str, function: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise reject(
                parameter,
                "hold ISO-8601 times with their zone ('2026-11-04T09:30:00Z')",
                value,
                function=function,
            ) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise reject(
            parameter,
            "hold time-zone aware datetimes or ISO-8601 times with their zone; a time "
            "without its zone is never guessed",
            value,
            function=function,
        )
    return value.astimezone(dt.UTC)


@validate_params()
def windows_frame(windows: Any) -> pl.DataFrame:
    """Incident windows given as ``{name: (start, end)}`` as a frame like :func:`incident_windows`.

    Parameters
    ----------
    windows : mapping or polars DataFrame
        ``{name: (start, end)}`` with aware datetimes or ISO-8601 text with its zone (end
        exclusive), or a frame with ``incident``, ``start`` and ``end`` columns (returned
        with those as the first columns).

    Returns
    -------
    polars.DataFrame
        ``incident``, ``start``, ``end`` (Datetime ns UTC) and ``source`` ("given"), in the
        mapping's order.

    Examples
    --------
    >>> windows_frame({"release": ("2026-11-04T09:30:00Z", "2026-11-05T15:00:00+00:00")}).row(0)[0]
    'release'
    """
    function = caller() or "slo.windows_frame"
    if isinstance(windows, pl.DataFrame):
        if not {"incident", "start", "end"} <= set(windows.columns):
            raise reject(
                "windows",
                "have columns incident, start and end (slo.incident_windows gives them)",
                got=f"columns {preview(', '.join(windows.columns), 300)}",
            )
        for column in ("start", "end"):
            dtype = windows.schema[column]
            if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
                raise reject(
                    "windows",
                    "have time-zone aware Datetime start and end columns",
                    got=f"{column} of type {dtype}",
                )
        rest = [c for c in windows.columns if c not in ("incident", "start", "end")]
        return windows.select(
            pl.col("incident").cast(pl.String),
            pl.col("start").dt.convert_time_zone("UTC").dt.cast_time_unit("ns"),
            pl.col("end").dt.convert_time_zone("UTC").dt.cast_time_unit("ns"),
            *rest,
        )
    if not isinstance(windows, Mapping):
        raise reject(
            "windows",
            "be a mapping name -> (start, end) or a frame from slo.incident_windows",
            windows,
        )
    rows: list[tuple[str, dt.datetime, dt.datetime]] = []
    for key, bounds in windows.items():
        if (
            not isinstance(key, str)
            or isinstance(bounds, str)
            or not isinstance(bounds, Sequence)
            or len(bounds) != 2
        ):
            raise reject(
                "windows",
                "map each name (a string) to a (start, end) pair",
                got=f"{preview(key)}: {preview(bounds)}",
            )
        start = _instant(bounds[0], "windows", function)
        end = _instant(bounds[1], "windows", function)
        if end <= start:
            raise reject(
                "windows",
                "have each window's end after its start",
                got=f"{key!r}: {start.isoformat()} to {end.isoformat()}",
            )
        rows.append((key, start, end))
    return pl.DataFrame(
        rows, schema={"incident": pl.String, "start": TIME, "end": TIME}, orient="row"
    ).with_columns(pl.lit("given").alias("source"))


@validate_params(frame=Frame(), column=InstanceOf(str, description="a column name"))
def label_windows(
    frame: Any,
    windows: Any,
    *,
    time: str = "start_time",
    column: str = "period",
    on: str | Sequence[str] | None = None,
    baseline: str = "baseline",
) -> pl.DataFrame:
    """Each row labelled with the incident window its time falls in, or "baseline".

    Parameters
    ----------
    frame : polars or pandas DataFrame
        Rows with a time-zone aware time column (calls, spans, trace summaries).
    windows : polars DataFrame or mapping
        :func:`incident_windows` output, or ``{name: (start, end)}`` (see
        :func:`windows_frame`). ``end`` is exclusive.
    time : str, default "start_time"
        The time column of ``frame``.
    column : str, default "period"
        Name of the added String column.
    on : str or list of str, optional
        Columns of both ``frame`` and ``windows`` that must match too (a pool's window
        labels only that pool's rows). None: time alone.
    baseline : str, default "baseline"
        The label of rows outside every window.

    Returns
    -------
    polars.DataFrame
        ``frame`` with ``column`` added: the name of the first window (in ``windows``'
        order) holding the row, else ``baseline``.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> rows = pl.DataFrame({"start_time": [datetime(2026, 11, 4, h, tzinfo=timezone.utc)
    ...                                     for h in (8, 10, 12)]})
    >>> windows = {"release": ("2026-11-04T09:30:00Z", "2026-11-04T12:00:00Z")}
    >>> label_windows(rows, windows)["period"].to_list()
    ['baseline', 'release', 'baseline']
    """
    function = caller() or "slo.label_windows"
    data: pl.DataFrame = frame
    spans = windows_frame(windows)
    keys = _columns(data, on, "on", function)
    missing = [k for k in keys if k not in spans.columns]
    if missing:
        raise reject(
            "on",
            "name columns of the windows too "
            f"(windows have {preview(', '.join(spans.columns), 300)})",
            missing[0],
        )
    if not column:
        raise reject("column", "be a column name", column)
    t = _time_column(data, time, function)
    labels: list[pl.Expr] = []
    for row in spans.iter_rows(named=True):
        inside = (t >= row["start"]) & (t < row["end"])
        for k in keys:
            match = pl.col(k).is_null() if row[k] is None else pl.col(k) == row[k]
            inside = inside & match
        labels.append(pl.when(inside).then(pl.lit(row["incident"])))
    label = pl.coalesce([*labels, pl.lit(baseline)]) if labels else pl.lit(baseline)
    return data.with_columns(label.cast(pl.String).alias(column))
