"""GPU telemetry to the ``gpu`` table: nvidia-smi CSV, DCGM exporter, nvidia_gpu_exporter.

One row per GPU sample with the columns of :data:`toolkit.schema.GPU` (``time``, ``host``,
``gpu_index``, ``gpu_uuid``, ``gpu_model``, ``util_pct``, ``mem_used_bytes``,
``mem_total_bytes``, ``power_w``, ``temp_c``, ``sm_clock_hz``) plus ``label.<name>``
columns for a scrape's other labels (pod, namespace, container, driver version ...).

Sources and how they are read
-----------------------------
**nvidia-smi** ``--query-gpu=<fields> --format=csv[,noheader][,nounits]``
(:func:`read_nvidia_smi_csv`), either a plain log or a *capture* file (whole text dumps
whose sections sit under ``####`` banners with a ``# $ <command>`` line; every
``--query-gpu`` block in it is read, with the format options of its command line).

- Cells are separated by ``", "``. The header carries units (``memory.used [MiB]``) and,
  unless ``nounits``, so does every value (``81559 MiB``). A value whose unit differs from
  its header's, or that is not a number, is a :class:`~toolkit.errors.FormatError` naming
  the file, line and column. Whether a plain log was written with ``nounits`` is read from
  its first data row; every later row must agree.
- ``[N/A]``, ``[Not Supported]``, ``[Requested functionality has been deprecated]`` and a
  bare ``N/A`` are nvidia-smi's "unavailable on this GPU or driver" markers: they become
  null, are not errors and are not counted (MIG mode, for example, makes
  ``utilization.gpu`` ``[N/A]``). Any other bracketed value (``[Unknown Error]``,
  ``[GPU is lost]``) in a numeric or canonical field is an error.
- ``timestamp`` (``2026/07/14 08:12:38.696``) is the host's local time with no zone:
  ``tz=`` (``"UTC"``, ``"Europe/Berlin"`` ...) is required whenever the field is present,
  and a local time that is ambiguous or skipped by a daylight-saving change is an error.
- Canonical fields: ``timestamp``, ``index``, ``uuid``/``gpu_uuid``, ``name``/``gpu_name``,
  ``utilization.gpu`` [%], ``memory.used`` and ``memory.total`` [MiB → bytes, × 1024²],
  ``power.draw`` [W], ``temperature.gpu`` [°C], ``clocks.current.sm``/``clocks.sm``
  [MHz → Hz]; ``hostname`` fills ``host`` unless ``host=`` is given. ``power_w`` is
  ``power.draw`` only (not ``power.draw.instant``/``.average``, which stay extra fields).
- Every other queried field is kept as a column ``nvsmi.<header cell>`` (e.g.
  ``nvsmi.memory.free [MiB]``, ``nvsmi.pstate``): fields whose header carries a unit as
  Float64 in that unit (the unit stays in the name), the others as the text nvidia-smi
  wrote (version strings, serials and hex ids are not numbers). ``extra_fields=False``
  leaves them out.
- ``--query-gpu`` reports physical GPUs only: on a MIG-enabled GPU there is one row for
  the GPU (``utilization.gpu`` is ``[N/A]``), none per MIG instance. Per-instance samples
  come from DCGM (labels ``GPU_I_ID``/``GPU_I_PROFILE`` are kept).

**DCGM exporter** scrapes: ``DCGM_FI_DEV_GPU_UTIL`` (%), ``DCGM_FI_DEV_FB_USED`` (MiB),
``DCGM_FI_DEV_POWER_USAGE`` (W), ``DCGM_FI_DEV_GPU_TEMP`` (C), ``DCGM_FI_DEV_SM_CLOCK``
(MHz). Units come from dcgm-exporter's counters file (``DCGM_FIELD, type, help`` where the
help ends in ``(in MiB).``): :data:`DCGM_DEFAULT_UNITS` holds those of its
``etc/default-counters.csv``; pass ``counters=`` (a path read with
:func:`read_dcgm_counters`, or a mapping) to use your own. ``mem_total_bytes`` is
``DCGM_FI_DEV_FB_TOTAL`` when scraped, else ``FB_USED + FB_FREE + FB_RESERVED`` (what
nvidia-smi reports as ``memory.total``), else, for exporters without ``FB_RESERVED``,
``FB_USED + FB_FREE`` (which leaves out the reserved memory, a few hundred MiB). Labels
``gpu`` → ``gpu_index``, ``UUID`` → ``gpu_uuid``, ``modelName`` → ``gpu_model``,
``Hostname`` → ``host``; the others become ``label.<name>``.

**nvidia_gpu_exporter** scrapes (``nvidia_smi_*``, already in base units: bytes, Hz,
watts; utilisation as a 0-1 ratio, × 100 here): ``uuid`` lacks nvidia-smi's ``GPU-``
prefix, which is added back so both sources name a GPU alike; ``nvidia_smi_gpu_info``
gives ``name`` → ``gpu_model`` and its other labels as ``label.<name>``.

Prometheus text is parsed by :mod:`toolkit.ingest.prometheus`; :func:`gpu_from_metrics`
works on its long ``metrics`` frame, :func:`load_gpu` reads any of these files.

Memory: nvidia-smi logs are decompressed and split into lines as a stream, 32 MiB at a
time (:func:`toolkit.ingest._io.read_lines`), never held whole as bytes or Python strings
(a capture file, a few hundred KB of text, is split in Python); peak memory is about 7x
the decompressed size (``benchmarks/reader_memory.py``: 0.7 GB for 104 MB). Lines are
held up to ``TOOLKIT_MAX_FILE_BYTES`` (4 GiB: the text plus 24 bytes a line), each at most
``TOOLKIT_MAX_LINE_BYTES`` (1 GiB); past either, and for a gzip bomb, a load ends in
:class:`~toolkit.errors.InputTooLargeError`. DCGM and nvidia_gpu_exporter scrapes are
read by :mod:`toolkit.ingest.prometheus`, with its bounds (about 8x).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

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
    SkippedRecord,
    UnsupportedFormatError,
    location,
    preview,
)
from toolkit.ingest._frames import LoadContext, finish
from toolkit.ingest._io import PathLike, expand_paths, read_lines, sniff
from toolkit.schema import GPU, TIME, check_tz

__all__ = [
    "DCGM_DEFAULT_UNITS",
    "DcgmCounter",
    "gpu_from_metrics",
    "load_gpu",
    "read_dcgm_counters",
    "read_nvidia_smi_csv",
]

OnError = Literal["raise", "skip"]
Source = Literal["auto", "dcgm", "nvidia_gpu_exporter"]
Format = Literal["auto", "nvidia-smi", "dcgm", "nvidia_gpu_exporter"]

# ---------------------------------------------------------------------------------------
# Units: every accepted spelling, per dimension, as (multiplier, divisor) to the canonical
# unit (bytes, hertz, watts, percent, degrees Celsius). Decimal MB/GB are left out on
# purpose: tools write "MB" for MiB, so the unit is ambiguous and rejected.
# ---------------------------------------------------------------------------------------
_UNITS: dict[str, dict[str, tuple[int, int]]] = {
    "bytes": {
        "B": (1, 1),
        "By": (1, 1),
        "bytes": (1, 1),
        "KiB": (1 << 10, 1),
        "MiB": (1 << 20, 1),
        "GiB": (1 << 30, 1),
        "TiB": (1 << 40, 1),
    },
    "hertz": {"Hz": (1, 1), "kHz": (1_000, 1), "MHz": (1_000_000, 1), "GHz": (1_000_000_000, 1)},
    "watts": {"W": (1, 1), "watts": (1, 1), "mW": (1, 1000), "kW": (1000, 1)},
    "percent": {"%": (1, 1), "ratio": (100, 1)},
    "celsius": {"C": (1, 1), "Cel": (1, 1), "°C": (1, 1), "degC": (1, 1), "celsius": (1, 1)},
}

_TARGET_DIMENSION = {
    "util_pct": "percent",
    "mem_used_bytes": "bytes",
    "mem_total_bytes": "bytes",
    "power_w": "watts",
    "temp_c": "celsius",
    "sm_clock_hz": "hertz",
}


def _conversion(unit: str, target: str) -> tuple[int, int] | None:
    return _UNITS[_TARGET_DIMENSION[target]].get(unit)


def _convert(expr: pl.Expr, factor: tuple[int, int]) -> pl.Expr:
    mul, div = factor
    if mul != 1:
        expr = expr * float(mul)
    if div != 1:
        expr = expr / float(div)
    return expr


def _accepted(target: str) -> str:
    return ", ".join(repr(u) for u in _UNITS[_TARGET_DIMENSION[target]])


# ---------------------------------------------------------------------------------------
# Small helpers shared by the readers
# ---------------------------------------------------------------------------------------


#: The parameters the readers share, declared once.
_TIME = [
    UTCTime(
        description="a time-zone-aware datetime or an ISO 8601 string with an offset "
        "(e.g. '2026-07-14T08:12:53Z')"
    ),
    None,
]
_HOST = [InstanceOf(str, description="a non-empty string"), None]


def _check_time(time: object) -> dt.datetime | None:
    """The ``time`` parameter (declared by ``_TIME``) as an aware UTC datetime."""
    return None if time is None else utc_time(time, parameter="time")


def _check_host(host: str | None) -> str | None:
    """The ``host`` parameter (a str or None by ``_HOST``), refused when empty."""
    if host == "":
        raise reject("host", "be a non-empty string", host)
    return host


def _time_literal(time: dt.datetime | None) -> pl.Expr:
    if time is None:
        return pl.lit(None, dtype=TIME)
    return pl.lit(time).cast(TIME)


_SKIPPED_MESSAGE = (
    "{function} skipped {count} record{s} that could not be read (first: {first}); "
    "see .skipped for all of them"
)


def _order_columns(frame: pl.DataFrame) -> pl.DataFrame:
    fixed = GPU.names
    labels = sorted(c for c in frame.columns if c.startswith("label."))
    rest = [c for c in frame.columns if c not in fixed and not c.startswith("label.")]
    return frame.select([*fixed, *labels, *rest])


def _empty_gpu() -> pl.DataFrame:
    return GPU.empty()


# ---------------------------------------------------------------------------------------
# nvidia-smi --query-gpu CSV
# ---------------------------------------------------------------------------------------

#: nvidia-smi's markers for a value that the GPU or driver does not provide.
_UNAVAILABLE = ("[N/A]", "N/A", "[Not Supported]", "[Requested functionality has been deprecated]")
_SEPARATOR = ", "
_HEADER_CELL = re.compile(r"^([A-Za-z_][\w.]*)(?: \[([^\]]+)\])?$")
_TIMESTAMP_FORMAT = "%Y/%m/%d %H:%M:%S%.f"
_BANNER = re.compile(r"^#{20,}\s*$")
_QUERY_GPU = re.compile(r"--query-gpu[= ](\S+)")
_FORMAT = re.compile(r"--format[= ](\S+)")


@dataclass(frozen=True)
class _Field:
    cell: str  # as in the header: "memory.used [MiB]"
    name: str  # "memory.used"
    unit: str | None  # "MiB", or None when the header has none


#: Canonical numeric fields: target column and the unit nvidia-smi writes for them.
_NVSMI_NUMERIC: dict[str, tuple[str, str]] = {
    "utilization.gpu": ("util_pct", "%"),
    "memory.used": ("mem_used_bytes", "MiB"),
    "memory.total": ("mem_total_bytes", "MiB"),
    "power.draw": ("power_w", "W"),
    "temperature.gpu": ("temp_c", "C"),
    "clocks.current.sm": ("sm_clock_hz", "MHz"),
    "clocks.sm": ("sm_clock_hz", "MHz"),
}
_NVSMI_TEXT: dict[str, str] = {
    "uuid": "gpu_uuid",
    "gpu_uuid": "gpu_uuid",
    "name": "gpu_model",
    "gpu_name": "gpu_model",
    "hostname": "host",
}
_KNOWN_FIELDS = {"timestamp", "index", *_NVSMI_NUMERIC, *_NVSMI_TEXT}


def _parse_fields(cells: Sequence[str]) -> list[_Field] | None:
    fields: list[_Field] = []
    for cell in cells:
        m = _HEADER_CELL.match(cell.strip())
        if m is None:
            return None
        fields.append(_Field(cell.strip(), m.group(1), m.group(2)))
    return fields


def _fields_parameter(fields: object, function: str) -> list[_Field] | None:
    if fields is None:
        return None
    items: list[str] | None = None
    if isinstance(fields, str):
        items = [f for f in re.split(r"\s*,\s*", fields.strip()) if f]
    elif isinstance(fields, Sequence) and all(isinstance(f, str) for f in fields):
        items = list(fields)
    parsed = _parse_fields(items) if items else None
    if parsed is None:
        raise reject(
            "fields",
            "list the queried fields, as in --query-gpu ('timestamp,index,memory.used') or "
            "as header cells (['timestamp', 'memory.used [MiB]'])",
            fields,
            function=function,
        )
    return parsed


@dataclass
class _Block:
    """Lines of one CSV table: a plain log or one --query-gpu block of a capture."""

    lines: pl.Series  # String
    first_line: int  # 1-based line number of lines[0]
    has_header: bool | None  # None: decide from the content
    units: bool | None  # values carry units; None: decide from the first data row
    queried: list[str] | None  # field names of the command line, when known


def _capture_blocks(lines: list[str], path: Path) -> list[_Block]:
    """The --query-gpu blocks of a capture file (sections under #### banners)."""
    blocks: list[_Block] = []
    i, n = 0, len(lines)
    while i < n:
        if not _BANNER.match(lines[i]):
            i += 1
            continue
        j = i + 1
        heading: list[str] = []
        while j < n and lines[j].startswith("#") and not _BANNER.match(lines[j]):
            heading.append(lines[j])
            j += 1
        if j >= n or not _BANNER.match(lines[j]):
            i = j
            continue
        start = j + 1  # content starts after the closing banner
        end = start
        while end < n and not _BANNER.match(lines[end]):
            end += 1
        command = next((h[4:] for h in heading if h.startswith("# $ ")), "")
        query = _QUERY_GPU.search(command)
        if "nvidia-smi" in command and query is not None:
            fmt = _FORMAT.search(command)
            options = set(fmt.group(1).split(",")) if fmt else set()
            if "csv" not in options:
                raise FormatError(
                    f"the --query-gpu block of this capture is not CSV (--format="
                    f"{fmt.group(1) if fmt else ''}); only --format=csv is read",
                    path=path,
                    line=i + 1 + len(heading),
                )
            content = lines[start:end]
            while content and not content[-1].strip():
                content.pop()
            blocks.append(
                _Block(
                    lines=pl.Series(content, dtype=pl.String),
                    first_line=start + 1,
                    has_header="noheader" not in options,
                    units="nounits" not in options,
                    queried=query.group(1).split(","),
                )
            )
        i = end
    return blocks


def _is_capture(lines: pl.Series) -> bool:
    text = lines.str
    return bool((text.starts_with("# $ ") & text.contains("--query-gpu", literal=True)).any())


def _first_content(lines: pl.Series) -> int | None:
    found = (lines.str.strip_chars() != "").arg_true()
    return int(found[0]) if found.len() else None


def _marker_null(col: str) -> pl.Expr:
    c = pl.col(col)
    return pl.when(c.is_in(_UNAVAILABLE)).then(pl.lit(None, dtype=pl.String)).otherwise(c)


@dataclass
class _Check:
    bad: pl.Expr  # true on a bad row
    column: str  # header cell
    value: str  # raw column to show
    problem: str


def _read_block(
    block: _Block,
    *,
    path: Path,
    fields: list[_Field] | None,
    tz: str | None,
    host: str | None,
    time: dt.datetime | None,
    extra_fields: bool,
    problems: LoadContext,
    function: str,
) -> pl.DataFrame:
    lines = block.lines.str.strip_chars_end("\r")
    first = _first_content(lines)
    if first is None:
        return _empty_gpu()
    header_index: int | None = None
    header_text: str | None = None
    head_cells = _parse_fields(lines[first].split(_SEPARATOR))
    if block.has_header is False:
        if fields is None and block.queried is not None:
            fields = _parse_fields(block.queried)
    elif fields is not None:
        # a header is optional when the caller names the fields: skip it if it is there
        if head_cells is not None and [f.name for f in head_cells] == [f.name for f in fields]:
            header_index, header_text, fields = first, lines[first], head_cells
        elif block.has_header:
            raise FormatError(
                "the header does not list the fields given in 'fields' "
                f"({preview(','.join(f.name for f in fields))}); found {preview(lines[first])}",
                path=path,
                line=block.first_line + first,
            )
    else:
        if head_cells is None:
            raise FormatError(
                "expected the header nvidia-smi --query-gpu --format=csv writes (e.g. "
                "'timestamp, index, memory.used [MiB]'), with cells separated by ', '; "
                f"found {preview(lines[first])}. For a file written with "
                "--format=csv,noheader, pass fields= (the --query-gpu list)",
                path=path,
                line=block.first_line + first,
            )
        header_index, header_text, fields = first, lines[first], head_cells
    if fields is None:  # pragma: no cover - noheader capture blocks always name the fields
        raise FormatError("the queried fields are unknown", path=path)
    if block.queried is not None and [f.name for f in fields] != block.queried:
        raise FormatError(
            "the CSV header does not match the fields of the --query-gpu command above it",
            path=path,
            line=block.first_line + (header_index or 0),
        )
    seen: set[str] = set()
    for f in fields:
        if f.name in seen:
            raise FormatError(
                f"the field {f.name!r} is queried twice; query each field once",
                path=path,
                line=block.first_line + (header_index or first),
            )
        seen.add(f.name)
    if any(f.name == "timestamp" for f in fields) and tz is None:
        raise reject(
            "tz",
            f"name the time zone of the host that wrote {os.fspath(path)} (e.g. 'UTC' or "
            "'Europe/Berlin'): nvidia-smi writes its 'timestamp' field in local time without "
            "a zone",
            None,
            function=function,
        )

    data_start = first if header_index is None else header_index + 1
    start, end = block.first_line + data_start, block.first_line + lines.len()
    frame = pl.DataFrame(
        {
            "_line": pl.int_range(start, end, dtype=pl.Int64, eager=True),
            "_text": lines.slice(data_start),
        }
    )
    del lines
    keep = pl.col("_text").str.strip_chars() != ""
    if header_text is not None:
        keep = keep & (pl.col("_text") != header_text)  # headers repeated by appended runs
    frame = frame.filter(keep)
    n = len(fields)
    frame = frame.with_columns(pl.col("_text").str.split(_SEPARATOR).alias("_cells"))
    frame = frame.with_columns(pl.col("_cells").list.len().alias("_n"))

    # Rows with the wrong number of cells cannot be read at all.
    wrong = frame.filter(pl.col("_n") != n)
    bad_lines: dict[int, SkippedRecord] = {}
    if wrong.height:
        line_no, count, text = wrong.select("_line", "_n", "_text").row(0)
        problem = (
            f"expected {n} cells separated by ', ' (as in the header), found {count}: "
            f"{preview(text)}"
        )
        if problems.on_error == "raise":
            raise FormatError(problem, path=path, line=line_no)
        for line_no, count, text in wrong.select("_line", "_n", "_text").iter_rows():
            bad_lines[line_no] = SkippedRecord(
                location(path, line=line_no),
                f"expected {n} cells separated by ', ', found {count}: {preview(text)}",
            )
        frame = frame.filter(pl.col("_n") == n)
    frame = frame.select(
        "_line",
        *[pl.col("_cells").list.get(i).alias(f"_f{i}") for i in range(n)],
    )
    frame = frame.with_columns(*[_marker_null(f"_f{i}").alias(f"_v{i}") for i in range(n)])

    # Do values carry their unit? From the command line, else from the first data row.
    units = block.units
    if units is None:
        for i, f in enumerate(fields):
            if f.unit is None:
                continue
            values = frame.get_column(f"_v{i}").drop_nulls()
            if values.len():
                units = str(values[0]).endswith(" " + f.unit)
                break
    outputs: dict[str, pl.Expr] = {}
    extras: list[pl.Expr] = []
    checks: list[_Check] = []
    mapped: set[str] = set()

    for i, f in enumerate(fields):
        raw, v = f"_f{i}", f"_v{i}"
        target: str | None = None
        if f.name in _NVSMI_NUMERIC:
            target = _NVSMI_NUMERIC[f.name][0]
        elif f.name in _NVSMI_TEXT:
            target = _NVSMI_TEXT[f.name]
        elif f.name == "timestamp":
            target = "time"
        elif f.name == "index":
            target = "gpu_index"
        if target is not None and target in mapped:
            target = None  # an alias queried next to its field: keep it as an extra
        if target is not None:
            mapped.add(target)
        vcol = pl.col(v)
        bracket = vcol.str.starts_with("[") & vcol.str.ends_with("]")
        if target is not None or f.unit is not None:
            checks.append(
                _Check(
                    vcol.is_not_null() & bracket,
                    f.cell,
                    raw,
                    "nvidia-smi reported an error instead of a value",
                )
            )
        if target in _TARGET_DIMENSION:
            default_unit = _NVSMI_NUMERIC[f.name][1]
            unit = f.unit or default_unit
            factor = _conversion(unit, target)
            if factor is None:
                raise FormatError(
                    f"the unit {unit!r} of {f.name!r} cannot be converted to {target} "
                    f"(expected one of {_accepted(target)})",
                    path=path,
                    line=block.first_line + (header_index or first),
                    column=f.cell,
                )
            value, value_checks = _numeric(vcol, raw, f, units, default_unit)
            checks.extend(value_checks)
            outputs[target] = _convert(value, factor)
        elif target == "time":
            naive = vcol.str.strptime(pl.Datetime("ns"), _TIMESTAMP_FORMAT, strict=False)
            local = naive.dt.replace_time_zone(tz, ambiguous="null", non_existent="null")
            checks.append(
                _Check(
                    vcol.is_not_null() & naive.is_null() & ~bracket,
                    f.cell,
                    raw,
                    "expected a timestamp like '2026/07/14 08:12:38.696'",
                )
            )
            checks.append(
                _Check(
                    naive.is_not_null() & local.is_null(),
                    f.cell,
                    raw,
                    f"this local time is ambiguous or does not exist in the time zone {tz!r} "
                    "(a daylight-saving change); such a log cannot be placed in time "
                    "unambiguously",
                )
            )
            outputs["time"] = local.dt.convert_time_zone("UTC").cast(TIME)
        elif target == "gpu_index":
            index = vcol.str.strip_chars().cast(pl.Int64, strict=False)
            checks.append(
                _Check(
                    vcol.is_not_null() & index.is_null() & ~bracket,
                    f.cell,
                    raw,
                    "expected the GPU index, an integer",
                )
            )
            outputs["gpu_index"] = index
        elif target is not None:
            outputs[target] = vcol
        elif extra_fields:
            name = f"nvsmi.{f.cell}"
            if f.unit is not None:
                value, value_checks = _numeric(vcol, raw, f, units, None)
                checks.extend(value_checks)
                extras.append(value.alias(name))
            else:
                extras.append(vcol.alias(name))

    frame = _apply_checks(frame, checks, path=path, problems=problems, bad_lines=bad_lines)
    if host is not None:
        outputs["host"] = pl.lit(host, dtype=pl.String)
    if "time" not in outputs:
        outputs["time"] = _time_literal(time)
    columns = [
        outputs.get(c.name, pl.lit(None, dtype=c.dtype)).cast(c.dtype).alias(c.name)
        for c in GPU.columns
    ]
    return frame.select(*columns, *extras)


def _numeric(
    vcol: pl.Expr, raw: str, f: _Field, units: bool | None, default_unit: str | None
) -> tuple[pl.Expr, list[_Check]]:
    """A numeric cell's value (in the header's unit) and the checks on its text."""
    checks: list[_Check] = []
    bracket = vcol.str.starts_with("[") & vcol.str.ends_with("]")
    if f.unit is not None:
        suffix = " " + f.unit
        if units:
            checks.append(
                _Check(
                    vcol.is_not_null() & ~bracket & ~vcol.str.ends_with(suffix),
                    f.cell,
                    raw,
                    f"expected a value in {f.unit} as the header says (e.g. '12{suffix}')",
                )
            )
            text = vcol.str.strip_suffix(suffix)
            expected = f"expected a number followed by '{suffix}'"
        else:
            text = vcol
            expected = f"expected a number (in {f.unit}, written with nounits)"
    else:
        # no unit in the header: nvidia-smi's own unit for the field, written or not
        text = vcol if default_unit is None else vcol.str.strip_suffix(" " + default_unit)
        expected = "expected a number"
    value = text.str.strip_chars().cast(pl.Float64, strict=False)
    checks.append(
        _Check(
            vcol.is_not_null()
            & ~bracket
            & text.is_not_null()
            & value.is_null()
            & (vcol.str.ends_with(" " + f.unit) if (f.unit and units) else pl.lit(True)),
            f.cell,
            raw,
            expected,
        )
    )
    return value, checks


def _apply_checks(
    frame: pl.DataFrame,
    checks: list[_Check],
    *,
    path: Path,
    problems: LoadContext,
    bad_lines: dict[int, SkippedRecord],
) -> pl.DataFrame:
    if checks:
        flags = frame.select(
            "_line", *[c.bad.fill_null(False).alias(f"_bad{k}") for k, c in enumerate(checks)]
        )
        any_bad = flags.select(pl.any_horizontal(pl.exclude("_line")).alias("b")).to_series()
        if any_bad.any():
            found = flags.filter(any_bad)
            first_hits: list[tuple[int, int]] = []  # (line, check)
            for k in range(len(checks)):
                hits = found.filter(pl.col(f"_bad{k}")).get_column("_line")
                if hits.len():
                    if problems.on_error == "raise":
                        first_hits.append((int(hits.min()), k))  # type: ignore[arg-type]
                    else:
                        first_hits.extend((int(x), k) for x in hits)
            first_hits.sort()
            if problems.on_error == "raise":
                line_no, k = first_hits[0]
                check = checks[k]
                value = frame.filter(pl.col("_line") == line_no).get_column(check.value)[0]
                raise FormatError(
                    f"{check.problem}; found {preview(value)}",
                    path=path,
                    line=line_no,
                    column=check.column,
                )
            for line_no, k in first_hits:
                if line_no in bad_lines:
                    continue
                check = checks[k]
                value = frame.filter(pl.col("_line") == line_no).get_column(check.value)[0]
                bad_lines[line_no] = SkippedRecord(
                    location(path, line=line_no, column=check.column),
                    f"{check.problem}; found {preview(value)}",
                )
            frame = frame.filter(~any_bad)
    problems.skipped.extend(bad_lines[k] for k in sorted(bad_lines))
    return frame


def _read_nvidia_smi_file(
    path: Path,
    *,
    fields: list[_Field] | None,
    tz: str | None,
    host: str | None,
    time: dt.datetime | None,
    extra_fields: bool,
    problems: LoadContext,
    function: str,
) -> pl.DataFrame:
    lines = read_lines(path, expected="; nvidia-smi writes UTF-8 CSV")["text"]
    if _is_capture(lines):
        blocks = _capture_blocks(lines.to_list(), path)
        if not blocks:
            raise FormatError(
                "this capture has no 'nvidia-smi --query-gpu=... --format=csv' section "
                "under a '# $ <command>' banner",
                path=path,
            )
    else:
        blocks = [_Block(lines, 1, None if fields is not None else True, None, None)]
    del lines
    frames = [
        _read_block(
            b,
            path=path,
            fields=fields,
            tz=tz,
            host=host,
            time=time,
            extra_fields=extra_fields,
            problems=problems,
            function=function,
        )
        for b in blocks
    ]
    return pl.concat(frames, how="diagonal")


@validate_params(host=_HOST, time=_TIME, on_error=ON_ERROR, backend=BACKEND)
def read_nvidia_smi_csv(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    tz: str | None = None,
    host: str | None = None,
    fields: str | Sequence[str] | None = None,
    time: dt.datetime | str | None = None,
    extra_fields: bool = True,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> Any:
    """Read nvidia-smi ``--query-gpu`` CSV logs or capture files into the gpu table.

    Parameters
    ----------
    path_or_paths : path, directory, glob or list of those
        CSV logs written by ``nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]``
        (gzip allowed), or capture files whose ``--query-gpu`` sections (under ``####``
        banners with a ``# $ <command>`` line) are read with their command's options.
    tz : str, optional
        IANA time zone of the host that wrote the log (``"UTC"``, ``"Europe/Berlin"``).
        Required when the ``timestamp`` field is present: nvidia-smi writes local time
        without a zone, and this function never assumes one.
    host : str, optional
        Host name for every row; overrides the ``hostname`` field. Without either,
        ``host`` is null.
    fields : str or list of str, optional
        The ``--query-gpu`` list, for logs written with ``noheader``; entries may carry the
        header's unit (``"memory.used [MiB]"``). Without a unit, nvidia-smi's unit for the
        field is used (MiB, W, MHz, %, °C).
    time : datetime or str, optional
        Sample time (aware) for rows of a log that has no ``timestamp`` field.
    extra_fields : bool, default True
        Keep fields beyond the canonical ones as ``nvsmi.<header cell>`` columns.
    on_error : {"raise", "skip"}, default "raise"
        ``"skip"`` leaves out unreadable rows, counted in one SkippedRecordsWarning.
    report : LoadReport, optional
        Filled with the files read, formats, rows and skipped records.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The gpu table (see :data:`toolkit.schema.GPU`), one row per GPU and sample, in file
        order.

    Raises
    ------
    FormatError
        Naming the file, line and column of a value that cannot be read (wrong unit, not a
        number, bad timestamp, wrong number of cells).
    ParameterError
        When ``tz`` is missing for a log with timestamps, or a parameter is invalid.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "gpu.csv"
    >>> _ = path.write_text(
    ...     "timestamp, index, memory.used [MiB], power.draw [W], clocks.sm [MHz]\\n"
    ...     "2026/07/14 08:12:53.353, 0, 19818 MiB, 631.95 W, 1980 MHz\\n"
    ...     "2026/07/14 08:12:54.353, 0, 19820 MiB, [N/A], 1980 MHz\\n")
    >>> df = read_nvidia_smi_csv(path, tz="Europe/Berlin")
    >>> df.select("time", "mem_used_bytes", "power_w", "sm_clock_hz").rows()[0]
    (datetime.datetime(2026, 7, 14, 6, 12, 53, 353000, tzinfo=zoneinfo.ZoneInfo(key='UTC')),
     20780679168.0, 631.95, 1980000000.0)
    >>> df["power_w"].to_list()
    [631.95, None]
    """
    function = "read_nvidia_smi_csv"
    tz = check_tz(tz, function)
    host = _check_host(host)
    when = _check_time(time)
    parsed_fields = _fields_parameter(fields, function)
    files = expand_paths(path_or_paths, function=function)
    problems = LoadContext(function, on_error)
    frames: list[pl.DataFrame] = []
    for path in files:
        frames.append(
            _read_nvidia_smi_file(
                path,
                fields=parsed_fields,
                tz=tz,
                host=host,
                time=when,
                extra_fields=extra_fields,
                problems=problems,
                function=function,
            )
        )
        problems.formats[os.fspath(path)] = "nvidia-smi"
    out = _order_columns(pl.concat(frames, how="diagonal"))
    finish(problems, report, out.height, skipped_message=_SKIPPED_MESSAGE)
    return frame_out(out, backend)


# ---------------------------------------------------------------------------------------
# DCGM counters file
# ---------------------------------------------------------------------------------------

#: Units of the canonical DCGM fields, from the help texts of dcgm-exporter's
#: ``etc/default-counters.csv`` (NVIDIA/dcgm-exporter, commit d5e5f510, Apache-2.0), e.g.
#: ``DCGM_FI_DEV_FB_USED, gauge, Framebuffer memory used (in MiB).``. ``FB_TOTAL`` is not in
#: that file; its unit is the one dcgm-exporter's other counter files give
#: ("Total framebuffer memory (in MiB)").
DCGM_DEFAULT_UNITS: Mapping[str, str] = {
    "DCGM_FI_DEV_SM_CLOCK": "MHz",
    "DCGM_FI_DEV_GPU_TEMP": "C",
    "DCGM_FI_DEV_POWER_USAGE": "W",
    "DCGM_FI_DEV_GPU_UTIL": "%",
    "DCGM_FI_DEV_FB_FREE": "MiB",
    "DCGM_FI_DEV_FB_USED": "MiB",
    "DCGM_FI_DEV_FB_RESERVED": "MiB",
    "DCGM_FI_DEV_FB_TOTAL": "MiB",
}

_DCGM_TARGETS: dict[str, str] = {
    "DCGM_FI_DEV_GPU_UTIL": "util_pct",
    "DCGM_FI_DEV_FB_USED": "mem_used_bytes",
    "DCGM_FI_DEV_FB_FREE": "mem_total_bytes",
    "DCGM_FI_DEV_FB_RESERVED": "mem_total_bytes",
    "DCGM_FI_DEV_FB_TOTAL": "mem_total_bytes",
    "DCGM_FI_DEV_POWER_USAGE": "power_w",
    "DCGM_FI_DEV_GPU_TEMP": "temp_c",
    "DCGM_FI_DEV_SM_CLOCK": "sm_clock_hz",
}
_DCGM_FIELD = re.compile(r"^DCGM_[A-Z0-9_]+$")
_DCGM_UNIT = re.compile(r"\(in ([^()]+?)\)")
_DCGM_TYPES = ("gauge", "counter", "label", "histogram", "summary")


@dataclass(frozen=True)
class DcgmCounter:
    """One line of a dcgm-exporter counters file.

    Attributes
    ----------
    field : str
        DCGM field name, also the Prometheus metric name (``DCGM_FI_DEV_FB_USED``).
    type : str
        Prometheus type (``gauge``, ``counter``) or ``label``.
    help : str
        Help text; may be empty.
    unit : str or None
        The unit written as ``(in <unit>)`` in the help, or None.
    """

    field: str
    type: str
    help: str
    unit: str | None


def read_dcgm_counters(path: PathLike) -> dict[str, DcgmCounter]:
    """Read a dcgm-exporter counters file (``DCGM_FIELD, type, help`` per line).

    Lines starting with ``#`` and blank lines are skipped; spaces around fields are
    ignored; the help may contain commas or be empty. The unit is the text in
    ``(in ...)`` of the help, as in ``Framebuffer memory used (in MiB).``.

    Parameters
    ----------
    path : str or path-like
        The counters file (``etc/default-counters.csv`` or your own).

    Returns
    -------
    dict of str to DcgmCounter
        By field name, in file order.

    Raises
    ------
    FormatError
        Naming the line of an entry that is not ``DCGM_FIELD, type, help``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "counters.csv"
    >>> _ = path.write_text("# DCGM FIELD, Prometheus metric type, help message\\n"
    ...                     "DCGM_FI_DEV_FB_USED,  gauge, Framebuffer memory used (in MiB).\\n")
    >>> read_dcgm_counters(path)["DCGM_FI_DEV_FB_USED"].unit
    'MiB'
    """
    files = expand_paths(path, function="read_dcgm_counters")
    if len(files) != 1:
        raise reject(
            "path",
            "name one counters file",
            got=f"{len(files)} files",
            function="read_dcgm_counters",
        )
    source = files[0]
    counters: dict[str, DcgmCounter] = {}
    for number, line in read_lines(
        source, expected="; expected a dcgm-exporter counters CSV"
    ).iter_rows():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = [p.strip() for p in stripped.split(",", 2)]
        if len(parts) < 2 or not _DCGM_FIELD.match(parts[0]) or parts[1] not in _DCGM_TYPES:
            raise FormatError(
                "expected 'DCGM_FIELD, type, help' with a DCGM_... field and a type among "
                f"{', '.join(_DCGM_TYPES)}; found {preview(stripped)}",
                path=source,
                line=number,
            )
        help_text = parts[2] if len(parts) > 2 else ""
        units = _DCGM_UNIT.findall(help_text)
        counters[parts[0]] = DcgmCounter(
            parts[0], parts[1], help_text, units[-1].strip() if units else None
        )
    return counters


def _dcgm_units(counters: object, function: str) -> dict[str, str]:
    units = dict(DCGM_DEFAULT_UNITS)
    if counters is None:
        return units
    if isinstance(counters, str | os.PathLike):
        given = {k: c.unit for k, c in read_dcgm_counters(counters).items()}
    elif isinstance(counters, Mapping) and all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in counters.items()
    ):
        given = dict(counters)
    else:
        raise reject(
            "counters",
            "be the path of a dcgm-exporter counters file or a mapping of DCGM field to unit",
            counters,
            function=function,
        )
    # the file's unit wins where it states one; DCGM fields keep their units otherwise
    units.update({k: v for k, v in given.items() if v})
    return units


# ---------------------------------------------------------------------------------------
# Prometheus metrics (long frame) -> gpu
# ---------------------------------------------------------------------------------------

_EXPORTER_TARGETS: dict[str, tuple[str, str]] = {
    "nvidia_smi_utilization_gpu_ratio": ("util_pct", "ratio"),
    "nvidia_smi_memory_used_bytes": ("mem_used_bytes", "B"),
    "nvidia_smi_memory_total_bytes": ("mem_total_bytes", "B"),
    "nvidia_smi_power_draw_watts": ("power_w", "W"),
    "nvidia_smi_temperature_gpu": ("temp_c", "C"),  # nvidia-smi's temperature.gpu, in °C
    "nvidia_smi_clocks_current_sm_clock_hz": ("sm_clock_hz", "Hz"),
}
_EXPORTER_INDEX = "nvidia_smi_index"
_EXPORTER_INFO = "nvidia_smi_gpu_info"


def _metric_units(
    metrics: pl.DataFrame, names: Mapping[str, str], path: Path | None
) -> dict[str, str]:
    """The unit of each metric: the frame's ``unit`` where it has one, else ``names``."""
    units = dict(names)
    if "unit" not in metrics.columns:
        return units
    stated = (
        metrics.filter(
            pl.col("name").is_in(list(names))
            & pl.col("unit").is_not_null()
            & (pl.col("unit") != "")
        )
        .select("name", "unit")
        .unique()
        .sort("name", "unit")
    )
    for name, group in stated.group_by("name", maintain_order=True):
        found = group.get_column("unit").to_list()
        if len(found) > 1:
            raise FormatError(
                f"{name[0]!r} has several units ({', '.join(map(repr, found))}); expected one",
                path=path,
            )
        units[str(name[0])] = str(found[0])
    return units


def _label_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("label.")]


def _wide(selected: pl.DataFrame, keys: list[str], path: Path | None, what: str) -> pl.DataFrame:
    dup = selected.select(["time", *keys, "name"]).is_duplicated()
    if dup.any():
        row = selected.filter(dup).row(0, named=True)
        labels = {k[6:]: row[k] for k in keys if row[k] is not None}
        raise FormatError(
            f"the {what} series {row['name']!r} with labels {preview(labels, 200)} appears "
            f"more than once at time {row['time']}; expected one sample per series and time",
            path=path,
        )
    return selected.pivot(on="name", index=["time", *keys], values="value")


def _index_from_label(frame: pl.DataFrame, label: str, path: Path | None) -> pl.Series:
    text = frame.get_column(label)
    index = text.str.strip_chars().cast(pl.Int64, strict=False)
    bad = text.is_not_null() & index.is_null()
    if bad.any():
        raise FormatError(
            f"the label {label[6:]!r} must be the GPU index, an integer; "
            f"found {preview(text.filter(bad)[0])}",
            path=path,
            column=label,
        )
    return index


def _unit_factor(metric: str, unit: str, target: str, path: Path | None) -> tuple[int, int]:
    factor = _conversion(unit, target)
    if factor is None:
        raise FormatError(
            f"the unit {unit!r} of {metric} cannot be converted to {target} "
            f"(expected one of {_accepted(target)})",
            path=path,
        )
    return factor


def _value(wide: pl.DataFrame, metric: str, unit: str, target: str, path: Path | None) -> pl.Expr:
    if metric not in wide.columns:
        return pl.lit(None, dtype=pl.Float64)
    return _convert(pl.col(metric), _unit_factor(metric, unit, target, path))


def _from_dcgm(metrics: pl.DataFrame, units: dict[str, str], path: Path | None) -> pl.DataFrame:
    names = list(_DCGM_TARGETS)
    selected = metrics.filter(pl.col("name").is_in(names))
    keys = [
        c for c in _label_columns(selected) if selected.get_column(c).null_count() < selected.height
    ]
    units = _metric_units(metrics, {n: units.get(n, "") for n in names}, path)
    for name in selected.get_column("name").unique().to_list():
        if not units.get(name):
            raise FormatError(
                f"no unit is known for {name}: the counters file does not give one "
                "(as '(in <unit>)' in its help)",
                path=path,
            )
    wide = _wide(selected, keys, path, "DCGM")
    used = _value(
        wide, "DCGM_FI_DEV_FB_USED", units.get("DCGM_FI_DEV_FB_USED", ""), "mem_used_bytes", path
    )
    free = _value(
        wide, "DCGM_FI_DEV_FB_FREE", units.get("DCGM_FI_DEV_FB_FREE", ""), "mem_total_bytes", path
    )
    if "DCGM_FI_DEV_FB_TOTAL" in wide.columns:
        total = _value(
            wide, "DCGM_FI_DEV_FB_TOTAL", units["DCGM_FI_DEV_FB_TOTAL"], "mem_total_bytes", path
        )
    elif "DCGM_FI_DEV_FB_RESERVED" in wide.columns:
        total = (
            used
            + free
            + _value(
                wide,
                "DCGM_FI_DEV_FB_RESERVED",
                units["DCGM_FI_DEV_FB_RESERVED"],
                "mem_total_bytes",
                path,
            )
        )
    else:
        total = used + free
    out = wide.with_columns(
        pl.col("label.Hostname").alias("host")
        if "label.Hostname" in wide.columns
        else pl.lit(None, dtype=pl.String).alias("host"),
        (
            _index_from_label(wide, "label.gpu", path)
            if "label.gpu" in wide.columns
            else pl.Series("gpu_index", [None] * wide.height, dtype=pl.Int64)
        ).alias("gpu_index"),
        pl.col("label.UUID").alias("gpu_uuid")
        if "label.UUID" in wide.columns
        else pl.lit(None, dtype=pl.String).alias("gpu_uuid"),
        pl.col("label.modelName").alias("gpu_model")
        if "label.modelName" in wide.columns
        else pl.lit(None, dtype=pl.String).alias("gpu_model"),
        _value(
            wide, "DCGM_FI_DEV_GPU_UTIL", units.get("DCGM_FI_DEV_GPU_UTIL", ""), "util_pct", path
        ).alias("util_pct"),
        used.alias("mem_used_bytes"),
        total.alias("mem_total_bytes"),
        _value(
            wide,
            "DCGM_FI_DEV_POWER_USAGE",
            units.get("DCGM_FI_DEV_POWER_USAGE", ""),
            "power_w",
            path,
        ).alias("power_w"),
        _value(
            wide, "DCGM_FI_DEV_GPU_TEMP", units.get("DCGM_FI_DEV_GPU_TEMP", ""), "temp_c", path
        ).alias("temp_c"),
        _value(
            wide, "DCGM_FI_DEV_SM_CLOCK", units.get("DCGM_FI_DEV_SM_CLOCK", ""), "sm_clock_hz", path
        ).alias("sm_clock_hz"),
    )
    mapped = {"label.Hostname", "label.gpu", "label.UUID", "label.modelName"}
    labels = [k for k in keys if k not in mapped]
    return out.select(*GPU.names, *labels)


def _from_exporter(metrics: pl.DataFrame, path: Path | None) -> pl.DataFrame:
    names = [*_EXPORTER_TARGETS, _EXPORTER_INDEX]
    selected = metrics.filter(pl.col("name").is_in(names))
    keys = [
        c for c in _label_columns(selected) if selected.get_column(c).null_count() < selected.height
    ]
    units = _metric_units(metrics, {n: u for n, (_, u) in _EXPORTER_TARGETS.items()}, path)
    wide = _wide(selected, keys, path, "nvidia_gpu_exporter")
    info = metrics.filter(pl.col("name") == _EXPORTER_INFO)
    info_labels: list[str] = []
    if info.height:
        present = [c for c in _label_columns(info) if info.get_column(c).null_count() < info.height]
        join_keys = [k for k in keys if k in present]
        info_labels = [c for c in present if c not in join_keys]
        info = info.select("time", *join_keys, *info_labels)
        dup = info.select("time", *join_keys).is_duplicated()
        if dup.any():
            raise FormatError(
                f"{_EXPORTER_INFO} appears more than once for the same GPU and time "
                f"({preview(info.filter(dup).row(0, named=True), 200)})",
                path=path,
            )
        wide = wide.join(
            info, on=["time", *join_keys], how="left", nulls_equal=True, maintain_order="left"
        )
    if _EXPORTER_INDEX in wide.columns:
        index = pl.col(_EXPORTER_INDEX).cast(pl.Int64)
        fractional = wide.filter(pl.col(_EXPORTER_INDEX) != pl.col(_EXPORTER_INDEX).floor())
        if fractional.height:
            raise FormatError(
                f"{_EXPORTER_INDEX} must be an integer GPU index; found "
                f"{fractional.get_column(_EXPORTER_INDEX)[0]}",
                path=path,
            )
    elif "label.index" in wide.columns:
        index = pl.lit(_index_from_label(wide, "label.index", path))
    else:
        index = pl.lit(None, dtype=pl.Int64)
    uuid = pl.col("label.uuid")
    out = wide.with_columns(
        pl.lit(None, dtype=pl.String).alias("host"),
        index.alias("gpu_index"),
        (
            pl.when(uuid.str.starts_with("GPU-") | uuid.str.starts_with("MIG-"))
            .then(uuid)
            .otherwise(pl.lit("GPU-") + uuid)
        ).alias("gpu_uuid")
        if "label.uuid" in wide.columns
        else pl.lit(None, dtype=pl.String).alias("gpu_uuid"),
        pl.col("label.name").alias("gpu_model")
        if "label.name" in wide.columns
        else pl.lit(None, dtype=pl.String).alias("gpu_model"),
        *[
            _value(wide, metric, units[metric], target, path).alias(target)
            for metric, (target, _) in _EXPORTER_TARGETS.items()
        ],
    )
    mapped = {"label.uuid", "label.name", "label.index"}
    labels = [k for k in dict.fromkeys([*keys, *info_labels]) if k not in mapped]
    return out.select(*GPU.names, *labels)


def _detect_source(metrics: pl.DataFrame, function: str) -> str:
    names = metrics.get_column("name")
    dcgm = bool(names.is_in(list(_DCGM_TARGETS)).any())
    exporter = bool(names.is_in([*_EXPORTER_TARGETS, _EXPORTER_INDEX]).any())
    if dcgm and exporter:
        raise reject(
            "source",
            "be 'dcgm' or 'nvidia_gpu_exporter' when the frame holds both exporters' metrics",
            "auto",
            function=function,
        )
    if dcgm:
        return "dcgm"
    if exporter:
        return "nvidia_gpu_exporter"
    return ""


def _gpu_from_metrics(
    metrics: pl.DataFrame,
    *,
    source: str,
    counters: object,
    host: str | None,
    path: Path | None,
    function: str,
) -> pl.DataFrame:
    missing = [c for c in ("time", "name", "value") if c not in metrics.columns]
    if missing:
        raise reject(
            "metrics",
            "be a metrics table (columns time, name, value, label.<name> ...)",
            got=f"a frame without {', '.join(missing)}",
            function=function,
        )
    if source == "auto":
        source = _detect_source(metrics, function)
    if source == "dcgm":
        out = _from_dcgm(metrics, _dcgm_units(counters, function), path)
    elif source == "nvidia_gpu_exporter":
        out = _from_exporter(metrics, path)
    else:
        out = pl.DataFrame()
    if out.height == 0:
        wanted = (
            "DCGM_FI_DEV_* or nvidia_smi_*"
            if source == ""
            else ("DCGM_FI_DEV_*" if source == "dcgm" else "nvidia_smi_*")
        )
        raise FormatError(
            f"no GPU metrics found: expected {wanted} samples such as "
            "DCGM_FI_DEV_GPU_UTIL or nvidia_smi_utilization_gpu_ratio",
            path=path,
        )
    if host is not None:
        out = out.with_columns(pl.lit(host, dtype=pl.String).alias("host"))
    out = out.with_columns(
        pl.col("time").cast(TIME),
        *[pl.col(c).cast(pl.String) for c in _label_columns(out)],
    )
    return out.sort(["time", "host", "gpu_index", "gpu_uuid"], nulls_last=True, maintain_order=True)


@validate_params(
    metrics=Frame(),
    source=OneOf("auto", "dcgm", "nvidia_gpu_exporter"),
    host=_HOST,
    backend=BACKEND,
)
def gpu_from_metrics(
    metrics: Any,
    *,
    source: Source = "auto",
    counters: PathLike | Mapping[str, str] | None = None,
    host: str | None = None,
    backend: Backend = "polars",
) -> Any:
    """Turn GPU exporter samples of a metrics table into the gpu table.

    Parameters
    ----------
    metrics : polars.DataFrame, polars.LazyFrame or pandas.DataFrame
        A long metrics table (``time``, ``name``, ``value``, optional ``unit``,
        ``label.<name>`` ...), e.g. from :func:`toolkit.ingest.prometheus.parse_exposition`.
        Other metrics in it are ignored.
    source : {"auto", "dcgm", "nvidia_gpu_exporter"}, default "auto"
        Which exporter wrote the samples; ``"auto"`` decides by metric names
        (``DCGM_FI_DEV_*`` or ``nvidia_smi_*``).
    counters : path or mapping, optional
        DCGM only: a dcgm-exporter counters file (or ``{field: unit}``) whose help texts
        give the units; defaults to :data:`DCGM_DEFAULT_UNITS`. A unit in the frame's
        ``unit`` column takes precedence.
    host : str, optional
        Host name for every row, overriding the ``Hostname`` label.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The gpu table, one row per GPU (or MIG instance) and sample time, sorted by time,
        host, index and UUID; the series' other labels as ``label.<name>``.

    Raises
    ------
    FormatError
        When the frame holds no GPU metric, a unit cannot be converted, a series appears
        twice at the same time, or a GPU index label is not an integer.

    Examples
    --------
    >>> import polars as pl
    >>> m = pl.DataFrame({
    ...     "time": [None] * 3, "name": ["DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE",
    ...                                  "DCGM_FI_DEV_SM_CLOCK"],
    ...     "type": ["gauge"] * 3, "unit": [None] * 3, "value": [1.0, 20015.0, 2310.0],
    ...     "le": [None] * 3, "label.gpu": ["0"] * 3, "label.pod": ["cuda-1"] * 3},
    ...     schema_overrides={"time": pl.Datetime("ns", "UTC"), "unit": pl.String,
    ...                       "le": pl.Float64})
    >>> gpu = gpu_from_metrics(m)
    >>> gpu.select("gpu_index", "mem_used_bytes", "mem_total_bytes", "sm_clock_hz",
    ...            "label.pod").row(0)
    (0, 1048576.0, 20988297216.0, 2310000000.0, 'cuda-1')
    """
    function = "gpu_from_metrics"
    host = _check_host(host)
    out = _gpu_from_metrics(
        metrics, source=source, counters=counters, host=host, path=None, function=function
    )
    return frame_out(_order_columns(out), backend)


# ---------------------------------------------------------------------------------------
# load_gpu: any of the above, sniffed
# ---------------------------------------------------------------------------------------

_PROM_LINE = re.compile(
    r"^(?:# (?:HELP|TYPE|UNIT) \S+|[A-Za-z_:][\w:]*(?:\{.*\})?\s+[-+]?(?:[0-9.]|Inf|NaN))"
)


def _detect_format(path: Path) -> str:
    info = sniff(path)
    if info.kind != "text":
        raise UnsupportedFormatError(
            f"not a GPU telemetry text file (looks like {info.kind}); expected an "
            "nvidia-smi --query-gpu CSV log or capture, or a DCGM / nvidia_gpu_exporter "
            "Prometheus scrape",
            path=path,
        )
    head = info.head.decode("utf-8-sig", errors="replace")
    lines = head.split("\n")
    first = next((line.strip() for line in lines if line.strip()), "")
    if _is_capture(pl.Series(lines, dtype=pl.String)) or (
        _BANNER.match(first) and any(line.startswith("# $ ") for line in lines)
    ):
        return "nvidia-smi"  # a capture file: its sections sit under #### banners
    cells = _parse_fields(first.split(_SEPARATOR))
    if cells is not None and {c.name for c in cells} & _KNOWN_FIELDS and _SEPARATOR in first:
        return "nvidia-smi"
    firsts = [line.strip() for line in lines if line.strip()][:5]
    if any(_PROM_LINE.match(line) for line in firsts):  # a bad first line is a bad line
        if "DCGM_FI_" in head and "nvidia_smi_" not in head:
            return "dcgm"
        if "nvidia_smi_" in head and "DCGM_FI_" not in head:
            return "nvidia_gpu_exporter"
        return "prometheus"
    raise UnsupportedFormatError(
        "not recognised as GPU telemetry: expected an nvidia-smi --query-gpu CSV header "
        "(e.g. 'timestamp, index, memory.used [MiB]'), an nvidia-smi capture, or a "
        f"Prometheus scrape of DCGM or nvidia_gpu_exporter; the file starts with "
        f"{preview(first)}",
        path=path,
    )


def _parse_scrape(path: Path, time: dt.datetime | None, problems: LoadContext) -> pl.DataFrame:
    """The metrics table of one scrape; its skipped lines join ``problems``."""
    from toolkit.ingest.prometheus import _datetime_ns, _read_scrapes

    default = None if time is None else _datetime_ns(time)
    frame, _ = _read_scrapes([path], default, problems)
    return frame


@validate_params(
    format=OneOf("auto", "nvidia-smi", "dcgm", "nvidia_gpu_exporter"),
    host=_HOST,
    time=_TIME,
    on_error=ON_ERROR,
    backend=BACKEND,
)
def load_gpu(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    format: Format = "auto",
    tz: str | None = None,
    host: str | None = None,
    time: dt.datetime | str | None = None,
    counters: PathLike | Mapping[str, str] | None = None,
    extra_fields: bool = True,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    backend: Backend = "polars",
) -> Any:
    """Load GPU telemetry files of any supported kind into one gpu table.

    Each file is sniffed: an nvidia-smi ``--query-gpu`` CSV log or capture file (read by
    :func:`read_nvidia_smi_csv`), or a Prometheus scrape of the DCGM exporter or
    nvidia_gpu_exporter (by metric names; converted by :func:`gpu_from_metrics`).

    Parameters
    ----------
    path_or_paths : path, directory, glob or list of those
        The files (gzip allowed).
    format : {"auto", "nvidia-smi", "dcgm", "nvidia_gpu_exporter"}, default "auto"
        Skip sniffing and read every file as this.
    tz : str, optional
        Time zone of the hosts that wrote nvidia-smi logs; required for logs with a
        ``timestamp`` field (local time without a zone).
    host : str, optional
        Host name for every row (overrides ``hostname``/``Hostname``).
    time : datetime or str, optional
        Scrape time (aware) for samples without their own timestamp: Prometheus scrapes
        carry none, nor do nvidia-smi logs without the ``timestamp`` field. Left null
        when not given.
    counters : path or mapping, optional
        dcgm-exporter counters file for DCGM units (see :func:`gpu_from_metrics`).
    extra_fields : bool, default True
        Keep nvidia-smi fields beyond the canonical ones as ``nvsmi.<header cell>``.
    on_error : {"raise", "skip"}, default "raise"
        ``"skip"``: leave out unreadable nvidia-smi rows, counted in one warning.
    report : LoadReport, optional
        Filled with the files, their detected formats, rows and skipped records.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The gpu table; ``label.<name>`` and ``nvsmi.<field>`` columns as found.

    Raises
    ------
    UnsupportedFormatError
        For a file that is none of the supported kinds.
    FormatError, ParameterError
        As the readers do.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "gpu.csv"
    >>> _ = path.write_text("index, uuid, temperature.gpu, utilization.gpu [%]\\n"
    ...                     "0, GPU-1a2b, 59, 100 %\\n")
    >>> load_gpu(path, host="node-1").select("host", "gpu_uuid", "temp_c", "util_pct").row(0)
    ('node-1', 'GPU-1a2b', 59.0, 100.0)
    """
    function = "load_gpu"
    tz = check_tz(tz, function)
    host = _check_host(host)
    when = _check_time(time)
    files = expand_paths(path_or_paths, function=function)
    problems = LoadContext(function, on_error)
    frames: list[pl.DataFrame] = []
    for path in files:
        kind = _detect_format(path) if format == "auto" else format
        if kind == "nvidia-smi":
            frame = _read_nvidia_smi_file(
                path,
                fields=None,
                tz=tz,
                host=host,
                time=when,
                extra_fields=extra_fields,
                problems=problems,
                function=function,
            )
        else:
            metrics = _parse_scrape(path, when, problems)
            source = "auto" if kind == "prometheus" else kind
            frame = _gpu_from_metrics(
                metrics, source=source, counters=counters, host=host, path=path, function=function
            )
            if kind == "prometheus":
                kind = _detect_source(metrics, function)
        frames.append(frame)
        problems.formats[os.fspath(path)] = kind
    out = _order_columns(pl.concat(frames, how="diagonal"))
    finish(problems, report, out.height, skipped_message=_SKIPPED_MESSAGE)
    return frame_out(out, backend)
