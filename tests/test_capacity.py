"""toolkit.capacity: queueing formulas against textbook values, the simulator against the
exact M/M/c model and hand-computed cases, service-model fits, demand, utilisation,
inventories, and the sample fleet's saturation and sizing."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import toolkit
from toolkit import capacity
from toolkit.errors import FormatError, ParameterError, SchemaError, SkippedRecordsWarning
from toolkit.schema import GPU, TIME, WORKLOAD, validate

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def workload(seconds: list[float], inp: list[int], out: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "arrival_time": pl.Series([T0 + dt.timedelta(seconds=s) for s in seconds]).cast(TIME),
            "input_tokens": inp,
            "output_tokens": out,
        }
    )


def model(**changes: object) -> capacity.ServiceModel:
    base = capacity.ServiceModel(
        "m", "NVIDIA L4", 1, 0.0, 1e-4, 0.0, 0.02, 0.0, 0.0, 8, 100_000, max_batched_tokens=2048
    )
    return base.with_limits(**changes)


# --------------------------------------------------------------------------- queueing


def erlang_c_by_hand(a: float, c: int) -> float:
    """The textbook formula with factorials (Kleinrock vol. 1, eq. 3.40)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("lam", "mu", "c"), [(10.0, 1.0, 11), (3.0, 1.0, 4), (0.5, 1.0, 1)])
def test_erlang_c_equals_the_textbook_formula(lam: float, mu: float, c: int) -> None:
    assert capacity.erlang_c(lam, mu, c) == pytest.approx(erlang_c_by_hand(lam / mu, c), rel=1e-12)


def test_erlang_c_known_values() -> None:
    # 10 erlangs on 11 agents: the classic call-centre example, P(wait) = 0.6821
    assert round(capacity.erlang_c(10.0, 1.0, 11), 4) == 0.6821
    # M/M/1: P(wait) = rho; M/M/2: 2 rho^2 / (1 + rho)
    assert capacity.erlang_c(0.3, 1.0, 1) == pytest.approx(0.3)
    rho = 0.6
    assert capacity.erlang_c(2 * rho, 1.0, 2) == pytest.approx(2 * rho**2 / (1 + rho))
    assert capacity.erlang_c(5.0, 1.0, 5) == 1.0  # unstable: everyone waits
    assert capacity.erlang_b(2.0, 2) == pytest.approx(0.4)
    # Erlang B table: 5 erlangs on 10 lines blocks 1.84 %
    assert capacity.erlang_b(5.0, 10) == pytest.approx(0.018385, abs=2e-6)


def test_mmc_textbook_values() -> None:
    one = capacity.mmc(2.0, 5.0, 1)  # rho 0.4: Wq = rho / (mu - lambda) = 0.4 / 3
    assert one.utilisation == pytest.approx(0.4)
    assert one.mean_wait_s == pytest.approx(0.4 / 3)
    assert one.mean_response_s == pytest.approx(1 / 3)  # 1 / (mu - lambda)
    assert one.mean_queue_length == pytest.approx(0.4**2 / 0.6)  # rho^2 / (1 - rho)
    assert one.wait_quantile(0.9) == pytest.approx(math.log(0.4 / 0.1) / 3)
    assert one.wait_quantile(0.5) == 0.0  # P(wait) = 0.4 < 0.5
    two = capacity.mmc(1.2, 1.0, 2)  # M/M/2, rho 0.6: Wq = rho^2 / (mu (1 - rho^2))
    assert two.mean_wait_s == pytest.approx(0.36 / 0.64)
    assert not capacity.mmc(3.0, 1.0, 2).stable
    assert capacity.mmc(3.0, 1.0, 2).mean_wait_s == math.inf


def test_mgc_wait() -> None:
    # M/D/1 (Pollaczek-Khinchine): Wq = rho / (2 mu (1 - rho)) = 0.8 / (2 * 0.2)
    assert capacity.mgc_wait(0.8, 1.0, 0.0, 1) == pytest.approx(2.0)
    # exponential service: exactly M/M/c
    assert capacity.mgc_wait(3.0, 1.0, 1.0, 4) == pytest.approx(
        capacity.mmc(3.0, 1.0, 4).mean_wait_s
    )


def test_queueing_parameter_errors() -> None:
    with pytest.raises(ParameterError, match=r"The 'servers' parameter of capacity.erlang_c must"):
        capacity.erlang_c(1.0, 1.0, 0)
    with pytest.raises(ParameterError, match=r"'service_rate' .* > 0. Got 0.0 instead"):
        capacity.erlang_c(1.0, 0.0, 2)
    with pytest.raises(ParameterError, match="in \\[0, 1\\)"):
        capacity.mmc(1.0, 2.0, 1).wait_quantile(1.0)


# --------------------------------------------------------------------------- simulator


def batch_means(values: np.ndarray, batches: int = 20) -> tuple[float, float]:
    """Mean and its standard error from batch means (the waits are autocorrelated)."""
    parts = np.array_split(values, batches)
    means = np.array([p.mean() for p in parts])
    return float(values.mean()), float(means.std(ddof=1) / math.sqrt(batches))


@pytest.mark.parametrize(("lam", "servers"), [(3.0, 4), (0.7, 1)])
def test_simulator_agrees_with_mmc_where_it_is_exact(lam: float, servers: int) -> None:
    # No batching effect (step time independent of the batch), no prefill cost, geometric
    # outputs of mean 100 tokens at 10 ms a step: exponential service of mean 1 s on
    # `servers` slots of one replica = M/M/c. Admission waits for the next step boundary
    # (at most one step, 10 ms), so a request "waits" when queue_s exceeds one step and the
    # mean wait carries half a step more.
    rng = np.random.default_rng(7)
    n = 60_000
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    outputs = rng.geometric(1 / 100, n)
    demand = workload(arrivals.tolist(), [1] * n, outputs.tolist())
    m = model(
        prefill_s_per_token=0.0, step_base_s=0.01, max_num_seqs=servers, kv_capacity_tokens=10**9
    )
    sim = capacity.simulate(demand, m, 1)
    queue = sim.requests["queue_s"].to_numpy()[n // 10 :]  # drop the warm-up
    exact = capacity.mmc(lam, 1.0, servers)
    p_wait, se_p = batch_means((queue > 0.0100001).astype(float))
    assert abs(p_wait - exact.p_wait) < 4 * se_p + 0.01
    mean_wait, se_w = batch_means(queue)
    assert abs(mean_wait - (exact.mean_wait_s + 0.005)) < 4 * se_w + 0.01
    # the analytic model of size_fleet gives the same P(wait) on this system
    a = capacity.analytic_latency(demand, m, 1, ttft_slo_s=1.0, tpot_slo_s=1.0)
    assert a["p_wait"] == pytest.approx(exact.p_wait, rel=0.05)


def test_simulator_hand_computed_timings() -> None:
    m = model(prefill_base_s=0.05)  # prefill alone = 0.05 + 1e-4 T; a step 0.02 s
    sim = capacity.simulate(workload([0.0], [1000], [11]), m, 1)
    row = sim.requests.row(0, named=True)
    # one step holds the whole prompt: 0.02 base + 0.03 extra prefill overhead + 0.1
    assert row["ttft_s"] == pytest.approx(0.15)
    assert row["tpot_s"] == pytest.approx(0.02)
    assert row["latency_s"] == pytest.approx(0.15 + 10 * 0.02)
    assert row["outcome"] == "ok"
    assert m.prefill_s(1000) == pytest.approx(0.15)
    # a 5000-token prompt is prefilled in 3 chunks of the 2048-token budget: 3 steps
    long = capacity.simulate(workload([0.0], [5000], [2]), model(), 1).requests
    assert long["ttft_s"][0] == pytest.approx(3 * 0.02 + 5000e-4)
    # prefix caching: half the prompt is not prefilled again
    cached = capacity.simulate(workload([0.0], [1000], [2]), model(), 1, prefix_cache_hit_rate=0.5)
    assert cached.requests["ttft_s"][0] == pytest.approx(0.02 + 500e-4)


def test_simulator_limits_kv_waiting_and_timeouts() -> None:
    # KV room for one request at a time: the second waits for the first to end
    m = model(kv_capacity_tokens=150)
    sim = capacity.simulate(workload([0.0, 0.001], [100, 100], [11, 11]), m, 1).requests
    first_end = sim["latency_s"][0]
    assert sim["queue_s"][1] == pytest.approx(first_end - 0.001)
    # a request larger than the KV cache can never run: rejected
    too_big = capacity.simulate(workload([0.0], [200], [11]), m, 1).requests
    assert too_big["outcome"].to_list() == ["rejected"]
    # queue limit 1: the third concurrent request is rejected
    three = capacity.simulate(
        workload([0.0, 0.0001, 0.0002], [100] * 3, [11] * 3), m, 1, max_waiting=1
    ).requests
    assert three["outcome"].to_list() == ["ok", "ok", "rejected"]
    # timeout: the second waits 0.32 s for the first, over a 0.1 s timeout
    late = capacity.simulate(
        workload([0.0, 0.001], [100, 100], [11, 11]), m, 1, timeout_s=0.1
    ).requests
    assert late["outcome"].to_list() == ["ok", "timeout"]
    assert late["ttft_s"][1] is None
    summary = capacity.simulate(
        workload([0.0, 0.001], [100, 100], [11, 11]), m, 1, timeout_s=0.1
    ).summary(ttft_slo_s=1.0, tpot_slo_s=1.0)
    assert summary["failed_share"] == 0.5
    assert summary["slo_attainment"] == 0.5
    assert summary["ttft_p99_s"] == math.inf


def test_simulator_routes_to_the_least_loaded_replica() -> None:
    sim = capacity.simulate(workload([0.0, 0.0, 0.0], [100] * 3, [50] * 3), model(), 2)
    assert sim.requests["replica"].to_list() == [0, 1, 0]


def test_simulate_errors_name_the_problem() -> None:
    demand = workload([0.0], [10], [2])
    with pytest.raises(ParameterError, match=r"'replicas' parameter of capacity\.simulate"):
        capacity.simulate(demand, model(), 0)
    with pytest.raises(SchemaError, match="missing \\['output_tokens'\\]"):
        capacity.simulate(demand.drop("output_tokens"), model(), 1)
    bad = demand.with_columns(pl.lit(0, pl.Int64).alias("input_tokens"))
    with pytest.raises(SchemaError, match="null or below 1"):
        capacity.simulate(bad, model(), 1)
    naive = demand.with_columns(pl.col("arrival_time").dt.replace_time_zone(None))
    with pytest.raises(SchemaError, match="time-zone-aware"):
        capacity.simulate(naive, model(), 1)
    with pytest.raises(ParameterError, match=r"'step_base_s' parameter of capacity\.ServiceModel"):
        model(step_base_s=0.0)


# --------------------------------------------------------------------------- sizing


def test_size_fleet_rows_cost_and_recommendation(backend: str) -> None:
    arrivals = [s / 4 for s in range(400)]
    demand = workload(arrivals, [1000] * 400, [50] * 400)
    frame = demand.to_pandas() if backend == "pandas" else demand
    table = capacity.size_fleet(
        frame,
        [model(), model(gpu_type="NVIDIA H100 80GB HBM3", name="big")],
        [1, 2],
        ttft_slo_s=0.5,
        tpot_slo_s=0.05,
        backend=backend,
    )
    table = pl.from_pandas(table) if backend == "pandas" else table
    assert table.height == 4
    assert table["cost_per_hour_usd"].to_list() == [0.7, 1.4, 3.0, 6.0]
    # tokens: (1000 + 50) x 400 requests over 99.75 s
    assert table["tokens_per_s"][0] == pytest.approx(1050 * 400 / 99.75)
    per_million = 0.7 / (1050 * 400 / 99.75 * 3600 / 1e6)
    assert table["cost_per_million_tokens_usd"][0] == pytest.approx(per_million)
    assert table.filter(pl.col("recommended"))["replicas"].to_list() == [1]
    assert table["recommended"].sum() == 1
    # evenly spaced arrivals never queue; the analytic model assumes Poisson ones
    assert table["analytic_attainment"].is_not_null().all()
    assert table.filter(pl.col("replicas") == 2)["methods_agree"].all()
    with pytest.raises(ParameterError, match="must price GPU type 'NVIDIA L4'"):
        capacity.size_fleet(demand, model(), 1, ttft_slo_s=1, tpot_slo_s=1, gpu_hourly_usd={})


def test_what_if_and_load_sweep() -> None:
    demand = workload([s / 4 for s in range(400)], [1000] * 400, [50] * 400)
    out = capacity.what_if(
        demand,
        model(),
        [1, 2, 3, 4],
        {"x3": capacity.Scenario(traffic=3.0)},
        current_replicas=1,
        ttft_slo_s=0.5,
        tpot_slo_s=0.05,
    )
    direct = capacity.size_fleet(
        capacity.scale_demand(demand, 3.0),
        model(),
        [1, 2, 3, 4],
        ttft_slo_s=0.5,
        tpot_slo_s=0.05,
        method="simulation",
    )
    assert out["scenario"].to_list() == ["x3"]
    assert out["replicas"][0] == capacity.recommend(direct)["replicas"].item()
    assert out["attainment_at_current"][0] == direct["slo_attainment"][0]
    assert out["attainment_at_current"][0] < 0.1
    curve = capacity.load_sweep(demand, model(), 1, factors=(0.5, 1.0), ttft_slo_s=1, tpot_slo_s=1)
    sim = curve.filter(pl.col("method") == "simulation")
    assert sim["arrival_rate_rps"][1] == pytest.approx(400 / 99.75)


# --------------------------------------------------------------------------- demand


def test_arrival_rate_and_summary_by_hand() -> None:
    demand = workload([0, 1, 2, 130, 131], [10, 20, 30, 40, 50], [1, 1, 1, 1, 6])
    series = capacity.arrival_rate(demand, every="1m")
    assert series["requests"].to_list() == [3, 0, 2]
    assert series["rate_rps"].to_list() == pytest.approx([3 / 60, 0, 2 / 60])
    s = capacity.demand_summary(demand, every="1m")
    counts = np.array([3, 0, 2])
    assert s.peak_to_mean == pytest.approx(3 / counts.mean())
    assert s.index_of_dispersion == pytest.approx(counts.var(ddof=1) / counts.mean())
    assert s.input_token_share == pytest.approx(150 / 160)
    assert s.input_tokens_p50 == 30
    sampled = capacity.arrival_rate(demand, every="1m", sampling_ratio=0.5)
    assert sampled["rate_rps"][0] == pytest.approx(6 / 60)


def test_forecast_recovers_a_periodic_series() -> None:
    hours = range(24 * 14)
    t = pl.Series([T0 + dt.timedelta(hours=h) for h in hours]).cast(TIME)
    rate = [1.0 + (h % 24 >= 8) * 2.0 + ((h // 24 + 3) % 7 >= 5) * 0.0 for h in hours]
    f = capacity.forecast_demand(pl.DataFrame({"time": t, "rate_rps": rate}), horizon="1d")
    assert f.backtest_wape == pytest.approx(0.0, abs=1e-12)
    assert f.frame["forecast"].to_list() == [1.0] * 8 + [3.0] * 16
    assert f.frame["time"][0] == T0 + dt.timedelta(days=14)
    with pytest.raises(ParameterError, match="at least two seasons"):
        capacity.forecast_demand(pl.DataFrame({"time": t[:30], "rate_rps": rate[:30]}))


def test_scale_demand_and_prompts() -> None:
    demand = workload(list(range(1000)), [100] * 1000, [10] * 1000)
    assert capacity.scale_demand(demand, 2.0).height == 2000
    half = capacity.scale_demand(demand, 1.5, seed=3).height
    assert 1450 < half < 1550
    scaled = capacity.scale_demand(demand, 2.0)
    assert scaled["arrival_time"].min() >= demand["arrival_time"].min()
    assert scaled["arrival_time"].max() <= demand["arrival_time"].max()
    assert capacity.scale_prompts(demand, 1.25)["input_tokens"][0] == 125
    validate(scaled, WORKLOAD)


def test_reconstruct_demand_from_a_counter() -> None:
    times = pl.Series([T0 + dt.timedelta(minutes=k) for k in range(4)]).cast(TIME)
    metrics = pl.DataFrame(
        {
            "time": times,
            "name": "vllm:e2e_request_latency_seconds_count",
            "value": [10.0, 13.0, 1.0, 4.0],  # +3, reset to 1, +3
            "label.pool": "p",
        }
    )
    calls = pl.DataFrame(
        {
            "start_time": times,
            "input_tokens": [7, 7, 7, 7],
            "output_tokens": [2, 2, 2, 2],
            "attributes.deployment.pool": "p",
        }
    )
    out = capacity.reconstruct_demand(metrics, calls, pool="p")
    assert out.height == 7
    per_minute = out["arrival_time"].dt.minute().value_counts().sort("arrival_time")
    assert per_minute["count"].to_list() == [3, 1, 3]
    assert set(out["input_tokens"]) == {7}
    validate(out, WORKLOAD)


# --------------------------------------------------------------------------- inventories

INVENTORIES = {
    "alibaba_gpu_v2023/openb_node_list_gpu_node.csv": ("openb", "gpu", "model", True),
    "alibaba_spot_gpu_2026/node_info_df.csv": ("spot", "gpu_capacity_num", "gpu_model", True),
    "alibaba_pai_gpu_v2020/pai_machine_spec.csv": ("pai", "cap_gpu", "gpu_type", False),
}


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_read_every_real_inventory(real_data: Path, name: str) -> None:
    fmt, gpu_col, model_col, has_header = INVENTORIES[name]
    path = real_data / name
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if has_header:
        header, rows = rows[0], rows[1:]
    else:
        header = path.with_suffix(".header").read_text().strip().split(",")
    records = [dict(zip(header, r, strict=True)) for r in rows]
    inv = capacity.read_gpu_inventory(path)
    assert inv.height == len(records)
    assert inv["gpus"].sum() == sum(int(r[gpu_col]) for r in records)
    assert Counter(inv["gpu_model"].to_list()) == Counter(r[model_col] for r in records)
    assert set(inv["source"]) == {f"{fmt}:{path.name}"}
    summary = capacity.inventory_summary(inv)
    assert summary["gpu_share"].sum() == pytest.approx(1.0)
    if fmt == "openb":
        assert inv["memory_mib"][0] == int(records[0]["memory_mib"])
        assert inv["cpu_cores"][0] == int(records[0]["cpu_milli"]) / 1000
    if fmt == "pai":  # cap_mem's unit is undocumented: kept as published, never converted
        assert inv["memory_mib"].null_count() == inv.height
        assert inv["memory_as_published"][0] == int(records[0]["cap_mem"])
        assert (inv.filter(pl.col("gpu_model") == "CPU")["gpus"] == 0).all()


def test_inventory_errors_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "nodes.csv"
    path.write_text(
        "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,64000,262144,two,T4\n"
    )
    with pytest.raises(
        FormatError, match=r"nodes.csv, line 3, column 'gpu': expected a non-negative"
    ):
        capacity.read_gpu_inventory(path)
    with pytest.warns(SkippedRecordsWarning, match="skipped 1 broken rows") as caught:
        inv = capacity.read_gpu_inventory(path, on_error="skip")
    assert inv.height == 1
    assert len(caught[0].message.skipped) == 1  # type: ignore[union-attr]
    short = tmp_path / "short.csv"
    short.write_text("gpu_model,gpu_capacity_num,cpu_num,node_name\nA10,1,128\n")
    with pytest.raises(FormatError, match=r"short.csv, line 2: expected 4 fields"):
        capacity.read_gpu_inventory(short)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match=r"other.csv, line 1: not a known GPU inventory"):
        capacity.read_gpu_inventory(other)


# --------------------------------------------------------------------------- Splitwise, Azure


def test_splitwise_table_units_are_milliseconds(real_data: Path, tmp_path: Path) -> None:
    path = real_data / "splitwise_sim" / "perf_model.csv"
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = capacity.read_perf_table(path)
    assert table.height == len(rows) == 1260
    assert table["prompt_time_s"][0] == pytest.approx(float(rows[0]["prompt_time"]) / 1000)
    # e2e = prompt + (tokens - 1) x per-token time holds for runs of <= 512 tokens
    short = [r for r in rows if int(r["token_size"]) <= 512]
    residual = [
        abs(
            float(r["e2e_time"])
            - float(r["prompt_time"])
            - (int(r["token_size"]) - 1) * float(r["token_time"])
        )
        / float(r["e2e_time"])
        for r in short
    ]
    assert float(np.median(residual)) < 0.002
    bad = tmp_path / "perf.csv"
    bad.write_text("model,hardware\nm,h\n")
    with pytest.raises(FormatError, match=r"perf\.csv, line 1: not a performance table"):
        capacity.read_perf_table(bad)
    bad.write_text(",".join(rows[0]) + "\n" + ",".join(["x"] * 11) + "\n")
    with pytest.raises(FormatError, match=r"perf\.csv, line 2, column 'prompt_size': expected an"):
        capacity.read_perf_table(bad)


def test_fit_splitwise_reproduces_the_measurements(real_data: Path) -> None:
    table = capacity.read_perf_table(real_data / "splitwise_sim" / "perf_model.csv")
    kv = capacity.kv_capacity_tokens(81559 * 2**20, 4, 138e9, 327_680)
    m = capacity.fit_splitwise(
        table, model="llama2-70b", hardware="h100-80gb", tensor_parallel=4, kv_capacity_tokens=kv
    )
    errors = {f.quantity: f for f in m.fit}
    assert errors["prefill_s"].mape < 0.15
    assert errors["tpot_s"].mape < 0.05
    assert errors["e2e_s"].mape < 0.06
    rows = table.filter(
        (pl.col("hardware") == "h100-80gb")
        & (pl.col("tensor_parallel") == 4)
        & (pl.col("model") == "llama2-70b")
        & (pl.col("prompt_size") == 8192)
        & (pl.col("batch_size") == 1)
    )
    assert m.prefill_s(8192) == pytest.approx(rows["prompt_time_s"].mean(), rel=0.15)
    assert m.step_s(1, 8192 + 64) == pytest.approx(rows["token_time_s"].mean(), rel=0.1)
    with pytest.raises(ParameterError, match="must name rows of the table"):
        capacity.fit_splitwise(
            table, model="x", hardware="y", tensor_parallel=1, kv_capacity_tokens=1
        )


def test_azure_hour_on_eight_gpus(real_data: Path) -> None:
    path = real_data / "azure_llm_2023" / "AzureLLMInferenceTrace_conv.csv"
    azure = toolkit.load_workload(path, tz="UTC")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert azure.height == len(rows) == 19_366
    per_minute = Counter(r["TIMESTAMP"][:16] for r in rows)
    minutes = sorted(per_minute)
    counts = np.array([per_minute[k] for k in minutes], dtype=float)
    s = capacity.demand_summary(azure, every="1m")
    assert s.peak_to_mean == pytest.approx(counts.max() / counts.mean())
    assert s.index_of_dispersion == pytest.approx(counts.var(ddof=1) / counts.mean())
    table = capacity.read_perf_table(real_data / "splitwise_sim" / "perf_model.csv")
    m = capacity.fit_splitwise(
        table,
        model="llama2-70b",
        hardware="h100-80gb",
        tensor_parallel=2,
        kv_capacity_tokens=capacity.kv_capacity_tokens(81559 * 2**20, 2, 138e9, 327_680),
    )
    sim = capacity.simulate(azure, m, 4)  # 8 GPUs
    summary = sim.summary(ttft_slo_s=2.0, tpot_slo_s=0.1)
    assert (sim.requests["outcome"] == "ok").all()
    assert summary["slo_attainment"] > 0.99
    assert summary["tokens_per_s"] == pytest.approx(
        (azure["input_tokens"].sum() + azure["output_tokens"].sum()) / sim.duration_s
    )


# --------------------------------------------------------------------------- the sample fleet


@pytest.fixture(scope="module")
def sample() -> dict[str, object]:
    spans = toolkit.load_spans(SAMPLE / "traces.jsonl.gz", progress=False)
    calls = toolkit.llm_calls(spans)
    metrics = toolkit.load_metrics(SAMPLE / "vllm_metrics.prom.gz")
    queue = spans.filter(pl.col("name") == "llm_request").select(
        "trace_id", pl.col("attributes.gen_ai.latency.time_in_queue").alias("time_in_queue_s")
    )
    truth = json.loads((SAMPLE / "truth.json").read_text())
    h100 = next(p for p in truth["simulation"]["pools"] if p["name"] == "h100-pool")
    m = capacity.fit_service_model(
        calls,
        metrics,
        pool="h100-pool",
        replicas=h100["replicas"],
        max_num_seqs=h100["max_num_seqs"],
        kv_capacity_tokens=h100["kv_capacity_tokens"],
        gpu_type=h100["gpu"],
        queue_times=queue,
    )
    demand = capacity.reconstruct_demand(metrics, calls, pool="h100-pool")
    return {
        "calls": calls,
        "metrics": metrics,
        "truth": truth,
        "h100": h100,
        "model": m,
        "demand": demand,
    }


def windows(truth: dict, kind: str, pool: str) -> list[tuple[dt.datetime, dt.datetime]]:
    out = []
    for inc in truth["incidents"]:
        if inc["kind"] == kind and inc["slice"].get("deployment.pool") == pool:
            w = inc["window"]
            out.append((dt.datetime.fromisoformat(w["start"]), dt.datetime.fromisoformat(w["end"])))
    return out


def test_service_model_recovers_the_sample_engine(sample: dict) -> None:
    m, h100 = sample["model"], sample["h100"]
    # truth.json: prefill 4500 tokens/s; the fit's slope includes nothing else
    assert 1 / m.prefill_s_per_token == pytest.approx(h100["prefill_tokens_per_s"], rel=0.1)
    from toolkit.synth._model import POOLS  # the engine's step time constants

    engine = next(p for p in POOLS if p.name == "h100-pool")
    assert m.step_base_s == pytest.approx(engine.step_base_s, rel=0.05)
    errors = {f.quantity: f.mape for f in m.fit}
    assert errors["tpot_s"] < 0.05
    assert errors["prefill_s"] < 0.1


def test_saturation_periods_find_the_weekday_peaks(sample: dict) -> None:
    load = capacity.pool_load(sample["metrics"], every="1h")
    periods = capacity.saturation_periods(load)
    truth = sample["truth"]
    h100 = periods.filter(pl.col("pool") == "h100-pool")
    found = list(h100.select("start", "end").iter_rows())
    peaks = windows(truth, "capacity_saturation", "h100-pool")
    # Monday to Thursday: a saturated period overlaps each weekday-peak window
    for start, end in peaks[:4]:
        assert any(s < end and e > start for s, e in found), (start, end, found)
    # no saturation on the weekend (Saturday, Sunday)
    assert all(s.weekday() < 5 for s, _ in found)
    # the KV-cache burst on the l4 pool
    ((b0, b1),) = windows(truth, "overload", "l4-pool")
    l4 = periods.filter(pl.col("pool") == "l4-pool")
    assert l4.height == 1
    assert l4["start"][0] <= b0
    assert l4["end"][0] >= b1 - dt.timedelta(hours=1)
    assert "kv_cache" in l4["cause"][0]


def test_demand_rebuilt_from_counters_counts_every_request(sample: dict) -> None:
    metrics, demand = sample["metrics"], sample["demand"]
    counter = (
        metrics.filter(
            (pl.col("name") == "vllm:e2e_request_latency_seconds_count")
            & (pl.col("label.pool") == "h100-pool")
        )
        .sort("time")["value"]
        .to_numpy()
    )
    assert demand.height == int(counter[-1] - counter[0])  # no reset in the sample
    calls = sample["calls"].filter(pl.col("attributes.deployment.pool") == "h100-pool")
    assert calls.height / demand.height == pytest.approx(0.02, rel=0.05)  # 2 % traced


def test_simulated_latency_versus_load_matches_the_measured_calls(sample: dict) -> None:
    # Monday replayed on today's fleet (4 replicas, queue limit 24, 30 s timeout). Stated
    # tolerance: per load level (6 equal groups of hours), the simulated p90 TTFT within
    # 0.67-2x the measured one and the median within 0.5-2x; the simulator is allowed to be
    # pessimistic at the top (it models prefill/decode interference the sample's engine
    # lacks), never optimistic by more than a third.
    demand, m = sample["demand"], sample["model"]
    day = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    monday = demand.filter(pl.col("arrival_time") < day + dt.timedelta(days=1))
    sim = capacity.simulate(monday, m, 4, max_waiting=24, timeout_s=30.0)
    measured = sample["calls"].filter(
        (pl.col("attributes.deployment.pool") == "h100-pool")
        & (pl.col("start_time") < day + dt.timedelta(days=1))
    )
    table = capacity.latency_by_load(measured, sim.requests, every="1h", bins=6)
    assert table.height == 6
    assert table["load_rps"].is_sorted()
    p90 = (table["simulated_ttft_p90_s"] / table["measured_ttft_p90_s"]).to_numpy()
    p50 = (table["simulated_ttft_p50_s"] / table["measured_ttft_p50_s"]).to_numpy()
    assert ((p90 > 0.67) & (p90 < 2.0)).all(), p90
    assert ((p50 > 0.5) & (p50 < 2.0)).all(), p50
    tpot = (table["simulated_tpot_p50_s"] / table["measured_tpot_p50_s"]).to_numpy()
    assert ((tpot > 0.9) & (tpot < 1.6)).all(), tpot
    # both say latency grows with load: the busiest hours are the slowest
    assert table["measured_ttft_p90_s"][-1] > table["measured_ttft_p90_s"][1]
    assert table["simulated_ttft_p90_s"][-1] > table["simulated_ttft_p90_s"][1]


def test_recommended_fleet_removes_the_weekday_saturation(sample: dict) -> None:
    demand, m, truth = sample["demand"], sample["model"], sample["truth"]
    peaks = windows(truth, "capacity_saturation", "h100-pool")
    start, end = peaks[0]  # Monday 13-18 UTC
    peak = demand.filter(pl.col("arrival_time").is_between(start, end, closed="left"))
    table = capacity.size_fleet(
        peak,
        m,
        [3, 4, 5, 6, 7, 8],
        ttft_slo_s=10.0,
        tpot_slo_s=0.2,
        attainment_target=0.98,
        max_waiting=24,
        timeout_s=30.0,
    )
    best = capacity.recommend(table)
    assert best.height == 1
    n = best["replicas"].item()
    assert n > 4  # today's fleet does not meet the SLOs at the peak
    assert not table.filter(pl.col("replicas") == 4)["meets_slo"].item()
    for start, end in (peaks[0], peaks[1], peaks[4]):  # Monday, Tuesday, Friday
        window = demand.filter(pl.col("arrival_time").is_between(start, end, closed="left"))
        before = capacity.simulate(window, m, 4, max_waiting=24, timeout_s=30.0)
        after = capacity.simulate(window, m, n, max_waiting=24, timeout_s=30.0)
        queued_before = before.requests["queue_s"].fill_null(1e9).gt(1.0).mean()
        queued_after = after.requests["queue_s"].fill_null(1e9).gt(1.0).mean()
        assert (after.requests["outcome"] == "ok").all()
        assert queued_after < 0.015  # requests that waited over 1 s for admission
        assert queued_before > 3 * queued_after
        assert (before.requests["outcome"] == "timeout").any() or queued_before > 0.05
        s = after.summary(ttft_slo_s=10.0, tpot_slo_s=0.2)
        assert s["slo_attainment"] >= 0.98


# --------------------------------------------------------------------------- utilisation


def test_gpu_utilisation_on_the_sample_nvidia_smi_log() -> None:
    gpu = toolkit.load_gpu(SAMPLE / "nvidia_smi.csv.gz", tz="UTC", host="gpu-h100-0")
    validate(gpu, GPU)
    stats = capacity.gpu_utilisation(gpu)
    assert stats.height == 4
    for row in stats.iter_rows(named=True):
        values = gpu.filter(pl.col("gpu_index") == row["gpu_index"])["util_pct"].to_numpy()
        assert row["util_mean_pct"] == pytest.approx(values.mean())
        assert row["idle_share"] == pytest.approx((values <= 5).mean())
        assert row["samples"] == values.size
    heat = capacity.utilisation_by_time(gpu, every="1d")
    assert heat.height == 4 * 8  # 4 GPUs x 8 days touched (7 days and the last scrape)
    pandas = capacity.gpu_utilisation(gpu.to_pandas(), backend="pandas")
    assert list(pandas["util_mean_pct"]) == pytest.approx(stats["util_mean_pct"].to_list())


def test_plots_return_figures() -> None:
    from toolkit.plots import capacity as plots

    t = pl.Series([T0 + dt.timedelta(hours=h) for h in range(3)]).cast(TIME)
    heat = pl.DataFrame({"gpu": ["a"] * 3, "time": t, "util_pct": [1.0, 50.0, 99.0]})
    assert plots.utilisation_heatmap(heat).axes
    curve = pl.DataFrame(
        {
            "method": ["simulation"] * 2,
            "arrival_rate_rps": [1.0, 2.0],
            "ttft_p99_s": [0.1, math.inf],
        }
    )
    assert plots.latency_vs_load(curve, slo_s=1.0).axes
    with pytest.raises(ParameterError, match="must have the columns"):
        plots.cost_frontier(pl.DataFrame({"x": [1]}))


# --------------------------------------------------------------------------- plan from data


def _vllm_metrics(pools: dict[str, int], minutes: int = 30) -> pl.DataFrame:
    """Per pool: a request counter growing by ``rate`` a minute, running and KV gauges."""
    rows = []
    for pool, rate in pools.items():
        for m in range(minutes):
            t = T0 + dt.timedelta(minutes=m)
            base = {"time": t, "label.pool": pool, "label.model_name": f"{pool}-model"}
            rows.append(
                {**base, "name": "vllm:e2e_request_latency_seconds_count", "value": rate * m}
            )
            rows.append({**base, "name": "vllm:num_requests_running", "value": 8.0})
            rows.append({**base, "name": "vllm:num_requests_waiting", "value": 0.0})
            rows.append({**base, "name": "vllm:kv_cache_usage_perc", "value": 0.5})
    return pl.DataFrame(rows).with_columns(pl.col("time").cast(TIME))


def _calls(pools: dict[str, int], minutes: int = 30) -> pl.DataFrame:
    """``n`` traced calls a minute per pool, over two replicas, 1000 + 200 tokens, 2 s."""
    rows = []
    for pool, n in pools.items():
        for m in range(minutes):
            for k in range(n):
                rows.append(
                    {
                        "start_time": T0 + dt.timedelta(minutes=m, seconds=k),
                        "attributes.deployment.pool": pool,
                        "attributes.deployment.replica": f"{pool}-{k % 2}",
                        "request_model": f"{pool}-model",
                        "input_tokens": 1000,
                        "output_tokens": 200,
                        "latency_s": 2.0,
                        "error_type": None,
                    }
                )
    return pl.DataFrame(rows).with_columns(
        pl.col("start_time").cast(TIME), pl.col("error_type").cast(pl.String)
    )


def test_plan_pool_finds_the_busiest_pool_its_replicas_and_sampling() -> None:
    metrics = _vllm_metrics({"a": 100, "b": 300})
    calls = _calls({"a": 2, "b": 3})
    plan = capacity.plan_pool(calls, metrics)
    assert plan.pool == "b"  # 300 requests a minute by the counter
    # label.pool and label.model_name both match a calls column; "pool" names a pool best
    assert (plan.pool_label, plan.pool_column) == ("label.pool", "attributes.deployment.pool")
    assert plan.replicas == 2
    # 3 traced calls a minute of 300 counted: 1 %; over the 29 minutes both cover
    assert plan.trace_sampling_ratio == pytest.approx(3 / 300, rel=0.05)
    # 8 running over 2 replicas x 1200 tokens each / 50 % usage = 9600 tokens a replica
    assert plan.kv_capacity_tokens == 9600
    assert plan.max_num_seqs == capacity.VLLM_DEFAULTS["max_num_seqs"]
    assert plan.timeout_s is None
    assert plan.max_waiting is None
    sources = dict(plan.sources)
    assert sources["pool"].startswith("the busiest of 2")
    assert sources["max_num_seqs"].startswith("vLLM's default (GPU memory unknown")
    assert plan.to_frame().height == 11
    assert plan.check("calls").ok
    assert plan.check("metrics").ok


def test_plan_pool_parameters_override_and_are_checked() -> None:
    metrics = _vllm_metrics({"a": 100, "b": 300})
    calls = _calls({"a": 2, "b": 3})
    plan = capacity.plan_pool(calls, metrics, pool="a", replicas=5, max_num_seqs=48)
    assert (plan.pool, plan.replicas, plan.max_num_seqs) == ("a", 5, 48)
    assert dict(plan.sources)["replicas"] == "parameter"
    with pytest.raises(ParameterError, match=r"'pool' parameter of capacity\.plan_pool"):
        capacity.plan_pool(calls, metrics, pool="c")
    with pytest.raises(toolkit.errors.ColumnNotFoundError, match=r"label\.pol"):
        capacity.plan_pool(calls, metrics, pool_label="label.pol")


def test_plan_pool_reads_vllm_cache_config_and_timeouts() -> None:
    metrics = pl.concat(
        [
            _vllm_metrics({"a": 100}),
            pl.DataFrame(
                {
                    "time": [T0],
                    "name": ["vllm:cache_config_info"],
                    "value": [1.0],
                    "label.pool": ["a"],
                    "label.num_gpu_blocks": ["25028"],
                    "label.block_size": ["16"],
                }
            ).with_columns(pl.col("time").cast(TIME)),
        ],
        how="diagonal_relaxed",
    )
    calls = _calls({"a": 2}).with_columns(
        pl.when(pl.col("start_time").dt.minute() < 3)
        .then(pl.lit("TimeoutError"))
        .otherwise(pl.col("error_type"))
        .alias("error_type"),
        pl.when(pl.col("start_time").dt.minute() < 3)
        .then(30.02)
        .otherwise(pl.col("latency_s"))
        .alias("latency_s"),
    )
    plan = capacity.plan_pool(calls, metrics)
    assert plan.kv_capacity_tokens == 25028 * 16
    assert dict(plan.sources)["kv_capacity_tokens"] == "vllm:cache_config_info"
    assert plan.timeout_s == 30.0


def test_plan_pool_without_metrics_or_calls() -> None:
    plan = capacity.plan_pool(None, _vllm_metrics({"x": 10}))
    assert (plan.pool, plan.pool_label, plan.calls) == ("x", "label.pool", 0)
    assert plan.trace_sampling_ratio == 1.0
    assert not plan.check("calls").ok
    gpu = pl.DataFrame(
        {
            "time": [T0] * 3,
            "host": ["h"] * 3,
            "gpu_index": [0, 1, 2],
            "gpu_model": ["NVIDIA L4"] * 3,
        }
    )
    plan = capacity.plan_pool(None, None, gpu)
    assert (plan.pool, plan.replicas, plan.gpu_type) == (None, 3, "NVIDIA L4")
    assert not plan.check("metrics").ok


def test_pool_demand_prefers_the_counter_then_scaled_calls() -> None:
    metrics = _vllm_metrics({"a": 100})
    calls = _calls({"a": 2})
    plan = capacity.plan_pool(calls, metrics)
    demand, support = capacity.pool_demand(plan, metrics=metrics, calls=calls)
    assert support.ok
    assert demand is not None
    assert demand.height == 100 * 29  # the counter's increase
    plan = capacity.plan_pool(calls, trace_sampling_ratio=0.5)
    demand, support = capacity.pool_demand(plan, calls=calls)
    assert demand is not None
    assert demand.height == 2 * calls.height
    demand, support = capacity.pool_demand(capacity.plan_pool(None, metrics))
    assert demand is None
    assert not support.ok
    assert "arrival trace" in support.how


def test_busiest_window_known_answer() -> None:
    hourly = [2, 2, 2, 10, 12, 11, 3, 15, 2]  # one busy hour alone does not make a window
    seconds = [h * 3600 + k for h, n in enumerate(hourly) for k in range(n)]
    demand = workload(seconds, [100] * len(seconds), [10] * len(seconds))
    w = capacity.busiest_window(demand, hours=3)
    assert (w.start, w.end) == (T0 + dt.timedelta(hours=3), T0 + dt.timedelta(hours=6))
    assert w.rate_rps == pytest.approx(33 / 3 / 3600)
    assert w.hours == 3
    assert w.select(demand).height == 33
    whole = capacity.busiest_window(demand, hours=24)  # longer than the data: all of it
    assert (whole.start, whole.end) == (T0, T0 + dt.timedelta(hours=9))
    with pytest.raises(ParameterError, match="'hours' parameter"):
        capacity.busiest_window(demand, hours=0)


def test_weekday_peak_hours_leave_out_weekends() -> None:
    monday = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    times = [monday + dt.timedelta(days=d, hours=h) for d in (0, 5) for h in range(24)]
    share = [
        (0.5 if 14 <= t.hour < 16 else 0.0) if t.weekday() < 5 else (0.9 if t.hour == 3 else 0.0)
        for t in times
    ]
    load = pl.DataFrame({"pool": "p", "time": times, "waiting_share": share, "requests_per_s": 1.0})
    assert capacity.weekday_peak_hours(load, pool="p")["hour_utc"].to_list() == [14, 15]


def test_replay_periods_more_replicas_queue_less() -> None:
    seconds = [i * 0.05 for i in range(400)]  # 20 requests a second for 20 s
    demand = workload(seconds, [2000] * 400, [50] * 400)
    periods = pl.DataFrame({"start": [T0], "end": [T0 + dt.timedelta(seconds=20)]})
    out = capacity.replay_periods(
        demand, model(), periods, replicas=[1, 8], ttft_slo_s=1.0, tpot_slo_s=0.1
    )
    assert out["replicas"].to_list() == [1, 8]
    assert out["requests"].to_list() == [400, 400]
    one, eight = out["queued_share"].to_list()
    assert one > 0.5
    assert eight < one


def test_compare_gpu_sources_matches_by_uuid() -> None:
    dcgm = pl.DataFrame(
        {
            "gpu_uuid": ["G0", "G1", "G2"],
            "gpu_model": "L4",
            "util_pct": [50.0, 20.0, 0.0],
            "mem_used_bytes": [1e9, 2e9, 0.0],
        }
    )
    smi = pl.DataFrame(
        {
            "gpu_uuid": ["G1", "G0"],
            "gpu_model": "L4",
            "util_pct": [22.0, 50.0],
            "mem_used_bytes": [2e9, 1.5e9],
        }
    )
    out = capacity.compare_gpu_sources({"dcgm": dcgm, "nvidia-smi": smi})
    assert out["gpu_uuid"].to_list() == ["G0", "G1"]
    assert out["util_mean_diff_pct"].to_list() == [0.0, 2.0]
    assert out["mem_used_mean_diff_bytes"].to_list() == [0.5e9, 0.0]
    assert capacity.compare_gpu_sources({"dcgm": dcgm}).height == 0


def test_covers_paths_support_and_priced(tmp_path: Path) -> None:
    hours = pl.DataFrame({"time": [T0 + dt.timedelta(hours=h) for h in range(48)]})
    assert capacity.covers(hours, "2d", every="1h").ok
    assert not capacity.covers(hours, "2d").ok  # 47 h between the first and last start
    assert not capacity.covers(hours.head(0), "1h").ok
    present = tmp_path / "trace.csv"
    present.write_text("x\n")
    support = capacity.paths_support(
        "p", {"a": str(present), "b": str(tmp_path / "nope")}, needs="n", how="h"
    )
    assert support.missing == ("b",)
    assert support.how == "h"
    assert capacity.paths_support("p", {"a": [str(present)]}, needs="n", how="h").ok
    assert capacity.priced({"x": 2.0}, "x", "y") == {"x": 2.0, "y": 1.0}
    assert capacity.priced(None, "NVIDIA L4")["NVIDIA L4"] == 0.7


def test_utilisation_by_model_and_standard_scenarios() -> None:
    per_gpu = pl.DataFrame(
        {
            "gpu_model": ["A", "A", "B"],
            "util_mean_pct": [10.0, 20.0, 90.0],
            "idle_share": [0.6, 0.2, 0.0],
            "status": ["stranded", "ok", "saturated"],
        }
    )
    out = capacity.utilisation_by_model(per_gpu)
    assert out.rows() == [("A", 2, 15.0, 0.4, 1), ("B", 1, 90.0, 0.0, 0)]
    scenarios = capacity.standard_scenarios(model(), other_gpu_type="G", other_kv_capacity_tokens=5)
    assert list(scenarios) == ["traffic x1.5", "prompts x1.5", "prefix cache 50 %", "on G"]
    other = scenarios["on G"].model
    assert other is not None
    assert (other.gpu_type, other.kv_capacity_tokens) == ("G", 5)
    assert "on G" not in capacity.standard_scenarios(model())


def test_queue_times_and_fit_plan_model_support() -> None:
    spans = pl.DataFrame({"trace_id": ["a"], "name": ["x"]})
    assert capacity.queue_times(spans) is None
    plan = capacity.plan_pool(_calls({"a": 2}))
    fitted, support = capacity.fit_plan_model(plan, _calls({"a": 2}), None)
    assert fitted is None
    assert not support.ok
    assert "vLLM" in support.how


def test_pool_demand_from_vllm_counters_alone() -> None:
    metrics = _vllm_metrics({"a": 10}, minutes=5)
    tokens = metrics.filter(pl.col("name") == "vllm:e2e_request_latency_seconds_count")
    metrics = pl.concat(
        [
            metrics,
            tokens.with_columns(
                pl.lit("vllm:prompt_tokens_total").alias("name"), pl.col("value") * 500
            ),
            tokens.with_columns(
                pl.lit("vllm:generation_tokens_total").alias("name"), pl.col("value") * 40
            ),
        ]
    )
    plan = capacity.plan_pool(None, metrics)
    demand, support = capacity.pool_demand(plan, metrics=metrics)
    assert support.ok
    assert "token counters" in support.found
    assert demand is not None
    assert demand.height == 40  # 10 a minute over the 4 intervals
    assert set(demand["input_tokens"]) == {500}
    assert set(demand["output_tokens"]) == {40}
    assert demand["arrival_time"].is_sorted()


def test_gpu_sources_split_a_catalog_by_exporter(tmp_path: Path) -> None:
    scrapes = [T0 + dt.timedelta(minutes=m) for m in range(3)]
    ms = [int(t.timestamp() * 1000) for t in scrapes]
    dcgm = ["# TYPE DCGM_FI_DEV_GPU_UTIL gauge"]
    for gpu in (0, 1):
        labels = f'gpu="{gpu}",UUID="GPU-{gpu}",modelName="NVIDIA L4",Hostname="n1"'
        dcgm += [f"DCGM_FI_DEV_GPU_UTIL{{{labels}}} {40 + gpu} {m}" for m in ms]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "scrape.txt").write_text("\n".join(dcgm) + "\n")
    header = (
        "timestamp, index, uuid, name, utilization.gpu [%], memory.used [MiB], "
        "memory.total [MiB], power.draw [W], temperature.gpu, clocks.current.sm [MHz]"
    )
    rows = [
        f"{t:%Y/%m/%d %H:%M:%S}.000, 0, GPU-0, NVIDIA L4, 42 %, 1000 MiB, 23034 MiB, "
        "40.50 W, 50, 1800 MHz"
        for t in scrapes
    ]
    (tmp_path / "gpu.log").write_text("\n".join([header, *rows]) + "\n")
    catalog = toolkit.discover(tmp_path, tz="UTC")
    sources = capacity.gpu_sources(catalog, tz="UTC")
    assert list(sources) == ["dcgm", "nvidia-smi"]  # the one reading more GPUs first
    assert sources["dcgm"]["gpu_uuid"].n_unique() == 2
    assert sources["nvidia-smi"].height == 3
    agreement = capacity.compare_gpu_sources(sources)
    assert agreement["gpu_uuid"].to_list() == ["GPU-0"]
    assert agreement["util_mean_diff_pct"].to_list() == [2.0]
    only = capacity.gpu_sources(toolkit.discover(tmp_path / "a"))
    assert list(only) == ["dcgm"]


def test_plan_pool_uses_vllms_defaults_for_the_gpu() -> None:
    calls = _calls({"a": 2})
    gpu = pl.DataFrame(
        {
            "time": [T0] * 2,
            "host": ["n1"] * 2,
            "gpu_index": [0, 1],
            "gpu_model": ["NVIDIA H100 80GB HBM3"] * 2,
            "mem_total_bytes": [81559 * 2**20] * 2,
            "label.pod": ["a-0", "a-1"],  # the replicas' names
        }
    )
    plan = capacity.plan_pool(calls, None, gpu)
    assert plan.gpu_type == "NVIDIA H100 80GB HBM3"
    assert (plan.max_num_seqs, plan.max_batched_tokens) == (1024, 8192)
    a100 = gpu.with_columns(pl.lit("NVIDIA A100-SXM4-80GB").alias("gpu_model"))
    plan = capacity.plan_pool(calls, None, a100)
    assert (plan.max_num_seqs, plan.max_batched_tokens) == (256, 2048)
    small = gpu.with_columns(pl.lit(24 * 2**30).alias("mem_total_bytes"))
    plan = capacity.plan_pool(calls, None, small, max_batched_tokens=4096)
    assert (plan.max_num_seqs, plan.max_batched_tokens) == (256, 4096)
    assert dict(plan.sources)["max_num_seqs"] == "vLLM's default for a 24 GiB GPU"
