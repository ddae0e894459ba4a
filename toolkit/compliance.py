"""Generated answers checked against a guideline rule set: violations, rates, silent rules.

A rule set says what every applicable answer must contain, must not contain, and which
quantities it may state. Rules are written in a small YAML format (:func:`load_rules`) or
built in Python (:class:`Rule`), and applied per answer with the matched evidence
(:func:`check`, :func:`evaluate`). Over time they give violation rates with Wilson
intervals by route, model or locale (:func:`rates`), the worst answers (:func:`worst`),
the change points of the violation rate and the release that coincides
(:func:`change_points`, :func:`releases`), and the rules that matched nothing
(:func:`silent_rules`): a broken rule looks like perfect compliance.

The rule file
-------------
::

    version: 1                       # required, the format's version
    name: healthcare                 # optional
    description: ...                 # optional
    defaults:                        # optional, merged into every rule
      severity: medium               # low | medium | high | critical
      ignore_case: true              # patterns are case-insensitive (default true)
      when: {topic: [dose, symptom]} # a rule's own ``when`` replaces it key by key
    rules:
      - id: disclaimer               # [a-z0-9][a-z0-9_.-]*, unique
        type: required               # required | forbidden | bound | regex
        description: ...
        severity: high
        any_of: ["not a substitute for medical advice", "..."]   # at least one matches
        all_of: ["..."]                                          # every one matches
      - id: personal-data
        type: forbidden              # a match of any pattern or detector is a violation
        patterns: ["\\\\bMRN[: ]*\\\\d{6,10}\\\\b"]
        detectors: [email, phone]    # toolkit.redact's detectors, by name
      - id: max-single-dose
        type: bound                  # numbers with a unit, converted, against bounds
        unit: mg                     # kg | g | mg | mcg (also ug, µg)
        max: {paracetamol: 1000, ibuprofen: 800}   # per item, or one number for all
        min: {}                      # optional, same shape
        pattern: ...                 # optional: groups value, unit and (per item) item
      - id: stop-medication
        type: regex                  # a custom pattern
        pattern: "\\\\bstop taking your medication\\\\b"
        expect: absent               # absent (a match is a violation) | present
        when:                        # when the rule applies (all keys must hold)
          route: [clinical-*]        # shell-style wildcards; route/model/service/locale
          model: [llama-3*]          # columns are found by their usual names
          topic: [antibiotic]        # a whole word in the question or the answer
          columns: {attributes.user.tier: [pro]}   # any other column

``callable`` rules (a Python function of the answer text) are built with
:class:`Rule` only. Errors in a file raise :class:`toolkit.errors.FormatError` naming the
file, the line and the key.

Examples
--------
>>> import polars as pl
>>> rules = load_rules('''
... version: 1
... rules:
...   - id: disclaimer
...     type: required
...     any_of: ["not medical advice"]
...   - id: max-dose
...     type: bound
...     unit: mg
...     max: {paracetamol: 1000}
... ''')
>>> answers = pl.DataFrame({"answer": [
...     "Take paracetamol 500 mg. This is not medical advice.",
...     "Take paracetamol 2 g at once.",
... ]})
>>> check(answers, rules).select("answer_id", "rule", "evidence").rows()
[(1, 'disclaimer', None), (1, 'max-dose', 'paracetamol 2 g')]
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import os
import re
import statistics
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Frame,
    Interval,
    duration_ns,
    frame_in,
    frame_out,
    polars_duration,
    reject,
    validate_params,
)
from toolkit.errors import FormatError, ParameterError, SchemaError, ToolkitWarning, preview
from toolkit.redact import DEFAULT_PATTERNS, redact

__all__ = [
    "ANY_RULE",
    "CONDITION_COLUMNS",
    "HEALTHCARE_RULES",
    "SEVERITIES",
    "UNITS_MG",
    "Condition",
    "Regression",
    "Rule",
    "RuleSet",
    "SilentRuleWarning",
    "answers",
    "change_points",
    "check",
    "evaluate",
    "load_rules",
    "rates",
    "regression",
    "releases",
    "silent_rules",
    "slices",
    "support",
    "worst",
]

RuleType = Literal["required", "forbidden", "bound", "regex", "callable"]

#: The example rule set for a clinical assistant shipped with the toolkit.
HEALTHCARE_RULES: Path = Path(str(files("toolkit") / "data" / "compliance" / "healthcare.yaml"))

#: Severities, least to most severe (their rank weighs :func:`worst`).
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

#: Mass units of ``bound`` rules and their size in milligrams.
UNITS_MG: Mapping[str, float] = {
    "kg": 1e6,
    "g": 1e3,
    "mg": 1.0,
    "mcg": 1e-3,
    "ug": 1e-3,
    "µg": 1e-3,  # micro sign
    "μg": 1e-3,  # greek mu
}

#: Label of the rows of :func:`rates` that count answers violating any applicable rule.
ANY_RULE = "*"

#: Columns a ``when`` key (and a ``by`` name of :func:`rates`) is looked up in, first found
#: wins: the short name, the llm_calls / OTel attribute names.
CONDITION_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "route": (
        "route",
        "attributes.app.route",
        "attributes.route",
        "attributes.http.route",
    ),
    "model": (
        "model",
        "response_model",
        "request_model",
        "attributes.gen_ai.response.model",
        "attributes.gen_ai.request.model",
        "attributes.llm.model_name",
    ),
    "service": ("service", "service_name"),
    "locale": ("locale", "attributes.user.locale", "resource.user.locale"),
    "version": ("version", "resource.service.version", "service_version"),
}

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_NUMBER = r"(?P<value>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_UNIT = r"(?P<unit>kg|mg|mcg|ug|µg|μg|g)\b"
_EVIDENCE_CHARS = 200
_TYPES = ("required", "forbidden", "bound", "regex", "callable")


class SilentRuleWarning(ToolkitWarning):
    """Rules matched nothing in the answers checked (see :func:`silent_rules`)."""


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Condition:
    """When a rule applies: every given key must hold (an empty condition always holds).

    Parameters
    ----------
    route, model, service, locale : tuple of str
        Values (shell-style wildcards allowed) of the column found for the key through
        :data:`CONDITION_COLUMNS`. A frame without such a column makes the rule
        inapplicable (and :func:`silent_rules` says why).
    topic : tuple of str
        Keywords: the rule applies when one appears as a whole word (case-insensitive) in
        the question or in the answer.
    columns : tuple of (str, tuple of str)
        Any other column and its accepted values.

    Examples
    --------
    >>> Condition(route=("clinical-*",)).describe()
    'route in clinical-*'
    """

    route: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    locale: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def column_conditions(self) -> list[tuple[str, tuple[str, ...]]]:
        """The column conditions as (key, values) pairs, short keys first."""
        named = [
            (key, getattr(self, key))
            for key in ("route", "model", "service", "locale")
            if getattr(self, key)
        ]
        return named + list(self.columns)

    def describe(self) -> str:
        """The condition in words (empty when it always holds)."""
        parts = [f"{key} in {', '.join(values)}" for key, values in self.column_conditions()]
        if self.topic:
            parts.append(f"topic {', '.join(self.topic)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Rule:
    """One guideline rule (see the module docstring for the YAML form of each type).

    Parameters
    ----------
    id : str
        Unique identifier, ``[a-z0-9][a-z0-9_.-]*``.
    type : {"required", "forbidden", "bound", "regex", "callable"}
    description : str
    severity : {"low", "medium", "high", "critical"}, default "medium"
    when : Condition
        When the rule applies.
    any_of, all_of : tuple of str
        ``required``: patterns of which one / each must match.
    patterns : tuple of str
        ``forbidden``: patterns that must not match.
    detectors : tuple of str
        ``forbidden``: names of :data:`toolkit.redact.DEFAULT_PATTERNS` (email, phone,
        card, ...), with their validation (the Luhn check of cards).
    pattern : str, optional
        ``regex``: the pattern. ``bound``: the extraction pattern, with named groups
        ``value`` and ``unit`` (and ``item`` when bounds are per item); by default an item
        name followed within 40 characters by a number and a mass unit.
    expect : {"absent", "present"}, default "absent"
        ``regex``: whether a match or its absence is the violation.
    unit : str, optional
        ``bound``: the unit of the bounds, a key of :data:`UNITS_MG`.
    maximum, minimum : tuple of (str, float)
        ``bound``: per item (lower case) bounds; the item ``"*"`` bounds every quantity.
    ignore_case : bool, default True
    function : callable, optional
        ``callable``: called with the answer text, returns True/False (violation or not) or
        an iterable of ``(start, end)`` spans of offending text (empty: no violation).

    Examples
    --------
    >>> rule = Rule("no-guarantee", "forbidden", patterns=("guaranteed?",))
    >>> rule.findings("Recovery is guaranteed.")
    [(12, 22, 'forbidden pattern: guaranteed?')]
    """

    id: str
    type: RuleType
    description: str = ""
    severity: str = "medium"
    when: Condition = field(default_factory=Condition)
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    detectors: tuple[str, ...] = ()
    pattern: str | None = None
    expect: Literal["absent", "present"] = "absent"
    unit: str | None = None
    maximum: tuple[tuple[str, float], ...] = ()
    minimum: tuple[tuple[str, float], ...] = ()
    ignore_case: bool = True
    function: Callable[[str], Any] | None = None
    _compiled: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        def bad(parameter: str, expected: str, got: object) -> ParameterError:
            return reject(parameter, f"be {expected}", got=preview(got), function="compliance.Rule")

        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise bad("id", "a string of lower-case letters, digits, '_', '.' or '-'", self.id)
        if self.type not in _TYPES:
            raise bad("type", "one of " + ", ".join(map(repr, _TYPES)), self.type)
        if self.severity not in SEVERITIES:
            raise bad("severity", "one of " + ", ".join(map(repr, SEVERITIES)), self.severity)
        if not isinstance(self.when, Condition):
            raise bad("when", "a compliance.Condition", self.when)
        flags = re.IGNORECASE if self.ignore_case else 0

        def compile_all(parameter: str, texts: Sequence[str]) -> list[re.Pattern[str]]:
            out = []
            for text in texts:
                if not isinstance(text, str) or not text:
                    raise bad(parameter, "a sequence of non-empty regular expressions", text)
                try:
                    out.append(re.compile(text, flags))
                except re.error as exc:
                    raise bad(
                        parameter, f"valid regular expressions ({exc}, in {text!r})", text
                    ) from None
            return out

        compiled: dict[str, Any] = {}
        if self.type == "required":
            if not self.any_of and not self.all_of:
                raise bad("any_of", "non-empty for a required rule (or all_of)", self.any_of)
            compiled["any_of"] = compile_all("any_of", self.any_of)
            if self.any_of:  # one search instead of one per pattern
                compiled["any_of"] = [
                    re.compile("|".join(f"(?:{r.pattern})" for r in compiled["any_of"]), flags)
                ]
            compiled["all_of"] = compile_all("all_of", self.all_of)
        elif self.type == "forbidden":
            if not self.patterns and not self.detectors:
                raise bad("patterns", "non-empty for a forbidden rule (or detectors)", ())
            compiled["patterns"] = compile_all("patterns", self.patterns)
            known = {p.name: p for p in DEFAULT_PATTERNS}
            for name in self.detectors:
                if name not in known:
                    raise bad(
                        "detectors",
                        "names of toolkit.redact's detectors: " + ", ".join(known),
                        name,
                    )
            compiled["detectors"] = [known[name] for name in self.detectors]
        elif self.type == "regex":
            if self.pattern is None:
                raise bad("pattern", "a regular expression for a regex rule", None)
            if self.expect not in ("absent", "present"):
                raise bad("expect", "'absent' or 'present'", self.expect)
            compiled["pattern"] = compile_all("pattern", [self.pattern])[0]
        elif self.type == "bound":
            self._check_bound(bad, flags, compiled)
        elif not callable(self.function):
            raise bad(
                "function", "a callable of the answer text for a callable rule", self.function
            )
        object.__setattr__(self, "_compiled", compiled)

    def _check_bound(
        self, bad: Callable[[str, str, object], ParameterError], flags: int, out: dict[str, Any]
    ) -> None:
        if self.unit not in UNITS_MG:
            raise bad("unit", "one of " + ", ".join(map(repr, UNITS_MG)), self.unit)
        if not self.maximum and not self.minimum:
            raise bad("maximum", "non-empty for a bound rule (or minimum)", self.maximum)
        items: list[str] = []
        for parameter, bounds in (("maximum", self.maximum), ("minimum", self.minimum)):
            for pair in bounds:
                if (
                    not isinstance(pair, tuple)
                    or len(pair) != 2
                    or not isinstance(pair[0], str)
                    or isinstance(pair[1], bool)
                    or not isinstance(pair[1], int | float)
                    or not math.isfinite(pair[1])
                ):
                    raise bad(parameter, "(item, number) pairs", pair)
                if pair[0] != "*":
                    items.append(pair[0].lower())
        if self.pattern is not None:
            try:
                regex = re.compile(self.pattern, flags)
            except re.error as exc:
                raise bad("pattern", f"a valid regular expression ({exc})", self.pattern) from None
            groups = set(regex.groupindex)
            need = {"value", "unit"} | ({"item"} if items else set())
            if not need <= groups:
                raise bad(
                    "pattern",
                    "a pattern with the named groups " + ", ".join(sorted(need)),
                    self.pattern,
                )
        elif items:
            names = "|".join(re.escape(i) for i in sorted(set(items), key=len, reverse=True))
            regex = re.compile(rf"\b(?P<item>{names})\b[^.\n\d]{{0,40}}?{_NUMBER}\s*{_UNIT}", flags)
        else:
            regex = re.compile(rf"{_NUMBER}\s*{_UNIT}", flags)
        out["pattern"] = regex
        out["maximum"] = {k.lower(): float(v) for k, v in self.maximum}
        out["minimum"] = {k.lower(): float(v) for k, v in self.minimum}

    # --- applying ------------------------------------------------------------------------

    def findings(self, text: str) -> list[tuple[int | None, int | None, str]]:
        """The rule's violations in ``text``: ``(start, end, detail)`` per finding.

        ``start``/``end`` are character offsets of the offending text (None for a missing
        required element); ``detail`` says what was wrong.

        Examples
        --------
        >>> Rule("dose", "bound", unit="mg", maximum=(("ibuprofen", 800),)).findings(
        ...     "ibuprofen 1.2 g")
        [(0, 15, 'ibuprofen 1200 mg is above the maximum 800 mg')]
        """
        return self._apply(text)[1]

    def _apply(self, text: str) -> tuple[bool, list[tuple[int | None, int | None, str]]]:
        """Whether the rule's patterns matched anything, and its findings."""
        c = self._compiled
        if self.type == "required":
            hits_any = any(r.search(text) for r in c["any_of"])
            missing_all = [r.pattern for r in c["all_of"] if not r.search(text)]
            out: list[tuple[int | None, int | None, str]] = []
            if c["any_of"] and not hits_any:
                out.append((None, None, "none of the required patterns matched"))
            out += [(None, None, f"required pattern missing: {p}") for p in missing_all]
            matched = bool(hits_any) or len(missing_all) < len(c["all_of"])
            return matched, out
        if self.type == "forbidden":
            spans: list[tuple[int | None, int | None, str]] = []
            for regex in c["patterns"]:
                spans += [
                    (m.start(), m.end(), f"forbidden pattern: {regex.pattern}")
                    for m in regex.finditer(text)
                ]
            for detector in c["detectors"]:
                for m in detector.regex.finditer(text):
                    if detector.validate is None or detector.validate(m.group(0)):
                        spans.append((m.start(), m.end(), f"personal data ({detector.name})"))
            spans.sort(key=lambda s: (s[0] or 0, s[1] or 0))
            return bool(spans), spans
        if self.type == "regex":
            found = list(c["pattern"].finditer(text))
            if self.expect == "present":
                return bool(found), ([] if found else [(None, None, "pattern absent")])
            return bool(found), [(m.start(), m.end(), "pattern matched") for m in found]
        if self.type == "bound":
            return self._bound(text)
        result = self.function(text)  # type: ignore[misc]
        if isinstance(result, bool):
            return result, ([(None, None, "the function reported a violation")] if result else [])
        spans = [(int(a), int(b), "the function reported a violation") for a, b in result]
        return bool(spans), spans

    def _bound(self, text: str) -> tuple[bool, list[tuple[int | None, int | None, str]]]:
        c = self._compiled
        factor = UNITS_MG[self.unit or "mg"]
        matched = False
        out: list[tuple[int | None, int | None, str]] = []
        for m in c["pattern"].finditer(text):
            groups = m.groupdict()
            item = (groups.get("item") or "").lower()
            hi = c["maximum"].get(item, c["maximum"].get("*"))
            lo = c["minimum"].get(item, c["minimum"].get("*"))
            if hi is None and lo is None:
                continue
            matched = True
            unit = str(groups["unit"]).lower().replace("μ", "µ")
            amount = float(str(groups["value"]).replace(",", "")) * UNITS_MG[unit] / factor
            label = f"{item} " if item else ""
            shown = f"{amount:g} {self.unit}"
            if hi is not None and amount > hi:
                detail = f"{label}{shown} is above the maximum {hi:g} {self.unit}"
                out.append((m.start(), m.end(), detail))
            elif lo is not None and amount < lo:
                detail = f"{label}{shown} is below the minimum {lo:g} {self.unit}"
                out.append((m.start(), m.end(), detail))
        return matched, out


@dataclass(frozen=True)
class RuleSet:
    """Rules with a name, as :func:`load_rules` returns them.

    Examples
    --------
    >>> rules = load_rules(HEALTHCARE_RULES)
    >>> rules.name, "disclaimer" in rules.ids
    ('healthcare', True)
    """

    rules: tuple[Rule, ...]
    name: str = ""
    description: str = ""
    source: str | None = None

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if not isinstance(rule, Rule):
                raise reject(
                    "rules",
                    "be a sequence of compliance.Rule",
                    got=f"{preview(rule)} in it",
                    function="compliance.RuleSet",
                )
            if rule.id in seen:
                raise reject(
                    "rules",
                    "hold unique rule ids",
                    got=f"{rule.id!r} twice",
                    function="compliance.RuleSet",
                )
            seen.add(rule.id)

    @property
    def ids(self) -> tuple[str, ...]:
        """The rule ids, in order."""
        return tuple(r.id for r in self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Any:
        return iter(self.rules)

    def table(self) -> pl.DataFrame:
        """One row per rule: ``rule``, ``type``, ``severity``, ``applies_when``, ``description``.

        Examples
        --------
        >>> load_rules(HEALTHCARE_RULES).table().columns
        ['rule', 'type', 'severity', 'applies_when', 'description']
        """
        return pl.DataFrame(
            {
                "rule": [r.id for r in self.rules],
                "type": [r.type for r in self.rules],
                "severity": [r.severity for r in self.rules],
                "applies_when": [r.when.describe() or "always" for r in self.rules],
                "description": [r.description for r in self.rules],
            },
            schema=dict.fromkeys(
                ("rule", "type", "severity", "applies_when", "description"), pl.String
            ),
        )


# --------------------------------------------------------------------------- YAML


class _Reader:
    """Typed access to composed YAML nodes, with file/line errors."""

    def __init__(self, where: str | None) -> None:
        self.where = where

    def error(self, node: Any, problem: str, key: str | None = None) -> FormatError:
        line = None if node is None else int(node.start_mark.line) + 1
        return FormatError(problem, path=self.where, line=line, column=key)

    def mapping(self, node: Any, what: str, allowed: Sequence[str]) -> dict[str, tuple[Any, Any]]:
        import yaml

        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping; got {self.kind(node)}")
        out: dict[str, tuple[Any, Any]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise self.error(key_node, f"{what} has a key that is not a string")
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.error(
                    key_node,
                    f"{what} has an unknown key {key!r}{hint}; expected one of "
                    + ", ".join(allowed),
                    key,
                )
            if key in out:
                raise self.error(key_node, f"{what} has the key {key!r} twice", key)
            out[key] = (key_node, value_node)
        return out

    @staticmethod
    def kind(node: Any) -> str:
        import yaml

        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return f"the value {preview(getattr(node, 'value', None), 60)}"

    def scalar(self, node: Any, key: str, expected: str) -> Any:
        import yaml

        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, f"{key!r} must be {expected}; got {self.kind(node)}", key)
        return yaml.SafeLoader(" ").construct_object(node)

    def string(self, node: Any, key: str) -> str:
        value = self.scalar(node, key, "a string")
        if not isinstance(value, str) or not value:
            raise self.error(node, f"{key!r} must be a non-empty string; got {preview(value)}", key)
        return value

    def strings(self, node: Any, key: str) -> tuple[str, ...]:
        import yaml

        if isinstance(node, yaml.ScalarNode):
            return (self.string(node, key),)
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{key!r} must be a string or a list of strings", key)
        return tuple(self.string(item, key) for item in node.value)

    def regexes(self, node: Any, what: str, ignore_case: object) -> None:
        """Raise at the line of the first item of ``node`` that is not a valid pattern."""
        import yaml

        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for item in items:
            try:
                re.compile(str(item.value), re.IGNORECASE if ignore_case is not False else 0)
            except re.error as exc:
                raise self.error(
                    item,
                    f"{what} holds {preview(item.value, 60)}, not a valid regular expression "
                    f"({exc})",
                ) from None

    def number(self, node: Any, key: str) -> float:
        value = self.scalar(node, key, "a number")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.error(node, f"{key!r} must be a finite number; got {preview(value)}", key)
        return float(value)


_TOP_KEYS = ("version", "name", "description", "defaults", "rules")
_DEFAULT_KEYS = ("severity", "ignore_case", "when")
_WHEN_KEYS = ("route", "model", "service", "locale", "topic", "columns")
_RULE_KEYS: Mapping[str, tuple[str, ...]] = {
    "required": ("any_of", "all_of"),
    "forbidden": ("patterns", "detectors"),
    "bound": ("unit", "max", "min", "pattern"),
    "regex": ("pattern", "expect"),
}
_COMMON_KEYS = ("id", "type", "description", "severity", "when", "ignore_case")


def _when(reader: _Reader, node: Any, what: str) -> dict[str, Any]:
    import yaml

    entries = reader.mapping(node, what, _WHEN_KEYS)
    out: dict[str, Any] = {}
    for key, (_, value) in entries.items():
        if key == "columns":
            cols = reader.mapping(
                value,
                f"{what}.columns",
                [k.value for k, _ in value.value] if isinstance(value, yaml.MappingNode) else [],
            )
            out[key] = tuple((name, reader.strings(v, name)) for name, (_, v) in cols.items())
        else:
            out[key] = reader.strings(value, key)
    return out


def _bounds(reader: _Reader, node: Any, key: str) -> tuple[tuple[str, float], ...]:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return (("*", reader.number(node, key)),)
    allowed = [k.value for k, _ in node.value] if isinstance(node, yaml.MappingNode) else []
    entries = reader.mapping(node, f"{key!r}", allowed)
    return tuple((item.lower(), reader.number(v, item)) for item, (_, v) in entries.items())


def _rule(reader: _Reader, node: Any, index: int, defaults: Mapping[str, Any]) -> Rule:
    import yaml

    what = f"rule {index + 1}"
    if not isinstance(node, yaml.MappingNode):
        raise reader.error(node, f"{what} must be a mapping; got {reader.kind(node)}")
    keys = {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    for required in ("id", "type"):
        if required not in keys:
            raise reader.error(node, f"{what} has no {required!r}")
    rule_id = reader.string(keys["id"][1], "id")
    what = f"rule {rule_id!r}"
    kind = reader.string(keys["type"][1], "type")
    if kind not in _RULE_KEYS:
        raise reader.error(
            keys["type"][1],
            f"{what} has the type {kind!r}; expected one of "
            + ", ".join(_RULE_KEYS)
            + " (callable rules are built in Python)",
            "type",
        )
    entries = reader.mapping(node, what, (*_COMMON_KEYS, *_RULE_KEYS[kind]))
    kwargs: dict[str, Any] = {"id": rule_id, "type": kind}
    severity = dict(defaults).get("severity", "medium")
    ignore_case = dict(defaults).get("ignore_case", True)
    when = dict(defaults.get("when", {}))
    for key, (_, value) in entries.items():
        if key in ("id", "type"):
            continue
        if key == "description":
            kwargs[key] = reader.string(value, key)
        elif key == "severity":
            severity = reader.string(value, key)
            if severity not in SEVERITIES:
                raise reader.error(
                    value,
                    f"{what}: 'severity' must be one of {', '.join(SEVERITIES)}; got {severity!r}",
                    key,
                )
        elif key == "ignore_case":
            ignore_case = reader.scalar(value, key, "true or false")
            if not isinstance(ignore_case, bool):
                raise reader.error(value, f"{what}: 'ignore_case' must be true or false", key)
        elif key == "when":
            when.update(_when(reader, value, f"{what}.when"))
        elif key in ("any_of", "all_of", "patterns", "detectors"):
            kwargs[key] = reader.strings(value, key)
            if key != "detectors":
                reader.regexes(value, f"{what}: {key!r}", ignore_case)
        elif key in ("max", "min"):
            kwargs["maximum" if key == "max" else "minimum"] = _bounds(reader, value, key)
        elif key == "expect":
            kwargs[key] = reader.string(value, key)
        else:  # unit, pattern
            kwargs[key] = reader.string(value, key)
            if key == "pattern":
                reader.regexes(value, f"{what}: 'pattern'", ignore_case)
    kwargs.update(severity=severity, ignore_case=ignore_case, when=Condition(**when))
    try:
        return Rule(**kwargs)
    except ParameterError as exc:
        message = str(exc)
        found = re.search(r"The '(\w+)' parameter", message)
        param = found.group(1) if found else ""
        yaml_key = {"maximum": "max", "minimum": "min"}.get(param, param)
        at = entries[yaml_key][1] if yaml_key in entries else node
        reason = message.split(" must be ", 1)[-1] if " must be " in message else message
        reason = re.sub(r"\. Got .* instead\.$", "", reason, flags=re.DOTALL)
        raise reader.error(
            at, f"{what}: {yaml_key or 'the rule'!r} must be {reason}", yaml_key or None
        ) from None


def _source(path_or_text: object) -> tuple[str, str | None]:
    if isinstance(path_or_text, os.PathLike):
        path = Path(path_or_text)
    elif isinstance(path_or_text, str):
        if "\n" in path_or_text or ":" in path_or_text.split("/")[-1]:
            return path_or_text, None
        path = Path(path_or_text)
    else:
        raise reject(
            "path_or_text",
            "be a path or the YAML text of a rule set",
            got=preview(path_or_text),
            function="compliance.load_rules",
        )
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise reject(
            "path_or_text",
            "be a readable rule file or YAML text",
            got=f"{preview(str(path))} ({exc.strerror})",
            function="compliance.load_rules",
        ) from None


def load_rules(path_or_text: str | os.PathLike[str]) -> RuleSet:
    """Read a rule set from a YAML file or text (the format is in the module docstring).

    Parameters
    ----------
    path_or_text : str or path-like
        A file, or the YAML itself (any text with a line break or a colon).

    Returns
    -------
    RuleSet

    Raises
    ------
    FormatError
        If the YAML is malformed or does not follow the format: the message names the
        file, the line and the key, what was found and what was expected.
    ParameterError
        If the file cannot be read.

    Examples
    --------
    >>> load_rules("version: 1\\nrules:\\n  - id: cite\\n    type: required\\n"
    ...            "    any_of: [source]").ids
    ('cite',)
    >>> load_rules("version: 1\\nrules:\\n  - id: cite\\n    type: required\\n"
    ...            "    anyof: [source]")
    Traceback (most recent call last):
    ...
    toolkit.errors.FormatError: line 5, column 'anyof': rule 'cite' has an unknown key \
'anyof' (did you mean 'any_of'?); expected one of id, type, description, severity, when, \
ignore_case, any_of, all_of
    """
    import yaml

    text, where = _source(path_or_text)
    reader = _Reader(where)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(f"not valid YAML: {problem}", path=where, line=line) from None
    if root is None:
        raise FormatError("the rule set is empty; expected 'version: 1' and 'rules'", path=where)
    top = reader.mapping(root, "the rule set", _TOP_KEYS)
    if "version" not in top:
        raise reader.error(root, "the rule set has no 'version' (expected 'version: 1')")
    version = reader.scalar(top["version"][1], "version", "1")
    if version != 1 or isinstance(version, bool):
        raise reader.error(
            top["version"][1], f"'version' must be 1; got {preview(version)}", "version"
        )
    if "rules" not in top:
        raise reader.error(root, "the rule set has no 'rules' list")
    defaults: dict[str, Any] = {}
    if "defaults" in top:
        entries = reader.mapping(top["defaults"][1], "'defaults'", _DEFAULT_KEYS)
        for key, (_, value) in entries.items():
            if key == "when":
                defaults["when"] = _when(reader, value, "defaults.when")
            elif key == "severity":
                defaults[key] = reader.string(value, key)
                if defaults[key] not in SEVERITIES:
                    raise reader.error(
                        value,
                        f"'severity' must be one of {', '.join(SEVERITIES)}; got {defaults[key]!r}",
                        key,
                    )
            else:
                defaults[key] = reader.scalar(value, key, "true or false")
                if not isinstance(defaults[key], bool):
                    raise reader.error(value, "'ignore_case' must be true or false", key)
    rules_node = top["rules"][1]
    if not isinstance(rules_node, yaml.SequenceNode) or not rules_node.value:
        raise reader.error(rules_node, "'rules' must be a non-empty list of rules", "rules")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(rules_node.value):
        rule = _rule(reader, node, index, defaults)
        if rule.id in seen:
            raise reader.error(
                node, f"the rule id {rule.id!r} is used twice (first on line {seen[rule.id]})", "id"
            )
        seen[rule.id] = int(node.start_mark.line) + 1
        rules.append(rule)
    name = reader.string(top["name"][1], "name") if "name" in top else ""
    description = (
        reader.string(top["description"][1], "description") if "description" in top else ""
    )
    return RuleSet(tuple(rules), name=name, description=description, source=where)


def _ruleset(rules: object, function: str) -> RuleSet:
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, Rule):
        return RuleSet((rules,))
    if isinstance(rules, str | os.PathLike):
        return load_rules(rules)
    if isinstance(rules, Sequence) and rules and all(isinstance(r, Rule) for r in rules):
        return RuleSet(tuple(rules))
    raise reject(
        "rules",
        "be a RuleSet, a sequence of Rule, or a rule file",
        got=preview(rules),
        function=function,
    )


# --------------------------------------------------------------------------- answers


_OPENINFERENCE_OUTPUT = re.compile(r"^attributes\.llm\.output_messages\.(\d+)\.message\.content$")
_OPENINFERENCE_INPUT = re.compile(r"^attributes\.llm\.input_messages\.(\d+)\.message\.content$")
_OPENLLMETRY_OUTPUT = re.compile(r"^attributes\.gen_ai\.completion\.(\d+)\.content$")
_OPENLLMETRY_INPUT = re.compile(r"^attributes\.gen_ai\.prompt\.(\d+)\.content$")
_CONTENT_COLUMNS = re.compile(
    r"^(input_messages|output_messages|attributes\.gen_ai\.(input|output)\.messages"
    r"|attributes\.gen_ai\.system_instructions|attributes\.(input|output)\.value|attributes\.gen_ai\.output"
    r"|attributes\.llm\.(input|output)_messages\..*|attributes\.gen_ai\.(prompt|completion)\..*"
    r"|attributes\.gen_ai\.retrieval\.documents|attributes\.retrieval\.documents\..*)$"
)


def _numbered(frame: pl.DataFrame, pattern: re.Pattern[str]) -> pl.Expr | None:
    found = sorted(
        ((int(m.group(1)), c) for c in frame.columns if (m := pattern.match(c))),
    )
    if not found:
        return None
    parts = [pl.col(c).cast(pl.String) for _, c in found]
    return pl.concat_str(parts, separator="\n\n", ignore_nulls=True).replace("", None)


def _message_text(frame: pl.DataFrame, column: str, roles: Sequence[str] | None) -> pl.Series:
    from toolkit.quality import message_text

    return message_text(frame[column], roles=roles, column=column)


def _call_texts(calls: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """Answer and question text of each call, from every content convention found."""
    n = calls.height
    none = pl.Series([None] * n, dtype=pl.String)
    answer_parts: list[pl.Series] = []
    question_parts: list[pl.Series] = []
    for column in ("output_messages", "attributes.gen_ai.output.messages"):
        if column in calls.columns:
            answer_parts.append(_message_text(calls, column, None))
    for column in ("input_messages", "attributes.gen_ai.input.messages"):
        if column in calls.columns:
            question_parts.append(_message_text(calls, column, ["user"]))
    for pattern, parts in (
        (_OPENINFERENCE_OUTPUT, answer_parts),
        (_OPENLLMETRY_OUTPUT, answer_parts),
        (_OPENINFERENCE_INPUT, question_parts),
        (_OPENLLMETRY_INPUT, question_parts),
    ):
        expr = _numbered(calls, pattern)
        if expr is not None:
            parts.append(calls.select(expr).to_series())
    for column, parts in (
        ("attributes.output.value", answer_parts),
        ("attributes.gen_ai.output", answer_parts),  # any-agent's plain output
        ("attributes.input.value", question_parts),
    ):
        if column in calls.columns:
            parts.append(calls[column].cast(pl.String))

    def first(parts: list[pl.Series]) -> pl.Series:
        if not parts:
            return none
        return pl.select(pl.coalesce([pl.lit(p) for p in parts])).to_series()

    return first(answer_parts), first(question_parts)


@validate_params(backend=BACKEND)
def answers(
    source: Any,
    *,
    text: str = "answer",
    time: str = "time",
    id: str | None = None,
    question: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """The answers to check: one row per generated answer with its text and dimensions.

    ``source`` is what a user has:

    - a :class:`toolkit.Catalog` (from :func:`toolkit.discover`) or an ``llm_calls`` table
      (or a spans table, turned into one): the text of each call's output from the first
      convention found: ``output_messages`` (content log events), the span's
      ``gen_ai.output.messages``, OpenInference ``llm.output_messages.{i}.message.content``,
      OpenLLMetry ``gen_ai.completion.{i}.content``, OpenInference ``output.value``,
      any-agent's ``gen_ai.output``; the question likewise from the user input messages;
    - a table of answers (polars or pandas frame, or a CSV, Parquet or JSON-lines file)
      with a ``text`` column, a ``time`` column and optionally ``id`` and ``question``.

    Calls without captured output have a null ``answer``: :func:`evaluate` counts no rule
    as applicable to them.

    Parameters
    ----------
    source : Catalog, polars.DataFrame, pandas.DataFrame, str or path-like
    text, time, id, question : str
        Columns of a table of answers (ignored for calls). ``time`` may be absent.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``answer_id`` (String: the span id, the ``id`` column, else the row number),
        ``time`` (UTC; absent only when a table of answers has none), ``answer``,
        ``question``, then for calls ``trace_id``, ``service_name``, ``model`` (the
        response model, else the requested one) and the calls' dimension columns
        (``attributes.*``, ``resource.*``, message contents left out); for a table, its
        other columns.

    Raises
    ------
    SchemaError
        If a table of answers lacks the ``text`` column, or a time column is not a time.
    MissingTableError
        If a catalog holds no model calls.

    Examples
    --------
    >>> import polars as pl
    >>> a = answers(pl.DataFrame({"text": ["Rest."], "ts": ["2026-11-02T10:00:00Z"]}),
    ...             text="text", time="ts")
    >>> a.columns, a["time"].dtype
    (['answer_id', 'time', 'answer', 'question'], Datetime(time_unit='us', time_zone='UTC'))
    """
    function = "compliance.answers"
    if hasattr(source, "table") and hasattr(source, "has") and hasattr(source, "root"):
        out = _from_calls(source.table("llm_calls"))
    elif isinstance(source, str | os.PathLike):
        out = _from_table(_read_table(Path(source), function), text, time, id, question, function)
    else:
        frame = frame_in(source, parameter="source", function=function)
        if {"span_id", "start_time", "kind", "parent_span_id"} <= set(frame.columns):
            from toolkit.llm import llm_calls

            out = _from_calls(llm_calls(frame))
        elif {"span_id", "start_time", "operation", "request_model"} <= set(frame.columns):
            out = _from_calls(frame)
        else:
            out = _from_table(frame, text, time, id, question, function)
    return frame_out(out, backend)


def _read_table(path: Path, function: str) -> pl.DataFrame:
    name = path.name.lower().removesuffix(".gz")
    try:
        if name.endswith(".parquet"):
            return pl.read_parquet(path)
        if name.endswith(".csv"):
            return pl.read_csv(path, infer_schema_length=10000)
        if name.endswith((".jsonl", ".ndjson", ".json")):
            return pl.read_ndjson(path, infer_schema_length=10000)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise FormatError(
            f"could not be read as a table of answers ({preview(str(exc), 200)})", path=path
        ) from None
    raise reject(
        "source",
        "be a CSV, Parquet or JSON-lines file",
        got=preview(str(path)),
        function=function,
    )


def _from_calls(calls: pl.DataFrame) -> pl.DataFrame:
    answer, question = _call_texts(calls)
    model = pl.coalesce(
        *[pl.col(c) for c in ("response_model", "request_model") if c in calls.columns],
        pl.lit(None, dtype=pl.String),
    )
    dims = [
        c
        for c in calls.columns
        if c.startswith(("attributes.", "resource.")) and not _CONTENT_COLUMNS.match(c)
    ]
    return calls.select(
        pl.col("span_id").cast(pl.String).alias("answer_id"),
        pl.col("start_time").alias("time"),
        pl.lit(answer).alias("answer"),
        pl.lit(question).alias("question"),
        "trace_id",
        "service_name",
        model.alias("model"),
        *dims,
    )


def _from_table(
    frame: pl.DataFrame,
    text: str,
    time: str,
    id: str | None,
    question: str | None,
    function: str,
) -> pl.DataFrame:
    if text not in frame.columns:
        raise SchemaError(
            f"The table of answers given to {function} has no text column {text!r} "
            f"(available: {preview(', '.join(frame.columns), 300)}); name it with text=."
        )
    if frame.schema[text] not in (pl.String, pl.Null):
        raise SchemaError(
            f"Column {text!r} given to {function} must hold text; it is {frame.schema[text]}."
        )
    for name, column in (("id", id), ("question", question)):
        if column is not None and column not in frame.columns:
            raise reject(
                name,
                f"be a column of the table (available: {preview(', '.join(frame.columns), 300)})",
                got=preview(column),
                function=function,
            )
    cols: list[pl.Expr] = [
        (pl.col(id).cast(pl.String) if id else pl.int_range(pl.len()).cast(pl.String)).alias(
            "answer_id"
        )
    ]
    if time in frame.columns:
        cols.append(_as_time(frame, time, function).alias("time"))
    cols.append(pl.col(text).cast(pl.String).alias("answer"))
    cols.append(
        (pl.col(question).cast(pl.String) if question else pl.lit(None, dtype=pl.String)).alias(
            "question"
        )
    )
    used = {text, time, id, question, "answer_id", "answer", "question", "time"}
    return frame.select(*cols, *[c for c in frame.columns if c not in used])


def _as_time(frame: pl.DataFrame, column: str, function: str) -> pl.Expr:
    dtype = frame.schema[column]
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise SchemaError(
                f"Column {column!r} given to {function} holds times without a time zone; "
                "expected UTC times (convert with .dt.replace_time_zone('UTC'))."
            )
        return pl.col(column).dt.convert_time_zone("UTC")
    if dtype == pl.String:
        parsed = frame.select(
            pl.col(column).str.to_datetime(time_zone="UTC", strict=False, time_unit="us")
        ).to_series()
        bad = parsed.is_null() & frame[column].is_not_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise SchemaError(
                f"Column {column!r} given to {function}, row {row + 1}: "
                f"{preview(frame[column][row])} is not an ISO 8601 time with a zone."
            )
        return pl.lit(parsed)
    raise SchemaError(
        f"Column {column!r} given to {function} is {dtype}; expected UTC times or ISO 8601 text."
    )


# --------------------------------------------------------------------------- checking


def _column_for(frame: pl.DataFrame, key: str) -> str | None:
    for candidate in CONDITION_COLUMNS.get(key, (key,)):
        if candidate in frame.columns:
            return candidate
    return None


def _applicable(
    frame: pl.DataFrame, rule: Rule, text: str, question: str | None
) -> tuple[pl.Series, str]:
    """Which rows the rule applies to, and why none would (empty when some may)."""
    mask = frame[text].is_not_null()
    for key, values in rule.when.column_conditions():
        column = _column_for(frame, key) if key in CONDITION_COLUMNS else key
        if column is None or column not in frame.columns:
            return pl.Series([False] * frame.height), f"no {key} column for 'when: {key}'"
        regex = "^(?:" + "|".join(fnmatch.translate(v).removesuffix(r"\Z") for v in values) + ")$"
        mask = mask & frame[column].cast(pl.String).str.contains(regex).fill_null(False)
    if rule.when.topic:
        words = "|".join(re.escape(w) for w in rule.when.topic)
        regex = rf"(?i)\b(?:{words})\b"
        hit = frame[text].str.contains(regex).fill_null(False)
        if question is not None:
            hit = hit | frame[question].str.contains(regex).fill_null(False)
        mask = mask & hit
    return mask, ""


def _prepare(
    frame: Any, text: str, id: str | None, question: str | None, function: str
) -> tuple[pl.DataFrame, str, str | None]:
    data = frame_in(frame, parameter="frame", function=function)
    if text not in data.columns:
        raise reject(
            "text",
            f"be a column of the frame (available: {preview(', '.join(data.columns), 300)})",
            got=preview(text),
            function=function,
        )
    if data.schema[text] not in (pl.String, pl.Null):
        raise SchemaError(
            f"Column {text!r} given to {function} must hold text; it is {data.schema[text]}."
        )
    data = data.with_columns(pl.col(text).cast(pl.String))
    if id is None:
        id = "answer_id"
        if id not in data.columns:
            data = data.with_row_index(id).with_columns(pl.col(id).cast(pl.Int64))
    elif id not in data.columns:
        raise reject(
            "id",
            f"be a column of the frame (available: {preview(', '.join(data.columns), 300)})",
            got=preview(id),
            function=function,
        )
    if question is None and "question" in data.columns and data.schema["question"] == pl.String:
        question = "question"
    elif question is not None and question not in data.columns:
        raise reject(
            "question", "be a column of the frame", got=preview(question), function=function
        )
    return data, id, question


def _keep(data: pl.DataFrame, text: str, id: str, question: str | None) -> list[str]:
    drop = {text, question, id}
    return [id] + [c for c in data.columns if c not in drop and not _CONTENT_COLUMNS.match(c)]


def _evidence(text: str, start: int | None, end: int | None) -> str | None:
    if start is None or end is None:
        return None
    found = redact(text[start:end])
    return found if len(found) <= _EVIDENCE_CHARS else found[: _EVIDENCE_CHARS - 3] + "..."


def _run(
    data: pl.DataFrame, ruleset: RuleSet, text: str, question: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """Per rule: applicability, matches and violation counts per row; the findings."""
    texts = data[text].to_list()
    columns: dict[str, Any] = {}
    findings: list[dict[str, Any]] = []
    reasons: dict[str, str] = {}
    for rule in ruleset:
        mask, reason = _applicable(data, rule, text, question)
        reasons[rule.id] = reason
        applicable = mask.to_list()
        matched = [False] * data.height
        counts = [0] * data.height
        for row, (ok, value) in enumerate(zip(applicable, texts, strict=True)):
            if not ok:
                continue
            hit, found = rule._apply(value)
            matched[row] = hit
            counts[row] = len(found)
            for start, end, detail in found:
                findings.append(
                    {
                        "_row": row,
                        "rule": rule.id,
                        "severity": rule.severity,
                        "evidence": _evidence(value, start, end),
                        "start": start,
                        "end": end,
                        "detail": detail,
                    }
                )
        columns[rule.id] = (applicable, matched, counts)
    return columns, findings, reasons


_VIOLATION_SCHEMA: dict[str, pl.DataType] = {
    "_row": pl.UInt32(),
    "rule": pl.String(),
    "severity": pl.String(),
    "evidence": pl.String(),
    "start": pl.Int64(),
    "end": pl.Int64(),
    "detail": pl.String(),
}


def _warn_silent(
    ruleset: RuleSet, columns: Mapping[str, Any], has_text: bool, stacklevel: int
) -> None:
    if not has_text:
        return
    silent = [
        rule_id
        for rule_id, (applicable, matched, _) in columns.items()
        if not any(a and m for a, m in zip(applicable, matched, strict=True))
    ]
    if silent:
        warnings.warn(
            f"{len(silent)} rule(s) of {len(ruleset)} matched no answer: "
            + ", ".join(silent)
            + " (a broken rule looks like perfect compliance; see compliance.silent_rules)",
            SilentRuleWarning,
            stacklevel=stacklevel,
        )


@validate_params(frame=Frame(), backend=BACKEND)
def check(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    text: str = "answer",
    id: str | None = None,
    question: str | None = None,
    warn: bool = True,
    backend: Backend = "polars",
) -> Any:
    """The rule violations of each answer: one row per (answer, rule) finding.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        One row per answer, e.g. from :func:`answers`.
    rules : RuleSet, sequence of Rule, or a rule file
    text : str, default "answer"
        The column with the answer text (null: nothing is checked).
    id : str, optional
        The answer's id column; default ``answer_id`` (added as the row number when absent).
    question : str, optional
        The question column searched by ``topic`` conditions; default ``question`` when
        the frame has it.
    warn : bool, default True
        Warn (:class:`SilentRuleWarning`) when a rule matched no answer.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per violation, in answer then rule order: the id column, the frame's
        other columns (time, dimensions; message contents left out), ``rule``,
        ``severity``, ``evidence`` (the offending text, redacted with
        :func:`toolkit.redact.redact`; null for a missing required element), ``start`` and
        ``end`` (its character offsets in the answer), ``detail``. A missing required
        element is one row; every forbidden match, every out-of-bound quantity is one row.

    Examples
    --------
    >>> import polars as pl
    >>> rule = Rule("no-email", "forbidden", detectors=("email",))
    >>> check(pl.DataFrame({"answer": ["Write to ana@example.com."]}), [rule]).select(
    ...     "rule", "evidence", "start", "end").row(0)
    ('no-email', '[EMAIL]', 9, 24)
    """
    function = "compliance.check"
    ruleset = _ruleset(rules, function)
    data, id, question = _prepare(frame, text, id, question, function)
    columns, findings, _ = _run(data, ruleset, text, question)
    if warn:
        _warn_silent(ruleset, columns, bool(data[text].is_not_null().any()), stacklevel=3)
    found = pl.DataFrame(findings, schema=_VIOLATION_SCHEMA)
    keep = data.select(_keep(data, text, id, question)).with_row_index("_row")
    order = {rule_id: k for k, rule_id in enumerate(ruleset.ids)}
    out = (
        keep.join(found, on="_row", how="inner")
        .with_columns(pl.col("rule").replace_strict(order, return_dtype=pl.Int64).alias("_order"))
        .sort("_row", "_order", "start", maintain_order=True)
        .drop("_row", "_order")
    )
    return frame_out(out, backend)


@validate_params(frame=Frame(), backend=BACKEND)
def evaluate(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    text: str = "answer",
    id: str | None = None,
    question: str | None = None,
    warn: bool = True,
    backend: Backend = "polars",
) -> Any:
    """Pass or fail of every answer on every rule (the denominators of rates).

    Parameters
    ----------
    frame, rules, text, id, question, warn, backend
        As :func:`check`.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per (answer, rule), answers in order: the id column, the frame's other
        columns, ``rule``, ``severity``, ``applicable`` (the ``when`` condition holds and
        there is text), ``matched`` (the rule's patterns matched: a required element
        found, a forbidden pattern seen, a bounded quantity extracted), ``violations``
        (findings, as rows of :func:`check`), ``passed`` (no violation; null when not
        applicable).

    Examples
    --------
    >>> import polars as pl
    >>> rule = Rule("cite", "required", any_of=("source:",), when=Condition(topic=("dose",)))
    >>> evaluate(pl.DataFrame({"answer": ["The dose is 5 mg.", "Hi."]}), [rule],
    ...          warn=False).select("applicable", "matched", "passed").rows()
    [(True, False, False), (False, False, None)]
    """
    function = "compliance.evaluate"
    ruleset = _ruleset(rules, function)
    data, id, question = _prepare(frame, text, id, question, function)
    columns, _, _ = _run(data, ruleset, text, question)
    if warn:
        _warn_silent(ruleset, columns, bool(data[text].is_not_null().any()), stacklevel=3)
    out = _evaluation(data, ruleset, columns, text, id, question)
    return frame_out(out, backend)


def _evaluation(
    data: pl.DataFrame,
    ruleset: RuleSet,
    columns: Mapping[str, Any],
    text: str,
    id: str,
    question: str | None,
) -> pl.DataFrame:
    keep = data.select(_keep(data, text, id, question))
    parts = []
    for k, rule in enumerate(ruleset):
        applicable, matched, counts = columns[rule.id]
        parts.append(
            keep.with_row_index("_row").with_columns(
                pl.lit(k, dtype=pl.Int64).alias("_order"),
                pl.lit(rule.id).alias("rule"),
                pl.lit(rule.severity).alias("severity"),
                pl.Series("applicable", applicable, dtype=pl.Boolean),
                pl.Series("matched", matched, dtype=pl.Boolean),
                pl.Series("violations", counts, dtype=pl.Int64),
            )
        )
    out = pl.concat(parts).sort("_row", "_order").drop("_row", "_order")
    return out.with_columns(
        pl.when(pl.col("applicable")).then(pl.col("violations") == 0).alias("passed")
    )


# --------------------------------------------------------------------------- over time


def _keys(by: str | Sequence[str] | None, data: pl.DataFrame, function: str) -> dict[str, str]:
    """``by`` names -> the frame's columns (short names through CONDITION_COLUMNS)."""
    names = [] if by is None else [by] if isinstance(by, str) else list(by)
    out: dict[str, str] = {}
    for name in names:
        column = name if name in data.columns else _column_for(data, name)
        if not isinstance(name, str) or column is None:
            raise reject(
                "by",
                f"name columns of the frame (or {', '.join(CONDITION_COLUMNS)}; available: "
                f"{preview(', '.join(data.columns), 300)})",
                got=preview(name),
                function=function,
            )
        out[name] = column
    return out


def _check_every(every: object, function: str, parameter: str = "every") -> str:
    """A window width of the toolkit's one duration grammar as polars' duration text."""
    return polars_duration(every, parameter=parameter, function=function)


def _time_of(data: pl.DataFrame, time: str, function: str) -> None:
    if time not in data.columns:
        raise reject(
            "time",
            f"be a column of the frame (available: {preview(', '.join(data.columns), 300)})",
            got=preview(time),
            function=function,
        )
    dtype = data.schema[time]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise SchemaError(
            f"Column {time!r} given to {function} is {dtype}; expected UTC times "
            "(Datetime with a time zone)."
        )


def _wilson(k: pl.Expr, n: pl.Expr, z: float) -> tuple[pl.Expr, pl.Expr]:
    n = n.cast(pl.Float64)
    p = k.cast(pl.Float64) / n
    denominator = 1.0 + z * z / n
    center = (p + z * z / (2.0 * n)) / denominator
    half = z / denominator * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()
    lower = pl.when(n > 0).then((center - half).clip(0.0, 1.0))
    upper = pl.when(n > 0).then((center + half).clip(0.0, 1.0))
    return lower, upper


@validate_params(
    frame=Frame(),
    confidence=Interval(float, 0, 1, closed="neither", description="a number between 0 and 1"),
    backend=BACKEND,
)
def rates(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    time: str = "time",
    every: str = "1d",
    by: str | Sequence[str] | None = None,
    text: str = "answer",
    id: str | None = None,
    question: str | None = None,
    confidence: float = 0.95,
    backend: Backend = "polars",
) -> Any:
    """Violation rates per time window (and slice), per rule and over all rules.

    The rate of a rule is the share of the answers it applies to that violate it, with
    the Wilson score interval (which stays inside [0, 1] and is not empty at 0 or n
    violations). The rows of rule :data:`ANY_RULE` count the answers that violate at
    least one applicable rule, among those to which some rule applies.

    Parameters
    ----------
    frame, rules, text, id, question
        As :func:`check`.
    time : str, default "time"
        UTC time column.
    every : str, default "1d"
        Window width (polars duration). Windows without answers between the first and
        the last are listed with 0 answers and null rates.
    by : str or list of str, optional
        Slice columns; ``"route"``, ``"model"``, ``"service"``, ``"locale"`` and
        ``"version"`` are found through :data:`CONDITION_COLUMNS` (the output column keeps
        the name given).
    confidence : float, default 0.95
        Level of the intervals.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``window_start``, the ``by`` columns, ``rule``, ``answers`` (applicable answers),
        ``violating`` (answers with a violation), ``rate``, ``rate_lower``,
        ``rate_upper``; sorted by rule (in rule set order, ``*`` last), slice, window.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, h, tzinfo=dt.UTC) for h in (1, 2, 3, 4)]
    >>> a = pl.DataFrame({"time": t, "answer": ["ok", "bad", "ok", "ok"]})
    >>> r = rates(a, [Rule("no-bad", "forbidden", patterns=("bad",))])
    >>> r.filter(rule="no-bad").select("answers", "violating", "rate").row(0)
    (4, 1, 0.25)
    >>> [round(v, 4) for v in r.filter(rule="no-bad").select("rate_lower", "rate_upper").row(0)]
    [0.0456, 0.6994]
    """
    function = "compliance.rates"
    every = _check_every(every, function)
    ruleset = _ruleset(rules, function)
    data, id, question = _prepare(frame, text, id, question, function)
    _time_of(data, time, function)
    keys = _keys(by, data, function)
    columns, _, _ = _run(data, ruleset, text, question)
    out = _rates(data, ruleset, columns, time, every, keys, float(confidence))
    return frame_out(out, backend)


def _rates(
    data: pl.DataFrame,
    ruleset: RuleSet,
    columns: Mapping[str, Any],
    time: str,
    every: str,
    keys: Mapping[str, str],
    confidence: float,
) -> pl.DataFrame:
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2.0)
    base = data.select(
        pl.col(time).dt.truncate(every).alias("window_start"),
        *[pl.col(c).alias(name) for name, c in keys.items()],
    )
    parts = []
    any_applicable = [False] * data.height
    any_violating = [False] * data.height
    for rule in ruleset:
        applicable, _, counts = columns[rule.id]
        violating = [a and c > 0 for a, c in zip(applicable, counts, strict=True)]
        any_applicable = [x or a for x, a in zip(any_applicable, applicable, strict=True)]
        any_violating = [x or v for x, v in zip(any_violating, violating, strict=True)]
        parts.append((rule.id, applicable, violating))
    parts.append((ANY_RULE, any_applicable, any_violating))
    names = list(keys)
    grid = base.select("window_start").unique()
    if data.height:
        dtype = data.schema[time]
        lo, hi = base["window_start"].min(), base["window_start"].max()
        grid = pl.select(
            pl.datetime_range(pl.lit(lo, dtype=dtype), pl.lit(hi, dtype=dtype), every).alias(
                "window_start"
            )
        )
    if names:
        grid = grid.join(base.select(names).unique(), how="cross")
    tables = []
    for k, (rule_id, applicable, violating) in enumerate(parts):
        counted = (
            base.with_columns(
                pl.Series("_a", applicable, dtype=pl.Boolean),
                pl.Series("_v", violating, dtype=pl.Boolean),
            )
            .filter(pl.col("_a"))
            .group_by("window_start", *names)
            .agg(
                pl.len().cast(pl.Int64).alias("answers"),
                pl.col("_v").sum().cast(pl.Int64).alias("violating"),
            )
        )
        tables.append(
            grid.join(counted, on=["window_start", *names], how="left").with_columns(
                pl.lit(rule_id).alias("rule"),
                pl.lit(k, dtype=pl.Int64).alias("_order"),
                pl.col("answers", "violating").fill_null(0),
            )
        )
    lower, upper = _wilson(pl.col("violating"), pl.col("answers"), z)
    out = (
        pl.concat(tables)
        .with_columns(
            pl.when(pl.col("answers") > 0)
            .then(pl.col("violating") / pl.col("answers"))
            .alias("rate"),
            lower.alias("rate_lower"),
            upper.alias("rate_upper"),
        )
        .sort("_order", *names, "window_start", nulls_last=True)
        .select(
            "window_start",
            *names,
            "rule",
            "answers",
            "violating",
            "rate",
            "rate_lower",
            "rate_upper",
        )
    )
    return out


@validate_params(
    frame=Frame(),
    n=Interval(int, 1, None),
    chars=Interval(int, 1, None),
    backend=BACKEND,
)
def worst(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    n: int = 10,
    text: str = "answer",
    id: str | None = None,
    question: str | None = None,
    chars: int = 300,
    backend: Backend = "polars",
) -> Any:
    """The answers with the most severe violations, redacted, for a reader to look at.

    Answers are ranked by the sum of their violated rules' severity ranks (low 1 ...
    critical 4), then by the number of findings, then in frame order.

    Parameters
    ----------
    frame, rules, text, id, question, backend
        As :func:`check`.
    n : int, default 10
        Answers returned.
    chars : int, default 300
        The answer text is cut to this many characters (after redaction).

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per answer: the id column, the frame's other columns, ``score``,
        ``rules`` (the violated rule ids, comma-separated, in rule set order),
        ``evidence`` (the findings' redacted evidence or detail, `` | ``-separated),
        ``answer`` (the redacted, cut text).

    Examples
    --------
    >>> import polars as pl
    >>> rules = [Rule("no-email", "forbidden", detectors=("email",), severity="critical"),
    ...          Rule("cite", "required", any_of=("source:",), severity="low")]
    >>> a = pl.DataFrame({"answer": ["Source: WHO.", "Mail bo@example.org", "Rest."]})
    >>> worst(a, rules, n=2).select("answer_id", "score", "rules", "answer").rows()
    [(1, 5, 'no-email, cite', 'Mail [EMAIL]'), (2, 1, 'cite', 'Rest.')]
    """
    function = "compliance.worst"
    ruleset = _ruleset(rules, function)
    data, id, question = _prepare(frame, text, id, question, function)
    _, findings, _ = _run(data, ruleset, text, question)
    rank = {s: k + 1 for k, s in enumerate(SEVERITIES)}
    order = {rule_id: k for k, rule_id in enumerate(ruleset.ids)}
    found = pl.DataFrame(findings, schema=_VIOLATION_SCHEMA).with_columns(
        pl.col("rule").replace_strict(order, return_dtype=pl.Int64).alias("_order"),
        pl.col("severity").replace_strict(rank, return_dtype=pl.Int64).alias("_rank"),
        pl.coalesce("evidence", "detail").alias("_shown"),
    )
    per_rule = found.group_by("_row", "rule", "_order").agg(
        pl.col("_rank").first(), pl.len().alias("_n"), pl.col("_shown").str.join(" | ")
    )
    per_answer = (
        per_rule.sort("_order")
        .group_by("_row")
        .agg(
            pl.col("_rank").sum().cast(pl.Int64).alias("score"),
            pl.col("_n").sum().alias("_findings"),
            pl.col("rule").str.join(", ").alias("rules"),
            pl.col("_shown").str.join(" | ").alias("evidence"),
        )
        .sort(["score", "_findings", "_row"], descending=[True, True, False])
        .head(n)
    )
    kept = _keep(data, text, id, question)
    keep = data.select(*kept, pl.col(text).alias("_text")).with_row_index("_row")
    out = per_answer.join(keep, on="_row", how="left", maintain_order="left")
    shown = [_cut(redact(value), chars) for value in out["_text"].to_list()]
    out = out.with_columns(pl.Series("answer", shown, dtype=pl.String)).select(
        *kept, "score", "rules", "evidence", "answer"
    )
    return frame_out(out, backend)


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(chars - 3, 1)] + "..."


@validate_params(frame=Frame(), backend=BACKEND)
def silent_rules(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    time: str = "time",
    every: str | None = None,
    text: str = "answer",
    id: str | None = None,
    question: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """The rules that matched nothing, over the whole frame or in a window.

    A rule whose patterns never match looks like perfect compliance (a forbidden pattern
    with a typo) or like a total failure (a required one); a rule that never applies
    (a ``when`` naming a route the data calls otherwise) checks nothing. Both are listed.

    Parameters
    ----------
    frame, rules, text, id, question, backend
        As :func:`check`.
    time : str, default "time"
        UTC time column (used with ``every`` only).
    every : str, optional
        Look per window: a rule silent in a window while answers were checked in it is
        listed for that window (e.g. a release changed the wording the rule looks for).
        Default: the whole frame is one period.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per silent rule (and window): ``window_start`` (with ``every`` only),
        ``rule``, ``type``, ``answers`` (with text in the period), ``applicable``,
        ``matched``, ``reason`` ("never applicable: ..." or "its patterns matched none of
        the N answers it applies to").

    Examples
    --------
    >>> import polars as pl
    >>> rules = [Rule("typo", "forbidden", patterns=("definately",)),
    ...          Rule("cite", "required", any_of=("source",))]
    >>> a = pl.DataFrame({"answer": ["You definitely have it. Source: WHO."]})
    >>> silent_rules(a, rules).select("rule", "applicable", "reason").rows()
    [('typo', 1, 'its patterns matched none of the 1 answers it applies to')]
    """
    function = "compliance.silent_rules"
    if every is not None:
        every = _check_every(every, function)
    ruleset = _ruleset(rules, function)
    data, id, question = _prepare(frame, text, id, question, function)
    if every is not None:
        _time_of(data, time, function)
    columns, _, reasons = _run(data, ruleset, text, question)
    window = (
        data.select(pl.col(time).dt.truncate(every).alias("window_start"))
        if every is not None
        else pl.DataFrame({"window_start": [0] * data.height}, schema={"window_start": pl.Int64})
    )
    has_text = data[text].is_not_null()
    rows = []
    for rule in ruleset:
        applicable, matched, _ = columns[rule.id]
        counted = (
            window.with_columns(
                has_text.alias("_t"),
                pl.Series("_a", applicable, dtype=pl.Boolean),
                pl.Series(
                    "_m",
                    [a and m for a, m in zip(applicable, matched, strict=True)],
                    dtype=pl.Boolean,
                ),
            )
            .group_by("window_start", maintain_order=True)
            .agg(
                pl.col("_t").sum().cast(pl.Int64).alias("answers"),
                pl.col("_a").sum().cast(pl.Int64).alias("applicable"),
                pl.col("_m").sum().cast(pl.Int64).alias("matched"),
            )
            .filter((pl.col("answers") > 0) & (pl.col("matched") == 0))
        )
        for start, n_text, n_app, n_match in counted.iter_rows():
            if n_app == 0:
                why = reasons[rule.id] or f"no answer has {rule.when.describe()}"
                reason = f"never applicable: {why}"
            else:
                reason = f"its patterns matched none of the {n_app} answers it applies to"
            rows.append(
                {
                    "window_start": start,
                    "rule": rule.id,
                    "type": rule.type,
                    "answers": n_text,
                    "applicable": n_app,
                    "matched": n_match,
                    "reason": reason,
                }
            )
    schema: dict[str, Any] = {
        "window_start": window.schema["window_start"],
        "rule": pl.String,
        "type": pl.String,
        "answers": pl.Int64,
        "applicable": pl.Int64,
        "matched": pl.Int64,
        "reason": pl.String,
    }
    out = pl.DataFrame(rows, schema=schema)
    if every is None:
        out = out.drop("window_start")
    else:
        out = out.sort("window_start", maintain_order=True)
    return frame_out(out, backend)


@validate_params(frame=Frame(), backend=BACKEND)
def releases(
    frame: Any,
    *,
    time: str = "time",
    columns: Sequence[str] | None = None,
    backend: Backend = "polars",
) -> Any:
    """When each version of the service or model first appeared in the answers.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
        Answers (or any table with a time column).
    time : str, default "time"
    columns : sequence of str, optional
        Version columns. Default: those of :data:`CONDITION_COLUMNS` ``version`` and
        ``model`` found in the frame (``resource.service.version``, ``model``...).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per (column, value), by first appearance: ``column``, ``value``,
        ``first_seen``, ``last_seen``, ``answers``. The first value of each column (in
        use from the start) is included.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, d, tzinfo=dt.UTC) for d in (2, 3, 4)]
    >>> f = pl.DataFrame({"time": t, "model": ["m-1", "m-1", "m-2"]})
    >>> releases(f).select("value", "first_seen").rows()[1]
    ('m-2', datetime.datetime(2026, 11, 4, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')))
    """
    function = "compliance.releases"
    data: pl.DataFrame = frame
    _time_of(data, time, function)
    if columns is None:
        found = [_column_for(data, "version"), _column_for(data, "model")]
        chosen = [c for c in found if c is not None]
    else:
        chosen = list(columns)
        for c in chosen:
            if c not in data.columns:
                raise reject(
                    "columns",
                    "name columns of the frame "
                    f"(available: {preview(', '.join(data.columns), 300)})",
                    got=preview(c),
                    function=function,
                )
    parts = [
        data.filter(pl.col(c).is_not_null())
        .group_by(pl.col(c).cast(pl.String).alias("value"))
        .agg(
            pl.col(time).min().alias("first_seen"),
            pl.col(time).max().alias("last_seen"),
            pl.len().cast(pl.Int64).alias("answers"),
        )
        .select(pl.lit(c).alias("column"), "value", "first_seen", "last_seen", "answers")
        for c in chosen
    ]
    schema: dict[str, Any] = {
        "column": pl.String,
        "value": pl.String,
        "first_seen": data.schema[time],
        "last_seen": data.schema[time],
        "answers": pl.Int64,
    }
    out = pl.concat([pl.DataFrame(schema=schema), *parts]).sort("first_seen", "column")
    return frame_out(out, backend)


@validate_params(frame=Frame(), backend=BACKEND)
def change_points(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    time: str = "time",
    every: str = "1d",
    text: str = "answer",
    id: str | None = None,
    question: str | None = None,
    penalty: float | None = None,
    tolerance: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """Where the violation rate of each rule (and of any rule) changes level, and why.

    The per-window rates of :func:`rates` go to :func:`toolkit.drift.change_points`
    (PELT, each window weighted by its applicable answers). Each change is matched with
    the release (:func:`releases`) first seen closest to it, within ``tolerance``.

    Parameters
    ----------
    frame, rules, text, id, question
        As :func:`check`.
    time : str, default "time"
    every : str, default "1d"
        Window width of the rate series.
    penalty : float, optional
        Passed to :func:`toolkit.drift.change_points`.
    tolerance : str, optional
        How far a release may be from the change: default ``every``.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per change: ``rule``, ``time`` (first window of the new level),
        ``rate_before``, ``rate_after``, ``shift``, ``release_column``,
        ``release_value``, ``release_time`` (null when no release is within tolerance).

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(hours=h)
    ...      for h in range(240)]
    >>> bad = [h >= 120 and h % 2 == 0 for h in range(240)]
    >>> f = pl.DataFrame({"time": t, "answer": ["bad" if b else "ok" for b in bad],
    ...                   "model": ["m-1"] * 120 + ["m-2"] * 120})
    >>> change_points(f, [Rule("no-bad", "forbidden", patterns=("bad",))], every="12h"
    ...               ).select("rule", "time", "shift", "release_value").rows()[0][2:]
    (0.5, 'm-2')
    """
    function = "compliance.change_points"
    every = _check_every(every, function)
    if tolerance is not None:
        tolerance = _check_every(tolerance, function, "tolerance")
    from toolkit import drift

    ruleset = _ruleset(rules, function)
    data, id, question = _prepare(frame, text, id, question, function)
    _time_of(data, time, function)
    columns, _, _ = _run(data, ruleset, text, question)
    series = _rates(data, ruleset, columns, time, every, {}, 0.95)
    found = releases(data, time=time)
    reach = _duration(tolerance or every)
    rows = []
    for rule_id in (*ruleset.ids, ANY_RULE):
        points = series.filter(pl.col("rule") == rule_id)
        changes = drift.change_points(
            points,
            value_column="rate",
            time="window_start",
            weight_column="answers",
            penalty=penalty,
        )
        for change in changes.iter_rows(named=True):
            at = change["time"]
            near = found.filter(
                (pl.col("first_seen") > found["first_seen"].min())
                & ((pl.col("first_seen") - at).abs() <= reach)
            ).with_columns((pl.col("first_seen") - at).abs().alias("_gap"))
            release = near.sort("_gap").row(0, named=True) if near.height else None
            rows.append(
                {
                    "rule": rule_id,
                    "time": at,
                    "rate_before": change["mean_before"],
                    "rate_after": change["mean_after"],
                    "shift": change["shift"],
                    "release_column": release["column"] if release else None,
                    "release_value": release["value"] if release else None,
                    "release_time": release["first_seen"] if release else None,
                }
            )
    dtype = data.schema[time]
    schema: dict[str, Any] = {
        "rule": pl.String,
        "time": dtype,
        "rate_before": pl.Float64,
        "rate_after": pl.Float64,
        "shift": pl.Float64,
        "release_column": pl.String,
        "release_value": pl.String,
        "release_time": dtype,
    }
    out = pl.DataFrame(rows, schema=schema)
    return frame_out(out, backend)


def _duration(every: object) -> dt.timedelta:
    """A duration of the toolkit's one grammar as a timedelta (whole microseconds)."""
    return dt.timedelta(microseconds=duration_ns(every, parameter="every") // 1000)


_HOW = (
    "capture the answers' content: set OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true "
    "(gen_ai.output.messages on the spans or content log events), or give a table of answers "
    "(CSV, Parquet or JSON lines with the answer text and its time)"
)


@validate_params(frame=Frame())
def support(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    text: str = "answer",
    time: str | None = "time",
    question: str | None = None,
    min_answers: int = 1,
) -> Any:
    """Whether ``frame`` holds answers that the rules can be checked on (for a report section).

    Parameters
    ----------
    frame, rules, text, question
        As :func:`check`.
    time : str or None, default "time"
        A UTC time column that must be present (None: not needed).
    min_answers : int, default 1
        The fewest answers with text that some rule applies to.

    Returns
    -------
    toolkit.Support

    Examples
    --------
    >>> import polars as pl
    >>> rule = Rule("cite", "required", any_of=("source",), when=Condition(topic=("dose",)))
    >>> print(support(pl.DataFrame({"answer": ["Hi"]}), [rule], time=None))
    compliance: needs answers with text that a rule applies to; found 1 answers with text, \
none that a rule applies to; missing answers that a rule applies to. How to get it: ...
    """
    from toolkit.ingest.discover import Support

    function = "compliance.support"
    ruleset = _ruleset(rules, function)
    needs = "answers with text that a rule applies to" + (f" and a {time!r} column" if time else "")
    if text not in frame_in(frame, parameter="frame", function=function).columns:
        return Support("compliance", needs, "no answer text", ("answer text",), _HOW)
    data, _, question = _prepare(frame, text, None, question, function)
    with_text = int(data[text].is_not_null().sum())
    if with_text == 0:
        return Support(
            "compliance", needs, f"{data.height:,} rows, none with text", ("answer text",), _HOW
        )
    applicable = pl.Series([False] * data.height)
    for rule in ruleset:
        applicable = applicable | _applicable(data, rule, text, question)[0]
    n = int(applicable.sum())
    found = f"{with_text:,} answers with text, " + (
        f"{n:,} that a rule applies to" if n else "none that a rule applies to"
    )
    missing: list[str] = []
    how = ""
    if n < min_answers:
        missing.append("answers that a rule applies to" if n == 0 else f"{min_answers:,} of them")
        how = "check the rules' 'when' conditions (topics, routes, models) against the answers"
    if time is not None and time not in data.columns:
        missing.append(f"a {time!r} column")
        how = how or _HOW
    return Support("compliance", needs, found, tuple(missing), how)


@validate_params(frame=Frame())
def slices(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    names: Sequence[str] = ("route", "model", "locale", "version"),
    text: str = "answer",
    question: str | None = None,
) -> list[str]:
    """The slice names (for ``by`` of :func:`rates`) with two or more values among the
    answers some rule applies to.

    Parameters
    ----------
    frame, rules, text, question
        As :func:`check`.
    names : sequence of str
        Candidates: keys of :data:`CONDITION_COLUMNS` or column names.

    Returns
    -------
    list of str
        The candidates kept, in order.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"answer": ["a", "b"], "model": ["m1", "m2"], "route": ["r", "r"]})
    >>> slices(f, [Rule("x", "forbidden", patterns=("z",))])
    ['model']
    """
    function = "compliance.slices"
    ruleset = _ruleset(rules, function)
    data, _, question = _prepare(frame, text, None, question, function)
    applicable = pl.Series([False] * data.height)
    for rule in ruleset:
        applicable = applicable | _applicable(data, rule, text, question)[0]
    used = data.filter(applicable)
    out = []
    for name in names:
        column = name if name in used.columns else _column_for(used, name)
        if column is not None and used[column].drop_nulls().n_unique() >= 2:
            out.append(name)
    return out


@dataclass(frozen=True)
class Regression:
    """The first rise of the violation rate, the rules that rose with it and the release.

    Attributes
    ----------
    start : datetime or None
        The first window of the higher level (of any rule, :data:`ANY_RULE`; else of the
        earliest rule that rose); None when no rate rose.
    rules : tuple of str
        The rules whose own rate rose within one window of ``start``, largest rise first.
    rate_before, rate_after : float or None
        The rate of answers violating any rule before and after ``start``.
    release_column, release_value : str or None
        The version that appeared closest to ``start`` (within one window).
    release_time : datetime or None
        When it was first seen.
    every : str
        The window width.
    changes : polars.DataFrame
        Every change point (:func:`change_points`).
    """

    start: dt.datetime | None
    rules: tuple[str, ...]
    rate_before: float | None
    rate_after: float | None
    release_column: str | None
    release_value: str | None
    release_time: dt.datetime | None
    every: str
    changes: pl.DataFrame


@validate_params(frame=Frame())
def regression(
    frame: Any,
    rules: RuleSet | Sequence[Rule] | str | os.PathLike[str],
    *,
    time: str = "time",
    every: str = "1d",
    text: str = "answer",
    question: str | None = None,
    penalty: float | None = None,
) -> Regression:
    """Since when do the answers break the rules more often, which rules, and which release.

    The change points of :func:`change_points` whose rate rose: the first one of
    :data:`ANY_RULE` (else the earliest of a rule) dates the regression; the rules whose
    own rate rose within one window of it are the rules it broke.

    Parameters
    ----------
    frame, rules, time, every, text, question, penalty
        As :func:`change_points`.

    Returns
    -------
    Regression

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> t = [dt.datetime(2026, 11, 2, tzinfo=dt.UTC) + dt.timedelta(hours=h)
    ...      for h in range(240)]
    >>> bad = [h >= 120 and h % 2 == 0 for h in range(240)]
    >>> f = pl.DataFrame({"time": t, "answer": ["bad" if b else "ok" for b in bad],
    ...                   "model": ["m-1"] * 120 + ["m-2"] * 120})
    >>> found = regression(f, [Rule("no-bad", "forbidden", patterns=("bad",))], every="12h")
    >>> found.start, found.rules, found.release_value
    (datetime.datetime(2026, 11, 7, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), ('no-bad',), 'm-2')
    """
    changes = change_points(
        frame, rules, time=time, every=every, text=text, question=question, penalty=penalty
    )
    rises = changes.filter(pl.col("shift") > 0).sort("time")
    overall = rises.filter(pl.col("rule") == ANY_RULE)
    first = overall if overall.height else rises
    if first.height == 0:
        return Regression(None, (), None, None, None, None, None, every, changes)
    top = first.row(0, named=True)
    start = top["time"]
    reach = _duration(every)
    near = rises.filter(
        (pl.col("rule") != ANY_RULE)
        & (pl.col("time") >= start - reach)
        & (pl.col("time") <= start + reach)
    ).sort("shift", descending=True)
    broken = tuple(dict.fromkeys(near["rule"].to_list()))
    return Regression(
        start=start,
        rules=broken,
        rate_before=top["rate_before"] if top["rule"] == ANY_RULE else None,
        rate_after=top["rate_after"] if top["rule"] == ANY_RULE else None,
        release_column=top["release_column"],
        release_value=top["release_value"],
        release_time=top["release_time"],
        every=every,
        changes=changes,
    )
