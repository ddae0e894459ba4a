"""Jaeger JSON to the canonical spans table.

Every layout Jaeger writes as JSON is read, detected from content:

- the query API (``/api/traces``): ``{"data": [trace, ...], "total": ..., "errors": ...}``;
- the UI's "Download JSON": one trace object ``{"traceID", "spans", "processes"}``, or a
  list of them;
- the anonymizer's output: a list of spans, each embedding its ``process``;
- Elasticsearch / OpenSearch span documents (``startTimeMillis`` next to the µs
  ``startTime``, ``parentSpanID``, ``process`` embedded, and tags possibly as a flat
  ``tag`` map whose keys have ``.`` replaced by ``@``): one document, a list of them, a
  search response ``{"hits": {"hits": [{"_source": doc}]}}``, or one per line;
- any of these as JSON Lines (one object per line) and gzip-compressed.

Each span becomes a canonical OTLP span and goes through the same builder as the OTLP
reader (:func:`toolkit.ingest.otlp.spans_from_batch`), so a trace exported both ways loads
to the same table. The mapping is the one of the OpenTelemetry Collector's Jaeger
translator (``pkg/translator/jaeger``), so that OTLP → Jaeger → spans table is lossless
for what Jaeger can carry:

- ids: hex strings of any length up to 32 (trace) or 16 (span) digits, left-padded with
  zeros (Jaeger writes 64-bit trace ids as 16 digits, and old versions dropped leading
  zeros); all-zero trace or span ids are errors, an all-zero parent is "no parent";
- times: ``startTime``, ``duration`` and log ``timestamp`` are integer microseconds,
  multiplied by 1000 exactly (``startTimeMillis`` is ignored);
- parent: ``parentSpanID`` when present and not zero, else the first ``CHILD_OF``
  reference to the same trace. Every other reference becomes a link with the attribute
  ``opentracing.ref_type`` (``child_of`` or ``follows_from``). A ``FOLLOWS_FROM``
  reference is never taken as the parent: OpenTelemetry links map to it, so reading it
  back as a parent would turn links into tree edges (recent Jaeger UIs draw a lone
  ``FOLLOWS_FROM`` as the parent);
- tags keep their type (``string``, ``bool``, ``int64``, ``float64``, ``binary`` →
  bytes; binary is base64 in the API and UI layouts, hex in Elasticsearch documents;
  values written as strings, as older Elasticsearch mappings store them, are parsed by
  their declared type); duplicate keys are kept and reported like OTLP's;
- ``span.kind`` (``client|server|producer|consumer|internal``) sets the kind and is
  removed; no tag means ``unspecified``; an unknown value is kept as an attribute;
- status, in this precedence: ``error`` true (bool, or the string ``"true"`` as the Jaeger
  UI accepts) → ``error``, message from ``otel.status_description``; otherwise
  ``otel.status_code`` ``OK``/``ERROR`` (any case) → ``ok``/``error`` (another value →
  ``unset``), message from ``otel.status_description``; otherwise ``unset``. The tags
  that were used are removed (``otel.status_code`` always; ``error`` only when true). The
  Collector's last fallback, inferring the status from ``http.status_code``, is not
  applied: that attribute stays as it is for analyses to judge;
- ``otel.scope.name`` (or the older ``otel.library.name``) becomes the scope name and is
  removed together with its ``.version`` tag; ``w3c.tracestate`` is removed (trace state
  has no column, as with OTLP);
- logs become events named by their ``event`` field (removed from the attributes), or
  ``"log"`` when there is none; the other fields become the event's attributes;
- the process becomes the resource: ``serviceName`` → ``service.name``, its tags →
  ``resource.<key>``. ``warnings`` and ``flags`` are not carried.

Span ids that repeat within a trace (Jaeger's own fixtures have some) are kept as
written, and the load warns once with their count, since a span tree needs unique ids.

Memory: a Jaeger file is one JSON document (or JSON lines of them) and is decoded whole:
at most ``TOOLKIT_MAX_FILE_BYTES`` (4 GiB) decompressed bytes are read, checked while
gzip decompresses, so a gzip bomb ends in :class:`~toolkit.errors.InputTooLargeError`.
Peak memory is about 20x the decompressed size (``benchmarks/reader_memory.py``: 1.9 GB
for 100 MB), so lower the limit to a twentieth of the memory you can give a load.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Sequence
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

__all__ = ["frames_from_file", "looks_like", "read_jaeger"]

FORMAT = "jaeger-json"
_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_HEAD_KEYS = (b'"traceID"', b'"spanID"', b'"operationName"')


# --- detection ----------------------------------------------------------------------


def looks_like(head: bytes) -> bool:
    """Whether the first bytes of a (decompressed) file look like Jaeger JSON.

    Parameters
    ----------
    head : bytes
        The start of the file, e.g. :attr:`toolkit.ingest._io.Sniff.head`.

    Returns
    -------
    bool
        True when the content is a JSON object or array using Jaeger's keys
        (``traceID``, ``spanID``, ``operationName``, spelled with Jaeger's casing).

    Examples
    --------
    >>> looks_like(b'{"data": [{"traceID": "1", "spans": [{"spanID": "2"}]}]}')
    True
    >>> looks_like(b'[{"traceId": "1", "id": "2", "name": "get"}]')
    False
    """
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] not in (b"{", b"["):
        return False
    window = text[:65536]
    return b'"traceID"' in window and (b'"spanID"' in window or b'"operationName"' in window)


# --- values -------------------------------------------------------------------------


def _padded(raw: Any, field: str, digits: int) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > digits or not _HEX.match(raw):
        raise _Bad(f"{field} must be a string of 1 to {digits} hex digits; got {preview(raw)}")
    return raw.lower().rjust(digits, "0")


def _hex_id(raw: Any, field: str, digits: int) -> str:
    """A hex id left-padded to ``digits``; all zeros is an error."""
    value = _padded(raw, field, digits)
    if value == "0" * digits:
        raise _Bad(f"{field} must not be all zeros")
    return value


def _parent_id(raw: Any, field: str) -> str | None:
    """A parent span id; all zeros means none."""
    value = _padded(raw, field, 16)
    return None if value == "0" * 16 else value


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


def _typed(key: str, vtype: Any, value: Any, *, es: bool) -> Any:
    """A Jaeger key/value to a Python value of its declared type."""
    t = vtype.lower() if isinstance(vtype, str) else vtype
    what = f"tag {key[:60]!r} of type {vtype!r}"
    if t == "string":
        if isinstance(value, str):
            return value
    elif t == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif t == "int64":
        number: Any = value
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            number = int(value)
        if isinstance(number, int) and not isinstance(number, bool):
            if not _INT64_MIN <= number <= _INT64_MAX:
                raise _Bad(f"{what} does not fit in 64 bits: {preview(value)}")
            return number
    elif t == "float64":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif t == "binary":
        if isinstance(value, str):
            try:
                if es:  # Elasticsearch documents store bytes as hex
                    return bytes.fromhex(value)
                return base64.b64decode(value, validate=True)
            except (ValueError, binascii.Error):
                encoding = "hex" if es else "base64"
                raise _Bad(f"{what} is not {encoding}: {preview(value)}") from None
    else:
        raise _Bad(
            f"tag {key[:60]!r} has type {preview(vtype)}; expected string, bool, int64, "
            "float64 or binary"
        )
    raise _Bad(f"{what} has the value {preview(value)}")


def _key_values(raw: Any, field: str, *, es: bool) -> list[tuple[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Bad(f"{field} must be a list of {{key, type, value}} objects")
    out = []
    for kv in raw:
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise _Bad(f"{field} must be a list of objects with a string 'key'; got {preview(kv)}")
        out.append((kv["key"], _typed(kv["key"], kv.get("type", "string"), kv.get("value"), es=es)))
    return out


def _tag_map(raw: Any, field: str) -> list[tuple[str, Any]]:
    """Elasticsearch's flat ``tag`` map (dots stored as ``@``), values typed by JSON."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise _Bad(f"{field} must be an object of tag values")
    out = []
    for key, value in raw.items():
        if value is not None and not isinstance(value, str | bool | int | float):
            raise _Bad(f"{field} value of {key[:60]!r} must be a scalar; got {preview(value)}")
        out.append((str(key).replace("@", "."), value))
    return out


def _keyvalues(pairs: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    try:
        return [{"key": check_key(k), "value": from_python_value(v)} for k, v in pairs]
    except ValueProblem as exc:  # a NUL in a key (_typed only returns scalars)
        raise _Bad(str(exc)) from None


def _pop(pairs: list[tuple[str, Any]], key: str) -> tuple[bool, Any]:
    for i, (k, v) in enumerate(pairs):
        if k == key:
            del pairs[i]
            return True, v
    return False, None


def _find(pairs: list[tuple[str, Any]], key: str) -> tuple[bool, Any]:
    for k, v in pairs:
        if k == key:
            return True, v
    return False, None


# --- spans --------------------------------------------------------------------------


def _status(tags: list[tuple[str, Any]]) -> dict[str, Any]:
    code, message = 0, ""
    found, error = _find(tags, "error")
    is_error = found and (error is True or (isinstance(error, str) and error.lower() == "true"))
    decided = False
    if is_error:
        _pop(tags, "error")
        code, decided = 2, True
        has, desc = _pop(tags, "otel.status_description")
        if has:
            message = str(desc)
    has_code, raw_code = _pop(tags, "otel.status_code")
    if has_code and not decided:
        text = str(raw_code).upper()
        code = 1 if text == "OK" else 2 if text == "ERROR" else 0
        has, desc = _pop(tags, "otel.status_description")
        if has:
            message = str(desc)
    status: dict[str, Any] = {"code": code} if code else {}
    if message:
        status["message"] = message
    return status


def _scope(tags: list[tuple[str, Any]]) -> str | None:
    for prefix in ("otel.scope", "otel.library"):
        has, name = _pop(tags, f"{prefix}.name")
        if has:
            _pop(tags, f"{prefix}.version")
            return str(name)
    return None


def _references(raw: Any) -> list[tuple[str, str, str]]:
    """(ref type, trace id, span id) of each reference."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Bad("references must be a list")
    out = []
    for ref in raw:
        if not isinstance(ref, dict):
            raise _Bad(f"references must be objects; got {preview(ref)}")
        ref_type = ref.get("refType", "CHILD_OF")
        if not isinstance(ref_type, str) or ref_type.upper() not in ("CHILD_OF", "FOLLOWS_FROM"):
            raise _Bad(f"refType must be CHILD_OF or FOLLOWS_FROM; got {preview(ref_type)}")
        trace = _hex_id(ref.get("traceID"), "references[].traceID", 32)
        span = _hex_id(ref.get("spanID"), "references[].spanID", 16)
        out.append((ref_type.lower(), trace, span))
    return out


def _events(raw: Any, *, es: bool) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Bad("logs must be a list")
    events = []
    for log in raw:
        if not isinstance(log, dict):
            raise _Bad(f"logs must be objects; got {preview(log)}")
        time = _micros(log.get("timestamp"), "logs[].timestamp", positive=True)
        fields = _key_values(log.get("fields"), "logs[].fields", es=es)
        has, name = _pop(fields, "event")
        events.append(
            {
                "timeUnixNano": str(time),
                "name": str(name) if has else "log",
                "attributes": _keyvalues(fields),
            }
        )
    return events


def _resource(process: Any, *, es: bool) -> list[dict[str, Any]]:
    if process is None:
        return []
    if not isinstance(process, dict):
        raise _Bad(f"process must be an object; got {preview(process)}")
    pairs: list[tuple[str, Any]] = []
    service = process.get("serviceName")
    if service is not None:
        if not isinstance(service, str):
            raise _Bad(f"process.serviceName must be a string; got {preview(service)}")
        pairs.append(("service.name", service))
    pairs += _key_values(process.get("tags"), "process.tags", es=es)
    pairs += _tag_map(process.get("tag"), "process.tag")
    return _keyvalues(pairs)


def _export_object(span: Any, processes: dict[str, Any] | None) -> dict[str, Any]:
    """One Jaeger span as an OTLP ``TracesData`` dict holding it alone."""
    if not isinstance(span, dict):
        raise _Bad(f"a span must be a JSON object; got {preview(span)}")
    es = "startTimeMillis" in span
    trace_id = _hex_id(span.get("traceID"), "traceID", 32)
    span_id = _hex_id(span.get("spanID"), "spanID", 16)
    start = _micros(span.get("startTime"), "startTime", positive=True)
    duration = _micros(span.get("duration"), "duration", positive=False)
    name = span.get("operationName")
    if name is not None and not isinstance(name, str):
        raise _Bad(f"operationName must be a string; got {preview(name)}")
    references = _references(span.get("references"))
    parent = None
    if span.get("parentSpanID") is not None:
        parent = _parent_id(span["parentSpanID"], "parentSpanID")
    if parent is None:
        parent = next((s for t, tr, s in references if t == "child_of" and tr == trace_id), None)
    links = [
        {
            "traceId": tr,
            "spanId": s,
            "attributes": _keyvalues([("opentracing.ref_type", t)]),
        }
        for t, tr, s in references
        if not (t == "child_of" and tr == trace_id and s == parent)
    ]
    tags = _key_values(span.get("tags"), "tags", es=es) + _tag_map(span.get("tag"), "tag")
    kind = 0
    found, raw_kind = _find(tags, "span.kind")
    if found and isinstance(raw_kind, str) and raw_kind.lower() in _KINDS:
        _pop(tags, "span.kind")
        kind = _KINDS[raw_kind.lower()]
    status = _status(tags)
    scope = _scope(tags)
    _, trace_state = _pop(tags, "w3c.tracestate")
    if "process" in span:
        process = span["process"]
    elif span.get("processID") is not None:
        pid = span["processID"]
        if processes is None or not isinstance(pid, str) or pid not in processes:
            raise _Bad(f"processID {preview(pid)} is not among the trace's processes")
        process = processes[pid]
    else:
        process = None
    out_span: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + duration),
        "attributes": _keyvalues(tags),
        "events": _events(span.get("logs"), es=es),
        "links": links,
        "status": status,
    }
    if isinstance(trace_state, str):
        out_span["traceState"] = trace_state
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _resource(process, es=es)},
                "scopeSpans": [{"scope": {"name": scope}, "spans": [out_span]}],
            }
        ]
    }


# --- documents ----------------------------------------------------------------------


def _spans_of(doc: Any) -> Iterator[tuple[Any, dict[str, Any] | None]]:
    """Each span of a decoded document with its trace's process map."""
    if isinstance(doc, list):
        for item in doc:
            yield from _spans_of(item)
        return
    if not isinstance(doc, dict):
        raise _Bad(f"expected Jaeger JSON objects or arrays; got {preview(doc)}")
    if isinstance(doc.get("data"), list):
        for trace in doc["data"]:
            yield from _spans_of(trace)
        return
    if isinstance(doc.get("spans"), list):
        processes = doc.get("processes")
        if processes is not None and not isinstance(processes, dict):
            raise _Bad("processes must be an object mapping processID to process")
        for span in doc["spans"]:
            yield span, processes
        return
    if isinstance(doc.get("hits"), dict) and isinstance(doc["hits"].get("hits"), list):
        for hit in doc["hits"]["hits"]:
            yield from _spans_of(hit)
        return
    if isinstance(doc.get("_source"), dict):
        yield doc["_source"], None
        return
    if "spanID" in doc:
        yield doc, None
        return
    keys = ", ".join(repr(k) for k in list(doc)[:6]) or "none"
    raise _Bad(
        'expected Jaeger JSON: {"data": [traces]}, a trace with "spans", or spans '
        f'with "spanID"; found the keys {keys}'
    )


def _warn_repeated_ids(frame: pl.DataFrame, ctx: LoadContext, where: str) -> None:
    if frame.height == 0:
        return
    repeated = frame.height - frame.select("trace_id", "span_id").n_unique()
    if repeated:
        ctx.notes.append(
            f"{repeated} span(s) in {where} repeat a span id already used in their trace; "
            "they are kept as written, but a span tree needs unique (trace_id, span_id)"
        )


def frames_from_file(
    path: Path, ctx: LoadContext, *, progress: Progress | None = None
) -> list[pl.DataFrame]:
    """Spans frames of one Jaeger JSON file (the reader behind :func:`read_jaeger`).

    For :func:`toolkit.load_spans`: ``ctx.path`` is set here, problems go through
    ``ctx.problem`` (raised or skipped as ``ctx.on_error`` says) and the detected format
    is recorded in ``ctx.formats``. Frames are not yet combined (see
    :func:`toolkit.ingest._frames.combine`).
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
        ctx.problem("the file is empty; expected Jaeger JSON")
        return []
    objects: list[dict[str, Any]] = []
    numbers: list[int] = []
    by_record = True
    record = 0
    for line, doc in decode_documents(data, ctx):
        by_record = line is None
        within = 0
        try:
            spans = list(_spans_of(doc))
        except _Bad as exc:
            ctx.problem(str(exc), line=line)
            continue
        for span, processes in spans:
            record += 1
            within += 1
            try:
                objects.append(_export_object(span, processes))
            except _Bad as exc:
                ctx.problem(
                    str(exc),
                    line=line,
                    record=record if line is None else (within if len(spans) > 1 else None),
                )
                continue
            numbers.append(record if line is None else line)
    if not objects:
        return []  # a valid document without spans (e.g. an empty query result)
    batch = otlp.batch_from_objects(objects, numbers, signal="traces", by_record=by_record)
    frame = otlp.spans_from_batch(batch, ctx)
    _warn_repeated_ids(frame, ctx, path.name)
    return [frame] if frame.height else []


# --- public -------------------------------------------------------------------------


@validate_params(on_error=ON_ERROR, backend=BACKEND)
def read_jaeger(
    path: PathLike | Sequence[PathLike],
    *,
    on_error: Literal["raise", "skip"] = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> Any:
    """Read Jaeger JSON traces into the canonical spans table.

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        Files, directories (read recursively) or glob patterns holding Jaeger JSON: query
        API responses, UI downloads, anonymizer output or Elasticsearch span documents
        (optionally JSON Lines, optionally gzip). The mapping is described in
        :mod:`toolkit.ingest.jaeger`.
    on_error : {"raise", "skip"}, default "raise"
        "raise": the first invalid span raises a :class:`~toolkit.errors.FormatError`
        naming the file and the record (span number) or line. "skip": invalid spans are
        left out and reported in one :class:`~toolkit.errors.SkippedRecordsWarning`.
    report : LoadReport, optional
        Filled with the files read, their format, skips and type promotions.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per span (:data:`toolkit.schema.SPANS`), with ``resource.<key>`` from the
        process and ``attributes.<key>`` from the tags, typed as Jaeger typed them.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> span = {"traceID": "5b8efff798038103", "spanID": "eee19b7ec3c1b174",
    ...         "operationName": "chat", "references": [], "startTime": 1544712660000000,
    ...         "duration": 1500000, "processID": "p1",
    ...         "tags": [{"key": "span.kind", "type": "string", "value": "client"},
    ...                  {"key": "gen_ai.usage.input_tokens", "type": "int64", "value": 12}]}
    >>> doc = {"data": [{"traceID": "5b8efff798038103", "spans": [span],
    ...                  "processes": {"p1": {"serviceName": "gateway", "tags": []}}}]}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "trace.json"
    >>> _ = p.write_text(json.dumps(doc))
    >>> spans = read_jaeger(p)
    >>> spans.select("trace_id", "kind", "service_name", "duration_ms").row(0)
    ('00000000000000005b8efff798038103', 'client', 'gateway', 1500.0)
    >>> spans["attributes.gen_ai.usage.input_tokens"].item()
    12
    """
    return read_span_files(path, "read_jaeger", on_error, report, backend, frames_from_file)
