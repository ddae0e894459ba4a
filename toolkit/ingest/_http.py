"""HTTP GETs of JSON from live backends (Prometheus-compatible APIs, Loki), stdlib only.

One place for authentication (headers, bearer token, basic auth, credentials in the URL),
TLS (CA file, verification, client certificate), timeouts and errors: every failure
becomes a :class:`~toolkit.errors.RemoteError` naming the URL without its credentials and
carrying the server's own ``error`` / ``errorType`` when the body has them, never a raw
``urllib`` exception.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit._validation import Duration, duration_ns, reject
from toolkit.errors import ParameterError, RemoteError, preview

__all__ = ["Connection", "connection", "duration_ms", "time_ns"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DURATION = Duration()


@dataclass(frozen=True)
class Connection:
    """Where a backend is and how to reach it (built by :func:`connection`)."""

    base: str
    shown: str
    headers: Mapping[str, str] = field(default_factory=dict)
    context: ssl.SSLContext | None = None
    timeout_s: float = 60.0

    def get_bytes(self, path: str, params: list[tuple[str, str]], function: str) -> bytes:
        """GET ``base + path`` with ``params`` and return the body."""
        query = urllib.parse.urlencode(params)
        url = self.base.rstrip("/") + path + (f"?{query}" if query else "")
        shown = self.shown.rstrip("/") + path
        request = urllib.request.Request(url, headers=dict(self.headers), method="GET")
        try:
            with urllib.request.urlopen(  # the scheme was checked: http or https
                request, timeout=self.timeout_s, context=self.context
            ) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            error_type, error = _server_error(raw)
            if error is None:
                text = raw.decode("utf-8", "replace").strip()
                error = preview(text, 300) if text else str(exc.reason)
            raise RemoteError(
                f"{function}: the server answered HTTP {exc.code}"
                + (f" ({error_type})" if error_type else "")
                + f": {error}",
                url=shown,
                status=exc.code,
                error_type=error_type,
                error=error,
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RemoteError(
                f"{function}: could not reach the server ({reason})", url=shown
            ) from None

    def get(self, path: str, params: list[tuple[str, str]], function: str) -> Any:
        """GET ``base + path`` with ``params`` and return the decoded JSON body."""
        body = self.get_bytes(path, params, function)
        try:
            return json.loads(body)
        except ValueError:
            raise RemoteError(
                f"{function}: the server's answer is not JSON: "
                f"{preview(body.decode('utf-8', 'replace'))}",
                url=self.shown.rstrip("/") + path,
            ) from None


def _server_error(raw: bytes) -> tuple[str | None, str | None]:
    try:
        doc = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    error = doc.get("error")
    error_type = doc.get("errorType")
    return (
        None if error_type is None else str(error_type),
        None if error is None else str(error),
    )


def connection(
    url: str,
    *,
    function: str,
    headers: Mapping[str, str] | None = None,
    bearer_token: str | None = None,
    basic_auth: tuple[str, str] | None = None,
    ca_file: str | None = None,
    verify: bool = True,
    client_cert: str | tuple[str, str] | None = None,
    timeout_s: float = 60.0,
    parameter: str = "url",
) -> Connection:
    """Check the connection parameters once and build the :class:`Connection`."""
    if not isinstance(url, str) or not re.match(r"(?i)^https?://[^/]", url):
        raise reject(parameter, "be an http:// or https:// URL", url, function=function)
    parts = urllib.parse.urlsplit(url)
    if parts.query or parts.fragment:
        raise reject(
            parameter,
            "be the server's base URL, without a query or fragment",
            _strip_credentials(parts),
            function=function,
        )
    out: dict[str, str] = {"Accept": "application/json", "User-Agent": "genai-sre-toolkit"}
    if headers is not None:
        if not isinstance(headers, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise reject(
                "headers",
                "be a mapping of header names to values (str)",
                got=type(headers).__name__,
                function=function,
            )
        out.update(headers)
    user = urllib.parse.unquote(parts.username) if parts.username else None
    if user is not None and basic_auth is None:
        basic_auth = (user, urllib.parse.unquote(parts.password or ""))
    if bearer_token is not None and basic_auth is not None:
        raise ParameterError(
            f"The 'bearer_token' and 'basic_auth' parameters of {function} must not both be "
            "given (one Authorization header). Got both instead."
        )
    if bearer_token is not None:
        if not isinstance(bearer_token, str) or not bearer_token:
            raise reject(
                "bearer_token",
                "be a non-empty str",
                got=type(bearer_token).__name__,
                function=function,
            )
        out["Authorization"] = f"Bearer {bearer_token}"
    if basic_auth is not None:
        if (
            not isinstance(basic_auth, tuple)
            or len(basic_auth) != 2
            or not all(isinstance(x, str) for x in basic_auth)
        ):
            raise reject(
                "basic_auth",
                "be a (user, password) tuple of str",
                got=type(basic_auth).__name__,
                function=function,
            )
        token = base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode()
        out["Authorization"] = f"Basic {token}"
    if not isinstance(timeout_s, int | float) or isinstance(timeout_s, bool) or timeout_s <= 0:
        raise reject("timeout_s", "be a positive number of seconds", timeout_s, function=function)
    context = None
    if parts.scheme.lower() == "https":
        context = _tls(function, ca_file=ca_file, verify=verify, client_cert=client_cert)
    elif ca_file is not None or client_cert is not None:
        raise ParameterError(
            f"The 'ca_file' and 'client_cert' parameters of {function} must go with an "
            f"https:// URL. Got {preview(_strip_credentials(parts))} instead."
        )
    base = _strip_credentials(parts)
    return Connection(base, base, out, context, float(timeout_s))


def _strip_credentials(parts: urllib.parse.SplitResult) -> str:
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _tls(
    function: str,
    *,
    ca_file: str | None,
    verify: bool,
    client_cert: str | tuple[str, str] | None,
) -> ssl.SSLContext:
    if not isinstance(verify, bool):
        raise reject("verify", "be True or False", verify, function=function)
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise reject(
            "ca_file",
            "name a readable PEM file of CA certificates",
            ca_file,
            hint=f"({exc})",
            function=function,
        ) from None
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert is not None:
        cert, key = (client_cert, None) if isinstance(client_cert, str) else client_cert
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError, TypeError) as exc:
            raise reject(
                "client_cert",
                "be a PEM file holding the certificate and key, or a (certificate, key) pair "
                "of files",
                client_cert,
                hint=f"({exc})",
                function=function,
            ) from None
    return context


def time_ns(value: Any, name: str, function: str) -> int:
    """A zone-aware datetime or ISO-8601 string (``Z`` or an offset) in ns since the epoch."""
    # the nanoseconds of ISO text are kept (utc_time would stop at microseconds)
    expected = (
        "be a timezone-aware datetime or an ISO-8601 string with 'Z' or an offset "
        "(e.g. '2026-11-21T10:00:00Z')"
    )
    if isinstance(value, str):
        text = value.strip().replace("z", "Z")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise reject(name, expected, value, function=function) from None
        frac = re.search(r"[.,](\d+)", text.split("T")[-1].split(" ")[-1])
        extra = 0
        if frac and len(frac.group(1)) > 6:  # fromisoformat keeps microseconds only
            extra = int(frac.group(1)[:9].ljust(9, "0")[6:])
        value, nanos = parsed, extra
    elif isinstance(value, dt.datetime):
        nanos = int(getattr(value, "nanosecond", 0))
    else:
        raise reject(name, expected, got=type(value).__name__, function=function)
    if value.tzinfo is None or value.utcoffset() is None:
        got = f"{preview(str(value))}, without a zone,"
        raise reject(name, expected, got=got, function=function)
    delta: dt.timedelta = value - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return int(micros * 1000 + nanos)


def duration_ms(value: Any, name: str, function: str) -> int:
    """A positive duration (the toolkit's grammar: '15s', '1h30m', 'PT1H', a timedelta; or a
    number of seconds) in milliseconds."""
    expected = (
        "be a positive duration such as '15s' or '1h30m' (units ns, us, ms, s, m, h, d, w, y), "
        "a datetime.timedelta, or a number of seconds, of at least one millisecond"
    )
    ms: float
    if isinstance(value, int | float) and not isinstance(value, bool):
        ms = float(value) * 1000
    elif _DURATION.accepts(value):
        ms = duration_ns(value, parameter=name, function=function) / 1_000_000
    else:
        raise reject(name, expected, value, function=function)
    if not ms >= 1 or ms != int(ms):
        raise reject(name, expected, value, function=function)
    return int(ms)
