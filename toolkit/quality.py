"""Answer-quality and hallucination signals computed offline from traces.

No model is called: every signal is read or computed from what the spans already hold.

:func:`signals` returns one row per model call with:

- ``question`` / ``answer``: the text parts of ``gen_ai.input.messages`` (user messages) and
  ``gen_ai.output.messages`` (assistant messages), joined with a blank line; null when the
  span does not record content (the GenAI conventions make content opt-in).
- ``retrieval``: ``"ok"`` (the trace has a retrieval span whose
  ``gen_ai.retrieval.documents`` hold text), ``"empty"`` (a retrieval span whose documents are
  an empty list or hold no text), ``"missing"`` (a retrieval span without the documents
  attribute: not recorded, or the retrieval failed), ``"none"`` (no retrieval span in the
  trace: not a retrieval-augmented call). ``documents`` counts the documents.
- ``word_support``: the share of the answer's content words (letters or numbers, lowercased,
  stop words left out) that occur in the retrieved documents (their ``content`` and ``id``:
  a citation of a retrieved document counts as supported).
- ``fact_support``: the same share over the answer's *facts*: numbers (``1,000`` is read as
  ``1000``) and names (capitalised words that are not stop words). Null when the answer
  states no fact.
- ``groundedness`` = ``word_support`` x ``fact_support`` (``fact_support`` counted as 1 when
  the answer states no fact): 1 for an answer whose every word and fact is in the documents;
  an answer with one wrong number out of two facts scores at most 0.5. Null when there is no
  answer, no retrieved text, or no content word.
- ``refusal``: the finish reason is ``content_filter``, or the answer opens with a refusal
  phrase (:data:`REFUSAL_PATTERN`: "I can't / cannot / won't help", "I'm sorry, but",
  "As an AI" ...).
- ``truncated``: the finish reason is ``length`` (the answer hit ``max_tokens``).
- ``eval.<name>``: evaluation scores recorded on the span (``gen_ai.evaluation.result``
  events), passed through from :func:`toolkit.llm_calls`.
- ``ungrounded``: ``groundedness`` < ``threshold``.
- ``hallucination_risk``: for retrieval-augmented calls (``retrieval`` not ``"none"``) that
  returned an answer and neither failed nor refused: the retrieval is empty or missing, or the
  answer is ungrounded. Null for the other calls (nothing to check the answer against).

Limits, to keep in mind when reading the numbers:

- The word and fact matching is lexical: a paraphrase ("two years" for "24 months"), a unit
  conversion or a translation counts as unsupported, and a wrong statement built from words
  of the documents counts as supported. It catches answers that state facts absent from the
  context (the usual symptom of a stale or wrong index), not subtle reasoning errors.
- The stop-word list (:data:`STOP_WORDS`) and refusal phrases are English; in other languages
  more function words count as content words (scores are lower) and refusals are only found
  through the finish reason.
- Names are found by capitalisation, which does not exist in many scripts.
- The documents of every retrieval span in the trace are the context of every call of the
  trace.

Calibration on the sample week (``data/sample``, 3,722 rag-qa answers): grounded answers
score 1.0 and answers with an invented value 0.4 or less, so any threshold between them
separates them; the default ``threshold=0.75`` agrees with the recorded
``eval.groundedness`` labels (score >= 0.5) on every evaluated answer. On your own data,
compare ``groundedness`` with an evaluator's labels on a few hundred answers before
trusting the threshold.

Examples
--------
>>> from toolkit.quality import groundedness
>>> groundedness(["The Atlas router weighs 12 kg.", "The Atlas router weighs 99 kg."],
...              ["The weight of the Atlas router is 12 kg."] * 2).to_list()
[0.8, 0.3]
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Duration,
    Frame,
    InstanceOf,
    Interval,
    Names,
    OneOf,
    UTCTime,
    caller,
    frame_out,
    polars_duration,
    reject,
    validate_params,
)
from toolkit._validation import time_column as time_column_of
from toolkit.errors import ParameterError, SchemaError, preview
from toolkit.llm import llm_calls

__all__ = [
    "REFUSAL_PATTERN",
    "STOP_WORDS",
    "EvaluationScope",
    "evaluation_scope",
    "groundedness",
    "message_text",
    "risk_rate",
    "signals",
]

#: English function words left out of the content words (lowercase).
STOP_WORDS: frozenset[str] = frozenset(
    """
    a an the of to in on at by for from with and or but nor not no is are was were be been
    being am do does did has have had it its this that these those there here as if then
    than so such into onto about over under per via i you he she we they me him her us them
    my your his our their what which who whom whose when where why how can could will would
    shall should may might must also just only very according based source sources document
    documents
    """.split()  # noqa: SIM905 - a word list reads better as text
)

#: Case-insensitive regex of refusal openings (English), matched at the answer's start.
REFUSAL_PATTERN = (
    r"(?i)^\W*(?:i(?:'|’)?m sorry|i am sorry|sorry,|i (?:can(?:'|’)?t|cannot|can not|won(?:'|’)?t|"
    r"am unable to|(?:'|’)?m unable to|am not able to|(?:'|’)?m not able to)\b|"
    r"as an ai\b|unfortunately,? i (?:can(?:'|’)?t|cannot))"
)

_WORD = r"[\p{L}\p{M}]+|\p{N}+(?:[.,]\p{N}+)*"
_NAME = r"\p{Lu}[\p{L}\p{M}]+"
_NUMBER = r"^\p{N}+(?:[.,]\p{N}+)*$"
_MESSAGES = pl.List(
    pl.Struct(
        {
            "role": pl.String,
            "parts": pl.List(pl.Struct({"type": pl.String, "content": pl.String})),
        }
    )
)
_DOCUMENTS = pl.List(pl.Struct({"id": pl.String, "content": pl.String}))
_INPUT = "attributes.gen_ai.input.messages"
_OUTPUT = "attributes.gen_ai.output.messages"
_DOCS = "attributes.gen_ai.retrieval.documents"
_OPERATION = "attributes.gen_ai.operation.name"
_ROW = "_row"


def _locate_bad_json(values: pl.Series, where: pl.Series, column: str, expected: str) -> None:
    """Raise a SchemaError naming the first value that is not the expected JSON shape."""
    for i, text in enumerate(values.to_list()):
        if text is None:
            continue
        try:
            parsed = json.loads(text)
            ok = isinstance(parsed, list) and all(isinstance(p, dict) for p in parsed)
        except ValueError:
            ok = False
        if not ok:
            raise SchemaError(
                f"Column {column!r} of {where[i]} holds {preview(text)}; expected {expected}."
            )


def _decode(
    values: pl.Series, dtype: pl.DataType, where: pl.Series, column: str, expected: str
) -> pl.Series:
    """Decode JSON texts with an explicit dtype; a value of another shape raises SchemaError."""
    try:
        return values.str.json_decode(dtype)
    except pl.exceptions.ComputeError:
        _locate_bad_json(values, where, column, expected)
        raise  # pragma: no cover - polars refused a value that json accepts


def message_text(
    messages: Any,
    *,
    roles: Sequence[str] | None = None,
    column: str = "messages",
    where: pl.Series | None = None,
) -> pl.Series:
    """Text of GenAI message lists (``gen_ai.input.messages`` / ``gen_ai.output.messages``).

    Each value is the JSON of the OpenTelemetry GenAI conventions: a list of messages
    ``{"role": ..., "parts": [{"type": "text", "content": ...}, ...]}``. The ``content`` of
    the text parts (of the messages whose role is in ``roles``) are joined with a blank line.

    Parameters
    ----------
    messages : polars.Series or sequence of str or None
        One JSON text per call; null stays null.
    roles : sequence of str, optional
        Roles kept (``["user"]``, ``["assistant"]``); all by default.
    column : str, default "messages"
        Name used in error messages and for the returned Series.
    where : polars.Series, optional
        How to name each value in an error message (``"span ... (trace ...)"``); by
        default ``"row <i>"``.

    Returns
    -------
    polars.Series
        String, null where the value is null or holds no text part.

    Raises
    ------
    SchemaError
        If a value is not a JSON list of objects (the message quotes it, bounded).

    Examples
    --------
    >>> message_text(['[{"role":"user","parts":[{"type":"text","content":"Hi?"}]}]', None]
    ...              ).to_list()
    ['Hi?', None]
    """
    series = messages if isinstance(messages, pl.Series) else pl.Series(column, list(messages))
    series = series.cast(pl.String)
    if where is None:
        where = pl.select(pl.format("row {}", pl.int_range(series.len()))).to_series()
    expected = "a JSON list of GenAI messages"
    decoded = _decode(series, _MESSAGES, where, column, expected)
    frame = pl.DataFrame({_ROW: pl.int_range(series.len(), eager=True), "m": decoded})
    long = frame.explode("m").unnest("m")
    if roles is not None:
        long = long.filter(pl.col("role").is_in(list(roles)))
    parts = long.explode("parts").unnest("parts")
    texts = (
        parts.filter(
            (pl.col("type").is_null() | (pl.col("type") == "text"))
            & pl.col("content").is_not_null()
        )
        .group_by(_ROW, maintain_order=True)
        .agg(pl.col("content").str.join("\n\n"))
    )
    out = frame.select(_ROW).join(texts, on=_ROW, how="left", maintain_order="left")
    return out["content"].alias(column)


def _tokens(text: pl.Expr) -> pl.Expr:
    """Lowercased words and numbers (thousands separators removed from numbers)."""
    return (
        text.str.replace_all(r"(\p{N}),(\p{N}{3})", "$1$2")
        .str.to_lowercase()
        .str.extract_all(_WORD)
    )


def _support(answers: pl.DataFrame, contexts: pl.DataFrame) -> pl.DataFrame:
    """``word_support``, ``fact_support`` and ``groundedness`` per ``_row`` of ``answers``.

    ``answers``: ``_row``, ``_key``, ``answer``; ``contexts``: ``_key``, ``context`` (one or
    more rows per key).
    """
    vocab = (
        contexts.select("_key", _tokens(pl.col("context")).alias("token"))
        .explode("token")
        .drop_nulls("token")
        .unique()
        .with_columns(pl.lit(True).alias("_in"))
    )
    words = (
        answers.select(_ROW, "_key", _tokens(pl.col("answer")).alias("token"))
        .explode("token")
        .drop_nulls("token")
        .filter(~pl.col("token").is_in(list(STOP_WORDS)))
    )
    names = (
        answers.select(
            _ROW,
            "_key",
            pl.col("answer").str.extract_all(_NAME).alias("token"),
        )
        .explode("token")
        .drop_nulls("token")
        .with_columns(pl.col("token").str.to_lowercase())
        .filter(~pl.col("token").is_in(list(STOP_WORDS)))
    )
    facts = pl.concat([words.filter(pl.col("token").str.contains(_NUMBER)), names])

    def share(tokens: pl.DataFrame, name: str) -> pl.DataFrame:
        return (
            tokens.join(vocab, on=["_key", "token"], how="left")
            .group_by(_ROW)
            .agg(pl.col("_in").fill_null(False).mean().alias(name))
        )

    out = (
        answers.select(_ROW)
        .join(share(words, "word_support"), on=_ROW, how="left", maintain_order="left")
        .join(share(facts, "fact_support"), on=_ROW, how="left", maintain_order="left")
    )
    return out.with_columns(
        (pl.col("word_support") * pl.col("fact_support").fill_null(1.0)).alias("groundedness")
    )


@validate_params()
def groundedness(answers: Sequence[str | None], contexts: Sequence[str | None]) -> pl.Series:
    """Groundedness (0..1) of each answer against its context text.

    ``word_support`` x ``fact_support`` as described in the module documentation: the share of
    the answer's content words found in the context, times the share of its numbers and names
    found there.

    Parameters
    ----------
    answers : sequence of str or None
    contexts : sequence of str or None
        The retrieved text of each answer, same length.

    Returns
    -------
    polars.Series
        Float64 named ``groundedness``; null where the answer or the context is null or empty,
        or the answer has no content word.

    Examples
    --------
    >>> groundedness(["Paris is the capital of France."],
    ...              ["France's capital is Paris."]).to_list()
    [1.0]
    """
    answer_list, context_list = list(answers), list(contexts)
    if len(answer_list) != len(context_list):
        raise reject(
            "contexts", f"have one text per answer ({len(answer_list)})", len(context_list)
        )
    keys = pl.int_range(len(answer_list), eager=True, dtype=pl.Int64)
    ans = pl.DataFrame(
        {_ROW: keys, "_key": keys, "answer": pl.Series(answer_list, dtype=pl.String)}
    )
    ctx = pl.DataFrame({"_key": keys, "context": pl.Series(context_list, dtype=pl.String)})
    has_context = ctx["context"].str.contains(r"[\p{L}\p{N}]").fill_null(False)
    out = _support(ans.filter(pl.col("answer").is_not_null()), ctx.filter(has_context))
    full = ans.select(_ROW).join(out, on=_ROW, how="left", maintain_order="left")
    return pl.select(
        pl.when(pl.lit(has_context)).then(full["groundedness"]).alias("groundedness")
    ).to_series()


def _span_where(frame: pl.DataFrame) -> pl.Series:
    return frame.select(
        pl.format("span {} (trace {})", pl.col("span_id"), pl.col("trace_id"))
    ).to_series()


@validate_params(spans=Frame(), threshold=Interval(float, 0, 1), backend=BACKEND)
def signals(
    spans: Any,
    *,
    threshold: float = 0.75,
    backend: Backend = "polars",
) -> Any:
    """Per-call quality signals: groundedness, refusal, retrieval, truncation, evaluations.

    Parameters
    ----------
    spans : polars.DataFrame or pandas.DataFrame
        A spans table (``toolkit.schema.SPANS``): the model-call spans and, in the same
        traces, the retrieval spans (``gen_ai.operation.name`` = ``retrieval``, or a
        ``gen_ai.retrieval.documents`` attribute).
    threshold : float, default 0.75
        ``groundedness`` below it marks an answer ``ungrounded`` (calibrated on the sample:
        see the module documentation).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per model call (as :func:`toolkit.llm_calls`, in its order): ``trace_id``,
        ``span_id``, ``start_time``, ``request_model``, ``finish_reason``, ``is_error``,
        ``output_tokens``, ``question``, ``answer``, ``retrieval``, ``documents``,
        ``word_support``, ``fact_support``, ``groundedness``, ``ungrounded``, ``refusal``,
        ``truncated``, ``hallucination_risk``, then the ``eval.*`` columns and the call's
        dimension columns (``attributes.*``, ``resource.*``) except message content.

    Raises
    ------
    SchemaError
        If ``spans`` is not a spans table, or a messages or documents attribute is not the
        JSON the GenAI conventions describe (the message names the span and the column).
    ParameterError
        If ``threshold`` is not a number in [0, 1] or ``backend`` is not valid.

    Examples
    --------
    >>> import polars as pl
    >>> from toolkit.schema import SPANS, TIME
    >>> doc = '[{"id":"d1","content":"The Atlas router weighs 12 kg."}]'
    >>> out = '[{"role":"assistant","parts":[{"type":"text","content":"It weighs 13 kg."}]}]'
    >>> spans = pl.concat([SPANS.empty(), pl.DataFrame({
    ...     "trace_id": ["4bf92f3577b34da6a3ce929d0e0e4736"] * 2,
    ...     "span_id": ["00f067aa0ba902b7", "00f067aa0ba902b8"],
    ...     "start_time": pl.Series([0, 0]).cast(TIME), "duration_ms": [20.0, 900.0],
    ...     "status_code": ["unset", "unset"],
    ...     "attributes.gen_ai.operation.name": ["retrieval", "chat"],
    ...     "attributes.gen_ai.retrieval.documents": [doc, None],
    ...     "attributes.gen_ai.output.messages": [None, out],
    ... })], how="diagonal")
    >>> signals(spans).select("retrieval", "word_support", "fact_support",
    ...                       "hallucination_risk").row(0)
    ('ok', 0.6666666666666666, 0.0, True)
    """
    frame = spans
    calls = llm_calls(frame)
    n = calls.height
    calls = calls.with_columns(pl.int_range(n, dtype=pl.Int64).alias(_ROW))
    where = _span_where(calls)

    def text(column: str, role: str) -> pl.Series:
        if column not in calls.columns:
            return pl.Series(column, [None] * n, dtype=pl.String)
        return message_text(calls[column], roles=[role], column=column, where=where)

    question = text(_INPUT, "user").alias("question")
    answer = text(_OUTPUT, "assistant").alias("answer")

    # retrieval spans and their documents, per trace
    ops = frame[_OPERATION] if _OPERATION in frame.columns else None
    is_retrieval = pl.Series([False] * frame.height, dtype=pl.Boolean)
    if ops is not None:
        is_retrieval = (ops == "retrieval").fill_null(False)
    if _DOCS in frame.columns:
        is_retrieval = is_retrieval | frame[_DOCS].is_not_null()
    retrieval_spans = frame.filter(is_retrieval)
    if _DOCS in retrieval_spans.columns:
        raw_docs = retrieval_spans[_DOCS]
    else:
        raw_docs = pl.Series(_DOCS, [None] * retrieval_spans.height, dtype=pl.String)
    docs = _decode(
        raw_docs.cast(pl.String),
        _DOCUMENTS,
        _span_where(retrieval_spans),
        _DOCS,
        "a JSON list of documents",
    )
    per_span = pl.DataFrame(
        {"trace_id": retrieval_spans["trace_id"], "recorded": raw_docs.is_not_null(), "d": docs}
    )
    doc_rows = (
        per_span.select("trace_id", "d")
        .explode("d")
        .drop_nulls("d")
        .unnest("d")
        .with_columns(
            pl.concat_str(
                pl.col("content").fill_null(""), pl.col("id").fill_null(""), separator=" "
            ).alias("context")
        )
    )
    per_trace = (
        per_span.group_by("trace_id")
        .agg(pl.col("recorded").any().alias("_recorded"))
        .join(
            doc_rows.group_by("trace_id").agg(
                pl.len().alias("documents"),
                pl.col("content").str.contains(r"[\p{L}\p{N}]").any().alias("_has_text"),
            ),
            on="trace_id",
            how="left",
        )
    )
    base = calls.select(_ROW, "trace_id").join(
        per_trace, on="trace_id", how="left", maintain_order="left"
    )
    retrieval = base.select(
        pl.when(pl.col("_recorded").is_null())
        .then(pl.lit("none"))
        .when(~pl.col("_recorded"))
        .then(pl.lit("missing"))
        .when(pl.col("_has_text").fill_null(False))
        .then(pl.lit("ok"))
        .otherwise(pl.lit("empty"))
        .alias("retrieval"),
        pl.when(pl.col("_recorded").is_not_null())
        .then(pl.col("documents").fill_null(0))
        .cast(pl.Int64)
        .alias("documents"),
    )

    answers = pl.DataFrame({_ROW: calls[_ROW], "_key": calls["trace_id"], "answer": answer}).filter(
        pl.col("answer").is_not_null() & (retrieval["retrieval"] == "ok")
    )
    contexts = doc_rows.select(pl.col("trace_id").alias("_key"), "context")
    support = calls.select(_ROW).join(
        _support(answers, contexts), on=_ROW, how="left", maintain_order="left"
    )

    finish = calls["finish_reason"]
    refusal = (finish == "content_filter").fill_null(False) | answer.str.contains(
        REFUSAL_PATTERN
    ).fill_null(False)
    out = pl.DataFrame(
        {
            "trace_id": calls["trace_id"],
            "span_id": calls["span_id"],
            "start_time": calls["start_time"],
            "request_model": calls["request_model"],
            "finish_reason": finish,
            "is_error": calls["is_error"],
            "output_tokens": calls["output_tokens"],
            "question": question,
            "answer": answer,
            "retrieval": retrieval["retrieval"],
            "documents": retrieval["documents"],
            "word_support": support["word_support"],
            "fact_support": support["fact_support"],
            "groundedness": support["groundedness"],
        }
    ).with_columns(
        (pl.col("groundedness") < threshold).alias("ungrounded"),
        refusal.alias("refusal"),
        (pl.col("finish_reason") == "length").fill_null(False).alias("truncated"),
    )
    assessable = (
        (pl.col("retrieval") != "none")
        & pl.col("answer").is_not_null()
        & ~pl.col("is_error")
        & ~pl.col("refusal")
    )
    out = out.with_columns(
        pl.when(assessable)
        .then((pl.col("retrieval") != "ok") | pl.col("ungrounded").fill_null(False))
        .alias("hallucination_risk")
    )
    content = {_INPUT, _OUTPUT, _DOCS}
    extra = [c for c in calls.columns if c.startswith("eval.")] + [
        c
        for c in calls.columns
        if (c.startswith("attributes.") or c.startswith("resource.")) and c not in content
    ]
    out = pl.concat([out, calls.select(extra)], how="horizontal")
    return frame_out(out, backend)


_EVERY = Duration(description="a positive duration such as '1h' or '15m'")


@validate_params(
    signals=Frame(),
    every=_EVERY,
    by=[Names(), None],
    time=InstanceOf(str),
    start=[UTCTime(text=False), None],
    end=[UTCTime(text=False), None],
    backend=BACKEND,
)
def risk_rate(
    signals: Any,
    *,
    every: str = "1h",
    by: str | Sequence[str] | None = None,
    time: str = "start_time",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    backend: Backend = "polars",
) -> Any:
    """Hallucination-risk rate per time window (and slice), from :func:`signals`.

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame
        The output of :func:`signals` (any frame with ``hallucination_risk``, ``ungrounded``,
        ``refusal``, ``truncated`` and a time column).
    every : str, default "1h"
        Window width as a polars duration (``"15m"``, ``"1h"``, ``"1d"``).
    by : str or list of str, optional
        Slice columns (``"attributes.user.locale"``): one series per value.
    time : str, default "start_time"
    start, end : datetime, optional
        Aware datetimes: windows from ``start`` (inclusive) to ``end`` (exclusive) are all
        listed, empty ones with ``assessed`` = 0 and null rates, so a quiet hour is not
        mistaken for a missing one. Default: the first and last call.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per window (and slice), sorted: ``window_start``, the ``by`` columns,
        ``calls``, ``assessed`` (calls with a ``hallucination_risk`` value), ``at_risk``,
        ``risk_rate`` = ``at_risk`` / ``assessed``, ``refusal_rate``, ``truncated_rate``
        (over ``calls``), ``mean_groundedness``, and the mean of every ``eval.*`` score
        column (``mean_eval.<name>``).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in (0, 0, 1)]
    >>> s = pl.DataFrame({"start_time": t, "hallucination_risk": [True, False, None],
    ...                   "refusal": [False, False, True], "truncated": [False] * 3,
    ...                   "groundedness": [0.2, 1.0, None]})
    >>> risk_rate(s).select("calls", "assessed", "risk_rate", "refusal_rate").rows()
    [(2, 2, 0.5, 0.0), (1, 0, None, 1.0)]
    """
    frame: pl.DataFrame = signals
    every = polars_duration(every)
    time_column = time
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    needed = [time_column, "hallucination_risk", "refusal", "truncated", *keys]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"The signals frame lacks the column(s) {missing} (available: "
            f"{preview(', '.join(frame.columns), 300)}); expected the output of "
            "quality.signals."
        )
    frame = time_column_of(frame, time_column, table="signals")
    evals = [c for c in frame.columns if c.startswith("eval.") and frame.schema[c].is_numeric()]
    window = pl.col(time_column).dt.truncate(every).alias("window_start")
    rates = (
        frame.group_by(window, *keys)
        .agg(
            pl.len().alias("calls"),
            pl.col("hallucination_risk").count().alias("assessed"),
            pl.col("hallucination_risk").sum().alias("at_risk"),
            pl.col("hallucination_risk").mean().alias("risk_rate"),
            pl.col("refusal").mean().alias("refusal_rate"),
            pl.col("truncated").mean().alias("truncated_rate"),
            *(
                [pl.col("groundedness").mean().alias("mean_groundedness")]
                if "groundedness" in frame.columns
                else []
            ),
            *[pl.col(c).mean().alias(f"mean_{c}") for c in evals],
        )
        .with_columns(pl.col("calls", "assessed", "at_risk").cast(pl.Int64))
    )
    if frame.height or (start is not None and end is not None):
        dtype = frame.schema[time_column]
        lo = start if start is not None else frame[time_column].min()
        hi = end if end is not None else frame[time_column].max()
        grid = pl.select(
            pl.datetime_range(
                pl.lit(lo, dtype=dtype).dt.truncate(every),
                pl.lit(hi, dtype=dtype),
                every,
                closed="left" if end is not None else "both",
            ).alias("window_start")
        )
        if keys:
            grid = grid.join(frame.select(keys).unique(), how="cross")
        rates = grid.join(rates, on=["window_start", *keys], how="left").with_columns(
            pl.col("calls", "assessed", "at_risk").fill_null(0)
        )
        if start is not None:
            rates = rates.filter(pl.col("window_start") >= pl.lit(start, dtype=dtype))
    rates = rates.sort("window_start", *keys, nulls_last=True)
    return frame_out(rates, backend)


# --------------------------------------------------------------------------- evaluated calls


@dataclass(frozen=True)
class EvaluationScope:
    """The calls an evaluation score was recorded on, found from the data.

    Attributes
    ----------
    score : str or None
        The ``eval.<name>`` column of the score (None when the calls carry no score).
    column : str or None
        The dimension whose one value holds the evaluated calls (a route), or None when
        they are spread over all calls.
    value : str or None
        That value.
    calls : polars.DataFrame
        The calls of that value (all calls when ``column`` is None).
    evaluated : int
        Calls in scope that carry the score.
    min_evaluated : int
        The fewest evaluated calls an analysis of the score needs.
    """

    score: str | None
    column: str | None
    value: str | None
    calls: pl.DataFrame
    evaluated: int
    min_evaluated: int = 50

    @property
    def support(self) -> Any:
        """A :class:`toolkit.Support`: whether enough calls carry the score."""
        from toolkit.ingest.discover import Support

        needs = (
            f"LLM calls with a numeric evaluation score (eval.<name> columns, from "
            f"gen_ai.evaluation.result span events) on at least {self.min_evaluated} calls"
        )
        how = (
            "record each evaluation (groundedness, relevance ...) as a gen_ai.evaluation.result "
            "event on the model-call span, with gen_ai.evaluation.name and "
            "gen_ai.evaluation.score.value"
        )
        if self.score is None:
            return Support(
                "evaluation scores", needs, "no eval.* score column", ("eval.<name>",), how
            )
        where = f" on {self.column} = {self.value}" if self.column is not None else ""
        found = f"{self.evaluated:,} calls with {self.score}{where}"
        if self.evaluated < self.min_evaluated:
            return Support(
                "evaluation scores", needs, found, (f"{self.min_evaluated} evaluated calls",), how
            )
        return Support("evaluation scores", needs, found)


@validate_params(
    calls=Frame(),
    score=[InstanceOf(str), None],
    columns=[Names(), None],
    min_evaluated=Interval(int, 1, None, closed="left"),
    share=Interval(float, 0, 1, closed="right"),
)
def evaluation_scope(
    calls: Any,
    *,
    score: str | None = None,
    route: str | None = None,
    columns: Sequence[str] | None = None,
    min_evaluated: int = 50,
    share: float = 0.95,
) -> EvaluationScope:
    """Find the evaluation score the calls carry and the route whose calls it was recorded on.

    Evaluations are usually run on one route (the RAG route's answers are scored for
    groundedness). The scope is the dimension value holding at least ``share`` of the
    evaluated calls, the one with the fewest calls when several qualify (a column named
    after a route first among columns that split the calls alike); without one, all calls.

    Parameters
    ----------
    calls : polars.DataFrame or pandas.DataFrame
        ``llm_calls``.
    score : str, optional
        The score column; None: :func:`evaluation_column` (a groundedness or faithfulness
        score first, else the one on the most calls).
    route : str, optional
        The value that scopes the calls (searched in ``columns``, then in every string
        attribute column); None: found from the evaluated calls.
    columns : list of str, optional
        Candidate dimensions; None: :func:`toolkit.dimensions` of the calls.
    min_evaluated : int, default 50
        The fewest evaluated calls for :attr:`EvaluationScope.support` to be met.
    share : float, default 0.95
        The share of the evaluated calls one value must hold to scope them.

    Returns
    -------
    EvaluationScope

    Examples
    --------
    >>> import polars as pl
    >>> calls = pl.DataFrame({
    ...     "attributes.app.route": ["chat"] * 60 + ["rag"] * 60,
    ...     "eval.groundedness": [None] * 60 + [0.9, 0.2] * 30,
    ... })
    >>> scope = evaluation_scope(calls)
    >>> scope.score, scope.column, scope.value, scope.calls.height, scope.support.ok
    ('eval.groundedness', 'attributes.app.route', 'rag', 60, True)
    """
    from toolkit.ingest.discover import dimensions
    from toolkit.schema import require_columns

    function = caller()
    data: pl.DataFrame = calls
    if score is None:
        score = evaluation_column(data)
    else:
        require_columns(
            data, [score], table="llm_calls", where=f"(the 'score' parameter of {function})"
        )
        if not data.schema[score].is_numeric():
            raise reject(
                "score", "name a numeric column", got=f"{score!r} of type {data.schema[score]}"
            )
    if score is None:
        return EvaluationScope(None, None, None, data, 0, min_evaluated)
    candidates = _names(columns) if columns is not None else dimensions(data)
    require_columns(
        data, candidates, table="llm_calls", where=f"(the 'columns' parameter of {function})"
    )
    evaluated = data.filter(pl.col(score).is_not_null())
    column: str | None = None
    if route is not None:
        strings = [
            c for c, t in data.schema.items() if t == pl.String and c.startswith("attributes.")
        ]
        holding = [c for c in [*candidates, *strings] if (data[c] == route).any()]
        if not holding:
            raise reject(
                "route",
                "be a value of an attribute of the calls (e.g. a route)",
                got=f"{preview(route)}, which no attribute holds,",
            )
        column = holding[0]
    else:
        best: tuple[tuple[int, bool], str, str] | None = None
        for c in candidates:
            counts = evaluated[c].value_counts(sort=True)
            if counts.height == 0 or counts[0, "count"] < share * evaluated.height:
                continue
            value = counts[0, c]
            if value is None:
                continue
            # the tightest scope; among twins (same calls), a route's name first
            size = (int((data[c] == value).sum()), "route" not in c.lower())
            if best is None or size < best[0]:
                best = (size, c, value)
        if best is not None:
            _, column, route = best
    scoped = data if column is None else data.filter(pl.col(column) == route)
    return EvaluationScope(
        score,
        column,
        route if column is not None else None,
        scoped,
        int(scoped[score].is_not_null().sum()),
        min_evaluated,
    )


# ------------------------------------------------------------------- from signals to findings


@validate_params(signals=Frame())
def supports(signals: Any) -> dict[str, Any]:
    """What a :func:`signals` table supports: the analyses of a quality report.

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame
        The output of :func:`signals` (may be empty).

    Returns
    -------
    dict of str to toolkit.Support
        ``"risk"``: retrieval-augmented answers whose hallucination risk could be assessed
        (answer text and the documents of a retrieval span in the same trace);
        ``"evaluation"``: answers with a recorded evaluation score (``eval.*``);
        ``"agreement"``: both on the same answers (to check the offline score);
        ``"windows"``: either of ``"risk"`` and ``"evaluation"`` (a quality series to
        search for windows of bad answers); ``"text"``: calls whose question text is recorded.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"retrieval": ["none"], "question": ["hi"], "answer": ["hello"],
    ...                   "hallucination_risk": [None], "groundedness": [None]},
    ...                  schema_overrides={"hallucination_risk": pl.Boolean,
    ...                                    "groundedness": pl.Float64})
    >>> {k: v.ok for k, v in supports(s).items()}
    {'risk': False, 'evaluation': False, 'agreement': False, 'windows': False, 'text': True}
    """
    from toolkit.ingest.discover import Support

    frame: pl.DataFrame = signals
    _require(frame, ["retrieval", "question", "answer", "hallucination_risk"])
    rag = frame.filter(pl.col("retrieval") != "none")
    assessed = rag["hallucination_risk"].count()
    evals = [c for c in frame.columns if c.startswith("eval.") and frame.schema[c].is_numeric()]
    scored = frame.filter(pl.any_horizontal(pl.col(evals).is_not_null())).height if evals else 0
    both = (
        frame.filter(
            pl.any_horizontal(pl.col(evals).is_not_null()) & pl.col("groundedness").is_not_null()
        ).height
        if evals and "groundedness" in frame.columns
        else 0
    )
    questions = frame["question"].count()
    how_rag = (
        "record the message content (gen_ai.input.messages / gen_ai.output.messages, opt-in "
        "in the OpenTelemetry GenAI instrumentations) and retrieval spans with "
        "gen_ai.retrieval.documents in the same trace"
    )
    how_eval = "record evaluations as gen_ai.evaluation.result span events"
    found_rag = (
        f"{frame.height:,} calls, {rag.height:,} with a retrieval span, {assessed:,} assessed"
    )
    return {
        "risk": Support(
            "hallucination risk",
            "retrieval-augmented answers with their retrieved documents",
            found_rag,
            () if assessed else ("answers with retrieved documents",),
            "" if assessed else how_rag,
        ),
        "evaluation": Support(
            "evaluation scores",
            "calls with evaluation scores (eval.*)",
            f"{frame.height:,} calls, {scored:,} with an evaluation score"
            + (f" ({', '.join(evals)})" if evals else ""),
            () if scored else ("evaluation scores",),
            "" if scored else how_eval,
        ),
        "agreement": Support(
            "offline score against evaluations",
            "answers with both an evaluation score and retrieved documents",
            f"{both:,} such answers",
            () if both else ("evaluated retrieval-augmented answers",),
            "" if both else f"{how_eval}; {how_rag}",
        ),
        "windows": Support(
            "windows of bad answers",
            "retrieval-augmented answers with their retrieved documents, or evaluation scores",
            f"{found_rag}, {scored:,} with an evaluation score",
            ()
            if assessed or scored
            else ("answers with retrieved documents or evaluation scores",),
            "" if assessed or scored else f"{how_rag}; or {how_eval}",
        ),
        "text": Support(
            "text drift",
            "calls with their question text (gen_ai.input.messages)",
            f"{frame.height:,} calls, {questions:,} with a question",
            () if questions else ("question text",),
            ""
            if questions
            else "record the message content (gen_ai.input.messages, opt-in in the "
            "OpenTelemetry GenAI instrumentations)",
        ),
    }


def _names(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _require(frame: pl.DataFrame, columns: Sequence[str]) -> None:
    function = caller()
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"The signals frame given to {function} lacks the column(s) {missing} (available: "
            f"{preview(', '.join(frame.columns), 300)}); expected the output of "
            "quality.signals."
        )


@validate_params(signals=Frame())
def evaluation_column(signals: Any) -> str | None:
    """The recorded evaluation score to check the offline groundedness against.

    The numeric ``eval.*`` column whose name speaks of grounding or faithfulness
    (``ground``, ``faithful``, ``hallucinat``), else the one with the most values.

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame

    Returns
    -------
    str or None
        None when no evaluation score is recorded.

    Examples
    --------
    >>> import polars as pl
    >>> evaluation_column(pl.DataFrame({"eval.relevance": [1.0, 0.5],
    ...                                 "eval.faithfulness": [None, 1.0]}))
    'eval.faithfulness'
    """
    frame: pl.DataFrame = signals
    evals = [
        c
        for c in frame.columns
        if c.startswith("eval.") and frame.schema[c].is_numeric() and frame[c].count()
    ]
    if not evals:
        return None
    named = [c for c in evals if any(k in c.lower() for k in ("ground", "faithful", "hallucinat"))]
    return max(named or evals, key=lambda c: frame[c].count())


@dataclass(frozen=True)
class Agreement:
    """How often the offline groundedness verdict agrees with a recorded evaluation.

    Attributes
    ----------
    column : str
        The evaluation score column (``eval.<name>``).
    passing : float
        Scores at or above it count as grounded.
    evaluated : int
        Answers with both a score and an offline groundedness.
    agreement : float or None
        Share of them where ``score >= passing`` equals ``not ungrounded``; None when none.
    """

    column: str
    passing: float
    evaluated: int
    agreement: float | None


@validate_params(signals=Frame(), column=InstanceOf(str), passing=Interval(float, None, None))
def agreement(signals: Any, *, column: str, passing: float = 0.5) -> Agreement:
    """Check the offline groundedness (``ungrounded``) against a recorded evaluation score.

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame
        The output of :func:`signals`.
    column : str
        The score column, e.g. from :func:`evaluation_column`.
    passing : float, default 0.5
        Scores at or above it are a "grounded" label.

    Returns
    -------
    Agreement

    Raises
    ------
    ColumnNotFoundError
        If ``column`` is not in the frame.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"eval.g": [1.0, 0.1, 0.9, None], "groundedness": [1.0, 0.2, 0.3, 1.0],
    ...                   "ungrounded": [False, True, True, False]})
    >>> agreement(s, column="eval.g")
    Agreement(column='eval.g', passing=0.5, evaluated=3, agreement=0.6666666666666666)
    """
    from toolkit.schema import require_columns

    frame: pl.DataFrame = signals
    require_columns(
        frame, [column], table="signals", where=f"(the 'column' parameter of {caller()})"
    )
    _require(frame, ["groundedness", "ungrounded"])
    both = frame.filter(pl.col(column).is_not_null() & pl.col("groundedness").is_not_null())
    share = (
        both.select(((pl.col(column) >= passing) == ~pl.col("ungrounded")).mean()).item()
        if both.height
        else None
    )
    return Agreement(column, float(passing), both.height, share)


@validate_params(
    series=Frame(),
    value_column=InstanceOf(str),
    weight_column=InstanceOf(str),
    count_column=[InstanceOf(str), None],
    worse=OneOf("higher", "lower"),
    time=InstanceOf(str),
)
def bad_answer_windows(
    series: Any,
    *,
    value_column: str = "risk_rate",
    weight_column: str = "assessed",
    count_column: str | None = "at_risk",
    worse: Literal["higher", "lower"] = "higher",
    time: str = "window_start",
) -> pl.DataFrame:
    """Incident windows of bad answers: where a quality series changed level for the worse.

    The change points of the series (:func:`toolkit.drift.change_points`, weighted) cut it
    into segments of constant level; a window opens at a change for the worse to a level
    worse than the usual one (the weighted median of the series) and closes at the first
    change for the better to a level less than halfway from the usual one to the window's
    worst (or the series' end); it starts at its first segment past that halfway mark. It
    is the shape of a
    stale or wrong index: a sudden rise of the hallucination-risk rate, a plateau, a sudden
    return, with no latency or error signal.

    Parameters
    ----------
    series : polars.DataFrame or pandas.DataFrame
        One row per window, e.g. :func:`risk_rate` (``risk_rate`` weighted by ``assessed``)
        or a mean evaluation score (``mean_eval.<name>``, ``worse="lower"``).
    value_column, weight_column : str
        The level and the weight of each window.
    count_column : str or None, default "at_risk"
        Bad answers per window (summed into ``bad``); None to leave out.
    worse : {"higher", "lower"}, default "higher"
        The direction of a change for the worse.
    time : str, default "window_start"

    Returns
    -------
    polars.DataFrame
        One row per window, the worst first (most weight times the level's distance from
        the rest): ``incident`` ("bad answers 1", ... in time order), ``start``, ``end``
        (exclusive: the start of the first window back to normal, or the end of the last
        window), ``source`` ("change point"), ``level`` and ``level_outside`` (weighted
        mean of ``value_column`` inside / outside every window), ``weight`` (summed
        inside), ``bad`` (summed ``count_column``), ``excess`` (``weight`` times the level
        difference: e.g. bad answers above the usual rate).

    Raises
    ------
    ColumnNotFoundError
        If a named column is not in the series.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(hours=h) for h in range(12)]
    >>> r = pl.DataFrame({"window_start": t, "risk_rate": [0.05] * 6 + [0.9] * 3 + [0.04] * 3,
    ...                   "assessed": [100] * 12, "at_risk": [5] * 6 + [90] * 3 + [4] * 3})
    >>> w = bad_answer_windows(r)
    >>> w.select("incident", "start", "end", "bad").rows()[0][1:3] == (t[6], t[9])
    True
    >>> w["bad"][0], round(w["level"][0], 2), round(w["level_outside"][0], 3)
    (270, 0.9, 0.047)
    """
    from toolkit.drift import change_points
    from toolkit.schema import require_columns

    function = caller()
    time_column = time
    frame: pl.DataFrame = series
    require_columns(
        frame,
        [time_column, value_column, weight_column, count_column],
        table="series",
        where=f"(a column parameter of {function})",
    )
    points = frame.filter(
        pl.col(value_column).is_not_null()
        & pl.col(value_column).is_not_nan()
        & (pl.col(weight_column).fill_null(0) > 0)
    ).sort(time_column)
    schema: dict[str, Any] = {
        "incident": pl.String,
        "start": frame.schema[time_column],
        "end": frame.schema[time_column],
        "source": pl.String,
        "level": pl.Float64,
        "level_outside": pl.Float64,
        "weight": pl.Float64,
        "bad": pl.Int64,
        "excess": pl.Float64,
    }
    if points.height == 0:
        return pl.DataFrame(schema=schema)
    changes = change_points(
        points, value_column=value_column, time=time_column, weight_column=weight_column
    )
    sign = 1.0 if worse == "higher" else -1.0
    times = points[time_column]
    step = times.diff().drop_nulls().min() if times.len() > 1 else None
    last_end = times.max() + step if step is not None else times.max()  # type: ignore[operator]
    # the usual level: the weighted median of the points; a change for the worse opens a
    # window only to a level worse than it (a return from a dip is not an incident)
    ordered = points.select(pl.col(value_column).cast(pl.Float64), pl.col(weight_column))
    ordered = ordered.sort(value_column)
    cumulative = ordered[weight_column].cum_sum()
    usual = float(ordered.filter(cumulative >= cumulative[-1] / 2)[value_column][0])
    spans: list[tuple[Any, Any]] = []
    # the segments of the window open now: (start, level); it runs from the first segment
    # at least halfway from the usual level to the window's worst to the first change for
    # the better back below that halfway mark (a dip inside a plateau keeps it open, a
    # mild segment before the plateau is not its start)
    segments: list[tuple[Any, float]] = []

    def halfway() -> float:
        worst = max(level * sign for _, level in segments) * sign
        return usual + (worst - usual) / 2

    def close(end: Any) -> None:
        mid = halfway()
        start = next(t for t, level in segments if (level - mid) * sign >= 0)
        spans.append((start, end))
        segments.clear()

    for t, shift, after in changes.select("time", "shift", "mean_after").iter_rows():
        if not segments:
            if shift * sign > 0 and (after - usual) * sign > 0:
                segments.append((t, after))
        elif shift * sign < 0 and (after - halfway()) * sign < 0:
            close(t)
        else:
            segments.append((t, after))
    if segments:
        close(last_end)
    if not spans:
        return pl.DataFrame(schema=schema)
    t = pl.col(time_column)
    inside_any = pl.any_horizontal([(t >= s) & (t < e) for s, e in spans])
    value = pl.col(value_column).cast(pl.Float64)
    weight = pl.col(weight_column).cast(pl.Float64)
    outside = points.filter(~inside_any)
    level_outside = (
        outside.select((value * weight).sum() / weight.sum()).item() if outside.height else None
    )
    rows = []
    for k, (s, e) in enumerate(spans, start=1):
        part = points.filter((t >= s) & (t < e))
        w = float(part[weight_column].sum())
        level = part.select((value * weight).sum() / weight.sum()).item()
        bad = int(part[count_column].sum()) if count_column is not None else None
        excess = w * (level - level_outside) * sign if level_outside is not None else None
        rows.append(
            {
                "incident": f"bad answers {k}",
                "start": s,
                "end": e,
                "source": "change point",
                "level": level,
                "level_outside": level_outside,
                "weight": w,
                "bad": bad,
                "excess": excess,
            }
        )
    return pl.DataFrame(rows, schema=schema).sort(
        ["excess", "start"], descending=[True, False], nulls_last=True
    )


@validate_params(
    signals=Frame(),
    start=UTCTime(text=False),
    end=UTCTime(text=False),
    by=[InstanceOf(list, tuple, description="a list of column names")],
    time=InstanceOf(str),
)
def risk_by_slice(
    signals: Any,
    *,
    start: Any,
    end: Any,
    by: Sequence[str],
    time: str = "start_time",
) -> pl.DataFrame:
    """The hallucination-risk rate inside and outside a window, per value of each dimension.

    If the rate rose in every value of every dimension alike, the cause is shared (the
    index, the retrieval service, a prompt template), not a user group or a replica.

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame
        The output of :func:`signals` (usually its retrieval-augmented rows).
    start, end : datetime
        The window (aware; end exclusive).
    by : sequence of str
        Dimension columns (e.g. from :func:`toolkit.dimensions`).
    time : str, default "start_time"

    Returns
    -------
    polars.DataFrame
        One row per dimension and value: ``dimension``, ``value`` (as text), ``calls_inside``,
        ``risk_rate_inside``, ``calls_outside``, ``risk_rate_outside``, ``change`` (inside -
        outside); in the order of ``by``, then the value with most calls first.

    Raises
    ------
    ColumnNotFoundError
        If a dimension or the time column is not in the frame.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in (0, 1, 2, 3)]
    >>> s = pl.DataFrame({"start_time": t, "tier": ["free", "pro", "free", "pro"],
    ...                   "hallucination_risk": [False, False, True, True]})
    >>> risk_by_slice(s, start=t[2], end=t[3] + dt.timedelta(hours=1), by=["tier"]).select(
    ...     "value", "risk_rate_inside", "risk_rate_outside").rows()
    [('free', 1.0, 0.0), ('pro', 1.0, 0.0)]
    """
    from toolkit.schema import require_columns

    function = caller()
    time_column = time
    frame: pl.DataFrame = signals
    if not all(isinstance(c, str) for c in by):
        raise reject("by", "be a list of column names", by)
    require_columns(
        frame, [time_column, *by], table="signals", where=f"(a parameter of {function})"
    )
    _require(frame, ["hallucination_risk"])
    frame = time_column_of(frame, time_column, table="signals")
    dtype = frame.schema[time_column]
    inside = (pl.col(time_column) >= pl.lit(start, dtype=dtype)) & (
        pl.col(time_column) < pl.lit(end, dtype=dtype)
    )
    risk = pl.col("hallucination_risk")
    parts = [
        frame.group_by(pl.col(column).cast(pl.String).alias("value"))
        .agg(
            inside.sum().cast(pl.Int64).alias("calls_inside"),
            risk.filter(inside).mean().alias("risk_rate_inside"),
            (~inside).sum().cast(pl.Int64).alias("calls_outside"),
            risk.filter(~inside).mean().alias("risk_rate_outside"),
            pl.len().alias("_n"),
        )
        .sort(["_n", "value"], descending=[True, False], nulls_last=True)
        .drop("_n")
        .select(pl.lit(column).alias("dimension"), pl.all())
        for column in by
    ]
    schema = {
        "dimension": pl.String,
        "value": pl.String,
        "calls_inside": pl.Int64,
        "risk_rate_inside": pl.Float64,
        "calls_outside": pl.Int64,
        "risk_rate_outside": pl.Float64,
    }
    out = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return out.with_columns(
        (pl.col("risk_rate_inside") - pl.col("risk_rate_outside")).alias("change")
    )


@validate_params(signals=Frame())
def summary(signals: Any) -> pl.DataFrame:
    """One row of rates over the calls of a :func:`signals` table.

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame
        The output of :func:`signals` (usually its retrieval-augmented rows).

    Returns
    -------
    polars.DataFrame
        ``calls``, ``assessed`` (calls with a hallucination-risk value), ``risk_rate``
        (over assessed), ``ungrounded`` (over calls with a groundedness), ``refusal``,
        ``truncated``, ``empty_or_missing_retrieval`` (over calls with a retrieval span),
        ``mean_groundedness``.

    Examples
    --------
    >>> import polars as pl
    >>> s = pl.DataFrame({"retrieval": ["ok", "ok", "empty"],
    ...                   "hallucination_risk": [False, True, True],
    ...                   "ungrounded": [False, True, None], "refusal": [False] * 3,
    ...                   "truncated": [False, False, True], "groundedness": [1.0, 0.2, None]})
    >>> summary(s).select("calls", "assessed", "risk_rate", "ungrounded", "truncated").row(0)
    (3, 3, 0.6666666666666666, 0.5, 0.3333333333333333)
    """
    frame: pl.DataFrame = signals
    _require(
        frame,
        ["retrieval", "hallucination_risk", "ungrounded", "refusal", "truncated", "groundedness"],
    )
    with_retrieval = pl.col("retrieval") != "none"
    return frame.select(
        pl.len().cast(pl.Int64).alias("calls"),
        pl.col("hallucination_risk").count().cast(pl.Int64).alias("assessed"),
        pl.col("hallucination_risk").mean().alias("risk_rate"),
        pl.col("ungrounded").mean().alias("ungrounded"),
        pl.col("refusal").mean().alias("refusal"),
        pl.col("truncated").mean().alias("truncated"),
        (pl.col("retrieval") != "ok")
        .filter(with_retrieval)
        .mean()
        .alias("empty_or_missing_retrieval"),
        pl.col("groundedness").mean().alias("mean_groundedness"),
    )


@dataclass(frozen=True)
class BadAnswers:
    """A quality series, its change points and the windows of bad answers found in it.

    Made by :func:`bad_answers`.

    Attributes
    ----------
    measure : str
        ``"hallucination risk"`` or the evaluation column searched (``eval.<name>``).
    series : polars.DataFrame
        :func:`risk_rate` of the calls measured.
    value_column, weight_column : str
        The level searched and the weight of each window.
    worse : {"higher", "lower"}
        The direction of a change for the worse.
    changes : polars.DataFrame
        :func:`toolkit.drift.change_points` of the series.
    windows : polars.DataFrame
        :func:`bad_answer_windows` of the series, the worst first.
    """

    measure: str
    series: pl.DataFrame
    value_column: str
    weight_column: str
    worse: str
    changes: pl.DataFrame
    windows: pl.DataFrame


@validate_params(signals=Frame(), every=_EVERY, evaluation=[InstanceOf(str), None])
def bad_answers(signals: Any, *, every: str = "1h", evaluation: str | None = None) -> BadAnswers:
    """Windows of bad answers, from the best quality series the signals hold.

    The hallucination-risk rate of the retrieval-augmented answers when some could be
    assessed (higher is worse); otherwise the mean of a recorded evaluation score
    (``evaluation``, or :func:`evaluation_column`; lower is worse).

    Parameters
    ----------
    signals : polars.DataFrame or pandas.DataFrame
        The output of :func:`signals`.
    every : str, default "1h"
        Window width of the series.
    evaluation : str, optional
        The ``eval.*`` column to use when no answer could be assessed.

    Returns
    -------
    BadAnswers

    Raises
    ------
    ParameterError
        If the signals hold neither assessed answers nor an evaluation score (check
        :func:`supports` ``["windows"]`` first).
    ColumnNotFoundError
        If ``evaluation`` is not a column.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(hours=h) for h in range(12)]
    >>> s = pl.DataFrame({"start_time": t, "retrieval": ["none"] * 12,
    ...                   "hallucination_risk": pl.Series([None] * 12, dtype=pl.Boolean),
    ...                   "refusal": [False] * 12, "truncated": [False] * 12,
    ...                   "eval.faithfulness": [0.9] * 6 + [0.2] * 3 + [0.9] * 3})
    >>> found = bad_answers(s)
    >>> found.measure, found.worse, [w.hour for w in found.windows.row(0)[1:3]]
    ('eval.faithfulness', 'lower', [6, 9])
    """
    from toolkit.drift import change_points
    from toolkit.schema import require_columns

    function = caller()
    frame: pl.DataFrame = signals
    _require(frame, ["retrieval", "hallucination_risk"])
    rag = frame.filter(pl.col("retrieval") != "none")
    if rag["hallucination_risk"].count():
        series = risk_rate(rag, every=every)
        measure, value, weight, worse, count = (
            "hallucination risk",
            "risk_rate",
            "assessed",
            "higher",
            "at_risk",
        )
    else:
        if evaluation is not None:
            require_columns(
                frame, [evaluation], table="signals", where=f"(the 'evaluation' of {function})"
            )
        column = evaluation or evaluation_column(frame)
        if column is None:
            raise ParameterError(
                f"The signals given to {function} hold neither assessed retrieval-augmented "
                "answers nor an evaluation score (eval.*). Got columns "
                f"{preview(', '.join(frame.columns), 300)} instead."
            )
        series = risk_rate(frame.drop_nulls(column), every=every)
        measure, value, weight, worse, count = column, f"mean_{column}", "calls", "lower", None
    changes = change_points(series, value_column=value, weight_column=weight)
    windows = bad_answer_windows(
        series,
        value_column=value,
        weight_column=weight,
        count_column=count,
        worse=worse,  # type: ignore[arg-type]
    )
    return BadAnswers(measure, series, value, weight, worse, changes, windows)
