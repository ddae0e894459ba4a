"""04_bias_audit on the sample: its recorded numbers, recomputed from the same files.

The notebook audits every dimension the calls carry, each against its largest group, and
examines the most disadvantaged group of users; the tests recompute its numbers and check
that the sample's biased locale is the one it finds (truth.json's locale-refusal-bias).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLE

import toolkit
from toolkit import fairness
from toolkit.report import ReportResult, run_report

LOCALE = "attributes.user.locale"
TIER = "attributes.user.tier"
CATEGORY = "attributes.app.prompt.category"
COMPAS = Path("compas") / "compas-scores-two-years.csv"  # under the real data folder


@pytest.fixture(scope="module")
def calls(sample_report: ReportResult) -> pl.DataFrame:
    # the folder the notebook read (the sample renamed and nested): the mitigation's split
    # follows the calls' order, which follows the files' names
    assert sample_report.data_dir is not None
    return toolkit.discover(sample_report.data_dir).table("llm_calls")


@pytest.fixture(scope="module")
def answered(calls: pl.DataFrame) -> pl.DataFrame:
    return calls.filter(~pl.col("is_error")).with_columns(
        (pl.col("finish_reason") == "content_filter").fill_null(False).alias("refused"),
        pl.col("input_tokens").fill_null(0).log1p().alias("log_input_tokens"),
    )


def _biased_locale() -> str:
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    [bias] = [i for i in truth["incidents"] if i["kind"] == "bias"]
    return str(bias["slice"]["user.locale"])


def test_refusal_audit_finds_the_unequal_locale(
    sample_report: ReportResult, answered: pl.DataFrame, calls: pl.DataFrame
) -> None:
    nb = sample_report["04_bias_audit"]
    assert nb.ok, nb.error
    values = nb.values
    biased = _biased_locale()
    assert values["calls.answered"] == answered.height
    # the dimensions come from the calls: the user's locale and tier among them
    assert set(values["dimensions"]) == set(toolkit.dimensions(calls))
    assert {LOCALE, TIER, CATEGORY} <= set(values["dimensions"])
    counts = answered.group_by(LOCALE).agg(pl.len().alias("n"), pl.col("refused").sum())
    biggest = counts.sort("n", descending=True)[LOCALE][0]
    assert values["reference_groups"][LOCALE] == biggest
    rates = {r[LOCALE]: r["refused"] / r["n"] for r in counts.iter_rows(named=True)}
    assert values["refusals.rate_by_group"][LOCALE] == pytest.approx(rates, abs=1e-12)
    assert values["refusals.rate"] == pytest.approx(answered["refused"].mean(), abs=1e-12)
    # the one locale refused far more often than the reference, flagged by the audit, and
    # the group of users the notebook examines
    assert values["refusals.disadvantaged"][LOCALE] == [biased]
    assert values["refusals.flagged"][LOCALE] == [biased]
    assert values["refusals.investigated"] == {"dimension": LOCALE, "group": biased}
    assert values["refusals.unfavorable_ratio"] == pytest.approx(
        rates[biased] / rates[biggest], rel=1e-12
    )
    assert values["refusals.unfavorable_ratio"] > 5
    assert values["refusals.disparate_impact"] == pytest.approx(
        (1 - rates[biased]) / (1 - rates[biggest]), rel=1e-12
    )
    assert values["refusals.disparate_impact"] > 0.8  # what the prose says
    # the gap holds within every prompt category (and every other dimension) not small
    within = values["refusals.within.min_ratio"]
    assert within[CATEGORY] > 1.25
    assert min(within.values()) > 1.25
    disadvantaged = values["refusals.intersections.disadvantaged"]
    tiers = answered[TIER].drop_nulls().unique().to_list()  # calls without a tier: none
    assert {f"{biased} & {tier}" for tier in tiers} <= set(disadvantaged)
    assert values["refusals.flagged"][TIER] == []
    headlines = [r.headline for r in nb.records if r.headline]
    assert any(h.startswith(f"{biased} calls are refused") for h in headlines)
    assert 3 <= len(headlines) <= 6


def test_slo_attainment_and_mitigation(sample_report: ReportResult, answered: pl.DataFrame) -> None:
    values = sample_report["04_bias_audit"].values
    biased = _biased_locale()
    timed = answered.filter(pl.col("ttft_s").is_not_null())
    threshold = values["slo.threshold_s"]
    assert values["slo.threshold_source"] == "the calls' 95th percentile"
    assert threshold == pytest.approx(timed["ttft_s"].quantile(0.95, "nearest"))
    attained = (timed["ttft_s"] <= threshold).mean()
    assert values["slo.attainment"] == pytest.approx(attained, abs=1e-12)
    by_tier = timed.group_by(TIER).agg((pl.col("ttft_s") <= threshold).mean())
    assert values["slo.attainment_by_group"][TIER] == pytest.approx(
        dict(by_tier.iter_rows()), abs=1e-12
    )
    # no tier or locale is served slower than the band allows (at the 95th percentile the
    # largest groups, the references, see more breaches: others come out "advantaged")
    assert values["slo.disadvantaged"][TIER] == []
    assert values["slo.disadvantaged"][LOCALE] == []
    # the same mitigation, rerun: same numbers; both methods improve the parity gap
    features = values["mitigation.features"]
    assert features[:1] == ["log_input_tokens"]
    assert {LOCALE, TIER, CATEGORY} <= set(features)
    model = fairness.decision_data(answered, features, LOCALE)
    others = sorted(set(answered[LOCALE].drop_nulls()) - {biased})
    result = fairness.mitigate(
        model,
        "refused",
        features=features,
        protected=LOCALE,
        favorable=False,
        privileged=others,
        seed=0,
    )
    spd = result.table["statistical_parity_difference"].to_list()
    assert values["mitigation.spd.baseline"] == pytest.approx(spd[0], abs=1e-12)
    assert values["mitigation.spd.reweighing"] == pytest.approx(spd[1], abs=1e-12)
    assert values["mitigation.spd.reject_option"] == pytest.approx(spd[2], abs=1e-12)
    assert abs(spd[1]) < abs(spd[0]) / 5
    assert abs(spd[2]) < abs(spd[0]) / 5
    # without the compas parameter the anchor is skipped, with its reason
    skipped = [s.section for s in sample_report["04_bias_audit"].skipped]
    assert skipped == ["COMPAS sanity anchor"]
    assert "compas.disparate_impact" not in values


@pytest.mark.real_data
def test_compas_anchor_on_a_folder_without_telemetry(tmp_path: Path, real_data: Path) -> None:
    """The COMPAS section runs from its path parameter; every telemetry section skips."""
    compas = real_data / COMPAS
    empty = tmp_path / "data"
    empty.mkdir()
    (empty / "notes.txt").write_text("no telemetry here\n", encoding="utf-8")
    result = run_report(
        empty,
        tmp_path / "out",
        only="04_bias_audit",
        progress=False,
        parameters={"compas": str(compas), "n_boot": 200},
    )
    nb = result["04_bias_audit"]
    assert nb.ok, nb.error
    ran = [title for title, skip in nb.sections if skip is None]
    assert ran == ["COMPAS sanity anchor"]
    assert {s.section for s in nb.skipped} == {"Refusals by group", "TTFT within the SLO by group"}
    values = nb.values
    groups = fairness.group_metrics(
        fairness.load_compas(compas).with_columns(
            (pl.col("decile_score") <= 4).alias("low_risk"),
            (pl.col("two_year_recid") == 0).alias("no_recid"),
        ),
        "low_risk",
        "race",
        favorable=True,
        privileged="Caucasian",
        label="no_recid",
    )
    black = groups.filter(pl.col("group") == "African-American").row(0, named=True)
    assert values["compas.rows"] == 6167
    assert values["compas.disparate_impact"] == pytest.approx(black["disparate_impact"], abs=1e-12)
    assert values["compas.disparate_impact"] < 0.8
    assert values["compas.equal_opportunity_difference"] == pytest.approx(
        black["equal_opportunity_difference"], abs=1e-12
    )
    assert values["compas.equal_opportunity_difference"] < 0
