"""Tests of toolkit.redact: every default pattern, its known limits, and the Redactor API."""

from __future__ import annotations

import re

import pandas as pd
import polars as pl
import pytest

from toolkit.errors import ParameterError
from toolkit.redact import DEFAULT_PATTERNS, Redactor, luhn_valid, redact, redact_frame


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.maria+tag@sub.example.co.uk now", "write to [EMAIL] now"),
        ("ANA@EXAMPLE.ORG", "[EMAIL]"),
        ("call +1 415 555 0100 or +44 20 7946 0958", "call [PHONE] or [PHONE]"),
        ("(555) 123-4567 / 555.123.4567 / 555-123-4567", "[PHONE] / [PHONE] / [PHONE]"),
        ("+49 (0)30 1234567", "[PHONE]"),
        ("visa 4111111111111111, mc 5500 0000 0000 0004", "visa [CARD], mc [CARD]"),
        ("amex 3782-822463-10005", "amex [CARD]"),
        ("key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX0123", "key [API_KEY]"),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "[API_KEY]"),
        ("aws AKIAIOSFODNN7EXAMPLE secret", "aws [API_KEY] secret"),
        ("gh ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "gh [API_KEY]"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "[API_KEY]"),
        ("slack xoxb-1234567890-abcdefghij", "slack [API_KEY]"),
        ("google AIzaSyA1234567890abcdefghijklmnopqrstuv", "google [API_KEY]"),
        ("Authorization: Bearer abc.def-ghi_jkl~123/456+789==", "Authorization: Bearer [TOKEN]"),
        ("authorization: bearer abcdefghijk", "authorization: bearer [TOKEN]"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
            "jwt [TOKEN]",
        ),
        ("from 10.0.0.7:8080 and 192.168.1.255.", "from [IP]:8080 and [IP]."),
        ("v6 2001:db8::8a2e:370:7334 and fe80::1%eth0", "v6 [IP] and [IP]"),
        ("mapped ::ffff:192.168.1.1 end", "mapped [IP] end"),
        ("loopback ::1", "loopback [IP]"),
    ],
)
def test_default_patterns_replace(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-02T10:00:00.123456789Z took 12.5 ms",  # timestamps
        "2026-11-02 10:00:00+01:00",
        "trace db5b5fab8f4d3e27dda1494c73cf25d0 span 0000000000000018",  # hex ids
        "MAC 00:1a:2b:3c:4d:5e at 12:30:45",  # not IPv6
        "std::vector and Foo::bar",
        "tokens 1234567 and 12,345,678 and 3.14159 and +0100",
        "card-like 1234567812345678 fails Luhn",
        "luhn-valid but not a card prefix 0000000000000000",
        "version 1.2.3 and 999.1.1.1",
        "sk-short",
        "",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_known_limits_are_as_documented() -> None:
    # bare digit runs and national formats are not phone numbers to a format matcher
    assert redact("call 5551234567 or 0151 2345678") == "call 5551234567 or 0151 2345678"
    # a dotted version that looks like an address is replaced
    assert redact("release 1.2.3.4") == "release [IP]"
    # a generic password has no recognisable format
    assert redact("password=hunter2") == "password=hunter2"


def test_html_is_left_for_the_escaper() -> None:
    # redaction does not escape: display code escapes after redacting
    assert redact("<b>bo@example.com</b>") == "<b>[EMAIL]</b>"


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_valid("4111 1111 1111 1111")
    assert not luhn_valid("")


def test_redactor_add_remove_order() -> None:
    r = Redactor()
    assert r.names == tuple(p.name for p in DEFAULT_PATTERNS)
    assert r.names == ("bearer", "jwt", "api_key", "email", "card", "ipv6", "ipv4", "phone")
    r.remove("ipv4", "phone").add("ticket", r"TCK-\d+").add(
        "employee", re.compile(r"E\d{5}"), "[EMPLOYEE_ID]", before="email"
    )
    assert r.names == ("bearer", "jwt", "api_key", "employee", "email", "card", "ipv6", "ticket")
    assert r.redact("TCK-9 by E12345 from 10.0.0.1") == "[TICKET] by [EMPLOYEE_ID] from 10.0.0.1"
    assert r("x@y.io") == "[EMAIL]"
    assert repr(r).startswith("Redactor(bearer, jwt")
    even = Redactor([]).add("even", r"\d+", "#", validate=lambda s: int(s) % 2 == 0)
    assert even.redact("1 2 3 4") == "1 # 3 #"
    assert Redactor([]).redact("a@b.io") == "a@b.io"
    assert redact("a@b.io", redactor=even) == "a@b.io"
    # each Redactor() has its own list: editing one leaves the default alone
    assert redact("10.0.0.1") == "[IP]"


def test_redactor_errors() -> None:
    r = Redactor()
    with pytest.raises(
        ParameterError, match=r"'name' parameter of redact\.Redactor\.add must be a name"
    ):
        r.add("email", "x")
    with pytest.raises(
        ParameterError, match=r"'names' parameter of redact\.Redactor\.remove must be one"
    ):
        r.remove("nope")
    with pytest.raises(ParameterError, match=r"'before' parameter of redact\.Redactor\.add"):
        r.add("x", "y", before="nope")
    with pytest.raises(ParameterError, match=r"valid regular expression. Got '\('"):
        r.add("bad", "(")
    with pytest.raises(ParameterError, match="must not match the empty string"):
        r.add("empty", r"\d*")
    with pytest.raises(
        ParameterError, match=r"'text' parameter of redact\.Redactor\.redact must be a str"
    ):
        r.redact(5)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="iterable of RedactionPattern"):
        Redactor(["x"])  # type: ignore[list-item]


def test_redact_frame_polars_and_pandas(backend: str) -> None:
    frame = pl.DataFrame(
        {
            "body": ["from 10.1.2.3", None, "mail bo@example.com", "mail bo@example.com"],
            "tags": [["a@b.io", "ok"], None, [], ["x"]],
            "kind": pl.Series(["sk-abcdefghijklmnopqrstu", "b", "b", "b"], dtype=pl.Categorical),
            "n": [1, 2, 3, 4],
        }
    )
    source = frame.to_pandas() if backend == "pandas" else frame
    out = redact_frame(source, backend=backend)
    got = pl.from_pandas(out) if backend == "pandas" else out
    assert isinstance(out, pd.DataFrame if backend == "pandas" else pl.DataFrame)
    assert got["body"].to_list() == ["from [IP]", None, "mail [EMAIL]", "mail [EMAIL]"]
    assert got["tags"].to_list() == [["[EMAIL]", "ok"], None, [], ["x"]]
    assert got["kind"].to_list() == ["[API_KEY]", "b", "b", "b"]
    assert got["n"].to_list() == [1, 2, 3, 4]
    only = redact_frame(frame, ["body"])
    assert only["tags"].to_list()[0] == ["a@b.io", "ok"]
    assert only["body"].to_list()[0] == "from [IP]"


def test_redact_frame_errors() -> None:
    frame = pl.DataFrame({"a": ["x"], "n": [1]})
    with pytest.raises(ParameterError, match=r"must name columns of the frame \(available: a, n"):
        redact_frame(frame, ["b"])
    with pytest.raises(ParameterError, match=r"must name string columns. Got n \(Int64\)"):
        redact_frame(frame, ["n"])
    with pytest.raises(ParameterError, match="list of column names"):
        redact_frame(frame, "a")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"'backend' parameter of redact\.redact_frame"):
        redact_frame(frame, backend="arrow")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="polars or pandas DataFrame"):
        redact_frame([1, 2])
