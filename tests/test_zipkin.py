"""Zipkin v2 JSON reader: every real file, shared client/server spans, edge cases, errors."""

from __future__ import annotations

import collections
import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from toolkit.errors import (
    FormatError,
    LoadReport,
    ParameterError,
    SkippedRecordsWarning,
    ToolkitWarning,
)
from toolkit.ingest import zipkin
from toolkit.ingest._frames import LoadContext
from toolkit.ingest.zipkin import read_zipkin
from toolkit.schema import SPANS, validate

FILES = [
    "yelp.json",
    "smartthings-oauth-authorization.json",
    "messaging-kafka.json",
    "envoy.json",
    "skew.json",
]
KINDS = {"CLIENT": "client", "SERVER": "server", "PRODUCER": "producer", "CONSUMER": "consumer"}
TS = 1_700_000_000_123_456


def zspan(span_id: str, **over: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": "00000000000000a1",
        "id": span_id,
        "name": f"op-{span_id}",
        "timestamp": TS,
        "duration": 2500,
        "localEndpoint": {"serviceName": "gateway"},
    }
    span.update(over)
    return {k: v for k, v in span.items() if v is not None}


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def tree_problems(df: pl.DataFrame) -> tuple[int, int, int]:
    """(repeated (trace, span) ids, roots, parents that are not in the file)."""
    repeated = df.height - df.select("trace_id", "span_id").n_unique()
    roots = df["parent_span_id"].null_count()
    known = set(zip(df["trace_id"], df["span_id"], strict=True))
    orphans = sum(
        1
        for t, p in zip(df["trace_id"], df["parent_span_id"], strict=True)
        if p is not None and (t, p) not in known
    )
    return repeated, roots, orphans


# --- real files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_real_file(real_data: Path, name: str) -> None:
    path = real_data / "zipkin" / name
    raw = json.loads(path.read_text())
    df = read_zipkin(path)
    validate(df, SPANS)
    assert df.height == len(raw)
    expected_kinds = collections.Counter(KINDS.get(s.get("kind"), "unspecified") for s in raw)
    assert collections.Counter(df["kind"].to_list()) == expected_kinds
    assert df["start_time"].dt.epoch("ns").to_list() == [s["timestamp"] * 1000 for s in raw]
    # exact in integer nanoseconds; duration_ms is the correctly rounded float
    assert (df["end_time"] - df["start_time"]).dt.total_nanoseconds().to_list() == [
        s["duration"] * 1000 if "duration" in s else None for s in raw
    ]
    assert df["duration_ms"].to_list() == [
        s["duration"] / 1000 if "duration" in s else None for s in raw
    ]
    assert df["end_time"].null_count() == sum("duration" not in s for s in raw)
    assert df["service_name"].to_list() == [s["localEndpoint"].get("serviceName") for s in raw]
    assert df["trace_id"].to_list() == [s["traceId"].rjust(32, "0") for s in raw]
    # Every real file is one trace that becomes a proper tree: unique ids, one root, no
    # dangling parent.
    assert tree_problems(df) == (0, 1, 0)
    # Ids change only for shared halves whose id another span of the trace also uses.
    uses = collections.Counter(s["id"] for s in raw)
    moved = [s.get("shared") is True and uses[s["id"]] > 1 for s in raw]
    kept = [s["id"] for s, m in zip(raw, moved, strict=True) if not m]
    assert [i for i, m in zip(df["span_id"], moved, strict=True) if not m] == kept
    if any(moved):
        original = df["attributes.zipkin.original_span_id"].to_list()
        assert original == [s["id"] if m else None for s, m in zip(raw, moved, strict=True)]
    if any(s.get("shared") for s in raw):
        shared = df["attributes.zipkin.shared"].to_list()
        assert shared == [True if s.get("shared") else None for s in raw]


def test_real_counts(real_data: Path) -> None:
    """The numbers SOURCES.md and our own look at the files give."""
    folder = real_data / "zipkin"
    st = read_zipkin(folder / "smartthings-oauth-authorization.json")
    assert st.height == 175
    assert st["kind"].value_counts().sort("kind").rows() == [
        ("client", 95),
        ("server", 77),
        ("unspecified", 3),
    ]
    assert st["attributes.zipkin.shared"].sum() == 45
    assert st["attributes.zipkin.original_span_id"].is_not_null().sum() == 45
    assert st["duration_ms"].null_count() == 19
    assert st["name"].null_count() == 6  # six server halves were reported without a name
    yelp = read_zipkin(folder / "yelp.json")
    assert yelp["attributes.zipkin.shared"].sum() == 4
    assert yelp["attributes.zipkin.original_span_id"].is_not_null().sum() == 3  # one alone


def test_real_shared_spans_in_skew(real_data: Path) -> None:
    df = read_zipkin(real_data / "zipkin" / "skew.json")
    rows = {(r["name"], r["kind"]): r for r in df.iter_rows(named=True)}
    client = rows[("post", "client")]
    server = rows[("post", "server")]
    assert client["span_id"] == "74280ae0c10d8062"
    assert client["service_name"] == "servicea"
    assert server["service_name"] == "serviceb"
    assert server["span_id"] != "74280ae0c10d8062"
    assert len(server["span_id"]) == 16
    assert int(server["span_id"], 16) > 0
    assert server["parent_span_id"] == "74280ae0c10d8062"  # the server is the client's child
    assert server["attributes.zipkin.original_span_id"] == "74280ae0c10d8062"
    assert server["duration_ms"] == 93.577
    # "async" runs in serviceb (same endpoint as the server half): it is the server's child
    assert rows[("async", "unspecified")]["parent_span_id"] == server["span_id"]
    assert read_zipkin(real_data / "zipkin" / "skew.json")["span_id"].to_list() == (
        df["span_id"].to_list()
    )  # derived ids are deterministic


def test_real_fan_out_of_shared_halves(real_data: Path) -> None:
    """One client send, five server receives on two pusher hosts, all without duration."""
    path = real_data / "zipkin" / "smartthings-oauth-authorization.json"
    raw = json.loads(path.read_text())
    df = read_zipkin(path)
    uses = collections.Counter(s["id"] for s in raw)
    (fan_id,) = [i for i, n in uses.items() if n == 6]
    halves = df.filter(pl.col("attributes.zipkin.original_span_id") == fan_id)
    assert halves.height == 5
    assert halves["span_id"].n_unique() == 5
    assert halves["duration_ms"].null_count() == 5
    earliest = (
        halves.sort("start_time")
        .group_by("attributes.network.local.address", maintain_order=True)
        .first()
    )
    first_on = dict(zip(earliest[earliest.columns[0]], earliest["span_id"], strict=True))
    children = df.filter(pl.col("span_id").is_in(["d645461738ed0e17", "de67d452708a545a"]))
    assert children.sort("span_id")["parent_span_id"].to_list() == [
        first_on["10.0.0.187"],
        first_on["10.0.0.79"],
    ]


def test_real_messaging_errors_and_remote_endpoints(real_data: Path) -> None:
    path = real_data / "zipkin" / "messaging-kafka.json"
    raw = json.loads(path.read_text())
    df = read_zipkin(path)
    errors = df.filter(pl.col("status_code") == "error")
    assert errors.select("span_id", "status_message").rows() == [
        (s["id"], s["tags"]["error"] or None) for s in raw if "error" in s.get("tags", {})
    ]
    assert "attributes.error" not in df.columns
    assert df["attributes.peer.service"].to_list() == [
        s.get("remoteEndpoint", {}).get("serviceName") for s in raw
    ]


def test_real_envoy_and_yelp_details(real_data: Path) -> None:
    envoy = read_zipkin(real_data / "zipkin" / "envoy.json").row(0, named=True)
    assert envoy["span_id"] == envoy["trace_id"][16:] == "978883983d506fa5"  # alone: kept
    assert envoy["service_name"] is None  # no serviceName in its localEndpoint
    assert envoy["attributes.network.local.address"] == "169.254.65.45"
    assert envoy["attributes.http.status_code"] == "200"  # Zipkin tags stay strings
    assert envoy["duration_ms"] == 127.115
    yelp = read_zipkin(real_data / "zipkin" / "yelp.json")
    proxy = yelp.filter(pl.col("name") == "post api proxy proxy").row(0, named=True)
    assert [(e["name"], e["time"].timestamp()) for e in proxy["events"]] == [
        ("py_zipkin.logging_end", 1571896375.355436)
    ]
    assert yelp.filter(pl.col("name") == "post api proxy proxy")["events"].list.eval(
        pl.element().struct.field("time").dt.epoch("ns")
    ).item().to_list() == [1571896375355436000]
    # mobile_api's own calls, reported without its port, belong to its server half
    mobile = yelp.filter(
        (pl.col("service_name") == "mobile_api") & (pl.col("kind") == "server")
    ).row(0, named=True)
    calls = yelp.filter((pl.col("service_name") == "mobile_api") & (pl.col("kind") == "client"))
    assert calls.height == 4
    assert calls["parent_span_id"].unique().to_list() == [mobile["span_id"]]


def test_real_files_are_detected(real_data: Path) -> None:
    for name in FILES:
        assert zipkin.looks_like((real_data / "zipkin" / name).read_bytes()[:4096])
    for other in ("jaeger/ui_01.json", "otel_proto_examples/trace.json"):
        assert not zipkin.looks_like((real_data / other).read_bytes()[:4096])


# --- edge cases ---------------------------------------------------------------------


def test_ids_kinds_status_and_endpoints(tmp_path: Path) -> None:
    spans = [
        zspan("1", traceId="463ac35c9f6413ad48485a3953bb6124", kind="SERVER"),
        zspan("2", parentId="1", tags={"span.kind": "internal", "error": "true"}),
        zspan(
            "3",
            parentId="1",
            kind="CLIENT",
            tags={"error": "", "otel.scope.name": "httpx", "otel.scope.version": "0.1"},
            remoteEndpoint={"serviceName": "vllm", "ipv4": "10.0.0.1", "ipv6": "::1", "port": 8000},
        ),
        zspan(
            "4",
            tags={
                "otel.status_code": "OK",
                "span.kind": "weird",
                "w3c.tracestate": "v=1",
            },
        ),
        zspan(
            "5",
            tags={"otel.status_code": "ERROR", "otel.status_description": "quota", "error": "x"},
            parentId="5",  # its own id: no parent
        ),
    ]
    df = read_zipkin(write(tmp_path / "t.json", spans))
    assert df["trace_id"].to_list() == ["463ac35c9f6413ad48485a3953bb6124"] + ["0" * 30 + "a1"] * 4
    assert df["span_id"].to_list() == [f"{i:016x}" for i in range(1, 6)]
    assert (
        df["parent_span_id"].to_list()
        == [None, "0000000000000001", "0000000000000001"] + [None] * 2
    )
    assert df["kind"].to_list() == ["server", "internal", "client", "unspecified", "unspecified"]
    assert df["status_code"].to_list() == ["unset", "error", "error", "ok", "error"]
    assert df["status_message"].to_list() == [None, None, None, None, "quota"]
    assert df["scope_name"].to_list() == [None, None, "httpx", None, None]
    assert df["attributes.span.kind"].to_list() == [None, None, None, "weird", None]
    row = df.row(2, named=True)
    assert row["attributes.peer.service"] == "vllm"
    assert row["attributes.network.peer.address"] == "10.0.0.1"
    assert row["attributes.zipkin.remote_endpoint.ipv6"] == "::1"
    assert row["attributes.network.peer.port"] == 8000
    assert not [c for c in df.columns if "otel." in c or "tracestate" in c or c.endswith("error")]


def test_list_of_traces_json_lines_and_gzip(tmp_path: Path) -> None:
    nested = write(tmp_path / "traces.json", [[zspan("1")], [zspan("2", traceId="b2")]])
    assert read_zipkin(nested)["trace_id"].to_list() == ["0" * 30 + "a1", "0" * 30 + "b2"]
    lines = tmp_path / "spans.jsonl"
    lines.write_text(json.dumps(zspan("1")) + "\n" + json.dumps([zspan("2"), zspan("3")]) + "\n")
    assert read_zipkin(lines).height == 3
    packed = tmp_path / "spans.json.gz"
    packed.write_bytes(gzip.compress(json.dumps([zspan("1")]).encode()))
    assert read_zipkin(packed).height == 1


def test_shared_halves_without_client(tmp_path: Path) -> None:
    # Two servers answered the same id and the client was not reported: both keep their
    # Zipkin parent and get their own ids; a lone shared half keeps its id.
    spans = [
        zspan("9", kind="SERVER"),
        zspan("a", parentId="9", kind="SERVER", shared=True, localEndpoint={"serviceName": "x"}),
        zspan("a", parentId="9", kind="SERVER", shared=True, localEndpoint={"serviceName": "y"}),
        zspan("b", parentId="9", kind="SERVER", shared=True),
    ]
    df = read_zipkin(write(tmp_path / "t.json", spans))
    assert tree_problems(df) == (0, 1, 0)
    assert df["parent_span_id"].to_list() == [None] + ["0000000000000009"] * 3
    assert df["span_id"][3] == "000000000000000b"
    assert df["attributes.zipkin.original_span_id"].to_list() == [
        None,
        "000000000000000a",
        "000000000000000a",
        None,
    ]


def test_repeated_plain_ids_warn(tmp_path: Path) -> None:
    with pytest.warns(ToolkitWarning, match="1 span"):
        df = read_zipkin(write(tmp_path / "t.json", [zspan("1"), zspan("1")]))
    assert df["span_id"].to_list() == ["0000000000000001"] * 2


def test_pandas_report_and_frames_for_load_spans(tmp_path: Path, backend: str) -> None:
    path = write(tmp_path / "t.json", [zspan("1"), zspan("2", duration=None)])
    report = LoadReport()
    df = read_zipkin(path, report=report, backend=backend)  # type: ignore[arg-type]
    assert isinstance(df, pd.DataFrame if backend == "pandas" else pl.DataFrame)
    assert report.rows == 2
    assert report.formats == {str(path): "zipkin-v2-json"}
    assert list(df["duration_ms"].isna() if backend == "pandas" else df["duration_ms"].is_null())[1]
    ctx = LoadContext("load_spans")
    frames = zipkin.frames_from_file(path, ctx)
    assert [f.height for f in frames] == [2]
    assert not [c for c in frames[0].columns if "_toolkit" in c]
    validate(frames[0], SPANS)


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "message"),
    [
        (zspan("1", timestamp=None), "timestamp is missing"),
        (zspan("1", timestamp=1.5), "timestamp must be an integer number of microseconds"),
        (zspan("1", duration=-1), "duration must be zero or more"),
        (zspan("1", traceId="g1"), "traceId must be a string of 1 to 32 hex digits"),
        (zspan("0000000000000000"), "id must not be all zeros"),
        (zspan("1", kind="LOCAL"), "kind must be CLIENT, SERVER, PRODUCER or CONSUMER"),
        (zspan("1", binaryAnnotations=[]), "Zipkin v1 span"),
        (zspan("1", tags={"a": {"b": 1}}), "tag 'a' must be a string"),
        (zspan("1", localEndpoint={"port": "80"}), "localEndpoint.port must be an integer"),
        (zspan("1", annotations=[{"value": "cs"}]), "annotations\\[\\].timestamp"),
    ],
)
def test_bad_span_names_file_and_record(tmp_path: Path, span: Any, message: str) -> None:
    path = write(tmp_path / "bad.json", [zspan("7"), span])
    with pytest.raises(FormatError, match=message) as info:
        read_zipkin(path)
    assert str(info.value).startswith(f"{path}, record 2: ")


def test_skip_counts_bad_spans(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.json", [zspan("1"), zspan("2", timestamp=None), zspan("3")])
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning, match="skipped 1 record"):
        df = read_zipkin(path, on_error="skip", report=report)
    assert df["span_id"].to_list() == ["0000000000000001", "0000000000000003"]
    assert [s.where for s in report.skipped] == [f"{path}, record 2"]


def test_malformed_json_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"traceId": "a1",\n   "id": }\n]\n')
    with pytest.raises(FormatError, match=r"bad.json, line 3: malformed JSON"):
        read_zipkin(path)
    lines = tmp_path / "bad.jsonl"
    lines.write_text(json.dumps(zspan("1")) + "\n" + json.dumps([zspan("2"), zspan("3", id=5)]))
    with pytest.raises(FormatError, match=r"bad.jsonl, line 2, record 2: id must be a string"):
        read_zipkin(lines)
    with pytest.raises(FormatError, match="expected a JSON array of Zipkin v2 spans"):
        read_zipkin(write(tmp_path / "n.json", 42))
    (tmp_path / "blank.json").write_text("")
    with pytest.raises(FormatError, match=r"blank.json: the file is empty; expected Zipkin"):
        read_zipkin(tmp_path / "blank.json")
    assert read_zipkin(write(tmp_path / "none.json", [])).height == 0  # an empty result


def test_parameters_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", [zspan("1")])
    with pytest.raises(ParameterError, match="The 'on_error' parameter of read_zipkin must be"):
        read_zipkin(path, on_error="warn")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="The 'backend' parameter of read_zipkin must be"):
        read_zipkin(path, backend="numpy")  # type: ignore[arg-type]
