"""Global SHAP on 100k calls x 20 features: time and peak memory of toolkit.explain.

Run: ``.venv/bin/python benchmarks/explain_shap.py [--rows 100000] [--big 1000000]``.
Prints the time of each step and the process's peak resident memory. Timings on a shared
2-core machine are noisy: run twice and read the lower.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

import numpy as np
import polars as pl


def calls(n: int, seed: int = 0) -> pl.DataFrame:
    """Synthetic llm_calls-like rows: 12 numeric and 6 categorical columns (+2 derived)."""
    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    offsets_ns = (np.sort(rng.uniform(0, 7 * 86_400, n)) * 1e9).astype(np.int64)
    epoch_ns = int(t0.timestamp()) * 10**9
    tokens = rng.lognormal(7, 1.1, n).astype(np.int64)
    pool = rng.choice(["h100-pool", "l4-pool"], n)
    frame = pl.DataFrame(
        {
            "start_time": pl.Series(epoch_ns + offsets_ns).cast(pl.Datetime("ns", "UTC")),
            "input_tokens": tokens,
            "output_tokens": rng.lognormal(5, 0.9, n).astype(np.int64),
            "attributes.deployment.pool": pool,
            "attributes.app.route": rng.choice(["chat", "rag-qa", "code"], n),
            "attributes.user.tier": rng.choice(["free", "pro", "enterprise"], n),
            "attributes.user.locale": rng.choice(["en-US", "de-DE", "ja-JP", "tr-TR"], n),
            "attributes.app.prompt.category": rng.choice(["general", "code", "legal"], n),
            "attributes.deployment.replica": rng.choice([f"r{i}" for i in range(8)], n),
            **{f"num_{i}": rng.normal(size=n) for i in range(10)},
        }
    )
    slow = np.where(pool == "h100-pool", 1.0, 2.5)
    ttft = tokens / 4000 * slow + rng.exponential(0.3, n)
    return frame.with_columns(ttft_s=pl.Series(ttft), latency_s=pl.Series(ttft + 3.0))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=0, help="also a stratified run on N calls")
    args = parser.parse_args()
    from toolkit.explain import explain

    frame = calls(args.rows)
    print(f"input: {frame.height:,} calls, resident peak so far {peak_mib():.0f} MiB")
    # warm the imports (lightgbm, sklearn) so that the timing is the work
    explain(frame.head(2000), pl.col("ttft_s") > 2, progress=False, trees=5)
    target = pl.col("ttft_s") > 2
    for trees in (100, None):
        t = time.perf_counter()
        result = explain(frame, target, progress=False, explain_rows=None, trees=trees)
        total = time.perf_counter() - t
        t = time.perf_counter()
        result.shap_values(list(range(result.rows)))
        shap_s = time.perf_counter() - t
        print(
            f"global SHAP on {result.explained_rows:,} calls x {len(result.features)} features, "
            f"{result.trees} trees: explain() {total:.1f} s in all, of which TreeSHAP alone "
            f"{shap_s:.1f} s; AUC {result.fidelity:.3f}; peak RSS {peak_mib():.0f} MiB"
        )
    t = time.perf_counter()
    sampled = explain(frame, target, progress=False)
    top = sampled.importance.row(0, named=True)
    print(
        f"default (SHAP on a stratified sample of {sampled.explained_rows:,}): "
        f"{time.perf_counter() - t:.1f} s; top {top['feature']} "
        f"{top['mean_abs_shap']:.4f} ± {top['stderr']:.4f} (standard error)"
    )
    t = time.perf_counter()
    sampled.interactions(top=5, rows=1000)
    print(f"interaction values on 1,000 calls: {time.perf_counter() - t:.1f} s")
    if args.big:
        big = calls(args.big, seed=1)
        t = time.perf_counter()
        result = explain(big, target, progress=False)
        print(
            f"{big.height:,} calls: fitted on {result.train_rows + result.holdout_rows:,}, "
            f"SHAP on {result.explained_rows:,}: {time.perf_counter() - t:.1f} s; "
            f"peak RSS {peak_mib():.0f} MiB"
        )


if __name__ == "__main__":
    main()
