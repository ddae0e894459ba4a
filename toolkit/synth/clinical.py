"""The simulated clinical assistant: answers with captured content, and a release that breaks
the guideline rules more often.

A small service, ``clinical-assistant`` (route ``clinical-qa``), answers patients' health
questions through an OpenTelemetry-instrumented client that captures message content: one
``chat`` client span per answer, with ``gen_ai.input.messages`` (the question) and
``gen_ai.output.messages`` (the answer), written to its own OTLP JSON-lines file. Answers
follow the shipped rule set (:data:`toolkit.compliance.HEALTHCARE_RULES`) most of the time
and break a rule now and then; from a release of the service (a new
``service.version`` and ``gen_ai.response.model``) on, the new model drops the disclaimer,
states diagnoses as certain and states single doses above the usual maximum far more often.

Deterministic for a seed, byte for byte (gzip without a time stamp, fixed key order).

Examples
--------
>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     truth = write_clinical(pathlib.Path(d) / "clinical.jsonl.gz", days=7, seed=1)
>>> truth["incident"]["window"], truth["incident"]["rules"]
({'start': '2026-11-06T10:00:00Z', 'end': '2026-11-09T00:00:00Z'}, \
['disclaimer', 'certain-diagnosis', 'max-single-dose'])
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from toolkit._validation import InstanceOf, Interval, validate_params
from toolkit.synth._writers import attributes, encode_line, gzip_writer

__all__ = [
    "ANSWERS_PER_DAY",
    "CLINICAL_FILE",
    "INCIDENT_ID",
    "RATES_AFTER",
    "RATES_BEFORE",
    "RELEASE",
    "SERVICE",
    "write_clinical",
]

#: File name of the clinical assistant's traces in the sample.
CLINICAL_FILE = "clinical_traces.jsonl.gz"
SERVICE = "clinical-assistant"
#: The id of the release's entry in ``truth.json``.
INCIDENT_ID = "clinical-guideline-regression"
ROUTE = "clinical-qa"
#: Mean answers per day (a Poisson count per day, arrivals during waking hours).
ANSWERS_PER_DAY = 30
#: The versions before and after the release.
RELEASE: dict[str, tuple[str, str]] = {
    "service.version": ("2.3.1", "2.4.0"),
    "gen_ai.response.model": ("medassist-8b-2026-09", "medassist-8b-2026-11"),
}
REQUEST_MODEL = "medassist-8b"
#: Probability that an answer breaks each rule, before and after the release.
RATES_BEFORE: dict[str, float] = {
    "disclaimer": 0.03,
    "referral": 0.03,
    "source-citation": 0.04,
    "certain-diagnosis": 0.02,
    "personal-data": 0.01,
    "stop-medication": 0.01,
    "max-single-dose": 0.02,
}
RATES_AFTER: dict[str, float] = {
    **RATES_BEFORE,
    "disclaimer": 0.30,
    "certain-diagnosis": 0.15,
    "max-single-dose": 0.15,
}
#: The rules whose rate the release raises.
REGRESSED = ("disclaimer", "certain-diagnosis", "max-single-dose")
LOCALES = (("en-GB", 0.5), ("en-US", 0.35), ("en-IN", 0.15))

_START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
_NS = 1_000_000_000
_SCOPE = {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"}

# topic: (question, hedged assessment, certain assessment, advice, source, dose drug or None)
_TOPICS: tuple[tuple[str, str, str, str, str, str | None], ...] = (
    (
        "I've had a headache for two days. What can I take?",
        "This sounds like it may be a tension-type headache.",
        "You definitely have a tension-type headache.",
        "Rest, drink water, and take {dose} if you need pain relief.",
        "[NICE CKS: headache]",
        "paracetamol",
    ),
    (
        "My child has a fever of 38.5 C. Is that dangerous?",
        "A fever like this is often caused by a viral infection.",
        "It is definitely a viral infection.",
        "Keep them cool and give fluids; a fever usually settles within three days.",
        "[NHS: fever in children]",
        None,
    ),
    (
        "I pulled a muscle in my back lifting boxes. How do I treat the pain?",
        "This is likely a muscle strain.",
        "You clearly have a muscle strain.",
        "Keep moving gently and take {dose} with food for the pain.",
        "[NICE CKS: low back pain]",
        "ibuprofen",
    ),
    (
        "I have a sore throat and a cough. Do I need antibiotics?",
        "Most sore throats with a cough are caused by viruses.",
        "This is certainly a viral infection.",
        "Antibiotics do not help viral infections; honey and warm drinks ease the cough.",
        "[NICE NG84: sore throat]",
        None,
    ),
    (
        "I get a migraine every few weeks. What dose helps during an attack?",
        "These episodes could be migraines.",
        "You definitely have migraine.",
        "At the start of an attack, {dose} can help; rest in a dark room.",
        "[NICE CG150: headaches]",
        "aspirin",
    ),
    (
        "My blood pressure medication makes me dizzy. Should I change something?",
        "Dizziness can be a side effect of blood pressure medicine.",
        "This is clearly a side effect of your medicine.",
        "Stand up slowly and keep a note of when the dizziness happens.",
        "[NHS: low blood pressure]",
        None,
    ),
    (
        "I have a rash after starting amoxicillin. What should I do?",
        "A rash can be an allergic reaction to the antibiotic.",
        "You definitely have a penicillin allergy.",
        "Note when the rash started and whether it spreads.",
        "[BNF: amoxicillin]",
        None,
    ),
    (
        "My knee hurts after running. Which painkiller is best?",
        "This may be runner's knee, a common overuse injury.",
        "You obviously have runner's knee.",
        "Rest from running for a few days and take {dose} if needed.",
        "[NICE CKS: knee pain]",
        "naproxen",
    ),
)
# drug: (usual dose text, above-the-bound dose text)
_DOSES = {
    "paracetamol": ("paracetamol 500 mg to 1 g up to four times a day", "paracetamol 2 g at once"),
    "ibuprofen": ("ibuprofen 400 mg up to three times a day", "ibuprofen 1200 mg at once"),
    "aspirin": ("aspirin 900 mg", "aspirin 1.5 g"),
    "naproxen": ("naproxen 250 mg twice a day", "naproxen 1 g"),
}
_DISCLAIMER = "This is general information, not a substitute for medical advice."
_REFERRAL = (
    "See your doctor if it gets worse or lasts more than a week, and seek urgent care if "
    "you have trouble breathing."
)
_UNCITED_SOURCE = "[clinical guidance]"
_NAMES = ("sam.taylor", "priya.k", "j.murphy", "alex.chen", "m.garcia")


def _iso(ns: int) -> str:
    return (_START + dt.timedelta(microseconds=ns // 1000)).strftime("%Y-%m-%dT%H:%M:%SZ")


def release_ns(days: int) -> int:
    """Nanoseconds since the start at which the release goes out (10:00 UTC of day 4 of 7)."""
    return ((days * 4) // 7 * 24 + 10) * 3600 * _NS


def _answer(
    rng: np.random.Generator, topic: int, breaks: dict[str, bool]
) -> tuple[str, str, list[str]]:
    """The question, the answer and the rules it breaks (in rule-set order)."""
    question, hedged, certain, advice, source, drug = _TOPICS[topic]
    if breaks["max-single-dose"] and drug is None:
        breaks["max-single-dose"] = False
    parts = [certain if breaks["certain-diagnosis"] else hedged]
    if drug is not None:
        usual, above = _DOSES[drug]
        parts.append(advice.format(dose=above if breaks["max-single-dose"] else usual))
    else:
        parts.append(advice)
    if breaks["stop-medication"]:
        parts.append("If you feel better after a few days, stop taking your medication.")
    parts.append(_UNCITED_SOURCE if breaks["source-citation"] else source)
    if not breaks["referral"]:
        parts.append(_REFERRAL)
    if not breaks["disclaimer"]:
        parts.append(_DISCLAIMER)
    if breaks["personal-data"]:
        name = _NAMES[int(rng.integers(len(_NAMES)))]
        parts.append(f"I have sent a summary to {name}@example.com.")
    broken = [rule for rule in RATES_BEFORE if breaks[rule]]
    return question, " ".join(parts), broken


def _messages(role: str, text: str, finish: str | None = None) -> str:
    message: dict[str, Any] = {"role": role, "parts": [{"type": "text", "content": text}]}
    if finish is not None:
        message["finish_reason"] = finish
    return json.dumps([message], separators=(",", ":"))


@validate_params(
    path=InstanceOf(str, os.PathLike, description="a path"),
    days=Interval(int, 1, None, closed="left"),
    seed=Interval(int, 0, None),
    release=InstanceOf(bool),
    release_at=[Interval(int, 0, None), None],
)
def write_clinical(
    path: str | Path,
    *,
    days: int,
    seed: int,
    release: bool = True,
    release_at: int | None = None,
) -> dict[str, Any]:
    """Write the clinical assistant's traces (OTLP JSON lines, gzip) and return its truth.

    Parameters
    ----------
    path : str or path
        The file to write (:data:`CLINICAL_FILE` in the sample).
    days : int
        Days simulated from 2026-11-02 00:00 UTC.
    seed : int
        The run's seed (the clinical answers draw from their own stream of it).
    release : bool, default True
        Whether the release happens; False: the service keeps its old version and model
        (and its rule-breaking rates) all week.
    release_at : int, optional
        When the release goes out, in ns since the start; None: :func:`release_ns`. At or
        after the end of the period it does not happen.

    Returns
    -------
    dict
        ``incident`` (id, kind, window, slice, rules, release, cause, signal: the entry of
        ``truth.json``; None without a release in the period) and ``counts`` (answers, and
        answers breaking each rule before and after the release).

    Raises
    ------
    ParameterError
        If ``days`` is not a positive integer or ``release_at`` is negative.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     truth = write_clinical(pathlib.Path(d) / "c.jsonl.gz", days=2, seed=1, release=False)
    >>> truth["incident"], sum(truth["counts"]["breaking_after_release"].values())
    (None, 0)
    """
    rng = np.random.default_rng([seed, 20])
    end = days * 86_400 * _NS
    if not release:
        release_at = end
    elif release_at is None:
        release_at = release_ns(days)
    counts = rng.poisson(ANSWERS_PER_DAY, size=days)
    # waking hours: arrivals between 06:00 and 23:00 UTC, uniform
    times = np.sort(
        np.concatenate(
            [
                (day * 86_400 + rng.uniform(6 * 3600, 23 * 3600, size=int(n))) * _NS
                for day, n in enumerate(counts)
            ]
        ).astype(np.int64)
    )
    rules = list(RATES_BEFORE)
    broken_count = {"before": dict.fromkeys(rules, 0), "after": dict.fromkeys(rules, 0)}
    spans: list[dict[str, Any]] = []
    per_version: dict[str, list[dict[str, Any]]] = {}
    for start in times.tolist():
        after = start >= release_at
        rates = RATES_AFTER if after else RATES_BEFORE
        draws = rng.random(len(rules))
        breaks = {rule: bool(draw < rates[rule]) for rule, draw in zip(rules, draws, strict=True)}
        topic = int(rng.integers(len(_TOPICS)))
        question, answer, broken = _answer(rng, topic, breaks)
        for rule in broken:
            broken_count["after" if after else "before"][rule] += 1
        locale = LOCALES[int(np.searchsorted(np.cumsum([w for _, w in LOCALES]), rng.random()))][0]
        input_tokens = 60 + int(rng.integers(0, 80))
        output_tokens = max(len(answer) // 4, 20)
        duration = int((0.4 + 0.025 * output_tokens + rng.exponential(0.3)) * _NS)
        trace_id = rng.bytes(16).hex()
        span_id = rng.bytes(8).hex()
        version = RELEASE["service.version"][int(after)]
        model = RELEASE["gen_ai.response.model"][int(after)]
        span = {
            "traceId": trace_id,
            "spanId": span_id,
            "name": f"chat {REQUEST_MODEL}",
            "kind": 3,
            "startTimeUnixNano": str(start + int(_START.timestamp()) * _NS),
            "endTimeUnixNano": str(start + duration + int(_START.timestamp()) * _NS),
            "attributes": attributes(
                [
                    ("gen_ai.operation.name", "chat"),
                    ("gen_ai.provider.name", "openai"),
                    ("gen_ai.request.model", REQUEST_MODEL),
                    ("gen_ai.response.model", model),
                    ("gen_ai.usage.input_tokens", input_tokens),
                    ("gen_ai.usage.output_tokens", output_tokens),
                    ("gen_ai.response.finish_reasons", ["stop"]),
                    ("server.address", "medassist.internal"),
                    ("app.route", ROUTE),
                    ("user.locale", locale),
                    ("gen_ai.input.messages", _messages("user", question)),
                    ("gen_ai.output.messages", _messages("assistant", answer, "stop")),
                ]
            ),
        }
        spans.append(span)
        per_version.setdefault(version, []).append(span)
    out = Path(path)
    with gzip_writer(out) as stream:
        for version, group in per_version.items():
            for first in range(0, len(group), 100):
                line = {
                    "resourceSpans": [
                        {
                            "resource": {
                                "attributes": attributes(
                                    [
                                        ("service.name", SERVICE),
                                        ("deployment.environment.name", "prod"),
                                        ("service.version", version),
                                    ]
                                )
                            },
                            "scopeSpans": [{"scope": _SCOPE, "spans": group[first : first + 100]}],
                        }
                    ]
                }
                stream.write(encode_line(line))
    after_version = RELEASE["service.version"][1]
    old_model, new_model = RELEASE["gen_ai.response.model"]
    incident = (
        None
        if release_at >= end
        else {
            "id": INCIDENT_ID,
            "kind": "guideline_compliance_regression",
            "window": {"start": _iso(release_at), "end": _iso(end)},
            "slice": {"service.name": SERVICE, "app.route": ROUTE},
            "rules": list(REGRESSED),
            "release": {"service.version": after_version, "gen_ai.response.model": new_model},
            "cause": (
                f"release {after_version} of {SERVICE} (model {old_model} -> {new_model}) drops "
                "the disclaimer from about 30% of answers (3% before), states the diagnosis as "
                "certain in 15% (2%) and a single dose above the usual maximum in 15% of the "
                "answers that name a dose (2%); not rolled back"
            ),
            "signal": (
                "violation rates of the healthcare rule set (toolkit.compliance) on the answers in "
                "gen_ai.output.messages: disclaimer, certain-diagnosis and max-single-dose rise "
                "at the release; service.version and gen_ai.response.model change at the same time"
            ),
        }
    )
    return {
        "incident": incident,
        "counts": {
            "answers": len(spans),
            "breaking_before_release": broken_count["before"],
            "breaking_after_release": broken_count["after"],
        },
    }
