"""The predictions table: prediction logs found by their header, the ULB fraud file by name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import toolkit
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
