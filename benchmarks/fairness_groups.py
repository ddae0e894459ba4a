"""How fast is a bias audit on millions of calls? Prints the figures.

``toolkit.fairness.group_metrics`` on synthetic call tables (locale x tier outcome, with
and without a ground-truth label, 1,000 bootstrap replicates), against AIF360's own
metrics on the same data (one BinaryLabelDatasetMetric per group, as in
``aif360_group_metrics``) at the smaller sizes. Run::

    .venv/bin/python benchmarks/fairness_groups.py [--rows 1000000 5000000]

Timings are wall-clock, best of three, on whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from toolkit import fairness

LOCALES = ["de-DE", "en-GB", "en-US", "es-MX", "fr-FR", "hi-IN", "ja-JP", "pt-BR", "tr-TR"]
TIERS = ["free", "pro", "enterprise"]


def calls(rows: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    locale = rng.choice(LOCALES, rows)
    refused = rng.random(rows) < np.where(locale == "tr-TR", 0.07, 0.01)
    return pl.DataFrame(
        {
            "attributes.user.locale": locale,
            "attributes.user.tier": rng.choice(TIERS, rows, p=[0.6, 0.3, 0.1]),
            "refused": refused,
            "truth": np.where(rng.random(rows) < 0.9, refused, ~refused),
        }
    )


def best(run: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--aif360-max-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    locale, both = "attributes.user.locale", ["attributes.user.locale", "attributes.user.tier"]
    print(f"{'rows':>10} {'case':<34} {'toolkit s':>10} {'Mrows/s':>8} {'aif360 s':>9}")
    for rows in args.rows:
        frame = calls(rows)
        cases: list[tuple[str, Any, Any, str | None]] = [
            ("locale, vs en-US", locale, "en-US", None),
            ("locale x tier (27 groups), vs rest", both, None, None),
            ("locale, vs en-US, with label", locale, "en-US", "truth"),
        ]
        for name, group, privileged, label in cases:
            seconds = best(
                lambda f=frame, g=group, p=privileged, lab=label: fairness.group_metrics(
                    f, "refused", g, favorable=False, privileged=p, label=lab, n_boot=1000
                )
            )
            reference = ""
            if rows <= args.aif360_max_rows:
                aif = best(
                    lambda f=frame, g=group, p=privileged, lab=label: fairness.aif360_group_metrics(
                        f, "refused", g, favorable=False, privileged=p, label=lab
                    ),
                    repeat=1,
                )
                reference = f"{aif:9.2f}"
            print(
                f"{rows:>10,} {name:<34} {seconds:>10.3f} {rows / seconds / 1e6:>8.1f} "
                f"{reference:>9}"
            )
        audit_s = best(
            lambda f=frame: fairness.audit(
                f, "refused", both, favorable=False, privileged=None, label="truth"
            )
        )
        print(f"{rows:>10,} {'audit() with label + Theil index':<34} {audit_s:>10.3f}")


if __name__ == "__main__":
    main()
