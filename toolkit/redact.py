"""PII and secret redaction for telemetry text before it is displayed or exported.

Prompts, answers, attribute values and log bodies can hold e-mail addresses, phone numbers,
payment cards, API keys and client addresses. Reports pass every such text through a
:class:`Redactor` before showing it; the default one replaces:

======== ================================================================ ==============
name     what                                                             replaced by
======== ================================================================ ==============
bearer   the token after ``Bearer `` (HTTP ``Authorization`` values)       ``[TOKEN]``
jwt      JSON Web Tokens (``eyJ...``.``eyJ...``.signature)                ``[TOKEN]``
api_key  ``sk-...`` (OpenAI, Anthropic), ``AKIA``/``ASIA...`` (AWS),      ``[API_KEY]``
         ``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_``/``github_pat_``
         (GitHub), ``xox[abprs]-`` (Slack), ``AIza...`` (Google)
email    e-mail addresses                                                 ``[EMAIL]``
card     13-19 digit payment card numbers, spaces or dashes allowed,      ``[CARD]``
         starting with 2-6 and passing the Luhn check
ipv6     IPv6 addresses (validated with :mod:`ipaddress`)                 ``[IP]``
ipv4     dotted-quad IPv4 addresses                                       ``[IP]``
phone    ``+<country> ...`` numbers, ``(area) nnn-nnnn`` and              ``[PHONE]``
         ``nnn-nnn-nnnn`` (7 to 15 digits)
======== ================================================================ ==============

Patterns are applied in that order, each to the output of the previous one.

Limits, by design of a regex redactor: it finds *formats*, not meaning. Names, street
addresses, national ids, phone numbers written as a bare run of digits (``5551234567``) or
in national formats without a ``+`` (``0151 2345678``), secrets without a recognisable
prefix (a generic ``password=hunter2``) and text split across fields or encoded (base64,
URL-encoding) pass through. A dotted version string that looks like an address
(``1.2.3.4``) is replaced, and so is the rare word that is a valid IPv6 address
(``a::b``). Add your own patterns with :meth:`Redactor.add`; treat redaction as a guard
against accidental exposure in reports, not as anonymisation.

Examples
--------
>>> from toolkit.redact import redact
>>> redact("mail ana@example.com, key sk-abcdefghijklmnopqrstuv, from 10.0.0.7")
'mail [EMAIL], key [API_KEY], from [IP]'
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Callable_,
    Frame,
    InstanceOf,
    Strings,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import preview

__all__ = [
    "DEFAULT_PATTERNS",
    "RedactionPattern",
    "Redactor",
    "luhn_valid",
    "redact",
    "redact_frame",
]


@dataclass(frozen=True)
class RedactionPattern:
    """One kind of sensitive text: a regular expression and its replacement.

    Parameters
    ----------
    name : str
        Identifier used by :meth:`Redactor.remove`.
    regex : re.Pattern
        What to find (Python :mod:`re` syntax).
    replacement : str
        The literal text put in place of each match (no backreferences).
    validate : callable, optional
        Called with each match's text; the match is replaced only when it returns True
        (e.g. the Luhn check for cards).

    Examples
    --------
    >>> import re
    >>> RedactionPattern("ticket", re.compile(r"TCK-\\d+"), "[TICKET]").name
    'ticket'
    """

    name: str
    regex: re.Pattern[str]
    replacement: str
    validate: Callable[[str], bool] | None = None

    def apply(self, text: str) -> str:
        """Replace every (valid) match in ``text``.

        Examples
        --------
        >>> import re
        >>> RedactionPattern("n", re.compile(r"\\d+"), "#").apply("a1b22")
        'a#b#'
        """
        check = self.validate
        replacement = self.replacement
        if check is None:
            return self.regex.sub(lambda _match: replacement, text)
        out: list[str] = []
        pos = 0
        while (match := self.regex.search(text, pos)) is not None:
            start, found = match.start(), match.group(0)
            cut = len(found) if check(found) else self._valid_prefix(found, check)
            if cut:
                out += [text[pos:start], replacement]
                pos = start + cut
            else:  # no valid match starts here: look again from the next character
                out.append(text[pos : start + 1])
                pos = start + 1
        out.append(text[pos:])
        return "".join(out)

    def _valid_prefix(self, found: str, check: Callable[[str], bool]) -> int:
        """The length of the longest prefix of a match that failed ``validate``, cut before
        a separator, that matches and validates on its own (0 if none): a phone number
        right before a card number is one long run of digit groups, valid as neither.

        Examples
        --------
        >>> from toolkit.redact import redact
        >>> redact("call +1 415-555-0199 4111 1111 1111 1111 now")
        'call [PHONE] [CARD] now'
        """
        cuts = [
            i
            for i in range(len(found) - 1, 0, -1)
            if found[i] in " .-" and found[i - 1] != found[i]
        ]
        for cut in cuts:
            candidate = found[:cut]
            if self.regex.fullmatch(candidate) and check(candidate):
                return cut
        return 0


def luhn_valid(number: str) -> bool:
    """Whether the digits of ``number`` pass the Luhn checksum (separators ignored).

    Parameters
    ----------
    number : str
        Digits, possibly with spaces or dashes.

    Returns
    -------
    bool

    Examples
    --------
    >>> luhn_valid("4111 1111 1111 1111"), luhn_valid("4111 1111 1111 1112")
    (True, False)
    """
    digits = [int(c) for c in number if c.isdigit()]
    if not digits:
        return False
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 == 1 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _card_number(text: str) -> bool:
    digits = "".join(c for c in text if c.isdigit())
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)


def _ipv6_address(text: str) -> bool:
    address = text.split("%", 1)[0]
    if sum(c in string.hexdigits for c in address) == 0:
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _phone_number(text: str) -> bool:
    return 7 <= sum(c.isdigit() for c in text) <= 15


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"

#: The default patterns, in the order they are applied.
DEFAULT_PATTERNS: tuple[RedactionPattern, ...] = (
    RedactionPattern(
        "bearer",
        re.compile(r"(?<=[Bb]earer )[A-Za-z0-9\-._~+/]{8,}=*|(?<=BEARER )[A-Za-z0-9\-._~+/]{8,}=*"),
        "[TOKEN]",
    ),
    RedactionPattern(
        "jwt",
        re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
        "[TOKEN]",
    ),
    RedactionPattern(
        "api_key",
        re.compile(
            r"(?<![\w-])(?:"
            r"sk-[A-Za-z0-9_-]{16,}"
            r"|(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"
            r"|gh[pousr]_[A-Za-z0-9]{30,255}"
            r"|github_pat_[A-Za-z0-9_]{22,255}"
            r"|xox[abprs]-[A-Za-z0-9-]{10,}"
            r"|AIza[0-9A-Za-z_-]{35}"
            r")(?![\w-])"
        ),
        "[API_KEY]",
    ),
    RedactionPattern(
        "email",
        re.compile(r"[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}\b"),
        "[EMAIL]",
    ),
    RedactionPattern(
        "card",
        re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])"),
        "[CARD]",
        _card_number,
    ),
    RedactionPattern(
        "ipv6",
        re.compile(
            r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
            r"(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?:%[\w.]+)?(?![\w:]|\.\d)"
        ),
        "[IP]",
        _ipv6_address,
    ),
    RedactionPattern(
        "ipv4",
        re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d)"),
        "[IP]",
    ),
    RedactionPattern(
        "phone",
        re.compile(
            r"(?<![\w+])(?:"
            r"\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,4}){2,5}"
            r"|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}"
            r"|\d{3}[ .-]\d{3}[ .-]\d{4}"
            r")(?!\w)"
        ),
        "[PHONE]",
        _phone_number,
    ),
)


class Redactor:
    """An ordered, editable set of redaction patterns.

    Parameters
    ----------
    patterns : iterable of RedactionPattern, optional
        The patterns, applied in order; :data:`DEFAULT_PATTERNS` when not given
        (``Redactor([])`` starts empty).

    Examples
    --------
    >>> r = Redactor().remove("ipv4").add("ticket", r"TCK-\\d+")
    >>> r.redact("TCK-42 from 10.0.0.1 by bo@example.org")
    '[TICKET] from 10.0.0.1 by [EMAIL]'
    >>> r.names
    ('bearer', 'jwt', 'api_key', 'email', 'card', 'ipv6', 'phone', 'ticket')
    """

    @validate_params()
    def __init__(self, patterns: Iterable[RedactionPattern] | None = None) -> None:
        chosen = DEFAULT_PATTERNS if patterns is None else tuple(patterns)
        self._patterns: list[RedactionPattern] = []
        for pattern in chosen:
            if not isinstance(pattern, RedactionPattern):
                raise reject(
                    "patterns",
                    "be an iterable of RedactionPattern",
                    got=f"{preview(pattern)} in it",
                )
            self._check_new_name(pattern.name)
            self._patterns.append(pattern)

    def _check_new_name(self, name: object) -> None:
        if not isinstance(name, str) or not name:
            raise reject("name", "be a non-empty string", name)
        if name in self.names:
            raise reject("name", f"be a name not in use ({', '.join(self.names)})", name)

    @property
    def names(self) -> tuple[str, ...]:
        """The patterns' names, in the order they are applied."""
        return tuple(p.name for p in self._patterns)

    @property
    def patterns(self) -> tuple[RedactionPattern, ...]:
        """The patterns, in the order they are applied."""
        return tuple(self._patterns)

    @validate_params(
        pattern=InstanceOf(str, re.Pattern, description="a string or a compiled re.Pattern"),
        replacement=[InstanceOf(str, description="a string"), None],
        validate=[Callable_(description="callable"), None],
        before=[InstanceOf(str), None],
    )
    def add(
        self,
        name: str,
        pattern: str | re.Pattern[str],
        replacement: str | None = None,
        *,
        validate: Callable[[str], bool] | None = None,
        before: str | None = None,
    ) -> Redactor:
        """Add a pattern (last, or before another one); returns this redactor.

        Parameters
        ----------
        name : str
            A name not in use.
        pattern : str or re.Pattern
            Regular expression (Python :mod:`re` syntax).
        replacement : str, optional
            Literal replacement; ``"[NAME]"`` (upper-cased name) by default.
        validate : callable, optional
            Replace a match only when ``validate(match_text)`` is true.
        before : str, optional
            Insert before the pattern of this name instead of at the end.

        Returns
        -------
        Redactor
            ``self``, so that calls chain.

        Examples
        --------
        >>> Redactor([]).add("user", r"user-\\d+").redact("by user-17")
        'by [USER]'
        """
        self._check_new_name(name)
        if isinstance(pattern, str):
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                raise reject(
                    "pattern", "be a valid regular expression", got=f"{preview(pattern)} ({exc})"
                ) from None
        else:
            regex = pattern
        if regex.search("") is not None:
            raise reject("pattern", "not match the empty string", regex.pattern)
        entry = RedactionPattern(
            name,
            regex,
            f"[{name.upper()}]" if replacement is None else replacement,
            validate,
        )
        if before is None:
            self._patterns.append(entry)
        else:
            self._patterns.insert(self._index(before, "before"), entry)
        return self

    def _index(self, name: str, parameter: str) -> int:
        if name not in self.names:
            options = ", ".join(map(repr, self.names)) or "(no patterns)"
            raise reject(parameter, f"be one of {options}", name)
        return self.names.index(name)

    @validate_params()
    def remove(self, *names: str) -> Redactor:
        """Remove patterns by name; returns this redactor.

        Examples
        --------
        >>> Redactor().remove("phone", "card").names
        ('bearer', 'jwt', 'api_key', 'email', 'ipv6', 'ipv4')
        """
        for name in names:
            del self._patterns[self._index(name, "names")]
        return self

    @validate_params(text=InstanceOf(str, description="a string"))
    def redact(self, text: str) -> str:
        """Return ``text`` with every pattern's matches replaced.

        Parameters
        ----------
        text : str

        Returns
        -------
        str

        Examples
        --------
        >>> Redactor().redact("card 4111-1111-1111-1111, call +1 415 555 0100")
        'card [CARD], call [PHONE]'
        """
        return self._apply(text)

    def _apply(self, text: str) -> str:
        for pattern in self._patterns:
            text = pattern.apply(text)
        return text

    __call__ = redact

    @validate_params(
        frame=Frame(),
        columns=[None, Strings(description="a list of column names")],
        backend=BACKEND,
    )
    def redact_frame(
        self,
        frame: Any,
        columns: Sequence[str] | None = None,
        *,
        backend: Backend = "polars",
    ) -> Any:
        """Redact the string columns of a frame (see :func:`redact_frame`).

        Examples
        --------
        >>> import polars as pl
        >>> Redactor().redact_frame(pl.DataFrame({"m": ["hi a@b.io"]}))["m"].to_list()
        ['hi [EMAIL]']
        """
        return _redact_frame(self, frame, columns, backend)

    def __repr__(self) -> str:
        return f"Redactor({', '.join(self.names)})"


def _string_like(dtype: pl.DataType, *, nested: bool = True) -> bool:
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return True
    if nested and isinstance(dtype, pl.List | pl.Array):
        inner = dtype.inner
        return isinstance(inner, pl.DataType) and _string_like(inner, nested=False)
    return False


def _changes(redactor: Redactor, values: pl.Series) -> tuple[list[str], list[str]]:
    old: list[str] = []
    new: list[str] = []
    for value in values.drop_nulls().unique().to_list():
        redacted = redactor._apply(value)
        if redacted != value:
            old.append(value)
            new.append(redacted)
    return old, new


def _redact_series(redactor: Redactor, series: pl.Series) -> pl.Series:
    if isinstance(series.dtype, pl.List | pl.Array):
        lists = series.cast(pl.List(pl.String))
        old, new = _changes(redactor, lists.explode())
        if not old:
            return lists
        return lists.list.eval(pl.element().replace(old, new))
    text = series.cast(pl.String)
    old, new = _changes(redactor, text)
    return text.replace(old, new) if old else text


def _redact_frame(
    redactor: Redactor, data: pl.DataFrame, columns: Sequence[str] | None, backend: Backend
) -> Any:
    if columns is None:
        chosen = [name for name, dtype in data.schema.items() if _string_like(dtype)]
    else:
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise reject(
                "columns",
                f"name columns of the frame (available: {', '.join(data.columns)})",
                missing,
            )
        not_text = [c for c in columns if not _string_like(data.schema[c])]
        if not_text:
            raise reject(
                "columns",
                "name string columns",
                got=", ".join(f"{c} ({data.schema[c]})" for c in not_text),
            )
        chosen = list(columns)
    if chosen:
        data = data.with_columns([_redact_series(redactor, data[name]) for name in chosen])
    return frame_out(data, backend)


_DEFAULT = Redactor()


@validate_params(redactor=[InstanceOf(Redactor), None])
def redact(text: str, *, redactor: Redactor | None = None) -> str:
    """Replace e-mails, phone numbers, cards, keys, tokens and IP addresses in ``text``.

    Parameters
    ----------
    text : str
        Text from telemetry.
    redactor : Redactor, optional
        The patterns to apply; the default :class:`Redactor` when not given.

    Returns
    -------
    str
        The text with each match replaced by its token (``[EMAIL]``, ``[API_KEY]`` ...).

    Examples
    --------
    >>> redact("Authorization: Bearer abc.def.ghi-123456")
    'Authorization: Bearer [TOKEN]'
    """
    return (redactor or _DEFAULT).redact(text)


@validate_params(
    frame=Frame(),
    columns=[None, Strings(description="a list of column names")],
    redactor=[InstanceOf(Redactor), None],
    backend=BACKEND,
)
def redact_frame(
    frame: Any,
    columns: Sequence[str] | None = None,
    *,
    redactor: Redactor | None = None,
    backend: Backend = "polars",
) -> Any:
    """Redact text columns of a frame.

    Each distinct value is redacted once (the cost grows with the number of distinct
    strings, not rows); null values and non-text columns are left as they are.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    columns : list of str, optional
        Columns to redact; by default every string, categorical or list-of-string column.
    redactor : Redactor, optional
        The patterns; the default :class:`Redactor` when not given.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The frame with the chosen columns redacted (categorical columns become strings).

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"body": ["from 192.168.0.9", None], "n": [1, 2]})
    >>> redact_frame(frame)["body"].to_list()
    ['from [IP]', None]
    """
    return _redact_frame(redactor or _DEFAULT, frame, columns, backend)
