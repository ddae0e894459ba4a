"""Prometheus text exposition (0.0.4) and OpenMetrics 1.0 text into the metrics table.

One scrape, or a directory of timestamped scrapes, becomes the long ``metrics`` table of
:mod:`toolkit.schema`: one row per sample with ``time``, ``name``, ``type``, ``unit``,
``value``, ``le`` and one ``label.<name>`` String column per label.

Conventions
-----------
* Series keep their exposition names: a histogram ``x`` gives ``x_bucket`` rows (with
  ``le``), ``x_sum`` and ``x_count``; ``_created`` samples are series of their own. ``type``
  is the type of the sample's family (the ``# TYPE`` line it belongs to), one of
  ``schema.METRIC_TYPES``; a sample without a ``# TYPE`` line, or with ``untyped``, is
  ``"unknown"``, never silently a gauge. ``unit`` comes from ``# UNIT`` (OpenMetrics) or is
  null; it is never guessed from names or help text.
* The ``le`` label is parsed into the Float64 ``le`` column (``+Inf`` is ``inf``); every
  other label, ``quantile`` of summaries included, stays a String column ``label.<name>``,
  with escapes (``\\\\``, ``\\"``, ``\\n``) decoded. An empty label value (``pod_uid=""``)
  stays ``""``, as written (Prometheus itself treats it as an absent label).
* ``temporality`` is ``"cumulative"`` for the counting series of counters, histograms and
  summaries (not for their ``_created`` series nor the ``quantile`` series of summaries),
  null otherwise; ``start_time``, ``service_name`` and ``scope_name`` are null (they exist
  so that frames from this reader stack with those of the OTLP reader).
* Exemplars (``... # {trace_id="..."} 0.5``) are recognised and deliberately ignored.
  ``# HELP`` text is checked but not kept (the table has no column for it).

Which format, which timestamps
------------------------------
A file whose ``# EOF`` line ends it is **OpenMetrics**: sample timestamps are seconds,
possibly fractional (``1763719200.25``), read exactly to the nanosecond. Any other file is
the **Prometheus text format**, whose timestamps are integer **milliseconds**. A timestamp
with a decimal point in a file without ``# EOF`` is an error (the unit would be a guess).

Where ``time`` comes from
-------------------------
1. the sample's own timestamp, when it has one;
2. else the ``time=`` argument (a timezone-aware ``datetime`` or an ISO-8601 string with
   ``Z`` or an offset);
3. else, in :func:`read_prometheus`, a timestamp in the **file name**: an ISO-8601 date-time
   with a time zone (``2026-11-21T10:00:00Z``, ``2026-11-21T10-00-00Z``,
   ``20261121T100000Z``, ``2026-11-21_10:00:00+01:00``; ``:`` may be ``-`` or left out, a
   fraction of a second is allowed) or unix epoch seconds as a run of exactly ten digits
   (``scrape-1763719200.prom``, ``1763719200.5.txt``);
4. otherwise a :class:`~toolkit.errors.FormatError` names the file and says how to supply
   the time. The file's modification time is never used.

Not supported: the protobuf exposition, native histograms, and the quoted UTF-8 metric and
label names of Prometheus 3 / OpenMetrics 2.0 (``{"my.metric"}``), which are reported as
malformed lines.

Memory
------
Scrape files are decompressed and split into lines as a stream, 32 MiB at a time
(:func:`toolkit.ingest._io.read_lines`): the whole decompressed text is never held as
bytes or Python strings. The parse then works on every line of the files given at once
(families, duplicates and ``# EOF`` are checked across a file), so memory grows with the
lines: the text plus 24 bytes a line, at most ``TOOLKIT_MAX_FILE_BYTES`` (4 GiB) a file,
and a line of at most ``TOOLKIT_MAX_LINE_BYTES`` (1 GiB); past either a load ends in
:class:`~toolkit.errors.InputTooLargeError`, also for a gzip bomb. Peak memory is about
8x the decompressed size (``benchmarks/reader_memory.py``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from toolkit._validation import BACKEND, Backend, InstanceOf, frame_out, reject, validate_params
from toolkit.errors import (
    FormatError,
    LoadReport,
    MissingTimeError,
    SkippedRecord,
    location,
    preview,
)
from toolkit.ingest._frames import ON_ERROR, LoadContext, finish
from toolkit.ingest._io import PathLike, expand_paths, read_lines
from toolkit.schema import METRICS, TIME

__all__ = ["parse_exposition", "read_prometheus"]

TimeLike = dt.datetime | str

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_SAMPLE_RE = (
    rf"^[ \t]*(?P<name>{_NAME})[ \t]*"
    rf'(?:\{{(?P<labels>(?:[^"}}]|{_QUOTED})*)\}})?'
    r"[ \t]+(?P<value>[^ \t#][^ \t]*)"
    r"(?:[ \t]+(?P<ts>[^ \t#][^ \t]*))?"
    r"[ \t]*(?P<exemplar>#[ \t]*\{.*)?$"
)
_PAIR = rf"[ \t]*{_LABEL_NAME}[ \t]*=[ \t]*{_QUOTED}[ \t]*"
_PAIR_GROUPS = rf'^[ \t]*(?P<lname>{_LABEL_NAME})[ \t]*=[ \t]*"(?P<lraw>(?:[^"\\]|\\.)*)"[ \t]*$'
_LABELS_FULL = rf"^(?:{_PAIR}(?:,{_PAIR})*,?)?[ \t]*$"
_META_RE = r"^[ \t]*#[ \t]+(?P<kw>HELP|TYPE|UNIT)(?:[ \t]+(?P<rest>.*))?$"
_META_REST = rf"^(?P<fam>{_NAME})(?:[ \t]+(?P<arg>.*?))?[ \t]*$"
_EOF_RE = r"^[ \t]*#[ \t]+EOF[ \t]*$"
#: Go's strconv.ParseFloat as used by Prometheus (decimal forms, Inf, NaN).
_FLOAT_RE = (
    r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|(?i:inf|infinity|nan))$"
)
_MS_RE = r"^[+-]?[0-9]+$"
_SECONDS_RE = r"^(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?P<exp>[eE][+-]?[0-9]+)?$"

#: ``# TYPE`` values and the ``type`` they give.
_TYPES = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "untyped": "unknown",
    "unknown": "unknown",
    "info": "info",
    "stateset": "stateset",
    "gaugehistogram": "gaugehistogram",
}
#: Sample-name suffixes that belong to a family of each type (besides the bare name).
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}
_SUFFIX_RE = (
    "(?P<suffix>" + "|".join(sorted({s for group in _SUFFIXES.values() for s in group})) + ")$"
)
_VALID_PAIRS = [f"{t} {s}" for t, group in _SUFFIXES.items() for s in group]

_MAX_MS = 9_223_372_036_854  # the largest |ms| whose nanoseconds fit an Int64
_MAX_SECONDS_DIGITS = 10
_NS = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# File-name timestamps (documented in the module docstring).
_NAME_ISO_RE = re.compile(
    r"(?<!\d)(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})[T_ ]"
    r"(?P<h>\d{2})[:\-]?(?P<mi>\d{2})[:\-]?(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?"
    r"(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?(?!\d)"
)
_NAME_EPOCH_RE = re.compile(r"(?<!\d)(?<!\d\.)(?P<s>\d{10})(?:\.(?P<f>\d{1,9}))?(?!\d)")

_TIME_HINT = (
    "pass time= (a timezone-aware datetime or an ISO-8601 string such as '2026-11-21T10:00:00Z')"
)
_NAME_HINT = (
    ", or name the file with its scrape time (e.g. 'scrape-2026-11-21T10:00:00Z.prom' or "
    "'scrape-1763719200.prom', unix seconds)"
)


@dataclass(frozen=True)
class _Source:
    """One exposition to parse: where it came from, its lines (``line``, ``text``), the
    time of its scrape."""

    path: str | None
    lines: pl.DataFrame
    default_ns: int | None
    time_hint: str


# --------------------------------------------------------------------------------------
# Parameters and time values
# --------------------------------------------------------------------------------------


def _datetime_ns(value: dt.datetime) -> int:
    nanos = getattr(value, "nanosecond", 0)  # pandas.Timestamp keeps nanoseconds
    delta = value - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * 1000 + int(nanos)


def _iso_ns(text: str) -> int | None:
    """Nanoseconds since the epoch of a zone-aware ISO-8601 string, or None if naive."""
    match = re.fullmatch(
        r"(?P<head>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:[.,](?P<f>\d+))?"
        r"(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?",
        text.strip(),
    )
    if match is None:
        raise ValueError(text)
    if match["tz"] is None:
        return None
    tz = "+00:00" if match["tz"] in ("Z", "z") else match["tz"]
    parsed = dt.datetime.fromisoformat(match["head"] + tz)
    frac = (match["f"] or "").ljust(9, "0")
    if len(frac) > 9:
        raise ValueError(text)
    return _datetime_ns(parsed) + int(frac)


def _time_param(value: Any, function: str) -> int | None:
    """The ``time`` parameter as nanoseconds since the epoch (None when not given)."""
    if value is None:
        return None
    # the nanoseconds of ISO text are kept (utc_time would stop at microseconds)
    expected = (
        "be a timezone-aware datetime or an ISO-8601 string with 'Z' or an offset "
        "(e.g. '2026-11-21T10:00:00Z')"
    )
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise reject(
                "time",
                expected,
                got=f"the naive datetime {value.isoformat()!r}",
                hint="Attach its time zone (e.g. tzinfo=datetime.timezone.utc).",
                function=function,
            )
        return _datetime_ns(value)
    if isinstance(value, str):
        try:
            ns = _iso_ns(value)
        except ValueError:
            raise reject("time", expected, value, function=function) from None
        if ns is None:
            got = f"{preview(value)}, which has no time zone,"
            raise reject("time", expected, got=got, function=function)
        return ns
    raise reject("time", expected, got=type(value).__name__, function=function)


def _name_time(path: Path) -> tuple[int | None, str]:
    """The scrape time written in a file name, or None and what to tell the user.

    The hint is used only if a sample of the file has no timestamp of its own, so an odd
    name (two timestamps, an impossible date, no time zone) is an error only when it matters.
    """
    name = path.name
    found: dict[int, str] = {}
    notes: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _NAME_ISO_RE.finditer(name):
        spans.append(match.span())
        if match["tz"] is None:
            notes.append(
                f"the name holds the date-time {match.group(0)!r} without a time zone, which "
                "is not used: add 'Z' or an offset such as '+01:00'"
            )
            continue
        tz = match["tz"]
        offset = dt.timedelta(0)
        if tz not in ("Z", "z"):
            digits = tz[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            offset = dt.timedelta(hours=hours, minutes=minutes) * (1 if tz[0] == "+" else -1)
        y, mo, d, h, mi, sec = (int(match[k]) for k in ("y", "mo", "d", "h", "mi", "s"))
        try:
            moment = dt.datetime(y, mo, d, h, mi, sec, tzinfo=dt.timezone(offset))
        except ValueError as exc:
            notes.append(f"the name holds {match.group(0)!r}, which is not a valid time ({exc})")
            continue
        found[_datetime_ns(moment) + int((match["f"] or "").ljust(9, "0"))] = match.group(0)
    for match in _NAME_EPOCH_RE.finditer(name):
        if any(a <= match.start() < b for a, b in spans):
            continue
        ns = int(match["s"]) * _NS + int((match["f"] or "").ljust(9, "0"))
        found.setdefault(ns, match.group(0))
    if len(found) == 1:
        return next(iter(found)), ""
    if found:
        shown = ", ".join(repr(v) for v in found.values())
        notes.insert(0, f"the name holds several different timestamps ({shown}); keep one")
    return None, "; ".join([_TIME_HINT + _NAME_HINT, *notes])


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


def _unescape(raw: str) -> str:
    """Decode a label value as Prometheus does: ``\\\\``, ``\\"`` and ``\\n``; others kept."""
    table = {"\\": "\\", '"': '"', "n": "\n"}
    return re.sub(r"\\(.)", lambda m: table.get(m.group(1), m.group(0)), raw)


def _text_lines(text: str) -> pl.DataFrame:
    """The lines of an exposition given as text, as :func:`read_lines` gives a file's."""
    parts = text.removeprefix("\ufeff").split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return pl.DataFrame(
        {
            "line": np.arange(1, len(parts) + 1, dtype=np.int64),
            "text": pl.Series(parts, dtype=pl.String),
        }
    )


def _lines_frame(sources: Sequence[_Source]) -> pl.DataFrame:
    frames = [
        src.lines.select(pl.lit(i, dtype=pl.Int64).alias("file"), "line", "text")
        for i, src in enumerate(sources)
    ]
    if not frames:
        return pl.DataFrame(schema={"file": pl.Int64, "line": pl.Int64, "text": pl.String})
    return pl.concat(frames).with_columns(pl.col("text").str.strip_suffix("\r"))


def _shown(column: str | pl.Expr) -> pl.Expr:
    """A bounded repr of each value, for messages."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.map_elements(preview, return_dtype=pl.String)


def _flag(rows: pl.DataFrame, template: str, *values: pl.Expr) -> pl.DataFrame:
    """``(file, line, reason)`` of bad rows, the reason formatted with ``pl.format``."""
    reason = pl.format(template, *values) if values else pl.lit(template)
    return rows.select("file", "line", reason.alias("reason"))


def _seconds_to_ns(ts: pl.Expr) -> pl.Expr:
    """Exact nanoseconds of a decimal seconds string without exponent (checked before)."""
    parts = ts.str.extract_groups(_SECONDS_RE)
    # not strict: polars evaluates this on every row, also those flagged as bad
    integer = parts.struct.field("int").replace("", "0").cast(pl.Int64, strict=False)
    frac = parts.struct.field("frac").fill_null("").str.slice(0, 9).str.pad_end(9, "0")
    magnitude = integer * _NS + frac.cast(pl.Int64, strict=False)
    return pl.when(parts.struct.field("sign") == "-").then(-magnitude).otherwise(magnitude)


def _decimal_seconds_ns(text: str) -> int | None:
    try:
        value = Decimal(text) * _NS
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= 2**63:
        return None
    return int(value)


def _content_lines(frame: pl.DataFrame, problems: list[pl.DataFrame]) -> pl.DataFrame:
    """Non-blank lines up to ``# EOF``, with ``openmetrics`` telling the file's format."""
    eof = (
        frame.filter(pl.col("text").str.contains(_EOF_RE))
        .group_by("file")
        .agg(pl.col("line").min().alias("eof_line"))
    )
    frame = frame.join(eof, on="file", how="left").with_columns(
        pl.col("eof_line").is_not_null().alias("openmetrics")
    )
    blank = pl.col("text").str.strip_chars(" \t") == ""
    after = pl.col("line") > pl.col("eof_line")
    problems.append(
        _flag(
            frame.filter(after & ~blank),
            "content after the '# EOF' line that ends an OpenMetrics exposition",
        )
    )
    return frame.filter(~blank & (pl.col("line") < pl.col("eof_line")).fill_null(True))


def _metadata(
    comments: pl.DataFrame, problems: list[pl.DataFrame]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(file, fam, typ)`` of the ``# TYPE`` lines and ``(file, fam, typ=unit)`` of ``# UNIT``."""
    parsed = (  # each distinct comment once: scrapes of one exporter repeat them all
        comments.select("text")
        .unique()
        .with_columns(pl.col("text").str.extract_groups(_META_RE).alias("m"))
        .unnest("m")
        .filter(pl.col("kw").is_not_null())
        .with_columns(pl.col("rest").fill_null("").str.extract_groups(_META_REST).alias("r"))
        .unnest("r")
    )
    meta = comments.join(parsed, on="text")
    kw = pl.col("kw")
    arg = pl.col("arg")
    bad = (
        pl.col("fam").is_null()
        | ((kw == "TYPE") & ~arg.is_in(list(_TYPES)).fill_null(False))
        | ((kw == "UNIT") & arg.str.contains(r"[ \t]").fill_null(False))
    )
    expected = (
        pl.when(kw == "TYPE")
        .then(pl.lit("'# TYPE <metric name> <type>' with a type among " + ", ".join(_TYPES)))
        .when(kw == "UNIT")
        .then(pl.lit("'# UNIT <metric name> <unit>'"))
        .otherwise(pl.lit("'# HELP <metric name> <text>'"))
    )
    problems.append(
        _flag(
            meta.filter(bad),
            "malformed '# {}' line: expected {}; found {}",
            kw,
            expected,
            _shown("text"),
        )
    )
    meta = meta.filter(~bad)
    types = meta.filter(kw == "TYPE").with_columns(arg.replace_strict(_TYPES).alias("typ"))
    units = meta.filter(kw == "UNIT").with_columns(arg.replace("", None).alias("typ"))
    resolved: list[pl.DataFrame] = []
    for what, declared in (("TYPE", types), ("UNIT", units)):
        table = declared.sort("file", "line").with_columns(
            pl.col("typ").first().over("file", "fam").alias("first"),
            pl.col("line").first().over("file", "fam").alias("first_line"),
        )
        clash = table.filter(pl.col("typ").ne_missing(pl.col("first")))
        problems.append(
            _flag(
                clash,
                "second '# {}' line for {} says {} but line {} said {}",
                pl.lit(what),
                _shown("fam"),
                _shown(pl.col("typ").fill_null("")),
                pl.col("first_line"),
                _shown(pl.col("first").fill_null("")),
            )
        )
        resolved.append(table.unique(["file", "fam"], keep="first").select("file", "fam", "typ"))
    return resolved[0], resolved[1]


def _samples(lines: pl.DataFrame, problems: list[pl.DataFrame]) -> pl.DataFrame:
    """Sample lines split into name, labels text, value and ``ts_ns`` (timestamp or null)."""
    samples = (
        lines.with_columns(pl.col("text").str.extract_groups(_SAMPLE_RE).alias("s"))
        .unnest("s")
        .with_row_index("sid")
    )
    unmatched = pl.col("name").is_null()
    problems.append(
        _flag(
            samples.filter(unmatched),
            'malformed sample line: expected \'<metric name>[{{<label>="<value>",...}}] '
            "<value> [<timestamp>]'; found {}",
            _shown("text"),
        )
    )
    samples = samples.filter(~unmatched)
    problems.append(
        _flag(
            samples.filter(~pl.col("value").str.contains(_FLOAT_RE)),
            "sample value {} is not a number (expected a float such as 1.5, 2.619e+09, +Inf "
            "or NaN)",
            _shown("value"),
        )
    )
    # Timestamps: integer ms (Prometheus text) or decimal seconds (OpenMetrics).
    ts = pl.col("ts")
    om = pl.col("openmetrics")
    has_ts = ts.is_not_null()
    ms = ts.cast(pl.Int64, strict=False)
    bad_ms = has_ts & ~om & (~ts.str.contains(_MS_RE) | (ms.abs() > _MAX_MS)).fill_null(True)
    bad_sec = has_ts & om & ~(ts.str.contains(_SECONDS_RE) & ts.str.contains("[0-9]"))
    problems.append(
        _flag(
            samples.filter(bad_ms),
            "timestamp {} is not an integer number of milliseconds within range, as the "
            "Prometheus text format requires (an OpenMetrics exposition, whose timestamps are "
            "seconds, must end with a '# EOF' line)",
            _shown("ts"),
        )
    )
    problems.append(
        _flag(
            samples.filter(bad_sec),
            "timestamp {} is not a number of seconds, as OpenMetrics requires",
            _shown("ts"),
        )
    )
    seconds = has_ts & om & ~bad_sec
    exponent = seconds & ts.str.contains("[eE]")
    digits = ts.str.extract(r"^[+-]?0*([0-9]*)", 1).str.len_chars()
    plain = seconds & ~exponent & (digits <= _MAX_SECONDS_DIGITS)
    samples = samples.with_columns(
        pl.when(has_ts & ~om & ~bad_ms)
        .then(ms * 1_000_000)
        .when(plain)
        .then(_seconds_to_ns(ts))
        .alias("ts_ns"),
        (seconds & ~plain).alias("ts_other"),
    )
    other = samples.filter(pl.col("ts_other"))
    if other.height:  # exponents, or too many digits to be in range: exact decimal arithmetic
        exact = pl.Series([_decimal_seconds_ns(t) for t in other["ts"]], dtype=pl.Int64)
        samples = (
            samples.join(other.select("sid", exact.alias("ts_exact")), on="sid", how="left")
            .with_columns(pl.coalesce("ts_ns", "ts_exact").alias("ts_ns"))
            .drop("ts_exact")
        )
    problems.append(
        _flag(
            samples.filter(pl.col("ts_other") & pl.col("ts_ns").is_null()),
            "timestamp {} seconds is outside the range of nanosecond timestamps (years 1678-2262)",
            _shown("ts"),
        )
    )
    return samples


def _labels(samples: pl.DataFrame, problems: list[pl.DataFrame]) -> pl.DataFrame:
    """One row per (distinct labels text, label): ``labels, lname, lvalue`` (unescaped).

    Each distinct ``{...}`` text is parsed once (a series repeats it in every scrape);
    problems are reported on every sample line that carries the text.
    """
    text = pl.col("labels")
    distinct = samples.select("labels").unique().filter(text.is_not_null())
    bad = ~text.str.contains(_LABELS_FULL)
    found: list[pl.DataFrame] = [
        distinct.filter(bad).select(
            "labels",
            pl.format(
                'malformed labels {{{}}}: expected <label>="<value>" pairs separated by '
                'commas, values in double quotes with \\\\, \\" and \\n escaped',
                text.map_elements(lambda s: preview(s)[1:-1], return_dtype=pl.String),
            ).alias("reason"),
        )
    ]
    long = (
        distinct.filter(~bad)
        .with_columns(text.str.extract_all(_PAIR).alias("pair"))
        .explode("pair")
        .filter(pl.col("pair").is_not_null())
        .with_columns(pl.col("pair").str.extract_groups(_PAIR_GROUPS).alias("p"))
        .unnest("p")
        .drop("pair")
    )
    escaped = long.filter(pl.col("lraw").str.contains("\\", literal=True))["lraw"].unique()
    mapping = {raw: _unescape(raw) for raw in escaped.to_list()}
    lraw = pl.col("lraw")
    long = long.with_columns((lraw.replace(mapping) if mapping else lraw).alias("lvalue"))
    long = long.drop("lraw")
    found.append(
        long.filter(pl.int_range(pl.len()).over("labels", "lname") == 1).select(
            "labels",
            pl.format("label {} appears more than once in the sample", _shown("lname")).alias(
                "reason"
            ),
        )
    )
    found.append(
        long.filter((pl.col("lname") == "le") & ~pl.col("lvalue").str.contains(_FLOAT_RE)).select(
            "labels",
            pl.format(
                "the 'le' label (a histogram bucket bound) must be a number such as 0.5 or "
                "+Inf; found {}",
                _shown("lvalue"),
            ).alias("reason"),
        )
    )
    reasons = pl.concat(found)
    if reasons.height:
        lines = samples.select("file", "line", "labels")
        problems.append(lines.join(reasons, on="labels").select("file", "line", "reason"))
    return long


def _duplicates(samples: pl.DataFrame, long: pl.DataFrame) -> pl.DataFrame:
    """Samples repeating the name, labels and timestamp of an earlier one in the file."""
    keys = (
        long.sort("labels", "lname")
        .group_by("labels")
        .agg(pl.concat_str("lname", "lvalue", separator="\x01").str.join("\x00").alias("key"))
    )
    first_line = pl.col("line").first().over("file", "name", "key", "ts_ns")
    dup = (
        samples.select("file", "line", "name", "labels", "ts_ns")
        .join(keys, on="labels", how="left")
        .with_columns(pl.col("key").fill_null(""))
        .sort("file", "line")
        .with_columns(first_line.alias("first_line"))
        .filter(pl.col("line") != pl.col("first_line"))
    )
    return _flag(
        dup,
        "duplicate sample: the series {} with the same labels and timestamp is already at line {}",
        _shown("name"),
        pl.col("first_line"),
    )


def _families(samples: pl.DataFrame, types: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """Add each sample's ``type`` and ``unit`` from the family it belongs to."""
    samples = samples.with_columns(
        pl.col("name").str.extract(_SUFFIX_RE, 1).alias("suffix"),
        pl.col("name").str.replace(_SUFFIX_RE, "").alias("base"),
    )
    exact = types.rename({"fam": "name", "typ": "t_exact"})
    base = types.rename({"fam": "base", "typ": "t_base"})
    samples = samples.join(exact, on=["file", "name"], how="left").join(
        base, on=["file", "base"], how="left"
    )
    pair = pl.concat_str("t_base", "suffix", separator=" ")
    base_ok = pair.is_in(_VALID_PAIRS).fill_null(False)
    has_exact = pl.col("t_exact").is_not_null()
    family = pl.when(has_exact).then("name").when(base_ok).then("base").otherwise("name")
    typ = pl.when(has_exact).then("t_exact").when(base_ok).then("t_base")
    samples = samples.with_columns(family.alias("family"), typ.fill_null("unknown").alias("type"))
    return samples.join(
        units.rename({"fam": "family", "typ": "unit"}), on=["file", "family"], how="left"
    )


def _assemble(samples: pl.DataFrame, long: pl.DataFrame) -> pl.DataFrame:
    """The metrics table: ``le`` into its column, other labels into ``label.<name>``."""
    long = long.join(samples.select("labels").unique(), on="labels", how="semi")
    is_le = pl.col("lname") == "le"
    wide = long.filter(is_le).select("labels", pl.col("lvalue").cast(pl.Float64).alias("le"))
    rest = long.filter(~is_le)
    label_names = sorted(rest["lname"].unique().to_list())
    if label_names:
        pivoted = rest.pivot(on="lname", index="labels", values="lvalue")
        pivoted = pivoted.rename({n: f"label.{n}" for n in label_names})
        wide = pivoted.join(wide, on="labels", how="full", coalesce=True)
    out = samples.select(
        "file",
        "line",
        "labels",
        pl.col("time_ns").cast(TIME).alias("time"),
        "name",
        "type",
        "unit",
        pl.col("value").cast(pl.Float64),
    ).join(wide, on="labels", how="left")
    quantile = (
        pl.col("label.quantile").is_not_null() if "quantile" in label_names else pl.lit(False)
    )
    cumulative = (
        pl.col("type").is_in(["counter", "histogram", "summary"])
        & ~pl.col("name").str.ends_with("_created")
        & ~quantile
    )
    out = out.with_columns(
        pl.lit(None, dtype=TIME).alias("start_time"),
        pl.when(cumulative).then(pl.lit("cumulative")).alias("temporality"),
        pl.lit(None, dtype=pl.String).alias("service_name"),
        pl.lit(None, dtype=pl.String).alias("scope_name"),
    )
    out = out.sort("time", "file", "line")
    return out.select(*METRICS.names, *(f"label.{n}" for n in label_names))


_SKIPPED_LINES = "{function} skipped {count} line(s) as asked (on_error='skip'): {listed}"


def _parse(sources: Sequence[_Source], ctx: LoadContext) -> pl.DataFrame:
    """Parse expositions into the metrics table (rows sorted by time, file, line).

    Every line is checked first; then the first problem is raised, or, under "skip", every
    line with a problem is left out and added to ``ctx.skipped``.
    """
    problems: list[pl.DataFrame] = []
    lines = _content_lines(_lines_frame(sources), problems)
    is_comment = pl.col("text").str.strip_chars_start(" \t").str.starts_with("#")
    types, units = _metadata(lines.filter(is_comment), problems)
    samples = _samples(lines.filter(~is_comment), problems)
    long = _labels(samples, problems)
    problems.append(_duplicates(samples, long))

    found = pl.concat(problems).sort("file", "line")
    if found.height:
        if ctx.on_error == "raise":
            first = found.row(0, named=True)
            path = sources[first["file"]].path
            raise FormatError(first["reason"], path=path, line=first["line"])
        found = found.unique(["file", "line"], keep="first", maintain_order=True)
        ctx.skipped.extend(
            SkippedRecord(location(sources[f].path, line=ln), reason)
            for f, ln, reason in found.iter_rows()
        )
        bad = found.select("file", "line")
        samples = samples.join(bad, on=["file", "line"], how="anti")

    # Time: the sample's own, else the source's default; otherwise an error.
    defaults = pl.DataFrame(
        {
            "file": np.arange(len(sources), dtype=np.int64),
            "default_ns": pl.Series([s.default_ns for s in sources], dtype=pl.Int64),
        }
    )
    samples = samples.join(defaults, on="file", how="left").with_columns(
        pl.coalesce("ts_ns", "default_ns").alias("time_ns")
    )
    untimed = samples.filter(pl.col("time_ns").is_null())
    if untimed.height:
        first = untimed.sort("file", "line").row(0, named=True)
        src = sources[first["file"]]
        raise MissingTimeError(
            f"the sample {first['name']!r} has no timestamp and no scrape time is known: "
            f"{src.time_hint}",
            path=src.path,
            line=first["line"],
        )
    return _assemble(_families(samples, types, units), long)


def _read_scrapes(
    files: Sequence[Path], default: int | None, ctx: LoadContext
) -> tuple[pl.DataFrame, dict[str, str]]:
    """The metrics table of scrape files, and each file's format; skipped lines go to ``ctx``.

    ``default`` is the scrape time (ns) of samples without a timestamp; when None, each
    file's name must carry it.
    """
    sources: list[_Source] = []
    formats: dict[str, str] = {}
    for file in files:
        lines = read_lines(
            file,
            expected=(
                ", so not a Prometheus text or OpenMetrics exposition (the protobuf "
                "exposition is not supported)"
            ),
        )
        file_default: int | None = default
        hint = ""
        if default is None:
            file_default, hint = _name_time(file)
        sources.append(_Source(str(file), lines, file_default, hint))
        eof = lines["text"].str.contains(r"^[ \t]*#[ \t]+EOF[ \t]*\r?$").any()
        formats[str(file)] = "openmetrics" if eof else "prometheus-text"
    return _parse(sources, ctx), formats


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


@validate_params(text=InstanceOf(str))
def parse_exposition(
    text: str,
    *,
    time: TimeLike | None = None,
    path: PathLike | None = None,
) -> pl.DataFrame:
    """Parse one Prometheus text or OpenMetrics exposition into the metrics table.

    Parameters
    ----------
    text : str
        The exposition, as served on ``/metrics``. It is OpenMetrics when a ``# EOF`` line
        ends it (sample timestamps in seconds), else Prometheus text (timestamps in
        milliseconds).
    time : datetime or str, optional
        Scrape time of the samples that carry no timestamp of their own: a timezone-aware
        ``datetime`` or an ISO-8601 string with ``Z`` or an offset.
    path : str or path-like, optional
        Where the text came from, used only in error messages.

    Returns
    -------
    polars.DataFrame
        The metrics table (see :mod:`toolkit.ingest.prometheus` for its conventions),
        sorted by time (then by line).

    Raises
    ------
    FormatError
        For the first malformed line (naming ``path`` and the line), or when a sample has no
        timestamp and ``time`` is not given.
    ParameterError
        When ``time`` is naive or not a time.

    Examples
    --------
    >>> text = '''# TYPE vllm:num_requests_running gauge
    ... vllm:num_requests_running{model_name="m",engine="0"} 3
    ... # TYPE req_seconds histogram
    ... req_seconds_bucket{le="0.5"} 2
    ... req_seconds_bucket{le="+Inf"} 3
    ... req_seconds_count 3
    ... '''
    >>> df = parse_exposition(text, time="2026-11-21T10:00:00Z")
    >>> df.select("name", "type", "value", "le", "label.model_name").rows()
    [('vllm:num_requests_running', 'gauge', 3.0, None, 'm'), \
('req_seconds_bucket', 'histogram', 2.0, 0.5, None), \
('req_seconds_bucket', 'histogram', 3.0, inf, None), \
('req_seconds_count', 'histogram', 3.0, None, None)]
    >>> str(df["time"][0])
    '2026-11-21 10:00:00+00:00'
    """
    default = _time_param(time, "parse_exposition")
    source = _Source(
        None if path is None else os.fspath(path), _text_lines(text), default, _TIME_HINT
    )
    return _parse([source], LoadContext("parse_exposition"))


@validate_params(on_error=ON_ERROR, backend=BACKEND)
def read_prometheus(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    time: TimeLike | None = None,
    on_error: Literal["raise", "skip"] = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> Any:
    """Read Prometheus text / OpenMetrics scrapes (files, directories, globs) into one table.

    Parameters
    ----------
    path_or_paths : path, glob, directory, or a list of those
        Scrape files, plain or gzip-compressed. A directory is read recursively (hidden
        files skipped).
    time : datetime or str, optional
        Scrape time for samples without a timestamp, for every file (a timezone-aware
        ``datetime`` or ISO-8601 string with ``Z`` or an offset). When not given, the time
        is taken from each file name: an ISO-8601 date-time with a zone
        (``2026-11-21T10:00:00Z``, ``20261121T100000Z``, ``2026-11-21T10-00-00+01:00``) or
        ten digits of unix seconds (``scrape-1763719200.prom``). The modification time of
        the file is never used.
    on_error : {"raise", "skip"}, default "raise"
        "skip" leaves out malformed lines, counts them and warns once
        (:class:`~toolkit.errors.SkippedRecordsWarning`).
    report : LoadReport, optional
        Filled with the files read, their format (``"prometheus-text"`` or
        ``"openmetrics"``), the row count and the skipped lines.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The metrics table of all files, sorted by time (then file, then line): a directory
        of timestamped scrapes becomes one time series frame.

    Raises
    ------
    FormatError
        For a malformed line (file and line named) under ``on_error="raise"``, a file that
        is not UTF-8 text, or a sample whose time cannot be known.
    ParameterError
        For bad parameters or paths that match no file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "vllm-2026-11-21T10:00:00Z.prom").write_text("vllm:prompt_tokens_total 10\\n")
    >>> _ = (folder / "vllm-2026-11-21T10:01:00Z.prom").write_text("vllm:prompt_tokens_total 70\\n")
    >>> df = read_prometheus(folder)
    >>> [(str(t), v) for t, v in df.select("time", "value").rows()]
    [('2026-11-21 10:00:00+00:00', 10.0), ('2026-11-21 10:01:00+00:00', 70.0)]
    >>> df["type"].to_list()  # no # TYPE line: never silently a gauge
    ['unknown', 'unknown']
    """
    function = "read_prometheus"
    default = _time_param(time, function)
    files = expand_paths(path_or_paths, function=function)
    ctx = LoadContext(function, on_error)
    frame, ctx.formats = _read_scrapes(files, default, ctx)
    finish(ctx, report, frame.height, skipped_message=_SKIPPED_LINES)
    return frame_out(frame, backend)
