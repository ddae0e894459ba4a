"""Notebook 10: the sample's compliance regression is found in its truth.json window with the
right rules and release (truth used only to check), the numbers are the library's on the same
file, and the notebook runs on a plain table of answers (test_adapt runs it on folders
without answers, where it is "not applicable")."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLE, incident_window

import toolkit
from toolkit import compliance
from toolkit.report import ReportResult, run_report

NAME = "10_guideline_compliance"


def _time(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value))


@pytest.fixture(scope="module")
def values(sample_report: ReportResult) -> dict[str, object]:
    nb = sample_report[NAME]
    assert nb.status == "ok", nb.error
    return dict(nb.values)


def test_the_regression_is_found_in_its_window_with_its_rules_and_release(
    values: dict[str, object],
) -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    [incident] = [i for i in truth["incidents"] if i["kind"] == "guideline_compliance_regression"]
    start, end = incident_window(incident["id"])
    assert values["every"] == "1d"
    change_at = _time(values["compliance.change_at"])
    # the first daily window of the higher level is the one the release happened in
    assert change_at <= start < change_at + dt.timedelta(days=1)
    assert change_at < end
    assert sorted(values["compliance.changed_rules"]) == sorted(incident["rules"])  # type: ignore[arg-type]
    column, value = values["compliance.release_column"], values["compliance.release_value"]
    assert (column, value) in {
        ("model", incident["release"]["gen_ai.response.model"]),
        ("resource.service.version", incident["release"]["service.version"]),
    }
    release_time = _time(values["compliance.release_time"])
    assert start <= release_time < start + dt.timedelta(hours=1)  # the first answer after it
    assert values["compliance.silent_rules"] == []


def test_the_numbers_are_the_librarys_on_the_same_file(values: dict[str, object]) -> None:
    spans = toolkit.load_spans(SAMPLE / "clinical_traces.jsonl.gz", progress=False)
    answers = compliance.answers(spans)
    rules = compliance.load_rules(compliance.HEALTHCARE_RULES)
    found = compliance.regression(answers, rules, every="1d")
    assert values["answers"] >= answers.height  # type: ignore[operator]
    assert _time(values["compliance.change_at"]) == found.start
    assert values["compliance.rate_before"] == pytest.approx(found.rate_before)
    assert values["compliance.rate_after"] == pytest.approx(found.rate_after)
    # the rates before and after are the shares of answers breaking a rule on either side
    evaluation = compliance.evaluate(answers, rules)
    per_answer = evaluation.group_by("answer_id", "time").agg(
        (pl.col("passed") == False).any().alias("bad")  # noqa: E712
    )
    before = per_answer.filter(pl.col("time") < found.start)["bad"].mean()
    after = per_answer.filter(pl.col("time") >= found.start)["bad"].mean()
    assert found.rate_before == pytest.approx(before)
    assert found.rate_after == pytest.approx(after)
    worst = compliance.worst(answers, rules, n=10)
    assert values["compliance.worst_rules"] == worst["rules"].to_list()


def test_a_table_of_answers_is_checked(
    tmp_path: Path,
) -> None:
    days = [dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(days=d) for d in range(8)]
    good = (
        "For a headache, paracetamol 500 mg helps [NICE CKS: headache]. This is general "
        "information, not a substitute for medical advice: see your doctor if it lasts."
    )
    bad = "You definitely have a migraine: take ibuprofen 1.2 g."
    rows = [
        {
            "ts": (day + dt.timedelta(hours=h)).isoformat(),
            "text": bad if (d >= 4 and h % 2) else good,
        }
        for d, day in enumerate(days)
        for h in range(10)
    ]
    folder = tmp_path / "exports"
    folder.mkdir()
    table = folder / "answers.csv"
    pl.DataFrame(rows).write_csv(table)
    result = run_report(
        folder,
        tmp_path / "report",
        only=NAME,
        progress=False,
        parameters={"answers_file": str(table), "answer_column": "text", "time_column": "ts"},
    )
    nb = result[NAME]
    assert nb.status == "ok", nb.error
    got = dict(nb.values)
    assert got["answers"] == 80
    assert _time(got["compliance.change_at"]) == days[4]
    assert sorted(got["compliance.changed_rules"]) == [  # type: ignore[arg-type]
        "certain-diagnosis",
        "disclaimer",
        "max-single-dose",
        "referral",
        "source-citation",
    ]
    assert got["compliance.rate_before"] == 0.0
    assert got["compliance.rate_after"] == 0.5
    assert got["compliance.release_value"] is None  # the table names no version
    assert got["compliance.silent_rules"] == ["personal-data", "stop-medication"]
