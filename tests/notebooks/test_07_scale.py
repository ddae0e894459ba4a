"""Notebook 07 (fleet scale) on the sample week: what it computes from the store on a
LocalCluster equals the single-machine answers on the same file, and its findings fall in
the incident windows of truth.json."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from conftest import LAYOUT, SAMPLE, incident_window

import toolkit
from toolkit import drift, slo
from toolkit.report import ReportResult

pytest.importorskip("distributed")

NAME = "07_fleet_scale"
TTFT = "attributes.gen_ai.latency.time_to_first_token"
SERVERS = ["vllm-h100", "vllm-l4"]


@pytest.fixture(scope="module")
def values(sample_report: ReportResult) -> dict[str, Any]:
    notebook = sample_report[NAME]
    assert notebook.error is None, notebook.error
    return notebook.values


@pytest.fixture(scope="module")
def spans() -> pl.DataFrame:
    return toolkit.load_spans(SAMPLE / LAYOUT["traces"], progress=False)


def test_ingest_and_scan(values: dict[str, Any], spans: pl.DataFrame) -> None:
    ingest = values["ingest"]
    assert ingest["rows"] == spans.height == 48_109
    assert ingest["files"] == 1
    assert (ingest["rerun_skipped"], ingest["rerun_rows"]) == (1, 0)
    # partitions: one per (UTC day, service) present in the file
    days = spans.select(
        pl.col("start_time").dt.strftime("%Y-%m-%d").alias("d"), "service_name"
    ).unique()
    assert ingest["parts"] == days.height
    day = values["scan.one_day"]
    assert day["day"] == "2026-11-02"
    want = spans.filter(
        (pl.col("service_name") == "vllm-h100")
        & (pl.col("start_time").dt.strftime("%Y-%m-%d") == "2026-11-02")
    ).height
    assert day["rows"] == want


def test_alerts_equal_the_single_machine_ones_and_fall_in_incidents(
    values: dict[str, Any], spans: pl.DataFrame
) -> None:
    events = spans.filter(pl.col("service_name").is_in(SERVERS)).select(
        "start_time", "service_name", (pl.col(TTFT) <= 10.0).fill_null(False).alias("is_good")
    )
    local = slo.alerts(events, 0.99, by="service_name", merge_gap="30m")
    got = pl.DataFrame(values["alerts"]).with_columns(
        pl.col("start", "end").str.to_datetime(time_zone="UTC")
    )
    assert got.height == local.height > 0
    assert got.select("service", "severity", "start", "end", "long_window").rows() == (
        local.select("service_name", "severity", "start", "end", "long_window").rows()
    )
    pages = got.filter(pl.col("severity") == "page")
    release = incident_window("release-prefill-regression")
    burst = incident_window("kv-cache-exhaustion-burst")
    h100 = pages.filter(pl.col("service") == "vllm-h100")
    assert h100.height > 0
    assert release[0] <= h100["start"].min() <= release[0] + dt.timedelta(hours=1)
    assert h100["start"].max() <= release[1]
    l4 = pages.filter(pl.col("service") == "vllm-l4")
    assert l4["start"].min() >= burst[0]
    assert l4["start"].max() <= burst[1]


def test_sketch_percentiles_within_alpha(values: dict[str, Any]) -> None:
    assert 0 < values["sketch.worst_relative_error"] <= 0.01


def test_locale_drift_starts_with_the_prompt_mix_incident(
    values: dict[str, Any], spans: pl.DataFrame
) -> None:
    gateway = spans.filter(pl.col("service_name") == "llm-gateway")
    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    local = drift.windowed(
        gateway,
        reference=(t0, t0 + dt.timedelta(days=2)),
        every="1d",
        columns=["attributes.user.locale"],
        tests={"attributes.user.locale": "jensenshannon"},
    )
    flagged = local.filter(pl.col("drifted").fill_null(False))["window_start"]
    assert values["drift.windows"] == [f"{w:%Y-%m-%d %H:%M}" for w in flagged]
    start = incident_window("prompt-mix-drift")[0]
    assert values["drift.windows"][0] == f"{start:%Y-%m-%d %H:%M}" == "2026-11-05 00:00"


def test_refusal_counts_find_the_locale(values: dict[str, Any], spans: pl.DataFrame) -> None:
    calls = spans.filter(
        (pl.col("service_name") == "llm-gateway")
        & pl.col("attributes.gen_ai.response.finish_reasons").is_not_null()
    ).with_columns(
        refused=pl.col("attributes.gen_ai.response.finish_reasons").list.contains("content_filter")
    )
    tr = calls.filter(pl.col("attributes.user.locale") == "tr-TR")
    rest = calls.filter(pl.col("attributes.user.locale") != "tr-TR")
    top = values["refusals.top"]
    assert top["group"] == "tr-TR"
    assert top["rate"] == pytest.approx(tr["refused"].mean(), rel=1e-12)
    assert top["rest"] == pytest.approx(rest["refused"].mean(), rel=1e-12)
