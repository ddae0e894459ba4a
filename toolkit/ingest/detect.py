"""Which table and format a file holds, told from its content.

One place that knows every reader's fingerprint, used by :func:`toolkit.load` and by the
per-table loaders to pick a reader for each file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import msgspec

from toolkit.errors import FormatError, ToolkitError, UnsupportedFormatError, preview
from toolkit.ingest import gpu, jaeger, otlp, predictions, sdk_dump, workloads, zipkin
from toolkit.ingest._io import decode_json, first_line, sniff
from toolkit.ingest.logs import JSON_FIELD_CANDIDATES, TEXT_LOG_PATTERNS

__all__ = ["SUPPORTED", "Detected", "detect"]

#: Every format :func:`detect` recognises: name -> (table, what it is).
SUPPORTED: dict[str, tuple[str, str]] = {
    "otlp-json": ("spans|logs|metrics", "OTLP JSON, one request object per file"),
    "otlp-json-lines": ("spans|logs|metrics", "OTLP JSON Lines (collector file exporter)"),
    "otlp-protobuf": ("spans|logs|metrics", "OTLP protobuf Export*ServiceRequest"),
    jaeger.FORMAT: ("spans", "Jaeger query-API, UI, anonymizer or Elasticsearch JSON"),
    zipkin.FORMAT: ("spans", "Zipkin v2 JSON span array"),
    sdk_dump.FORMAT: ("spans", "OpenTelemetry Python SDK span dumps (any-agent, to_json)"),
    "prometheus-text": ("metrics", "Prometheus text exposition or OpenMetrics scrape"),
    "dcgm": ("gpu", "NVIDIA dcgm-exporter Prometheus scrape"),
    "nvidia_gpu_exporter": ("gpu", "nvidia_gpu_exporter Prometheus scrape"),
    "nvidia-smi": ("gpu", "nvidia-smi --query-gpu CSV log or capture"),
    "json-logs": ("logs", "JSON Lines application logs"),
    "vllm-text": ("logs", "vLLM server text log"),
    **{name: ("workload", text) for name, text in workloads.WORKLOAD_FORMATS.items()},
    predictions.FORMAT: ("predictions", "prediction log: CSV or Parquet with time, score, label"),
    predictions.ULB_FORMAT: ("predictions", "ULB credit-card fraud CSV (no score)"),
}

_TABLE_OF_SIGNAL = {"traces": "spans", "logs": "logs", "metrics": "metrics"}
_VLLM_LINE = re.compile(TEXT_LOG_PATTERNS["vllm"].encode(), re.MULTILINE)


@dataclass(frozen=True)
class Detected:
    """The canonical table a file loads into, and its format (a key of SUPPORTED)."""

    table: str
    format: str


def _supported_list() -> str:
    return "; ".join(f"{name} ({text})" for name, (_, text) in SUPPORTED.items())


def _is_json_log(path: Path, head: bytes) -> bool:
    line = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    if b"\n" not in head.lstrip(b"\xef\xbb\xbf \t\r\n"):  # a first line longer than the head
        line = first_line(path).lstrip(b"\xef\xbb\xbf")
    try:
        record = decode_json(line)
    except msgspec.DecodeError:
        return False
    if not isinstance(record, dict):
        return False
    keys = set(record)
    has = {field: bool(keys & set(names)) for field, names in JSON_FIELD_CANDIDATES.items()}
    return has["time"] and (has["message"] or has["level"])


def _is_exposition(head: bytes) -> bool:
    """Whether the complete lines at the start of ``head`` read as a Prometheus scrape.

    A few bad lines do not make a scrape something else (they are bad lines, reported
    with their numbers by the reader): most of the lines must parse, and one sample at
    least.
    """
    from toolkit.ingest._frames import LoadContext
    from toolkit.ingest.prometheus import _parse, _Source, _text_lines

    text = head.decode("utf-8", "replace")
    if len(head) >= 65536:  # drop a line cut at the end of the sniffed head
        text = text[: text.rfind("\n") + 1]
    ctx = LoadContext("detect", on_error="skip")
    try:
        frame = _parse([_Source(None, _text_lines(text), 0, "")], ctx)
    except ToolkitError:
        return False
    content = sum(1 for line in text.splitlines() if line.strip())
    bad = len(ctx.skipped)
    return (frame.height > 0 or content > bad) and bad <= max(1, content // 10)


def detect(path: Path) -> Detected:
    """Tell the table and format of one file from its content.

    Parameters
    ----------
    path : pathlib.Path
        The file (gzip allowed).

    Returns
    -------
    Detected
        ``table`` (spans, logs, metrics, gpu or workload) and ``format``.

    Raises
    ------
    UnsupportedFormatError
        When no reader recognises the file; the message lists every supported format.
    FormatError
        For an empty file or a corrupt gzip stream.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "trace.csv"
    >>> _ = p.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\\n"
    ...                  "2023-11-16 18:15:46.6805900,374,44\\n")
    >>> detect(p)
    Detected(table='workload', format='azure')
    """
    s = sniff(path)
    if s.kind == "empty":
        raise FormatError("the file is empty", path=path)
    if s.kind in ("text", "binary"):
        table_format = predictions.looks_like(path)
        if table_format is not None:
            return Detected("predictions", table_format)
    if s.kind in ("json-lines", "json", "binary"):
        container, signal = otlp.detect(path)
        if signal is not None:
            return Detected(_TABLE_OF_SIGNAL[signal], f"otlp-{container}")
    if s.kind in ("json", "json-array", "json-lines"):
        for module in (sdk_dump, jaeger, zipkin):
            if module.looks_like(s.head):
                return Detected("spans", module.FORMAT)
    try:
        fmt = workloads._detect(path)
    except (UnsupportedFormatError, msgspec.DecodeError):
        fmt = None
    if fmt is not None:
        return Detected("workload", fmt)
    if s.kind == "text":
        if _VLLM_LINE.search(s.head):
            return Detected("logs", "vllm-text")
        try:
            kind = gpu._detect_format(path)
        except UnsupportedFormatError:
            kind = None
        if kind in ("prometheus", "dcgm", "nvidia_gpu_exporter") and not _is_exposition(s.head):
            kind = None  # e.g. 'A11 6 A34 ...' looks like a sample line but is not a scrape
        if kind == "prometheus":
            return Detected("metrics", "prometheus-text")
        if kind is not None:
            return Detected("gpu", kind)
    if s.kind == "json-lines" and _is_json_log(path, s.head):
        return Detected("logs", "json-logs")
    start = s.head.lstrip(b"\xef\xbb\xbf \t\r\n")[:60]
    raise UnsupportedFormatError(
        f"no reader recognises this {s.kind} file (it starts with "
        f"{preview(start.decode('utf-8', 'replace'), 70)}). Supported formats: "
        f"{_supported_list()}",
        path=path,
    )
