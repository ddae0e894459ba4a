"""Figures of guideline compliance: violation rates over time and by slice, with intervals.

Functions take the frames of :mod:`toolkit.compliance`, accept ``ax=None``, return the
matplotlib Figure and import matplotlib lazily, like :mod:`toolkit.plots`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from toolkit._validation import Frame, reject, validate_params
from toolkit.errors import preview
from toolkit.plots import _axes, _label, _time_axis

__all__ = ["rates_by_slice", "rates_over_time"]

_RATE_COLUMNS = ("window_start", "rule", "answers", "rate", "rate_lower", "rate_upper")


def _rates_frame(data: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in _RATE_COLUMNS if c not in data.columns]
    if missing:
        raise reject(
            "rates",
            "be the output of compliance.rates",
            got=f"the columns {preview(', '.join(data.columns), 200)}",
        )
    return data


def _slice_error(data: pl.DataFrame, by: object) -> Exception:
    return reject(
        "by",
        f"be a slice column of the rates (available: {preview(', '.join(data.columns), 200)})",
        by,
    )


@validate_params(rates=Frame(), by=[str, None], changes=[Frame(), None])
def rates_over_time(
    rates: Any,
    *,
    rules: Sequence[str] | None = None,
    by: str | None = None,
    changes: Any = None,
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = (8.0, 3.0),
) -> Any:
    """Violation rate per window with its interval band, one line per rule (or slice).

    Parameters
    ----------
    rates : polars.DataFrame or pandas.DataFrame
        The output of :func:`toolkit.compliance.rates`.
    rules : sequence of str, optional
        Rules drawn (default all, ``*`` included).
    by : str, optional
        A slice column of ``rates``: one line per value (then give one rule).
    changes : polars.DataFrame or pandas.DataFrame, optional
        The output of :func:`toolkit.compliance.change_points`: a dashed line at each
        change of the drawn rules, labelled with the coinciding release.
    title : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), default (8.0, 3.0)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, d, tzinfo=dt.UTC) for d in (2, 3)]
    >>> r = pl.DataFrame({"window_start": t, "rule": ["cite", "cite"], "answers": [10, 10],
    ...                   "rate": [0.1, 0.4], "rate_lower": [0.02, 0.17],
    ...                   "rate_upper": [0.4, 0.69]})
    >>> fig = rates_over_time(r)
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['cite']
    """
    data = _rates_frame(rates)
    if by is not None and by not in data.columns:
        raise _slice_error(data, by)
    if rules is not None:
        data = data.filter(pl.col("rule").is_in(list(rules)))
    fig, axes = _axes(ax, figsize)
    key = by if by is not None else "rule"
    groups = data.partition_by(key, maintain_order=True) if data.height else []
    for group in groups:
        part = group.sort("window_start")
        value = part[key][0]
        label = "any rule" if by is None and value == "*" else _label(value)
        (line,) = axes.plot(
            part["window_start"].to_list(),
            part["rate"].to_numpy(),
            label=label,
            linewidth=1.3,
            marker="o" if part.height <= 40 else None,
            markersize=3,
        )
        axes.fill_between(
            part["window_start"].to_list(),
            part["rate_lower"].fill_null(float("nan")).to_numpy(),
            part["rate_upper"].fill_null(float("nan")).to_numpy(),
            color=line.get_color(),
            alpha=0.15,
            linewidth=0,
        )
    if changes is not None:
        found: pl.DataFrame = changes
        if rules is not None and "rule" in found.columns:
            found = found.filter(pl.col("rule").is_in(list(rules)))
        seen: set[Any] = set()
        for row in found.iter_rows(named=True):
            if row["time"] in seen:
                continue
            seen.add(row["time"])
            axes.axvline(row["time"], color="#C44E52", linestyle="--", linewidth=1.0)
            if row.get("release_value"):
                axes.annotate(
                    _label(row["release_value"]),
                    (row["time"], 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, -10),
                    textcoords="offset points",
                    fontsize=7,
                    color="#C44E52",
                )
    if groups:
        axes.legend(fontsize=7, loc="upper left", frameon=False, ncols=min(len(groups), 4))
    axes.set_ylim(bottom=0)
    axes.set_ylabel("violation rate", fontsize=8)
    _time_axis(axes)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    return fig


@validate_params(rates=Frame(), by=str)
def rates_by_slice(
    rates: Any,
    by: str,
    *,
    rule: str = "*",
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = (8.0, 2.6),
) -> Any:
    """One rule's violation rate per value of a slice over the whole period, with intervals.

    The windows of ``rates`` are pooled (violating and applicable answers summed) and
    the pooled rate is drawn with its Wilson interval (95 %) as an error bar.

    Parameters
    ----------
    rates : polars.DataFrame or pandas.DataFrame
        The output of :func:`toolkit.compliance.rates` with ``by``.
    by : str
        The slice column.
    rule : str, default "*"
        The rule (``*``: any rule).
    title : str, optional
    ax : matplotlib Axes, optional
    figsize : (float, float), default (8.0, 2.6)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    >>> r = pl.DataFrame({"window_start": [t, t], "route": ["a", "b"], "rule": ["*", "*"],
    ...                   "answers": [10, 20], "violating": [1, 8], "rate": [0.1, 0.4],
    ...                   "rate_lower": [0.0, 0.2], "rate_upper": [0.4, 0.6]})
    >>> fig = rates_by_slice(r, "route")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a (n=10)', 'b (n=20)']
    """
    import math

    data = _rates_frame(rates)
    if by not in data.columns or "violating" not in data.columns:
        raise _slice_error(data, by)
    pooled = (
        data.filter(pl.col("rule") == rule)
        .group_by(by)
        .agg(pl.col("answers").sum(), pl.col("violating").sum())
        .filter(pl.col("answers") > 0)
        .sort(by, nulls_last=True)
    )
    z = 1.959963984540054
    fig, axes = _axes(ax, figsize)
    labels, rates_, lower, upper = [], [], [], []
    for value, n, k in pooled.iter_rows():
        p = k / n
        middle = (k + z * z / 2) / (n + z * z)
        half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
        labels.append(f"{_label(value)} (n={n:,})")
        rates_.append(p)
        lower.append(max(p - (middle - half), 0.0))
        upper.append(max((middle + half) - p, 0.0))
    positions = list(range(len(labels)))
    axes.barh(positions, rates_, xerr=[lower, upper], color="#4C72B0", capsize=3)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()
    axes.set_xlabel(f"violation rate ({_label(rule)})", fontsize=8)
    if title:
        axes.set_title(_label(title), fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3, axis="x")
    return fig
