"""Workload traces: recorded request arrivals as the ``workload`` table.

The ``workload`` table (:data:`toolkit.schema.WORKLOAD`) has one row per request:
``arrival_time`` (``Datetime("ns", "UTC")``), ``input_tokens`` and ``output_tokens``
(Int64), ``model`` and ``source`` (String), plus ``attributes.<name>`` columns for what a
format records beyond that.

:func:`load_workload` reads recorded request traces and detects the format from the
content (header columns, JSON keys):

========================  ===============================================================
``azure``                 Azure LLM inference trace 2023 (Splitwise):
                          ``TIMESTAMP,ContextTokens,GeneratedTokens``. Wall-clock times
                          whose zone the dataset does not document: needs ``tz=``.
``vidur``                 vidur's re-processing of the same trace:
                          ``arrived_at,num_prefill_tokens,num_decode_tokens``, seconds
                          since the first request: relative, uses ``start=``.
``mooncake``              Mooncake (FAST'25) JSON Lines: ``timestamp`` (ms since the start
                          of the trace: relative, uses ``start=``), ``input_length``,
                          ``output_length``, ``hash_ids`` (512-token prefix blocks).
``burstgpt``              BurstGPT CSV: ``Timestamp`` (seconds from 0:00 of the first
                          day: relative, uses ``start=``), ``Model``, ``Request tokens``,
                          ``Response tokens``, ``Total tokens``, ``Log Type``.
``alibaba_genai``         Alibaba GenTD26 ``lora_request_trace.csv`` (Stable Diffusion
                          requests): wall-clock ``gmt_create`` of unknown zone, shifted by
                          an undisclosed offset: needs ``tz=``. Prompt lengths are
                          *characters*, not tokens (see :func:`load_workload`).
========================  ===============================================================

ServeGen (Alibaba Bailian) files hold per-window *statistics* (arrival rate, burstiness,
token-length distributions), not requests. :func:`read_servegen` reads them into a frame of
windows; :func:`servegen_to_workload` draws a *synthetic* workload from it on explicit
request (``seed=`` is required and the ``source`` column says "synthetic").
:func:`load_workload` never expands them: it raises, pointing to these two functions.

:func:`workload_from_llm_calls` turns an ``llm_calls`` table into a workload.

:func:`servegen_to_workload` generates rather than reads: it lives in :mod:`toolkit.synth`
and is re-exported here, imported on first use.

Memory: CSV traces are decompressed and split into lines as a stream, 32 MiB at a time
(:func:`toolkit.ingest._io.read_lines`), and JSON-lines traces are decoded line by line;
the lines are held up to ``TOOLKIT_MAX_FILE_BYTES`` (4 GiB: the text plus 24 bytes a line),
each at most ``TOOLKIT_MAX_LINE_BYTES`` (1 GiB); past either, and for a gzip bomb, a load
ends in :class:`~toolkit.errors.InputTooLargeError`. Peak memory of the Azure trace CSV is
about 8x its decompressed size (``benchmarks/reader_memory.py``: 0.8 GB for 101 MB).
ServeGen dataset files (JSON documents) are read whole, up to the same limit.
"""

from __future__ import annotations

import ast
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import polars as pl

from toolkit._validation import (
    BACKEND,
    ON_ERROR,
    Backend,
    Frame,
    InstanceOf,
    OneOf,
    UTCTime,
    frame_out,
    reject,
    utc_time,
    validate_params,
)
from toolkit.errors import (
    FormatError,
    LoadReport,
    ParameterError,
    SchemaError,
    UnsupportedFormatError,
    preview,
)
from toolkit.ingest._frames import LoadContext, finish
from toolkit.ingest._io import (
    PathLike,
    decode_json,
    expand_paths,
    iter_line_batches,
    read_all,
    read_lines,
    sniff,
)
from toolkit.schema import TIME, check_tz

__all__ = [
    "SERVEGEN_PMF",
    "WORKLOAD_FORMATS",
    "load_workload",
    "read_servegen",
    "servegen_to_workload",  # noqa: F822 (module __getattr__ below)
    "workload_from_llm_calls",
]

#: The formats :func:`load_workload` reads, with the content that identifies each.
WORKLOAD_FORMATS: dict[str, str] = {
    "azure": "Azure LLM inference trace 2023 CSV (TIMESTAMP,ContextTokens,GeneratedTokens)",
    "vidur": "vidur processed trace CSV (arrived_at,num_prefill_tokens,num_decode_tokens)",
    "mooncake": "Mooncake JSON Lines (timestamp, input_length, output_length, hash_ids)",
    "burstgpt": "BurstGPT CSV (Timestamp, Model, Request tokens, Response tokens, "
    "Total tokens, Log Type)",
    "alibaba_genai": "Alibaba GenTD26 lora_request_trace CSV (gmt_create, predict_type, "
    "predict_status, exec_time_seconds, ..., prompt_length, ...)",
}

#: dtype of a ServeGen probability mass function column of :func:`read_servegen`.
SERVEGEN_PMF = pl.List(pl.Struct({"value": pl.Int64, "probability": pl.Float64}))
_RATIO_PMF = pl.List(pl.Struct({"value": pl.Float64, "probability": pl.Float64}))

_LINE = "_line"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64_MAX = 2**63 - 1
_SERVEGEN_DISTS = ("Gamma", "Weibull", "Exponential")
_SERVEGEN_TRACE_LINE = re.compile(
    r"^\d+,[-+.\deE]+,[-+.\deE]+,(Gamma|Weibull|Exponential|),[-+.\deE]+,[-+.\deE]+\r?$"
)
_SERVEGEN_DATASET_HEAD = re.compile(rb'"(input_tokens|output_tokens)"\s*:\s*"\{')
_SERVEGEN_WINDOW_S = 600  # ServeGen's documented trace window, used when a file has one line
_PMF_TOLERANCE = 1e-6

OnError = Literal["raise", "skip"]


# --- parameters --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Start:
    """Where relative times are anchored: epoch nanoseconds and how to say so."""

    ns: int
    label: str
    default: bool

    def describe(self) -> str:
        if self.default:
            return f"start={self.label} (default: the file has relative times only)"
        return f"start={self.label}"


def _iso_ns(ns: int) -> str:
    seconds, frac = divmod(ns, 1_000_000_000)
    text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


#: The ``start`` parameter: a time with its zone (checked by the decorator).
_START_TIME = UTCTime(
    description="a time-zone-aware datetime or an ISO 8601 string with an offset (a naive "
    "time would need a guessed zone)"
)
_START = [_START_TIME, None]


def _parse_start(start: object, function: str | None = None) -> _Start:
    """``start`` (None: the epoch) as epoch nanoseconds; ``function`` names the caller when
    it is not a validated function (``toolkit.synth``'s ServeGen sampler)."""
    if start is None:
        return _Start(0, _iso_ns(0), True)
    if not _START_TIME.accepts(start):
        raise reject("start", "be " + _START_TIME.words(), start, function=function)
    value = utc_time(start, parameter="start")  # pandas.Timestamp stays one (nanoseconds)
    delta = value - _EPOCH
    ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    ns += int(getattr(value, "nanosecond", 0))  # pandas.Timestamp keeps nanoseconds
    return _Start(ns, _iso_ns(ns), False)


def _output(frame: pl.DataFrame, backend: Backend) -> Any:
    """:func:`toolkit._validation.frame_out`, under the name ``toolkit.synth``'s ServeGen
    sampler imports."""
    return frame_out(frame, backend)


# --- record problems -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    """Rows where ``bad`` is true are broken: ``found`` in ``column``, ``expected`` instead."""

    bad: pl.Expr
    column: str | None
    found: pl.Expr
    expected: str


@dataclass(kw_only=True)
class _Ctx(LoadContext):
    """State of one load: the caller's choices and what was skipped."""

    start: _Start
    tz: str | None


def _message(found: str | None, expected: str) -> str:
    shown = "nothing (the field is missing)" if found is None else preview(found)
    return f"found {shown}, expected {expected}"


def _resolve(frame: pl.DataFrame, checks: Sequence[_Check], path: Path, ctx: _Ctx) -> pl.DataFrame:
    """Raise on the first broken row, or drop every broken row under ``on_error="skip"``."""
    parts = [
        frame.filter(check.bad.fill_null(False)).select(
            pl.col(_LINE),
            pl.lit(order, dtype=pl.Int64).alias("_order"),
            check.found.cast(pl.String).alias("found"),
        )
        for order, check in enumerate(checks)
    ]
    problems = pl.concat(parts) if parts else pl.DataFrame()
    if problems.height == 0:
        return frame
    problems = problems.sort(_LINE, "_order").unique(_LINE, keep="first", maintain_order=True)
    ctx.path = path
    for line, order, found in problems.iter_rows():  # under "raise", the first one raises
        check = checks[order]
        ctx.problem(_message(found, check.expected), line=line, column=check.column)
    return frame.filter(~pl.col(_LINE).is_in(problems[_LINE].implode()))


def _record_problem(
    problem: str,
    path: Path,
    ctx: _Ctx,
    *,
    line: int | None = None,
    record: int | None = None,
    column: str | None = None,
) -> None:
    """Raise, or count one skipped record (for readers that loop over records)."""
    ctx.path = path
    ctx.problem(problem, line=line, record=record, column=column)


# --- CSV as lines ------------------------------------------------------------------------


def _decode(path: Path) -> str:
    data = read_all(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"the file is not UTF-8 text (invalid byte at offset {exc.start})",
            path=path,
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None
    return text.removeprefix("\ufeff")


def _lines(path: Path) -> pl.DataFrame:
    """Every line of a text file as ``_text``, with its 1-based ``_line`` number (streamed:
    see :func:`toolkit.ingest._io.read_lines`)."""
    return read_lines(path).select(
        pl.col("line").alias(_LINE),
        pl.col("text").str.strip_suffix("\r").str.strip_prefix("\ufeff").alias("_text"),
    )


def _csv_frame(path: Path, *, has_header: bool) -> tuple[list[str], pl.DataFrame]:
    """Split a plain comma-separated file into fields, keeping each record's line number.

    Blank lines are not records and are left out (as Python's ``csv`` module does).
    Fields are stripped of surrounding spaces and of enclosing double quotes; a quoted
    field that contains a comma shows up as a wrong field count.

    Returns the header names (``"1"``, ``"2"`` ... without a header) and a frame with
    ``_line``, ``_nfields`` and one String column per header name.
    """
    frame = _lines(path).filter(pl.col("_text").str.strip_chars() != "")
    frame = frame.with_columns(
        (pl.col("_text").str.count_matches(",", literal=True) + 1).cast(pl.Int64).alias("_nfields")
    )
    if has_header:
        if frame.height == 0:
            raise FormatError("the file is empty: expected a header line", path=path)
        header_line, header = frame.select(_LINE, "_text").row(0)
        names = [_unquote_text(n.strip(" \t")) for n in header.split(",")]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise FormatError(
                    f"the header names column {name!r} twice", path=path, line=header_line
                )
            seen.add(name)
        frame = frame.slice(1)
    else:
        width = int(frame["_nfields"].max() or 0) if frame.height else 0  # type: ignore[arg-type]
        names = [str(i + 1) for i in range(width)]
    if not names:
        return names, frame.drop("_text")
    quoted = bool(frame.select(pl.col("_text").str.contains('"', literal=True).any()).item())
    fields = pl.col("_text").str.split_exact(",", len(names) - 1).struct
    return names, frame.select(
        _LINE,
        "_nfields",
        *(
            _unquote(fields.field(f"field_{i}").str.strip_chars(" \t"), quoted).alias(n)
            for i, n in enumerate(names)
        ),
    )


def _unquote_text(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def _unquote(field: pl.Expr, quoted: bool) -> pl.Expr:
    if not quoted:
        return field
    enclosed = field.str.starts_with('"') & field.str.ends_with('"') & (field.str.len_chars() >= 2)
    inner = field.str.slice(1, field.str.len_chars() - 2).str.replace_all('""', '"', literal=True)
    return pl.when(enclosed).then(inner).otherwise(field)


def _fields_check(expected: int) -> _Check:
    return _Check(
        pl.col("_nfields") != expected,
        None,
        pl.format("{} fields", pl.col("_nfields")),
        f"{expected} comma-separated fields (quoted fields containing commas are not supported)",
    )


def _require_columns(names: Sequence[str], required: Sequence[str], path: Path, fmt: str) -> None:
    missing = [c for c in required if c not in names]
    if missing:
        raise FormatError(
            f"the header lacks the {fmt} column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing)}; it has "
            f"{', '.join(repr(n) for n in names[:20]) or 'none'}",
            path=path,
            line=1,
        )


def _empty_to_null(column: str) -> pl.Expr:
    return pl.when(pl.col(column) != "").then(pl.col(column))


# --- value parsers: (value expression, checks) -------------------------------------------


def _int_field(
    column: str, *, required: bool = True, whole_float: bool = False
) -> tuple[pl.Expr, list[_Check]]:
    """Non-negative integer text (``"63.0"`` too with ``whole_float``) to Int64, exactly."""
    # [0-9], not \d: \d admits other scripts' digits, which no integer cast reads
    pattern = r"^[0-9]{1,18}(\.0*)?$" if whole_float else r"^[0-9]{1,18}$"
    col = pl.col(column)
    ok = col.str.contains(pattern)
    value = pl.when(ok).then(col.str.extract(r"^([0-9]+)", 1).cast(pl.Int64, strict=False))
    present = col.is_not_null() & (col != "")
    bad = (~ok | col.is_null()) if required else (present & ~ok)
    what = "a non-negative whole number" if whole_float else "a non-negative integer"
    return value, [_Check(bad, column, col, what)]


def _float_field(column: str) -> tuple[pl.Expr, list[_Check]]:
    col = pl.col(column)
    value = pl.when(col != "").then(col.cast(pl.Float64, strict=False))
    bad = (col != "") & (value.is_null() | ~value.is_finite())
    return value, [_Check(bad, column, col, "a finite number or nothing")]


def _seconds_ns(column: str) -> tuple[pl.Expr, list[_Check]]:
    """Decimal seconds text to Int64 nanoseconds, from the digits (never through a float).

    Digits beyond the ninth decimal are rounded half up; they appear only as float-printing
    artefacts such as ``5.8926549999999995``.
    """
    col = pl.col(column)
    ok = col.str.contains(r"^[0-9]{1,9}(\.[0-9]*)?$")
    # casts are not strict: polars evaluates them on every row, the bad ones too
    whole = col.str.extract(r"^([0-9]+)", 1).cast(pl.Int64, strict=False) * 1_000_000_000
    frac = col.str.extract(r"\.([0-9]*)$", 1).fill_null("")
    nanos = frac.str.slice(0, 9).str.pad_end(9, "0").cast(pl.Int64, strict=False)
    round_up = (frac.str.slice(9, 1) >= "5").fill_null(False).cast(pl.Int64)
    value = pl.when(ok).then(whole + nanos + round_up)
    bad = ~ok | col.is_null()
    return value, [_Check(bad, column, col, "non-negative decimal seconds below 1e9 (no exponent)")]


def _naive_time(
    frame: pl.DataFrame, column: str, tz: str, out: str
) -> tuple[pl.DataFrame, list[_Check]]:
    """``YYYY-MM-DD HH:MM:SS[.f{1,9}]`` wall-clock text in ``tz`` to UTC, exact to 1 ns."""
    col = pl.col(column)
    shape_ok = col.str.contains(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$")
    parsed = pl.when(shape_ok).then(
        col.str.strptime(pl.Datetime("ns"), "%Y-%m-%d %H:%M:%S%.f", strict=False)
    )
    frame = frame.with_columns(parsed.alias("_naive"))
    frame = frame.with_columns(
        pl.col("_naive")
        .dt.replace_time_zone(tz, ambiguous="null", non_existent="null")
        .dt.convert_time_zone("UTC")
        .alias(out)
    )
    checks = [
        _Check(
            pl.col("_naive").is_null(),
            column,
            col,
            "a date and time as YYYY-MM-DD HH:MM:SS with up to 9 fractional digits",
        ),
        _Check(
            pl.col(out).is_null(),
            column,
            col,
            f"a local time that exists exactly once in time zone {tz!r} (this one falls "
            "in a daylight-saving gap or overlap)",
        ),
    ]
    return frame, checks


def _relative_time(ns: pl.Expr, ctx: _Ctx) -> pl.Expr:
    return (ns + ctx.start.ns).cast(TIME)


def _check_start_range(frame: pl.DataFrame, column: str, ctx: _Ctx) -> None:
    top = frame[column].max()
    if isinstance(top, int) and ctx.start.ns > _INT64_MAX - top:
        raise ParameterError(
            f"The 'start' parameter of {ctx.function} is too late: {ctx.start.label} plus the "
            "trace's relative times passes the last time a nanosecond timestamp can hold "
            "(2262-04-11)."
        )


def _need_tz(ctx: _Ctx, path: Path, fmt: str, why: str) -> str:
    if ctx.tz is None:
        raise reject(
            "tz",
            f"name the time zone of {path.name}'s wall-clock timestamps ({fmt}: {why}), "
            "e.g. tz='UTC'",
            None,
            function=ctx.function,
        )
    return ctx.tz


# --- readers -----------------------------------------------------------------------------


def _finish(frame: pl.DataFrame, source: str, attributes: dict[str, pl.Expr]) -> pl.DataFrame:
    """Select the canonical columns in order, then the attributes."""
    return frame.select(
        pl.col("arrival_time"),
        pl.col("input_tokens"),
        pl.col("output_tokens"),
        pl.col("model") if "model" in frame.columns else pl.lit(None, pl.String).alias("model"),
        pl.lit(source, pl.String).alias("source"),
        *(expr.alias(f"attributes.{name}") for name, expr in attributes.items()),
    )


def _extra_columns(names: Sequence[str], known: Sequence[str]) -> dict[str, pl.Expr]:
    """Columns a reader does not know are kept as String attributes, not dropped."""
    return {n: _empty_to_null(n) for n in names if n not in known}


_AZURE = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")


def _read_azure(path: Path, ctx: _Ctx) -> pl.DataFrame:
    names, frame = _csv_frame(path, has_header=True)
    _require_columns(names, _AZURE, path, "azure")
    tz = _need_tz(
        ctx,
        path,
        "azure",
        "the Azure LLM inference trace 2023 records naive times and does not document their zone",
    )
    frame, time_checks = _naive_time(frame, "TIMESTAMP", tz, "arrival_time")
    inp, in_checks = _int_field("ContextTokens")
    out, out_checks = _int_field("GeneratedTokens")
    frame = frame.with_columns(inp.alias("input_tokens"), out.alias("output_tokens"))
    frame = _resolve(
        frame, [_fields_check(len(names)), *time_checks, *in_checks, *out_checks], path, ctx
    )
    return _finish(frame, f"azure:{path.name} tz={tz}", _extra_columns(names, _AZURE))


_VIDUR = ("arrived_at", "num_prefill_tokens", "num_decode_tokens")


def _read_vidur(path: Path, ctx: _Ctx) -> pl.DataFrame:
    names, frame = _csv_frame(path, has_header=True)
    _require_columns(names, _VIDUR, path, "vidur")
    rel, rel_checks = _seconds_ns("arrived_at")
    inp, in_checks = _int_field("num_prefill_tokens")
    out, out_checks = _int_field("num_decode_tokens")
    frame = frame.with_columns(
        rel.alias("_rel"), inp.alias("input_tokens"), out.alias("output_tokens")
    )
    frame = _resolve(
        frame, [_fields_check(len(names)), *rel_checks, *in_checks, *out_checks], path, ctx
    )
    _check_start_range(frame, "_rel", ctx)
    frame = frame.with_columns(_relative_time(pl.col("_rel"), ctx).alias("arrival_time"))
    return _finish(
        frame, f"vidur:{path.name} {ctx.start.describe()}", _extra_columns(names, _VIDUR)
    )


_BURSTGPT_REQUIRED = ("Timestamp", "Request tokens", "Response tokens")
_BURSTGPT = (*_BURSTGPT_REQUIRED, "Model", "Total tokens", "Log Type")


def _read_burstgpt(path: Path, ctx: _Ctx) -> pl.DataFrame:
    names, frame = _csv_frame(path, has_header=True)
    _require_columns(names, _BURSTGPT_REQUIRED, path, "burstgpt")
    rel, rel_checks = _seconds_ns("Timestamp")
    inp, in_checks = _int_field("Request tokens")
    out, out_checks = _int_field("Response tokens")
    frame = frame.with_columns(
        rel.alias("_rel"), inp.alias("input_tokens"), out.alias("output_tokens")
    )
    checks = [_fields_check(len(names)), *rel_checks, *in_checks, *out_checks]
    if "Total tokens" in names:
        total, total_checks = _int_field("Total tokens")
        frame = frame.with_columns(total.alias("_total"))
        checks += total_checks
        checks.append(
            _Check(
                pl.col("_total") != pl.col("input_tokens") + pl.col("output_tokens"),
                "Total tokens",
                pl.format(
                    "{} (Request tokens {} + Response tokens {} = {})",
                    pl.col("_total"),
                    pl.col("input_tokens"),
                    pl.col("output_tokens"),
                    pl.col("input_tokens") + pl.col("output_tokens"),
                ),
                "Total tokens = Request tokens + Response tokens",
            )
        )
    frame = _resolve(frame, checks, path, ctx)
    _check_start_range(frame, "_rel", ctx)
    frame = frame.with_columns(_relative_time(pl.col("_rel"), ctx).alias("arrival_time"))
    if "Model" in names:
        frame = frame.with_columns(_empty_to_null("Model").alias("model"))
    attributes = {}
    if "Log Type" in names:
        attributes["log_type"] = _empty_to_null("Log Type")
    attributes |= _extra_columns(names, _BURSTGPT)
    return _finish(frame, f"burstgpt:{path.name} {ctx.start.describe()}", attributes)


_ALIBABA_REQUIRED = (
    "gmt_create",
    "predict_type",
    "predict_status",
    "exec_time_seconds",
    "groupId",
    "prompt_length",
    "num_lora",
)
_ALIBABA = (
    *_ALIBABA_REQUIRED,
    "negative_prompt_length",
    "num_images_per_prompt",
    "num_inference_steps",
    "checkpoint_model_version_id",
)


def _read_alibaba(path: Path, ctx: _Ctx) -> pl.DataFrame:
    names, frame = _csv_frame(path, has_header=True)
    _require_columns(names, _ALIBABA_REQUIRED, path, "alibaba_genai")
    tz = _need_tz(
        ctx,
        path,
        "alibaba_genai",
        "GenTD26 shifts gmt_create by an undisclosed offset and does not document its zone",
    )
    frame, time_checks = _naive_time(frame, "gmt_create", tz, "arrival_time")
    checks = [_fields_check(len(names)), *time_checks]
    for name in ("predict_type", "predict_status", "groupId"):
        checks.append(_Check(pl.col(name) == "", name, pl.col(name), "a non-empty value"))
    exec_s, exec_checks = _float_field("exec_time_seconds")
    checks += exec_checks
    checks.append(
        _Check(
            pl.col("exec_time_seconds") == "",
            "exec_time_seconds",
            pl.col("exec_time_seconds"),
            "a number of seconds",
        )
    )
    values: dict[str, pl.Expr] = {"_exec": exec_s}
    optional_ints = {
        "prompt_length": "_prompt",
        "negative_prompt_length": "_negative",
        "num_images_per_prompt": "_images",
        "num_inference_steps": "_steps",
    }
    for name, alias in optional_ints.items():
        if name in names:
            values[alias], more = _int_field(name, required=False, whole_float=True)
            checks += more
    values["_lora"], more = _int_field("num_lora", whole_float=True)
    checks += more
    frame = frame.with_columns(**values)
    frame = _resolve(frame, checks, path, ctx)
    frame = frame.with_columns(
        pl.lit(None, pl.Int64).alias("input_tokens"),
        pl.lit(None, pl.Int64).alias("output_tokens"),
        (
            _empty_to_null("checkpoint_model_version_id")
            if "checkpoint_model_version_id" in names
            else pl.lit(None, pl.String)
        ).alias("model"),
    )
    attributes: dict[str, pl.Expr] = {
        "predict_type": pl.col("predict_type"),
        "predict_status": pl.col("predict_status"),
        "exec_time_seconds": pl.col("_exec"),
        "group_id": pl.col("groupId"),
        "prompt_length_chars": pl.col("_prompt"),
    }
    if "negative_prompt_length" in names:
        attributes["negative_prompt_length_chars"] = pl.col("_negative")
    if "num_images_per_prompt" in names:
        attributes["num_images_per_prompt"] = pl.col("_images")
    if "num_inference_steps" in names:
        attributes["num_inference_steps"] = pl.col("_steps")
    attributes["num_lora"] = pl.col("_lora")
    attributes |= _extra_columns(names, _ALIBABA)
    return _finish(frame, f"alibaba_genai:{path.name} tz={tz}", attributes)


_NonNegative = Annotated[int, msgspec.Meta(ge=0, le=_INT64_MAX)]


class _MooncakeRecord(msgspec.Struct):
    timestamp: Annotated[int, msgspec.Meta(ge=0, le=_INT64_MAX // 1_000_000)]
    input_length: _NonNegative
    output_length: _NonNegative
    hash_ids: list[Annotated[int, msgspec.Meta(ge=-(2**63), le=_INT64_MAX)]] | None = None


_MSGSPEC_PATH = re.compile(r"`\$\.(\w+)|field `(\w+)`")


def _read_mooncake(path: Path, ctx: _Ctx) -> pl.DataFrame:
    decoder = msgspec.json.Decoder(_MooncakeRecord)
    stamps: list[int] = []
    inputs: list[int] = []
    outputs: list[int] = []
    hashes: list[list[int] | None] = []
    for first, chunk in iter_line_batches(path):
        for offset, raw in enumerate(chunk.split(b"\n")):
            if not raw.strip():
                continue  # blank lines are not records
            try:
                rec = decode_json(raw, decoder)
            except msgspec.ValidationError as exc:
                found = _MSGSPEC_PATH.search(str(exc))
                _record_problem(
                    f"{exc}"[:200],
                    path,
                    ctx,
                    line=first + offset,
                    column=(found.group(1) or found.group(2)) if found else None,
                )
                continue
            except msgspec.DecodeError as exc:
                shown = preview(raw.decode("utf-8", "replace"))
                _record_problem(
                    f"not a JSON object ({exc}): {shown}", path, ctx, line=first + offset
                )
                continue
            stamps.append(rec.timestamp)
            inputs.append(rec.input_length)
            outputs.append(rec.output_length)
            hashes.append(rec.hash_ids)
    frame = pl.DataFrame(
        {
            "_ms": pl.Series(stamps, dtype=pl.Int64),
            "input_tokens": pl.Series(inputs, dtype=pl.Int64),
            "output_tokens": pl.Series(outputs, dtype=pl.Int64),
            "_hash_ids": pl.Series(hashes, dtype=pl.List(pl.Int64)),
        }
    ).with_columns((pl.col("_ms") * 1_000_000).alias("_rel"))
    _check_start_range(frame, "_rel", ctx)
    frame = frame.with_columns(_relative_time(pl.col("_rel"), ctx).alias("arrival_time"))
    return _finish(
        frame, f"mooncake:{path.name} {ctx.start.describe()}", {"hash_ids": pl.col("_hash_ids")}
    )


_READERS: dict[str, Callable[[Path, _Ctx], pl.DataFrame]] = {
    "azure": _read_azure,
    "vidur": _read_vidur,
    "mooncake": _read_mooncake,
    "burstgpt": _read_burstgpt,
    "alibaba_genai": _read_alibaba,
}


# --- detection ---------------------------------------------------------------------------


def _servegen_refusal(path: Path) -> FormatError:
    return FormatError(
        "this is a ServeGen file: per-window arrival rates and token-length distributions, "
        "not recorded requests, so load_workload does not read it. Read the windows with "
        "read_servegen(path) and, if a synthetic workload is wanted, draw one explicitly "
        "with servegen_to_workload(windows, seed=...)",
        path=path,
    )


def _supported() -> str:
    return "; ".join(f"{name}: {what}" for name, what in WORKLOAD_FORMATS.items())


def _detect(path: Path) -> str:
    """The workload format of ``path`` from its content; ``"servegen"`` for ServeGen files."""
    sn = sniff(path)
    if sn.kind == "empty":
        raise FormatError("the file is empty", path=path)
    text = sn.head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    first = text.split("\n", 1)[0].rstrip("\r")
    if sn.kind == "json-lines":
        keys = set(decode_json(first.encode()) or {})
        if {"timestamp", "input_length", "output_length"} <= keys:
            return "mooncake"
        seen = f"a JSON Lines file whose first record has keys {preview(sorted(keys))}"
    elif sn.kind == "json":
        if _SERVEGEN_DATASET_HEAD.search(sn.head):
            return "servegen"
        seen = "a JSON document"
    elif sn.kind == "text":
        header = {h.strip().strip('"') for h in first.split(",")}
        if set(_AZURE) <= header:
            return "azure"
        if set(_VIDUR) <= header:
            return "vidur"
        if set(_BURSTGPT_REQUIRED) <= header:
            return "burstgpt"
        if {"gmt_create", "predict_status", "prompt_length"} <= header:
            return "alibaba_genai"
        if _SERVEGEN_TRACE_LINE.match(first):
            return "servegen"
        seen = f"a text file whose first line is {preview(first)}"
    else:
        seen = f"a {sn.kind} file"
    raise UnsupportedFormatError(
        f"cannot tell the workload format from the content ({seen}). Supported formats: "
        f"{_supported()}",
        path=path,
    )


# --- public API --------------------------------------------------------------------------


_SKIPPED_MESSAGE = (
    "{function} skipped {count} broken record{s} (first: {first}); see the warning's .skipped"
)


@validate_params(
    format=OneOf("auto", *WORKLOAD_FORMATS, "servegen"),
    start=_START,
    on_error=ON_ERROR,
    report=[InstanceOf(LoadReport), None],
    backend=BACKEND,
)
def load_workload(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    format: str = "auto",
    start: datetime | str | None = None,
    tz: str | None = None,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> Any:
    """Load recorded request traces into the ``workload`` table.

    Parameters
    ----------
    path_or_paths : path, directory, glob, or a list of those
        Files to read (gzip is decompressed transparently). Rows keep file order and,
        within a file, record order; several files are concatenated.
    format : str, default "auto"
        ``"auto"`` detects each file's format from its content (header columns or JSON
        keys); or one of ``"azure"``, ``"vidur"``, ``"mooncake"``, ``"burstgpt"``,
        ``"alibaba_genai"`` (see :data:`WORKLOAD_FORMATS`).
    start : datetime or str, optional
        Anchor of the *relative* formats (vidur: the first request; Mooncake: the start of
        the trace; BurstGPT: 0:00 of the first day): a time-zone-aware datetime or an ISO
        8601 string with an offset. When omitted, relative times are placed after the Unix
        epoch, ``1970-01-01T00:00:00Z``, and the ``source`` column says so
        (``"... start=1970-01-01T00:00:00Z (default: the file has relative times only)"``):
        durations and rates are right, calendar times are not. Ignored by the formats that
        record wall-clock times.
    tz : str, optional
        IANA time zone of the formats that record naive wall-clock times (``azure``,
        ``alibaba_genai``). Neither dataset documents its zone, so there is no default:
        loading them without ``tz`` raises. Times are converted to UTC; a local time that
        a daylight-saving change skips or repeats is a broken record.
    on_error : {"raise", "skip"}, default "raise"
        What to do with a broken record (bad number, bad time, wrong field count,
        BurstGPT ``Total tokens`` that is not ``Request + Response``): raise a
        :class:`~toolkit.errors.FormatError` naming the file, line and column, or leave the
        record out and report every skipped one in one
        :class:`~toolkit.errors.SkippedRecordsWarning`.
    report : LoadReport, optional
        Filled with the files, their formats, the row count and the skipped records.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The ``workload`` table: ``arrival_time``, ``input_tokens``, ``output_tokens``,
        ``model``, ``source`` (format, file name, and the ``start`` or ``tz`` used), then
        per format:

        - azure, vidur: no attributes; ``model`` is null.
        - mooncake: ``attributes.hash_ids`` (List(Int64), one id per 512-token block).
        - burstgpt: ``model`` from ``Model``; ``attributes.log_type`` from ``Log Type``.
          ``Response tokens`` is 0 for failed requests; such rows are kept.
        - alibaba_genai: text-to-image requests. ``prompt_length`` counts *characters*
          (per the dataset's README), so ``input_tokens`` is **null** and the length is in
          ``attributes.prompt_length_chars``; ``output_tokens`` is null (images, not
          tokens); ``model`` is ``checkpoint_model_version_id``. Also
          ``attributes.predict_type``, ``predict_status``, ``exec_time_seconds``,
          ``group_id``, ``negative_prompt_length_chars``, ``num_images_per_prompt``,
          ``num_inference_steps``, ``num_lora``. Requests with empty optional fields
          (e.g. PENDING ones) are kept, with nulls there.

        Columns a reader does not know are kept as String ``attributes.<header name>``.

    Raises
    ------
    FormatError
        A broken record (under ``on_error="raise"``), a header without the format's
        columns, or a ServeGen file (see :func:`read_servegen`).
    UnsupportedFormatError
        No format matches the content; the message lists the supported formats.
    ParameterError
        A bad parameter, or ``tz`` missing for a wall-clock format.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "conv.csv"
    >>> _ = path.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\\n"
    ...                     "2023-11-16 18:15:46.6805901,374,44\\n")
    >>> df = load_workload(path, tz="UTC")
    >>> df["arrival_time"][0], df["input_tokens"][0], df["source"][0]
    (datetime.datetime(2023, 11, 16, 18, 15, 46, 680590, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
     374, 'azure:conv.csv tz=UTC')
    >>> df["arrival_time"].dt.nanosecond()[0]  # the 7th digit is kept
    680590100
    """
    function = "load_workload"
    ctx = _Ctx(function, on_error, start=_parse_start(start), tz=check_tz(tz, function))
    frames: list[pl.DataFrame] = []
    for path in expand_paths(path_or_paths, function=function):
        fmt = _detect(path) if format == "auto" else format
        if fmt == "servegen":
            raise _servegen_refusal(path)
        frames.append(_READERS[fmt](path, ctx))
        ctx.formats[str(path)] = fmt
    frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    finish(ctx, report, frame.height, skipped_message=_SKIPPED_MESSAGE)
    return frame_out(frame, backend)


# --- ServeGen ----------------------------------------------------------------------------


def _servegen_pairs(path: Path) -> list[tuple[int, Path, Path]]:
    pattern = re.compile(r"^chunk-(\d+)-(trace\.csv|dataset\.json)$")
    if path.is_dir():
        traces = sorted(
            (int(m.group(1)), p)
            for p in path.rglob("chunk-*-trace.csv")
            if (m := pattern.match(p.name))
        )
        if not traces:
            raise ParameterError(
                f"The 'path' parameter of read_servegen: the directory {str(path)!r} holds no "
                "chunk-N-trace.csv file."
            )
        return [(n, p, p.with_name(f"chunk-{n}-dataset.json")) for n, p in traces]
    match = pattern.match(path.name)
    if not path.is_file() or match is None:
        raise reject(
            "path",
            "be a ServeGen chunk-N-trace.csv or chunk-N-dataset.json file, or a directory of them",
            str(path),
            function="read_servegen",
        )
    n = int(match.group(1))
    return [(n, path.with_name(f"chunk-{n}-trace.csv"), path.with_name(f"chunk-{n}-dataset.json"))]


def _servegen_trace(path: Path, ctx: _Ctx) -> pl.DataFrame:
    names, frame = _csv_frame(path, has_header=False)
    names = ["window_start_s", "rate_rps", "cv", "arrival_dist", "arrival_shape", "arrival_scale_s"]
    frame = frame.select(
        _LINE,
        "_nfields",
        *(
            pl.col(str(i + 1)).alias(n)
            if str(i + 1) in frame.columns
            else pl.lit(None, pl.String).alias(n)
            for i, n in enumerate(names)
        ),
    )
    start, start_checks = _int_field("window_start_s")
    floats = {
        n: pl.col(n).cast(pl.Float64, strict=False)
        for n in ("rate_rps", "cv", "arrival_shape", "arrival_scale_s")
    }
    frame = frame.with_columns(
        start.alias("_start"), *(e.alias(f"_{n}") for n, e in floats.items())
    )
    dist = pl.col("arrival_dist")
    active = dist != ""
    checks = [_fields_check(6), *start_checks]
    for n in floats:
        v = pl.col(f"_{n}")
        checks.append(
            _Check(
                v.is_null() | ~v.is_finite() | (v < 0), n, pl.col(n), "a finite non-negative number"
            )
        )
    checks.append(
        _Check(
            active & ~dist.is_in(_SERVEGEN_DISTS),
            "arrival_dist",
            dist,
            f"one of {', '.join(_SERVEGEN_DISTS)}, or nothing for an idle window",
        )
    )
    checks.append(
        _Check(
            ~active & (pl.col("_rate_rps") != 0),
            "rate_rps",
            pl.col("rate_rps"),
            "0 in a window without an arrival distribution",
        )
    )
    checks.append(
        _Check(
            active & (dist != "Exponential") & (pl.col("_arrival_shape") <= 0),
            "arrival_shape",
            pl.col("arrival_shape"),
            "a positive shape parameter",
        )
    )
    frame = _resolve(frame, checks, path, ctx)
    # windows must be consecutive and evenly spaced
    step_series = frame["_start"].diff().drop_nulls()
    step = int(step_series[0]) if step_series.len() else _SERVEGEN_WINDOW_S
    uneven = frame.with_columns(pl.col("_start").diff().alias("_step")).filter(
        pl.col("_step") != step
    )
    if uneven.height:
        line, found = uneven.select(_LINE, "window_start_s").row(0)
        raise FormatError(
            _message(found, f"windows in increasing order, {step} s apart like the first two"),
            path=path,
            line=line,
            column="window_start_s",
        )
    if step <= 0:
        raise FormatError(
            f"found window starts {step} s apart, expected increasing starts",
            path=path,
            column="window_start_s",
        )
    return frame.select(
        pl.col("_start").alias("window_start_s"),
        pl.lit(step, pl.Int64).alias("window_s"),
        active.alias("active"),
        pl.col("_rate_rps").alias("rate_rps"),
        pl.when(active).then(pl.col("_cv")).alias("cv"),
        pl.when(active).then(dist).alias("arrival_dist"),
        pl.when(active).then(pl.col("_arrival_shape")).alias("arrival_shape"),
        pl.when(active).then(pl.col("_arrival_scale_s")).alias("arrival_scale_s"),
    )


class _PmfProblem(ValueError):
    pass


def _parse_pmf(text: object, *, integer_values: bool) -> tuple[list[Any], list[float]]:
    """A ServeGen pmf string (a Python dict literal) to sorted values and probabilities.

    Uses :func:`ast.literal_eval`, which evaluates literals only (no names, calls or
    attribute access), and then checks the structure.
    """
    if not isinstance(text, str):
        raise _PmfProblem(f"found {preview(text)}, expected a string holding a dict literal")
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        raise _PmfProblem(
            f"found {preview(text)}, expected a dict literal such as '{{143: 0.25, 148: 0.75}}'"
        )
    try:
        parsed = ast.literal_eval(stripped)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _PmfProblem(
            f"found {preview(text)}, expected a dict literal of numbers "
            "(only literals are read, nothing is evaluated)"
        ) from None
    if not isinstance(parsed, dict):
        raise _PmfProblem(f"found {preview(text)}, expected a dict literal")
    items = sorted(parsed.items(), key=lambda kv: float(kv[0]) if _is_number(kv[0]) else math.inf)
    values: list[Any] = []
    probs: list[float] = []
    for key, prob in items:
        if integer_values:
            if type(key) is not int or not 0 <= key <= _INT64_MAX:
                raise _PmfProblem(
                    f"found the key {preview(key)}, expected non-negative "
                    "integer token counts as keys"
                )
        elif not _is_number(key) or not math.isfinite(float(key)):
            raise _PmfProblem(f"found the key {preview(key)}, expected numbers as keys")
        if not _is_number(prob) or not math.isfinite(float(prob)) or prob < 0:
            raise _PmfProblem(
                f"found the probability {preview(prob)} for {preview(key)}, "
                "expected a finite non-negative number"
            )
        values.append(key if integer_values else float(key))
        probs.append(float(prob))
    total = math.fsum(probs)
    if probs and abs(total - 1.0) > _PMF_TOLERANCE:
        raise _PmfProblem(
            f"found probabilities summing to {total!r}, expected 1 (within {_PMF_TOLERANCE})"
        )
    return values, probs


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_line(text: str, *needles: str) -> int | None:
    """Line of the first ``"needle"`` key, each searched after the previous one."""
    pos = 0
    for needle in needles:
        found = re.search(r'"' + re.escape(needle) + r'"\s*:', text[pos:])
        if found is None:
            return None
        pos += found.start()
    return text.count("\n", 0, pos) + 1


_PMF_FIELDS = {"input_tokens": True, "output_tokens": True, "reason_ratio": False}


def _servegen_dataset(path: Path, ctx: _Ctx) -> pl.DataFrame:
    text = _decode(path)
    try:
        data = decode_json(text)
    except msgspec.DecodeError as exc:
        raise FormatError(f"not valid JSON ({exc})", path=path) from None
    if not isinstance(data, dict):
        raise FormatError(
            f"found a JSON {type(data).__name__}, expected an object keyed by "
            "window start in seconds",
            path=path,
        )
    rows: dict[str, list[Any]] = {
        "dataset_window_start_s": [],
        **{f"{f}_pmf": [] for f in _PMF_FIELDS},
    }
    for key, fields in data.items():
        line = _json_line(text, key)
        if not re.fullmatch(r"\d{1,18}", key):
            _record_problem(
                _message(key, "a window start in whole seconds as the key"), path, ctx, line=line
            )
            continue
        if not isinstance(fields, dict) or not {"input_tokens", "output_tokens"} <= set(fields):
            _record_problem(
                _message(
                    repr(sorted(fields) if isinstance(fields, dict) else fields),
                    "an object with input_tokens and output_tokens distributions",
                ),
                path,
                ctx,
                line=line,
            )
            continue
        unknown = sorted(set(fields) - set(_PMF_FIELDS))
        if unknown:
            _record_problem(
                f"found the fields {preview(unknown)}, expected only "
                f"{', '.join(_PMF_FIELDS)} (multimodal ServeGen data is not supported)",
                path,
                ctx,
                line=line,
            )
            continue
        parsed: dict[str, tuple[list[Any], list[float]]] = {}
        broken = False
        for name, integer_values in _PMF_FIELDS.items():
            if name not in fields:
                continue
            try:
                parsed[name] = _parse_pmf(fields[name], integer_values=integer_values)
            except _PmfProblem as exc:
                _record_problem(
                    f"window {key}: {exc}", path, ctx, line=_json_line(text, key, name), column=name
                )
                broken = True
                break
        if broken:
            continue
        empty = sorted(n for n, (v, _) in parsed.items() if not v)
        if empty and len(empty) < len(parsed):
            _record_problem(
                f"window {key}: found empty distributions for {', '.join(empty)} but not for "
                "the other fields, expected all empty (idle window) or none",
                path,
                ctx,
                line=line,
            )
            continue
        if empty:
            continue  # an idle 6-hour window: no distribution applies from here
        rows["dataset_window_start_s"].append(int(key))
        for name in _PMF_FIELDS:
            pmf = parsed.get(name)
            rows[f"{name}_pmf"].append(
                None
                if pmf is None
                else [{"value": v, "probability": p} for v, p in zip(*pmf, strict=True)]
            )
    return pl.DataFrame(
        rows,
        schema={
            "dataset_window_start_s": pl.Int64,
            "input_tokens_pmf": SERVEGEN_PMF,
            "output_tokens_pmf": SERVEGEN_PMF,
            "reason_ratio_pmf": _RATIO_PMF,
        },
    ).sort("dataset_window_start_s")


@validate_params(
    path=InstanceOf(str, os.PathLike, description="a path"),
    on_error=ON_ERROR,
    backend=BACKEND,
)
def read_servegen(
    path: PathLike,
    *,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> Any:
    """Read ServeGen per-window workload statistics (not requests) into a frame of windows.

    ServeGen (Alibaba Bailian, NSDI'26) publishes, per client ("chunk"), a headerless
    ``chunk-N-trace.csv`` with one line per 600-s window (``window_start_s, rate_rps, cv,
    arrival_dist, shape, scale``; idle windows are ``T,0,0,,0,0``) and a
    ``chunk-N-dataset.json`` with token-length distributions per 6-hour window, each a
    *string* holding a Python dict literal ``"{143: 0.0001, ...}"``. The literals are read
    with :func:`ast.literal_eval` (literals only: ``"__import__('os')"`` is rejected) and
    checked: numeric keys (non-negative integers for token counts), finite non-negative
    probabilities summing to 1 within 1e-6.

    Parameters
    ----------
    path : path
        A ``chunk-N-trace.csv`` or ``chunk-N-dataset.json`` (its partner is found next to
        it), or a directory searched recursively for ``chunk-*-trace.csv``.
    on_error : {"raise", "skip"}, default "raise"
        A broken trace line or dataset window raises a FormatError naming file, line and
        column, or is left out (a skipped dataset window leaves the previous one in force)
        and reported in one SkippedRecordsWarning.
    report : LoadReport, optional
        Filled with the files read, the row count and the skipped records.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per trace window, in file order: ``source`` (``servegen:<dir>/<file>``),
        ``client`` (N), ``window_start_s`` (seconds from the start of the trace's first
        day, Int64), ``window_s`` (window length, from the spacing of the windows),
        ``active`` (False for idle windows), ``rate_rps`` (mean arrival rate, 0 when idle),
        ``cv`` (coefficient of variation of inter-arrival times), ``arrival_dist``
        (``Gamma``/``Weibull``/``Exponential``; null when idle), ``arrival_shape`` and
        ``arrival_scale_s`` (the fitted inter-arrival distribution, scipy's ``a``/``c`` and
        ``scale`` in seconds), ``dataset_window_start_s`` (the 6-hour distribution window in
        force: the latest non-empty one starting at or before the window, as ServeGen
        does), and the distributions ``input_tokens_pmf``, ``output_tokens_pmf`` (List of
        Struct ``value`` Int64 tokens, ``probability``) and ``reason_ratio_pmf`` (values in
        [0, 1], Float64; null where the data has none).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "chunk-1-trace.csv").write_text("0,0,0,,0,0\\n600,0.5,1.2,Gamma,0.7,2.8\\n")
    >>> _ = (folder / "chunk-1-dataset.json").write_text(
    ...     '{"0": {"input_tokens": "{10: 0.5, 20: 0.5}", "output_tokens": "{5: 1.0}"}}')
    >>> windows = read_servegen(folder / "chunk-1-trace.csv")
    >>> windows.select("window_start_s", "active", "rate_rps", "arrival_dist").rows()
    [(0, False, 0.0, None), (600, True, 0.5, 'Gamma')]
    >>> windows["input_tokens_pmf"][1].to_list()
    [{'value': 10, 'probability': 0.5}, {'value': 20, 'probability': 0.5}]
    """
    function = "read_servegen"
    ctx = _Ctx(function, on_error, start=_parse_start(None), tz=None)
    frames = []
    for client, trace_path, dataset_path in _servegen_pairs(Path(path)):
        for p in (trace_path, dataset_path):
            if not p.is_file():
                raise ParameterError(
                    f"The 'path' parameter of {function}: ServeGen chunk {client} needs both "
                    f"chunk-{client}-trace.csv and chunk-{client}-dataset.json; {str(p)!r} "
                    "does not exist."
                )
        windows = _servegen_trace(trace_path, ctx)
        dataset = _servegen_dataset(dataset_path, ctx)
        joined = windows.join_asof(
            dataset,
            left_on="window_start_s",
            right_on="dataset_window_start_s",
            strategy="backward",
            check_sortedness=False,
        )
        source = f"servegen:{trace_path.parent.name}/{trace_path.name}"
        frames.append(
            joined.select(
                pl.lit(source).alias("source"), pl.lit(client, pl.Int64).alias("client"), pl.all()
            )
        )
        ctx.formats[str(trace_path)] = ctx.formats[str(dataset_path)] = "servegen"
    frame = pl.concat(frames)
    finish(ctx, report, frame.height, skipped_message=_SKIPPED_MESSAGE)
    return frame_out(frame, backend)


@validate_params(frame=Frame(), backend=BACKEND)
def workload_from_llm_calls(frame: Any, *, backend: Backend = "polars") -> Any:
    """The ``workload`` table of an ``llm_calls`` table (one row per model call).

    ``arrival_time`` is ``start_time``, tokens are copied, ``model`` is ``request_model``
    (``response_model`` where the request model is null), ``source`` is ``"llm_calls"``;
    ``trace_id``, ``span_id``, ``service_name`` and ``operation``, when present, are kept
    as ``attributes.<name>`` so that rows can be joined back. Row order is kept.

    Parameters
    ----------
    frame : polars.DataFrame, polars.LazyFrame or pandas.DataFrame
        Needs ``start_time`` (a time-zone-aware datetime; converted to UTC nanoseconds),
        ``input_tokens`` and ``output_tokens`` (integers; nulls allowed).
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame

    Raises
    ------
    SchemaError
        A required column is missing, or has a type that would need guessing (a naive
        ``start_time``, float token counts).

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> calls = pl.DataFrame({"start_time": [datetime(2025, 1, 1, tzinfo=timezone.utc)],
    ...                       "input_tokens": [12], "output_tokens": [3],
    ...                       "request_model": ["small"]})
    >>> workload_from_llm_calls(calls).select("input_tokens", "model", "source").row(0)
    (12, 'small', 'llm_calls')
    """
    function = "workload_from_llm_calls"
    df = frame
    required = ("start_time", "input_tokens", "output_tokens")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SchemaError(
            f"The llm_calls frame given to {function} is missing "
            f"{', '.join(repr(m) for m in missing)}. Available columns: "
            f"{', '.join(repr(c) for c in df.columns[:30]) or 'none'}."
        )
    start = df.schema["start_time"]
    if not isinstance(start, pl.Datetime) or start.time_zone is None:
        raise SchemaError(
            f"The 'start_time' column given to {function} must be a time-zone-aware datetime "
            f"(naive times would need a guessed zone). Got {start} instead."
        )
    for name in ("input_tokens", "output_tokens"):
        dtype = df.schema[name]
        if not (dtype.is_integer() or dtype == pl.Null):
            raise SchemaError(
                f"The {name!r} column given to {function} must hold integers (use a nullable "
                f"integer dtype rather than floats for missing values). Got {dtype} instead."
            )
    model: pl.Expr = pl.lit(None, pl.String)
    if "request_model" in df.columns and "response_model" in df.columns:
        model = pl.coalesce(
            pl.col("request_model").cast(pl.String), pl.col("response_model").cast(pl.String)
        )
    elif "request_model" in df.columns:
        model = pl.col("request_model").cast(pl.String)
    elif "response_model" in df.columns:
        model = pl.col("response_model").cast(pl.String)
    kept = [c for c in ("trace_id", "span_id", "service_name", "operation") if c in df.columns]
    out = df.select(
        pl.col("start_time")
        .dt.convert_time_zone("UTC")
        .dt.cast_time_unit("ns")
        .alias("arrival_time"),
        pl.col("input_tokens").cast(pl.Int64),
        pl.col("output_tokens").cast(pl.Int64),
        model.alias("model"),
        pl.lit("llm_calls", pl.String).alias("source"),
        *(pl.col(c).alias(f"attributes.{c}") for c in kept),
    )
    return frame_out(out, backend)


def __getattr__(name: str) -> Any:
    """Re-export :func:`toolkit.synth.servegen_to_workload`, imported on first use (a reader
    does not import the generator)."""
    if name == "servegen_to_workload":
        from toolkit.synth import servegen_to_workload

        return servegen_to_workload
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
