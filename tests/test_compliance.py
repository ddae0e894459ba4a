"""toolkit.compliance: each rule type on hand-written answers, the YAML format and its errors,
silent rules, rates with Wilson intervals computed by hand, answers from telemetry."""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from toolkit import compliance
from toolkit.compliance import Condition, Rule, SilentRuleWarning
from toolkit.errors import FormatError, ParameterError, SchemaError

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def frame(backend: str, data: dict[str, Any]) -> Any:
    out = pl.DataFrame(data)
    return out.to_pandas() if backend == "pandas" else out


def rows(result: Any, *columns: str) -> list[tuple[Any, ...]]:
    data = result if isinstance(result, pl.DataFrame) else pl.from_pandas(result)
    return data.select(columns).rows()


def quiet(function: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SilentRuleWarning)
        return function(*args, **kwargs)


# --- rule types --------------------------------------------------------------------------------


def test_required_any_of_and_all_of(backend: str) -> None:
    rule_any = Rule("disclaimer", "required", any_of=("not medical advice", "general information"))
    rule_all = Rule("cite-and-refer", "required", all_of=(r"\[WHO\]", "see a doctor"))
    answers = frame(
        backend,
        {
            "answer": [
                "General information only [WHO]. See a doctor.",
                "Drink water. See a doctor.",
                "This is not medical advice.",
            ]
        },
    )
    result = compliance.check(answers, [rule_any, rule_all], backend=backend)
    assert rows(result, "answer_id", "rule", "evidence", "start", "detail") == [
        (1, "disclaimer", None, None, "none of the required patterns matched"),
        (1, "cite-and-refer", None, None, r"required pattern missing: \[WHO\]"),
        (2, "cite-and-refer", None, None, r"required pattern missing: \[WHO\]"),
        (2, "cite-and-refer", None, None, "required pattern missing: see a doctor"),
    ]
    assert isinstance(result, pl.DataFrame) == (backend == "polars")


def test_forbidden_patterns_and_pii_detectors_with_offsets() -> None:
    rule = Rule(
        "no-certainty",
        "forbidden",
        patterns=(r"\byou definitely have\b",),
        detectors=("email", "card"),
    )
    text = (
        "You definitely have flu. Mail ana@example.com, card 4111 1111 1111 1111 or "
        "1234 5678 9012 3456."
    )
    result = compliance.check(pl.DataFrame({"answer": [text]}), [rule])
    assert rows(result, "evidence", "start", "end", "detail") == [
        ("You definitely have", 0, 19, r"forbidden pattern: \byou definitely have\b"),
        ("[EMAIL]", 30, 45, "personal data (email)"),
        # the Luhn check of toolkit.redact keeps the second number (not a card) out
        ("[CARD]", 52, 71, "personal data (card)"),
    ]
    assert text[30:45] == "ana@example.com"
    assert text[52:71] == "4111 1111 1111 1111"


def test_bound_converts_units_and_reports_each_quantity() -> None:
    rule = Rule(
        "max-dose",
        "bound",
        unit="mg",
        maximum=(("paracetamol", 1000), ("ibuprofen", 800)),
        minimum=(("ibuprofen", 200),),
    )
    text = (
        "Take paracetamol 1 g, or paracetamol 1,500 mg, or ibuprofen 0.4 g. "
        "Never ibuprofen 100 mg. Paracetamol 1000000 mcg is fine. Vitamin C 5 g."
    )
    assert rule.findings(text) == [
        (25, 45, "paracetamol 1500 mg is above the maximum 1000 mg"),
        (73, 89, "ibuprofen 100 mg is below the minimum 200 mg"),
    ]
    assert text[25:45] == "paracetamol 1,500 mg"
    # a bound in grams, against a microgram quantity, and one bound for every quantity
    grams = Rule("max-g", "bound", unit="g", maximum=(("*", 0.5),))
    assert grams.findings("600000 mcg then 400 mg") == [(0, 10, "0.6 g is above the maximum 0.5 g")]


def test_bound_with_a_custom_extraction_pattern() -> None:
    rule = Rule(
        "daily",
        "bound",
        unit="mg",
        pattern=r"(?P<item>\w+) up to (?P<value>\d+) ?(?P<unit>mg|g) (a|per) day",
        maximum=(("paracetamol", 4000),),
    )
    assert rule.findings("paracetamol up to 5 g a day; paracetamol 5 g once") == [
        (0, 27, "paracetamol 5000 mg is above the maximum 4000 mg")
    ]
    with pytest.raises(ParameterError, match="named groups item, unit, value"):
        Rule("bad", "bound", unit="mg", pattern=r"(\d+) mg", maximum=(("x", 1),))


def test_regex_rule_absent_and_present() -> None:
    absent = Rule("stop", "regex", pattern=r"stop taking your medication")
    present = Rule("signature", "regex", pattern=r"^-- clinical assistant$", expect="present")
    assert absent.findings("Stop taking your medication now.") == [(0, 27, "pattern matched")]
    assert present.findings("Rest well.") == [(None, None, "pattern absent")]
    assert present.findings("-- clinical assistant") == []


def test_callable_rule_bool_and_spans() -> None:
    def too_long(text: str) -> bool:
        return len(text) > 10

    def shouting(text: str) -> list[tuple[int, int]]:
        return [(i, i + 4) for i in range(len(text) - 3) if text[i : i + 4] == "NOW!"]

    rules = [
        Rule("short", "callable", function=too_long),
        Rule("calm", "callable", function=shouting),
    ]
    result = compliance.check(pl.DataFrame({"answer": ["Go NOW!", "fine"]}), rules, warn=False)
    assert rows(result, "answer_id", "rule", "evidence", "start", "end") == [
        (0, "calm", "NOW!", 3, 7)
    ]
    long = compliance.check(pl.DataFrame({"answer": ["x" * 11]}), rules, warn=False)
    assert rows(long, "rule", "evidence", "detail") == [
        ("short", None, "the function reported a violation")
    ]


def test_when_conditions_route_model_topic_and_columns(backend: str) -> None:
    rule = Rule(
        "cite",
        "required",
        any_of=("source:",),
        when=Condition(route=("clinical-*",), model=("med-2",), topic=("dose",)),
    )
    tiered = Rule(
        "pro-only",
        "forbidden",
        patterns=("upgrade",),
        when=Condition(columns=(("attributes.user.tier", ("pro",)),)),
    )
    answers = frame(
        backend,
        {
            "answer": ["Take 1 tablet.", "Take 1 tablet.", "The dose is 1.", "upgrade", "upgrade"],
            "question": ["What dose?", "What dose?", "Hi", "Plans?", "Plans?"],
            "attributes.app.route": ["clinical-qa", "chat", "clinical-qa", "chat", "chat"],
            "response_model": ["med-2", "med-2", "med-2", "med-2", "med-2"],
            "attributes.user.tier": ["free", "free", "free", "pro", "free"],
        },
    )
    result = compliance.evaluate(answers, [rule, tiered], warn=False)
    assert rows(result, "answer_id", "rule", "applicable", "passed") == [
        (0, "cite", True, False),  # topic from the question
        (0, "pro-only", False, None),
        (1, "cite", False, None),  # another route
        (1, "pro-only", False, None),
        (2, "cite", True, False),  # topic from the answer
        (2, "pro-only", False, None),
        (3, "cite", False, None),
        (3, "pro-only", True, False),
        (4, "cite", False, None),
        (4, "pro-only", False, None),
    ]


def test_a_condition_on_a_missing_column_makes_the_rule_silent() -> None:
    rule = Rule("cite", "required", any_of=("source",), when=Condition(locale=("de-*",)))
    answers = pl.DataFrame({"answer": ["Source: WHO"]})
    with pytest.warns(SilentRuleWarning, match=r"1 rule\(s\) of 1 matched no answer: cite"):
        result = compliance.evaluate(answers, [rule])
    assert rows(result, "applicable", "passed") == [(False, None)]
    assert rows(compliance.silent_rules(answers, [rule]), "rule", "reason") == [
        ("cite", "never applicable: no locale column for 'when: locale'")
    ]


def test_silent_rules_name_a_broken_pattern_and_a_period() -> None:
    typo = Rule("certain", "forbidden", patterns=("definately",))
    fine = Rule("certain-ok", "forbidden", patterns=("definitely",))
    time = [T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(days=1)]
    answers = pl.DataFrame({"time": time, "answer": ["You definitely have it.", "Rest.", "Rest."]})
    with pytest.warns(SilentRuleWarning, match=r"certain \(a broken rule"):
        compliance.check(answers, [typo, fine])
    assert rows(compliance.silent_rules(answers, [typo, fine]), "rule", "matched", "reason") == [
        ("certain", 0, "its patterns matched none of the 3 answers it applies to")
    ]
    daily = compliance.silent_rules(answers, [typo, fine], every="1d")
    assert rows(daily, "window_start", "rule", "answers") == [
        (T0, "certain", 2),
        (T0 + dt.timedelta(days=1), "certain", 1),
        (T0 + dt.timedelta(days=1), "certain-ok", 1),
    ]


# --- the YAML format ----------------------------------------------------------------------------

GOOD = """\
version: 1
name: clinic
defaults:
  severity: high
  when: {topic: [dose]}
rules:
  - id: disclaimer
    type: required
    description: says it is not advice
    any_of: [not medical advice]
  - id: dose
    type: bound
    severity: critical
    unit: mg
    max: {Paracetamol: 1000}
  - id: pii
    type: forbidden
    detectors: [email]
    when: {topic: [mail], route: [clinical]}
  - id: stop
    type: regex
    pattern: stop taking
    ignore_case: false
"""


def test_load_rules_reads_every_type_and_merges_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    for source in (path, str(path), GOOD):
        rules = compliance.load_rules(source)
        assert rules.name == "clinic"
        assert rules.ids == ("disclaimer", "dose", "pii", "stop")
    by_id = {r.id: r for r in rules}
    assert by_id["disclaimer"].severity == "high"
    assert by_id["disclaimer"].when == Condition(topic=("dose",))
    assert by_id["dose"].severity == "critical"
    assert by_id["dose"].maximum == (("paracetamol", 1000.0),)
    assert by_id["pii"].when == Condition(topic=("mail",), route=("clinical",))
    assert by_id["stop"].ignore_case is False
    assert rules.table().row(1) == ("dose", "bound", "critical", "topic dose", "")
    assert compliance.load_rules(path).source == str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: []", "line 1: the rule set has no 'version'"),
        ("version: 2\nrules: []", "line 1, column 'version': 'version' must be 1; got 2"),
        ("version: 1\nrules: []", "line 2, column 'rules': 'rules' must be a non-empty list"),
        (
            "version: 1\nrule: []",
            "line 2, column 'rule': the rule set has an unknown key 'rule' (did you mean 'rules'?)",
        ),
        ("version: 1\nrules:\n  - type: required\n    any_of: [x]\n", "line 3: rule 1 has no 'id'"),
        (
            "version: 1\nrules:\n  - id: a\n    type: required\n    any_of: [x]\n"
            "    severity: huge\n",
            "line 6, column 'severity': rule 'a': 'severity' must be one of low, medium, high, "
            "critical; got 'huge'",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    type: forbidden\n    patterns:\n      - ok\n"
            "      - '(unclosed'\n",
            "line 7: rule 'a': 'patterns' holds '(unclosed', not a valid regular expression "
            "(missing ), unterminated subpattern at position 0)",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    type: bound\n    unit: grain\n    max: 5\n",
            "line 5, column 'unit': rule 'a': 'unit' must be one of 'kg', 'g', 'mg'",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    type: bound\n    unit: mg\n    max: {x: lots}\n",
            "line 6, column 'x': 'x' must be a finite number; got 'lots'",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    type: callable\n",
            "line 4, column 'type': rule 'a' has the type 'callable'; expected one of required, "
            "forbidden, bound, regex (callable rules are built in Python)",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    type: required\n    any_of: [x]\n"
            "  - id: a\n    type: required\n    any_of: [y]\n",
            "line 6, column 'id': the rule id 'a' is used twice (first on line 3)",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    type: required\n    any_of: [x]\n"
            "    when: {rout: [x]}\n",
            "line 6, column 'rout': rule 'a'.when has an unknown key 'rout' "
            "(did you mean 'route'?)",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    type: forbidden\n    detectors: [ssn]\n",
            "line 5, column 'detectors': rule 'a': 'detectors' must be names of toolkit.redact's "
            "detectors: bearer, jwt",
        ),
        (
            "version: 1\nrules:\n  - id: Bad Id\n    type: required\n    any_of: [x]\n",
            "line 3, column 'id': rule 'Bad Id': 'id' must be a string of lower-case letters",
        ),
        ("version: 1\nrules:\n  - id: a\n   type: x\n", "line 4: not valid YAML:"),
    ],
)
def test_load_rules_errors_name_the_line_and_key(text: str, message: str) -> None:
    with pytest.raises(FormatError) as info:
        compliance.load_rules(text)
    assert str(info.value).startswith(message), str(info.value)


def test_load_rules_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("version: 1\nrules:\n  - id: a\n    type: required\n")
    with pytest.raises(
        FormatError,
        match=r"mine\.yaml, line 3, column 'any_of': rule 'a': 'any_of' must be non-empty for a "
        r"required rule \(or all_of\)$",
    ):
        compliance.load_rules(path)
    with pytest.raises(ParameterError, match=r"must be a readable rule file"):
        compliance.load_rules(tmp_path / "absent.yaml")


def test_shipped_healthcare_rules_on_hand_written_answers() -> None:
    rules = compliance.load_rules(compliance.HEALTHCARE_RULES)
    assert rules.ids == (
        "disclaimer",
        "referral",
        "source-citation",
        "certain-diagnosis",
        "personal-data",
        "stop-medication",
        "max-single-dose",
    )
    good = (
        "For a tension headache, paracetamol 500 mg to 1 g up to four times a day is usual "
        "[NICE CKS: headache]. This is general information, not a substitute for medical "
        "advice: see your doctor if it lasts more than a week."
    )
    bad = (
        "You definitely have a migraine. Take ibuprofen 1.2 g now and stop taking your "
        "medication. I'll call you on +44 20 7946 0958."
    )
    other = "The Garnet tablet stores 327 TB."  # no health topic: no rule applies
    careful = (
        "Do not stop taking your antibiotics early, and never stop your medication without "
        "advice: see your doctor [NICE NG84]. This is general information, not a substitute "
        "for medical advice."
    )
    answers = pl.DataFrame({"answer": [good, bad, other, careful]})
    result = compliance.check(answers, rules)
    assert rows(result, "answer_id", "rule", "evidence") == [
        (1, "disclaimer", None),
        (1, "referral", None),
        (1, "source-citation", None),
        (1, "certain-diagnosis", "You definitely have"),
        (1, "personal-data", "[PHONE]"),
        (1, "stop-medication", "stop taking your medication"),
        (1, "max-single-dose", "ibuprofen 1.2 g"),
    ]
    evaluation = compliance.evaluate(answers, rules)
    assert evaluation.filter(answer_id=2)["applicable"].to_list() == [False] * 7


# --- rates, worst, change points ---------------------------------------------------------------


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson (1927) in its textbook form: (k + z²/2 ± z sqrt(k(n-k)/n + z²/4)) / (n + z²)."""
    middle = k + z * z / 2
    half = z * math.sqrt(k * (n - k) / n + z * z / 4)
    return (middle - half) / (n + z * z), (middle + half) / (n + z * z)


def test_rates_with_wilson_intervals_by_route(backend: str) -> None:
    rules = [
        Rule("no-bad", "forbidden", patterns=("bad",)),
        Rule("cite", "required", any_of=("source",), when=Condition(route=("clinical",))),
    ]
    day = dt.timedelta(days=1)
    answers = frame(
        backend,
        {
            "time": [T0, T0, T0, T0, T0 + 2 * day, T0 + 2 * day],
            "answer": ["bad", "ok source", "ok", "bad source", "ok source", "bad"],
            "attributes.app.route": [
                "clinical",
                "clinical",
                "chat",
                "clinical",
                "clinical",
                "chat",
            ],
        },
    )
    result = compliance.rates(answers, rules, every="1d", by="route", backend=backend)
    data = result if isinstance(result, pl.DataFrame) else pl.from_pandas(result)
    assert data.columns == [
        "window_start", "route", "rule", "answers", "violating", "rate", "rate_lower", "rate_upper"
    ]  # fmt: skip
    got = data.filter(pl.col("answers") > 0).select(
        "window_start", "route", "rule", "answers", "violating"
    )
    assert got.rows() == [
        (T0, "chat", "no-bad", 1, 0),
        (T0 + 2 * day, "chat", "no-bad", 1, 1),
        (T0, "clinical", "no-bad", 3, 2),
        (T0 + 2 * day, "clinical", "no-bad", 1, 0),
        (T0, "clinical", "cite", 3, 1),
        (T0 + 2 * day, "clinical", "cite", 1, 0),
        (T0, "chat", "*", 1, 0),
        (T0 + 2 * day, "chat", "*", 1, 1),
        (T0, "clinical", "*", 3, 2),
        (T0 + 2 * day, "clinical", "*", 1, 0),
    ]
    # the empty day in between is listed, with null rates
    empty = data.filter(pl.col("window_start") == T0 + day)
    assert empty.height == 6
    assert empty["answers"].to_list() == [0] * 6
    assert empty["rate"].null_count() == 6
    assert empty["rate_lower"].null_count() == 6
    for row in data.filter(pl.col("answers") > 0).iter_rows(named=True):
        lower, upper = wilson_by_hand(row["violating"], row["answers"])
        assert row["rate"] == row["violating"] / row["answers"]
        assert row["rate_lower"] == pytest.approx(lower, abs=1e-12)
        assert row["rate_upper"] == pytest.approx(upper, abs=1e-12)
    # 0 of 1: the interval is [0, z²/(1+z²)], not empty
    assert data.row(0, named=True)["rate_upper"] == pytest.approx(3.8415 / 4.8415, abs=1e-4)


def test_rates_at_another_confidence_and_parameter_errors() -> None:
    answers = pl.DataFrame({"time": [T0] * 10, "answer": ["bad"] * 3 + ["ok"] * 7})
    rule = [Rule("no-bad", "forbidden", patterns=("bad",))]
    result = compliance.rates(answers, rule, confidence=0.9).filter(rule="no-bad")
    lower, upper = wilson_by_hand(3, 10, z=1.6448536269514722)
    assert result.select("rate_lower", "rate_upper").row(0) == pytest.approx((lower, upper))
    with pytest.raises(ParameterError, match=r"The 'every' parameter of compliance\.rates must be"):
        compliance.rates(answers, rule, every="daily")
    with pytest.raises(ParameterError, match=r"The 'by' parameter of compliance\.rates must name"):
        compliance.rates(answers, rule, by="region")
    with pytest.raises(SchemaError, match="expected UTC times"):
        compliance.rates(answers.with_columns(pl.col("time").dt.replace_time_zone(None)), rule)
    with pytest.raises(ParameterError, match=r"The 'text' parameter of compliance\.check must be"):
        compliance.check(answers, rule, text="output")
    with pytest.raises(ParameterError, match=r"The 'rules' parameter of compliance\.check must be"):
        compliance.check(answers, ["no-bad", 3])


def test_worst_ranks_by_severity_and_redacts(backend: str) -> None:
    rules = [
        Rule("pii", "forbidden", detectors=("email",), severity="critical"),
        Rule("cite", "required", any_of=("source",), severity="low"),
        Rule("certain", "forbidden", patterns=("definitely",), severity="high"),
    ]
    answers = frame(
        backend,
        {
            "answer": [
                "Source: WHO.",
                "definitely, definitely",
                "Mail bo@example.org definitely " + "x" * 50,
                "Rest.",
            ],
            "model": ["a", "b", "c", "d"],
        },
    )
    result = compliance.worst(answers, rules, n=3, chars=30, backend=backend)
    assert rows(result, "answer_id", "model", "score", "rules", "evidence", "answer") == [
        (
            2,
            "c",
            8,
            "pii, cite, certain",
            "[EMAIL] | none of the required patterns matched | definitely",
            "Mail [EMAIL] definitely xxx...",
        ),
        (
            1,
            "b",
            4,
            "cite, certain",
            "none of the required patterns matched | definitely | definitely",
            "definitely, definitely",
        ),
        (3, "d", 1, "cite", "none of the required patterns matched", "Rest."),
    ]


def test_change_point_and_the_release_that_coincides() -> None:
    hours = 24 * 10
    time = [T0 + dt.timedelta(hours=h) for h in range(hours)]
    release = 24 * 6
    bad = [(h % 10 == 0) if h < release else (h % 10 < 4) for h in range(hours)]
    answers = pl.DataFrame(
        {
            "time": time,
            "answer": ["You definitely have it." if b else "It may be a cold." for b in bad],
            "model": ["med-1"] * release + ["med-2"] * (hours - release),
            "resource.service.version": ["1.0"] * hours,
        }
    )
    rules = [Rule("certain", "forbidden", patterns=("definitely",))]
    changes = compliance.change_points(answers, rules, every="1d")
    assert changes.select("rule", "time", "release_column", "release_value").rows() == [
        ("certain", T0 + dt.timedelta(days=6), "model", "med-2"),
        ("*", T0 + dt.timedelta(days=6), "model", "med-2"),
    ]
    # hours 0..143 with h % 10 == 0: 15 of 144; hours 144..239 with h % 10 < 4: 36 of 96
    assert changes.select("rate_before", "rate_after").row(0) == pytest.approx((15 / 144, 36 / 96))
    found = compliance.releases(answers)
    assert found.select("column", "value", "first_seen", "answers").rows() == [
        ("model", "med-1", T0, release),
        ("resource.service.version", "1.0", T0, hours),
        ("model", "med-2", T0 + dt.timedelta(hours=release), hours - release),
    ]


# --- answers from telemetry ---------------------------------------------------------------------


def test_answers_from_spans_of_three_conventions() -> None:
    from toolkit.schema import SPANS, TIME

    def messages(text: str) -> str:
        return json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": text}]}])

    spans = pl.concat(
        [
            SPANS.empty(),
            pl.DataFrame(
                {
                    "trace_id": ["4bf92f3577b34da6a3ce929d0e0e4736"] * 3,
                    "span_id": ["00f067aa0ba902b7", "00f067aa0ba902b8", "00f067aa0ba902b9"],
                    "service_name": ["clinical-assistant"] * 3,
                    "kind": ["client"] * 3,
                    "start_time": pl.Series([0, 10**9, 2 * 10**9]).cast(TIME),
                    "duration_ms": [1.0] * 3,
                    "status_code": ["ok"] * 3,
                    "attributes.gen_ai.operation.name": ["chat", "chat", "chat"],
                    "attributes.gen_ai.response.model": ["med-2", None, None],
                    "attributes.gen_ai.output.messages": [messages("Take 2 g."), None, None],
                    "attributes.llm.output_messages.0.message.content": [None, "Rest.", None],
                    "attributes.gen_ai.completion.0.content": [None, None, "Drink water."],
                    "attributes.app.route": ["clinical-qa"] * 3,
                }
            ),
        ],
        how="diagonal",
    )
    result = compliance.answers(spans)
    assert result.select("answer_id", "answer", "model", "attributes.app.route").rows() == [
        ("00f067aa0ba902b7", "Take 2 g.", "med-2", "clinical-qa"),
        ("00f067aa0ba902b8", "Rest.", None, "clinical-qa"),
        ("00f067aa0ba902b9", "Drink water.", None, "clinical-qa"),
    ]
    assert result["time"].dtype == pl.Datetime("ns", "UTC")
    assert "attributes.gen_ai.output.messages" not in result.columns


def test_answers_from_a_table_file(tmp_path: Path, backend: str) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "id,ts,text,locale\nq1,2026-11-02T10:00:00Z,Take 2 g,en-GB\n"
        "q2,2026-11-02T11:00:00Z,Rest,de-DE\n"
    )
    result = compliance.answers(path, text="text", time="ts", id="id", backend=backend)
    assert rows(result, "answer_id", "time", "answer", "locale") == [
        ("q1", dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC), "Take 2 g", "en-GB"),
        ("q2", dt.datetime(2026, 11, 2, 11, tzinfo=dt.UTC), "Rest", "de-DE"),
    ]
    with pytest.raises(SchemaError, match="has no text column 'answer'"):
        compliance.answers(path)
    path.write_text("ts,answer\nyesterday,Rest\n")
    with pytest.raises(SchemaError, match="row 1: 'yesterday' is not an ISO 8601 time"):
        compliance.answers(path, time="ts")


@pytest.mark.real_data
def test_answers_from_real_agent_traces(real_data: Path) -> None:
    import toolkit

    folder = real_data / "any_agent_genai_traces"
    raw = [
        span
        for path in sorted(folder.glob("*.json"))
        for span in json.loads(path.read_text())["spans"]
        if span["attributes"].get("gen_ai.operation.name") == "call_llm"
    ]
    result = compliance.answers(toolkit.discover(folder, cache=False))
    expected = {
        format(s["context"]["span_id"], "016x"): s["attributes"]["gen_ai.output"] for s in raw
    }
    assert dict(zip(result["answer_id"], result["answer"], strict=True)) == expected


def test_support_says_what_is_missing() -> None:
    rules = compliance.load_rules(compliance.HEALTHCARE_RULES)
    no_text = compliance.support(
        pl.DataFrame({"answer": [None, None]}, schema={"answer": pl.String}), rules
    )
    assert not no_text.ok
    assert no_text.missing == ("answer text",)
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" in no_text.how
    other = compliance.support(pl.DataFrame({"answer": ["The router has 4 ports."]}), rules)
    assert other.missing == ("answers that a rule applies to", "a 'time' column")
    assert other.found == "1 answers with text, none that a rule applies to"
    fine = compliance.support(pl.DataFrame({"time": [T0], "answer": ["Take a dose."]}), rules)
    assert fine.ok
    assert fine.found == "1 answers with text, 1 that a rule applies to"


def test_the_sample_clinical_regression_is_in_its_truth_window() -> None:
    import toolkit

    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    truth = json.loads((sample / "truth.json").read_text(encoding="utf-8"))
    [incident] = [i for i in truth["incidents"] if i["id"] == "clinical-guideline-regression"]
    spans = toolkit.load_spans(sample / "clinical_traces.jsonl.gz", progress=False)
    answers = compliance.answers(spans)
    assert answers.height == truth["counts"]["clinical_answers"]
    found = compliance.regression(answers, compliance.HEALTHCARE_RULES, every="1d")
    start = dt.datetime.fromisoformat(incident["window"]["start"])
    assert found.start is not None
    assert found.start <= start < found.start + dt.timedelta(days=1)
    assert sorted(found.rules) == sorted(incident["rules"])
    assert found.release_value in set(incident["release"].values())
    assert found.rate_before is not None
    assert found.rate_after is not None
    assert found.rate_after > 2 * found.rate_before
