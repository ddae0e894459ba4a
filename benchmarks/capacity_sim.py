"""How long toolkit.capacity's simulator takes to replay one hour of the Azure conversation
trace (19,366 requests) on an 8-GPU fleet, and a sizing sweep over a dozen fleets.

    python benchmarks/capacity_sim.py [--real DIR] [--repeat 3]

The fleet: Llama 2 70B on H100 80GB, service model fitted to the Splitwise performance
table, as 2 replicas x tensor parallel 4 and as 4 replicas x tensor parallel 2 (8 GPUs
either way). Target from the issue: well under 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import toolkit
from toolkit import capacity

H100_BYTES = 81559 * 2**20  # nvidia-smi memory.total of an H100 80GB HBM3
LLAMA2_70B_WEIGHTS = 138e9  # 69B parameters at fp16
LLAMA2_70B_KV = 2 * 80 * 8 * 128 * 2  # K and V x layers x KV heads x head dim x fp16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
    parser.add_argument("--real", default=str(default))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    real = Path(args.real)
    began = time.perf_counter()
    workload = toolkit.load_workload(
        real / "azure_llm_2023" / "AzureLLMInferenceTrace_conv.csv", tz="UTC"
    )
    table = capacity.read_perf_table(real / "splitwise_sim" / "perf_model.csv")
    loaded = time.perf_counter() - began
    span = workload["arrival_time"].max() - workload["arrival_time"].min()  # type: ignore[operator]
    print(
        f"Azure conversation trace: {workload.height:,} requests over {span} (load {loaded:.2f} s)"
    )
    for tp in (4, 2):
        kv = capacity.kv_capacity_tokens(H100_BYTES, tp, LLAMA2_70B_WEIGHTS, LLAMA2_70B_KV)
        model = capacity.fit_splitwise(
            table,
            model="llama2-70b",
            hardware="h100-80gb",
            tensor_parallel=tp,
            kv_capacity_tokens=kv,
        )
        replicas = 8 // tp
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            sim = capacity.simulate(workload, model, replicas)
            times.append(time.perf_counter() - t0)
        s = sim.summary(ttft_slo_s=2.0, tpot_slo_s=0.1)
        print(
            f"{replicas} replicas x TP{tp} (8 GPUs, KV {kv:,} tokens/replica): replay "
            f"best {min(times):.2f} s, mean {sum(times) / len(times):.2f} s of {args.repeat}; "
            f"TTFT p50 {s['ttft_p50_s']:.3f} s p99 {s['ttft_p99_s']:.3f} s, "
            f"TPOT p50 {s['tpot_p50_s'] * 1000:.1f} ms, attainment {s['slo_attainment']:.4f}"
        )
    model = capacity.fit_splitwise(
        table,
        model="llama2-70b",
        hardware="h100-80gb",
        tensor_parallel=2,
        kv_capacity_tokens=capacity.kv_capacity_tokens(
            H100_BYTES, 2, LLAMA2_70B_WEIGHTS, LLAMA2_70B_KV
        ),
    )
    t0 = time.perf_counter()
    sweep = capacity.size_fleet(workload, model, list(range(1, 13)), ttft_slo_s=2.0, tpot_slo_s=0.1)
    elapsed = time.perf_counter() - t0
    best = capacity.recommend(sweep)
    print(
        f"size_fleet over {sweep.height} fleets (simulation + analytic each): {elapsed:.2f} s; "
        f"recommended {best['replicas'].item()} replicas ({best['gpus'].item()} GPUs)"
    )


if __name__ == "__main__":
    main()
