"""The predictions table: prediction logs found by their header, the ULB fraud file by name."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit import performance
from toolkit.datasets import CREDITCARD_EPOCH, load_creditcard
from toolkit.errors import FormatError, ParameterError
from toolkit.ingest.detect import detect
from toolkit.ingest.predictions import load_predictions

LOG = (
    "Timestamp,Fraud_Score,is_fraud,labelled_at,transaction_id,amount,country\n"
    "2026-11-02T00:00:00Z,0.91,1,2026-11-03T10:00:00Z,t1,120.5,FR\n"
    "2026-11-02T00:00:30.5+01:00,0.12,0,2026-11-04T00:00:00Z,t2,3,DE\n"
    "2026-11-02T00:01:00Z,0.40,,,t3,9.99,FR\n"
)


def test_a_prediction_log_by_its_header(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(LOG)
    assert detect(path).table == "predictions"
    log = load_predictions(path)
    assert log.columns == [
        "time", "score", "label", "label_time", "prediction_id", "model_version",
        "feature.amount", "feature.country",
    ]  # fmt: skip
    assert log.schema["time"] == pl.Datetime("ns", "UTC")
    assert log["label"].to_list() == [False, True, None]
    # +01:00 is converted: 00:00:30.5 at +01:00 is the day before, 23:00:30.5 UTC.
    assert log["time"][0] == dt.datetime(2026, 11, 1, 23, 0, 30, 500000, tzinfo=dt.UTC)
    assert log["prediction_id"].to_list() == ["t2", "t1", "t3"]
    assert log["label_time"].null_count() == 1
    parquet = tmp_path / "export.parquet"
    log.rename({"feature.amount": "amount"}).drop("feature.country").write_parquet(parquet)
    again = load_predictions(parquet)
    assert again["score"].to_list() == log["score"].to_list()
    assert again["feature.amount"].to_list() == log["feature.amount"].to_list()


def test_errors_say_where(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("time,score,label\n2026-11-02T00:00:00Z,0.5,1\n2026-11-02T00:00:00Z,0.5,2\n")
    with pytest.raises(FormatError, match=r"bad\.csv, line 3, column 'label'"):
        load_predictions(path)
    naive = tmp_path / "naive.csv"
    naive.write_text("time,score,label\n2026-11-02 00:00:00,0.5,1\n")
    with pytest.raises(ParameterError, match="'tz' parameter"):
        load_predictions(naive)
    assert load_predictions(naive, tz="Europe/Paris")["time"][0] == dt.datetime(
        2026, 11, 1, 23, tzinfo=dt.UTC
    )


def test_discover_finds_a_prediction_log(tmp_path: Path) -> None:
    (tmp_path / "scores").mkdir()
    (tmp_path / "scores" / "part-0").write_text(LOG)
    catalog = toolkit.discover(tmp_path, cache=False)
    assert catalog.tables == ("predictions",)
    assert catalog.files["format"].to_list() == ["prediction-log"]
    assert not catalog.supports["performance"].ok  # 3 rows: fewer than 100


@pytest.mark.parametrize(
    ("name", "rows", "frauds", "last_time_s"),
    [
        ("ulb_creditcard_head2860.csv", 2860, 2, 2425),
        ("ulb_creditcard_allfraud_1pct_sorted.csv", 3265, 492, 172632),
    ],
)
def test_the_real_ulb_files(
    real_data: Path, name: str, rows: int, frauds: int, last_time_s: int
) -> None:
    path = real_data / "fraud" / name
    assert detect(path).format == "ulb-creditcard"
    log = load_creditcard(path)
    assert log.height == rows
    assert int(log["label"].sum()) == frauds
    assert log["score"].null_count() == rows
    assert log["time"].max() == CREDITCARD_EPOCH + dt.timedelta(seconds=last_time_s)
    assert [c for c in log.columns if c.startswith("feature.")][-1] == "feature.Amount"
    raw = pl.read_csv(path, infer_schema_length=None)
    assert log["feature.V14"].to_list() == raw["V14"].cast(pl.Float64).to_list()


def _otlp_span(span_id: str, start_s: int, attributes: dict[str, Any]) -> dict[str, Any]:
    def value(v: Any) -> dict[str, Any]:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, float):
            return {"doubleValue": v}
        return {"stringValue": v}

    start = 1_793_577_600 + start_s  # 2026-11-02T00:00:00Z + start_s
    return {
        "traceId": "0" * 24 + span_id.rjust(8, "0"),
        "spanId": span_id.rjust(16, "0"),
        "name": "score" if "fraud.score" in attributes else "settle",
        "kind": 2,
        "startTimeUnixNano": str(start * 10**9),
        "endTimeUnixNano": str((start + 1) * 10**9),
        "attributes": [{"key": k, "value": value(v)} for k, v in attributes.items()],
    }


def test_predictions_recorded_on_spans(tmp_path: Path) -> None:
    """A scoring service's spans: the score on the scoring span, the label on a later span
    with the same transaction id (a chargeback a day later), read through the OTLP reader."""
    spans_json = [
        _otlp_span("1", 0, {"fraud.score": 0.91, "transaction.id": "t1", "merchant": "m1"}),
        _otlp_span("2", 60, {"fraud.score": 0.12, "transaction.id": "t2", "merchant": "m2"}),
        _otlp_span("3", 120, {"fraud.score": 0.55, "transaction.id": "t3", "merchant": "m1"}),
        _otlp_span("4", 86_400, {"transaction.id": "t1", "fraud.label": True}),
        _otlp_span("5", 90_000, {"transaction.id": "t2", "fraud.label": False}),
    ]
    document = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "fraud-scorer"}},
                        {"key": "service.version", "value": {"stringValue": "3.2.0"}},
                    ]
                },
                "scopeSpans": [{"spans": spans_json}],
            }
        ]
    }
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    spans = toolkit.load_spans(path, progress=False)
    log = toolkit.predictions_from_spans(spans)
    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert log.select("time", "score", "label", "label_time", "prediction_id").rows() == [
        (t0, 0.91, True, t0 + dt.timedelta(seconds=86_401), "t1"),
        (t0 + dt.timedelta(seconds=60), 0.12, False, t0 + dt.timedelta(seconds=90_001), "t2"),
        (t0 + dt.timedelta(seconds=120), 0.55, None, None, "t3"),  # not settled yet
    ]
    assert log["model_version"].to_list() == ["3.2.0"] * 3
    assert log["feature.merchant"].to_list() == ["m1", "m2", "m1"]
    assert log.schema["time"] == pl.Datetime("ns", "UTC")
    # the analyses take it as they take a prediction log file
    windows = performance.windowed(log, "score", "label", every="1d", min_coverage=0.5)
    assert windows.select("n", "labelled", "precision", "recall").rows() == [(3, 2, 1.0, 1.0)]


def test_spans_without_a_prediction_give_an_empty_table() -> None:
    t = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    retrieval = pl.DataFrame(  # a RAG retriever's document score is no model prediction
        {
            "span_id": ["a"],
            "start_time": [t],
            "end_time": [t],
            "attributes.retrieval.documents.0.document.score": [0.8],
        }
    )
    empty = toolkit.predictions_from_spans(retrieval)
    assert empty.height == 0
    assert empty.columns[:3] == ["time", "score", "label"]
    with pytest.raises(ParameterError, match=r"'label' parameter of .*predictions_from_spans"):
        toolkit.predictions_from_spans(retrieval, label="fraud.label")
    named = toolkit.predictions_from_spans(retrieval, score="retrieval.documents.0.document.score")
    assert named.select("score", "label").rows() == [(0.8, None)]


def test_load_creditcard_names_a_missing_file(tmp_path):
    with pytest.raises(ParameterError, match=r"'path' parameter of datasets\.load_creditcard"):
        load_creditcard(tmp_path / "creditcard.csv")
