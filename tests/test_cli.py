"""The genai-sre command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from toolkit.cli import _summary, main

REPO = Path(__file__).resolve().parents[1]


def test_summary_of_the_sample_names_every_table() -> None:
    import toolkit

    sample = REPO / "data" / "sample"
    spans = toolkit.load_spans(sample / "traces.jsonl.gz")
    calls = toolkit.llm_calls(spans)
    logs = toolkit.load_logs(sample / "logs.jsonl.gz")
    out = io.StringIO()
    assert _summary([str(sample)], out) == 0
    text = out.getvalue()
    assert f"spans: {spans.height:,} rows from 1 file(s)" in text
    assert f"LLM calls: {calls.height:,}" in text
    assert f"logs: {logs.height:,} records" in text
    assert "llm-gateway" in text


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
    assert "logs: 1 records" in text
    assert "metrics: 1 samples of 1 series" in text
    assert "notes.txt (text)" in text


def test_errors_are_reported_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", str(tmp_path / "missing")]) == 2
    assert "genai-sre: error: The 'path' parameter" in capsys.readouterr().err
