"""Attribute names of the GenAI semantic conventions, and how to read them from spans.

Instrumentations have written the same facts under several names: the OpenTelemetry GenAI
semantic conventions renamed attributes between releases (all "Development" stability), and
Arize's OpenInference conventions use their own ``llm.*`` names. This module holds those
names as data, so that every analysis reads one canonical field whatever wrote the spans.

:data:`ALIASES` maps each canonical field of the ``llm_calls`` table (see
``toolkit.schema.LLM_CALLS``) to an ordered tuple of candidate attribute keys. The first
non-null value wins (a coalesce), so each tuple is ordered **newest naming first**:

======================  ==========================================================  ==========
field                   candidate attribute keys, in order of precedence            dtype
======================  ==========================================================  ==========
operation               ``gen_ai.operation.name``                                   String
provider                ``gen_ai.provider.name`` (v1.37+), ``gen_ai.system``        String
                        (up to v1.36), ``llm.provider``, ``llm.system`` (OI)
request_model           ``gen_ai.request.model``,                                   String
                        ``llm.invocation_parameters#$.model``,
                        ``embedding.invocation_parameters#$.model``,
                        ``llm.model_name``, ``embedding.model_name`` (OI)
response_model          ``gen_ai.response.model``, ``llm.model_name``,              String
                        ``embedding.model_name`` (OI)
input_tokens            ``gen_ai.usage.input_tokens`` (v1.28+),                     Int64
                        ``gen_ai.usage.prompt_tokens`` (up to v1.27),
                        ``llm.token_count.prompt`` (OI)
output_tokens           ``gen_ai.usage.output_tokens`` (v1.28+),                    Int64
                        ``gen_ai.usage.completion_tokens`` (up to v1.27),
                        ``llm.token_count.completion`` (OI)
cached_input_tokens     ``gen_ai.usage.cache_read.input_tokens``,                   Int64
                        ``gen_ai.usage.cache_read_input_tokens`` (OpenLLMetry),
                        ``llm.token_count.prompt_details.cache_read`` (OI)
reasoning_tokens        ``gen_ai.usage.reasoning.output_tokens``,                   Int64
                        ``gen_ai.usage.reasoning_tokens`` (OpenLLMetry),
                        ``llm.token_count.completion_details.reasoning`` (OI)
ttft_s                  ``gen_ai.response.time_to_first_chunk``,                    Float64
                        ``gen_ai.response.time_to_first_token`` (Sentry),
                        ``gen_ai.latency.time_to_first_token`` (vLLM server spans)
finish_reason           ``gen_ai.response.finish_reasons`` (its first element),     String
                        ``gen_ai.output.messages#$[0].finish_reason``,
                        ``llm.finish_reason`` (OI)
error_type              ``error.type``                                              String
streaming               ``gen_ai.request.stream``, ``gen_ai.is_streaming``          Boolean
                        (OpenLLMetry), ``llm.is_streaming`` (older OpenLLMetry,
                        LiteLLM), ``llm.invocation_parameters#$.stream``,
                        ``embedding.invocation_parameters#$.stream`` (OI)
======================  ==========================================================  ==========

A candidate ``<key>#<path>`` is a member of a JSON text attribute (:data:`JSON_MEMBER`
separates them): ``<path>`` is a JSON path into the value of ``<key>``. OpenInference writes
the request's parameters (model, stream flag, ...) only as a JSON object in
``llm.invocation_parameters`` (``embedding.invocation_parameters`` for embeddings), and the
GenAI conventions' opt-in ``gen_ai.output.messages`` carries each choice's finish reason,
which is the only place openai-v2 2.x instrumentations write it for streamed calls. A JSON
member with a default in :data:`JSON_MEMBER_DEFAULTS` takes it when the attribute holds a
JSON object without that member: OpenInference records every parameter of the request, so
invocation parameters without ``stream`` describe a request that was not streamed.

OpenInference's ``llm.model_name`` is the model named in the response (its instrumentations
set it from the request and overwrite it with the response's), so it fills the response
model and, only when the invocation parameters do not name one, the request model. The
OpenTelemetry names come before the OpenInference ones when a span carries both.

Values are normalised so that instrumentations agree: an ``error_type`` is the exception's
class name (:func:`error_class`: openai-v2 2.x writes ``"<class 'openai.RateLimitError'>"``,
OpenInference's ``exception`` events ``openai.RateLimitError``; both give
``RateLimitError``); a ``finish_reason`` that is empty is null, and the conventions' enum
value ``tool_call`` (written by OpenLLMetry) is OpenAI's ``tool_calls``, the value the other
instrumentations pass through (:data:`FINISH_REASON_VALUES`).

All time-to-first-token attributes are in seconds. ``gen_ai.latency.time_to_first_token``
is measured by the model server (vLLM), which records it whether or not the client streamed;
the others are client-side first-chunk times (see :data:`SERVER_TTFT_KEYS`).

A span is a *model call* (:func:`is_llm_span`) when its operation (:func:`operation`) is one
of :data:`MODEL_OPERATIONS`; the OpenInference span kinds ``LLM`` and ``EMBEDDING`` count as
the operations ``chat`` and ``embeddings`` (:data:`OPENINFERENCE_OPERATIONS`).

Examples
--------
>>> from toolkit import semconv
>>> semconv.ALIASES["input_tokens"]
('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt')
>>> semconv.attribute_column("gen_ai.system")
'attributes.gen_ai.system'
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any, Literal

import polars as pl

from toolkit._validation import BACKEND, Backend, Frame, OneOf, Strings, validate_params
from toolkit.errors import SchemaError, preview

__all__ = [
    "ALIASES",
    "ATTRIBUTE_PREFIX",
    "CHOICE_EVENT",
    "CONSUMED_KEYS",
    "CONTENT_DETAILS_EVENT",
    "ERROR_TYPE",
    "EVALUATION_EVENT",
    "EVALUATION_EXPLANATION",
    "EVALUATION_NAME",
    "EVALUATION_SCORE_LABEL",
    "EVALUATION_SCORE_VALUE",
    "EXCEPTION_EVENT",
    "EXCEPTION_TYPE",
    "FIELD_DTYPES",
    "FINISH_REASON_VALUES",
    "FIRST_TOKEN_EVENTS",
    "INPUT_MESSAGES",
    "JSON_MEMBER",
    "JSON_MEMBER_DEFAULTS",
    "LEGACY_CALL_EVIDENCE",
    "MESSAGE_EVENTS",
    "METRIC_CLIENT_OPERATION_DURATION",
    "METRIC_CLIENT_TIME_PER_OUTPUT_CHUNK",
    "METRIC_CLIENT_TIME_TO_FIRST_CHUNK",
    "METRIC_CLIENT_TOKEN_USAGE",
    "METRIC_SERVER_REQUEST_DURATION",
    "METRIC_SERVER_TIME_PER_OUTPUT_TOKEN",
    "METRIC_SERVER_TIME_TO_FIRST_TOKEN",
    "MODEL_OPERATIONS",
    "OPENINFERENCE_OPERATIONS",
    "OPENINFERENCE_SPAN_KIND",
    "OPENINFERENCE_SPAN_KINDS",
    "OPERATIONS",
    "OPERATION_NAME",
    "OUTPUT_MESSAGES",
    "SERVER_TTFT_KEYS",
    "TOKEN_TYPE",
    "attribute_column",
    "candidates",
    "error_class",
    "is_llm_span",
    "operation",
    "resolve",
]

#: Prefix of span attribute columns in the spans table.
ATTRIBUTE_PREFIX = "attributes."
#: Separates an attribute key from a JSON path into its value in a candidate of
#: :data:`ALIASES` (``"llm.invocation_parameters#$.model"``).
JSON_MEMBER = "#"

# --- attribute keys -------------------------------------------------------------------------

#: ``gen_ai.operation.name``: what the span does (chat, embeddings, invoke_agent, ...).
OPERATION_NAME = "gen_ai.operation.name"
#: OpenInference's span kind attribute (LLM, EMBEDDING, CHAIN, ...).
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
#: ``error.type``: the class of error a failed operation ended with.
ERROR_TYPE = "error.type"
#: Attribute of the ``gen_ai.client.token.usage`` metric: ``input`` or ``output``.
TOKEN_TYPE = "gen_ai.token.type"

#: Well-known values of ``gen_ai.operation.name`` across the released conventions.
OPERATIONS: tuple[str, ...] = (
    "chat",
    "generate_content",
    "text_completion",
    "embeddings",
    "retrieval",
    "create_agent",
    "invoke_agent",
    "execute_tool",
    "invoke_workflow",
)

#: Operations that are one call to a model. Besides the conventions' ``chat``,
#: ``generate_content``, ``text_completion`` and ``embeddings``, ``call_llm`` is the name
#: mozilla-ai's any-agent (and Google's ADK) write on their model-call spans. Agent, tool,
#: workflow and retrieval spans are not model calls.
MODEL_OPERATIONS: frozenset[str] = frozenset(
    {"chat", "generate_content", "text_completion", "embeddings", "call_llm"}
)

#: OpenInference span kinds (values of ``openinference.span.kind``).
OPENINFERENCE_SPAN_KINDS: tuple[str, ...] = (
    "LLM",
    "EMBEDDING",
    "CHAIN",
    "RETRIEVER",
    "RERANKER",
    "TOOL",
    "AGENT",
    "GUARDRAIL",
    "EVALUATOR",
    "PROMPT",
)

#: The operation an OpenInference model-call span kind stands for. OpenInference does not
#: distinguish chat from text completion; ``LLM`` spans are counted as ``chat``.
OPENINFERENCE_OPERATIONS: Mapping[str, str] = MappingProxyType(
    {"LLM": "chat", "EMBEDDING": "embeddings"}
)

#: Canonical llm_calls field -> candidate attribute keys, newest naming first (see the
#: module docstring for the table and its sources).
ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "operation": (OPERATION_NAME,),
        "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
        "request_model": (
            "gen_ai.request.model",
            "llm.invocation_parameters#$.model",
            "embedding.invocation_parameters#$.model",
            "llm.model_name",
            "embedding.model_name",
        ),
        "response_model": ("gen_ai.response.model", "llm.model_name", "embedding.model_name"),
        "input_tokens": (
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
            "llm.token_count.prompt",
        ),
        "output_tokens": (
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
            "llm.token_count.completion",
        ),
        "cached_input_tokens": (
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_read_input_tokens",
            "llm.token_count.prompt_details.cache_read",
        ),
        "reasoning_tokens": (
            "gen_ai.usage.reasoning.output_tokens",
            "gen_ai.usage.reasoning_tokens",
            "llm.token_count.completion_details.reasoning",
        ),
        "ttft_s": (
            "gen_ai.response.time_to_first_chunk",
            "gen_ai.response.time_to_first_token",
            "gen_ai.latency.time_to_first_token",
        ),
        "finish_reason": (
            "gen_ai.response.finish_reasons",
            "gen_ai.output.messages#$[0].finish_reason",
            "llm.finish_reason",
        ),
        "error_type": (ERROR_TYPE,),
        "streaming": (
            "gen_ai.request.stream",
            "gen_ai.is_streaming",
            "llm.is_streaming",
            "llm.invocation_parameters#$.stream",
            "embedding.invocation_parameters#$.stream",
        ),
    }
)

#: Value of a JSON-member candidate (see :data:`JSON_MEMBER`) when its attribute holds a JSON
#: object without that member: OpenInference's invocation parameters list every parameter of
#: the request, and OpenAI's ``stream`` defaults to false.
JSON_MEMBER_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "llm.invocation_parameters#$.stream": False,
        "embedding.invocation_parameters#$.stream": False,
    }
)

#: Finish reasons written under another name for the same meaning -> the canonical value.
#: ``tool_call`` is the GenAI conventions' enum value (OpenLLMetry writes it for OpenAI's
#: ``tool_calls``, which openai-v2 and OpenInference pass through unchanged).
FINISH_REASON_VALUES: Mapping[str, str] = MappingProxyType({"tool_call": "tool_calls"})

#: The dtype :func:`resolve` returns for each field of :data:`ALIASES`.
FIELD_DTYPES: Mapping[str, pl.DataType] = MappingProxyType(
    {
        "operation": pl.String(),
        "provider": pl.String(),
        "request_model": pl.String(),
        "response_model": pl.String(),
        "input_tokens": pl.Int64(),
        "output_tokens": pl.Int64(),
        "cached_input_tokens": pl.Int64(),
        "reasoning_tokens": pl.Int64(),
        "ttft_s": pl.Float64(),
        "finish_reason": pl.String(),
        "error_type": pl.String(),
        "streaming": pl.Boolean(),
    }
)

#: Time-to-first-token attributes measured by the model server, not by a streaming client:
#: they do not imply that the response was streamed.
SERVER_TTFT_KEYS: frozenset[str] = frozenset({"gen_ai.latency.time_to_first_token"})

#: Every key read into a canonical llm_calls field (so not passed through as a dimension).
#: JSON-member candidates (``key#path``) are listed as such: the attribute they read holds
#: more than the field (all request parameters, message contents) and is passed through.
CONSUMED_KEYS: frozenset[str] = frozenset(
    {key for keys in ALIASES.values() for key in keys} | {OPENINFERENCE_SPAN_KIND}
)

#: Attributes that mark a span written before ``gen_ai.operation.name`` existed as a model
#: call when it has neither an operation name nor an OpenInference span kind (e.g. vLLM's
#: server-side ``llm_request`` spans): token usage or a response model.
LEGACY_CALL_EVIDENCE: tuple[str, ...] = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "gen_ai.response.model",
)

# --- events ---------------------------------------------------------------------------------

#: Span events whose time marks the first token or chunk of a streamed response; the
#: earliest one on a span gives its time to first token (event time - span start).
#: ``First Token Stream Event`` is written by OpenInference's instrumentations;
#: ``gen_ai.content.completion.chunk`` (older releases: ``llm.content.completion.chunk``),
#: one per chunk, by OpenLLMetry's.
FIRST_TOKEN_EVENTS: tuple[str, ...] = (
    "First Token Stream Event",
    "gen_ai.content.completion.chunk",
    "llm.content.completion.chunk",
)

#: Opt-in message contents, JSON arrays of messages (``{"role", "parts": [...]}``; output
#: messages also carry ``finish_reason``), on spans or on :data:`CONTENT_DETAILS_EVENT`.
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
#: The log event with a call's contents in the current conventions (attributes
#: :data:`INPUT_MESSAGES` and :data:`OUTPUT_MESSAGES`), e.g. openai-v2 2.4b0.
CONTENT_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
#: Per-message log events of the older conventions (e.g. openai-v2 up to 2.3b0) -> the
#: role of the message; the body holds ``content`` (and ``tool_calls``, or ``id`` for a
#: tool message).
MESSAGE_EVENTS: Mapping[str, str] = MappingProxyType(
    {
        "gen_ai.system.message": "system",
        "gen_ai.user.message": "user",
        "gen_ai.assistant.message": "assistant",
        "gen_ai.tool.message": "tool",
    }
)
#: Log event of the older conventions holding one choice of the response (body: ``index``,
#: ``finish_reason``, ``message``).
CHOICE_EVENT = "gen_ai.choice"

#: The span event recording an exception (OpenTelemetry's ``Span.record_exception``), and
#: its attribute naming the exception's type; OpenInference and OpenLLMetry record errors
#: this way (OpenInference without ``error.type``).
EXCEPTION_EVENT = "exception"
EXCEPTION_TYPE = "exception.type"

#: Event carrying one evaluation result of a model call.
EVALUATION_EVENT = "gen_ai.evaluation.result"
#: Attributes of :data:`EVALUATION_EVENT`.
EVALUATION_NAME = "gen_ai.evaluation.name"
EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value"
EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label"
EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"

# --- metrics (histograms) -------------------------------------------------------------------

#: Input and output tokens per operation ({token}; attribute :data:`TOKEN_TYPE`).
METRIC_CLIENT_TOKEN_USAGE = "gen_ai.client.token.usage"
#: Client-side operation duration (s).
METRIC_CLIENT_OPERATION_DURATION = "gen_ai.client.operation.duration"
#: Client-side time to first chunk of a streamed response (s), newer conventions.
METRIC_CLIENT_TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
#: Client-side time per output chunk after the first (s), newer conventions.
METRIC_CLIENT_TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
#: Model server request duration (s).
METRIC_SERVER_REQUEST_DURATION = "gen_ai.server.request.duration"
#: Model server time to first token (s).
METRIC_SERVER_TIME_TO_FIRST_TOKEN = "gen_ai.server.time_to_first_token"
#: Model server time per output token after the first (s).
METRIC_SERVER_TIME_PER_OUTPUT_TOKEN = "gen_ai.server.time_per_output_token"

_INT64_MAX = 2**63 - 1
_INT_DTYPES = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
_FLOAT_DTYPES = (pl.Float32, pl.Float64)
_Kind = Literal["string", "int", "float", "bool", "first_string"]
_FIELD_KINDS: Mapping[str, _Kind] = MappingProxyType(
    {
        "operation": "string",
        "provider": "string",
        "request_model": "string",
        "response_model": "string",
        "input_tokens": "int",
        "output_tokens": "int",
        "cached_input_tokens": "int",
        "reasoning_tokens": "int",
        "ttft_s": "float",
        "finish_reason": "first_string",
        "error_type": "string",
        "streaming": "bool",
    }
)


def attribute_column(key: str) -> str:
    """Return the spans-table column of span attribute ``key``.

    Parameters
    ----------
    key : str
        Attribute key, e.g. ``"gen_ai.system"``.

    Returns
    -------
    str
        ``"attributes." + key``.

    Examples
    --------
    >>> attribute_column("error.type")
    'attributes.error.type'
    """
    return ATTRIBUTE_PREFIX + key


def _split_key(key: str) -> tuple[str, str | None]:
    """An alias candidate as (attribute key, JSON path into its value or None)."""
    attribute, sep, path = key.partition(JSON_MEMBER)
    return attribute, (path if sep else None)


_CLASS_REPR = r"^<class '([^']*)'>$"
_QUALIFIED_NAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"
_LAST_NAME = r"([A-Za-z_][A-Za-z0-9_]*)$"


def error_class(value: str) -> str:
    """Return the class name of an error type as instrumentations write it.

    ``str()`` of a Python class (``"<class 'openai.RateLimitError'>"``, as openai-v2 2.x
    writes ``error.type``) and a module-qualified name (``"openai.RateLimitError"``, as in
    ``exception.type``) give the class name; any other value (``"timeout"``, ``"500"``) is
    returned unchanged.

    Parameters
    ----------
    value : str
        An ``error.type`` or ``exception.type`` value.

    Returns
    -------
    str
        The class name, or ``value``.

    Examples
    --------
    >>> error_class("<class 'openai.RateLimitError'>")
    'RateLimitError'
    >>> error_class("openai.APIConnectionError"), error_class("timeout")
    ('APIConnectionError', 'timeout')
    """
    return str(_error_classes(pl.Series([value], dtype=pl.String))[0])


def _error_classes(s: pl.Series) -> pl.Series:
    """Vectorised :func:`error_class` (nulls stay null)."""
    unwrapped = s.str.replace(_CLASS_REPR, "$1")
    qualified = unwrapped.str.contains(_QUALIFIED_NAME)
    last = unwrapped.str.extract(_LAST_NAME, 1)
    return pl.select(pl.when(qualified).then(last).otherwise(unwrapped)).to_series().alias(s.name)


def _finish_reasons(s: pl.Series) -> pl.Series:
    """Empty finish reasons are null; synonyms take their canonical value."""
    named = s.replace(dict(FINISH_REASON_VALUES))
    return pl.select(pl.when(named != "").then(named)).to_series().alias(s.name)


_FIELD = OneOf(*sorted(ALIASES), description=f"one of {sorted(ALIASES)}")
#: The ``operations`` constraint of :func:`is_llm_span` and :func:`toolkit.llm_calls`.
_OPERATIONS: list[object] = [
    None,
    Strings(description="a collection of operation names such as {'chat', 'embeddings'}"),
]


@validate_params(frame=Frame(lazy=True), field=_FIELD)
def candidates(frame: Any, field: str) -> list[str]:
    """Return the columns of ``frame`` that may hold ``field``, in order of precedence.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        A spans table (only its column names are used).
    field : str
        A canonical field, one of :data:`ALIASES`.

    Returns
    -------
    list of str
        The ``attributes.<key>`` columns present, newest naming first (the column of a
        JSON-member candidate ``key#path`` is that of ``key``; each column is listed once).

    Raises
    ------
    ParameterError
        If ``field`` is not a key of :data:`ALIASES`.

    Examples
    --------
    >>> import polars as pl
    >>> spans = pl.DataFrame({"attributes.gen_ai.system": ["openai"],
    ...                       "attributes.gen_ai.provider.name": ["openai"]})
    >>> candidates(spans, "provider")
    ['attributes.gen_ai.provider.name', 'attributes.gen_ai.system']
    """
    columns = set(frame.collect_schema().names())
    found = [attribute_column(_split_key(k)[0]) for k in ALIASES[field]]
    return list(dict.fromkeys(c for c in found if c in columns))


def _raise_bad(df: pl.DataFrame, column: str, bad: pl.Series, expected: str) -> None:
    """Raise a SchemaError on the first row where ``bad`` is true, if any."""
    if not bad.any():
        return
    count = int(bad.sum())
    row = int(bad.arg_true()[0])
    value = df[column][row]
    where = f"row {row}"
    if "span_id" in df.columns and df["span_id"][row] is not None:
        where += f" (span {df['span_id'][row]})"
    more = f" ({count} values in all)" if count > 1 else ""
    raise SchemaError(
        f"Column {column!r} holds {preview(value)} at {where}{more}; expected {expected}."
    )


def _wrong_dtype(column: str, dtype: pl.DataType, expected: str) -> SchemaError:
    return SchemaError(f"Column {column!r} is {dtype}; expected {expected}.")


def _as_int64(df: pl.DataFrame, column: str) -> pl.Series:
    """Exact conversion of a token count column to Int64 (never through float64 for ints)."""
    s = df[column]
    expected = "a non-negative integer token count"
    if s.dtype == pl.Null:
        return pl.Series(column, [None] * len(s), dtype=pl.Int64)
    if isinstance(s.dtype, _INT_DTYPES):
        if s.dtype == pl.UInt64:
            _raise_bad(df, column, s.fill_null(0) > _INT64_MAX, expected + " below 2**63")
        out = s.cast(pl.Int64)
        _raise_bad(df, column, out.fill_null(0) < 0, expected)
        return out
    if isinstance(s.dtype, _FLOAT_DTYPES):
        f = s.cast(pl.Float64)
        ok = f.is_finite() & (f == f.floor()) & (f >= 0) & (f < 2.0**63)
        _raise_bad(df, column, f.is_not_null() & ~ok.fill_null(False), expected)
        return f.cast(pl.Int64)
    if s.dtype == pl.String:
        ok = s.str.contains(r"^[0-9]+(\.0*)?$")
        _raise_bad(df, column, s.is_not_null() & ~ok.fill_null(False), expected)
        out = s.str.replace(r"\.0*$", "").cast(pl.Int64, strict=False)
        _raise_bad(df, column, s.is_not_null() & out.is_null(), expected + " below 2**63")
        return out
    raise _wrong_dtype(column, s.dtype, expected + " (an integer, float or string column)")


def _as_float64(df: pl.DataFrame, column: str) -> pl.Series:
    """Conversion of a duration-in-seconds column to Float64."""
    s = df[column]
    expected = "a non-negative, finite number of seconds"
    if s.dtype == pl.Null:
        return pl.Series(column, [None] * len(s), dtype=pl.Float64)
    if isinstance(s.dtype, _INT_DTYPES + _FLOAT_DTYPES):
        out = s.cast(pl.Float64)
    elif s.dtype == pl.String:
        out = s.cast(pl.Float64, strict=False)
        _raise_bad(df, column, s.is_not_null() & out.is_null(), expected)
    else:
        raise _wrong_dtype(column, s.dtype, expected + " (a numeric or string column)")
    ok = out.is_finite() & (out >= 0)
    _raise_bad(df, column, out.is_not_null() & ~ok.fill_null(False), expected)
    return out


def _as_bool(df: pl.DataFrame, column: str) -> pl.Series:
    s = df[column]
    expected = "a boolean (true or false)"
    if s.dtype == pl.Null:
        return pl.Series(column, [None] * len(s), dtype=pl.Boolean)
    if s.dtype == pl.Boolean:
        return s
    if s.dtype == pl.String:
        lower = s.str.to_lowercase()
        ok = lower.is_in(["true", "false"])
        _raise_bad(df, column, s.is_not_null() & ~ok.fill_null(False), expected)
        return lower == "true"
    raise _wrong_dtype(column, s.dtype, expected + " (a boolean or string column)")


def _as_string(df: pl.DataFrame, column: str) -> pl.Series:
    s = df[column]
    if s.dtype == pl.String:
        return s
    if s.dtype == pl.Null or isinstance(s.dtype, pl.Categorical | pl.Enum):
        return s.cast(pl.String)
    raise _wrong_dtype(column, s.dtype, "a String column")


def _first_string(df: pl.DataFrame, column: str) -> pl.Series:
    """First element of a string array, written as a list, a JSON array text or one string."""
    s = df[column]
    if s.dtype == pl.Null:
        return s.cast(pl.String)
    if isinstance(s.dtype, pl.List) and s.dtype.inner in (pl.String, pl.Null):
        return s.list.first().cast(pl.String)
    if s.dtype == pl.String:
        is_json = s.str.starts_with("[")
        arrays = pl.select(pl.when(is_json).then(s)).to_series()
        try:
            decoded = arrays.str.json_decode(pl.List(pl.String))
        except pl.exceptions.PolarsError:
            decoded = None
        if decoded is None:
            parses = arrays.map_elements(_is_string_array, return_dtype=pl.Boolean)
            _raise_bad(df, column, arrays.is_not_null() & ~parses, "a JSON array of strings")
            raise SchemaError(f"Column {column!r} holds a malformed JSON array.")  # unreachable
        return (
            pl.select(pl.when(is_json).then(decoded.list.first()).otherwise(s))
            .to_series()
            .alias(column)
        )
    raise _wrong_dtype(column, s.dtype, "a list of strings or a String column")


def _is_string_array(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_CONVERTERS = {
    "string": _as_string,
    "int": _as_int64,
    "float": _as_float64,
    "bool": _as_bool,
    "first_string": _first_string,
}


def _json_member(df: pl.DataFrame, key: str) -> pl.DataFrame:
    """A frame holding the value of JSON-member candidate ``key`` as a String column.

    The column is named ``attributes.<key>`` (so errors name the member); ``span_id`` is
    kept for error messages. A value that is not JSON text (or a column that is not text),
    or lacks the member, gives null (or the member's default from
    :data:`JSON_MEMBER_DEFAULTS` for a JSON object).
    """
    attribute, path = _split_key(key)
    column = df[attribute_column(attribute)]
    if column.dtype == pl.String or isinstance(column.dtype, pl.Categorical | pl.Enum):
        text = column.cast(pl.String)
    else:
        text = pl.Series([None] * df.height, dtype=pl.String)
    member = text.str.json_path_match(str(path))
    if key in JSON_MEMBER_DEFAULTS:
        default = json.dumps(JSON_MEMBER_DEFAULTS[key])
        is_object = (
            text.str.strip_chars().str.starts_with("{")
            & text.str.json_path_match("$").is_not_null()
        )
        member = pl.select(
            pl.when(member.is_null() & is_object).then(pl.lit(default)).otherwise(member)
        ).to_series()
    columns = [member.alias(attribute_column(key))]
    if "span_id" in df.columns:
        columns.append(df["span_id"])
    return pl.DataFrame(columns)


_NORMALISERS = {"finish_reason": _finish_reasons, "error_type": _error_classes}


def _resolve(df: pl.DataFrame, field: str, keys: tuple[str, ...] | None = None) -> pl.Series:
    """Coalesce the converted candidate columns of ``field`` (optionally only ``keys``)."""
    keys = ALIASES[field] if keys is None else keys
    convert = _CONVERTERS[_FIELD_KINDS[field]]
    series: list[pl.Series] = []
    for key in keys:
        attribute, path = _split_key(key)
        if attribute_column(attribute) not in df.columns:
            continue
        source = df if path is None else _json_member(df, key)
        series.append(convert(source, attribute_column(key)).alias(f"_{len(series)}"))
    normalise = _NORMALISERS.get(field)
    if normalise is not None:
        series = [normalise(s) for s in series]
    if not series:
        return pl.Series(field, [None] * df.height, dtype=FIELD_DTYPES[field])
    return pl.DataFrame(series).select(pl.coalesce(s.name for s in series).alias(field)).to_series()


@validate_params(frame=Frame(), field=_FIELD, backend=BACKEND)
def resolve(frame: Any, field: str, *, backend: Backend = "polars") -> Any:
    """Read a canonical field from a spans table: the first non-null of its candidates.

    Each candidate column of :data:`ALIASES` present in ``frame`` is converted to the field's
    dtype (:data:`FIELD_DTYPES`) and the first non-null value per row is kept, so the newest
    naming wins when a span carries several.

    Conversions are exact: token counts are accepted as integers, as floats holding
    integral values (pandas turns integer columns with nulls into float64) and as decimal
    strings (``"12"``, or ``"12.0"`` as polars writes a float); times to first token as
    numbers or numeric strings (seconds); ``streaming`` as booleans or the strings
    ``true``/``false`` (any case); ``finish_reason`` from a list of strings, a JSON array
    text (``'["stop"]'``) or a single string. Candidates ``key#path`` read a member of a
    JSON text attribute (see :data:`JSON_MEMBER`); text that is not JSON gives null there.
    ``error_type`` values are class names (:func:`error_class`); empty finish reasons are
    null and :data:`FINISH_REASON_VALUES` maps synonyms to one value.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        A spans table, or any frame with ``attributes.<key>`` columns (``span_id``, when
        present, is named in error messages).
    field : str
        One of the keys of :data:`ALIASES`.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned series.

    Returns
    -------
    polars.Series or pandas.Series
        One value per row of ``frame``, named ``field``, of dtype ``FIELD_DTYPES[field]``;
        all null when no candidate column is present.

    Raises
    ------
    ParameterError
        If ``field`` is not a key of :data:`ALIASES`.
    SchemaError
        Naming the column, row and span when a value cannot be converted exactly (e.g. a
        token count of 12.5), or when a column has a dtype that cannot hold the field.

    Examples
    --------
    >>> import polars as pl
    >>> spans = pl.DataFrame({
    ...     "attributes.gen_ai.usage.input_tokens": [None, 7.0],
    ...     "attributes.gen_ai.usage.prompt_tokens": ["5", "9"],
    ... })
    >>> resolve(spans, "input_tokens").to_list()
    [5, 7]
    >>> oi = pl.DataFrame({"attributes.llm.invocation_parameters": [
    ...     '{"model": "gpt-4o", "stream": true}', '{"model": "gpt-4o-mini"}']})
    >>> resolve(oi, "request_model").to_list(), resolve(oi, "streaming").to_list()
    (['gpt-4o', 'gpt-4o-mini'], [True, False])
    """
    result = _resolve(frame, field)
    return result.to_pandas() if backend == "pandas" else result


def _operation(df: pl.DataFrame) -> pl.Series:
    named = _resolve(df, "operation")
    kind_col = attribute_column(OPENINFERENCE_SPAN_KIND)
    if kind_col not in df.columns:
        return named.alias("operation")
    kind = _as_string(df, kind_col).str.to_uppercase()
    mapped = kind.replace_strict(
        dict(OPENINFERENCE_OPERATIONS), default=None, return_dtype=pl.String
    )
    return pl.select(pl.coalesce(named, mapped)).to_series().alias("operation")


@validate_params(frame=Frame(), backend=BACKEND)
def operation(frame: Any, *, backend: Backend = "polars") -> Any:
    """Return the operation of each span: ``gen_ai.operation.name``, else the OpenInference kind.

    OpenInference span kinds are mapped through :data:`OPENINFERENCE_OPERATIONS` (``LLM``
    becomes ``chat``, ``EMBEDDING`` becomes ``embeddings``); other kinds give null.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        A spans table.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned series.

    Returns
    -------
    polars.Series or pandas.Series
        String series named ``operation``, one value per row.

    Examples
    --------
    >>> import polars as pl
    >>> spans = pl.DataFrame({
    ...     "attributes.gen_ai.operation.name": ["execute_tool", None, None],
    ...     "attributes.openinference.span.kind": [None, "LLM", "CHAIN"],
    ... })
    >>> operation(spans).to_list()
    ['execute_tool', 'chat', None]
    """
    result = _operation(frame)
    return result.to_pandas() if backend == "pandas" else result


def _is_llm_span(df: pl.DataFrame, operations: Collection[str] | None) -> pl.Series:
    """Which spans are model calls; ``operations`` already checked (:data:`OPERATIONS`)."""
    ops = MODEL_OPERATIONS if operations is None else frozenset(operations)
    op = _operation(df)
    selected = op.is_in(list(ops)).fill_null(False)
    if operations is None:
        kind_col = attribute_column(OPENINFERENCE_SPAN_KIND)
        evidence = [
            df[attribute_column(k)].is_not_null()
            for k in LEGACY_CALL_EVIDENCE
            if attribute_column(k) in df.columns
        ]
        if evidence:
            unnamed = op.is_null()
            if kind_col in df.columns:
                unnamed = unnamed & df[kind_col].is_null()
            legacy = pl.select(pl.any_horizontal(evidence)).to_series() & unnamed
            selected = selected | legacy
    return selected.alias("is_llm_span")


@validate_params(frame=Frame(), operations=_OPERATIONS, backend=BACKEND)
def is_llm_span(
    frame: Any,
    *,
    operations: Collection[str] | None = None,
    backend: Backend = "polars",
) -> Any:
    """Tell which spans are model calls.

    A span is a model call when its :func:`operation` is in ``operations`` (by default
    :data:`MODEL_OPERATIONS`: chat, generate_content, text_completion, embeddings and
    call_llm; OpenInference ``LLM`` and ``EMBEDDING`` spans count as chat and embeddings).
    With the default set, a span that has neither ``gen_ai.operation.name`` nor
    ``openinference.span.kind`` but carries token usage or a response model
    (:data:`LEGACY_CALL_EVIDENCE`, e.g. vLLM's server-side ``llm_request`` spans) is a model
    call too. Agent, tool, workflow, retrieval and chain spans are not.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        A spans table.
    operations : collection of str, optional
        Operation names that count as model calls, replacing :data:`MODEL_OPERATIONS`
        (and the rule for spans without an operation).
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned series.

    Returns
    -------
    polars.Series or pandas.Series
        Boolean series named ``is_llm_span``, one value per row (never null).

    Examples
    --------
    >>> import polars as pl
    >>> spans = pl.DataFrame({
    ...     "attributes.gen_ai.operation.name": ["chat", "invoke_agent", None, None],
    ...     "attributes.gen_ai.usage.prompt_tokens": [10, 30, 12, None],
    ... })
    >>> is_llm_span(spans).to_list()
    [True, False, True, False]
    >>> is_llm_span(spans, operations={"invoke_agent"}).to_list()
    [False, True, False, False]
    """
    result = _is_llm_span(frame, operations)
    return result.to_pandas() if backend == "pandas" else result
