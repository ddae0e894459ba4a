"""The ``genai-sre`` command line.

genai-sre summary data/sample        # what the exports hold, table by table
genai-sre version
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import polars as pl

from toolkit.errors import ToolkitError

__all__ = ["main"]


def _summary(paths: Sequence[str], out: TextIO | None = None) -> int:
    from toolkit.ingest import otlp
    from toolkit.ingest._io import expand_paths
    from toolkit.loaders import load_logs, load_metrics, load_spans

    stream = out if out is not None else sys.stdout
    files = expand_paths(list(paths), function="genai-sre summary")
    by_signal: dict[str, list[Path]] = {"traces": [], "logs": [], "metrics": []}
    skipped: list[str] = []
    for path in files:
        container, signal = otlp.detect(path)
        if signal in by_signal:
            by_signal[signal].append(path)
        else:
            skipped.append(f"{path} ({container})")

    def say(text: object = "") -> None:
        print(text, file=stream)

    with pl.Config(tbl_rows=12, tbl_cols=12, fmt_str_lengths=40, tbl_width_chars=120):
        if by_signal["traces"]:
            spans = load_spans(by_signal["traces"])
            say(
                f"spans: {spans.height:,} rows from {len(by_signal['traces'])} file(s), "
                f"{spans['start_time'].min()} .. {spans['end_time'].max()}"
            )
            say(
                spans.group_by("service_name", "kind")
                .agg(
                    pl.len().alias("spans"),
                    pl.col("trace_id").n_unique().alias("traces"),
                    pl.col("duration_ms").median().alias("p50_ms"),
                    pl.col("duration_ms").quantile(0.95).alias("p95_ms"),
                    (pl.col("status_code") == "error").mean().alias("error_ratio"),
                )
                .sort("spans", descending=True)
            )
            _llm_summary(spans, say)
        if by_signal["logs"]:
            logs = load_logs(by_signal["logs"])
            say(f"\nlogs: {logs.height:,} records")
            say(logs.group_by("service_name", "severity_text").len().sort("len", descending=True))
        if by_signal["metrics"]:
            metrics = load_metrics(by_signal["metrics"])
            say(f"\nmetrics: {metrics.height:,} samples of {metrics['name'].n_unique()} series")
            say(metrics.group_by("name", "type", "unit").len().sort("name"))
    if skipped:
        say(f"\nnot OTLP (not summarised yet): {', '.join(skipped)}")
    if not any(by_signal.values()):
        say("no OTLP traces, logs or metrics found")
        return 1
    return 0


def _llm_summary(spans: pl.DataFrame, say: Callable[[object], None]) -> None:
    try:
        from toolkit.llm import llm_calls
    except ImportError:  # pragma: no cover - llm module ships with the package
        return
    calls = llm_calls(spans)
    if calls.height == 0:
        return
    table = (
        calls.group_by("request_model")
        .agg(
            pl.len().alias("calls"),
            pl.col("input_tokens").sum().alias("input_tokens"),
            pl.col("output_tokens").sum().alias("output_tokens"),
            pl.col("latency_s").median().alias("p50_latency_s"),
            pl.col("ttft_s").quantile(0.95).alias("p95_ttft_s"),
            pl.col("is_error").mean().alias("error_ratio"),
        )
        .sort("calls", descending=True)
    )
    say(f"\nLLM calls: {calls.height:,}")
    say(table)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``genai-sre``."""
    parser = argparse.ArgumentParser(
        prog="genai-sre",
        description="Telemetry of LLM services as tidy dataframes: load, audit, report.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    summary = sub.add_parser("summary", help="load exports and print what they hold")
    summary.add_argument("paths", nargs="+", help="files, directories or glob patterns")
    sub.add_parser("version", help="print the toolkit's version")
    # Subcommands of larger modules register themselves (imported here, not at
    # `import toolkit`, so the library stays light); each sets its own handler.
    from toolkit.report import register_cli as register_report
    from toolkit.scale import register_cli as register_scale
    from toolkit.synth import register_cli as register_synth

    register_report(sub)
    register_scale(sub)
    register_synth(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``genai-sre`` console script.

    Examples
    --------
    >>> main(["version"])  # doctest: +ELLIPSIS
    genai-sre-toolkit ...
    0
    """
    args = build_parser().parse_args(argv)
    try:
        if args.command == "version":
            from toolkit import __version__

            print(f"genai-sre-toolkit {__version__}")
            return 0
        if args.command == "summary":
            return _summary(args.paths)
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args))
    except ToolkitError as exc:
        print(f"genai-sre: error: {exc}", file=sys.stderr)
        return 2
    return 1  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("POLARS_FMT_MAX_COLS", "12")
    sys.exit(main())
