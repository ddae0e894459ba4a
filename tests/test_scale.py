"""toolkit.scale: partitioned store, idempotent ingest, Dask cluster, mergeable aggregates."""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import gzip
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import toolkit
from toolkit import scale
from toolkit.errors import (
    FormatError,
    ParameterError,
    SkippedRecordsWarning,
    ToolkitError,
    TypePromotionWarning,
)
from toolkit.scale import _store
from toolkit.schema import SPANS, validate

distributed = pytest.importorskip("distributed")

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "traces.jsonl.gz"
TRACE = "5b8efff798038103d269b633813fc60c"
DAY = 1_544_659_200_000_000_000  # 2018-12-13T00:00:00Z in ns


def kv(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "value": value}


def span_line(service: str, spans: list[tuple[int, int, dict[str, Any] | None]]) -> str:
    """One OTLP JSON line: (index, start ns, extra attribute value or None) per span."""
    out = []
    for i, start, extra in spans:
        attrs = [kv("gen_ai.usage.input_tokens", {"intValue": str(10 + i)})]
        if extra is not None:
            attrs.append(kv("x", extra))
        out.append(
            {
                "traceId": TRACE,
                "spanId": f"{i + 1:016x}",
                "name": f"chat {i}",
                "kind": 3,
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(start + (i + 1) * 1_000_000),
                "attributes": attrs,
                "status": {"code": 2 if i % 3 == 0 else 1},
            }
        )
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [kv("service.name", {"stringValue": service})]},
                "scopeSpans": [{"scope": {"name": "s"}, "spans": out}],
            }
        ]
    }
    return json.dumps(doc) + "\n"


def small_export(d: Path) -> list[Path]:
    """Three files, two services ('api', 'a/b c' needing escaping), two UTC days, and an
    attribute 'x' that is Int64 in one file, Float64 in another and absent in the third."""
    d.mkdir(parents=True, exist_ok=True)
    f1 = d / "one.jsonl"
    f1.write_text(
        span_line(
            "api",
            [(0, DAY + 5, {"intValue": "9007199254740993"}), (1, DAY + (60e9).__int__(), None)],
        )
        + span_line("a/b c", [(2, DAY + 86_400_000_000_000 - 1, {"intValue": "3"})])
    )
    f2 = d / "two.jsonl.gz"
    f2.write_bytes(
        gzip.compress(
            span_line("api", [(3, DAY + 86_400_000_000_000, {"doubleValue": 0.5})]).encode()
        )
    )
    f3 = d / "sub" / "three.jsonl"
    f3.parent.mkdir()
    f3.write_text(
        span_line("a/b c", [(4, DAY + 120_000_000_000, None), (5, DAY + (121e9).__int__(), None)])
    )
    return [f1, f2, f3]


def split_sample(d: Path, n: int) -> list[Path]:
    """The sample export's traces split into ``n`` gzip files of whole lines."""
    lines = gzip.decompress(SAMPLE.read_bytes()).splitlines(keepends=True)
    d.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(n):
        p = d / f"traces-{k:02d}.jsonl.gz"
        p.write_bytes(gzip.compress(b"".join(lines[k::n])))
        files.append(p)
    return files


def canon(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(sorted(frame.columns)).sort(["trace_id", "span_id", "start_time"])


def assert_same_rows(store: Path, files: list[Path], promoted: bool = False) -> pl.DataFrame:
    if promoted:  # both readers say so, with the same promotion
        with pytest.warns(TypePromotionWarning, match="'attributes.x' -> Float64"):
            got = scale.scan(store).collect()
        with pytest.warns(TypePromotionWarning, match="'attributes.x' -> Float64"):
            want = toolkit.load_spans(files, progress=False)
    else:
        got = scale.scan(store).collect()
        want = toolkit.load_spans(files, progress=False)
    validate(got, SPANS)
    assert got.height == want.height
    assert dict(got.schema) == dict(want.schema)
    assert canon(got).equals(canon(want))
    return got


@pytest.fixture
def client(dask_client: Any) -> Any:
    """The session's two-worker LocalCluster (tests/conftest.py)."""
    return dask_client


# --- ingestion ------------------------------------------------------------------------


def test_local_ingest_equals_load_spans_and_partitions(tmp_path: Path) -> None:
    files = small_export(tmp_path / "src")
    r = scale.ingest(tmp_path / "src", tmp_path / "store")
    assert r.rows == 6
    assert len(r.ingested) == 3
    assert r.skipped == []
    got = assert_same_rows(tmp_path / "store", files, promoted=True)
    # Int64 in one file, Float64 in another, absent in a third: unified to Float64 as
    # load_spans does; the Int64 2**53+1 of a Float64 column is the same float either way.
    assert got.schema["attributes.x"] == pl.Float64
    dirs = sorted(
        p.parent.relative_to(tmp_path / "store" / "spans").as_posix()
        for p in (tmp_path / "store" / "spans").rglob("*.parquet")
    )
    assert dirs == [
        "date=2018-12-13/service=a%2Fb%20c",
        "date=2018-12-13/service=a%2Fb%20c",
        "date=2018-12-13/service=api",
        "date=2018-12-14/service=api",
    ]
    assert r.parts == 4


def test_cluster_ingest_of_split_sample_equals_load_spans(tmp_path: Path, client: Any) -> None:
    files = split_sample(tmp_path / "src", 6)
    r = scale.ingest(str(tmp_path / "src" / "*.jsonl.gz"), tmp_path / "store", client=client)
    assert len(r.ingested) == 6
    assert r.rows == 48_109
    got = assert_same_rows(tmp_path / "store", files)
    assert got["service_name"].value_counts().sort("service_name").rows() == [
        ("llm-gateway", 33_436),
        ("vllm-h100", 8_151),
        ("vllm-l4", 6_522),
    ]
    again = scale.ingest(tmp_path / "src", tmp_path / "store", client=client)
    assert again.ingested == []
    assert len(again.skipped) == 6
    assert again.rows == 0


def test_rerun_adds_only_new_files(tmp_path: Path) -> None:
    files = small_export(tmp_path / "src")
    scale.ingest(files[:2], tmp_path / "store")
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "store").rglob("*.parquet")}
    r = scale.ingest(tmp_path / "src", tmp_path / "store")
    assert r.ingested == [str(files[2].resolve())]
    assert r.rows == 2
    assert sorted(r.skipped) == sorted(str(f.resolve()) for f in files[:2])
    for p, mtime in before.items():  # parts of skipped files are not rewritten
        assert p.stat().st_mtime_ns == mtime
    assert_same_rows(tmp_path / "store", files, promoted=True)


def test_failure_on_second_file_then_rerun_loses_and_duplicates_nothing(
    tmp_path: Path, client: Any
) -> None:
    files = small_export(tmp_path / "src")
    good = files[1].read_bytes()
    files[1].write_text('{"resourceSpans": [}\n')  # the 2nd file fails on its worker
    with pytest.raises(FormatError) as info:
        scale.ingest(tmp_path / "src", tmp_path / "store", client=client)
    assert str(files[1]) in str(info.value)
    assert "malformed JSON" in str(info.value)
    manifest = json.loads((tmp_path / "store" / "_manifest" / "spans.json").read_text())
    assert sorted(manifest["sources"]) == sorted(str(f.resolve()) for f in (files[0], files[2]))
    files[1].write_bytes(good)  # fixed (size and mtime change)
    r = scale.ingest(tmp_path / "src", tmp_path / "store", client=client)
    assert r.ingested == [str(files[1].resolve())]
    assert r.rows == 1
    assert_same_rows(tmp_path / "store", files, promoted=True)


def test_crash_after_parts_before_manifest_is_cleaned_on_rerun(tmp_path: Path) -> None:
    files = small_export(tmp_path / "src")
    scale.ingest(files[0], tmp_path / "store")
    # A worker died after writing file 3's parts (and a half-written temp) but before the
    # driver recorded it: the parts are orphans of no manifest entry.
    key = str(files[2].resolve())
    _store._ingest_file(key, _store._open_store(tmp_path / "store"), "spans", set(), "raise")
    tmp = tmp_path / "store" / "spans" / "date=2018-12-13" / "service=api" / ".part-x.parquet.9.tmp"
    tmp.write_bytes(b"PAR1 half")
    r = scale.ingest(tmp_path / "src", tmp_path / "store")
    assert r.orphans_removed == 2
    assert not tmp.exists()
    assert sorted(r.ingested) == sorted(str(f.resolve()) for f in files[1:])
    assert_same_rows(tmp_path / "store", files, promoted=True)


def test_changed_file_replaces_its_old_parts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    f = src / "a.jsonl"
    f.write_text(span_line("old", [(0, DAY, None), (1, DAY + 1, None)]))
    scale.ingest(f, tmp_path / "store")
    f.write_text(span_line("new", [(7, DAY + 86_400_000_000_000 * 3, None)]))
    r = scale.ingest(f, tmp_path / "store")
    assert r.rows == 1
    got = assert_same_rows(tmp_path / "store", [f])
    assert got.select("service_name", "span_id").rows() == [("new", "0000000000000008")]
    assert not (tmp_path / "store" / "spans" / "date=2018-12-13").exists() or not any(
        (tmp_path / "store" / "spans" / "date=2018-12-13").rglob("*.parquet")
    )


# --- scan -----------------------------------------------------------------------------


def test_scan_prunes_partitions_and_filters_rows(tmp_path: Path) -> None:
    files = split_sample(tmp_path / "src", 3)
    scale.ingest(files, tmp_path / "store")
    start = dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC)
    end = dt.datetime(2026, 11, 5, tzinfo=dt.UTC)
    filters = {"service_name": "vllm-l4", "start": start, "end": end}
    sel = _store._select(tmp_path / "store", "spans", filters, "scan")
    opened = {(Path(p).parent.parent.name, Path(p).parent.name) for p, _ in sel.files}
    assert opened == {
        ("date=2026-11-03", "service=vllm-l4"),
        ("date=2026-11-04", "service=vllm-l4"),
    }
    got = scale.scan(tmp_path / "store", filters=filters).collect()
    full = toolkit.load_spans(files, progress=False)
    want = full.filter(
        (pl.col("service_name") == "vllm-l4")
        & (pl.col("start_time") >= start)
        & (pl.col("start_time") < end)
    )
    assert 0 < got.height == want.height
    assert canon(got.select(want.columns)).equals(canon(want))
    # a column projection and a further filter are pushed into the Parquet reads
    plan = scale.scan(tmp_path / "store").select("duration_ms").explain()
    assert "PROJECT" in plan or "project" in plan


def test_scan_parameter_errors(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="time-zone-aware datetime"):
        scale.scan(tmp_path, filters={"start": dt.datetime(2026, 11, 3)})
    with pytest.raises(ParameterError, match=r"The 'filters' parameter of scale\.scan must be"):
        scale.scan(tmp_path, filters={"service": "x"})
    with pytest.raises(
        ParameterError, match=r"The 'table' parameter of scale\.ingest must be one of"
    ):
        scale.ingest(tmp_path, tmp_path / "s", table="gpu")  # type: ignore[arg-type]


# --- aggregations ---------------------------------------------------------------------


def test_minute_counts_cluster_equals_local_equals_hand_count(tmp_path: Path, client: Any) -> None:
    files = split_sample(tmp_path / "src", 4)
    scale.ingest(files, tmp_path / "store", client=client)
    good = pl.col("status_code") != "error"
    local = scale.minute_counts(tmp_path / "store", good)
    remote = scale.minute_counts(tmp_path / "store", good, client=client)
    assert local.equals(remote)
    # independently: count rows per (minute, service) in Python
    full = toolkit.load_spans(files, progress=False)
    totals: collections.Counter[tuple[Any, ...]] = collections.Counter()
    goods: collections.Counter[tuple[Any, ...]] = collections.Counter()
    for t, s, code in full.select("start_time", "service_name", "status_code").iter_rows():
        key = (t.replace(second=0, microsecond=0), s)
        totals[key] += 1
        goods[key] += code != "error"
    assert local.height == len(totals)
    assert local["total"].sum() == 48_109
    for minute, service, g, unknown, n in local.iter_rows():
        assert (goods[(minute, service)], totals[(minute, service)]) == (g, n)
        assert unknown == 0
    # a good expression that is null where the SLI does not apply: counted in unknown
    name = "attributes.gen_ai.latency.time_to_first_token"
    ttft = pl.col(name)
    applies = scale.minute_counts(tmp_path / "store", ttft <= 10.0, by=[], client=client)
    assert applies["unknown"].sum() == full[name].null_count() == 33_436
    assert applies["good"].sum() == full.filter(ttft <= 10.0).height


def test_latency_sketches_cluster_equals_local_and_within_alpha(
    tmp_path: Path, client: Any
) -> None:
    files = split_sample(tmp_path / "src", 4)
    scale.ingest(files, tmp_path / "store", client=client)
    local = scale.latency_sketches(tmp_path / "store")
    remote = scale.latency_sketches(tmp_path / "store", client=client)
    assert local == remote
    assert sorted(local) == [("llm-gateway",), ("vllm-h100",), ("vllm-l4",)]
    full = toolkit.load_spans(files, progress=False)
    table = scale.latency_percentiles(tmp_path / "store", (0.5, 0.99), client=client)
    assert table.columns == ["service_name", "count", "p50", "p99"]
    for service, count, p50, p99 in table.iter_rows():
        x = full.filter(pl.col("service_name") == service)["duration_ms"].to_numpy()
        assert count == x.size
        for q, est in ((0.5, p50), (0.99, p99)):
            exact = float(np.quantile(x, q, method="lower"))
            assert abs(est - exact) <= 0.01 * exact


def test_ddsketch_heavy_tailed_within_alpha_and_mergeable() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate(
        [rng.lognormal(3.0, 2.0, 150_000), rng.pareto(1.1, 50_000) * 10 + 1e-3, np.zeros(7)]
    )
    rng.shuffle(x)
    alpha = 0.01
    whole = scale.DDSketch(alpha)
    whole.add(x)
    halves = scale.DDSketch(alpha)
    halves.add(x[:80_000])
    other = scale.DDSketch(alpha)
    other.add(x[80_000:])
    assert halves.merge(other) == whole
    assert whole.count == x.size
    for q in (0.0, 1e-5, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0):
        exact = float(np.quantile(x, q, method="lower"))
        assert abs(whole.quantile(q) - exact) <= alpha * exact, q
    assert len(whole.bins) < 3_000  # memory is logarithmic in the range, not linear in n


def test_ddsketch_errors() -> None:
    with pytest.raises(ParameterError, match=r"'alpha' parameter of scale\.DDSketch"):
        scale.DDSketch(1.5)
    s = scale.DDSketch()
    with pytest.raises(ParameterError, match=r"finite and non-negative\. Got -1\.0"):
        s.add([1.0, -1.0])
    with pytest.raises(ParameterError, match=r"must have alpha 0\.01"):
        s.merge(scale.DDSketch(0.02))
    assert np.isnan(s.quantile(0.5))


# --- command line ---------------------------------------------------------------------


def test_cli_ingest_starts_local_cluster_and_prints_dashboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = small_export(tmp_path / "src")
    parser = argparse.ArgumentParser(prog="genai-sre")
    scale.register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["ingest", str(tmp_path / "src"), "--store", str(tmp_path / "store"), "--workers", "2"]
    )
    with warnings.catch_warnings():
        # distributed warns when the default dashboard port 8787 is taken (another
        # cluster of this suite or of the machine): it then picks a free port, as intended.
        warnings.filterwarnings(
            "ignore", message="Port 8787 is already in use", category=UserWarning
        )
        assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "Dask dashboard: http://" in out
    assert (
        "ingested 3 file(s), 6 rows in 4 part(s); 0 already in the store; "
        "0 duplicate(s) of stored content" in out
    )
    assert_same_rows(tmp_path / "store", files, promoted=True)


def test_worker_killed_mid_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    # Process workers this time: one is SIGKILLed once the first file is recorded, while
    # the others are in flight; its tasks are rescheduled (the nanny restarts it), parts
    # it half-wrote are overwritten (same names) and the store ends exact.
    files = split_sample(tmp_path / "src", 12)
    manifest = tmp_path / "store" / "_manifest" / "spans.json"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        pids = c.run(os.getpid)
        killed: list[int] = []

        def killer() -> None:
            deadline = time.monotonic() + 30
            while not manifest.exists() and time.monotonic() < deadline:
                time.sleep(0.005)
            victim = sorted(pids.values())[0]
            done_at_kill = len(json.loads(manifest.read_text())["sources"])
            os.kill(victim, signal.SIGKILL)
            killed.append(done_at_kill)

        thread = threading.Thread(target=killer)
        thread.start()
        r = scale.ingest(tmp_path / "src", tmp_path / "store", client=c)
        thread.join()
    assert killed  # the kill happened while files were still to do
    assert killed[0] < 12
    assert len(r.ingested) == 12
    assert r.rows == 48_109
    assert_same_rows(tmp_path / "store", files)


def test_group_counts_and_histogram_cluster_equal_local_and_numpy(
    tmp_path: Path, client: Any
) -> None:
    files = split_sample(tmp_path / "src", 4)
    scale.ingest(files, tmp_path / "store", client=client)
    full = toolkit.load_spans(files, progress=False)
    by = ["service_name", "status_code"]
    local = scale.group_counts(tmp_path / "store", by)
    assert local.equals(scale.group_counts(tmp_path / "store", by, client=client))
    want = collections.Counter(full.select(by).iter_rows())
    assert {(s, c): n for s, c, n in local.iter_rows()} == dict(want)
    assert local["count"].sum() == 48_109

    edges = [1.0, 10.0, 100.0, 1000.0, 10000.0]
    hist = scale.histogram(tmp_path / "store", "duration_ms", edges, by="service_name")
    remote = scale.histogram(
        tmp_path / "store", "duration_ms", edges, by="service_name", client=client
    )
    assert hist.equals(remote)
    assert hist.columns == ["service_name", "bin_lower", "bin_upper", "count"]
    for service in ("llm-gateway", "vllm-h100", "vllm-l4"):
        x = full.filter(pl.col("service_name") == service)["duration_ms"].to_numpy()
        counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=6)
        got = hist.filter(pl.col("service_name") == service)
        bounds = [-np.inf, *edges, np.inf]
        expected = [(bounds[i], bounds[i + 1], int(n)) for i, n in enumerate(counts.tolist()) if n]
        assert got.select("bin_lower", "bin_upper", "count").rows() == expected


def test_histogram_nulls_nan_and_edges_errors(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_text(span_line("api", [(0, DAY, {"doubleValue": 0.5}), (1, DAY, None), (2, DAY, None)]))
    f2 = tmp_path / "b.jsonl"
    f2.write_text(
        span_line("api", [(3, DAY, {"doubleValue": 7.0}), (4, DAY, {"doubleValue": 2.0})])
    )
    scale.ingest([f, f2], tmp_path / "store")
    h = scale.histogram(tmp_path / "store", "attributes.x", [1.0, 2.0])
    assert h.rows() == [(-np.inf, 1.0, 1), (2.0, np.inf, 2), (None, None, 2)]
    with pytest.raises(ParameterError, match=r"The 'edges' parameter of scale\.histogram must be"):
        scale.histogram(tmp_path / "store", "attributes.x", [2.0, 1.0])


def test_real_span_files_of_four_formats(real_data: Path, tmp_path: Path, client: Any) -> None:
    files = [
        real_data / "otel_proto_examples" / "trace.json",
        *sorted((real_data / "any_agent_genai_traces").glob("*.json")),
        *sorted((real_data / "jaeger").glob("*.json")),
        *sorted((real_data / "zipkin").glob("*.json")),
    ]
    store = tmp_path / "store"
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        r = scale.ingest(files, store, client=client)
        got = scale.scan(store).collect()
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = toolkit.load_spans(files, progress=False)
    # the worker's warning about the Jaeger file reaches the caller, as load_spans' does
    repeat = "1 span(s) in ui_01.json repeat a span id"
    assert [str(w.message)[:60] for w in ours if repeat in str(w.message)] == [
        str(w.message)[:60] for w in theirs if repeat in str(w.message)
    ]
    assert any(repeat in str(w.message) for w in ours)
    jaeger = real_data / "jaeger"
    n_jaeger = (
        1  # es_01.json is one Elasticsearch span document
        + len(json.loads((jaeger / "trace_success.json").read_text()))
        + len(json.loads((jaeger / "ui_01.json").read_text())["spans"])
    )
    assert r.rows == want.height == 1 + 37 + n_jaeger + 224
    validate(got, SPANS)
    assert dict(got.schema) == dict(want.schema)
    assert canon(got).equals(canon(want))


@pytest.mark.parametrize(
    ("table", "name", "loader"),
    [("logs", "logs.json", toolkit.load_logs), ("metrics", "metrics.json", toolkit.load_metrics)],
)
def test_real_logs_and_metrics_partition_on_time(
    real_data: Path, tmp_path: Path, table: Any, name: str, loader: Any
) -> None:
    path = real_data / "otel_proto_examples" / name
    r = scale.ingest(path, tmp_path / "store", table=table)
    got = scale.scan(tmp_path / "store", table).collect()
    want = loader(path, progress=False)
    assert r.rows == got.height == want.height
    assert dict(got.schema) == dict(want.schema)
    key = sorted(c for c in want.columns if want.schema[c] != pl.List)
    assert got.sort(key, nulls_last=True).equals(want.sort(key, nulls_last=True))
    days = sorted({p.parent.parent.name for p in (tmp_path / "store" / table).rglob("*.parquet")})
    assert days == sorted({f"date={d}" for d in want["time"].dt.strftime("%Y-%m-%d").unique()})


def test_to_dask_equals_scan(tmp_path: Path, client: Any) -> None:
    files = split_sample(tmp_path / "src", 3)
    scale.ingest(files, tmp_path / "store", client=client)
    filters = {"service_name": ["vllm-h100", "vllm-l4"]}
    ddf = scale.to_dask(tmp_path / "store", filters=filters, columns=["span_id", "duration_ms"])
    assert ddf.npartitions == 3 * 2 * 7  # a part per file, two services, seven days
    got = client.compute(ddf).result().sort_values("span_id").reset_index(drop=True)
    want = (
        scale.scan(tmp_path / "store", filters=filters)
        .select("span_id", "duration_ms")
        .sort("span_id")
        .collect()
    )
    assert len(got) == want.height == 8_151 + 6_522
    assert got["span_id"].tolist() == want["span_id"].to_list()
    assert got["duration_ms"].tolist() == want["duration_ms"].to_list()
    with pytest.raises(
        ParameterError, match=r"The 'columns' parameter of scale\.to_dask must name"
    ):
        scale.to_dask(tmp_path / "store", columns=["nope"])


# --- content hashes, locking, on_error, fsspec URLs -----------------------------------


def test_moved_and_copied_exports_are_recognised_by_content(tmp_path: Path) -> None:
    files = small_export(tmp_path / "src")
    first = scale.ingest(files, tmp_path / "store")
    parts_before = sorted((tmp_path / "store").rglob("*.parquet"))
    moved = tmp_path / "moved"
    moved.mkdir()
    target = moved / "renamed.jsonl"
    files[0].rename(target)  # the same bytes under another path
    copy = moved / "copy.jsonl.gz"
    copy.write_bytes(files[1].read_bytes())
    r = scale.ingest([target, copy], tmp_path / "store")
    assert (r.ingested, r.rows, r.parts) == ([], 0, 0)
    assert r.duplicates == sorted([str(target.resolve()), str(copy.resolve())])
    assert sorted((tmp_path / "store").rglob("*.parquet")) == parts_before
    manifest = json.loads((tmp_path / "store" / "_manifest" / "spans.json").read_text())
    assert len(manifest["sources"]) == 5
    assert len(manifest["contents"]) == 3
    sha = manifest["sources"][str(target.resolve())]["sha256"]
    assert sha == hashlib.sha256(target.read_bytes()).hexdigest()
    assert all(p.endswith(f"part-{sha[:20]}.parquet") for p in manifest["contents"][sha]["parts"])
    assert first.rows == 6
    assert_same_rows(tmp_path / "store", [target, *files[1:]], promoted=True)


def test_two_copies_in_one_run_are_written_once(tmp_path: Path, client: Any) -> None:
    src = tmp_path / "src"
    src.mkdir()
    line = span_line("api", [(0, DAY, None), (1, DAY + 1, None)])
    (src / "a.jsonl").write_text(line)
    (src / "b.jsonl").write_text(line)
    r = scale.ingest(src, tmp_path / "store", client=client)
    assert r.rows == 2
    assert len(r.ingested) == 1
    assert len(r.duplicates) == 1
    assert sorted(r.ingested + r.duplicates) == [str(src / "a.jsonl"), str(src / "b.jsonl")]
    assert scale.scan(tmp_path / "store").collect().height == 2


def test_rewritten_file_whose_old_content_is_held_elsewhere_keeps_those_parts(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    old = span_line("api", [(0, DAY, None)])
    (src / "a.jsonl").write_text(old)
    (src / "b.jsonl").write_text(old)
    scale.ingest(src, tmp_path / "store")
    (src / "a.jsonl").write_text(old + span_line("api", [(1, DAY + 5, None)]))  # appended
    r = scale.ingest(src, tmp_path / "store")
    assert r.ingested == [str(src / "a.jsonl")]
    assert r.rows == 2
    got = scale.scan(tmp_path / "store").collect()
    # b.jsonl still holds the old content: its single row stays, beside a.jsonl's two
    assert sorted(got["span_id"].to_list()) == [f"{1:016x}", f"{1:016x}", f"{2:016x}"]


def test_ingest_lock_refuses_a_second_ingest_and_is_released(tmp_path: Path) -> None:
    files = split_sample(tmp_path / "src", 6)
    store = tmp_path / "store"
    lock = store / "_manifest" / "spans.lock"
    errors: list[BaseException] = []
    results: list[scale.IngestResult] = []

    def first() -> None:
        try:
            results.append(scale.ingest(tmp_path / "src", store))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.001)
        # the lock appears whole (written, then linked into place): never empty
        holder = json.loads(lock.read_text())
        with pytest.raises(scale.StoreLockedError) as info:
            scale.ingest(tmp_path / "src", store)
    finally:
        # a run left going would change the warning filters under the next tests
        thread.join()
    assert not errors
    message = str(info.value)
    assert str(lock) in message
    assert f"process {os.getpid()} on host {socket.gethostname()!r}" in message
    assert holder["pid"] == os.getpid()
    assert not lock.exists()  # released by the first run
    assert results[0].rows == 48_109
    assert_same_rows(store, files)  # the refused run deleted nothing


def test_lock_released_after_a_failed_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"resourceSpans": [}\n')
    with pytest.raises(FormatError):
        scale.ingest(bad, tmp_path / "store")
    assert not (tmp_path / "store" / "_manifest" / "spans.lock").exists()


def test_stale_lock_of_a_dead_process_is_broken(tmp_path: Path) -> None:
    files = small_export(tmp_path / "src")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / "store" / "_manifest" / "spans.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(
        json.dumps({"host": socket.gethostname(), "pid": dead.pid, "started": "x", "token": "t"})
    )
    orphan = tmp_path / "store" / "spans" / "date=2018-12-13" / "service=api" / "part-0.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half")
    with pytest.warns(scale.StaleLockWarning, match=f"process {dead.pid} on this host"):
        r = scale.ingest(files, tmp_path / "store")
    assert r.orphans_removed == 1
    assert r.rows == 6
    assert not lock.exists()
    # a live holder on another host is never broken
    lock.write_text(json.dumps({"host": "elsewhere", "pid": 1, "started": "y", "token": "u"}))
    with pytest.raises(scale.StoreLockedError, match="host 'elsewhere', started y"):
        scale.ingest(files, tmp_path / "store")
    assert lock.exists()


def test_two_ingests_that_find_one_stale_lock_break_it_once(tmp_path: Path) -> None:
    """Forced timing: B read the stale lock, A broke it and took its own, then B tries to
    break what it read. B must not delete A's lock (before, both ran, and one deleted the
    other's in-flight part)."""
    from toolkit.scale._store import _acquire_lock, _break_stale, _Store

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = _Store(None, str(tmp_path / "store"), "")
    lock = tmp_path / "store" / "_manifest" / "spans.lock"
    lock.parent.mkdir(parents=True)
    stale = {"host": socket.gethostname(), "pid": dead.pid, "started": "x", "token": "t"}
    lock.write_text(json.dumps(stale))
    seen_by_b = lock.read_bytes()
    with pytest.warns(scale.StaleLockWarning):
        token_a = _acquire_lock(store, "spans")  # A breaks the stale lock and holds its own
    assert json.loads(lock.read_text())["token"] == token_a
    assert _break_stale(store, "_manifest/spans.lock", stale, seen_by_b) is False
    assert json.loads(lock.read_text())["token"] == token_a  # A's lock survived
    with pytest.raises(scale.StoreLockedError, match="another ingest"):
        _acquire_lock(store, "spans")  # B then finds A's live lock
    # while one ingest holds the break marker, another cannot break the same stale lock
    lock.write_text(json.dumps(stale))
    marker = lock.parent / "spans.lock.break-t"
    marker.write_bytes(b"")
    assert _break_stale(store, "_manifest/spans.lock", stale, lock.read_bytes()) is False
    assert lock.exists()
    assert marker.exists()  # the other ingest's marker is left to it


def test_on_error_skip_counts_bad_records_and_lists_unreadable_files(
    tmp_path: Path, client: Any
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    good = span_line("api", [(0, DAY, None), (1, DAY + 1, None)])
    (src / "a.jsonl").write_text(
        good + '{"resourceSpans": [}\n' + good.replace("0000000000000001", "0000000000000009")
    )
    (src / "b.txt").write_text("neither spans nor anything else\n")
    with pytest.warns(SkippedRecordsWarning) as caught:
        r = scale.ingest(src, tmp_path / "store", client=client, on_error="skip")
    messages = [str(w.message) for w in caught]
    assert any(str(src / "a.jsonl") in m and "line 2" in m for m in messages)
    assert any("skipped 1 source(s)" in m and str(src / "b.txt") in m for m in messages)
    assert r.ingested == [str(src / "a.jsonl")]
    assert r.rows == 4
    assert r.skipped_records == 1
    assert list(r.failed) == [str(src / "b.txt")]
    assert "b.txt" in r.failed[str(src / "b.txt")]
    manifest = json.loads((tmp_path / "store" / "_manifest" / "spans.json").read_text())
    assert list(manifest["sources"]) == [str(src / "a.jsonl")]
    assert (
        manifest["contents"][manifest["sources"][str(src / "a.jsonl")]["sha256"]]["skipped_records"]
        == 1
    )
    (src / "b.txt").unlink()
    (src / "c.jsonl").write_text(span_line("api", [(5, DAY + 9, None)]))
    r2 = scale.ingest(src, tmp_path / "store")  # retries what failed; the rest is skipped
    assert r2.ingested == [str(src / "c.jsonl")]
    assert r2.skipped == [str(src / "a.jsonl")]
    assert scale.scan(tmp_path / "store").collect().height == 5
    with pytest.raises(ParameterError, match=r"'on_error' parameter of scale\.ingest"):
        scale.ingest(src, tmp_path / "store", on_error="ignore")  # type: ignore[arg-type]


@pytest.fixture
def memfs() -> Iterator[Any]:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    root = f"/t{uuid.uuid4().hex}"
    yield fs, root
    fs.rm(root, recursive=True)


def test_fsspec_urls_for_sources_and_store(tmp_path: Path, memfs: Any, client: Any) -> None:
    # memory:// stands for an object store: no directories, no rename, uploads only; the
    # thread workers of `client` share this process's memory filesystem.
    fs, root = memfs
    files = small_export(tmp_path / "src")
    for f in files:
        fs.pipe(f"{root}/exports/{f.relative_to(tmp_path / 'src').as_posix()}", f.read_bytes())
    fs.pipe(f"{root}/exports/.hidden", b"not an export")
    store = f"memory://{root}/store"
    r = scale.ingest(f"memory://{root}/exports/", store, client=client)
    assert r.ingested == sorted(
        f"memory://{root}/exports/{n}" for n in ("one.jsonl", "sub/three.jsonl", "two.jsonl.gz")
    )
    assert r.rows == 6
    assert r.parts == 4
    assert not fs.exists(f"{root}/store/_manifest/spans.lock")
    assert sorted(fs.find(f"{root}/store/spans")) == sorted(
        f"{root}/store/spans/{rel}"
        for c in json.loads(fs.cat(f"{root}/store/_manifest/spans.json"))["contents"].values()
        for rel in c["parts"]
    )
    with pytest.warns(TypePromotionWarning):
        got = scale.scan(store).collect()
    with pytest.warns(TypePromotionWarning):
        want = toolkit.load_spans(files, progress=False)
    assert canon(got).equals(canon(want))
    with pytest.warns(TypePromotionWarning):
        local = scale.minute_counts(store, pl.col("status_code") != "error")
    with pytest.warns(TypePromotionWarning):
        remote = scale.minute_counts(store, pl.col("status_code") != "error", client=client)
    assert local.equals(remote)
    assert local["total"].sum() == 6
    # a glob URL, re-run: nothing new; a rewritten object is ingested again
    again = scale.ingest(f"memory://{root}/exports/*.jsonl", store)
    assert again.skipped == [f"memory://{root}/exports/one.jsonl"]
    assert again.rows == 0
    fs.pipe(f"{root}/exports/one.jsonl", span_line("api", [(9, DAY, None)]).encode())
    changed = scale.ingest(f"memory://{root}/exports/*.jsonl", store)
    assert changed.ingested == [f"memory://{root}/exports/one.jsonl"]
    assert changed.rows == 1
    after = scale.scan(store).collect()  # one.jsonl's Int64 'x' is gone: no promotion
    assert after.height == 4
    assert after.schema["attributes.x"] == pl.Float64


def test_fsspec_errors_name_the_url(tmp_path: Path, memfs: Any) -> None:
    fs, root = memfs
    good = span_line("api", [(0, DAY, None)])
    fs.pipe(f"{root}/bad.jsonl", (good + '{"resourceSpans": [}\n').encode())
    with pytest.raises(FormatError) as info:
        scale.ingest(f"memory://{root}/bad.jsonl", tmp_path / "store")
    assert f"memory://{root}/bad.jsonl, line 2: malformed JSON" in str(info.value)
    assert info.value.path == f"memory://{root}/bad.jsonl"
    assert "toolkit-ingest-" not in str(info.value)  # not the worker's scratch copy
    with pytest.raises(ParameterError, match="matched no file"):
        scale.ingest(f"memory://{root}/*.parquet", tmp_path / "store")
    with pytest.raises(ParameterError, match="which does not exist"):
        scale.ingest(f"memory://{root}/nothing.jsonl", tmp_path / "store")


def test_file_urls_are_local_paths(tmp_path: Path) -> None:
    files = small_export(tmp_path / "src")
    r = scale.ingest(f"file://{tmp_path / 'src'}", f"file://{tmp_path / 'store'}")
    assert r.ingested == sorted(str(f.resolve()) for f in files)
    assert (tmp_path / "store" / "_manifest" / "spans.json").exists()
    assert_same_rows(tmp_path / "store", files, promoted=True)


def test_group_counts_and_histogram_per_window_equal_polars(tmp_path: Path, client: Any) -> None:
    files = split_sample(tmp_path / "src", 3)
    scale.ingest(files, tmp_path / "store", client=client)
    full = toolkit.load_spans(files, progress=False)
    got = scale.group_counts(tmp_path / "store", "service_name", every="6h", client=client)
    want = (
        full.group_by(pl.col("start_time").dt.truncate("6h").alias("window_start"), "service_name")
        .agg(count=pl.len().cast(pl.Int64))
        .sort("window_start", "service_name")
    )
    assert got.columns == ["window_start", "service_name", "count"]
    assert got.equals(want)
    assert got["count"].sum() == 48_109
    hist = scale.histogram(tmp_path / "store", "duration_ms", [100.0, 1000.0], every="1d")
    assert hist.columns == ["window_start", "bin_lower", "bin_upper", "count"]
    day = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    one = hist.filter(pl.col("window_start") == day)
    values = full.filter(pl.col("start_time").dt.truncate("1d") == day)["duration_ms"]
    assert one["count"].to_list() == [
        (values < 100).sum(),
        ((values >= 100) & (values < 1000)).sum(),
        (values >= 1000).sum(),
    ]
    with pytest.raises(ParameterError, match=r"'every' parameter of scale\.group_counts"):
        scale.group_counts(tmp_path / "store", "service_name", every="soon")


def test_ingest_progress_bar_counts_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = split_sample(tmp_path / "src", 2)
    scale.ingest(files, tmp_path / "store", progress=True)
    err = capsys.readouterr().err
    total = sum(f.stat().st_size for f in files)
    assert "ingest 2 file(s)" in err
    assert f"{total / 1024 / 1024:.2f}M/{total / 1024 / 1024:.2f}M" in err
    scale.ingest(files, tmp_path / "store", progress=False)
    assert capsys.readouterr().err == ""


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """A bucket on a local S3 API server (moto), for s3fs and polars' own S3 reader alike."""
    server_mod = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",  # polars (object_store) refuses plain http otherwise
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    fs.mkdir("telemetry")
    try:
        yield fs
    finally:
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_s3_bucket_prefix_to_s3_store_on_the_cluster(tmp_path: Path, s3: Any, client: Any) -> None:
    files = split_sample(tmp_path / "src", 3)
    for f in files:
        s3.put(str(f), f"telemetry/otlp/2026-11/{f.name}")
    store = "s3://telemetry/store"
    r = scale.ingest("s3://telemetry/otlp/", store, client=client, progress=False)
    assert r.ingested == [f"s3://telemetry/otlp/2026-11/{f.name}" for f in files]
    assert r.rows == 48_109
    assert not s3.exists("telemetry/store/_manifest/spans.lock")
    manifest = json.loads(s3.cat("telemetry/store/_manifest/spans.json"))
    for f in files:
        key = f"s3://telemetry/otlp/2026-11/{f.name}"
        assert manifest["sources"][key]["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    parts = s3.find("telemetry/store/spans")
    assert len(parts) == r.parts == sum(len(c["parts"]) for c in manifest["contents"].values())
    # polars reads the parts straight from the bucket, only the partitions asked for
    got = scale.scan(store).collect()
    want = toolkit.load_spans(files, progress=False)
    assert canon(got).equals(canon(want))
    l4 = scale.scan(store, filters={"service_name": "vllm-l4"}).select(pl.len()).collect()
    assert l4.item() == want.filter(pl.col("service_name") == "vllm-l4").height
    good = pl.col("status_code") != "error"
    on_cluster = scale.minute_counts(store, good, client=client)
    assert on_cluster.equals(scale.minute_counts(store, good))
    assert on_cluster["good"].sum() == want.filter(good).height
    ddf = scale.to_dask(store, columns=["span_id", "duration_ms"])
    assert len(ddf.compute()) == 48_109
    again = scale.ingest("s3://telemetry/otlp/2026-11/*.jsonl.gz", store, progress=False)
    assert sorted(again.skipped) == r.ingested
    assert again.rows == 0


def test_driver_killed_mid_ingest_then_rerun_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    # The driver itself is SIGKILLed once it has recorded some files: its lock stays, and
    # so may parts it never recorded. The next run breaks the dead process's lock, deletes
    # those orphans and ingests exactly what is missing.
    files = split_sample(tmp_path / "src", 12)
    store = tmp_path / "store"
    manifest = store / "_manifest" / "spans.json"
    code = (
        "import sys; from toolkit import scale; "
        "scale.ingest(sys.argv[1], sys.argv[2], progress=False)"
    )
    driver = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "src"), str(store)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and driver.poll() is None:
        if manifest.exists() and len(json.loads(manifest.read_text())["sources"]) >= 3:
            break
        time.sleep(0.002)
    driver.kill()
    driver.wait()
    recorded = len(json.loads(manifest.read_text())["sources"])
    assert 3 <= recorded < 12  # killed mid-run
    assert (store / "_manifest" / "spans.lock").exists()
    with pytest.warns(scale.StaleLockWarning, match=f"process {driver.pid} on this host"):
        r = scale.ingest(tmp_path / "src", store, progress=False)
    assert len(r.skipped) == recorded
    assert len(r.ingested) == 12 - recorded
    assert not (store / "_manifest" / "spans.lock").exists()
    assert_same_rows(store, files)


def test_store_inside_the_source_directory_and_damaged_manifests(tmp_path: Path) -> None:
    files = small_export(tmp_path / "src")
    store = tmp_path / "src" / "store"  # the exports' directory also holds the store
    first = scale.ingest(tmp_path / "src", store)
    assert first.ingested == sorted(str(f.resolve()) for f in files)
    again = scale.ingest(tmp_path / "src", store)  # its parts and manifest are not sources
    assert (again.ingested, len(again.skipped), again.failed) == ([], 3, {})
    manifest = store / "_manifest" / "spans.json"
    manifest.write_text('{"version": 1, "table": "spans", "files": {}}')
    with pytest.raises(ToolkitError, match=r"manifest version 1; this toolkit reads version 2"):
        scale.ingest(files[0], store)
    manifest.write_text('{"version": 2, "sources": {')
    with pytest.raises(ToolkitError, match=r"spans\.json: the manifest is not valid JSON"):
        scale.scan(store)
    assert not (store / "_manifest" / "spans.lock").exists()
