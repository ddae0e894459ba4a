"""Python SDK span dumps: the any-agent traces, the SDK's to_json(), OTLP equivalence, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import toolkit
from toolkit.errors import FormatError, LoadReport, ParameterError, SkippedRecordsWarning
from toolkit.ingest import sdk_dump
from toolkit.ingest._frames import LoadContext
from toolkit.ingest.sdk_dump import read_sdk_dump
from toolkit.schema import SPANS, validate

AGENTS = ["AGNO", "GOOGLE", "LLAMA_INDEX", "SMOLAGENTS", "TINYAGENT"]
TRACE_INT = 39712373237291850001929057769826244787  # wider than 64 bits
T0 = 1_758_026_594_777_382_000


def aspan(span_id: int, parent: int | None = None, **over: Any) -> dict[str, Any]:
    """A span in any-agent's layout."""
    span: dict[str, Any] = {
        "name": f"op-{span_id}",
        "kind": "internal",
        "parent": {"trace_id": TRACE_INT if parent else None, "span_id": parent},
        "start_time": T0,
        "end_time": T0 + 1_500_000,
        "status": {"status_code": "ok", "description": None},
        "context": {"trace_id": TRACE_INT, "span_id": span_id},
        "attributes": {},
        "links": [],
        "events": [],
        "resource": {"attributes": {"service.name": "agent"}, "schema_url": ""},
    }
    span.update(over)
    return span


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


# --- real files ---------------------------------------------------------------------


@pytest.mark.parametrize("agent", AGENTS)
def test_real_any_agent_trace(real_data: Path, agent: str) -> None:
    path = real_data / "any_agent_genai_traces" / f"{agent}_trace.json"
    raw = json.loads(path.read_text())["spans"]
    df = read_sdk_dump(path)
    validate(df, SPANS)
    assert df.height == len(raw)
    assert df["trace_id"].to_list() == [format(s["context"]["trace_id"], "032x") for s in raw]
    assert df["span_id"].to_list() == [format(s["context"]["span_id"], "016x") for s in raw]
    assert df["parent_span_id"].to_list() == [
        None if s["parent"]["span_id"] is None else format(s["parent"]["span_id"], "016x")
        for s in raw
    ]
    assert df["start_time"].dt.epoch("ns").to_list() == [s["start_time"] for s in raw]
    assert df["end_time"].dt.epoch("ns").to_list() == [s["end_time"] for s in raw]
    assert df["kind"].to_list() == ["internal"] * len(raw)
    assert df["status_code"].to_list() == [s["status"]["status_code"] for s in raw]
    for key in (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.input_cost",
        "gen_ai.usage.output_cost",
        "gen_ai.operation.name",
        "gen_ai.input.messages",
    ):
        column = df[f"attributes.{key}"]
        assert column.to_list() == [s["attributes"].get(key) for s in raw], key
    assert df.schema["attributes.gen_ai.usage.input_tokens"] == pl.Int64
    assert df.schema["attributes.gen_ai.usage.input_cost"] == pl.Float64
    assert df["service_name"].unique().to_list() == ["unknown_service"]
    assert df["resource.telemetry.sdk.version"].to_list() == [
        s["resource"]["attributes"]["telemetry.sdk.version"] for s in raw
    ]
    # The agent span is the one root. Every other span hangs under it, except in the
    # Google ADK run, whose dump lacks the ADK's own intermediate spans.
    (root,) = df.filter(pl.col("parent_span_id").is_null()).rows(named=True)
    assert root["name"] == "invoke_agent [any_agent]"
    known = set(df["span_id"])
    missing = {p for p in df["parent_span_id"].drop_nulls() if p not in known}
    expected_missing = {
        format(s["parent"]["span_id"], "016x")
        for s in raw
        if s["parent"]["span_id"] is not None
        and s["parent"]["span_id"] not in {t["context"]["span_id"] for t in raw}
    }
    assert missing == expected_missing
    if agent == "GOOGLE":
        assert len(missing) == 4
    else:
        assert missing == set()
        assert set(df["parent_span_id"].drop_nulls()) == {root["span_id"]}


def test_real_ids_are_exact(real_data: Path) -> None:
    df = read_sdk_dump(real_data / "any_agent_genai_traces" / "AGNO_trace.json")
    assert df["trace_id"][0] == format(TRACE_INT, "032x") == "1de0532b350588ff152b1edf6bf358b3"
    assert df["span_id"][0] == "19145660c14f5a36"  # 1807164324042463798
    assert df.filter(pl.col("name") == "call_llm mistral/mistral-small-latest")[
        "attributes.gen_ai.usage.input_tokens"
    ].to_list() == [395, 483, 518]


def test_real_files_are_detected(real_data: Path) -> None:
    for agent in AGENTS:
        path = real_data / "any_agent_genai_traces" / f"{agent}_trace.json"
        assert sdk_dump.looks_like(path.read_bytes()[:65536])
    for other in ("jaeger/ui_01.json", "zipkin/yelp.json", "otel_proto_examples/trace.json"):
        assert not sdk_dump.looks_like((real_data / other).read_bytes()[:65536])


# --- the SDK's own layouts and OTLP -------------------------------------------------


def _sdk_spans() -> list[Any]:
    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode, set_span_in_context

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("toolkit.tests")
    t0 = 1_700_000_000_123_456_000  # whole microseconds: to_json() keeps no more
    root = tracer.start_span("invoke_agent", kind=SpanKind.SERVER, start_time=t0)
    llm = tracer.start_span(
        "chat mistral",
        context=set_span_in_context(root),
        kind=SpanKind.CLIENT,
        start_time=t0 + 1_000,
        attributes={
            "gen_ai.usage.input_tokens": 395,
            "gen_ai.usage.input_cost": 3.95e-05,
            "gen_ai.response.finish_reasons": ["stop"],
        },
    )
    llm.add_event("gen_ai.choice", {"index": 0}, timestamp=t0 + 2_000)
    llm.set_status(Status(StatusCode.ERROR, "rate limited"))
    llm.end(end_time=t0 + 331_559_000)
    root.set_status(Status(StatusCode.OK))
    root.end(end_time=t0 + 400_000_000)
    other = tracer.start_span(
        "evaluate",
        context=Context(),
        links=[Link(llm.get_span_context(), {"why": "judge"})],
        start_time=t0 + 500_000_000,
    )
    other.end(end_time=t0 + 600_000_000)
    return list(exporter.get_finished_spans())


def _any_agent_layout(span: Any) -> dict[str, Any]:
    def context(c: Any) -> dict[str, Any]:
        return {"trace_id": c.trace_id, "span_id": c.span_id, "is_remote": False}

    return {
        "name": span.name,
        "kind": span.kind.name.lower(),
        "parent": context(span.parent) if span.parent else {"trace_id": None, "span_id": None},
        "start_time": span.start_time,
        "end_time": span.end_time,
        "status": {
            "status_code": span.status.status_code.name.lower(),
            "description": span.status.description,
        },
        "context": context(span.context),
        "attributes": dict(span.attributes),
        "links": [
            {"context": context(lk.context), "attributes": dict(lk.attributes)} for lk in span.links
        ],
        "events": [
            {"name": e.name, "timestamp": e.timestamp, "attributes": dict(e.attributes)}
            for e in span.events
        ],
        "resource": {"attributes": dict(span.resource.attributes), "schema_url": ""},
    }


def test_three_layouts_of_the_same_spans_load_alike(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    sdk = _sdk_spans()
    pb = tmp_path / "spans.pb"
    pb.write_bytes(encode_spans(sdk).SerializeToString())
    console = tmp_path / "console.txt"  # what ConsoleSpanExporter prints: JSON after JSON
    console.write_text("".join(s.to_json() + "\n" for s in sdk))
    agent = write(tmp_path / "agent.json", {"spans": [_any_agent_layout(s) for s in sdk]})

    expected = toolkit.load_spans(pb).sort("span_id")
    from_console = read_sdk_dump(console).sort("span_id")
    from_agent = read_sdk_dump(agent).sort("span_id")
    for frame in (from_console, from_agent):
        validate(frame, SPANS)
        assert frame.columns == expected.columns
        assert frame["scope_name"].null_count() == len(sdk)  # neither layout has the scope
        assert_frame_equal(frame.drop("scope_name"), expected.drop("scope_name"))
    assert expected["scope_name"].unique().to_list() == ["toolkit.tests"]
    llm = from_console.filter(pl.col("name") == "chat mistral").row(0, named=True)
    assert llm["attributes.gen_ai.response.finish_reasons"] == ["stop"]
    assert llm["status_message"] == "rate limited"
    assert (llm["kind"], llm["status_code"]) == ("client", "error")


def test_iso_times_offsets_and_precision(tmp_path: Path) -> None:
    spans = [
        aspan(1, start_time="2025-09-16T12:43:14.777382123Z", end_time="2025-09-16T14:43:15+02:00"),
        aspan(2, start_time="2025-09-16 12:43:14.5+00:00", end_time="2025-09-16T12:43:14.500001Z"),
    ]
    df = read_sdk_dump(write(tmp_path / "t.json", spans))
    assert df["start_time"].dt.epoch("ns").to_list() == [
        1758026594777382123,
        1758026594500000000,
    ]
    assert df["end_time"].dt.epoch("ns").to_list() == [1758026595000000000, 1758026594500001000]


def test_ids_kinds_status_links_and_wide_ints(tmp_path: Path) -> None:
    spans = [
        aspan(
            7,
            context={
                "trace_id": "0x0af7651916cd43dd8448eb211c80319c",
                "span_id": "0xB7AD6B7169203331",
            },
            parent_id="0x00f067aa0ba902b7",  # to_json() names the parent so
            kind="SpanKind.SERVER",
            status={"status_code": "StatusCode.ERROR", "description": "boom"},
            attributes={"big": 2**64 + 1, "ok": True, "tags": ["a", "b"], "doc": {"k": 1}},
            links=[{"context": {"trace_id": TRACE_INT, "span_id": 5}, "attributes": {"n": 1}}],
            events=[{"name": "e", "timestamp": T0 + 5, "attributes": {"x": "y"}}],
            instrumentation_scope={"name": "agent.lib", "version": "1"},
        )
    ]
    del spans[0]["parent"]
    row = read_sdk_dump(write(tmp_path / "t.json", spans)).row(0, named=True)
    assert row["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert row["span_id"] == "b7ad6b7169203331"
    assert row["parent_span_id"] == "00f067aa0ba902b7"
    assert (row["kind"], row["status_code"], row["status_message"]) == ("server", "error", "boom")
    assert row["scope_name"] == "agent.lib"
    assert row["attributes.big"] == str(2**64 + 1)  # wider than int64: kept exact, as text
    assert row["attributes.tags"] == ["a", "b"]
    assert json.loads(row["attributes.doc"]) == {"k": 1}
    assert [(lk["trace_id"], lk["span_id"], lk["attributes"]) for lk in row["links"]] == [
        (format(TRACE_INT, "032x"), "0000000000000005", '{"n":1}')
    ]
    assert row["events"][0]["name"] == "e"
    assert row["events"][0]["attributes"] == '{"x":"y"}'


def test_pandas_report_and_frames_for_load_spans(tmp_path: Path, backend: str) -> None:
    path = write(tmp_path / "t.json", [aspan(1), aspan(2, parent=1)])
    report = LoadReport()
    df = read_sdk_dump(path, report=report, backend=backend)  # type: ignore[arg-type]
    assert isinstance(df, pd.DataFrame if backend == "pandas" else pl.DataFrame)
    assert report.rows == 2
    assert report.formats == {str(path): "otel-python-sdk-json"}
    ctx = LoadContext("load_spans")
    assert [f.height for f in sdk_dump.frames_from_file(path, ctx)] == [2]
    assert sdk_dump.looks_like(path.read_bytes())


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "message"),
    [
        (aspan(2, kind=1), "kind must be one of internal"),
        (aspan(2, context={"trace_id": "12", "span_id": 2}), "0x-prefixed hex string"),
        (aspan(2, context={"trace_id": 0, "span_id": 2}), "positive 128-bit integer"),
        (aspan(2, context={"trace_id": 1, "span_id": 2**64}), "positive 64-bit integer"),
        (aspan(2, end_time=None), "end_time is missing"),
        (aspan(2, start_time="2025-09-16T12:43:14"), "with a UTC offset"),
        (aspan(2, start_time=1.5e18), "must be integer nanoseconds"),
        (aspan(2, status={"status_code": "fine"}), "status.status_code must be one of"),
        (aspan(2, attributes=[1]), "attributes must be an object"),
        (aspan(2, events=[{"name": "e"}]), "events\\[0\\].timestamp is missing"),
    ],
)
def test_bad_span_names_file_and_record(tmp_path: Path, span: Any, message: str) -> None:
    path = write(tmp_path / "bad.json", {"spans": [aspan(1), span]})
    with pytest.raises(FormatError, match=message) as info:
        read_sdk_dump(path)
    assert str(info.value).startswith(f"{path}, record 2: ")


def test_skip_counts_bad_spans(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.json", {"spans": [aspan(1), aspan(2, end_time=None), aspan(3)]})
    report = LoadReport()
    with pytest.warns(SkippedRecordsWarning, match="skipped 1 record"):
        df = read_sdk_dump(path, on_error="skip", report=report)
    assert df["span_id"].to_list() == ["0000000000000001", "0000000000000003"]
    assert [s.where for s in report.skipped] == [f"{path}, record 2"]


def test_malformed_and_foreign_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(aspan(1), indent=2) + '\n{\n  "name": "x",\n  oops\n}\n')
    with pytest.raises(FormatError, match=r"bad.json, line \d+: malformed JSON"):
        read_sdk_dump(path)
    with pytest.raises(FormatError, match="found the keys 'resourceSpans'"):
        read_sdk_dump(write(tmp_path / "otlp.json", {"resourceSpans": []}))
    (tmp_path / "blank.json").write_text(" \n")
    with pytest.raises(FormatError, match=r"blank.json: the file is empty; expected Open"):
        read_sdk_dump(tmp_path / "blank.json")
    empty = read_sdk_dump(write(tmp_path / "empty.json", {"spans": [], "final_output": None}))
    assert empty.height == 0
    validate(empty, SPANS)


def test_parameters_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", [aspan(1)])
    with pytest.raises(ParameterError, match="The 'on_error' parameter of read_sdk_dump must"):
        read_sdk_dump(path, on_error="drop")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="The 'backend' parameter of read_sdk_dump must"):
        read_sdk_dump(path, backend="dask")  # type: ignore[arg-type]
