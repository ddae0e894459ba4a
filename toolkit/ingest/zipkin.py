"""Zipkin v2 JSON to the canonical spans table.

Reads what Zipkin's API returns and its UI downloads: a JSON array of v2 spans, an array
of such arrays (``/api/v2/traces``), or one span or array per line (JSON Lines),
optionally gzip-compressed. Each span becomes a canonical OTLP span and goes through the
same builder as the OTLP reader (:func:`toolkit.ingest.otlp.spans_from_batch`).

Mapping (following the OpenTelemetry Collector's Zipkin translator where it has one):

- ids: ``traceId`` of up to 32 and ``id``/``parentId`` of up to 16 hex digits,
  left-padded with zeros as Zipkin itself does (64-bit trace ids become 32 digits); all-zero
  ids are errors; a ``parentId`` equal to the span's own ``id`` is ignored, as the Collector
  does;
- times: ``timestamp``, ``duration`` and annotation timestamps are integer microseconds,
  multiplied by 1000 exactly. A span without ``timestamp`` cannot be placed in time and is
  an error (skippable). A span without ``duration`` (Zipkin leaves it out when the end was
  not recorded, e.g. a redirect that never returned or a one-way message) gets a **null**
  ``end_time`` and ``duration_ms``: the end is unknown, and neither an error (the rest of the
  span is good) nor a made-up zero;
- ``kind``: ``CLIENT|SERVER|PRODUCER|CONSUMER`` map to the OTel kinds. An absent kind is
  ``unspecified`` unless the tag ``span.kind`` says ``internal`` (the Collector's rule, and
  how OpenTelemetry's Zipkin exporter writes internal spans): Zipkin uses an absent kind for
  both local spans and incomplete ones, so it cannot be read as ``internal`` by itself;
- ``localEndpoint.serviceName`` → ``service.name`` (resource); its ``ipv4``/``ipv6`` and
  ``port`` → span attributes ``network.local.address`` and ``network.local.port``;
  ``remoteEndpoint`` → ``peer.service``, ``network.peer.address``, ``network.peer.port``
  (current OTel names; the Collector writes the deprecated ``net.*`` ones). When an endpoint
  has both an IPv4 and an IPv6 address the IPv6 one goes to
  ``zipkin.local_endpoint.ipv6`` / ``zipkin.remote_endpoint.ipv6``;
- tags stay strings (Zipkin tags are strings; ``"200"`` is not guessed to be a number);
- status: a tag ``error`` (any value, even empty: Zipkin's rule) → ``error``, with the value
  as message unless it is empty or ``"true"``; otherwise ``otel.status_code``
  (``OK``/``ERROR``/``UNSET``, also ``STATUS_CODE_*``) → the status. The message is
  ``otel.status_description`` when present. Those tags are removed; so are
  ``otel.scope.name`` / ``otel.library.name`` (→ scope name, with their ``.version``) and
  ``w3c.tracestate``;
- annotations → events (name = value, no attributes); ``debug`` is not carried.

**Shared spans.** In B3 propagation a server may reuse its client's span id: the client
half (``kind: CLIENT``) and the server half (``kind: SERVER``, ``shared: true``) are two
real spans, from two services, with their own times, sharing one id. Both are kept, with
their kinds, and every shared half carries ``attributes.zipkin.shared = true``. A span
tree (critical path, self time) needs ``(trace_id, span_id)`` to be unique, so when a
shared half's id is also used by another span of its trace, the shared half gets a new
span id, derived deterministically from the trace id, the span id, its local endpoint and
its rank (BLAKE2b, 64 bits), with the original in ``attributes.zipkin.original_span_id``.
Its parent becomes the client half (the span keeping the id), or, when no client half was
reported, its own ``parentId``. Children of the shared id are re-attached the way Zipkin
builds its trees (``zipkin2.internal.SpanNode``): a child whose local endpoint equals a
shared half's endpoint belongs to that server half (the earliest one when several server
halves share the endpoint). Zipkin compares whole endpoints, so a child reported without
the server's port would stay under the client half, in another service; here such a child
also goes to the server half when its service name is the server half's and not the
client half's (``yelp.json`` has two). Any other child stays under the client half. Jaeger's query
service resolves the same ambiguity the same way ("span ID deduper": a new id for the
server half, parented to the client). A shared span alone with its id keeps it unchanged.
Other repeated ids (not client/server halves) are kept as written and the load warns once.

Memory: a Zipkin file is one JSON document (or JSON lines) and is decoded whole: at most
``TOOLKIT_MAX_FILE_BYTES`` (4 GiB) decompressed bytes are read, checked while gzip
decompresses, so a gzip bomb ends in :class:`~toolkit.errors.InputTooLargeError`. Peak
memory is about 24x the decompressed size (``benchmarks/reader_memory.py``: 2.4 GB for
100 MB), so lower the limit to a twenty-fifth of the memory you can give a load.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit._progress import Progress
from toolkit._validation import BACKEND, Backend, validate_params
from toolkit.errors import LoadReport, preview
from toolkit.ingest import otlp
from toolkit.ingest._attributes import ValueProblem, check_key, from_python_value
from toolkit.ingest._frames import ON_ERROR, LoadContext
from toolkit.ingest._io import PathLike, read_all
from toolkit.ingest._spans_json import BadSpan as _Bad
from toolkit.ingest._spans_json import decode_documents, gc_paused, read_span_files

__all__ = ["frames_from_file", "looks_like", "read_zipkin"]

FORMAT = "zipkin-v2-json"
_KINDS = {"CLIENT": 3, "SERVER": 2, "PRODUCER": 4, "CONSUMER": 5}
_STATUS = {
    "UNSET": 0,
    "OK": 1,
    "ERROR": 2,
    "STATUS_CODE_UNSET": 0,
    "STATUS_CODE_OK": 1,
    "STATUS_CODE_ERROR": 2,
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
#: Marks spans without duration through the builder; removed before returning.
_NO_DURATION = "_toolkit.zipkin.no_duration"

Endpoint = tuple[Any, Any, Any, Any]


# --- detection ----------------------------------------------------------------------


def looks_like(head: bytes) -> bool:
    """Whether the first bytes of a (decompressed) file look like Zipkin v2 JSON.

    Parameters
    ----------
    head : bytes
        The start of the file, e.g. :attr:`toolkit.ingest._io.Sniff.head`.

    Returns
    -------
    bool
        True for a JSON array (or JSON Lines of arrays or objects) of spans with Zipkin's
        keys: ``traceId`` and ``id``, with ``localEndpoint``, ``timestamp`` or ``kind``.

    Examples
    --------
    >>> looks_like(b'[{"traceId": "a1", "id": "b2", "name": "get", "timestamp": 1}]')
    True
    >>> looks_like(b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "a1"}]}]}]}')
    False
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"{", b"["):
        return False
    window = text[:65536]
    if b'"resourceSpans"' in window or b'"resource_spans"' in window:
        return False
    return (
        b'"traceId"' in window
        and b'"id"' in window
        and any(k in window for k in (b'"localEndpoint"', b'"timestamp"', b'"kind"'))
    )


# --- values -------------------------------------------------------------------------


def _hex_id(raw: Any, field: str, digits: int) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > digits or not _HEX.match(raw):
        raise _Bad(f"{field} must be a string of 1 to {digits} hex digits; got {preview(raw)}")
    value = raw.lower().rjust(digits, "0")
    if value == "0" * digits:
        raise _Bad(f"{field} must not be all zeros")
    return value


def _micros(raw: Any, field: str, *, positive: bool) -> int:
    """Integer microseconds to nanoseconds (exactly; integral floats are accepted)."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _Bad(f"{field} must be an integer number of microseconds; got {preview(raw)}")
    if raw < 0 or (positive and raw == 0):
        limit = "positive" if positive else "zero or more"
        raise _Bad(f"{field} must be {limit}; got {raw}")
    return raw * 1000


def _endpoint(raw: Any, field: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _Bad(f"{field} must be an object; got {preview(raw)}")
    for key in ("serviceName", "ipv4", "ipv6"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise _Bad(f"{field}.{key} must be a string; got {preview(raw[key])}")
    port = raw.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        raise _Bad(f"{field}.port must be an integer; got {preview(port)}")
    return raw


def _endpoint_key(endpoint: dict[str, Any]) -> Endpoint:
    service = endpoint.get("serviceName")
    return (
        service.lower() if isinstance(service, str) else None,
        endpoint.get("ipv4"),
        endpoint.get("ipv6"),
        endpoint.get("port"),
    )


def _address_pairs(endpoint: dict[str, Any], side: str, zipkin_name: str) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    ipv4, ipv6, port = endpoint.get("ipv4"), endpoint.get("ipv6"), endpoint.get("port")
    if ipv4 or ipv6:
        pairs.append((f"network.{side}.address", ipv4 or ipv6))
    if ipv4 and ipv6:
        pairs.append((f"zipkin.{zipkin_name}.ipv6", ipv6))
    if port:
        pairs.append((f"network.{side}.port", port))
    return pairs


def _pop(tags: dict[str, Any], key: str) -> tuple[bool, Any]:
    if key in tags:
        return True, tags.pop(key)
    return False, None


# --- one span -----------------------------------------------------------------------


@dataclass
class _Entry:
    """A parsed span, before shared ids are resolved."""

    number: int  # record (span number) or line
    trace_id: str
    span_id: str
    parent_id: str | None
    shared: bool
    endpoint: Endpoint
    start: int
    span: dict[str, Any]  # canonical OTLP span (ids filled in later)
    resource: list[dict[str, Any]]
    scope: str | None
    attributes: list[tuple[str, Any]] = field(default_factory=list)


def _entry(raw: Any, number: int) -> _Entry:
    if not isinstance(raw, dict):
        raise _Bad(f"a span must be a JSON object; got {preview(raw)}")
    annotations = raw.get("annotations")
    if "binaryAnnotations" in raw or (
        isinstance(annotations, list)
        and any(isinstance(a, dict) and "endpoint" in a for a in annotations)
    ):
        raise _Bad(
            "this is a Zipkin v1 span (binaryAnnotations, or annotations with an endpoint); "
            "only Zipkin v2 JSON is read: convert it with Zipkin's /api/v2 endpoints"
        )
    trace_id = _hex_id(raw.get("traceId"), "traceId", 32)
    span_id = _hex_id(raw.get("id"), "id", 16)
    parent_id = None
    if raw.get("parentId") is not None:
        parent_id = _hex_id(raw["parentId"], "parentId", 16)
        if parent_id == span_id:
            parent_id = None
    if raw.get("timestamp") is None:
        raise _Bad(
            "timestamp is missing; Zipkin leaves it out of incomplete spans, which cannot "
            "be placed in time"
        )
    start = _micros(raw["timestamp"], "timestamp", positive=True)
    duration = raw.get("duration")
    end = start if duration is None else start + _micros(duration, "duration", positive=False)
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise _Bad(f"name must be a string; got {preview(name)}")
    tags = raw.get("tags") or {}
    if not isinstance(tags, dict):
        raise _Bad(f"tags must be an object of strings; got {preview(tags)}")
    tags = dict(tags)
    for key, value in tags.items():
        if not isinstance(value, str | int | float | bool):
            raise _Bad(f"tag {key[:60]!r} must be a string; got {preview(value)}")
        try:
            check_key(key)
        except ValueProblem as exc:
            raise _Bad(str(exc)) from None
    raw_kind = raw.get("kind")
    if raw_kind is None:
        found, tag_kind = _pop(tags, "span.kind")
        kind = 1 if found and tag_kind == "internal" else 0
        if found and tag_kind != "internal":
            tags["span.kind"] = tag_kind
    elif isinstance(raw_kind, str) and raw_kind.upper() in _KINDS:
        kind = _KINDS[raw_kind.upper()]
    else:
        raise _Bad(f"kind must be CLIENT, SERVER, PRODUCER or CONSUMER; got {preview(raw_kind)}")
    status: dict[str, Any] = {}
    has_code, code = _pop(tags, "otel.status_code")
    if has_code:
        status["code"] = _STATUS.get(str(code).upper(), 0)
    has_desc, desc = _pop(tags, "otel.status_description")
    has_error, error = _pop(tags, "error")
    if has_error:
        status["code"] = 2
    if has_desc and desc != "":
        status["message"] = str(desc)
    elif has_error and str(error) not in ("", "true"):
        status["message"] = str(error)
    scope = None
    for prefix in ("otel.scope", "otel.library"):
        found, scope_name = _pop(tags, f"{prefix}.name")
        if found:
            _pop(tags, f"{prefix}.version")
            scope = str(scope_name)
            break
    _, trace_state = _pop(tags, "w3c.tracestate")
    local = _endpoint(raw.get("localEndpoint"), "localEndpoint")
    remote = _endpoint(raw.get("remoteEndpoint"), "remoteEndpoint")
    attributes: list[tuple[str, Any]] = list(tags.items())
    attributes += _address_pairs(local, "local", "local_endpoint")
    if remote.get("serviceName"):
        attributes.append(("peer.service", remote["serviceName"]))
    attributes += _address_pairs(remote, "peer", "remote_endpoint")
    shared = raw.get("shared") is True
    if shared:
        attributes.append(("zipkin.shared", True))
    if duration is None:
        attributes.append((_NO_DURATION, True))
    annotations = raw.get("annotations") or []
    if not isinstance(annotations, list):
        raise _Bad("annotations must be a list of {timestamp, value} objects")
    events = []
    for a in annotations:
        if not isinstance(a, dict) or not isinstance(a.get("value"), str):
            raise _Bad(f"annotations must be objects with a string 'value'; got {preview(a)}")
        t = _micros(a.get("timestamp"), "annotations[].timestamp", positive=True)
        events.append({"timeUnixNano": str(t), "name": a["value"]})
    span: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
        "events": events,
        "status": status,
    }
    if isinstance(trace_state, str):
        span["traceState"] = trace_state
    service = local.get("serviceName")
    resource = [{"key": "service.name", "value": {"stringValue": service}}] if service else []
    return _Entry(
        number,
        trace_id,
        span_id,
        parent_id,
        shared,
        _endpoint_key(local),
        start,
        span,
        resource,
        scope,
        attributes,
    )


# --- shared span ids ----------------------------------------------------------------


def _derived_id(entry: _Entry, rank: int, used: set[str]) -> str:
    salt = 0
    while True:
        text = f"{entry.trace_id}/{entry.span_id}/{entry.endpoint!r}/{rank}/{salt}"
        value = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        if value not in used and value != "0" * 16:
            used.add(value)
            return value
        salt += 1  # pragma: no cover - a 64-bit collision


def _resolve_shared(entries: list[_Entry]) -> int:
    """Give colliding shared halves their own ids and re-attach children (in place).

    Returns the number of spans that still repeat an id within their trace.
    """
    by_id: dict[tuple[str, str], list[_Entry]] = defaultdict(list)
    used: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        by_id[(e.trace_id, e.span_id)].append(e)
        used[e.trace_id].add(e.span_id)
    by_endpoint: dict[tuple[str, str, Endpoint], str] = {}
    by_service: dict[tuple[str, str, Any], str] = {}
    client_services: dict[tuple[str, str], set[Any]] = {}
    repeated = 0
    for (trace_id, span_id), group in by_id.items():
        if len(group) == 1:
            continue
        plain = [e for e in group if not e.shared]
        shared = sorted((e for e in group if e.shared), key=lambda e: (e.start, e.number))
        repeated += max(len(plain) - 1, 0)
        client_services[(trace_id, span_id)] = {e.endpoint[0] for e in plain}
        ranks: dict[Endpoint, int] = defaultdict(int)
        for e in shared:
            rank = ranks[e.endpoint]
            ranks[e.endpoint] += 1
            new_id = _derived_id(e, rank, used[trace_id])
            e.attributes.append(("zipkin.original_span_id", span_id))
            e.span_id = new_id
            if plain:
                e.parent_id = span_id
            by_endpoint.setdefault((trace_id, span_id, e.endpoint), new_id)
            by_service.setdefault((trace_id, span_id, e.endpoint[0]), new_id)
    if not by_endpoint:
        return repeated
    for e in entries:
        if e.shared or e.parent_id is None:
            continue
        key = (e.trace_id, e.parent_id)
        server = by_endpoint.get((*key, e.endpoint))
        if server is None and e.endpoint[0] not in client_services.get(key, {e.endpoint[0]}):
            server = by_service.get((*key, e.endpoint[0]))
        if server is not None:
            e.parent_id = server
    return repeated


def _export_object(entry: _Entry) -> dict[str, Any]:
    span = dict(entry.span)
    span["traceId"] = entry.trace_id
    span["spanId"] = entry.span_id
    span["parentSpanId"] = entry.parent_id
    span["attributes"] = [{"key": k, "value": from_python_value(v)} for k, v in entry.attributes]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": entry.resource},
                "scopeSpans": [{"scope": {"name": entry.scope}, "spans": [span]}],
            }
        ]
    }


# --- fragments of one span -----------------------------------------------------------


@dataclass
class _Raw:
    """A span as decoded, with where it was (for messages)."""

    span: Any
    number: int
    line: int | None
    record: int | None


def _fragment_key(raw: Any) -> tuple[str, str, bool] | None:
    if not isinstance(raw, dict):
        return None
    trace, span = raw.get("traceId"), raw.get("id")
    if not isinstance(trace, str) or not isinstance(span, str):
        return None
    return trace.lower().lstrip("0"), span.lower().lstrip("0"), raw.get("shared") is True


def _compatible(group: list[dict[str, Any]]) -> bool:
    """Fragments of one span: their local endpoints agree (service, addresses and port)
    where they say (Zipkin's ``EndpointTracker``), and so do their kinds. Fragments whose
    tags or annotations are malformed are not merged: each is reported as it is."""
    for raw in group:
        if not isinstance(raw.get("tags") or {}, dict):
            return False
        if not isinstance(raw.get("annotations") or [], list):
            return False
    for key in ("serviceName", "ipv4", "ipv6", "port"):
        said = set()
        for raw in group:
            endpoint = raw.get("localEndpoint")
            value = endpoint.get(key) if isinstance(endpoint, dict) else None
            if value not in (None, 0, ""):
                said.add(repr(value))
        if len(said) > 1:
            return False
    return len({repr(r.get("kind")) for r in group if r.get("kind") is not None}) <= 1


def _merge_one(group: list[dict[str, Any]]) -> dict[str, Any]:
    """Zipkin's ``Span.Builder.merge``: the first value of each field that one fragment has,
    tags united (later reports win), annotations united in time order."""
    out: dict[str, Any] = {}
    for raw in group:
        for key, value in raw.items():
            if key in ("tags", "annotations") or value is None:
                continue
            out.setdefault(key, value)
    tags: dict[str, Any] = {}
    annotations: list[Any] = []
    for raw in group:
        if isinstance(raw.get("tags"), dict):
            tags.update(raw["tags"])
        for a in raw.get("annotations") or []:
            if a not in annotations:
                annotations.append(a)
    if tags:
        out["tags"] = tags
    if annotations:
        out["annotations"] = sorted(
            annotations,
            key=lambda a: (
                (0, a.get("timestamp"), str(a.get("value")))
                if isinstance(a, dict) and isinstance(a.get("timestamp"), int)
                else (1, 0, "")
            ),
        )
    return out


def _merge_fragments(found: list[_Raw]) -> tuple[list[_Raw], int]:
    """Merge the reports of one span (same trace, id and shared flag) when one of them
    lacks its timestamp or duration and the others agree with it, as Zipkin does; complete
    reports of the same id are left to :func:`_resolve_shared`."""
    groups: dict[tuple[str, str, bool], list[int]] = {}
    for index, item in enumerate(found):
        key = _fragment_key(item.span)
        if key is not None:
            groups.setdefault(key, []).append(index)
    drop: set[int] = set()
    merged = 0
    for indexes in groups.values():
        if len(indexes) < 2:
            continue
        group = [found[i].span for i in indexes]
        incomplete = any(r.get("timestamp") is None or r.get("duration") is None for r in group)
        if not incomplete or not _compatible(group):
            continue
        found[indexes[0]].span = _merge_one(group)
        drop.update(indexes[1:])
        merged += len(indexes) - 1
    return [item for i, item in enumerate(found) if i not in drop], merged


# --- documents ----------------------------------------------------------------------


def _spans_of(doc: Any) -> Iterator[Any]:
    if isinstance(doc, list):
        for item in doc:
            if isinstance(item, list):  # /api/v2/traces: a list of traces
                yield from item
            else:
                yield item
    elif isinstance(doc, dict):
        yield doc
    else:
        raise _Bad(f"expected a JSON array of Zipkin v2 spans; got {preview(doc)}")


def frames_from_file(
    path: Path, ctx: LoadContext, *, progress: Progress | None = None
) -> list[pl.DataFrame]:
    """Spans frames of one Zipkin v2 JSON file (the reader behind :func:`read_zipkin`).

    For :func:`toolkit.load_spans`: ``ctx.path`` is set here, problems go through
    ``ctx.problem`` (raised or skipped as ``ctx.on_error`` says) and the detected format
    is recorded in ``ctx.formats``. Frames are not yet combined.
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
        ctx.problem("the file is empty; expected Zipkin v2 JSON")
        return []
    entries: list[_Entry] = []
    by_record = True
    record = 0
    found: list[_Raw] = []
    for line, doc in decode_documents(data, ctx):
        by_record = line is None
        try:
            spans = list(_spans_of(doc))
        except _Bad as exc:
            ctx.problem(str(exc), line=line)
            continue
        for within, raw in enumerate(spans, start=1):
            record += 1
            where = record if line is None else (within if len(spans) > 1 else None)
            found.append(_Raw(raw, record if line is None else line, line, where))
    found, merged = _merge_fragments(found)
    if merged:
        ctx.notes.append(
            f"{merged} Zipkin span fragment(s) in {path.name} reported a span that another "
            "report of the same id completes (a half without timestamp or duration); they "
            "were merged by span id, as Zipkin's UI does"
        )
    for item in found:
        try:
            entries.append(_entry(item.span, item.number))
        except _Bad as exc:
            ctx.problem(str(exc), line=item.line, record=item.record)
    if not entries:
        return []  # a valid document without spans (e.g. an empty query result)
    repeated = _resolve_shared(entries)
    if repeated:
        ctx.notes.append(
            f"{repeated} span(s) in {path.name} repeat a span id already used in their "
            "trace (not as client/server halves); they are kept as written, but a span "
            "tree needs unique (trace_id, span_id)"
        )
    batch = otlp.batch_from_objects(
        [_export_object(e) for e in entries],
        [e.number for e in entries],
        signal="traces",
        by_record=by_record,
    )
    frame = otlp.spans_from_batch(batch, ctx)
    if frame.height == 0:
        return []
    flag = f"attributes.{_NO_DURATION}"
    if flag in frame.columns:
        missing = pl.col(flag).fill_null(False)
        frame = frame.with_columns(
            pl.when(~missing).then(pl.col("end_time")).alias("end_time"),
            pl.when(~missing).then(pl.col("duration_ms")).alias("duration_ms"),
        ).drop(flag)
    return [frame]


# --- public -------------------------------------------------------------------------


@validate_params(on_error=ON_ERROR, backend=BACKEND)
def read_zipkin(
    path: PathLike | Sequence[PathLike],
    *,
    on_error: Literal["raise", "skip"] = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> Any:
    """Read Zipkin v2 JSON spans into the canonical spans table.

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        Files, directories (read recursively) or glob patterns holding Zipkin v2 JSON
        (an array of spans, or of traces; optionally JSON Lines, optionally gzip). The
        mapping, including client/server halves that share one span id and spans
        without duration, is described in :mod:`toolkit.ingest.zipkin`.
    on_error : {"raise", "skip"}, default "raise"
        "raise": the first invalid span raises a :class:`~toolkit.errors.FormatError`
        naming the file and the record (span number in the file) or line. "skip":
        invalid spans are left out and reported in one
        :class:`~toolkit.errors.SkippedRecordsWarning`.
    report : LoadReport, optional
        Filled with the files read, their format, skips and type promotions.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per Zipkin span (:data:`toolkit.schema.SPANS`); ``end_time`` and
        ``duration_ms`` are null where Zipkin recorded no duration.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> spans = [{"traceId": "5b8efff798038103", "id": "eee19b7ec3c1b174", "kind": "CLIENT",
    ...           "name": "post /chat", "timestamp": 1544712660000000, "duration": 1500000,
    ...           "localEndpoint": {"serviceName": "gateway"},
    ...           "remoteEndpoint": {"serviceName": "vllm", "port": 8000},
    ...           "tags": {"http.status_code": "200"}}]
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "trace.json"
    >>> _ = p.write_text(json.dumps(spans))
    >>> df = read_zipkin(p)
    >>> df.select("trace_id", "kind", "service_name", "duration_ms").row(0)
    ('00000000000000005b8efff798038103', 'client', 'gateway', 1500.0)
    >>> df.select("attributes.peer.service", "attributes.http.status_code").row(0)
    ('vllm', '200')
    """
    return read_span_files(path, "read_zipkin", on_error, report, backend, frames_from_file)
