"""A live Prometheus-compatible HTTP API into the metrics table.

:func:`read_prometheus_api` (and :func:`toolkit.load_metrics` given an ``http(s)://`` URL)
reads Prometheus, Mimir, Thanos or VictoriaMetrics through the API they share and returns
the long ``metrics`` table of :mod:`toolkit.schema` with the same names, labels and
histogram layout as :func:`toolkit.read_prometheus` gives for a scrape of the same series:
``x_bucket`` rows with ``le``, ``x_sum``, ``x_count``, counters' ``x_total``, one
``label.<name>`` String column per label.

Two ways to read
----------------
* **Raw samples** (no ``step``): the samples as stored, at their own timestamps. A range
  selector ``<query>[<range>]`` is evaluated with ``/api/v1/query`` at the end of each
  chunk of the period (the query must then be a series selector such as
  ``{__name__=~"vllm:.*"}``), or, with ``raw="export"``, VictoriaMetrics'
  ``/api/v1/export`` is asked for the series matching the selector.
* **Evaluated at a step** (``step`` given): ``/api/v1/query_range`` evaluates any PromQL
  expression at ``start``, ``start + step``, ...; results without a ``__name__`` (an
  expression such as ``rate(x[5m])``) get the query text as their name.

The period is half-open, ``start <= time < end``, as everywhere in the toolkit; timestamps
are Prometheus's milliseconds as ``Datetime("ns", "UTC")``.

Chunking
--------
Prometheus refuses a ``query_range`` of more than 11,000 points per series, so a long
period at a fine step is split into consecutive ranges of at most 11,000 evaluation times
on the same grid (a week at 15 s is four requests). Raw reads are split into chunks of
``chunk`` (default one hour) so that no request loads more than the server's
``--query.max-samples``. Chunks do not overlap: every sample is read once.

Types and units
---------------
``/api/v1/metadata`` (the metadata of the families the server scrapes) gives each
family's type and unit; a sample name maps to its family as in a scrape (``x_bucket``,
``x_sum``, ``x_count`` of histogram ``x``; ``x_total`` of counter ``x``). Where the server
has no metadata for a family (backfilled blocks, remote-written series, some proxies), the
type is inferred from the series alone and the names inferred are listed in one
:class:`~toolkit.errors.ToolkitWarning`: ``x_bucket`` with ``le`` and its ``x_sum`` /
``x_count`` are a histogram, ``x_sum`` / ``x_count`` beside ``x{quantile}`` a summary,
``x_total`` a counter, anything else ``"unknown"`` (never silently a gauge).

Errors
------
A refused request raises :class:`~toolkit.errors.RemoteError` with the server's own
``errorType`` and ``error`` and the URL (credentials removed); answers that are not the
API's JSON raise it too, naming what was found.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from toolkit._validation import BACKEND, Backend, OneOf, frame_out, reject, validate_params
from toolkit.errors import RemoteError, ToolkitWarning, preview
from toolkit.ingest._http import Connection, connection, duration_ms, time_ns
from toolkit.schema import METRICS, TIME

__all__ = ["MAX_POINTS", "read_prometheus_api"]

#: Most evaluation times Prometheus accepts in one ``query_range`` per series.
MAX_POINTS = 11_000
_DEFAULT_CHUNK_MS = 3_600_000
_NS_PER_MS = 1_000_000
#: Sample-name suffixes that belong to a family of each type (besides the bare name), as in
#: a scrape (:mod:`toolkit.ingest.prometheus`).
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}
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


@dataclass
class _Series:
    """The samples of one series (its labels, with ``__name__``)."""

    labels: dict[str, str]
    times_ms: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def _seconds(ms: int) -> str:
    """Milliseconds since the epoch as the API's decimal seconds, exactly."""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    return f"{sign}{ms // 1000}.{ms % 1000:03d}"


def _value(raw: Any, where: str, url: str) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise RemoteError(
            f'{where}: a sample value must be a number as a string (e.g. "1.5", "+Inf"). '
            f"Got {preview(raw)} instead.",
            url=url,
        ) from None


def _data(doc: Any, url: str, function: str) -> Any:
    """The ``data`` of a successful API answer; a refused one raises with its message."""
    if not isinstance(doc, dict) or "status" not in doc:
        raise RemoteError(
            f"{function}: the answer is not the Prometheus HTTP API's JSON (no 'status'); "
            f"got {preview(doc)}. Is the URL the server's base URL (e.g. "
            "http://prometheus:9090, or Mimir's http://mimir/prometheus)?",
            url=url,
        )
    if doc["status"] != "success":
        error_type, error = doc.get("errorType"), doc.get("error")
        raise RemoteError(
            f"{function}: the server refused the query ({error_type}): {error}",
            url=url,
            error_type=None if error_type is None else str(error_type),
            error=None if error is None else str(error),
        )
    for warning in doc.get("warnings") or ():
        warnings.warn(f"{url}: the server warns: {warning}", ToolkitWarning, stacklevel=4)
    return doc.get("data")


def _add_matrix(
    data: Any,
    series: dict[tuple[tuple[str, str], ...], _Series],
    lo_ms: int,
    hi_ms: int,
    url: str,
    function: str,
) -> None:
    """Add the samples of a matrix answer with lo_ms <= t <= hi_ms to ``series``."""
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise RemoteError(
            f"{function}: expected a matrix of series, got a {kind!r} result. Without step "
            "the query must be a series selector (e.g. 'vllm:num_requests_running' or "
            "'{__name__=~\"vllm:.*\"}'); give step= to evaluate an expression.",
            url=url,
        )
    for item in data.get("result") or ():
        if "histograms" in item and "values" not in item:
            raise RemoteError(
                f"{function}: the series {preview(item.get('metric'))} holds native "
                "histograms, which the metrics table does not represent; query its classic "
                "buckets (x_bucket) instead.",
                url=url,
            )
        labels = item.get("metric") or {}
        key = tuple(sorted(labels.items()))
        entry = series.get(key)
        if entry is None:
            entry = series[key] = _Series(dict(labels))
        for ts, raw in item.get("values") or ():
            ms = round(float(ts) * 1000)
            if lo_ms <= ms <= hi_ms:
                entry.times_ms.append(ms)
                entry.values.append(_value(raw, function, url))


def _add_export(
    body: bytes,
    series: dict[tuple[tuple[str, str], ...], _Series],
    lo_ms: int,
    hi_ms: int,
    url: str,
    function: str,
) -> None:
    """Add VictoriaMetrics ``/api/v1/export`` JSON lines (one series per line)."""
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            labels = dict(item["metric"])
            pairs = zip(item["timestamps"], item["values"], strict=True)
        except (ValueError, KeyError, TypeError):
            raise RemoteError(
                f"{function}: line {number} of the export is not a series "
                '{"metric": {...}, "values": [...], "timestamps": [...]}: '
                f"{preview(line.decode('utf-8', 'replace'))}",
                url=url,
            ) from None
        key = tuple(sorted(labels.items()))
        entry = series.get(key)
        if entry is None:
            entry = series[key] = _Series(labels)
        for ms, raw in pairs:
            if lo_ms <= int(ms) <= hi_ms:
                entry.times_ms.append(int(ms))
                entry.values.append(_value(raw, function, url))


def _families(
    names: list[str],
    labelsets: Mapping[str, set[str]],
    meta: Mapping[str, tuple[str, str | None]],
) -> tuple[dict[str, tuple[str, str | None]], list[str]]:
    """Each sample name's (type, unit) and the names whose type was inferred."""
    out: dict[str, tuple[str, str | None]] = {}
    inferred: list[str] = []
    present = set(names)
    for name in names:
        if name in meta:
            out[name] = meta[name]
            continue
        found = None
        for typ, suffixes in _SUFFIXES.items():
            for suffix in suffixes:
                base = name.removesuffix(suffix)
                if base != name and meta.get(base, ("",))[0] == typ:
                    found = meta[base]
        if found is not None:
            out[name] = found
            continue
        typ = "unknown"
        base = name
        for suffix in ("_bucket", "_sum", "_count", "_created", "_total"):
            if name.endswith(suffix):
                base = name.removesuffix(suffix)
                break
        if name.endswith("_bucket") and "le" in labelsets.get(name, set()):
            typ = "histogram"
        elif name != base and name[len(base) :] in ("_sum", "_count", "_created"):
            if f"{base}_bucket" in present:
                typ = "histogram"
            elif base in present and "quantile" in labelsets.get(base, set()):
                typ = "summary"
        elif name.endswith("_total"):
            typ = "counter"
        elif "quantile" in labelsets.get(name, set()) and (
            f"{name}_sum" in present or f"{name}_count" in present
        ):
            typ = "summary"
        out[name] = (typ, None)
        inferred.append(name)
    return out, inferred


def _metadata(
    conn: Connection, names: list[str], function: str
) -> dict[str, tuple[str, str | None]]:
    """``/api/v1/metadata`` of every family a sample name can belong to."""
    candidates = set(names)
    for name in names:
        for suffixes in _SUFFIXES.values():
            for suffix in suffixes:
                if name.endswith(suffix):
                    candidates.add(name.removesuffix(suffix))
    meta: dict[str, tuple[str, str | None]] = {}
    for candidate in sorted(candidates):
        try:
            doc = conn.get("/api/v1/metadata", [("metric", candidate)], function)
        except RemoteError as exc:
            if exc.status in (404, 405, 501):  # the server has no metadata endpoint
                return {}
            raise
        data = _data(doc, conn.shown + "/api/v1/metadata", function)
        for fam, entries in (data or {}).items():
            if not entries:
                continue
            first = entries[0]
            typ = _TYPES.get(str(first.get("type", "unknown")), "unknown")
            unit = first.get("unit") or None
            meta[fam] = (typ, None if unit is None else str(unit))
    return meta


def _frame(
    series: Mapping[tuple[tuple[str, str], ...], _Series],
    types: Mapping[str, tuple[str, str | None]],
    unnamed: str,
) -> pl.DataFrame:
    label_names = sorted(
        {k for s in series.values() for k in s.labels if k not in ("__name__", "le")}
    )
    ids: list[int] = []
    times: list[int] = []
    values: list[float] = []
    rows: dict[str, list[Any]] = {"sid": [], "name": [], "le": []}
    rows.update({f"label.{n}": [] for n in label_names})
    for sid, s in enumerate(series.values()):
        if not s.times_ms:
            continue
        ids.extend([sid] * len(s.times_ms))
        times.extend(s.times_ms)
        values.extend(s.values)
        rows["sid"].append(sid)
        rows["name"].append(s.labels.get("__name__", unnamed))
        le = s.labels.get("le")
        rows["le"].append(None if le is None else float(le))
        for n in label_names:
            rows[f"label.{n}"].append(s.labels.get(n))
    samples = pl.DataFrame(
        {
            "sid": pl.Series(ids, dtype=pl.Int64),
            "time": (pl.Series(times, dtype=pl.Int64) * _NS_PER_MS).cast(TIME),
            "value": pl.Series(values, dtype=pl.Float64),
        }
    )
    schema = {"sid": pl.Int64, "name": pl.String, "le": pl.Float64}
    schema.update({f"label.{n}": pl.String for n in label_names})
    table = pl.DataFrame(rows, schema=schema)
    kind = pl.DataFrame(
        {
            "name": list(types),
            "type": [t for t, _ in types.values()],
            "unit": [u for _, u in types.values()],
        },
        schema={"name": pl.String, "type": pl.String, "unit": pl.String},
    )
    table = table.join(kind, on="name", how="left").with_columns(
        pl.col("type").fill_null("unknown")
    )
    out = samples.join(table, on="sid", how="left")
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
    out = out.sort("time", "sid")
    return out.select(*METRICS.names, *(f"label.{n}" for n in label_names))


@validate_params(raw=OneOf("query", "export"), metadata=OneOf(True, False), backend=BACKEND)
def read_prometheus_api(
    url: str,
    *,
    query: str,
    start: Any,
    end: Any,
    step: Any = None,
    chunk: Any = None,
    raw: Literal["query", "export"] = "query",
    metadata: bool = True,
    headers: Mapping[str, str] | None = None,
    bearer_token: str | None = None,
    basic_auth: tuple[str, str] | None = None,
    ca_file: str | None = None,
    verify: bool = True,
    client_cert: str | tuple[str, str] | None = None,
    timeout_s: float = 60.0,
    backend: Backend = "polars",
) -> Any:
    """Read series from a Prometheus-compatible HTTP API into the metrics table.

    Parameters
    ----------
    url : str
        The server's base URL: ``http://prometheus:9090``, Mimir's
        ``http://mimir/prometheus``, Thanos Query's, VictoriaMetrics'
        ``http://vm:8428``. Credentials in the URL (``https://user:pass@host``) are used
        as basic auth and never shown in messages.
    query : str
        Without ``step``: a series selector (``vllm:num_requests_running``,
        ``{__name__=~"vllm:.*", pool="h100-pool"}``) whose raw samples are read. With
        ``step``: any PromQL expression, evaluated at each step.
    start, end : datetime or ISO-8601 str with a zone
        The period, ``start <= time < end``.
    step : str, timedelta or float seconds, optional
        Evaluate ``query`` with ``/api/v1/query_range`` at ``start + k * step``. None
        (default): raw samples.
    chunk : str, timedelta or float seconds, optional
        Length of the period read per request. Raw samples: one hour by default. With
        ``step``: at most :data:`MAX_POINTS` steps (the default), which Prometheus
        requires.
    raw : {"query", "export"}, default "query"
        How raw samples are read: a range selector through ``/api/v1/query`` (every
        Prometheus-compatible server), or VictoriaMetrics' ``/api/v1/export``.
    metadata : bool, default True
        Ask ``/api/v1/metadata`` for the families' types and units; False infers types
        from the series alone (see the module's documentation).
    headers : mapping, optional
        Extra request headers (e.g. ``{"X-Scope-OrgID": "tenant"}`` for Mimir).
    bearer_token : str, optional
        Sent as ``Authorization: Bearer <token>``.
    basic_auth : (str, str), optional
        User and password for HTTP basic authentication.
    ca_file : str, optional
        PEM file of the CA certificates that sign the server's certificate (https).
    verify : bool, default True
        Verify the server's certificate and host name (https); False only for tests.
    client_cert : str or (str, str), optional
        Client certificate for mutual TLS: one PEM file with certificate and key, or a
        (certificate, key) pair of files.
    timeout_s : float, default 60
        Seconds to wait for each answer.
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The metrics table (:data:`toolkit.schema.METRICS`), sorted by time: ``le`` as a
        Float64 column, other labels as ``label.<name>``, ``type`` and ``unit`` from the
        server's metadata.

    Raises
    ------
    RemoteError
        When the server refuses a request (with its ``errorType`` and ``error``), cannot
        be reached, or answers something that is not the API's JSON.
    ParameterError
        For bad parameters.

    Examples
    --------
    Against a small stand-in of the API (a real server is used the same way):

    >>> import json, threading
    >>> from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    >>> class Api(BaseHTTPRequestHandler):
    ...     def do_GET(self):
    ...         if self.path.startswith("/api/v1/metadata"):
    ...             data = {"tokens": [{"type": "counter", "help": "", "unit": ""}]}
    ...         else:
    ...             data = {"resultType": "matrix", "result": [
    ...                 {"metric": {"__name__": "tokens_total", "pool": "a"},
    ...                  "values": [[1793577600, "10"], [1793577660, "70"]]}]}
    ...         body = json.dumps({"status": "success", "data": data}).encode()
    ...         self.send_response(200)
    ...         self.end_headers()
    ...         self.wfile.write(body)
    ...     def log_message(self, *args):
    ...         pass
    >>> server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    >>> _ = threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> df = read_prometheus_api(f"http://127.0.0.1:{server.server_port}",
    ...     query="tokens_total", start="2026-11-02T00:00:00Z", end="2026-11-02T00:05:00Z")
    >>> df.select("name", "type", "value", "label.pool").rows()
    [('tokens_total', 'counter', 10.0, 'a'), ('tokens_total', 'counter', 70.0, 'a')]
    >>> server.shutdown(); server.server_close()
    """
    function = "read_prometheus_api"
    conn = connection(
        url,
        function=function,
        headers=headers,
        bearer_token=bearer_token,
        basic_auth=basic_auth,
        ca_file=ca_file,
        verify=verify,
        client_cert=client_cert,
        timeout_s=timeout_s,
    )
    if not isinstance(query, str) or not query.strip():
        raise reject("query", "be a non-empty PromQL selector or expression", query)
    start_ns = time_ns(start, "start", function)
    end_ns = time_ns(end, "end", function)
    if end_ns <= start_ns:
        raise reject(
            "end", "be after 'start'", got=f"start={preview(start)} and end={preview(end)}"
        )
    lo_ms = -(-start_ns // _NS_PER_MS)  # first millisecond at or after start
    hi_ms = -(-end_ns // _NS_PER_MS) - 1  # last millisecond before end
    series: dict[tuple[tuple[str, str], ...], _Series] = {}
    if step is not None:
        step_ms = duration_ms(step, "step", function)
        points = MAX_POINTS
        if chunk is not None:
            points = min(MAX_POINTS, max(1, duration_ms(chunk, "chunk", function) // step_ms))
        total = (hi_ms - lo_ms) // step_ms + 1 if hi_ms >= lo_ms else 0
        shown = conn.shown + "/api/v1/query_range"
        for first in range(0, total, points):
            t0 = lo_ms + first * step_ms
            t1 = lo_ms + (min(first + points, total) - 1) * step_ms
            params = [
                ("query", query),
                ("start", _seconds(t0)),
                ("end", _seconds(t1)),
                ("step", _seconds(step_ms)),
            ]
            doc = conn.get("/api/v1/query_range", params, function)
            _add_matrix(_data(doc, shown, function), series, t0, t1, shown, function)
    else:
        chunk_ms = _DEFAULT_CHUNK_MS if chunk is None else duration_ms(chunk, "chunk", function)
        a = lo_ms
        while a <= hi_ms:
            b = min(a + chunk_ms - 1, hi_ms)
            if raw == "export":
                shown = conn.shown + "/api/v1/export"
                params = [("match[]", query), ("start", _seconds(a)), ("end", _seconds(b))]
                body = conn.get_bytes("/api/v1/export", params, function)
                _add_export(body, series, a, b, shown, function)
            else:
                # [b - r, b] in Prometheus 2 (closed), (b - r, b] in 3: r = b - a + 1 covers
                # [a, b] in both; samples outside are filtered, so chunks never overlap.
                shown = conn.shown + "/api/v1/query"
                params = [("query", f"{query}[{b - a + 1}ms]"), ("time", _seconds(b))]
                doc = conn.get("/api/v1/query", params, function)
                _add_matrix(_data(doc, shown, function), series, a, b, shown, function)
            a = b + 1
    # Series without __name__ (an expression's results) are named by the query, "unknown".
    names = sorted({s.labels["__name__"] for s in series.values() if "__name__" in s.labels})
    labelsets: dict[str, set[str]] = {}
    for s in series.values():
        if "__name__" in s.labels:
            labelsets.setdefault(s.labels["__name__"], set()).update(s.labels)
    meta = _metadata(conn, names, function) if metadata and names else {}
    types, inferred = _families(names, labelsets, meta)
    if inferred and metadata:
        shown_names = ", ".join(repr(n) for n in inferred[:10])
        more = f" and {len(inferred) - 10} more" if len(inferred) > 10 else ""
        warnings.warn(
            f"{conn.shown}: the server has no metadata for {shown_names}{more}; their type "
            "was inferred from the series (x_bucket with le: histogram, x_total: counter, "
            "else 'unknown') and their unit is null",
            ToolkitWarning,
            stacklevel=2,
        )
    frame = _frame(series, types, query)
    return frame_out(frame, backend)
