"""Notebook 05: the numbers it records on the sample are those the toolkit gives on the same
files, and the incidents it reports lie in their truth.json windows (used only to check)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import LAYOUT, REPO, SAMPLE, incident_window, sample_traces

import toolkit
from toolkit import drift, quality
from toolkit.report import ReportResult, run_report

NAME = "05_drift_and_hallucinations"


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def values(sample_report: ReportResult) -> dict[str, object]:
    return dict(sample_report[NAME].values)


@pytest.fixture(scope="module")
def spans() -> pl.DataFrame:
    return toolkit.load_spans(sample_traces(), progress=False)


def test_prompt_mix_drift_is_reported_in_its_window(
    values: dict[str, object], spans: pl.DataFrame
) -> None:
    start, end = incident_window("prompt-mix-drift")
    calls = toolkit.llm_calls(spans)
    # the reference, the windows and the columns are chosen from the data: the first third
    # of the week in whole days (two days, before the drift) and the attributes with a few
    # values plus the token counts
    plan = drift.plan(calls)
    reference = plan.reference
    assert reference is not None
    assert [_time(str(t)) for t in values["reference"]] == list(reference)  # type: ignore[attr-defined]
    assert reference[1] <= start
    assert values["drift_every"] == plan.every == "1d"
    assert values["series_every"] == plan.series_every == "1h"
    columns = list(plan.columns)
    assert {"attributes.user.locale", "input_tokens"} <= set(columns)
    windows = drift.windowed(calls, reference=reference, every="1d", columns=columns)
    found = drift.detections(windows, after=reference[1]).drop_nulls("detected_at")
    assert values["prompt_mix.drifted_columns"] == found["column"].to_list()
    assert "attributes.user.locale" in found["column"].to_list()
    detected = _time(str(values["prompt_mix.detected_at"]))
    assert detected == found["detected_at"].min()
    assert start <= detected < end
    assert values["prompt_mix.top_column"] == "attributes.user.locale"
    assert values["prompt_mix.top_value"] == "hi-IN"
    for key in ("prompt_mix.share_change_at", "prompt_mix.length_change_at"):
        assert start <= _time(str(values[key])) < start + dt.timedelta(hours=3)


def test_grounding_incident_is_reported_in_its_window(
    values: dict[str, object], spans: pl.DataFrame
) -> None:
    start, end = incident_window("stale-retrieval-index")
    assert _time(str(values["grounding.start"])) == start
    assert _time(str(values["grounding.end"])) == end
    rag = quality.signals(spans).filter(pl.col("retrieval") != "none")
    inside = rag.filter(pl.col("start_time").is_between(start, end, closed="left"))
    outside = rag.filter(~pl.col("start_time").is_between(start, end, closed="left"))
    assert values["grounding.risk_rate_inside"] == pytest.approx(
        inside["hallucination_risk"].mean()
    )
    assert values["grounding.risk_rate_outside"] == pytest.approx(
        outside["hallucination_risk"].mean()
    )
    evaluated = rag.filter(
        pl.col("eval.groundedness").is_not_null() & pl.col("groundedness").is_not_null()
    )
    agreement = ((evaluated["eval.groundedness"] >= 0.5) == ~evaluated["ungrounded"]).mean()
    assert values["groundedness.evaluation"] == "eval.groundedness"
    assert values["groundedness.evaluated"] == evaluated.height == 947
    assert values["groundedness.agreement"] == pytest.approx(agreement)
    assert values["grounding.measure"] == "hallucination risk"
    assert values["grounding.windows"] == 1
    # the text reference is the reference window's longest part clear of the bad answers
    assert _time(str(values["text.reference"][1])) == start  # type: ignore[index]
    assert values["text.question_scripts"] == ["Latin"]  # the sample's hi-IN prompts are English
    ngram_changes = [_time(str(t)) for t in values["text.answer_ngram_changes"]]  # type: ignore[attr-defined]
    assert start in ngram_changes
    assert end in ngram_changes


SECTIONS = {
    "Prompt-mix drift",
    "Category share shifts",
    "Change points of the prompt mix",
    "Hallucination signals",
    "The offline score against recorded evaluations",
    "Incident windows of bad answers",
    "Text drift",
}


def test_a_folder_of_few_calls_is_not_applicable_with_reasons(tmp_path: Path) -> None:
    """Real exports of one instrumentation (18 calls, no retrieval, no evaluation): every
    section says what it needs and the notebook ends without a traceback."""
    folder = REPO / "tests" / "data" / "instrumented" / "openinference"
    if not folder.is_dir():
        pytest.skip("the instrumented exports are not in this checkout")
    nb = run_report(folder, tmp_path / "out", only=NAME, progress=False)[NAME]
    assert nb.ok, nb.error
    assert nb.status == "not applicable"
    skipped = {s.section: s for s in nb.skipped}
    assert set(skipped) == SECTIONS
    assert "at least 100 calls" in skipped["Prompt-mix drift"].missing
    assert "a categorical column" in skipped["Category share shifts"].missing
    assert "gen_ai.retrieval.documents" in skipped["Hallucination signals"].how
    assert "gen_ai.evaluation.result" in skipped["Incident windows of bad answers"].how
    assert nb.values["llm_calls"] == toolkit.discover(folder).table("llm_calls").height


def test_a_metrics_only_folder_is_not_applicable(tmp_path: Path) -> None:
    folder = tmp_path / "scrapes" / "node-1"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE / LAYOUT["vllm_metrics"], folder / "metrics-dump.gz")
    nb = run_report(tmp_path / "scrapes", tmp_path / "out", only=NAME, progress=False)[NAME]
    assert nb.ok, nb.error
    assert nb.status == "not applicable"
    skipped = {s.section: s for s in nb.skipped}
    assert set(skipped) == SECTIONS
    assert skipped["Prompt-mix drift"].missing == ("llm_calls",)
    assert nb.values["llm_calls"] == 0
