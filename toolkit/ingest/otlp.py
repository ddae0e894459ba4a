"""OpenTelemetry OTLP files (JSON, JSON Lines, protobuf; optionally gzip) to canonical tables.

Supported containers, detected from content rather than the file name:

- OTLP JSON: one ``TracesData``/``LogsData``/``MetricsData`` (or ``Export*ServiceRequest``)
  object per file, as in the specification's examples;
- OTLP JSON Lines: one such object per line, as the collector's file exporter writes;
- OTLP protobuf: one binary ``Export*ServiceRequest``, or a stream of them each preceded by
  its length as a 4-byte big-endian integer (the file exporter's ``proto`` format);
- any of these gzip-compressed.

JSON Lines are read in batches through pyarrow's JSON reader with an explicit schema
derived from the OTLP protobuf descriptors (the fast path). That reader accepts only the
canonical encoding; a batch it rejects (snake_case keys, integers written as numbers, maps
as attribute values, malformed lines ...) is decoded line by line and normalised in Python
(the general path), which also finds the exact line of any error. Both paths produce the
same Arrow layout and share one builder, so they give identical frames.

Memory: JSON Lines stream in 64 MiB windows (memory-mapped when uncompressed, decompressed
window by window when gzip); peak memory is about 6x the decompressed size
(``benchmarks/reader_memory.py``: 0.8 GB for 133 MB), bounded by the result, and a line
is at most ``TOOLKIT_MAX_LINE_BYTES`` (1 GiB). A JSON document or a protobuf file is read
whole, at most ``TOOLKIT_MAX_FILE_BYTES`` (4 GiB) decompressed, checked while gzip
decompresses, so a gzip bomb ends in :class:`~toolkit.errors.InputTooLargeError`; a JSON
document peaks at about 8x its size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from google.protobuf.message import DecodeError, Message

from toolkit._progress import Progress
from toolkit.errors import FormatError, UnsupportedFormatError, WrongSignalError
from toolkit.ingest._attributes import (
    ValueProblem,
    attributes_long,
    json_objects,
    pivot,
    values_long,
)
from toolkit.ingest._frames import LoadContext
from toolkit.ingest._io import count_lines, decode_json, iter_line_views, read_all, sniff
from toolkit.ingest._otlp_model import SIGNALS, Signal, arrow_type, from_proto, normalize
from toolkit.schema import EVENT, LINK, SPAN_KINDS, STATUS_CODES

__all__ = [
    "Batch",
    "batch_from_objects",
    "detect",
    "iter_batches",
    "logs_from_batch",
    "reparse",
    "spans_from_batch",
]

_HEX32 = r"^[0-9a-f]{32}$"
_HEX16 = r"^[0-9a-f]{16}$"
_ZERO32 = "0" * 32
_ZERO16 = "0" * 16
_KEY_TO_SIGNAL = {
    "resourceSpans": "traces",
    "resource_spans": "traces",
    "resourceLogs": "logs",
    "resource_logs": "logs",
    "resourceMetrics": "metrics",
    "resource_metrics": "metrics",
}
_LOADER = {"traces": "load_spans", "logs": "load_logs", "metrics": "load_metrics"}


@dataclass
class Batch:
    """Canonical OTLP data of a part of one file.

    ``data`` is a ``list<Resource*>`` Arrow array (one entry per export object) and
    ``lines`` the 1-based line (or record) number of each export object.
    """

    data: pa.Array
    lines: np.ndarray
    by_record: bool  # True: ``lines`` are record numbers (no meaningful lines)
    source: tuple[bytes | memoryview, int] | None = None  # fast path: chunk, first line


def reparse(batch: Batch, signal: Signal, ctx: LoadContext) -> Batch:
    """Read a fast-path batch again through the general path (exact line numbers)."""
    assert batch.source is not None
    chunk, first_line = batch.source
    return _general_lines(chunk, first_line, signal, ctx)


# --- detection ----------------------------------------------------------------------


def detect(path: Path) -> tuple[str, str | None]:
    """Tell the container and the OTLP signal of a file from its content.

    Returns
    -------
    container : str
        ``"json-lines"``, ``"json"``, ``"protobuf"``, or another sniffed kind
        (``"json-array"``, ``"text"``, ``"empty"``) that is not OTLP.
    signal : str or None
        ``"traces"``, ``"logs"`` or ``"metrics"``; None when it cannot be told.
    """
    s = sniff(path)
    if s.kind in ("json-lines", "json"):
        head = s.head.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096].decode("utf-8", "replace")
        for key, signal in _KEY_TO_SIGNAL.items():
            if f'"{key}"' in head:
                return s.kind, signal
        return s.kind, None
    if s.kind == "binary":
        return "protobuf", _proto_signal(read_all(path))
    return s.kind, None


def _proto_messages(data: bytes) -> list[bytes]:
    """Split a length-prefixed stream; a lone message is returned as is."""
    if len(data) >= 5 and data[0] == 0:
        out = []
        pos = 0
        while pos + 4 <= len(data):
            (size,) = struct.unpack(">I", data[pos : pos + 4])
            end = pos + 4 + size
            if end > len(data):
                break
            out.append(data[pos + 4 : end])
            pos = end
        if pos == len(data):
            return out
    return [data]


def _unknown(message: Message) -> bool:
    from google.protobuf import unknown_fields

    return len(unknown_fields.UnknownFieldSet(message)) > 0


def _first_record(signal: Signal, message: Message) -> Message | None:
    resources = getattr(message, signal.data_key_snake)
    for res in resources:
        for scope in getattr(res, signal.scope_key_snake):
            for rec in getattr(scope, signal.records_key_snake):
                return rec
    return None


def _parse_proto(signal: Signal, data: bytes) -> Message | None:
    msg = signal.request()
    try:
        msg.ParseFromString(data)
    except DecodeError:
        return None
    if _unknown(msg):
        return None
    rec = _first_record(signal, msg)
    if rec is not None and _unknown(rec):
        return None
    return msg


def _proto_signal(data: bytes) -> str | None:
    first = _proto_messages(data)[0]
    for name in ("traces", "logs", "metrics"):
        msg = _parse_proto(SIGNALS[name], first)
        if msg is not None and _first_record(SIGNALS[name], msg) is not None:
            return name
    return None


# --- batches ------------------------------------------------------------------------


def _arrow_list_type(signal: Signal) -> pa.DataType:
    return arrow_type(signal.descriptor).field(signal.data_key).type


def _wrong_signal(found: str, wanted: Signal) -> str:
    return f"this holds OTLP {found}, not {wanted.name}; read it with toolkit.{_LOADER[found]}"


def _check_signal(obj: Any, signal: Signal) -> str | None:
    """Problem text when a decoded export object is another signal (or no OTLP at all)."""
    if not isinstance(obj, dict):
        return f"expected an OTLP {signal.name} JSON object, got a JSON {type(obj).__name__}"
    found = {_KEY_TO_SIGNAL[k] for k in obj if k in _KEY_TO_SIGNAL}
    if signal.name in found or not obj:
        return None
    if found:
        return _wrong_signal(sorted(found)[0], signal)
    keys = ", ".join(repr(k) for k in list(obj)[:5])
    return f"expected an OTLP {signal.name} object with {signal.data_key!r}; found keys {keys}"


def _normalise_object(
    obj: Any, signal: Signal, ctx: LoadContext, *, line: int | None, record: int | None
) -> dict[str, Any] | None:
    problem = _check_signal(obj, signal)
    if problem is not None:
        error = WrongSignalError if "holds OTLP" in problem else FormatError
        ctx.problem(problem, line=line, record=record, error=error)
        return None

    def on_skip(json_path: str, reason: str) -> None:
        ctx.problem(f"{reason} (at {json_path})", line=line, record=record)

    try:
        return normalize(
            signal.descriptor,
            obj,
            "",
            skip_records=signal.record if ctx.on_error == "skip" else None,
            on_skip=on_skip,
        )
    except ValueProblem as exc:
        ctx.problem(str(exc), line=line, record=record)
        return None
    except RecursionError:
        ctx.problem("values nested too deeply to read", line=line, record=record)
        return None


def batch_from_objects(
    objects: list[dict[str, Any]],
    records: list[int],
    *,
    signal: str = "traces",
    by_record: bool = True,
) -> Batch:
    """A batch from canonical OTLP dicts built by another reader (Jaeger, Zipkin, ...).

    Each object is one canonical ``TracesData``-like dict (``{"resourceSpans": [...]}``
    with camelCase keys, hex ids, decimal-string nanoseconds, integer enums, attributes as
    normalised KeyValue dicts from :func:`toolkit.ingest._attributes.mapping_to_keyvalues`).
    ``records`` gives the record (or line, with ``by_record=False``) of each object, for
    messages. Pass the batch to :func:`spans_from_batch`.
    """
    return _to_batch(objects, records, SIGNALS[signal], by_record)


def _to_batch(
    objects: list[dict[str, Any]], lines: list[int], signal: Signal, by_record: bool
) -> Batch:
    data = pa.array([o.get(signal.data_key) for o in objects], type=_arrow_list_type(signal))
    return Batch(data, np.asarray(lines, dtype=np.int64), by_record)


def _general_lines(
    chunk: bytes | memoryview, first_line: int, signal: Signal, ctx: LoadContext
) -> Batch:
    if isinstance(chunk, memoryview):
        chunk = bytes(chunk)  # the rare path: copy once to split lines
    decoder = msgspec.json.Decoder()
    objects: list[dict[str, Any]] = []
    lines: list[int] = []
    for offset, raw in enumerate(chunk.split(b"\n")):
        if not raw.strip():
            continue
        line = first_line + offset
        try:
            obj = decode_json(raw, decoder)
        except msgspec.DecodeError as exc:
            ctx.problem(
                f"malformed JSON ({exc}); each line must be one OTLP JSON object", line=line
            )
            continue
        canonical = _normalise_object(obj, signal, ctx, line=line, record=None)
        if canonical is not None:
            objects.append(canonical)
            lines.append(line)
    return _to_batch(objects, lines, signal, by_record=False)


def _fast_lines(chunk: bytes | memoryview, first_line: int, signal: Signal) -> Batch | None:
    """pyarrow's reader on canonical OTLP JSON Lines; None when it rejects the chunk."""
    schema = pa.schema([(signal.data_key, _arrow_list_type(signal))])
    # 8 MiB blocks parse fastest on 2 cores (measured: 2 MiB blocks cost 2x, whole-chunk
    # blocks 1.5x); a longer line than the block is retried as a single block.
    block = min(8 << 20, len(chunk) + 1)
    for block_size in (block, len(chunk) + 1):
        try:
            table = pj.read_json(
                pa.BufferReader(pa.py_buffer(chunk)),
                read_options=pj.ReadOptions(block_size=block_size),
                parse_options=pj.ParseOptions(
                    explicit_schema=schema, unexpected_field_behavior="error"
                ),
            )
            break
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block_size != len(chunk) + 1:
                continue  # a line longer than the block: retry with one block
            return None
    else:  # pragma: no cover - the loop always breaks or returns
        return None
    n_lines = count_lines(chunk) + (0 if chunk[-1:] == b"\n" else 1)
    if table.num_rows == n_lines:
        lines = np.arange(first_line, first_line + n_lines, dtype=np.int64)
    else:  # blank lines: number the non-blank ones
        lines = np.asarray(
            [first_line + i for i, raw in enumerate(bytes(chunk).split(b"\n")) if raw.strip()],
            dtype=np.int64,
        )
        if lines.size != table.num_rows:
            return None
    return Batch(
        table.column(signal.data_key).combine_chunks(),
        lines,
        by_record=False,
        source=(chunk, first_line),
    )


def _resolve(
    job: tuple[Future[Batch | None], bytes | memoryview, int], signal: Signal, ctx: LoadContext
) -> Batch:
    future, chunk, first_line = job
    batch = future.result()
    return batch if batch is not None else _general_lines(chunk, first_line, signal, ctx)


def iter_batches(
    path: Path,
    signal: Signal,
    ctx: LoadContext,
    *,
    batch_bytes: int = 64 << 20,
    progress: Progress | None = None,
) -> Iterator[Batch]:
    """Canonical batches of one OTLP file, whatever its container."""
    container, found = detect(path)
    ctx.formats[str(path)] = (
        f"otlp-{container}" if container in ("json-lines", "json", "protobuf") else container
    )
    if container == "empty":
        ctx.problem(
            f"the file is empty; expected OTLP {signal.name} (JSON, JSON Lines or protobuf)"
        )
        return
    if container == "json-lines":
        # Parse the next chunk on a worker thread while the caller builds this one: both
        # pyarrow's JSON reader and polars release the GIL.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolkit-parse") as pool:
            pending: tuple[Future[Batch | None], bytes | memoryview, int] | None = None
            for first_line, chunk in iter_line_views(
                path, batch_bytes=batch_bytes, progress=progress
            ):
                job = (pool.submit(_fast_lines, chunk, first_line, signal), chunk, first_line)
                if pending is not None:
                    yield _resolve(pending, signal, ctx)
                pending = job
            if pending is not None:
                yield _resolve(pending, signal, ctx)
        return
    if container == "json":
        data = read_all(path)
        if progress is not None:
            progress.update(len(data))
        try:
            obj = decode_json(data)
        except msgspec.DecodeError as exc:
            ctx.problem(f"malformed JSON ({exc}); expected one OTLP JSON object or JSON Lines")
            return
        canonical = _normalise_object(obj, signal, ctx, line=None, record=None)
        if canonical is not None:
            yield _to_batch([canonical], [1], signal, by_record=True)
        return
    if container == "protobuf":
        if found is not None and found != signal.name:
            ctx.problem(_wrong_signal(found, signal), error=WrongSignalError)
            return
        data = read_all(path)
        if progress is not None:
            progress.update(len(data))
        objects, records = [], []
        for i, raw in enumerate(_proto_messages(data), start=1):
            msg = _parse_proto(signal, raw)
            if msg is None:
                ctx.problem(
                    f"not a valid OTLP protobuf Export{signal.name.capitalize()}"
                    "ServiceRequest message",
                    record=i,
                )
                continue
            objects.append(from_proto(msg))
            records.append(i)
        yield _to_batch(objects, records, signal, by_record=True)
        return
    hint = {
        "json-array": "a JSON array (Zipkin or Jaeger spans are written so), not OTLP",
        "text": "text that is not JSON",
    }.get(container, container)
    raise UnsupportedFormatError(
        f"the content is {hint}; OTLP files are JSON, JSON Lines or protobuf (optionally gzip)",
        path=path,
    )


# --- shared pieces of the builders --------------------------------------------------


def _flatten(lists: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Child values of a list array and the parent index of each."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    return pc.list_flatten(lists), pc.list_parent_indices(lists).to_numpy()


def _f(arr: pa.Array, name: str) -> pa.Array:
    return pc.struct_field(arr, name)


def _time_problem(column: str, label: str) -> pl.Expr:
    """A record's time that is written but is not nanoseconds since the epoch (not a
    decimal integer, negative, beyond int64): a bad record, never silently replaced by
    the observed time (that stands in only for a time that is absent or 0)."""
    text = pl.col(f"{column}_text")
    parsed = pl.col(column)
    return pl.when(text.is_not_null() & (parsed.is_null() | (parsed < 0))).then(
        pl.lit(f"{label} ") + text.str.slice(0, 40) + pl.lit(" is not a time in nanoseconds")
    )


def _nanos(arr: pa.Array) -> pl.Series:
    """Decimal-string nanoseconds to Int64 (null where absent or not a number)."""
    return pl.Series(arr).cast(pl.Int64, strict=False)


def _where(batch: Batch, line: int) -> dict[str, int | None]:
    return {"record": line, "line": None} if batch.by_record else {"line": line, "record": None}


def _resource_columns(
    resources: pa.Array, owners: np.ndarray, ctx: LoadContext
) -> tuple[dict[str, pl.Series], pl.Series]:
    """``resource.<key>`` columns for each record (``owners`` = resource of each record)."""
    n_res = len(resources)
    long = attributes_long(_f(_f(resources, "resource"), "attributes"))
    columns, promoted, dups = pivot(long, n_res, "resource.")
    ctx.promoted.update(promoted)
    ctx.duplicates += dups
    idx = pa.array(owners, pa.int64())
    out = {k: pl.Series(k, v.to_arrow().take(idx)) for k, v in columns.items()}
    out = {
        k: (s.cast(columns[k].dtype) if s.dtype != columns[k].dtype else s) for k, s in out.items()
    }
    service = out.get("resource.service.name")
    if service is None:
        service = pl.Series("service_name", [None] * len(owners), dtype=pl.String)
    elif service.dtype != pl.String:
        service = service.cast(pl.String)
    return out, service.alias("service_name")


def _attribute_columns(
    attrs: pa.Array, n: int, prefix: str, ctx: LoadContext
) -> dict[str, pl.Series]:
    columns, promoted, dups = pivot(attributes_long(attrs), n, prefix)
    ctx.promoted.update(promoted)
    ctx.duplicates += dups
    return columns


def _lists_by_owner(values: pa.Array, owners: np.ndarray, n: int) -> pa.ListArray:
    counts = np.bincount(owners, minlength=n) if owners.size else np.zeros(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def _reject(
    frame: pl.DataFrame,
    problems: pl.Expr,
    batch: Batch,
    rows_line: np.ndarray,
    ctx: LoadContext,
) -> pl.DataFrame:
    """Raise (or skip and count) the rows for which ``problems`` is not null."""
    checked = frame.with_columns(problems.alias("_problem"), pl.Series("_line", rows_line))
    bad = checked.filter(pl.col("_problem").is_not_null())
    for problem, line in bad.select("_problem", "_line").iter_rows():
        where = _where(batch, int(line))
        ctx.problem(problem, line=where["line"], record=where["record"])
    return checked.filter(pl.col("_problem").is_null()).drop("_problem", "_line")


def _id_problem(col: str, label: str, pattern: str, zero: str, *, nullable: bool) -> pl.Expr:
    c = pl.col(col)
    malformed = ~c.str.contains(pattern) | (c == zero)
    bad = (c.is_not_null() & malformed) if nullable else (c.is_null() | malformed)
    digits = 32 if pattern == _HEX32 else 16
    return pl.when(bad).then(
        pl.lit(f"{label} must be {digits} hex digits, not all zero; got ")
        + pl.col(col).fill_null("nothing").str.head(48).map_elements(repr, pl.String)
    )


def _ns_to_ms(ns: pl.Series) -> pl.Series:
    """Nanoseconds to milliseconds, correctly rounded: polars divides by multiplying with
    the reciprocal, which is one ulp off for about a third of all values."""
    values = ns.cast(pl.Float64).to_numpy() / 1e6
    return pl.Series(ns.name, values, nan_to_null=True)


def _hex(arr: pa.Array) -> pl.Series:
    s = pl.Series(arr).str.to_lowercase()
    return s.set(s == "", None) if s.len() else s


def _events_column(events: pa.Array, n: int) -> tuple[pa.Array, np.ndarray]:
    """``events`` list column, and which spans have an event without a valid time."""
    ev, ev_owner = _flatten(events)
    times = _nanos(_f(ev, "timeUnixNano"))
    bad_time = (times.is_null() | (times <= 0)).to_numpy()
    bad_spans = np.zeros(n, dtype=bool)
    bad_spans[ev_owner[bad_time]] = True
    attrs_json = json_objects(attributes_long(_f(ev, "attributes")), len(ev))
    values = pa.StructArray.from_arrays(
        [
            pa.array(times.to_numpy(allow_copy=True), pa.int64(), mask=bad_time).cast(
                pa.timestamp("ns", tz="UTC")
            ),
            _f(ev, "name").cast(pa.string()),
            attrs_json.to_arrow().cast(pa.string()),
        ],
        names=list(EVENT.to_schema()),
    )
    return _lists_by_owner(values, ev_owner, n), bad_spans


def _links_column(links: pa.Array, n: int) -> pa.Array:
    lk, lk_owner = _flatten(links)
    values = pa.StructArray.from_arrays(
        [
            _hex(_f(lk, "traceId")).to_arrow(),
            _hex(_f(lk, "spanId")).to_arrow(),
            json_objects(attributes_long(_f(lk, "attributes")), len(lk)).to_arrow(),
        ],
        names=list(LINK.to_schema()),
    )
    return _lists_by_owner(values, lk_owner, n)


# --- spans --------------------------------------------------------------------------


def spans_from_batch(batch: Batch, ctx: LoadContext) -> pl.DataFrame:
    """The spans table of one canonical batch (``resourceSpans`` lists)."""
    rs, rs_top = _flatten(batch.data)
    ss, ss_rs = _flatten(_f(rs, "scopeSpans"))
    sp, sp_ss = _flatten(_f(ss, "spans"))
    n = len(sp)
    if n == 0:
        return pl.DataFrame()
    sp_rs = ss_rs[sp_ss]
    line = batch.lines[rs_top[sp_rs]]
    resource_cols, service = _resource_columns(rs, sp_rs, ctx)
    scope_name = pl.Series("scope_name", _f(_f(ss, "scope"), "name")).gather(sp_ss)
    status = _f(sp, "status")
    start = _nanos(_f(sp, "startTimeUnixNano"))
    end = _nanos(_f(sp, "endTimeUnixNano"))
    events, bad_events = _events_column(_f(sp, "events"), n)
    base = pl.DataFrame(
        {
            "trace_id": _hex(_f(sp, "traceId")),
            "span_id": _hex(_f(sp, "spanId")),
            "parent_span_id": _hex(_f(sp, "parentSpanId")),
            "name": pl.Series(_f(sp, "name"), dtype=pl.String),
            "_kind": pl.Series(_f(sp, "kind")).fill_null(0),
            "service_name": service,
            "scope_name": scope_name,
            "_start": start,
            "_end": end,
            "_status": pl.Series(_f(status, "code")).fill_null(0),
            "status_message": pl.Series(_f(status, "message"), dtype=pl.String),
            "events": pl.Series(events),
            "links": pl.Series(_links_column(_f(sp, "links"), n)),
            "_bad_events": bad_events,
        }
    )
    problems = pl.coalesce(
        _id_problem("trace_id", "traceId", _HEX32, _ZERO32, nullable=False),
        _id_problem("span_id", "spanId", _HEX16, _ZERO16, nullable=False),
        _id_problem("parent_span_id", "parentSpanId", _HEX16, _ZERO16, nullable=True),
        pl.when(pl.col("_start").is_null() | (pl.col("_start") <= 0)).then(
            pl.lit("startTimeUnixNano is missing, zero or not a decimal integer")
        ),
        pl.when(pl.col("_end").is_null() | (pl.col("_end") <= 0)).then(
            pl.lit("endTimeUnixNano is missing, zero or not a decimal integer")
        ),
        pl.when(~pl.col("_kind").is_between(0, 5)).then(
            pl.lit("kind must be 0-5 (SpanKind); got ") + pl.col("_kind").cast(pl.String)
        ),
        pl.when(~pl.col("_status").is_between(0, 2)).then(
            pl.lit("status.code must be 0, 1 or 2; got ") + pl.col("_status").cast(pl.String)
        ),
        pl.when(pl.col("_bad_events")).then(
            pl.lit("an event's timeUnixNano is missing, zero or not a decimal integer")
        ),
    )
    attrs = _attribute_columns(_f(sp, "attributes"), n, "attributes.", ctx)
    frame = base.with_columns(*resource_cols.values(), *attrs.values())
    frame = _reject(frame, problems, batch, line, ctx)
    return frame.with_columns(
        pl.col("_kind")
        .replace_strict(list(range(6)), list(SPAN_KINDS), return_dtype=pl.String)
        .alias("kind"),
        pl.col("_status")
        .replace_strict(list(range(3)), list(STATUS_CODES), return_dtype=pl.String)
        .alias("status_code"),
        pl.col("_start").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC").alias("start_time"),
        pl.col("_end").cast(pl.Datetime("ns")).dt.replace_time_zone("UTC").alias("end_time"),
        (pl.col("_end") - pl.col("_start"))
        .map_batches(_ns_to_ms, return_dtype=pl.Float64)
        .alias("duration_ms"),
    ).drop("_kind", "_status", "_start", "_end", "_bad_events")


# --- logs ---------------------------------------------------------------------------


def logs_from_batch(batch: Batch, ctx: LoadContext) -> pl.DataFrame:
    """The logs table of one canonical batch (``resourceLogs`` lists)."""
    rl, rl_top = _flatten(batch.data)
    sl, sl_rl = _flatten(_f(rl, "scopeLogs"))
    lr, lr_sl = _flatten(_f(sl, "logRecords"))
    n = len(lr)
    if n == 0:
        return pl.DataFrame()
    lr_rl = sl_rl[lr_sl]
    line = batch.lines[rl_top[lr_rl]]
    resource_cols, service = _resource_columns(rl, lr_rl, ctx)
    body = values_long(_f(lr, "body"))
    frame = pl.DataFrame(
        {
            "_time": _nanos(_f(lr, "timeUnixNano")),
            "_observed": _nanos(_f(lr, "observedTimeUnixNano")),
            "_time_text": pl.Series(_f(lr, "timeUnixNano"), dtype=pl.String),
            "_observed_text": pl.Series(_f(lr, "observedTimeUnixNano"), dtype=pl.String),
            "_severity": pl.Series(_f(lr, "severityNumber"), dtype=pl.Int64),
            "severity_text": pl.Series(_f(lr, "severityText"), dtype=pl.String),
            "body": body,
            "trace_id": _hex(_f(lr, "traceId")),
            "span_id": _hex(_f(lr, "spanId")),
            "service_name": service,
            "scope_name": pl.Series(_f(_f(sl, "scope"), "name"), dtype=pl.String).gather(lr_sl),
            "event_name": pl.Series(_f(lr, "eventName"), dtype=pl.String),
        }
    )
    attrs = _attribute_columns(_f(lr, "attributes"), n, "attributes.", ctx)
    frame = frame.with_columns(*resource_cols.values(), *attrs.values())
    problems = pl.coalesce(
        _id_problem("trace_id", "traceId", _HEX32, _ZERO32, nullable=True),
        _id_problem("span_id", "spanId", _HEX16, _ZERO16, nullable=True),
        _time_problem("_time", "timeUnixNano"),
        _time_problem("_observed", "observedTimeUnixNano"),
        pl.when(pl.col("_time").fill_null(0).eq(0) & pl.col("_observed").fill_null(0).eq(0)).then(
            pl.lit("neither timeUnixNano nor observedTimeUnixNano is set")
        ),
        pl.when(~pl.col("_severity").fill_null(0).is_between(0, 24)).then(
            pl.lit("severityNumber must be 0-24; got ") + pl.col("_severity").cast(pl.String)
        ),
    )
    frame = _reject(frame, problems, batch, line, ctx)

    def ts(col: str) -> pl.Expr:
        c = pl.col(col)
        return pl.when(c > 0).then(c).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")

    return frame.with_columns(
        # OTel: when the event time is unknown, the observed time stands for it.
        pl.coalesce(ts("_time"), ts("_observed")).alias("time"),
        ts("_observed").alias("observed_time"),
        pl.when(pl.col("_severity") > 0)
        .then(pl.col("_severity"))
        .cast(pl.Int32)
        .alias("severity_number"),
    ).drop("_time", "_observed", "_severity", "_time_text", "_observed_text")
