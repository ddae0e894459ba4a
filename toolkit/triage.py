"""Incident review: every detector over a period, merged into ranked incidents with runbooks.

:func:`review` runs the detectors that a folder's tables support (SLO burn-rate pages
against each pool's own ordinary level or declared objectives, deploy markers from version
changes and each release compared with the version it replaced, pool saturation, KV-cache
pressure and prompt-token surges, rejection bursts, prompt-mix drift, ungrounded answers,
group disparities, guideline violations, model precision), takes two more pieces of
evidence from each latency or error incident's own calls (the span that grew in its
traces, :func:`toolkit.traces.bottlenecks`; the feature whose SHAP contribution to its bad
calls moved most, :meth:`toolkit.explain.Explanation.compare`) and returns a
:class:`Review`: the raw :attr:`Review.signals` of every detector, the :attr:`Review.incidents`
they merge into (:func:`merge`, a pure function of a signals frame), the ranked probable
:attr:`Review.causes` of each incident and its runbook (:func:`load_runbooks`).

Incident kinds follow the vocabulary of the synthetic sample's ``truth.json``
(``model_release_regression``, ``data_drift``, ``quality_regression``, ``bias``,
``capacity_saturation``, ``overload``, ``guideline_compliance_regression``,
``prediction_quality_regression``) plus ``error_burst`` (failed calls of one type that no
saturation, overload or release of their pool explains) and ``slo_burn`` (an SLO page with
no other explanation).

Each detector keeps only what its data make unlikely by chance (the module's constants:
``QUALITY_ALPHA``, ``RELEASE_ALPHA``, ``COMPLIANCE_ALPHA``, ``BIAS_ALPHA``,
``PRESSURE_FACTOR``, ...), and its evidence says by which test: a quiet period reads as one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import (
    Duration,
    Frame,
    OneOf,
    UTCTime,
    duration_ns,
    reject,
    utc_time,
    validate_params,
)
from toolkit.errors import FormatError, ToolkitError

__all__ = [
    "SIGNALS",
    "Review",
    "Runbook",
    "deploy_markers",
    "fill",
    "load_runbooks",
    "merge",
    "review",
]

_TIME = pl.Datetime("us", "UTC")

#: Columns of a signals frame (what :func:`merge` takes).
SIGNALS: dict[str, pl.DataType] = {
    "detector": pl.String(),
    "role": pl.String(),  # "symptom" (becomes or joins an incident) or "cause" (explains one)
    "kind": pl.String(),
    "scope": pl.String(),  # what the signal is about: a pool, a group, a table
    "pool": pl.String(),
    "severity": pl.String(),  # "page" or "ticket"
    "start": _TIME,
    "end": _TIME,
    "detected_at": _TIME,
    "strength": pl.Float64(),
    "cause": pl.String(),  # cause key (runbook lookup)
    "subject": pl.String(),  # the column / SLO / dimension named
    "value": pl.String(),  # its value (version, group, locale ...)
    "previous": pl.String(),
    "evidence": pl.String(),
}

#: An SLO page that burned less than this share of the error budget, and that no release,
#: saturation or overload explains, is kept as a signal but makes no incident: at low
#: traffic a handful of slow calls trips the 1 h / 5 min burn-rate window.
MIN_PAGE_BUDGET = 0.02
#: Bad answers a quality window needs to page (fewer make a ticket).
MIN_BAD_ANSWERS = 20
#: Bad-answer windows less likely than this under the usual level (Bonferroni-corrected)
#: are incidents.
QUALITY_ALPHA = 0.001
#: KV-cache use or queue length this many times a pool's usual (90th percentile) level ...
PRESSURE_FACTOR = 5.0
#: ... and at least this share of the cache, is pressure.
PRESSURE_FLOOR = 0.15
#: A slice whose share of a pool's calls grows this much under pressure caused it.
SURGE_LIFT = 0.1
#: Prompt tokens per second this many times the same time of day's usual is a surge.
SURGE_FACTOR = 3.0
#: Prompt-size quantiles (of the previous version's calls) that bin a release comparison:
#: the finest bins catch a release that slows only the longest prompts.
RELEASE_BINS = (0.5, 0.75, 0.9, 0.95)
#: Calls of each version a release comparison needs per prompt-size bin ...
MIN_RELEASE_CALLS = 15
#: ... the growth of the median that makes a release slower ...
RELEASE_SLOWDOWN = 1.25
#: ... and the (Bonferroni-corrected) significance it needs.
RELEASE_ALPHA = 0.01
#: The (Bonferroni-corrected) significance a rise of rule breaking needs.
COMPLIANCE_ALPHA = 0.01
#: The (Bonferroni-corrected) significance a burst of one error type needs.
ERROR_ALPHA = 0.001
#: The Holm-corrected significance a group disparity needs to be an incident (the audit
#: flags at 5 %: over many weeks and groups, chance disparities of 4 sigma do occur).
BIAS_ALPHA = 0.001
#: A bad-answer window must be this many times the period's rate ...
QUALITY_RATIO = 3.0


def _signals(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema=SIGNALS, orient="row") if rows else pl.DataFrame(schema=SIGNALS)
    )


def _utc(value: Any) -> dt.datetime | None:
    """A time of the data (the canonical tables' are UTC) as an aware UTC datetime."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        return None
    return value.astimezone(dt.UTC)


def _fmt_window(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None:
        return "?"
    return f"{start:%a %d %H:%M}-{end:%a %d %H:%M} UTC" if end else f"{start:%a %d %H:%M} UTC on"


# ---------------------------------------------------------------------------------- runbooks


@dataclass(frozen=True)
class Runbook:
    """One runbook entry: what to do for an incident kind and probable cause.

    ``steps`` are templates; :func:`fill` replaces ``{name}`` by the incident's values.
    """

    kind: str
    cause: str
    title: str
    steps: tuple[str, ...]


@validate_params()
def load_runbooks(paths: Sequence[str | Path] = ()) -> dict[tuple[str, str], Runbook]:
    """The shipped runbooks, extended (and overridden) by the user's YAML files.

    Parameters
    ----------
    paths : sequence of path
        YAML files in the shipped format (``toolkit/data/runbooks/default.yaml``): a list of
        entries with ``kind``, ``cause`` (``"*"``: any cause of the kind), ``title`` and
        ``steps`` (templates with ``{name}`` placeholders). An entry replaces the shipped one
        of the same kind and cause.

    Returns
    -------
    dict
        ``(kind, cause) -> Runbook``.

    Examples
    --------
    >>> books = load_runbooks()
    >>> books["model_release_regression", "version_change"].title
    'A release made the pool slower'
    """
    import yaml

    shipped = resources.files("toolkit").joinpath("data/runbooks/default.yaml")
    texts: list[tuple[str, str]] = [("toolkit/data/runbooks/default.yaml", shipped.read_text())]
    for path in paths:
        file = Path(path)
        if not file.is_file():
            raise reject("runbooks", "name YAML files", got=f"{str(path)!r} (no such file)")
        texts.append((str(file), file.read_text(encoding="utf-8")))
    books: dict[tuple[str, str], Runbook] = {}
    for name, text in texts:
        try:
            entries = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise FormatError(f"{name}: not YAML ({error}).") from None
        if not isinstance(entries, list):
            raise FormatError(f"{name}: a runbook file must be a YAML list of entries.")
        for number, entry in enumerate(entries, 1):
            ok = (
                isinstance(entry, dict)
                and all(isinstance(entry.get(k), str) for k in ("kind", "cause", "title"))
                and isinstance(entry.get("steps"), list)
                and all(isinstance(s, str) for s in entry["steps"])
            )
            if not ok:
                raise FormatError(
                    f"{name}: entry {number} must have text 'kind', 'cause', 'title' and a "
                    f"list of text 'steps'. Got {entry!r} instead."
                )
            books[entry["kind"], entry["cause"]] = Runbook(
                entry["kind"], entry["cause"], entry["title"], tuple(entry["steps"])
            )
    return books


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"<{key} unknown>"


def fill(runbook: Runbook, values: Mapping[str, Any]) -> list[str]:
    """The runbook's steps with ``{name}`` replaced by the incident's values.

    Unknown names are shown as ``<name unknown>``; floats are shown with 3 significant digits.

    Examples
    --------
    >>> book = Runbook("overload", "*", "t", ("Add a replica to {pool} ({calls} calls).",))
    >>> fill(book, {"pool": "l4-pool"})
    ['Add a replica to l4-pool (<calls unknown> calls).']
    """
    shown = _Values()
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, float):
            shown[key] = f"{value:.3g}"
        elif isinstance(value, dt.datetime):
            shown[key] = f"{value:%Y-%m-%d %H:%M} UTC"
        else:
            shown[key] = str(value)
    return [re.sub(r"\{(\w+)\}", lambda m: shown[m.group(1)], step) for step in runbook.steps]


# ---------------------------------------------------------------------------------- merge


@validate_params(signals=Frame(), gap=Duration())
def merge(signals: Any, *, gap: str | dt.timedelta = "1h") -> pl.DataFrame:
    """Merge overlapping symptom signals into incidents, one row per incident.

    Symptoms of the same ``kind`` and ``scope`` whose windows overlap or lie within ``gap``
    of each other form one incident: its window is the union, ``detected_at`` the earliest
    detection, ``severity`` "page" if any signal pages, ``strength`` the strongest. Cause
    signals (``role == "cause"``) do not form incidents; an SLO-burn incident that overlaps
    a version change of its pool becomes a ``model_release_regression`` spanning the release.

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame
        Columns of :data:`SIGNALS`.
    gap : str or timedelta
        Signals closer than this join one incident (a duration such as ``"30m"`` or
        ``"1h30m"``).

    Returns
    -------
    polars.DataFrame
        ``incident`` (id), ``kind``, ``scope``, ``pool``, ``severity``, ``start``, ``end``,
        ``detected_at``, ``strength``, ``signals`` (count), ``detectors`` (list).

    Examples
    --------
    >>> t = lambda h: dt.datetime(2026, 1, 1, h, tzinfo=dt.UTC)
    >>> rows = [
    ...     dict(role="symptom", kind="overload", scope="p", pool="p", start=t(1), end=t(2)),
    ...     dict(role="symptom", kind="overload", scope="p", pool="p", start=t(2), end=t(4)),
    ...     dict(role="symptom", kind="overload", scope="p", pool="p", start=t(9), end=t(10)),
    ... ]
    >>> frame = pl.DataFrame(rows).with_columns(detected_at=pl.col("start"), strength=1.0)
    >>> merge(frame)["end"].dt.hour().to_list()
    [4, 10]
    """
    frame = _signal_frame(signals)
    width = _delta(gap)
    symptoms = frame.filter(pl.col("role") == "symptom").sort("start")
    markers = frame.filter((pl.col("role") == "cause") & (pl.col("kind") == "deploy"))
    # An SLO burn that starts inside a release of its pool is that release's regression.
    if markers.height and symptoms.height:
        releases = []
        for row in symptoms.iter_rows(named=True):
            hit = markers.filter(
                pl.col("pool").eq_missing(row["pool"])
                & (pl.col("start") <= row["start"])
                & (pl.col("end").fill_null(row["start"]) >= row["start"])
            )
            releases.append(
                (hit["start"][0], hit["end"][0])
                if row["kind"] == "slo_burn" and hit.height
                else (None, None)
            )
        symptoms = symptoms.with_columns(
            pl.Series("_rs", [r[0] for r in releases], dtype=_TIME),
            pl.Series("_re", [r[1] for r in releases], dtype=_TIME),
        ).with_columns(
            kind=pl.when(pl.col("_rs").is_not_null())
            .then(pl.lit("model_release_regression"))
            .otherwise("kind"),
            start=pl.min_horizontal("start", "_rs"),
            end=pl.max_horizontal("end", "_re"),
        )
        symptoms = symptoms.drop("_rs", "_re").sort("start")
    if symptoms.height == 0:
        return pl.DataFrame(schema=_INCIDENT_SCHEMA)
    ends = symptoms.with_columns(pl.col("end").fill_null(pl.col("start")))
    out = []
    for (kind, scope), same in ends.group_by(["kind", "scope"], maintain_order=True):
        ordered = same.sort("start")
        reach = ordered["end"].cum_max().shift(1)
        new = (reach.is_null()) | (ordered["start"] > reach + width)
        numbered = ordered.with_columns(pl.Series("_n", new.cum_sum()))
        for _, part in numbered.group_by("_n", maintain_order=True):
            out.append(
                {
                    "kind": kind,
                    "scope": scope,
                    "pool": part["pool"].drop_nulls().first(),
                    "severity": "page" if (part["severity"] == "page").any() else "ticket",
                    "start": part["start"].min(),
                    "end": part["end"].max(),
                    "detected_at": part["detected_at"].min(),
                    "strength": part["strength"].max(),
                    "signals": part.height,
                    "detectors": sorted(set(part["detector"].drop_nulls().to_list())),
                }
            )
    merged = pl.DataFrame(
        out, schema={k: v for k, v in _INCIDENT_SCHEMA.items() if k != "incident"}
    )
    merged = merged.sort("start", "kind").with_row_index("n", offset=1)
    return merged.select(
        pl.format("{}-{}", pl.col("kind"), pl.col("n")).alias("incident"), pl.exclude("n")
    )


_INCIDENT_SCHEMA: dict[str, Any] = {
    "incident": pl.String(),
    "kind": pl.String(),
    "scope": pl.String(),
    "pool": pl.String(),
    "severity": pl.String(),
    "start": _TIME,
    "end": _TIME,
    "detected_at": _TIME,
    "strength": pl.Float64(),
    "signals": pl.UInt32(),
    "detectors": pl.List(pl.String()),
}


def _delta(value: object) -> dt.timedelta:
    """A duration of the toolkit's one grammar as a timedelta (whole microseconds)."""
    return dt.timedelta(microseconds=duration_ns(value, parameter="gap") // 1000)


def _signal_frame(signals: pl.DataFrame) -> pl.DataFrame:
    need = ("role", "kind", "scope", "start")
    missing = [c for c in need if c not in signals.columns]
    if missing:
        raise reject(
            "signals",
            f"have the columns {', '.join(need)}",
            got=f"a frame without {', '.join(missing)}",
        )
    full = signals.with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in SIGNALS.items() if c not in signals.columns]
    )
    typed: pl.DataFrame = full.select([pl.col(c).cast(t) for c, t in SIGNALS.items()])
    return typed


# ---------------------------------------------------------------------------------- detectors


@validate_params(calls=Frame(), pool=[str, None])
def deploy_markers(calls: Any, *, pool: str | None = None) -> pl.DataFrame:
    """Version changes over time: when a new model or service version took traffic.

    For each pool (or service) and version column (``response_model``,
    ``resource.service.version``), a version first seen after another already served is a
    deploy; its window runs from its first to its last call (a rollback ends it early).

    Returns
    -------
    polars.DataFrame
        Signals (:data:`SIGNALS`) of kind ``deploy`` and role ``cause``.

    Examples
    --------
    >>> t = lambda h: dt.datetime(2026, 1, 1, h, tzinfo=dt.UTC)
    >>> calls = pl.DataFrame({"start_time": [t(h) for h in range(12)],
    ...                       "response_model": ["m1"] * 6 + ["m2"] * 6,
    ...                       "service_name": "gw"})
    >>> deploy_markers(calls).select("value", "previous").row(0)
    ('m2', 'm1')
    """
    frame: pl.DataFrame = calls
    scope = pool if pool in frame.columns else None
    keys = [scope] if scope else []
    service = next(
        (c for c in ("resource.service.name", "service_name") if c in frame.columns), None
    )
    if service:
        keys.append(service)
    rows: list[dict[str, Any]] = []
    for column in ("response_model", "resource.service.version"):
        if column not in frame.columns or not keys or column in keys:
            continue
        seen = (
            frame.filter(pl.col(column).is_not_null())
            .group_by([*keys, column])
            .agg(
                pl.col("start_time").min().alias("first"),
                pl.col("start_time").max().alias("last"),
                pl.len().alias("calls"),
            )
            .sort("first")
        )
        for key, group in seen.group_by(keys, maintain_order=True):
            versions = group.filter(pl.col("calls") >= 5).sort("first").rows(named=True)
            for before, after in itertools.pairwise(versions):
                if after["first"] <= versions[0]["first"] + dt.timedelta(hours=1):
                    continue
                where = str(key[0]) if key[0] is not None else str(key[-1])
                rows.append(
                    {
                        "detector": "versions",
                        "role": "cause",
                        "kind": "deploy",
                        "scope": where,
                        "pool": str(key[0]) if scope and key[0] is not None else where,
                        "severity": None,
                        "start": after["first"],
                        "end": after["last"],
                        "detected_at": after["first"],
                        "strength": 1.0,
                        "cause": "version_change",
                        "subject": column,
                        "value": str(after[column]),
                        "previous": str(before[column]),
                        "evidence": f"{column} {after[column]} replaced {before[column]} on "
                        f"{where} from {after['first']:%a %d %H:%M} UTC"
                        f" to {after['last']:%a %d %H:%M} UTC ({after['calls']:,} calls)",
                    }
                )
    return _signals(rows)


def _release_signals(calls: Any, pool_col: str | None, markers: pl.DataFrame) -> pl.DataFrame:
    """Releases that made their calls slower than the version they replaced, like for like.

    For each deploy marker, the new version's successful calls on its pool are compared with
    the previous version's on the same pool, per bin of prompt size (cut at the previous
    version's ``input_tokens`` quantiles :data:`RELEASE_BINS`: a release that took longer
    prompts is not slower for that) and per latency SLI (``ttft_s``, ``latency_s``). A bin
    with at least :data:`MIN_RELEASE_CALLS` calls of each version is slower when its median
    grew by :data:`RELEASE_SLOWDOWN` or more and the one-sided Mann-Whitney U test gives
    p < :data:`RELEASE_ALPHA` after Bonferroni over every bin and SLI tested. It is detected
    when the new version's calls in that bin reached :data:`MIN_RELEASE_CALLS`.
    """
    from scipy import stats

    if calls is None or markers.height == 0:
        return _signals([])
    frame: pl.DataFrame = calls
    slis = [
        c for c in ("ttft_s", "latency_s") if c in frame.columns and frame.schema[c].is_numeric()
    ]
    if not slis:
        return _signals([])
    if "is_error" in frame.columns and frame.schema["is_error"] == pl.Boolean:
        frame = frame.filter(~pl.col("is_error").fill_null(False))
    service = next(
        (c for c in ("resource.service.name", "service_name") if c in frame.columns), None
    )
    rows = []
    for m in markers.iter_rows(named=True):
        column = str(m["subject"])
        if column not in frame.columns:
            continue
        if pool_col is not None and (frame[pool_col] == m["pool"]).any():
            here = frame.filter(pl.col(pool_col) == m["pool"])
        elif service is not None:
            here = frame.filter(pl.col(service) == m["scope"])
        else:
            here = frame
        new = here.filter(pl.col(column).cast(pl.String) == m["value"])
        old = here.filter(pl.col(column).cast(pl.String) == m["previous"])
        if new.height < MIN_RELEASE_CALLS or old.height < MIN_RELEASE_CALLS:
            continue
        if "input_tokens" in here.columns and old["input_tokens"].drop_nulls().len():
            cuts = sorted(
                {float(old["input_tokens"].quantile(q, "nearest") or 0.0) for q in RELEASE_BINS}
            )
            # bins [lo, hi) of the previous version's prompt sizes
            edges = [-math.inf, *cuts, math.inf]
            bins = []
            for lo, hi in itertools.pairwise(edges):
                size = pl.col("input_tokens").cast(pl.Float64)
                inside = (size >= lo) & (size < hi)
                label = (
                    f"{lo:,.0f} or more"
                    if hi == math.inf
                    else f"under {hi:,.0f}"
                    if lo == -math.inf
                    else f"{lo:,.0f} to {hi:,.0f}"
                )
                bins.append((label, new.filter(inside), old.filter(inside)))
        else:
            bins = [("all", new, old)]
        tests = []
        for sli in slis:
            for label, a, b in bins:
                x, y = a[sli].drop_nulls().drop_nans(), b[sli].drop_nulls().drop_nans()
                if x.len() < MIN_RELEASE_CALLS or y.len() < MIN_RELEASE_CALLS:
                    continue
                before, after = float(np.median(y.to_numpy())), float(np.median(x.to_numpy()))
                p = float(
                    stats.mannwhitneyu(x.to_numpy(), y.to_numpy(), alternative="greater").pvalue
                )
                tests.append((sli, label, before, after, p, a))
        slower = [
            t
            for t in tests
            if t[4] * len(tests) < RELEASE_ALPHA and t[3] >= RELEASE_SLOWDOWN * max(t[2], 1e-9)
        ]
        if not slower:
            continue
        sli, label, before, after, p, worst = max(slower, key=lambda t: t[3] / max(t[2], 1e-9))
        seen = worst.sort("start_time")["start_time"]
        detected = seen[MIN_RELEASE_CALLS - 1]
        prompts = "every prompt size" if label == "all" else f"prompts of {label} tokens"
        rows.append(
            {
                "detector": "releases",
                "role": "symptom",
                "kind": "model_release_regression",
                "scope": str(m["pool"]),
                "pool": m["pool"],
                "severity": "ticket",
                "start": m["start"],
                "end": m["end"],
                "detected_at": max(detected, m["start"]),
                "strength": after / max(before, 1e-9),
                "cause": "version_change",
                "subject": column,
                "value": m["value"],
                "previous": m["previous"],
                "evidence": f"{sli} of {prompts} on {m['pool']}: median {after:.3g} s with "
                f"{m['value']} against {before:.3g} s with {m['previous']} "
                f"({after / max(before, 1e-9):.1f}x; Mann-Whitney p = "
                f"{min(p * len(tests), 1.0):.1g} over {len(tests)} comparisons)",
            }
        )
    return _signals(rows)


def _slo_signals(
    calls: Any, metrics: Any, slo_file: str | Path | None
) -> tuple[pl.DataFrame, pl.DataFrame, list[str], dict[str | None, Any]]:
    """Burn-rate pages per SLI and pool, the alert table, notes, and each pool's objectives.

    Declared objectives (``slo_file``) hold every pool to them. Without, each pool is held
    to its own ordinary level (:func:`toolkit.slo.baseline_objectives`): the review finds
    what changed, not a slow pool's every hour.
    """
    from toolkit import slo

    mpool = slo.pool_column(metrics, prefix="label.") if metrics is not None else None
    cpool = slo.pool_column(calls) if calls is not None else None
    pools: list[Any] = []
    for frame, column in ((calls, cpool), (metrics, mpool)):
        if frame is not None and column is not None:
            pools += [p for p in frame[column].drop_nulls().unique().sort() if p not in pools]
    declared = slo.service_objectives(slo_file=slo_file) if slo_file is not None else None
    parts, notes = [], []
    held: dict[str | None, Any] = {}
    for pool in pools or [None]:
        pool_calls = calls
        if calls is not None and pool is not None:
            pool_calls = calls.filter(pl.col(cpool) == pool) if cpool is not None else None
        pool_metrics = metrics
        if metrics is not None and pool is not None:
            pool_metrics = metrics.filter(pl.col(mpool) == pool) if mpool is not None else None
        if pool_calls is not None and pool_calls.height == 0:
            pool_calls = None
        if pool_metrics is not None and pool_metrics.height == 0:
            pool_metrics = None
        if pool_calls is None and pool_metrics is None:
            continue
        objectives = declared or slo.baseline_objectives(calls=pool_calls, metrics=pool_metrics)
        if not objectives.slos:
            continue
        held[None if pool is None else str(pool)] = objectives
        notes += [f"{pool or 'all'}: {n}" for n in objectives.notes]
        events = slo.metric_events(pool_metrics, objectives) if pool_metrics is not None else {}
        if not events and pool_calls is not None:
            events = slo.trace_events(pool_calls, objectives)
        fired = slo.alert_table(objectives, events, merge_gap="30m")
        parts.append(fired.with_columns(pool=pl.lit(None if pool is None else str(pool))))
    fired = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()
    if fired.height == 0:
        return _signals([]), fired, notes, held
    # a burn rate over a window that the data do not fill yet (the export's first hours)
    # rests on a few minutes of events: no page
    first = None
    for frame, column in ((calls, "start_time"), (metrics, "time")):
        if frame is not None and column in frame.columns and frame.height:
            t0 = frame[column].min()
            first = t0 if first is None else min(first, t0)
    if first is not None:
        filled = [
            start >= first + _delta(window)
            for start, window in fired.select("start", "long_window").iter_rows()
        ]
        fired = fired.filter(pl.Series(filled, dtype=pl.Boolean))
    rows = [
        {
            "detector": "slo",
            "role": "symptom",
            "kind": "slo_burn",
            "scope": str(r["pool"]),
            "pool": r["pool"],
            "severity": "page",
            "start": r["start"],
            "end": r["end"],
            "detected_at": r["start"],
            "strength": r["burn_rate"],
            "cause": None,
            "subject": r["slo"],
            "value": r["long_window"],
            "previous": None,
            "evidence": f"{r['slo']} on {r['pool']}: burn rate {r['burn_rate']:.1f}x over "
            f"{r['long_window']}, {r['budget_consumed']:.0%} of the budget",
        }
        for r in fired.filter(pl.col("severity") == "page").iter_rows(named=True)
    ]
    return _signals(rows), fired, notes, held


def _capacity_signals(metrics: Any, pool: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    from toolkit import capacity

    if metrics is None or pool is None:
        return _signals([]), pl.DataFrame()
    load = capacity.pool_load(metrics, every="15m", by=pool)
    periods = capacity.saturation_periods(load, min_duration="1h", max_gap="30m")
    rows = [
        {
            "detector": "capacity",
            "role": "symptom",
            "kind": "capacity_saturation",
            "scope": str(r["pool"]),
            "pool": r["pool"],
            "severity": "ticket",
            "start": r["start"],
            "end": r["end"],
            "detected_at": r["start"] + dt.timedelta(hours=1),
            "strength": r["waiting_max"],
            "cause": "peak_demand",
            "subject": "vllm:num_requests_waiting",
            "value": f"{r['waiting_max']:.0f}",
            "previous": r["cause"],
            "evidence": f"{r['pool']} saturated {_fmt_window(r['start'], r['end'])}: up to "
            f"{r['waiting_max']:.0f} requests waiting, KV cache up to {r['kv_usage_max']:.0%}",
        }
        for r in periods.iter_rows(named=True)
    ]
    return _signals(rows), load


def _pressure_signals(load: pl.DataFrame, calls: Any, cpool: str | None) -> pl.DataFrame:
    """KV-cache pressure, queue growth and prompt-token surges far above a pool's own level.

    From :func:`toolkit.capacity.pool_load` (15-minute windows per pool): a window is under
    pressure when its mean KV-cache use or queue length is at least :data:`PRESSURE_FACTOR`
    times the pool's 90th percentile window and above an absolute floor
    (:data:`PRESSURE_FLOOR` of the cache, one waiting request), or when its prompt tokens
    per second are :data:`SURGE_FACTOR` times the median of the same time of day on the
    other days (a surge the diurnal cycle does not explain) while its KV cache or queue is
    above twice its usual level. Two windows in a row or more make a signal. A slice of the
    pool's calls whose share grew by :data:`SURGE_LIFT` or more in it makes an overload by
    that slice (a tenant, a route); pressure without one is capacity saturation by peak
    demand, and a token surge without one is left out (more of the same traffic).
    """
    if load.height == 0 or "pool" not in load.columns:
        return _signals([])
    measures = [
        ("kv_usage", "KV cache", PRESSURE_FLOOR, "usual"),
        ("waiting", "requests waiting", 1.0, "usual"),
        ("prompt_tokens_per_s", "prompt tokens/s", 0.0, "same time of day"),
    ]
    rows = []
    frame = load.filter(pl.col("pool").is_not_null()).sort("pool", "time")
    slot = pl.col("time").dt.hour() * 4 + pl.col("time").dt.minute() // 15
    for (pool,), part in frame.group_by(["pool"], maintain_order=True):
        for column, what, floor, against in measures:
            if column not in part.columns or part[column].drop_nulls().len() == 0:
                continue
            level = part.select("time", pl.col(column).alias("level"), slot.alias("slot"))
            if against == "usual":
                usual = float(level["level"].quantile(0.9, "linear") or 0.0)
                bar = pl.lit(max(PRESSURE_FACTOR * usual, floor))
                level = level.with_columns(usual=pl.lit(usual))
            else:
                if level["time"].dt.date().n_unique() < 3:
                    continue  # too few days to know a time of day's usual level
                # the median of the same slot on the other days (leave-one-day-out)
                others = level.join(level, on="slot", suffix="_other").filter(
                    pl.col("time") != pl.col("time_other")
                )
                typical = others.group_by("time").agg(pl.col("level_other").median().alias("usual"))
                level = level.join(typical, on="time", how="left")
                bar = pl.max_horizontal(SURGE_FACTOR * pl.col("usual"), pl.lit(1e-9))
            hot = level.sort("time").with_columns(on=(pl.col("level") >= bar).fill_null(False))
            changed = (pl.col("on") != pl.col("on").shift(1)).fill_null(True)
            runs = (
                hot.with_columns(run=changed.cum_sum())
                .filter(pl.col("on"))
                .group_by("run")
                .agg(
                    pl.col("time").min().alias("start"),
                    (pl.col("time").max() + dt.timedelta(minutes=15)).alias("end"),
                    pl.col("level").max().alias("peak"),
                    pl.col("usual").median().alias("usual"),
                    pl.len().alias("n"),
                )
                .filter(pl.col("n") >= 2)
                .sort("start")
            )
            for r in runs.iter_rows(named=True):
                window = {"pool": pool, "start": r["start"], "end": r["end"]}
                shift = _tenant_shift(calls, cpool, window) if calls is not None else None
                surge = shift is not None and shift["lift"] >= SURGE_LIFT
                if against != "usual" and not (surge and _loaded(part, r["start"], r["end"])):
                    # more of the same traffic, or a new market's morning the pool absorbs
                    # without effort: no overload
                    continue
                shown, usual_shown = (
                    (f"{r['peak']:.0%}", f"{r['usual']:.1%}")
                    if column == "kv_usage"
                    else (f"{r['peak']:,.1f}", f"{r['usual']:,.1f}")
                )
                rows.append(
                    {
                        "detector": "pressure",
                        "role": "symptom",
                        "kind": "overload" if surge else "capacity_saturation",
                        "scope": str(pool),
                        "pool": str(pool),
                        "severity": "ticket",
                        "start": r["start"],
                        "end": r["end"],
                        "detected_at": r["start"] + dt.timedelta(minutes=30),
                        "strength": r["peak"] / max(r["usual"] or 0.0, 1e-9),
                        "cause": "tenant_surge" if surge else "peak_demand",
                        "subject": str(shift["dimension"]).removeprefix("attributes.")
                        if surge and shift
                        else column,
                        "value": str(shift["value"]) if surge and shift else shown,
                        "previous": f"{shift['share_before']:.0%}->{shift['share_after']:.0%}"
                        if surge and shift
                        else usual_shown,
                        "evidence": f"{what} on {pool} up to {shown} (15-minute mean) "
                        f"{_fmt_window(r['start'], r['end'])}, against {usual_shown} "
                        f"({against})"
                        + (
                            f"; {str(shift['dimension']).removeprefix('attributes.')} = "
                            f"{shift['value']} grew from {shift['share_before']:.0%} to "
                            f"{shift['share_after']:.0%} of its calls"
                            if surge and shift
                            else ""
                        ),
                    }
                )
    return _signals(rows)


def _loaded(part: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether a pool's KV cache (or queue) was above twice its usual level in [start, end)."""
    inside = part.filter(pl.col("time").is_between(start, end, closed="left"))
    for column in ("kv_usage", "waiting"):
        if column not in part.columns or inside[column].drop_nulls().len() == 0:
            continue
        usual = float(part[column].quantile(0.9, "linear") or 0.0)
        mean = inside.select(pl.col(column).cast(pl.Float64).mean()).item()
        if float(mean or 0.0) >= max(2.0 * usual, 1e-9):
            return True
    return False


def _rejection_signals(calls: Any, pool: str | None) -> pl.DataFrame:
    """Bursts of rejected calls (HTTP 429/503, KV cache or queue full) per pool."""
    if pool is None or "error_type" not in calls.columns:
        return _signals([])
    rejected = pl.col("error_type").cast(pl.String).is_in(["503", "429", "overloaded"])
    per = (
        calls.filter(pl.col(pool).is_not_null())
        .sort("start_time")
        .group_by_dynamic("start_time", every="15m", group_by=pool)
        .agg(pl.len().alias("n"), rejected.sum().alias("rejected"))
        .with_columns(share=pl.col("rejected") / pl.col("n"))
    )
    hot = per.filter((pl.col("rejected") >= 5) & (pl.col("share") >= 0.05))
    rows = [
        {
            "detector": "errors",
            "role": "symptom",
            "kind": "overload",
            "scope": str(r[pool]),
            "pool": r[pool],
            "severity": "page",
            "start": r["start_time"],
            "end": r["start_time"] + dt.timedelta(minutes=15),
            "detected_at": r["start_time"] + dt.timedelta(minutes=15),
            "strength": r["share"],
            "cause": "tenant_surge",
            "subject": "error_type",
            "value": f"{r['rejected']}",
            "previous": None,
            "evidence": f"{r['rejected']} of {r['n']} calls rejected on {r[pool]} "
            f"({r['share']:.0%}) at {r['start_time']:%a %d %H:%M} UTC",
        }
        for r in hot.iter_rows(named=True)
    ]
    return _signals(rows)


#: Columns that say where a call ran or which release served it, not what was asked.
_INFRASTRUCTURE = re.compile(
    r"(replica|server\.(address|port)|deployment\.(pool|environment)|service\.(name|version|"
    r"instance\.id|namespace)|host\.|k8s\.|container\.|process\.|cloud\.)"
)


def _day_types(start: dt.datetime, end: dt.datetime) -> set[str]:
    """Which day types (weekday, weekend; UTC) the span [start, end) holds."""
    days = max((end - start).days, 1)
    return {
        "weekend" if (start + dt.timedelta(days=k)).weekday() >= 5 else "weekday"
        for k in range(min(days, 7))
    }


#: Error types of rejected calls (the overload detector's); every other type is an error.
_REJECTED = ("503", "429", "overloaded")


def _error_signals(calls: Any, pool: str | None) -> pl.DataFrame:
    """Bursts of failed calls by error type (timeouts, 5xx ...) per pool.

    Per pool (the whole service without one), error type and 15-minute window: a window of
    at least 5 errors of the type, 3x the type's rate over the period and binomially
    unlikely under it (p < :data:`ERROR_ALPHA` after Bonferroni over the windows) is a
    burst. Rejections (:data:`_REJECTED`) are the overload detector's.
    """
    from scipy import stats

    if "error_type" not in calls.columns or "is_error" not in calls.columns:
        return _signals([])
    keys = [pool] if pool is not None else []
    frame = calls.filter(pl.col(pool).is_not_null()) if pool is not None else calls
    failed = frame.filter(
        pl.col("is_error").fill_null(False)
        & pl.col("error_type").is_not_null()
        & ~pl.col("error_type").cast(pl.String).is_in(list(_REJECTED))
    ).with_columns(pl.col("error_type").cast(pl.String))
    if failed.height == 0:
        return _signals([])
    totals = (
        frame.sort("start_time")
        .group_by_dynamic("start_time", every="15m", group_by=keys or None)
        .agg(pl.len().alias("n"))
    )
    counts = (
        failed.sort("start_time")
        .group_by_dynamic("start_time", every="15m", group_by=[*keys, "error_type"])
        .agg(pl.len().alias("errors"))
    )
    # the type's rate over the period: its errors over the pool's (or service's) calls
    per = counts.join(totals, on=[*keys, "start_time"], how="left").join(
        failed.group_by([*keys, "error_type"]).agg(pl.len().alias("all_errors")),
        on=[*keys, "error_type"],
        how="left",
    )
    per = (
        per.join(frame.group_by(keys).agg(pl.len().alias("all_calls")), on=keys, how="left")
        if keys
        else per.with_columns(all_calls=pl.lit(frame.height))
    ).with_columns(rate=pl.col("all_errors") / pl.col("all_calls"))
    tested = max(totals.height, 1)
    rows = []
    for r in per.filter(pl.col("errors") >= 5).iter_rows(named=True):
        n, k, rate = int(r["n"] or 0), int(r["errors"]), float(r["rate"])
        if not n or k / n < 3 * rate:
            continue
        p = float(stats.binom.sf(k - 1, n, rate)) * tested
        if p >= ERROR_ALPHA:
            continue
        where = str(r[pool]) if pool is not None else "service"
        rows.append(
            {
                "detector": "errors",
                "role": "symptom",
                "kind": "error_burst",
                "scope": where,
                "pool": r[pool] if pool is not None else None,
                "severity": "page",
                "start": r["start_time"],
                "end": r["start_time"] + dt.timedelta(minutes=15),
                "detected_at": r["start_time"] + dt.timedelta(minutes=15),
                "strength": k / n / max(rate, 1e-9),
                "cause": "errors",
                "subject": "error_type",
                "value": r["error_type"],
                "previous": f"{rate:.2%}",
                "evidence": f"{k} of {n} calls on {where} failed with {r['error_type']} at "
                f"{r['start_time']:%a %d %H:%M} UTC ({k / n:.0%} against {rate:.2%} over the "
                f"period; binomial p = {min(p, 1.0):.1g} over {tested} windows)",
            }
        )
    return _signals(rows)


def _drift_signals(
    calls: Any, bursts: pl.DataFrame | None = None, pool_col: str | None = None
) -> pl.DataFrame:
    """Persistent moves of the prompt mix; the calls of overload ``bursts`` left out.

    A tenant's burst moves the day's mix (its long prompts, its route) and is the overload's
    symptom, not a drift: the windows of the overload signals found (``pool``, ``start``,
    ``end``) are removed from the calls (of that pool, by ``pool_col``) before they are
    compared.
    """
    from toolkit import drift

    if bursts is not None and bursts.height and "start_time" in calls.columns:
        during = pl.lit(False)
        for b in bursts.iter_rows(named=True):
            inside = pl.col("start_time").is_between(b["start"], b["end"], closed="left")
            if pool_col is not None and b["pool"] is not None:
                inside = inside & (pl.col(pool_col) == b["pool"])
            during = during | inside
        calls = calls.filter(~during.fill_null(False))
    plan = drift.plan(calls)
    if not plan.support or plan.reference is None:
        return _signals([])
    # the prompt mix: who asks what; where a call ran and which release served it are the
    # deploy markers' and the capacity detectors' business
    columns = [c for c in plan.columns if not _INFRASTRUCTURE.search(c)]
    if not columns:
        return _signals([])
    windows = drift.windowed(calls, reference=plan.reference, every=plan.every, columns=columns)
    # like with like: a weekend's mix is not a drift from weekdays' (a reference of weekdays
    # only judges weekdays)
    seen = _day_types(*plan.reference)
    windows = windows.filter(
        pl.when(pl.col("window_start").dt.weekday() >= 6)
        .then(pl.lit("weekend"))
        .otherwise(pl.lit("weekday"))
        .is_in(sorted(seen))
    )
    found = drift.detections(windows, after=plan.reference[1]).filter(
        pl.col("detected_at").is_not_null()
    )
    if found.height == 0:
        return _signals([])
    before = calls.filter(pl.col("start_time").is_between(*plan.reference, closed="left"))
    after = calls.filter(pl.col("start_time") >= plan.reference[1])
    overall = drift.compare(before, after, columns, correction="fdr_bh")
    top = drift.most_drifted(overall)
    end = calls["start_time"].max()
    rows = []
    for r in found.iter_rows(named=True):
        share = None
        if (
            top is not None
            and r["column"] == top
            and calls.schema[top] in (pl.String(), pl.Categorical())
        ):
            shares = drift.share_shift(before, after, top)
            share = shares.row(0, named=True)
        rows.append(
            {
                "detector": "drift",
                "role": "symptom",
                "kind": "data_drift",
                "scope": "llm_calls",
                "pool": None,
                "severity": "ticket",
                "start": r["detected_at"],
                "end": end,
                "detected_at": r["detected_at"] + _delta(plan.every),
                "strength": r["max_statistic"] * (2.0 if r["column"] == top else 1.0),
                "cause": "share_shift",
                "subject": r["column"].removeprefix("attributes."),
                "value": share["value"] if share else None,
                "previous": f"{share['reference']:.1%}->{share['current']:.1%}" if share else None,
                "evidence": f"{r['column']} drifted ({r['test']} {r['max_statistic']:.3f}) "
                f"from {r['detected_at']:%a %d %H:%M} UTC"
                + (
                    f"; {share['value']} {share['reference']:.1%} -> {share['current']:.1%}"
                    if share
                    else ""
                ),
            }
        )
    return _signals(rows)


def _quality_signals(spans: Any, calls: Any) -> pl.DataFrame:
    from toolkit import drift, quality
    from toolkit.ingest.discover import dimensions

    signals = quality.signals(spans)
    if not quality.supports(signals)["windows"]:
        return _signals([])
    every = drift.plan(calls).series_every
    found = quality.bad_answers(signals, every=every)
    rows = []
    rag = signals.filter(pl.col("retrieval") != "none")
    dims = [d for d in dimensions(calls) if d in rag.columns]
    tested = max(found.series.height, 1)
    total = float(found.series[found.weight_column].sum() or 0.0)
    for r in found.windows.iter_rows(named=True):
        if total and r["weight"] > 0.5 * total:
            # most of the period's answers: that is the usual level, the rest was the dip
            continue
        p_value = _window_p_value(r, signals, found)
        # a window of a quiet, low-traffic hour reaches a few times the usual rate by chance:
        # only one the usual rate makes unlikely after correcting for every window looked at
        # (Bonferroni) is an incident
        if p_value is None or p_value * tested >= QUALITY_ALPHA:
            continue
        subject = value = None
        route = next((d for d in dims if d.endswith("route")), None)
        inside = rag.filter(pl.col("start_time").is_between(r["start"], r["end"], closed="left"))
        if route is not None and inside.height:
            # the retrieval route whose answers went bad (its index is the suspect)
            subject = route.removeprefix("attributes.")
            value = str(inside[route].drop_nulls().mode().sort().first())
        rows.append(
            {
                "detector": "quality",
                "role": "symptom",
                "kind": "quality_regression",
                "scope": "answers",
                "pool": None,
                # a page when many answers went bad at several times the usual level; a few
                # (a quiet, low-traffic window) make a ticket
                "severity": "page"
                if r["bad"] >= MIN_BAD_ANSWERS and r["level"] >= 3 * r["level_outside"]
                else "ticket",
                "start": r["start"],
                "end": r["end"],
                "detected_at": r["start"] + _delta(every),
                "strength": r["excess"],
                "cause": "ungrounded_answers",
                "subject": subject,
                "value": value,
                "previous": None,
                "evidence": f"{found.measure}: {r['level']:.0%} of answers in "
                f"{_fmt_window(r['start'], r['end'])} against {r['level_outside']:.0%} outside"
                f" (p = {min(p_value * tested, 1.0):.1g} over {tested} windows)"
                + (f"; worst slice {subject} = {value}" if subject else ""),
            }
        )
    return _signals(rows)


def _window_p_value(window: Mapping[str, Any], signals: pl.DataFrame, found: Any) -> float | None:
    """How likely a bad-answer window is under the level outside it (one-sided).

    A count of bad answers (hallucination risk) gets the binomial tail of ``bad`` among
    ``weight`` assessed answers at the outside rate; a mean evaluation score gets Welch's
    t-test of the scores inside against those outside.
    """
    from scipy import stats

    if window["level_outside"] is None:
        return None
    if window["bad"] is not None:
        n, bad = round(window["weight"]), int(window["bad"])
        # the null: the whole period's rate, windows included (the rate outside the windows
        # is biased low: the windows were chosen as the worst stretches)
        total = float(found.series[found.weight_column].sum() or 1.0)
        count = "at_risk" if "at_risk" in found.series.columns else None
        overall = float(found.series[count].sum()) / total if count else 0.0
        rate = max(float(window["level_outside"]), overall, 1.0 / total)
        if n and bad / n < QUALITY_RATIO * rate:
            return 1.0
        return float(stats.binom.sf(bad - 1, n, min(rate, 1.0))) if n and bad else 1.0
    column = found.measure
    inside = pl.col("start_time").is_between(window["start"], window["end"], closed="left")
    scored = signals.drop_nulls(column)
    a = scored.filter(inside)[column].cast(pl.Float64).to_numpy()
    b = scored.filter(~inside)[column].cast(pl.Float64).to_numpy()
    if len(a) < 2 or len(b) < 2:
        return None
    side = "less" if found.worse == "lower" else "greater"
    return float(stats.ttest_ind(a, b, equal_var=False, alternative=side).pvalue)


#: Columns that say what was asked (the strata of a disparity), not who asked.
_ASKED = re.compile(r"(category|route|intent|topic|task)")


def _within_strata(
    answered: pl.DataFrame, dimension: str, group: str, reference: str, strata: Sequence[str]
) -> tuple[float, float]:
    """The Mantel-Haenszel risk ratio of refusal, ``group`` against ``reference``, within
    the strata, and the one-sided Cochran-Mantel-Haenszel p-value (continuity-corrected).

    Per stratum k with a_k of n1_k calls of the group refused and c_k of n0_k of the
    reference, n_k = n1_k + n0_k: RR = sum(a n0 / n) / sum(c n1 / n); the statistic is
    (sum(a - E a) - 1/2) / sqrt(sum Var a), with E a = n1 m1 / n and
    Var a = n1 n0 m1 m0 / (n^2 (n - 1)), m1 the refusals and m0 the others.
    """
    from scipy import stats

    value = pl.col(dimension).cast(pl.String)
    cells = (
        answered.filter(value.is_in([group, reference]))
        .group_by([pl.col(c).cast(pl.String).fill_null("") for c in strata])
        .agg(
            (value == group).sum().alias("n1"),
            (value == reference).sum().alias("n0"),
            (pl.col("refused") & (value == group)).sum().alias("a"),
            (pl.col("refused") & (value == reference)).sum().alias("c"),
        )
        .with_columns(pl.col("n1", "n0", "a", "c").cast(pl.Float64))
        .with_columns(n=pl.col("n1") + pl.col("n0"), m1=pl.col("a") + pl.col("c"))
        .filter((pl.col("n1") > 0) & (pl.col("n0") > 0) & (pl.col("n") > 1))
    )
    if cells.height == 0:
        return 1.0, 1.0
    sums = cells.select(
        (pl.col("a") * pl.col("n0") / pl.col("n")).sum().alias("top"),
        (pl.col("c") * pl.col("n1") / pl.col("n")).sum().alias("bottom"),
        (pl.col("a") - pl.col("n1") * pl.col("m1") / pl.col("n")).sum().alias("excess"),
        (
            pl.col("n1")
            * pl.col("n0")
            * pl.col("m1")
            * (pl.col("n") - pl.col("m1"))
            / (pl.col("n") ** 2 * (pl.col("n") - 1))
        )
        .sum()
        .alias("var"),
    ).row(0, named=True)
    ratio = sums["top"] / sums["bottom"] if sums["bottom"] else math.inf
    if not sums["var"]:
        return ratio, 1.0
    z = (sums["excess"] - 0.5) / math.sqrt(sums["var"])
    return ratio, float(stats.norm.sf(z))


def _first_known(
    answered: pl.DataFrame, dimension: str, group: str, reference: str, *, tests: int
) -> dt.datetime | None:
    """The first day's end by which the calls so far showed the group's disparity.

    Day by day (UTC), the refusals of ``group`` and of ``reference`` up to then: the first
    day at which the group was refused at least 1.25 times as often (the four-fifths band
    on the unfavourable outcome) and Fisher's exact test gives p < :data:`BIAS_ALPHA` after
    Bonferroni over the ``tests`` groups audited. None if the whole period is needed.
    """
    from scipy import stats

    both = answered.filter(pl.col(dimension).cast(pl.String).is_in([group, reference]))
    if both.height == 0:
        return None
    days = both.select(pl.col("start_time").dt.truncate("1d").unique().sort())["start_time"]
    for day in days:
        until: dt.datetime = day + dt.timedelta(days=1)
        so_far = both.filter(pl.col("start_time") < until)
        counts = {
            value: (int(part["refused"].sum()), part.height)
            for (value,), part in so_far.group_by(pl.col(dimension).cast(pl.String))
        }
        (a, n_a), (b, n_b) = counts.get(group, (0, 0)), counts.get(reference, (0, 0))
        if not n_a or not n_b or not b or a / n_a < 1.25 * b / n_b:
            continue
        p = stats.fisher_exact([[a, n_a - a], [b, n_b - b]], alternative="greater").pvalue
        if float(p) * max(tests, 1) < BIAS_ALPHA:
            last: dt.datetime = both["start_time"].max()  # type: ignore[assignment]
            return min(until, last)
    return None


def _bias_signals(calls: Any) -> pl.DataFrame:
    from toolkit import fairness
    from toolkit.ingest.discover import dimensions

    outcomes = fairness.call_outcomes(calls)
    users, _ = fairness.group_dimensions(calls)
    if not users or not outcomes.support("refused", min_rows=30):
        return _signals([])
    audit = fairness.audit_dimensions(
        outcomes.answered, "refused", users, favorable=False, n_boot=200, seed=0
    )
    start, end = calls["start_time"].min(), calls["start_time"].max()
    rows = []
    for dimension, groups in audit.disadvantaged.items():
        table = audit.audits[dimension].groups
        for group in groups:
            g = table.filter(pl.col("group") == group).row(0, named=True)
            if g["p_value_holm"] is None or g["p_value_holm"] >= BIAS_ALPHA:
                # the audit's 5 % family-wise level flags one quiet week in twenty; an
                # incident needs stronger evidence
                continue
            strata = [
                d
                for d in dimensions(calls)
                if d != dimension and _ASKED.search(d) and d in outcomes.answered.columns
            ]
            if strata:
                # a group that asks other things (another route, riskier categories) is
                # refused more for what it asks: the disparity must hold within each kind
                # of request (Cochran-Mantel-Haenszel over the strata)
                ratio, p_within = _within_strata(
                    outcomes.answered,
                    dimension,
                    str(group),
                    str(audit.references[dimension]),
                    strata,
                )
                if ratio < 1.25 or p_within * table.height >= BIAS_ALPHA:
                    continue
            known = _first_known(
                outcomes.answered,
                dimension,
                str(group),
                str(audit.references[dimension]),
                tests=table.height,
            )
            rows.append(
                {
                    "detector": "fairness",
                    "role": "symptom",
                    "kind": "bias",
                    "scope": f"{dimension}={group}",
                    "pool": None,
                    "severity": "ticket",
                    "start": start,
                    "end": end,
                    "detected_at": known or end,
                    "strength": g["unfavorable_ratio"],
                    "cause": "group_disparity",
                    "subject": dimension.removeprefix("attributes."),
                    "value": str(group),
                    "previous": audit.references[dimension],
                    "evidence": f"{group} refused {g['unfavorable_ratio']:.1f}x as often as "
                    f"{audit.references[dimension]} (disparate impact "
                    f"{g['disparate_impact']:.2f}, Holm p {g['p_value_holm']:.1e})",
                }
            )
    return _signals(rows)


def _compliance_signals(catalog: Any) -> pl.DataFrame:
    from toolkit import compliance, drift

    answers = compliance.answers(catalog)
    ruleset = compliance.load_rules(compliance.HEALTHCARE_RULES)
    if not compliance.support(answers, ruleset):
        return _signals([])
    checked = answers.filter(pl.col("answer").is_not_null())
    every = drift.window_width(checked["time"].min(), checked["time"].max())
    with warnings.catch_warnings():
        # a rule that matched no answer is notebook 10's finding (silent_rules), not an incident
        warnings.simplefilter("ignore", compliance.SilentRuleWarning)
        found = compliance.regression(checked, ruleset, every=every)
        rows = (
            compliance.evaluate(checked, ruleset).filter(pl.col("applicable"))
            if found.start is not None
            else None
        )
    if found.start is None or rows is None:
        return _signals([])
    # keep the regression when the answers after break the rules significantly more often
    # (Fisher's exact test): split at the release the change followed (a split fixed by the
    # deploy, not by the data), else at the change point, the best split of the series, which
    # with a few answers a day finds one by chance (Bonferroni over the windows it could
    # have chosen)
    from scipy import stats

    split = found.release_time or found.start

    per_answer = rows.group_by("answer_id").agg(
        pl.col("time").first(), (~pl.col("passed").fill_null(True)).any().alias("broke")
    )
    after = per_answer.filter(pl.col("time") >= split)
    before = per_answer.filter(pl.col("time") < split)
    table = [
        [int(after["broke"].sum()), after.height - int(after["broke"].sum())],
        [int(before["broke"].sum()), before.height - int(before["broke"].sum())],
    ]
    windows = (
        1
        if found.release_time is not None
        else max(int((checked["time"].max() - checked["time"].min()) / _delta(every)), 1)
    )
    p_value = float(stats.fisher_exact(table, alternative="greater").pvalue) * windows
    if not before.height or p_value >= COMPLIANCE_ALPHA:
        return _signals([])
    start = found.release_time or found.start
    return _signals(
        [
            {
                "detector": "compliance",
                "role": "symptom",
                "kind": "guideline_compliance_regression",
                "scope": "answers.compliance",
                "pool": None,
                "severity": "page",
                "start": start,
                "end": checked["time"].max(),
                "detected_at": found.start + _delta(every),
                "strength": (found.rate_after or 0.0) - (found.rate_before or 0.0),
                "cause": "release" if found.release_value else "rules",
                "subject": found.release_column,
                "value": found.release_value,
                "previous": ", ".join(found.rules),
                "evidence": f"answers breaking {', '.join(found.rules)}: "
                f"{found.rate_before or 0:.1%} -> {found.rate_after or 0:.1%} from "
                f"{found.start:%a %d %H:%M} UTC (Fisher p = {min(p_value, 1.0):.1g}"
                + (f" over {windows} windows)" if windows > 1 else ")")
                + (
                    f"; {found.release_value} first seen {start:%a %d %H:%M} UTC"
                    if found.release_value
                    else ""
                ),
            }
        ]
    )


def _performance_signals(log: Any) -> pl.DataFrame:
    from toolkit import performance

    monitor = performance.plan(log)
    if not monitor.metrics_support:
        return _signals([])
    estimated = performance.estimate(
        monitor.frame,
        "score",
        label="label",
        every=monitor.every,
        threshold=monitor.threshold,
        reference=monitor.reference,
    )
    falls = performance.degradations(estimated, metric="precision_est")
    # a change point is the best split of a noisy series: keep a fall larger than three
    # standard errors of the difference of the two levels (CBPE's band is +-3 sigma a window)
    sigma = (
        (pl.col("precision_est_upper") - pl.col("precision_est_lower")) / 6.0
        if {"precision_est_upper", "precision_est_lower"} <= set(estimated.columns)
        else None
    )
    drifted: pl.DataFrame | None = None
    if falls.height and monitor.features and monitor.drift_support and monitor.reference:
        # the model's inputs moving with the fall is the other half of the evidence: CBPE
        # reads the fall from the scores, and a covariate shift is what moves them
        drifted = performance.drift(
            monitor.frame,
            columns=list(monitor.features),
            reference=monitor.reference,
            every=monitor.every,
        ).filter(pl.col("drifted"))
    if sigma is not None and falls.height:
        keep = []
        per = estimated.select("window_start", sigma.alias("sigma")).drop_nulls()
        for r in falls.iter_rows(named=True):
            inside = pl.col("window_start") >= r["start"]
            if r["end"] is not None:
                inside = inside & (pl.col("window_start") < r["end"])
            after = per.filter(inside)["sigma"]
            before = per.filter(pl.col("window_start") < r["start"])["sigma"]
            if not after.len() or not before.len():
                keep.append(False)
                continue
            se = math.sqrt(
                float((after**2).mean() or 0.0) / after.len()
                + float((before**2).mean() or 0.0) / before.len()
            )
            moved = drifted is not None and drifted.filter(pl.col("window_start") >= r["start"])[
                "window_start"
            ].n_unique() >= max(1, (r["windows_after"] + 1) // 2)
            # three standard errors alone, or one with the inputs drifted over the fall
            keep.append(abs(r["shift"]) > (1.0 if moved else 3.0) * se)
        falls = falls.filter(pl.Series(keep, dtype=pl.Boolean)) if keep else falls.clear()
    end = log["time"].max()
    version = None
    if "model_version" in log.columns:
        version = log.sort("time")["model_version"].drop_nulls().last()
    rows = [
        {
            "detector": "performance",
            "role": "symptom",
            "kind": "prediction_quality_regression",
            "scope": "predictions",
            "pool": None,
            "severity": "ticket",
            "start": r["start"],
            "end": r["end"] or end,
            "detected_at": r["start"] + _delta(monitor.every),
            "strength": -r["shift"],
            "cause": "model_degradation",
            "subject": "model_version",
            "value": version,
            "previous": f"{r['before']:.0%}->{r['after']:.0%}",
            "evidence": f"{r['metric']} fell {r['before']:.0%} -> {r['after']:.0%} from "
            f"{r['start']:%a %d %H:%M} UTC (CBPE where labels are missing)",
        }
        for r in falls.iter_rows(named=True)
    ]
    return _signals(rows)


# ---------------------------------------------------------------------------------- causes


def _tenant_shift(
    calls: pl.DataFrame, pool_col: str | None, incident: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The slice (tier, route, locale) whose share of the pool's calls grew most in the window."""
    from toolkit.ingest.discover import dimensions

    if pool_col is None:
        return None
    on_pool = calls.filter(pl.col(pool_col) == incident["pool"])
    inside = pl.col("start_time").is_between(incident["start"], incident["end"])
    candidates = [
        d for d in dimensions(calls) if d != pool_col and "replica" not in d and "server" not in d
    ]
    tenants = [d for d in candidates if re.search(r"tenant|tier|org|customer|api_key", d)]
    best = _largest_lift(on_pool, inside, tenants)
    if best is None or best["lift"] < SURGE_LIFT:
        # no tenant's share moved (one tier serves the whole pool): the route or locale
        # that did
        others = _largest_lift(on_pool, inside, [d for d in candidates if d not in tenants])
        if others is not None and (best is None or others["lift"] > best["lift"]):
            best = others
    return best


def _largest_lift(
    on_pool: pl.DataFrame, inside: pl.Expr, dimensions: Sequence[str]
) -> dict[str, Any] | None:
    best: dict[str, Any] | None = None
    for dimension in dimensions:
        share = (
            on_pool.group_by(dimension)
            .agg(inside.mean().alias("_"), inside.sum().alias("in"), (~inside).sum().alias("out"))
            .with_columns(
                share_after=pl.col("in") / pl.col("in").sum(),
                share_before=pl.col("out") / pl.col("out").sum(),
            )
            .with_columns(lift=pl.col("share_after") - pl.col("share_before"))
            .sort("lift", descending=True)
        )
        if share.height == 0:
            continue
        row = share.row(0, named=True)
        if best is None or row["lift"] > best["lift"]:
            best = {**row, "dimension": dimension, "value": row[dimension]}
    return best


# ------------------------------------------------------------------ evidence per incident

#: Incidents whose traces are compared with their pool's ordinary traces (the grown span)
#: and whose calls' explanation is compared with the period's (the explanation's change).
_TRACED = ("slo_burn", "model_release_regression", "capacity_saturation", "overload", "error_burst")
#: An operation's self time per trace must grow this many times ...
SPAN_GROWTH = 1.25
#: ... at this significance (one-sided Mann-Whitney, Bonferroni over the operations) ...
SPAN_ALPHA = 0.001
#: ... with at least this many traces in the window (and twice as many outside).
MIN_TRACES = 10
#: A feature whose mean SHAP value moves less than this (log-odds) explains nothing ...
MIN_SHAP_SHIFT = 0.1
#: ... and a window of fewer calls is not explained (its mean SHAP values are noise).
MIN_EXPLAINED = 20
#: Calls whose SHAP values the surrogate's global importance is computed on (the window
#: comparison explains the calls of the window and of its baseline, 50,000 at most each).
EXPLAIN_ROWS = 5_000


def _busy(incidents: pl.DataFrame, pool: str | None) -> pl.Expr:
    """Calls (by ``start_time``) inside any traced incident of ``pool``."""
    inside = pl.lit(False)
    own = incidents.filter(pl.col("kind").is_in(_TRACED) & pl.col("pool").eq_missing(pool))
    for start, end in own.select("start", "end").iter_rows():
        inside = inside | ((pl.col("start_time") >= start) & (pl.col("start_time") < end))
    return inside


def _span_growth(
    spans: pl.DataFrame,
    calls: pl.DataFrame,
    pool_col: str | None,
    incident: Mapping[str, Any],
    incidents: pl.DataFrame,
) -> dict[str, Any] | None:
    """The operation whose self time grew most in the incident's traces: a cause signal.

    The traces of the incident's pool that started in its window against that pool's
    traces outside every latency or error incident (:func:`toolkit.traces.bottlenecks` by
    component: queueing, prefill and decode apart); kept when the growth is significant
    (``SPAN_ALPHA``) and at least ``SPAN_GROWTH`` times the usual self time.
    """
    from toolkit import traces

    pool = incident["pool"]
    own = calls.filter(pl.col("trace_id").is_not_null())
    if pool is not None and pool_col is not None:
        own = own.filter(pl.col(pool_col) == pool)
    own = own.select("trace_id", "start_time").unique("trace_id")
    inside = own.filter(
        (pl.col("start_time") >= incident["start"]) & (pl.col("start_time") < incident["end"])
    )["trace_id"]
    outside = own.filter(~_busy(incidents, pool))["trace_id"]
    if inside.len() < MIN_TRACES or outside.len() < 2 * MIN_TRACES:
        return None
    sub = spans.filter(pl.col("trace_id").is_in(pl.concat([inside, outside]).implode()))
    ranked = traces.bottlenecks(
        sub, inside, baseline=outside, by="component", confidence=1 - SPAN_ALPHA
    )
    grown = ranked.filter(
        pl.col("significant")
        & (pl.col("delta_ms") > 0)
        & (pl.col("slow_mean_ms") >= SPAN_GROWTH * pl.col("baseline_mean_ms"))
    )
    if grown.height == 0:
        return None
    g = grown.row(0, named=True)
    where = f" of {pool}" if pool is not None else ""
    return {
        "detector": "traces",
        "role": "cause",
        "kind": "bottleneck_shift",
        "scope": incident["scope"],
        "pool": pool,
        "severity": None,
        "start": incident["start"],
        "end": incident["end"],
        "detected_at": None,
        "strength": float(g["delta_ms"]) / 1000,
        "cause": "span_growth",
        "subject": str(g["component"]),
        "value": f"{g['slow_mean_ms']:,.0f} ms",
        "previous": f"{g['baseline_mean_ms']:,.0f} ms",
        "evidence": f"{g['component']} grew: {g['baseline_mean_ms']:,.0f} ms of self time per "
        f"trace outside incidents, {g['slow_mean_ms']:,.0f} ms in the window "
        f"(+{g['delta_ms']:,.0f} ms, {g['share_of_delta']:.0%} of the traces' growth; "
        f"{g['slow_traces']} traces against {g['baseline_traces']}{where}; one-sided "
        f"Mann-Whitney p = {g['p_adjusted']:.1g}, Bonferroni)",
    }


def _outcome(
    incident: Mapping[str, Any],
    members: pl.DataFrame,
    objectives: Any,
    calls: pl.DataFrame,
    pool_col: str | None,
) -> tuple[str, pl.Expr] | None:
    """What went bad in an incident, as an outcome of its pool's calls to explain.

    Failed calls for an overload or error burst, or when availability paged (when the
    window's traced calls include failed ones); otherwise the latency objective that paged
    (else TTFT, else end-to-end latency) of the pool's objectives: a call on its wrong side.
    """
    from toolkit import explain

    paged = set(members.filter(pl.col("kind") == "slo_burn")["subject"].drop_nulls())
    if incident["kind"] in ("overload", "error_burst") or paged == {"availability"}:
        window = calls.filter(
            (pl.col("start_time") >= incident["start"]) & (pl.col("start_time") < incident["end"])
        )
        if incident["pool"] is not None and pool_col is not None:
            window = window.filter(pl.col(pool_col) == incident["pool"])
        if "is_error" in calls.columns and window["is_error"].any():
            return "failed call", pl.col("is_error")
        # rejected calls that left no trace: what the traced ones suffered is their latency
    slos = dict(objectives.slos) if objectives is not None else {}
    chosen = [o for o in slos.values() if o.name in paged and o.threshold is not None]
    chosen += [slos[s] for s in ("ttft_s", "latency_s") if s in slos]
    for o in chosen:
        if o.sli in calls.columns and o.threshold is not None:
            name = f"{o.sli} {explain._OPPOSITE[o.op]} {o.threshold:g}"
            breach = explain.breach_objective(calls, o.sli, threshold=o.threshold, op=o.op)
            return name, breach.target
    return None


class _Explainer:
    """One surrogate per pool and outcome, fitted on the period's calls when first asked."""

    def __init__(self, calls: pl.DataFrame, pool_col: str | None) -> None:
        self.calls, self.pool_col = calls, pool_col
        self.fitted: dict[tuple[str | None, str], Any] = {}
        self.failures: list[str] = []

    def get(self, pool: str | None, name: str, target: pl.Expr) -> Any:
        from toolkit import explain

        key = (pool, name)
        if key not in self.fitted:
            frame = self.calls
            if pool is not None and self.pool_col is not None:
                frame = frame.filter(pl.col(self.pool_col) == pool)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", explain.LowFidelityWarning)
                    self.fitted[key] = explain.explain(
                        frame, target, explain_rows=EXPLAIN_ROWS, progress=False
                    )
            except ToolkitError as error:
                self.failures.append(f"{pool or 'all'}, {name}: {error}")
                self.fitted[key] = None
        return self.fitted[key]


def _explanation_shift(
    explainer: _Explainer,
    incident: Mapping[str, Any],
    members: pl.DataFrame,
    objectives: Any,
) -> dict[str, Any] | None:
    """The feature whose SHAP contribution to the bad outcome moved most in the window.

    A LightGBM surrogate of the incident's outcome (:func:`_outcome`) over its pool's calls
    of the whole period, explained with TreeSHAP (:func:`toolkit.explain.explain`); the
    window's mean SHAP values against the rest of the period's
    (:meth:`toolkit.explain.Explanation.compare`). The feature that moved most towards the
    bad outcome (at least ``MIN_SHAP_SHIFT`` log-odds) is the cause signal; a surrogate
    below its fidelity floor says so and ranks low.
    """
    from toolkit.errors import ParameterError

    outcome = _outcome(incident, members, objectives, explainer.calls, explainer.pool_col)
    if outcome is None:
        return None
    name, target = outcome
    result = explainer.get(incident["pool"], name, target)
    if result is None:
        return None
    try:
        compared = result.compare((incident["start"], incident["end"]))
    except ParameterError:  # no explained call in the window, or none outside
        return None
    if compared.incident_rows < MIN_EXPLAINED:
        return None
    moved = compared.frame.filter(pl.col("difference") >= MIN_SHAP_SHIFT)
    if moved.height == 0:
        return None
    top = moved.row(0, named=True)
    rest = "; ".join(
        f"{m['feature']} {m['difference']:+.2f}" for m in moved.slice(1, 2).iter_rows(named=True)
    )
    fidelity = (
        f"{result.fidelity_metric} {result.fidelity:.2f}"
        if result.fidelity is not None
        else f"{result.fidelity_metric} unknown"
    )
    weak = " (below its floor: read with care)" if result.low_fidelity else ""
    where = f" on {incident['pool']}" if incident["pool"] is not None else ""
    return {
        "detector": "explanations",
        "role": "cause",
        "kind": "explanation_shift",
        "scope": incident["scope"],
        "pool": incident["pool"],
        "severity": None,
        "start": incident["start"],
        "end": incident["end"],
        "detected_at": None,
        "strength": float(top["difference"]),
        "cause": "explanation_shift",
        "subject": str(top["feature"]),
        "value": str(top["incident_value"]),
        "previous": str(top["baseline_value"]),
        "evidence": f"the explanation of {name}{where} moved most on {top['feature']}: "
        f"{top['baseline_value']} outside the window, {top['incident_value']} in it, "
        f"{top['difference']:+.2f} log-odds of a {name} (mean SHAP "
        f"{top['baseline_mean_shap']:+.2f} -> {top['incident_mean_shap']:+.2f}"
        + (f"; then {rest}" if rest else "")
        + f"; {compared.incident_rows:,} calls against {compared.baseline_rows:,}, surrogate "
        f"{fidelity}{weak})",
    }


def _bare(name: str) -> str:
    """A column name without its OTLP prefix (``attributes.user.locale``: ``user.locale``)."""
    for prefix in ("attributes.", "resource.", "label."):
        name = name.removeprefix(prefix)
    return name


def _incident_evidence(
    incident: Mapping[str, Any],
    members: pl.DataFrame,
    incidents: pl.DataFrame,
    spans: pl.DataFrame | None,
    calls: pl.DataFrame | None,
    pool_col: str | None,
    explainer: _Explainer | None,
    objectives: Mapping[str | None, Any],
    tally: dict[str, dict[str, Any]],
) -> list[tuple[Mapping[str, Any], float]]:
    """The grown span and the explanation's change of a latency or error incident.

    Each found is a cause signal with its score for the ranking: the grown span 0.5, the
    explanation's change 0.45 (0.2 from a surrogate below its fidelity floor), below the
    causes the detectors name. ``tally`` counts them per detector and keeps the error a
    detector met.
    """
    out: list[tuple[Mapping[str, Any], float]] = []
    if incident["kind"] not in _TRACED or calls is None:
        return out
    for name in ("traces", "explanations"):
        if not tally[name]["ran"]:
            continue
        try:
            if name == "traces":
                assert spans is not None
                got = _span_growth(spans, calls, pool_col, incident, incidents)
                score = 0.5
            else:
                assert explainer is not None
                got = _explanation_shift(
                    explainer, incident, members, objectives.get(incident["pool"])
                )
                score = 0.2 if got is not None and "read with care" in got["evidence"] else 0.45
        except ToolkitError as error:
            tally[name]["note"] = str(error)
            continue
        if got is not None:
            out.append((got, score))
            tally[name]["signals"] += 1
    return out


def _rank_causes(
    incident: Mapping[str, Any],
    members: pl.DataFrame,
    markers: pl.DataFrame,
    calls: pl.DataFrame | None,
    pool_col: str | None,
    extra: Sequence[tuple[Mapping[str, Any], float]] = (),
) -> list[dict[str, Any]]:
    """The incident's probable causes, most likely first, with ``rank`` and ``score``.

    A version change of the pool in the window, the causes its own signals name, the
    slice whose share grew for an overload, then ``extra`` (cause signals found for this
    incident with their scores: the grown span, the explanation's change). When the
    explanation moved most on the column the top cause names, its evidence says so.
    """
    causes: list[dict[str, Any]] = []
    kind = incident["kind"]
    near = markers.filter(
        (
            pl.col("pool").eq_missing(incident["pool"])
            | pl.col("pool").is_null()
            | pl.lit(incident["pool"] is None)
        )
        & (pl.col("start") <= incident["end"])
        & (pl.col("end") >= incident["start"])
    )
    own = members.filter(pl.col("cause").is_not_null()).sort("strength", descending=True)
    for m in near.iter_rows(named=True):
        # the comparison of the release's calls with the previous version's, when it was made
        this_release = (pl.col("cause") == "version_change") & (pl.col("value") == m["value"])
        compared = own.filter(this_release)
        causes.append(
            {
                "cause": "version_change",
                "score": 0.9 if kind == "model_release_regression" else 0.3,
                "subject": m["subject"],
                "value": m["value"],
                "previous": m["previous"],
                "evidence": m["evidence"]
                + (f"; {compared['evidence'][0]}" if compared.height else ""),
            }
        )
        own = own.filter(~this_release)
    for rank, m in enumerate(
        own.unique("cause", keep="first", maintain_order=True).iter_rows(named=True)
    ):
        causes.append(
            {
                "cause": m["cause"],
                "score": 0.8 - 0.1 * rank,
                "subject": m["subject"],
                "value": m["value"],
                "previous": m["previous"],
                "evidence": m["evidence"],
            }
        )
    if kind == "overload" and calls is not None:
        shift = _tenant_shift(calls, pool_col, incident)
        if shift is not None:
            causes.append(
                {
                    "cause": "tenant_surge",
                    "score": 0.85,
                    "subject": str(shift["dimension"]).removeprefix("attributes."),
                    "value": str(shift["value"]),
                    "previous": f"{shift['share_before']:.0%}->{shift['share_after']:.0%}",
                    "evidence": f"{shift['dimension']} = {shift['value']}: "
                    f"{shift['share_before']:.0%} of {incident['pool']}'s calls before, "
                    f"{shift['share_after']:.0%} in the window",
                }
            )
            causes = [
                c
                for c in causes
                if not (c["cause"] == "tenant_surge" and c["subject"] == "error_type")
            ]
    for signal, score in extra:
        causes.append(
            {
                "cause": signal["cause"],
                "score": score,
                **{k: signal[k] for k in ("subject", "value", "previous", "evidence")},
                "_shift": signal["strength"],
            }
        )
    ranked, seen = [], set()
    for c in sorted(causes, key=lambda c: -c["score"]):
        # one slice named by two signals (the overload's shift, the pressure's) ranks once
        key = (c["cause"], _bare(str(c["subject"])), c["value"])
        if key not in seen:
            seen.add(key)
            ranked.append(c)
    shift = next((c for c in ranked if c["cause"] == "explanation_shift"), None)
    if shift is not None and ranked[0] is not shift:
        top = ranked[0]
        if _bare(str(top["subject"])) == _bare(str(shift["subject"])):
            ranked[0] = {
                **top,
                "evidence": f"{top['evidence']}; the SHAP explanation of the window moved most "
                f"on {shift['subject']} too ({shift['_shift']:+.2f} log-odds)",
            }
    return [
        {**{k: v for k, v in c.items() if k != "_shift"}, "rank": i}
        for i, c in enumerate(ranked, 1)
    ]


def _impact(
    incident: Mapping[str, Any],
    calls: pl.DataFrame | None,
    pool_col: str | None,
    fired: pl.DataFrame,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "calls_affected": None,
        "calls_failed": None,
        "tenants_affected": None,
        "tokens_lost": None,
        "budget_burned": None,
        "budget_burned_max": None,
    }
    if calls is not None:
        window = calls.filter(pl.col("start_time").is_between(incident["start"], incident["end"]))
        if incident["pool"] is not None and pool_col is not None:
            window = window.filter(pl.col(pool_col) == incident["pool"])
        failed = (
            window.filter(pl.col("is_error")) if "is_error" in window.columns else window.clear()
        )
        tier = next((c for c in window.columns if c.endswith("user.tier")), None)
        out["calls_affected"] = window.height
        out["calls_failed"] = failed.height
        out["tenants_affected"] = window[tier].n_unique() if tier else None
        tokens = [c for c in ("input_tokens", "output_tokens") if c in failed.columns]
        out["tokens_lost"] = (
            int(failed.select(pl.sum_horizontal(tokens).sum()).item() or 0) if tokens else None
        )
    if fired.height and incident["pool"] is not None:
        hit = fired.filter(
            (pl.col("pool") == incident["pool"])
            & (pl.col("start") <= incident["end"])
            & (pl.col("end") >= incident["start"])
        )
        if hit.height:
            burned = hit.group_by("slo").agg(pl.col("budget_consumed").max()).sort("slo")
            out["budget_burned"] = ", ".join(
                f"{s} {b:.0%}" for s, b in burned.select("slo", "budget_consumed").rows()
            )
            out["budget_burned_max"] = burned["budget_consumed"].cast(pl.Float64).max()
    return out


# ---------------------------------------------------------------------------------- review


@dataclass(frozen=True)
class Review:
    """What went wrong over a period: incidents, their signals, causes and runbooks.

    Attributes
    ----------
    incidents : polars.DataFrame
        One row per incident: ``incident``, ``kind``, ``severity``, ``start``, ``end``,
        ``detected_at`` (UTC), ``pool``, ``cause`` (the top cause's evidence), ``cause_key``,
        ``runbook`` (the filled steps, one per line), impact (``budget_burned``,
        ``budget_burned_max``, ``calls_affected``, ``calls_failed``, ``tenants_affected``,
        ``tokens_lost``), ``strength``, ``signals`` and ``detectors``.
    signals : polars.DataFrame
        Every detector's raw signal (:data:`SIGNALS`), with ``incident`` where it joined one.
    causes : polars.DataFrame
        Ranked probable causes per incident: ``incident``, ``rank``, ``cause``, ``subject``,
        ``value``, ``previous``, ``score``, ``evidence``.
    detectors : polars.DataFrame
        Which detectors ran (``detector``, ``ran``, ``signals``, ``note``: what a detector
        that did not run lacked, or the error the data gave it).
    start, end : datetime
        The period reviewed.
    objectives : tuple of str
        How each pool's objectives were set (one sentence per threshold).
    """

    incidents: pl.DataFrame
    signals: pl.DataFrame
    causes: pl.DataFrame
    detectors: pl.DataFrame
    start: dt.datetime | None
    end: dt.datetime | None
    objectives: tuple[str, ...] = ()

    @validate_params(incident=str)
    def runbook(self, incident: str) -> list[str]:
        """The filled runbook steps of one incident (by its ``incident`` id)."""
        rows = self.incidents.filter(pl.col("incident") == incident)
        if rows.height == 0:
            raise reject("incident", f"be one of {', '.join(self.incidents['incident'])}", incident)
        return str(rows["runbook"][0]).splitlines()


@validate_params(
    start=[UTCTime(), None], end=[UTCTime(), None], gap=Duration(), on_error=OneOf("skip", "raise")
)
def review(
    data: Any,
    *,
    start: Any = None,
    end: Any = None,
    runbooks: Sequence[str | Path] = (),
    slo_file: str | Path | None = None,
    gap: str | dt.timedelta = "1h",
    on_error: Literal["skip", "raise"] = "skip",
) -> Review:
    """Review a period: run every detector the data supports and merge them into incidents.

    Parameters
    ----------
    data : path or toolkit.Catalog
        A folder of exports (what :func:`toolkit.discover` reads) or its catalog.
    start, end : datetime or ISO-8601 text, optional
        The period (aware; None: the data's own).
    runbooks : sequence of path
        User runbook YAML files (:func:`load_runbooks`).
    slo_file : path, optional
        Declared objectives (OpenSLO v1 YAML, :func:`toolkit.slo.load_slos`) that page every
        pool. None: each pool is held to its own ordinary level
        (:func:`toolkit.slo.baseline_objectives`), so a pool that misses an objective all
        period long does not page; declare the objectives to page on that.
    gap : str or timedelta
        Signals of one kind closer than this merge (:func:`merge`).
    on_error : {"skip", "raise"}
        Passed to :func:`toolkit.discover` for a folder.

    Returns
    -------
    Review

    Examples
    --------
    >>> import toolkit
    >>> found = review(toolkit.lab.default_data_dir())  # doctest: +SKIP
    >>> found.incidents["kind"].head(2).to_list()  # doctest: +SKIP
    ['bias', 'capacity_saturation']
    """
    from toolkit import slo
    from toolkit.ingest.discover import discover

    books = load_runbooks(runbooks)
    catalog = data if hasattr(data, "tables") and hasattr(data, "has") else None
    if catalog is None:
        if not isinstance(data, str | Path) or not Path(data).is_dir():
            raise reject(
                "data",
                "be a folder or a toolkit.Catalog",
                data,
                got=repr(data) if isinstance(data, str | Path) else None,
            )
        catalog = discover(data, start=start, end=end, on_error=on_error)
    calls = catalog.table("llm_calls") if catalog.has("llm_calls") else None
    metrics = catalog.table("metrics") if catalog.has("metrics") else None
    spans = catalog.table("spans") if catalog.has("spans") else None
    log = catalog.table("predictions") if catalog.has("predictions") else None
    if calls is not None:
        lo = utc_time(start, parameter="start") if start is not None else None
        hi = utc_time(end, parameter="end") if end is not None else None
        if lo is not None:
            calls = calls.filter(pl.col("start_time") >= lo)
        if hi is not None:
            calls = calls.filter(pl.col("start_time") < hi)
    pool_col = slo.pool_column(calls) if calls is not None else None
    metrics_pool = slo.pool_column(metrics, prefix="label.") if metrics is not None else None

    parts: list[pl.DataFrame] = []
    ran: list[dict[str, Any]] = []
    fired = pl.DataFrame()
    objective_notes: list[str] = []
    held: dict[str | None, Any] = {}
    load = pl.DataFrame()

    def run(name: str, needs: bool, note: str, job: Any) -> Any:
        if not needs:
            ran.append({"detector": name, "ran": False, "signals": 0, "note": note})
            return None
        try:
            out = job()
        except ToolkitError as error:
            # a detector the data cannot feed (too few rows, no reference window ...) says
            # why in .detectors; the others still run
            ran.append({"detector": name, "ran": False, "signals": 0, "note": str(error)})
            return None
        frame = out[0] if isinstance(out, tuple) else out
        parts.append(frame)
        ran.append({"detector": name, "ran": True, "signals": frame.height, "note": ""})
        return out

    got = run(
        "slo",
        calls is not None or metrics is not None,
        "no calls or metrics",
        lambda: _slo_signals(calls, metrics, slo_file),
    )
    if got is not None:
        fired, objective_notes, held = got[1], got[2], got[3]
    got = run(
        "versions", calls is not None, "no llm_calls", lambda: deploy_markers(calls, pool=pool_col)
    )
    run(
        "releases",
        got is not None and got.height > 0,
        "no version change",
        lambda: _release_signals(calls, pool_col, got),
    )
    got = run(
        "capacity",
        metrics is not None and metrics_pool is not None,
        "no vLLM gauges",
        lambda: _capacity_signals(metrics, metrics_pool),
    )
    if got is not None:
        load = got[1]
    run(
        "pressure",
        load.height > 0,
        "no vLLM gauges",
        lambda: _pressure_signals(load, calls, pool_col),
    )
    run(
        "errors",
        calls is not None,
        "no llm_calls",
        lambda: pl.concat([_rejection_signals(calls, pool_col), _error_signals(calls, pool_col)]),
    )
    bursts = [p.filter(pl.col("kind") == "overload") for p in parts if p.height]
    run(
        "drift",
        calls is not None,
        "no llm_calls",
        lambda: _drift_signals(
            calls, pl.concat([_signal_frame(b) for b in bursts]) if bursts else None, pool_col
        ),
    )
    run(
        "quality",
        spans is not None and calls is not None,
        "no spans",
        lambda: _quality_signals(spans, calls),
    )
    run("fairness", calls is not None, "no llm_calls", lambda: _bias_signals(calls))
    run("compliance", calls is not None, "no answers", lambda: _compliance_signals(catalog))
    run("performance", log is not None, "no predictions table", lambda: _performance_signals(log))

    signals = (
        pl.concat([_signal_frame(p) for p in parts]) if parts else pl.DataFrame(schema=SIGNALS)
    )
    merged = merge(signals, gap=gap)
    # SLO pages explained by a saturation or overload of their pool join that incident.
    explained = merged.filter(pl.col("kind").is_in(["overload", "capacity_saturation"]))
    releases = merged.filter(pl.col("kind") == "model_release_regression")
    keep = []
    for row in merged.iter_rows(named=True):
        if row["kind"] == "error_burst":
            # errors of a saturated, overloaded or freshly released pool are that
            # incident's symptom (its evidence lists them)
            covered = pl.concat([explained, releases]).filter(
                pl.col("pool").eq_missing(row["pool"])
                & (pl.col("start") <= row["end"])
                & (pl.col("end") >= row["start"])
            )
            if covered.height:
                continue
        if row["kind"] == "slo_burn":
            covered = explained.filter(
                (pl.col("pool") == row["pool"])
                & (pl.col("start") <= row["end"])
                & (pl.col("end") >= row["start"])
            )
            if covered.height:
                continue
        keep.append(row["incident"])
    merged = merged.filter(pl.col("incident").is_in(keep))
    # Overload: saturation windows that rejected calls (the rejection burst's incident).
    overloads = merged.filter(pl.col("kind") == "overload")
    if overloads.height:
        drop = []
        for row in merged.filter(pl.col("kind") == "capacity_saturation").iter_rows(named=True):
            hit = overloads.filter(
                (pl.col("pool") == row["pool"])
                & (pl.col("start") <= row["end"])
                & (pl.col("end") >= row["start"])
            )
            if hit.height:
                drop.append(row["incident"])
        merged = merged.filter(~pl.col("incident").is_in(drop))

    # evidence per incident: the grown span of its traces, the change of its explanation
    explainer = _Explainer(calls, pool_col) if calls is not None else None
    traced = spans is not None and calls is not None and "trace_id" in calls.columns
    tally: dict[str, dict[str, Any]] = {
        "traces": {
            "detector": "traces",
            "ran": traced,
            "signals": 0,
            "note": "" if traced else "no spans joined to llm_calls",
        },
        "explanations": {
            "detector": "explanations",
            "ran": explainer is not None,
            "signals": 0,
            "note": "" if explainer is not None else "no llm_calls",
        },
    }
    found_rows: list[dict[str, Any]] = []

    signals = signals.with_row_index("_row")
    markers = signals.filter(pl.col("kind") == "deploy")
    symptoms = signals.filter(pl.col("role") == "symptom")
    incident_rows, cause_rows = [], []
    member_of: dict[int, str] = {}
    for row in merged.iter_rows(named=True):
        members = symptoms.filter(
            (pl.col("scope") == row["scope"])
            & (pl.col("start") <= row["end"])
            & (pl.col("end").fill_null(pl.col("start")) >= row["start"])
        )
        if row["kind"] == "model_release_regression":
            members = symptoms.filter(
                (pl.col("pool") == row["pool"])
                & pl.col("kind").is_in(["slo_burn", "model_release_regression"])
                & (pl.col("start") <= row["end"])
                & (pl.col("end") >= row["start"])
            )
        impact = _impact(row, calls, pool_col, fired)
        if row["kind"] == "slo_burn" and (impact["budget_burned_max"] or 0.0) < MIN_PAGE_BUDGET:
            continue
        for index in members["_row"]:
            member_of.setdefault(index, row["incident"])
        extra = _incident_evidence(
            row, members, merged, spans, calls, pool_col, explainer, held, tally
        )
        found_rows += [{**got, "incident": row["incident"]} for got, _ in extra]
        causes = _rank_causes(row, members, markers, calls, pool_col, extra)
        if causes and causes[0]["cause"] == "version_change":
            used = markers.filter(pl.col("value") == causes[0]["value"])["_row"]
            for index in used:
                member_of.setdefault(index, row["incident"])
        for c in causes:
            cause_rows.append({"incident": row["incident"], **c})
        top = causes[0] if causes else None
        values: dict[str, Any] = {
            **row,
            **impact,
            "window": _fmt_window(row["start"], row["end"]),
            "subject": top["subject"] if top else None,
            "value": top["value"] if top else None,
            "version": top["value"] if top else None,
            "previous": top["previous"] if top else None,
            "column": top["subject"] if top else None,
            "rules": top["previous"] if top else None,
        }
        if top and top["previous"] and "->" in str(top["previous"]):
            before, after = str(top["previous"]).split("->", 1)
            values.update(share_before=before, share_after=after, before=before, after=after)
        if row["kind"] == "guideline_compliance_regression":
            evidence = str(members["evidence"][0]) if members.height else ""
            rates = re.search(r"(\S+%) -> (\S+%)", evidence)
            if rates:
                values.update(before=rates.group(1), after=rates.group(2))
        if row["kind"] == "prediction_quality_regression":
            values["metric"] = "precision"
        if row["kind"] == "capacity_saturation" and row["pool"] is not None:
            values["replicas"] = _replicas_needed(
                load, calls, pool_col, pool=row["pool"], start=row["start"], end=row["end"]
            )
        book = books.get((row["kind"], top["cause"] if top else "*")) or books.get(
            (row["kind"], "*")
        )
        steps = fill(book, values) if book else []
        incident_rows.append(
            {
                **{
                    k: row[k]
                    for k in ("incident", "kind", "severity", "start", "end", "detected_at", "pool")
                },
                "cause": top["evidence"] if top else "",
                "cause_key": top["cause"] if top else None,
                "cause_value": top["value"] if top else None,
                "runbook": "\n".join(steps),
                **impact,
                "strength": row["strength"],
                "signals": members.height,
                "detectors": row["detectors"],
            }
        )
    incidents = (
        pl.DataFrame(incident_rows, infer_schema_length=None)
        if incident_rows
        else pl.DataFrame(
            schema={
                "incident": pl.String,
                "kind": pl.String,
                "severity": pl.String,
                "start": _TIME,
                "end": _TIME,
                "detected_at": _TIME,
                "pool": pl.String,
                "cause": pl.String,
                "cause_key": pl.String,
                "cause_value": pl.String,
                "runbook": pl.String,
                "calls_affected": pl.Int64,
                "calls_failed": pl.Int64,
                "tenants_affected": pl.Int64,
                "tokens_lost": pl.Int64,
                "budget_burned": pl.String,
                "budget_burned_max": pl.Float64,
                "strength": pl.Float64,
                "signals": pl.Int64,
                "detectors": pl.List(pl.String),
            }
        )
    )
    causes_frame = (
        pl.DataFrame(cause_rows, infer_schema_length=None)
        if cause_rows
        else pl.DataFrame(schema={"incident": pl.String, "rank": pl.Int64, "cause": pl.String})
    )
    signals = signals.with_columns(
        incident=pl.col("_row").replace_strict(member_of, default=None, return_dtype=pl.String)
    ).drop("_row")
    if found_rows:
        signals = pl.concat(
            [
                signals,
                _signals([{k: v for k, v in r.items() if k != "incident"} for r in found_rows])
                .pipe(_signal_frame)
                .with_columns(incident=pl.Series([r["incident"] for r in found_rows])),
            ]
        )
    if explainer is not None and explainer.failures:
        tally["explanations"]["note"] = "; ".join(explainer.failures)
    ran += list(tally.values())
    period = (
        (calls["start_time"].min(), calls["start_time"].max())
        if calls is not None
        else (None, None)
    )
    return Review(
        incidents=incidents,
        signals=signals,
        causes=causes_frame,
        detectors=pl.DataFrame(ran),
        start=utc_time(start, parameter="start") if start is not None else _utc(period[0]),
        end=utc_time(end, parameter="end") if end is not None else _utc(period[1]),
        objectives=tuple(objective_notes),
    )


def _replicas_needed(
    load: pl.DataFrame,
    calls: Any,
    pool_col: str | None,
    *,
    pool: str,
    start: dt.datetime,
    end: dt.datetime,
) -> str:
    """How many replicas would have served the incident's peak without a queue.

    The pool's replicas (distinct values of a ``replica`` column of its calls) times the
    peak 15-minute ratio of the sequences wanted (running plus waiting) to those served
    (running), rounded up: the queue spread over replicas like the ones it has. A rough
    bound for the hour, not a plan: notebook 06 sizes the fleet for the forecast demand.
    """
    fallback = "the planner's fleet size (notebook 06, toolkit.capacity.size_fleet)"
    if load.height == 0 or "pool" not in load.columns or calls is None or pool_col is None:
        return fallback
    window = load.filter(
        (pl.col("pool") == pool) & pl.col("time").is_between(start, end, closed="left")
    )
    column = next(
        (c for c in calls.columns if "replica" in c and calls.schema[c] == pl.String), None
    )
    if window.height == 0 or column is None:
        return fallback
    replicas = calls.filter(pl.col(pool_col) == pool)[column].drop_nulls().n_unique()
    ratio = (
        window.filter(pl.col("running") > 0)
        .select(((pl.col("running") + pl.col("waiting")) / pl.col("running")).max())
        .item()
    )
    if not replicas or ratio is None:
        return fallback
    needed = max(math.ceil(replicas * float(ratio)), replicas)
    return (
        f"{needed} replicas (now {replicas}; at the peak {float(ratio):.2f}x the sequences it "
        "ran were wanted; notebook 06 sizes it for the forecast)"
    )
