"""toolkit.traces: span trees, critical paths, self time, breakdown and bottleneck ranking.

Hand-drawn trees have their answers worked out by hand in the comments (times in ms from
the trace's start); the real Zipkin traces are checked against values recomputed here
from the JSON file with the json module; the sample week against truth.json's windows.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit import traces
from toolkit.errors import ParameterError, SchemaError

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def frame(rows: list[tuple[Any, ...]], trace: str = "t1", **extra: list[Any]) -> pl.DataFrame:
    """Spans from (span_id, parent, name, start_ms, end_ms[, service[, kind]]) tuples."""
    out: dict[str, list[Any]] = {k: [] for k in traces._REQUIRED}
    for row in rows:
        span, parent, name, start, end = row[:5]
        service = row[5] if len(row) > 5 else "svc"
        kind = row[6] if len(row) > 6 else "internal"
        out["trace_id"].append(trace)
        out["span_id"].append(span)
        out["parent_span_id"].append(parent)
        out["name"].append(name)
        out["kind"].append(kind)
        out["service_name"].append(service)
        out["start_time"].append(T0 + dt.timedelta(milliseconds=start))
        out["end_time"].append(None if end is None else T0 + dt.timedelta(milliseconds=end))
    df = pl.DataFrame(out, schema={**traces._REQUIRED})
    return df.with_columns(**{k: pl.Series(v) for k, v in extra.items()})


def path_of(df: pl.DataFrame, trace: str = "t1", **kw: Any) -> list[tuple[str, float]]:
    cp = traces.critical_path(df, trace, **kw)
    return [(s, round(c, 6)) for s, c in cp.select("span_id", "critical_ms").rows()]


# --------------------------------------------------------------------------- hand-drawn


def test_sequential_children() -> None:
    # root 0-100; a 10-40; b 40-90 (starts exactly when a ends)
    df = frame([("r", None, "root", 0, 100), ("a", "r", "a", 10, 40), ("b", "r", "b", 40, 90)])
    # from 100: last child b (90) -> root 10, b 50; from 40: a (ends 40 <= 40) -> a 30;
    # from 10: nothing -> root 10
    assert path_of(df) == [("r", 20.0), ("a", 30.0), ("b", 50.0)]
    st = traces.self_times(df)
    assert st["self_ms"].to_list() == [20.0, 30.0, 50.0]
    assert st["self_ms"].sum() == 100.0  # no overlap: self times add up to the root


def test_overlapping_children_pick_the_last_to_end() -> None:
    # root 0-100; a 5-60; b 20-80; c 85-95; d 0-3 ; a and b overlap
    df = frame(
        [
            ("r", None, "root", 0, 100),
            ("a", "r", "a", 5, 60),
            ("b", "r", "b", 20, 80),
            ("c", "r", "c", 85, 95),
            ("d", "r", "d", 0, 3),
        ]
    )
    # from 100: c -> root 5, c 10; from 85: b (80) -> root 5, b 60; from 20: a ends 60 > 20,
    # d ends 3 -> root 17, d 3; from 0: root 0. a is not on the path.
    assert path_of(df) == [("r", 27.0), ("d", 3.0), ("b", 60.0), ("c", 10.0)]
    st = dict(traces.self_times(df).select("span_id", "self_ms").rows())
    # union of children in root: [0,3] + [5,80] + [85,95] = 3 + 75 + 10 = 88
    assert st == {"r": 12.0, "a": 55.0, "b": 60.0, "c": 10.0, "d": 3.0}


def test_nested_path_and_grandchildren() -> None:
    # root 0-100; a 10-90 with children a1 15-50 and a2 55-85; b 20-30 (inside a's time)
    df = frame(
        [
            ("r", None, "root", 0, 100),
            ("a", "r", "a", 10, 90),
            ("a1", "a", "a1", 15, 50),
            ("a2", "a", "a2", 55, 85),
            ("b", "r", "b", 20, 30),
        ]
    )
    # root: a ends last (90): root 10 + (10 before a) = 20; inside a: a2 (85) -> a 5; a2 30;
    # from 55: a1 (50) -> a 5; a1 35; from 15: a 5. a = 15.
    assert path_of(df) == [("r", 20.0), ("a", 15.0), ("a1", 35.0), ("a2", 30.0)]
    cp = traces.critical_path(df, "t1")
    on_path = set(cp["span_id"])
    assert all(p in on_path for p in cp["tree_parent_span_id"].drop_nulls())  # a chain
    assert cp["depth"].to_list() == [0, 1, 2, 2]


def test_child_that_outlives_its_parent_is_clamped() -> None:
    # root 0-100; a 20-130 (ends after the root): clamped to 20-100
    df = frame([("r", None, "root", 0, 100), ("a", "r", "a", 20, 130)])
    tree = traces.span_tree(df)
    assert tree["clamped"].to_list() == [False, True]
    assert tree["tree_end"][1] == T0 + dt.timedelta(milliseconds=100)
    assert path_of(df) == [("r", 20.0), ("a", 80.0)]
    # self time clips the child to the parent: root 0-100 minus 20-100
    assert traces.self_times(df)["self_ms"].to_list() == [20.0, 110.0]


def test_child_entirely_after_its_parent_is_detached() -> None:
    # a message consumer: root 0-10, consumer 50-80 with a child 55-60
    df = frame([("r", None, "root", 0, 10), ("c", "r", "c", 50, 80), ("g", "c", "g", 55, 60)])
    tree = traces.span_tree(df)
    assert tree["detached"].to_list() == [False, True, True]
    assert path_of(df) == [("r", 10.0)]
    assert tree["self_ms"].to_list() == [10.0, 25.0, 5.0]  # its own work still counts
    summary = traces.trace_summary(df)
    assert summary["detached_spans"].to_list() == [2]


def test_missing_parents_and_several_roots_attach_to_the_root() -> None:
    # root 0-100 (earliest root); x: another root 5-20; m1, m2: parents lost, 30-60 and 50-95
    df = frame(
        [
            ("r", None, "root", 0, 100),
            ("x", None, "other root", 5, 20),
            ("m1", "lost1", "m1", 30, 60),
            ("m2", "lost2", "m2", 50, 95),
        ]
    )
    tree = traces.span_tree(df)
    assert tree["parent_link"].to_list() == [
        "root",
        "extra_root",
        "missing_parent",
        "missing_parent",
    ]
    assert tree["tree_parent_span_id"].to_list() == [None, "r", "r", "r"]
    assert tree["root_span_id"].unique().to_list() == ["r"]
    # from 100: m2 (95) -> root 5, m2 45; from 50: x (20) -> root 30; x 15; from 5: root 5
    assert path_of(df) == [("r", 40.0), ("x", 15.0), ("m2", 45.0)]
    assert traces.trace_summary(df)["missing_parents"].to_list() == [2]


def test_root_is_a_span_with_missing_parent_when_none_has_no_parent() -> None:
    df = frame([("a", "gone", "a", 0, 50), ("b", "a", "b", 10, 20), ("c", "gone2", "c", 5, 60)])
    tree = traces.span_tree(df)
    assert tree.filter(pl.col("depth") == 0)["span_id"].to_list() == ["a"]
    # c (5-60) is attached to a (0-50) and clamped to 5-50
    assert tree["clamped"].to_list() == [False, False, True]
    assert path_of(df) == [("a", 5.0), ("c", 45.0)]


def test_parent_cycle_is_broken() -> None:
    df = frame([("a", "b", "a", 0, 50), ("b", "a", "b", 10, 40)])
    tree = traces.span_tree(df)
    assert tree["depth"].to_list() == [0, 1]
    assert tree["parent_link"].to_list() == ["root", "parent"]


def test_several_traces_at_once_are_independent() -> None:
    one = frame([("r", None, "root", 0, 100), ("a", "r", "a", 10, 40)], trace="t1")
    two = frame([("r", None, "root", 0, 30), ("a", "r", "a", 5, 25)], trace="t2")
    both = pl.concat([two, one])
    tree = traces.span_tree(both)
    assert tree["trace_id"].to_list() == ["t2", "t2", "t1", "t1"]  # input order kept
    assert tree["critical_ms"].to_list() == [10.0, 20.0, 70.0, 30.0]
    assert path_of(both, "t2") == [("r", 10.0), ("a", 20.0)]


def test_clock_skew_shift_centres_the_server_in_its_client() -> None:
    # client (svc a) 10-90; its server (svc b, clock 100 ms behind) -90 .. -30 (60 long);
    # the server's own child 'work' -80 .. -40 moves with it
    df = frame(
        [
            ("r", None, "root", 0, 100, "a", "server"),
            ("c", "r", "call", 10, 90, "a", "client"),
            ("s", "c", "handle", -90, -30, "b", "server"),
            ("w", "s", "work", -80, -40, "b", "internal"),
        ]
    )
    tree = traces.span_tree(df)
    # centred: server starts at 10 + (80 - 60) / 2 = 20, a shift of +110 ms
    assert tree["skew_shift_ms"].to_list() == [0.0, 0.0, 110.0, 110.0]
    assert tree["tree_start"][3] == T0 + dt.timedelta(milliseconds=30)
    assert path_of(df) == [("r", 20.0), ("c", 20.0), ("s", 20.0), ("w", 40.0)]
    clamp = traces.span_tree(df, skew="clamp")
    assert clamp["skew_shift_ms"].to_list() == [0.0] * 4
    # clamped: the server is cut to 10 .. -30 -> empty? it ends before the client starts
    assert clamp["detached"].to_list() == [False, False, True, True]


def test_unknown_end_is_zero_length() -> None:
    df = frame([("r", None, "root", 0, 100), ("a", "r", "redirect", 10, None)])
    tree = traces.span_tree(df)
    assert tree["self_ms"].to_list() == [100.0, 0.0]
    assert path_of(df) == [("r", 100.0), ("a", 0.0)]  # on the path, contributing nothing


# --------------------------------------------------------------------------- components


def test_components_and_vllm_phases() -> None:
    df = frame(
        [
            ("g", None, "POST /v1/rag-qa", 0, 1000, "gw", "server"),
            ("r", "g", "retrieval kb", 10, 60, "gw", "client"),
            ("c", "g", "chat m", 60, 990, "gw", "client"),
            ("v", "c", "llm_request", 70, 980, "vllm", "server"),
            ("t", "g", "execute_tool x", 990, 995, "gw", "internal"),
        ],
        **{
            "attributes.gen_ai.operation.name": [None, "retrieval", "chat", None, "execute_tool"],
            "attributes.gen_ai.latency.time_in_queue": [None, None, None, 0.2, None],
            "attributes.gen_ai.latency.time_to_first_token": [None, None, None, 0.5, None],
        },
    )
    tree = traces.span_tree(df)
    assert tree["component"].to_list() == ["gateway", "retrieval", "model", "model", "tool"]
    per = traces.latency_breakdown(df, per_trace=True)
    got = dict(per.select("component", "critical_ms").rows())
    # g: 10 + 5 (995-1000) = 15; r 50; c: 10 + 10 = 20; v 910: queue 200, prefill 300, decode 410
    assert got == {
        "gateway": 15.0,
        "retrieval": 50.0,
        "queueing": 200.0,
        "prefill": 300.0,
        "decode": 410.0,
        "model": 20.0,
        "tool": 5.0,
    }
    assert sum(got.values()) == 1000.0
    ranked = traces.bottlenecks(
        pl.concat([df, df.with_columns(trace_id=pl.lit("t2"))]), ["t1"], by="component"
    )
    assert set(ranked["component"]) == set(got)


def test_breakdown_summary_by_group(backend: str) -> None:
    one = frame(
        [("r", None, "root", 0, 100, "gw", "server"), ("a", "r", "x", 10, 50, "db")],
        trace="t1",
        **{"attributes.app.route": ["chat", None]},
    )
    two = frame(
        [("r", None, "root", 0, 300, "gw", "server")],
        trace="t2",
        **{"attributes.app.route": ["chat"]},
    )
    spans = pl.concat([one, two], how="diagonal")
    data = spans.to_pandas() if backend == "pandas" else spans
    out = traces.latency_breakdown(data, by="attributes.app.route", backend=backend)
    out = pl.from_pandas(out) if backend == "pandas" else out
    assert out.select("component", "traces", "mean_ms", "share").rows() == [
        ("gateway", 2, (60.0 + 300.0) / 2, 360.0 / 400.0),
        ("other", 2, 40.0 / 2, 40.0 / 400.0),
    ]


# --------------------------------------------------------------------------- errors


def test_unknown_trace_id_is_named() -> None:
    df = frame([("r", None, "root", 0, 10)])
    with pytest.raises(
        ParameterError, match=r"'trace_id' parameter of traces.critical_path.*'nope'"
    ):
        traces.critical_path(df, "nope")


def test_missing_columns_and_naive_times_are_rejected() -> None:
    df = frame([("r", None, "root", 0, 10)])
    with pytest.raises(SchemaError, match=r"'kind'.*Available columns"):
        traces.span_tree(df.drop("kind"))
    naive = df.with_columns(pl.col("start_time").dt.replace_time_zone(None))
    with pytest.raises(SchemaError, match="time zone is needed"):
        traces.span_tree(naive)
    backwards = frame([("r", None, "root", 0, 10), ("a", "r", "a", 8, 5)])
    with pytest.raises(SchemaError, match=r"row 2 .*'a'.* ends before it starts"):
        traces.span_tree(backwards)
    with pytest.raises(ParameterError, match=r"'skew' parameter of traces\.span_tree"):
        traces.span_tree(df, skew="fix")  # type: ignore[arg-type]


def test_bottleneck_parameters_are_checked() -> None:
    df = frame([("r", None, "root", 0, 10)])
    with pytest.raises(ParameterError, match=r"'slow' parameter .* at least one trace"):
        traces.bottlenecks(df, pl.col("duration_ms") > 1e9)
    with pytest.raises(ParameterError, match=r"'baseline' parameter .* at least one trace"):
        traces.bottlenecks(df, ["t1"])
    with pytest.raises(ParameterError, match="unknown"):
        traces.bottlenecks(df, ["t9"])
    with pytest.raises(ParameterError, match="'by' parameter"):
        traces.bottlenecks(df, ["t1"], by="nope")


# --------------------------------------------------------------------------- real traces


def _zipkin_halves(path: Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(s["id"], s.get("kind")): s for s in json.loads(path.read_text())}


def test_yelp_critical_path_recomputed_from_the_json(real_data: Path) -> None:
    path = real_data / "zipkin" / "yelp.json"
    spans = toolkit.load_spans(path)
    (trace_id,) = spans["trace_id"].unique().to_list()
    cp = traces.critical_path(spans, trace_id)
    raw = _zipkin_halves(path)
    # the proxy's server half shares its client's id: the reader gave it a new one
    original = dict(spans.select("span_id", "attributes.zipkin.original_span_id").rows())
    assert original["294d002850345fb2"] == "668ed78ad94b35a1"
    root = raw["2e8cfb154b59a41f", "SERVER"]
    call = raw["668ed78ad94b35a1", "CLIENT"]
    proxy = raw["668ed78ad94b35a1", "SERVER"]
    end = lambda s: s["timestamp"] + s["duration"]  # noqa: E731
    # root: before the call and after it; call: before the proxy and after it
    expected = [
        ("2e8cfb154b59a41f", (call["timestamp"] - root["timestamp"]) + (end(root) - end(call))),
        ("668ed78ad94b35a1", (proxy["timestamp"] - call["timestamp"]) + (end(call) - end(proxy))),
        ("294d002850345fb2", proxy["duration"]),
    ]
    assert [(s, round(c * 1000)) for s, c in cp.select("span_id", "critical_ms").rows()] == expected
    assert cp["critical_ms"].sum() == pytest.approx(root["duration"] / 1000, abs=1e-9)
    on_path = set(cp["span_id"])
    assert all(p in on_path for p in cp["tree_parent_span_id"].drop_nulls())


@pytest.mark.parametrize(
    "name",
    [
        "yelp.json",
        "messaging-kafka.json",
        "smartthings-oauth-authorization.json",
        "skew.json",
        "envoy.json",
    ],
)
def test_zipkin_critical_path_tiles_the_root(real_data: Path, name: str) -> None:
    spans = toolkit.load_spans(real_data / "zipkin" / name)
    tree = traces.span_tree(spans)
    roots = tree.filter(pl.col("depth") == 0)
    for trace_id, root_ms in roots.select("trace_id", "duration_ms").rows():
        cp = traces.critical_path(spans, trace_id)
        assert cp["critical_ms"].sum() == pytest.approx(root_ms, abs=1e-6)
        assert cp["depth"][0] == 0
        on_path = set(cp["span_id"])
        assert all(p in on_path for p in cp["tree_parent_span_id"].drop_nulls())
    assert tree.height == spans.height


def test_zipkin_skew_file_is_shifted_like_zipkin(real_data: Path) -> None:
    path = real_data / "zipkin" / "skew.json"
    raw = _zipkin_halves(path)
    # a shared id: the server half (serviceb, its clock ~65 ms behind) got a new span id
    client, server = raw["74280ae0c10d8062", "CLIENT"], raw["74280ae0c10d8062", "SERVER"]
    # Zipkin's rule: the server sits in the middle of its client
    latency = (client["duration"] - server["duration"]) // 2
    shift_us = client["timestamp"] + latency - server["timestamp"]
    tree = traces.span_tree(toolkit.load_spans(path))
    shifts = dict(tree.select("span_id", "skew_shift_ms").rows())
    assert shifts["9f1c8276d4a40850"] * 1000 == pytest.approx(shift_us)
    assert shifts["43210ae0c10d1234"] == shifts["9f1c8276d4a40850"]  # same service below
    assert not tree["clamped"].any()
    assert not tree["detached"].any()


def test_smartthings_self_times_recomputed(real_data: Path) -> None:
    # a real OAuth flow: 175 spans, redirects without duration, several services
    spans = toolkit.load_spans(real_data / "zipkin" / "smartthings-oauth-authorization.json")
    tree = traces.span_tree(spans, skew="clamp")  # self time on the spans' own clocks
    rows = tree.select("span_id", "tree_parent_span_id", "start_time", "end_time").rows()
    us = {sid: (start, end if end is not None else start) for sid, _, start, end in rows}
    children: dict[str, list[str]] = {}
    for sid, parent, _, _ in rows:
        if parent is not None:
            children.setdefault(parent, []).append(sid)
    expected: dict[str, float] = {}
    checked = 0
    for sid, (start, end) in us.items():
        clipped = sorted(
            (max(us[c][0], start), min(us[c][1], end))
            for c in children.get(sid, [])
            if us[c][1] > start and us[c][0] < end
        )
        covered, reach = dt.timedelta(0), start
        for lo, hi in clipped:  # union of the clipped children, by hand
            if hi > reach:
                covered += hi - max(lo, reach)
                reach = hi
        expected[sid] = (end - start - covered) / dt.timedelta(milliseconds=1)
        checked += bool(clipped)
    got = dict(tree.select("span_id", "self_ms").rows())
    assert checked > 20
    assert got == pytest.approx(expected, abs=1e-6)


def test_any_agent_google_trace_missing_parents(real_data: Path) -> None:
    spans = toolkit.load_spans(real_data / "any_agent_genai_traces" / "GOOGLE_trace.json")
    raw = json.loads((real_data / "any_agent_genai_traces" / "GOOGLE_trace.json").read_text())
    ids = {s["context"]["span_id"] for s in raw["spans"]}
    parents = [s["parent"]["span_id"] for s in raw["spans"]]
    lost = {p for p in parents if p is not None and p not in ids}
    assert len(lost) == 4
    tree = traces.span_tree(spans)
    assert (tree["parent_link"] == "missing_parent").sum() == 6  # spans under the 4 lost parents
    (trace_id,) = spans["trace_id"].unique().to_list()
    cp = traces.critical_path(spans, trace_id)
    (root,) = [s for s, p in zip(raw["spans"], parents, strict=True) if p is None]
    assert cp["critical_ms"].sum() == pytest.approx((root["end_time"] - root["start_time"]) / 1e6)
    assert set(cp["component"]) == {"agent", "model", "tool"}
    calls = tree.filter(pl.col("component") == "model")
    assert calls.height == 3
    assert calls["on_critical_path"].all()


def test_jaeger_files_build_trees(real_data: Path) -> None:
    for path in sorted((real_data / "jaeger").glob("*.json")):
        with pytest.warns() if path.name == "ui_01.json" else _nothing():
            spans = toolkit.load_spans(path)
        tree = traces.span_tree(spans)
        assert tree.height == spans.height
        assert (tree["depth"] == 0).sum() == spans["trace_id"].n_unique()
        summary = traces.trace_summary(spans)
        assert summary["spans"].sum() == spans.height


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


# --------------------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def sample_spans() -> pl.DataFrame:
    return toolkit.load_spans(SAMPLE / "traces.jsonl.gz")


def _window(incident: str) -> tuple[dt.datetime, dt.datetime]:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    (w,) = [i["window"] for i in truth["incidents"] if i["id"] == incident]
    return dt.datetime.fromisoformat(w["start"]), dt.datetime.fromisoformat(w["end"])


def test_sample_invariants(sample_spans: pl.DataFrame) -> None:
    tree = traces.span_tree(sample_spans)
    per = tree.group_by("trace_id").agg(
        pl.col("critical_ms").sum(),
        pl.col("self_ms").sum(),
        pl.col("duration_ms").filter(pl.col("depth") == 0).first().alias("root"),
    )
    assert per.height == 14_855
    assert (per["critical_ms"] - per["root"]).abs().max() < 1e-6
    assert (per["self_ms"] - per["root"]).abs().max() < 1e-6  # sequential children
    breakdown = traces.latency_breakdown(sample_spans)
    assert breakdown["share"].sum() == pytest.approx(1.0)
    assert breakdown["mean_ms"].sum() == pytest.approx(
        sample_spans.filter(pl.col("parent_span_id").is_null())["duration_ms"].mean()
    )


def test_sample_release_window_names_prefill_on_h100(sample_spans: pl.DataFrame) -> None:
    start, end = _window("release-prefill-regression")
    p95 = traces.trace_summary(sample_spans)["duration_ms"].quantile(0.95)
    slow = pl.col("start_time").is_between(start, end, closed="left") & (
        pl.col("duration_ms") > p95
    )
    by_operation = traces.bottlenecks(sample_spans, slow)
    top = by_operation.row(0, named=True)
    assert (top["service_name"], top["name"]) == ("vllm-h100", "llm_request")
    assert top["significant"]
    assert top["ci_low_ms"] > 0
    assert top["slow_traces"] > 100
    by_component = traces.bottlenecks(sample_spans, slow, by=["component", "service_name"])
    first = by_component.row(0, named=True)
    assert (first["component"], first["service_name"]) == ("prefill", "vllm-h100")
    assert set(by_component.head(3)["component"]) == {"prefill", "decode", "queueing"}


def test_sample_kv_burst_names_queueing_on_l4(sample_spans: pl.DataFrame) -> None:
    start, end = _window("kv-cache-exhaustion-burst")
    pool = pl.col("attributes.deployment.pool") == "l4-pool"
    ranked = traces.bottlenecks(
        sample_spans,
        pl.col("start_time").is_between(start, end, closed="left") & pool,
        baseline=~pl.col("start_time").is_between(start, end, closed="left") & pool,
        by="component",
    )
    assert ranked["component"][0] == "queueing"
    assert ranked["p_adjusted"][0] < 1e-6


# --------------------------------------------------------------------------- windows


def _two_span_traces(db_ms: list[int], *, gap_min: int = 1) -> pl.DataFrame:
    """One trace per minute: a root 'GET /' of 50 ms + db, and its child 'db' of db_ms."""
    parts = []
    for i, db in enumerate(db_ms):
        start = i * gap_min * 60_000
        parts.append(
            frame(
                [("r", None, "GET /", start, start + 50 + db), ("d", "r", "db", start, start + db)],
                trace=f"t{i}",
            )
        )
    return pl.concat(parts)


def test_bottlenecks_by_window_compares_each_window_with_the_rest() -> None:
    # traces 10-14 spend 200 ms in the database instead of 20: +180 ms there, 0 in GET /
    spans = _two_span_traces([200 if 10 <= i < 15 else 20 for i in range(30)])
    windows = {
        "db": (T0 + dt.timedelta(minutes=10), T0 + dt.timedelta(minutes=15)),
        "quiet": ("2026-11-02T00:20:00Z", "2026-11-02T00:25:00Z"),
        "overlap": (T0 + dt.timedelta(minutes=12), T0 + dt.timedelta(minutes=13)),
        "empty": ("2026-11-03T00:00:00Z", "2026-11-03T01:00:00Z"),
    }
    grew = traces.bottlenecks_by_window(spans, windows, by="name", min_traces=1)
    assert grew.columns[:4] == ["incident", "start", "end", "rank"]
    first = grew.filter(pl.col("rank") == 1)
    # "empty" holds no trace: left out. "overlap" (trace 12, also in "db") counts in both;
    # the baseline is the 20 traces outside every window (0-9, 15-19, 25-29)
    assert first.select("incident", "name", "slow_traces", "baseline_traces").rows() == [
        ("db", "db", 5, 20),
        ("quiet", "GET /", 5, 20),
        ("overlap", "db", 1, 20),
    ]
    assert first["delta_ms"].to_list() == pytest.approx([180.0, 0.0, 180.0])
    assert first["start"][0] == T0 + dt.timedelta(minutes=10)
    # min_traces (default 2): a window of fewer traces is left out
    fewer = traces.bottlenecks_by_window(spans, windows, by="name")
    assert fewer["incident"].unique(maintain_order=True).to_list() == ["db", "quiet"]
    none = traces.bottlenecks_by_window(spans, {"empty": windows["empty"]}, by="name")
    assert none.height == 0
    assert none.columns[:4] == ["incident", "start", "end", "rank"]


def test_bottlenecks_by_window_checks_its_parameters() -> None:
    spans = _two_span_traces([20, 30])
    with pytest.raises(ParameterError, match="'min_traces' parameter"):
        traces.bottlenecks_by_window(spans, {}, min_traces=0)
    with pytest.raises(ParameterError, match="'by' parameter"):
        traces.bottlenecks_by_window(spans, {}, by="nope")
    with pytest.raises(ParameterError, match="zone"):
        traces.bottlenecks_by_window(spans, {"x": ("2026-11-02T00:00:00", "2026-11-02T01:00")})


def test_find_incidents_from_calls_durations_or_given() -> None:
    # 60 traces a minute apart, 1 s each except three of 9 s at minutes 40-42: the p95 of
    # the durations (linear, between the 57th and 58th of 60) is 1 + 0.05 * 8 = 1.4 s, so
    # the latency threshold is 2.5 s (1-2.5-5 series). The 6h/30m
    # page (6 % of a 1 % budget) fires from 00:43: 3 bad of 43 over the 6 h window clipped
    # at the data's start, 3 of 30 over 30 min; it stops after 00:49, when the 6 h window
    # holds 3 of 50 = 6 %, no longer above 6 % (the 1h/5m page needs 14.4 %: never)
    parts = []
    for i in range(60):
        ms = 9000 if 40 <= i < 43 else 1000
        parts.append(frame([("r", None, "GET /", i * 60_000, i * 60_000 + ms)], trace=f"t{i}"))
    spans = pl.concat(parts)
    found = traces.find_incidents(spans)
    assert found.select("incident", "source").rows() == [("latency", "page")]
    assert found["start"][0] == T0 + dt.timedelta(minutes=43)
    assert found["end"][0] == T0 + dt.timedelta(minutes=50)
    assert found["slo"][0] == "99% of events with latency_s <= 2.5 over a rolling 30d"
    # the same from model calls with a TTFT, per pool: only pool "a" pages
    calls = pl.DataFrame(
        {
            "start_time": [T0 + dt.timedelta(minutes=i) for i in range(60)] * 2,
            "ttft_s": [9.0 if 40 <= i < 43 else 0.1 for i in range(60)] + [0.1] * 60,
            "is_error": False,
            "pool": ["a"] * 60 + ["b"] * 60,
        }
    )
    per_pool = traces.find_incidents(spans, calls=calls, pool="pool")
    assert per_pool.select("incident", "source").rows() == [("ttft on a", "page")]
    assert per_pool["slo"][0].startswith("99% of events with ttft_s <= ")
    given = traces.find_incidents(
        spans, calls=calls, incidents={"mine": ("2026-11-02T00:10:00Z", "2026-11-02T00:20:00Z")}
    )
    assert given.rows() == [
        (
            "mine",
            T0 + dt.timedelta(minutes=10),
            T0 + dt.timedelta(minutes=20),
            "given",
            None,
            None,
        )
    ]


def test_slowest_trace_and_route_column() -> None:
    summary = pl.DataFrame(
        {
            "trace_id": ["a", "b", "c"],
            "duration_ms": [5.0, 9.0, 7.0],
            "has_error": [False, True, False],
            "start_time": [T0, T0, T0 + dt.timedelta(hours=1)],
        }
    )
    assert traces.slowest_trace(summary)["trace_id"] == "c"  # type: ignore[index]
    window = (T0, T0 + dt.timedelta(minutes=1))
    assert traces.slowest_trace(summary, window=window)["trace_id"] == "a"  # type: ignore[index]
    late = (T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2))
    assert traces.slowest_trace(summary, window=late)["trace_id"] == "c"  # type: ignore[index]
    failed = summary.with_columns(has_error=True)
    assert traces.slowest_trace(failed)["trace_id"] == "b"  # type: ignore[index]
    assert traces.slowest_trace(summary.head(0)) is None
    with pytest.raises(ParameterError, match="trace summary"):
        traces.slowest_trace(summary.drop("has_error"))
    spans = pl.DataFrame(
        {
            "attributes.http.route": ["/v1", "/v1"],
            "attributes.app.route": ["chat", "rag"],
            "attributes.endpoint": ["x", "y"],
        }
    )
    assert traces.route_column(spans) == "attributes.app.route"
    assert traces.route_column(spans.drop("attributes.app.route")) == "attributes.endpoint"
    assert traces.route_column(spans.select("attributes.http.route")) is None


def test_spans_with_an_all_null_parent_column() -> None:
    spans = frame([("r", None, "GET /", 0, 10)]).with_columns(pl.lit(None).alias("parent_span_id"))
    assert spans.schema["parent_span_id"] == pl.Null
    assert traces.trace_summary(spans)["duration_ms"].to_list() == [10.0]
