"""The ``genai-sre`` command line.

genai-sre summary data/sample          # what the exports hold: files, tables, analyses
genai-sre report --data DIR -p tz=UTC  # the notebooks on them, as HTML (toolkit.report)
genai-sre lab [--data DIR]             # the notebooks in JupyterLab
genai-sre ingest SRC --store DIR       # exports into a partitioned store (toolkit.scale)
genai-sre synth --days 7 --out DIR     # a simulated service's exports (toolkit.synth)
genai-sre version

``genai-sre COMMAND --help`` tells each command's options. The commands of the larger
modules are registered by those modules (``register_cli``), imported only when the parser
is built.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

import polars as pl

from toolkit.errors import ToolkitError

if TYPE_CHECKING:
    from toolkit.ingest.discover import Catalog

__all__ = ["main"]


def _summary(
    paths: Sequence[str],
    out: TextIO | None = None,
    *,
    tz: str | None = None,
    host: str | None = None,
    year: int | None = None,
    scrape_time: str | None = None,
    start: str | None = None,
    end: str | None = None,
    cache: bool = True,
) -> int:
    """Print what the exports under ``paths`` hold; 1 when nothing was recognised.

    Discovery (:func:`toolkit.discover`) finds every file by content and loads each table
    once, de-duplicated: the files table and its notes come first, then a summary per
    table (spans by service, LLM calls by model, logs by severity, metrics by name, GPUs
    by host, workload by source) and which analyses the tables support.
    """
    from toolkit.ingest.discover import discover

    stream = out if out is not None else sys.stdout

    def say(text: object = "") -> None:
        print(text, file=stream)

    target: str | list[str] = paths[0] if len(paths) == 1 else list(paths)
    catalog = discover(
        target,
        tz=tz,
        host=host,
        year=year,
        scrape_time=scrape_time,
        start=start,
        end=end,
        on_error="skip",
        cache=cache,
    )
    files = catalog.files
    loaded = files.filter(pl.col("status") == "loaded")
    counts = files.group_by("status").len().sort("status").rows()
    say(
        f"files: {files.height:,} under {catalog.root} ("
        + ", ".join(f"{n:,} {status}" for status, n in counts)
        + ")"
    )
    with pl.Config(tbl_rows=40, tbl_cols=10, fmt_str_lengths=60, tbl_width_chars=160):
        say(files.select("path", "table", "format", "rows", "start", "end", "duplicates", "status"))
    if catalog.notes:
        say("notes:")
        for note in catalog.notes:
            say(f"  - {note}")
        if (files["status"] == "needs a parameter").any():
            say("  (genai-sre summary takes them as --tz, --host, --year, --scrape-time)")
    with pl.Config(tbl_rows=12, tbl_cols=12, fmt_str_lengths=40, tbl_width_chars=120):
        for table in catalog.tables:
            if table == "llm_calls":
                continue  # with the spans
            frame = catalog.table(table)
            of_table = loaded.filter(pl.col("table") == table)
            duplicates = int(of_table["duplicates"].sum())
            origin = f"from {of_table.height} file(s)" + (
                f", {duplicates:,} duplicate(s) counted once" if duplicates else ""
            )
            _SUMMARIES[table](catalog, frame, origin, say)
    say("\nanalyses:")
    for support in catalog.supports.values():
        say(f"  {support}")
    if not catalog.tables:
        say("nothing recognised: no telemetry file found (see the files and notes above)")
        return 1
    return 0


def _spans_summary(catalog: Catalog, spans: pl.DataFrame, origin: str, say: Say) -> None:
    first, last = spans["start_time"].min(), spans["end_time"].max()
    say(f"\nspans: {spans.height:,} rows {origin}, {first!s} .. {last!s}")
    say(
        spans.group_by("service_name", "kind")
        .agg(
            pl.len().alias("spans"),
            pl.col("trace_id").n_unique().alias("traces"),
            pl.col("duration_ms").median().alias("p50_ms"),
            pl.col("duration_ms").quantile(0.95).alias("p95_ms"),
            (pl.col("status_code") == "error").mean().alias("error_ratio"),
        )
        .sort("spans", "service_name", descending=[True, False])
    )
    if catalog.has("llm_calls"):
        _llm_summary(catalog.table("llm_calls"), say)


def _llm_summary(calls: pl.DataFrame, say: Say) -> None:
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
        .sort("calls", "request_model", descending=[True, False], nulls_last=True)
    )
    say(f"\nLLM calls: {calls.height:,}")
    say(table)


def _logs_summary(catalog: Catalog, logs: pl.DataFrame, origin: str, say: Say) -> None:
    say(f"\nlogs: {logs.height:,} records {origin}")
    say(
        logs.group_by("service_name", "severity_text")
        .len()
        .sort("len", "service_name", descending=[True, False])
    )


def _metrics_summary(catalog: Catalog, metrics: pl.DataFrame, origin: str, say: Say) -> None:
    say(f"\nmetrics: {metrics.height:,} samples of {metrics['name'].n_unique()} series {origin}")
    say(metrics.group_by("name", "type", "unit").len().sort("name"))


def _gpu_summary(catalog: Catalog, gpu: pl.DataFrame, origin: str, say: Say) -> None:
    one_gpu = pl.struct("host", "gpu_index", "gpu_uuid")  # a UUID tells GPUs of one index apart
    gpus = gpu.select(one_gpu.n_unique()).item()
    say(f"\ngpu: {gpu.height:,} samples of {gpus} GPU(s) {origin}")
    say(
        gpu.group_by("host", "gpu_model")
        .agg(
            pl.len().alias("samples"),
            one_gpu.n_unique().alias("gpus"),
            pl.col("util_pct").mean().alias("util_pct"),
            (pl.col("mem_used_bytes").max() / 2**30).alias("max_mem_gib"),
            pl.col("power_w").mean().alias("power_w"),
        )
        .sort("host", "gpu_model", nulls_last=True)
    )


def _workload_summary(catalog: Catalog, workload: pl.DataFrame, origin: str, say: Say) -> None:
    say(f"\nworkload: {workload.height:,} requests {origin}")
    keys = [c for c in ("source", "model") if c in workload.columns]
    grouped = workload.group_by(keys) if keys else workload.group_by(pl.lit("all").alias("all"))
    say(
        grouped.agg(
            pl.len().alias("requests"),
            pl.col("input_tokens").sum().alias("input_tokens"),
            pl.col("output_tokens").sum().alias("output_tokens"),
        ).sort("requests", descending=True)
    )


def _predictions_summary(catalog: Catalog, log: pl.DataFrame, origin: str, say: Say) -> None:
    first, last = log["time"].min(), log["time"].max()
    say(f"\npredictions: {log.height:,} scored rows {origin}, {first!s} .. {last!s}")
    keys = ["model_version"] if "model_version" in log.columns else []
    grouped = log.group_by(keys) if keys else log.group_by(pl.lit("all").alias("all"))
    say(
        grouped.agg(
            pl.len().alias("predictions"),
            pl.col("label").is_not_null().mean().alias("label_coverage"),
            pl.col("label").mean().alias("positive_rate"),
            pl.col("score").mean().alias("mean_score"),
        ).sort("predictions", descending=True)
    )


Say = Callable[[object], None]
_SUMMARIES: dict[str, Callable[[Catalog, pl.DataFrame, str, Say], None]] = {
    "spans": _spans_summary,
    "logs": _logs_summary,
    "metrics": _metrics_summary,
    "gpu": _gpu_summary,
    "workload": _workload_summary,
    "predictions": _predictions_summary,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``genai-sre``."""
    parser = argparse.ArgumentParser(
        prog="genai-sre",
        description="Telemetry of LLM services as tidy dataframes: load, audit, report.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    summary = sub.add_parser(
        "summary",
        help="find the exports in a folder and print what they hold",
        description="Find every export under PATH by content (any names, any nesting), load "
        "each table once (records several files hold are counted once), and print the files, "
        "a summary per table, and which analyses the tables support.",
    )
    summary.add_argument("paths", nargs="+", help="files, directories or glob patterns")
    summary.add_argument(
        "--tz", default=None, help="IANA time zone of files without one (nvidia-smi logs)"
    )
    summary.add_argument("--host", default=None, help="host name of nvidia-smi logs")
    summary.add_argument(
        "--year", type=int, default=None, help="year of log lines that carry none (vLLM's log)"
    )
    summary.add_argument(
        "--scrape-time",
        default=None,
        help="time of a Prometheus scrape without timestamps (ISO-8601 with zone)",
    )
    summary.add_argument(
        "--no-cache", action="store_true", help="do not keep or reuse loaded files as Parquet"
    )
    summary.add_argument("--start", default=None, help="keep records from (ISO-8601 with zone)")
    summary.add_argument("--end", default=None, help="keep records before (ISO-8601 with zone)")
    sub.add_parser("version", help="print the toolkit's version")
    # Subcommands of larger modules register themselves (imported here, not at
    # `import toolkit`, so the library stays light); each sets its own handler.
    from toolkit.lab import register_cli as register_lab
    from toolkit.report import register_cli as register_report
    from toolkit.scale import register_cli as register_scale
    from toolkit.slo import register_cli as register_rules
    from toolkit.synth import register_cli as register_synth

    register_report(sub)
    register_lab(sub)
    register_scale(sub)
    register_rules(sub)
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
            return _summary(
                args.paths,
                tz=args.tz,
                host=args.host,
                year=args.year,
                scrape_time=args.scrape_time,
                start=args.start,
                end=args.end,
                cache=not args.no_cache,
            )
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
