"""toolkit.quality: groundedness on hand-made answers, the per-call signals on inline spans,
error messages, risk rates, and the calibration on the sample week."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit import drift, quality
from toolkit.errors import SchemaError
from toolkit.schema import SPANS, TIME, to_pandas

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)

CONTEXT = (
    "Atlas router datasheet, revision 2026-10. The warranty period of the Atlas router is "
    "36 months. The list price of the Atlas router is 1,250 EUR."
)


def test_groundedness_orders_hand_made_answers() -> None:
    answers = [
        "The warranty period of the Atlas router is 36 months.",  # all supported
        "The Atlas router comes with a warranty period of 36 months.",  # "comes" unsupported
        "The warranty period of the Atlas router is 48 months.",  # wrong number
        "The warranty period of the Borealis gateway is 48 months.",  # wrong product, number
        "Our office in Lisbon opens at 9.",  # unrelated
    ]
    scores = quality.groundedness(answers, [CONTEXT] * len(answers)).to_list()
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores[:4])) == 4  # strictly ordered; both fact-free-of-support answers score 0
    assert scores[3] == scores[4] == 0.0
    assert scores[0] == 1.0
    # "comes" + "with": with is a stop word; content: atlas router comes warranty period 36 months
    assert scores[1] == pytest.approx(6 / 7)
    # content words 6 (warranty period atlas router 48 months), 5 supported; facts atlas, 48
    assert scores[2] == pytest.approx(5 / 6 * 1 / 2)
    assert scores[3] == pytest.approx(3 / 6 * 0 / 3)
    assert quality.groundedness(["The list price is 1250 EUR."], [CONTEXT]).to_list() == [1.0]
    assert quality.groundedness(["x"], [None]).to_list() == [None]


def _attr_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _message(role: str, text: str) -> str:
    return _attr_json([{"role": role, "parts": [{"type": "text", "content": text}]}])


def _spans(rows: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows).with_columns(pl.col("start_time").cast(TIME))
    return pl.concat([SPANS.empty(), frame], how="diagonal")


def _trace(
    i: int,
    *,
    docs: str | None,
    retrieval: bool,
    answer: str | None,
    finish: str = "stop",
    error: str | None = None,
) -> list[dict[str, Any]]:
    trace = f"{i + 1:032x}"
    rows: list[dict[str, Any]] = []
    if retrieval:
        rows.append(
            {
                "trace_id": trace,
                "span_id": f"{2 * i + 1:016x}",
                "start_time": 0,
                "duration_ms": 10.0,
                "status_code": "unset",
                "attributes.gen_ai.operation.name": "retrieval",
                "attributes.gen_ai.retrieval.documents": docs,
            }
        )
    rows.append(
        {
            "trace_id": trace,
            "span_id": f"{2 * i + 2:016x}",
            "start_time": i * 3_600_000_000_000,
            "duration_ms": 900.0,
            "status_code": "unset",
            "attributes.gen_ai.operation.name": "chat",
            "attributes.gen_ai.input.messages": _message("user", "What is the warranty?"),
            "attributes.gen_ai.output.messages": None
            if answer is None
            else _message("assistant", answer),
            "attributes.gen_ai.response.finish_reasons": [finish],
            "attributes.error.type": error,
            "attributes.user.locale": "en-US",
        }
    )
    return rows


DOCS = _attr_json([{"id": "kb-atlas@2026-10", "score": 0.9, "content": CONTEXT}])


def test_signals_on_hand_written_traces() -> None:
    rows = (
        _trace(
            0,
            docs=DOCS,
            retrieval=True,
            answer="According to kb-atlas@2026-10, the warranty period of the Atlas router "
            "is 36 months.",
        )
        + _trace(
            1,
            docs=DOCS,
            retrieval=True,
            answer="The warranty period of the Atlas router is 60 months.",
        )
        + _trace(2, docs="[]", retrieval=True, answer="It is 36 months.")
        + _trace(3, docs=None, retrieval=True, answer="It is 36 months.")
        + _trace(4, docs=None, retrieval=False, answer="Hello!")
        + _trace(5, docs=DOCS, retrieval=True, answer="I'm sorry, but I can't help with that.")
        + _trace(
            6,
            docs=DOCS,
            retrieval=True,
            answer="I can't help with that request.",
            finish="content_filter",
        )
        + _trace(
            7,
            docs=DOCS,
            retrieval=True,
            answer="The warranty period of the Atlas router is 36",
            finish="length",
        )
        + _trace(8, docs=DOCS, retrieval=True, answer=None, error="timeout")
    )
    out = quality.signals(_spans(rows))
    assert out.height == 9
    assert out["retrieval"].to_list() == [
        "ok",
        "ok",
        "empty",
        "missing",
        "none",
        "ok",
        "ok",
        "ok",
        "ok",
    ]
    assert out["documents"].to_list() == [1, 1, 0, 0, None, 1, 1, 1, 1]
    assert out["groundedness"][0] == 1.0
    assert out["groundedness"][1] == pytest.approx(5 / 6 * 1 / 2)
    assert out["ungrounded"].to_list()[:2] == [False, True]
    assert out["refusal"].to_list() == [False, False, False, False, False, True, True, False, False]
    assert out["truncated"].to_list() == [False] * 7 + [True, False]
    assert out["hallucination_risk"].to_list() == [
        False,
        True,
        True,
        True,
        None,
        None,
        None,
        False,
        None,
    ]
    assert out["question"][0] == "What is the warranty?"
    assert out["attributes.user.locale"][0] == "en-US"
    assert "attributes.gen_ai.output.messages" not in out.columns
    pd_out = quality.signals(to_pandas(_spans(rows)), backend="pandas")
    assert pd_out["retrieval"].tolist() == out["retrieval"].to_list()


def test_bad_message_json_names_the_span_and_column() -> None:
    rows = _trace(0, docs=DOCS, retrieval=True, answer="x")
    rows[1]["attributes.gen_ai.output.messages"] = '{"role": "assistant"}'
    with pytest.raises(
        SchemaError,
        match=r"Column 'attributes.gen_ai.output.messages' of span "
        r"0000000000000002 \(trace 0+1\) holds .*expected a JSON list",
    ):
        quality.signals(_spans(rows))
    rows = _trace(0, docs="not json", retrieval=True, answer="x")
    with pytest.raises(
        SchemaError,
        match=r"'attributes.gen_ai.retrieval.documents' of span "
        r"0000000000000001.*'not json'",
    ):
        quality.signals(_spans(rows))


def test_message_text_joins_text_parts_of_the_roles_asked() -> None:
    value = _attr_json(
        [
            {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
            {
                "role": "user",
                "parts": [
                    {"type": "text", "content": "A?"},
                    {"type": "image", "content": None},
                    {"type": "text", "content": "B?"},
                ],
            },
        ]
    )
    assert quality.message_text([value], roles=["user"]).to_list() == ["A?\n\nB?"]
    assert quality.message_text([value, None]).to_list() == ["Be brief.\n\nA?\n\nB?", None]


def test_risk_rate_by_slice_with_empty_windows() -> None:
    t = [T0, T0, T0 + dt.timedelta(minutes=30), T0 + dt.timedelta(hours=2)]
    s = pl.DataFrame(
        {
            "start_time": t,
            "hallucination_risk": [True, False, True, None],
            "refusal": [False, False, False, True],
            "truncated": [False, True, False, False],
            "groundedness": [0.2, 1.0, 0.0, None],
            "loc": ["a", "b", "a", "a"],
        }
    )
    out = quality.risk_rate(s)
    assert out["window_start"].to_list() == [T0 + dt.timedelta(hours=h) for h in range(3)]
    assert out["calls"].to_list() == [3, 0, 1]
    assert out["assessed"].to_list() == [3, 0, 0]
    assert out["risk_rate"].to_list() == [pytest.approx(2 / 3), None, None]
    assert out["truncated_rate"][0] == pytest.approx(1 / 3)
    by = quality.risk_rate(s, by="loc", end=T0 + dt.timedelta(hours=3))
    assert by.height == 6
    assert by.filter(pl.col("loc") == "a")["risk_rate"].to_list() == [1.0, None, None]


@pytest.fixture(scope="module")
def sample_signals() -> pl.DataFrame:
    spans = toolkit.load_spans(SAMPLE / "traces.jsonl.gz", progress=False)
    return quality.signals(spans)


def test_threshold_calibration_on_the_sample(sample_signals: pl.DataFrame) -> None:
    rag = sample_signals.filter(pl.col("retrieval") != "none")
    assert rag.height == 3726
    evaluated = rag.filter(pl.col("eval.groundedness").is_not_null())
    grounded = evaluated.filter(pl.col("eval.groundedness.label") == "grounded")["groundedness"]
    ungrounded = evaluated.filter(pl.col("eval.groundedness.label") == "ungrounded")["groundedness"]
    assert grounded.len() == 857
    assert ungrounded.len() == 90
    # the default threshold 0.75 sits in the gap between the two groups
    assert ungrounded.max() < 0.75 <= grounded.min()
    assert (evaluated["ungrounded"] == (evaluated["eval.groundedness.label"] == "ungrounded")).all()


def test_the_sample_grounding_incident_is_found_in_its_window(sample_signals: pl.DataFrame) -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    window = next(i for i in truth["incidents"] if i["id"] == "stale-retrieval-index")["window"]
    start, end = (dt.datetime.fromisoformat(window[k]) for k in ("start", "end"))
    rag = sample_signals.filter(pl.col("retrieval") != "none")
    risk = quality.risk_rate(rag, every="1h")
    changes = drift.change_points(risk, value_column="risk_rate", weight_column="assessed")
    assert changes["time"].to_list() == [start, end]
    assert changes["shift"][0] > 0.9
    assert changes["shift"][1] < -0.9
    inside = rag.filter(pl.col("start_time").is_between(start, end, closed="left"))
    assert inside["hallucination_risk"].mean() == 1.0
    outside = rag.filter(~pl.col("start_time").is_between(start, end, closed="left"))
    assert outside["hallucination_risk"].mean() < 0.06


def test_bad_answers_window_of_the_sample_is_the_stale_index(sample_signals: pl.DataFrame) -> None:
    truth = json.loads((SAMPLE / "truth.json").read_text())
    window = next(i for i in truth["incidents"] if i["id"] == "stale-retrieval-index")["window"]
    start, end = (dt.datetime.fromisoformat(window[k]) for k in ("start", "end"))
    rag = sample_signals.filter(pl.col("retrieval") != "none")
    windows = quality.bad_answer_windows(quality.risk_rate(rag, every="1h"))
    assert windows.height == 1
    assert windows.row(0)[1:3] == (start, end)
    inside = rag.filter(pl.col("start_time").is_between(start, end, closed="left"))
    assert windows["level"][0] == pytest.approx(inside["hallucination_risk"].mean())
    assert windows["bad"][0] == inside["hallucination_risk"].sum()


# ------------------------------------------------------------------- from signals to findings


def _series(levels: list[float], weights: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "window_start": [T0 + dt.timedelta(hours=h) for h in range(len(levels))],
            "risk_rate": levels,
            "assessed": weights,
            "at_risk": [round(v * w) for v, w in zip(levels, weights, strict=True)],
        }
    ).with_columns(pl.col("window_start").cast(TIME))


def test_bad_answer_windows_by_hand() -> None:
    h = dt.timedelta(hours=1)
    levels = [0.05] * 8 + [0.9] * 3 + [0.05] * 8 + [0.5] * 4 + [0.05] * 8
    out = quality.bad_answer_windows(_series(levels, [100] * len(levels)))
    # worst first: 3 h at +0.85 (255 excess) before 4 h at +0.45 (180 excess)
    assert out["incident"].to_list() == ["bad answers 1", "bad answers 2"]
    assert out["start"].to_list() == [T0 + 8 * h, T0 + 19 * h]
    assert out["end"].to_list() == [T0 + 11 * h, T0 + 23 * h]
    assert out["source"].to_list() == ["change point"] * 2
    assert out["level"].to_list() == pytest.approx([0.9, 0.5])
    assert out["level_outside"].to_list() == pytest.approx([0.05, 0.05])
    assert out["bad"].to_list() == [270, 200]
    assert out["excess"].to_list() == pytest.approx([255.0, 180.0])


def test_bad_answer_windows_open_to_the_end_and_lower_is_worse() -> None:
    h = dt.timedelta(hours=1)
    rising = quality.bad_answer_windows(_series([0.05] * 8 + [0.8] * 4, [50] * 12))
    assert rising["end"].to_list() == [T0 + 12 * h]  # open: the end of the last window
    scores = _series([0.95] * 8 + [0.3] * 3 + [0.95] * 8, [20] * 19)
    falling = quality.bad_answer_windows(scores, worse="lower", count_column=None)
    assert falling["start"].to_list() == [T0 + 8 * h]
    assert falling["bad"].to_list() == [None]
    assert falling["excess"][0] == pytest.approx(60 * 0.65)
    assert quality.bad_answer_windows(scores).height == 0  # higher is worse: a dip is fine
    assert quality.bad_answer_windows(scores.clear()).height == 0


def test_bad_answer_windows_errors() -> None:
    with pytest.raises(toolkit.errors.ColumnNotFoundError, match="risk"):
        quality.bad_answer_windows(_series([0.1], [1]), value_column="risk")
    with pytest.raises(toolkit.errors.ParameterError, match="'worse' parameter"):
        quality.bad_answer_windows(_series([0.1], [1]), worse="up")  # type: ignore[arg-type]


def test_risk_by_slice_by_hand() -> None:
    t = [T0 + dt.timedelta(hours=h) for h in range(6)]
    s = pl.DataFrame(
        {
            "start_time": t,
            "tier": ["free", "pro", "free", "pro", "free", "free"],
            "hallucination_risk": [False, False, True, True, None, False],
        }
    )
    out = quality.risk_by_slice(s, start=t[2], end=t[4], by=["tier"])
    assert out.columns == [
        "dimension",
        "value",
        "calls_inside",
        "risk_rate_inside",
        "calls_outside",
        "risk_rate_outside",
        "change",
    ]
    assert out.rows() == [
        ("tier", "free", 1, 1.0, 3, 0.0, 1.0),
        ("tier", "pro", 1, 1.0, 1, 0.0, 1.0),
    ]
    with pytest.raises(toolkit.errors.ColumnNotFoundError, match="locale"):
        quality.risk_by_slice(s, start=t[0], end=t[1], by=["locale"])
    with pytest.raises(toolkit.errors.ParameterError, match="'start' parameter"):
        quality.risk_by_slice(s, start="2026-11-02", end=t[1], by=["tier"])


def test_agreement_and_the_evaluation_found() -> None:
    s = pl.DataFrame(
        {
            "eval.relevance": [0.9, 0.9, 0.9, 0.9],
            "eval.groundedness": [1.0, 0.2, 0.6, None],
            "groundedness": [1.0, 0.1, 0.3, 1.0],
            "ungrounded": [False, True, True, False],
        }
    )
    assert quality.evaluation_column(s) == "eval.groundedness"
    assert quality.evaluation_column(s.drop("eval.groundedness")) == "eval.relevance"
    assert quality.evaluation_column(s.select("groundedness")) is None
    got = quality.agreement(s, column="eval.groundedness")
    assert got == quality.Agreement("eval.groundedness", 0.5, 3, pytest.approx(2 / 3))
    assert quality.agreement(s, column="eval.groundedness", passing=0.7).agreement == 1.0
    none = quality.agreement(
        s.with_columns(pl.lit(None).alias("groundedness")), column="eval.relevance"
    )
    assert (none.evaluated, none.agreement) == (0, None)
    with pytest.raises(toolkit.errors.ColumnNotFoundError, match=r"eval\.faith"):
        quality.agreement(s, column="eval.faith")


def test_supports_and_summary_of_hand_written_traces() -> None:
    empty = quality.supports(quality.signals(SPANS.empty()))
    assert {k: v.ok for k, v in empty.items()} == dict.fromkeys(
        ("risk", "evaluation", "agreement", "windows", "text"), False
    )
    assert "gen_ai.retrieval.documents" in empty["risk"].how
    s = pl.DataFrame(
        {
            "retrieval": ["ok", "ok", "missing", "none"],
            "question": ["q1", "q2", None, "q4"],
            "answer": ["a", "b", "c", "d"],
            "hallucination_risk": [False, True, True, None],
            "ungrounded": [False, True, None, None],
            "refusal": [False, False, False, True],
            "truncated": [False, False, True, False],
            "groundedness": [1.0, 0.2, None, None],
            "eval.groundedness": [None, 0.1, None, None],
        }
    )
    can = quality.supports(s)
    assert {k: v.ok for k, v in can.items()} == dict.fromkeys(
        ("risk", "evaluation", "agreement", "windows", "text"), True
    )
    assert can["risk"].found == "4 calls, 3 with a retrieval span, 3 assessed"
    row = quality.summary(s.filter(pl.col("retrieval") != "none")).row(0, named=True)
    assert row["calls"] == 3
    assert row["assessed"] == 3
    assert row["risk_rate"] == pytest.approx(2 / 3)
    assert row["ungrounded"] == 0.5
    assert row["empty_or_missing_retrieval"] == pytest.approx(1 / 3)
    assert row["mean_groundedness"] == pytest.approx(0.6)
    with pytest.raises(SchemaError, match=r"expected the output of quality\.signals"):
        quality.summary(s.drop("truncated"))


def test_bad_answers_uses_the_risk_rate_else_an_evaluation_score() -> None:
    h = dt.timedelta(hours=1)
    n = 12
    times = [T0 + k * h for k in range(n)]
    base = pl.DataFrame(
        {
            "start_time": times,
            "retrieval": ["ok"] * n,
            "hallucination_risk": [False] * 6 + [True] * 3 + [False] * 3,
            "refusal": [False] * n,
            "truncated": [False] * n,
            "groundedness": [1.0] * 6 + [0.2] * 3 + [1.0] * 3,
            "eval.relevance": [0.9] * 3 + [0.1] * 3 + [0.9] * 6,
        }
    ).with_columns(pl.col("start_time").cast(TIME))
    risk = quality.bad_answers(base)
    assert (risk.measure, risk.value_column, risk.weight_column, risk.worse) == (
        "hallucination risk",
        "risk_rate",
        "assessed",
        "higher",
    )
    expected = quality.bad_answer_windows(
        quality.risk_rate(base.filter(pl.col("retrieval") != "none"))
    )
    assert risk.windows.equals(expected)
    assert risk.windows.row(0)[1:3] == (T0 + 6 * h, T0 + 9 * h)
    without_documents = base.with_columns(
        pl.lit("none").alias("retrieval"),
        pl.lit(None, dtype=pl.Boolean).alias("hallucination_risk"),
    )
    scored = quality.bad_answers(without_documents)
    assert (scored.measure, scored.value_column, scored.worse) == (
        "eval.relevance",
        "mean_eval.relevance",
        "lower",
    )
    assert scored.windows.row(0)[1:3] == (T0 + 3 * h, T0 + 6 * h)
    with pytest.raises(toolkit.errors.ColumnNotFoundError, match="faithfulness"):
        quality.bad_answers(without_documents, evaluation="eval.faithfulness")
    with pytest.raises(toolkit.errors.ParameterError, match="neither assessed"):
        quality.bad_answers(without_documents.drop("eval.relevance"))
