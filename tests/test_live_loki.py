"""Reading Loki's query_range, against a STAND-IN of Loki (not Loki itself).

Grafana Loki is AGPL-licensed, which this project may not use, and Debian's ``loki`` is an
unrelated program, so these tests serve the sample's logs from a small stdlib HTTP server
that implements the documented semantics of ``GET /loki/api/v1/query_range``: ``start``
inclusive and ``end`` exclusive in nanoseconds, ``limit`` entries at most (default 100,
above ``max_entries_limit_per_query`` = 5000 refused with HTTP 400), ``direction``
forward or backward (default backward), results as ``streams`` of ``[ts, line]`` values,
and with ``X-Loki-Response-Encoding-Flags: categorize-labels`` the structured metadata
as a third element. The logs are stored as Loki 3's native OTLP ingestion stores them: the
body as the line, the default resource attributes as index labels, everything else as
structured metadata, dots in names turned into underscores, values as strings.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit.errors import ParameterError, RemoteError
from toolkit.ingest.loki import RESOURCE_LABELS, read_loki

REPO = Path(__file__).resolve().parents[1]
MAX_ENTRIES = 5000
_FIELDS = {
    "severity_text": "severity_text",
    "severity_number": "severity_number",
    "trace_id": "trace_id",
    "span_id": "span_id",
    "observed_time": "observed_timestamp",
    "scope_name": "scope_name",
}

Entry = tuple[int, str, dict[str, str]]  # ts ns, line, structured metadata


def _label(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _text(frame: pl.DataFrame, column: str) -> pl.Series:
    col = frame[column]
    if col.dtype == pl.Datetime:
        return col.dt.epoch("ns").cast(pl.String)
    return col.cast(pl.String)


def ingest(logs: pl.DataFrame) -> dict[tuple[tuple[str, str], ...], list[Entry]]:
    """Streams (index labels) and their entries, as Loki's OTLP ingestion stores logs."""
    index = {
        c: _label(c.removeprefix("resource."))
        for c in logs.columns
        if c.startswith("resource.") and _label(c.removeprefix("resource.")) in RESOURCE_LABELS
    }
    meta: dict[str, str] = {c: k for c, k in _FIELDS.items() if c in logs.columns}
    # Resource attributes first, then log attributes: a log attribute of the same name wins.
    meta |= {
        c: _label(c.removeprefix("resource."))
        for c in logs.columns
        if c.startswith("resource.") and c not in index
    }
    meta |= {
        c: _label(c.removeprefix("attributes."))
        for c in logs.columns
        if c.startswith("attributes.")
    }
    texts = {c: _text(logs, c).to_list() for c in [*index, *meta]}
    times = logs["time"].dt.epoch("ns").to_list()
    bodies = logs["body"].to_list()
    streams: dict[tuple[tuple[str, str], ...], list[Entry]] = {}
    for i in range(logs.height):
        labels = tuple(
            sorted((k, texts[c][i]) for c, k in index.items() if texts[c][i] is not None)
        )
        metadata = {k: texts[c][i] for c, k in meta.items() if texts[c][i] is not None}
        streams.setdefault(labels, []).append((times[i], bodies[i] or "", metadata))
    return streams


def expected_frame(logs: pl.DataFrame) -> pl.DataFrame:
    """The file's logs table as it comes back from Loki (the module's documented mapping)."""
    out = logs.select(
        *toolkit.LOGS.names,
        "resource.service.name",
        *[
            c
            for c in logs.columns
            if c.startswith("resource.")
            and _label(c.removeprefix("resource.")) in RESOURCE_LABELS
            and c != "resource.service.name"
        ],
    ).with_columns(pl.lit(None, dtype=pl.String).alias("event_name"))
    attrs: dict[str, list[pl.Expr]] = {}
    for prefix in ("attributes.", "resource."):  # log attributes take precedence
        for c in logs.columns:
            name = _label(c.removeprefix(prefix))
            if c.startswith(prefix) and (prefix == "attributes." or name not in RESOURCE_LABELS):
                attrs.setdefault(f"attributes.{name}", []).append(pl.col(c).cast(pl.String))
    wide = logs.select(
        pl.coalesce(e).alias(k) if len(e) > 1 else e[0].alias(k) for k, e in attrs.items()
    )
    return pl.concat([out, wide], how="horizontal")


class StandInLoki:
    """Loki's query_range semantics over the streams of :func:`ingest` (a test stand-in)."""

    def __init__(self, streams: dict[tuple[tuple[str, str], ...], list[Entry]]) -> None:
        self.streams = streams
        self.requests: list[dict[str, str]] = []

    @staticmethod
    def matchers(query: str) -> list[tuple[str, str, str]]:
        found = re.fullmatch(r"\s*\{(.*)\}\s*", query)
        if found is None:
            raise ValueError("parse error at line 1, col 1: syntax error: unexpected IDENTIFIER")
        pairs = re.findall(
            r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?', found[1]
        )
        if not pairs:
            raise ValueError(
                "parse error : queries require at least one regexp or equality matcher"
            )
        return pairs

    def select(self, params: dict[str, str], categorize: bool) -> dict[str, Any]:
        pairs = self.matchers(params["query"])
        start = int(params.get("start", 0))
        end = int(params["end"])
        limit = int(params.get("limit", 100))
        if limit > MAX_ENTRIES:
            raise ValueError(
                f"max entries limit per query exceeded, limit > max_entries_limit_per_query "
                f"({limit} > {MAX_ENTRIES})"
            )
        forward = params.get("direction", "backward").lower() == "forward"
        picked: list[tuple[int, str, tuple[tuple[str, str], ...], str, dict[str, str]]] = []
        for labels, entries in self.streams.items():
            have = dict(labels)
            ok = True
            for name, op, value in pairs:
                got = have.get(name, "")
                hit = re.fullmatch(value, got) is not None if "~" in op else got == value
                ok = ok and (hit if op in ("=", "=~") else not hit)
            if ok:
                key = json.dumps(labels)
                picked += [
                    (ts, key, labels, line, m) for ts, line, m in entries if start <= ts < end
                ]
        picked.sort(key=lambda e: (e[0], e[1]), reverse=not forward)
        picked = picked[:limit]
        result: dict[tuple[tuple[str, str], ...], list[list[Any]]] = {}
        for ts, _, labels, line, meta in picked:
            if categorize:
                value: list[Any] = (
                    [str(ts), line, {"structuredMetadata": meta}] if meta else [str(ts), line]
                )
                result.setdefault(labels, []).append(value)
            else:  # structured metadata merged into the stream's labels
                merged = tuple(sorted({**dict(labels), **meta}.items()))
                result.setdefault(merged, []).append([str(ts), line])
        return {
            "resultType": "streams",
            "result": [{"stream": dict(k), "values": v} for k, v in result.items()],
            **({"encodingFlags": ["categorize-labels"]} if categorize else {}),
        }


@pytest.fixture(scope="module")
def sample_logs() -> pl.DataFrame:
    frame: pl.DataFrame = toolkit.load_logs(REPO / "data" / "sample" / "logs.jsonl.gz")
    return frame


def _serve(loki: StandInLoki, *, categorize: bool = True) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(url.query))
            loki.requests.append(params)
            flags = self.headers.get("X-Loki-Response-Encoding-Flags", "")
            if url.path != "/loki/api/v1/query_range":
                self.send_response(404)
                self.end_headers()
                self.wfile.write(b"404 page not found\n")
                return
            try:
                data = loki.select(params, categorize and "categorize-labels" in flags)
            except ValueError as exc:  # Loki answers query errors as plain text
                self.send_response(400)
                self.end_headers()
                self.wfile.write(str(exc).encode())
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"status": "success", "data": data}).encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def stand_in(sample_logs: pl.DataFrame) -> Iterator[tuple[StandInLoki, str]]:
    loki = StandInLoki(ingest(sample_logs))
    server, url = _serve(loki)
    yield loki, url
    server.shutdown()
    server.server_close()


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(sorted(frame.columns)).sort(
        "time", "service_name", "body", "span_id", nulls_last=True
    )


WEEK = {"start": "2026-11-02T00:00:00Z", "end": "2026-11-09T00:00:00Z"}
EVERY_SERVICE = '{service_name=~".+"}'


def test_the_week_read_in_pages_equals_the_file(
    stand_in: tuple[StandInLoki, str], sample_logs: pl.DataFrame
) -> None:
    loki, url = stand_in
    loki.requests.clear()
    logs = toolkit.load_logs(url, query=EVERY_SERVICE, **WEEK)
    expected = expected_frame(sample_logs)
    assert logs.height == sample_logs.height == 25_971
    assert len(loki.requests) == 6  # 25,971 entries at 5,000 a page
    assert {r["direction"] for r in loki.requests} == {"forward"}
    assert sorted(logs.columns) == sorted(expected.columns)
    assert logs.schema["time"] == pl.Datetime("ns", "UTC")
    assert logs.schema["severity_number"] == pl.Int32
    assert _sorted(logs).equals(_sorted(expected.select(logs.columns)))


def test_small_pages_neither_drop_nor_repeat(
    stand_in: tuple[StandInLoki, str], sample_logs: pl.DataFrame
) -> None:
    loki, url = stand_in
    window = {"start": "2026-11-06T12:00:00Z", "end": "2026-11-06T15:00:00Z"}
    loki.requests.clear()
    # vLLM's engines log up to 8 lines in the same nanosecond: pages of 10 end inside them.
    logs = read_loki(url, query='{service_name="vllm-l4"}', limit=10, **window)
    file = sample_logs.filter(
        (pl.col("service_name") == "vllm-l4")
        & pl.col("time").is_between(
            pl.lit(window["start"]).str.to_datetime(time_zone="UTC"),
            pl.lit(window["end"]).str.to_datetime(time_zone="UTC"),
            closed="left",
        )
    )
    assert file.height > 3 * 10
    assert logs.height == file.height
    assert len(loki.requests) > file.height // 10
    assert (
        logs.sort("time", "body")["body"].to_list() == file.sort("time", "body")["body"].to_list()
    )


def test_entries_sharing_a_nanosecond_across_pages_are_read_once() -> None:
    ts = 1_793_581_200_000_000_000  # an hour into the window
    streams = {
        (("service_name", "a"),): [(ts, "a1", {}), (ts, "a2", {}), (ts + 5, "a3", {})],
        (("service_name", "b"),): [(ts - 1, "b0", {}), (ts, "b1", {}), (ts, "b2", {})],
        (("service_name", "x"),): [(ts - 2, "x1", {})],
    }
    loki = StandInLoki(streams)
    server, url = _serve(loki)
    try:
        window = {"start": "2026-11-02T00:00:00Z", "end": "2026-11-03T00:00:00Z"}
        query = '{service_name=~"a|b|x"}'
        # Page 1 ends inside the four entries of one nanosecond, page 2 starts there.
        logs = read_loki(url, query=query, limit=5, **window)
        read = logs.sort("time", "body")["body"].to_list()
        assert read == ["x1", "b0", "a1", "a2", "b1", "b2", "a3"]
        assert [r["start"] for r in loki.requests] == [
            "1793577600000000000",
            str(ts),
            str(ts + 5),
        ]
        with pytest.raises(RemoteError, match="limit=4 entries or more share the timestamp"):
            read_loki(url, query=query, limit=4, **window)
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_without_categorized_labels_gives_the_same_frame(
    sample_logs: pl.DataFrame,
) -> None:
    part = sample_logs.filter(pl.col("service_name") == "vllm-h100").head(300)
    loki = StandInLoki(ingest(part))
    server, url = _serve(loki, categorize=False)
    try:
        logs = read_loki(url, query='{service_name="vllm-h100"}', **WEEK)
    finally:
        server.shutdown()
        server.server_close()
    assert _sorted(logs).equals(_sorted(expected_frame(part).select(logs.columns)))


def test_names_restore_dotted_attribute_names(stand_in: tuple[StandInLoki, str]) -> None:
    _, url = stand_in
    logs = read_loki(
        url,
        query='{service_name="llm-gateway"}',
        start="2026-11-02T00:00:00Z",
        end="2026-11-02T01:00:00Z",
        names={"user_tier": "attributes.user.tier"},
    )
    assert "attributes.user.tier" in logs.columns
    assert "attributes.user_tier" not in logs.columns
    assert set(logs["attributes.user.tier"].drop_nulls()) <= {"free", "pro", "enterprise"}


def test_json_lines_are_parsed_as_the_json_log_reader_does(tmp_path: Path) -> None:
    lines = [
        {
            "level": "error",
            "msg": "upstream timeout",
            "trace_id": "AB" * 16,
            "http": {"status": 504},
        },
        {"level": "info", "msg": "ok", "route": "chat"},
    ]
    ts = 1_793_577_600_000_000_000
    streams = {
        (("service_name", "gw"),): [(ts + i, json.dumps(x), {}) for i, x in enumerate(lines)]
    }
    server, url = _serve(StandInLoki(streams))
    try:
        logs = read_loki(url, query='{service_name="gw"}', body="json", **WEEK)
    finally:
        server.shutdown()
        server.server_close()
    path = tmp_path / "app.jsonl"
    path.write_text("".join(json.dumps({"ts": ts + i, **x}) + "\n" for i, x in enumerate(lines)))
    from_file = toolkit.read_json_logs(path, time_unit="ns")
    columns = [
        "time",
        "severity_number",
        "severity_text",
        "body",
        "trace_id",
        "attributes.http.status",
    ]
    assert logs.select(columns).equals(from_file.select(columns))
    assert logs["service_name"].to_list() == ["gw", "gw"]
    assert logs["attributes.route"].to_list() == [None, "chat"]


def test_loki_errors_keep_its_message(stand_in: tuple[StandInLoki, str]) -> None:
    _, url = stand_in
    with pytest.raises(RemoteError, match="HTTP 400: 'parse error at line 1") as info:
        read_loki(url, query="service_name=gw", **WEEK)
    assert info.value.status == 400
    assert f"{url}/loki/api/v1/query_range" in str(info.value)
    with pytest.raises(RemoteError, match=r"max entries limit per query exceeded"):
        read_loki(url, query=EVERY_SERVICE, limit=6000, **WEEK)


def test_parameters_are_checked() -> None:
    with pytest.raises(ParameterError, match="'limit' parameter of read_loki"):
        read_loki("http://127.0.0.1:9", query='{a="b"}', limit=0, **WEEK)
    with pytest.raises(ParameterError, match="'query' parameter of load_logs must be given"):
        toolkit.load_logs("http://127.0.0.1:9", **WEEK)


def test_discover_adds_the_live_logs_to_the_catalog(
    stand_in: tuple[StandInLoki, str], sample_logs: pl.DataFrame
) -> None:
    _, url = stand_in
    catalog = toolkit.discover(None, loki=url, cache=False, **WEEK)
    logs = catalog.table("logs")
    assert logs.height == sample_logs.height
    row = catalog.files.row(0, named=True)
    assert (row["path"], row["table"], row["format"], row["status"]) == (
        url,
        "logs",
        "loki-api",
        "loaded",
    )


def test_live_parameters_of_discover_and_load_logs_are_checked() -> None:
    with pytest.raises(ParameterError, match="'path' parameter of discover"):
        toolkit.discover(None)
    with pytest.raises(ParameterError, match="'tz' parameter of load_logs must go with files"):
        toolkit.load_logs("http://127.0.0.1:9", query='{a="b"}', tz="UTC", **WEEK)
    with pytest.raises(ParameterError, match="'loki_options' parameter of discover"):
        toolkit.discover(None, loki="http://127.0.0.1:9", loki_options={"token": "x"}, **WEEK)
    with pytest.raises(ParameterError, match="'prometheus' parameter of discover"):
        toolkit.discover(None, prometheus="prometheus:9090", **WEEK)
