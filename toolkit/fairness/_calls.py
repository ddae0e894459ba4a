"""Audits of the calls: outcomes per call (:func:`call_outcomes`), the group columns
found in them (:func:`group_dimensions`), audits per dimension, intersection and
stratum, the decision data of a model, and the COMPAS anchor (:func:`audit_compas`).
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from toolkit._validation import Frame, InstanceOf, Interval, Names, Strings, validate_params
from toolkit.datasets import load_compas
from toolkit.fairness._metrics import BiasAudit, _html_table, audit, group_metrics
from toolkit.fairness._params import at_least
from toolkit.redact import redact

#: The options the audits of the calls share (as in :func:`toolkit.fairness.audit`).
_AUDIT: dict[str, object] = {
    "frame": Frame(),
    "min_group_size": at_least(1),
    "n_boot": at_least(0),
    "seed": at_least(0),
}

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


@validate_params(
    calls=Frame(),
    ttft_slo_s=[Interval(float, 0, None, closed="right"), None],
    quantile=Interval(float, 0, 1, closed="neither"),
    refusals=Strings(),
)
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
    data: pl.DataFrame = calls
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


@validate_params(calls=Frame())
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


@validate_params(
    **_AUDIT, columns=Names(), reference=[InstanceOf(Mapping, description="a mapping"), None]
)
def audit_dimensions(
    frame: Any,
    outcome: str,
    columns: Sequence[str],
    *,
    favorable: Any,
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
    >>> result = audit_dimensions(calls, "refused", ["locale", "tier"], favorable=False, n_boot=0)
    >>> result.references, result.disadvantaged
    ({'locale': 'en', 'tier': 'free'}, {'locale': ['tr'], 'tier': []})
    """
    from toolkit.schema import require_columns

    function = "fairness.audit_dimensions"
    data: pl.DataFrame = frame
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


@validate_params(**_AUDIT, others=Strings(description="a list of column names"))
def audit_intersections(
    frame: Any,
    outcome: str,
    column: str,
    *,
    others: Sequence[str],
    favorable: Any,
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
    >>> result = audit_intersections(calls, "refused", "locale", others=["tier"],
    ...                              favorable=False, reference="en", n_boot=0)
    >>> list(result.audits), result.audits["locale × tier"].groups["group"].to_list()
    (['locale × tier'], ['en & free', 'en & pro', 'tr & free', 'tr & pro'])
    """
    from toolkit.schema import require_columns

    function = "fairness.audit_intersections"
    data: pl.DataFrame = frame
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


@validate_params(**_AUDIT, strata=Strings(description="a list of column names"))
def within_strata(
    frame: Any,
    outcome: str,
    column: str,
    *,
    group: Any,
    strata: Sequence[str],
    favorable: Any,
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
    >>> strata = within_strata(calls, "refused", "locale", group="tr", strata=["category"],
    ...                        favorable=False, n_boot=0)
    >>> strata.select("value", "n", pl.col("unfavorable_ratio").round(2)).rows()
    [('a', 100, 3.0), ('b', 100, 3.0)]
    """
    from toolkit.schema import require_columns

    function = "fairness.within_strata"
    data: pl.DataFrame = frame
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
                favorable=favorable,
                privileged="others",
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


@validate_params(
    frame=Frame(), features=Strings(description="a list of column names"), protected=str
)
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

    data: pl.DataFrame = frame
    require_columns(data, [*features, protected], table="calls", where="(fairness.decision_data)")
    filled = [
        pl.col(f).cast(pl.String).fill_null("(none)")
        if data.schema[f] in (pl.String, pl.Boolean, pl.Categorical)
        else pl.col(f).fill_null(0)
        for f in features
        if f != protected
    ]
    return data.filter(pl.col(protected).is_not_null()).with_columns(filled)


@validate_params(min_group_size=at_least(1), n_boot=at_least(0), seed=at_least(0))
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
    ProPublica's file (tests/test_fairness.py checks these figures against AIF360):

    >>> result = audit_compas("compas-scores-two-years.csv", n_boot=0)  # doctest: +SKIP
    >>> result.n  # doctest: +SKIP
    6167

    A path that is not a file is named in the error:

    >>> audit_compas("no/such/compas.csv")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'path' parameter of datasets.load_compas must name an \
existing file. Got 'no/such/compas.csv', which does not exist, instead.
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
