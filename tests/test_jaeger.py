"""Jaeger JSON reader: real fixtures, OTLP equivalence through the SDK, layouts, bad input."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import toolkit
from toolkit.errors import (
    FormatError,
    LoadReport,
    ParameterError,
    SkippedRecordsWarning,
    ToolkitWarning,
)
from toolkit.ingest import jaeger
from toolkit.ingest._frames import LoadContext
from toolkit.ingest.jaeger import read_jaeger
from toolkit.schema import SPANS, validate

T0_US = 1_700_000_000_123_456  # a start time in whole microseconds


def jspan(span_id: str, **over: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceID": "00000000000000a1",
        "spanID": span_id,
        "operationName": f"op-{span_id}",
        "references": [],
        "startTime": T0_US,
        "duration": 2500,
        "tags": [],
        "logs": [],
        "processID": "p1",
    }
    span.update(over)
    return span


def trace_doc(spans: list[dict[str, Any]], **processes: Any) -> dict[str, Any]:
    procs = processes or {"p1": {"serviceName": "gateway", "tags": []}}
    return {
        "data": [{"traceID": "00000000000000a1", "spans": spans, "processes": procs}],
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": None,
    }


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def tag(key: str, vtype: str, value: Any) -> dict[str, Any]:
    return {"key": key, "type": vtype, "value": value}


# --- real files ---------------------------------------------------------------------


def test_real_ui_trace(real_data: Path) -> None:
    path = real_data / "jaeger" / "ui_01.json"
    raw = json.loads(path.read_text())
    with pytest.warns(ToolkitWarning, match="1 span"):  # spanID ...02 is used twice
        df = read_jaeger(path)
    validate(df, SPANS)
    assert df.height == len(raw["spans"]) == 5
    assert df["trace_id"].unique().to_list() == ["0" * 31 + "1"]
    assert df["span_id"].to_list() == [f"{int(s['spanID'], 16):016x}" for s in raw["spans"]]
    assert df["parent_span_id"].to_list() == [
        None,
        None,
        "0000000000000002",
        "0000000000000002",  # the CHILD_OF of its own trace, not the foreign one listed first
        "0000000000000004",
    ]
    starts = [s["startTime"] * 1000 for s in raw["spans"]]
    assert df["start_time"].dt.epoch("ns").to_list() == starts
    assert df["duration_ms"].to_list() == [s["duration"] / 1000 for s in raw["spans"]]
    procs = raw["processes"]
    assert df["service_name"].to_list() == [
        procs[s["processID"]]["serviceName"] for s in raw["spans"]
    ]
    assert set(df["kind"]) == {"unspecified"}  # no span.kind tag anywhere
    typed = df.row(1, named=True)
    assert typed["status_code"] == "error"  # error=true (bool)
    assert "attributes.error" not in df.columns
    assert typed["attributes.peer.ipv4"] == 23456
    assert typed["attributes.temperature"] == 72.5
    assert typed["attributes.javascript_limit"] == 9223372036854775222  # from a string, exact
    assert typed["attributes.blob"] == base64.b64decode("AAAwOQ==") == b"\x00\x00\x30\x39"
    assert df.schema["attributes.javascript_limit"] == pl.Int64
    events = df["events"][0].to_list()
    assert [e["name"] for e in events] == ["some-event", "log"]
    assert [json.loads(e["attributes"]) for e in events] == [{}, {"x": "y"}]
    assert (
        df["events"][0].struct.field("time").dt.epoch("ns").to_list()
        == [raw["spans"][0]["logs"][0]["timestamp"] * 1000] * 2
    )
    links = df["links"][3].to_list()
    assert [(lk["trace_id"], lk["span_id"], json.loads(lk["attributes"])) for lk in links] == [
        ("0" * 30 + "ff", "00000000000000ff", {"opentracing.ref_type": "child_of"}),
        ("0" * 31 + "1", "0000000000000002", {"opentracing.ref_type": "follows_from"}),
    ]


def test_real_anonymizer_spans(real_data: Path) -> None:
    path = real_data / "jaeger" / "trace_success.json"
    raw = json.loads(path.read_text())
    df = read_jaeger(path)
    validate(df, SPANS)
    assert df.height == len(raw) == 2
    assert df["trace_id"].to_list() == ["00000000000000002be38093ead7a083"] * 2
    assert df["kind"].to_list() == ["server", "client"]
    assert df["parent_span_id"].to_list() == ["492770a15935810f", "7606ddfe69932d34"]
    assert df["service_name"].to_list() == ["16af988c443cff37", "3c220036602f839e"]
    # the second span's error tag is typed bool but written as the string "true"
    assert df["status_code"].to_list() == ["unset", "error"]
    assert df["duration_ms"].to_list() == [267.037, 32.782]
    assert df["start_time"].dt.epoch("ns").to_list() == [s["startTime"] * 1000 for s in raw]
    assert not [c for c in df.columns if c.startswith("attributes.")]  # all tags were mapped


def test_real_elasticsearch_document(real_data: Path) -> None:
    path = real_data / "jaeger" / "es_01.json"
    raw = json.loads(path.read_text())
    df = read_jaeger(path)
    validate(df, SPANS)
    row = df.row(0, named=True)
    assert df.height == 1
    assert row["trace_id"] == raw["traceID"] == "00000000000000010000000000000000"
    assert row["parent_span_id"] == "0000000000000003"  # parentSpanID
    assert row["scope_name"] == "testing-library"
    assert not [c for c in df.columns if "otel.scope" in c]
    assert row["resource.sdk.version"] == "1.2.1"
    assert row["service_name"] == "service-x"
    assert row["attributes.blob"] == bytes.fromhex("00003039")  # Elasticsearch writes hex
    assert row["status_code"] == "error"
    assert df["start_time"].dt.epoch("ns").item() == raw["startTime"] * 1000
    links = [(lk["span_id"], json.loads(lk["attributes"])) for lk in row["links"]]
    assert links == [
        ("0000000000000004", {"opentracing.ref_type": "follows_from"}),
        ("00000000000000ff", {"opentracing.ref_type": "child_of"}),
    ]
    assert [e["name"] for e in row["events"]] == ["testing-event", "log"]
    assert json.loads(row["events"][0]["attributes"]) == {"event-x": "event-y"}


def test_real_files_are_detected(real_data: Path) -> None:
    for name in ("ui_01.json", "trace_success.json", "es_01.json"):
        assert jaeger.looks_like((real_data / "jaeger" / name).read_bytes()[:4096])
    for other in ("zipkin/yelp.json", "otel_proto_examples/trace.json"):
        assert not jaeger.looks_like((real_data / other).read_bytes()[:4096])


# --- the same trace as OTLP and as Jaeger -------------------------------------------


def _sdk_spans() -> list[Any]:
    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode, set_span_in_context

    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "chat-gateway", "deployment.region": "eu-1"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("toolkit.tests", "1.0")
    t0 = T0_US * 1000  # every time a whole microsecond: Jaeger keeps µs

    root = tracer.start_span(
        "POST /chat",
        kind=SpanKind.SERVER,
        start_time=t0,
        attributes={"http.request.method": "POST", "http.response.status_code": 200},
    )
    ctx = set_span_in_context(root)
    llm = tracer.start_span(
        "chat llama-3",
        context=ctx,
        kind=SpanKind.CLIENT,
        start_time=t0 + 5_000,
        attributes={
            "gen_ai.usage.input_tokens": 412,
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.stream": True,
            "big": 2**53 + 1,
        },
    )
    llm.add_event("gen_ai.choice", {"index": 0, "finish_reason": "stop"}, timestamp=t0 + 700_000)
    llm.set_status(Status(StatusCode.OK))
    llm.end(end_time=t0 + 812_345_000)
    retrieve = tracer.start_span("retrieve", context=ctx, start_time=t0 + 1_000)
    retrieve.record_exception(ValueError("stale index"), timestamp=t0 + 3_000)
    retrieve.set_status(Status(StatusCode.ERROR, "index stale"))
    retrieve.end(end_time=t0 + 4_000)
    publish = tracer.start_span(
        "publish audit", context=ctx, kind=SpanKind.PRODUCER, start_time=t0 + 813_000
    )
    publish.end(end_time=t0 + 814_000)
    root.end(end_time=t0 + 900_123_000)
    consume = tracer.start_span(
        "process audit",
        context=Context(),  # a new trace, linked to the producer
        kind=SpanKind.CONSUMER,
        links=[Link(publish.get_span_context())],
        start_time=t0 + 2_000_000,
    )
    consume.end(end_time=t0 + 2_500_000)
    return list(exporter.get_finished_spans())


def _typed_tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return tag(key, "bool", value)
    if isinstance(value, int):
        return tag(key, "int64", value)
    if isinstance(value, float):
        return tag(key, "float64", value)
    return tag(key, "string", str(value))


def _to_jaeger(spans: list[Any]) -> dict[str, Any]:
    """Jaeger query-API JSON of SDK spans, as the Collector's OTLP → Jaeger translator
    writes it (pkg/translator/jaeger/traces_to_jaegerproto.go)."""
    from opentelemetry.trace import StatusCode, format_span_id, format_trace_id

    traces: dict[str, dict[str, Any]] = {}
    for s in spans:
        trace_id = format_trace_id(s.context.trace_id)
        assert s.start_time % 1000 == 0
        assert s.end_time % 1000 == 0
        tags = [_typed_tag(k, v) for k, v in s.attributes.items()]
        tags.append(tag("span.kind", "string", s.kind.name.lower()))  # SDK kinds are set
        if s.status.status_code == StatusCode.OK:
            tags.append(tag("otel.status_code", "string", "OK"))
        elif s.status.status_code == StatusCode.ERROR:
            tags.append(tag("otel.status_code", "string", "ERROR"))
            tags.append(tag("error", "bool", True))
        if s.status.description:
            tags.append(tag("otel.status_description", "string", s.status.description))
        tags.append(tag("otel.scope.name", "string", s.instrumentation_scope.name))
        tags.append(tag("otel.scope.version", "string", s.instrumentation_scope.version))
        references = []
        if s.parent is not None:
            references.append(
                {
                    "refType": "CHILD_OF",
                    "traceID": trace_id,
                    "spanID": format_span_id(s.parent.span_id),
                }
            )
        for link in s.links:
            references.append(
                {
                    "refType": "FOLLOWS_FROM",
                    "traceID": format_trace_id(link.context.trace_id),
                    "spanID": format_span_id(link.context.span_id),
                }
            )
        logs = [
            {
                "timestamp": e.timestamp // 1000,
                "fields": [tag("event", "string", e.name)]
                + [_typed_tag(k, v) for k, v in e.attributes.items()],
            }
            for e in s.events
        ]
        trace = traces.setdefault(
            trace_id,
            {
                "traceID": trace_id,
                "spans": [],
                "processes": {
                    "p1": {
                        "serviceName": s.resource.attributes["service.name"],
                        "tags": [
                            _typed_tag(k, v)
                            for k, v in s.resource.attributes.items()
                            if k != "service.name"
                        ],
                    }
                },
                "warnings": None,
            },
        )
        trace["spans"].append(
            {
                "traceID": trace_id,
                "spanID": format_span_id(s.context.span_id),
                "operationName": s.name,
                "references": references,
                "startTime": s.start_time // 1000,
                "duration": (s.end_time - s.start_time) // 1000,
                "tags": tags,
                "logs": logs,
                "processID": "p1",
                "warnings": None,
            }
        )
    return {"data": list(traces.values()), "total": 0, "limit": 0, "offset": 0, "errors": None}


def test_same_trace_as_otlp_and_jaeger_loads_to_the_same_table(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    sdk = _sdk_spans()
    pb = tmp_path / "trace.pb"
    pb.write_bytes(encode_spans(sdk).SerializeToString())
    js = write(tmp_path / "trace.json", _to_jaeger(sdk))

    from_otlp = toolkit.load_spans(pb).sort("span_id")
    from_jaeger = read_jaeger(js).sort("span_id")
    validate(from_jaeger, SPANS)
    assert from_jaeger.height == len(sdk) == 5
    assert from_jaeger.columns == from_otlp.columns
    same = [c for c in from_otlp.columns if c != "links"]
    assert_frame_equal(from_jaeger.select(same), from_otlp.select(same))
    # Jaeger has no link attributes; it says which kind of reference the link was.
    links = from_jaeger.filter(pl.col("links").list.len() > 0)["links"].to_list()
    otlp_links = from_otlp.filter(pl.col("links").list.len() > 0)["links"].to_list()
    assert [(lk["trace_id"], lk["span_id"]) for lk in links[0]] == [
        (lk["trace_id"], lk["span_id"]) for lk in otlp_links[0]
    ]
    assert json.loads(links[0][0]["attributes"]) == {"opentracing.ref_type": "follows_from"}
    # the parts asserted above are the interesting ones: spell a few out
    by_name = {r["name"]: r for r in from_jaeger.iter_rows(named=True)}
    assert by_name["chat llama-3"]["attributes.big"] == 2**53 + 1
    llm = from_jaeger.filter(pl.col("name") == "chat llama-3")
    assert (llm["end_time"] - llm["start_time"]).dt.total_nanoseconds().item() == 812_340_000
    assert by_name["retrieve"]["status_code"] == "error"
    assert by_name["retrieve"]["status_message"] == "index stale"
    assert by_name["retrieve"]["kind"] == "internal"
    assert by_name["process audit"]["parent_span_id"] is None
    assert by_name["chat llama-3"]["parent_span_id"] == by_name["POST /chat"]["span_id"]


# --- layouts ------------------------------------------------------------------------


def test_list_of_traces_and_embedded_processes(tmp_path: Path) -> None:
    one = trace_doc([jspan("01")])["data"][0]
    two = {
        "traceID": "00000000000000b2",
        "spans": [
            jspan(
                "02",
                traceID="b2",  # old Jaeger versions wrote ids without leading zeros
                processID=None,
                process={"serviceName": "worker", "tags": [tag("host.name", "string", "h1")]},
            )
        ],
        "processes": {},
    }
    df = read_jaeger(write(tmp_path / "traces.json", [one, two]))
    assert df["trace_id"].to_list() == ["0" * 30 + "a1", "0" * 30 + "b2"]
    assert df["span_id"].to_list() == ["0000000000000001", "0000000000000002"]
    assert df["service_name"].to_list() == ["gateway", "worker"]
    assert df["resource.host.name"].to_list() == [None, "h1"]


def test_elasticsearch_layouts(tmp_path: Path) -> None:
    doc = {
        "traceID": "00000000000000a1",
        "spanID": "0000000000000003",
        "parentSpanID": "0000000000000000",  # zero: a root
        "operationName": "GET /v1/models",
        "references": [],
        "startTime": T0_US,
        "startTimeMillis": T0_US // 1000,
        "duration": 1000,
        "tags": [tag("blob", "binary", "cafe"), tag("n", "int64", "7")],
        "tag": {"span@kind": "server", "http@status_code": 200, "cache@hit": True},
        "logs": [],
        "process": {"serviceName": "api", "tags": [], "tag": {"host@name": "node-1"}},
    }
    hits = {"hits": {"total": 1, "hits": [{"_index": "jaeger-span", "_source": doc}]}}
    lines = tmp_path / "spans.jsonl"
    second = {**doc, "spanID": "0000000000000004"}
    lines.write_text(json.dumps({"_source": doc}) + "\n\n" + json.dumps(second) + "\n")
    for path in (write(tmp_path / "hits.json", hits), lines):
        df = read_jaeger(path)
        assert df.height == (1 if path.name == "hits.json" else 2)
        row = df.row(0, named=True)
        assert row["parent_span_id"] is None
        assert row["kind"] == "server"
        assert row["attributes.blob"] == b"\xca\xfe"
        assert row["attributes.n"] == 7
        assert row["attributes.http.status_code"] == 200
        assert row["attributes.cache.hit"] is True
        assert row["resource.host.name"] == "node-1"
        assert row["service_name"] == "api"


def test_references_parent_and_links(tmp_path: Path) -> None:
    spans = [
        jspan("01"),
        jspan(
            "02",
            references=[{"refType": "FOLLOWS_FROM", "traceID": "a1", "spanID": "01"}],
        ),
        jspan(
            "03",
            references=[
                {"refType": "FOLLOWS_FROM", "traceID": "a1", "spanID": "02"},
                {"traceID": "a1", "spanID": "01"},  # refType absent: CHILD_OF (proto default)
            ],
        ),
    ]
    df = read_jaeger(write(tmp_path / "t.json", trace_doc(spans)))
    assert df["parent_span_id"].to_list() == [None, None, "0000000000000001"]
    assert [[lk["span_id"] for lk in links] for links in df["links"].to_list()] == [
        [],
        ["0000000000000001"],
        ["0000000000000002"],
    ]


def test_status_kind_scope_and_special_tags(tmp_path: Path) -> None:
    spans = [
        jspan("01", tags=[tag("error", "bool", True), tag("otel.status_code", "string", "OK")]),
        jspan(
            "02",
            tags=[
                tag("otel.status_code", "string", "error"),
                tag("otel.status_description", "string", "rate limited"),
                tag("span.kind", "string", "CONSUMER"),
            ],
        ),
        jspan("03", tags=[tag("otel.status_code", "string", "Ok"), tag("error", "bool", False)]),
        jspan(
            "04",
            tags=[
                tag("span.kind", "string", "weird"),
                tag("otel.library.name", "string", "legacy-lib"),
                tag("otel.library.version", "string", "0.1"),
                tag("w3c.tracestate", "string", "vendor=1"),
                tag("n", "INT64", 5),  # proto-JSON style upper-case type
            ],
        ),
    ]
    df = read_jaeger(write(tmp_path / "t.json", trace_doc(spans)))
    assert df["status_code"].to_list() == ["error", "error", "ok", "unset"]
    assert df["status_message"].to_list() == [None, "rate limited", None, None]
    assert df["kind"].to_list() == ["unspecified", "consumer", "unspecified", "unspecified"]
    assert df["attributes.error"].to_list() == [None, None, False, None]  # false stays
    assert df["attributes.span.kind"].to_list() == [None, None, None, "weird"]
    assert df["scope_name"].to_list() == [None, None, None, "legacy-lib"]
    assert df["attributes.n"].to_list() == [None, None, None, 5]
    assert not [c for c in df.columns if "otel." in c or "tracestate" in c]


def test_repeated_tag_keys_are_reported(tmp_path: Path) -> None:
    span = jspan("01", tags=[tag("a", "string", "x"), tag("a", "string", "y")])
    with pytest.warns(ToolkitWarning, match="repeated"):
        df = read_jaeger(write(tmp_path / "t.json", trace_doc([span])))
    assert df["attributes.a"].item() == "y"


def test_gzip_pandas_and_report(tmp_path: Path, backend: str) -> None:
    path = tmp_path / "t.json.gz"
    path.write_bytes(gzip.compress(json.dumps(trace_doc([jspan("01"), jspan("02")])).encode()))
    report = LoadReport()
    df = read_jaeger(path, report=report, backend=backend)  # type: ignore[arg-type]
    assert isinstance(df, pd.DataFrame if backend == "pandas" else pl.DataFrame)
    if backend == "polars":
        validate(df, SPANS)
    else:
        assert list(df.columns) == read_jaeger(path).columns
        assert df["start_time"].dtype == "datetime64[ns, UTC]"
    assert report.rows == 2
    assert report.formats == {str(path): "jaeger-json"}


def test_frames_from_file_for_load_spans(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", trace_doc([jspan("01")]))
    ctx = LoadContext("load_spans")
    frames = jaeger.frames_from_file(path, ctx)
    assert [f.height for f in frames] == [1]
    assert ctx.formats == {str(path): "jaeger-json"}
    assert jaeger.looks_like(path.read_bytes())


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "message"),
    [
        (jspan("01", traceID="xyz"), "traceID must be a string of 1 to 32 hex digits"),
        (jspan("0000000000000000"), "spanID must not be all zeros"),
        (jspan("01", startTime=1.5), "startTime must be an integer number of microseconds"),
        (jspan("01", duration=-3), "duration must be zero or more"),
        (jspan("01", processID="p9"), "processID 'p9' is not among the trace's processes"),
        (jspan("01", tags=[tag("n", "int64", "9223372036854775808")]), "does not fit in 64"),
        (jspan("01", tags=[tag("n", "uint", 1)]), "expected string, bool, int64"),
        (jspan("01", tags=[tag("b", "binary", "%%")]), "is not base64"),
        (jspan("01", tags=[tag("f", "bool", "yes")]), "has the value 'yes'"),
        (jspan("01", references=[{"refType": "X", "traceID": "1", "spanID": "1"}]), "refType"),
    ],
)
def test_bad_span_names_file_and_record(tmp_path: Path, span: Any, message: str) -> None:
    path = write(tmp_path / "bad.json", trace_doc([jspan("0a"), span]))
    with pytest.raises(FormatError, match=message) as info:
        read_jaeger(path)
    assert str(info.value).startswith(f"{path}, record 2: ")
    assert info.value.record == 2


def test_skip_counts_bad_spans(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.json", trace_doc([jspan("01"), jspan("02", startTime=None)]))
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning, match="skipped 1 record") as caught:
        df = read_jaeger(path, on_error="skip", report=report)
    assert df["span_id"].to_list() == ["0000000000000001"]
    assert len(caught[0].message.skipped) == 1  # type: ignore[union-attr]
    assert report.skipped[0].where == f"{path}, record 2"
    assert "startTime" in report.skipped[0].reason


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "data": [\n    {"traceID": "a1",, "spans": []}\n  ]\n}\n')
    with pytest.raises(FormatError, match=r"bad.json, line 3: malformed JSON"):
        read_jaeger(path)
    lines = tmp_path / "bad.jsonl"
    lines.write_text(json.dumps(jspan("01", process={})) + "\n{oops\n")
    with pytest.raises(FormatError, match=r"bad.jsonl, line 2: malformed JSON"):
        read_jaeger(lines)


def test_not_jaeger_and_empty(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="found the keys 'resourceSpans'"):
        read_jaeger(write(tmp_path / "otlp.json", {"resourceSpans": []}))
    empty = read_jaeger(write(tmp_path / "empty.json", {"data": [], "total": 0}))
    assert empty.height == 0
    validate(empty, SPANS)
    blank = tmp_path / "blank.json"
    blank.write_text("\n")
    with pytest.raises(FormatError, match=r"blank.json: the file is empty; expected Jaeger"):
        read_jaeger(blank)
    with pytest.raises(FormatError, match="expected Jaeger JSON objects or arrays; got None"):
        read_jaeger(write(tmp_path / "null.json", None))


def test_parameters_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", trace_doc([jspan("01")]))
    with pytest.raises(ParameterError, match="The 'on_error' parameter of read_jaeger must be"):
        read_jaeger(path, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="The 'backend' parameter of read_jaeger must be"):
        read_jaeger(path, backend="arrow")  # type: ignore[arg-type]
