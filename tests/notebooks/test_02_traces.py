"""Notebook 02 (trace bottlenecks): its recorded numbers recomputed with toolkit.traces on
the same sample files, and its incident findings checked against truth.json's windows."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import LAYOUT, SAMPLE, incident_window

import toolkit
from toolkit import traces
from toolkit.report import ReportResult

NAME = "02_trace_bottlenecks"


@pytest.fixture(scope="module")
def spans() -> pl.DataFrame:
    return toolkit.load_spans(SAMPLE / LAYOUT["traces"])


def test_anatomy_and_slowest_trace(sample_report: ReportResult, spans: pl.DataFrame) -> None:
    values = sample_report[NAME].values
    assert values["traces"] == spans["trace_id"].n_unique()
    assert values["spans"] == spans.height
    shares = dict(traces.latency_breakdown(spans).select("component", "share").rows())
    assert values["breakdown.share"] == pytest.approx(shares)
    assert sum(values["breakdown.share"].values()) == pytest.approx(1.0)
    assert values["breakdown.top_component"] == max(shares, key=lambda c: shares[c])
    start, end = incident_window("release-prefill-regression")
    summary = traces.trace_summary(spans)
    in_window = summary.filter(
        pl.col("start_time").is_between(start, end, closed="left") & ~pl.col("has_error")
    )
    assert values["slowest.duration_ms"] == pytest.approx(in_window["duration_ms"].max())
    path = values["slowest.path"]
    assert sum(ms for _, ms in path) == pytest.approx(values["slowest.duration_ms"])


def test_incident_findings_match_truth(sample_report: ReportResult, spans: pl.DataFrame) -> None:
    values = sample_report[NAME].values
    top = values["incidents.top_component"]
    # the release slowed prefill on the h100 pool; the peak and the KV-cache burst queue
    assert top == {
        "h100 release": "prefill",
        "Friday peak": "queueing",
        "l4 KV-cache burst": "queueing",
    }
    windows = {
        "h100 release": incident_window("release-prefill-regression"),
        "Friday peak": incident_window("weekday-peak-saturation-4"),
        "l4 KV-cache burst": incident_window("kv-cache-exhaustion-burst"),
    }
    outside = ~pl.any_horizontal(
        [pl.col("start_time").is_between(a, b, closed="left") for a, b in windows.values()]
    )
    for name, (a, b) in windows.items():
        ranked = traces.bottlenecks(
            spans,
            pl.col("start_time").is_between(a, b, closed="left"),
            baseline=outside,
            by="component",
        )
        assert ranked["component"][0] == top[name]
        assert values["incidents.delta_ms"][name] == pytest.approx(ranked["delta_ms"][0])
        assert ranked["ci_low_ms"][0] > 0
    assert values["incident.first"] == "prefill"
