"""Notebook 09: on the sample it finds the fraud model's degradation in its truth.json window
(used only to check) with the numbers the toolkit gives on the same file; on a folder holding
only the real ULB credit-card fraud data it fits a baseline model and runs every section."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE, incident_window

from toolkit import performance
from toolkit.ingest.predictions import load_predictions
from toolkit.report import NotebookReport, ReportResult, run_report

NAME = "09_fraud_model_monitoring"
ULB_FILE = Path("fraud") / "ulb_creditcard_allfraud_1pct_sorted.csv"


@pytest.fixture(scope="module")
def values(sample_report: ReportResult) -> dict[str, object]:
    notebook = sample_report[NAME]
    assert notebook.error is None, notebook.error
    return dict(notebook.values)


def _time(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value))


def test_the_degradation_is_found_in_its_window(values: dict[str, object]) -> None:
    start, end = incident_window("fraud-model-precision-drop")
    found = _time(values["degradation.start"])
    assert start <= found < end
    assert found == start  # daily windows: the first day of the travel season
    assert float(values["degradation.before"]) > 0.5  # type: ignore[arg-type]
    assert float(values["degradation.after"]) < 0.35  # type: ignore[arg-type]
    assert {"cross_border", "new_device", "score"} <= set(values["drift.columns"])  # type: ignore[arg-type]
    assert start <= _time(values["drift.first"]) < end


def test_the_numbers_are_the_toolkits_on_the_same_file(values: dict[str, object]) -> None:
    log = load_predictions(SAMPLE / "predictions.csv.gz")
    monitor = performance.plan(log)
    assert values["every"] == monitor.every == "1d"
    assert values["threshold"] == 0.5
    assert values["scores_fitted"] is False
    windows = performance.windowed(log, "score", "label", every="1d", n_boot=0)
    judged = windows.filter(windows["precision"].is_not_null())
    assert values["windows_judged"] == judged.height
    assert 0 < judged.height < windows.height  # the last days' labels have not arrived
    assert values["realised.precision_first"] == pytest.approx(judged["precision"][0])
    # Where labels are known the realised precision lies in the CBPE band, every window.
    assert values["estimate.realised_inside_band"] == 1.0
    # The tail's estimate is below the launch precision: the drop is seen before labels.
    assert float(values["estimate.tail_precision"]) < 0.35  # type: ignore[arg-type]
    target = float(values["threshold.target_fpr"])  # type: ignore[arg-type]
    overall = performance.threshold_for_fpr(log, "score", "label", target)
    assert values["threshold.for_target"] == pytest.approx(overall["threshold"][0])


@pytest.fixture(scope="module")
def ulb(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> NotebookReport:
    source = real_data / ULB_FILE
    if not source.exists():
        if os.environ.get("TOOLKIT_REQUIRE_REAL_DATA") == "1":
            pytest.fail(f"{source} is absent")
        pytest.skip(f"{source} is absent")
    folder = tmp_path_factory.mktemp("ulb-fraud")
    os.symlink(source, folder / "creditcard.csv")
    out = tmp_path_factory.mktemp("ulb-report")
    [notebook] = run_report(folder, out, only=NAME, progress=False).notebooks
    return notebook


def test_the_real_ulb_data_runs_every_section(ulb: NotebookReport, real_data: Path) -> None:
    assert ulb.error is None, ulb.error
    values = dict(ulb.values)
    assert values["scores_fitted"] is True
    assert values["every"] == "1h"
    skipped = [title for title, skip in ulb.sections if skip is not None]
    assert skipped == []
    assert values["predictions"] == 1598  # the rows after the middle of the two days
    # The same numbers from the library on the same file.
    monitor = performance.plan(load_predictions(real_data / ULB_FILE))
    windows = performance.windowed(monitor.frame, "score", "label", every="1h", n_boot=0)
    judged = windows.filter(windows["precision"].is_not_null())
    assert values["windows_judged"] == judged.height
    assert values["realised.precision_first"] == pytest.approx(judged["precision"][0])
    assert float(values["estimate.realised_inside_band"]) >= 0.8  # type: ignore[arg-type]
    assert 0 < float(values["threshold.target_fpr"]) < 0.1  # type: ignore[arg-type]


def _spans_document(log: Any) -> dict[str, Any]:
    """The sample's prediction log as a scoring service's OTLP spans would carry it: one
    span per scored transaction (score, id, features), one later span per settled label."""

    def attr(key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"key": key, "value": {"boolValue": value}}
        if isinstance(value, float):
            return {"key": key, "value": {"doubleValue": value}}
        if isinstance(value, int):
            return {"key": key, "value": {"intValue": str(value)}}
        return {"key": key, "value": {"stringValue": str(value)}}

    def ns(t: dt.datetime) -> str:
        return str(int(t.timestamp()) * 10**9 + t.microsecond * 1000)

    features = [c for c in log.columns if c.startswith("feature.")]
    spans = []
    for i, row in enumerate(log.iter_rows(named=True)):
        scored = [
            attr("fraud.score", float(row["score"])),
            attr("transaction.id", row["prediction_id"]),
        ]
        scored += [attr(c.removeprefix("feature."), row[c]) for c in features if row[c] is not None]
        spans.append(
            {
                "traceId": f"{i + 1:032x}",
                "spanId": f"{2 * i + 1:016x}",
                "name": "score",
                "startTimeUnixNano": ns(row["time"]),
                "endTimeUnixNano": ns(row["time"]),
                "attributes": scored,
            }
        )
        if row["label"] is not None:
            settled = [
                attr("transaction.id", row["prediction_id"]),
                attr("fraud.label", row["label"]),
            ]
            spans.append(
                {
                    "traceId": f"{i + 1:032x}",
                    "spanId": f"{2 * i + 2:016x}",
                    "name": "settle",
                    "startTimeUnixNano": ns(row["label_time"]),
                    "endTimeUnixNano": ns(row["label_time"]),
                    "attributes": settled,
                }
            )
    resource = {"attributes": [attr("service.name", "fraud-scorer")]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


def test_predictions_on_spans_give_the_log_files_findings(
    values: dict[str, object], tmp_path: Path
) -> None:
    log = load_predictions(SAMPLE / "predictions.csv.gz")
    folder = tmp_path / "otel"
    folder.mkdir()
    document = json.dumps(_spans_document(log))
    (folder / "scorer-spans.json").write_text(document, encoding="utf-8")
    [notebook] = run_report(folder, tmp_path / "report", only=NAME, progress=False).notebooks
    assert notebook.error is None, notebook.error
    found = dict(notebook.values)
    assert found["predictions"] == log.height
    for key in (
        "every",
        "threshold",
        "windows_judged",
        "degradation.start",
        "drift.first",
        "drift.columns",
    ):
        assert found[key] == values[key], key
    assert found["realised.precision_first"] == pytest.approx(values["realised.precision_first"])
