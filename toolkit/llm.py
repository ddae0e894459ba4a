"""From spans to the ``llm_calls`` table: one row per call to a model.

:func:`llm_calls` selects the model-call spans of a spans table (any source format) and reads
their GenAI attributes through :mod:`toolkit.semconv`, so spans written under any released
naming of the OpenTelemetry GenAI conventions, or under OpenInference's, give the same table.

Examples
--------
>>> import polars as pl
>>> from toolkit.llm import llm_calls
>>> from toolkit.schema import SPANS, TIME
>>> spans = pl.concat([SPANS.empty(), pl.DataFrame({
...     "trace_id": ["4bf92f3577b34da6a3ce929d0e0e4736"], "span_id": ["00f067aa0ba902b7"],
...     "start_time": pl.Series([0]).cast(TIME), "duration_ms": [1500.0],
...     "status_code": ["ok"],
...     "attributes.gen_ai.operation.name": ["chat"],
...     "attributes.gen_ai.usage.input_tokens": [120],
...     "attributes.gen_ai.usage.output_tokens": [31],
...     "attributes.gen_ai.response.time_to_first_chunk": [0.3],
... })], how="diagonal")
>>> llm_calls(spans).select("input_tokens", "latency_s", "ttft_s", "tpot_s", "streaming")
shape: (1, 5)
┌──────────────┬───────────┬────────┬────────┬───────────┐
│ input_tokens ┆ latency_s ┆ ttft_s ┆ tpot_s ┆ streaming │
│ ---          ┆ ---       ┆ ---    ┆ ---    ┆ ---       │
│ i64          ┆ f64       ┆ f64    ┆ f64    ┆ bool      │
╞══════════════╪═══════════╪════════╪════════╪═══════════╡
│ 120          ┆ 1.5       ┆ 0.3    ┆ 0.04   ┆ true      │
└──────────────┴───────────┴────────┴────────┴───────────┘
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Mapping
from typing import Any

import polars as pl

from toolkit._validation import BACKEND, Backend, Frame, frame_in, frame_out, validate_params
from toolkit.errors import SchemaError, preview
from toolkit.schema import LLM_CALLS, LOGS, SPANS, TIME, validate
from toolkit.semconv import (
    _OPERATIONS,
    ALIASES,
    ATTRIBUTE_PREFIX,
    CHOICE_EVENT,
    CONSUMED_KEYS,
    CONTENT_DETAILS_EVENT,
    EVALUATION_EVENT,
    EVALUATION_NAME,
    EVALUATION_SCORE_LABEL,
    EVALUATION_SCORE_VALUE,
    EXCEPTION_EVENT,
    EXCEPTION_TYPE,
    FIRST_TOKEN_EVENTS,
    INPUT_MESSAGES,
    MESSAGE_EVENTS,
    OUTPUT_MESSAGES,
    SERVER_TTFT_KEYS,
    _error_classes,
    _finish_reasons,
    _is_llm_span,
    _operation,
    _resolve,
    attribute_column,
)

__all__ = ["llm_calls"]

_ROW = "_llm_row"
_CLIENT_TTFT_KEYS = tuple(k for k in ALIASES["ttft_s"] if k not in SERVER_TTFT_KEYS)


def _json_field(key: str) -> pl.Expr:
    return pl.col("attributes").str.json_path_match(f"$['{key}']")


def _events_long(calls: pl.DataFrame) -> pl.DataFrame:
    """One row per event of the selected spans: row index, time, name, attributes."""
    schema: dict[str, pl.DataType] = {
        _ROW: pl.UInt32(),
        "time": TIME,
        "name": pl.String(),
        "attributes": pl.String(),
    }
    if calls.schema["events"] == pl.Null or calls.height == 0:
        return pl.DataFrame(schema=schema)
    return (
        calls.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias(_ROW), "events")
        .explode("events")
        .filter(pl.col("events").is_not_null())
        .unnest("events")
        .select(_ROW, "time", "name", "attributes")
    )


def _first_token_ttft(calls: pl.DataFrame, events: pl.DataFrame) -> pl.Series:
    """Seconds from span start to the earliest first-token event, per selected span."""
    first = (
        events.filter(pl.col("name").is_in(FIRST_TOKEN_EVENTS) & pl.col("time").is_not_null())
        .group_by(_ROW)
        .agg(pl.col("time").min().alias("_first"))
    )
    base = calls.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias(_ROW), "start_time")
    joined = base.join(first, on=_ROW, how="left", maintain_order="left")
    return joined.select(
        ((pl.col("_first") - pl.col("start_time")).dt.total_nanoseconds() / 1e9).alias("ttft")
    ).to_series()


def _exception_types(calls: pl.DataFrame, events: pl.DataFrame) -> pl.Series:
    """Class name of the last ``exception`` event's ``exception.type``, per selected span."""
    last = (
        events.filter(pl.col("name") == EXCEPTION_EVENT)
        .select(_ROW, _json_field(EXCEPTION_TYPE).alias("_exception"))
        .filter(pl.col("_exception").is_not_null())
        .group_by(_ROW)
        .agg(pl.col("_exception").last())
    )
    base = calls.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias(_ROW))
    joined = base.join(last, on=_ROW, how="left", maintain_order="left")
    return _error_classes(joined["_exception"])


# --- message contents from log events --------------------------------------------------------

_CONTENT_SCHEMA: dict[str, pl.DataType] = {
    "span_id": pl.String(),
    "_input": pl.String(),
    "_output": pl.String(),
    "_finish": pl.String(),
}


def _json_object(text: str | None) -> dict[str, Any]:
    """A log body as a JSON object; a body that is not one is the content of a message."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"content": text}
    return value if isinstance(value, dict) else {"content": value}


def _parts(role: str, message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The parts (current conventions) of a message body of the older conventions."""
    parts: list[dict[str, Any]] = []
    content = message.get("content")
    if isinstance(content, list):  # OpenAI content parts: [{"type": "text", "text": ...}]
        for item in content:
            if isinstance(item, Mapping) and item.get("type") == "text":
                parts.append({"type": "text", "content": item.get("text")})
            else:
                parts.append(item if isinstance(item, dict) else {"type": "text", "content": item})
    elif content not in (None, ""):
        if role == "tool":
            parts.append(
                {"type": "tool_call_response", "id": message.get("id"), "response": content}
            )
        else:
            parts.append({"type": "text", "content": content})
    for call in message.get("tool_calls") or []:
        if not isinstance(call, Mapping):
            continue
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            with contextlib.suppress(ValueError):
                arguments = json.loads(arguments)
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": arguments,
            }
        )
    return parts


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _log_contents(logs: Any) -> pl.DataFrame:
    """Message contents per span id from GenAI content log events.

    ``gen_ai.client.inference.operation.details`` events give their input and output
    message attributes as written; the older per-message events (``gen_ai.user.message``
    ..., in time order) and ``gen_ai.choice`` events (by index) are rewritten as messages of
    the current conventions. The finish reason is that of the first choice.
    """
    df = validate(logs, LOGS)
    names = [pl.col(c) for c in ("event_name", attribute_column("event.name")) if c in df.columns]
    if not names or df.height == 0:
        return pl.DataFrame(schema=_CONTENT_SCHEMA)
    wanted = [CONTENT_DETAILS_EVENT, CHOICE_EVENT, *MESSAGE_EVENTS]
    df = df.with_columns(pl.coalesce(names).alias("_event")).filter(
        pl.col("_event").is_in(wanted) & pl.col("span_id").is_not_null()
    )
    if df.height == 0:
        return pl.DataFrame(schema=_CONTENT_SCHEMA)
    finish_reasons = _resolve(df, "finish_reason")
    texts = {
        key: (
            df[attribute_column(key)].cast(pl.String)
            if attribute_column(key) in df.columns
            else pl.Series([None] * df.height, dtype=pl.String)
        )
        for key in (INPUT_MESSAGES, OUTPUT_MESSAGES)
    }
    rows = pl.DataFrame(
        {
            "span_id": df["span_id"],
            "_time": df["time"],
            "_event": df["_event"],
            "_body": df["body"],
            "_in": texts[INPUT_MESSAGES],
            "_out": texts[OUTPUT_MESSAGES],
            "_finish": finish_reasons,
        }
    ).with_row_index("_order")
    spans: dict[str, dict[str, Any]] = {}
    for row in rows.sort("span_id", "_time", "_order", nulls_last=True).iter_rows(named=True):
        span = spans.setdefault(
            row["span_id"],
            {"input": None, "output": None, "finish": None, "messages": [], "choices": []},
        )
        event = row["_event"]
        if event == CONTENT_DETAILS_EVENT:
            span["input"] = row["_in"] or span["input"]
            span["output"] = row["_out"] or span["output"]
            span["finish"] = row["_finish"] or span["finish"]
        elif event == CHOICE_EVENT:
            body = _json_object(row["_body"])
            message = body.get("message")
            message = message if isinstance(message, Mapping) else {}
            role = str(message.get("role") or "assistant")
            index = body.get("index")
            span["choices"].append(
                (
                    index if isinstance(index, int) else len(span["choices"]),
                    {
                        "role": role,
                        "parts": _parts(role, message),
                        "finish_reason": body.get("finish_reason"),
                    },
                )
            )
        else:
            role = MESSAGE_EVENTS[event]
            body = _json_object(row["_body"])
            span["messages"].append({"role": role, "parts": _parts(role, body)})
    out: dict[str, list[Any]] = {k: [] for k in _CONTENT_SCHEMA}
    for span_id, span in spans.items():
        choices = [c for _, c in sorted(span["choices"], key=lambda c: c[0])]
        finish = span["finish"]
        if finish is None and choices and isinstance(choices[0]["finish_reason"], str):
            finish = choices[0]["finish_reason"]
        out["span_id"].append(span_id)
        out["_input"].append(
            span["input"] or (_dumps(span["messages"]) if span["messages"] else None)
        )
        out["_output"].append(span["output"] or (_dumps(choices) if choices else None))
        out["_finish"].append(finish)
    contents = pl.DataFrame(out, schema=_CONTENT_SCHEMA)
    return contents.with_columns(_finish_reasons(contents["_finish"]).alias("_finish"))


def _span_where(calls: pl.DataFrame, row: int) -> str:
    return f"span {calls['span_id'][row]} (trace {calls['trace_id'][row]})"


def _evaluations(calls: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """``eval.<name>`` (Float64) and ``eval.<name>.label`` (String) columns, one row per call.

    The last result of a name on a span wins.
    """
    results = events.filter(pl.col("name") == EVALUATION_EVENT).select(
        _ROW,
        "attributes",
        _json_field(EVALUATION_NAME).alias("_name"),
        _json_field(EVALUATION_SCORE_VALUE).alias("_raw_score"),
        _json_field(EVALUATION_SCORE_LABEL).alias("_label"),
    )
    out = calls.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias(_ROW))
    if results.height == 0:
        return out
    unnamed = results.filter(pl.col("_name").is_null())
    if unnamed.height:
        row = int(unnamed[_ROW][0])
        raise SchemaError(
            f"Column 'events' of {_span_where(calls, row)} holds a {EVALUATION_EVENT!r} event "
            f"without a {EVALUATION_NAME!r} attribute: {preview(unnamed['attributes'][0])}; "
            "expected a JSON object naming the evaluation."
        )
    results = results.with_columns(
        pl.col("_raw_score").cast(pl.Float64, strict=False).alias("_score")
    )
    bad = results.filter(pl.col("_raw_score").is_not_null() & pl.col("_score").is_null())
    if bad.height:
        row = int(bad[_ROW][0])
        raise SchemaError(
            f"Column 'events' of {_span_where(calls, row)} holds a {EVALUATION_EVENT!r} event "
            f"whose {EVALUATION_SCORE_VALUE!r} is {preview(bad['_raw_score'][0])}; "
            "expected a number."
        )
    last = results.group_by(_ROW, "_name", maintain_order=True).agg(
        pl.col("_score").last(), pl.col("_label").last()
    )
    names = sorted(last["_name"].unique().to_list())
    columns: list[str] = []
    for name in names:
        one = last.filter(pl.col("_name") == name)
        picked = [pl.col("_score").alias(f"eval.{name}")]
        if one["_label"].is_not_null().any():
            picked.append(pl.col("_label").alias(f"eval.{name}.label"))
        for c in picked:
            column = c.meta.output_name()
            if column in columns:
                raise SchemaError(
                    f"Evaluation names give the column {column!r} twice (a score and a "
                    "label); rename one evaluation."
                )
            columns.append(column)
        out = out.join(one.select(_ROW, *picked), on=_ROW, how="left", maintain_order="left")
    return out


_EVENTS_FROM_PANDAS = pl.List(
    pl.Struct({"time": pl.Int64, "name": pl.String, "attributes": pl.String})
)


def _from_frame(spans: Any) -> pl.DataFrame:
    """The spans as polars; a pandas frame's event times are restored to Datetime.

    ``polars.DataFrame.to_pandas`` writes datetimes nested in the ``events`` structs as
    integer nanoseconds since the epoch (UTC), so a spans table returned with
    ``backend="pandas"`` comes back with Int64 event times: they are cast back exactly.
    """
    df = frame_in(spans, parameter="spans")
    from_pandas = type(spans).__module__.startswith("pandas")
    if from_pandas and df.schema.get("events") == _EVENTS_FROM_PANDAS:
        df = df.with_columns(pl.col("events").cast(SPANS.schema["events"]))
    return df


def _join_contents(table: pl.DataFrame, calls: pl.DataFrame, logs: Any) -> pl.DataFrame:
    """``input_messages`` / ``output_messages`` from the logs (else the span), finish reasons."""
    contents = _log_contents(logs)
    joined = table.select("span_id").join(contents, on="span_id", how="left", maintain_order="left")
    own = {
        key: (
            calls[attribute_column(key)].cast(pl.String)
            if attribute_column(key) in calls.columns
            else pl.Series([None] * calls.height, dtype=pl.String)
        )
        for key in (INPUT_MESSAGES, OUTPUT_MESSAGES)
    }
    return table.with_columns(
        pl.coalesce(pl.lit(joined["_input"]), pl.lit(own[INPUT_MESSAGES])).alias("input_messages"),
        pl.coalesce(pl.lit(joined["_output"]), pl.lit(own[OUTPUT_MESSAGES])).alias(
            "output_messages"
        ),
        pl.coalesce(pl.col("finish_reason"), pl.lit(joined["_finish"])).alias("finish_reason"),
    )


@validate_params(operations=_OPERATIONS, logs=[Frame(), None], backend=BACKEND)
def llm_calls(
    spans: Any,
    *,
    operations: Collection[str] | None = None,
    logs: Any = None,
    backend: Backend = "polars",
) -> Any:
    """Return the ``llm_calls`` table: one row per model-call span.

    The model calls are the spans that :func:`toolkit.semconv.is_llm_span` selects: those
    whose ``gen_ai.operation.name`` is a model operation (chat, generate_content,
    text_completion, embeddings, call_llm), OpenInference ``LLM``/``EMBEDDING`` spans, and
    spans without either that carry token usage (older servers such as vLLM). Agent, tool,
    workflow and retrieval spans are not calls. Fields are read through
    :data:`toolkit.semconv.ALIASES`, newest naming first.

    Columns (``toolkit.schema.LLM_CALLS``):

    - ``trace_id``, ``span_id``, ``start_time``, ``service_name`` from the span;
      ``operation`` from :func:`toolkit.semconv.operation`.
    - ``provider``, ``request_model``, ``response_model``: null when the span does not say
      (a missing response model is not filled with the request model).
    - ``input_tokens``, ``output_tokens``, ``cached_input_tokens``, ``reasoning_tokens``
      (Int64, converted exactly from integer, float or string attributes).
    - ``latency_s`` = ``duration_ms`` / 1000.
    - ``ttft_s``: the first of the time-to-first-token attributes (seconds), else the time
      from the span start to its earliest first-token event
      (:data:`toolkit.semconv.FIRST_TOKEN_EVENTS`).
    - ``tpot_s`` = (``latency_s`` - ``ttft_s``) / (``output_tokens`` - 1) when
      ``ttft_s`` is known and ``output_tokens`` > 1; null otherwise.
    - ``output_tokens`` of an ``embeddings`` call is null, never 0: an embedding model
      generates no tokens, and a 0 written by an instrumentation is not a count.
    - ``finish_reason``: the first of ``gen_ai.response.finish_reasons``, else the first
      output message's (``gen_ai.output.messages``), else OpenInference's
      ``llm.finish_reason``; with ``logs``, else the one in the call's content events. The
      conventions' value ``error`` on a failed call is null (the model did not finish;
      ``is_error`` says the call failed).
    - ``error_type``: the class name (:func:`toolkit.semconv.error_class`) of
      ``error.type``; else, when the span status is error, of the last ``exception``
      event's ``exception.type`` (OpenInference), else the literal ``"error"`` (status
      messages are free text, kept out of this low-cardinality column).
    - ``is_error``: ``error_type`` is not null (so status error or ``error.type`` set).
    - ``streaming``: ``gen_ai.request.stream`` (or OpenLLMetry's ``gen_ai.is_streaming`` /
      ``llm.is_streaming``, or the ``stream`` of OpenInference's invocation parameters,
      false when they have none); else true when a client-side first-chunk time exists (an
      attribute other than the server-side :data:`toolkit.semconv.SERVER_TTFT_KEYS`, or a
      first-token event); else null.
    - With ``logs`` only, ``input_messages`` and ``output_messages`` (String, JSON arrays
      of messages in the current conventions' form ``{"role", "parts": [...]}``, output
      messages with ``finish_reason``): from the content log events with the call's span
      id (``gen_ai.client.inference.operation.details``, or the older per-message events
      ``gen_ai.system.message``, ``gen_ai.user.message``, ``gen_ai.assistant.message``,
      ``gen_ai.tool.message`` and ``gen_ai.choice``, rewritten in that form), else the
      span's own ``gen_ai.input.messages`` / ``gen_ai.output.messages``; null without any.
    - ``eval.<name>`` (Float64) from the span's ``gen_ai.evaluation.result`` events
      (``gen_ai.evaluation.score.value``, named by ``gen_ai.evaluation.name``), with
      ``eval.<name>.label`` (String) when any such result has a label; the last result of
      a name on a span wins. Columns are sorted by name.
    - Dimensions: every ``attributes.<key>`` column whose key is not read into a canonical
      column (:data:`toolkit.semconv.CONSUMED_KEYS`), then every ``resource.<key>`` column,
      unchanged and in input order.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        A spans table (``toolkit.schema.SPANS``).
    operations : collection of str, optional
        Operation names that count as model calls, replacing
        :data:`toolkit.semconv.MODEL_OPERATIONS` (OpenInference ``LLM`` spans are ``chat``,
        ``EMBEDDING`` spans ``embeddings``); spans without an operation are then left out.
    logs : polars.DataFrame or pandas.DataFrame, optional
        A logs table (``toolkit.schema.LOGS``, e.g. from :func:`toolkit.load_logs`) whose
        GenAI content events are joined to the calls by span id, adding ``input_messages``
        and ``output_messages`` and filling missing finish reasons. Without it the table
        has neither column.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The llm_calls table, in span order; validates against ``LLM_CALLS``.

    Raises
    ------
    SchemaError
        If ``spans`` is not a spans table (or ``logs`` not a logs table), or a call's
        attribute cannot be converted exactly
        (the message names the column, the row and the span), or an evaluation event has no
        name or a non-numeric score.
    ParameterError
        If ``operations`` or ``backend`` is not valid.

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.schema import SPANS, TIME
    >>> spans = pl.concat([SPANS.empty(), pl.DataFrame({
    ...     "trace_id": ["4bf92f3577b34da6a3ce929d0e0e4736"] * 2,
    ...     "span_id": ["00f067aa0ba902b7", "00f067aa0ba902b8"],
    ...     "start_time": pl.Series([0, 0]).cast(TIME), "duration_ms": [2000.0, 5.0],
    ...     "status_code": ["error", "ok"],
    ...     "attributes.gen_ai.operation.name": ["chat", "execute_tool"],
    ...     "attributes.gen_ai.system": ["openai", None],
    ...     "attributes.gen_ai.request.model": ["gpt-4o", None],
    ...     "attributes.user.tier": ["pro", "pro"],
    ... })], how="diagonal")
    >>> calls = llm_calls(spans)
    >>> calls.select("provider", "request_model", "response_model", "latency_s",
    ...              "error_type", "is_error", "attributes.user.tier").row(0)
    ('openai', 'gpt-4o', None, 2.0, 'error', True, 'pro')

    Content events in the logs are joined by span id:

    >>> from toolkit.schema import LOGS
    >>> logs = pl.concat([LOGS.empty(), pl.DataFrame({
    ...     "time": pl.Series([0, 1]).cast(TIME), "span_id": ["00f067aa0ba902b7"] * 2,
    ...     "event_name": ["gen_ai.user.message", "gen_ai.choice"],
    ...     "body": ['{"content": "Hi"}',
    ...              '{"index": 0, "finish_reason": "stop", "message": {"content": "Hello"}}'],
    ... })], how="diagonal")
    >>> row = llm_calls(spans, logs=logs).row(0, named=True)
    >>> row["input_messages"]
    '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]'
    >>> row["finish_reason"]
    'stop'
    """
    df = validate(_from_frame(spans), SPANS)
    calls = df.filter(_is_llm_span(df, operations))

    fields = {f: _resolve(calls, f) for f in ALIASES if f != "operation"}
    events = _events_long(calls)
    exception_type = _exception_types(calls, events)
    event_ttft = _first_token_ttft(calls, events)
    client_ttft = _resolve(calls, "ttft_s", _CLIENT_TTFT_KEYS)
    ttft = pl.select(pl.coalesce(fields["ttft_s"], event_ttft)).to_series()
    first_chunk_seen = client_ttft.is_not_null() | event_ttft.is_not_null()

    latency = pl.col("duration_ms") / 1000.0
    out_tokens = pl.col("output_tokens")
    table = calls.select(
        "trace_id",
        "span_id",
        "start_time",
        "service_name",
        _operation(calls),
        fields["provider"],
        fields["request_model"],
        fields["response_model"],
        fields["input_tokens"],
        fields["output_tokens"],
        fields["cached_input_tokens"],
        fields["reasoning_tokens"],
        latency.alias("latency_s"),
        ttft.alias("ttft_s"),
        pl.lit(None, pl.Float64).alias("tpot_s"),
        fields["finish_reason"],
        pl.coalesce(
            pl.lit(fields["error_type"]),
            pl.when(pl.col("status_code") == "error").then(
                pl.coalesce(pl.lit(exception_type), pl.lit("error"))
            ),
        ).alias("error_type"),
        pl.lit(None, pl.Boolean).alias("is_error"),
        pl.coalesce(
            pl.lit(fields["streaming"]), pl.when(pl.lit(first_chunk_seen)).then(pl.lit(True))
        ).alias("streaming"),
    ).with_columns(
        pl.when((pl.col("operation") == "embeddings") & (out_tokens == 0))
        .then(None)
        .otherwise(out_tokens)
        .alias("output_tokens"),
    )
    if logs is not None:
        table = _join_contents(table, calls, logs)
    table = table.with_columns(
        pl.when(out_tokens > 1)
        .then((pl.col("latency_s") - pl.col("ttft_s")) / (out_tokens - 1))
        .alias("tpot_s"),
        pl.col("error_type").is_not_null().alias("is_error"),
    ).with_columns(
        pl.when(pl.col("is_error") & (pl.col("finish_reason") == "error"))
        .then(None)
        .otherwise(pl.col("finish_reason"))
        .alias("finish_reason")
    )

    evals = _evaluations(calls, events).drop(_ROW)
    dimensions = [
        c
        for c in calls.columns
        if c.startswith(ATTRIBUTE_PREFIX) and c[len(ATTRIBUTE_PREFIX) :] not in CONSUMED_KEYS
    ] + [c for c in calls.columns if c.startswith("resource.")]
    result = pl.concat([table, evals, calls.select(dimensions)], how="horizontal")
    validate(result, LLM_CALLS)
    return frame_out(result, backend)
