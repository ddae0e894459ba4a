"""Bias audits: is the service as good to every group of users?

Any binary outcome of the calls (served or refused, TTFT within the SLO, grounded answer,
routed to the fallback ...) is compared across the values of one or more group columns
(locale, tier, and their intersections), with the metrics of AIF360, the reference
implementation, computed natively with polars so that millions of calls take a second:

- :func:`group_metrics` — one row per group: size, favorable rate, disparate impact,
  statistical parity difference, the ratio of unfavorable rates and, when a ground-truth
  label is given, true/false positive rates, equal opportunity and average odds
  differences; bootstrap confidence intervals; small groups and the four-fifths rule
  flagged. :func:`audit` wraps it with the overall numbers (Theil index) in a
  :class:`BiasAudit` that renders in a notebook.
- :func:`aif360_group_metrics`, :func:`aif360_theil_index`, :func:`aif360_dataset` — the
  same numbers through AIF360 itself (the two paths agree to 1e-9; the tests check it on
  COMPAS, German credit and constructed cases), and AIF360 datasets built from our frames.
- :func:`mitigate` — where a model makes the decision (an escalation, moderation or
  routing classifier trained on the calls): AIF360's Reweighing before training and one
  post-processing method (reject option classification), with a before/after table of
  accuracy and fairness on held-out data.
- :func:`load_compas` — ProPublica's COMPAS file with AIF360's ``CompasDataset`` rows, the
  classic sanity anchor of a bias audit.

Terms. The *favorable* outcome is the one a user wants (served, fast, grounded). Each group
is compared with a *reference*: the ``privileged`` groups when given, otherwise every other
group ("each group against the rest"). Disparate impact is the ratio of favorable rates
(group / reference), statistical parity difference their difference; the four-fifths rule
flags a ratio outside 0.8-1.25. When the favorable outcome is nearly universal (99 % of
calls are not refused) the ratio of favorable rates stays near 1 even if one group is
refused seven times as often: ``unfavorable_ratio`` (ratio of unfavorable rates) shows it.
A group is ``flagged`` when either ratio is outside the fair band *and* a two-proportion
z-test (Holm-adjusted over the groups) says chance does not explain it, unless the group
is too small to judge; bootstrap intervals say how precisely each number is known.

Heavy packages (aif360, scikit-learn) are imported inside the functions that use them;
AIF360's import-time noise is silenced without changing the logging or warnings state.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit.errors import FormatError, ParameterError, location, preview
from toolkit.redact import redact
from toolkit.schema import check_backend as _check_backend
from toolkit.schema import to_pandas, to_polars

__all__ = [
    "BAND",
    "USER_PREFIXES",
    "BiasAudit",
    "CallOutcomes",
    "DimensionAudit",
    "Mitigation",
    "aif360_dataset",
    "aif360_group_metrics",
    "aif360_theil_index",
    "audit",
    "audit_compas",
    "audit_dimensions",
    "audit_intersections",
    "call_outcomes",
    "decision_data",
    "group_dimensions",
    "group_metrics",
    "load_compas",
    "mitigate",
    "theil_index",
    "within_strata",
]

Backend = Literal["polars", "pandas"]

#: The fair band of the four-fifths rule (EEOC's adverse impact, and its inverse).
BAND: tuple[float, float] = (0.8, 1.25)

#: Columns of :func:`group_metrics` that a group column may not be called.
_RESERVED = (
    "group",
    "privileged",
    "n",
    "n_favorable",
    "favorable_rate",
    "favorable_rate_low",
    "favorable_rate_high",
    "reference_rate",
    "disparate_impact",
    "disparate_impact_low",
    "disparate_impact_high",
    "statistical_parity_difference",
    "statistical_parity_difference_low",
    "statistical_parity_difference_high",
    "unfavorable_ratio",
    "unfavorable_ratio_low",
    "unfavorable_ratio_high",
    "true_positive_rate",
    "false_positive_rate",
    "equal_opportunity_difference",
    "equal_opportunity_difference_low",
    "equal_opportunity_difference_high",
    "average_odds_difference",
    "average_odds_difference_low",
    "average_odds_difference_high",
    "p_value",
    "p_value_holm",
    "small",
    "four_fifths_violation",
    "flagged",
    "disparity",
)
_WITH_CI = (
    "favorable_rate",
    "disparate_impact",
    "statistical_parity_difference",
    "unfavorable_ratio",
)
_LABEL_WITH_CI = ("equal_opportunity_difference", "average_odds_difference")


# --------------------------------------------------------------------------- parameters


def _column(data: pl.DataFrame, name: Any, parameter: str, function: str) -> str:
    if not isinstance(name, str) or name not in data.columns:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be a column of the frame "
            f"(available: {preview(', '.join(data.columns), 300)}). Got {preview(name)} instead."
        )
    return name


def _group_columns(data: pl.DataFrame, group: Any, function: str) -> list[str]:
    names = [group] if isinstance(group, str) else group
    if not isinstance(names, Sequence) or isinstance(names, str) or not names:
        raise ParameterError(
            f"The 'group' parameter of {function} must be a column name or a non-empty list "
            f"of column names. Got {preview(group)} instead."
        )
    out = [_column(data, name, "group", function) for name in names]
    if len(set(out)) != len(out):
        raise ParameterError(
            f"The 'group' parameter of {function} must name each column once. "
            f"Got {preview(group)} instead."
        )
    clash = [name for name in out if name in _RESERVED]
    if clash:
        raise ParameterError(
            f"The 'group' parameter of {function} must not name a column called like a result "
            f"column ({', '.join(clash)}): rename it first. Got {preview(group)} instead."
        )
    return out


def _values(data: pl.DataFrame, column: str, favorable: Any, function: str) -> pl.Series:
    """``favorable`` (a value or a collection of values) as a Series of the column's dtype."""
    items = (
        list(favorable) if isinstance(favorable, list | tuple | set | frozenset) else [favorable]
    )
    dtype = data.schema[column]
    if not items or any(v is None for v in items):
        raise ParameterError(
            f"The 'favorable' parameter of {function} must be a value of column {column!r} "
            f"or a non-empty list of values. Got {preview(favorable)} instead."
        )
    try:
        values = pl.Series("favorable", items, strict=False)
        cast = values.cast(dtype, strict=True)
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        cast = None
    if cast is None or cast.null_count() or (dtype == pl.Boolean and values.dtype != pl.Boolean):
        raise ParameterError(
            f"The 'favorable' parameter of {function} must hold values of the dtype of "
            f"column {column!r} ({dtype}). Got {preview(favorable)} instead."
        )
    return cast


def _no_nulls(data: pl.DataFrame, column: str, parameter: str, function: str) -> None:
    nulls = data[column].null_count()
    if nulls:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must name a column without nulls "
            f"(filter or fill them first: a null outcome is neither favorable nor not). "
            f"Got {column!r} with {nulls:,} nulls in {data.height:,} rows instead."
        )


def _outcome_and_label(
    frame: Any, outcome: Any, label: Any, function: str
) -> tuple[pl.DataFrame, str, str]:
    """The frame as polars and its outcome and label columns, both present and null-free."""
    data = to_polars(frame, function=function)
    outcome = _column(data, outcome, "outcome", function)
    label = _column(data, label, "label", function)
    _no_nulls(data, outcome, "outcome", function)
    _no_nulls(data, label, "label", function)
    return data, outcome, label


def _privileged(
    cells: pl.DataFrame, group: list[str], privileged: Any, function: str
) -> list[dict[str, Any]] | None:
    """``privileged`` as AIF360's list of {column: value} dicts, each matching a cell."""
    if privileged is None:
        return None
    items = (
        list(privileged) if isinstance(privileged, list | tuple | set | frozenset) else [privileged]
    )
    if not items:
        raise ParameterError(
            f"The 'privileged' parameter of {function} must be None, a group value, a dict "
            f"{{column: value}} or a non-empty list of those. Got {preview(privileged)} instead."
        )
    specs: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Mapping):
            spec = dict(item)
        elif len(group) == 1:
            spec = {group[0]: item}
        else:
            raise ParameterError(
                f"The 'privileged' parameter of {function} must be a dict {{column: value}} "
                f"(or a list of them) when several group columns are given. "
                f"Got {preview(item)} instead."
            )
        unknown = [k for k in spec if k not in group]
        if not spec or unknown:
            raise ParameterError(
                f"The 'privileged' parameter of {function} must use the group columns "
                f"({', '.join(group)}) as keys. Got {preview(item)} instead."
            )
        for key, value in spec.items():
            present = cells[key].drop_nulls().unique().sort().to_list()
            found = cells[key].is_null().any() if value is None else value in present
            if not found:
                raise ParameterError(
                    f"The 'privileged' parameter of {function} must name values present in "
                    f"column {key!r} (found: {preview(', '.join(map(str, present)), 200)}). "
                    f"Got {preview(value)} instead."
                )
        specs.append(spec)
    return specs


def _member(cells: pl.DataFrame, specs: list[dict[str, Any]]) -> np.ndarray:
    """Boolean mask of the cells inside the privileged groups (OR of ANDs)."""
    mask = np.zeros(cells.height, dtype=bool)
    for spec in specs:
        hit = np.ones(cells.height, dtype=bool)
        for key, value in spec.items():
            column = cells[key]
            hit &= (
                (column.is_null() if value is None else column == value).fill_null(False).to_numpy()
            )
        mask |= hit
    return mask


def _positive_int(value: Any, parameter: str, function: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(
            f"The {parameter!r} parameter of {function} must be an integer >= {minimum}. "
            f"Got {preview(value)} instead."
        )
    return int(value)


def _check_options(confidence: Any, band: Any, function: str) -> tuple[float, tuple[float, float]]:
    if isinstance(confidence, bool) or not isinstance(confidence, float | int):
        confidence = math.nan
    if not 0 < float(confidence) < 1:
        raise ParameterError(
            f"The 'confidence' parameter of {function} must be a number between 0 and 1. "
            f"Got {preview(confidence)} instead."
        )
    ok = (
        isinstance(band, tuple | list)
        and len(band) == 2
        and all(isinstance(b, int | float) and not isinstance(b, bool) for b in band)
        and 0 < band[0] <= 1 <= band[1]
    )
    if not ok:
        raise ParameterError(
            f"The 'band' parameter of {function} must be a pair (low, high) with "
            f"0 < low <= 1 <= high. Got {preview(band)} instead."
        )
    return float(confidence), (float(band[0]), float(band[1]))


def _check_alpha(alpha: Any, function: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, float | int) or not 0 < alpha < 1:
        raise ParameterError(
            f"The 'alpha' parameter of {function} must be a number between 0 and 1. "
            f"Got {preview(alpha)} instead."
        )
    return float(alpha)


# --------------------------------------------------------------------------- metrics


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out: np.ndarray
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(num, dtype=float) / np.asarray(den, dtype=float)
    out[np.asarray(den) == 0] = np.nan
    return out


def _reference(counts: np.ndarray, member: np.ndarray | None) -> np.ndarray:
    """Counts of each group's reference, same shape as ``counts`` (..., G, K)."""
    out: np.ndarray
    if member is None:
        out = counts.sum(axis=-2, keepdims=True) - counts
    else:
        out = np.broadcast_to(counts[..., member, :].sum(axis=-2, keepdims=True), counts.shape)
    return out


def _metrics(
    counts: np.ndarray, member: np.ndarray | None, label: bool, p_values: bool = False
) -> dict[str, np.ndarray]:
    """Metrics from counts of shape (..., G, K): K = (n, favorable) or (tp, fp, fn, tn)."""
    if label:
        tp, fp, fn, tn = (counts[..., k] for k in range(4))
        cells = counts
        counts = np.stack([tp + fp + fn + tn, tp + fp], axis=-1)
    n, f = counts[..., 0], counts[..., 1]
    ref = _reference(counts, member)
    rate, ref_rate = _ratio(f, n), _ratio(ref[..., 1], ref[..., 0])
    out = {
        "favorable_rate": rate,
        "reference_rate": ref_rate,
        "disparate_impact": _ratio(rate, ref_rate),
        "statistical_parity_difference": rate - ref_rate,
        "unfavorable_ratio": _ratio(1.0 - rate, 1.0 - ref_rate),
    }
    if p_values:
        pooled = _ratio(f + ref[..., 1], n + ref[..., 0])
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n + 1.0 / ref[..., 0]))
            z = np.abs(rate - ref_rate) / se
        z[se == 0] = 0.0
        p = np.array([math.erfc(v / math.sqrt(2.0)) if np.isfinite(v) else np.nan for v in z])
        p[ref[..., 0] == 0] = np.nan
        out["p_value"] = p
    if label:
        rc = _reference(cells, member)
        tpr, fpr = _ratio(tp, tp + fn), _ratio(fp, fp + tn)
        ref_tpr = _ratio(rc[..., 0], rc[..., 0] + rc[..., 2])
        ref_fpr = _ratio(rc[..., 1], rc[..., 1] + rc[..., 3])
        out["true_positive_rate"] = tpr
        out["false_positive_rate"] = fpr
        out["equal_opportunity_difference"] = tpr - ref_tpr
        out["average_odds_difference"] = 0.5 * ((fpr - ref_fpr) + (tpr - ref_tpr))
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (undefined ones stay NaN and are not counted)."""
    out = np.full(p.shape, np.nan)
    defined = np.flatnonzero(np.isfinite(p))
    order = defined[np.argsort(p[defined], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, j in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[j]))
        out[j] = running
    return out


def _intervals(replicates: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column; replicates where the metric is undefined are left out."""
    tail = (1.0 - confidence) / 2.0
    low = np.full(replicates.shape[1], np.nan)
    high = np.full(replicates.shape[1], np.nan)
    for j in range(replicates.shape[1]):
        values = replicates[:, j]
        values = values[np.isfinite(values)]
        if values.size:
            low[j], high[j] = np.quantile(values, [tail, 1.0 - tail])
    return low, high


def _label_text(cells: pl.DataFrame, group: list[str]) -> list[str]:
    texts = [["null" if v is None else str(v) for v in cells[name].to_list()] for name in group]
    return [" & ".join(parts) for parts in zip(*texts, strict=True)]


def _outside(low: pl.Expr, high: pl.Expr, band: tuple[float, float]) -> pl.Expr:
    return (high < band[0]) | (low > band[1])


def _prepare(
    frame: Any,
    outcome: Any,
    group: Any,
    favorable: Any,
    label: Any,
    function: str,
) -> tuple[pl.DataFrame, list[str], pl.Series, pl.Series | None]:
    data = to_polars(frame, function=function)
    outcome = _column(data, outcome, "outcome", function)
    columns = _group_columns(data, group, function)
    if outcome in columns:
        raise ParameterError(
            f"The 'outcome' parameter of {function} must not be one of the group columns. "
            f"Got {outcome!r} instead."
        )
    _no_nulls(data, outcome, "outcome", function)
    fav_outcome = _values(data, outcome, favorable, function)
    fav_label = None
    if label is not None:
        label = _column(data, label, "label", function)
        _no_nulls(data, label, "label", function)
        fav_label = _values(data, label, favorable, function)
    return data, columns, fav_outcome, fav_label


def group_metrics(
    frame: Any,
    outcome: str,
    group: str | Sequence[str],
    favorable: Any,
    privileged: Any,
    label: str | None = None,
    *,
    min_group_size: int = 30,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    band: tuple[float, float] = BAND,
    alpha: float = 0.05,
    backend: Backend = "polars",
) -> Any:
    """Fairness metrics of a binary outcome, one row per group (or intersection of groups).

    Each group is compared with a reference: the ``privileged`` groups, or, when
    ``privileged`` is None, all the other rows. The definitions are AIF360's
    (``BinaryLabelDatasetMetric`` and ``ClassificationMetric`` with the group as the
    unprivileged group), computed natively with polars; :func:`aif360_group_metrics`
    gives the same numbers through AIF360.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per decision (a call), e.g. the ``llm_calls`` table.
    outcome : str
        Column of the outcome (the decision or prediction). No nulls.
    group : str or list of str
        Group column(s); with several, one row per combination of their values present
        in the data (the intersections). A null value is a group of its own.
    favorable : value or list of values
        The outcome value(s) a user wants (``True``, ``"stop"``, ``[0]`` ...); any other
        value is unfavorable.
    privileged : value, dict, list of those, or None
        The reference groups: a value of the group column (one group column), a dict
        ``{column: value}`` (a subset of the group columns: ``{"user.tier":
        "enterprise"}``), or a list of those (their union, as AIF360's
        ``privileged_groups``). None compares each group with the rest of the rows.
    label : str, optional
        Column of the ground truth, with the same favorable value(s): adds true and false
        positive rates (positive = favorable), equal opportunity difference and average
        odds difference.
    min_group_size : int, default 30
        Groups with fewer rows are marked ``small`` (kept, never hidden) and never flagged.
    confidence : float, default 0.95
        Level of the bootstrap percentile intervals (``*_low``, ``*_high``).
    n_boot : int, default 1000
        Bootstrap replicates; 0 skips the intervals (their columns are null). The
        bootstrap resamples rows within each group (group sizes fixed), which for counts
        is exactly a binomial (multinomial with a label) draw per group, so it costs the
        same on a billion rows as on a thousand. Replicates where a ratio is undefined
        (a zero reference rate) are left out of that ratio's interval.
    seed : int, default 0
        Seed of the bootstrap.
    band : (float, float), default (0.8, 1.25)
        The fair band of the four-fifths rule.
    alpha : float, default 0.05
        Significance level of the flag (on Holm-adjusted p-values).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per group, sorted by the group values (nulls last): ``group`` (the values
        as text, joined with `` & ``), the group column(s), ``privileged`` (inside the
        reference), ``n``, ``n_favorable``, ``favorable_rate``, ``reference_rate``,
        ``disparate_impact`` (favorable rate / reference rate),
        ``statistical_parity_difference`` (favorable rate - reference rate),
        ``unfavorable_ratio`` ((1 - rate) / (1 - reference rate)), with a label
        ``true_positive_rate``, ``false_positive_rate``, ``equal_opportunity_difference``
        (TPR - reference TPR) and ``average_odds_difference`` (mean of the FPR and TPR
        differences); ``<metric>_low``/``_high`` intervals; ``p_value`` (two-sided
        two-proportion z-test of the favorable rate against the reference's, pooled
        variance) and ``p_value_holm`` (Holm-adjusted over the rows); ``small``;
        ``four_fifths_violation`` (disparate impact outside ``band``, null when
        undefined); ``flagged``: not small, disparate impact *or* unfavorable ratio
        outside ``band``, and ``p_value_holm < alpha`` — unequal treatment that chance
        does not explain; ``disparity``: ``"disadvantaged"`` or ``"advantaged"`` for a
        flagged group (its favorable rate below or above the reference's), else null.
        A ratio whose denominator is zero is null.

    Raises
    ------
    ParameterError
        For an unknown column, a null outcome or label, a favorable value of the wrong
        type, or a privileged group absent from the data.

    Examples
    --------
    Six calls in two locales; ``served`` is the favorable outcome:

    >>> import polars as pl
    >>> calls = pl.DataFrame({"locale": ["en", "en", "en", "en", "tr", "tr"],
    ...                       "served": [True, True, True, False, True, False]})
    >>> m = group_metrics(calls, "served", "locale", True, "en", n_boot=0)
    >>> m.select("group", "n", "favorable_rate", "disparate_impact", "unfavorable_ratio")
    shape: (2, 5)
    ┌───────┬─────┬────────────────┬──────────────────┬───────────────────┐
    │ group ┆ n   ┆ favorable_rate ┆ disparate_impact ┆ unfavorable_ratio │
    │ ---   ┆ --- ┆ ---            ┆ ---              ┆ ---               │
    │ str   ┆ i64 ┆ f64            ┆ f64              ┆ f64               │
    ╞═══════╪═════╪════════════════╪══════════════════╪═══════════════════╡
    │ en    ┆ 4   ┆ 0.75           ┆ 1.0              ┆ 1.0               │
    │ tr    ┆ 2   ┆ 0.5            ┆ 0.666667         ┆ 2.0               │
    └───────┴─────┴────────────────┴──────────────────┴───────────────────┘
    """
    function = "group_metrics"
    _check_backend(backend, function)
    data, columns, fav_outcome, fav_label = _prepare(
        frame, outcome, group, favorable, label, function
    )
    min_group_size = _positive_int(min_group_size, "min_group_size", function, 1)
    n_boot = _positive_int(n_boot, "n_boot", function, 0)
    seed = _positive_int(seed, "seed", function, 0)
    confidence, band = _check_options(confidence, band, function)
    alpha = _check_alpha(alpha, function)

    fav = pl.col(outcome).is_in(fav_outcome.implode())
    if fav_label is None or label is None:
        aggs = [pl.len().cast(pl.Int64).alias("n"), fav.sum().cast(pl.Int64).alias("f")]
        keys = ["n", "f"]
    else:
        truth = pl.col(label).is_in(fav_label.implode())
        aggs = [
            (fav & truth).sum().cast(pl.Int64).alias("tp"),
            (fav & ~truth).sum().cast(pl.Int64).alias("fp"),
            (~fav & truth).sum().cast(pl.Int64).alias("fn"),
            (~fav & ~truth).sum().cast(pl.Int64).alias("tn"),
        ]
        keys = ["tp", "fp", "fn", "tn"]
    table = data.lazy().group_by(columns).agg(aggs).sort(columns, nulls_last=True).collect()
    cells = table.select(columns)
    specs = _privileged(cells, columns, privileged, function)
    member = None if specs is None else _member(cells, specs)
    counts = table.select(keys).to_numpy().astype(np.int64)
    sizes = counts.sum(axis=1) if fav_label is not None else counts[:, 0]
    point = _metrics(counts.astype(float), member, fav_label is not None, p_values=True)
    point["p_value_holm"] = _holm(point["p_value"])

    ci_names = list(_WITH_CI) + (list(_LABEL_WITH_CI) if fav_label is not None else [])
    intervals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if n_boot:
        rng = np.random.default_rng(seed)
        if fav_label is None:
            drawn = rng.binomial(sizes, counts[:, 1] / sizes, size=(n_boot, len(sizes)))
            replicate = np.stack([np.broadcast_to(sizes, drawn.shape), drawn], axis=-1)
        else:
            replicate = rng.multinomial(sizes, counts / sizes[:, None], size=(n_boot, len(sizes)))
        boot = _metrics(replicate.astype(float), member, fav_label is not None)
        intervals = {name: _intervals(boot[name], confidence) for name in ci_names}

    out: dict[str, Any] = {
        "group": pl.Series(_label_text(cells, columns), dtype=pl.String),
        **{name: cells[name] for name in columns},
        "privileged": pl.Series(
            member if member is not None else np.zeros(cells.height, dtype=bool),
            dtype=pl.Boolean,
        ),
        "n": pl.Series(sizes, dtype=pl.Int64),
        "n_favorable": pl.Series(
            counts[:, 1] if fav_label is None else counts[:, 0] + counts[:, 1], dtype=pl.Int64
        ),
    }
    order = ["favorable_rate", "reference_rate", "disparate_impact"]
    order += ["statistical_parity_difference", "unfavorable_ratio"]
    if fav_label is not None:
        order += ["true_positive_rate", "false_positive_rate"]
        order += ["equal_opportunity_difference", "average_odds_difference"]
    order += ["p_value", "p_value_holm"]
    for name in order:
        out[name] = pl.Series(point[name], dtype=pl.Float64)
        if name in ci_names:
            low, high = intervals.get(name, (np.full(cells.height, np.nan),) * 2)
            out[f"{name}_low"] = pl.Series(low, dtype=pl.Float64)
            out[f"{name}_high"] = pl.Series(high, dtype=pl.Float64)
    result = pl.DataFrame(out).with_columns(pl.col(pl.Float64).fill_nan(None))
    small = pl.col("n") < min_group_size
    di, ur = pl.col("disparate_impact"), pl.col("unfavorable_ratio")
    flagged = (
        ~small
        & (_outside(di, di, band).fill_null(False) | _outside(ur, ur, band).fill_null(False))
        & (pl.col("p_value_holm") < alpha).fill_null(False)
    )
    result = result.with_columns(
        small.alias("small"),
        _outside(di, di, band).alias("four_fifths_violation"),
        flagged.alias("flagged"),
    ).with_columns(
        pl.when(pl.col("flagged"))
        .then(
            pl.when(pl.col("statistical_parity_difference") < 0)
            .then(pl.lit("disadvantaged"))
            .otherwise(pl.lit("advantaged"))
        )
        .alias("disparity")
    )
    return to_pandas(result) if backend == "pandas" else result


def theil_index(frame: Any, outcome: str, label: str, favorable: Any) -> float:
    """Theil index of the benefits of a classifier's decisions over all rows (AIF360's).

    With ``b = 1 + prediction - label`` (1 = favorable, 0 = not) per row and ``m`` its
    mean, the Theil index is ``mean(b / m * ln(b / m))`` (0 ln 0 = 0): 0 when everyone gets
    the same benefit; it grows with unequal treatment of individuals (false favorable
    decisions give 2, false unfavorable ones 0).

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    outcome : str
        Column of the decisions (predictions). No nulls.
    label : str
        Column of the ground truth. No nulls.
    favorable : value or list of values
        The favorable value(s) of both columns.

    Returns
    -------
    float

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"pred": [1, 1, 0, 0], "truth": [1, 0, 0, 1]})
    >>> round(theil_index(f, "pred", "truth", 1), 6)  # benefits 1, 2, 1, 0
    0.346574
    """
    function = "theil_index"
    data, outcome, label = _outcome_and_label(frame, outcome, label, function)
    fav_outcome = _values(data, outcome, favorable, function)
    fav_label = _values(data, label, favorable, function)
    if data.height == 0:
        raise ParameterError(
            f"The 'frame' parameter of {function} must have rows. Got an empty frame instead."
        )
    b = (
        1
        + pl.col(outcome).is_in(fav_outcome.implode()).cast(pl.Float64)
        - pl.col(label).is_in(fav_label.implode()).cast(pl.Float64)
    )
    value = (
        data.lazy()
        .select(b.alias("b"))
        .select(
            (
                pl.when(pl.col("b") > 0)
                .then(pl.col("b") * (pl.col("b") / pl.col("b").mean()).log())
                .otherwise(0.0)
                .mean()
                / pl.col("b").mean()
            ).alias("theil")
        )
        .collect()
        .item()
    )
    return float(value)


# --------------------------------------------------------------------------- audit object


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(redact(str(value)))


def _html_table(frame: pl.DataFrame, highlight: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(redact(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows(named=True):
        style = " style='background:#fde2e1'" if highlight and row.get(highlight) else ""
        cells = "".join(f"<td>{_fmt(v)}</td>" for v in row.values())
        rows.append(f"<tr{style}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


@dataclass(frozen=True)
class BiasAudit:
    """A bias audit of one outcome across groups (from :func:`audit`).

    Attributes
    ----------
    groups : polars.DataFrame
        :func:`group_metrics`' table.
    outcome, label : str, str or None
        The audited columns.
    group : tuple of str
        The group columns.
    favorable : tuple
        The favorable value(s).
    privileged : tuple of dict, or None
        The reference groups (None: each group against the rest).
    n : int
        Rows audited.
    favorable_rate : float or None
        Favorable rate over all rows.
    theil_index : float or None
        Theil index over all rows (with a label only).
    band : (float, float)
        The fair band.
    min_group_size : int
    confidence : float
    alpha : float
    """

    groups: pl.DataFrame
    outcome: str
    label: str | None
    group: tuple[str, ...]
    favorable: tuple[Any, ...]
    privileged: tuple[dict[str, Any], ...] | None
    n: int
    favorable_rate: float | None
    theil_index: float | None
    band: tuple[float, float]
    min_group_size: int
    confidence: float
    alpha: float

    @property
    def flagged(self) -> pl.DataFrame:
        """The flagged groups, the most disadvantaged (lowest disparate impact) first."""
        return self.groups.filter(pl.col("flagged")).sort("disparate_impact", nulls_last=True)

    @property
    def disadvantaged(self) -> list[str]:
        """Labels of the flagged groups whose favorable rate is below their reference's."""
        return self.flagged.filter(pl.col("disparity") == "disadvantaged")["group"].to_list()

    def summary(self) -> str:
        """One sentence: what was audited and which groups are flagged."""
        reference = (
            "the rest of the rows"
            if self.privileged is None
            else " or ".join(
                " & ".join(f"{k}={v}" for k, v in spec.items()) for spec in self.privileged
            )
        )
        text = (
            f"{self.n:,} rows, {self.groups.height} groups of {' × '.join(self.group)}, "
            f"outcome {self.outcome} (favorable: {', '.join(map(str, self.favorable))}), "
            f"each group against {reference}"
        )
        worse, flagged = self.disadvantaged, self.flagged.height
        if not flagged:
            return text + f": no group outside the {self.band[0]}-{self.band[1]} band."
        return text + (
            f": {flagged} group(s) flagged outside the {self.band[0]}-{self.band[1]} band"
            + (f", disadvantaged: {', '.join(worse)}." if worse else ".")
        )

    def _repr_html_(self) -> str:
        keep = [
            "group",
            "n",
            "favorable_rate",
            "disparate_impact",
            "unfavorable_ratio",
            "unfavorable_ratio_low",
            "unfavorable_ratio_high",
            "equal_opportunity_difference",
            "average_odds_difference",
            "p_value_holm",
            "flagged",
            "disparity",
        ]
        table = self.groups.select([c for c in keep if c in self.groups.columns])
        extra = f"; Theil index {self.theil_index:.4f}" if self.theil_index is not None else ""
        overall = (
            f"overall favorable rate {self.favorable_rate:.4f}"
            if self.favorable_rate is not None
            else ""
        )
        return (
            f"<div><p><strong>Bias audit</strong>: {html.escape(redact(self.summary()))}</p>"
            f"<p>{overall}{extra}; intervals at {self.confidence:.0%}; flagged: a ratio "
            f"outside the band and Holm-adjusted p &lt; {self.alpha}; groups under "
            f"{self.min_group_size} rows are marked small, never flagged.</p>"
            f"{_html_table(table, highlight='flagged')}</div>"
        )

    def __repr__(self) -> str:
        return f"BiasAudit({self.summary()})"


def audit(
    frame: Any,
    outcome: str,
    group: str | Sequence[str],
    favorable: Any,
    privileged: Any = None,
    label: str | None = None,
    *,
    min_group_size: int = 30,
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    band: tuple[float, float] = BAND,
    alpha: float = 0.05,
) -> BiasAudit:
    """Audit an outcome across groups: :func:`group_metrics` plus the overall numbers.

    Parameters
    ----------
    frame, outcome, group, favorable, privileged, label
        As in :func:`group_metrics` (``privileged`` defaults to None: each group against
        the rest).
    min_group_size, confidence, n_boot, seed, band, alpha
        As in :func:`group_metrics`.

    Returns
    -------
    BiasAudit
        The group table, the flagged groups, the overall favorable rate and (with a
        label) the Theil index; renders as HTML in a notebook.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"locale": ["en"] * 50 + ["tr"] * 50,
    ...                       "refused": [False] * 49 + [True] + [False] * 40 + [True] * 10})
    >>> result = audit(calls, "refused", "locale", favorable=False)
    >>> result.disadvantaged, result.n
    (['tr'], 100)
    """
    groups = group_metrics(
        frame,
        outcome,
        group,
        favorable,
        privileged,
        label,
        min_group_size=min_group_size,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
        band=band,
        alpha=alpha,
    )
    data = to_polars(frame, function="audit")
    fav = _values(data, outcome, favorable, "audit")
    n = data.height
    rate = data[outcome].is_in(fav.implode()).mean() if n else None
    columns = [group] if isinstance(group, str) else list(group)
    specs = _privileged(data.select(columns).unique(), columns, privileged, "audit")
    return BiasAudit(
        groups=groups,
        outcome=outcome,
        label=label,
        group=tuple(columns),
        favorable=tuple(fav.to_list()),
        privileged=None if specs is None else tuple(specs),
        n=n,
        favorable_rate=None if rate is None else float(rate),  # type: ignore[arg-type]
        theil_index=None
        if label is None or n == 0
        else theil_index(data, outcome, label, favorable),
        band=(float(band[0]), float(band[1])),
        min_group_size=min_group_size,
        confidence=confidence,
        alpha=alpha,
    )


# --------------------------------------------------------------------------- AIF360 path


def aif360_group_metrics(
    frame: Any,
    outcome: str,
    group: str | Sequence[str],
    favorable: Any,
    privileged: Any,
    label: str | None = None,
    *,
    backend: Backend = "polars",
) -> Any:
    """The point metrics of :func:`group_metrics`, computed by AIF360 itself.

    Builds AIF360 ``BinaryLabelDataset`` objects from the frame (group values coded as
    numbers, 1.0 = favorable) and asks ``BinaryLabelDatasetMetric`` (and, with a label,
    ``ClassificationMetric``) for each group with the group as the unprivileged group.
    ``unfavorable_ratio`` is AIF360's disparate impact with the labels swapped. Slow (one
    AIF360 metric object per group): use it to check, :func:`group_metrics` to audit.

    Parameters
    ----------
    frame, outcome, group, favorable, privileged, label
        As in :func:`group_metrics`.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``group``, the group column(s), ``n``, ``n_favorable``, ``favorable_rate``,
        ``reference_rate``, ``disparate_impact``, ``statistical_parity_difference``,
        ``unfavorable_ratio`` and, with a label, ``true_positive_rate``,
        ``false_positive_rate``, ``equal_opportunity_difference``,
        ``average_odds_difference`` (AIF360 gives NaN or inf where a rate is undefined).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"locale": ["en", "en", "en", "en", "tr", "tr"],
    ...                       "served": [True, True, True, False, True, False]})
    >>> aif360_group_metrics(calls, "served", "locale", True, "en")["disparate_impact"].to_list()
    [1.0, 0.6666666666666666]
    """
    from toolkit import _aif360

    function = "aif360_group_metrics"
    _check_backend(backend, function)
    data, columns, fav_outcome, _ = _prepare(frame, outcome, group, favorable, label, function)
    cells = data.select(columns).unique().sort(columns, nulls_last=True)
    specs = _privileged(cells, columns, privileged, function)
    result = _aif360.group_metrics(data, outcome, columns, fav_outcome, specs, label)
    result = result.select(
        pl.Series("group", _label_text(result.select(columns), columns), dtype=pl.String),
        pl.all(),
    )
    return to_pandas(result) if backend == "pandas" else result


def aif360_theil_index(frame: Any, outcome: str, label: str, favorable: Any) -> float:
    """:func:`theil_index` computed by AIF360's ``ClassificationMetric.theil_index``.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"pred": [1, 1, 0, 0], "truth": [1, 0, 0, 1]})
    >>> round(aif360_theil_index(f, "pred", "truth", 1), 6)
    0.346574
    """
    from toolkit import _aif360

    function = "aif360_theil_index"
    data, outcome, label = _outcome_and_label(frame, outcome, label, function)
    fav = _values(data, outcome, favorable, function)
    if data.schema[label] != data.schema[outcome]:
        data = data.with_columns(
            pl.col(label).is_in(_values(data, label, favorable, function).implode()),
            pl.col(outcome).is_in(fav.implode()),
        )
        fav = pl.Series([True])
    return _aif360.theil_index(data, outcome, label, fav)


def aif360_dataset(
    frame: Any,
    label: str,
    favorable: Any,
    protected: Mapping[str, Any],
    *,
    categorical: Sequence[str] = (),
    features: Sequence[str] | None = None,
) -> Any:
    """An AIF360 ``StandardDataset`` from a polars or pandas frame.

    pandas 3 string columns are turned into ``object`` columns first (AIF360 0.6.1 cannot
    read them); everything else is AIF360's own ``StandardDataset`` processing: the label
    becomes 1.0 (favorable) / 0.0 unless it is already a binary number, each protected
    column 1.0 (privileged) / 0.0, categorical columns one-hot encoded, and rows with a
    missing value dropped (AIF360 logs how many; so does this function not).

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    label : str
        Ground-truth column.
    favorable : value or list of values
        Favorable value(s) of the label.
    protected : mapping
        ``{column: privileged value(s)}``; a callable is also accepted (AIF360's
        ``privileged_classes``, e.g. ``lambda age: age > 25``).
    categorical : list of str, optional
        Columns to one-hot encode.
    features : list of str, optional
        Columns to keep (all by default; the label, protected and categorical columns are
        always kept).

    Returns
    -------
    aif360.datasets.StandardDataset

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"tier": ["free", "pro", "free"], "ok": ["y", "y", "n"], "x": [1, 2, 3]})
    >>> ds = aif360_dataset(f, "ok", "y", {"tier": ["pro"]})
    >>> ds.labels.ravel().tolist(), ds.protected_attributes.ravel().tolist()
    ([1.0, 1.0, 0.0], [0.0, 1.0, 0.0])
    """
    from toolkit import _aif360

    function = "aif360_dataset"
    data = to_polars(frame, function=function)
    label = _column(data, label, "label", function)
    if not isinstance(protected, Mapping) or not protected:
        raise ParameterError(
            f"The 'protected' parameter of {function} must be a non-empty mapping "
            f"{{column: privileged value(s)}}. Got {preview(protected)} instead."
        )
    for name in [*protected, *categorical, *(features or [])]:
        _column(data, name, "protected/categorical/features", function)
    fav = favorable if isinstance(favorable, list | tuple) else [favorable]
    privileged = [
        v if callable(v) else (list(v) if isinstance(v, list | tuple | set) else [v])
        for v in protected.values()
    ]
    df = _aif360.for_aif360(frame if not isinstance(frame, pl.DataFrame | pl.LazyFrame) else data)
    lib = _aif360.aif360()
    with _aif360.quiet():
        return lib.StandardDataset(
            df=df,
            label_name=label,
            favorable_classes=list(fav),
            protected_attribute_names=list(protected),
            privileged_classes=privileged,
            categorical_features=list(categorical),
            features_to_keep=list(features or []),
        )


# --------------------------------------------------------------------------- COMPAS

_COMPAS_INTS = (
    "id",
    "age",
    "juv_fel_count",
    "decile_score",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "days_b_screening_arrest",
    "c_days_from_compas",
    "is_recid",
    "r_days_from_arrest",
    "violent_recid",
    "is_violent_recid",
    "v_decile_score",
    "start",
    "end",
    "event",
    "two_year_recid",
)
#: Columns AIF360's CompasDataset keeps (rows with a missing value in one are dropped).
_COMPAS_KEPT = (
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
    "c_charge_desc",
    "two_year_recid",
)


def load_compas(
    path: str | os.PathLike[str],
    *,
    filtered: bool = True,
    backend: Backend = "polars",
) -> Any:
    """ProPublica's ``compas-scores-two-years.csv``, typed, with AIF360's rows by default.

    The file repeats two column names (``decile_score``, ``priors_count``); the copies
    must be equal and are dropped. Integer columns become Int64 (an empty field is null);
    dates stay text (they carry no time zone). With ``filtered`` the rows are those of
    AIF360's ``CompasDataset``: ProPublica's filter (screening within 30 days of the
    arrest, a known recidivism status, no ordinary-traffic charge, a score) and no missing
    value in the columns it keeps (6,167 of 7,214 rows in the published file).

    Parameters
    ----------
    path : path
        The CSV file.
    filtered : bool, default True
        Keep AIF360's rows only.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame

    Raises
    ------
    FormatError
        A value that is not an integer in an integer column (file, line, column named),
        duplicated columns that differ, or a missing column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = ("id,sex,age,age_cat,race,juv_fel_count,decile_score,juv_misd_count,"
    ...         "juv_other_count,priors_count,days_b_screening_arrest,c_charge_degree,"
    ...         "c_charge_desc,is_recid,decile_score,score_text,priors_count,two_year_recid\\n"
    ...         "1,Male,69,Greater than 45,Other,0,1,0,0,0,-1,F,Assault,0,1,Low,0,0\\n"
    ...         "2,Male,34,25 - 45,Caucasian,0,3,0,0,0,,F,Battery,1,3,Low,0,1\\n")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "compas.csv"
    >>> _ = path.write_text(text)
    >>> load_compas(path)["id"].to_list()  # the second row has no screening delay
    [1]
    """
    function = "load_compas"
    _check_backend(backend, function)
    raw = pl.read_csv(os.fspath(path), infer_schema_length=0)
    for name in ("decile_score", "priors_count"):
        copy = f"{name}_duplicated_0"
        if copy in raw.columns:
            differ = raw.with_row_index("_row").filter(pl.col(name).ne_missing(pl.col(copy)))
            if differ.height:
                line = int(differ["_row"][0]) + 2
                raise FormatError(
                    f"{location(path, line=line, column=name)}: the repeated column {name!r} "
                    f"holds {preview(differ[copy][0])} where the first one holds "
                    f"{preview(differ[name][0])}; expected equal copies."
                )
            raw = raw.drop(copy)
    needed = [*_COMPAS_KEPT, "days_b_screening_arrest", "is_recid", "score_text", "id"]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise FormatError(
            f"{location(path)}: missing column(s) {', '.join(missing)} of "
            f"compas-scores-two-years.csv (found: {preview(', '.join(raw.columns), 300)})."
        )
    casts = []
    for name in _COMPAS_INTS:
        if name not in raw.columns:
            continue
        cast = raw[name].str.strip_chars().cast(pl.Int64, strict=False)
        bad = raw[name].is_not_null() & cast.is_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise FormatError(
                f"{location(path, line=row + 2, column=name)}: found "
                f"{preview(raw[name][row])}, expected an integer."
            )
        casts.append(cast)
    data = raw.with_columns(casts)
    if filtered:
        data = data.filter(
            pl.col("days_b_screening_arrest").is_between(-30, 30)
            & (pl.col("is_recid") != -1)
            & (pl.col("c_charge_degree") != "O")
            & (pl.col("score_text") != "N/A")
        ).drop_nulls(list(_COMPAS_KEPT))
    return to_pandas(data) if backend == "pandas" else data


# --------------------------------------------------------------------------- mitigation

_ROC_METRICS = {
    "statistical_parity_difference": "Statistical parity difference",
    "average_odds_difference": "Average odds difference",
    "equal_opportunity_difference": "Equal opportunity difference",
}


@dataclass(frozen=True)
class Mitigation:
    """Before/after comparison of a decision model's fairness (from :func:`mitigate`).

    Attributes
    ----------
    table : polars.DataFrame
        One row per method (``baseline``, ``reweighing``, ``reject option``) on the
        held-out test rows: ``accuracy``, ``balanced_accuracy``,
        ``favorable_rate_privileged``, ``favorable_rate_unprivileged``,
        ``disparate_impact``, ``statistical_parity_difference``,
        ``equal_opportunity_difference``, ``average_odds_difference``, ``theil_index``
        (the unprivileged group against the privileged one).
    metric : str
        The metric the reject option classification targets (Reweighing targets
        statistical parity).
    protected : str
    privileged : tuple
        The privileged values of the protected column.
    n_train, n_validation, n_test : int
        Rows used to train the model, fit the post-processing, and evaluate.
    """

    table: pl.DataFrame
    metric: str
    protected: str
    privileged: tuple[Any, ...]
    n_train: int
    n_validation: int
    n_test: int

    def value(self, method: str, column: str) -> float:
        """One number of the table (``value("reweighing", "accuracy")``)."""
        row = self.table.filter(pl.col("method") == method)
        if row.height != 1 or column not in self.table.columns:
            raise ParameterError(
                "The 'method' and 'column' parameters of Mitigation.value must name a row "
                f"({', '.join(self.table['method'])}) and a column of the table. "
                f"Got {preview(method)}, {preview(column)} instead."
            )
        return float(row[column].item())

    def _repr_html_(self) -> str:
        return (
            f"<div><p><strong>Mitigation</strong> of a decision model, protected attribute "
            f"{html.escape(redact(self.protected))}; {self.n_train:,} training, "
            f"{self.n_validation:,} validation and {self.n_test:,} held-out test rows; "
            f"post-processing targets {html.escape(self.metric)}.</p>"
            f"{_html_table(self.table)}</div>"
        )


def _design(data: pl.DataFrame, features: list[str], train: np.ndarray) -> np.ndarray:
    """Numeric features standardised on the training rows; text and bools one-hot."""
    blocks: list[np.ndarray] = []
    for name in features:
        dtype = data.schema[name]
        if dtype.is_numeric():
            x = data[name].cast(pl.Float64).to_numpy()
            mean, std = x[train].mean(), x[train].std()
            blocks.append(((x - mean) / (std if std > 0 else 1.0))[:, None])
        else:
            dummies = data.select(pl.col(name).cast(pl.String)).to_dummies(drop_first=True)
            blocks.append(dummies.to_numpy().astype(float))
    return np.hstack(blocks) if blocks else np.zeros((data.height, 0))


def _evaluate(method: str, pred: np.ndarray, truth: np.ndarray, priv: np.ndarray) -> dict[str, Any]:
    frame = pl.DataFrame(
        {
            "g": np.where(priv == 1, "privileged", "unprivileged"),
            "pred": pred.astype(bool),
            "truth": truth.astype(bool),
        }
    )
    rows = group_metrics(frame, "pred", "g", True, "privileged", "truth", n_boot=0)
    unpriv = rows.filter(pl.col("g") == "unprivileged")
    tpr = float(np.mean(pred[truth == 1] == 1)) if (truth == 1).any() else math.nan
    tnr = float(np.mean(pred[truth == 0] == 0)) if (truth == 0).any() else math.nan
    return {
        "method": method,
        "accuracy": float(np.mean(pred == truth)),
        "balanced_accuracy": 0.5 * (tpr + tnr),
        "favorable_rate_privileged": unpriv["reference_rate"].item(),
        "favorable_rate_unprivileged": unpriv["favorable_rate"].item(),
        "disparate_impact": unpriv["disparate_impact"].item(),
        "statistical_parity_difference": unpriv["statistical_parity_difference"].item(),
        "equal_opportunity_difference": unpriv["equal_opportunity_difference"].item(),
        "average_odds_difference": unpriv["average_odds_difference"].item(),
        "theil_index": theil_index(frame, "pred", "truth", True),
    }


def mitigate(
    frame: Any,
    label: str,
    features: Sequence[str],
    protected: str,
    favorable: Any,
    privileged: Any,
    *,
    metric: str = "statistical_parity_difference",
    test_size: float = 0.3,
    validation_size: float = 0.2,
    class_weight: Literal["balanced"] | None = "balanced",
    seed: int = 0,
) -> Mitigation:
    """Train a decision model on the rows, then mitigate its bias with AIF360.

    A scikit-learn logistic regression learns ``label`` from ``features`` (the decision to
    automate, e.g. whether a call should be escalated to review, from its route, tier,
    locale and prompt length). Three models are then compared on held-out test rows:

    - ``baseline``: the model as trained;
    - ``reweighing``: AIF360's ``Reweighing`` weights the training rows so that the label
      is independent of the protected group, then the same model is trained;
    - ``reject option`` (AIF360's ``RejectOptionClassification``): decisions near the
      threshold are flipped in favour of the unprivileged group, the band and threshold
      chosen on a validation split of the baseline's scores for the best balanced accuracy
      with ``metric`` within ±0.05. (AIF360's ``CalibratedEqOddsPostprocessing`` equalises
      score-based *generalized* rates and did not improve the thresholded equal
      opportunity difference in our tests, so it is not offered.)

    The protected attribute is binary for the mitigation: rows whose ``protected`` value
    is in ``privileged`` against all the others.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    label : str
        The decision to learn (ground truth). No nulls.
    features : list of str
        Model inputs: numbers (standardised) and text or bools (one-hot). No nulls.
        Include the protected column to let the model learn the historical bias.
    protected : str
        Protected column.
    favorable : value or list of values
        Favorable value(s) of ``label``.
    privileged : value or list of values
        Privileged value(s) of ``protected``.
    metric : str, default "statistical_parity_difference"
        What the post-processing equalises: ``statistical_parity_difference``,
        ``equal_opportunity_difference`` or ``average_odds_difference``.
    test_size, validation_size : float, default 0.3, 0.2
        Shares of the rows held out for the test and for fitting the post-processing
        (split stratified by label and group).
    class_weight : "balanced" or None, default "balanced"
        Passed to the logistic regression (rare unfavorable labels need it).
    seed : int, default 0

    Returns
    -------
    Mitigation

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(1)
    >>> g = rng.choice(["a", "b"], 2000)
    >>> x = rng.normal(size=2000)
    >>> ok = rng.random(2000) < np.where(g == "a", 0.8, 0.5) + 0.1 * x
    >>> frame = pl.DataFrame({"g": g, "x": x, "ok": ok})
    >>> result = mitigate(frame, "ok", ["x", "g"], "g", True, "a")
    >>> result.table["method"].to_list()
    ['baseline', 'reweighing', 'reject option']
    >>> abs(result.value("reweighing", "statistical_parity_difference")) < abs(
    ...     result.value("baseline", "statistical_parity_difference"))
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from toolkit import _aif360

    function = "mitigate"
    data = to_polars(frame, function=function)
    label = _column(data, label, "label", function)
    protected = _column(data, protected, "protected", function)
    if isinstance(features, str) or not isinstance(features, Sequence) or not features:
        raise ParameterError(
            f"The 'features' parameter of {function} must be a non-empty list of column "
            f"names. Got {preview(features)} instead."
        )
    feature_names = [_column(data, f, "features", function) for f in features]
    if label in feature_names:
        raise ParameterError(
            f"The 'features' parameter of {function} must not contain the label. "
            f"Got {preview(features)} instead."
        )
    for name in {label, protected, *feature_names}:
        _no_nulls(data, name, "label/protected/features", function)
    if metric not in _ROC_METRICS:
        raise ParameterError(
            f"The 'metric' parameter of {function} must be one of "
            f"{', '.join(_ROC_METRICS)}. Got {preview(metric)} instead."
        )
    for value, name in ((test_size, "test_size"), (validation_size, "validation_size")):
        if isinstance(value, bool) or not isinstance(value, float | int) or not 0 < value < 0.5:
            raise ParameterError(
                f"The {name!r} parameter of {function} must be a share between 0 and 0.5. "
                f"Got {preview(value)} instead."
            )
    seed = _positive_int(seed, "seed", function, 0)
    fav = _values(data, label, favorable, function)
    cells = data.select(protected).unique()
    specs = _privileged(cells, [protected], privileged, function)
    assert specs is not None
    truth = data[label].is_in(fav.implode()).to_numpy().astype(int)
    priv = _member(data.select(protected), specs).astype(int)
    if priv.all() or not priv.any():
        raise ParameterError(
            f"The 'privileged' parameter of {function} must leave both groups non-empty. "
            f"Got {preview(privileged)} instead."
        )
    strata = truth * 2 + priv
    index = np.arange(data.height)
    rest, test = train_test_split(index, test_size=test_size, random_state=seed, stratify=strata)
    train, valid = train_test_split(
        rest,
        test_size=validation_size / (1 - test_size),
        random_state=seed,
        stratify=strata[rest],
    )
    train_mask = np.zeros(data.height, dtype=bool)
    train_mask[train] = True
    x = _design(data, feature_names, train_mask)
    groups = {"g": priv.astype(float)}
    unpriv_groups, priv_groups = [{"g": 0.0}], [{"g": 1.0}]
    lib = _aif360.aif360()

    def fit(weights: np.ndarray | None) -> Any:
        model = LogisticRegression(max_iter=2000, class_weight=class_weight)
        model.fit(x[train], truth[train], sample_weight=weights)
        return model

    baseline = fit(None)
    train_ds = _aif360.binary_dataset(truth[train], {"g": groups["g"][train]})
    with _aif360.quiet():
        reweighed = lib.Reweighing(
            unprivileged_groups=unpriv_groups, privileged_groups=priv_groups
        ).fit_transform(train_ds)
    reweighted = fit(np.asarray(reweighed.instance_weights, dtype=float))

    def scored(rows: np.ndarray) -> tuple[Any, Any]:
        score = baseline.predict_proba(x[rows])[:, 1]
        g = {"g": groups["g"][rows]}
        true = _aif360.binary_dataset(truth[rows], g)
        pred = _aif360.binary_dataset((score >= 0.5).astype(float), g, scores=score)
        return true, pred

    valid_true, valid_pred = scored(valid)
    _, test_pred = scored(test)
    with _aif360.quiet():
        post = lib.RejectOptionClassification(
            unprivileged_groups=unpriv_groups,
            privileged_groups=priv_groups,
            low_class_thresh=0.01,
            high_class_thresh=0.99,
            num_class_thresh=50,
            num_ROC_margin=25,
            metric_name=_ROC_METRICS[metric],
            metric_ub=0.05,
            metric_lb=-0.05,
        )
        post.fit(valid_true, valid_pred)
        post_pred = post.predict(test_pred).labels.ravel()
    rows = [
        _evaluate("baseline", baseline.predict(x[test]), truth[test], priv[test]),
        _evaluate("reweighing", reweighted.predict(x[test]), truth[test], priv[test]),
        _evaluate("reject option", post_pred.astype(int), truth[test], priv[test]),
    ]
    return Mitigation(
        table=pl.DataFrame(rows).with_columns(pl.col(pl.Float64).fill_nan(None)),
        metric=metric,
        protected=protected,
        privileged=tuple(spec[protected] for spec in specs),
        n_train=len(train),
        n_validation=len(valid),
        n_test=len(test),
    )


# --------------------------------------------------------------------------- audits of the calls

#: Attribute prefixes that describe the user (OpenTelemetry ``user.*``, the older ``enduser.*``).
USER_PREFIXES: tuple[str, ...] = (
    "attributes.user.",
    "attributes.enduser.",
    "resource.user.",
    "resource.enduser.",
)


@dataclass(frozen=True)
class CallOutcomes:
    """The answered calls with the outcomes a bias audit compares.

    Attributes
    ----------
    answered : polars.DataFrame
        The calls that did not fail, with ``refused`` (finish reason ``content_filter``;
        present when the calls carry a finish reason), ``ttft_within_slo`` (present when
        they carry a TTFT; null without one) and ``log_input_tokens`` (when they carry
        token counts).
    calls : int
        Calls before the failed ones were left out.
    ttft_slo_s : float or None
        The TTFT threshold.
    ttft_source : str
        Where it comes from ("given", "the calls' 95th percentile").
    """

    answered: pl.DataFrame
    calls: int
    ttft_slo_s: float | None
    ttft_source: str

    def support(self, outcome: str, *, min_rows: int = 30) -> Any:
        """A :class:`toolkit.Support`: whether ``outcome`` can be audited.

        Parameters
        ----------
        outcome : str
            ``"refused"``, ``"ttft_within_slo"`` or a Boolean column of the calls.
        min_rows : int, default 30
            The fewest answered calls with the outcome.
        """
        from toolkit.ingest.discover import Support

        hows = {
            "refused": "record the finish reason on the model-call spans "
            "(gen_ai.response.finish_reasons)",
            "ttft_within_slo": "stream the responses and record the time to first token "
            "(gen_ai.response.time_to_first_chunk)",
        }
        needs = f"at least {min_rows} answered calls with {outcome}, both outcomes present"
        how = hows.get(outcome, f"add a Boolean column {outcome!r} to the calls")
        frame = self.answered
        if outcome not in frame.columns:
            return Support(
                outcome, needs, f"{frame.height:,} answered calls, no {outcome}", (outcome,), how
            )
        values = frame[outcome].drop_nulls()
        found = f"{values.len():,} answered calls with {outcome}"
        missing = []
        if values.len() < min_rows:
            missing.append(f"at least {min_rows} calls with {outcome}")
        elif values.n_unique() < 2:
            missing.append(f"calls of both outcomes (all are {values[0]})")
        return Support(outcome, needs, found, tuple(missing), how if missing else "")


def call_outcomes(
    calls: Any,
    *,
    ttft_slo_s: float | None = None,
    quantile: float = 0.95,
    refusals: Sequence[str] = ("content_filter",),
) -> CallOutcomes:
    """The answered calls with the outcomes a bias audit compares.

    Failed calls are left out (they belong to the availability SLO). A call is
    ``refused`` when its finish reason is one of ``refusals``; its TTFT is within the SLO
    when at most ``ttft_slo_s`` (None: the calls' ``quantile``, their 95th percentile).

    Parameters
    ----------
    calls : polars.DataFrame or pandas.DataFrame
        ``llm_calls``.
    ttft_slo_s : float, optional
        The TTFT threshold in seconds.
    quantile : float, default 0.95
        Used when ``ttft_slo_s`` is None.
    refusals : sequence of str, default ("content_filter",)
        Finish reasons that count as a refusal.

    Returns
    -------
    CallOutcomes

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"is_error": [False, False, True, False],
    ...                       "finish_reason": ["stop", "content_filter", None, None],
    ...                       "ttft_s": [0.2, 0.1, None, 3.0]})
    >>> out = call_outcomes(calls, ttft_slo_s=1.0)
    >>> out.answered.select("refused", "ttft_within_slo").rows()
    [(False, True), (True, True), (False, False)]
    """
    function = "fairness.call_outcomes"
    data = to_polars(calls, parameter="calls", function=function)
    if isinstance(quantile, bool) or not isinstance(quantile, float | int) or not 0 < quantile < 1:
        raise ParameterError(
            f"The 'quantile' parameter of {function} must be a number strictly between 0 and 1. "
            f"Got {preview(quantile)} instead."
        )
    if ttft_slo_s is not None and (
        isinstance(ttft_slo_s, bool) or not isinstance(ttft_slo_s, float | int) or ttft_slo_s <= 0
    ):
        raise ParameterError(
            f"The 'ttft_slo_s' parameter of {function} must be a positive number or None. "
            f"Got {preview(ttft_slo_s)} instead."
        )
    answered = (
        data.filter(~pl.col("is_error").fill_null(False)) if "is_error" in data.columns else data
    )
    added: list[pl.Expr] = []
    if "finish_reason" in data.columns and data["finish_reason"].null_count() < data.height:
        added.append(
            pl.col("finish_reason").is_in(list(refusals)).fill_null(False).alias("refused")
        )
    threshold, source = None, ""
    if "ttft_s" in data.columns and answered["ttft_s"].null_count() < answered.height:
        if ttft_slo_s is None:
            value = answered["ttft_s"].drop_nans().quantile(quantile, interpolation="nearest")
            threshold = float(value)  # type: ignore[arg-type]
            source = f"the calls' {quantile * 100:g}th percentile"
        else:
            threshold, source = float(ttft_slo_s), "given"
        added.append((pl.col("ttft_s") <= threshold).alias("ttft_within_slo"))
    if "input_tokens" in data.columns:
        added.append(pl.col("input_tokens").fill_null(0).log1p().alias("log_input_tokens"))
    return CallOutcomes(answered.with_columns(added), data.height, threshold, source)


def group_dimensions(calls: Any, *, min_rows: int = 30) -> tuple[list[str], list[str]]:
    """The dimensions of the calls: those that describe the user first, then the others.

    Parameters
    ----------
    calls : polars.DataFrame or pandas.DataFrame
        ``llm_calls``.
    min_rows : int, default 30
        As in :func:`toolkit.dimensions`.

    Returns
    -------
    (list of str, list of str)
        The user dimensions (``user.*``/``enduser.*`` attributes: the groups of users a
        bias audit is about) and the other dimensions (route, prompt category, pool: what
        may explain a gap).

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"attributes.user.tier": ["free", "pro"] * 50,
    ...                       "attributes.app.route": ["chat"] * 50 + ["rag"] * 50})
    >>> group_dimensions(calls)
    (['attributes.user.tier'], ['attributes.app.route'])
    """
    from toolkit.ingest.discover import dimensions

    found = dimensions(calls, min_rows=min_rows)
    users = [c for c in found if c.startswith(USER_PREFIXES)]
    return users, [c for c in found if c not in users]


def _largest(data: pl.DataFrame, column: str) -> Any:
    counts = data[column].drop_nulls().value_counts()
    return counts.sort(["count", column], descending=[True, False])[0, column]


@dataclass(frozen=True)
class DimensionAudit:
    """One outcome audited across several dimensions (from :func:`audit_dimensions`).

    Attributes
    ----------
    audits : dict of str to BiasAudit
        One audit per dimension (or intersection, named ``"a × b"``).
    references : dict of str to value
        The reference group of each dimension.
    outcome : str
    favorable : bool
    """

    audits: dict[str, BiasAudit]
    references: dict[str, Any]
    outcome: str
    favorable: Any

    @property
    def groups(self) -> pl.DataFrame:
        """Every group of every dimension: ``dimension`` then :func:`group_metrics`' columns."""
        keep = [
            "group",
            "n",
            "favorable_rate",
            "reference_rate",
            "disparate_impact",
            "unfavorable_ratio",
            "unfavorable_ratio_low",
            "unfavorable_ratio_high",
            "p_value_holm",
            "small",
            "flagged",
            "disparity",
        ]
        parts = [
            a.groups.select(pl.lit(name).alias("dimension"), *keep)
            for name, a in self.audits.items()
        ]
        if not parts:
            return pl.DataFrame(schema={"dimension": pl.String, "group": pl.String})
        return pl.concat(parts, how="vertical_relaxed")

    @property
    def flagged(self) -> dict[str, list[str]]:
        """The flagged groups of each dimension."""
        return {name: a.flagged["group"].to_list() for name, a in self.audits.items()}

    @property
    def disadvantaged(self) -> dict[str, list[str]]:
        """The flagged groups of each dimension that fare worse than the reference."""
        return {name: a.disadvantaged for name, a in self.audits.items()}

    def worst(self, dimensions: Sequence[str] | None = None) -> dict[str, Any] | None:
        """The disadvantaged group with the highest unfavorable ratio (of ``dimensions``).

        Returns
        -------
        dict or None
            The group's row of :attr:`groups` (``dimension``, ``group``, rates, ratios),
            None when no group is disadvantaged.
        """
        rows = self.groups.filter(pl.col("disparity") == "disadvantaged")
        if dimensions is not None:
            rows = rows.filter(pl.col("dimension").is_in(list(dimensions)))
        if rows.height == 0:
            return None
        return rows.sort("unfavorable_ratio", descending=True, nulls_last=True).row(0, named=True)

    def rates(self, *, unfavorable: bool = False) -> dict[str, dict[str, float]]:
        """The favorable (or unfavorable) rate of each group, per dimension."""
        return {
            name: {
                group: (1.0 - rate if unfavorable else rate)
                for group, rate in a.groups.select("group", "favorable_rate").iter_rows()
            }
            for name, a in self.audits.items()
        }

    def _repr_html_(self) -> str:
        parts = [
            f"<li>{html.escape(redact(name))} (reference "
            f"{html.escape(redact(str(self.references.get(name))))}): "
            f"{html.escape(redact(a.summary()))}</li>"
            for name, a in self.audits.items()
        ]
        flagged = self.groups.filter(pl.col("flagged"))
        table = (
            _html_table(flagged, highlight="flagged")
            if flagged.height
            else "<p>No group flagged.</p>"
        )
        return (
            f"<div><p><strong>Bias audit of {html.escape(self.outcome)}</strong> across "
            f"{len(self.audits)} dimension(s)</p><ul>{''.join(parts)}</ul>"
            f"{table}</div>"
        )


def audit_dimensions(
    frame: Any,
    outcome: str,
    columns: Sequence[str],
    favorable: Any,
    *,
    reference: Mapping[str, Any] | None = None,
    min_group_size: int = 30,
    n_boot: int = 1000,
    seed: int = 0,
) -> DimensionAudit:
    """Audit one outcome across each of several dimensions, each against a reference group.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        The calls (e.g. :attr:`CallOutcomes.answered`).
    outcome : str
        The outcome column; rows where it is null are left out.
    columns : list of str
        The dimensions (group columns); rows where one is null are left out of its audit.
    favorable : value
        The favorable outcome value.
    reference : dict, optional
        ``{column: group}``; a dimension not named is compared with its largest group.
    min_group_size, n_boot, seed
        As in :func:`audit`.

    Returns
    -------
    DimensionAudit

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"locale": ["en"] * 60 + ["tr"] * 40, "tier": ["free", "pro"] * 50,
    ...                       "refused": [False] * 59 + [True] + [False] * 30 + [True] * 10})
    >>> result = audit_dimensions(calls, "refused", ["locale", "tier"], False, n_boot=0)
    >>> result.references, result.disadvantaged
    ({'locale': 'en', 'tier': 'free'}, {'locale': ['tr'], 'tier': []})
    """
    from toolkit.schema import require_columns

    function = "fairness.audit_dimensions"
    data = to_polars(frame, parameter="frame", function=function)
    names = [columns] if isinstance(columns, str) else list(columns)
    require_columns(data, [outcome, *names], table="calls", where=f"({function})")
    given = dict(reference or {})
    require_columns(
        data, list(given), table="calls", where=f"(the 'reference' parameter of {function})"
    )
    data = data.filter(pl.col(outcome).is_not_null())
    audits: dict[str, BiasAudit] = {}
    references: dict[str, Any] = {}
    for column in names:
        part = data.filter(pl.col(column).is_not_null())
        if part.height == 0 or part[column].n_unique() < 2:
            continue
        ref = given[column] if column in given else _largest(part, column)
        references[column] = ref
        audits[column] = audit(
            part,
            outcome,
            column,
            favorable=favorable,
            privileged=ref,
            min_group_size=min_group_size,
            n_boot=n_boot,
            seed=seed,
        )
    return DimensionAudit(audits, references, outcome, favorable)


def audit_intersections(
    frame: Any,
    outcome: str,
    column: str,
    others: Sequence[str],
    favorable: Any,
    *,
    reference: Any,
    min_group_size: int = 30,
    n_boot: int = 1000,
    seed: int = 0,
) -> DimensionAudit:
    """Audit the intersections of one dimension with each of others (``a × b``).

    Each intersection is compared with every call of ``column``'s reference group, so a
    gap that hits one tier of one locale shows even when neither attribute alone is flagged.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    outcome : str
    column : str
        The dimension whose reference group is the reference.
    others : list of str
        The dimensions to intersect it with.
    favorable : value
    reference : value
        The reference group of ``column``.
    min_group_size, n_boot, seed
        As in :func:`audit`.

    Returns
    -------
    DimensionAudit
        One audit per pair, named ``"column × other"``; groups are labelled ``"a & b"``.

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({"locale": ["en"] * 100 + ["tr"] * 100, "tier": ["free", "pro"] * 100,
    ...                       "refused": [False] * 190 + [True] * 10})
    >>> result = audit_intersections(calls, "refused", "locale", ["tier"], False, reference="en",
    ...                              n_boot=0)
    >>> list(result.audits), result.audits["locale × tier"].groups["group"].to_list()
    (['locale × tier'], ['en & free', 'en & pro', 'tr & free', 'tr & pro'])
    """
    from toolkit.schema import require_columns

    function = "fairness.audit_intersections"
    data = to_polars(frame, parameter="frame", function=function)
    require_columns(data, [outcome, column, *others], table="calls", where=f"({function})")
    data = data.filter(pl.col(outcome).is_not_null())
    audits: dict[str, BiasAudit] = {}
    for other in others:
        if other == column:
            continue
        part = data.filter(pl.col(column).is_not_null() & pl.col(other).is_not_null())
        if part.height == 0:
            continue
        audits[f"{column} × {other}"] = audit(
            part,
            outcome,
            [column, other],
            favorable=favorable,
            privileged={column: reference},
            min_group_size=min_group_size,
            n_boot=n_boot,
            seed=seed,
        )
    return DimensionAudit(audits, {column: reference}, outcome, favorable)


def within_strata(
    frame: Any,
    outcome: str,
    column: str,
    group: Any,
    strata: Sequence[str],
    favorable: Any,
    *,
    min_group_size: int = 30,
    n_boot: int = 1000,
    seed: int = 0,
) -> pl.DataFrame:
    """One group against all the others within each value of other dimensions.

    If a group's gap came from its mix (it sends more sensitive prompts, it is served by
    a slower pool), it would vanish within each value of the dimension that explains it.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    outcome : str
    column : str
        The group's dimension.
    group : value
        The group.
    strata : list of str
        The dimensions to hold fixed, one at a time.
    favorable : value
    min_group_size, n_boot, seed
        As in :func:`group_metrics`.

    Returns
    -------
    polars.DataFrame
        One row per stratum value: ``stratum`` (the dimension), ``value``, then the
        group's :func:`group_metrics` row against the other groups of that stratum
        (``n``, ``favorable_rate``, ``reference_rate``, ``unfavorable_ratio`` with its
        interval, ``p_value_holm``, ``small``, ``flagged``).

    Examples
    --------
    >>> import polars as pl
    >>> rows = [("en", "a", i < 5) for i in range(100)] + [("tr", "a", i < 15) for i in range(100)]
    >>> rows += [("en", "b", i < 20) for i in range(100)]
    >>> rows += [("tr", "b", i < 60) for i in range(100)]
    >>> calls = pl.DataFrame(rows, schema=["locale", "category", "refused"], orient="row")
    >>> strata = within_strata(calls, "refused", "locale", "tr", ["category"], False, n_boot=0)
    >>> strata.select("value", "n", pl.col("unfavorable_ratio").round(2)).rows()
    [('a', 100, 3.0), ('b', 100, 3.0)]
    """
    from toolkit.schema import require_columns

    function = "fairness.within_strata"
    data = to_polars(frame, parameter="frame", function=function)
    require_columns(data, [outcome, column, *strata], table="calls", where=f"({function})")
    data = data.filter(pl.col(outcome).is_not_null() & pl.col(column).is_not_null()).with_columns(
        pl.when(pl.col(column) == group)
        .then(pl.lit("group"))
        .otherwise(pl.lit("others"))
        .alias("_split")
    )
    keep = [
        "n",
        "favorable_rate",
        "reference_rate",
        "unfavorable_ratio",
        "unfavorable_ratio_low",
        "unfavorable_ratio_high",
        "p_value_holm",
        "small",
        "flagged",
    ]
    rows: list[pl.DataFrame] = []
    for stratum in strata:
        if stratum == column:
            continue
        for value in sorted(data[stratum].drop_nulls().unique().to_list()):
            part = data.filter(pl.col(stratum) == value)
            if part["_split"].n_unique() < 2:
                continue
            metrics = group_metrics(
                part,
                outcome,
                "_split",
                favorable,
                "others",
                min_group_size=min_group_size,
                n_boot=n_boot,
                seed=seed,
            )
            rows.append(
                metrics.filter(pl.col("_split") == "group").select(
                    pl.lit(stratum).alias("stratum"), pl.lit(str(value)).alias("value"), *keep
                )
            )
    if not rows:
        return pl.DataFrame(schema={"stratum": pl.String, "value": pl.String, "n": pl.Int64})
    return pl.concat(rows, how="vertical_relaxed")


def decision_data(frame: Any, features: Sequence[str], protected: str) -> pl.DataFrame:
    """The rows a decision model is trained on: the protected group known, no null feature.

    Rows without the protected attribute are left out; a null text or boolean feature
    becomes the category ``"(none)"``, a null number 0.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    features : list of str
    protected : str

    Returns
    -------
    polars.DataFrame

    Examples
    --------
    >>> import polars as pl
    >>> rows = pl.DataFrame({"locale": ["en", None, "tr"], "tier": [None, "pro", "free"]})
    >>> decision_data(rows, ["tier"], "locale")["tier"].to_list()
    ['(none)', 'free']
    """
    from toolkit.schema import require_columns

    data = to_polars(frame, parameter="frame", function="fairness.decision_data")
    require_columns(data, [*features, protected], table="calls", where="(fairness.decision_data)")
    filled = [
        pl.col(f).cast(pl.String).fill_null("(none)")
        if data.schema[f] in (pl.String, pl.Boolean, pl.Categorical)
        else pl.col(f).fill_null(0)
        for f in features
        if f != protected
    ]
    return data.filter(pl.col(protected).is_not_null()).with_columns(filled)


def audit_compas(
    path: str | os.PathLike[str],
    *,
    min_group_size: int = 30,
    n_boot: int = 1000,
    seed: int = 0,
) -> BiasAudit:
    """The classic sanity anchor: COMPAS risk scores audited by race against Caucasian.

    AIF360's ``CompasDataset`` rows (:func:`load_compas`); a decile score of 4 or less is
    "low risk" (favorable), the label is whether the defendant did not reoffend within
    two years (favorable), so the equal opportunity difference is defined.

    Parameters
    ----------
    path : path
        ProPublica's ``compas-scores-two-years.csv``.
    min_group_size, n_boot, seed
        As in :func:`audit`.

    Returns
    -------
    BiasAudit
        Of ``low_risk`` by ``race``, label ``no_recid``, each race against Caucasian.

    Examples
    --------
    >>> import os
    >>> path = "/work/shared/data/real/compas/compas-scores-two-years.csv"
    >>> result = audit_compas(path, n_boot=0) if os.path.isfile(path) else None
    >>> result is None or result.n == 6167
    True
    """
    people = load_compas(path).with_columns(
        (pl.col("decile_score") <= 4).alias("low_risk"),
        (pl.col("two_year_recid") == 0).alias("no_recid"),
    )
    return audit(
        people,
        "low_risk",
        "race",
        favorable=True,
        privileged="Caucasian",
        label="no_recid",
        min_group_size=min_group_size,
        n_boot=n_boot,
        seed=seed,
    )
