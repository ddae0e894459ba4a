"""Notebook 02 (trace bottlenecks): its recorded numbers recomputed with toolkit.traces on
the same sample files, and its incident findings checked against truth.json's windows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from conftest import SAMPLE, incident_window, sample_traces

import toolkit
from toolkit import traces
from toolkit.report import ReportResult, run_report

NAME = "02_trace_bottlenecks"


@pytest.fixture(scope="module")
def spans() -> pl.DataFrame:
    return toolkit.load_spans(sample_traces())


def _windows(values: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(values["incidents"]).with_columns(
        pl.col("start", "end").str.to_datetime(time_zone="UTC")
    )


def _overlaps(windows: pl.DataFrame, truth: tuple[dt.datetime, dt.datetime]) -> pl.Expr:
    return (pl.col("start") < truth[1]) & (pl.col("end") > truth[0])


def test_anatomy_and_slowest_trace(sample_report: ReportResult, spans: pl.DataFrame) -> None:
    values = sample_report[NAME].values
    assert values["traces"] == spans["trace_id"].n_unique()
    assert values["spans"] == spans.height
    shares = dict(traces.latency_breakdown(spans).select("component", "share").rows())
    assert values["breakdown.share"] == pytest.approx(shares)
    assert sum(values["breakdown.share"].values()) == pytest.approx(1.0)
    assert values["breakdown.top_component"] == max(shares, key=lambda c: shares[c])
    # the slowest successful trace of the first incident window found from the data, which
    # lies in the release window of truth.json
    first = _windows(values).row(0, named=True)
    release = incident_window("release-prefill-regression")
    assert release[0] <= first["start"] < first["end"] <= release[1] + dt.timedelta(hours=1)
    summary = traces.trace_summary(spans)
    in_window = summary.filter(
        pl.col("start_time").is_between(first["start"], first["end"], closed="left")
        & ~pl.col("has_error")
    )
    assert values["slowest.duration_ms"] == pytest.approx(in_window["duration_ms"].max())
    path = values["slowest.path"]
    assert sum(ms for _, ms in path) == pytest.approx(values["slowest.duration_ms"])


def test_incident_windows_from_the_data_match_truth(
    sample_report: ReportResult, spans: pl.DataFrame
) -> None:
    values = sample_report[NAME].values
    windows = _windows(values)
    top = values["incidents.top_component"]
    release = incident_window("release-prefill-regression")
    burst = incident_window("kv-cache-exhaustion-burst")
    # every window found is one of the two incidents that burned the TTFT objective: the
    # release slowed prefill on the h100 pool, the KV-cache burst queued the l4 pool
    in_release = windows.filter(_overlaps(windows, release))
    in_burst = windows.filter(_overlaps(windows, burst))
    assert in_release.height >= 1
    assert in_burst.height >= 1
    assert in_release.height + in_burst.height == windows.height
    assert set(windows["source"]) == {"page"}
    assert {top[name] for name in in_release["incident"]} == {"prefill"}
    assert {top[name] for name in in_burst["incident"]} == {"queueing"}
    assert values["incident.first"] == "prefill"
    outside = ~pl.any_horizontal(
        [
            pl.col("start_time").is_between(a, b, closed="left")
            for a, b in windows.select("start", "end").rows()
        ]
    )
    for name, a, b in windows.select("incident", "start", "end").rows():
        ranked = traces.bottlenecks(
            spans,
            pl.col("start_time").is_between(a, b, closed="left"),
            baseline=outside,
            by="component",
        )
        assert ranked["component"][0] == top[name]
        assert values["incidents.delta_ms"][name] == pytest.approx(ranked["delta_ms"][0])
        assert ranked["ci_low_ms"][0] > 0


def test_incidents_given_by_the_user(tmp_path: Any, spans: pl.DataFrame) -> None:
    # a user names the windows (here truth.json's, ISO text with their zone): the Friday peak,
    # which never pages, is compared too
    windows = {
        "h100 release": incident_window("release-prefill-regression"),
        "Friday peak": incident_window("weekday-peak-saturation-4"),
        "l4 KV-cache burst": incident_window("kv-cache-exhaustion-burst"),
    }
    given = {name: (a.isoformat(), b.isoformat()) for name, (a, b) in windows.items()}
    result = run_report(
        SAMPLE, tmp_path, only=NAME, progress=False, parameters={"incidents": given}
    )
    notebook = result[NAME]
    assert notebook.error is None, notebook.error
    values = notebook.values
    top = values["incidents.top_component"]
    assert top == {
        "h100 release": "prefill",
        "Friday peak": "queueing",
        "l4 KV-cache burst": "queueing",
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
    # the slowest trace is the slowest successful one of the first window given
    summary = traces.trace_summary(spans)
    a, b = windows["h100 release"]
    in_window = summary.filter(
        pl.col("start_time").is_between(a, b, closed="left") & ~pl.col("has_error")
    )
    assert values["slowest.duration_ms"] == pytest.approx(in_window["duration_ms"].max())


def test_focus_service_ranks_one_service(tmp_path: Any) -> None:
    # the one choice of the bottleneck tables (issue 21): another service than the one whose
    # operation tops the unfocused table; the notebook's table is toolkit's, filtered
    spans = toolkit.discover(SAMPLE, on_error="skip").table("spans")  # as the notebook reads
    threshold = traces.trace_summary(spans)["duration_ms"].quantile(0.95)
    ranked = traces.bottlenecks(spans, pl.col("duration_ms") > threshold)
    top_service = ranked["service_name"][0]
    focus = sorted(set(ranked["service_name"].drop_nulls()) - {top_service})[0]
    expected = ranked.filter(pl.col("service_name") == focus)
    result = run_report(
        SAMPLE, tmp_path / "r", only=NAME, progress=False, parameters={"focus_service": focus}
    )
    values = result[NAME].values
    assert result[NAME].error is None, result[NAME].error
    assert values["slow.threshold_ms"] == pytest.approx(threshold)
    assert values["slow.top_operation"] == f"{focus} {expected['name'][0]}"
    wrong = run_report(
        SAMPLE, tmp_path / "w", only=NAME, progress=False, parameters={"focus_service": "nope"}
    )[NAME]
    assert wrong.error is not None
    assert "The 'focus_service' parameter must name a service of the spans (" in wrong.error
    assert "Got 'nope' instead." in wrong.error
