"""toolkit.scale._stats: burn rates, alerts and drift of a scale store from mergeable counts."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from toolkit import drift as tdrift
from toolkit import scale, slo
from toolkit.drift._compare import _RESULT_SCHEMA
from toolkit.errors import ParameterError
from toolkit.scale._stats import alerts, burn_rates, drift
from toolkit.schema import SPANS, validate

distributed = pytest.importorskip("distributed")

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "traces.jsonl.gz"
UTC = dt.UTC
T0 = dt.datetime(2026, 11, 2, 20, tzinfo=UTC)  # the export runs 20:00 to 06:00 next day
SHIFT = dt.datetime(2026, 11, 3, 2, tzinfo=UTC)  # prompt mix changes here
GAP = (dt.datetime(2026, 11, 2, 23, tzinfo=UTC), dt.datetime(2026, 11, 3, tzinfo=UTC))
BURST = (dt.datetime(2026, 11, 2, 21, tzinfo=UTC), dt.datetime(2026, 11, 2, 21, 20, tzinfo=UTC))
TOKENS = "attributes.gen_ai.usage.input_tokens"
LOCALE = "attributes.user.locale"


@dataclass(frozen=True)
class Span:
    service: str
    start: dt.datetime
    duration_ns: int
    tokens: int | None
    locale: str | None
    error: bool


def _ns(t: dt.datetime) -> int:
    return (t - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1) * 1000


def make_spans() -> list[Span]:
    """Two services, one span each every 30 s for ten hours, none from 23:00 to 00:00.

    'api' fails on the first span of every minute from 21:00 to 21:20 (20 errors) and
    never otherwise; 'rag' fails on every 97th span. Input tokens (absent on every 7th
    span) and locale (absent on every 11th) change distribution at 02:00.
    """
    rng = np.random.default_rng(11)
    out: list[Span] = []
    for service in ("api", "rag"):
        for k in range(1200):
            t = T0 + dt.timedelta(seconds=30 * k)
            if GAP[0] <= t < GAP[1]:
                continue
            late = t >= SHIFT
            tokens = int(rng.integers(300, 1500) if late else rng.integers(50, 500))
            locale = str(rng.choice(["en", "hi", "hi"] if late else ["en", "fr", "de"]))
            burst = BURST[0] <= t < BURST[1] and t.second == 0
            error = burst if service == "api" else k % 97 == 0
            out.append(
                Span(
                    service,
                    t,
                    int(rng.integers(1_000_000, 2_000_000_000)),
                    None if k % 7 == 0 else tokens,
                    None if k % 11 == 0 else locale,
                    error,
                )
            )
    return out


def _otlp_line(service: str, spans: list[Span], first: int) -> str:
    items = []
    for j, s in enumerate(spans):
        attrs: list[dict[str, Any]] = []
        if s.tokens is not None:
            attrs.append({"key": TOKENS[11:], "value": {"intValue": str(s.tokens)}})
        if s.locale is not None:
            attrs.append({"key": LOCALE[11:], "value": {"stringValue": s.locale}})
        items.append(
            {
                "traceId": f"{first + j + 1:032x}",
                "spanId": f"{first + j + 1:016x}",
                "name": "chat",
                "kind": 2,
                "startTimeUnixNano": str(_ns(s.start)),
                "endTimeUnixNano": str(_ns(s.start) + s.duration_ns),
                "attributes": attrs,
                "status": {"code": 2 if s.error else 1},
            }
        )
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    doc = {"resourceSpans": [{"resource": res, "scopeSpans": [{"spans": items}]}]}
    return json.dumps(doc) + "\n"


def write_export(d: Path, spans: list[Span]) -> list[Path]:
    """Lines of 25 spans of one service, dealt round-robin into four files (one gzip)."""
    d.mkdir(parents=True, exist_ok=True)
    lines: list[list[str]] = [[], [], [], []]
    n = 0
    for service in ("api", "rag"):
        mine = [s for s in spans if s.service == service]
        for i in range(0, len(mine), 25):
            lines[n % 4].append(_otlp_line(service, mine[i : i + 25], 10_000 * n))
            n += 1
    files = []
    for k, chunk in enumerate(lines):
        if k == 2:
            p = d / f"part-{k}.jsonl.gz"
            p.write_bytes(gzip.compress("".join(chunk).encode()))
        else:
            p = d / f"part-{k}.jsonl"
            p.write_text("".join(chunk))
        files.append(p)
    return files


@pytest.fixture(scope="module")
def spans() -> list[Span]:
    return make_spans()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, spans: list[Span]) -> Path:
    d = tmp_path_factory.mktemp("stats")
    write_export(d / "src", spans)
    result = scale.ingest(d / "src", d / "store")
    assert result.rows == len(spans) == 2 * (1200 - 120)
    assert result.parts == 16  # 4 files x 2 days x 2 services
    return d / "store"


@pytest.fixture(scope="module")
def frame(store: Path) -> pl.DataFrame:
    out = scale.scan(store).collect()
    validate(out, SPANS)
    return out


@pytest.fixture
def client(dask_client: Any) -> Any:
    """The session's two-worker LocalCluster (tests/conftest.py)."""
    return dask_client


GOOD = pl.col("status_code") != "error"


# --- burn rates and alerts -------------------------------------------------------------


def test_burn_rates_equal_slo_on_collected_frame_and_hand_count(
    store: Path, frame: pl.DataFrame, spans: list[Span]
) -> None:
    got = burn_rates(store, 0.99, good=GOOD, by="service_name")
    want = slo.burn_rates(frame.with_columns(is_good=GOOD), 0.99, by="service_name")
    assert_frame_equal(got, want, check_exact=True)
    # one series of every event, and windows given
    got_all = burn_rates(store, 0.99, good=GOOD, windows=["5m", "1h"])
    want_all = slo.burn_rates(frame.with_columns(is_good=GOOD), 0.99, windows=["5m", "1h"])
    assert_frame_equal(got_all, want_all, check_exact=True)
    assert got_all.columns == ["time", "window", "bad", "total", "error_ratio", "burn_rate"]

    # by hand, from the generator's records: api at 21:20, 5m window [21:15, 21:20)
    t = BURST[1]
    row = got.filter(
        (pl.col("service_name") == "api") & (pl.col("time") == t) & (pl.col("window") == "5m")
    ).row(0, named=True)
    in_5m = [s for s in spans if s.service == "api" and t - dt.timedelta(minutes=5) <= s.start < t]
    assert (row["bad"], row["total"]) == (5.0, 10.0) == (sum(s.error for s in in_5m), len(in_5m))
    assert row["error_ratio"] == 0.5
    assert row["burn_rate"] == pytest.approx(50.0, rel=1e-12)
    hour = got.filter(
        (pl.col("service_name") == "api") & (pl.col("time") == t) & (pl.col("window") == "1h")
    ).row(0, named=True)
    assert (hour["bad"], hour["total"]) == (20.0, 120.0)


def test_null_good_is_left_out_as_slo_does(
    store: Path, frame: pl.DataFrame, spans: list[Span]
) -> None:
    good = pl.col(TOKENS) < 1000  # null where the span has no token count
    assert frame.select(good.is_null().sum()).item() == sum(s.tokens is None for s in spans)
    got = burn_rates(store, 0.9, good=good, windows=["30m"], by="service_name")
    want = slo.burn_rates(frame.with_columns(is_good=good), 0.9, windows=["30m"], by="service_name")
    assert_frame_equal(got, want, check_exact=True)
    # rag, 30m window ending 03:00: events with a token count, and those >= 1000, by hand
    t = dt.datetime(2026, 11, 3, 3, tzinfo=UTC)
    inside = [
        s
        for s in spans
        if s.service == "rag" and t - dt.timedelta(minutes=30) <= s.start < t and s.tokens
    ]
    row = got.filter((pl.col("service_name") == "rag") & (pl.col("time") == t)).row(0, named=True)
    assert row["total"] == len(inside)
    assert row["bad"] == sum(s.tokens >= 1000 for s in inside if s.tokens is not None)


def test_alerts_equal_slo_and_hand_checked_page(store: Path, frame: pl.DataFrame) -> None:
    got = alerts(store, 0.99, good=GOOD, by="service_name")
    want = slo.alerts(frame.with_columns(is_good=GOOD), 0.99, by="service_name")
    assert_frame_equal(got, want, check_exact=True)
    # api: 1h ratio first exceeds 0.144 with 18 errors in 120 spans at 21:18, with 5 of
    # the last 10 bad; the 5m window holds at most one error from 21:24 (10 < 14.4).
    page = got.filter((pl.col("service_name") == "api") & (pl.col("long_window") == "1h"))
    assert page.height == 1
    row = page.row(0, named=True)
    assert row["severity"] == "page"
    assert row["start"] == dt.datetime(2026, 11, 2, 21, 18, tzinfo=UTC)
    assert row["end"] == dt.datetime(2026, 11, 2, 21, 24, tzinfo=UTC)
    assert row["burn_rate"] == pytest.approx(20 / 120 / 0.01, rel=1e-12)
    assert row["short_burn_rate"] == pytest.approx(50.0, rel=1e-12)
    assert row["resolved"] is True
    # options passed through: a policy, merge_gap, a filter, an SLO target
    policy = slo.AlertPolicy((slo.BurnRateRule("page", "10m", "2m", 5.0),))
    target = slo.SLO("availability", target=0.995, time_window="7d")
    api = {"service_name": "api"}
    got = alerts(store, target, good=GOOD, policy=policy, merge_gap="5m", filters=api)
    want = slo.alerts(
        frame.filter(pl.col("service_name") == "api").with_columns(is_good=GOOD),
        target,
        policy=policy,
        merge_gap="5m",
    )
    assert_frame_equal(got, want, check_exact=True)
    assert got.height >= 1


def test_timeslices_slo_and_resolution(store: Path, frame: pl.DataFrame) -> None:
    target = slo.SLO(
        "avail",
        target=0.9,
        budgeting_method="Timeslices",
        time_slice_target=0.95,
        time_slice_window="5m",
    )
    got = burn_rates(store, target, good=GOOD, windows=["1h"], by="service_name")
    want = slo.burn_rates(
        frame.with_columns(is_good=GOOD), target, windows=["1h"], by="service_name"
    )
    assert_frame_equal(got, want, check_exact=True)
    got = burn_rates(store, 0.99, good=GOOD, windows=["30m"], resolution="10m")
    want = slo.burn_rates(frame.with_columns(is_good=GOOD), 0.99, windows=["30m"], resolution="10m")
    assert_frame_equal(got, want, check_exact=True)
    assert got["time"].dt.minute().unique().sort().to_list() == [0, 10, 20, 30, 40, 50]


def test_burn_rates_and_alerts_on_cluster_equal_local(store: Path, client: Any) -> None:
    local = burn_rates(store, 0.99, good=GOOD, windows=["5m", "6h"], by="service_name")
    remote = burn_rates(
        store, 0.99, good=GOOD, windows=["5m", "6h"], by="service_name", client=client
    )
    assert_frame_equal(remote, local, check_exact=True)
    assert alerts(store, 0.99, good=GOOD, client=client).equals(alerts(store, 0.99, good=GOOD))


def test_pandas_backend_and_empty_store(store: Path, tmp_path: Path) -> None:
    polars_out = burn_rates(store, 0.99, good=GOOD, windows=["5m"])
    pandas_out = burn_rates(store, 0.99, good=GOOD, windows=["5m"], backend="pandas")
    assert pandas_out.shape == polars_out.shape
    assert pandas_out["bad"].tolist() == polars_out["bad"].to_list()
    assert str(pandas_out["time"].dtype) == "datetime64[ns, UTC]"
    assert burn_rates(tmp_path / "empty", 0.99, good=GOOD).height == 0
    assert alerts(tmp_path / "empty", 0.99, good=GOOD).height == 0


def test_burn_rates_and_alerts_parameter_errors(store: Path) -> None:
    with pytest.raises(
        ParameterError,
        match=r"The 'target' parameter of scale.burn_rates must be a number strictly between "
        r"0 and 1 \(0.999 for 99.9 %\). Got 99.9 instead.",
    ):
        burn_rates(store, 99.9, good=GOOD)
    with pytest.raises(ParameterError, match=r"The 'target' parameter of scale\.alerts"):
        alerts(store, 0, good=GOOD)
    with pytest.raises(
        ParameterError, match=r"The 'good' parameter of scale\.burn_rates must be a polars"
    ):
        burn_rates(store, 0.99, good="status_code")  # type: ignore[arg-type]
    with pytest.raises(
        ParameterError,
        match=r"The 'resolution' parameter of scale.burn_rates must be a whole number of "
        r"minutes \(the store is counted per minute\). Got '30s' instead.",
    ):
        burn_rates(store, 0.99, good=GOOD, resolution="30s")
    with pytest.raises(ParameterError, match=r"must be a multiple of the resolution"):
        burn_rates(store, 0.99, good=GOOD, windows=["5m", "15m"], resolution="10m")
    with pytest.raises(ParameterError, match=r"The 'windows' parameter of scale\.burn_rates"):
        burn_rates(store, 0.99, good=GOOD, windows="5m")  # type: ignore[arg-type]
    with pytest.raises(
        ParameterError,
        match=r"The 'by' parameter of scale.burn_rates must name columns of the store's "
        r"table \(available: 'trace_id, .*Got 'pool' instead.",
    ):
        burn_rates(store, 0.99, good=GOOD, by="pool")
    sliced = slo.SLO(
        "s", 0.9, budgeting_method="Timeslices", time_slice_target=0.9, time_slice_window="30s"
    )
    with pytest.raises(
        ParameterError, match=r"time slices are whole minutes.*Got time_slice_window 30s"
    ):
        burn_rates(store, sliced, good=GOOD)
    with pytest.raises(ParameterError, match=r"The 'policy' parameter of scale\.alerts"):
        alerts(store, 0.99, good=GOOD, policy="workbook")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"The 'merge_gap' parameter of scale\.alerts"):
        alerts(store, 0.99, good=GOOD, merge_gap="-1m")
    with pytest.raises(ParameterError, match=r"The 'table' parameter of scale\.alerts"):
        alerts(store, 0.99, good=GOOD, table="traces")  # type: ignore[arg-type]
    with pytest.raises(
        ParameterError, match=r"The 'start' filter of scale\.burn_rates must be a time-zone-aware"
    ):
        burn_rates(store, 0.99, good=GOOD, filters={"start": dt.datetime(2026, 11, 2)})
    with pytest.raises(ParameterError, match=r"The 'backend' parameter of scale\.burn_rates"):
        burn_rates(store, 0.99, good=GOOD, backend="arrow")  # type: ignore[arg-type]


# --- drift ------------------------------------------------------------------------------


REFERENCE = (T0, T0 + dt.timedelta(hours=2))


def _windowed(frame: pl.DataFrame, column: str, test: str, **options: Any) -> pl.DataFrame:
    out: pl.DataFrame = tdrift.windowed(
        frame, reference=REFERENCE, columns=[column], tests={column: test}, **options
    )
    return out


def assert_same_drift(got: pl.DataFrame, want: pl.DataFrame) -> None:
    """Equal frames, the statistics and p-values to 1e-12."""
    assert got.columns == want.columns
    assert got.schema == want.schema
    exact = [c for c in got.columns if c not in ("statistic", "p_value", "p_value_adjusted")]
    assert_frame_equal(got.select(exact), want.select(exact), check_exact=True)
    for c in ("statistic", "p_value", "p_value_adjusted"):
        assert got[c].is_null().to_list() == want[c].is_null().to_list(), c
        a, b = got[c].drop_nulls().to_numpy(), want[c].drop_nulls().to_numpy()
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=c)


@pytest.mark.parametrize("test", ["psi", "jensenshannon", "chisquare"])
@pytest.mark.parametrize("column", ["duration_ms", TOKENS, LOCALE, "status_code"])
def test_drift_equals_windowed_on_collected_frame(
    store: Path, frame: pl.DataFrame, column: str, test: str
) -> None:
    got = drift(store, column, reference=REFERENCE, every="1h", test=test)
    want = _windowed(frame, column, test, every="1h")
    assert_same_drift(got, want)
    assert got.height == 10  # 20:00 ... 05:00
    empty = got.filter(pl.col("window_start") == GAP[0]).row(0, named=True)
    assert (empty["n_current"], empty["nulls_current"]) == (0, 0)
    assert empty["statistic"] is None
    assert empty["drifted"] is None


def test_drift_counts_and_statistic_by_hand(store: Path, spans: list[Span]) -> None:
    got = drift(store, LOCALE, reference=REFERENCE, every="2h", test="psi")
    ref = [s.locale for s in spans if REFERENCE[0] <= s.start < REFERENCE[1]]
    ref_values = [v for v in ref if v is not None]
    assert got["n_reference"].unique().to_list() == [len(ref_values)]
    assert got["nulls_reference"].unique().to_list() == [ref.count(None)]
    start = dt.datetime(2026, 11, 3, 2, tzinfo=UTC)  # 02:00-04:00: after the shift
    cur = [s.locale for s in spans if start <= s.start < start + dt.timedelta(hours=2)]
    cur_values = [v for v in cur if v is not None]
    row = got.filter(pl.col("window_start") == start).row(0, named=True)
    assert (row["n_current"], row["nulls_current"]) == (len(cur_values), cur.count(None))
    psi = 0.0
    for cat in {*ref_values, *cur_values}:
        r = ref_values.count(cat) / len(ref_values) or 1e-4
        c = cur_values.count(cat) / len(cur_values) or 1e-4
        psi += (c - r) * math.log(c / r)
    assert row["statistic"] == pytest.approx(psi, rel=1e-12)
    assert row["drifted"] is True
    assert row["reason"] == (
        "categorical; psi set by the caller; PSI bands: <0.1 none, 0.1-0.25 moderate, >=0.25 major"
    )
    before = got.filter(pl.col("window_start") == REFERENCE[0]).row(0, named=True)
    assert before["drifted"] is False


@pytest.mark.parametrize(
    ("options", "filters"),
    [
        ({"start": "2026-11-02T20:30:00Z", "end": "2026-11-03T07:00:00Z", "bins": 7}, None),
        ({"every": "90m", "threshold": 0.2}, {"service_name": "api"}),
        (
            {"start": dt.datetime(2026, 11, 2, 22, tzinfo=UTC)},
            {
                "start": dt.datetime(2026, 11, 2, 21, 10, tzinfo=UTC),
                "end": dt.datetime(2026, 11, 3, 4, 5, tzinfo=UTC),
            },
        ),
    ],
)
def test_drift_period_bins_threshold_and_filters(
    store: Path, options: dict[str, Any], filters: dict[str, Any] | None
) -> None:
    data = scale.scan(store, filters=filters).collect()
    options = dict(options)
    every = options.pop("every", "1h")
    threshold = options.pop("threshold", None)
    for column, test in ((TOKENS, "psi"), (LOCALE, "chisquare")):
        bins = options.get("bins") if column == TOKENS else None
        rest = {k: v for k, v in options.items() if k != "bins"}
        got = drift(
            store,
            column,
            reference=REFERENCE,
            every=every,
            test=test,
            bins=bins,
            filters=filters,
            threshold=threshold,
            **rest,
        )
        thresholds = None if threshold is None else {column: threshold}
        want = _windowed(data, column, test, every=every, bins=bins, thresholds=thresholds, **rest)
        assert_same_drift(got, want)
        assert got.height > 0


def test_drift_with_fixed_edges_equals_histogram(store: Path, frame: pl.DataFrame) -> None:
    edges = [100.0, 400.0, 1000.0]
    got = drift(store, TOKENS, reference=REFERENCE, every="2h", test="chisquare", edges=edges)

    # recompute the 02:00 window's chi-square from numpy counts of the collected frame
    def counts(lo: dt.datetime, hi: dt.datetime) -> np.ndarray:
        x = frame.filter(pl.col("start_time").is_between(lo, hi, closed="left"))[TOKENS]
        x = x.drop_nulls().to_numpy()
        return np.bincount(np.searchsorted(edges, x, side="right"), minlength=4).astype(float)

    from scipy.stats import chi2_contingency

    lo = dt.datetime(2026, 11, 3, 2, tzinfo=UTC)
    table = np.vstack([counts(*REFERENCE), counts(lo, lo + dt.timedelta(hours=2))])
    table = table[:, table.sum(axis=0) > 0]
    stat, p, *_ = chi2_contingency(table, correction=False)
    row = got.filter(pl.col("window_start") == lo).row(0, named=True)
    assert row["statistic"] == pytest.approx(stat, rel=1e-12)
    assert row["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert row["n_reference"] == int(table[0].sum())


@pytest.mark.parametrize(("column", "test"), [("duration_ms", "psi"), (LOCALE, "jensenshannon")])
def test_drift_on_cluster_equals_local_and_windowed(
    store: Path, frame: pl.DataFrame, client: Any, column: str, test: str
) -> None:
    local = drift(store, column, reference=REFERENCE, every="3h", test=test)
    remote = drift(store, column, reference=REFERENCE, every="3h", test=test, client=client)
    assert_same_drift(remote, local)
    assert_same_drift(remote, _windowed(frame, column, test, every="3h"))
    assert remote["n_current"].sum() + remote["nulls_current"].sum() == frame.height


def test_drift_on_split_sample_equals_windowed(tmp_path: Path) -> None:
    lines = gzip.decompress(SAMPLE.read_bytes()).splitlines(keepends=True)
    (tmp_path / "src").mkdir()
    for k in range(3):
        (tmp_path / "src" / f"t{k}.jsonl").write_bytes(b"".join(lines[k::3]))
    scale.ingest(tmp_path / "src", tmp_path / "store")
    data = scale.scan(tmp_path / "store").collect()
    reference = ("2026-11-02T00:00:00Z", "2026-11-04T00:00:00Z")
    for column, test in ((LOCALE, "jensenshannon"), (TOKENS, "psi")):
        got = drift(tmp_path / "store", column, reference=reference, every="1d", test=test)
        want = tdrift.windowed(
            data, reference=reference, every="1d", columns=[column], tests={column: test}
        )
        assert_same_drift(got, want)
        assert got.height == 7
    assert burn_rates(tmp_path / "store", 0.999, good=GOOD, by="service_name").equals(
        slo.burn_rates(data.with_columns(is_good=GOOD), 0.999, by="service_name")
    )


def test_drift_empty_period_and_pandas(store: Path, tmp_path: Path) -> None:
    out = drift(tmp_path / "none", "status_code", reference=REFERENCE)
    assert out.height == 0
    assert out.columns == ["window_start", *_RESULT_SCHEMA]
    late = drift(store, LOCALE, reference=REFERENCE, start="2026-11-04T00:00:00Z")
    assert late.height == 0
    pdf = drift(store, LOCALE, reference=REFERENCE, every="5h", backend="pandas")
    pol = drift(store, LOCALE, reference=REFERENCE, every="5h")
    assert pdf["n_current"].tolist() == pol["n_current"].to_list()
    assert pdf["statistic"].tolist() == pol["statistic"].to_list()


def test_drift_parameter_errors(store: Path) -> None:
    with pytest.raises(
        ParameterError,
        match=r"The 'test' parameter of scale.drift must be 'psi', 'jensenshannon' or "
        r"'chisquare'. Got 'kl' instead.",
    ):
        drift(store, TOKENS, reference=REFERENCE, test="kl")
    for test in ("ks", "wasserstein"):
        with pytest.raises(
            ParameterError,
            match=rf"Got '{test}' instead: {test} needs the raw samples, which the store's "
            r"mergeable counts do not keep. Use 'psi' or 'chisquare'",
        ):
            drift(store, TOKENS, reference=REFERENCE, test=test)
    with pytest.raises(
        ParameterError,
        match=r"The 'column' parameter of scale.drift must name a column of the store's table "
        r"\(available: .*Got 'tokens' instead.",
    ):
        drift(store, "tokens", reference=REFERENCE)
    with pytest.raises(ParameterError, match=r"must name a numeric, string or boolean column"):
        drift(store, "events", reference=REFERENCE)
    with pytest.raises(ParameterError, match=r"The 'edges' parameter of scale\.drift applies to"):
        drift(store, LOCALE, reference=REFERENCE, edges=[1.0])
    with pytest.raises(ParameterError, match=r"The 'bins' parameter of scale\.drift must be None"):
        drift(store, TOKENS, reference=REFERENCE, edges=[1.0], bins=5)
    with pytest.raises(ParameterError, match=r"strictly increasing numbers\. Got \[2.0, 1.0\]"):
        drift(store, TOKENS, reference=REFERENCE, edges=[2.0, 1.0])
    with pytest.raises(ParameterError, match=r"The 'bins' parameter of scale\.drift must be an"):
        drift(store, TOKENS, reference=REFERENCE, bins=1)
    with pytest.raises(
        ParameterError, match=r"The 'every' parameter of scale\.drift must be a whole"
    ):
        drift(store, TOKENS, reference=REFERENCE, every="1500ns")
    with pytest.raises(ParameterError, match=r"The 'reference' parameter of scale\.drift must end"):
        drift(store, TOKENS, reference=(REFERENCE[1], REFERENCE[0]))
    with pytest.raises(ParameterError, match=r"The 'threshold' parameter of scale\.drift"):
        drift(store, TOKENS, reference=REFERENCE, threshold=-1)
    with pytest.raises(
        ParameterError,
        match=r"The reference of scale.drift has no value in column '.*' \(0 rows, all null\)",
    ):
        drift(store, TOKENS, reference=GAP)
    with pytest.raises(ParameterError, match=r"has no value in column .*\(0 rows"):
        drift(store, LOCALE, reference=GAP)
