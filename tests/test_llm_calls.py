"""Tests of toolkit.llm.llm_calls: spans -> llm_calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from toolkit.errors import ParameterError, SchemaError
from toolkit.llm import llm_calls
from toolkit.schema import EVENT, LLM_CALLS, SPANS, TIME, to_pandas, validate

T0 = 1_758_000_000_000_000_000  # ns since the epoch
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def make_spans(
    rows: list[dict[str, Any]], dtypes: dict[str, pl.DataType] | None = None
) -> pl.DataFrame:
    """A valid spans frame from a few dicts.

    Each dict may give the fixed columns (``start_ns`` is the offset from T0), plus
    ``attributes`` and ``resource`` dicts and ``events`` as ``(offset_ms, name, attrs)``.
    Attribute columns are typed by their values unless ``dtypes`` names them.
    """
    dtypes = dtypes or {}
    starts = [T0 + r.get("start_ns", i * 10**9) for i, r in enumerate(rows)]
    durations = [r.get("duration_ms", 100.0) for r in rows]
    data: dict[str, pl.Series] = {
        "trace_id": pl.Series([r.get("trace_id", TRACE) for r in rows], dtype=pl.String),
        "span_id": pl.Series(
            [r.get("span_id", f"{i + 1:016x}") for i, r in enumerate(rows)], dtype=pl.String
        ),
        "parent_span_id": pl.Series([r.get("parent_span_id") for r in rows], dtype=pl.String),
        "name": pl.Series([r.get("name", "span") for r in rows], dtype=pl.String),
        "kind": pl.Series([r.get("kind", "client") for r in rows], dtype=pl.String),
        "service_name": pl.Series(
            [r.get("service_name", "gateway") for r in rows], dtype=pl.String
        ),
        "scope_name": pl.Series(["test"] * len(rows), dtype=pl.String),
        "start_time": pl.Series(starts, dtype=pl.Int64).cast(TIME),
        "end_time": pl.Series(
            [s + round(d * 1e6) for s, d in zip(starts, durations, strict=True)], dtype=pl.Int64
        ).cast(TIME),
        "duration_ms": pl.Series(durations, dtype=pl.Float64),
        "status_code": pl.Series([r.get("status_code", "unset") for r in rows], dtype=pl.String),
        "status_message": pl.Series([r.get("status_message") for r in rows], dtype=pl.String),
        "events": pl.Series(
            [
                [
                    {"time": s + round(off * 1e6), "name": n, "attributes": json.dumps(a)}
                    for off, n, a in r.get("events", [])
                ]
                for s, r in zip(starts, rows, strict=True)
            ],
            dtype=pl.List(
                pl.Struct({"time": pl.Int64, "name": pl.String, "attributes": pl.String})
            ),
        ).cast(pl.List(EVENT)),
    }
    for prefix, part in (("attributes.", "attributes"), ("resource.", "resource")):
        keys: list[str] = []
        for r in rows:
            keys += [k for k in r.get(part, {}) if k not in keys]
        for key in keys:
            column = prefix + key
            values = [r.get(part, {}).get(key) for r in rows]
            data[column] = pl.Series(column, values, dtype=dtypes.get(column), strict=True)
    return validate(pl.DataFrame(data), "spans")


# --- the same calls written in each naming generation ---------------------------------------

EVAL = (
    1900.0,
    "gen_ai.evaluation.result",
    {
        "gen_ai.evaluation.name": "relevance",
        "gen_ai.evaluation.score.value": 0.9,
        "gen_ai.evaluation.score.label": "relevant",
    },
)

#: Logical content of the calls; ``written(generation)`` spells them in one naming.
CALLS = [
    {  # a streamed chat call with cache and reasoning tokens and an evaluation result
        "op": "chat", "model": "gpt-4o-mini", "input": 120, "output": 41, "cached": 32,
        "reasoning": 8, "ttft_ms": 250.0, "duration_ms": 2050.0, "finish": "stop",
        "status": "ok", "tier": "pro",
    },
    {  # an embeddings call
        "op": "embeddings", "model": "text-embedding-3-small", "input": 64, "output": None,
        "cached": None, "reasoning": None, "ttft_ms": None, "duration_ms": 80.0,
        "finish": None, "status": "unset", "tier": "free",
    },
    {  # a failed chat call (status error, no error.type)
        "op": "chat", "model": "gpt-4o", "input": 50, "output": None, "cached": None,
        "reasoning": None, "ttft_ms": None, "duration_ms": 30000.0, "finish": None,
        "status": "error", "tier": "enterprise",
    },
]  # fmt: skip


def written(generation: str) -> pl.DataFrame:
    """The three calls, an agent span (with aggregated usage) and a tool span."""
    rows: list[dict[str, Any]] = []
    for i, c in enumerate(CALLS):
        attrs: dict[str, Any] = {}
        events: list[tuple[float, str, dict[str, Any]]] = []
        oi = generation == "openinference"
        streamed = c["ttft_ms"] is not None
        if oi:
            kind = {"chat": "LLM", "embeddings": "EMBEDDING"}[c["op"]]
            attrs["openinference.span.kind"] = kind
            attrs["llm.provider"] = "openai"
            attrs["llm.system"] = "openai"
            model_key = "embedding.model_name" if kind == "EMBEDDING" else "llm.model_name"
            attrs[model_key] = c["model"]
            attrs["llm.token_count.prompt"] = c["input"]
            attrs["llm.token_count.completion"] = c["output"]
            attrs["llm.token_count.total"] = c["input"] + (c["output"] or 0)
            attrs["llm.token_count.prompt_details.cache_read"] = c["cached"]
            attrs["llm.token_count.completion_details.reasoning"] = c["reasoning"]
            if streamed:
                events.append((c["ttft_ms"], "First Token Stream Event", {}))
        else:
            attrs["gen_ai.operation.name"] = c["op"]
            provider = "gen_ai.provider.name" if generation == "v1.37" else "gen_ai.system"
            attrs[provider] = "openai"
            attrs["gen_ai.request.model"] = c["model"]
            attrs["gen_ai.response.model"] = c["model"]
            old = generation == "v1.26"
            attrs["gen_ai.usage.prompt_tokens" if old else "gen_ai.usage.input_tokens"] = c["input"]
            attrs["gen_ai.usage.completion_tokens" if old else "gen_ai.usage.output_tokens"] = c[
                "output"
            ]
            cache = (
                "gen_ai.usage.cache_read_input_tokens"
                if old
                else "gen_ai.usage.cache_read.input_tokens"
            )
            attrs[cache] = c["cached"]
            attrs["gen_ai.usage.reasoning.output_tokens"] = c["reasoning"]
            if c["finish"] is not None:
                # v1.26-era exporters often wrote a plain string; later ones a string array
                attrs["gen_ai.response.finish_reasons"] = c["finish"] if old else [c["finish"]]
            if streamed and generation == "v1.37":
                attrs["gen_ai.request.stream"] = True
                attrs["gen_ai.response.time_to_first_chunk"] = c["ttft_ms"] / 1000
            elif streamed:
                if old:
                    attrs["llm.is_streaming"] = "True"  # OpenLLMetry/LiteLLM write a string
                else:
                    attrs["gen_ai.request.stream"] = True
                # one event per chunk (OpenLLMetry): the first gives the time to first token
                events += [
                    (c["ttft_ms"] + k * 100.0, "llm.content.completion.chunk", {}) for k in range(3)
                ]
        attrs["user.tier"] = c["tier"]
        if c["op"] == "chat" and c["status"] == "ok":
            events.append(EVAL)
        rows.append(
            {
                "span_id": f"{i + 10:016x}",
                "parent_span_id": "0000000000000001",
                "name": f"{c['op']} {c['model']}",
                "duration_ms": c["duration_ms"],
                "status_code": c["status"],
                "status_message": "upstream timeout" if c["status"] == "error" else None,
                "attributes": attrs,
                "events": events,
                "resource": {"service.version": "1.4.2"},
            }
        )
    agent: dict[str, Any] = (
        {"openinference.span.kind": "AGENT", "llm.token_count.prompt": 170}
        if generation == "openinference"
        else {"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 170}
    )
    tool: dict[str, Any] = (
        {"openinference.span.kind": "TOOL"}
        if generation == "openinference"
        else {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
    )
    rows.insert(0, {"span_id": "0000000000000001", "duration_ms": 33000.0, "attributes": agent,
                    "resource": {"service.version": "1.4.2"}})  # fmt: skip
    rows.append({"duration_ms": 12.0, "attributes": tool, "resource": {"service.version": "1.4.2"}})
    return make_spans(rows)


GENERATIONS = ("v1.26", "v1.28", "v1.37", "openinference")


def test_written_spans_use_each_generations_names() -> None:
    """Guard for the test data itself: each generation really uses its own spelling."""
    cols = {g: set(written(g).columns) for g in GENERATIONS}
    assert "attributes.gen_ai.usage.prompt_tokens" in cols["v1.26"]
    assert "attributes.gen_ai.usage.completion_tokens" in cols["v1.26"]
    assert "attributes.gen_ai.usage.output_tokens" not in cols["v1.26"]
    assert "attributes.gen_ai.system" in cols["v1.28"]
    assert "attributes.gen_ai.provider.name" not in cols["v1.28"]
    assert "attributes.gen_ai.provider.name" in cols["v1.37"]
    assert "attributes.gen_ai.system" not in cols["v1.37"]
    assert not any(c.startswith("attributes.gen_ai.") for c in cols["openinference"])


def expected_table() -> pl.DataFrame:
    """The llm_calls of CALLS, computed by hand."""
    return pl.DataFrame(
        {
            "trace_id": [TRACE] * 3,
            "span_id": ["000000000000000a", "000000000000000b", "000000000000000c"],
            # make_spans starts row i at T0 + i s; the calls are rows 1-3 (the agent is row 0)
            "start_time": pl.Series([T0 + 10**9, T0 + 2 * 10**9, T0 + 3 * 10**9]).cast(TIME),
            "service_name": ["gateway"] * 3,
            "operation": ["chat", "embeddings", "chat"],
            "provider": ["openai"] * 3,
            "request_model": ["gpt-4o-mini", "text-embedding-3-small", "gpt-4o"],
            "response_model": ["gpt-4o-mini", "text-embedding-3-small", "gpt-4o"],
            "input_tokens": [120, 64, 50],
            "output_tokens": [41, None, None],
            "cached_input_tokens": [32, None, None],
            "reasoning_tokens": [8, None, None],
            "latency_s": [2.05, 0.08, 30.0],
            "ttft_s": [0.25, None, None],
            "tpot_s": [(2.05 - 0.25) / 40, None, None],
            "finish_reason": ["stop", None, None],
            "error_type": [None, None, "error"],
            "is_error": [False, False, True],
            "streaming": [True, None, None],
            "eval.relevance": [0.9, None, None],
            "eval.relevance.label": ["relevant", None, None],
            "attributes.user.tier": ["pro", "free", "enterprise"],
            "resource.service.version": ["1.4.2"] * 3,
        },
        schema_overrides={
            "output_tokens": pl.Int64,
            "cached_input_tokens": pl.Int64,
            "reasoning_tokens": pl.Int64,
            "ttft_s": pl.Float64,
            "tpot_s": pl.Float64,
            "finish_reason": pl.String,
            "error_type": pl.String,
            "streaming": pl.Boolean,
        },
    )


@pytest.mark.parametrize("generation", ["v1.26", "v1.28", "v1.37"])
def test_every_otel_naming_gives_the_same_table(generation: str) -> None:
    calls = llm_calls(written(generation))
    validate(calls, LLM_CALLS)
    # the tool span's attribute is a dimension column too, null on every call
    assert calls["attributes.gen_ai.tool.name"].null_count() == 3
    calls = calls.drop("attributes.gen_ai.tool.name")
    assert_frame_equal(calls, expected_table(), check_exact=False, rel_tol=1e-12)


def test_openinference_gives_the_same_table() -> None:
    calls = llm_calls(written("openinference"))
    validate(calls, LLM_CALLS)
    # OpenInference records no finish reason; its total count is passed through
    assert calls["finish_reason"].to_list() == [None, None, None]
    assert calls["attributes.llm.token_count.total"].to_list() == [161, 64, 50]
    assert_frame_equal(
        calls.drop("attributes.llm.token_count.total"),
        expected_table().with_columns(pl.lit(None, pl.String).alias("finish_reason")),
        check_exact=False,
        rel_tol=1e-12,
    )


def test_pandas_input_and_output(backend: str) -> None:
    spans = written("v1.28")
    if backend == "polars":
        calls = llm_calls(spans)
        validate(calls, LLM_CALLS)
        calls = calls.drop("attributes.gen_ai.tool.name")
        assert_frame_equal(calls, expected_table(), check_exact=False, rel_tol=1e-12)
        return
    source = spans.to_pandas()
    # pandas holds integer columns with nulls as float64 and nested event times as integer
    # nanoseconds: both are read back exactly
    assert source["attributes.gen_ai.usage.output_tokens"].dtype == "float64"
    calls = llm_calls(source, backend="pandas")
    assert isinstance(calls, pd.DataFrame)
    assert str(calls["input_tokens"].dtype) == "Int64"  # nullable: never via float64
    pd.testing.assert_frame_equal(
        calls.drop(columns=["attributes.gen_ai.tool.name"]),
        to_pandas(expected_table()),
        rtol=1e-12,
    )
    # the polars result of the pandas input is the polars table
    from_pandas = llm_calls(source).drop("attributes.gen_ai.tool.name")
    assert_frame_equal(from_pandas, expected_table(), check_exact=False, rel_tol=1e-12)


# --- precedence and conversion --------------------------------------------------------------


def test_newest_naming_wins_when_a_span_has_both() -> None:
    spans = make_spans(
        [
            {
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "gcp.vertex_ai",
                    "gen_ai.system": "vertex_ai",
                    "gen_ai.usage.input_tokens": 10,
                    "gen_ai.usage.prompt_tokens": 99,
                    "gen_ai.usage.output_tokens": 5,
                    "gen_ai.usage.completion_tokens": 77,
                    "llm.token_count.prompt": 1000,
                    "gen_ai.usage.cache_read.input_tokens": 4,
                    "gen_ai.usage.cache_read_input_tokens": 40,
                }
            },
            {  # only the old names on this span: they are used
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.system": "openai",
                    "gen_ai.usage.prompt_tokens": 21,
                    "gen_ai.usage.completion_tokens": 22,
                    "gen_ai.usage.cache_read_input_tokens": 23,
                }
            },
        ]
    )
    calls = llm_calls(spans)
    assert calls["provider"].to_list() == ["gcp.vertex_ai", "openai"]
    assert calls["input_tokens"].to_list() == [10, 21]
    assert calls["output_tokens"].to_list() == [5, 22]
    assert calls["cached_input_tokens"].to_list() == [4, 23]
    assert not any(c.startswith("attributes.gen_ai.usage") for c in calls.columns)


def test_token_attributes_promoted_to_float_or_string_convert_exactly() -> None:
    spans = make_spans(
        [
            {"attributes": {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 1.0,
                            "gen_ai.usage.output_tokens": "9007199254740993"}},
            {"attributes": {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 2.5e3,
                            "gen_ai.usage.output_tokens": "17"}},
        ]
    )  # fmt: skip
    assert spans.schema["attributes.gen_ai.usage.input_tokens"] == pl.Float64
    calls = llm_calls(spans)
    assert calls["input_tokens"].to_list() == [1, 2500]
    assert calls["output_tokens"].to_list() == [2**53 + 1, 17]


def test_non_integer_token_count_raises_naming_column_and_span() -> None:
    spans = make_spans(
        [
            {"attributes": {"gen_ai.operation.name": "chat", "gen_ai.usage.output_tokens": 3.0}},
            {"attributes": {"gen_ai.operation.name": "chat", "gen_ai.usage.output_tokens": 3.5}},
        ]
    )
    with pytest.raises(SchemaError) as info:
        llm_calls(spans)
    assert str(info.value) == (
        "Column 'attributes.gen_ai.usage.output_tokens' holds 3.5 at row 1 "
        "(span 0000000000000002); expected a non-negative integer token count."
    )


def test_bad_values_on_spans_that_are_not_calls_are_ignored() -> None:
    spans = make_spans(
        [
            {"attributes": {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": "7"}},
            {"attributes": {"gen_ai.operation.name": "invoke_agent",
                            "gen_ai.usage.input_tokens": "n/a"}},
        ]
    )  # fmt: skip
    assert llm_calls(spans)["input_tokens"].to_list() == [7]


# --- selection -------------------------------------------------------------------------------


def test_only_model_call_spans_are_rows_and_operations_overrides() -> None:
    ops = ["chat", "invoke_agent", "execute_tool", "embeddings", "retrieval", "call_llm",
           "generate_content", "text_completion", "create_agent", "invoke_workflow"]  # fmt: skip
    spans = make_spans([{"attributes": {"gen_ai.operation.name": op}} for op in ops])
    calls = llm_calls(spans)
    assert calls["operation"].to_list() == [
        "chat", "embeddings", "call_llm", "generate_content", "text_completion"
    ]  # fmt: skip
    assert calls["span_id"].to_list() == [f"{i:016x}" for i in (1, 4, 6, 7, 8)]
    only = llm_calls(spans, operations={"embeddings", "retrieval"})
    assert only["operation"].to_list() == ["embeddings", "retrieval"]


def test_no_calls_gives_an_empty_valid_table() -> None:
    spans = make_spans([{"attributes": {"gen_ai.operation.name": "execute_tool", "x": 1}}])
    calls = llm_calls(spans)
    assert calls.height == 0
    assert calls.columns[: len(LLM_CALLS.names)] == LLM_CALLS.names
    assert "attributes.x" in calls.columns
    validate(calls, LLM_CALLS)
    empty = llm_calls(SPANS.empty())
    assert empty.columns == LLM_CALLS.names
    assert empty.schema == LLM_CALLS.schema


# --- time to first token, tpot, streaming ------------------------------------------------------


def test_ttft_sources_and_streaming() -> None:
    spans = make_spans(
        [
            {  # attribute wins over the event
                "duration_ms": 1000.0,
                "attributes": {"gen_ai.operation.name": "chat", "gen_ai.usage.output_tokens": 11,
                               "gen_ai.response.time_to_first_chunk": 0.2},
                "events": [(500.0, "First Token Stream Event", {})],
            },
            {  # earliest of the accepted events; events of other names ignored
                "duration_ms": 1000.0,
                "attributes": {"gen_ai.operation.name": "chat", "gen_ai.usage.output_tokens": 5},
                "events": [(50.0, "gen_ai.choice", {}),
                           (400.0, "llm.content.completion.chunk", {}),
                           (300.0, "First Token Stream Event", {})],
            },
            {  # server-side ttft (vLLM): no operation name, and not evidence of streaming
                "name": "llm_request",
                "duration_ms": 900.0,
                "attributes": {"gen_ai.usage.prompt_tokens": 100,
                               "gen_ai.usage.completion_tokens": 1,
                               "gen_ai.latency.time_to_first_token": 0.15},
            },
            {  # the request says it was not streamed: that wins
                "duration_ms": 600.0,
                "attributes": {"gen_ai.operation.name": "chat", "gen_ai.request.stream": False,
                               "gen_ai.usage.output_tokens": 3,
                               "gen_ai.response.time_to_first_chunk": 0.1},
            },
        ]
    )  # fmt: skip
    calls = llm_calls(spans)
    assert calls["ttft_s"].to_list() == pytest.approx([0.2, 0.3, 0.15, 0.1])
    assert calls["tpot_s"].to_list() == pytest.approx([0.08, 0.175, None, 0.25])
    assert calls["tpot_s"][2] is None  # a single output token has no time per output token
    assert calls["streaming"].to_list() == [True, True, None, False]
    assert calls["operation"].to_list() == ["chat", "chat", None, "chat"]


# --- errors ----------------------------------------------------------------------------------


def test_error_type_and_is_error() -> None:
    spans = make_spans(
        [
            {"status_code": "error", "status_message": "boom",
             "attributes": {"gen_ai.operation.name": "chat", "error.type": "rate_limit"}},
            {"status_code": "error", "status_message": "boom",
             "attributes": {"gen_ai.operation.name": "chat"}},
            {"status_code": "unset", "attributes": {"gen_ai.operation.name": "chat",
                                                    "error.type": "timeout"}},
            {"status_code": "ok", "attributes": {"gen_ai.operation.name": "chat"}},
        ]
    )  # fmt: skip
    calls = llm_calls(spans)
    assert calls["error_type"].to_list() == ["rate_limit", "error", "timeout", None]
    assert calls["is_error"].to_list() == [True, True, True, False]


# --- evaluations -----------------------------------------------------------------------------


def _eval(
    name: str | None, score: Any = None, label: str | None = None
) -> tuple[float, str, dict[str, Any]]:
    attrs: dict[str, Any] = {}
    if name is not None:
        attrs["gen_ai.evaluation.name"] = name
    if score is not None:
        attrs["gen_ai.evaluation.score.value"] = score
    if label is not None:
        attrs["gen_ai.evaluation.score.label"] = label
    return (10.0, "gen_ai.evaluation.result", attrs)


def test_evaluation_events_become_eval_columns() -> None:
    chat = {"gen_ai.operation.name": "chat"}
    spans = make_spans(
        [
            {"attributes": chat, "events": [_eval("toxicity", 0.1), _eval("relevance", 1,
                                                                          "relevant")]},
            {"attributes": chat, "events": [_eval("relevance", "0.25", "off-topic"),
                                            _eval("relevance", 0.5, "partial")]},
            {"attributes": chat},
            {"attributes": {"gen_ai.operation.name": "execute_tool"},
             "events": [_eval("tool_success", 1.0)]},
        ]
    )  # fmt: skip
    calls = llm_calls(spans)
    assert [c for c in calls.columns if c.startswith("eval.")] == [
        "eval.relevance", "eval.relevance.label", "eval.toxicity"
    ]  # fmt: skip
    assert calls["eval.relevance"].to_list() == [1.0, 0.5, None]  # the last result wins
    assert calls["eval.relevance.label"].to_list() == ["relevant", "partial", None]
    assert calls["eval.toxicity"].to_list() == [0.1, None, None]
    assert calls.schema["eval.toxicity"] == pl.Float64
    validate(calls, LLM_CALLS)


def test_evaluation_event_errors_name_the_span() -> None:
    chat = {"gen_ai.operation.name": "chat"}
    unnamed = make_spans([{"attributes": chat, "events": [_eval(None, 0.3)]}])
    with pytest.raises(SchemaError) as info:
        llm_calls(unnamed)
    assert str(info.value).startswith(
        f"Column 'events' of span 0000000000000001 (trace {TRACE}) holds a "
        "'gen_ai.evaluation.result' event without a 'gen_ai.evaluation.name' attribute"
    )
    wordy = make_spans([{"attributes": chat, "events": [_eval("relevance", "high")]}])
    with pytest.raises(SchemaError, match=r"'gen_ai.evaluation.score.value' is 'high'; expected"):
        llm_calls(wordy)


# --- dimensions and parameters ---------------------------------------------------------------


def test_dimensions_pass_through_unchanged() -> None:
    spans = make_spans(
        [
            {"attributes": {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
                            "user.locale": "de-DE", "gen_ai.request.temperature": 0.2,
                            "route": "rag-qa"},
             "resource": {"cloud.region": "eu-west-1", "service.name": "gateway"}},
        ]
    )  # fmt: skip
    calls = llm_calls(spans)
    dims = calls.columns[len(LLM_CALLS.names) :]
    assert dims == [
        "attributes.user.locale", "attributes.gen_ai.request.temperature", "attributes.route",
        "resource.cloud.region", "resource.service.name",
    ]  # fmt: skip
    assert calls.row(0, named=True)["attributes.gen_ai.request.temperature"] == 0.2
    assert calls["resource.cloud.region"].to_list() == ["eu-west-1"]


def test_parameter_and_input_errors() -> None:
    spans = written("v1.37")
    with pytest.raises(ParameterError, match=r"^The 'backend' parameter of llm_calls must be"):
        llm_calls(spans, backend="numpy")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"^The 'operations' parameter of llm_calls must"):
        llm_calls(spans, operations="chat")
    with pytest.raises(
        SchemaError, match=r"The spans table is missing 1 required column: 'events'"
    ):
        llm_calls(spans.drop("events"))
    with pytest.raises(ParameterError, match=r"The 'spans' parameter of llm_calls must be"):
        llm_calls({"trace_id": []})


# --- real any-agent traces ---------------------------------------------------------------------


def any_agent_spans(path: Path) -> pl.DataFrame:
    """Direct conversion of an any-agent trace (ReadableSpan dumps, not OTLP) to spans."""
    raw = json.loads(path.read_text())["spans"]
    rows = []
    for s in raw:
        parent = s["parent"]["span_id"] if s.get("parent") else None
        rows.append(
            {
                "trace_id": format(s["context"]["trace_id"], "032x"),
                "span_id": format(s["context"]["span_id"], "016x"),
                "parent_span_id": None if parent is None else format(parent, "016x"),
                "name": s["name"],
                "kind": s["kind"],
                "service_name": s["resource"]["attributes"]["service.name"],
                "start_time": s["start_time"],
                "end_time": s["end_time"],
                "duration_ms": (s["end_time"] - s["start_time"]) / 1e6,
                "status_code": s["status"]["status_code"],
                "status_message": s["status"]["description"],
                "events": [],
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            **{k: v for k, v in SPANS.schema.items() if k not in ("links",)},
            "start_time": pl.Int64,
            "end_time": pl.Int64,
        },
    ).with_columns(pl.col("start_time", "end_time").cast(TIME))
    for prefix, get in (
        ("attributes.", lambda s: s["attributes"]),
        ("resource.", lambda s: s["resource"]["attributes"]),
    ):
        keys = sorted({k for s in raw for k in get(s)})
        frame = frame.with_columns(
            pl.Series(prefix + k, [get(s).get(k) for s in raw], strict=True) for k in keys
        )
    return validate(frame, "spans")


@pytest.mark.real_data
@pytest.mark.parametrize(
    "name",
    ["AGNO", "GOOGLE", "LLAMA_INDEX", "SMOLAGENTS", "TINYAGENT"],
)
def test_any_agent_traces(real_data: Path, name: str) -> None:
    path = real_data / "any_agent_genai_traces" / f"{name}_trace.json"
    raw = json.loads(path.read_text())["spans"]
    llm = [s for s in raw if s["attributes"].get("gen_ai.operation.name") == "call_llm"]
    calls = llm_calls(any_agent_spans(path))
    validate(calls, LLM_CALLS)
    assert calls.height == len(llm)
    assert calls["operation"].unique().to_list() == ["call_llm"]
    assert calls["request_model"].unique().to_list() == ["mistral/mistral-small-latest"]
    assert calls["response_model"].null_count() == len(llm)  # the file has none: not invented
    assert calls["provider"].null_count() == len(llm)
    assert calls["input_tokens"].to_list() == [s["attributes"]["gen_ai.usage.input_tokens"]
                                               for s in llm]  # fmt: skip
    assert calls["output_tokens"].to_list() == [s["attributes"]["gen_ai.usage.output_tokens"]
                                                for s in llm]  # fmt: skip
    assert calls["span_id"].to_list() == [format(s["context"]["span_id"], "016x") for s in llm]
    assert calls["latency_s"].to_list() == pytest.approx(
        [(s["end_time"] - s["start_time"]) / 1e9 for s in llm], rel=1e-12
    )
    assert calls["is_error"].to_list() == [False] * len(llm)
    assert calls["ttft_s"].null_count() == len(llm)
    assert calls["service_name"].unique().to_list() == ["unknown_service"]
    # the costs are dimensions
    assert calls["attributes.gen_ai.usage.input_cost"].to_list() == pytest.approx(
        [s["attributes"]["gen_ai.usage.input_cost"] for s in llm]
    )


@pytest.mark.real_data
def test_any_agent_agno_known_values(real_data: Path) -> None:
    """AGNO's three model calls, read off the file by hand."""
    calls = llm_calls(any_agent_spans(real_data / "any_agent_genai_traces" / "AGNO_trace.json"))
    assert calls.height == 3
    assert calls["input_tokens"].to_list() == [395, 483, 518]
    assert calls["output_tokens"].to_list() == [16, 14, 44]
    assert calls["latency_s"].to_list() == pytest.approx([0.331559, 0.366454, 0.69184])
