"""Notebook 01 pointed at a live Prometheus (the real server, backfilled from the sample's
vLLM scrapes: see the live_prometheus fixture) finds the same objectives and alerts as on
the same scrapes as a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from toolkit.report import run_report

NAME = "01_slo_error_budget"


@pytest.fixture(scope="module")
def reports(live_prometheus: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # A TTFT threshold that the h100 release's slow prefills exceed (the bound chosen from
    # these eight hours alone fires nothing); both runs get the same parameters.
    period = {"start": live_prometheus.start, "end": live_prometheus.end, "ttft_threshold_s": 1.0}
    files = tmp_path_factory.mktemp("nb01-files")
    (files / Path(live_prometheus.scrape).name).write_bytes(
        Path(live_prometheus.scrape).read_bytes()
    )
    empty = tmp_path_factory.mktemp("nb01-live")  # nothing but the live server
    out = {}
    for kind, data, extra in (
        ("files", files, {}),
        ("live", empty, {"prometheus_url": live_prometheus.url}),
    ):
        result = run_report(
            data,
            tmp_path_factory.mktemp(f"nb01-{kind}-report"),
            only=NAME,
            progress=False,
            parameters={**period, **extra},
        )
        notebook = result[NAME]
        assert notebook.error is None, notebook.error
        out[kind] = notebook.values
    return out


def test_the_live_server_gives_the_alerts_of_the_files(reports: dict[str, Any]) -> None:
    files, live = reports["files"], reports["live"]
    assert live["tables"] == files["tables"] == ["metrics"]
    assert live["thresholds"] == files["thresholds"]
    assert live["alerts.source"] == files["alerts.source"] == "metrics"
    assert live["alerts.pages"] == files["alerts.pages"] > 0
    assert live["alerts"] == files["alerts"]
    assert {a["pool"] for a in live["alerts"] if a["severity"] == "page"} == {"h100-pool"}
