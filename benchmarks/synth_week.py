"""How long toolkit.synth takes for a week 10x larger than the committed sample.

    python benchmarks/synth_week.py [--factor 10] [--out DIR]

Simulates 7 days at ``factor`` times the sample's mean rate (same fleet, same trace
sampling ratio, so ``factor`` times the requests and traces) and writes the exports into
a temporary directory (or ``--out``), printing the time of each stage.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from toolkit import synth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--factor", type=float, default=10.0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rps = synth.DEFAULT_RPS * args.factor
    began = time.perf_counter()
    sim = synth.simulate_service(days=7, rps=rps, seed=synth.DEFAULT_SEED)
    simulated = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        paths = synth.write_sample(sim, out)
        written = time.perf_counter()
        size = sum(p.stat().st_size for p in paths.values())
    r = sim.requests
    print(
        f"7 days at {rps:g} req/s: {r.height:,} requests, {int(r['sampled'].sum()):,} traced\n"
        f"simulate {simulated - began:.1f} s, write {written - simulated:.1f} s, "
        f"total {written - began:.1f} s, {size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
