"""Notebook 06 (GPU capacity planning) on the sample: its recorded numbers recomputed from the
toolkit on the same files, and checked against truth.json's saturation windows."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest
from conftest import LAYOUT, NOTEBOOKS, SAMPLE

import toolkit
from toolkit import capacity
from toolkit.report import ReportResult

NAME = "06_gpu_capacity_planning"


@pytest.fixture(scope="module")
def values(sample_report: ReportResult) -> dict[str, Any]:
    result = sample_report[NAME]
    assert result.error is None, result.error
    return dict(result.values)


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return json.loads((SAMPLE / "truth.json").read_text())


def _windows(truth: dict[str, Any]) -> list[tuple[dt.datetime, dt.datetime]]:
    return [
        (
            dt.datetime.fromisoformat(i["window"]["start"]),
            dt.datetime.fromisoformat(i["window"]["end"]),
        )
        for i in truth["incidents"]
        if i["kind"] == "capacity_saturation"
    ]


def test_utilisation_numbers(values: dict[str, Any]) -> None:
    gpu = toolkit.load_gpu(SAMPLE / LAYOUT["dcgm_metrics"])
    per_gpu = gpu.group_by("gpu_model", "host", "gpu_index").agg(pl.col("util_pct").mean())
    expected = dict(per_gpu.group_by("gpu_model").agg(pl.col("util_pct").mean()).rows())
    assert values["gpu.util_mean_pct"] == pytest.approx(expected)
    smi = toolkit.load_gpu(SAMPLE / LAYOUT["nvidia_smi"], tz="UTC", host="gpu-h100-0")
    by_source = values["gpu.util_mean_pct.by_source"]
    smi_mean = smi.group_by("gpu_index").agg(pl.col("util_pct").mean())["util_pct"].mean()
    assert by_source["nvidia-smi"] == pytest.approx(smi_mean)
    # the two exporters read the same four H100s
    assert by_source["nvidia-smi"] == pytest.approx(by_source["dcgm"], rel=0.01)


def test_saturation_is_found_at_the_weekday_peaks(
    values: dict[str, Any], truth: dict[str, Any]
) -> None:
    found = [
        (dt.datetime.fromisoformat(s), dt.datetime.fromisoformat(e))
        for s, e in values["saturation.pool_periods"]
    ]
    for start, end in _windows(truth)[:4]:  # Monday to Thursday
        assert any(s < end and e > start for s, e in found), (start, end)
    assert all(s.weekday() < 5 for s, _ in found)  # never at the weekend
    hours = values["saturation.weekday_peak_hours_utc"]
    assert set(hours) & {13, 14, 15, 16, 17}
    assert len(set(hours) & set(range(12, 18))) >= 4


def test_model_and_demand_numbers(values: dict[str, Any], truth: dict[str, Any]) -> None:
    h100 = next(p for p in truth["simulation"]["pools"] if p["name"] == "h100-pool")
    assert values["model.prefill_tokens_per_s"] == pytest.approx(
        h100["prefill_tokens_per_s"], rel=0.1
    )
    assert values["model.fit_mape"]["tpot_s"] < 0.05
    metrics = toolkit.load_metrics(SAMPLE / LAYOUT["vllm_metrics"])
    counter = (
        metrics.filter(
            (pl.col("name") == "vllm:e2e_request_latency_seconds_count")
            & (pl.col("label.pool") == "h100-pool")
        )
        .sort("time")["value"]
        .to_numpy()
    )
    assert values["demand.requests"] == int(counter[-1] - counter[0])
    assert values["demand.traced_share"] == pytest.approx(0.02, rel=0.05)
    assert values["demand.peak_to_mean"] > 2
    assert values["forecast.backtest_wape"] < 0.2


def test_calibration_within_the_stated_tolerance(values: dict[str, Any]) -> None:
    p50 = values["calibration.ttft_p50_ratio"]
    p90 = values["calibration.ttft_p90_ratio"]
    assert len(p50) == len(p90) == 6
    assert all(0.5 < r < 2.0 for r in p50), p50
    assert all(0.67 < r < 2.0 for r in p90), p90


def test_sizing_recommends_a_fleet_that_removes_the_saturation(
    values: dict[str, Any], truth: dict[str, Any]
) -> None:
    start, end = _windows(truth)[0]
    # the busiest five hours of the week are Monday's saturation window
    assert values["sizing.window"] == [start.isoformat(), end.isoformat()]
    assert values["sizing.current_attainment"] < 0.98
    recommended = values["sizing.recommended_replicas"]
    assert recommended > 4
    # recomputed from the toolkit on the same files
    spans = toolkit.load_spans(SAMPLE / LAYOUT["traces"])
    calls = toolkit.llm_calls(spans)
    metrics = toolkit.load_metrics(SAMPLE / LAYOUT["vllm_metrics"])
    queue = spans.filter(pl.col("name") == "llm_request").select(
        "trace_id", pl.col("attributes.gen_ai.latency.time_in_queue").alias("time_in_queue_s")
    )
    model = capacity.fit_service_model(
        calls,
        metrics,
        pool="h100-pool",
        replicas=4,
        max_num_seqs=48,
        kv_capacity_tokens=65536,
        gpu_type="NVIDIA H100 80GB HBM3",
        queue_times=queue,
    )
    demand = capacity.reconstruct_demand(metrics, calls, pool="h100-pool")
    peak = demand.filter(pl.col("arrival_time").is_between(start, end, closed="left"))
    table = capacity.size_fleet(
        peak,
        model,
        [3, 4, 5, 6, 7, 8, 9, 10],
        ttft_slo_s=10.0,
        tpot_slo_s=0.2,
        attainment_target=0.98,
        max_waiting=24,
        timeout_s=30.0,
        gpu_hourly_usd={"NVIDIA H100 80GB HBM3": 3.0},
    )
    assert capacity.recommend(table)["replicas"].item() == recommended
    assert values["sizing.current_attainment"] == pytest.approx(
        table.filter(pl.col("replicas") == 4)["slo_attainment"].item()
    )
    assert values["saturation.after.failed_share_max"] == 0.0
    assert (
        values["saturation.after.queued_over_1s_max"]
        < values["saturation.before.queued_over_1s_max"] / 3
    )
    assert values["what_if.replicas"]["traffic x1.5"] > recommended
    # The public-trace part runs when the Azure trace and Splitwise's table sit where a
    # development checkout keeps them (the notebook's defaults), and is skipped otherwise.
    real = NOTEBOOKS / "../../shared/data/real"
    azure_csv = real / "azure_llm_2023/AzureLLMInferenceTrace_conv.csv"
    if not (azure_csv.is_file() and (real / "splitwise_sim/perf_model.csv").is_file()):
        assert "azure.requests" not in values
        return
    azure = toolkit.load_workload(azure_csv, tz="UTC")
    summary = capacity.demand_summary(azure, every="1m")
    assert values["azure.requests"] == azure.height == 19366
    assert values["azure.peak_to_mean"] == pytest.approx(summary.peak_to_mean, rel=1e-12)
    assert values["azure.index_of_dispersion"] == pytest.approx(
        summary.index_of_dispersion, rel=1e-12
    )
    model, replicas, gpus = values["azure.recommended"]
    assert model.startswith("llama2-70b")
    assert replicas >= 1
    assert gpus == 4 * replicas
