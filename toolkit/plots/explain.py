"""Figures of :mod:`toolkit.explain` results: importance, beeswarm, dependence, slices, LIME.

Each function takes a result of :func:`toolkit.explain.explain` (or one of its methods),
accepts ``ax=None`` and returns the matplotlib figure (closed in pyplot's registry). Every
title states the surrogate's fidelity, and a surrogate below its fidelity floor gets a red
"LOW FIDELITY" title: the figure explains the model, which does not describe the service.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from toolkit.errors import ParameterError, preview
from toolkit.plots import _axes, _label

__all__ = ["beeswarm", "dependence", "importance", "local", "shap_shift"]

_BLUE, _RED = "#4C72B0", "#C44E52"


def _fidelity_title(axes: Any, title: str, result: Any) -> None:
    metric = "AUC" if result.fidelity_metric == "roc_auc" else "R²"
    shown = "unknown" if result.fidelity is None else f"{result.fidelity:.2f}"
    low = result.fidelity is None or result.fidelity < result.fidelity_floor
    note = f"surrogate {metric} {shown} on the holdout"
    if low:
        note = f"LOW FIDELITY: {note} (floor {result.fidelity_floor:g})"
    axes.set_title(f"{_label(title)}\n{note}", fontsize=9, loc="left", color=_RED if low else "k")


def _check_top(function: str, top: Any) -> None:
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ParameterError(
            f"The 'top' parameter of plots.explain.{function} must be a positive integer. "
            f"Got {preview(top)} instead."
        )


def importance(result: Any, *, top: int = 12, ax: Any = None) -> Any:
    """Mean absolute SHAP value per feature, with its standard error, largest on top.

    Parameters
    ----------
    result : toolkit.explain.Explanation
    top : int, default 12
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> from toolkit.explain import explain
    >>> rng = np.random.default_rng(1)
    >>> calls = pl.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    >>> calls = calls.with_columns(slow=pl.col("a") + 0.2 * pl.col("b") > 0)
    >>> result = explain(calls, "slow", holdout_by="random", progress=False)
    >>> fig = importance(result)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    _check_top("importance", top)
    frame = result.importance.head(top)
    fig, axes = _axes(ax, (7.0, 0.32 * frame.height + 1.2))
    positions = np.arange(frame.height)
    axes.barh(
        positions,
        frame["mean_abs_shap"].to_numpy(),
        xerr=1.96 * frame["stderr"].to_numpy(),
        color=_BLUE,
        error_kw={"elinewidth": 0.8, "capsize": 2},
    )
    axes.set_yticks(positions, [_label(f) for f in frame["feature"].to_list()])
    axes.invert_yaxis()
    space = "log-odds" if result.task == "classification" else "outcome units"
    axes.set_xlabel(
        f"mean |SHAP| ({space}); bars ±1.96 standard errors over {result.explained_rows:,} calls",
        fontsize=8,
    )
    _fidelity_title(axes, f"What drives {result.target}", result)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig


def beeswarm(result: Any, *, top: int = 10, max_points: int = 3000, ax: Any = None) -> Any:
    """One row of points per feature: each call's SHAP value, coloured by the feature's
    value (low blue, high red; categories by their index), jittered vertically.

    Parameters
    ----------
    result : toolkit.explain.Explanation
    top : int, default 10
    max_points : int, default 3000
        Calls drawn per feature at most (an even sample of the explained calls).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_top("beeswarm", top)
    long = result.contributions()
    features = result.importance["feature"].head(top).to_list()
    fig, axes = _axes(ax, (7.5, 0.38 * len(features) + 1.3))
    rng = np.random.default_rng(0)
    scatter = None
    for position, name in enumerate(features):
        part = long.filter(pl.col("feature") == name)
        if part.height > max_points:
            part = part.gather_every(max(part.height // max_points, 1))
        values = part["value"].to_numpy().astype(float)
        finite = np.isfinite(values)
        colour = np.full(values.shape, 0.5)
        if finite.any():
            low, high = np.nanpercentile(values[finite], [5, 95])
            span = high - low if high > low else 1.0
            colour[finite] = np.clip((values[finite] - low) / span, 0, 1)
        jitter = rng.uniform(-0.3, 0.3, part.height)
        scatter = axes.scatter(
            part["shap"].to_numpy(),
            position + jitter,
            c=colour,
            cmap="coolwarm",
            vmin=0,
            vmax=1,
            s=4,
            alpha=0.6,
            linewidths=0,
        )
    axes.axvline(0, color="#888", linewidth=0.8)
    axes.set_yticks(range(len(features)), [_label(f) for f in features])
    axes.set_ylim(len(features) - 0.5, -0.5)
    axes.set_xlabel("SHAP value (effect on the model's raw output for one call)", fontsize=8)
    if scatter is not None:
        bar = fig.colorbar(scatter, ax=axes, ticks=[0, 1], pad=0.01, fraction=0.03)
        bar.ax.set_yticklabels(["low", "high"], fontsize=7)
        bar.set_label("feature value", fontsize=7)
    _fidelity_title(axes, f"Per-call SHAP values for {result.target}", result)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig


def dependence(
    result: Any,
    feature: str,
    *,
    color: str | None = None,
    log_x: bool = False,
    ax: Any = None,
) -> Any:
    """SHAP value of ``feature`` against its value, one point per call, coloured by
    another feature's category (an interaction shows as lines that part).

    Parameters
    ----------
    result : toolkit.explain.Explanation
    feature : str
    color : str, optional
        A categorical feature to colour by (e.g. the pool).
    log_x : bool, default False
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    for name, value in (("feature", feature), ("color", color)):
        if value is not None and value not in result.features:
            raise ParameterError(
                f"The {name!r} parameter of plots.explain.dependence must be a feature of "
                f"the explanation ({preview(', '.join(result.features), 300)}). "
                f"Got {preview(value)} instead."
            )
    long = result.contributions()
    part = long.filter(pl.col("feature") == feature).select("row", "value", "label", "shap")
    fig, axes = _axes(ax, (7.0, 3.0))
    if color is not None:
        groups = long.filter(pl.col("feature") == color).select(
            "row", pl.col("label").fill_null("null").alias("group")
        )
        part = part.join(groups, on="row", how="left")
        for group in sorted(part["group"].unique().to_list()):
            sub = part.filter(pl.col("group") == group)
            axes.scatter(
                sub["value"].to_numpy(),
                sub["shap"].to_numpy(),
                s=5,
                alpha=0.5,
                label=_label(group),
                linewidths=0,
            )
        axes.legend(fontsize=7, frameon=False, title=_label(color), title_fontsize=7)
    else:
        axes.scatter(
            part["value"].to_numpy(), part["shap"].to_numpy(), s=5, alpha=0.5, linewidths=0
        )
    if feature in result.categorical:
        labels = result.categorical[feature]
        axes.set_xticks(range(len(labels)), [_label(v) for v in labels], rotation=20)
    elif log_x:
        axes.set_xscale("log")
    axes.axhline(0, color="#888", linewidth=0.8)
    axes.set_xlabel(_label(feature), fontsize=8)
    axes.set_ylabel(f"SHAP value of {_label(feature)}", fontsize=8)
    _fidelity_title(axes, f"How {feature} moves {result.target}", result)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    return fig


def shap_shift(slice_result: Any, *, top: int = 10, ax: Any = None) -> Any:
    """Difference of mean SHAP values, incident window minus baseline, per feature.

    Parameters
    ----------
    slice_result : toolkit.explain.SliceExplanation
    top : int, default 10
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_top("shap_shift", top)
    frame = slice_result.frame.head(top)
    fig, axes = _axes(ax, (9.0, 0.32 * frame.height + 1.3))
    diff = frame["difference"].to_numpy()
    positions = np.arange(frame.height)
    axes.barh(positions, diff, color=np.where(diff > 0, _RED, _BLUE))
    labels = [
        f"{_label(f)} ({_label(a)[:26]} vs {_label(b)[:26]})"
        for f, a, b in frame.select("feature", "incident_value", "baseline_value").rows()
    ]
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.axvline(0, color="#888", linewidth=0.8)
    axes.set_xlabel(
        "mean SHAP in the incident minus the baseline (raw model space); "
        f"{slice_result.incident_rows:,} vs {slice_result.baseline_rows:,} calls",
        fontsize=8,
    )
    start, end = slice_result.incident
    _fidelity_title(
        axes,
        f"What changed {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC",
        slice_result,
    )
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig


def local(local_result: Any, row: int | None = None, *, ax: Any = None) -> Any:
    """LIME weights next to SHAP values for one explained call.

    Parameters
    ----------
    local_result : toolkit.explain.LocalExplanation
    row : int, optional
        The call (a ``row`` of the explanation); the first explained one by default.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    rows = local_result.agreement["row"].to_list()
    chosen = rows[0] if row is None else row
    if chosen not in rows:
        raise ParameterError(
            "The 'row' parameter of plots.explain.local must be one of the explained rows "
            f"{preview(rows)}. Got {preview(row)} instead."
        )
    frame = local_result.frame.filter(pl.col("row") == chosen)
    stats = local_result.agreement.filter(pl.col("row") == chosen).row(0, named=True)
    fig, axes = _axes(ax, (7.5, 0.4 * frame.height + 1.4))
    positions = np.arange(frame.height)
    lime = frame["lime_weight"].to_numpy()
    shap = frame["shap_value"].to_numpy()
    scale = np.abs(shap).max() / np.abs(lime).max() if np.abs(lime).max() > 0 else 1.0
    axes.barh(positions - 0.2, lime * scale, height=0.4, color=_BLUE, label="LIME (rescaled)")
    axes.barh(positions + 0.2, shap, height=0.4, color=_RED, label="SHAP")
    axes.set_yticks(positions, [_label(c) for c in frame["condition"].to_list()])
    axes.invert_yaxis()
    axes.axvline(0, color="#888", linewidth=0.8)
    axes.legend(fontsize=7, frameon=False, loc="lower right")
    agree = stats["sign_agreement"]
    rho = stats["rank_correlation"]
    axes.set_xlabel(
        f"call {chosen}: outcome {stats['outcome']:g}, predicted {stats['prediction']:.2f}; "
        f"signs agree {agree if agree is None else format(agree, '.0%')}, "
        f"rank correlation {rho if rho is None else format(rho, '.2f')}",
        fontsize=8,
    )
    _fidelity_title(axes, "Why this call: LIME against SHAP", local_result)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig
