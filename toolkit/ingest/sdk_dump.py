"""OpenTelemetry Python SDK span dumps (any-agent traces, ``ReadableSpan.to_json()``).

Two closely related JSON layouts of the Python SDK's ``ReadableSpan`` are read, detected
from content:

- **any-agent traces** (``mozilla-ai/any-agent``'s ``AgentTrace``):
  ``{"spans": [span, ...], "final_output": ...}`` where each span has ``context`` and
  ``parent`` objects whose ``trace_id``/``span_id`` are **decimal integers** (up to 128
  bits: they are kept exact, never routed through a float), ``kind`` such as
  ``"internal"``, ``start_time``/``end_time`` in integer nanoseconds,
  ``status: {status_code: "ok"|"error"|"unset", description}``, a flat ``attributes``
  object, ``events``, ``links`` and ``resource.attributes``;
- **the SDK's own** ``ReadableSpan.to_json()`` (what ``ConsoleSpanExporter`` prints): ids
  as ``"0x"``-prefixed hex, ``parent_id``, ``kind: "SpanKind.INTERNAL"``,
  ``status_code: "UNSET"|"OK"|"ERROR"``, times as ISO 8601 strings. Those strings carry
  only microseconds, and the SDK computed them through a float (``ns / 1e9``), so they
  may be off by a microsecond: they are read exactly as written, never "corrected".

A file may hold one span object, an array of spans, ``{"spans": [...]}``, several such
JSON values one after another (the console exporter's output), or JSON Lines; optionally
gzip. Spans go through the same builder as the OTLP reader
(:func:`toolkit.ingest.otlp.spans_from_batch`).

Mapping: kinds by name (``internal``, ``server``, ``client``, ``producer``, ``consumer``,
with or without ``SpanKind.``, any case; a number is refused, since the Python enum and
OTLP number kinds differently); status codes by name likewise (``StatusCode.OK`` too);
times in integer nanoseconds, or ISO 8601 strings with an explicit UTC offset (a naive
time is refused: no time zone is guessed); an ``instrumentation_scope`` (or
``instrumentation_info``) object, when present, gives the scope name; attribute values
keep their JSON type, lists of one scalar type stay lists, and integers wider than 64 bits
become strings (exactly). ``final_output`` and ``trace_state`` are not carried.

Memory: a dump is decoded whole, like the Jaeger and Zipkin documents: at most
``TOOLKIT_MAX_FILE_BYTES`` (4 GiB) decompressed bytes are read, checked while gzip
decompresses (a gzip bomb ends in :class:`~toolkit.errors.InputTooLargeError`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit._progress import Progress
from toolkit._validation import BACKEND, Backend, validate_params
from toolkit.errors import LoadReport, preview
from toolkit.ingest import otlp
from toolkit.ingest._attributes import ValueProblem, mapping_to_keyvalues
from toolkit.ingest._frames import ON_ERROR, LoadContext
from toolkit.ingest._io import PathLike, read_all
from toolkit.ingest._spans_json import BadSpan as _Bad
from toolkit.ingest._spans_json import gc_paused, read_span_files

__all__ = ["frames_from_file", "looks_like", "read_sdk_dump"]

FORMAT = "otel-python-sdk-json"
_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_STATUS = {"unset": 0, "ok": 1, "error": 2}
_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# --- detection ----------------------------------------------------------------------


def looks_like(head: bytes) -> bool:
    """Whether the first bytes of a (decompressed) file look like a Python SDK span dump.

    Parameters
    ----------
    head : bytes
        The start of the file, e.g. :attr:`toolkit.ingest._io.Sniff.head`.

    Returns
    -------
    bool
        True for JSON holding spans with the SDK's snake_case ``context``/``trace_id``
        keys and ``start_time`` (any-agent traces, ``ReadableSpan.to_json()``).

    Examples
    --------
    >>> looks_like(b'{"spans": [{"name": "chat", "context": {"trace_id": 1, "span_id": 2},'
    ...            b' "start_time": 10, "end_time": 20}]}')
    True
    >>> looks_like(b'{"resource_spans": [{"scope_spans": [{"spans": [{"trace_id": "ab"}]}]}]}')
    False
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"{", b"["):
        return False
    window = text[:65536]
    if b'"resourceSpans"' in window or b'"resource_spans"' in window:
        return False
    return b'"context"' in window and b'"trace_id"' in window and b'"start_time"' in window


# --- values -------------------------------------------------------------------------


def _id(raw: Any, field: str, digits: int) -> str:
    """A decimal integer or ``0x`` hex id as ``digits`` lowercase hex digits."""
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and re.fullmatch(r"0[xX][0-9a-fA-F]+", raw):
        value = int(raw, 16)
    if value is None:
        raise _Bad(
            f"{field} must be a decimal integer or a 0x-prefixed hex string; got {preview(raw)}"
        )
    if not 0 < value < 16**digits:
        raise _Bad(f"{field} must be a positive {digits * 4}-bit integer; got {preview(raw)}")
    return format(value, f"0{digits}x")


def _nanos(raw: Any, field: str) -> int:
    """Integer nanoseconds, or an ISO 8601 string with an offset, to integer nanoseconds."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw <= 0:
            raise _Bad(f"{field} must be positive nanoseconds since the epoch; got {raw}")
        return raw
    if isinstance(raw, str):
        match = _ISO.match(raw.strip())
        if match is None:
            raise _Bad(
                f"{field} must be integer nanoseconds or an ISO 8601 time with a UTC offset "
                f"(e.g. '2025-01-01T00:00:00.123456Z'); got {preview(raw)}"
            )
        base, fraction, offset = match.groups()
        offset = "+00:00" if offset == "Z" else offset
        try:
            moment = dt.datetime.fromisoformat(base.replace(" ", "T") + offset)
        except ValueError:
            raise _Bad(f"{field} is not a valid time: {preview(raw)}") from None
        seconds = (moment - _EPOCH) // dt.timedelta(seconds=1)
        return seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0"))
    if raw is None:
        raise _Bad(f"{field} is missing (the span was not ended when it was dumped)")
    raise _Bad(f"{field} must be integer nanoseconds or an ISO 8601 string; got {preview(raw)}")


def _name(raw: Any, field: str, table: Mapping[str, int], prefix: str) -> int:
    if isinstance(raw, str):
        text = raw.strip().lower()
        text = text.removeprefix(prefix)
        if text in table:
            return table[text]
    names = ", ".join(table)
    raise _Bad(f"{field} must be one of {names} (by name); got {preview(raw)}")


def _attributes(raw: Any, field: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise _Bad(f"{field} must be an object of attribute values; got {preview(raw)}")
    try:
        return mapping_to_keyvalues(raw)
    except ValueProblem as exc:
        raise _Bad(f"{field}: {exc}") from None


def _context(raw: Any, field: str) -> tuple[str, str]:
    if not isinstance(raw, dict):
        raise _Bad(f"{field} must be an object with trace_id and span_id; got {preview(raw)}")
    return _id(raw.get("trace_id"), f"{field}.trace_id", 32), _id(
        raw.get("span_id"), f"{field}.span_id", 16
    )


def _list(raw: Any, field: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Bad(f"{field} must be a list; got {preview(raw)}")
    return raw


# --- spans --------------------------------------------------------------------------


def _export_object(span: Any) -> dict[str, Any]:
    if not isinstance(span, dict):
        raise _Bad(f"a span must be a JSON object; got {preview(span)}")
    trace_id, span_id = _context(span.get("context"), "context")
    parent = span.get("parent")
    parent_id = None
    if parent is not None and not isinstance(parent, dict):
        raise _Bad(f"parent must be an object or null; got {preview(parent)}")
    if parent is not None and parent.get("span_id") is not None:
        parent_id = _id(parent["span_id"], "parent.span_id", 16)
    elif span.get("parent_id") is not None:  # to_json()
        parent_id = _id(span["parent_id"], "parent_id", 16)
    # (any-agent writes a root's parent as an object whose ids are null)
    name = span.get("name")
    if name is not None and not isinstance(name, str):
        raise _Bad(f"name must be a string; got {preview(name)}")
    kind = 0 if span.get("kind") is None else _name(span["kind"], "kind", _KINDS, "spankind.")
    start = _nanos(span.get("start_time"), "start_time")
    end = _nanos(span.get("end_time"), "end_time")
    status: dict[str, Any] = {}
    raw_status = span.get("status")
    if raw_status is not None:
        if not isinstance(raw_status, dict):
            raise _Bad(f"status must be an object; got {preview(raw_status)}")
        code = raw_status.get("status_code")
        status["code"] = (
            0 if code is None else _name(code, "status.status_code", _STATUS, "statuscode.")
        )
        if raw_status.get("description"):
            status["message"] = str(raw_status["description"])
    events = []
    for i, event in enumerate(_list(span.get("events"), "events")):
        if not isinstance(event, dict):
            raise _Bad(f"events[{i}] must be an object; got {preview(event)}")
        events.append(
            {
                "timeUnixNano": str(_nanos(event.get("timestamp"), f"events[{i}].timestamp")),
                "name": event.get("name"),
                "attributes": _attributes(event.get("attributes"), f"events[{i}].attributes"),
            }
        )
    links = []
    for i, link in enumerate(_list(span.get("links"), "links")):
        if not isinstance(link, dict):
            raise _Bad(f"links[{i}] must be an object; got {preview(link)}")
        link_trace, link_span = _context(link.get("context"), f"links[{i}].context")
        links.append(
            {
                "traceId": link_trace,
                "spanId": link_span,
                "attributes": _attributes(link.get("attributes"), f"links[{i}].attributes"),
            }
        )
    resource = span.get("resource") or {}
    if not isinstance(resource, dict):
        raise _Bad(f"resource must be an object; got {preview(resource)}")
    scope = span.get("instrumentation_scope") or span.get("instrumentation_info") or {}
    scope_name = scope.get("name") if isinstance(scope, dict) else None
    out_span = {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent_id,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "attributes": _attributes(span.get("attributes"), "attributes"),
        "events": events,
        "links": links,
        "status": status,
    }
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": _attributes(resource.get("attributes"), "resource.attributes")
                },
                "scopeSpans": [{"scope": {"name": scope_name}, "spans": [out_span]}],
            }
        ]
    }


# --- documents ----------------------------------------------------------------------


def _decode(data: bytes, ctx: LoadContext) -> list[tuple[int, Any]]:
    """JSON values of a file with the line each starts on (several may follow each other)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        ctx.problem(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})")
        return []
    decoder = json.JSONDecoder()
    docs: list[tuple[int, Any]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            return docs
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            ctx.problem(f"malformed JSON ({exc.msg}, column {exc.colno})", line=exc.lineno)
            return docs
        docs.append((line, value))


def _spans_of(doc: Any) -> Iterator[Any]:
    if isinstance(doc, list):
        for item in doc:
            yield from _spans_of(item)
    elif isinstance(doc, dict) and isinstance(doc.get("spans"), list):
        yield from doc["spans"]
    elif isinstance(doc, dict) and "context" in doc:
        yield doc
    else:
        found = ", ".join(repr(k) for k in list(doc)[:6]) if isinstance(doc, dict) else None
        raise _Bad(
            'expected {"spans": [...]}, a span object with "context", or a list of spans; '
            f"found {'the keys ' + found if found else preview(doc)}"
        )


def frames_from_file(
    path: Path, ctx: LoadContext, *, progress: Progress | None = None
) -> list[pl.DataFrame]:
    """Spans frames of one SDK span dump (the reader behind :func:`read_sdk_dump`).

    For :func:`toolkit.load_spans`: ``ctx.path`` is set here, problems go through
    ``ctx.problem`` and the detected format is recorded in ``ctx.formats``. Problems are
    located by record: the span's number in the file.
    """
    with gc_paused():  # many small containers: full collections would double the time
        return _frames(path, ctx, progress)


def _frames(path: Path, ctx: LoadContext, progress: Progress | None) -> list[pl.DataFrame]:
    ctx.path = path
    ctx.formats[str(path)] = FORMAT
    data = read_all(path)
    if progress is not None:
        progress.update(len(data))
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        ctx.problem("the file is empty; expected OpenTelemetry SDK span JSON")
        return []
    objects: list[dict[str, Any]] = []
    records: list[int] = []
    record = 0
    for line, doc in _decode(data, ctx):
        try:
            spans = list(_spans_of(doc))
        except _Bad as exc:
            ctx.problem(str(exc), line=line)
            continue
        for span in spans:
            record += 1
            try:
                objects.append(_export_object(span))
            except _Bad as exc:
                ctx.problem(str(exc), record=record)
                continue
            records.append(record)
    if not objects:
        return []  # a valid document without spans (e.g. an empty query result)
    batch = otlp.batch_from_objects(objects, records, signal="traces", by_record=True)
    frame = otlp.spans_from_batch(batch, ctx)
    return [frame] if frame.height else []


# --- public -------------------------------------------------------------------------


@validate_params(on_error=ON_ERROR, backend=BACKEND)
def read_sdk_dump(
    path: PathLike | Sequence[PathLike],
    *,
    on_error: Literal["raise", "skip"] = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> Any:
    """Read OpenTelemetry Python SDK span dumps into the canonical spans table.

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        Files, directories (read recursively) or glob patterns holding any-agent traces
        (``{"spans": [...]}``) or ``ReadableSpan.to_json()`` output (optionally gzip). The
        mapping is described in :mod:`toolkit.ingest.sdk_dump`.
    on_error : {"raise", "skip"}, default "raise"
        "raise": the first invalid span raises a :class:`~toolkit.errors.FormatError`
        naming the file and the record (the span's number in the file). "skip": invalid
        spans are left out and reported in one :class:`~toolkit.errors.SkippedRecordsWarning`.
    report : LoadReport, optional
        Filled with the files read, their format, skips and type promotions.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per span (:data:`toolkit.schema.SPANS`).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> ctx = {"trace_id": 39712373237291850001929057769826244787,
    ...        "span_id": 1807164324042463798}
    >>> span = {"name": "call_llm mistral-small", "kind": "internal", "context": ctx,
    ...         "parent": None, "start_time": 1758026594777382000,
    ...         "end_time": 1758026595108941000,
    ...         "status": {"status_code": "ok", "description": None},
    ...         "attributes": {"gen_ai.usage.input_tokens": 395}}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "trace.json"
    >>> _ = p.write_text(json.dumps({"spans": [span], "final_output": "done"}))
    >>> df = read_sdk_dump(p)
    >>> df.select("trace_id", "span_id", "kind", "status_code").row(0)
    ('1de0532b350588ff152b1edf6bf358b3', '19145660c14f5a36', 'internal', 'ok')
    >>> df.select("duration_ms", "attributes.gen_ai.usage.input_tokens").row(0)
    (331.559, 395)
    """
    return read_span_files(path, "read_sdk_dump", on_error, report, backend, frames_from_file)
