"""How fast toolkit.compliance checks answers against the shipped healthcare rule set.

    python benchmarks/compliance_check.py [--answers 100000] [--repeat 3]

The answers are the simulated clinical assistant's (toolkit.synth.clinical), repeated to the
size asked for; half of them are about another topic (no rule applies), as on a shared
gateway. Prints answers per second for evaluate (pass/fail per answer and rule), rates
(daily, by model) and worst.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

import toolkit
from toolkit import compliance
from toolkit.synth import clinical


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / clinical.CLINICAL_FILE
        clinical.write_clinical(path, days=7, seed=1)
        base = compliance.answers(toolkit.load_spans(path, progress=False))
    other = base.with_columns(pl.lit("The router forwards 40 Gbps.").alias("answer"))
    unit = pl.concat([base, other])
    copies = max(args.answers // unit.height, 1)
    answers = pl.concat([unit] * copies).with_columns(
        pl.int_range(pl.len()).cast(pl.String).alias("answer_id")
    )
    rules = compliance.load_rules(compliance.HEALTHCARE_RULES)
    print(f"{answers.height:,} answers x {len(rules)} rules")
    for name, run in (
        ("evaluate", lambda: compliance.evaluate(answers, rules, warn=False)),
        ("rates 1d by model", lambda: compliance.rates(answers, rules, by="model")),
        ("worst 10", lambda: compliance.worst(answers, rules)),
    ):
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
        print(f"{name:>18}: {best:6.2f} s  ({answers.height / best:,.0f} answers/s)")


if __name__ == "__main__":
    main()
