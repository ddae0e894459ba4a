"""Group metrics computed natively with polars (:func:`group_metrics`,
:func:`theil_index`) and the audit object (:class:`BiasAudit`, :func:`audit`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Frame,
    frame_out,
    reject,
    validate_params,
)
from toolkit.fairness._params import (
    _LABEL_WITH_CI,
    _WITH_CI,
    BAND,
    UNIT,
    _check_band,
    _column,
    _group_columns,
    _member,
    _no_nulls,
    _outcome_and_label,
    _privileged,
    _values,
    at_least,
)
from toolkit.redact import redact

#: The options :func:`group_metrics` and :func:`audit` share.
_OPTIONS: dict[str, object] = {
    "frame": Frame(),
    "min_group_size": at_least(1),
    "confidence": UNIT,
    "n_boot": at_least(0),
    "seed": at_least(0),
    "alpha": UNIT,
}


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
    data: pl.DataFrame = frame
    outcome = _column(data, outcome, "outcome", function)
    columns = _group_columns(data, group, function)
    if outcome in columns:
        raise reject(
            "outcome", "not be one of the group columns", got=repr(outcome), function=function
        )
    _no_nulls(data, outcome, "outcome", function)
    fav_outcome = _values(data, outcome, favorable, function)
    fav_label = None
    if label is not None:
        label = _column(data, label, "label", function)
        _no_nulls(data, label, "label", function)
        fav_label = _values(data, label, favorable, function)
    return data, columns, fav_outcome, fav_label


@validate_params(**_OPTIONS, backend=BACKEND)
def group_metrics(
    frame: Any,
    outcome: str,
    group: str | Sequence[str],
    *,
    favorable: Any,
    privileged: Any,
    label: str | None = None,
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
    >>> m = group_metrics(calls, "served", "locale", favorable=True, privileged="en", n_boot=0)
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
    function = "fairness.group_metrics"
    data, columns, fav_outcome, fav_label = _prepare(
        frame, outcome, group, favorable, label, function
    )
    min_group_size, n_boot, seed = int(min_group_size), int(n_boot), int(seed)
    confidence, alpha = float(confidence), float(alpha)
    band = _check_band(band, function)

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
    return frame_out(result, backend)


@validate_params(frame=Frame())
def theil_index(frame: Any, outcome: str, *, label: str, favorable: Any) -> float:
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
    >>> round(theil_index(f, "pred", label="truth", favorable=1), 6)  # benefits 1, 2, 1, 0
    0.346574
    """
    function = "fairness.theil_index"
    data, outcome, label = _outcome_and_label(frame, outcome, label, function)
    fav_outcome = _values(data, outcome, favorable, function)
    fav_label = _values(data, label, favorable, function)
    if data.height == 0:
        raise reject("frame", "have rows", got="an empty frame", function=function)
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


@validate_params(**_OPTIONS)
def audit(
    frame: Any,
    outcome: str,
    group: str | Sequence[str],
    *,
    favorable: Any,
    privileged: Any = None,
    label: str | None = None,
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
        favorable=favorable,
        privileged=privileged,
        label=label,
        min_group_size=min_group_size,
        confidence=confidence,
        n_boot=n_boot,
        seed=seed,
        band=band,
        alpha=alpha,
    )
    data: pl.DataFrame = frame
    fav = _values(data, outcome, favorable, "fairness.audit")
    n = data.height
    rate = data[outcome].is_in(fav.implode()).mean() if n else None
    columns = [group] if isinstance(group, str) else list(group)
    specs = _privileged(data.select(columns).unique(), columns, privileged, "fairness.audit")
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
        else theil_index(data, outcome, label=label, favorable=favorable),
        band=(float(band[0]), float(band[1])),
        min_group_size=min_group_size,
        confidence=confidence,
        alpha=alpha,
    )
