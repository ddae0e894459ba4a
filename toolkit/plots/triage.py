"""Figures of the incident review: the timeline of a period, and one incident's evidence.

They take the frames of :func:`toolkit.triage.review` (``Review.incidents`` and
``Review.signals``), accept ``ax=None`` and return the matplotlib figure, closed in pyplot's
registry (see :mod:`toolkit.plots`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from toolkit._validation import Frame, reject, validate_params
from toolkit.errors import preview
from toolkit.plots import _axes, _label, _time_axis

__all__ = ["evidence", "timeline"]

_SEVERITY = {"page": "#C44E52", "ticket": "#DD8452"}
_OTHER = "#8172B3"


def _need(frame: pl.DataFrame, columns: Sequence[str], parameter: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise reject(
            parameter,
            f"have the columns {', '.join(map(repr, columns))}",
            got=f"a frame missing {', '.join(map(repr, missing))} "
            f"(available: {preview(', '.join(frame.columns), 300)})",
        )


@validate_params(incidents=Frame())
def timeline(
    incidents: Any,
    *,
    start: Any = None,
    end: Any = None,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """One bar per incident over the period, coloured by severity; a tick at its detection.

    Parameters
    ----------
    incidents : polars.DataFrame or pandas.DataFrame
        ``Review.incidents``: ``incident``, ``kind``, ``severity``, ``start``, ``end``,
        ``detected_at``.
    start, end : datetime, optional
        The period shown (None: the incidents' own span).
    title : str, optional
    ax : matplotlib axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> frame = pl.DataFrame({"incident": ["overload-1"], "kind": ["overload"],
    ...     "severity": ["page"], "start": [t], "end": [t + dt.timedelta(hours=2)],
    ...     "detected_at": [t + dt.timedelta(minutes=15)]})
    >>> timeline(frame).axes[0].get_yticklabels()[0].get_text()
    'overload-1'
    """
    _need(incidents, ("incident", "severity", "start", "end", "detected_at"), "incidents")
    rows = incidents.sort("start", descending=True)
    fig, axes = _axes(ax, (9.0, max(1.6, 0.32 * rows.height + 0.9)))
    for y, row in enumerate(rows.iter_rows(named=True)):
        colour = _SEVERITY.get(str(row["severity"]), _OTHER)
        width = (row["end"] or row["start"]) - row["start"]
        axes.barh(y, width, left=row["start"], height=0.6, color=colour, alpha=0.85)
        if row["detected_at"] is not None:
            axes.plot([row["detected_at"]], [y], marker="|", color="black", markersize=12)
    axes.set_yticks(range(rows.height), [_label(i) for i in rows["incident"]], fontsize=7)
    if start is not None or end is not None:
        axes.set_xlim(start, end)
    _time_axis(axes)
    for severity, colour in _SEVERITY.items():
        axes.barh([], [], color=colour, label=severity)
    axes.plot([], [], marker="|", color="black", linestyle="", label="detected")
    axes.legend(fontsize=7, loc="upper right", frameon=False)
    axes.set_title(title or "Incidents this period", fontsize=10)
    return fig


@validate_params(signals=Frame())
def evidence(
    signals: Any,
    incident: Any,
    *,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """The signals behind one incident: one bar per signal, labelled by detector and evidence.

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame
        ``Review.signals`` (``incident``, ``detector``, ``start``, ``end``, ``evidence``).
    incident : Mapping
        One row of ``Review.incidents`` (``incident``, ``start``, ``end``, ``kind``).
    title : str, optional
    ax : matplotlib axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> row = {"incident": "overload-1", "kind": "overload", "start": t,
    ...        "end": t + dt.timedelta(hours=2)}
    >>> found = pl.DataFrame({"incident": ["overload-1"], "detector": ["errors"],
    ...     "start": [t], "end": [t + dt.timedelta(minutes=15)],
    ...     "evidence": ["12 of 40 calls rejected"]})
    >>> evidence(found, row).axes[0].get_yticklabels()[0].get_text()
    'errors'
    """
    _need(signals, ("incident", "detector", "start", "end", "evidence"), "signals")
    if not isinstance(incident, Mapping) or not all(
        k in incident for k in ("incident", "start", "end")
    ):
        raise reject(
            "incident",
            "be a row of Review.incidents (with 'incident', 'start' and 'end')",
            incident,
        )
    own = signals.filter(pl.col("incident") == incident["incident"]).sort("start")
    fig, axes = _axes(ax, (9.0, max(1.6, 0.4 * own.height + 1.0)))
    axes.axvspan(incident["start"], incident["end"], color="#4C72B0", alpha=0.08)
    for y, row in enumerate(own.iter_rows(named=True)):
        end = row["end"] or row["start"]
        axes.barh(y, end - row["start"], left=row["start"], height=0.5, color="#4C72B0")
        axes.annotate(
            _label(row["evidence"])[:110],
            (row["start"], y + 0.35),
            fontsize=6,
            annotation_clip=False,
        )
    axes.set_yticks(range(own.height), [_label(d) for d in own["detector"]], fontsize=7)
    _time_axis(axes)
    axes.set_title(title or f"{_label(incident['incident'])}: the signals it merges", fontsize=10)
    return fig
