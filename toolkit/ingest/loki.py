"""Grafana Loki's ``query_range`` API into the logs table.

:func:`read_loki` (and :func:`toolkit.load_logs` given an ``http(s)://`` URL) reads the
log entries a LogQL selector (``{service_name="llm-gateway"} |= "error"``) matches in
``[start, end)`` through ``/loki/api/v1/query_range``, ``direction=forward``, page by
page: Loki returns at most ``limit`` entries per request, so the next page starts at the
last timestamp returned, and the entries of that nanosecond already read are left out
(Loki itself keeps one copy of an entry with the same stream, timestamp and line).

Where the columns come from
---------------------------
Loki's native OTLP ingestion (Loki 3, ``/otlp/v1/logs``) stores a record's body as the
log line, some resource attributes as index (stream) labels and everything else as
structured metadata, every name with ``.`` turned into ``_``. The reader asks for
categorized labels (header ``X-Loki-Response-Encoding-Flags: categorize-labels``) and maps
them back:

* the entry's timestamp is ``time``; the line is ``body``;
* structured metadata ``severity_text``, ``severity_number``, ``trace_id``, ``span_id``,
  ``observed_timestamp`` (ns) and ``scope_name`` give those columns;
* the stream label ``service_name`` gives ``service_name`` and ``resource.service.name``;
  the other resource attributes Loki indexes by default (:data:`RESOURCE_LABELS`:
  ``service_namespace``, ``k8s_pod_name``, ``deployment_environment_name`` ...) give
  ``resource.<dotted name>``;
* every other label, metadata entry or parsed label (``| json``) is
  ``attributes.<name>``, as Loki names it: the original dots cannot be told from
  underscores, so ``user.tier`` comes back as ``attributes.user_tier`` (pass
  ``names={"user_tier": "attributes.user.tier"}`` to restore it), and Loki keeps
  strings only, so attribute values are String columns.

Servers older than Loki 3 (or proxies) that do not categorize labels send structured
metadata merged into the stream labels; the same mapping applies. With ``body="json"``
lines that are JSON objects (the OpenTelemetry Collector's former ``loki`` exporter,
promtail-shipped JSON logs) are parsed as :func:`toolkit.read_json_logs` parses a
JSON-lines file: message, level, ids and fields into their columns.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Interval,
    OneOf,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import ParameterError, RemoteError, preview
from toolkit.ingest._frames import order_columns
from toolkit.ingest._http import connection, time_ns
from toolkit.schema import LOGS, TIME

__all__ = ["RESOURCE_LABELS", "read_loki"]

#: Resource attributes Loki's OTLP ingestion stores as index labels by default
#: (``distributor.otlp_config``), by the label name it gives them.
RESOURCE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        name.replace(".", "_"): name
        for name in (
            "cloud.availability_zone",
            "cloud.region",
            "container.name",
            "deployment.environment",
            "deployment.environment.name",
            "k8s.cluster.name",
            "k8s.container.name",
            "k8s.cronjob.name",
            "k8s.daemonset.name",
            "k8s.deployment.name",
            "k8s.job.name",
            "k8s.namespace.name",
            "k8s.pod.name",
            "k8s.replicaset.name",
            "k8s.statefulset.name",
            "service.instance.id",
            "service.name",
            "service.namespace",
        )
    }
)
#: Structured metadata that Loki's OTLP ingestion writes for LogRecord fields.
_FIELDS = {
    "severity_text": "severity_text",
    "severity_number": "severity_number",
    "trace_id": "trace_id",
    "span_id": "span_id",
    "observed_timestamp": "observed_time",
    "scope_name": "scope_name",
}
_FLAGS = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}
_TIME_KEY = "toolkit.loki.time"
_ROW_KEY = "toolkit.loki.row"


def _column(name: str, index: bool) -> str:
    if name in _FIELDS:
        return _FIELDS[name]
    if index and name in RESOURCE_LABELS:
        return f"resource.{RESOURCE_LABELS[name]}"
    return f"attributes.{name}"


def _entries(
    data: Any, url: str, function: str
) -> list[tuple[int, dict[str, str], dict[str, str], str]]:
    """(ts, stream labels, other labels, line) of every entry of a streams answer."""
    if not isinstance(data, dict) or data.get("resultType") != "streams":
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise RemoteError(
            f"{function}: expected log streams, got a {kind!r} result: the query must be a "
            'log query (a stream selector such as {service_name="llm-gateway"}, with '
            "filters), not a metric query such as rate(...).",
            url=url,
        )
    out = []
    for stream in data.get("result") or ():
        labels = dict(stream.get("stream") or {})
        for value in stream.get("values") or ():
            try:
                ts, line = int(value[0]), str(value[1])
                extra: dict[str, str] = {}
                if len(value) > 2 and isinstance(value[2], dict):
                    for group in ("structuredMetadata", "parsed"):
                        extra.update(value[2].get(group) or {})
            except (TypeError, ValueError, IndexError):
                raise RemoteError(
                    f'{function}: a log entry must be ["<ns timestamp>", "<line>"(, '
                    f"{{...}})]. Got {preview(value)} instead.",
                    url=url,
                ) from None
            out.append((ts, labels, extra, line))
    return out


def _json_bodies(frame: pl.DataFrame, function: str) -> pl.DataFrame:
    """Parse JSON-object lines as :func:`toolkit.read_json_logs` parses a file's lines."""
    from toolkit.ingest.logs import read_json_logs

    is_json = frame["body"].str.starts_with("{")
    if not is_json.any():
        return frame
    rows = frame.with_row_index("_row").filter(is_json)
    with tempfile.TemporaryDirectory(prefix="toolkit-loki-") as tmp:
        path = Path(tmp) / "loki.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for row, ts, line in zip(
                rows["_row"], rows["time"].dt.epoch("ns"), rows["body"], strict=True
            ):
                try:
                    obj = json.loads(line)
                except ValueError:
                    obj = None
                if not isinstance(obj, dict):
                    raise ParameterError(
                        f"The 'body' parameter of {function} is 'json', so every line "
                        f"starting with '{{' must be a JSON object. Got {preview(line)} "
                        "instead; use body='text'."
                    )
                # The entry's own time and row travel with the record (the line's time
                # field, if any, stays an attribute: Loki's timestamp is the entry's).
                fh.write(json.dumps({**obj, _TIME_KEY: ts, _ROW_KEY: row}) + "\n")
        parsed = read_json_logs(path, time_field=_TIME_KEY, time_unit="ns")
    parsed = parsed.drop("attributes.log.file.name", strict=False).rename(
        {f"attributes.{_ROW_KEY}": "_row"}
    )
    fixed = ["severity_number", "severity_text", "body", "trace_id", "span_id", "service_name"]
    fixed.append("scope_name")
    out = frame.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    extra = [c for c in parsed.columns if c.startswith("attributes.") and c not in out.columns]
    updates = parsed.select(
        pl.col("_row").cast(pl.Int64), *[pl.col(c).alias(f"\x00{c}") for c in fixed], *extra
    )
    out = out.join(updates, on="_row", how="left")
    out = out.with_columns(
        pl.coalesce(f"\x00{c}", pl.col(c).cast(out.schema[f"\x00{c}"])).alias(c) for c in fixed
    )
    return out.drop("_row", *[f"\x00{c}" for c in fixed])


@validate_params(
    limit=Interval(int, 1, None, closed="left", description="a positive int"),
    body=OneOf("text", "json"),
    backend=BACKEND,
)
def read_loki(
    url: str,
    *,
    query: str,
    start: Any,
    end: Any,
    limit: int = 5000,
    body: Literal["text", "json"] = "text",
    names: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    bearer_token: str | None = None,
    basic_auth: tuple[str, str] | None = None,
    ca_file: str | None = None,
    verify: bool = True,
    client_cert: str | tuple[str, str] | None = None,
    timeout_s: float = 60.0,
    backend: Backend = "polars",
) -> Any:
    """Read the log entries a LogQL query selects from Loki into the logs table.

    Parameters
    ----------
    url : str
        Loki's base URL (``http://loki:3100``; Grafana Cloud's
        ``https://logs-prod-....grafana.net``).
    query : str
        A LogQL log query: a stream selector and optional filters / parsers
        (``{service_name="vllm-h100"} |= "KV cache"``).
    start, end : datetime or ISO-8601 str with a zone
        The period, ``start <= time < end`` (Loki's own semantics of ``start`` / ``end``).
    limit : int, default 5000
        Entries per request (Loki's ``max_entries_limit_per_query`` defaults to 5000);
        pages follow each other until the period is read.
    body : {"text", "json"}, default "text"
        "json": lines holding a JSON object are parsed as :func:`toolkit.read_json_logs`
        does (message, level, ids, fields as attributes).
    names : mapping, optional
        Loki label names to columns, applied last, e.g.
        ``{"user_tier": "attributes.user.tier"}`` (Loki turned the dots into ``_``).
    headers, bearer_token, basic_auth, ca_file, verify, client_cert, timeout_s
        As for :func:`toolkit.read_prometheus_api` (``headers={"X-Scope-OrgID": ...}``
        selects a tenant).
    backend : {"polars", "pandas"}, default "polars"
        Type of the returned frame.

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        One row per log entry (:data:`toolkit.schema.LOGS`), sorted by time, with the
        columns described in :mod:`toolkit.ingest.loki`.

    Raises
    ------
    RemoteError
        When Loki refuses a request (its message is kept), cannot be reached, answers
        something else than log streams, or holds ``limit`` entries or more in one
        nanosecond (raise ``limit``).
    ParameterError
        For bad parameters.

    Examples
    --------
    Against a stand-in of the API (Loki's AGPL server is not bundled here):

    >>> import json, threading
    >>> from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    >>> class Loki(BaseHTTPRequestHandler):
    ...     def do_GET(self):
    ...         meta = {"structuredMetadata": {"severity_text": "WARN", "user_tier": "free"}}
    ...         data = {"resultType": "streams", "result": [
    ...             {"stream": {"service_name": "vllm-l4"},
    ...              "values": [["1793577600000000001", "KV cache full", meta]]}]}
    ...         body = json.dumps({"status": "success", "data": data}).encode()
    ...         self.send_response(200)
    ...         self.end_headers()
    ...         self.wfile.write(body)
    ...     def log_message(self, *args):
    ...         pass
    >>> server = ThreadingHTTPServer(("127.0.0.1", 0), Loki)
    >>> _ = threading.Thread(target=server.serve_forever, daemon=True).start()
    >>> logs = read_loki(f"http://127.0.0.1:{server.server_port}",
    ...     query='{service_name="vllm-l4"}', start="2026-11-02T00:00:00Z",
    ...     end="2026-11-03T00:00:00Z")
    >>> logs.select("body", "severity_text", "service_name", "attributes.user_tier").row(0)
    ('KV cache full', 'WARN', 'vllm-l4', 'free')
    >>> server.shutdown(); server.server_close()
    """
    function = "read_loki"
    conn = connection(
        url,
        function=function,
        headers={**_FLAGS, **headers} if isinstance(headers, Mapping) else headers or _FLAGS,
        bearer_token=bearer_token,
        basic_auth=basic_auth,
        ca_file=ca_file,
        verify=verify,
        client_cert=client_cert,
        timeout_s=timeout_s,
    )
    if not isinstance(query, str) or not query.strip():
        raise reject("query", "be a non-empty LogQL log query", query)
    if names is not None and (
        not isinstance(names, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in names.items())
    ):
        raise reject("names", "map Loki label names to column names (str)", names)
    start_ns = time_ns(start, "start", function)
    end_ns = time_ns(end, "end", function)
    if end_ns <= start_ns:
        raise reject(
            "end", "be after 'start'", got=f"start={preview(start)} and end={preview(end)}"
        )
    shown = conn.shown + "/loki/api/v1/query_range"
    entries: list[tuple[int, dict[str, str], dict[str, str], str]] = []
    boundary: set[tuple[Any, ...]] = set()  # entries of the last nanosecond already read
    page_start = start_ns
    while True:
        params = [
            ("query", query),
            ("start", str(page_start)),
            ("end", str(end_ns)),
            ("limit", str(limit)),
            ("direction", "forward"),
        ]
        doc = conn.get("/loki/api/v1/query_range", params, function)
        if not isinstance(doc, dict) or doc.get("status") != "success":
            error = doc.get("error") if isinstance(doc, dict) else None
            raise RemoteError(
                f"{function}: Loki did not answer with success: {preview(error or doc)}",
                url=shown,
            )
        page = _entries(doc.get("data"), shown, function)
        fresh = []
        for entry in page:
            key = (
                entry[0],
                tuple(sorted(entry[1].items())),
                tuple(sorted(entry[2].items())),
                entry[3],
            )
            if entry[0] == page_start and key in boundary:
                continue
            fresh.append((key, entry))
        entries.extend(e for _, e in fresh)
        if len(page) < limit:
            break
        last = max(e[0] for e in page)
        if not fresh:
            raise RemoteError(
                f"{function}: limit={limit} entries or more share the timestamp "
                f"{last} ns, so paging cannot go past it; raise 'limit'.",
                url=shown,
            )
        if last != page_start:
            boundary = set()
        boundary.update(k for k, e in fresh if e[0] == last)
        page_start = last
    frame = _frame(entries)
    if body == "json" and frame.height:
        frame = _json_bodies(frame, function)
    if names:
        frame = frame.rename({k: v for k, v in names.items() if k in frame.columns})
        renamed = {f"attributes.{k}": v for k, v in names.items()}
        frame = frame.rename({k: v for k, v in renamed.items() if k in frame.columns})
    frame = frame.select(order_columns(frame.columns, LOGS))
    return frame_out(frame, backend)


def _frame(entries: list[tuple[int, dict[str, str], dict[str, str], str]]) -> pl.DataFrame:
    columns: dict[str, list[Any]] = {"time": [], "body": []}
    for n, (ts, labels, extra, line) in enumerate(entries, start=1):
        row: dict[str, Any] = {}
        for name, value in labels.items():
            row[_column(name, index=True)] = value
            if name == "service_name":
                row["service_name"] = value
                row["resource.service.name"] = value
        for name, value in extra.items():
            row[_column(name, index=False)] = value
        row["time"] = str(ts)
        row["body"] = line
        for key, value in row.items():
            values = columns.get(key)
            if values is None:
                values = columns[key] = [None] * (n - 1)
            values.append(value)
        for values in columns.values():
            if len(values) < n:
                values.append(None)
    dtypes: dict[str, pl.DataType] = {c: pl.String() for c in columns}
    frame = pl.DataFrame(columns, schema=dtypes)

    def ns(column: str) -> pl.Expr:
        return pl.col(column).cast(pl.Int64).cast(TIME)

    fixed = {
        "time": ns("time"),
        "observed_time": ns("observed_time") if "observed_time" in frame.columns else None,
        "severity_number": pl.col("severity_number").cast(pl.Int32)
        if "severity_number" in frame.columns
        else None,
        "trace_id": pl.col("trace_id").str.to_lowercase() if "trace_id" in frame.columns else None,
        "span_id": pl.col("span_id").str.to_lowercase() if "span_id" in frame.columns else None,
    }
    frame = frame.with_columns(e.alias(c) for c, e in fixed.items() if e is not None)
    missing = [c for c in LOGS.names if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=LOGS.schema[c]).alias(c) for c in missing)
    return frame.sort("time", maintain_order=True)
