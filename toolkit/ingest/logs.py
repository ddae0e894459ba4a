"""Application and server logs that are not OTLP: JSON lines and plain text.

Two readers turn log files into the canonical logs table (:data:`toolkit.schema.LOGS`):

* :func:`read_json_logs` for JSON-lines application logs (structlog, python-json-logger,
  zap, logrus, Bunyan, pino, ECS ...), with configurable or auto-detected field names;
* :func:`read_text_logs` for plain-text server logs parsed by a named pattern (``"vllm"``)
  or a regular expression with named groups, joining multi-line messages (tracebacks,
  banners) into one record and tagging known vLLM events in ``event_name``.

Both produce the same columns: ``time``, ``observed_time`` (always null: a log file has no
collector observation time), ``severity_number`` (OTel 1-24, see :data:`SEVERITY_NUMBERS`),
``severity_text`` (as written), ``body``, ``trace_id`` / ``span_id`` (lowercase W3C hex, so
logs join spans on ``trace_id``), ``service_name``, ``scope_name``, ``event_name``, then
one ``attributes.<key>`` column per field, typed by its values with the same rules as every
other reader (``toolkit.ingest._attributes``). Each record also gets
``attributes.log.file.name``, the base name of its file (as the OpenTelemetry Collector's
filelog receiver records it), unless the record carries that key itself.

Memory: both readers stream gzip. JSON-lines logs are decoded line by line in 32 MiB
windows; text logs are split into lines window by window
(:func:`toolkit.ingest._io.read_lines`) and joined into records by polars, holding the
lines (the text plus 24 bytes a line, at most ``TOOLKIT_MAX_FILE_BYTES``, 4 GiB); a line
is at most ``TOOLKIT_MAX_LINE_BYTES`` (1 GiB). Past either, and for a gzip bomb, a load
ends in :class:`~toolkit.errors.InputTooLargeError`. Peak memory of a vLLM server log is
about 13x its decompressed size (``benchmarks/reader_memory.py``: 1.3 GB for 100 MB).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, overload

import msgspec
import polars as pl

from toolkit._validation import (
    BACKEND,
    ON_ERROR,
    Backend,
    InstanceOf,
    OneOf,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import LoadReport, ParameterError, preview
from toolkit.ingest._attributes import (
    LONG_SCHEMA,
    attributes_long,
    keyvalue_lists,
    mapping_to_keyvalues,
    pivot,
)
from toolkit.ingest._frames import LoadContext, combine, finish
from toolkit.ingest._io import (
    PathLike,
    decode_json,
    expand_paths,
    iter_line_batches,
    read_lines,
)
from toolkit.schema import LOGS, TIME, check_tz

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "JSON_FIELD_CANDIDATES",
    "SEVERITY_NUMBERS",
    "TEXT_LOG_PATTERNS",
    "VLLM_EVENTS",
    "read_json_logs",
    "read_text_logs",
]

OnError = Literal["raise", "skip"]
TimeUnit = Literal["s", "ms", "us", "ns"]

# --- severities -------------------------------------------------------------------------

#: Level names (case-insensitive) to OTel severity numbers. The OTel short names also take
#: a 2-4 suffix (``INFO2`` is 10, ``ERROR3`` is 19). ``critical`` is Python's CRITICAL
#: (FATAL, as the OpenTelemetry Python SDK maps it); ``dpanic`` / ``panic`` are zap's.
SEVERITY_NUMBERS: Mapping[str, int] = MappingProxyType(
    {
        "trace": 1,
        "debug": 5,
        "info": 9,
        "information": 9,
        "informational": 9,
        "notice": 10,
        "warn": 13,
        "warning": 13,
        "error": 17,
        "err": 17,
        "dpanic": 18,
        "panic": 19,
        "fatal": 21,
        "critical": 21,
        "crit": 21,
    }
)
#: Numeric levels of pino and Bunyan.
_NUMERIC_LEVELS: Mapping[int, int] = MappingProxyType({10: 1, 20: 5, 30: 9, 40: 13, 50: 17, 60: 21})
_OTEL_SHORT = re.compile(r"(trace|debug|info|warn|error|fatal)([1-4])")
_OTEL_BASE = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}


def _level_tables(
    levels: Mapping[str | int, int] | None, function: str
) -> tuple[dict[str, int], dict[int, int]]:
    """Text and numeric level tables: the built-in ones updated with the caller's."""
    text = dict(SEVERITY_NUMBERS)
    for name, base in _OTEL_BASE.items():
        for k in range(1, 5):
            text[f"{name}{k}"] = base + k - 1
    numeric = dict(_NUMERIC_LEVELS)
    if levels is None:
        return text, numeric
    if not isinstance(levels, Mapping):
        raise reject(
            "levels",
            "be a mapping of level names or numbers to OTel severity numbers (1-24)",
            got=type(levels).__name__,
            function=function,
        )
    for key, number in levels.items():
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 24:
            raise reject(
                "levels",
                "map each level to an OTel severity number from 1 to 24",
                got=f"{key!r}: {preview(number)}",
                function=function,
            )
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise reject(
                "levels", "have level names (str) or numbers (int) as keys", key, function=function
            )
        if isinstance(key, str):
            text[key.strip().lower()] = number
        else:
            numeric[key] = number
    return text, numeric


# --- shared checks ----------------------------------------------------------------------


def _check_field(value: object, name: str, function: str) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise reject(name, "be a non-empty field name, or None to detect it", value, function=function)


# --- timestamps -------------------------------------------------------------------------

_ISO = (
    r"^\s*(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<hm>\d{2}:\d{2})(?::(?P<sec>\d{2})"
    r"(?:[.,](?P<frac>\d{1,9}))?)?\s*(?P<zone>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def _iso_nanos(values: pl.Series, tz: str | None) -> tuple[pl.Series, pl.Series]:
    """ISO-8601 strings to UTC epoch nanoseconds, and a problem per failing value.

    A value with a zone or offset keeps it; a naive value is read in ``tz`` (problem when
    ``tz`` is None, or when the local time is ambiguous or skipped at a DST change).
    """
    g = values.str.extract_groups(_ISO).struct.unnest()
    local = (g["date"] + " " + g["hm"] + ":" + g["sec"].fill_null("00")).str.strptime(
        pl.Datetime("ns"), "%Y-%m-%d %H:%M:%S", strict=False
    )
    frac = g["frac"].str.pad_end(9, "0").cast(pl.Int64).fill_null(0)
    zone = g["zone"]
    # "+HH", "+HHMM" or "+HH:MM" (Z, UTC and GMT have no digits and give 0).
    offset_digits = zone.str.replace_all(r"[^0-9]", "")
    hours = offset_digits.str.slice(0, 2).cast(pl.Int64, strict=False).fill_null(0)
    minutes = offset_digits.str.slice(2, 2).cast(pl.Int64, strict=False).fill_null(0)
    sign = zone.str.starts_with("-").cast(pl.Int64).fill_null(0) * -2 + 1
    offset_ns = sign * (hours * 3600 + minutes * 60) * 1_000_000_000
    local_ns = local.dt.epoch("ns")
    aware = zone.is_not_null()
    aware_ns = local_ns + frac - offset_ns
    if tz is not None:
        zoned = local.dt.replace_time_zone(tz, ambiguous="null", non_existent="null")
        naive_ns = zoned.dt.epoch("ns") + frac
    else:
        naive_ns = pl.Series([None] * len(values), dtype=pl.Int64)
    nanos = pl.select(pl.when(aware).then(aware_ns).otherwise(naive_ns).alias("ns")).to_series()
    problem = pl.select(
        pl.when(values.is_null())
        .then(pl.lit(None, pl.String))
        .when(local.is_null())
        .then(pl.lit("expected an ISO-8601 timestamp such as '2025-08-18T02:56:55.123Z'"))
        .when(~aware & pl.lit(tz is None))
        .then(pl.lit("naive timestamp (no UTC offset or Z); pass tz= to say its time zone"))
        .when(nanos.is_null())
        .then(pl.lit(f"local time does not exist or is ambiguous in time zone {tz!r}"))
        .alias("problem")
    ).to_series()
    return nanos, problem


_UNIT_FACTORS: Mapping[str, int] = MappingProxyType(
    {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
)
#: Magnitude bands in which an epoch number is a date between 2001-09-09 and 2286-11-20
#: in exactly one unit.
_EPOCH_BANDS = (
    ("s", 10**9, 10**10),
    ("ms", 10**12, 10**13),
    ("us", 10**15, 10**16),
    ("ns", 10**18, 10**19),
)
_NS_MAX = 2**63 - 1


def _epoch_band(value: int | float) -> str | None:
    v = abs(value)
    for unit, low, high in _EPOCH_BANDS:
        if low <= v < high:
            return unit
    return None


def _epoch_nanos(value: int | float, unit: str) -> int | None:
    """Exact nanoseconds for an epoch number (floats through their shortest decimal)."""
    factor = _UNIT_FACTORS[unit]
    if isinstance(value, int):
        ns = value * factor
    else:
        scaled = Decimal(repr(value)) * factor
        ns = int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN))
    return ns if -_NS_MAX <= ns <= _NS_MAX else None


# --- ids --------------------------------------------------------------------------------


def _id_columns(frame: pl.DataFrame, col: str, digits: int, label: str) -> pl.DataFrame:
    """Normalise hex ids in ``col`` and add a ``_p_<col>`` problem column.

    Case is lowered and blanks trimmed; empty and all-zero ids (W3C's invalid id, which
    OpenTelemetry's logging instrumentation writes as ``"0"`` outside a span) become null;
    a 16-digit trace id (Jaeger, B3 64-bit) is zero-padded to 32 digits.
    """
    raw = pl.col(col).str.strip_chars().str.to_lowercase()
    blank = (raw == "") | raw.str.contains(r"^0+$")
    value = pl.when(blank).then(pl.lit(None, pl.String)).otherwise(raw)
    if digits == 32:
        value = pl.when(value.str.len_chars() == 16).then(pl.lit("0" * 16) + value).otherwise(value)
    frame = frame.with_columns(value.alias("_id"))
    bad = pl.col("_id").is_not_null() & ~pl.col("_id").str.contains(f"^[0-9a-f]{{{digits}}}$")
    shown = pl.col(col).str.head(48)
    problem = pl.when(bad).then(
        pl.lit(
            f"{label} must be {digits} hex digits (W3C trace context)"
            + (" or 16 (zero-padded)" if digits == 32 else "")
            + "; got '"
        )
        + shown
        + pl.lit("' (")
        + pl.col(col).str.len_chars().cast(pl.String)
        + pl.lit(" characters)")
    )
    return frame.with_columns(pl.col("_id").alias(col), problem.alias(f"_p_{col}")).drop("_id")


# --- assembling frames ------------------------------------------------------------------

_SLOT_OF = {pl.String: "s", pl.Int64: "i", pl.Float64: "d", pl.Boolean: "b"}


def _long_from_columns(columns: Mapping[str, pl.Series], n: int) -> pl.DataFrame:
    """Long attribute frame (``LONG_SCHEMA``) from typed scalar columns of length ``n``."""
    parts = []
    row = pl.int_range(0, n, dtype=pl.Int64, eager=True).alias("row")
    for key, series in columns.items():
        slot = _SLOT_OF[series.dtype.base_type()]
        part = pl.DataFrame({"row": row, slot: series}).filter(pl.col(slot).is_not_null())
        part = part.with_columns(pl.lit(key, pl.String).alias("key"))
        parts.append(part)
    if not parts:
        return pl.DataFrame(schema=LONG_SCHEMA)
    stacked = pl.concat(parts, how="diagonal")
    missing = [
        pl.lit(None, dtype).alias(k) for k, dtype in LONG_SCHEMA.items() if k not in stacked.columns
    ]
    return stacked.with_columns(missing).select(
        pl.col(k).cast(dtype) for k, dtype in LONG_SCHEMA.items()
    )


def _reject(frame: pl.DataFrame, path: Path, ctx: LoadContext) -> pl.DataFrame:
    """Raise for (or skip and count) rows with a ``_p_<column>`` problem; drop those columns.

    Rows carry ``_line`` (1-based line of the record's start) and ``_key_<column>`` (the
    field a column came from), used in the message.
    """
    problem_cols = [c for c in frame.columns if c.startswith("_p_")]
    if not problem_cols:
        return frame
    any_bad = pl.any_horizontal(pl.col(c).is_not_null() for c in problem_cols)
    bad = frame.filter(any_bad)
    ctx.path = path
    for row in bad.iter_rows(named=True):
        for pcol in problem_cols:
            if row[pcol] is None:
                continue
            name = pcol[3:]
            column = row.get(f"_key_{name}") or name
            ctx.problem(row[pcol], line=row["_line"], column=column)
            break
    return frame.filter(~any_bad).drop(problem_cols)


def _finalise(
    frame: pl.DataFrame,
    nanos: str,
    attributes: Mapping[str, pl.Series] | None,
    kv_rows: list[list[dict[str, Any]]] | None,
    ctx: LoadContext,
) -> pl.DataFrame:
    """The logs frame of one file: fixed columns, then typed attribute columns."""
    n = frame.height
    fixed = frame.select(
        pl.col(nanos).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC").alias("time"),
        pl.lit(None, TIME).alias("observed_time"),
        pl.col("severity_number").cast(pl.Int32),
        pl.col("severity_text").cast(pl.String),
        pl.col("body").cast(pl.String),
        pl.col("trace_id").cast(pl.String),
        pl.col("span_id").cast(pl.String),
        pl.col("service_name").cast(pl.String),
        pl.col("scope_name").cast(pl.String),
        pl.col("event_name").cast(pl.String),
    )
    if kv_rows is not None:
        long = attributes_long(keyvalue_lists(kv_rows))
    else:
        long = _long_from_columns(attributes or {}, n)
    columns, promoted, duplicates = pivot(long, n, "attributes.")
    ctx.promoted.update(promoted)
    ctx.duplicates += duplicates
    return fixed.with_columns(list(columns.values())) if columns else fixed


def _load(
    files: list[Path],
    one_file: Any,
    ctx: LoadContext,
    report: LoadReport | None,
) -> pl.DataFrame:
    frames = []
    for path in files:
        ctx.path = path
        frames.append(one_file(path))
    out = combine(frames, LOGS, ctx)
    finish(ctx, report, out.height)
    return out


# === JSON lines =========================================================================

#: Field names tried, in order, when a ``*_field`` parameter of :func:`read_json_logs` is
#: None. Nested objects are flattened to dotted keys first, so ``"trace.id"`` also finds
#: ``{"trace": {"id": ...}}`` (Elastic Common Schema).
JSON_FIELD_CANDIDATES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "time": ("time", "timestamp", "ts", "@timestamp", "asctime"),
        "level": ("level", "severity", "levelname", "lvl", "log.level"),
        "message": ("msg", "message", "event"),
        "trace_id": ("trace_id", "traceId", "otelTraceID", "trace.id", "traceid"),
        "span_id": ("span_id", "spanId", "otelSpanID", "span.id", "spanid"),
        "service": ("service.name", "service_name", "service", "otelServiceName"),
        "scope": ("logger", "logger_name", "log.logger"),
    }
)


class _Problem(Exception):
    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def _flatten(obj: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten(value, f"{name}.", out)
            continue
        if name in out:
            raise _Problem(f"the key {name!r} occurs both as a dotted key and nested", name)
        out[name] = value


def _take(flat: dict[str, Any], candidates: Sequence[str]) -> tuple[str | None, Any]:
    """Pop the first candidate key present with a non-null value."""
    for key in candidates:
        if key in flat:
            value = flat.pop(key)
            if value is not None:
                return key, value
    return None, None


@dataclass
class _JsonOptions:
    fields: dict[str, tuple[str, ...]]
    explicit: dict[str, bool]
    time_unit: str | None
    tz: str | None
    text_levels: dict[str, int]
    numeric_levels: dict[int, int]
    unit_seen: list[tuple[str, str]] = field(default_factory=list)  # (unit, where) of 1st


@dataclass
class _JsonRows:
    line: list[int] = field(default_factory=list)
    time_key: list[str | None] = field(default_factory=list)
    time_text: list[str | None] = field(default_factory=list)
    time_ns: list[int | None] = field(default_factory=list)
    level_key: list[str | None] = field(default_factory=list)
    severity: list[int | None] = field(default_factory=list)
    level_text: list[str | None] = field(default_factory=list)
    body: list[str | None] = field(default_factory=list)
    trace_key: list[str | None] = field(default_factory=list)
    trace: list[str | None] = field(default_factory=list)
    span_key: list[str | None] = field(default_factory=list)
    span: list[str | None] = field(default_factory=list)
    service: list[str | None] = field(default_factory=list)
    scope: list[str | None] = field(default_factory=list)
    attributes: list[list[dict[str, Any]]] = field(default_factory=list)


def _as_text(value: Any, what: str, key: str) -> str:
    if isinstance(value, str):
        return value
    raise _Problem(f"{what} must be a string; got {preview(value)}", key)


def _json_level(value: Any, key: str, opts: _JsonOptions) -> tuple[int, str]:
    if isinstance(value, bool):
        raise _Problem(f"level must be a name or a number; got {value!r}", key)
    if isinstance(value, int):
        if value in opts.numeric_levels:
            return opts.numeric_levels[value], str(value)
        raise _Problem(
            f"unknown numeric level {value}; pino/Bunyan levels are 10, 20, 30, 40, 50, 60 "
            "(pass levels= to map others)",
            key,
        )
    if isinstance(value, str):
        number = opts.text_levels.get(value.strip().lower())
        if number is None:
            raise _Problem(
                f"unknown level {preview(value)}; expected one of trace, debug, info, warn, "
                "error, fatal (and aliases, see SEVERITY_NUMBERS), or pass levels= to map it",
                key,
            )
        return number, value
    raise _Problem(f"level must be a name or a number; got {preview(value)}", key)


def _json_time(value: Any, key: str, line: int, path: Path, opts: _JsonOptions) -> int | None:
    """Epoch nanoseconds for a number; None for a string (parsed later, vectorised)."""
    if isinstance(value, str):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Problem(
            f"the time must be an ISO-8601 string or an epoch number; got {preview(value)}",
            key,
        )
    unit = opts.time_unit
    if unit is None:
        unit = _epoch_band(value)
        if unit is None:
            raise _Problem(
                f"the epoch number {value!r} is not unambiguous (it is not a date from "
                "2001-09-09 to 2286-11-20 in s, ms, us or ns); pass time_unit= to say its unit",
                key,
            )
        if not opts.unit_seen:
            opts.unit_seen.append((unit, f"{os.fspath(path)}, line {line}"))
        elif opts.unit_seen[0][0] != unit:
            first_unit, first_where = opts.unit_seen[0]
            raise _Problem(
                f"the epoch number {value!r} looks like {unit} but the one at {first_where} "
                f"looked like {first_unit}; pass time_unit= to say the unit",
                key,
            )
    ns = _epoch_nanos(value, unit)
    if ns is None:
        raise _Problem(f"the epoch number {value!r} in {unit} is out of range", key)
    return ns


def _json_record(
    obj: dict[str, Any], line: int, path: Path, opts: _JsonOptions, rows: _JsonRows
) -> None:
    flat: dict[str, Any] = {}
    _flatten(obj, "", flat)
    f = opts.fields
    time_key, time_value = _take(flat, f["time"])
    if time_key is None:
        looked = ", ".join(repr(k) for k in f["time"])
        hint = "" if opts.explicit["time"] else "; pass time_field= to name it"
        raise _Problem(f"no time field (looked for {looked}){hint}")
    time_ns = _json_time(time_value, time_key, line, path, opts)
    level_key, level_value = _take(flat, f["level"])
    severity, level_text = (None, None)
    if level_key is not None:
        severity, level_text = _json_level(level_value, level_key, opts)
    _, message = _take(flat, f["message"])
    if message is not None and not isinstance(message, str):
        message = msgspec.json.encode(message).decode()
    trace_key, trace = _take(flat, f["trace_id"])
    span_key, span = _take(flat, f["span_id"])
    trace = _raw_id(trace, trace_key, 32)
    span = _raw_id(span, span_key, 16)
    service_key, service = _take(flat, f["service"])
    scope_key, scope = _take(flat, f["scope"])
    if service is not None:
        service = _as_text(service, "the service name", service_key or "service")
    if scope is not None:
        scope = _as_text(scope, "the logger name", scope_key or "logger")
    flat.setdefault("log.file.name", path.name)
    try:
        kvs = mapping_to_keyvalues(flat)
    except ValueError as exc:  # pragma: no cover - JSON values are always supported
        raise _Problem(str(exc)) from None
    rows.line.append(line)
    rows.time_key.append(time_key)
    rows.time_text.append(time_value if time_ns is None else None)
    rows.time_ns.append(time_ns)
    rows.level_key.append(level_key)
    rows.severity.append(severity)
    rows.level_text.append(level_text)
    rows.body.append(message)
    rows.trace_key.append(trace_key)
    rows.trace.append(trace)
    rows.span_key.append(span_key)
    rows.span.append(span)
    rows.service.append(service)
    rows.scope.append(scope)
    rows.attributes.append(kvs)


def _raw_id(value: Any, key: str | None, digits: int) -> str | None:
    """An id as text (decimal integers converted to hex); checked later, vectorised."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Problem(f"ids must be hex strings; got {preview(value)}", key)
    if isinstance(value, int):
        if not 0 <= value < 16**digits:
            raise _Problem(f"the decimal id {value} does not fit in {digits} hex digits", key)
        return f"{value:0{digits}x}"
    return value


def _json_file(path: Path, opts: _JsonOptions, ctx: LoadContext) -> pl.DataFrame:
    rows = _JsonRows()
    decoder = msgspec.json.Decoder()
    for first_line, chunk in iter_line_batches(path):
        for offset, raw in enumerate(chunk.split(b"\n")):
            line = first_line + offset
            text = raw.strip()
            if line == 1:
                text = text.removeprefix(b"\xef\xbb\xbf")
            if not text:
                continue
            try:
                obj = decode_json(text, decoder)
            except msgspec.DecodeError as exc:
                ctx.problem(
                    f"malformed JSON ({exc}); expected one JSON object per line, got "
                    f"{preview(text.decode('utf-8', 'replace'))}",
                    line=line,
                )
                continue
            if not isinstance(obj, dict):
                ctx.problem(
                    f"expected a JSON object per line, got a JSON {type(obj).__name__}: "
                    f"{preview(obj)}",
                    line=line,
                )
                continue
            try:
                _json_record(obj, line, path, opts, rows)
            except _Problem as exc:
                ctx.problem(exc.message, line=line, column=exc.column)
    n = len(rows.line)
    if n == 0:
        return pl.DataFrame()
    text_times = pl.Series(rows.time_text, dtype=pl.String)
    iso_ns, iso_problem = _iso_nanos(text_times, opts.tz)
    frame = pl.DataFrame(
        {
            "_line": pl.Series(rows.line, dtype=pl.Int64),
            "_key_time": pl.Series(rows.time_key, dtype=pl.String),
            "_key_trace_id": pl.Series(rows.trace_key, dtype=pl.String),
            "_key_span_id": pl.Series(rows.span_key, dtype=pl.String),
            "_ns": pl.Series(rows.time_ns, dtype=pl.Int64).fill_null(iso_ns),
            "_p_time": iso_problem,
            "severity_number": pl.Series(rows.severity, dtype=pl.Int32),
            "severity_text": pl.Series(rows.level_text, dtype=pl.String),
            "body": pl.Series(rows.body, dtype=pl.String),
            "trace_id": pl.Series(rows.trace, dtype=pl.String),
            "span_id": pl.Series(rows.span, dtype=pl.String),
            "service_name": pl.Series(rows.service, dtype=pl.String),
            "scope_name": pl.Series(rows.scope, dtype=pl.String),
            "event_name": pl.Series([None] * n, dtype=pl.String),
            "_row": pl.int_range(0, n, dtype=pl.Int64, eager=True),
        }
    )
    frame = _id_columns(frame, "trace_id", 32, "the trace id")
    frame = _id_columns(frame, "span_id", 16, "the span id")
    frame = _reject(frame, path, ctx)
    kept = frame["_row"].to_list()
    kv_rows = [rows.attributes[i] for i in kept] if len(kept) < n else rows.attributes
    return _finalise(frame, "_ns", None, kv_rows, ctx)


@overload
def read_json_logs(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    time_field: str | None = ...,
    level_field: str | None = ...,
    message_field: str | None = ...,
    trace_id_field: str | None = ...,
    span_id_field: str | None = ...,
    service_field: str | None = ...,
    scope_field: str | None = ...,
    time_unit: TimeUnit | None = ...,
    tz: str | None = ...,
    levels: Mapping[str | int, int] | None = ...,
    on_error: OnError = ...,
    report: LoadReport | None = ...,
    backend: Literal["polars"] = ...,
) -> pl.DataFrame: ...


@overload
def read_json_logs(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    time_field: str | None = ...,
    level_field: str | None = ...,
    message_field: str | None = ...,
    trace_id_field: str | None = ...,
    span_id_field: str | None = ...,
    service_field: str | None = ...,
    scope_field: str | None = ...,
    time_unit: TimeUnit | None = ...,
    tz: str | None = ...,
    levels: Mapping[str | int, int] | None = ...,
    on_error: OnError = ...,
    report: LoadReport | None = ...,
    backend: Literal["pandas"],
) -> pd.DataFrame: ...


@validate_params(time_unit=[OneOf(*_UNIT_FACTORS), None], on_error=ON_ERROR, backend=BACKEND)
def read_json_logs(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    time_field: str | None = None,
    level_field: str | None = None,
    message_field: str | None = None,
    trace_id_field: str | None = None,
    span_id_field: str | None = None,
    service_field: str | None = None,
    scope_field: str | None = None,
    time_unit: TimeUnit | None = None,
    tz: str | None = None,
    levels: Mapping[str | int, int] | None = None,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> pl.DataFrame | pd.DataFrame:
    """Read JSON-lines application logs into the logs table.

    One JSON object per line, as written by structlog, python-json-logger, zap, logrus,
    Bunyan, pino and ECS loggers; blank lines are ignored; files may be gzip-compressed.
    Nested objects are flattened to dotted keys (``{"http": {"status": 200}}`` gives
    ``attributes.http.status``); arrays stay values. Every field not used for a fixed
    column becomes ``attributes.<key>``, typed by its values.

    Parameters
    ----------
    path_or_paths : path, glob, directory, or a list of those
        The files.
    time_field, level_field, message_field, trace_id_field, span_id_field, service_field, \
scope_field : str, optional
        The field holding each column. None (the default) takes, per record, the first
        field present among :data:`JSON_FIELD_CANDIDATES` (time: ``time``, ``timestamp``,
        ``ts``, ``@timestamp``, ``asctime``; level: ``level``, ``severity``, ``levelname``,
        ``lvl``, ``log.level``; message: ``msg``, ``message``, ``event``; trace id:
        ``trace_id``, ``traceId``, ``otelTraceID``, ``trace.id``, ``traceid``; span id:
        the same with ``span``; service: ``service.name``, ``service_name``, ``service``,
        ``otelServiceName``; scope: ``logger``, ``logger_name``, ``log.logger``).
        A record without a time is an error; the other fields may be absent (null).
    time_unit : {"s", "ms", "us", "ns"}, optional
        Unit of epoch-number timestamps. When None, an epoch number is accepted only if
        its magnitude makes it unambiguous: a date from 2001-09-09 to 2286-11-20 in
        exactly one unit (about 1e9-1e10 s, 1e12-1e13 ms, 1e15-1e16 us, 1e18-1e19 ns),
        and all the epoch numbers of the call must fall in the same unit; anything else
        is an error asking for ``time_unit``. (pino writes epoch milliseconds; zap's
        default ``ts`` is float seconds.) Floats are read through their shortest decimal
        form and rounded to the nanosecond. Time strings must be ISO-8601 (``T`` or a space
        between date and time, ``.`` or ``,`` before the fraction, at most 9 digits).
    tz : str, optional
        IANA time zone of naive time strings (no ``Z`` or offset). Required when there are
        any; strings with an offset keep their own.
    levels : mapping, optional
        Extra or overriding level names (case-insensitive) or numbers to OTel severity
        numbers. Built in: :data:`SEVERITY_NUMBERS` (trace 1, debug 5, info 9, warn 13,
        error 17, fatal 21, plus aliases and the OTel ``INFO2``-style names) and the
        pino/Bunyan numbers (10 trace 1, 20 debug 5, 30 info 9, 40 warn 13, 50 error 17,
        60 fatal 21). Any other level is an error naming its line.
    on_error : {"raise", "skip"}, default "raise"
        What to do with a bad record (malformed JSON, no or bad time, unknown level, bad
        id): raise :class:`~toolkit.errors.FormatError` naming the file, line and field,
        or skip it, count it and warn once (:class:`~toolkit.errors.SkippedRecordsWarning`).
    report : LoadReport, optional
        Filled with the files read, row count, skipped records and promoted columns.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The logs table (see the module docstring). Trace ids are 32 lowercase hex digits
        (a 16-digit id is zero-padded, a decimal integer converted; ``"0"`` or all zeros
        means "no trace" and gives null), span ids 16; any other length is an error.

    Raises
    ------
    FormatError
        For a bad record under ``on_error="raise"``.
    ParameterError
        For a bad parameter.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "app.jsonl"
    >>> _ = path.write_text(
    ...     '{"time": "2025-08-18T02:56:55.5+02:00", "level": "warning", "msg": "slow", '
    ...     '"trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736", "latency_ms": 812.5}\\n'
    ...     '{"time": 1755478615000, "level": 30, "msg": "ok", "latency_ms": 12.5}\\n'
    ... )
    >>> logs = read_json_logs(path, time_unit="ms")
    >>> logs.select("time", "severity_number", "body", "attributes.latency_ms").rows()
    ... # doctest: +NORMALIZE_WHITESPACE
    [(datetime.datetime(2025, 8, 18, 0, 56, 55, 500000, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
      13, 'slow', 812.5),
     (datetime.datetime(2025, 8, 18, 0, 56, 55, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
      9, 'ok', 12.5)]
    >>> logs["trace_id"][0]
    '4bf92f3577b34da6a3ce929d0e0e4736'
    """
    function = "read_json_logs"
    given = {
        "time": _check_field(time_field, "time_field", function),
        "level": _check_field(level_field, "level_field", function),
        "message": _check_field(message_field, "message_field", function),
        "trace_id": _check_field(trace_id_field, "trace_id_field", function),
        "span_id": _check_field(span_id_field, "span_id_field", function),
        "service": _check_field(service_field, "service_field", function),
        "scope": _check_field(scope_field, "scope_field", function),
    }
    text_levels, numeric_levels = _level_tables(levels, function)
    opts = _JsonOptions(
        fields={k: ((v,) if v else JSON_FIELD_CANDIDATES[k]) for k, v in given.items()},
        explicit={k: v is not None for k, v in given.items()},
        time_unit=time_unit,
        tz=check_tz(tz, function),
        text_levels=text_levels,
        numeric_levels=numeric_levels,
    )
    files = expand_paths(path_or_paths, function=function)
    ctx = LoadContext(function, on_error)
    for path in files:
        ctx.formats[os.fspath(path)] = "json-lines logs"
    out = _load(files, lambda p: _json_file(p, opts, ctx), ctx, report)
    return frame_out(out, backend)


# === plain text =========================================================================


@dataclass(frozen=True)
class _TextPattern:
    """How to read one family of text logs."""

    name: str
    #: Regex (Rust syntax, as polars runs it) for a record's first line, after the tag.
    record: str
    #: strftime format of the ``time`` group; None for ISO-8601.
    time_format: str | None
    #: Regex for a per-line source tag (with its trailing separator), or None.
    tag: str | None = None
    #: Attributes from tag or record groups: group -> (attribute key, dtype).
    typed: Mapping[str, tuple[str, pl.DataType]] = field(default_factory=dict)
    #: vLLM's NewLineFormatter: a line ending in CR continues on the next line, which
    #: repeats the header.
    cr_continuation: bool = False
    #: (event_name, regex on the body), first match wins.
    events: tuple[tuple[str, str], ...] = ()
    vllm_stats: bool = False


_VLLM_TAG = r"^\((?P<process>[\w.\-]+)[^()]*?\bpid=(?P<pid>\d+)[^()]*\) "
_VLLM_RECORD = (
    r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) (?P<time>\d{2}-\d{2} \d{2}:\d{2}:\d{2}) "
    r"\[?(?P<file>[^\s\[\]:]+):(?P<lineno>\d+)\] ?(?P<message>.*)$"
)

#: vLLM events tagged in ``event_name`` by :func:`read_text_logs` (first match, in this
#: order, of the regex against the record's whole body, continuation lines included).
VLLM_EVENTS: tuple[tuple[str, str], ...] = (
    (
        "vllm.error.kv_cache_memory",
        r"No available memory for the cache blocks|larger than the available KV cache memory"
        r"|larger than the maximum number of tokens that can be stored in KV cache",
    ),
    ("vllm.error.max_model_len", r"is greater than the derived max_model_len"),
    ("vllm.engine.start_failed", r"EngineCore failed to start|Engine core initialization failed"),
    ("vllm.engine.start", r"^Initializing an? (?:V1 )?LLM engine"),
    ("vllm.stats.throughput", r"Avg prompt throughput: [\d.]+ tokens/s"),
    ("vllm.server.start", r"vLLM API server version|█\s+version \S+"),
)

_VLLM = _TextPattern(
    name="vllm",
    record=_VLLM_RECORD,
    time_format="%m-%d %H:%M:%S",
    tag=_VLLM_TAG,
    typed={
        "file": ("code.file.path", pl.String()),
        "lineno": ("code.line.number", pl.Int64()),
        "process": ("vllm.process", pl.String()),
        "pid": ("process.pid", pl.Int64()),
    },
    cr_continuation=True,
    events=VLLM_EVENTS,
    vllm_stats=True,
)

_PATTERNS: Mapping[str, _TextPattern] = MappingProxyType({"vllm": _VLLM})
#: Built-in text patterns: name -> regex of a record's first line.
TEXT_LOG_PATTERNS: Mapping[str, str] = MappingProxyType(
    {
        name: "^"
        + (f"(?:{p.tag.removeprefix('^')})?" if p.tag else "")
        + p.record.removeprefix("^")
        for name, p in _PATTERNS.items()
    }
)

#: vLLM's periodic stats line: label -> (attribute, dtype, value regex).
_VLLM_STATS: tuple[tuple[str, str, pl.DataType, str], ...] = (
    ("Engine", "vllm.engine_index", pl.Int64(), r"^Engine (\d+):"),
    (
        "Avg prompt throughput",
        "vllm.avg_prompt_throughput_tokens_per_s",
        pl.Float64(),
        r"Avg prompt throughput: ([\d.]+) tokens/s",
    ),
    (
        "Avg generation throughput",
        "vllm.avg_generation_throughput_tokens_per_s",
        pl.Float64(),
        r"Avg generation throughput: ([\d.]+) tokens/s",
    ),
    ("Running", "vllm.num_requests_running", pl.Int64(), r"(?:^|, )Running: (\d+) reqs"),
    ("Waiting", "vllm.num_requests_waiting", pl.Int64(), r"(?:^|, )Waiting: (\d+) reqs"),
    # vLLM v0 logged its waiting queue as "Pending".
    ("Pending", "vllm.num_requests_waiting", pl.Int64(), r"(?:^|, )Pending: (\d+) reqs"),
    ("Swapped", "vllm.num_requests_swapped", pl.Int64(), r"(?:^|, )Swapped: (\d+) reqs"),
    (
        "GPU KV cache usage",
        "vllm.gpu_kv_cache_usage_pct",
        pl.Float64(),
        r"(?:^|, )GPU KV cache usage: ([\d.]+)%",
    ),
    (
        "CPU KV cache usage",
        "vllm.cpu_kv_cache_usage_pct",
        pl.Float64(),
        r"(?:^|, )CPU KV cache usage: ([\d.]+)%",
    ),
    (
        "Prefix cache hit rate",
        "vllm.prefix_cache_hit_rate_pct",
        pl.Float64(),
        r"(?:^|, )Prefix cache hit rate: ([\d.]+)%",
    ),
)

_RESERVED_GROUPS = ("time", "level", "message", "trace_id", "span_id")
_ANSI = r"\x1b\[[0-9;]*[A-Za-z]"


def _custom_pattern(regex: str, time_format: str | None, function: str) -> _TextPattern:
    try:
        groups = list(re.compile(regex).groupindex)
    except re.error as exc:
        raise reject(
            "pattern",
            f"be a built-in pattern name ({', '.join(map(repr, _PATTERNS))}) or a regular "
            "expression with named groups",
            got=f"{preview(regex)}, which does not compile ({exc}),",
            function=function,
        ) from None
    if "time" not in groups or "message" not in groups:
        raise reject(
            "pattern",
            f"be a built-in pattern name ({', '.join(map(repr, _PATTERNS))}) or a regular "
            "expression with named groups 'time' and 'message' (optional: 'level', "
            "'trace_id', 'span_id', any other group becomes an attribute)",
            regex,
            function=function,
        )
    try:
        pl.Series([""], dtype=pl.String).str.extract_groups(regex)
    except pl.exceptions.ComputeError as exc:
        raise ParameterError(
            f"The 'pattern' parameter of {function} must be a regular expression that polars "
            f"(Rust regex syntax: no look-around or back-references) can run. Got "
            f"{preview(regex)}: {str(exc).splitlines()[-1]}"
        ) from None
    typed = {g: (g.replace("__", "."), pl.String()) for g in groups if g not in _RESERVED_GROUPS}
    return _TextPattern(name="custom", record=regex, time_format=time_format, typed=typed)


def _text_lines(path: Path) -> pl.Series | None:
    """The file's lines (streamed, see :func:`toolkit.ingest._io.read_lines`); None if empty."""
    lines = read_lines(path, expected="; expected a UTF-8 text log")
    if lines.height == 0:
        return None
    return lines["text"]


def _groups(regex: str) -> list[str]:
    return list(re.compile(regex).groupindex)


def _text_frame(lines: pl.Series, pattern: _TextPattern) -> pl.DataFrame:
    """One row per line: its tag, header groups (as ``@<group>``), record id and text piece.

    Group columns are prefixed with ``@`` (never part of a regex group name), so a custom
    pattern's group names cannot collide with the working columns.
    """
    df = pl.DataFrame({"raw": lines}).with_row_index("idx")
    cleaned = pl.col("raw")
    if lines.str.contains("\x1b", literal=True).any():
        cleaned = cleaned.str.replace_all(_ANSI, "")
    df = df.with_columns(
        cleaned.str.ends_with("\r").alias("cr"),
        cleaned.str.strip_suffix("\r").alias("text"),
    )
    if pattern.tag is not None:
        whole = f"^(?P<_tag>{pattern.tag.removeprefix('^')})"
        tag_groups = df["text"].str.extract_groups(whole).struct.unnest()
        df = df.with_columns(tag_groups["_tag"].alias("tag")).with_columns(
            *(tag_groups[g].alias(f"@{g}") for g in tag_groups.columns if g != "_tag"),
            pl.when(pl.col("tag").is_not_null())
            .then(pl.col("text").str.slice(pl.col("tag").str.len_chars()))
            .otherwise(pl.col("text"))
            .alias("rest"),
        )
    else:
        df = df.with_columns(pl.lit(None, pl.String).alias("tag"), pl.col("text").alias("rest"))
    groups = df["rest"].str.extract_groups(pattern.record).struct.unnest()
    header_groups = [g for g in groups.columns if g != "message"]
    df = df.with_columns(
        *(groups[g].alias(f"@{g}") for g in groups.columns),
        pl.col("rest").str.contains(pattern.record).alias("is_header"),
        pl.col("tag").fill_null("").alias("grp"),
    )
    key = pl.concat_str(
        [pl.col("grp"), *(pl.col(f"@{g}").fill_null("") for g in header_groups)],
        separator="\x1f",
    )
    df = df.with_columns(key.alias("key"))
    merged = pl.lit(False)
    if pattern.cr_continuation:
        previous = pl.struct("is_header", "cr", "key").shift(1).over("grp").alias("prev")
        df = df.with_columns(previous).unnest("prev", separator="/")
        merged = (
            pl.col("is_header")
            & pl.col("prev/is_header").fill_null(False)
            & pl.col("prev/cr").fill_null(False)
            & (pl.col("prev/key") == pl.col("key")).fill_null(False)
        )
    df = df.with_columns(merged.alias("merged"))
    is_start = pl.col("is_header") & ~pl.col("merged")
    df = df.with_columns(
        pl.when(is_start).then(is_start.cast(pl.Int64).cum_sum() - 1).alias("start")
    ).with_columns(pl.col("start").forward_fill().over("grp").alias("same_tag"))
    # A start is its own record; a merged header line or a tagged line joins the latest
    # record of its tag; anything else (and a tagged line whose tag has no record yet)
    # joins the record of the line before it.
    assigned = (
        pl.when(pl.col("start").is_not_null())
        .then(pl.col("start"))
        .when(pl.col("merged") | pl.col("tag").is_not_null())
        .then(pl.col("same_tag"))
    )
    piece = pl.when(pl.col("is_header")).then(pl.col("@message")).otherwise(pl.col("rest"))
    return df.with_columns(assigned.forward_fill().alias("rec"), piece.alias("piece"))


def _text_time(
    records: pl.DataFrame, pattern: _TextPattern, year: int | None, tz: str | None
) -> pl.DataFrame:
    """Add ``_ns`` (UTC epoch nanoseconds) and ``_p_time`` to the records."""
    times = records["@time"]
    fmt = pattern.time_format
    if fmt is None:
        nanos, problem = _iso_nanos(times, tz)
        return records.with_columns(nanos.alias("_ns"), problem.alias("_p_time"))
    has_year = "%Y" in fmt or "%y" in fmt
    t = pl.DataFrame({"t": times})
    if not has_year:
        assert year is not None

        def with_year(y: pl.Expr) -> pl.Expr:
            text = y.cast(pl.String) + pl.lit("-") + pl.col("t")
            return text.str.strptime(pl.Datetime("ns"), f"%Y-{fmt}", strict=False)

        month = with_year(pl.lit(year)).dt.month().forward_fill()
        rollover = ((month == 1) & (month.shift(1) == 12)).fill_null(False)
        offset = rollover.cast(pl.Int64).cum_sum()
        parsed = t.select(with_year(offset + year)).to_series()
        expected = f"a time like {fmt!r} (read in year {year} or later)"
    else:
        parsed = times.str.strptime(pl.Datetime("ns"), fmt, strict=False)
        expected = f"a time like {fmt!r}"
    dtype = parsed.dtype
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        nanos = parsed.dt.convert_time_zone("UTC").dt.epoch("ns")
        zoned_bad = pl.Series([False] * len(times))
    else:
        assert tz is not None
        zoned = parsed.dt.replace_time_zone(tz, ambiguous="null", non_existent="null")
        nanos = zoned.dt.epoch("ns")
        zoned_bad = parsed.is_not_null() & zoned.is_null()
    problem = t.select(
        pl.when(parsed.is_null())
        .then(pl.lit(f"expected {expected}; got '") + pl.col("t").str.head(40) + pl.lit("'"))
        .when(zoned_bad)
        .then(pl.lit(f"local time does not exist or is ambiguous in time zone {tz!r}"))
    ).to_series()
    return records.with_columns(nanos.alias("_ns"), problem.alias("_p_time"))


def _text_file(
    path: Path,
    pattern: _TextPattern,
    year: int | None,
    tz: str | None,
    service_name: str | None,
    text_levels: Mapping[str, int],
    ctx: LoadContext,
) -> pl.DataFrame:
    lines = _text_lines(path)
    if lines is None:
        return pl.DataFrame()
    df = _text_frame(lines, pattern)
    orphans = df.filter(pl.col("rec").is_null() & (pl.col("text").str.strip_chars() != ""))
    if orphans.height:
        first = orphans.row(0, named=True)
        ctx.problem(
            f"text before the first record: {orphans.height} line(s) not starting with a "
            f"{pattern.name!r} log header (expected a line matching {preview(pattern.record)}); "
            f"the first is {preview(first['text'])}",
            line=int(first["idx"]) + 1,
        )
    lines_in = df.filter(pl.col("rec").is_not_null())
    if lines_in.height == 0:
        return pl.DataFrame()
    firsts = [g for g in _groups(pattern.record) if g != "message"]
    if pattern.tag is not None:
        firsts += _groups(pattern.tag)
    records = lines_in.group_by("rec", maintain_order=True).agg(
        pl.col("piece").str.join("\n").alias("body"),
        (pl.col("idx").first() + 1).cast(pl.Int64).alias("_line"),
        pl.col("@message").first().alias("_first"),
        *(pl.col(f"@{g}").first() for g in firsts),
    )
    records = _text_time(records, pattern, year, tz)
    if "@level" in records.columns:
        level = pl.col("@level")
        known = (
            level.str.strip_chars()
            .str.to_lowercase()
            .replace_strict(dict(text_levels), default=None, return_dtype=pl.Int32)
        )
        records = records.with_columns(
            known.alias("severity_number"),
            level.alias("severity_text"),
            pl.when(level.is_not_null() & known.is_null())
            .then(
                pl.lit("unknown level '")
                + level.str.head(40)
                + pl.lit("'; pass levels= to map it to an OTel severity number")
            )
            .alias("_p_level"),
        )
    else:
        records = records.with_columns(
            pl.lit(None, pl.Int32).alias("severity_number"),
            pl.lit(None, pl.String).alias("severity_text"),
        )
    for col in ("trace_id", "span_id"):
        source = pl.col(f"@{col}") if f"@{col}" in records.columns else pl.lit(None, pl.String)
        records = records.with_columns(source.alias(col))
    records = _id_columns(records, "trace_id", 32, "the trace id")
    records = _id_columns(records, "span_id", 16, "the span id")
    event = pl.lit(None, pl.String)
    for name, regex in reversed(pattern.events):
        event = pl.when(pl.col("body").str.contains(regex)).then(pl.lit(name)).otherwise(event)
    records = records.with_columns(
        event.alias("event_name"),
        pl.lit(service_name, pl.String).alias("service_name"),
        pl.lit(None, pl.String).alias("scope_name"),
    )
    for group, (key, dtype) in pattern.typed.items():
        if f"@{group}" in records.columns and dtype != pl.String:
            raw = pl.col(f"@{group}")
            records = records.with_columns(
                pl.when(raw.is_not_null() & raw.cast(dtype, strict=False).is_null())
                .then(
                    pl.format(
                        "{} {} does not fit a {} ({})",
                        pl.lit(group),
                        raw.str.slice(0, 40),
                        pl.lit(str(dtype)),
                        pl.lit(key),
                    )
                )
                .alias(f"_p_{group}")
            )
    records = _reject(records, path, ctx)
    n = records.height
    if n == 0:
        return pl.DataFrame()
    attributes: dict[str, pl.Series] = {}
    for group, (key, dtype) in pattern.typed.items():
        if f"@{group}" in records.columns:
            attributes[key] = records[f"@{group}"].cast(dtype, strict=True)
    if pattern.vllm_stats:
        is_stats = records["event_name"] == "vllm.stats.throughput"
        first_lines = records.select(pl.col("_first"), is_stats.alias("_stats"))
        for _label, key, dtype, regex in _VLLM_STATS:
            values = first_lines.select(
                pl.when(pl.col("_stats")).then(pl.col("_first").str.extract(regex, 1).cast(dtype))
            ).to_series()
            attributes[key] = attributes[key].fill_null(values) if key in attributes else values
    attributes.setdefault("log.file.name", pl.Series([path.name] * n, dtype=pl.String))
    return _finalise(records, "_ns", attributes, None, ctx)


@overload
def read_text_logs(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    pattern: str = ...,
    year: int | None = ...,
    tz: str | None = ...,
    time_format: str | None = ...,
    service_name: str | None = ...,
    levels: Mapping[str | int, int] | None = ...,
    on_error: OnError = ...,
    report: LoadReport | None = ...,
    backend: Literal["polars"] = ...,
) -> pl.DataFrame: ...


@overload
def read_text_logs(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    pattern: str = ...,
    year: int | None = ...,
    tz: str | None = ...,
    time_format: str | None = ...,
    service_name: str | None = ...,
    levels: Mapping[str | int, int] | None = ...,
    on_error: OnError = ...,
    report: LoadReport | None = ...,
    backend: Literal["pandas"],
) -> pd.DataFrame: ...


@validate_params(
    service_name=[InstanceOf(str, description="a string"), None],
    on_error=ON_ERROR,
    backend=BACKEND,
)
def read_text_logs(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    pattern: str = "vllm",
    year: int | None = None,
    tz: str | None = None,
    time_format: str | None = None,
    service_name: str | None = None,
    levels: Mapping[str | int, int] | None = None,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> pl.DataFrame | pd.DataFrame:
    """Read plain-text server logs into the logs table, one row per log record.

    A line matching the pattern's header starts a record; any other line continues the
    record before it (appended to its ``body`` after a newline), so Python tracebacks,
    banners and wrapped messages stay with their record. ANSI colour codes are removed.

    With ``pattern="vllm"`` (vLLM's ``LEVEL MM-DD HH:MM:SS [file.py:line] message``, with
    the ``(APIServer pid=1)`` process tag newer versions prefix every line with):

    * ``code.file.path`` / ``code.line.number`` (the logging call site), ``vllm.process``
      (``APIServer``, ``EngineCore``, ``Worker`` ...) and ``process.pid`` become attributes;
    * a message vLLM split over several lines (each repeating the header, every line but
      the last ending in CR, as its ``NewLineFormatter`` writes them) is one record;
    * a line that does not start a record joins the latest record of the *same process
      tag* (processes write to the log at once); an untagged one joins the record of the
      line before it;
    * ``event_name`` tags known events (:data:`VLLM_EVENTS`: start-up, KV-cache memory and
      ``max_model_len`` errors, the periodic stats line), matched on the whole body, so a
      traceback attached to a record tags it too;
    * the stats line ``Engine 000: Avg prompt throughput: 0.0 tokens/s, ...`` is parsed
      into ``vllm.engine_index``, ``vllm.avg_prompt_throughput_tokens_per_s``,
      ``vllm.avg_generation_throughput_tokens_per_s``, ``vllm.num_requests_running``,
      ``vllm.num_requests_waiting`` (v0's "Pending"), ``vllm.num_requests_swapped``,
      ``vllm.gpu_kv_cache_usage_pct``, ``vllm.cpu_kv_cache_usage_pct`` and
      ``vllm.prefix_cache_hit_rate_pct``.

    Parameters
    ----------
    path_or_paths : path, glob, directory, or a list of those
        The files (gzip is decompressed), read in order.
    pattern : str, default "vllm"
        A name in :data:`TEXT_LOG_PATTERNS`, or a regular expression (polars' Rust syntax)
        matching a record's first line, with named groups ``time`` and ``message`` and
        optionally ``level``, ``trace_id``, ``span_id``; any other named group becomes a
        String attribute (``__`` in its name becomes ``.``: ``code__lineno`` gives
        ``attributes.code.line.number``).
    year : int, optional
        Year of each file's first record, required when the timestamps carry none (vLLM's
        ``MM-DD HH:MM:SS``): the current year is never assumed. A month going from
        December to January between consecutive records moves to the next year.
    tz : str, optional
        IANA time zone of naive timestamps (vLLM logs in the server's local time, often
        UTC in containers); required for them.
    time_format : str, optional
        strftime format of a custom pattern's ``time`` group (ISO-8601 when None).
    service_name : str, optional
        Value of the ``service_name`` column (null when None).
    levels : mapping, optional
        Extra or overriding level names to OTel severity numbers (see
        :func:`read_json_logs`); an unknown level is an error.
    on_error : {"raise", "skip"}, default "raise"
        Raise :class:`~toolkit.errors.FormatError` for a bad record (unreadable time,
        unknown level, bad id, text before the first record) naming file and line, or skip
        it, count it and warn once.
    report : LoadReport, optional
        Filled with the files read, row count, skipped records and promoted columns.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The logs table.

    Raises
    ------
    FormatError
        For a bad record under ``on_error="raise"``, or a file that is not UTF-8.
    ParameterError
        For a bad parameter, e.g. ``year`` missing for vLLM logs.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vllm.log"
    >>> _ = path.write_text(
    ...     "(APIServer pid=1) INFO 08-18 02:56:55 [api_utils.py:339] starting\\n"
    ...     "(APIServer pid=1) Traceback (most recent call last):\\n"
    ...     "(APIServer pid=1) ValueError: boom\\n"
    ... )
    >>> logs = read_text_logs(path, year=2025, tz="UTC")
    >>> print(logs["body"][0])
    starting
    Traceback (most recent call last):
    ValueError: boom
    >>> logs.select("severity_number", "attributes.code.line.number",
    ...             "attributes.process.pid").row(0)
    (9, 339, 1)
    """
    function = "read_text_logs"
    if not isinstance(pattern, str) or not pattern:
        raise reject(
            "pattern",
            f"be a built-in pattern name ({', '.join(map(repr, _PATTERNS))}) or a regular "
            "expression",
            pattern,
        )
    if time_format is not None and (not isinstance(time_format, str) or not time_format):
        raise reject("time_format", "be a strftime format such as '%Y-%m-%d %H:%M:%S'", time_format)
    if pattern in _PATTERNS:
        if time_format is not None:
            raise ParameterError(
                f"The 'time_format' parameter of {function} is only for custom regex patterns; "
                f"the {pattern!r} pattern has its own. Got {time_format!r} instead."
            )
        spec = _PATTERNS[pattern]
    else:
        spec = _custom_pattern(pattern, time_format, function)
    fmt = spec.time_format
    needs_year = fmt is not None and "%Y" not in fmt and "%y" not in fmt
    if needs_year:
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9998:
            raise reject(
                "year",
                f"be the year (e.g. 2025) of the first record, because {spec.name!r} "
                f"timestamps ({fmt}) carry none; the current year is never assumed",
                year,
            )
    elif year is not None:
        raise ParameterError(
            f"The 'year' parameter of {function} is only for patterns whose timestamps carry "
            f"no year; these are read with {fmt or 'ISO-8601'!r}. Got {preview(year)} instead."
        )
    tz_checked = check_tz(tz, function)
    naive = fmt is not None and "%z" not in fmt and "%Z" not in fmt
    if naive and tz_checked is None:
        raise reject(
            "tz",
            f"name the time zone of the {spec.name!r} timestamps, which carry no UTC offset "
            "(vLLM logs in the server's local time; 'UTC' in most containers)",
            None,
        )
    text_levels, _ = _level_tables(levels, function)
    files = expand_paths(path_or_paths, function=function)
    ctx = LoadContext(function, on_error)
    for path in files:
        ctx.formats[os.fspath(path)] = f"text logs ({spec.name})"
    out = _load(
        files,
        lambda p: _text_file(p, spec, year, tz_checked, service_name, text_levels, ctx),
        ctx,
        report,
    )
    return frame_out(out, backend)
