"""toolkit.slo: SLIs against numpy, burn rates and alerts on series worked out by hand,
OpenSLO parsing, metric counts (synthetic, real vLLM, the sample week) and goodput."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from toolkit import slo
from toolkit.errors import FormatError, ParameterError, SchemaError
from toolkit.ingest.prometheus import parse_exposition
from toolkit.schema import to_polars

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def minutes(n: int) -> dt.datetime:
    return T0 + n * MIN


def counts(bad: dict[int, float], n: int = 600, per_minute: float = 100.0) -> pl.DataFrame:
    """Per-minute counts from T0: ``per_minute`` events, ``bad[k]`` of them bad in minute k."""
    return pl.DataFrame(
        {
            "start_time": [minutes(k) for k in range(n)],
            "good": [per_minute - bad.get(k, 0.0) for k in range(n)],
            "total": per_minute,
        }
    ).with_columns(pl.col("start_time").dt.cast_time_unit("ns"))


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return frame.select(columns).rows()


# ----------------------------------------------------------------------------- SLIs


@pytest.fixture(scope="module")
def random_calls() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    n = 5000
    ttft = rng.lognormal(-1.0, 1.0, n)
    ttft[rng.random(n) < 0.05] = np.nan
    return pl.DataFrame(
        {
            "start_time": [T0 + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, 86_400, n)],
            "pool": rng.choice(["a", "b", "c"], n),
            "ttft_s": ttft,
            "is_error": rng.random(n) < 0.02,
        }
    ).with_columns(pl.col("ttft_s").fill_nan(None))


def test_percentiles_equal_numpy_overall_by_group_and_per_window(
    random_calls: pl.DataFrame, backend: str
) -> None:
    frame: Any = random_calls if backend == "polars" else random_calls.to_pandas()
    q = [0.5, 0.9, 0.99]
    overall = slo.percentiles(frame, "ttft_s", q)
    values = random_calls["ttft_s"].drop_nulls().to_numpy()
    assert overall["name"].to_list() == ["p50", "p90", "p99"]
    assert overall["value"].to_list() == pytest.approx(np.quantile(values, q).tolist(), rel=1e-12)
    assert set(overall["count"].to_list()) == {values.size}
    by_pool = slo.percentiles(frame, "ttft_s", q, by="pool", backend=backend)
    by_pool = to_polars(by_pool)
    for pool in ("a", "b", "c"):
        v = random_calls.filter(pl.col("pool") == pool)["ttft_s"].drop_nulls().to_numpy()
        got = by_pool.filter(pl.col("pool") == pool).sort("quantile")["value"].to_list()
        assert got == pytest.approx(np.quantile(v, q).tolist(), rel=1e-12)
    hourly = slo.percentiles(random_calls, "ttft_s", [0.95], every="1h")
    assert hourly.height == 24
    for row in hourly.iter_rows(named=True):
        inside = random_calls.filter(
            (pl.col("start_time") >= row["window_start"])
            & (pl.col("start_time") < row["window_end"])
        )["ttft_s"].drop_nulls()
        assert row["count"] == inside.len()
        assert row["value"] == pytest.approx(float(np.quantile(inside.to_numpy(), 0.95)))
    rolling = slo.percentiles(random_calls, "ttft_s", [0.5], every="1h", window="6h")
    last = rolling.sort("window_end").row(-1, named=True)
    assert last["window_end"] - last["window_start"] == dt.timedelta(hours=6)
    inside = random_calls.filter(pl.col("start_time") >= last["window_start"])["ttft_s"]
    assert last["value"] == pytest.approx(float(np.quantile(inside.drop_nulls().to_numpy(), 0.5)))


def test_good_events_and_good_fraction_equal_numpy(random_calls: pl.DataFrame) -> None:
    objective = slo.SLO("ttft", 0.99, sli="ttft_s", threshold=0.5)
    events = slo.good_events(random_calls, objective)
    ttft = random_calls["ttft_s"].to_numpy()
    error = random_calls["is_error"].to_numpy()
    eligible = ~np.isnan(ttft) & ~error
    good = (ttft <= 0.5) & eligible
    assert events["is_good"].null_count() == int((~eligible).sum())
    fraction = slo.good_fraction(events)
    assert fraction.rows() == [
        (float(good.sum()), float(eligible.sum()), good.sum() / eligible.sum())
    ]
    by = slo.good_fraction(events, by="pool")
    pools = random_calls["pool"].to_numpy()
    for pool, g, t, f in by.rows():
        mask = pools == pool
        assert (g, t) == (float((good & mask).sum()), float((eligible & mask).sum()))
        assert f == pytest.approx((good & mask).sum() / (eligible & mask).sum())
    avail = slo.good_events(random_calls, slo.SLO("avail", 0.99, sli="availability"))
    assert slo.good_fraction(avail)["fraction"].item() == pytest.approx(1 - error.mean())
    strict = slo.good_events(
        pl.DataFrame({"x": [1.0, 2.0, 3.0]}), slo.SLO("x", 0.9, sli="x", threshold=2.0, op="lt")
    )
    assert strict["is_good"].to_list() == [True, False, False]
    daily = slo.good_fraction(events, every="1d")
    assert rows(daily, "window_start", "good") == [(T0, float(good.sum()))]


# ----------------------------------------------------------------------------- burn rates


def test_burn_rate_window_edges_by_hand() -> None:
    # every event of minute 59 (00:59:00 <= t < 01:00:00) is bad; 100 events a minute
    frame = counts({59: 100.0}, n=180)
    burn = slo.burn_rates(frame, 0.999, windows=["1h", "5m"])
    one_hour = burn.filter(pl.col("window") == "1h")
    at = {r["time"]: r["burn_rate"] for r in one_hour.iter_rows(named=True)}
    # the window evaluated at t covers [t - 1h, t)
    assert at[minutes(59)] == 0.0  # bucket 59 not yet complete
    assert at[minutes(60)] == pytest.approx(100 / 6000 / 0.001)  # 0..59: 6000 events, 100 bad
    assert at[minutes(119)] == pytest.approx(100 / 6000 / 0.001)  # 59..118
    assert at[minutes(120)] == 0.0  # 60..119: the burst left the window
    five = {
        r["time"]: r["burn_rate"]
        for r in burn.filter(pl.col("window") == "5m").iter_rows(named=True)
    }
    assert five[minutes(64)] == pytest.approx(100 / 500 / 0.001)
    assert five[minutes(65)] == 0.0
    # clipped at the data's start: the first evaluation sees one bucket
    assert at[minutes(1)] == 0.0
    first = slo.burn_rates(counts({0: 50.0}, n=3), 0.9, windows=["1h"])
    assert first["burn_rate"].to_list() == pytest.approx([5.0, 2.5, 50 / 300 / 0.1])


def test_events_fall_in_half_open_minute_buckets() -> None:
    edge = T0 + 59 * MIN
    times = [edge - dt.timedelta(microseconds=1), edge, edge + dt.timedelta(seconds=59.999999)]
    frame = pl.DataFrame({"start_time": times, "is_good": [True, False, False]}).with_columns(
        pl.col("start_time").dt.cast_time_unit("ns")
    )
    burn = slo.burn_rates(frame, 0.5, windows=["1m"])
    assert rows(burn, "time", "bad", "total") == [(minutes(59), 0.0, 1.0), (minutes(60), 2.0, 2.0)]


# ----------------------------------------------------------------------------- alerts


def test_workbook_policy() -> None:
    got = [(r.severity, r.long_window, r.short_window, r.burn_rate) for r in slo.WORKBOOK.rules]
    assert got == [
        ("page", "1h", "5m", 14.4),
        ("page", "6h", "30m", 6.0),
        ("ticket", "3d", "6h", 1.0),
    ]
    assert slo.WORKBOOK.period == "30d"
    assert [r.burn_rate for r in slo.AlertPolicy.workbook("28d").rules] == [13.44, 5.6, 0.933333333]


def test_alerts_start_and_end_exactly_by_hand() -> None:
    # one fully bad minute (minute 60: 01:00-01:01) among 100 events a minute, 10 hours
    fired = slo.alerts(counts({60: 100.0}), 0.999)
    assert list(fired.columns[:6]) == [
        "severity",
        "start",
        "end",
        "long_window",
        "short_window",
        "threshold",
    ]
    got = rows(fired, "severity", "long_window", "start", "end", "resolved")
    assert got == [
        # 1h: 100/6000/0.001 = 16.7 > 14.4; the 5m window holds minute 60 from 01:01 to 01:05
        ("page", "1h", minutes(61), minutes(66), True),
        # 6h (clipped to the data: 6100 events at 01:01): 16.4 > 6; 30m holds it until 01:30
        ("page", "6h", minutes(61), minutes(91), True),
        # 3d: 1000/k > 1 all along; the 6h short window holds minute 60 until 06:59
        ("ticket", "3d", minutes(61), minutes(421), True),
    ]
    page = fired.row(0, named=True)
    assert page["burn_rate"] == pytest.approx(100 / 6000 / 0.001)
    assert page["short_burn_rate"] == pytest.approx(100 / 500 / 0.001)
    # budget of 30 days at 100 events/min: 0.001 * 100 * 43200 = 4320 bad events
    assert page["budget_consumed"] == pytest.approx(100 / 4320)


def test_alert_needs_both_windows_and_exceeds_strictly() -> None:
    # 1h burn exactly 14.4: 86.4 bad in 6000 -> does not fire (">" as the Workbook)
    assert slo.alerts(counts({60: 86.4}), 0.999).filter(pl.col("long_window") == "1h").height == 0
    assert slo.alerts(counts({60: 86.5}), 0.999).filter(pl.col("long_window") == "1h").height == 1
    # a slow burn: 2 % bad for hours trips the 1h window (20x) ... and the 5m window too
    slow = slo.alerts(counts(dict.fromkeys(range(600), 2.0)), 0.999)
    assert set(slow["long_window"]) == {"1h", "6h", "3d"}
    # a short spike in an otherwise clean hour: 5m burns, 1h does not -> no 1h page
    spike = counts({300: 50.0})
    policy = slo.AlertPolicy((slo.BurnRateRule("page", "1h", "5m", 14.4),))
    assert slo.alerts(spike, 0.999, policy=policy).height == 0


def test_alert_still_firing_at_the_end_and_merge_gap() -> None:
    ongoing = slo.alerts(counts(dict.fromkeys(range(550, 600), 100.0)), 0.999)
    page = ongoing.filter(pl.col("long_window") == "1h").row(0, named=True)
    assert page["start"] == minutes(551)
    assert page["end"] == minutes(600)  # the last evaluation
    assert page["resolved"] is False
    policy = slo.AlertPolicy((slo.BurnRateRule("page", "10m", "1m", 14.4),))
    # bad minutes 100-101 and 110-111; the 1m window fires at 101,102 and 111,112
    bursts = counts({100: 100.0, 101: 100.0, 110: 100.0, 111: 100.0})
    apart = slo.alerts(bursts, 0.999, policy=policy)
    assert rows(apart, "start", "end") == [
        (minutes(101), minutes(103)),
        (minutes(111), minutes(113)),
    ]
    merged = slo.alerts(bursts, 0.999, policy=policy, merge_gap="8m")
    assert rows(merged, "start", "end") == [(minutes(101), minutes(113))]
    assert rows(slo.alerts(bursts, 0.999, policy=policy, merge_gap="7m"), "start") == [
        (minutes(101),),
        (minutes(111),),
    ]


def test_events_and_counts_give_the_same_alerts_by_group(backend: str) -> None:
    rng = np.random.default_rng(3)
    n = 40_000
    offsets = np.sort(rng.integers(0, 600 * 60 * 10**9, n))
    pool = rng.choice(["a", "b"], n)
    bad = rng.random(n) < 0.001
    burst = (offsets >= 200 * 60 * 10**9) & (offsets < 230 * 60 * 10**9) & (pool == "b")
    bad |= burst & (rng.random(n) < 0.5)
    events = pl.DataFrame(
        {
            "when": pl.Series(int(T0.timestamp()) * 10**9 + offsets).cast(pl.Datetime("ns", "UTC")),
            "pool": pool,
            "ok": ~bad,
        }
    )
    frame: Any = events if backend == "polars" else events.to_pandas()
    per_event = to_polars(
        slo.alerts(frame, 0.999, good="ok", time="when", by="pool", backend=backend)
    )
    per_minute = (
        events.group_by_dynamic("when", every="1m", group_by="pool")
        .agg(pl.col("ok").sum().alias("good"), pl.len().alias("total"))
        .rename({"when": "start_time"})
    )
    aggregated = slo.alerts(per_minute, 0.999, by="pool")
    assert per_event.equals(aggregated)
    pages = per_event.filter(pl.col("severity") == "page")
    assert set(pages["pool"]) == {"b"}
    assert pages["start"].min() > minutes(200)
    assert pages["start"].min() <= minutes(215)


def test_timeslices_budgeting() -> None:
    # 10 events a minute; minute k has k % 10 bad events: slices at >= 95 % good are the
    # minutes with 0 bad (1 in 10)
    frame = counts({k: float(k % 10) for k in range(100)}, n=100, per_minute=10.0)
    objective = slo.SLO(
        "slices", 0.9, budgeting_method="Timeslices", time_slice_target=0.95, time_slice_window="1m"
    )
    budget = slo.error_budget(frame, objective, every="1m").row(-1, named=True)
    assert (budget["good"], budget["total"]) == (10.0, 100.0)
    assert budget["burn_rate"] == pytest.approx(0.9 / 0.1)


# ----------------------------------------------------------------------------- budgets


def test_error_budget_rolling_by_hand() -> None:
    frame = counts(dict.fromkeys(range(60), 1.0), n=24 * 60)  # 1 % bad in the first hour
    budget = slo.error_budget(frame, 0.99, period="6h", every="1h")
    assert budget.height == 24
    first = budget.row(0, named=True)
    assert first["sli"] == pytest.approx(0.99)
    assert first["burn_rate"] == pytest.approx(1.0)
    assert first["coverage"] == pytest.approx(1 / 6)
    assert first["budget_consumed"] == pytest.approx(1 / 6)
    sixth = budget.row(5, named=True)  # window 00:00-06:00, full coverage
    assert sixth["budget_consumed"] == pytest.approx(60 / (0.01 * 36_000))
    seventh = budget.row(6, named=True)  # 01:00-07:00: the bad hour left the window
    assert seventh["window_start"] == T0 + dt.timedelta(hours=1)
    assert seventh["budget_consumed"] == 0.0
    assert seventh["budget_remaining"] == 1.0


def test_error_budget_calendar_days_in_a_time_zone() -> None:
    # bad minute at 22:30 UTC on Nov 2 = 23:30 in Berlin (UTC+1): same Berlin day as 00:00 UTC
    frame = counts({22 * 60 + 30: 100.0}, n=26 * 60)
    utc_days = slo.error_budget(frame, 0.99, period="1d", calendar=True, every="1h")
    berlin = slo.error_budget(
        frame, 0.99, period="1d", calendar=True, every="1h", time_zone="Europe/Berlin"
    )
    by_time = {r["time"]: r for r in utc_days.iter_rows(named=True)}
    assert by_time[T0 + dt.timedelta(hours=24)]["total"] == 24 * 6000  # the UTC day
    assert by_time[T0 + dt.timedelta(hours=25)]["total"] == 6000  # new UTC day
    berlin_at = {r["time"]: r for r in berlin.iter_rows(named=True)}
    # Berlin's Nov 3 starts at 23:00 UTC Nov 2
    assert berlin_at[T0 + dt.timedelta(hours=23)]["total"] == 23 * 6000
    assert berlin_at[T0 + dt.timedelta(hours=24)]["total"] == 6000
    assert berlin_at[T0 + dt.timedelta(hours=23)]["window_start"] == T0  # data starts there
    day = berlin_at[T0 + dt.timedelta(hours=23)]
    assert day["coverage"] == pytest.approx(23 / 24)
    assert day["budget_consumed"] == pytest.approx(100 / (23 * 6000) / 0.01 * 23 / 24)


def test_budget_by_slice_adds_up_to_the_overall_burn() -> None:
    events = pl.DataFrame(
        {
            "start_time": [T0] * 10,
            "route": ["chat"] * 6 + ["rag"] * 4,
            "is_good": [True, True, True, True, False, True, False, False, True, True],
        }
    )
    table = slo.budget_by_slice(events, 0.9, "route")
    assert rows(table, "route", "bad", "total", "share_of_bad") == [
        ("rag", 2.0, 4.0, 2 / 3),
        ("chat", 1.0, 6.0, 1 / 3),
    ]
    assert table["burn_contribution"].sum() == pytest.approx(0.3 / 0.1)
    assert table["burn_rate"].to_list() == pytest.approx([5.0, 1 / 6 / 0.1])


# ----------------------------------------------------------------------------- metrics

EXPOSITION = """# TYPE ttft histogram
ttft_bucket{pool="a",le="0.5"} 10 1793577600000
ttft_bucket{pool="a",le="2.5"} 18 1793577600000
ttft_bucket{pool="a",le="+Inf"} 20 1793577600000
ttft_bucket{pool="a",le="0.5"} 40 1793577660000
ttft_bucket{pool="a",le="2.5"} 60 1793577660000
ttft_bucket{pool="a",le="+Inf"} 70 1793577660000
ttft_bucket{pool="a",le="0.5"} 5 1793577720000
ttft_bucket{pool="a",le="2.5"} 8 1793577720000
ttft_bucket{pool="a",le="+Inf"} 9 1793577720000
# TYPE done counter
done_total{reason="stop"} 100 1793577600000
done_total{reason="abort"} 1 1793577600000
done_total{reason="stop"} 150 1793577660000
done_total{reason="abort"} 4 1793577660000
"""


def test_metric_counts_from_histogram_buckets_and_counters() -> None:
    metrics = parse_exposition(EXPOSITION)
    hist = slo.metric_counts(metrics, "ttft", threshold=2.5, by="pool")
    # minute 0->1: le=2.5 60-18=42 of 70-20=50; minute 1->2 is a reset: 8 of 9
    assert rows(hist, "start_time", "label.pool", "good", "total") == [
        (minutes(0), "a", 42.0, 50.0),
        (minutes(1), "a", 8.0, 9.0),
    ]
    counter = slo.metric_counts(metrics, "done_total", bad={"reason": ["abort"]})
    assert rows(counter, "start_time", "good", "total") == [(minutes(0), 50.0, 53.0)]
    from_zero = slo.metric_counts(metrics, "done_total", bad={"reason": "abort"}, first="count")
    # the first samples count from zero, labelled by their own time (no start_time in the
    # Prometheus text): they join the interval that starts there
    assert rows(from_zero, "start_time", "good", "total") == [(minutes(0), 150.0, 154.0)]
    with pytest.raises(ParameterError, match=r"bucket bounds of histogram 'ttft': \[0.5, 2.5\]"):
        slo.metric_counts(metrics, "ttft", threshold=1.0)
    with pytest.raises(ParameterError, match=r"'bad' parameter .* counter 'done_total'"):
        slo.metric_counts(metrics, "done_total")
    with pytest.raises(ParameterError, match=r"available: 'done_total, ttft'"):
        slo.metric_counts(metrics, "nope")


def test_metric_counts_on_a_real_vllm_scrape(real_data: Path) -> None:
    path = real_data / "vllm_0_25_1" / "metrics_vllm_0_25_1_loaded.txt"
    text = path.read_text(encoding="utf-8")
    metrics = parse_exposition(text, time="2025-08-18T03:00:00Z", path=path)

    def sample(series: str, le: str) -> float:
        labels = f'{{engine="0",le="{le}",model_name="opt-125m-tp2"}}'
        pattern = rf"^{re.escape(series + labels)} (\S+)$"
        match = re.search(pattern, text, flags=re.M)
        assert match is not None
        return float(match.group(1))

    got = slo.metric_counts(
        metrics, "vllm:time_to_first_token_seconds", threshold=0.25, first="count"
    )
    good = sample("vllm:time_to_first_token_seconds_bucket", "0.25")
    total = sample("vllm:time_to_first_token_seconds_bucket", "+Inf")
    assert rows(got, "good", "total") == [(good, total)] == [(593.0, 664.0)]
    success = slo.metric_counts(
        metrics,
        "vllm:request_success_total",
        bad={"finished_reason": ["abort", "error"]},
        first="count",
    )
    assert rows(success, "good", "total") == [(600.0, 600.0)]


# ----------------------------------------------------------------------------- goodput


def test_goodput_by_hand() -> None:
    calls = pl.DataFrame(
        {
            "start_time": [T0 + dt.timedelta(seconds=s) for s in (0, 20, 40, 60, 80, 100, 120)],
            "pool": ["a", "a", "a", "b", "b", "b", "a"],
            "ttft_s": [0.5, 3.0, 0.4, 0.2, None, 0.1, 0.3],
            "tpot_s": [0.02, 0.02, 0.09, 0.03, 0.01, 0.04, 0.02],
            "is_error": [False, False, False, False, True, False, True],
        }
    )
    out = slo.goodput(calls, {"ttft_s": 1.0, "tpot_s": 0.05}, by="pool", sampling=0.5)
    # a: calls 0, 20, 40, 120 -> only call 0 is good; b: 60, 100 good, 80 failed
    assert rows(out, "pool", "calls", "good_calls") == [("a", 4, 1), ("b", 3, 2)]
    assert out["goodput_rps"].to_list() == pytest.approx([1 / 0.5 / 120, 2 / 0.5 / 120])
    assert out["throughput_rps"].to_list() == pytest.approx([4 / 0.5 / 120, 3 / 0.5 / 120])
    per_minute = slo.goodput(calls, {"ttft_s": 1.0, "tpot_s": 0.05}, every="1m")
    assert rows(per_minute, "window_start", "calls", "good_calls") == [
        (minutes(0), 3, 1),
        (minutes(1), 3, 2),
        (minutes(2), 1, 0),
    ]


# ----------------------------------------------------------------------------- OpenSLO


def test_the_shipped_openslo_file() -> None:
    from importlib.resources import files

    loaded = slo.load_slos(str(files("toolkit") / "data" / "slo" / "llm_service.yaml"))
    summary = [(s.name, s.sli, s.threshold, s.target, s.metric) for s in loaded]
    assert summary == [
        ("availability", "availability", None, 0.995, "vllm:request_success_total"),
        ("ttft", "ttft_s", 10.0, 0.99, "vllm:time_to_first_token_seconds"),
        ("tpot", "tpot_s", 0.05, 0.99, "vllm:inter_token_latency_seconds"),
        ("latency", "latency_s", 40.0, 0.99, "vllm:e2e_request_latency_seconds"),
    ]
    assert all(s.time_window == "30d" and s.rolling for s in loaded)
    table = slo.objectives(loaded)
    assert table["objective"][1] == "99% of events with ttft_s <= 10 over a rolling 30d"


CALENDAR = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: ttft}
spec:
  budgetingMethod: Timeslices
  timeWindow:
    - duration: 1M
      calendar: {startTime: "2026-01-01 00:00:00", timeZone: Europe/Berlin}
  indicator:
    metadata: {name: ttft}
    spec:
      thresholdMetric:
        metricSource: {type: Prometheus, spec: {query: "histogram_quantile(0.9, x)"}}
  objectives:
    - displayName: fast
      op: lte
      value: 2
      targetPercent: 99.5
      timeSliceTarget: 0.9
      timeSliceWindow: 5m
    - {displayName: slow, op: lte, value: 8, target: 0.999, timeSliceTarget: 0.9}
"""


def test_parse_openslo_calendar_timeslices_and_several_objectives() -> None:
    fast, slow = slo.parse_slos(CALENDAR)
    assert fast == slo.SLO(
        "ttft/fast",
        0.995,
        threshold=2.0,
        time_window="1mo",
        rolling=False,
        budgeting_method="Timeslices",
        time_slice_target=0.9,
        time_slice_window="5m",
        time_zone="Europe/Berlin",
    )
    assert fast.sli is None  # a Prometheus source: the toolkit measures nothing itself
    assert (slow.name, slow.target, slow.threshold, slow.time_slice_window) == (
        "ttft/slow",
        0.999,
        8.0,
        "1m",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("openslo/v1", "openslo/v2"),
            "slos.yaml, record 1, column 'apiVersion': expected 'openslo/v1'; got 'openslo/v2'",
        ),
        (
            ("targetPercent: 99.5", "targetPercent: 150"),
            "column 'spec.objectives[0]': The 'target' parameter of SLO must be a number "
            "strictly between 0 and 1",
        ),
        (
            ("duration: 1M", "duration: 30 days"),
            "column 'spec.timeWindow[0].duration': expected an OpenSLO duration",
        ),
        (
            ("budgetingMethod: Timeslices", "budgetingMethod: RatioTimeslices"),
            "RatioTimeslices is not supported",
        ),
        (
            ("      value: 2\n", ""),
            "column 'spec.objectives[0].value': this field is required and missing",
        ),
        (
            ("thresholdMetric", "rateMetric"),
            "expected exactly one of 'thresholdMetric' and 'ratioMetric'",
        ),
        (("kind: SLO", "kind: Service"), "expected at least one 'kind: SLO' document"),
        (
            ("metadata: {name: ttft}\nspec:", "metadata: {name: ttft}\nspec: [1, 2"),
            "slos.yaml, line",
        ),
    ],
)
def test_openslo_errors_name_the_file_document_and_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "slos.yaml"
    path.write_text(CALENDAR.replace(*change, 1), encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        slo.load_slos(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_indicator_ref() -> None:
    text = """
apiVersion: openslo/v1
kind: SLI
metadata: {name: ok}
spec:
  ratioMetric:
    counter: true
    good: {metricSource: {type: toolkit, spec: {sli: availability}}}
    total: {metricSource: {type: toolkit, spec: {}}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: avail}
spec:
  budgetingMethod: Occurrences
  timeWindow: [{duration: 4w, isRolling: true}]
  indicatorRef: ok
  objectives: [{target: 0.999}]
"""
    [one] = slo.parse_slos(text)
    assert (one.sli, one.time_window, one.target) == ("availability", "4w", 0.999)
    with pytest.raises(
        FormatError,
        match=r"record 2, column 'spec.indicatorRef': no kind: SLI document named 'nope' "
        r"\(found: 'ok'\)",
    ):
        slo.parse_slos(text.replace("indicatorRef: ok", "indicatorRef: nope"))


# ----------------------------------------------------------------------------- parameters


def test_parameter_errors_are_clear() -> None:
    naive = pl.DataFrame({"start_time": [dt.datetime(2026, 11, 2)], "is_good": [True]})
    with pytest.raises(SchemaError, match=r"time-zone-aware Datetime .* never guessed"):
        slo.alerts(naive, 0.99)
    aware = naive.with_columns(pl.col("start_time").dt.replace_time_zone("UTC"))
    with pytest.raises(
        ParameterError,
        match=r"The 'target' parameter of slo.alerts must be a number strictly between 0 "
        r"and 1 \(0.999 for 99.9 %\). Got 99.9 instead.",
    ):
        slo.alerts(aware, 99.9)
    with pytest.raises(
        ParameterError, match=r"The 'good' parameter of slo.alerts must name a Boolean column"
    ):
        slo.alerts(aware, 0.99, good="ok")
    with pytest.raises(
        ParameterError, match=r"must be a multiple of the resolution \(1m\). Got 90s instead"
    ):
        slo.burn_rates(aware, 0.99, windows=["90s"])
    with pytest.raises(ParameterError, match=r"0 <= good <= total"):
        slo.alerts(
            pl.DataFrame({"start_time": aware["start_time"], "good": [3.0], "total": [2.0]}), 0.99
        )
    with pytest.raises(
        ParameterError, match=r"'threshold' parameter of SLO must be a number when sli is a column"
    ):
        slo.SLO("x", 0.99, sli="ttft_s")
    with pytest.raises(
        ParameterError, match=r"'short_window' parameter of BurnRateRule must not be longer"
    ):
        slo.BurnRateRule("page", "5m", "1h", 14.4)
    with pytest.raises(
        ParameterError, match=r"'policy' parameter of slo.alerts must be an AlertPolicy"
    ):
        slo.alerts(aware, 0.99, policy="workbook")  # type: ignore[arg-type]
    assert slo.alerts(aware, 0.99).height == 0


# ----------------------------------------------------------------------------- the sample week


@pytest.fixture(scope="module")
def sample_metrics() -> pl.DataFrame:
    import toolkit

    return toolkit.load_metrics(SAMPLE / "vllm_metrics.prom.gz")


def _window(incident: str) -> tuple[dt.datetime, dt.datetime]:
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    [found] = [i for i in truth["incidents"] if i["id"] == incident]
    return (
        dt.datetime.fromisoformat(found["window"]["start"]),
        dt.datetime.fromisoformat(found["window"]["end"]),
    )


def test_the_sample_week_pages_for_the_release_and_the_kv_burst(
    sample_metrics: pl.DataFrame,
) -> None:
    ttft = slo.metric_counts(
        sample_metrics, "vllm:time_to_first_token_seconds", threshold=10.0, by="pool"
    )
    # every request the engines finished is counted once
    assert ttft["total"].sum() == 401_632 + 332_246
    fired = slo.alerts(ttft, 0.99, by="label.pool", merge_gap="30m")
    pages = fired.filter(pl.col("severity") == "page")
    release = _window("release-prefill-regression")
    burst = _window("kv-cache-exhaustion-burst")
    h100 = pages.filter(pl.col("label.pool") == "h100-pool")
    assert h100.height > 0
    # every h100 page starts inside the release window, the first within an hour of its start
    assert h100["start"].min() >= release[0]
    assert h100["start"].min() <= release[0] + dt.timedelta(hours=1)
    assert h100["start"].max() <= release[1]
    l4 = pages.filter(pl.col("label.pool") == "l4-pool")
    assert l4.height > 0
    assert burst[0] <= l4["start"].min() <= burst[0] + dt.timedelta(minutes=15)
    assert l4["end"].max() <= burst[1] + dt.timedelta(minutes=45)


# --------------------------------------------------------------------------------------
# incident_windows, windows_frame, label_windows
# --------------------------------------------------------------------------------------

_T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def _minutes(good: list[float], total: float = 100.0, **extra: Any) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "start_time": [_T0 + dt.timedelta(minutes=m) for m in range(len(good))],
            "good": good,
            "total": total,
            **extra,
        }
    )


def test_incident_windows_merge_the_pages_of_every_rule() -> None:
    # half the requests fail from 01:00 to 01:30 (target 0.999: burn rate 500 in the burst).
    # The 1h/5m page fires 01:02-01:35, the 6h/30m page 01:01-02:00: one window 01:01-02:00
    counts = _minutes([50.0 if 60 <= m < 90 else 100.0 for m in range(180)])
    w = slo.incident_windows(counts, slo.SLO("ttft", 0.999))
    assert w.columns == ["incident", "start", "end", "source", "burn_rate"]
    assert w.schema["start"] == pl.Datetime("ns", "UTC")
    assert w.height == 1
    row = w.row(0, named=True)
    assert row["incident"] == "ttft"
    assert row["source"] == "page"
    assert row["start"] == _T0 + dt.timedelta(hours=1, minutes=1)
    assert row["end"] == _T0 + dt.timedelta(hours=2)
    # peak 1h burn rate: 30 min of 50 % bad out of 60 min = 25 % bad / 0.001 = 250
    assert row["burn_rate"] == pytest.approx(250.0)


def test_incident_windows_per_group_with_readable_names() -> None:
    burst = [50.0 if 60 <= m < 90 else 100.0 for m in range(180)]
    quiet = [100.0] * 180
    counts = pl.concat([_minutes(burst, pool="h100-pool"), _minutes(quiet, pool="l4-pool")])
    w = slo.incident_windows(counts, slo.SLO("ttft", 0.999), by="pool")
    assert w.columns == ["incident", "start", "end", "source", "burn_rate", "pool"]
    assert w.select("incident", "pool", "source").rows() == [
        ("ttft on h100-pool", "h100-pool", "page")
    ]


def test_incident_windows_merge_gap_and_repeated_names() -> None:
    # two 10-minute bursts of 100 % failures 40 min apart (target 0.99). The 6h window is
    # clipped at the data's start: 4 bad minutes in 64 = 6.25 % > 6 %, and 4 in the last
    # 30 min > 6 %, so the 6h/30m page fires at 01:04 (01:03: 3/63 = 4.8 %).
    good = [100.0] * 240
    for m in [*range(60, 70), *range(110, 120)]:
        good[m] = 0.0
    counts = _minutes(good)
    one = slo.incident_windows(counts, 0.99, merge_gap="1h")
    assert one.height == 1
    assert one["incident"].to_list() == ["slo"]
    assert one["start"][0] == _T0 + dt.timedelta(hours=1, minutes=4)
    two = slo.incident_windows(
        counts,
        0.99,
        merge_gap=None,
        policy=slo.AlertPolicy((slo.BurnRateRule("page", "10m", "5m", 14.4),)),
    )
    # 10m/5m page at 14.4x: at 01:01 the 10m window holds 1 bad minute (10x), at 01:02 two
    # (20x, and 2/5 = 40x over 5m): fires from 01:02; the last evaluation with a bad minute
    # in the 5m window is 01:14, so the alert ends at 01:15 (exclusive); same 50 min later
    assert two["incident"].to_list() == ["slo (Mon 02 01:02)", "slo (Mon 02 01:52)"]
    assert two["start"].to_list() == [
        _T0 + dt.timedelta(hours=1, minutes=2),
        _T0 + dt.timedelta(hours=1, minutes=52),
    ]
    assert two["end"].to_list() == [
        _T0 + dt.timedelta(hours=1, minutes=15),
        _T0 + dt.timedelta(hours=2, minutes=5),
    ]


def test_incident_windows_tickets_when_no_page() -> None:
    # 2 % bad from 01:00 for three hours at target 0.99: below both pages (14.4x, 6x). The
    # 3d and 6h windows are clipped at the data's start: at t minutes the bad ratio is
    # 2 (t - 60) / (100 t), above 1 % from t = 121 (02:01); it peaks at 04:00 with
    # 360 / 24000 = 1.5 % (burn rate 1.5)
    counts = _minutes([100.0] * 60 + [98.0] * 180 + [100.0] * 60)
    w = slo.incident_windows(counts, 0.99)
    assert w["source"].to_list() == ["ticket"]
    assert w["start"][0] == _T0 + dt.timedelta(hours=2, minutes=1)
    assert w["burn_rate"][0] == pytest.approx(1.5)


def test_incident_windows_worst_period_when_nothing_fires() -> None:
    # 1 bad in 100 from 02:00 to 03:00, 0.5 % from 05:00 to 06:00, target 0.9: nothing fires;
    # the worst hour is 02:00-03:00 with burn rate 0.01 / 0.1 = 0.1
    good = [100.0] * 480
    for m in range(120, 180):
        good[m] = 99.0
    for m in range(300, 360):
        good[m] = 99.5
    w = slo.incident_windows(_minutes(good), 0.9, worst="1h", name="latency")
    assert w.rows() == [
        (
            "latency",
            _T0 + dt.timedelta(hours=2),
            _T0 + dt.timedelta(hours=3),
            "worst period",
            pytest.approx(0.1),
        )
    ]


def test_incident_windows_worst_period_needs_enough_events() -> None:
    # one event per minute, the one at 03:00 bad; every 10-minute window holds 10 events
    # (>= min_events=5). The ten windows holding the failure tie at 1/10 bad: the earliest,
    # 02:51-03:01, is chosen; burn rate 0.1 / 0.5
    times = [_T0 + dt.timedelta(minutes=m) for m in range(300)]
    events = pl.DataFrame({"start_time": times, "is_good": [m != 180 for m in range(300)]})
    w = slo.incident_windows(events, 0.5, worst="10m", min_events=5)
    assert w["source"].to_list() == ["worst period"]
    assert w["start"][0] == _T0 + dt.timedelta(minutes=171)
    assert w["end"][0] == _T0 + dt.timedelta(minutes=181)
    assert w["burn_rate"][0] == pytest.approx(0.1 / 0.5)


def test_incident_windows_worst_period_shorter_data_is_the_whole_period() -> None:
    counts = _minutes([90.0] * 30)
    w = slo.incident_windows(counts, 0.5, worst="6h")
    assert w["start"][0] == _T0
    assert w["end"][0] == _T0 + dt.timedelta(minutes=30)


def test_incident_windows_on_no_events_and_bad_parameters() -> None:
    empty = pl.DataFrame(
        {
            "start_time": pl.Series([], dtype=pl.Datetime("ns", "UTC")),
            "is_good": pl.Series([], dtype=pl.Boolean),
        }
    )
    w = slo.incident_windows(empty, 0.99)
    assert w.height == 0
    assert w.columns == ["incident", "start", "end", "source", "burn_rate"]
    with pytest.raises(ParameterError, match="'worst' parameter"):
        slo.incident_windows(_minutes([100.0] * 10), 0.99, worst="soon")
    with pytest.raises(ParameterError, match="'name' parameter"):
        slo.incident_windows(_minutes([100.0] * 10), 0.99, name="")
    with pytest.raises(ParameterError, match="'by' parameter"):
        slo.incident_windows(_minutes([100.0] * 10), 0.99, by="pool")


def test_label_windows_first_window_wins_and_baseline() -> None:
    rows = pl.DataFrame(
        {
            "start_time": [_T0 + dt.timedelta(hours=h) for h in range(6)],
            "pool": ["a", "b", "a", "b", "a", "b"],
        }
    )
    windows = {
        "wide": (_T0 + dt.timedelta(hours=1), _T0 + dt.timedelta(hours=4)),
        "inner": ("2026-11-02T02:00:00Z", "2026-11-02T06:00:00+00:00"),
    }
    labelled = slo.label_windows(rows, windows)
    # hour 1-3 in "wide" (first wins over "inner" at 2-3), 4-5 only in "inner", 0 outside;
    # the end is exclusive (hour 4 is not in "wide")
    assert labelled["period"].to_list() == ["baseline", "wide", "wide", "wide", "inner", "inner"]
    assert labelled.schema["period"] == pl.String


def test_label_windows_matches_groups_with_on() -> None:
    rows = pl.DataFrame(
        {
            "start_time": [_T0 + dt.timedelta(minutes=m) for m in (0, 70, 70, 200)],
            "pool": ["h100-pool", "h100-pool", "l4-pool", "h100-pool"],
        }
    )
    counts = pl.concat(
        [
            _minutes([50.0 if 60 <= m < 90 else 100.0 for m in range(180)], pool="h100-pool"),
            _minutes([100.0] * 180, pool="l4-pool"),
        ]
    )
    windows = slo.incident_windows(counts, slo.SLO("ttft", 0.999), by="pool")
    by_time = slo.label_windows(rows, windows)["period"].to_list()
    assert by_time == ["baseline", "ttft on h100-pool", "ttft on h100-pool", "baseline"]
    by_pool = slo.label_windows(rows, windows, on="pool", column="window")["window"].to_list()
    assert by_pool == ["baseline", "ttft on h100-pool", "baseline", "baseline"]


def test_windows_frame_and_label_windows_refuse_bad_input() -> None:
    with pytest.raises(ParameterError, match="zone"):
        slo.windows_frame({"x": ("2026-11-02T00:00:00", "2026-11-02T01:00:00")})
    with pytest.raises(ParameterError, match="end after"):
        slo.windows_frame({"x": ("2026-11-02T01:00:00Z", "2026-11-02T00:00:00Z")})
    with pytest.raises(ParameterError, match="mapping"):
        slo.windows_frame([("x", 1, 2)])
    with pytest.raises(ParameterError, match="columns incident"):
        slo.windows_frame(pl.DataFrame({"a": [1]}))
    rows = pl.DataFrame({"start_time": [_T0]})
    with pytest.raises(ParameterError, match="'time' parameter"):
        slo.label_windows(rows, {}, time="when")
    assert slo.label_windows(rows, {})["period"].to_list() == ["baseline"]


# --------------------------------------------------------------------------------------
# Objectives from the data and the notebook's tables
# --------------------------------------------------------------------------------------


def _histogram(name: str, bounds: list[float], cumulative: list[list[int]], **labels: str) -> str:
    """Exposition text: one scrape per minute of a cumulative histogram."""
    lines = [f"# TYPE {name} histogram"]
    label = "".join(f'{k}="{v}",' for k, v in labels.items())
    for i, counts in enumerate(cumulative):
        ms = int(_T0.timestamp() * 1000) + i * 60_000
        for b, c in zip([*bounds, math.inf], counts, strict=True):
            le = "+Inf" if math.isinf(b) else repr(b)
            lines.append(f'{name}_bucket{{{label}le="{le}"}} {c} {ms}')
    return "\n".join(lines)


def test_choose_threshold_bucket_bound_at_or_above_the_calls_quantile() -> None:
    calls = pl.DataFrame({"ttft_s": [0.1 * i for i in range(1, 101)], "is_error": False})
    metrics = parse_exposition(
        _histogram("ttft", [1.0, 5.0, 10.0, 20.0], [[0, 0, 0, 0, 0], [10, 50, 90, 99, 100]])
    )
    # the calls' p95 (linear) is 9.505 s: the smallest bound at or above it is 10
    choice = slo.choose_threshold(calls=calls, column="ttft_s", metrics=metrics, metric="ttft")
    assert choice is not None
    assert choice.value == 10.0
    assert "p95 (9.5 s)" in choice.how
    # without calls: the smallest bound holding 95 % of the histogram's 100 requests: 20 (99)
    alone = slo.choose_threshold(metrics=metrics, metric="ttft")
    assert alone is not None
    assert alone.value == 20.0
    # without a histogram: the calls' p95 rounded up in the 1-2.5-5 series
    assert slo.choose_threshold(calls=calls, column="ttft_s").value == 10.0  # type: ignore[union-attr]
    tpot = pl.DataFrame({"tpot_s": [0.0274] * 10})
    assert slo.choose_threshold(calls=tpot, column="tpot_s").value == 0.05  # type: ignore[union-attr]
    assert slo.choose_threshold(calls=tpot.with_columns(tpot_s=0.3), column="tpot_s").value == 0.5  # type: ignore[union-attr]
    # the calls' p95 above every finite bound: the largest bound
    slow = pl.DataFrame({"ttft_s": [50.0] * 10})
    top = slo.choose_threshold(calls=slow, column="ttft_s", metrics=metrics, metric="ttft")
    assert top is not None
    assert top.value == 20.0
    assert "largest" in top.how
    # failed calls do not count; nothing to choose from gives None
    assert (
        slo.choose_threshold(
            calls=pl.DataFrame({"ttft_s": [None]}, schema={"ttft_s": pl.Float64}), column="ttft_s"
        )
        is None
    )


def test_pool_column_prefers_pool_then_deployment_then_model() -> None:
    frame = pl.DataFrame(
        {
            "request_model": ["a", "b", "a"],
            "attributes.k8s.cluster": ["x", "y", "y"],
            "resource.deployment.name": ["d1", "d2", "d2"],
            "label.pool": ["p", "p", "p"],  # one value: no grouping
        }
    )
    assert slo.pool_column(frame) == "resource.deployment.name"
    assert slo.pool_column(frame.drop("resource.deployment.name")) == "attributes.k8s.cluster"
    assert slo.pool_column(frame.select("request_model")) == "request_model"
    assert slo.pool_column(frame, prefix="label.") is None
    assert slo.pool_column(pl.DataFrame({"x": ["a", "b"]})) is None


def test_trace_sampling_from_the_request_counts() -> None:
    # 200 requests counted (100 per minute between the three scrapes), 4 traced calls
    metrics = parse_exposition(
        _histogram("vllm:e2e_request_latency_seconds", [1.0], [[0, 0], [50, 100], [120, 200]])
    )
    calls = pl.DataFrame({"start_time": [_T0 + dt.timedelta(seconds=s) for s in (10, 50, 70, 110)]})
    choice = slo.trace_sampling(calls, metrics)
    assert choice.value == 0.02
    assert "4 traced calls for 200 requests" in choice.how
    # a call after the last interval is not counted; every call traced gives 1.0
    later = pl.concat([calls, pl.DataFrame({"start_time": [_T0 + dt.timedelta(minutes=5)]})])
    assert slo.trace_sampling(later, metrics).value == 0.02
    many = pl.DataFrame({"start_time": [_T0 + dt.timedelta(seconds=s // 2) for s in range(198)]})
    assert slo.trace_sampling(many, metrics).value == 1.0
    assert slo.trace_sampling(calls).value == 1.0
    assert "assumed" in slo.trace_sampling(calls).how


def test_service_objectives_keep_what_the_data_measures() -> None:
    calls = pl.DataFrame(
        {
            "is_error": [False] * 20,
            "ttft_s": [0.1 * i for i in range(1, 21)],  # p95 1.905 s
            "latency_s": [None] * 20,
            "tpot_s": [0.02] * 20,
        },
        schema_overrides={"latency_s": pl.Float64},
    )
    metrics = parse_exposition(
        _histogram("vllm:time_to_first_token_seconds", [1.0, 2.5], [[0, 0, 0], [5, 9, 10]])
    )
    found = slo.service_objectives(calls=calls, metrics=metrics, period="7d")
    assert list(found.slos) == ["availability", "ttft_s", "tpot_s"]
    assert found.slos["ttft_s"].threshold == 2.5
    assert found.slos["ttft_s"].metric == "vllm:time_to_first_token_seconds"
    assert found.slos["ttft_s"].time_window == "7d"
    assert found.slos["availability"].metric is None
    assert found.slos["tpot_s"].threshold == 0.025
    assert any("No end-to-end latency objective" in n for n in found.notes)
    # a given threshold that is no bucket bound: traces only, said so
    given = slo.service_objectives(calls=calls, metrics=metrics, ttft_threshold_s=2.0)
    assert given.slos["ttft_s"].metric is None
    assert given.slos["ttft_s"].threshold == 2.0
    assert any("not a bucket bound" in n for n in given.notes)
    # metrics alone
    alone = slo.service_objectives(metrics=metrics)
    assert list(alone.slos) == ["ttft_s"]
    assert alone.slos["ttft_s"].threshold == 2.5  # 9 of 10 at 2.5 s < 95 %: the largest bound
    assert slo.service_objectives().slos == {}


def test_metric_and_trace_events_compare_sources() -> None:
    metrics = parse_exposition(
        _histogram("vllm:time_to_first_token_seconds", [1.0], [[0, 0], [90, 100]], pool="a")
    )
    slos = {
        "ttft_s": slo.SLO(
            "ttft", 0.99, sli="ttft_s", threshold=1.0, metric="vllm:time_to_first_token_seconds"
        ),
        "availability": slo.SLO("availability", 0.99, sli="availability"),
    }
    from_metrics = slo.metric_events(metrics, slos, by="label.pool")
    assert list(from_metrics) == ["ttft_s"]
    assert from_metrics["ttft_s"].select("label.pool", "good", "total").row(0) == ("a", 90.0, 100.0)
    calls = pl.DataFrame(
        {
            "start_time": [_T0] * 4,
            "ttft_s": [0.5, 2.0, 0.2, None],
            "is_error": [False, False, False, True],
        }
    )
    from_traces = slo.trace_events(calls, slos)
    assert set(from_traces) == {"ttft_s", "availability"}
    table = slo.compare_sources(slos, from_metrics, from_traces)
    assert table.columns == [
        "slo",
        "sli",
        "target",
        "metrics_good",
        "metrics_events",
        "traces_good",
        "traced_events",
        "gap",
    ]
    ttft = table.row(0, named=True)
    # 2 of 3 timed calls good (the failed one has no TTFT); 90 of 100 by the metrics
    assert ttft["metrics_good"] == pytest.approx(0.9)
    assert ttft["traces_good"] == pytest.approx(2 / 3)
    assert ttft["traced_events"] == 3.0
    assert ttft["gap"] == pytest.approx(0.9 - 2 / 3)
    availability = table.row(1, named=True)
    assert availability["metrics_good"] is None
    assert availability["traces_good"] == pytest.approx(0.75)
    assert availability["gap"] is None


def test_budget_alert_and_slice_tables() -> None:
    burst = [50.0 if 60 <= m < 90 else 100.0 for m in range(180)]
    counts = pl.concat(
        [_minutes(burst, **{"label.pool": "a"}), _minutes([100.0] * 180, **{"label.pool": "b"})]
    )
    slos = {
        "ttft_s": slo.SLO("ttft", 0.999, sli="ttft_s", threshold=1.0, time_window="3h"),
        "tpot_s": slo.SLO("tpot", 0.5, sli="tpot_s", threshold=1.0, time_window="3h"),
    }
    events = pl.DataFrame(
        {
            "start_time": [_T0 + dt.timedelta(minutes=m) for m in (0, 1, 2, 3)],
            "is_good": [True, False, False, True],
            "attributes.pool": ["a", "a", "b", "b"],
            "attributes.route": ["chat", "rag", "rag", "rag"],
            "attributes.server": ["s1", "s1", "s2", "s2"],  # one value per pool: no slice
        }
    )
    budgets = slo.budget_table(
        slos,
        {"ttft_s": counts},
        {"ttft_s": events, "tpot_s": events},
        metrics_pool="label.pool",
        traces_pool="attributes.pool",
        every="3h",
    )
    last = slo.latest_budget(budgets)
    assert last.select("slo", "pool", "series").rows() == [
        ("tpot (traces)", "a", "tpot (traces) / a"),
        ("tpot (traces)", "b", "tpot (traces) / b"),
        ("ttft", "a", "ttft / a"),
        ("ttft", "b", "ttft / b"),
    ]
    # pool a: 1,500 bad of 18,000 at a 0.1 % budget over the full 3 h window: 83.3x budget
    assert last["budget_consumed"].to_list() == pytest.approx([1.0, 1.0, 1500 / 18000 / 0.001, 0.0])
    fired = slo.alert_table(slos, {"ttft_s": counts}, pool="label.pool")
    assert set(fired["pool"]) == {"a"}
    assert fired.columns[:3] == ["slo", "pool", "severity"]
    assert slo.alert_table(slos, {}).height == 0
    table = slo.slice_table(
        slos,
        {"tpot_s": events},
        ["attributes.route", "attributes.server", "attributes.missing"],
        pool="attributes.pool",
    )
    # per pool: (a, rag) 1 bad of 1 -> 1 / (0.5 * 4) = 0.5; (b, rag) 1 of 2 -> 0.5; (a, chat) 0
    assert table.select("dimension", "pool", "slice", "burn_contribution").rows() == [
        ("route", "a", "rag", 0.5),
        ("route", "b", "rag", 0.5),
        ("route", "a", "chat", 0.0),
    ]
    assert slo.slice_table(slos, {}, ["attributes.route"]).height == 0
    burn = slo.pooled_burn_rates(slos["ttft_s"], counts, pool="label.pool", windows=["1h"])
    assert set(burn["pool"]) == {"a", "b"}
    assert burn["slo"].unique().to_list() == ["ttft"]


def test_latency_table_skips_empty_slis() -> None:
    calls = pl.DataFrame(
        {
            "ttft_s": [1.0, 2.0, 3.0, 5.0],
            "tpot_s": [None] * 4,
            "pool": ["a", "a", "b", "b"],
        },
        schema_overrides={"tpot_s": pl.Float64},
    )
    table = slo.latency_table(calls, q=[0.5], by="pool")
    assert table.sort("pool").rows() == [("ttft_s", "a", 1.5), ("ttft_s", "b", 4.0)]
    assert slo.latency_table(calls.drop("ttft_s"), columns=["tpot_s"]).height == 0


def test_trace_sampling_given_or_without_calls() -> None:
    assert slo.trace_sampling(None, given=0.25) == slo.Choice(0.25, "0.25, as given")
    assert slo.trace_sampling(None).value == 1.0
    with pytest.raises(ParameterError, match="'given' parameter"):
        slo.trace_sampling(None, given=2)


def test_incident_and_label_windows_take_both_backends(backend: str) -> None:
    counts = _minutes([50.0 if 60 <= m < 90 else 100.0 for m in range(180)])
    rows = pl.DataFrame({"start_time": [_T0 + dt.timedelta(minutes=m) for m in (30, 70)]})
    if backend == "pandas":
        counts, rows = counts.to_pandas(), rows.to_pandas()  # type: ignore[assignment]
    windows = slo.incident_windows(counts, slo.SLO("ttft", 0.999))
    assert isinstance(windows, pl.DataFrame)
    assert windows.select("incident", "source").rows() == [("ttft", "page")]
    assert slo.label_windows(rows, windows)["period"].to_list() == ["baseline", "ttft"]


# --- objectives the service's own ordinary level meets ------------------------------------------


def _hourly_calls(p99_by_hour: list[float]) -> pl.DataFrame:
    """100 successful calls an hour, from 0.1 s up; the slowest take p99_by_hour[h] s: three
    of them in an ordinary hour (under 2 s), thirty in an incident hour."""
    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    rows = []
    for h, slow in enumerate(p99_by_hour):
        for k in range(100):
            rows.append(
                {
                    "start_time": t0 + dt.timedelta(hours=h, seconds=30 * k),
                    "is_error": False,
                    "ttft_s": slow if k >= (97 if slow < 2 else 70) else 0.1 + 0.001 * k,
                }
            )
    return pl.DataFrame(rows)


def test_baseline_objectives_hold_the_service_to_its_ordinary_hours() -> None:
    # 20 ordinary hours (their three slowest calls at 1.2 s) and 4 incident hours at 9 s: the
    # p75 of the hourly p99s is an ordinary hour's, so the incident does not move the bar
    levels = [1.2] * 20 + [9.0] * 4
    calls = _hourly_calls(levels)
    hourly = [
        float(np.quantile(calls.filter(pl.col("start_time").dt.hour() == h)["ttft_s"], 0.99))
        for h in range(24)
    ]
    level = float(np.quantile(hourly, 0.75))
    assert level == pytest.approx(1.2)
    found = slo.baseline_objectives(calls=calls)
    # no histogram: the 1-2.5-5 series above the level
    assert found.slos["ttft_s"].threshold == 2.5
    assert "p75 over 24 1h windows of their p99 (1.2 s)" in found.notes[0]
    # with a histogram the smallest bucket bound at or above the level (exact counts)
    metrics = pl.DataFrame(
        {
            "name": ["vllm:time_to_first_token_seconds_bucket"] * 4,
            "le": [0.5, 1.0, 1.5, math.inf],
            "value": [1.0, 2.0, 3.0, 3.0],
        }
    )
    with_buckets = slo.baseline_objectives(calls=calls, metrics=metrics)
    assert with_buckets.slos["ttft_s"].threshold == 1.5
    assert with_buckets.slos["ttft_s"].metric == "vllm:time_to_first_token_seconds"
    # the whole period's p99 (what service_objectives would sit near) is the incident's
    assert float(np.quantile(calls["ttft_s"], 0.99)) == pytest.approx(9.0)


def test_baseline_objectives_few_calls_and_bad_parameters() -> None:
    calls = _hourly_calls([1.2, 1.2])
    few = slo.baseline_objectives(calls=calls, min_events=500)  # no hour holds 500 calls
    assert "no 1h window holds 500 calls" in few.notes[0]
    assert few.slos["ttft_s"].threshold == 2.5
    with pytest.raises(ParameterError, match=r"'windows' parameter of slo\.baseline_objectives"):
        slo.baseline_objectives(calls=calls, windows=1.5)
    with pytest.raises(ParameterError, match=r"'ttft_target' parameter"):
        slo.baseline_objectives(calls=calls, ttft_target=2.0)
