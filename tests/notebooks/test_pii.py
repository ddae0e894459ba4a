"""PII and markup planted in every text field of the exports never leave a report raw.

The stand-in export set (``conftest.write_standin``: one file of every kind, small) gets
e-mail addresses, phone and card numbers, AWS / OpenAI / GitHub / Slack keys, IPv4 and
IPv6 addresses and ``<script>`` / ``<img onerror>`` payloads in span names, attribute keys
and values, resource attributes, event names and attributes, status messages, log bodies
and attributes, metric label values and nvidia-smi's text fields. Every notebook runs on
it; no file the report writes (the notebooks' HTML, ``index.html``, ``findings.json``,
anything else) may hold a planted secret or an unescaped payload (issue 16).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import LAYOUT, write_standin

from toolkit.report import ReportResult, run_report

#: Secrets of every kind the default redactor knows (toolkit.redact), each unique.
SECRETS = {
    "email": "ana.pii-leak@example.org",
    "phone": "+1 415-555-0199",
    "card": "4111 1111 1111 1111",
    "aws": "AKIAIOSFODNN7PIILEAK",
    "openai": "sk-proj-PIILEAKabcdefghijklmnop0123456789",
    "github": "ghp_PIILEAK0123456789abcdefghijklmnopqrstu",
    "slack": "xoxb-1234567890-PIILEAK-abcdefghij",
    "ipv4": "203.0.113.77",
    "ipv6": "2001:db8:85a3::8a2e:370:7334",
}
SCRIPT = "<script>console.log('pii-script')</script>"
IMG = "<img src=x onerror=\"console.log('pii-img')\">"
MARKUP = (SCRIPT, IMG)
#: One text holding every secret and payload.
PLANTED = " ".join([*SECRETS.values(), SCRIPT, IMG])


def _planted(i: int) -> str:
    """Secrets in a field: all of them in a few, a different one in each of the others."""
    values = [*SECRETS.values(), SCRIPT, IMG]
    return PLANTED if i % 4 == 0 else f"note {values[i % len(values)]} end"


def _string(value: str) -> dict[str, Any]:
    return {"stringValue": value}


def _plant_traces(doc: dict[str, Any]) -> None:
    n = 0
    for rs in doc["resourceSpans"]:
        rs["resource"]["attributes"].append({"key": "host.owner", "value": _string(PLANTED)})
        rs["resource"]["attributes"].append(
            {"key": f"k8s.{SECRETS['email']}", "value": _string("resource key")}
        )
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                n += 1
                if n % 3 == 0:  # names too, without merging every span into one group
                    span["name"] = f"{span['name']} {_planted(n)}"
                span["attributes"].append({"key": "user.memo", "value": _string(_planted(n))})
                span["attributes"].append(
                    {"key": f"user.{SECRETS['aws']}", "value": _string(SECRETS["phone"])}
                )
                span["attributes"].append(
                    {"key": f"tag{SCRIPT}", "value": {"arrayValue": {"values": [_string(PLANTED)]}}}
                )
                span.setdefault("status", {})["message"] = _planted(n + 1)
                span["events"] = [
                    {
                        "timeUnixNano": span["startTimeUnixNano"],
                        "name": f"event {_planted(n + 2)}",
                        "attributes": [
                            {"key": f"ev.{SECRETS['github']}", "value": _string(_planted(n + 3))}
                        ],
                    }
                ]


def _plant_logs(doc: dict[str, Any]) -> None:
    for rl in doc["resourceLogs"]:
        rl["resource"]["attributes"].append({"key": "host.owner", "value": _string(PLANTED)})
        for sl in rl["scopeLogs"]:
            for i, record in enumerate(sl["logRecords"]):
                record["body"] = _string(f"{record['body']['stringValue']} {_planted(i)}")
                record["attributes"].append({"key": "user.note", "value": _string(_planted(i + 1))})
                record["attributes"].append(
                    {"key": f"user.{SECRETS['slack']}", "value": _string(SECRETS["ipv6"])}
                )


def _rewrite_json(path: Path, plant: Any) -> None:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh if line.strip()]
    for doc in docs:
        plant(doc)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(doc) + "\n" for doc in docs)


def _prom_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _rewrite_prometheus(path: Path) -> None:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    out = [
        line.replace("{", f'{{owner="{_prom_value(_planted(i))}",', 1)
        if not line.startswith("#") and "{" in line
        else line
        for i, line in enumerate(lines)
    ]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(out) + "\n")


def _rewrite_nvidia_smi(path: Path) -> None:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        header, *rows = fh.read().splitlines()
    cells = [c.strip() for c in header.split(",")]
    at = cells.index("name")
    planted = []
    for i, row in enumerate(rows):
        values = row.split(", ")
        values[at] = f"NVIDIA L4 {_planted(i)}".replace(",", ";")
        planted.append(", ".join(values))
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join([header, *planted]) + "\n")


@pytest.fixture(scope="module")
def pii_report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    data = tmp_path_factory.mktemp("pii-data")
    write_standin(data)
    _rewrite_json(data / LAYOUT["traces"], _plant_traces)
    _rewrite_json(data / LAYOUT["logs"], _plant_logs)
    _rewrite_prometheus(data / LAYOUT["vllm_metrics"])
    _rewrite_prometheus(data / LAYOUT["dcgm_metrics"])
    _rewrite_nvidia_smi(data / LAYOUT["nvidia_smi"])
    out = tmp_path_factory.mktemp("pii-report")
    return run_report(data, out, progress=False, parameters={"bucket": "1h"})


def _forms(text: str) -> set[str]:
    """A secret as it can be written: raw, HTML-escaped, JSON-escaped."""
    html = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {text, html, json.dumps(text)[1:-1], html.replace('"', "&quot;").replace("'", "&#x27;")}


def test_every_planted_field_is_loaded(tmp_path: Path) -> None:
    """The planting reaches the tables (so the report test below is not vacuous)."""
    import toolkit

    write_standin(tmp_path)
    _rewrite_json(tmp_path / LAYOUT["traces"], _plant_traces)
    _rewrite_json(tmp_path / LAYOUT["logs"], _plant_logs)
    _rewrite_prometheus(tmp_path / LAYOUT["vllm_metrics"])
    _rewrite_nvidia_smi(tmp_path / LAYOUT["nvidia_smi"])
    spans = toolkit.load_spans(tmp_path / LAYOUT["traces"])
    assert f"attributes.user.{SECRETS['aws']}" in spans.columns
    assert spans["status_message"].str.contains(SECRETS["email"], literal=True).any()
    assert spans["name"].str.contains("<script>", literal=True).any()
    logs = toolkit.load_logs(tmp_path / LAYOUT["logs"])
    assert logs["body"].str.contains(SECRETS["card"], literal=True).any()
    metrics = toolkit.load_metrics(tmp_path / LAYOUT["vllm_metrics"])
    assert metrics["label.owner"].str.contains(SECRETS["openai"], literal=True).any()
    gpu = toolkit.load_gpu(tmp_path / LAYOUT["nvidia_smi"], tz="UTC")
    assert gpu["gpu_model"].str.contains(SECRETS["ipv4"], literal=True).any()


def test_no_planted_secret_or_payload_in_any_report_file(pii_report: ReportResult) -> None:
    assert pii_report.notebooks, "no notebook ran"
    failed = [nb.name for nb in pii_report.failures]
    assert not failed, f"notebooks failed on the planted exports: {failed}"
    files = [p for p in Path(pii_report.out_dir).rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"index.html", "findings.json"} <= names
    assert sum(p.suffix == ".html" for p in files) >= 3
    leaks: list[str] = []
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        for kind, secret in SECRETS.items():
            for form in _forms(secret):
                if form in text:
                    leaks.append(f"{path.name}: {kind} {form!r}")
        for payload in MARKUP:
            if payload in text:
                leaks.append(f"{path.name}: unescaped {payload!r}")
        if path.suffix == ".json":
            for marker in ("<script", "<img"):
                if marker in text:
                    leaks.append(f"{path.name}: {marker!r} in JSON")
    assert not leaks, "\n".join(leaks[:40])
