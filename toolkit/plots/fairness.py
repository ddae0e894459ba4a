"""Figures of a bias audit: rates by group with intervals, disparities with the fair band.

They take the frames of :mod:`toolkit.fairness` (:func:`~toolkit.fairness.group_metrics`,
``Mitigation.table``), accept ``ax=None`` and return the matplotlib figure, closed in
pyplot's registry like every figure of :mod:`toolkit.plots`. Group labels are redacted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import Frame, validate_params
from toolkit.errors import ParameterError, preview
from toolkit.plots import _axes, _label

__all__ = ["dimension_bars", "disparity", "group_rates", "mitigation"]

_FLAG = "#C44E52"
_ADVANTAGE = "#55A868"
_PLAIN = "#4C72B0"


def _need(data: pl.DataFrame, columns: Sequence[str], function: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ParameterError(
            f"The 'groups' parameter of plots.fairness.{function} must be a frame of "
            f"toolkit.fairness.group_metrics (missing: {', '.join(missing)}; available: "
            f"{preview(', '.join(data.columns), 300)}). Got another frame instead."
        )


def _colours(data: pl.DataFrame) -> list[str]:
    if "disparity" not in data.columns:
        return [_PLAIN] * data.height
    return [
        _FLAG if d == "disadvantaged" else _ADVANTAGE if d == "advantaged" else _PLAIN
        for d in data["disparity"].to_list()
    ]


def _values(data: pl.DataFrame, name: str) -> np.ndarray:
    return data[name].cast(pl.Float64).fill_null(np.nan).to_numpy()


@validate_params(groups=Frame())
def group_rates(
    groups: Any,
    *,
    unfavorable: bool = False,
    title: str | None = None,
    xlabel: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """Favorable (or unfavorable) rate per group, with its interval and the reference rate.

    Flagged groups are red (disadvantaged) or green (advantaged); small groups are drawn
    hollow.

    Parameters
    ----------
    groups : polars.DataFrame or pandas.DataFrame
        :func:`toolkit.fairness.group_metrics`' result (one row per group).
    unfavorable : bool, default False
        Draw ``1 - favorable_rate`` (e.g. the refusal rate when "not refused" is favorable).
    title, xlabel : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Size of a new figure (grows with the number of groups by default).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.fairness import group_metrics
    >>> m = group_metrics(pl.DataFrame({"g": ["a", "a", "b", "b"], "ok": [1, 1, 1, 0]}),
    ...                   "ok", "g", favorable=1, privileged="a", n_boot=50)
    >>> fig = group_rates(m)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    data = groups
    _need(data, ["group", "favorable_rate", "n"], "group_rates")
    fig, axes = _axes(ax, figsize or (8.0, 0.9 + 0.28 * max(data.height, 1)))
    rate = _values(data, "favorable_rate")
    low = _values(data, "favorable_rate_low") if "favorable_rate_low" in data.columns else rate
    high = _values(data, "favorable_rate_high") if "favorable_rate_high" in data.columns else rate
    if unfavorable:
        rate, low, high = 1 - rate, 1 - high, 1 - low
    positions = np.arange(data.height)
    colours = _colours(data)
    small = data["small"].to_list() if "small" in data.columns else [False] * data.height
    err = np.vstack([np.clip(rate - low, 0, None), np.clip(high - rate, 0, None)])
    err = np.nan_to_num(err)
    axes.errorbar(rate, positions, xerr=err, fmt="none", ecolor="#999999", elinewidth=1.2)
    for y, (x, colour, hollow) in enumerate(zip(rate, colours, small, strict=True)):
        axes.plot(
            x, y, "o", color=colour, markerfacecolor="white" if hollow else colour, markersize=6
        )
    if "reference_rate" in data.columns and data["reference_rate"].n_unique() == 1:
        ref = data["reference_rate"][0]
        if ref is not None:
            ref_value = 1 - ref if unfavorable else ref
            axes.axvline(ref_value, color="#333333", linestyle="--", linewidth=1)
    axes.set_yticks(positions, [_label(v) for v in data["group"].to_list()])
    axes.invert_yaxis()
    default = "unfavorable rate" if unfavorable else "favorable rate"
    axes.set_xlabel(_label(xlabel or default), fontsize=8)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig


@validate_params(groups=Frame())
def disparity(
    groups: Any,
    metric: str = "disparate_impact",
    *,
    band: tuple[float, float] = (0.8, 1.25),
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """A ratio per group (log scale) from 1, with its interval and the fair band shaded.

    Parameters
    ----------
    groups : polars.DataFrame or pandas.DataFrame
        :func:`toolkit.fairness.group_metrics`' result.
    metric : {"disparate_impact", "unfavorable_ratio"}, default "disparate_impact"
    band : (float, float), default (0.8, 1.25)
        The fair band (four-fifths rule), shaded.
    title : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.fairness import group_metrics
    >>> m = group_metrics(pl.DataFrame({"g": ["a", "a", "b", "b"], "ok": [1, 1, 1, 0]}),
    ...                   "ok", "g", favorable=1, privileged="a", n_boot=0)
    >>> fig = disparity(m)
    >>> [round(float(p.get_width()), 2) for p in fig.axes[0].patches if p.get_height() < 1]
    [0.0, -0.5]
    """
    if metric not in ("disparate_impact", "unfavorable_ratio"):
        raise ParameterError(
            "The 'metric' parameter of plots.fairness.disparity must be 'disparate_impact' "
            f"or 'unfavorable_ratio'. Got {preview(metric)} instead."
        )
    data = groups
    _need(data, ["group", metric], "disparity")
    fig, axes = _axes(ax, figsize or (8.0, 0.9 + 0.28 * max(data.height, 1)))
    value = _values(data, metric)
    positions = np.arange(data.height)
    axes.axvspan(band[0], band[1], color="#DDDDDD", alpha=0.6, zorder=0, label="fair band")
    axes.barh(positions, value - 1.0, left=1.0, color=_colours(data), height=0.6)
    if f"{metric}_low" in data.columns:
        low, high = _values(data, f"{metric}_low"), _values(data, f"{metric}_high")
        err = np.nan_to_num(
            np.vstack([np.clip(value - low, 0, None), np.clip(high - value, 0, None)])
        )
        axes.errorbar(value, positions, xerr=err, fmt="none", ecolor="#333333", elinewidth=1)
    axes.axvline(1.0, color="#333333", linewidth=0.8)
    finite = value[np.isfinite(value) & (value > 0)]
    if finite.size:
        axes.set_xscale("log")
        lo = min(float(finite.min()), band[0]) / 1.3
        hi = max(float(finite.max()), band[1]) * 1.3
        axes.set_xlim(lo, hi)
    axes.set_yticks(positions, [_label(v) for v in data["group"].to_list()])
    axes.invert_yaxis()
    axes.set_xlabel(_label(metric.replace("_", " ") + " (log scale)"), fontsize=8)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig


@validate_params(table=Frame())
def mitigation(
    table: Any,
    metric: str = "statistical_parity_difference",
    *,
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = (8.0, 2.4),
) -> Any:
    """Accuracy and one fairness metric per method (``Mitigation.table``), side by side.

    Parameters
    ----------
    table : polars.DataFrame or pandas.DataFrame
        ``Mitigation.table`` of :func:`toolkit.fairness.mitigate`.
    metric : str, default "statistical_parity_difference"
        The fairness column drawn next to the accuracy (its absolute value: 0 is fair).
    title : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), default (8.0, 2.4)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"method": ["baseline", "reweighing"], "accuracy": [0.9, 0.88],
    ...                   "statistical_parity_difference": [-0.4, -0.02]})
    >>> fig = mitigation(t)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['baseline', 'reweighing']
    """
    data = table
    missing = [c for c in ("method", "accuracy", metric) if c not in data.columns]
    if missing:
        raise ParameterError(
            "The 'table' parameter of plots.fairness.mitigation must be Mitigation.table "
            f"with a {metric!r} column (missing: {', '.join(missing)}). Got another frame instead."
        )
    fig, axes = _axes(ax, figsize)
    positions = np.arange(data.height)
    accuracy = _values(data, "accuracy")
    fairness = np.abs(_values(data, metric))
    axes.barh(positions - 0.2, accuracy, height=0.38, color=_PLAIN, label="accuracy")
    axes.barh(
        positions + 0.2, fairness, height=0.38, color=_FLAG, label=f"|{metric.replace('_', ' ')}|"
    )
    for y, (a, f) in enumerate(zip(accuracy, fairness, strict=True)):
        axes.text(a, y - 0.2, f" {a:.3f}", va="center", fontsize=7)
        axes.text(f, y + 0.2, f" {f:.3f}", va="center", fontsize=7)
    axes.set_yticks(positions, [_label(v) for v in data["method"].to_list()])
    axes.invert_yaxis()
    axes.set_xlim(0, 1.15)
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig


def dimension_bars(
    result: Any,
    metric: str = "unfavorable_ratio",
    *,
    flagged_only: bool = True,
    band: tuple[float, float] = (0.8, 1.25),
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Every dimension of an audit at a glance: one bar per group, labelled by dimension.

    Parameters
    ----------
    result : toolkit.fairness.DimensionAudit
        :func:`toolkit.fairness.audit_dimensions`' (or ``audit_intersections``') result.
    metric : {"unfavorable_ratio", "disparate_impact"}, default "unfavorable_ratio"
    flagged_only : bool, default True
        Only the flagged groups (all groups when none is flagged).
    band : (float, float), default (0.8, 1.25)
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.fairness import audit_dimensions
    >>> calls = pl.DataFrame({"attributes.locale": ["en"] * 60 + ["tr"] * 40,
    ...                       "refused": [False] * 59 + [True] + [False] * 30 + [True] * 10})
    >>> fig = dimension_bars(audit_dimensions(calls, "refused", ["attributes.locale"],
    ...                                       favorable=False, n_boot=0))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['locale: tr']
    """
    groups = getattr(result, "groups", None)
    if not isinstance(groups, pl.DataFrame) or "dimension" not in groups.columns:
        raise ParameterError(
            "The 'result' parameter of plots.fairness.dimension_bars must be a "
            f"toolkit.fairness.DimensionAudit. Got {preview(result)} instead."
        )
    data = groups.filter(pl.col("flagged")) if flagged_only else groups
    if data.height == 0:
        data = groups
    short = pl.col("dimension").str.replace(r"^(attributes|resource)\.", "")
    data = data.with_columns(pl.concat_str(short, pl.lit(": "), pl.col("group")).alias("group"))
    data = data.sort(metric, descending=metric == "unfavorable_ratio", nulls_last=True)
    return disparity(data, metric, band=band, title=title, ax=ax)
