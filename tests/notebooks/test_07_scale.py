"""Notebook 07 (fleet scale) on the sample week: what it finds from the spans (TTFT column,
servers, the calls' service and dimensions, threshold, drift reference), what it computes
from the store on a LocalCluster equals the single-machine answers on the same file, and its
findings fall in the incident windows of truth.json. Then on folders that are not the
sample: no spans (not applicable), and spans that are not LLM calls."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import LAYOUT, SAMPLE, incident_window, sample_traces

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
    return toolkit.load_spans(sample_traces(), progress=False)


def test_ingest_and_scan(values: dict[str, Any], spans: pl.DataFrame) -> None:
    ingest = values["ingest"]
    # the fleet's 48,109 spans and the clinical assistant's 222
    assert ingest["rows"] == spans.height == 48_331
    assert ingest["files"] == 2  # the fleet's traces and the clinical assistant's
    assert (ingest["rerun_skipped"], ingest["rerun_rows"]) == (2, 0)
    # partitions: one per (UTC day, service) present in the files
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


def test_what_the_notebook_found_from_the_spans(
    values: dict[str, Any], spans: pl.DataFrame
) -> None:
    found = values["plan"]
    assert found["ttft_column"] == TTFT
    assert found["server_services"] == SERVERS
    assert found["call_services"] == ["clinical-assistant", "llm-gateway"]
    assert "attributes.user.locale" in found["dimensions"]
    assert found["groups"] == ["attributes.user.locale", "attributes.user.tier"]
    assert found["outcome_column"] == "attributes.gen_ai.response.finish_reasons"
    assert found["every"] == "1d"
    # a week of daily windows: the first round(0.3 * 7) = 2 days are the reference
    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert found["reference"] == [t0.isoformat(), (t0 + dt.timedelta(days=2)).isoformat()]
    # the threshold: the servers' p99 TTFT over the reference, rounded up to 1, 2, 5 x 10^k
    ref = spans.filter(
        pl.col("service_name").is_in(SERVERS) & (pl.col("start_time") < t0 + dt.timedelta(days=2))
    )
    assert 5.0 < ref[TTFT].quantile(0.99) <= 10.0
    assert found["ttft_threshold_s"] == 10.0


def test_alerts_equal_the_single_machine_ones_and_fall_in_incidents(
    values: dict[str, Any], spans: pl.DataFrame
) -> None:
    threshold = values["plan"]["ttft_threshold_s"]
    events = spans.filter(pl.col("service_name").is_in(SERVERS)).select(
        "start_time", "service_name", (pl.col(TTFT) <= threshold).fill_null(False).alias("is_good")
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
    # the locale is the dimension of the calls whose mix moved most
    assert values["drift.column"] == "attributes.user.locale"
    assert values["drift.windows"] == [f"{w:%Y-%m-%d %H:%M}" for w in flagged]
    start = incident_window("prompt-mix-drift")[0]
    assert values["drift.windows"][0] == f"{start:%Y-%m-%d %H:%M}" == "2026-11-05 00:00"


def test_refusal_counts_find_the_locale(values: dict[str, Any], spans: pl.DataFrame) -> None:
    calls = spans.filter(
        pl.col("service_name").is_in(values["plan"]["call_services"])
        & pl.col("attributes.gen_ai.response.finish_reasons").is_not_null()
    ).with_columns(
        refused=pl.col("attributes.gen_ai.response.finish_reasons").list.contains("content_filter")
    )
    tr = calls.filter(pl.col("attributes.user.locale") == "tr-TR")
    rest = calls.filter(pl.col("attributes.user.locale") != "tr-TR")
    top = values["refusals.top"]
    assert top["column"] == "attributes.user.locale"  # of the user dimensions, the widest gap
    assert top["group"] == "tr-TR"
    assert top["rate"] == pytest.approx(tr["refused"].mean(), rel=1e-12)
    assert top["rest"] == pytest.approx(rest["refused"].mean(), rel=1e-12)


def test_folders_without_spans_or_without_llm_calls(tmp_path: Path) -> None:
    """No spans: every section skips (not applicable) and no cluster starts. Spans that are
    not model calls (a Jaeger trace of a web service): ingest and the slice run, the TTFT,
    drift and fairness sections say what they need."""
    from toolkit.report import run_report

    metrics = tmp_path / "metrics"
    metrics.mkdir()
    shutil.copy(SAMPLE / LAYOUT["vllm_metrics"], metrics / "scrape")
    jaeger = tmp_path / "jaeger"
    jaeger.mkdir()
    (jaeger / "trace.json").write_text(json.dumps(JAEGER), encoding="utf-8")
    got = {}
    for name, folder in (("metrics", metrics), ("jaeger", jaeger)):
        result = run_report(folder, tmp_path / f"out-{name}", only=NAME, progress=False)
        got[name] = result[NAME]
        assert got[name].error is None, (name, got[name].error)
    assert got["metrics"].status == "not applicable"
    assert [s.section for s in got["metrics"].skipped][:1] == ["Ingest"]
    jaeger_nb = got["jaeger"]
    assert jaeger_nb.status == "ok"
    assert jaeger_nb.values["ingest"]["rows"] == 2
    ran = [title for title, skip in jaeger_nb.sections if skip is None]
    assert ran == ["Ingest", "Reading a slice"]
    skipped = {s.section: s for s in jaeger_nb.skipped}
    assert "a time-to-first-token attribute" in skipped["SLO burn rates and alerts"].missing
    assert "model calls" in skipped["Group counts for a fairness check"].missing


#: A two-span Jaeger trace (the query API's JSON) of a service without model calls.
JAEGER = {
    "data": [
        {
            "traceID": "a1b2c3d4e5f60718",
            "spans": [
                {
                    "traceID": "a1b2c3d4e5f60718",
                    "spanID": "0000000000000001",
                    "operationName": "GET /orders",
                    "references": [],
                    "startTime": 1767225600000000,
                    "duration": 120000,
                    "tags": [{"key": "span.kind", "type": "string", "value": "server"}],
                    "processID": "p1",
                },
                {
                    "traceID": "a1b2c3d4e5f60718",
                    "spanID": "0000000000000002",
                    "operationName": "SELECT orders",
                    "references": [
                        {
                            "refType": "CHILD_OF",
                            "traceID": "a1b2c3d4e5f60718",
                            "spanID": "0000000000000001",
                        }
                    ],
                    "startTime": 1767225600010000,
                    "duration": 80000,
                    "tags": [{"key": "span.kind", "type": "string", "value": "client"}],
                    "processID": "p1",
                },
            ],
            "processes": {"p1": {"serviceName": "orders", "tags": []}},
        }
    ]
}
