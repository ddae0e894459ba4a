"""04_bias_audit on the sample: its recorded numbers, recomputed from the same files."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import LAYOUT, NOTEBOOKS, SAMPLE

import toolkit
from toolkit import fairness
from toolkit.report import ReportResult

LOCALE = "attributes.user.locale"
TTFT_SLO_S = 1.0  # the notebook's default parameter


@pytest.fixture(scope="module")
def answered() -> pl.DataFrame:
    calls = toolkit.llm_calls(toolkit.load_spans(SAMPLE / LAYOUT["traces"], progress=False))
    return calls.filter(~pl.col("is_error")).with_columns(
        (pl.col("finish_reason") == "content_filter").fill_null(False).alias("refused"),
        pl.col("input_tokens").fill_null(0).log1p().alias("log_input_tokens"),
    )


def test_refusal_audit_finds_the_unequal_locale(
    sample_report: ReportResult, answered: pl.DataFrame
) -> None:
    nb = sample_report["04_bias_audit"]
    assert nb.ok, nb.error
    values = nb.values
    assert values["calls.answered"] == answered.height
    counts = answered.group_by(LOCALE).agg(pl.len().alias("n"), pl.col("refused").sum())
    biggest = counts.sort("n", descending=True)[LOCALE][0]
    assert values["reference_locale"] == biggest
    rates = {r[LOCALE]: r["refused"] / r["n"] for r in counts.iter_rows(named=True)}
    assert values["refusals.rate_by_locale"] == pytest.approx(rates, abs=1e-12)
    assert values["refusals.rate"] == pytest.approx(answered["refused"].mean(), abs=1e-12)
    # the one locale refused far more often than the reference, flagged by the audit
    assert values["refusals.unequal_locales"] == ["tr-TR"]
    assert values["refusals.flagged"] == ["tr-TR"]
    assert values["refusals.unfavorable_ratio"] == pytest.approx(
        rates["tr-TR"] / rates[biggest], rel=1e-12
    )
    assert values["refusals.unfavorable_ratio"] > 5
    assert values["refusals.disparate_impact"] == pytest.approx(
        (1 - rates["tr-TR"]) / (1 - rates[biggest]), rel=1e-12
    )
    assert values["refusals.disparate_impact"] > 0.8  # what the prose says
    # the gap holds within every prompt category that is not small
    assert values["refusals.within_category.min_ratio"] > 1.25
    disadvantaged = values["refusals.intersections.disadvantaged"]
    tiers = answered["attributes.user.tier"].unique().to_list()
    assert {f"tr-TR & {tier}" for tier in tiers} <= set(disadvantaged)
    assert values["refusals.tier.flagged"] == []
    headlines = [r.headline for r in nb.records if r.headline]
    assert any(h.startswith("tr-TR calls are refused") for h in headlines)
    assert 3 <= len(headlines) <= 6


def test_slo_attainment_and_mitigation(sample_report: ReportResult, answered: pl.DataFrame) -> None:
    values = sample_report["04_bias_audit"].values
    timed = answered.filter(pl.col("ttft_s").is_not_null())
    attained = (timed["ttft_s"] <= TTFT_SLO_S).mean()
    assert values["slo.attainment"] == pytest.approx(attained, abs=1e-12)
    by_tier = timed.group_by("attributes.user.tier").agg((pl.col("ttft_s") <= TTFT_SLO_S).mean())
    assert values["slo.attainment_by_tier"] == pytest.approx(dict(by_tier.iter_rows()), abs=1e-12)
    assert values["slo.flagged"] == []
    # the same mitigation, rerun: same numbers; both methods improve the parity gap
    features = [
        "log_input_tokens",
        "attributes.app.route",
        "attributes.user.tier",
        LOCALE,
        "attributes.app.prompt.category",
    ]
    others = sorted(set(answered[LOCALE].drop_nulls()) - {"tr-TR"})
    result = fairness.mitigate(answered, "refused", features, LOCALE, False, others, seed=0)
    spd = result.table["statistical_parity_difference"].to_list()
    assert values["mitigation.spd.baseline"] == pytest.approx(spd[0], abs=1e-12)
    assert values["mitigation.spd.reweighing"] == pytest.approx(spd[1], abs=1e-12)
    assert values["mitigation.spd.postprocessing"] == pytest.approx(spd[2], abs=1e-12)
    assert abs(spd[1]) < abs(spd[0]) / 5
    assert abs(spd[2]) < abs(spd[0]) / 5
    # The COMPAS section runs when the dataset sits where a development checkout keeps it
    # (the notebook's default path, relative to notebooks/), and is skipped otherwise.
    compas_csv = NOTEBOOKS / "../../shared/data/real/compas/compas-scores-two-years.csv"
    if not compas_csv.is_file():
        assert values["compas.disparate_impact"] is None
        return
    people = fairness.load_compas(compas_csv).with_columns(
        (pl.col("decile_score") <= 4).alias("low_risk"),
        (pl.col("two_year_recid") == 0).alias("no_recid"),
    )
    groups = fairness.group_metrics(
        people, "low_risk", "race", favorable=True, privileged="Caucasian", label="no_recid"
    )
    black = groups.filter(pl.col("group") == "African-American").row(0, named=True)
    assert values["compas.rows"] == people.height == 6167
    assert values["compas.disparate_impact"] == pytest.approx(black["disparate_impact"], abs=1e-12)
    assert values["compas.equal_opportunity_difference"] == pytest.approx(
        black["equal_opportunity_difference"], abs=1e-12
    )
