"""03_explainability on the sample: its numbers recomputed with the toolkit, its findings
checked against the incident windows of truth.json (never against the causes)."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import LAYOUT, SAMPLE, incident_window

import toolkit
from toolkit.explain import explain
from toolkit.report import ReportResult

NAME = "03_explainability"


@pytest.fixture(scope="module")
def calls() -> pl.DataFrame:
    return toolkit.llm_calls(toolkit.load_spans(SAMPLE / LAYOUT["traces"]))


def test_ttft_breach_numbers(sample_report: ReportResult, calls: pl.DataFrame) -> None:
    values = sample_report[NAME].values
    assert values["llm_calls"] == calls.height
    assert values["ttft.unlabelled_rows"] == calls["ttft_s"].null_count()
    assert values["ttft.rows"] == calls["ttft_s"].is_not_null().sum()
    start, end = incident_window(kind="model_release_regression")
    timed = calls.filter(pl.col("ttft_s").is_not_null())
    inside = pl.col("start_time").is_between(start, end, closed="left")
    assert values["ttft.incident.breach_ratio"] == pytest.approx(
        timed.filter(inside)["ttft_s"].gt(2.0).mean()
    )
    assert values["ttft.baseline.breach_ratio"] == pytest.approx(
        timed.filter(~inside)["ttft_s"].gt(2.0).mean()
    )
    # the explanation names prompt length, then the model served in the window
    assert values["ttft.fidelity"] > 0.9
    assert values["ttft.top_features"][0] == "input_tokens"
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


def test_ungrounded_numbers(sample_report: ReportResult, calls: pl.DataFrame) -> None:
    values = sample_report[NAME].values
    rag = calls.filter(pl.col("attributes.app.route") == "rag-qa")
    evaluated = rag.filter(pl.col("eval.groundedness").is_not_null())
    assert values["ungrounded.rows"] == evaluated.height
    start, end = incident_window(kind="quality_regression")
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
    spans = toolkit.load_spans(SAMPLE / LAYOUT["traces"])
    again = explain(
        rag,
        (pl.col("eval.groundedness") < 0.5).alias("ungrounded"),
        spans=spans,
        holdout_by="random",
        progress=False,
    )
    assert values["ungrounded.fidelity"] == pytest.approx(again.fidelity)
