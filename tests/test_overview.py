"""toolkit.overview: the tour's tables overview and per-bucket series, with known answers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pytest

from toolkit import Support, overview
from toolkit.errors import ColumnNotFoundError, ParameterError

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def _calls() -> pl.DataFrame:
    # 6 calls: 4 in the first hour (a, a, b, a), 2 in the second (b, b)
    minutes = [0, 10, 20, 50, 70, 80]
    return pl.DataFrame(
        {
            "start_time": [T0 + dt.timedelta(minutes=m) for m in minutes],
            "request_model": ["a", "a", "b", "a", "b", None],
            "latency_s": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "ttft_s": [0.1, 0.2, None, 0.4, 0.5, 0.6],
            "is_error": [False, True, False, False, True, False],
            "input_tokens": [10, 20, 30, 40, 50, None],
            "output_tokens": [1, 2, 3, 4, 5, 6],
        }
    )


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (1 / 60, "1s"),
        (1, "1m"),
        (4, "5m"),
        (24, "15m"),
        (24 * 7, "1h"),
        (24 * 30, "6h"),
        (24 * 150, "1d"),
        (24 * 365 * 10, "1w"),
    ],
)
def test_choose_bucket_gives_at_most_200_buckets(hours: float, expected: str) -> None:
    assert overview.choose_bucket(T0, T0 + dt.timedelta(hours=hours)) == expected


def test_choose_bucket_checks_its_parameter() -> None:
    with pytest.raises(ParameterError, match=r"'max_buckets' parameter of overview\.choose_bucket"):
        overview.choose_bucket(T0, T0, max_buckets=0)


def test_tables_overview_of_frames_and_pandas() -> None:
    calls = _calls()
    spans = pl.DataFrame(
        {
            "start_time": [T0, T0 + dt.timedelta(hours=1)],
            "end_time": [T0 + dt.timedelta(seconds=1), T0 + dt.timedelta(hours=2)],
        }
    )
    got = overview.tables_overview({"spans": spans, "llm_calls": calls.to_pandas()})
    assert got.rows() == [
        ("spans", 2, 2, T0, T0 + dt.timedelta(hours=2)),
        ("llm_calls", 6, 7, T0, T0 + dt.timedelta(minutes=80)),
    ]
    with pytest.raises(ParameterError, match=r"toolkit\.Catalog or a mapping"):
        overview.tables_overview([spans])


def test_call_series_per_model_and_bucket() -> None:
    got = overview.call_series(_calls(), "1h")
    rows = {(r["request_model"], r["start_time"].hour): r for r in got.iter_rows(named=True)}
    assert set(rows) == {("a", 0), ("b", 0), ("b", 1), ("(unknown)", 1)}
    a = rows[("a", 0)]
    assert (a["calls"], a["error_ratio"], a["input_tokens"], a["output_tokens"]) == (
        3,
        1 / 3,
        70,
        7,
    )
    assert a["p50_latency_s"] == 2.0
    one = overview.call_series(_calls(), "1h", by=None)
    assert one["calls"].to_list() == [4, 2]


def test_call_series_names_a_missing_column() -> None:
    with pytest.raises(ColumnNotFoundError, match="ttft_s"):
        overview.call_series(_calls().drop("ttft_s"), "1h")
    with pytest.raises(ColumnNotFoundError, match=r"user\.tier"):
        overview.call_series(_calls(), "1h", by="attributes.user.tier")
    with pytest.raises(ParameterError, match=r"'every' parameter of overview\.call_series"):
        overview.call_series(_calls(), "hourly")


def test_call_summary_known_answers() -> None:
    s = overview.call_summary(_calls(), "1h")
    assert (s.calls, s.errors, s.error_ratio) == (6, 2, 2 / 6)
    assert (s.input_tokens, s.output_tokens, s.busiest_bucket_calls) == (150, 21, 4)
    assert s.p95_latency_s == pytest.approx(pl.Series([1.0, 2, 3, 4, 5, 6]).quantile(0.95))
    empty = overview.call_summary(_calls().clear(), "1h")
    assert (empty.calls, empty.error_ratio, empty.p95_latency_s, empty.busiest_bucket_calls) == (
        0,
        None,
        None,
        0,
    )


def test_token_series_long_format() -> None:
    got = overview.token_series(pd.DataFrame(_calls().to_pandas()), "1h")
    assert got.select("tokens", "count").rows() == [
        ("input", 100),
        ("output", 10),
        ("input", 50),
        ("output", 11),
    ]


def test_span_series_error_share() -> None:
    spans = pl.DataFrame(
        {
            "start_time": [T0, T0 + dt.timedelta(minutes=5), T0 + dt.timedelta(hours=1)],
            "service_name": ["api", "api", None],
            "duration_ms": [10.0, 30.0, 5.0],
            "status_code": ["error", "ok", "unset"],
        }
    )
    got = overview.span_series(spans, "1h")
    # polars' default quantile is the nearest rank: the median of (10, 30) is 30
    assert got.select("service_name", "spans", "p50_duration_ms", "error_ratio").rows() == [
        ("api", 2, 30.0, 0.5),
        ("(unknown)", 1, 5.0, 0.0),
    ]


def test_gpu_series_counts_gpus_by_uuid_or_host_and_index() -> None:
    gpu = pl.DataFrame(
        {
            "time": [T0, T0, T0 + dt.timedelta(minutes=1), T0],
            "host": ["n1", "n1", "n1", "n2"],
            "gpu_index": [0, 1, 0, 0],
            "gpu_uuid": [None, None, None, "GPU-x"],
            "gpu_model": ["L4", "L4", "L4", "H100"],
            "util_pct": [10.0, 30.0, 50.0, 90.0],
        },
        schema_overrides={"gpu_uuid": pl.String},
    )
    got = overview.gpu_series(gpu, "1h").sort("gpu_model")
    assert got.select("gpu_model", "util_pct", "max_util_pct", "gpus").rows() == [
        ("H100", 90.0, 90.0, 1),
        ("L4", 30.0, 50.0, 2),
    ]


def test_metrics_overview_counts_series() -> None:
    m = pl.DataFrame(
        {
            "time": [T0, T0 + dt.timedelta(minutes=1), T0],
            "name": ["vllm:num_requests_waiting"] * 2 + ["up"],
            "type": ["gauge"] * 3,
            "unit": [None, None, None],
            "value": [1.0, 2.0, 1.0],
            "label.model_name": ["a", "a", None],
        },
        schema_overrides={"unit": pl.String},
    )
    got = overview.metrics_overview(m)
    assert got.select("name", "samples", "series", "first", "last").rows() == [
        ("up", 1, 1, T0, T0),
        ("vllm:num_requests_waiting", 2, 1, T0, T0 + dt.timedelta(minutes=1)),
    ]


def test_next_steps_yes_in_part_no() -> None:
    ok = {name: Support(name, "x", "found") for name in ("slo", "traces", "explain", "drift")}
    missing = {
        name: Support(name, "x", "nothing", ("spans",), f"export {name}")
        for name in ("fairness", "quality", "capacity", "gpu", "scale")
    }
    got = overview.next_steps({**ok, **missing})
    runs = dict(zip(got["notebook"], got["runs"], strict=True))
    assert runs == {
        "01_slo_error_budget": "yes",
        "02_trace_bottlenecks": "yes",
        "03_explainability": "yes",
        "04_bias_audit": "no",
        "05_drift_and_hallucinations": "in part",
        "06_gpu_capacity_planning": "no",
        "07_fleet_scale": "no",
    }
    row = got.filter(notebook="06_gpu_capacity_planning").row(0, named=True)
    assert row["missing"] == "capacity: spans; gpu: spans"
    assert row["how"] == "capacity: export capacity; gpu: export gpu"
