"""Tests of the PromQL-style helpers (toolkit.promql), with hand-computed answers."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from toolkit.errors import ParameterError
from toolkit.ingest.prometheus import parse_exposition, read_prometheus
from toolkit.promql import histogram_quantile, increase, rate
from toolkit.schema import TIME

T0 = dt.datetime(2026, 11, 21, 10, tzinfo=dt.UTC)
INF = math.inf


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """A metrics table from (minute, name, type, value, le, labels...) dicts."""
    records = []
    for r in rows:
        rec = {
            "time": T0 + dt.timedelta(seconds=float(r.pop("s"))),  # type: ignore[arg-type]
            "name": r.pop("name"),
            "type": r.pop("type", "counter"),
            "unit": None,
            "value": float(r.pop("value")),  # type: ignore[arg-type]
            "le": r.pop("le", None),
        }
        rec.update({f"label.{k}": v for k, v in r.items()})
        records.append(rec)
    df = pl.DataFrame(records, infer_schema_length=None)
    return df.with_columns(
        pl.col("time").cast(TIME), pl.col("le").cast(pl.Float64), pl.col("unit").cast(pl.String)
    )


def _counter(
    values: list[float], *, step_s: float = 60, name: str = "tokens_total", **labels: str
) -> pl.DataFrame:
    return _frame(
        [{"s": i * step_s, "name": name, "value": v, **labels} for i, v in enumerate(values)]
    )


# --------------------------------------------------------------------------------------
# increase / rate
# --------------------------------------------------------------------------------------


def test_increase_with_a_counter_reset() -> None:
    # 0, 10, 20, 5, 15 one minute apart: the drop 20 -> 5 is a reset, so the new 5 counts
    # from zero. Over 5 minutes, at the last sample: 10 + 10 + 5 + 10 = 35 (= 15 - 0 + 20).
    # The first sample is 0, so there is no extrapolation before it, and none after the
    # last sample (the window ends there).
    df = _counter([0, 10, 20, 5, 15])
    out = increase(df, "tokens_total", window="5m")
    assert out.columns == ["time", "name", "increase"]
    assert out["increase"].to_list() == [None, 10.0, 20.0, 25.0, 35.0]
    assert out["time"].to_list() == df["time"].to_list()
    assert out["name"].unique().to_list() == ["tokens_total"]
    per_s = rate(df, "tokens_total", window="5m")
    assert per_s.columns == ["time", "name", "rate_per_s"]
    assert per_s["rate_per_s"].to_list() == pytest.approx(
        [None, 10 / 300, 20 / 300, 25 / 300, 35 / 300], nan_ok=False
    )


def test_increase_extrapolates_like_prometheus() -> None:
    # Window 2m at t=3m holds the samples at 2m (20) and 3m (5): raw increase 5 (a reset).
    # The first sample is 60 s after the window start (< 1.1 x 60 s spacing): extrapolate
    # the full 60 s, unless the counter would reach zero first: 60 * 20 / 5 = 240 s, no.
    # increase = 5 * (60 + 60) / 60 = 10.
    # At t=4m: samples 3m (5) and 4m (15), raw 10; zero point 60 * 5 / 10 = 30 s < 60 s,
    # so extrapolate 30 s: 10 * 90 / 60 = 15.
    out = increase(_counter([0, 10, 20, 5, 15]), "tokens_total", window="2m")
    assert out["increase"].to_list() == [None, 10.0, 20.0, 10.0, 15.0]
    out = rate(_counter([0, 10, 20, 5, 15]), "tokens_total", window=dt.timedelta(minutes=2))
    assert out["rate_per_s"].to_list() == pytest.approx(
        [None, 10 / 120, 20 / 120, 10 / 120, 15 / 120]
    )
    # A first sample far from the window start (180 s >= 1.1 x 60 s): extrapolate only half
    # a spacing (30 s). 100, 110, 120 at 0, 60, 120 s, window 5m at 120 s:
    # raw 20, zero point 120 * 100 / 20 = 600 s (no cap): 20 * (120 + 30) / 120 = 25.
    out = increase(_counter([100, 110, 120]), "tokens_total", window="5m")
    assert out["increase"].to_list() == [None, 15.0, 25.0]


def test_rate_by_labels_and_series() -> None:
    a = _counter([0, 60, 120], pod="a", model="m")
    b = _counter([0, 120, 240], pod="b", model="m")
    df = pl.concat([a, b])
    per_series = rate(df, "tokens_total", window="2m")
    assert per_series.columns == ["time", "name", "label.model", "label.pod", "rate_per_s"]
    assert per_series.filter(pl.col("label.pod") == "a")["rate_per_s"].to_list() == [None, 0.5, 1.0]
    assert per_series.filter(pl.col("label.pod") == "b")["rate_per_s"].to_list() == [None, 1.0, 2.0]
    summed = rate(df, "tokens_total", window="2m", by="model")
    assert summed.columns == ["time", "name", "label.model", "rate_per_s"]
    assert summed["rate_per_s"].to_list() == [None, 1.5, 3.0]
    total = rate(df, "tokens_total", window="2m", by=[])
    assert total.columns == ["time", "name", "rate_per_s"]
    assert total["rate_per_s"].to_list() == [None, 1.5, 3.0]
    same = rate(df, "tokens_total", window="2m", by=["label.model"])
    assert same.equals(summed)


def test_series_keep_resource_and_service_columns_apart() -> None:
    # Two services export the same labels (as the OTLP reader gives them): two series.
    a = _counter([0, 60], pod="x").with_columns(pl.lit("svc-a").alias("service_name"))
    b = _counter([0, 600], pod="x").with_columns(pl.lit("svc-b").alias("service_name"))
    out = increase(pl.concat([a, b]), "tokens_total", window="2m")
    assert out.columns == ["time", "name", "label.pod", "service_name", "increase"]
    assert out.filter(pl.col("service_name") == "svc-b")["increase"].to_list() == [None, 600.0]


def test_rate_parameter_errors() -> None:
    df = pl.concat(
        [
            _counter([1, 2]),
            _frame([{"s": 0, "name": "queue", "type": "gauge", "value": 3}]),
            _frame([{"s": 0, "name": "lat_created", "type": "histogram", "value": 3}]),
        ],
        how="diagonal",
    )
    with pytest.raises(ParameterError, match="Got 'queue': its type is 'gauge'"):
        rate(df, "queue")
    with pytest.raises(ParameterError, match="_created series holds creation times"):
        rate(df, "lat_created")
    with pytest.raises(ParameterError, match="Did you mean 'tokens_total'"):
        rate(df, "token_total")
    with pytest.raises(
        ParameterError, match=r"'window' parameter of promql\.rate must be a positive"
    ):
        rate(df, "tokens_total", window="5 minutes")
    with pytest.raises(ParameterError, match=r"'window' parameter of promql\.increase"):
        increase(df, "tokens_total", window="0s")
    with pytest.raises(ParameterError, match=r"'by' parameter of promql\.rate must name label"):
        rate(df, "tokens_total", by="nope")
    with pytest.raises(ParameterError, match=r"'backend' parameter of promql\.rate"):
        rate(df, "tokens_total", backend="arrow")  # type: ignore[arg-type]
    twice = pl.concat([_counter([1, 2]), _counter([1, 2])])
    with pytest.raises(ParameterError, match="one sample per series and time"):
        rate(twice, "tokens_total")


def test_window_syntax() -> None:
    df = _counter([0, 90, 180], step_s=45 * 60)
    assert rate(df, "tokens_total", window="1h30m")["rate_per_s"].to_list()[-1] == (
        pytest.approx(180 / 5400)
    )


def test_rate_on_directory_of_scrapes(tmp_path: Path) -> None:
    for minute, value in enumerate([100, 160, 220, 40]):
        name = f"vllm-2026-11-21T10:0{minute}:00Z.prom"
        (tmp_path / name).write_text(
            "# TYPE vllm:prompt_tokens_total counter\n"
            f'vllm:prompt_tokens_total{{model_name="m"}} {value}\n'
        )
    df = read_prometheus(tmp_path)
    out = increase(df, "vllm:prompt_tokens_total", window="3m")
    # At 10:03 the window (10:00, 10:03] holds 160, 220, 40: 60 + 40 (reset) = 100; the
    # first sample sits at the window start (60 s from it < 66 s) and the zero point
    # 120 * 160 / 100 = 192 s is farther: 100 * (120 + 60) / 120 = 150.
    assert out["increase"].to_list()[-1] == pytest.approx(150.0)
    assert out["label.model_name"].unique().to_list() == ["m"]


# --------------------------------------------------------------------------------------
# histogram_quantile
# --------------------------------------------------------------------------------------


def _histogram(counts: dict[float, float], *, s: float = 0, **labels: str) -> pl.DataFrame:
    return _frame(
        [
            {
                "s": s,
                "name": "lat_seconds_bucket",
                "type": "histogram",
                "value": c,
                "le": le,
                **labels,
            }
            for le, c in counts.items()
        ]
    )


def test_histogram_quantile_interpolates_inside_the_bucket() -> None:
    df = _histogram({0.1: 10, 0.5: 30, 1.0: 40, INF: 40})

    def q(x: float) -> float:
        value: float = histogram_quantile(df, "lat_seconds", x)["value"].item()
        return value

    assert q(0.5) == pytest.approx(0.3)  # rank 20 in (0.1, 0.5]: 0.1 + 0.4 * 10 / 20
    assert q(0.9) == pytest.approx(0.8)  # rank 36 in (0.5, 1]: 0.5 + 0.5 * 6 / 10
    assert q(0.05) == pytest.approx(0.02)  # rank 2 in (0, 0.1]: 0.1 * 2 / 10
    assert q(1.0) == pytest.approx(1.0)
    out = histogram_quantile(df, "lat_seconds", 0.5)
    assert out.columns == ["time", "name", "quantile", "value"]
    assert out.row(0) == (T0, "lat_seconds", 0.5, pytest.approx(0.3))


def test_histogram_quantile_in_the_inf_bucket_and_edge_cases() -> None:
    # 10 of 50 observations above 1.0: q=0.9 (rank 45) is in the +Inf bucket.
    df = _histogram({0.1: 10, 0.5: 30, 1.0: 40, INF: 50})
    assert histogram_quantile(df, "lat_seconds", 0.9)["value"].item() == 1.0
    # A first bound <= 0 is returned as is.
    neg = _histogram({-1.0: 5, 0.0: 10, INF: 10})
    assert histogram_quantile(neg, "lat_seconds", 0.2)["value"].item() == -1.0
    # No +Inf bucket, no observation: NaN, as in Prometheus.
    assert math.isnan(
        histogram_quantile(_histogram({0.1: 1, 1.0: 2}), "lat_seconds", 0.5)["value"].item()
    )
    assert math.isnan(
        histogram_quantile(_histogram({0.1: 0, INF: 0}), "lat_seconds", 0.5)["value"].item()
    )
    # Non-monotonic buckets are made monotonic: 0.5 -> 8 < 10 counts as 10.
    odd = _histogram({0.1: 10, 0.5: 8, 1.0: 20, INF: 20})
    assert histogram_quantile(odd, "lat_seconds", 0.75)["value"].item() == pytest.approx(0.75)
    # The name with its _bucket suffix works too.
    assert histogram_quantile(df, "lat_seconds_bucket", 0.9)["name"].item() == "lat_seconds"


def test_histogram_quantile_by_and_window() -> None:
    a0 = _histogram({0.1: 10, 0.5: 30, 1.0: 40, INF: 40}, s=0, pod="a")
    a1 = _histogram({0.1: 10, 0.5: 30, 1.0: 60, INF: 80}, s=60, pod="a")
    b0 = _histogram({0.1: 0, 0.5: 0, 1.0: 0, INF: 0}, s=0, pod="b")
    b1 = _histogram({0.1: 20, 0.5: 20, 1.0: 20, INF: 20}, s=60, pod="b")
    df = pl.concat([a0, a1, b0, b1])
    # Cumulative (no window), per pod at 60 s: a has 80 observations, rank 40 in (0.5, 1]:
    # 0.5 + 0.5 * 10 / 30; b has 20, all <= 0.1: rank 10 in (0, 0.1] -> 0.05.
    per_pod = histogram_quantile(df, "lat_seconds", 0.5)
    at60 = per_pod.filter(pl.col("time") == T0 + dt.timedelta(seconds=60))
    assert dict(zip(at60["label.pod"], at60["value"], strict=True)) == pytest.approx(
        {"a": 0.5 + 0.5 * 10 / 30, "b": 0.05}
    )
    # Summed over pods at 60 s: 30, 50, 80, 100; rank 50 -> 0.5 exactly.
    total = histogram_quantile(df, "lat_seconds", 0.5, by=[])
    assert total.columns == ["time", "name", "quantile", "value"]
    assert total["value"].to_list()[-1] == pytest.approx(0.5)
    # Over a 5m window: increases of pod a's buckets 0, 0, 20, 40 and of pod b's 20, 20,
    # 20, 20, each extrapolated by the same factor (first sample 240 s from the window
    # start: half a spacing, 30 s; zero points farther) 90 / 60, except pod b's whose
    # counters start at 0 (zero point at the first sample): factor 1.
    # Sum: 20, 20, 50, 80; rank 0.5 * 80 = 40 in (0.5, 1]: 0.5 + 0.5 * 20 / 30.
    windowed = histogram_quantile(df, "lat_seconds", 0.5, window="5m", by=[])
    assert windowed["value"].to_list() == [None, pytest.approx(0.5 + 0.5 * 20 / 30)]


def test_histogram_quantile_parameter_errors() -> None:
    df = _histogram({0.1: 10, INF: 10})
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ParameterError, match=r"'q' parameter of promql\.histogram_quantile"):
            histogram_quantile(df, "lat_seconds", bad)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="Did you mean 'lat_seconds'"):
        histogram_quantile(df, "lat_second", 0.5)
    delta = df.with_columns(pl.lit("delta").alias("temporality"))
    with pytest.raises(ParameterError, match="delta temporality"):
        histogram_quantile(delta, "lat_seconds", 0.5)
    with pytest.raises(ParameterError, match="delta temporality"):
        rate(delta, "lat_seconds_bucket")


def test_pandas_input_and_backend(backend: str) -> None:
    df = _histogram({0.1: 10, 0.5: 30, 1.0: 40, INF: 40}).to_pandas()
    out = histogram_quantile(df, "lat_seconds", 0.5, backend=backend)  # type: ignore[arg-type]
    frame = pl.from_pandas(out) if isinstance(out, pd.DataFrame) else out
    assert isinstance(out, pd.DataFrame) == (backend == "pandas")
    assert frame["value"].to_list() == [pytest.approx(0.3)]
    counter = _counter([0, 10]).to_pandas()
    out = rate(counter, "tokens_total", window="1m", backend=backend)  # type: ignore[arg-type]
    assert isinstance(out, pd.DataFrame) == (backend == "pandas")


# --------------------------------------------------------------------------------------
# Real vLLM scrape
# --------------------------------------------------------------------------------------


def test_vllm_e2e_latency_median_matches_a_hand_computation(real_data: Path) -> None:
    path = real_data / "vllm_0_25_1/metrics_vllm_0_25_1_loaded.txt"
    text = path.read_text()
    bounds = re.findall(
        r'(?m)^vllm:e2e_request_latency_seconds_bucket\{engine="0",le="([^"]+)",'
        r'model_name="opt-125m-tp2"\} (\S+)$',
        text,
    )
    buckets = [(float(le), float(c)) for le, c in bounds]
    assert buckets[-1][0] == INF
    total = buckets[-1][1]
    # Hand computation: first bucket whose cumulative count reaches the rank.
    expected = {}
    for q in (0.5, 0.99):
        rank = q * total
        i = next(i for i, (_, c) in enumerate(buckets) if c >= rank)
        lo, below = buckets[i - 1]
        hi, count = buckets[i]
        expected[q] = lo + (hi - lo) * (rank - below) / (count - below)
    # 600 requests: 24 at <= 1.5 s, 591 at <= 2.0 s: median 1.5 + 0.5 * 276 / 567.
    assert expected[0.5] == pytest.approx(1.5 + 0.5 * 276 / 567)
    assert expected[0.99] == pytest.approx(2.0 + 0.5 * 3 / 9)
    df = read_prometheus(path, time="2026-11-21T10:00:00Z")
    for q, value in expected.items():
        out = histogram_quantile(df, "vllm:e2e_request_latency_seconds", q)
        assert out.columns == [
            "time",
            "name",
            "label.engine",
            "label.model_name",
            "quantile",
            "value",
        ]
        assert out.select("label.engine", "label.model_name", "quantile").row(0) == (
            "0",
            "opt-125m-tp2",
            q,
        )
        assert out["value"].to_list() == [pytest.approx(value, rel=1e-12)]


def test_vllm_http_duration_quantile_by_handler(real_data: Path) -> None:
    path = real_data / "vllm_0_25_1/metrics_vllm_0_25_1_loaded.txt"
    df = read_prometheus(path, time="2026-11-21T10:00:00Z")
    out = histogram_quantile(df, "http_request_duration_seconds", 0.5, by="handler")
    assert out["label.handler"].to_list() == ["/tokenize", "/v1/completions", "/v1/models"]
    assert out["value"].null_count() == 0
    # One scrape: no rate can be computed, every value is null (not zero, not dropped).
    counters = rate(df, "vllm:request_success_total")
    assert counters.height == 5
    assert counters["rate_per_s"].null_count() == 5


def test_helpers_accept_the_reader_output_with_summaries() -> None:
    text = """# TYPE rpc summary
rpc{quantile="0.5"} 0.2
rpc_sum 3
rpc_count 10
"""
    df = parse_exposition(text, time="2026-11-21T10:00:00Z")
    with pytest.raises(ParameterError, match="quantile series of a summary"):
        rate(df, "rpc")
    assert rate(df, "rpc_count")["rate_per_s"].to_list() == [None]
