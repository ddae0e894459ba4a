"""Benchmark: peak memory of every reader on a large gzip file.

Writes one gzip file per reader by repeating records of the committed sample week
(traces, logs, vLLM and DCGM scrapes, the nvidia-smi log) and of the public files in
``../shared/data/real`` (a Jaeger trace, a Zipkin trace, a vLLM server log, the Azure LLM
trace CSV) until each decompresses to about ``--mb`` MB, then loads each in a fresh
process and prints the seconds, the rows, the peak resident memory and its ratio to the
decompressed size: the figure a user sizes a machine by.

Line formats (OTLP JSON lines, JSON logs, Prometheus text, nvidia-smi CSV, vLLM text
logs, workload CSV) are decompressed as a stream, one window of lines at a time; JSON
documents (OTLP JSON, Jaeger, Zipkin) are read whole, up to ``TOOLKIT_MAX_FILE_BYTES``
decompressed (see :mod:`toolkit.ingest._io`). A reader whose public file is absent is
left out with a note.

    python benchmarks/reader_memory.py [--mb 200] [--only NAME ...] [--keep]
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
REAL = ROOT.parent / "shared" / "data" / "real"

CHILD = """
import resource, sys, time, warnings
warnings.simplefilter("ignore")
import toolkit
call, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
frame = eval(call, {"toolkit": toolkit, "path": path})
seconds = time.perf_counter() - t
print(seconds, frame.height, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

Writer = Callable[[BinaryIO, int], int]


def _gunzip(path: Path) -> bytes:
    with gzip.open(path, "rb") as fh:
        return fh.read()


def _repeat(body: bytes, header: bytes = b"") -> Writer:
    """Write ``header`` once, then ``body`` until ``want`` bytes are written."""

    def write(out: BinaryIO, want: int) -> int:
        out.write(header)
        written = len(header)
        while written < want:
            out.write(body)
            written += len(body)
        return written

    return write


def _document(head: bytes, items: Callable[[int], bytes], tail: bytes) -> Writer:
    """One JSON document: ``head``, copies of ``items(k)`` separated by commas, ``tail``."""

    def write(out: BinaryIO, want: int) -> int:
        out.write(head)
        written, k = len(head), 0
        while written < want:
            part = (b"," if k else b"") + items(k)
            out.write(part)
            written += len(part)
            k += 1
        out.write(tail)
        return written + len(tail)

    return write


def _otlp_document() -> Writer:
    lines = _gunzip(SAMPLE / "traces.jsonl.gz").splitlines()[:2000]
    inner = b",".join(
        json.dumps(json.loads(line)["resourceSpans"])[1:-1].encode() for line in lines
    )
    return _document(b'{"resourceSpans": [', lambda k: inner, b"]}")


def _jaeger() -> Writer | None:
    source = REAL / "jaeger" / "ui_01.json"
    if not source.is_file():
        return None
    trace = json.loads(source.read_text())
    template = json.dumps(trace).replace(f'"traceID": "{trace["traceID"]}"', '"traceID": "%s"')
    count = template.count("%s")
    return _document(
        b'{"data": [', lambda k: (template % ((f"{k + 1:016x}",) * count)).encode(), b"]}"
    )


def _zipkin() -> Writer | None:
    source = REAL / "zipkin" / "yelp.json"
    if not source.is_file():
        return None
    spans = json.loads(source.read_text())
    ids = {s["traceId"] for s in spans}
    template = json.dumps(spans)[1:-1]
    for i, trace in enumerate(sorted(ids)):
        template = template.replace(f'"traceId": "{trace}"', f'"traceId": "%(t{i})s"')

    def items(k: int) -> bytes:
        return (
            template % {f"t{i}": f"{k + 1:016x}{t[-16:]:0>16}" for i, t in enumerate(sorted(ids))}
        ).encode()

    return _document(b"[", items, b"]")


def _real(relative: str, header_lines: int = 0) -> Writer | None:
    source = REAL / relative
    if not source.is_file():
        return None
    data = source.read_bytes()
    if not data.endswith(b"\n"):
        data += b"\n"
    if not header_lines:
        return _repeat(data)
    header, _, body = data.partition(b"\n")
    return _repeat(body, header + b"\n")


def _relabelled(name: str, label: bytes) -> Writer:
    """Copies of a scrape file, each with ``label`` (``b'pool="'``) given a prefix of its
    own: repeated samples with the same labels and timestamp would be duplicates."""
    data = _gunzip(SAMPLE / name)

    def write(out: BinaryIO, want: int) -> int:
        written = k = 0
        while written < want:
            copy = data if k == 0 else data.replace(label, label + b"copy%d-" % k)
            out.write(copy)
            written += len(copy)
            k += 1
        return written

    return write


def _sample(name: str, header_lines: int = 0) -> Writer:
    data = _gunzip(SAMPLE / name)
    if not header_lines:
        return _repeat(data)
    header, _, body = data.partition(b"\n")
    return _repeat(body, header + b"\n")


#: name -> (file name, loader call with ``path``, writer factory)
CASES: dict[str, tuple[str, str, Callable[[], Writer | None]]] = {
    "otlp-jsonl": (
        "traces.jsonl.gz",
        "toolkit.load_spans(path)",
        lambda: _sample("traces.jsonl.gz"),
    ),
    "otlp-json": ("traces.json.gz", "toolkit.load_spans(path)", _otlp_document),
    "jaeger": ("jaeger.json.gz", "toolkit.read_jaeger(path)", _jaeger),
    "zipkin": ("zipkin.json.gz", "toolkit.read_zipkin(path)", _zipkin),
    "json-logs": ("logs.jsonl.gz", "toolkit.load_logs(path)", lambda: _sample("logs.jsonl.gz")),
    "vllm-log": (
        "vllm.log.gz",
        "toolkit.read_text_logs(path, year=2025, tz='UTC')",
        lambda: _real("vllm_0_25_1/vllm_serve_no_kv_cache_memory_v0.25.1.log"),
    ),
    "prometheus": (
        "vllm_metrics.prom.gz",
        "toolkit.load_metrics(path)",
        lambda: _relabelled("vllm_metrics.prom.gz", b'pool="'),
    ),
    "dcgm": (
        "dcgm_metrics.prom.gz",
        "toolkit.load_gpu(path)",
        lambda: _relabelled("dcgm_metrics.prom.gz", b'Hostname="'),
    ),
    "nvidia-smi": (
        "nvidia_smi.csv.gz",
        "toolkit.load_gpu(path, tz='UTC')",
        lambda: _sample("nvidia_smi.csv.gz", header_lines=1),
    ),
    "workload-csv": (
        "azure_conv.csv.gz",
        "toolkit.load_workload(path, tz='UTC')",
        lambda: _real("azure_llm_2023/AzureLLMInferenceTrace_conv.csv", header_lines=1),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="decompressed MB per file")
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="readers to measure")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="reader-memory-"))
    columns = ("MB", 5), ("rows", 11), ("s", 6), ("peak MB", 8), ("x size", 6)
    print(f"{'reader':13} {'loader call':48} " + " ".join(f"{c:>{w}}" for c, w in columns))
    base = subprocess.run(
        [sys.executable, "-c", CHILD, "__import__('polars').DataFrame()", ""],
        capture_output=True,
        text=True,
        check=True,
    )
    base_mb = int(base.stdout.split()[2]) / 1e6
    print(f"{'(baseline)':13} {'import toolkit':48} {'':26} {base_mb:8.0f}")
    for name, (file_name, call, factory) in CASES.items():
        if args.only and name not in args.only:
            continue
        writer = factory()
        if writer is None:
            print(f"{name:13} left out: its public file is not in {REAL}")
            continue
        target = folder / file_name
        with gzip.open(target, "wb", compresslevel=1) as out:
            size = writer(out, args.mb * 1_000_000)  # type: ignore[arg-type]
        t = time.perf_counter()
        out_ = subprocess.run(
            [sys.executable, "-c", CHILD, call, str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        _ = time.perf_counter() - t
        if out_.returncode != 0:
            print(f"{name:13} {call:48} failed: {out_.stderr.strip().splitlines()[-1:]}")
            continue
        seconds, rows, peak = out_.stdout.split()
        peak_mb = int(peak) / 1e6
        print(
            f"{name:13} {call:48} {size / 1e6:5.0f} {int(rows):11,} {float(seconds):6.1f} "
            f"{peak_mb:8.0f} {peak_mb / (size / 1e6):6.2f}",
            flush=True,
        )
        if not args.keep:
            target.unlink()
    if args.keep:
        print(f"files kept in {folder}")


if __name__ == "__main__":
    main()
