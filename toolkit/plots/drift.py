"""Figures of drift results: the windowed-drift heatmap and a series with its change points.

Functions take the frames of :mod:`toolkit.drift` / :mod:`toolkit.quality`, accept
``ax=None``, return the matplotlib Figure and import matplotlib lazily, like
:mod:`toolkit.plots`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import Frame, validate_params
from toolkit.errors import ParameterError, preview
from toolkit.plots import _axes, _label, lines

__all__ = ["heatmap", "series_with_changes"]


def _severity(windows: pl.DataFrame) -> pl.Expr:
    """How far past its threshold a result is: >= 1 means drifted, whatever the test."""
    is_p = pl.col("test").is_in(["ks", "chisquare"])
    p = pl.col("p_value_adjusted") if "p_value_adjusted" in windows.columns else pl.col("p_value")
    return (
        pl.when(is_p)
        .then(p.cast(pl.Float64).clip(1e-300, 1.0).log() / pl.col("threshold").log())
        .otherwise(pl.col("statistic") / pl.col("threshold"))
    )


@validate_params(windows=Frame())
def heatmap(
    windows: Any,
    *,
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """Heatmap of :func:`toolkit.drift.windowed`: one row per column, one cell per window.

    The colour is the result's distance past its threshold (``statistic / threshold`` for
    distances, ``log p / log threshold`` for p-value tests; 1 is the threshold, capped at 3),
    so tests of different scales share one scale; drifted cells are marked with a dot and
    empty windows are left blank.

    Parameters
    ----------
    windows : polars.DataFrame or pandas.DataFrame
        The output of :func:`toolkit.drift.windowed`.
    title : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Default: 8 inches wide, 0.35 inch per column.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in (0, 1)]
    >>> w = pl.DataFrame({"window_start": t * 2, "column": ["a", "a", "b", "b"],
    ...                   "test": ["psi"] * 4, "statistic": [0.0, 0.2, 0.05, None],
    ...                   "p_value": [None] * 4, "threshold": [0.1] * 4,
    ...                   "drifted": [False, True, False, None]})
    >>> fig = heatmap(w)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    data = windows
    needed = ["window_start", "column", "test", "statistic", "p_value", "threshold", "drifted"]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ParameterError(
            "The 'windows' parameter of plots.drift.heatmap must be the output of "
            f"drift.windowed (missing {missing}). Got the columns "
            f"{preview(', '.join(data.columns), 300)} instead."
        )
    names = data["column"].unique(maintain_order=True).to_list()
    times = data["window_start"].unique().sort()
    scored = data.with_columns(_severity(data).alias("_s"))
    grid = (
        pl.DataFrame({"window_start": times})
        .join(pl.DataFrame({"column": names}), how="cross")
        .join(
            scored.select("window_start", "column", "_s", "drifted"),
            on=["window_start", "column"],
            how="left",
        )
    )
    matrix = np.full((len(names), times.len()), np.nan)
    drifted = np.zeros_like(matrix, dtype=bool)
    row = {n: i for i, n in enumerate(names)}
    col = {t: j for j, t in enumerate(times.to_list())}
    for t, name, s, d in grid.iter_rows():
        if s is not None:
            matrix[row[name], col[t]] = min(float(s), 3.0)
        drifted[row[name], col[t]] = bool(d)
    size = figsize if figsize is not None else (8.0, max(1.6, 0.35 * len(names) + 1.0))
    fig, axes = _axes(ax, size)
    image = axes.imshow(
        np.ma.masked_invalid(matrix),
        aspect="auto",
        cmap="RdYlGn_r",
        vmin=0.0,
        vmax=2.0,
        interpolation="nearest",
    )
    ys, xs = np.nonzero(drifted)
    axes.scatter(xs, ys, s=6, color="black", marker="o", label="drifted")
    axes.set_yticks(range(len(names)), [_label(n) for n in names])
    step = max(1, times.len() // 8)
    ticks = list(range(0, times.len(), step))
    axes.set_xticks(ticks, [f"{times[i]:%m-%d %H:%M}" for i in ticks])
    axes.set_xlabel("window start (UTC)", fontsize=8)
    bar = fig.colorbar(image, ax=axes, fraction=0.03, pad=0.01)
    bar.set_label("x threshold", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=7)
    return fig


@validate_params(series=Frame(), changes=Frame())
def series_with_changes(
    series: Any,
    x: str,
    y: str,
    changes: Any,
    *,
    by: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = (8.0, 2.6),
) -> Any:
    """A metric over time with the change points of :func:`toolkit.drift.change_points`.

    Each change is a dashed vertical line at its ``time``; the segments' means are drawn
    as a step line.

    Parameters
    ----------
    series : polars.DataFrame or pandas.DataFrame
        One row per point.
    x, y : str
        Time and metric columns.
    changes : polars.DataFrame or pandas.DataFrame
        The output of :func:`toolkit.drift.change_points` on the same series.
    by : str, optional
        Column splitting the series into lines (as :func:`toolkit.plots.lines`).
    title, ylabel : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), default (8.0, 2.6)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"t": list(range(6)), "v": [0, 0, 0, 1, 1, 1]})
    >>> c = pl.DataFrame({"time": [3], "mean_before": [0.0], "mean_after": [1.0]})
    >>> fig = series_with_changes(s, "t", "v", c)
    >>> len(fig.axes[0].get_lines())
    3
    """
    data = series
    found = changes
    if "time" not in found.columns:
        raise ParameterError(
            "The 'changes' parameter of plots.drift.series_with_changes must be the output of "
            f"drift.change_points. Got the columns {preview(', '.join(found.columns))} instead."
        )
    fig = lines(data, x, y, by=by, title=title, ylabel=ylabel, ax=ax, figsize=figsize)
    axes = fig.axes[0] if ax is None else ax
    for t in found["time"].to_list():
        axes.axvline(t, color="#C44E52", linestyle="--", linewidth=1.0)
    if found.height and {"mean_before", "mean_after"} <= set(found.columns):
        ordered = data.drop_nulls(y).sort(x)
        if ordered.height:
            xs = [ordered[x][0], *found["time"].to_list(), ordered[x][-1]]
            means = [*found["mean_before"].to_list(), found["mean_after"][-1]]
            axes.step(
                xs, [*means, means[-1]], where="post", color="#C44E52", linewidth=1.2, alpha=0.7
            )
    return fig
