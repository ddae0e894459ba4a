"""Figures of SLOs: error-budget burn-down and the burn-rate alert timeline.

They take the frames of :mod:`toolkit.slo` (:func:`~toolkit.slo.error_budget`,
:func:`~toolkit.slo.burn_rates`, :func:`~toolkit.slo.alerts`), accept ``ax=None`` and
return the matplotlib figure, closed in pyplot's registry (see :mod:`toolkit.plots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from toolkit._validation import Frame, validate_params
from toolkit.errors import ParameterError, preview
from toolkit.plots import _axes, _label, _time_axis

__all__ = ["alert_timeline", "burn_down"]

_SEVERITY_COLOURS = {"page": "#C44E52", "ticket": "#DD8452"}
_OTHER_COLOUR = "#8172B3"


def _need(frame: pl.DataFrame, columns: Sequence[str], parameter: str, function: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"The {parameter!r} parameter of plots.slo.{function} must have the columns "
            f"{', '.join(map(repr, columns))} (missing {', '.join(map(repr, missing))}; "
            f"available: {preview(', '.join(frame.columns), 300)})."
        )


@validate_params(budget=Frame())
def burn_down(
    budget: Any,
    *,
    by: str | None = None,
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = (8.0, 2.6),
) -> Any:
    """Error budget remaining over time (100 % at the start, 0 % when it is spent).

    Parameters
    ----------
    budget : polars or pandas DataFrame
        From :func:`toolkit.slo.error_budget` (``time``, ``budget_remaining``).
    by : str, optional
        Column splitting the lines (e.g. an SLO name or a pool), one line per value.
    title : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), default (8.0, 2.6)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> frame = pl.DataFrame({"time": [t0 + timedelta(hours=h) for h in range(3)],
    ...                       "budget_remaining": [1.0, 0.9, 0.7]})
    >>> fig = burn_down(frame)
    >>> [round(float(v), 1) for v in fig.axes[0].get_lines()[0].get_ydata()]
    [100.0, 90.0, 70.0]
    """
    data = budget
    _need(data, ["time", "budget_remaining", *([by] if by else [])], "budget", "burn_down")
    fig, axes = _axes(ax, figsize)
    groups = data.partition_by(by, maintain_order=True) if by else [data]
    for group in sorted(groups, key=lambda g: str(g[by][0]) if by else ""):
        part = group.sort("time")
        axes.plot(
            part["time"].to_numpy(),
            (part["budget_remaining"] * 100).to_numpy(),
            label=_label(part[by][0]) if by else None,
            linewidth=1.4,
        )
    axes.axhline(0, color="black", linewidth=0.8)
    if by and groups:
        axes.legend(fontsize=8, loc="lower left", frameon=False, ncols=min(len(groups), 4))
    _time_axis(axes)
    axes.set_ylabel("error budget left (%)", fontsize=8)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    return fig


@validate_params(burn=Frame(), fired=Frame())
def alert_timeline(
    burn: Any,
    fired: Any,
    *,
    by: str | None = None,
    thresholds: Sequence[float] | None = None,
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """Burn rates over time with the alerts that would have fired shaded behind them.

    One panel per value of ``by`` (a pool ...): a line per burn-rate window on a
    logarithmic scale, dashed lines at the policy's thresholds, and a band for each alert
    (red: page, orange: ticket) from its start to its end.

    Parameters
    ----------
    burn : polars or pandas DataFrame
        From :func:`toolkit.slo.burn_rates` (``time``, ``window``, ``burn_rate``).
    fired : polars or pandas DataFrame
        From :func:`toolkit.slo.alerts` (``severity``, ``start``, ``end``, ``threshold``).
    by : str, optional
        Group column present in both frames; one panel per value.
    thresholds : list of float, optional
        Burn-rate thresholds to draw; default: those of ``fired``.
    title : str, optional
    ax : matplotlib Axes, optional
        Only without ``by`` (a single panel).
    figsize : (float, float), optional
        Default: 8 wide, 2.4 high per panel.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    >>> burn = pl.DataFrame({"time": [t0 + timedelta(minutes=m) for m in range(3)],
    ...                      "window": "1h", "burn_rate": [1.0, 20.0, 30.0]})
    >>> fired = pl.DataFrame({"severity": ["page"], "start": [t0 + timedelta(minutes=1)],
    ...                       "end": [t0 + timedelta(minutes=2)], "threshold": [14.4]})
    >>> fig = alert_timeline(burn, fired)
    >>> len(fig.axes[0].patches), fig.axes[0].get_yscale()
    (1, 'symlog')
    """
    import matplotlib.pyplot as plt

    function = "alert_timeline"
    lines = burn
    bands = fired
    extra = [by] if by else []
    _need(lines, ["time", "window", "burn_rate", *extra], "burn", function)
    _need(bands, ["severity", "start", "end", *extra], "fired", function)
    values = sorted(set(lines[by].to_list()), key=str) if by else [None]
    if ax is not None and len(values) > 1:
        raise ParameterError(
            "The 'ax' parameter of plots.slo.alert_timeline draws one panel; with 'by' there "
            f"are {len(values)}. Got an Axes instead of None."
        )
    if ax is not None:
        fig, panels = ax.figure, [ax]
    else:
        size = figsize or (8.0, 2.4 * len(values) + 0.3)
        fig, grid = plt.subplots(
            len(values), 1, figsize=size, layout="constrained", sharex=True, squeeze=False
        )
        plt.close(fig)
        panels = [row[0] for row in grid]
    if thresholds is None:
        thresholds = (
            sorted(set(bands["threshold"].drop_nulls().to_list()))
            if "threshold" in bands.columns
            else []
        )
    for value, axes in zip(values, panels, strict=True):
        part = lines if by is None else lines.filter(pl.col(by) == value)
        alerts_part = bands if by is None else bands.filter(pl.col(by) == value)
        for row in alerts_part.iter_rows(named=True):
            axes.axvspan(
                row["start"],
                row["end"],
                color=_SEVERITY_COLOURS.get(row["severity"], _OTHER_COLOUR),
                alpha=0.25 if row["severity"] == "page" else 0.15,
                linewidth=0,
            )
        windows = part.partition_by("window", maintain_order=True)
        for group in windows:
            ordered = group.sort("time")
            axes.plot(
                ordered["time"].to_numpy(),
                ordered["burn_rate"].fill_null(0.0).to_numpy(),
                label=_label(f"burn rate {group['window'][0]}"),
                linewidth=1.0,
            )
        for threshold in thresholds:
            axes.axhline(threshold, color="grey", linestyle="--", linewidth=0.8)
        axes.set_yscale("symlog", linthresh=1.0)
        axes.set_ylim(bottom=0)
        axes.set_ylabel("burn rate", fontsize=8)
        heading = _label(f"{by} = {value}") if by else None
        if heading:
            axes.set_title(heading, fontsize=9, loc="left")
        axes.tick_params(labelsize=8)
        axes.grid(alpha=0.3)
        if windows:
            axes.legend(fontsize=7, loc="upper left", frameon=False, ncols=min(len(windows), 5))
        _time_axis(axes)
    if title:
        fig.suptitle(_label(title), fontsize=10, x=0.01, ha="left")
    return fig
