"""03_explainability on the sample: its numbers recomputed with the toolkit, its findings
checked against the incident windows of truth.json (never against the causes).

The notebook finds its threshold (the calls' 95th percentile TTFT) and its windows (the
burn-rate pages holding the most breaches) from the data; the tests recompute the numbers
on what it recorded and check that the windows it found are the sample's incidents.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from conftest import REPO, SAMPLE, incident_window

import toolkit
from toolkit.explain import explain
from toolkit.report import ReportResult, run_report

NAME = "03_explainability"


@pytest.fixture(scope="module")
def catalog() -> toolkit.Catalog:
    return toolkit.discover(SAMPLE)


@pytest.fixture(scope="module")
def calls(catalog: toolkit.Catalog) -> pl.DataFrame:
    return catalog.table("llm_calls")


def _overlap(found: list[str], truth: tuple[dt.datetime, dt.datetime]) -> float:
    """Intersection over union of two windows."""
    a0, a1 = (dt.datetime.fromisoformat(t) for t in found)
    b0, b1 = truth
    inter = (min(a1, b1) - max(a0, b0)).total_seconds()
    union = (max(a1, b1) - min(a0, b0)).total_seconds()
    return max(inter, 0.0) / union


def test_ttft_breach_numbers(sample_report: ReportResult, calls: pl.DataFrame) -> None:
    nb = sample_report[NAME]
    assert nb.ok, nb.error
    values = nb.values
    assert values["llm_calls"] == calls.height
    assert values["ttft.unlabelled_rows"] == calls["ttft_s"].null_count()
    assert values["ttft.rows"] == calls["ttft_s"].is_not_null().sum()
    threshold = values["ttft.threshold_s"]
    timed = calls.filter(pl.col("ttft_s").is_not_null())
    assert values["ttft.threshold_source"] == "the calls' 95th percentile"
    assert threshold == pytest.approx(timed["ttft_s"].quantile(0.95, "nearest"))
    # the window found from the burn-rate pages is the release regression of the sample
    window = values["ttft.incident.window"]
    assert values["ttft.incident.source"] == "page"
    assert _overlap(window, incident_window(kind="model_release_regression")) > 0.8
    start, end = (dt.datetime.fromisoformat(t) for t in window)
    inside = pl.col("start_time").is_between(start, end, closed="left")
    assert values["ttft.incident.breach_ratio"] == pytest.approx(
        timed.filter(inside)["ttft_s"].gt(threshold).mean()
    )
    assert values["ttft.baseline.breach_ratio"] == pytest.approx(
        timed.filter(~inside)["ttft_s"].gt(threshold).mean()
    )
    # the explanation names prompt length, then the model served in the window (at the
    # 95th percentile the KV-cache burst of the sample's Friday weighs in globally too)
    assert values["ttft.fidelity"] > 0.9
    assert "input_tokens" in values["ttft.top_features"][:2]
    assert "input_tokens" in values["ttft.top_interaction"]
    assert values["ttft.incident.top_feature"] in {
        "response_model",
        "attributes.deployment.pool",
        "request_model",
    }
    served = calls.filter(inside & (pl.col("attributes.deployment.pool") == "h100-pool"))
    assert values["ttft.incident.top_value"] == served["response_model"].mode()[0]
    assert 0 <= values["ttft.lime.sign_agreement"] <= 1
    assert values["ttft.lime.sign_agreement"] >= 0.6


def test_ungrounded_numbers(
    sample_report: ReportResult, calls: pl.DataFrame, catalog: toolkit.Catalog
) -> None:
    values = sample_report[NAME].values
    # the evaluated route and its score, found from the data
    assert values["ungrounded.scope"] == {
        "score": "eval.groundedness",
        "column": "attributes.app.route",
        "value": "rag-qa",
    }
    rag = calls.filter(pl.col("attributes.app.route") == "rag-qa")
    evaluated = rag.filter(pl.col("eval.groundedness").is_not_null())
    assert values["ungrounded.rows"] == evaluated.height
    window = values["ungrounded.incident.window"]
    assert _overlap(window, incident_window(kind="quality_regression")) > 0.6
    start, end = (dt.datetime.fromisoformat(t) for t in window)
    inside = pl.col("start_time").is_between(start, end, closed="left")
    assert values["ungrounded.incident.ratio"] == pytest.approx(
        evaluated.filter(inside)["eval.groundedness"].lt(0.5).mean()
    )
    assert values["ungrounded.baseline.ratio"] == pytest.approx(
        evaluated.filter(~inside)["eval.groundedness"].lt(0.5).mean()
    )
    # confined to a past window: the time holdout cannot predict it (flagged low fidelity)
    assert values["ungrounded.fidelity.time_holdout"] < 0.7
    assert values["ungrounded.incident.top_feature"] == "retrieval.query_overlap"
    again = explain(
        rag,
        (pl.col("eval.groundedness") < 0.5).alias("ungrounded"),
        spans=catalog.table("spans"),
        holdout_by="random",
        progress=False,
    )
    assert values["ungrounded.fidelity"] == pytest.approx(again.fidelity)


def test_a_folder_of_few_calls_skips_with_reasons(tmp_path: Path) -> None:
    """Real exports of one instrumentation (18 calls, no evaluation): every section says
    what it needs and the notebook ends without a traceback."""
    folder = REPO / "tests" / "data" / "instrumented" / "openinference"
    if not folder.is_dir():
        pytest.skip("the instrumented exports are not in this checkout")
    result = run_report(folder, tmp_path / "out", only=NAME, progress=False)
    nb = result[NAME]
    assert nb.ok, nb.error
    skipped = {s.section: s for s in nb.skipped}
    assert set(skipped) == {"TTFT breaches explained", "Ungrounded answers explained"}
    assert "at least 200 rows" in skipped["TTFT breaches explained"].missing
    assert skipped["Ungrounded answers explained"].missing == ("eval.<name>",)
    assert "gen_ai.evaluation.result" in skipped["Ungrounded answers explained"].how
    assert nb.values["llm_calls"] == toolkit.discover(folder).table("llm_calls").height
