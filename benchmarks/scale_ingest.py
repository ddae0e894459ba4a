"""Benchmark: ``toolkit.scale.ingest`` throughput with 0 (in-process), 1 and 2 Dask
workers, and the DDSketch's memory per million values.

The export is the sample's traces (data/sample/traces.jsonl.gz, 48,109 spans) copied
``--copies`` times and split into ``--files`` gzip files of whole lines, span ids made
unique per copy. Each run ingests into a fresh store; the cluster is a ``LocalCluster``
of process workers with one thread each, started before the clock.

    python benchmarks/scale_ingest.py [--files 16] [--copies 4]
"""

from __future__ import annotations

import argparse
import gzip
import os
import pickle
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from toolkit import scale

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "traces.jsonl.gz"


def make_export(out: Path, files: int, copies: int) -> tuple[int, int]:
    """Write the export; returns (uncompressed bytes, compressed bytes)."""
    lines = gzip.decompress(SAMPLE.read_bytes()).splitlines(keepends=True)
    everything = []
    for c in range(copies):
        # each copy's trace ids start with its own two hex digits: rows stay unique
        tag = f"{c:02x}".encode()
        everything += [re.sub(rb'"traceId":"..', b'"traceId":"' + tag, line) for line in lines]
    out.mkdir(parents=True)
    raw = packed = 0
    for k in range(files):
        data = b"".join(everything[k::files])
        blob = gzip.compress(data, compresslevel=1)
        (out / f"traces-{k:03d}.jsonl.gz").write_bytes(blob)
        raw += len(data)
        packed += len(blob)
    return raw, packed


def run(src: Path, store: Path, workers: int) -> tuple[float, int]:
    if store.exists():
        shutil.rmtree(store)
    if workers == 0:
        t = time.perf_counter()
        r = scale.ingest(src, store, progress=False)
        return time.perf_counter() - t, r.rows
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        t = time.perf_counter()
        r = scale.ingest(src, store, client=client, progress=False)
        return time.perf_counter() - t, r.rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--copies", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    try:
        raw, packed = make_export(tmp / "src", args.files, args.copies)
        print(
            f"export: {args.files} files, {raw / 1e6:.0f} MB JSON ({packed / 1e6:.0f} MB gzip); "
            f"machine: {os.cpu_count()} CPUs"
        )
        for workers in (0, 1, 2):
            seconds, rows = run(tmp / "src", tmp / "store", workers)
            label = "in-process" if workers == 0 else f"{workers} worker(s)"
            print(
                f"ingest {label:>12}: {seconds:6.2f} s  {rows / seconds:10,.0f} spans/s  "
                f"{raw / seconds / 1e6:6.1f} MB/s of JSON  ({rows:,} spans)"
            )
        rng = np.random.default_rng(1)
        values = rng.lognormal(3.0, 2.0, 1_000_000)  # latencies over ~6 decades
        sketch = scale.DDSketch(0.01)
        t = time.perf_counter()
        sketch.add(values)
        add_s = time.perf_counter() - t
        size = len(pickle.dumps(sketch))
        print(
            f"DDSketch alpha=1%: 1,000,000 lognormal values -> {len(sketch.bins)} buckets, "
            f"{size / 1024:.1f} KiB pickled (vs {values.nbytes / 1e6:.0f} MB raw); "
            f"add {1e6 / add_s / 1e6:.1f} M values/s"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
