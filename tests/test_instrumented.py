"""Real exports of instrumentations of the ``openai`` client (tests/data/instrumented).

Each folder holds what one instrumentation really wrote for the same workload, and the
client's own record of every call (``truth.json``). ``llm_calls`` must give back what the
client asked and got, field by field, except where the instrumentation does not record a
fact at all: those gaps are listed per instrumentation in :func:`_expected` and asserted too
(a gap that closes in a new release makes the test fail, so the list stays true).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import toolkit
from toolkit import semconv
from toolkit.errors import ToolkitError
from toolkit.ingest.detect import detect
from toolkit.llm import llm_calls
from toolkit.schema import LOGS, SPANS, TIME

DATA = Path(__file__).parent / "data" / "instrumented"
FOLDERS = sorted(p.parent for p in DATA.glob("*/truth.json"))
NAMES = [p.name for p in FOLDERS]
OPENAI_V2 = [n for n in NAMES if n.startswith("openai-v2-")]

#: The fields compared with the truth, in llm_calls.
FIELDS = (
    "operation",
    "request_model",
    "response_model",
    "streaming",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "finish_reason",
    "error_type",
    "is_error",
)

#: The first chunk leaves the mock server 20 ms after the request (make_exports.py).
SERVER_FIRST_CHUNK_DELAY_S = 0.02


def _files(folder: Path, table: str) -> dict[str, Path]:
    """The files of ``folder`` that hold ``table``, by format, found by their content."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        try:
            detected = detect(path)
        except ToolkitError:
            continue
        if detected.table == table:
            assert detected.format not in found, f"two {detected.format} files in {folder}"
            found[detected.format] = path
    return found


def _truth(folder: Path) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = json.loads((folder / "truth.json").read_text())["calls"]
    return sorted(calls, key=lambda c: c["index"])


def _spans(folder: Path) -> pl.DataFrame:
    return toolkit.load_spans(_files(folder, "spans")["otlp-json-lines"])


def _logs(folder: Path) -> pl.DataFrame:
    return toolkit.load_logs(_files(folder, "logs")["otlp-json-lines"])


def _calls(folder: Path, **kwargs: Any) -> pl.DataFrame:
    result: pl.DataFrame = llm_calls(_spans(folder), **kwargs)
    return result.sort("start_time")


# --- what each instrumentation does not record ----------------------------------------------


def _expected(name: str, call: dict[str, Any]) -> dict[str, Any]:
    """The llm_calls values expected for one call: the truth, less what is not recorded."""
    want = {field: call[field] for field in FIELDS}
    streamed = call["streaming"]
    if name.startswith("openai-v2-"):
        # No stream flag, no cached or reasoning tokens on openai-v2 spans.
        want.update(streaming=None, cached_input_tokens=None, reasoning_tokens=None)
    if name == "openai-v2-2.3b0":
        if streamed and not call["is_error"]:
            want["finish_reason"] = None  # only in the gen_ai.choice log event
        if call["request_model"] == "mock-stream-break":
            want["response_model"] = None  # not written when the stream fails
    if name == "openllmetry":
        if streamed:
            want["reasoning_tokens"] = None  # written for non-streamed calls only
        if call["operation"] == "embeddings" and not call["is_error"]:
            want["cached_input_tokens"] = 0  # written as 0 though the usage has none
        if call["request_model"] == "mock-stream-break":
            # The broken stream ends the span with status ok and no error recorded.
            want.update(error_type=None, is_error=False)
    return want


def _has_ttft(name: str, call: dict[str, Any]) -> bool:
    """Whether the export holds a time to first token for the call."""
    if name.startswith("openai-v2-"):
        return False  # neither an attribute nor an event marks the first chunk
    return bool(call["streaming"] and call["first_chunk"])


# --- the folders ------------------------------------------------------------------------------


def test_the_four_instrumentations_are_there() -> None:
    assert set(NAMES) >= {"openai-v2-2.4b0", "openai-v2-2.3b0", "openinference", "openllmetry"}


@pytest.mark.parametrize(
    ("name", "package", "version"),
    [
        ("openai-v2-2.4b0", "opentelemetry-instrumentation-openai-v2", "2.4b0"),
        ("openai-v2-2.4b0", "opentelemetry-util-genai", "1.1b0"),
        ("openai-v2-2.3b0", "opentelemetry-instrumentation-openai-v2", "2.3b0"),
        ("openinference", "openinference-instrumentation-openai", None),
        ("openllmetry", "opentelemetry-instrumentation-openai", None),
    ],
)
def test_versions_name_the_packages_that_made_the_export(
    name: str, package: str, version: str | None
) -> None:
    packages = json.loads((DATA / name / "VERSIONS.json").read_text())["packages"]
    assert package in packages
    if version is not None:
        assert packages[package] == version
    for common in ("openai", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"):
        assert common in packages


@pytest.mark.parametrize("folder", FOLDERS, ids=NAMES)
def test_json_lines_and_protobuf_give_the_same_spans(folder: Path) -> None:
    files = _files(folder, "spans")
    assert set(files) == {"otlp-json-lines", "otlp-protobuf"}
    from_json = toolkit.load_spans(files["otlp-json-lines"]).sort("span_id")
    from_proto = toolkit.load_spans(files["otlp-protobuf"]).sort("span_id")
    assert from_json.height == len(_truth(folder))
    assert from_json["span_id"].n_unique() == from_json.height
    assert_frame_equal(from_json, from_proto)
    assert set(from_json["service_name"]) == {f"instrumented-{folder.name}"}


@pytest.mark.parametrize("name", OPENAI_V2)
def test_json_lines_and_protobuf_give_the_same_logs(name: str) -> None:
    files = _files(DATA / name, "logs")
    assert set(files) == {"otlp-json-lines", "otlp-protobuf"}
    from_json = toolkit.load_logs(files["otlp-json-lines"])
    from_proto = toolkit.load_logs(files["otlp-protobuf"])
    order = ["time", "span_id", "event_name"]
    assert from_json.height > 0
    assert_frame_equal(from_json.sort(order), from_proto.sort(order))


# --- llm_calls against the client's truth ---------------------------------------------------


@pytest.mark.parametrize("folder", FOLDERS, ids=NAMES)
def test_every_call_is_one_row_in_call_order(folder: Path) -> None:
    calls = _calls(folder)
    truth = _truth(folder)
    assert calls.height == len(truth)
    # The order of the rows is the order of the calls: each prompt's marker is found in the
    # content the span carries (openai-v2 2.3b0 has none on spans: see the logs test).
    content = [c for c in calls.columns if c.startswith("attributes.") and "messages" in c]
    content += [c for c in calls.columns if c in ("attributes.input.value",)]
    if folder.name == "openai-v2-2.3b0":
        assert content == []
        return
    assert content
    checked = 0
    for row, call in zip(calls.select(content).iter_rows(), truth, strict=True):
        values = [str(v) for v in row if v is not None]
        if not values:  # openai-v2 2.4b0 writes no content on embeddings spans
            assert call["operation"] == "embeddings", call["marker"]
            continue
        assert any(call["marker"] in v for v in values), call["marker"]
        checked += 1
    assert checked >= sum(c["operation"] == "chat" for c in truth)


@pytest.mark.parametrize("folder", FOLDERS, ids=NAMES)
def test_llm_calls_match_what_the_client_asked_and_got(folder: Path) -> None:
    calls = _calls(folder)
    truth = _truth(folder)
    mismatches = []
    for row, call in zip(calls.iter_rows(named=True), truth, strict=True):
        want = _expected(folder.name, call)
        got = {field: row[field] for field in FIELDS}
        for field in FIELDS:
            if got[field] != want[field]:
                mismatches.append((call["marker"], field, got[field], want[field]))
    assert mismatches == []


@pytest.mark.parametrize("folder", FOLDERS, ids=NAMES)
def test_time_to_first_token_of_streamed_calls(folder: Path) -> None:
    calls = _calls(folder)
    truth = _truth(folder)
    expected = [_has_ttft(folder.name, c) for c in truth]
    assert calls["ttft_s"].is_not_null().to_list() == expected
    streamed = calls.filter(pl.col("ttft_s").is_not_null())
    if folder.name.startswith("openai-v2-"):
        assert streamed.height == 0
        return
    assert streamed.height == sum(expected) >= 5
    assert (streamed["ttft_s"] >= SERVER_FIRST_CHUNK_DELAY_S * 0.95).all()
    assert (streamed["ttft_s"] < streamed["latency_s"]).all()
    with_tokens = streamed.filter(pl.col("output_tokens") > 1)
    assert with_tokens.height >= 3
    assert (with_tokens["tpot_s"] > 0).all()


@pytest.mark.parametrize("folder", FOLDERS, ids=NAMES)
def test_the_kinds_of_calls_come_out_as_sent(folder: Path) -> None:
    """Spot checks that do not go through _expected: the workload's notable calls."""
    calls = _calls(folder)
    by_marker = {c["marker"]: c for c in _truth(folder)}
    rows = dict(zip(by_marker, calls.iter_rows(named=True), strict=True))
    assert rows["[call-02]"]["finish_reason"] == "tool_calls"
    assert rows["[call-01]"]["finish_reason"] == "length"
    assert rows["[call-12]"]["error_type"] == "RateLimitError"
    assert rows["[call-13]"]["error_type"] == "InternalServerError"
    assert rows["[call-16]"]["operation"] == "embeddings"
    assert rows["[call-16]"]["error_type"] == "InternalServerError"
    for marker in ("[call-10]", "[call-11]"):
        assert rows[marker]["operation"] == "embeddings"
        assert rows[marker]["output_tokens"] is None
        assert rows[marker]["input_tokens"] == by_marker[marker]["input_tokens"] > 0
    # the reasoning model's usage, where the instrumentation records it
    o3 = rows["[call-04]"]
    assert o3["output_tokens"] == 27
    if folder.name in ("openinference", "openllmetry"):
        assert (o3["reasoning_tokens"], o3["cached_input_tokens"]) == (16, 8)
    if folder.name in ("openinference", "openllmetry"):
        assert rows["[call-15]"]["streaming"] is True
        assert rows["[call-00]"]["streaming"] is False


# --- content events in the logs (openai-v2) -------------------------------------------------


def _text_parts(messages: str | None, role: str) -> list[str]:
    if messages is None:
        return []
    return [
        part["content"]
        for message in json.loads(messages)
        if message["role"] == role
        for part in message["parts"]
        if part.get("type") == "text" and part.get("content")
    ]


@pytest.mark.parametrize("name", OPENAI_V2)
def test_content_events_are_joined_to_their_calls(name: str) -> None:
    folder = DATA / name
    calls = _calls(folder, logs=_logs(folder))
    truth = _truth(folder)
    seen = 0
    for row, call in zip(calls.iter_rows(named=True), truth, strict=True):
        if call["operation"] != "chat":
            continue
        assert _text_parts(row["input_messages"], "user") == [call["prompt"]]
        if call["output_text"] is not None and not call["is_error"]:
            assert _text_parts(row["output_messages"], "assistant") == [call["output_text"]]
            seen += 1
        # with the logs, the finish reason of every call is known, streamed ones too
        assert row["finish_reason"] == call["finish_reason"], call["marker"]
    assert seen >= 8
    system = json.loads(calls.row(3, named=True)["input_messages"])[0]
    assert system == {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]}
    tool = json.loads(calls.row(2, named=True)["output_messages"])[0]
    call = next(p for p in tool["parts"] if p["type"] == "tool_call")
    assert (call["name"], call["arguments"]) == ("get_weather", {"city": "Paris"})
    assert tool["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("name", OPENAI_V2)
def test_without_logs_the_table_is_unchanged(name: str) -> None:
    folder = DATA / name
    plain = _calls(folder)
    joined = _calls(folder, logs=_logs(folder))
    assert "input_messages" not in plain.columns
    assert "output_messages" not in plain.columns
    assert_frame_equal(
        joined.drop("input_messages", "output_messages", "finish_reason"),
        plain.drop("finish_reason"),
    )
    known = plain["finish_reason"].is_not_null()
    assert (joined["finish_reason"].filter(known) == plain["finish_reason"].filter(known)).all()
    filled = joined["finish_reason"].is_not_null() & ~known
    assert int(filled.sum()) == (5 if name == "openai-v2-2.3b0" else 0)


def test_logs_of_other_spans_add_empty_content_columns() -> None:
    folder = DATA / "openinference"
    calls = _calls(folder, logs=_logs(DATA / "openai-v2-2.3b0"))
    assert calls["input_messages"].is_null().all()
    assert_frame_equal(calls.drop("input_messages", "output_messages"), _calls(folder))


def test_logs_must_be_a_logs_table() -> None:
    with pytest.raises(ToolkitError):
        llm_calls(_spans(DATA / "openllmetry"), logs=pl.DataFrame({"x": [1]}))


# --- the mappings on small frames -----------------------------------------------------------


def _span(**attributes: Any) -> pl.DataFrame:
    status = attributes.pop("status_code", "ok")
    events = attributes.pop("events", [])
    return pl.concat(
        [
            SPANS.empty(),
            pl.DataFrame(
                {
                    "trace_id": ["4bf92f3577b34da6a3ce929d0e0e4736"],
                    "span_id": ["00f067aa0ba902b7"],
                    "start_time": pl.Series([0]).cast(TIME),
                    "duration_ms": [100.0],
                    "status_code": [status],
                    "events": pl.Series([events], dtype=SPANS.schema["events"]),
                    **{f"attributes.{k}": [v] for k, v in attributes.items()},
                }
            ),
        ],
        how="diagonal",
    )


def test_embedding_output_tokens_are_null_not_zero() -> None:
    embed = _span(**{"gen_ai.operation.name": "embeddings", "gen_ai.usage.output_tokens": 0})
    assert llm_calls(embed)["output_tokens"].to_list() == [None]
    chat = _span(**{"gen_ai.operation.name": "chat", "gen_ai.usage.output_tokens": 0})
    assert llm_calls(chat)["output_tokens"].to_list() == [0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<class 'openai.RateLimitError'>", "RateLimitError"),
        ("openai.APIConnectionError", "APIConnectionError"),
        ("httpx.ReadTimeout", "ReadTimeout"),
        ("RateLimitError", "RateLimitError"),
        ("timeout", "timeout"),
        ("500", "500"),
        ("rate limit exceeded.", "rate limit exceeded."),
    ],
)
def test_error_class(value: str, expected: str) -> None:
    assert semconv.error_class(value) == expected
    spans = _span(**{"gen_ai.operation.name": "chat", "error.type": value})
    assert llm_calls(spans)["error_type"].to_list() == [expected]


def test_exception_events_name_the_error_only_of_failed_spans() -> None:
    event = {
        "time": pl.Series([1], dtype=pl.Int64).cast(TIME)[0],
        "name": "exception",
        "attributes": json.dumps({"exception.type": "openai.RateLimitError"}),
    }
    failed = _span(**{"openinference.span.kind": "LLM", "status_code": "error", "events": [event]})
    assert llm_calls(failed)["error_type"].to_list() == ["RateLimitError"]
    handled = _span(**{"openinference.span.kind": "LLM", "events": [event]})
    assert llm_calls(handled)["error_type"].to_list() == [None]


def test_invocation_parameters_that_are_not_json_give_null() -> None:
    spans = _span(**{"openinference.span.kind": "LLM", "llm.invocation_parameters": "model=gpt-4o"})
    row = llm_calls(spans).row(0, named=True)
    assert (row["request_model"], row["streaming"]) == (None, None)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("tool_call", "tool_calls"), ("", None), ("stop", "stop")],
)
def test_finish_reason_values(written: str, expected: str | None) -> None:
    spans = _span(**{"gen_ai.operation.name": "chat", "gen_ai.response.finish_reasons": written})
    assert llm_calls(spans)["finish_reason"].to_list() == [expected]


def test_finish_reason_error_of_a_failed_call_is_null() -> None:
    messages = json.dumps([{"role": "assistant", "parts": [], "finish_reason": "error"}])
    kwargs = {"gen_ai.operation.name": "chat", "gen_ai.output.messages": messages}
    failed = _span(**kwargs, status_code="error")
    assert llm_calls(failed)["finish_reason"].to_list() == [None]
    assert llm_calls(_span(**kwargs))["finish_reason"].to_list() == ["error"]


def test_older_content_events_are_rewritten_as_messages() -> None:
    spans = _span(**{"gen_ai.operation.name": "chat"})
    bodies = [
        ("gen_ai.system.message", {"content": "Be brief."}),
        ("gen_ai.user.message", {"content": "Weather?"}),
        (
            "gen_ai.assistant.message",
            {
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    }
                ]
            },
        ),
        ("gen_ai.tool.message", {"content": "rain", "id": "c1"}),
        (
            "gen_ai.choice",
            {"index": 0, "finish_reason": "stop", "message": {"content": "It rains."}},
        ),
    ]
    logs = pl.concat(
        [
            LOGS.empty(),
            pl.DataFrame(
                {
                    "time": pl.Series(range(len(bodies))).cast(TIME),
                    "span_id": ["00f067aa0ba902b7"] * len(bodies),
                    "event_name": [name for name, _ in bodies],
                    "body": [json.dumps(body) for _, body in bodies],
                }
            ),
        ],
        how="diagonal",
    ).reverse()  # rows in any order: events are put in time order
    row = llm_calls(spans, logs=logs).row(0, named=True)
    assert json.loads(row["input_messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "c1", "name": "weather", "arguments": {"city": "Oslo"}}
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "rain"}]},
    ]
    assert json.loads(row["output_messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "It rains."}],
            "finish_reason": "stop",
        }
    ]
    assert row["finish_reason"] == "stop"


def test_json_members_of_text_that_is_not_json_are_null() -> None:
    frame = pl.DataFrame(
        {
            "attributes.llm.invocation_parameters": ['{"model": "m"}', "{broken", "x", None],
            "attributes.gen_ai.output.messages": [["stop"], None, None, None],  # not text
        }
    )
    assert semconv.resolve(frame, "request_model").to_list() == ["m", None, None, None]
    # the default (not streamed) applies only to a JSON object that lacks the member
    assert semconv.resolve(frame, "streaming").to_list() == [False, None, None, None]
    assert semconv.resolve(frame, "finish_reason").to_list() == [None] * 4
    assert semconv.candidates(frame, "request_model") == ["attributes.llm.invocation_parameters"]


@pytest.mark.parametrize("name", ["openai-v2-2.4b0", "openai-v2-2.3b0", "openllmetry"])
def test_token_usage_metrics_add_up_to_the_calls_tokens(name: str) -> None:
    folder = DATA / name
    metrics = toolkit.load_metrics(_files(folder, "metrics")["otlp-json-lines"])
    sums = metrics.filter(pl.col("name") == f"{semconv.METRIC_CLIENT_TOKEN_USAGE}_sum")
    by_type = dict(
        sums.group_by(f"label.{semconv.TOKEN_TYPE}").agg(pl.col("value").sum()).iter_rows()
    )
    truth = _truth(folder)
    if name == "openai-v2-2.3b0":
        truth = [c for c in truth if not c["streaming"]]  # streamed calls are not counted
    assert by_type == {
        "input": sum(c["input_tokens"] or 0 for c in truth),
        "output": sum(c["output_tokens"] or 0 for c in truth),
    }


def test_logs_join_with_pandas_frames() -> None:
    folder = DATA / "openai-v2-2.3b0"
    spans = toolkit.load_spans(_files(folder, "spans")["otlp-protobuf"], backend="pandas")
    logs = toolkit.load_logs(_files(folder, "logs")["otlp-protobuf"], backend="pandas")
    calls = pl.from_pandas(llm_calls(spans, logs=logs, backend="pandas")).sort("start_time")
    expected = _calls(folder, logs=_logs(folder))
    assert calls["finish_reason"].to_list() == expected["finish_reason"].to_list()
    assert calls["input_messages"].to_list() == expected["input_messages"].to_list()
    assert calls["finish_reason"].to_list() == [c["finish_reason"] for c in _truth(folder)]


def test_message_events_with_content_parts() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    body = {"content": [{"type": "text", "text": "What is this?"}, image]}
    logs = pl.concat(
        [
            LOGS.empty(),
            pl.DataFrame(
                {
                    "time": pl.Series([0]).cast(TIME),
                    "span_id": ["00f067aa0ba902b7"],
                    "event_name": ["gen_ai.user.message"],
                    "body": [json.dumps(body)],
                }
            ),
        ],
        how="diagonal",
    )
    row = llm_calls(_span(**{"gen_ai.operation.name": "chat"}), logs=logs).row(0, named=True)
    assert json.loads(row["input_messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is this?"}, image]}
    ]
    assert row["output_messages"] is None
    assert row["finish_reason"] is None
