"""Format detection and dispatch: every supported real file through the public loaders."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import toolkit
from toolkit.errors import (
    ParameterError,
    SkippedRecordsWarning,
    UnsupportedFormatError,
    WrongSignalError,
)
from toolkit.ingest.detect import detect
from toolkit.schema import validate

# every real file a reader supports, with the table and format it must be detected as
EXPECTED = {
    "otel_proto_examples/trace.json": ("spans", "otlp-json"),
    "otel_proto_examples/logs.json": ("logs", "otlp-json"),
    "otel_proto_examples/events.json": ("logs", "otlp-json"),
    "otel_proto_examples/metrics.json": ("metrics", "otlp-json"),
    "jaeger/ui_01.json": ("spans", "jaeger-json"),
    "jaeger/trace_success.json": ("spans", "jaeger-json"),
    "jaeger/es_01.json": ("spans", "jaeger-json"),
    "zipkin/yelp.json": ("spans", "zipkin-v2-json"),
    "zipkin/smartthings-oauth-authorization.json": ("spans", "zipkin-v2-json"),
    "zipkin/messaging-kafka.json": ("spans", "zipkin-v2-json"),
    "zipkin/envoy.json": ("spans", "zipkin-v2-json"),
    "zipkin/skew.json": ("spans", "zipkin-v2-json"),
    **{
        f"any_agent_genai_traces/{n}_trace.json": ("spans", "otel-python-sdk-json")
        for n in ("AGNO", "GOOGLE", "LLAMA_INDEX", "SMOLAGENTS", "TINYAGENT")
    },
    "vllm_0_25_1/metrics_vllm_0_25_1_loaded.txt": ("metrics", "prometheus-text"),
    "dcgm_exporter/lke-ai-conformance_README_L404-478_dcgm_metrics.prom": ("gpu", "dcgm"),
    **{
        f"nvidia_gpu_exporter_metrics/linux-x86_64__nvidia-{n}.metrics": (
            "gpu",
            "nvidia_gpu_exporter",
        )
        for n in (
            "h100-80gb-hbm3__590.48.01__idle",
            "h100-80gb-hbm3__590.48.01__load",
            "h100-mig__590.48.01__load",
        )
    },
    **{
        f"nvidia_smi_captures/linux-x86_64__nvidia-{n}__590.48.01.txt": ("gpu", "nvidia-smi")
        for n in ("h100-80gb-hbm3", "h100-mig", "h200")
    },
    "vllm_0_25_1/vllm_serve_max_model_len_rejected_v0.25.1.log": ("logs", "vllm-text"),
    "vllm_0_25_1/vllm_serve_no_kv_cache_memory_v0.25.1.log": ("logs", "vllm-text"),
    "azure_llm_2023/AzureLLMInferenceTrace_conv.csv": ("workload", "azure"),
    "vidur_processed_traces/splitwise_conv.csv": ("workload", "vidur"),
    "mooncake/conversation_trace.jsonl": ("workload", "mooncake"),
    "alibaba_genai_2026/lora_request_trace.csv": ("workload", "alibaba_genai"),
    "servegen/language_m-large/chunk-1-trace.csv": ("workload", "servegen"),
    "servegen/reason_deepseek-r1/chunk-1-dataset.json": ("workload", "servegen"),
}
# options each table's loader needs for these files (times the files do not carry)
OPTIONS = {
    "gpu": {"tz": "UTC", "time": "2026-07-14T08:12:53Z"},
    "metrics": {"time": "2025-08-18T03:00:00Z"},
    "logs": {"tz": "UTC", "year": 2025},
    "workload": {"tz": "UTC"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detect_every_real_file(real_data: Path, name: str) -> None:
    found = detect(real_data / name)
    assert (found.table, found.format) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(n for n, (_, f) in EXPECTED.items() if f != "servegen"))
def test_load_reads_every_real_file_into_its_table(real_data: Path, name: str) -> None:
    table, fmt = EXPECTED[name]
    path = real_data / name
    with_options = OPTIONS.get(table, {})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", toolkit.errors.ToolkitWarning)  # e.g. ui_01's dup id
        loaded = toolkit.load(path, **with_options)
    assert loaded.table == table
    assert loaded.formats == {str(path): fmt}
    assert loaded.frame.height > 0
    validate(loaded.frame, table)


def test_unrelated_real_files_are_refused_with_the_list(real_data: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match=r"german\.data: no reader recognises") as e:
        toolkit.load(real_data / "uci_german" / "german.data")
    assert "otlp-json-lines" in str(e.value)
    assert "zipkin-v2-json" in str(e.value)
    assert "nvidia-smi" in str(e.value)


def test_load_spans_reads_every_trace_format_together(real_data: Path) -> None:
    files = [real_data / n for n, (t, _) in EXPECTED.items() if t == "spans"]
    report = toolkit.LoadReport()
    with pytest.warns(toolkit.errors.ToolkitWarning):  # ui_01.json repeats a span id
        spans = toolkit.load_spans(files, report=report)
    validate(spans, "spans")
    expected_rows = 1 + sum(
        len(json.loads((real_data / n).read_text())) for n in EXPECTED if n.startswith("zipkin/")
    )
    zipkin_rows = spans.filter(
        pl.col("trace_id").is_in(spans.filter(pl.col("service_name").is_not_null())["trace_id"])
    ).height
    assert zipkin_rows >= expected_rows - 1
    assert set(report.formats.values()) == {
        "otlp-json",
        "jaeger-json",
        "zipkin-v2-json",
        "otel-python-sdk-json",
    }
    agno = json.loads((real_data / "any_agent_genai_traces/AGNO_trace.json").read_text())
    assert spans.filter(
        pl.col("trace_id") == format(agno["spans"][0]["context"]["trace_id"], "032x")
    ).height == len(agno["spans"])


def test_another_tables_file_is_named_with_its_loader(real_data: Path) -> None:
    azure = real_data / "azure_llm_2023" / "AzureLLMInferenceTrace_conv.csv"
    with pytest.raises(
        WrongSignalError,
        match=r"holds the workload table \(azure\), not spans; read it with "
        r"toolkit\.load_workload",
    ):
        toolkit.load_spans(azure)
    with pytest.warns(SkippedRecordsWarning):
        spans = toolkit.load_spans([azure, real_data / "zipkin" / "envoy.json"], on_error="skip")
    assert spans.height == 1


def test_load_metrics_mixes_otlp_and_prometheus(real_data: Path) -> None:
    metrics = toolkit.load_metrics(
        [
            real_data / "otel_proto_examples" / "metrics.json",
            real_data / "vllm_0_25_1" / "metrics_vllm_0_25_1_loaded.txt",
        ],
        time="2025-08-18T03:00:00Z",
    )
    validate(metrics, "metrics")
    running = metrics.filter(pl.col("name") == "vllm:num_requests_running")["value"].to_list()
    assert running == [64.0]
    assert metrics.filter(pl.col("name") == "my.gauge")["value"].to_list() == [10.0]


def test_load_logs_mixes_otlp_json_and_vllm(real_data: Path, tmp_path: Path) -> None:
    app = tmp_path / "app.jsonl"
    app.write_text(
        json.dumps(
            {
                "time": "2025-08-18T02:58:00Z",
                "level": "error",
                "msg": "upstream 503",
                "trace_id": "5b8efff798038103d269b633813fc60c",
            }
        )
        + "\n"
    )
    logs = toolkit.load_logs(
        [
            real_data / "otel_proto_examples" / "logs.json",
            app,
            real_data / "vllm_0_25_1" / "vllm_serve_no_kv_cache_memory_v0.25.1.log",
        ],
        tz="UTC",
        year=2025,
    )
    validate(logs, "logs")
    assert logs.height == 1 + 1 + 28
    assert logs.filter(pl.col("body") == "upstream 503")["severity_number"].item() == 17
    assert logs.filter(pl.col("event_name") == "vllm.error.kv_cache_memory").height == 2
    with pytest.raises(ParameterError, match="'fields' parameter of load_logs"):
        toolkit.load_logs(app, fields={"when": "ts"})


def test_load_refuses_mixed_tables_and_foreign_options(real_data: Path) -> None:
    with pytest.raises(ParameterError, match="must name files of one table"):
        toolkit.load(
            [real_data / "zipkin" / "envoy.json", real_data / "otel_proto_examples" / "logs.json"]
        )
    with pytest.raises(ParameterError, match=r"options of load for a spans file"):
        toolkit.load(real_data / "zipkin" / "envoy.json", tz="UTC")


def test_servegen_windows_through_load(real_data: Path) -> None:
    loaded = toolkit.load(real_data / "servegen" / "reason_deepseek-r1" / "chunk-1-trace.csv")
    assert loaded.table == "servegen-windows"
    assert loaded.frame.height == 144
