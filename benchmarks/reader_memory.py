"""Benchmark: peak memory of each reader on a large gzip file.

Writes one gzip export per format by repeating the sample's records (the committed sample
week: traces, logs, vLLM and DCGM scrapes, the nvidia-smi log) until each decompresses to
about ``--mb`` MB, then loads each in a fresh process and prints the seconds, the peak
resident memory and its ratio to the decompressed size, the figure a user sizes a machine
by. Whole-file readers (Prometheus text, nvidia-smi) hold the decompressed text; the OTLP
JSON-lines reader streams 64 MiB windows.

    python benchmarks/reader_memory.py [--mb 200] [--keep]
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

CHILD = """
import resource, sys, time, warnings
warnings.simplefilter("ignore")
import toolkit
loader, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if loader == "load_gpu":
    frame = toolkit.load_gpu(path, tz="UTC")
else:
    frame = getattr(toolkit, loader)(path)
seconds = time.perf_counter() - t
print(seconds, frame.height, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

#: sample file -> (loader, how many header lines each copy must not repeat)
FILES = {
    "traces.jsonl.gz": ("load_spans", 0),
    "logs.jsonl.gz": ("load_logs", 0),
    "vllm_metrics.prom.gz": ("load_metrics", 0),
    "dcgm_metrics.prom.gz": ("load_gpu", 0),
    "nvidia_smi.csv.gz": ("load_gpu", 1),
}


def _write(source: Path, target: Path, mb: int, header_lines: int) -> int:
    with gzip.open(source, "rb") as fh:
        data = fh.read()
    header, _, body = data.partition(b"\n") if header_lines else (b"", b"", data)
    want = mb * 1_000_000
    written = 0
    with gzip.open(target, "wb", compresslevel=1) as out:
        if header:
            out.write(header + b"\n")
            written += len(header) + 1
        while written < want:
            out.write(body)
            written += len(body)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="decompressed MB per file")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="reader-memory-"))
    print(f"{'file':24} {'loader':13} {'MB':>6} {'rows':>11} {'s':>7} {'peak MB':>8} {'x size':>7}")
    for name, (loader, header) in FILES.items():
        target = folder / f"big-{name}"
        t = time.perf_counter()
        size = _write(SAMPLE / name, target, args.mb, header)
        _ = time.perf_counter() - t
        out = subprocess.run(
            [sys.executable, "-c", CHILD, loader, str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(f"{name:24} {loader:13} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        seconds, rows, peak = out.stdout.split()
        peak_mb = int(peak) / 1e6
        print(
            f"{name:24} {loader:13} {size / 1e6:6.0f} {int(rows):11,} {float(seconds):7.1f} "
            f"{peak_mb:8.0f} {peak_mb / (size / 1e6):7.2f}"
        )
        if not args.keep:
            target.unlink()
    if args.keep:
        print(f"files kept in {folder}")


if __name__ == "__main__":
    main()
