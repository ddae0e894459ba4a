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
request_model           ``gen_ai.request.model``, ``llm.model_name``,               String
                        ``embedding.model_name`` (OI)
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
                        ``llm.token_count.completion_details.reasoning`` (OI)
ttft_s                  ``gen_ai.response.time_to_first_chunk``,                    Float64
                        ``gen_ai.response.time_to_first_token`` (Sentry),
                        ``gen_ai.latency.time_to_first_token`` (vLLM server spans)
finish_reason           ``gen_ai.response.finish_reasons`` (its first element)      String
error_type              ``error.type``                                              String
streaming               ``gen_ai.request.stream``, ``llm.is_streaming``             Boolean
                        (OpenLLMetry, LiteLLM)
======================  ==========================================================  ==========

OpenInference has a single ``llm.model_name`` (its instrumentations set it from the request
and overwrite it with the model named in the response), so it fills both model fields. The
OpenTelemetry names come before the OpenInference ones when a span carries both.

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

from toolkit.errors import ParameterError, SchemaError, preview
from toolkit.schema import check_backend as _check_backend
from toolkit.schema import to_polars

__all__ = [
    "ALIASES",
    "ATTRIBUTE_PREFIX",
    "CONSUMED_KEYS",
    "ERROR_TYPE",
    "EVALUATION_EVENT",
    "EVALUATION_EXPLANATION",
    "EVALUATION_NAME",
    "EVALUATION_SCORE_LABEL",
    "EVALUATION_SCORE_VALUE",
    "FIELD_DTYPES",
    "FIRST_TOKEN_EVENTS",
    "LEGACY_CALL_EVIDENCE",
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
    "SERVER_TTFT_KEYS",
    "TOKEN_TYPE",
    "attribute_column",
    "candidates",
    "is_llm_span",
    "operation",
    "resolve",
]

#: Prefix of span attribute columns in the spans table.
ATTRIBUTE_PREFIX = "attributes."

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
        "request_model": ("gen_ai.request.model", "llm.model_name", "embedding.model_name"),
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
            "llm.token_count.completion_details.reasoning",
        ),
        "ttft_s": (
            "gen_ai.response.time_to_first_chunk",
            "gen_ai.response.time_to_first_token",
            "gen_ai.latency.time_to_first_token",
        ),
        "finish_reason": ("gen_ai.response.finish_reasons",),
        "error_type": (ERROR_TYPE,),
        "streaming": ("gen_ai.request.stream", "llm.is_streaming"),
    }
)

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
#: ``llm.content.completion.chunk`` (one per chunk) by OpenLLMetry's.
FIRST_TOKEN_EVENTS: tuple[str, ...] = ("First Token Stream Event", "llm.content.completion.chunk")

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


def _check_field(field: str, function: str) -> None:
    if field not in ALIASES:
        raise ParameterError(
            f"The 'field' parameter of {function} must be one of {sorted(ALIASES)}. "
            f"Got {preview(field)} instead."
        )


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
        The ``attributes.<key>`` columns present, newest naming first.

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
    _check_field(field, "candidates")
    columns = set(to_polars(frame, function="candidates").columns)
    return [attribute_column(k) for k in ALIASES[field] if attribute_column(k) in columns]


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


def _resolve(df: pl.DataFrame, field: str, keys: tuple[str, ...] | None = None) -> pl.Series:
    """Coalesce the converted candidate columns of ``field`` (optionally only ``keys``)."""
    keys = ALIASES[field] if keys is None else keys
    convert = _CONVERTERS[_FIELD_KINDS[field]]
    present = [attribute_column(k) for k in keys if attribute_column(k) in df.columns]
    series = [convert(df, c).alias(f"_{i}") for i, c in enumerate(present)]
    if not series:
        return pl.Series(field, [None] * df.height, dtype=FIELD_DTYPES[field])
    return pl.DataFrame(series).select(pl.coalesce(s.name for s in series).alias(field)).to_series()


def resolve(frame: Any, field: str, *, backend: Literal["polars", "pandas"] = "polars") -> Any:
    """Read a canonical field from a spans table: the first non-null of its candidates.

    Each candidate column of :data:`ALIASES` present in ``frame`` is converted to the field's
    dtype (:data:`FIELD_DTYPES`) and the first non-null value per row is kept, so the newest
    naming wins when a span carries several.

    Conversions are exact: token counts are accepted as integers, as floats holding
    integral values (pandas turns integer columns with nulls into float64) and as decimal
    strings (``"12"``, or ``"12.0"`` as polars writes a float); times to first token as
    numbers or numeric strings (seconds); ``streaming`` as booleans or the strings
    ``true``/``false`` (any case); ``finish_reason`` from a list of strings, a JSON array
    text (``'["stop"]'``) or a single string.

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
    """
    _check_field(field, "resolve")
    _check_backend(backend, "resolve")
    result = _resolve(to_polars(frame, parameter="frame", function="resolve"), field)
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


def operation(frame: Any, *, backend: Literal["polars", "pandas"] = "polars") -> Any:
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
    _check_backend(backend, "operation")
    result = _operation(to_polars(frame, parameter="frame", function="operation"))
    return result.to_pandas() if backend == "pandas" else result


def _check_operations(operations: Collection[str] | None, function: str) -> frozenset[str]:
    if operations is None:
        return MODEL_OPERATIONS
    if (
        isinstance(operations, str | bytes)
        or not isinstance(operations, Collection)
        or not all(isinstance(o, str) for o in operations)
    ):
        raise ParameterError(
            f"The 'operations' parameter of {function} must be None or a collection of "
            f"operation names such as {{'chat', 'embeddings'}}. Got {preview(operations)} "
            "instead."
        )
    return frozenset(operations)


def _is_llm_span(df: pl.DataFrame, operations: Collection[str] | None) -> pl.Series:
    ops = _check_operations(operations, "is_llm_span")
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


def is_llm_span(
    frame: Any,
    operations: Collection[str] | None = None,
    *,
    backend: Literal["polars", "pandas"] = "polars",
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
    _check_backend(backend, "is_llm_span")
    result = _is_llm_span(to_polars(frame, parameter="frame", function="is_llm_span"), operations)
    return result.to_pandas() if backend == "pandas" else result
