"""Public loaders: telemetry files to canonical tables.

Each loader takes a path, a directory (read recursively), a glob pattern, or a list of
those, detects every file's format from its content, and returns one canonical table.
"""

from __future__ import annotations

import atexit
import datetime as dt
import inspect
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from toolkit._progress import Progress
from toolkit._validation import (
    BACKEND,
    Backend,
    Frame,
    Interval,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import FormatError, LoadReport, ParameterError, WrongSignalError
from toolkit.ingest import jaeger, otlp, sdk_dump, zipkin
from toolkit.ingest._attributes import ValueProblem
from toolkit.ingest._frames import (
    LoadContext,
    check_on_error,
    combine,
    finish,
    order_columns,
    unify_dtypes,
)
from toolkit.ingest._io import PathLike, expand_paths
from toolkit.ingest._otlp_model import SIGNALS
from toolkit.ingest.detect import detect
from toolkit.ingest.logs import read_json_logs, read_text_logs
from toolkit.ingest.otlp_metrics import metrics_from_batch
from toolkit.ingest.prometheus import read_prometheus
from toolkit.schema import LOGS, METRICS, SPANS, Table

__all__ = [
    "Loaded",
    "load",
    "load_logs",
    "load_metrics",
    "load_spans",
    "read_parquet",
    "scan_spans",
    "to_parquet",
]

OnError = Literal["raise", "skip"]
Paths = PathLike | Sequence[PathLike]
_Builder = Callable[[otlp.Batch, LoadContext], pl.DataFrame]


def _output(frame: pl.DataFrame, backend: str) -> Any:
    return frame_out(frame, backend)  # type: ignore[arg-type]


#: Loader of each canonical table, for messages that redirect the user.
_LOADER = {
    "spans": "load_spans",
    "logs": "load_logs",
    "metrics": "load_metrics",
    "gpu": "load_gpu",
    "workload": "load_workload",
}

#: A reader of one file: yields canonical frames (not yet combined).
FileReader = Callable[[Path, LoadContext, Progress], Iterator[pl.DataFrame]]


def _otlp_reader(signal: str, build: _Builder, batch_bytes: int) -> FileReader:
    def read(path: Path, ctx: LoadContext, sub: Progress) -> Iterator[pl.DataFrame]:
        for batch in otlp.iter_batches(
            path, SIGNALS[signal], ctx, batch_bytes=batch_bytes, progress=sub
        ):
            try:
                frame = build(batch, ctx)
            except ValueProblem:
                # The fast path accepts any string as an integer or base64 value; the
                # general path checks each and names the line.
                if batch.source is None:
                    raise
                frame = build(otlp.reparse(batch, SIGNALS[signal], ctx), ctx)
            if frame.height:
                yield frame

    return read


def _whole_file(read: Callable[[Path, LoadContext], Any]) -> FileReader:
    """Adapt a reader that returns one frame (or a list of frames) for a file."""

    def reader(path: Path, ctx: LoadContext, sub: Progress) -> Iterator[pl.DataFrame]:
        out = read(path, ctx)
        frames = out if isinstance(out, list) else [out]
        sub.update(os.path.getsize(path))
        yield from (f for f in frames if f.height)

    return reader


def _iter_frames(
    files: list[Path],
    table: str,
    readers: dict[str, FileReader],
    ctx: LoadContext,
    progress: bool | None,
) -> Iterator[pl.DataFrame]:
    """Detect each file's format and run its reader; other tables' files are refused."""
    total = sum(os.path.getsize(f) for f in files)
    done = 0
    with Progress(f"{ctx.function}", total=total, enabled=progress) as bar:
        for path in files:
            ctx.path = path
            bar.describe(f"{ctx.function}: {path.name}")
            size = os.path.getsize(path)
            try:
                found = detect(path)
            except FormatError as exc:
                ctx.problem(exc.problem, error=type(exc))
                continue
            key = "otlp" if found.format.startswith("otlp-") else found.format
            reader = readers.get(key)
            if reader is None:
                ctx.problem(
                    f"this holds the {found.table} table ({found.format}), not {table}; "
                    f"read it with toolkit.{_LOADER.get(found.table, 'load')}",
                    error=WrongSignalError,
                )
                continue
            yield from reader(path, ctx, _FileProgress(bar, done))
            done += size
            bar.update_to(done)


class _FileProgress(Progress):
    """Forwards a file's byte position to the bar of the whole load."""

    def __init__(self, parent: Progress, offset: int) -> None:
        super().__init__("", enabled=False)
        self._parent = parent
        self._offset = offset

    def update_to(self, done: float, total: float | None = None) -> None:
        self._parent.update_to(self._offset + done)

    def update(self, n: float = 1) -> None:
        self._done += n
        self._parent.update_to(self._offset + self._done)


def _load(
    path: Paths,
    *,
    table: Table,
    readers: dict[str, FileReader],
    function: str,
    on_error: str,
    report: LoadReport | None,
    progress: bool | None,
    backend: str,
) -> Any:
    check_on_error(on_error, function)
    files = expand_paths(path, function=function)
    ctx = LoadContext(function, on_error=on_error)  # type: ignore[arg-type]
    frames = list(_iter_frames(files, table.name, readers, ctx, progress))
    result = combine(frames, table, ctx)
    finish(ctx, report, result.height)
    return _output(result, backend)


def _span_readers(batch_bytes: int = 64 << 20) -> dict[str, FileReader]:
    def external(module: Any) -> FileReader:
        def read(path: Path, ctx: LoadContext, sub: Progress) -> Iterator[pl.DataFrame]:
            yield from (f for f in module.frames_from_file(path, ctx, progress=sub) if f.height)

        return read

    return {
        "otlp": _otlp_reader("traces", otlp.spans_from_batch, batch_bytes),
        jaeger.FORMAT: external(jaeger),
        zipkin.FORMAT: external(zipkin),
        sdk_dump.FORMAT: external(sdk_dump),
    }


@validate_params(backend=BACKEND)
def load_spans(
    path: Paths,
    *,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    progress: bool | None = None,
    backend: Backend = "polars",
) -> Any:
    """Load trace spans into the canonical spans table.

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        Files, directories (read recursively) or glob patterns. Formats are detected from
        content: OTLP JSON, OTLP JSON Lines (the collector's file exporter) and OTLP
        protobuf, each optionally gzip-compressed.
    on_error : {"raise", "skip"}, default "raise"
        "raise": the first invalid record raises a :class:`~toolkit.errors.FormatError`
        naming the file and line. "skip": invalid records are left out, counted and
        reported in one :class:`~toolkit.errors.SkippedRecordsWarning`.
    report : LoadReport, optional
        Filled with the files read, their formats, skips and type promotions.
    progress : bool, optional
        Show a progress bar: None (default) once a load lasts over two seconds.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per span: the fixed columns of :data:`toolkit.schema.SPANS`, then
        ``resource.<key>`` and ``attributes.<key>`` columns typed by their values.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> span = {"traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174",
    ...         "name": "chat gpt-4o", "kind": 3, "startTimeUnixNano": "1544712660000000000",
    ...         "endTimeUnixNano": "1544712661500000000",
    ...         "attributes": [{"key": "gen_ai.usage.input_tokens",
    ...                         "value": {"intValue": "12"}}]}
    >>> doc = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "traces.jsonl"
    >>> _ = p.write_text(json.dumps(doc) + "\\n")
    >>> spans = load_spans(p)
    >>> spans.select("trace_id", "kind", "duration_ms",
    ...              "attributes.gen_ai.usage.input_tokens").row(0)
    ('5b8efff798038103d269b633813fc60c', 'client', 1500.0, 12)
    """
    return _load(
        path,
        table=SPANS,
        readers=_span_readers(),
        function="load_spans",
        on_error=on_error,
        report=report,
        progress=progress,
        backend=backend,
    )


@validate_params(backend=BACKEND)
def load_logs(
    path: Paths,
    *,
    tz: str | None = None,
    year: int | None = None,
    pattern: str = "vllm",
    fields: Mapping[str, str] | None = None,
    time_unit: Literal["s", "ms", "us", "ns"] | None = None,
    query: str | None = None,
    start: dt.datetime | str | None = None,
    end: dt.datetime | str | None = None,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    progress: bool | None = None,
    backend: Backend = "polars",
    **live: Any,
) -> Any:
    """Load log records into the canonical logs table.

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        Files, directories or glob patterns. Each file's format is detected: OTLP logs
        (JSON, JSON Lines, protobuf, gzip), JSON-lines application logs (read by
        :func:`toolkit.read_json_logs`), or vLLM server text logs (read by
        :func:`toolkit.read_text_logs`).
    tz : str, optional
        IANA time zone of timestamps written without one (required for vLLM text logs and
        for naive JSON timestamps).
    year : int, optional
        Year of vLLM text logs, whose timestamps carry none (required for them).
    pattern : str, default "vllm"
        Named pattern or regex for plain-text logs (see :func:`toolkit.read_text_logs`).
    fields : mapping, optional
        JSON-log field names by role, e.g. ``{"time": "ts", "message": "msg"}`` (roles:
        time, level, message, trace_id, span_id, service, scope); detected when absent.
    time_unit : {"s", "ms", "us", "ns"}, optional
        Unit of epoch-number timestamps in JSON logs, when not unambiguous.
    query, start, end
        For an ``http(s)://`` URL of Grafana Loki only (read by :func:`toolkit.read_loki`):
        the LogQL log query and the period ``[start, end)``, all required.
    on_error, report, progress, backend
        As for :func:`load_spans`.
    **live
        For a Loki URL only: the other options of :func:`toolkit.read_loki` (``limit``,
        ``body``, ``names``, ``headers``, ``bearer_token``, ``basic_auth``, ``ca_file``,
        ``verify``, ``client_cert``, ``timeout_s``).

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per log record (:data:`toolkit.schema.LOGS`). For OTLP, ``time`` falls back
        to the observed time when the record has none, as the OTel data model says;
        structured bodies are JSON text.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> rec = {"timeUnixNano": "1544712660300000000", "severityNumber": 17,
    ...        "severityText": "ERROR", "body": {"stringValue": "KV cache full"}}
    >>> doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": [rec]}]}]}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "logs.json"
    >>> _ = p.write_text(json.dumps(doc, indent=2))
    >>> load_logs(p).select("severity_number", "body").row(0)
    (17, 'KV cache full')
    """
    if _live_url(path):
        from toolkit.ingest.loki import read_loki

        if query is None or start is None or end is None:
            missing = [
                n for n, v in (("query", query), ("start", start), ("end", end)) if v is None
            ]
            raise reject(
                missing[0],
                "be given with a URL (query, start and end say what to read)",
                got=f"{path!r} without {', '.join(repr(m) for m in missing)}",
            )
        _no_file_options(
            "load_logs",
            {"tz": tz, "year": year, "fields": fields, "time_unit": time_unit, "report": report},
        )
        return read_loki(str(path), query=query, start=start, end=end, backend=backend, **live)
    _no_live_options("load_logs", {"query": query, "start": start, "end": end, **live})
    roles = dict(fields or {})
    known = {"time", "level", "message", "trace_id", "span_id", "service", "scope"}
    if set(roles) - known:
        raise reject(
            "fields", f"map roles among {sorted(known)} to field names", got=repr(sorted(roles))
        )

    def json_logs(p: Path, ctx: LoadContext) -> pl.DataFrame:
        frame: pl.DataFrame = read_json_logs(
            p,
            time_field=roles.get("time"),
            level_field=roles.get("level"),
            message_field=roles.get("message"),
            trace_id_field=roles.get("trace_id"),
            span_id_field=roles.get("span_id"),
            service_field=roles.get("service"),
            scope_field=roles.get("scope"),
            tz=tz,
            time_unit=time_unit,
            on_error=ctx.on_error,
            report=report,
        )
        return frame

    def text_logs(p: Path, ctx: LoadContext) -> pl.DataFrame:
        frame: pl.DataFrame = read_text_logs(
            p, pattern=pattern, year=year, tz=tz, on_error=ctx.on_error, report=report
        )
        return frame

    readers = {
        "otlp": _otlp_reader("logs", otlp.logs_from_batch, 64 << 20),
        "json-logs": _whole_file(json_logs),
        "vllm-text": _whole_file(text_logs),
    }
    return _load(
        path,
        table=LOGS,
        readers=readers,
        function="load_logs",
        on_error=on_error,
        report=report,
        progress=progress,
        backend=backend,
    )


def _live_url(path: object) -> bool:
    return isinstance(path, str) and path[:8].lower().startswith(("http://", "https://"))


def _no_live_options(function: str, given: Mapping[str, Any]) -> None:
    named = sorted(k for k, v in given.items() if v is not None)
    if named:
        raise reject(
            named[0],
            "go with an http(s):// URL of a live server",
            got="files",
            hint=f"Leave out {', '.join(repr(n) for n in named)}.",
            function=function,
        )


def _no_file_options(function: str, given: Mapping[str, Any]) -> None:
    named = sorted(k for k, v in given.items() if v is not None)
    if named:
        raise ParameterError(
            f"The {named[0]!r} parameter of {function} must go with files. Got an http(s):// "
            f"URL of a live server instead; leave out {', '.join(repr(n) for n in named)}."
        )


@validate_params(backend=BACKEND)
def load_metrics(
    path: Paths,
    *,
    time: dt.datetime | str | None = None,
    query: str | None = None,
    start: dt.datetime | str | None = None,
    end: dt.datetime | str | None = None,
    step: Any = None,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    progress: bool | None = None,
    backend: Backend = "polars",
    **live: Any,
) -> Any:
    """Load metric points into the canonical long metrics table.

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        Files, directories or glob patterns. Each file's format is detected: OTLP metrics
        (JSON, JSON Lines, protobuf, gzip) or a Prometheus / OpenMetrics scrape (vLLM,
        DCGM, nvidia_gpu_exporter, ...; read by :func:`toolkit.read_prometheus`).
        An ``http://`` or ``https://`` URL reads a live Prometheus-compatible HTTP API
        (Prometheus, Mimir, Thanos, VictoriaMetrics) with
        :func:`toolkit.read_prometheus_api`: then ``query``, ``start`` and ``end`` are
        required, ``step`` optional.
    query, start, end, step
        For a URL only: the PromQL selector (raw samples) or expression (with ``step``),
        the period ``[start, end)`` and the evaluation step (see
        :func:`toolkit.read_prometheus_api`).
    **live
        For a URL only: the other options of :func:`toolkit.read_prometheus_api`
        (``chunk``, ``raw``, ``headers``, ``bearer_token``, ``basic_auth``, ``ca_file``,
        ``verify``, ``client_cert``, ``timeout_s``, ``metadata``).
    time : datetime or ISO-8601 str, optional
        Scrape time for Prometheus samples without their own timestamp (time-zone aware).
        A directory of scrapes can instead carry the time in each file name.
    on_error, report, progress, backend
        As for :func:`load_spans`.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per sample (:data:`toolkit.schema.METRICS`). Gauges are ``gauge``;
        monotonic sums ``counter``; non-monotonic sums (up-down counters) ``gauge``.
        Histograms, exponential histograms (converted to explicit bounds) and summaries
        follow the Prometheus layout: ``<name>_bucket`` rows with a cumulative count per
        ``le`` bound (``+inf`` last), ``<name>_sum``, ``<name>_count`` (and ``_min`` /
        ``_max`` when recorded); summary quantiles as ``<name>`` rows with
        ``label.quantile``. Data-point attributes become ``label.<key>`` columns.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> point = {"timeUnixNano": "1544712660300000000", "asInt": "42",
    ...          "attributes": [{"key": "model", "value": {"stringValue": "llama"}}]}
    >>> metric = {"name": "requests", "unit": "1",
    ...           "sum": {"isMonotonic": True, "aggregationTemporality": 2,
    ...                   "dataPoints": [point]}}
    >>> doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "metrics.json"
    >>> _ = p.write_text(json.dumps(doc))
    >>> load_metrics(p).select("name", "type", "value", "label.model").row(0)
    ('requests', 'counter', 42.0, 'llama')
    """

    if _live_url(path):
        from toolkit.ingest.prometheus_api import read_prometheus_api

        if query is None or start is None or end is None:
            missing = [
                n for n, v in (("query", query), ("start", start), ("end", end)) if v is None
            ]
            raise reject(
                missing[0],
                "be given with a URL (query, start and end say what to read)",
                got=f"{path!r} without {', '.join(repr(m) for m in missing)}",
            )
        _no_file_options("load_metrics", {"time": time, "report": report})
        return read_prometheus_api(
            str(path), query=query, start=start, end=end, step=step, backend=backend, **live
        )
    _no_live_options(
        "load_metrics", {"query": query, "start": start, "end": end, "step": step, **live}
    )

    def scrape(p: Path, ctx: LoadContext) -> pl.DataFrame:
        frame: pl.DataFrame = read_prometheus(p, time=time, on_error=ctx.on_error, report=report)
        return frame

    reader = _whole_file(scrape)
    readers = {
        "otlp": _otlp_reader("metrics", metrics_from_batch, 64 << 20),
        "prometheus-text": reader,
        "dcgm": reader,  # GPU exporters' scrapes are metrics too (load_gpu gives the gpu view)
        "nvidia_gpu_exporter": reader,
    }
    return _load(
        path,
        table=METRICS,
        readers=readers,
        function="load_metrics",
        on_error=on_error,
        report=report,
        progress=progress,
        backend=backend,
    )


# --- any supported file ---------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """What :func:`load` read: the table's name, each file's format, and the frame."""

    table: str
    formats: dict[str, str]
    frame: Any

    def __repr__(self) -> str:
        shape = getattr(self.frame, "shape", None)
        kinds = sorted(set(self.formats.values()))
        return f"Loaded(table={self.table!r}, formats={kinds}, shape={shape})"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{html.escape(f)}</td><td>{html.escape(k)}</td></tr>"
            for f, k in self.formats.items()
        )
        return (
            f"<p><b>{html.escape(self.table)}</b> table, shape "
            f"{html.escape(str(getattr(self.frame, 'shape', '')))}</p>"
            f"<table><tr><th>file</th><th>format</th></tr>{rows}</table>"
        )


@validate_params(backend=BACKEND)
def load(path: Paths, *, backend: Backend = "polars", **options: Any) -> Loaded:
    """Load any supported telemetry file into its canonical table, saying what it found.

    Each file's format is detected from its content (see
    :data:`toolkit.ingest.detect.SUPPORTED`); all files must hold the same table. The
    matching loader (:func:`load_spans`, :func:`load_logs`, :func:`load_metrics`,
    :func:`toolkit.load_gpu`, :func:`toolkit.load_workload`) does the reading, with
    ``options`` passed on to it; ServeGen files give their per-window table
    (:func:`toolkit.read_servegen`).

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        Files, directories or glob patterns.
    backend : {"polars", "pandas"}, default "polars"
        Type of the frame.
    **options
        Options of the matching loader (e.g. ``tz=``, ``time=``, ``start=``, ``on_error=``).

    Returns
    -------
    Loaded
        ``table`` (spans, logs, metrics, gpu, workload or servegen-windows), ``formats``
        (file to detected format) and ``frame``.

    Raises
    ------
    UnsupportedFormatError
        For a file no reader recognises (the message lists the supported formats).
    ParameterError
        When the files hold different tables, or an option does not belong to the loader.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "trace.csv"
    >>> _ = p.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\\n"
    ...                  "2023-11-16 18:15:46.6805900,374,44\\n")
    >>> found = load(p, tz="UTC")
    >>> found.table, found.formats[str(p)], found.frame["input_tokens"].item()
    ('workload', 'azure', 374)
    """
    from toolkit.ingest.gpu import load_gpu
    from toolkit.ingest.workloads import load_workload, read_servegen

    files = expand_paths(path, function="load")
    formats = {str(f): detect(f) for f in files}
    tables = {d.table if d.format != "servegen" else "servegen-windows" for d in formats.values()}
    if len(tables) > 1:
        listing = ", ".join(f"{Path(f).name}: {d.table}" for f, d in formats.items())
        raise reject(
            "path",
            "name files of one table",
            got=f"several ({listing})",
            hint="Load each table with its own loader.",
        )
    table = tables.pop()
    loaders: dict[str, Callable[..., Any]] = {
        "spans": load_spans,
        "logs": load_logs,
        "metrics": load_metrics,
        "gpu": load_gpu,
        "workload": load_workload,
        "servegen-windows": read_servegen,
    }
    loader = loaders[table]
    accepted = {
        name
        for name, p in inspect.signature(loader).parameters.items()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    } - {"path", "path_or_paths"}
    unknown = set(options) - accepted
    if unknown:
        raise ParameterError(
            f"The options of load for a {table} file must be among {sorted(accepted)}. "
            f"Got {sorted(unknown)!r} instead."
        )
    if table == "servegen-windows":
        if len(files) != 1:
            raise reject("path", "name one ServeGen file at a time", got=f"{len(files)} files")
        frame = loader(files[0], backend=backend, **options)
    else:
        frame = loader(files, backend=backend, **options)
    return Loaded(table, {f: d.format for f, d in formats.items()}, frame)


# --- larger than memory ---------------------------------------------------------------

_SCAN_DIRS: list[str] = []


def _cleanup() -> None:
    for d in _SCAN_DIRS:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


@validate_params(
    batch_bytes=Interval(int, 1 << 16, None, closed="left", description="at least 65536")
)
def scan_spans(
    path: Paths,
    *,
    cache_dir: PathLike | None = None,
    batch_bytes: int = 64 << 20,
    on_error: OnError = "raise",
    report: LoadReport | None = None,
    progress: bool | None = None,
) -> pl.LazyFrame:
    """Spans as a polars LazyFrame, for exports larger than memory.

    The files are read batch by batch (``batch_bytes`` of JSON at a time); each batch's
    spans are written to a Parquet part in ``cache_dir``, and the parts are scanned
    lazily, with attribute types unified as :func:`load_spans` would. Filters and
    aggregations then stream over the parts, so memory is bounded by one batch.

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        As for :func:`load_spans`.
    cache_dir : str or path-like, optional
        Where to keep the Parquet parts. By default a temporary directory removed when
        the Python process exits; give a directory to keep them (it must be empty or
        absent).
    batch_bytes : int, default 64 MiB
        Uncompressed JSON per batch.
    on_error, report, progress
        As for :func:`load_spans`.

    Returns
    -------
    polars.LazyFrame
        The spans table, lazily.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
    ...         "name": "GET", "startTimeUnixNano": "1", "endTimeUnixNano": "2000001"}
    >>> doc = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.jsonl"
    >>> _ = p.write_text(json.dumps(doc) + "\\n")
    >>> scan_spans(p).select(pl.col("duration_ms").sum()).collect().item()
    2.0
    """
    function = "scan_spans"
    check_on_error(on_error, function)
    files = expand_paths(path, function=function)
    if cache_dir is None:
        out = Path(tempfile.mkdtemp(prefix="toolkit-spans-"))
        _SCAN_DIRS.append(str(out))
    else:
        out = Path(cache_dir)
        if out.exists() and any(out.iterdir()):
            raise reject(
                "cache_dir",
                "be an empty or absent directory",
                got=f"{str(out)!r} (it holds files)",
            )
        out.mkdir(parents=True, exist_ok=True)
    ctx = LoadContext(function, on_error=on_error)
    parts: list[tuple[Path, dict[str, pl.DataType]]] = []
    for i, frame in enumerate(
        _iter_frames(files, "spans", _span_readers(batch_bytes), ctx, progress)
    ):
        part = out / f"part-{i:06d}.parquet"
        frame.write_parquet(part)
        parts.append((part, dict(frame.schema)))
    finish(ctx, report, 0)
    if not parts:
        return SPANS.empty().lazy()
    dtypes, promoted = unify_dtypes([schema for _, schema in parts])
    dtypes = {k: (pl.String() if v == pl.Null else v) for k, v in dtypes.items()}
    ctx.promoted.update(promoted)
    columns = order_columns(dtypes, SPANS)
    lazies = []
    for part, schema in parts:
        lf = pl.scan_parquet(part)
        casts = []
        for name, dtype in schema.items():
            target = dtypes[name]
            if target != dtype:
                casts.append(_cast_expr(name, dtype, target))
        missing = [pl.lit(None, dtype=dtypes[c]).alias(c) for c in columns if c not in schema]
        lazies.append(lf.with_columns(*casts, *missing).select(columns))
    return pl.concat(lazies, how="vertical")


def _cast_expr(name: str, dtype: pl.DataType, target: pl.DataType) -> pl.Expr:
    from toolkit.ingest._attributes import string_expr

    if target == pl.String and dtype != pl.Null:
        return string_expr(pl.col(name), dtype).alias(name)
    return pl.col(name).cast(target)


# --- Parquet round trip ---------------------------------------------------------------


@validate_params(frame=Frame())
def to_parquet(frame: Any, path: PathLike) -> None:
    """Write a canonical table to Parquet without loss (ids, ns UTC times, lists).

    Parameters
    ----------
    frame : polars.DataFrame, polars.LazyFrame or pandas.DataFrame
        The table.
    path : str or path-like
        The Parquet file to write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from toolkit.schema import WORKLOAD
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "w.parquet"
    >>> to_parquet(WORKLOAD.empty(), p)
    >>> read_parquet(p).schema == WORKLOAD.empty().schema
    True
    """
    df: pl.DataFrame = frame
    df.write_parquet(Path(path), compression="zstd", statistics=True)


@validate_params(backend=BACKEND)
def read_parquet(path: PathLike, *, backend: Backend = "polars") -> Any:
    """Read a table written by :func:`to_parquet` (or any Parquet file).

    Parameters
    ----------
    path : str or path-like
        The Parquet file.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.parquet"
    >>> to_parquet(pl.DataFrame({"trace_id": ["ab"]}), p)
    >>> read_parquet(p).item()
    'ab'
    """
    return _output(pl.read_parquet(Path(path)), backend)
