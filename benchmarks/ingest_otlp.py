"""Benchmark: OTLP JSON Lines ingestion with ``toolkit.load_spans``.

Generates a realistic export (default 1,000,000 spans, 500 per line, 8-20 attributes of
mixed types, some events), then measures, each in a fresh process so peak memory is
its own:

- floor: read the file and parse every line with the fastest JSON parser installed,
  doing nothing else;
- toolkit: ``toolkit.load_spans`` to the typed spans table;
- naive: pandas ``json_normalize`` flattening (records, then attributes), on a subset
  (``--naive-spans``) and extrapolated linearly to the whole file.

    python benchmarks/ingest_otlp.py [--spans 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FLOOR = """
import sys, time, msgspec
path = sys.argv[1]
dec = msgspec.json.Decoder()
t = time.perf_counter()
n = 0
with open(path, 'rb') as fh:
    for line in fh:
        obj = dec.decode(line)
        n += 1
print(time.perf_counter() - t, n, PEAK())
"""

TOOLKIT = """
import sys, time, os
os.environ['TOOLKIT_PROGRESS'] = '0'
import toolkit
t = time.perf_counter()
df = toolkit.load_spans(sys.argv[1])
print(time.perf_counter() - t, df.height, df.width, PEAK())
"""

NAIVE = """
import sys, time, json, itertools
import pandas as pd
path, limit = sys.argv[1], int(sys.argv[2])
t = time.perf_counter()
frames = []
n = 0
with open(path) as fh:
    for line in fh:
        doc = json.loads(line)
        spans = pd.json_normalize(doc['resourceSpans'], record_path=['scopeSpans', 'spans'])
        attrs = spans['attributes'].apply(
            lambda kvs: {kv['key']: next(iter(kv['value'].values())) for kv in kvs})
        flat = pd.concat([spans.drop(columns=['attributes']),
                          pd.json_normalize(attrs.tolist()).add_prefix('attributes.')], axis=1)
        frames.append(flat)
        n += len(flat)
        if n >= limit:
            break
out = pd.concat(frames, ignore_index=True)
print(time.perf_counter() - t, len(out), PEAK())
"""


_PEAK = (
    "import resource\ndef PEAK():\n    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
)


def _run(code: str, *args: str) -> tuple[list[str], float]:
    """Run ``code`` in a fresh child; return its printed fields and its own peak RSS (MB)."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK + code, *args], capture_output=True, text=True, check=True
    )
    *fields, peak_kb = out.stdout.split()
    return fields, int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--naive-spans", type=int, default=50_000)
    parser.add_argument("--file", type=Path, help="an existing export to measure instead")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from otlp_export import generate

    tmp = Path(tempfile.mkdtemp(prefix="toolkit-bench-"))
    path = args.file or tmp / "export.jsonl"
    if args.file is None:
        t = time.perf_counter()
        generate(path, args.spans)
        print(f"generated {args.spans:,} spans in {time.perf_counter() - t:.1f} s")
    size_mb = os.path.getsize(path) / 1e6
    print(f"file: {path} ({size_mb:,.0f} MB), cores: {os.cpu_count()}")

    (naive_s, naive_n), _ = _run(NAIVE, str(path), str(args.naive_spans))
    (floor_s, lines), floor_peak = _run(FLOOR, str(path))
    (tk_s, rows, cols), tk_peak = _run(TOOLKIT, str(path))
    n = int(rows)
    naive_total = float(naive_s) / int(naive_n) * n
    results = {
        "spans": n,
        "columns": int(cols),
        "file_mb": round(size_mb, 1),
        "floor_parse_s": round(float(floor_s), 2),
        "toolkit_s": round(float(tk_s), 2),
        "toolkit_spans_per_s": round(n / float(tk_s)),
        "toolkit_mb_per_s": round(size_mb / float(tk_s), 1),
        "toolkit_peak_rss_mb": round(tk_peak),
        "toolkit_peak_over_file": round(tk_peak / size_mb, 2),
        "naive_json_normalize_s_extrapolated": round(naive_total, 1),
        "naive_measured_on_spans": int(naive_n),
        "speedup_vs_naive": round(naive_total / float(tk_s), 1),
    }
    print(
        f"floor (msgspec, parse only): {float(floor_s):.2f} s for {lines} lines, "
        f"peak {floor_peak:.0f} MB"
    )
    print(
        f"toolkit.load_spans:          {float(tk_s):.2f} s, {n / float(tk_s):,.0f} spans/s, "
        f"{size_mb / float(tk_s):.0f} MB/s, peak {tk_peak:.0f} MB "
        f"({tk_peak / size_mb:.2f}x the file)"
    )
    print(
        f"pandas json_normalize:       {naive_total:.1f} s extrapolated from "
        f"{int(naive_n):,} spans ({naive_total / float(tk_s):.0f}x slower)"
    )
    print(json.dumps(results))
    if args.file is None and not args.keep:
        path.unlink()
        tmp.rmdir()


if __name__ == "__main__":
    main()
