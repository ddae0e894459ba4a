"""Small matplotlib figures from tidy result frames (computation stays in the caller).

Each function takes a frame that already holds what to draw (one row per point), accepts
``ax=None`` (a new figure) or an existing axes, and returns the figure. matplotlib is
imported inside the functions, so ``import toolkit`` does not load it. Figures made here
are closed in pyplot's registry before they are returned: a notebook shows each one once,
as the cell's result, and nothing accumulates in memory. Text taken from the data
(series and category labels) is passed through :func:`toolkit.redact.redact`, and ``$``
is escaped so that labels never turn into mathtext.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from toolkit._validation import Frame, validate_params
from toolkit.errors import ParameterError, preview
from toolkit.redact import redact

__all__ = ["bars", "lines"]

_FIGSIZE = (8.0, 2.6)


def _label(value: Any) -> str:
    text = "null" if value is None else str(value)
    return redact(text).replace("$", r"\$")


def _check_columns(data: pl.DataFrame, names: Sequence[str | None], function: str) -> None:
    for parameter, name in zip(("x", "y", "by"), names, strict=False):
        if name is None:
            continue
        if name not in data.columns:
            raise ParameterError(
                f"The '{parameter}' parameter of plots.{function} must be a column of the "
                f"frame (available: {preview(', '.join(data.columns), 300)}). "
                f"Got {preview(name)} instead."
            )


def _thousands(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(
        FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.6g}")
    )


def _time_axis(axes: Any) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.set_xlabel("time (UTC)", fontsize=8)


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    plt.close(fig)
    return fig, new_ax


@validate_params(frame=Frame())
def lines(
    frame: Any,
    x: str,
    y: str,
    *,
    by: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = _FIGSIZE,
) -> Any:
    """Line chart of ``y`` over ``x``, one line per value of ``by``.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per point, e.g. per time bucket (and group).
    x, y : str
        Columns for the axes (``x`` is usually a time column, shown in UTC).
    by : str, optional
        Column whose values split the lines (legend).
    title, ylabel : str, optional
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    figsize : (float, float), default (8.0, 2.6)
        Size of a new figure in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"t": [1, 2, 3, 1, 2, 3], "v": [1, 2, 1, 3, 3, 2],
    ...                   "model": ["a", "a", "a", "b", "b", "b"]})
    >>> fig = lines(f, "t", "v", by="model", title="demo")
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['a', 'b']
    """
    data = frame
    _check_columns(data, (x, y, by), "lines")
    fig, axes = _axes(ax, figsize)
    groups = data.partition_by(by, maintain_order=True) if by is not None else [data]
    if by is not None:
        groups.sort(key=lambda g: str(g[by][0]))
    for group in groups:
        part = group.sort(x)
        label = _label(part[by][0]) if by is not None else None
        many = part.height > 40
        axes.plot(
            part[x].to_numpy(),
            part[y].to_numpy(),
            label=label,
            linewidth=1.2,
            marker=None if many else "o",
            markersize=3,
        )
    if by is not None and groups:
        axes.legend(fontsize=8, loc="upper left", frameon=False, ncols=min(len(groups), 4))
    if data.schema[x].is_temporal():
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes.set_xlabel("time (UTC)", fontsize=8)
    else:
        axes.set_xlabel(_label(x), fontsize=8)
    axes.set_ylabel(_label(ylabel if ylabel is not None else y), fontsize=8)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    _thousands(axes.yaxis)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    return fig


@validate_params(frame=Frame())
def bars(
    frame: Any,
    x: str,
    y: str,
    *,
    title: str | None = None,
    ylabel: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = _FIGSIZE,
) -> Any:
    """Horizontal bar chart: one bar per row, labelled by ``x``, of length ``y``.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per bar, in the order to draw (top first).
    x : str
        Category column (labels).
    y : str
        Numeric column (lengths).
    title, ylabel : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), default (8.0, 2.6)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> fig = bars(pl.DataFrame({"route": ["chat", "code"], "calls": [10, 4]}), "route", "calls")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['chat', 'code']
    """
    data = frame
    _check_columns(data, (x, y), "bars")
    fig, axes = _axes(ax, figsize)
    labels = [_label(v) for v in data[x].to_list()]
    positions = list(range(len(labels)))
    axes.barh(positions, data[y].to_numpy(), color="#4C72B0")
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlabel(_label(ylabel if ylabel is not None else y), fontsize=8)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    _thousands(axes.xaxis)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig
