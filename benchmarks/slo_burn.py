"""How long error budgets, burn rates and burn-rate alerts take on a week of 10 million calls.

    python benchmarks/slo_burn.py [--calls 10000000] [--seed 1]

Generates one row per call over 7 days (start time with nanoseconds, a pool, an error flag
with a 1-hour burst of failures on one pool), then times, each on the raw per-call frame at
one-minute resolution: ``slo.error_budget`` (hourly burn-down of a 30-day budget),
``slo.burn_rates`` (5m, 30m, 1h, 6h and 3d windows, every minute) and ``slo.alerts`` (the
SRE Workbook policy), overall and by pool; then ``slo.alerts`` on per-minute counts
(what ``slo.metric_counts`` gives from metrics).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from toolkit import slo

WEEK_NS = 7 * 86_400 * 1_000_000_000
START_NS = 1_793_577_600 * 1_000_000_000  # 2026-11-02T00:00:00Z


def calls(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.integers(0, WEEK_NS, size=n, dtype=np.int64))
    pool = rng.integers(0, 2, size=n, dtype=np.int8)
    error = rng.random(n) < 0.001
    burst = (offsets >= 3 * 86_400 * 10**9 + 14 * 3600 * 10**9) & (
        offsets < 3 * 86_400 * 10**9 + 15 * 3600 * 10**9
    )
    error |= burst & (pool == 1) & (rng.random(n) < 0.3)
    return pl.DataFrame(
        {
            "start_time": pl.Series(START_NS + offsets).cast(pl.Datetime("ns", "UTC")),
            "pool": pl.Series(np.where(pool == 1, "h100-pool", "l4-pool")),
            "is_error": error,
        }
    ).with_columns((~pl.col("is_error")).alias("is_good"))


def timed(label: str, action: object) -> object:
    assert callable(action)
    began = time.perf_counter()
    result = action()
    print(f"{label:<58} {time.perf_counter() - began:6.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    began = time.perf_counter()
    frame = calls(args.calls, args.seed)
    print(f"{args.calls:,} calls over 7 days generated in {time.perf_counter() - began:.1f} s")
    total = time.perf_counter()
    timed("error_budget (30d rolling, hourly)", lambda: slo.error_budget(frame, 0.995))
    timed(
        "burn_rates (5 windows, every minute)",
        lambda: slo.burn_rates(frame, 0.995),
    )
    fired = timed("alerts (SRE Workbook policy)", lambda: slo.alerts(frame, 0.995))
    by_pool = timed("alerts by pool", lambda: slo.alerts(frame, 0.995, by="pool", merge_gap="15m"))
    elapsed = time.perf_counter() - total
    counts = (
        frame.group_by_dynamic("start_time", every="1m", group_by="pool")
        .agg(pl.col("is_good").sum().cast(pl.Float64).alias("good"), pl.len().alias("total"))
        .with_columns(pl.col("total").cast(pl.Float64))
    )
    timed(
        f"alerts on per-minute counts ({counts.height:,} rows, by pool)",
        lambda: slo.alerts(counts, 0.995, by="pool"),
    )
    assert isinstance(fired, pl.DataFrame)
    assert isinstance(by_pool, pl.DataFrame)
    print(
        f"budget + burn rates + alerts (twice) on {args.calls:,} calls: {elapsed:.1f} s; "
        f"{fired.height} alerts overall, {by_pool.height} by pool:"
    )
    for row in by_pool.select(
        "pool", "severity", "long_window", pl.col("start", "end").dt.strftime("%a %H:%M")
    ).iter_rows():
        print("  ", *row)


if __name__ == "__main__":
    main()
