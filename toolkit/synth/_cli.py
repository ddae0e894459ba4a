"""``genai-sre synth``: write a simulated service's exports from a shell."""

from __future__ import annotations

import argparse
import time
from typing import Any

from toolkit.synth._sample import DEFAULT_RPS, DEFAULT_SEED, DEFAULT_TRACE_SAMPLE, generate


def _cli_synth(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    sim = generate(
        args.out, days=args.days, rps=args.rps, seed=args.seed, trace_sample=args.trace_sample
    )
    r = sim.requests
    print(
        f"wrote {args.out}: {r.height:,} requests ({int(r['sampled'].sum()):,} traced) in "
        f"{time.perf_counter() - began:.1f} s"
    )
    return 0


def register_cli(subparsers: Any) -> None:
    """Add the ``synth`` subcommand to the ``genai-sre`` parser's subparsers.

    The subcommand's handler is stored as the ``handler`` default: call
    ``args.handler(args)`` (it returns the exit status).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="genai-sre")
    >>> register_cli(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["synth", "--days", "2", "--out", "x"])
    >>> args.days, args.rps, args.seed, args.handler.__name__
    (2, 1.2, 20261102, '_cli_synth')
    """
    p = subparsers.add_parser(
        "synth",
        help="simulate an LLM service and write its exports (traces, logs, metrics, GPU)",
        description=(
            "Simulate an LLM gateway with two GPU pools for N days and write OTLP traces and "
            "logs, vLLM and DCGM Prometheus scrapes, an nvidia-smi log, truth.json and "
            "SCENARIO.md into DIR. Deterministic for a seed."
        ),
    )
    p.add_argument("--days", type=int, default=7, help="days to simulate (default 7)")
    p.add_argument(
        "--rps", type=float, default=DEFAULT_RPS, help=f"mean requests/s (default {DEFAULT_RPS})"
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    p.add_argument(
        "--trace-sample",
        type=float,
        default=DEFAULT_TRACE_SAMPLE,
        help=f"share of requests whose traces are exported (default {DEFAULT_TRACE_SAMPLE})",
    )
    p.add_argument("--out", required=True, help="output directory")
    p.set_defaults(handler=_cli_synth)
