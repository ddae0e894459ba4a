"""The genai-sre command line."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest

from toolkit.cli import _summary, main

REPO = Path(__file__).resolve().parents[1]


def test_summary_of_the_sample_names_every_table() -> None:
    import toolkit

    sample = REPO / "data" / "sample"
    # the fleet's traces and the clinical assistant's (its own export)
    spans = toolkit.load_spans([sample / "traces.jsonl.gz", sample / "clinical_traces.jsonl.gz"])
    calls = toolkit.llm_calls(spans)
    logs = toolkit.load_logs(sample / "logs.jsonl.gz")
    predictions = toolkit.load_predictions(sample / "predictions.csv.gz")
    out = io.StringIO()
    assert _summary([str(sample)], out) == 0
    text = out.getvalue()
    assert f"spans: {spans.height:,} rows from 2 file(s)" in text
    assert f"LLM calls: {calls.height:,}" in text
    assert f"logs: {logs.height:,} records" in text
    assert f"predictions: {predictions.height:,} scored rows from 1 file(s)" in text
    assert "llm-gateway" in text
    assert "clinical-assistant" in text


def test_summary_of_logs_and_metrics(tmp_path: Path) -> None:
    logs = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "1700000000000000000",
                                "severityText": "WARN",
                                "body": {"stringValue": "slow"},
                            }
                        ]
                    }
                ]
            }
        ]
    }
    metric = {
        "name": "vllm.requests",
        "unit": "1",
        "gauge": {"dataPoints": [{"timeUnixNano": "1700000000000000000", "asDouble": 3.0}]},
    }
    metrics = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]}
    (tmp_path / "logs.json").write_text(json.dumps(logs))
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    (tmp_path / "notes.txt").write_text("not telemetry\n")
    out = io.StringIO()
    assert _summary([str(tmp_path)], out) == 0
    text = out.getvalue()
    assert "logs: 1 records from 1 file(s)" in text
    assert "metrics: 1 samples of 1 series from 1 file(s)" in text
    assert "  - 1 file(s) unrecognised, left out: notes.txt" in text
    assert "files: 3 under" in text
    assert "(2 loaded, 1 unrecognised)" in text
    assert "  overview: supported (logs, metrics)" in text


def test_errors_are_reported_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", str(tmp_path / "missing")]) == 2
    assert "genai-sre: error: The 'path' parameter" in capsys.readouterr().err


# --------------------------------------------------------------------------- summary by discovery


def _sdk_spans(model: str = "llama-3") -> list[Any]:
    """Two finished SDK spans: a gateway span and the model call under it."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "rag-gateway"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("toolkit.tests", "1.0")
    t0 = 1_763_700_000_000_000_000
    with tracer.start_as_current_span(
        "POST /chat", kind=SpanKind.SERVER, start_time=t0, end_on_exit=False
    ) as root:
        with tracer.start_as_current_span(
            f"chat {model}", kind=SpanKind.CLIENT, start_time=t0 + 1_000, end_on_exit=False
        ) as call:
            call.set_attribute("gen_ai.operation.name", "chat")
            call.set_attribute("gen_ai.request.model", model)
            call.set_attribute("gen_ai.usage.input_tokens", 120)
            call.set_attribute("gen_ai.usage.output_tokens", 30)
            call.end(end_time=t0 + 2_000_000_000)
        root.end(end_time=t0 + 2_500_000_000)
    return list(exporter.get_finished_spans())


def _otlp_json(request: Any) -> str:
    """One OTLP JSON line (ids in hex, as the collector writes them) of a protobuf request."""
    from google.protobuf.json_format import MessageToDict

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (
                    base64.b64decode(v).hex()
                    if k in ("traceId", "spanId", "parentSpanId") and v
                    else fix(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return json.dumps(fix(MessageToDict(request))) + "\n"


def test_summary_counts_the_same_spans_in_two_formats_once(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    request = encode_spans(_sdk_spans())
    (tmp_path / "collector").mkdir()
    (tmp_path / "collector" / "traces.jsonl").write_text(_otlp_json(request))
    (tmp_path / "collector" / "traces.pb").write_bytes(request.SerializeToString())
    out = io.StringIO()
    assert _summary([str(tmp_path)], out) == 0
    text = out.getvalue()
    assert f"files: 2 under {tmp_path} (2 loaded)" in text
    assert (
        "  - 2 spans (same trace id, span id and start time) were also held by an earlier "
        "file and are counted once: collector/traces.pb (2)"
    ) in text
    assert "spans: 2 rows from 2 file(s), 2 duplicate(s) counted once" in text
    assert "LLM calls: 1" in text
    rows = {line.split("┆")[0].strip("│ "): line for line in text.splitlines() if "┆" in line}
    assert "otlp-json-lines" in rows["collector/traces.jsonl"]
    assert (
        "otlp-protobuf" in rows["collector/traces.pb"] or "protobuf" in rows["collector/traces.pb"]
    )
    assert [c.strip() for c in rows["collector/traces.pb"].split("┆")][6] == "2"  # duplicates
    assert "  traces: supported (spans with 2 rows, 1 with a parent)" in text
    # the same through two paths on the command line
    (tmp_path / "other").mkdir()
    (tmp_path / "collector" / "traces.pb").rename(tmp_path / "other" / "export.bin")
    out = io.StringIO()
    paths = [str(tmp_path / "collector"), str(tmp_path / "other" / "export.bin")]
    assert _summary(paths, out) == 0
    text = out.getvalue()
    assert "spans: 2 rows from 2 file(s), 2 duplicate(s) counted once" in text
    assert "were also held by an earlier file and are counted once:" in text
    assert "export.bin (2)" in text


def test_summary_reads_every_format_discover_knows(tmp_path: Path) -> None:
    spans = _sdk_spans("mistral")
    # the SDK's console dump (ConsoleSpanExporter: JSON after JSON), any name, nested
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "console.out").write_text("".join(s.to_json() + "\n" for s in spans))
    (tmp_path / "smi.csv").write_text(
        "timestamp, name, index, uuid, utilization.gpu [%], memory.used [MiB], "
        "memory.total [MiB], power.draw [W]\n"
        "2026/11/02 00:00:00.000, NVIDIA L4, 0, GPU-aa, 30 %, 1024 MiB, 23034 MiB, 30.5 W\n"
        "2026/11/02 00:01:00.000, NVIDIA L4, 0, GPU-aa, 50 %, 2048 MiB, 23034 MiB, 40.5 W\n"
    )
    (tmp_path / "arrivals.csv").write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        "2023-11-16 18:15:46.6805900,100,20\n2023-11-16 18:15:47.0000000,300,40\n"
    )
    out = io.StringIO()
    assert _summary([str(tmp_path)], out) == 0
    text = out.getvalue()
    assert "otel-python-sdk-json" in text
    assert "spans: 2 rows from 1 file(s)" in text
    assert "LLM calls: 1" in text
    assert "mistral" in text
    # the nvidia-smi log and the Azure trace have no zone: left out, with what to set ...
    assert "2 file(s) needs a parameter, left out: arrivals.csv, smi.csv" in text
    assert "(genai-sre summary takes them as --tz, --host, --year, --scrape-time)" in text
    assert "  gpu: needs the gpu table" in text
    # ... and read with --tz
    out = io.StringIO()
    assert _summary([str(tmp_path)], out, tz="UTC", host="node-1") == 0
    text = out.getvalue()
    assert "gpu: 2 samples of 1 GPU(s) from 1 file(s)" in text
    assert "workload: 2 requests from 1 file(s)" in text
    assert "  capacity: supported" in text
    assert "node-1" in text
    assert "NVIDIA L4" in text
    assert "  gpu: supported (gpu with 2 rows)" in text


def test_summary_of_nothing_recognised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("not telemetry\n")
    assert main(["summary", str(tmp_path)]) == 1
    text = capsys.readouterr().out
    assert "  - 1 file(s) unrecognised, left out: notes.txt" in text
    assert "  overview: needs any telemetry table; found nothing recognised" in text
    assert text.rstrip().endswith(
        "nothing recognised: no telemetry file found (see the files and notes above)"
    )
