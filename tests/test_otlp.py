"""OTLP readers: real example files, SDK round trips, both parse paths, bad input."""

from __future__ import annotations

import base64
import gzip
import json
import math
import struct
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit.errors import (
    FormatError,
    LoadReport,
    ParameterError,
    SkippedRecordsWarning,
    TypePromotionWarning,
    UnsupportedFormatError,
    WrongSignalError,
)
from toolkit.schema import validate

TRACE = "5b8efff798038103d269b633813fc60c"


def kv(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "value": value}


def make_span(i: int, **overrides: Any) -> dict[str, Any]:
    span = {
        "traceId": TRACE.upper(),
        "spanId": f"{i + 1:016X}",
        "name": f"chat gpt-{i}",
        "kind": 3,
        "startTimeUnixNano": str(1_544_712_660_000_000_000 + i),
        "endTimeUnixNano": str(1_544_712_661_250_000_000 + i),
        "attributes": [
            kv("gen_ai.usage.input_tokens", {"intValue": str(10 + i)}),
            kv("temperature", {"doubleValue": 0.5}),
            kv(
                "gen_ai.response.finish_reasons",
                {"arrayValue": {"values": [{"stringValue": "stop"}]}},
            ),
            kv("big", {"intValue": "9007199254740993"}),  # 2**53 + 1: must stay exact
        ],
        "events": [
            {
                "timeUnixNano": "1544712660500000000",
                "name": "gen_ai.evaluation.result",
                "attributes": [
                    kv("gen_ai.evaluation.score.value", {"doubleValue": 0.8}),
                    kv("quote", {"stringValue": 'a "b"'}),
                ],
            }
        ],
        "status": {"code": 2, "message": "boom"},
    }
    span.update(overrides)
    return span


def traces_doc(spans: list[dict[str, Any]], service: str = "gateway") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [kv("service.name", {"stringValue": service})]},
                "scopeSpans": [{"scope": {"name": "llm.client"}, "spans": spans}],
            }
        ]
    }


def write_lines(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


# --- real files -------------------------------------------------------------------------


def test_real_trace_example(real_data: Path) -> None:
    path = real_data / "otel_proto_examples" / "trace.json"
    raw = json.loads(path.read_text())["resourceSpans"][0]
    spans = validate(toolkit.load_spans(path), "spans")
    assert spans.height == 1
    row = spans.row(0, named=True)
    span = raw["scopeSpans"][0]["spans"][0]
    assert row["trace_id"] == span["traceId"].lower() == "5b8efff798038103d269b633813fc60c"
    assert row["span_id"] == span["spanId"].lower()
    assert row["parent_span_id"] == span["parentSpanId"].lower()
    assert row["name"] == "I'm a server span"
    assert row["kind"] == "server"  # kind 2
    assert row["service_name"] == "my.service"
    assert row["scope_name"] == "my.library"
    assert spans["start_time"].dt.epoch("ns").item() == int(span["startTimeUnixNano"])
    assert spans["end_time"].dt.epoch("ns").item() == int(span["endTimeUnixNano"])
    assert row["duration_ms"] == 1000.0
    assert row["status_code"] == "unset"
    assert row["attributes.my.span.attr"] == "some value"
    assert row["events"] == []


def test_real_logs_and_events_examples(real_data: Path) -> None:
    folder = real_data / "otel_proto_examples"
    logs = validate(toolkit.load_logs([folder / "logs.json", folder / "events.json"]), "logs")
    assert logs.height == 2
    first, event = logs.row(0, named=True), logs.row(1, named=True)
    raw = json.loads((folder / "logs.json").read_text())
    record = raw["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert first["severity_number"] == record["severityNumber"]
    assert first["severity_text"] == record["severityText"]
    assert first["body"] == record["body"]["stringValue"]
    assert first["trace_id"] == record["traceId"].lower()
    assert first["span_id"] == record["spanId"].lower()
    assert logs["time"][0].timestamp() * 1e9 == pytest.approx(int(record["timeUnixNano"]))
    # typed attributes of the example: string, int, double, bool, array, map
    by_key = {a["key"]: a["value"] for a in record["attributes"]}
    assert first["attributes.int.attribute"] == int(by_key["int.attribute"]["intValue"])
    assert first["attributes.double.attribute"] == by_key["double.attribute"]["doubleValue"]
    assert first["attributes.boolean.attribute"] is True
    assert first["attributes.array.attribute"] == [
        v["stringValue"] for v in by_key["array.attribute"]["arrayValue"]["values"]
    ]
    assert json.loads(first["attributes.map.attribute"]) == {"some.map.key": "some value"}
    # events.json: a log record with an event name and a map body
    ev = json.loads((folder / "events.json").read_text())
    ev_record = ev["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert event["event_name"] == ev_record["eventName"] == "browser.page_view"
    body = json.loads(event["body"])

    def plain(value: dict[str, Any]) -> Any:
        ((kind, raw),) = value.items()
        return int(raw) if kind == "intValue" else raw

    assert body == {
        item["key"]: plain(item["value"]) for item in ev_record["body"]["kvlistValue"]["values"]
    }
    assert body["type"] == 0


def test_real_metrics_example(real_data: Path) -> None:
    path = real_data / "otel_proto_examples" / "metrics.json"
    m = validate(toolkit.load_metrics(path), "metrics")
    raw = json.loads(path.read_text())["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
    kinds = {
        x["name"]: next(
            k for k in x if k in ("sum", "gauge", "histogram", "exponentialHistogram", "summary")
        )
        for x in raw
    }
    assert kinds == {
        "my.counter": "sum",
        "my.gauge": "gauge",
        "my.histogram": "histogram",
        "my.exponential.histogram": "exponentialHistogram",
    }

    def rows(name: str) -> pl.DataFrame:
        return m.filter(pl.col("name") == name)

    counter = rows("my.counter").row(0, named=True)
    assert (counter["type"], counter["value"], counter["temporality"]) == ("counter", 5.0, "delta")
    assert counter["label.my.counter.attr"] == "some value"
    assert rows("my.gauge")["value"].to_list() == [10.0]
    hist = next(x for x in raw if x["name"] == "my.histogram")["histogram"]["dataPoints"][0]
    buckets = rows("my.histogram_bucket").sort("le")
    cumulative = [
        sum(int(c) for c in hist["bucketCounts"][: i + 1]) for i in range(len(hist["bucketCounts"]))
    ]
    assert buckets["value"].to_list() == [float(c) for c in cumulative]
    assert buckets["le"].to_list() == [*map(float, hist["explicitBounds"]), math.inf]
    assert rows("my.histogram_count")["value"].item() == float(hist["count"])
    assert rows("my.histogram_sum")["value"].item() == float(hist["sum"])
    # exponential: scale 0, zero bucket 1, positive offset 1 counts [0, 2]:
    # (0 .. 0]: 1, (2, 4]: 0, (4, 8]: 2, so cumulative le 0 -> 1, 4 -> 1, 8 -> 3, +inf -> 3
    exp = rows("my.exponential.histogram_bucket")
    assert list(zip(exp["le"].to_list(), exp["value"].to_list(), strict=True)) == [
        (0.0, 1.0),
        (4.0, 1.0),
        (8.0, 3.0),
        (math.inf, 3.0),
    ]
    assert rows("my.exponential.histogram_min")["value"].item() == 0.0
    assert rows("my.exponential.histogram_max")["value"].item() == 5.0


# --- SDK round trip ---------------------------------------------------------------------


def _sdk_spans() -> list[Any]:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, Status, StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "rag-gateway", "deployment.environment": "prod"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("toolkit.tests", "1.0")
    t0 = 1_763_700_000_123_456_789
    with tracer.start_as_current_span(
        "invoke_agent", kind=SpanKind.SERVER, start_time=t0, end_on_exit=False
    ) as root:
        with tracer.start_as_current_span(
            "chat llama-3", kind=SpanKind.CLIENT, start_time=t0 + 1_000, end_on_exit=False
        ) as call:
            call.set_attribute("gen_ai.operation.name", "chat")
            call.set_attribute("gen_ai.usage.input_tokens", 1234)
            call.set_attribute("gen_ai.request.temperature", 0.25)
            call.set_attribute("gen_ai.request.stream", True)
            call.set_attribute("gen_ai.response.finish_reasons", ["stop", "length"])
            call.set_attribute("token.ids", [1, 2, 3])
            call.add_event(
                "gen_ai.evaluation.result",
                {"gen_ai.evaluation.name": "groundedness", "gen_ai.evaluation.score.value": 0.75},
                timestamp=t0 + 5_000,
            )
            call.set_status(Status(StatusCode.ERROR, "rate limited"))
            call.end(end_time=t0 + 2_500_000_001)
        root.set_status(Status(StatusCode.OK))
        root.end(end_time=t0 + 3_000_000_000)
    return list(exporter.get_finished_spans())


def _otlp_json_from_proto(message: Any) -> dict[str, Any]:
    """OTLP JSON as the spec defines it: proto3 JSON with ids in hex, not base64."""
    from google.protobuf.json_format import MessageToDict

    doc = MessageToDict(message)

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("traceId", "spanId", "parentSpanId"):
                if node.get(key):
                    node[key] = base64.b64decode(node[key]).hex()
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)

    fix(doc)
    return doc


def test_sdk_round_trip_protobuf_and_json(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    sdk = _sdk_spans()
    request = encode_spans(sdk)
    pb = tmp_path / "spans.pb"
    pb.write_bytes(request.SerializeToString())
    js = tmp_path / "spans.json"
    js.write_text(json.dumps(_otlp_json_from_proto(request), indent=2))
    jsl = tmp_path / "spans.jsonl.gz"
    jsl.write_bytes(gzip.compress((json.dumps(_otlp_json_from_proto(request)) + "\n").encode()))

    frames = [toolkit.load_spans(p).sort("start_time") for p in (pb, js, jsl)]
    assert frames[0].equals(frames[1])
    assert frames[0].equals(frames[2])
    spans = validate(frames[0], "spans")
    by_name = {r["name"]: r for r in spans.iter_rows(named=True)}
    for s in sdk:
        row = by_name[s.name]
        assert row["trace_id"] == format(s.context.trace_id, "032x")
        assert row["span_id"] == format(s.context.span_id, "016x")
        assert row["parent_span_id"] == (format(s.parent.span_id, "016x") if s.parent else None)
    starts = dict(zip(spans["name"], spans["start_time"].dt.epoch("ns"), strict=True))
    ends = dict(zip(spans["name"], spans["end_time"].dt.epoch("ns"), strict=True))
    assert {s.name: s.start_time for s in sdk} == starts
    assert {s.name: s.end_time for s in sdk} == ends
    call = by_name["chat llama-3"]
    assert call["kind"] == "client"
    assert by_name["invoke_agent"]["kind"] == "server"
    assert call["status_code"] == "error"
    assert call["status_message"] == "rate limited"
    assert by_name["invoke_agent"]["status_code"] == "ok"
    assert call["duration_ms"] == pytest.approx(2_499.999001)
    assert call["attributes.gen_ai.usage.input_tokens"] == 1234
    assert call["attributes.gen_ai.request.temperature"] == 0.25
    assert call["attributes.gen_ai.request.stream"] is True
    assert call["attributes.gen_ai.response.finish_reasons"] == ["stop", "length"]
    assert call["attributes.token.ids"] == [1, 2, 3]
    assert call["resource.deployment.environment"] == "prod"
    assert call["service_name"] == "rag-gateway"
    assert call["scope_name"] == "toolkit.tests"
    (event,) = call["events"]
    assert event["name"] == "gen_ai.evaluation.result"
    assert int(event["time"].timestamp()) == (1_763_700_000_123_456_789 + 5_000) // 10**9
    assert (
        spans.filter(pl.col("name") == "chat llama-3")["events"]
        .list.first()
        .struct.field("time")
        .dt.epoch("ns")
        .item()
        == 1_763_700_000_123_456_789 + 5_000
    )
    assert json.loads(event["attributes"]) == {
        "gen_ai.evaluation.name": "groundedness",
        "gen_ai.evaluation.score.value": 0.75,
    }
    assert spans.schema["attributes.gen_ai.usage.input_tokens"] == pl.Int64
    assert spans.schema["attributes.token.ids"] == pl.List(pl.Int64)


def test_length_prefixed_protobuf_stream(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    sdk = _sdk_spans()
    one, two = encode_spans(sdk[:1]).SerializeToString(), encode_spans(sdk[1:]).SerializeToString()
    path = tmp_path / "stream.pb"
    path.write_bytes(struct.pack(">I", len(one)) + one + struct.pack(">I", len(two)) + two)
    assert toolkit.load_spans(path).height == len(sdk)


def test_protobuf_of_another_signal_is_named(tmp_path: Path) -> None:
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2

    req = logs_service_pb2.ExportLogsServiceRequest()
    rec = req.resource_logs.add().scope_logs.add().log_records.add()
    rec.time_unix_nano = 1_700_000_000_000_000_000
    rec.severity_number = logs_pb2.SEVERITY_NUMBER_WARN
    rec.body.string_value = "queue is full"
    rec.trace_id = bytes.fromhex(TRACE)
    path = tmp_path / "logs.pb"
    path.write_bytes(req.SerializeToString())
    with pytest.raises(WrongSignalError, match=r"logs\.pb: this holds OTLP logs, not traces"):
        toolkit.load_spans(path)
    logs = toolkit.load_logs(path)
    assert logs.select("severity_number", "body", "trace_id").row(0) == (13, "queue is full", TRACE)


# --- both parse paths ---------------------------------------------------------------------


def test_fast_and_general_paths_agree(tmp_path: Path) -> None:
    docs = [traces_doc([make_span(i) for i in range(j * 3, j * 3 + 3)]) for j in range(4)]
    fast = toolkit.load_spans(write_lines(tmp_path / "fast.jsonl", docs))
    # snake_case keys and integers as JSON numbers are valid OTLP JSON that only the
    # general path accepts: the result must be identical.
    text = "".join(json.dumps(d) + "\n" for d in docs)
    text = text.replace('"resourceSpans"', '"resource_spans"').replace(
        '"startTimeUnixNano": "1544712660000000000"', '"startTimeUnixNano": 1544712660000000000'
    )
    general_path = tmp_path / "general.jsonl"
    general_path.write_text(text)
    general = toolkit.load_spans(general_path)
    assert fast.height == 12
    assert fast.equals(general)
    assert fast["attributes.big"].to_list()[0] == 9_007_199_254_740_993
    events = fast["events"].list.first()
    assert json.loads(events.struct.field("attributes")[0]) == {
        "gen_ai.evaluation.score.value": 0.8,
        "quote": 'a "b"',
    }


def test_lines_longer_than_a_batch_are_read_whole(tmp_path: Path) -> None:
    from toolkit.loaders import _load, _span_readers
    from toolkit.schema import SPANS

    docs = [traces_doc([make_span(j * 40 + i) for i in range(40)]) for j in range(6)]
    path = write_lines(tmp_path / "long.jsonl", docs)  # ~20 KB lines, 4 KB windows
    tiny = _load(
        path,
        table=SPANS,
        readers=_span_readers(batch_bytes=1 << 12),
        function="load_spans",
        on_error="raise",
        report=None,
        progress=False,
        backend="polars",
    )
    assert tiny.height == 240
    assert tiny.equals(toolkit.load_spans(path))


def test_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    good = json.dumps(traces_doc([make_span(0)]))
    bad = json.dumps(traces_doc([make_span(1, spanId="XYZ")]))
    path = tmp_path / "blank.jsonl"
    path.write_text(f"{good}\n\n{good}\n\n\n{bad}\n")
    with pytest.raises(FormatError, match=r"blank\.jsonl, line 6: spanId must be 16 hex digits"):
        toolkit.load_spans(path)


def test_many_batches_and_files_concatenate(tmp_path: Path) -> None:
    docs = [traces_doc([make_span(i)]) for i in range(200)]
    write_lines(tmp_path / "a.jsonl", docs[:120])
    gz = tmp_path / "sub" / "b.jsonl.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress("".join(json.dumps(d) + "\n" for d in docs[120:]).encode()))
    from toolkit.loaders import _load, _span_readers
    from toolkit.schema import SPANS

    small = _load(
        tmp_path,
        table=SPANS,
        readers=_span_readers(batch_bytes=1 << 12),
        function="load_spans",
        on_error="raise",
        report=None,
        progress=False,
        backend="polars",
    )
    whole = toolkit.load_spans(tmp_path)
    assert small.equals(whole)
    assert whole.height == 200
    assert whole["attributes.gen_ai.usage.input_tokens"].to_list() == [10 + i for i in range(200)]
    assert toolkit.load_spans(str(tmp_path / "**" / "*.jsonl*")).equals(whole)


# --- typing rules -------------------------------------------------------------------------


def test_mixed_types_are_promoted_and_warned(tmp_path: Path) -> None:
    spans = [
        make_span(0, attributes=[kv("n", {"intValue": "1"}), kv("m", {"boolValue": True})]),
        make_span(1, attributes=[kv("n", {"doubleValue": 2.5}), kv("m", {"intValue": "7"})]),
        make_span(2, attributes=[kv("m", {"arrayValue": {"values": [{"intValue": "1"}]}})]),
        make_span(3, attributes=[kv("e", {})]),
    ]
    path = write_lines(tmp_path / "mixed.jsonl", [traces_doc(spans)])
    with pytest.warns(TypePromotionWarning) as record:
        frame = toolkit.load_spans(path)
    assert len(record) == 1
    message = str(record[0].message)
    assert "'attributes.n' -> Float64" in message
    assert "'attributes.m' -> String" in message
    assert frame["attributes.n"].to_list() == [1.0, 2.5, None, None]
    assert frame["attributes.m"].to_list() == ["true", "7", "[1]", None]
    assert frame.schema["attributes.e"] == pl.String  # present, never valued


def test_types_unify_across_batches_like_within_one(tmp_path: Path) -> None:
    one = make_span(0, attributes=[kv("n", {"intValue": "3"})])
    two = make_span(1, attributes=[kv("n", {"doubleValue": 0.5})])
    with pytest.warns(TypePromotionWarning):
        together = toolkit.load_spans(write_lines(tmp_path / "t.jsonl", [traces_doc([one, two])]))
    with pytest.warns(TypePromotionWarning):
        apart = toolkit.load_spans(
            [
                write_lines(tmp_path / "1.jsonl", [traces_doc([one])]),
                write_lines(tmp_path / "2.jsonl", [traces_doc([two])]),
            ]
        )
    assert apart["attributes.n"].to_list() == together["attributes.n"].to_list() == [3.0, 0.5]


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "error", "pattern"),
    [
        ("{not json\n", FormatError, r"line 2: malformed JSON"),
        (
            '{"resourceLogs": []}\n',
            WrongSignalError,
            r"line 2: this holds OTLP logs, not traces; read it with toolkit.load_logs",
        ),
        ('{"hello": 1}\n', FormatError, r"line 2: expected an OTLP traces object"),
        (
            json.dumps(traces_doc([make_span(1, traceId="abc")])) + "\n",
            FormatError,
            r"line 2: traceId must be 32 hex digits, not all zero; got 'abc'",
        ),
        (
            json.dumps(traces_doc([make_span(1, kind=9)])) + "\n",
            FormatError,
            r"line 2: kind must be 0-5 \(SpanKind\); got 9",
        ),
        (
            json.dumps(traces_doc([make_span(1, kind="SPAN_KIND_NOPE")])) + "\n",
            FormatError,
            r"line 2: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.kind 'SPAN_KIND_NOPE'",
        ),
        (
            json.dumps(traces_doc([make_span(1, startTimeUnixNano=1.5e18)])) + "\n",
            FormatError,
            r"line 2: .*startTimeUnixNano must be a decimal string or an integer, got the float",
        ),
        (
            json.dumps(traces_doc([make_span(1, attributes=[kv("n", {"intValue": "12a"})])]))
            + "\n",
            FormatError,
            r"line 2: .*attributes\[0\] \('n'\): intValue '12a' is not a decimal",
        ),
        (
            json.dumps(traces_doc([make_span(1, attributes=[kv("n", {"intValue": 1.5})])])) + "\n",
            FormatError,
            r"line 2: .*intValue must be a decimal string or an integer, got 1\.5",
        ),
        (
            json.dumps(traces_doc([make_span(1, attributes=[kv("b", {"bytesValue": "@@"})])]))
            + "\n",
            FormatError,
            r"line 2: .*bytesValue '@@' is not valid base64",
        ),
    ],
)
def test_bad_records_name_file_and_line(
    tmp_path: Path, content: str, error: type[Exception], pattern: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(traces_doc([make_span(0)])) + "\n" + content)
    with pytest.raises(error, match=r"bad\.jsonl, " + pattern):
        toolkit.load_spans(path)
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning) as record:
        kept = toolkit.load_spans(path, on_error="skip", report=report)
    assert kept.height == 1  # the good span on line 1 survives
    assert len(report.skipped) == 1
    assert "bad.jsonl, line 2" in str(report.skipped[0])
    assert len(record[0].message.skipped) == 1  # type: ignore[union-attr]


def test_int_value_as_json_number_is_accepted_as_the_spec_says(tmp_path: Path) -> None:
    # OTLP/JSON: 64-bit integers are written as strings, but readers must accept numbers.
    span = make_span(0, attributes=[kv("n", {"intValue": 12})])
    frame = toolkit.load_spans(write_lines(tmp_path / "n.jsonl", [traces_doc([span])]))
    assert frame["attributes.n"].to_list() == [12]


def test_skip_keeps_other_spans_of_the_same_line(tmp_path: Path) -> None:
    spans = [make_span(0), make_span(1, attributes=[kv("n", {"intValue": "x"})]), make_span(2)]
    path = write_lines(tmp_path / "s.jsonl", [traces_doc(spans)])
    with pytest.warns(SkippedRecordsWarning, match=r"s\.jsonl, line 1: .*spans\[1\]"):
        kept = toolkit.load_spans(path, on_error="skip")
    assert kept["span_id"].to_list() == ["0000000000000001", "0000000000000003"]


def test_empty_truncated_and_foreign_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(FormatError, match=r"empty\.json: the file is empty"):
        toolkit.load_spans(empty)
    blob = gzip.compress(
        ("".join(json.dumps(traces_doc([make_span(i)])) + "\n" for i in range(2000))).encode()
    )
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(FormatError, match=r"cut\.jsonl\.gz: the gzip stream is truncated"):
        toolkit.load_spans(cut)
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(UnsupportedFormatError, match=r"x\.csv: no reader recognises this text"):
        toolkit.load_spans(csv)
    with pytest.raises(ParameterError, match="does not exist"):
        toolkit.load_spans(tmp_path / "missing.json")
    with pytest.raises(ParameterError, match="'on_error' parameter of load_spans"):
        toolkit.load_spans(empty, on_error="ignore")  # type: ignore[arg-type]


def test_logs_bad_trace_id_and_time_fallback(tmp_path: Path) -> None:
    good = {
        "observedTimeUnixNano": "1700000000000000000",
        "body": {"intValue": "5"},
        "severityNumber": 0,
    }
    bad = {"timeUnixNano": "1700000000000000001", "traceId": "12"}
    doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": [good, bad]}]}]}
    path = write_lines(tmp_path / "l.jsonl", [doc])
    with pytest.raises(FormatError, match=r"l\.jsonl, line 1: traceId must be 32 hex digits"):
        toolkit.load_logs(path)
    with pytest.warns(SkippedRecordsWarning):
        logs = toolkit.load_logs(path, on_error="skip")
    row = logs.row(0, named=True)
    assert row["time"] == row["observed_time"]  # no event time: observed time stands in
    assert row["body"] == "5"
    assert row["severity_number"] is None  # 0 = unspecified


# --- backends, lazy, parquet ----------------------------------------------------------------


def test_pandas_backend(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [traces_doc([make_span(0), make_span(1)])])
    pdf = toolkit.load_spans(path, backend="pandas")
    import pandas as pd

    assert isinstance(pdf, pd.DataFrame)
    assert str(pdf["start_time"].dtype) == "datetime64[ns, UTC]"
    assert pdf["attributes.big"].tolist() == [9_007_199_254_740_993] * 2
    assert validate(pdf, "spans").height == 2


def test_scan_spans_matches_load_and_filters_lazily(tmp_path: Path) -> None:
    docs = [traces_doc([make_span(i)], service=f"svc-{i % 3}") for i in range(300)]
    path = write_lines(tmp_path / "big.jsonl", docs)
    lazy = toolkit.scan_spans(path, batch_bytes=1 << 16, cache_dir=tmp_path / "parts")
    assert isinstance(lazy, pl.LazyFrame)
    assert len(list((tmp_path / "parts").glob("*.parquet"))) > 1
    eager = toolkit.load_spans(path)
    assert lazy.collect().equals(eager)
    counts = (
        lazy.filter(pl.col("service_name") == "svc-1")
        .group_by("service_name")
        .agg(pl.len())
        .collect()
    )
    assert counts.row(0) == ("svc-1", 100)


def test_parquet_round_trip_is_lossless(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [traces_doc([make_span(i) for i in range(5)])])
    spans = toolkit.load_spans(path)
    out = tmp_path / "spans.parquet"
    toolkit.to_parquet(spans, out)
    back = toolkit.read_parquet(out)
    assert back.equals(spans)
    assert back.schema == spans.schema
    assert back["start_time"].dt.epoch("ns").to_list() == [
        1_544_712_660_000_000_000 + i for i in range(5)
    ]


def test_load_report_is_filled(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "r.jsonl", [traces_doc([make_span(0)])])
    report = LoadReport()
    toolkit.load_spans(path, report=report)
    assert report.rows == 1
    assert report.formats == {str(path): "otlp-json-lines"}


def test_import_does_not_pull_heavy_packages() -> None:
    import subprocess
    import sys

    code = (
        "import sys, toolkit; heavy = [m for m in ('shap', 'lime', 'aif360', 'jupyter', "
        "'jupyter_client', 'ipykernel', 'matplotlib', 'sklearn') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_warnings_do_not_leak_between_loads(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ok.jsonl", [traces_doc([make_span(0)])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        toolkit.load_spans(path)
