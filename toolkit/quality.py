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
from typing import Any, Literal

import polars as pl

from toolkit.errors import ParameterError, SchemaError, preview
from toolkit.llm import llm_calls
from toolkit.schema import check_backend as _check_backend
from toolkit.schema import to_pandas, to_polars

__all__ = [
    "REFUSAL_PATTERN",
    "STOP_WORDS",
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
        raise ParameterError(
            "The 'contexts' parameter of quality.groundedness must have one text per answer "
            f"({len(answer_list)}). Got {len(context_list)} instead."
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


def signals(
    spans: Any,
    *,
    threshold: float = 0.75,
    backend: Literal["polars", "pandas"] = "polars",
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
    _check_backend(backend, "quality.signals")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0.0 <= threshold <= 1.0
    ):
        raise ParameterError(
            "The 'threshold' parameter of quality.signals must be a number in [0, 1]. "
            f"Got {preview(threshold)} instead."
        )
    frame = to_polars(spans, parameter="spans", function="quality.signals")
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
    is_retrieval = pl.Series([False] * frame.height)
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
    return to_pandas(out) if backend == "pandas" else out


_EVERY = r"^[1-9][0-9]*(ns|us|ms|s|m|h|d|w)$"


def risk_rate(
    signals: Any,
    *,
    every: str = "1h",
    by: str | Sequence[str] | None = None,
    time_column: str = "start_time",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    backend: Literal["polars", "pandas"] = "polars",
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
    time_column : str, default "start_time"
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
    _check_backend(backend, "quality.risk_rate")
    frame = to_polars(signals, parameter="signals", function="quality.risk_rate")
    import re

    if not isinstance(every, str) or not re.match(_EVERY, every):
        raise ParameterError(
            "The 'every' parameter of quality.risk_rate must be a duration such as '1h' or "
            f"'15m'. Got {preview(every)} instead."
        )
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    needed = [time_column, "hallucination_risk", "refusal", "truncated", *keys]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"The signals frame lacks the column(s) {missing} (available: "
            f"{preview(', '.join(frame.columns), 300)}); expected the output of "
            "quality.signals."
        )
    for name, moment in (("start", start), ("end", end)):
        if moment is not None and (not isinstance(moment, dt.datetime) or moment.tzinfo is None):
            raise ParameterError(
                f"The {name!r} parameter of quality.risk_rate must be an aware datetime. "
                f"Got {preview(moment)} instead."
            )
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
    return to_pandas(rates) if backend == "pandas" else rates
