"""Figures of :mod:`toolkit.capacity`: utilisation heatmaps, demand and forecast, latency
versus load with the SLO line, measured versus simulated latency, and the cost-versus-SLO
attainment frontier.

Each function takes a result frame of :mod:`toolkit.capacity`, accepts ``ax=None`` and
returns the matplotlib figure (closed in pyplot's registry, as :mod:`toolkit.plots` does).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import Frame, validate_params
from toolkit.errors import ParameterError, preview
from toolkit.plots import _axes, _label, _thousands, _time_axis
from toolkit.schema import to_polars

__all__ = [
    "calibration",
    "cost_frontier",
    "demand_forecast",
    "latency_vs_load",
    "utilisation_heatmap",
]


def _need(
    frame: pl.DataFrame, columns: tuple[str, ...], function: str, parameter: str = "frame"
) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"The {parameter!r} parameter of plots.capacity.{function} must have the columns "
            f"{list(columns)} (missing {missing}; available: "
            f"{preview(', '.join(frame.columns), 300)})."
        )


def _finish(axes: Any, title: str | None, ylabel: str) -> None:
    axes.set_ylabel(_label(ylabel), fontsize=8)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)


@validate_params(frame=Frame())
def utilisation_heatmap(
    frame: Any,
    *,
    value: str = "util_pct",
    title: str | None = "GPU utilisation (%)",
    ax: Any = None,
    figsize: tuple[float, float] = (8.0, 3.0),
) -> Any:
    """Heatmap of :func:`toolkit.capacity.utilisation_by_time`: one row per GPU.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t = [dt.datetime(2026, 1, 1, h, tzinfo=dt.timezone.utc) for h in range(3)]
    >>> f = pl.DataFrame({"gpu": ["a"] * 3 + ["b"] * 3, "time": t * 2,
    ...                   "util_pct": [0.0, 50.0, 100.0, 10.0, 20.0, 30.0]})
    >>> [t.get_text() for t in utilisation_heatmap(f).axes[0].get_yticklabels()]
    ['a', 'b']
    """
    data = frame
    _need(data, ("gpu", "time", value), "utilisation_heatmap")
    import matplotlib.dates as mdates

    wide = data.pivot(on="gpu", index="time", values=value).sort("time")
    gpus = sorted(c for c in wide.columns if c != "time")
    grid = wide.select(gpus).to_numpy().T.astype(np.float64)
    times = wide["time"].to_list()
    fig, axes = _axes(ax, figsize)
    if times:
        x0 = mdates.date2num(times[0])
        x1 = mdates.date2num(times[-1]) + (
            (mdates.date2num(times[1]) - x0) if len(times) > 1 else 1 / 24
        )
        image = axes.imshow(
            np.ma.masked_invalid(grid),
            aspect="auto",
            interpolation="nearest",
            extent=(x0, x1, len(gpus) - 0.5, -0.5),
            cmap="viridis",
            vmin=0.0,
            vmax=100.0 if value == "util_pct" else None,
        )
        fig.colorbar(image, ax=axes, pad=0.01).ax.tick_params(labelsize=7)
        axes.xaxis_date()
        _time_axis(axes)
    axes.set_yticks(range(len(gpus)), [_label(g) for g in gpus])
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=7)
    return fig


@validate_params(history=Frame())
def demand_forecast(
    history: Any,
    forecast: Any,
    *,
    column: str = "rate_rps",
    level: str = "80",
    title: str | None = "Demand and forecast",
    ylabel: str = "requests / s",
    ax: Any = None,
    figsize: tuple[float, float] = (8.0, 2.6),
) -> Any:
    """The history (:func:`~toolkit.capacity.arrival_rate`) and a forecast with its interval.

    ``forecast`` is a :class:`~toolkit.capacity.Forecast` or its ``frame``.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> t = [dt.datetime(2026, 1, 1, h, tzinfo=dt.timezone.utc) for h in range(4)]
    >>> h = pl.DataFrame({"time": t[:2], "rate_rps": [1.0, 2.0]})
    >>> f = pl.DataFrame({"time": t[2:], "forecast": [1.0, 2.0], "lo_80": [0.5, 1.5],
    ...                   "hi_80": [1.5, 2.5]})
    >>> [l.get_label() for l in demand_forecast(h, f).axes[0].get_lines()]
    ['observed', 'forecast']
    """
    hist = history
    fc_frame = getattr(forecast, "frame", forecast)
    fc = to_polars(fc_frame, parameter="forecast", function="plots.capacity.demand_forecast")
    _need(hist, ("time", column), "demand_forecast", "history")
    _need(fc, ("time", "forecast", f"lo_{level}", f"hi_{level}"), "demand_forecast", "forecast")
    fig, axes = _axes(ax, figsize)
    axes.plot(hist["time"].to_numpy(), hist[column].to_numpy(), lw=0.9, label="observed")
    axes.plot(fc["time"].to_numpy(), fc["forecast"].to_numpy(), lw=1.2, label="forecast")
    axes.fill_between(
        fc["time"].to_numpy(),
        fc[f"lo_{level}"].to_numpy(),
        fc[f"hi_{level}"].to_numpy(),
        alpha=0.25,
        label=f"{level} % interval",
    )
    axes.legend(fontsize=8, loc="upper left", frameon=False, ncols=3)
    _time_axis(axes)
    _thousands(axes.yaxis)
    _finish(axes, title, ylabel)
    return fig


@validate_params(frame=Frame())
def latency_vs_load(
    frame: Any,
    *,
    slo_s: float,
    metric: str = "ttft_p99_s",
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = (6.0, 2.8),
) -> Any:
    """Latency against arrival rate per method (:func:`toolkit.capacity.load_sweep`),
    with the SLO as a horizontal line.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"method": ["simulation"] * 2 + ["analytic"] * 2,
    ...                   "arrival_rate_rps": [1.0, 2.0] * 2,
    ...                   "ttft_p99_s": [0.5, 3.0, 0.4, 2.0]})
    >>> fig = latency_vs_load(f, slo_s=2.0)
    >>> [l.get_label() for l in fig.axes[0].get_lines()]
    ['analytic', 'simulation', 'SLO 2 s']
    """
    data = frame
    _need(data, ("method", "arrival_rate_rps", metric), "latency_vs_load")
    fig, axes = _axes(ax, figsize)
    for group in sorted(data.partition_by("method"), key=lambda p: str(p["method"][0])):
        part = group.sort("arrival_rate_rps")
        y = part[metric].to_numpy().astype(np.float64)
        axes.plot(
            part["arrival_rate_rps"].to_numpy(),
            np.where(np.isfinite(y), y, np.nan),
            marker="o",
            markersize=3,
            label=_label(part["method"][0]),
        )
    axes.axhline(slo_s, color="#C44E52", lw=1, ls="--", label=f"SLO {slo_s:g} s")
    values = data[metric].to_numpy().astype(np.float64)
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size and finite.max() / max(finite.min(), 1e-9) > 100:
        axes.set_yscale("log")  # a saturated fleet's latency would flatten the others
    axes.set_xlabel("arrival rate (requests / s)", fontsize=8)
    axes.legend(fontsize=8, frameon=False)
    _finish(axes, title or f"{metric} versus load", f"{metric}")
    return fig


@validate_params(frame=Frame())
def calibration(
    frame: Any,
    *,
    title: str | None = "Measured versus simulated time to first token",
    ax: Any = None,
    figsize: tuple[float, float] = (6.0, 2.8),
) -> Any:
    """Measured and simulated TTFT (p50, p90) per load level
    (:func:`toolkit.capacity.latency_by_load`).

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"load_rps": [1.0, 2.0], "measured_ttft_p50_s": [0.2, 0.4],
    ...     "simulated_ttft_p50_s": [0.2, 0.5], "measured_ttft_p90_s": [1.0, 2.0],
    ...     "simulated_ttft_p90_s": [1.1, 2.2]})
    >>> len(calibration(f).axes[0].get_lines())
    4
    """
    data = frame.sort("load_rps")
    cols = ("measured_ttft_p50_s", "simulated_ttft_p50_s", "measured_ttft_p90_s")
    _need(data, ("load_rps", *cols, "simulated_ttft_p90_s"), "calibration")
    fig, axes = _axes(ax, figsize)
    x = data["load_rps"].to_numpy()
    for q, color in (("p50", "#4C72B0"), ("p90", "#DD8452")):
        axes.plot(
            x, data[f"measured_ttft_{q}_s"].to_numpy(), "o-", color=color, label=f"measured {q}"
        )
        axes.plot(
            x, data[f"simulated_ttft_{q}_s"].to_numpy(), "s--", color=color, label=f"simulated {q}"
        )
    axes.set_xlabel("arrival rate (requests / s)", fontsize=8)
    axes.legend(fontsize=8, frameon=False, ncols=2)
    _finish(axes, title, "TTFT (s)")
    return fig


@validate_params(frame=Frame())
def cost_frontier(
    frame: Any,
    *,
    target: float | None = None,
    title: str | None = "Cost versus SLO attainment",
    ax: Any = None,
    figsize: tuple[float, float] = (6.0, 2.8),
) -> Any:
    """Cost per hour against SLO attainment of every candidate fleet
    (:func:`~toolkit.capacity.size_fleet`), one line per model, the recommended fleet
    circled and the target as a vertical line.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"model": ["m", "m"], "replicas": [1, 2], "slo_attainment": [0.5, 0.99],
    ...                   "cost_per_hour_usd": [1.0, 2.0], "recommended": [False, True]})
    >>> len(cost_frontier(f, target=0.95).axes[0].get_lines())  # the model, the target
    2
    """
    data = frame
    _need(data, ("model", "replicas", "slo_attainment", "cost_per_hour_usd"), "cost_frontier")
    fig, axes = _axes(ax, figsize)
    for group in sorted(data.partition_by("model"), key=lambda p: str(p["model"][0])):
        part = group.sort("replicas")
        axes.plot(
            part["slo_attainment"].to_numpy(),
            part["cost_per_hour_usd"].to_numpy(),
            "o-",
            markersize=3,
            label=_label(part["model"][0]),
        )
        for attainment, cost, replicas in part.select(
            "slo_attainment", "cost_per_hour_usd", "replicas"
        ).iter_rows():
            axes.annotate(
                str(replicas),
                (attainment, cost),
                fontsize=6,
                xytext=(2, 2),
                textcoords="offset points",
            )
    if "recommended" in data.columns:
        best = data.filter(pl.col("recommended"))
        if best.height:
            axes.scatter(
                best["slo_attainment"].to_numpy(),
                best["cost_per_hour_usd"].to_numpy(),
                s=120,
                facecolors="none",
                edgecolors="#C44E52",
                label="recommended",
                zorder=3,
            )
    if target is not None:
        axes.axvline(target, color="#C44E52", lw=1, ls="--", label=f"target {target:g}")
    axes.set_xlabel("SLO attainment (share of requests)", fontsize=8)
    axes.legend(fontsize=7, frameon=False)
    _finish(axes, title, "cost (USD / hour)")
    return fig
