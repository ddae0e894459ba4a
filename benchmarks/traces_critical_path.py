"""Time toolkit.traces on about a million spans: tree, self time, critical path, breakdown.

The sample week's traces (data/sample, ~48k spans) are replicated with fresh trace ids
(and shifted by a week per copy) until there are at least ``--spans`` spans, then each
analysis is timed once. Prints one line per step::

    .venv/bin/python benchmarks/traces_critical_path.py [--spans 1000000] [--data data/sample]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import polars as pl

import toolkit
from toolkit import traces

REPO = Path(__file__).resolve().parents[1]


def replicate(spans: pl.DataFrame, target: int) -> pl.DataFrame:
    """Copies of ``spans`` with new trace ids, one week apart, until ``target`` rows."""
    copies = -(-target // spans.height)
    core = spans.select(
        "trace_id", "span_id", "parent_span_id", "name", "kind", "service_name",
        "start_time", "end_time", "duration_ms", "status_code",
        "attributes.gen_ai.operation.name", "attributes.gen_ai.latency.time_in_queue",
        "attributes.gen_ai.latency.time_to_first_token", "attributes.app.route",
    )  # fmt: skip
    parts = []
    for k in range(copies):
        shift = dt.timedelta(days=7 * k)
        parts.append(
            core.with_columns(
                (pl.lit(f"{k:04x}") + pl.col("trace_id").str.slice(4)).alias("trace_id"),
                pl.col("start_time") + shift,
                pl.col("end_time") + shift,
            )
        )
    return pl.concat(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=REPO / "data" / "sample")
    args = parser.parse_args()
    spans = replicate(toolkit.load_spans(args.data / "traces.jsonl.gz"), args.spans)
    n_traces = spans["trace_id"].n_unique()
    print(f"{spans.height:,} spans in {n_traces:,} traces")
    steps = {
        "span_tree (tree, skew, self time, critical path)": lambda: traces.span_tree(spans),
        "latency_breakdown by route": lambda: traces.latency_breakdown(
            spans, by="attributes.app.route"
        ),
        "bottlenecks (slowest 5% vs rest, by operation)": lambda: traces.bottlenecks(
            spans, pl.col("duration_ms") > pl.col("duration_ms").quantile(0.95)
        ),
        "critical_path of one trace": lambda: traces.critical_path(spans, spans["trace_id"][0]),
    }
    for label, step in steps.items():
        t0 = time.perf_counter()
        out = step()
        seconds = time.perf_counter() - t0
        print(
            f"{label}: {seconds:.2f} s ({spans.height / seconds / 1e6:.2f} M spans/s, "
            f"{out.height:,} rows)"
        )


if __name__ == "__main__":
    main()
