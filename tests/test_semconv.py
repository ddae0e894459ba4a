"""Tests of toolkit.semconv: the alias map and reading canonical fields from spans."""

from __future__ import annotations

import re

import pandas as pd
import polars as pl
import pytest

from toolkit import semconv
from toolkit.errors import ParameterError, SchemaError
from toolkit.schema import LLM_CALLS

# --- the alias map as data ------------------------------------------------------------------


def test_every_alias_field_is_an_llm_calls_column_with_the_same_dtype() -> None:
    schema = LLM_CALLS.schema
    assert set(semconv.ALIASES) == set(semconv.FIELD_DTYPES)
    for field, keys in semconv.ALIASES.items():
        assert field in schema, field
        assert semconv.FIELD_DTYPES[field] == schema[field], field
        assert isinstance(keys, tuple)
        assert keys, field
        assert len(set(keys)) == len(keys), f"duplicate candidate in {field}"


def test_aliases_are_ordered_newest_naming_first() -> None:
    a = semconv.ALIASES
    assert a["provider"][:2] == ("gen_ai.provider.name", "gen_ai.system")
    assert a["input_tokens"].index("gen_ai.usage.input_tokens") < a["input_tokens"].index(
        "gen_ai.usage.prompt_tokens"
    )
    assert a["output_tokens"].index("gen_ai.usage.output_tokens") < a["output_tokens"].index(
        "gen_ai.usage.completion_tokens"
    )
    # OpenInference names come after every OpenTelemetry one
    for field, keys in a.items():
        otel = [i for i, k in enumerate(keys) if k.startswith(("gen_ai.", "error."))]
        oi = [i for i, k in enumerate(keys) if k.startswith(("llm.", "embedding."))]
        if otel and oi:
            assert max(otel) < min(oi), field


def test_openinference_names_are_covered() -> None:
    keys = {k for ks in semconv.ALIASES.values() for k in ks}
    for name in (
        "llm.model_name",
        "llm.provider",
        "llm.system",
        "llm.token_count.prompt",
        "llm.token_count.completion",
        "llm.token_count.prompt_details.cache_read",
        "llm.token_count.completion_details.reasoning",
    ):
        assert name in keys
    assert semconv.OPENINFERENCE_SPAN_KIND in semconv.CONSUMED_KEYS
    assert "gen_ai.request.temperature" not in semconv.CONSUMED_KEYS
    assert keys <= semconv.CONSUMED_KEYS


def test_metric_and_event_names_match_the_conventions() -> None:
    assert semconv.METRIC_CLIENT_TOKEN_USAGE == "gen_ai.client.token.usage"
    assert semconv.METRIC_CLIENT_OPERATION_DURATION == "gen_ai.client.operation.duration"
    assert semconv.METRIC_SERVER_REQUEST_DURATION == "gen_ai.server.request.duration"
    assert semconv.METRIC_SERVER_TIME_TO_FIRST_TOKEN == "gen_ai.server.time_to_first_token"
    assert semconv.METRIC_SERVER_TIME_PER_OUTPUT_TOKEN == "gen_ai.server.time_per_output_token"
    assert semconv.EVALUATION_EVENT == "gen_ai.evaluation.result"
    assert semconv.EVALUATION_SCORE_VALUE == "gen_ai.evaluation.score.value"
    assert semconv.MODEL_OPERATIONS.isdisjoint(
        {"invoke_agent", "execute_tool", "retrieval", "create_agent", "invoke_workflow"}
    )


# --- resolve --------------------------------------------------------------------------------


def test_resolve_coalesces_newest_first_per_row() -> None:
    frame = pl.DataFrame(
        {
            "attributes.gen_ai.usage.input_tokens": [10, None, None, None],
            "attributes.gen_ai.usage.prompt_tokens": [99, 20, None, None],
            "attributes.llm.token_count.prompt": [1000, 2000, 30, None],
        }
    )
    assert semconv.resolve(frame, "input_tokens").to_list() == [10, 20, 30, None]
    assert semconv.candidates(frame, "input_tokens") == [
        "attributes.gen_ai.usage.input_tokens",
        "attributes.gen_ai.usage.prompt_tokens",
        "attributes.llm.token_count.prompt",
    ]


def test_resolve_without_candidates_is_typed_null() -> None:
    frame = pl.DataFrame({"span_id": ["a", "b"]})
    out = semconv.resolve(frame, "reasoning_tokens")
    assert out.dtype == pl.Int64
    assert out.to_list() == [None, None]
    assert out.name == "reasoning_tokens"


def test_resolve_converts_token_counts_exactly() -> None:
    big = 2**53 + 1  # not representable as float64
    frame = pl.DataFrame(
        {
            "attributes.gen_ai.usage.input_tokens": pl.Series([12.0, None, None, None]),
            "attributes.gen_ai.usage.prompt_tokens": ["99", "7", str(big), "8.0"],
        }
    )
    out = semconv.resolve(frame, "input_tokens")
    assert out.dtype == pl.Int64
    assert out.to_list() == [12, 7, big, 8]


def test_resolve_keeps_large_int64_without_float() -> None:
    big = 2**62 + 3
    frame = pl.DataFrame({"attributes.gen_ai.usage.output_tokens": [big, 1]})
    assert semconv.resolve(frame, "output_tokens").to_list() == [big, 1]


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([3.0, 12.5], "12.5"),
        ([3.0, float("nan")], "nan"),
        ([3, -1], "-1"),
        (["3", "12a"], "'12a'"),
        (["3", "99999999999999999999"], "'99999999999999999999'"),
    ],
)
def test_resolve_rejects_non_integer_token_counts(values: list[object], shown: str) -> None:
    frame = pl.DataFrame(
        {"span_id": ["aaaa", "bbbb"], "attributes.gen_ai.usage.output_tokens": values}
    )
    with pytest.raises(SchemaError) as info:
        semconv.resolve(frame, "output_tokens")
    message = str(info.value)
    assert "'attributes.gen_ai.usage.output_tokens'" in message
    assert "row 1 (span bbbb)" in message
    assert shown in message
    assert "integer token count" in message


def test_resolve_rejects_wrong_dtype_columns() -> None:
    frame = pl.DataFrame({"attributes.gen_ai.usage.input_tokens": [True]})
    with pytest.raises(SchemaError, match=r"is Boolean; expected a non-negative integer"):
        semconv.resolve(frame, "input_tokens")
    frame = pl.DataFrame({"attributes.gen_ai.request.model": [3]})
    with pytest.raises(SchemaError, match=r"'attributes.gen_ai.request.model' is Int64"):
        semconv.resolve(frame, "request_model")


def test_resolve_finish_reason_from_list_json_text_or_string() -> None:
    listed = pl.DataFrame(
        {"attributes.gen_ai.response.finish_reasons": [["stop", "length"], [], None]}
    )
    assert semconv.resolve(listed, "finish_reason").to_list() == ["stop", None, None]
    text = pl.DataFrame(
        {"attributes.gen_ai.response.finish_reasons": ['["length", "stop"]', "stop", None]}
    )
    assert semconv.resolve(text, "finish_reason").to_list() == ["length", "stop", None]
    broken = pl.DataFrame(
        {"span_id": ["s1", "s2"], "attributes.gen_ai.response.finish_reasons": ["stop", '["st']}
    )
    with pytest.raises(SchemaError, match=r"row 1 \(span s2\).*JSON array of strings"):
        semconv.resolve(broken, "finish_reason")


def test_resolve_streaming_and_ttft() -> None:
    frame = pl.DataFrame(
        {
            "attributes.gen_ai.request.stream": [None, False, None],
            "attributes.llm.is_streaming": ["True", "true", "FALSE"],
            "attributes.gen_ai.response.time_to_first_chunk": ["0.25", None, "1"],
            "attributes.gen_ai.latency.time_to_first_token": [9.0, 0.5, None],
        }
    )
    assert semconv.resolve(frame, "streaming").to_list() == [True, False, False]
    assert semconv.resolve(frame, "ttft_s").to_list() == [0.25, 0.5, 1.0]
    bad = pl.DataFrame({"attributes.llm.is_streaming": ["yes"]})
    with pytest.raises(SchemaError, match=r"holds 'yes' at row 0; expected a boolean"):
        semconv.resolve(bad, "streaming")
    negative = pl.DataFrame({"attributes.gen_ai.response.time_to_first_chunk": [-0.1]})
    with pytest.raises(SchemaError, match=r"-0.1 at row 0; expected a non-negative"):
        semconv.resolve(negative, "ttft_s")


def test_resolve_accepts_pandas_and_returns_pandas() -> None:
    frame = pd.DataFrame(
        {
            "attributes.gen_ai.provider.name": [None, "aws.bedrock"],
            "attributes.gen_ai.system": ["openai", "bedrock"],
        }
    )
    out = semconv.resolve(frame, "provider", backend="pandas")
    assert isinstance(out, pd.Series)
    assert out.tolist() == ["openai", "aws.bedrock"]


def test_resolve_parameter_errors() -> None:
    frame = pl.DataFrame({"a": [1]})
    with pytest.raises(ParameterError) as info:
        semconv.resolve(frame, "tokens")
    assert str(info.value).startswith(
        "The 'field' parameter of semconv.resolve must be one of ['cached_input_tokens', "
    )
    assert str(info.value).endswith("Got 'tokens' instead.")
    with pytest.raises(ParameterError, match=r"'backend' parameter of semconv\.resolve must be"):
        semconv.resolve(frame, "provider", backend="arrow")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"Got list instead"):
        semconv.resolve([1, 2], "provider")


# --- operation and is_llm_span ---------------------------------------------------------------


def _selection_frame() -> pl.DataFrame:
    rows = [
        # (gen_ai.operation.name, openinference.span.kind, gen_ai.usage.prompt_tokens, call?)
        ("chat", None, 10, True),
        ("generate_content", None, None, True),
        ("text_completion", None, None, True),
        ("embeddings", None, 5, True),
        ("call_llm", None, 395, True),
        ("invoke_agent", None, 400, False),
        ("execute_tool", None, None, False),
        ("retrieval", None, None, False),
        ("create_agent", None, None, False),
        ("invoke_workflow", None, None, False),
        (None, "LLM", None, True),
        (None, "EMBEDDING", None, True),
        (None, "CHAIN", 50, False),
        (None, "TOOL", None, False),
        (None, "RETRIEVER", None, False),
        (None, "AGENT", None, False),
        (None, None, 12, True),  # vLLM-style server span: tokens, no operation name
        (None, None, None, False),  # an HTTP span
    ]
    return pl.DataFrame(
        {
            "attributes.gen_ai.operation.name": [r[0] for r in rows],
            "attributes.openinference.span.kind": [r[1] for r in rows],
            "attributes.gen_ai.usage.prompt_tokens": [r[2] for r in rows],
            "expected": [r[3] for r in rows],
        }
    )


def test_is_llm_span_selects_model_calls_only() -> None:
    frame = _selection_frame()
    assert semconv.is_llm_span(frame).to_list() == frame["expected"].to_list()


def test_operation_maps_openinference_kinds() -> None:
    ops = semconv.operation(_selection_frame()).to_list()
    assert ops[10:13] == ["chat", "embeddings", None]
    assert ops[:5] == ["chat", "generate_content", "text_completion", "embeddings", "call_llm"]


def test_is_llm_span_operations_override() -> None:
    frame = _selection_frame()
    selected = semconv.is_llm_span(frame, operations={"embeddings"}).to_list()
    assert [i for i, s in enumerate(selected) if s] == [3, 11]
    pandas_out = semconv.is_llm_span(frame.to_pandas(), backend="pandas")
    assert isinstance(pandas_out, pd.Series)
    assert pandas_out.tolist() == frame["expected"].to_list()


@pytest.mark.parametrize("bad", ["chat", 3, ["chat", 1]])
def test_is_llm_span_rejects_bad_operations(bad: object) -> None:
    with pytest.raises(ParameterError) as info:
        semconv.is_llm_span(_selection_frame(), operations=bad)  # type: ignore[arg-type]
    assert re.match(
        r"The 'operations' parameter of semconv\.is_llm_span must be None or a collection of "
        r"operation names such as \{'chat', 'embeddings'\}\. Got .+ instead\.",
        str(info.value),
    )
