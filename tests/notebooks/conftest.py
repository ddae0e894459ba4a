"""Fixtures of the notebook tests: report runs shared by the tests, and a stand-in export set.

The stand-in (written into a temporary directory, never committed) has one file of every
kind in the agreed ``data/sample`` layout, small enough to write inline, and carries
script-bearing attribute values, log bodies with an e-mail address and an API key: the
reports made from it must show them as text, redacted.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from toolkit.report import ReportResult, run_report

REPO = Path(__file__).resolve().parents[2]
#: The sample exports (TOOLKIT_SAMPLE_DATA points the tests at another copy, e.g. a larger
#: one made with ``genai-sre synth``).
SAMPLE = Path(os.environ.get("TOOLKIT_SAMPLE_DATA") or REPO / "data" / "sample")
NOTEBOOKS = REPO / "notebooks"

#: Every export of the agreed layout, by the tour's parameter name.
LAYOUT = {
    "traces": "traces.jsonl.gz",
    "logs": "logs.jsonl.gz",
    "vllm_metrics": "vllm_metrics.prom.gz",
    "dcgm_metrics": "dcgm_metrics.prom.gz",
    "nvidia_smi": "nvidia_smi.csv.gz",
}

#: The sample's trace files: the fleet's and the clinical assistant's (its own export), all
#: of which a notebook's discovery reads into one spans table.
SAMPLE_TRACE_FILES = (LAYOUT["traces"], "clinical_traces.jsonl.gz")


def sample_traces() -> list[Path]:
    """The sample's trace files that exist, to load what the notebooks see as spans."""
    return [SAMPLE / name for name in SAMPLE_TRACE_FILES if (SAMPLE / name).exists()]


SCRIPT = "<script>console.log('pwned-script');alert(1)</script>"
IMG = "<img src=x onerror=\"console.log('pwned-img');alert(2)\">"
EMAIL = "ana.secret@example.com"
API_KEY = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX0123456789"
START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def incident_window(
    incident: str | None = None, *, kind: str | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of the sample's truth.json incident with this id (exactly one), or
    of the first incident of this kind: only ever used to check a notebook's findings."""
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    if incident is not None:
        [found] = [i for i in truth["incidents"] if i["id"] == incident]
    else:
        found = next(i for i in truth["incidents"] if i["kind"] == kind)
    window = found["window"]
    return dt.datetime.fromisoformat(window["start"]), dt.datetime.fromisoformat(window["end"])


def sample_parameters() -> dict[str, Any]:
    """Parameters for data/sample: until the simulator's full layout lands (truth.json),
    the exports that are not there yet are switched off; after that, all must exist."""
    if (SAMPLE / "truth.json").exists():
        return {}
    return {name: None for name, file in LAYOUT.items() if not (SAMPLE / file).exists()}


def _ns(t: dt.datetime) -> str:
    return str(int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000)


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def _gz(path: Path, text: str) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(text.encode("utf-8"))


def write_standin(folder: Path) -> dict[str, Any]:
    """Write the stand-in exports into ``folder``; returns what they hold (hand-counted)."""
    folder.mkdir(parents=True, exist_ok=True)
    spans: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    models = ["small-model", "large-model"]
    calls = 12
    for i in range(calls):
        t = START + dt.timedelta(minutes=20 * i)  # 12 calls over 4 hours
        trace_id = f"{i + 1:032x}"
        root, child = f"{2 * i + 1:016x}", f"{2 * i + 2:016x}"
        model = models[i % 2]
        error = i == 5
        attributes = {"app.route": "chat", "user.tier": "free", "user.locale": "en-US"}
        if i == 0:
            attributes["user.note"] = SCRIPT
            attributes["app.comment"] = IMG
        spans.append(
            {
                "traceId": trace_id,
                "spanId": root,
                "name": "gateway /v1/chat",
                "kind": 2,
                "startTimeUnixNano": _ns(t),
                "endTimeUnixNano": _ns(t + dt.timedelta(seconds=2)),
                "attributes": [_attr(k, v) for k, v in attributes.items()],
                "status": {"code": 2 if error else 1},
            }
        )
        spans.append(
            {
                "traceId": trace_id,
                "spanId": child,
                "parentSpanId": root,
                "name": f"chat {model}",
                "kind": 3,
                "startTimeUnixNano": _ns(t + dt.timedelta(milliseconds=100)),
                "endTimeUnixNano": _ns(t + dt.timedelta(milliseconds=100 + 500 + 100 * i)),
                "attributes": [
                    _attr(k, v)
                    for k, v in {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.provider.name": "openai",
                        "gen_ai.request.model": model,
                        "gen_ai.response.model": model,
                        "gen_ai.usage.input_tokens": 100 + i,
                        "gen_ai.usage.output_tokens": 10 + i,
                        "gen_ai.response.time_to_first_chunk": 0.1,
                        "gen_ai.response.finish_reasons": ["stop"],
                        "app.route": "chat",
                        **({"error.type": "timeout"} if error else {}),
                    }.items()
                ],
                "status": {"code": 2 if error else 1},
            }
        )
        body = f"request {i} done"
        if i == 0:
            body = f"user {EMAIL} sent key {API_KEY} {SCRIPT}"
        logs.append(
            {
                "timeUnixNano": _ns(t + dt.timedelta(seconds=1)),
                "severityNumber": 17 if error else 9,
                "severityText": "ERROR" if error else "INFO",
                "body": {"stringValue": body},
                "traceId": trace_id,
                "spanId": root,
                "attributes": [_attr("http.client_ip", "10.1.2.3")],
            }
        )
    resource = {"attributes": [_attr("service.name", "llm-gateway")]}
    traces_doc = {
        "resourceSpans": [
            {"resource": resource, "scopeSpans": [{"scope": {"name": "gw"}, "spans": spans}]}
        ]
    }
    logs_doc = {
        "resourceLogs": [
            {"resource": resource, "scopeLogs": [{"scope": {"name": "gw"}, "logRecords": logs}]}
        ]
    }
    _gz(folder / LAYOUT["traces"], json.dumps(traces_doc) + "\n")
    _gz(folder / LAYOUT["logs"], json.dumps(logs_doc) + "\n")
    scrapes = [START + dt.timedelta(minutes=60 * k) for k in range(4)]
    ms = [int(t.timestamp() * 1000) for t in scrapes]
    vllm = ["# TYPE vllm:num_requests_waiting gauge"]
    vllm += [
        f'vllm:num_requests_waiting{{model_name="small-model"}} {k} {m}' for k, m in enumerate(ms)
    ]
    dcgm = ["# TYPE DCGM_FI_DEV_GPU_UTIL gauge"]
    labels = 'gpu="0",UUID="GPU-0",modelName="NVIDIA L4",Hostname="n1"'
    dcgm += [f"DCGM_FI_DEV_GPU_UTIL{{{labels}}} {20 + 10 * k} {m}" for k, m in enumerate(ms)]
    _gz(folder / LAYOUT["vllm_metrics"], "\n".join(vllm) + "\n")
    _gz(folder / LAYOUT["dcgm_metrics"], "\n".join(dcgm) + "\n")
    header = (
        "timestamp, index, uuid, name, utilization.gpu [%], memory.used [MiB], "
        "memory.total [MiB], power.draw [W], temperature.gpu, clocks.current.sm [MHz]"
    )
    rows = [
        f"{t:%Y/%m/%d %H:%M:%S}.000, 0, GPU-0, NVIDIA L4, {30 + k} %, 1000 MiB, 23034 MiB, "
        f"40.50 W, 50, 1800 MHz"
        for k, t in enumerate(scrapes)
    ]
    _gz(folder / LAYOUT["nvidia_smi"], "\n".join([header, *rows]) + "\n")
    return {
        "spans": 2 * calls,
        "llm_calls": calls,
        "errors": 1,
        "logs": calls,
        "metrics": 2 * len(scrapes),
        "gpu": len(scrapes),
        "input_tokens": sum(100 + i for i in range(calls)),
        "output_tokens": sum(10 + i for i in range(calls)),
    }


#: Where the sample's exports go in the copy the report runs on: other names, nested, as a
#: collector and scrape jobs would leave them (truth.json stays behind).
RENAMED = {
    "traces.jsonl.gz": "otelcol/traces/2026-11/export-000.json.gz",
    "logs.jsonl.gz": "otelcol/logs/export-000",
    "vllm_metrics.prom.gz": "prometheus/engines.txt.gz",
    "dcgm_metrics.prom.gz": "prometheus/gpu/dcgm.gz",
    "nvidia_smi.csv.gz": "hosts/gpu-h100-0/smi.log.gz",
    "clinical_traces.jsonl.gz": "otelcol/traces/2026-11/export-001.json.gz",
    "predictions.csv.gz": "warehouse/fraud-model/scored-transactions.csv.gz",
}


def renamed_sample(root: Path) -> Path:
    """A copy of the sample (symbolic links) under other names and folders."""
    for source, target in RENAMED.items():
        if (SAMPLE / source).exists():
            (root / target).parent.mkdir(parents=True, exist_ok=True)
            os.symlink((SAMPLE / source).resolve(), root / target)
    return root


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    """Every notebook executed on the sample week (once per session), renamed and nested:
    the notebooks find files by content, so every finding asserted on this report is also
    a test that they do."""
    data = renamed_sample(tmp_path_factory.mktemp("sample-renamed"))
    out = tmp_path_factory.mktemp("sample-report")
    return run_report(data, out, progress=False, parameters=sample_parameters() or None)


@pytest.fixture(scope="session")
def standin_report(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any], ReportResult]:
    """The tour executed on the stand-in exports with script payloads and secrets."""
    data = tmp_path_factory.mktemp("standin-data")
    expected = write_standin(data)
    out = tmp_path_factory.mktemp("standin-report")
    result = run_report(data, out, only="00_tour", progress=False, parameters={"bucket": "1h"})
    return data, expected, result
