"""How often toolkit.triage is right: simulated weeks with random seeded incident plans,
scored against each week's truth.json.

    python benchmarks/triage_eval.py [--weeks 20] [--rps 0.3] [--seed 1] [--out DIR [--reuse]]

Each week is ``toolkit.synth.generate(plan=toolkit.synth.random_plan(seed + i))`` (about one
in five plans is quiet: its truth.json lists no incident), then ``toolkit.triage.review`` of
the folder. A true incident is found when an incident of the same kind overlaps its window;
a found incident that overlaps no true one of its kind is false. Printed per class: recall,
precision, median detection delay (detected_at - true start), top-1 cause accuracy (the
cause ranked first is the class's true cause), and the false incidents per quiet week.
The clinical assistant's release and the fraud model's season are placed by the plan like
the service's incidents (each in about half the plans, none in a quiet one), so they are
scored like every other class. A small rate keeps each week quick; the weekday saturation
does not happen at such rates and is left out of the plans (and of the score).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl

from toolkit import synth, triage

TRUE_CAUSE = {
    "model_release_regression": "version_change",
    "data_drift": "share_shift",
    "quality_regression": "ungrounded_answers",
    "bias": "group_disparity",
    "capacity_saturation": "peak_demand",
    "overload": "tenant_surge",
    "guideline_compliance_regression": "release",
    "prediction_quality_regression": "model_degradation",
}


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weeks", type=int, default=20)
    parser.add_argument("--rps", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trace-sample", type=float, default=0.05)
    parser.add_argument("--every", type=int, default=0, help="print the scores every N weeks")
    parser.add_argument("--out", default=None, help="keep the weeks here (default: temporary)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="review the weeks already under --out (their truth.json) instead of simulating",
    )
    args = parser.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="triage-eval-"))
    tp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    right: dict[str, int] = defaultdict(int)
    delays: dict[str, list[float]] = defaultdict(list)
    quiet_weeks, quiet_false = 0, 0
    # per class: what the grown span and the explanation's change named for its incidents
    named: dict[str, dict[str, Counter[str]]] = defaultdict(
        lambda: {"span_growth": Counter(), "explanation_shift": Counter()}
    )
    for week in range(args.weeks):
        folder = root / f"week-{week:02d}"
        plan = synth.random_plan(args.seed + week)
        t0 = time.perf_counter()
        if not (args.reuse and (folder / "truth.json").is_file()):
            synth.generate(
                folder,
                rps=args.rps,
                seed=args.seed + week,
                trace_sample=args.trace_sample,
                plan=plan,
            )
        t1 = time.perf_counter()
        found = triage.review(folder)
        t2 = time.perf_counter()
        truth = json.loads((folder / "truth.json").read_text())["incidents"]
        quiet = not truth
        quiet_weeks += quiet
        used: set[str] = set()
        for incident in truth:
            kind = incident["kind"]
            start, end = _when(incident["window"]["start"]), _when(incident["window"]["end"])
            hits = found.incidents.filter(
                (pl.col("kind") == kind) & (pl.col("start") < end) & (pl.col("end") > start)
            )
            if hits.height == 0:
                fn[kind] += 1
                continue
            tp[kind] += 1
            best = hits.sort((pl.col("start") - start).abs()).row(0, named=True)
            used.update(hits["incident"])
            delays[kind].append((best["detected_at"] - start).total_seconds() / 60)
            right[kind] += best["cause_key"] == TRUE_CAUSE.get(kind)
            own = found.causes.filter(pl.col("incident") == best["incident"])
            for cause, counter in named[kind].items():
                subject = own.filter(pl.col("cause") == cause)["subject"]
                counter[subject[0] if subject.len() else "(none)"] += 1
        false = found.incidents.filter(~pl.col("incident").is_in(sorted(used)))
        for row in false.iter_rows(named=True):
            fp[row["kind"]] += 1
        if quiet:
            quiet_false += false.height
        print(
            f"week {week:2d}: {'quiet' if quiet else 'plan '} {len(truth)} true, "
            f"{found.incidents.height} found, {false.height} false "
            f"({', '.join(false['kind']) or '-'}); "
            f"simulate {t1 - t0:.0f} s, review {t2 - t1:.0f} s",
            flush=True,
        )
        if week == args.weeks - 1 or (args.every and (week + 1) % args.every == 0):
            _summary(week + 1, args.rps, quiet_weeks, quiet_false, tp, fn, fp, right, delays)
            _evidence(named)


def _summary(
    weeks: int,
    rps: float,
    quiet_weeks: int,
    quiet_false: int,
    tp: dict[str, int],
    fn: dict[str, int],
    fp: dict[str, int],
    right: dict[str, int],
    delays: dict[str, list[float]],
) -> None:
    print(f"\n{weeks} weeks at {rps} requests/s, {quiet_weeks} quiet")
    print(f"{'class':34} {'true':>4} {'recall':>7} {'precision':>9} {'delay_min':>9} {'top1':>5}")
    for kind in sorted(set(tp) | set(fn) | set(fp)):
        n_true = tp[kind] + fn[kind]
        recall = tp[kind] / n_true if n_true else float("nan")
        precision = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else float("nan")
        delay = statistics.median(delays[kind]) if delays[kind] else float("nan")
        top1 = right[kind] / tp[kind] if tp[kind] else float("nan")
        print(f"{kind:34} {n_true:4d} {recall:7.2f} {precision:9.2f} {delay:9.0f} {top1:5.2f}")
    total_tp, total_fn, total_fp = sum(tp.values()), sum(fn.values()), sum(fp.values())
    print(
        f"{'overall':34} {total_tp + total_fn:4d} {total_tp / max(total_tp + total_fn, 1):7.2f} "
        f"{total_tp / max(total_tp + total_fp, 1):9.2f} {'':9} "
        f"{sum(right.values()) / max(total_tp, 1):5.2f}"
    )
    print(f"false incidents per quiet week: {quiet_false / max(quiet_weeks, 1):.2f}")


def _evidence(named: dict[str, dict[str, Counter[str]]]) -> None:
    """What the grown span and the explanation's change named, per class of found incident."""
    print("\nevidence of the found incidents (grown span; feature the explanation moved most on)")
    for kind in sorted(named):
        parts = []
        for cause, counter in named[kind].items():
            total = sum(counter.values())
            found = total - counter["(none)"]
            common = ", ".join(f"{k} {v}" for k, v in counter.most_common(3) if k != "(none)")
            parts.append(f"{cause} {found}/{total}" + (f" ({common})" if common else ""))
        print(f"{kind:34} " + "; ".join(parts))


if __name__ == "__main__":
    main()
