"""Figures of a model's prediction quality over time (:mod:`toolkit.performance` frames).

- :func:`metric_over_time`: a realised metric per window with its interval band, the CBPE
  estimate and its band where given, label coverage as bars underneath, and degradations
  shaded.
- :func:`reliability`: the reliability curve against the diagonal.
- :func:`threshold_tradeoff`: precision, recall and false-positive rate across thresholds,
  with a chosen threshold marked.

Each accepts ``ax=None``, returns the matplotlib Figure and imports matplotlib lazily.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import Frame, reject, validate_params
from toolkit.errors import preview
from toolkit.plots import _axes, _time_axis

__all__ = ["metric_over_time", "reliability", "threshold_tradeoff"]


def _need(data: pl.DataFrame, columns: list[str], parameter: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise reject(
            parameter,
            f"hold the columns {missing}",
            got=f"the columns {preview(', '.join(data.columns), 300)}",
        )


def _values(data: pl.DataFrame, column: str) -> np.ndarray:
    return data[column].cast(pl.Float64).fill_null(np.nan).to_numpy()


@validate_params(windows=Frame(), estimate=[Frame(), None], degradations=[Frame(), None])
def metric_over_time(
    windows: Any,
    *,
    metric: str = "precision",
    estimate: Any = None,
    degradations: Any = None,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """A metric per window: realised (with its interval), estimated (CBPE) and coverage.

    Parameters
    ----------
    windows : polars.DataFrame or pandas.DataFrame
        :func:`toolkit.performance.windowed` (one slice).
    metric : str, default "precision"
    estimate : polars.DataFrame or pandas.DataFrame, optional
        :func:`toolkit.performance.estimate`: ``<metric>_est`` and its band are drawn.
    degradations : polars.DataFrame or pandas.DataFrame, optional
        :func:`toolkit.performance.degradations`: each fall is shaded.
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, d, tzinfo=dt.UTC) for d in (2, 3, 4)]
    >>> w = pl.DataFrame({"window_start": t, "precision": [0.6, 0.55, None],
    ...                   "precision_lower": [0.5, 0.45, None],
    ...                   "precision_upper": [0.7, 0.65, None],
    ...                   "label_coverage": [1.0, 0.9, 0.2]})
    >>> fig = metric_over_time(w)
    >>> fig.axes[0].get_ylabel()
    'precision'
    """
    data: pl.DataFrame = windows
    _need(data, ["window_start", metric, "label_coverage"], "windows")
    fig, axes = _axes(ax, (8.0, 3.2))
    x = data["window_start"].to_list()
    y = _values(data, metric)
    coverage = axes.twinx()
    widths = None
    if len(x) > 1:
        widths = min(b - a for a, b in itertools.pairwise(x)) * 0.8
    coverage.bar(
        x,
        _values(data, "label_coverage"),
        width=widths if widths is not None else 0.8,
        align="edge",
        color="#cccccc",
        alpha=0.45,
        label="label coverage",
        zorder=0,
    )
    coverage.set_ylim(0, 1.0)
    coverage.set_ylabel("labels known", fontsize=8, color="#777777")
    axes.set_zorder(coverage.get_zorder() + 1)
    axes.patch.set_visible(False)
    axes.plot(x, y, marker="o", color="#1f77b4", label=f"{metric} (realised)")
    if f"{metric}_lower" in data.columns and f"{metric}_upper" in data.columns:
        axes.fill_between(
            x,
            _values(data, f"{metric}_lower"),
            _values(data, f"{metric}_upper"),
            color="#1f77b4",
            alpha=0.15,
            linewidth=0,
        )
    if estimate is not None:
        est: pl.DataFrame = estimate
        _need(est, ["window_start", f"{metric}_est"], "estimate")
        ex = est["window_start"].to_list()
        axes.plot(
            ex,
            _values(est, f"{metric}_est"),
            marker="s",
            linestyle="--",
            color="#d62728",
            label=f"{metric} (CBPE estimate)",
        )
        if f"{metric}_est_lower" in est.columns:
            axes.fill_between(
                ex,
                _values(est, f"{metric}_est_lower"),
                _values(est, f"{metric}_est_upper"),
                color="#d62728",
                alpha=0.08,
                linewidth=0,
            )
    if degradations is not None:
        falls: pl.DataFrame = degradations
        _need(falls, ["start", "end"], "degradations")
        last = x[-1] if x else None
        for row in falls.iter_rows(named=True):
            axes.axvspan(row["start"], row["end"] or last, color="#ff7f0e", alpha=0.12)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel(metric, fontsize=9)
    axes.legend(fontsize=7, loc="lower left")
    _time_axis(axes)
    if title:
        axes.set_title(title, fontsize=10)
    return fig


@validate_params(curve=Frame())
def reliability(curve: Any, *, title: str | None = None, ax: Any = None) -> Any:
    """The reliability curve of :func:`toolkit.performance.reliability` against the diagonal.

    Parameters
    ----------
    curve : polars.DataFrame or pandas.DataFrame
        ``mean_score``, ``positive_rate`` and its interval, ``n``.
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> c = pl.DataFrame({"mean_score": [0.1, 0.8], "positive_rate": [0.05, 0.6],
    ...                   "positive_rate_lower": [0.02, 0.4],
    ...                   "positive_rate_upper": [0.1, 0.8], "n": [100, 10]})
    >>> reliability(c).axes[0].get_xlabel()
    'mean score'
    """
    data: pl.DataFrame = curve
    _need(data, ["mean_score", "positive_rate"], "curve")
    fig, axes = _axes(ax, (4.2, 3.6))
    x, y = _values(data, "mean_score"), _values(data, "positive_rate")
    if "positive_rate_lower" in data.columns:
        lo, hi = _values(data, "positive_rate_lower"), _values(data, "positive_rate_upper")
        yerr = [np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)]
        axes.errorbar(x, y, yerr=yerr, fmt="o-", capsize=3, label="observed")
    else:
        axes.plot(x, y, "o-", label="observed")
    axes.plot([0, 1], [0, 1], color="#999999", linestyle=":", label="calibrated")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("mean score")
    axes.set_ylabel("observed positive rate")
    axes.legend(fontsize=7)
    if title:
        axes.set_title(title, fontsize=10)
    return fig


@validate_params(table=Frame())
def threshold_tradeoff(
    table: Any, *, chosen: float | None = None, title: str | None = None, ax: Any = None
) -> Any:
    """Precision, recall and false-positive rate across thresholds (one window or pooled).

    Parameters
    ----------
    table : polars.DataFrame or pandas.DataFrame
        :func:`toolkit.performance.thresholds` for one window (rows with several windows
        are pooled by summing their counts per threshold).
    chosen : float, optional
        A threshold to mark (e.g. from :func:`toolkit.performance.threshold_for_fpr`).
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"threshold": [0.2, 0.5], "tp": [8, 5], "fp": [20, 4],
    ...                   "fn": [2, 5], "tn": [70, 86]})
    >>> threshold_tradeoff(t, chosen=0.5).axes[0].get_xlabel()
    'threshold'
    """
    data: pl.DataFrame = table
    _need(data, ["threshold", "tp", "fp", "fn", "tn"], "table")
    pooled = (
        data.group_by("threshold")
        .agg(pl.col("tp", "fp", "fn", "tn").sum())
        .sort("threshold")
        .with_columns(
            (pl.col("tp") / (pl.col("tp") + pl.col("fp"))).alias("precision"),
            (pl.col("tp") / (pl.col("tp") + pl.col("fn"))).alias("recall"),
            (pl.col("fp") / (pl.col("fp") + pl.col("tn"))).alias("false_positive_rate"),
        )
    )
    fig, axes = _axes(ax, (6.0, 3.2))
    x = _values(pooled, "threshold")
    for name, colour in (
        ("precision", "#1f77b4"),
        ("recall", "#2ca02c"),
        ("false_positive_rate", "#d62728"),
    ):
        axes.plot(x, _values(pooled, name), label=name.replace("_", " "), color=colour)
    if chosen is not None:
        axes.axvline(chosen, color="#333333", linestyle="--", linewidth=1)
        axes.annotate(f"{chosen:.3g}", (chosen, 1.0), fontsize=7, ha="left", va="top")
    axes.set_xlabel("threshold")
    axes.set_ylim(0, 1.02)
    axes.legend(fontsize=7)
    if title:
        axes.set_title(title, fontsize=10)
    return fig
