"""Figures of :mod:`toolkit.traces` results: a trace's waterfall, latency anatomy, bottlenecks.

Each function takes a frame returned by :mod:`toolkit.traces`, accepts ``ax=None`` and
returns the matplotlib figure (closed in pyplot's registry, like :mod:`toolkit.plots`).
Labels taken from the data are redacted and ``$``-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from toolkit._validation import Frame, validate_params
from toolkit.errors import ParameterError, preview
from toolkit.plots import _axes, _label, _thousands
from toolkit.traces import COMPONENTS

__all__ = ["bottleneck_bars", "breakdown_bars", "waterfall"]

#: One colour per component (colour-blind safe, Okabe-Ito).
COLOURS = {
    "gateway": "#999999",
    "retrieval": "#56B4E9",
    "queueing": "#E69F00",
    "prefill": "#D55E00",
    "decode": "#0072B2",
    "model": "#009E73",
    "tool": "#CC79A7",
    "agent": "#F0E442",
    "other": "#BBBBBB",
}


def _need(
    data: pl.DataFrame, columns: Sequence[str], function: str, made_by: str, parameter: str
) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ParameterError(
            f"The {parameter!r} parameter of plots.traces.{function} must be a frame from "
            f"{made_by} (missing columns {preview(missing)}; available: "
            f"{preview(', '.join(data.columns), 300)})."
        )


@validate_params(tree=Frame())
def waterfall(
    tree: Any,
    *,
    title: str | None = None,
    max_spans: int = 40,
    ax: Any = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """One trace as a waterfall: a bar per span on the trace's timeline, critical path dark.

    Parameters
    ----------
    tree : polars.DataFrame or pandas.DataFrame
        :func:`toolkit.traces.span_tree` of one trace (``span_tree(spans, trace_id)``).
    title : str, optional
    max_spans : int, default 40
        At most this many spans are drawn (the critical path first, then the longest).
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Default: 8 inches wide, 0.28 inch per span.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> from toolkit.traces import span_tree
    >>> t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> ms = lambda x: t0 + dt.timedelta(milliseconds=x)
    >>> spans = pl.DataFrame({
    ...     "trace_id": ["t"] * 2, "span_id": ["a", "b"], "parent_span_id": [None, "a"],
    ...     "name": ["GET /", "db"], "kind": ["server", "client"], "service_name": ["web"] * 2,
    ...     "start_time": [ms(0), ms(10)], "end_time": [ms(100), ms(60)],
    ... })
    >>> fig = waterfall(span_tree(spans))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['web: GET /', '  web: db']
    """
    data = tree
    _need(
        data,
        ["trace_id", "service_name", "name", "depth", "tree_start", "tree_end"],
        "waterfall",
        "traces.span_tree",
        "tree",
    )
    _need(
        data,
        ["critical_ms", "on_critical_path", "component"],
        "waterfall",
        "traces.span_tree",
        "tree",
    )
    if data["trace_id"].n_unique() > 1:
        raise ParameterError(
            "The 'tree' parameter of plots.traces.waterfall must hold one trace "
            f"(span_tree(spans, trace_id)). Got {data['trace_id'].n_unique()} traces instead."
        )
    if isinstance(max_spans, bool) or not isinstance(max_spans, int) or max_spans < 1:
        raise ParameterError(
            "The 'max_spans' parameter of plots.traces.waterfall must be a positive integer. "
            f"Got {preview(max_spans)} instead."
        )
    length = (pl.col("tree_end") - pl.col("tree_start")).dt.total_nanoseconds()
    kept = (
        data.with_columns(length.alias("_len"))
        .sort(["on_critical_path", "_len"], descending=True)
        .head(max_spans)
        .sort("tree_start", "depth")
    )
    origin = data.filter(pl.col("depth") == 0)["tree_start"].min()
    if origin is None:
        origin = data["tree_start"].min()
    start_ms = ((kept["tree_start"] - origin).dt.total_nanoseconds() / 1e6).to_list()
    width_ms = (kept["_len"] / 1e6).to_list()
    height = figsize or (8.0, 0.6 + 0.28 * max(kept.height, 1))
    fig, axes = _axes(ax, height)
    labels = []
    for i, row in enumerate(kept.iter_rows(named=True)):
        colour = COLOURS.get(row["component"] or "other", "#BBBBBB")
        critical = bool(row["on_critical_path"])
        axes.barh(
            i,
            max(width_ms[i], 1e-9),
            left=start_ms[i],
            color=colour,
            alpha=1.0 if critical else 0.35,
            edgecolor="black" if critical else "none",
            linewidth=0.8,
        )
        if critical and row["critical_ms"] > 0:
            axes.text(
                start_ms[i] + width_ms[i],
                i,
                f" {row['critical_ms']:,.0f} ms",
                va="center",
                fontsize=7,
            )
        labels.append(
            "  " * min(int(row["depth"]), 6) + _label(f"{row['service_name']}: {row['name']}")
        )
    axes.set_yticks(range(len(labels)), labels)
    axes.invert_yaxis()
    axes.set_xlabel("ms since the trace started (dark: critical path)", fontsize=8)
    seen = [c for c in COMPONENTS if c in set(kept["component"].to_list())]
    from matplotlib.patches import Patch

    handles = [Patch(color=COLOURS[c], label=c) for c in seen]
    if handles:
        axes.legend(
            handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
        )
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    _thousands(axes.xaxis)
    axes.tick_params(labelsize=7)
    axes.grid(alpha=0.3, axis="x")
    return fig


@validate_params(breakdown=Frame())
def breakdown_bars(
    breakdown: Any,
    by: str | None = None,
    *,
    value: str = "mean_ms",
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """Stacked bars of the latency by component, one bar per group.

    Parameters
    ----------
    breakdown : polars.DataFrame or pandas.DataFrame
        :func:`toolkit.traces.latency_breakdown` (not ``per_trace``).
    by : str, optional
        The group column (one bar per value); one bar in all when None.
    value : {"mean_ms", "share"}, default "mean_ms"
    title : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> b = pl.DataFrame({"route": ["a", "a", "b"], "component": ["prefill", "decode", "decode"],
    ...                   "mean_ms": [10.0, 20.0, 5.0]})
    >>> fig = breakdown_bars(b, by="route")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    data = breakdown
    _need(
        data,
        ["component", value, *([by] if by else [])],
        "breakdown_bars",
        "traces.latency_breakdown",
        "breakdown",
    )
    if by is None:
        data = data.with_columns(pl.lit("all traces").alias("_group"))
        by = "_group"
    groups = data[by].unique(maintain_order=True).to_list()
    fig, axes = _axes(ax, figsize or (8.0, 0.8 + 0.35 * len(groups)))
    left = [0.0] * len(groups)
    present = set(data["component"].to_list())
    for component in [c for c in COMPONENTS if c in present] + sorted(present - set(COMPONENTS)):
        part = data.filter(pl.col("component") == component)
        values = dict(zip(part[by].to_list(), part[value].to_list(), strict=True))
        widths = [float(values.get(g) or 0.0) for g in groups]
        axes.barh(
            range(len(groups)),
            widths,
            left=left,
            label=_label(component),
            color=COLOURS.get(component, "#BBBBBB"),
        )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.set_yticks(range(len(groups)), [_label(g) for g in groups])
    axes.invert_yaxis()
    axes.set_xlabel(
        "mean ms per trace on the critical path" if value == "mean_ms" else _label(value),
        fontsize=8,
    )
    axes.legend(fontsize=7, loc="lower right", frameon=False, ncols=3)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    _thousands(axes.xaxis)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig


@validate_params(ranking=Frame())
def bottleneck_bars(
    ranking: Any,
    *,
    n: int = 10,
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """Growth in self time per operation (slow minus baseline), with its confidence interval.

    Parameters
    ----------
    ranking : polars.DataFrame or pandas.DataFrame
        :func:`toolkit.traces.bottlenecks`.
    n : int, default 10
        The first ``n`` operations of the ranking.
    title : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import polars as pl
    >>> r = pl.DataFrame({"rank": [1, 2], "component": ["prefill", "decode"],
    ...     "delta_ms": [900.0, 10.0], "ci_low_ms": [700.0, -5.0], "ci_high_ms": [1100.0, 25.0],
    ...     "significant": [True, False]})
    >>> fig = bottleneck_bars(r)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['prefill', 'decode']
    """
    data = ranking
    _need(
        data,
        ["rank", "delta_ms", "ci_low_ms", "ci_high_ms", "significant"],
        "bottleneck_bars",
        "traces.bottlenecks",
        "ranking",
    )
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(
            "The 'n' parameter of plots.traces.bottleneck_bars must be a positive integer. "
            f"Got {preview(n)} instead."
        )
    stats = {"rank", "slow_traces", "baseline_traces", "slow_with", "baseline_with"}
    keys = [
        c
        for c in data.columns[: data.columns.index("delta_ms")]
        if c not in stats and not c.endswith("_ms")
    ]
    top = data.sort("rank").head(n)
    labels = [
        _label(" / ".join("null" if v is None else str(v) for v in row))
        for row in top.select(keys).iter_rows()
    ]
    delta = top["delta_ms"].to_list()
    low = [d - lo for d, lo in zip(delta, top["ci_low_ms"].to_list(), strict=True)]
    high = [hi - d for d, hi in zip(delta, top["ci_high_ms"].to_list(), strict=True)]
    colours = ["#D55E00" if s else "#BBBBBB" for s in top["significant"].to_list()]
    fig, axes = _axes(ax, figsize or (8.0, 0.8 + 0.32 * max(top.height, 1)))
    axes.barh(
        range(top.height), delta, xerr=[low, high], color=colours, ecolor="#333333", capsize=2
    )
    axes.axvline(0, color="black", linewidth=0.6)
    axes.set_yticks(range(top.height), labels)
    axes.invert_yaxis()
    axes.set_xlabel(
        "mean self time per trace, slow minus baseline (ms); orange: significant", fontsize=8
    )
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    _thousands(axes.xaxis)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig
