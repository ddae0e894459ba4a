"""Notebook 01 (SLOs and error budgets) on the sample week: its recorded numbers equal what
toolkit.slo gives on the same files, and its pages fall in the incident windows of truth.json."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from conftest import LAYOUT, SAMPLE, incident_window, sample_traces

import toolkit
from toolkit import slo
from toolkit.report import ReportResult

NAME = "01_slo_error_budget"
TTFT = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=10.0)
AVAILABILITY = slo.SLO("availability", 0.995, sli="availability")


@pytest.fixture(scope="module")
def values(sample_report: ReportResult) -> dict[str, Any]:
    notebook = sample_report[NAME]
    assert notebook.error is None, notebook.error
    return notebook.values


@pytest.fixture(scope="module")
def metrics() -> pl.DataFrame:
    return toolkit.load_metrics(SAMPLE / LAYOUT["vllm_metrics"])


@pytest.fixture(scope="module")
def calls() -> pl.DataFrame:
    return toolkit.llm_calls(toolkit.load_spans(sample_traces()))


def test_slis_from_metrics_and_traces(
    values: dict[str, Any], metrics: pl.DataFrame, calls: pl.DataFrame
) -> None:
    recorded = values["sli.good_fraction"]
    # thresholds chosen from the data: the smallest bucket bound of each vLLM histogram at or
    # above the traced calls' p95 (TTFT p95 9.4 s -> 10 s; latency p95 21.6 s -> 40 s), TPOT's
    # p95 (0.027 s) rounded up to 0.05 s; the pools found as label.pool / deployment.pool
    assert values["thresholds"] == {
        "availability": None,
        "ttft": 10.0,
        "latency": 40.0,
        "tpot": 0.05,
    }
    assert values["pools"] == {"metrics": "label.pool", "traces": "attributes.deployment.pool"}
    ttft = slo.metric_counts(metrics, "vllm:time_to_first_token_seconds", threshold=10.0)
    assert recorded["ttft"]["metrics"] == pytest.approx(ttft["good"].sum() / ttft["total"].sum())
    traced = slo.good_events(calls, TTFT)["is_good"].drop_nulls()
    assert recorded["ttft"]["traces"] == pytest.approx(traced.mean())
    # both sources agree on TTFT within sampling error (a 2 % sample of ~734k requests)
    assert abs(recorded["ttft"]["metrics"] - recorded["ttft"]["traces"]) < 0.01
    success = slo.metric_counts(
        metrics, "vllm:request_success_total", bad={"finished_reason": ["abort", "error"]}
    )
    assert recorded["availability"]["metrics"] == pytest.approx(
        success["good"].sum() / success["total"].sum()
    )
    assert recorded["availability"]["traces"] == pytest.approx(1 - calls["is_error"].mean())
    # the 503 rejections (8,050 of 743,230 requests) never reach the engines' counters
    assert values["availability.gap"] > 0.005


def test_ttft_budget(values: dict[str, Any], metrics: pl.DataFrame) -> None:
    counts = slo.metric_counts(
        metrics, "vllm:time_to_first_token_seconds", threshold=10.0, by="pool"
    )
    budget = slo.error_budget(counts, TTFT, by="label.pool", every="1h")
    last = budget.group_by("label.pool").agg(pl.col("budget_consumed").last())
    expected = dict(last.iter_rows())
    assert values["budget.ttft"] == pytest.approx(expected)
    # a week of a 30-day window: consumed = burn rate over the week x 7/30
    h100 = counts.filter(pl.col("label.pool") == "h100-pool")
    burn = (1 - h100["good"].sum() / h100["total"].sum()) / 0.01
    assert values["budget.ttft"]["h100-pool"] == pytest.approx(burn * 7 / 30)
    assert values["budget.ttft"]["h100-pool"] > 1  # the release spent more than the budget


def test_pages_fall_in_the_incident_windows(values: dict[str, Any]) -> None:
    alerts = pl.DataFrame(values["alerts"]).with_columns(
        pl.col("start", "end").str.to_datetime(time_zone="UTC")
    )
    pages = alerts.filter(pl.col("severity") == "page")
    assert values["alerts.pages"] == pages.height
    release = incident_window("release-prefill-regression")
    burst = incident_window("kv-cache-exhaustion-burst")
    h100 = pages.filter((pl.col("slo") == "ttft") & (pl.col("pool") == "h100-pool"))
    assert h100.height > 0
    assert release[0] <= h100["start"].min() <= release[0] + dt.timedelta(hours=1)
    assert h100["start"].max() <= release[1]
    assert h100["end"].max() <= release[1] + dt.timedelta(hours=1)
    l4 = pages.filter(pl.col("pool") == "l4-pool")
    assert set(l4["slo"]) == {"ttft", "latency", "availability"}
    assert l4["start"].min() >= burst[0]
    assert l4["end"].max() <= burst[1] + dt.timedelta(minutes=45)
    # nothing else pages: every page is in one of the two windows
    inside = ((pl.col("start") >= release[0]) & (pl.col("start") <= release[1])) | (
        (pl.col("start") >= burst[0]) & (pl.col("start") <= burst[1])
    )
    assert pages.filter(~inside).height == 0


def test_slices_and_goodput(values: dict[str, Any], calls: pl.DataFrame) -> None:
    events = slo.good_events(calls, TTFT)
    table = slo.budget_by_slice(
        events, TTFT, ["attributes.deployment.pool", "attributes.app.route"]
    ).row(0, named=True)
    top = values["slices.ttft.top"]
    # long prompts on the h100: the rag-qa route (its prompt category, kb-question, holds the
    # same calls and ties with it; the slice dimensions are found from the data)
    assert (table["attributes.deployment.pool"], table["attributes.app.route"]) == (
        "h100-pool",
        "rag-qa",
    )
    assert top["pool"] == "h100-pool"
    assert top["slice"] in {"rag-qa", "kb-question"}
    assert top["burn_contribution"] == pytest.approx(table["burn_contribution"])
    # the sampling ratio found from the data: 14,855 traced calls for 733,878 requests
    assert values["trace_sampling"] == 0.02
    goodput = slo.goodput(
        calls,
        {"ttft_s": 10.0, "tpot_s": 0.05},
        by="attributes.deployment.pool",
        sampling=0.02,
    )
    # the clinical assistant's calls have no pool: their group is recorded as "None"
    assert values["goodput"] == pytest.approx(
        {str(k): v for k, v in goodput.select(goodput.columns[0], "goodput_rps").iter_rows()}
    )


def test_rules_written_next_to_the_report(
    values: dict[str, Any], sample_report: ReportResult
) -> None:
    """'Take it to production': the rule file beside the HTML, accepted by promtool."""
    import os
    import shutil
    import subprocess

    import yaml

    assert values["rules"] == {
        "file": "slo-rules.yml",
        "sloth": "slo-rules.sloth.yml",
        "misaligned": [],  # 10 s, 40 s and 0.05 s are bounds of vLLM's buckets
    }
    path = sample_report.out_dir / "slo-rules.yml"
    groups = yaml.safe_load(path.read_text())["groups"]
    assert [g["name"] for g in groups] == [
        "slo-availability",
        "slo-ttft",
        "slo-latency",
        "slo-tpot",
    ]
    ttft = next(g for g in groups if g["name"] == "slo-ttft")["rules"]
    alerts = [(r["labels"]["severity"], r["labels"]["long_window"]) for r in ttft if "alert" in r]
    assert alerts == [(r.severity, r.long_window) for r in slo.WORKBOOK.rules]
    assert "sum by (pool)" in ttft[0]["expr"]
    assert yaml.safe_load((sample_report.out_dir / "slo-rules.sloth.yml").read_text())["slos"]
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("TOOLKIT_REQUIRE_REAL_DATA") == "1" or os.environ.get("CI"):
            pytest.fail("promtool is absent (apt-get install prometheus)")
        pytest.skip("promtool is absent (apt-get install prometheus)")
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
