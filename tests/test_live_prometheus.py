"""Reading a live Prometheus: the real server (Debian's prometheus 2) backfilled from the
sample's vLLM scrapes gives the same metrics table, and the same SLO alerts, as the file."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import polars as pl
import pytest

import toolkit
from toolkit import slo
from toolkit.errors import ParameterError, RemoteError
from toolkit.ingest.prometheus_api import MAX_POINTS, read_prometheus_api

SELECTOR = '{__name__=~"vllm:.*"}'


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    labels = sorted(c for c in frame.columns if c.startswith("label."))
    return frame.select(sorted(frame.columns)).sort("name", *labels, "le", "time", nulls_last=True)


def test_raw_samples_equal_the_file(live_prometheus: Any) -> None:
    live = toolkit.load_metrics(
        live_prometheus.url, query=SELECTOR, start=live_prometheus.start, end=live_prometheus.end
    )
    expected = live_prometheus.frame
    assert live.height == expected.height == 36_480
    assert live.schema == expected.schema
    assert _sorted(live).equals(_sorted(expected))
    types = dict(live.select("name", "type").unique().iter_rows())
    assert types["vllm:time_to_first_token_seconds_bucket"] == "histogram"
    assert types["vllm:request_success_total"] == "counter"
    assert types["vllm:num_requests_running"] == "gauge"
    assert live.filter(pl.col("le") == float("inf")).height > 0


def test_raw_chunks_neither_drop_nor_repeat(live_prometheus: Any) -> None:
    # 17-minute chunks do not divide the 8 hours: 29 requests, samples on chunk edges
    # (whole minutes) read once each.
    chunked = read_prometheus_api(
        live_prometheus.url,
        query="vllm:num_requests_running",
        start=live_prometheus.start,
        end=live_prometheus.end,
        chunk="17m",
    )
    expected = live_prometheus.frame.filter(pl.col("name") == "vllm:num_requests_running")
    assert chunked.height == expected.height == 2 * 8 * 60
    assert _sorted(chunked).equals(_sorted(expected.select(chunked.columns)))


def test_a_week_at_15s_is_split_into_ranges_prometheus_accepts(live_prometheus: Any) -> None:
    start, end = "2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z"
    assert MAX_POINTS < 7 * 86_400 // 15  # one request would be refused
    week = read_prometheus_api(
        live_prometheus.url, query="vllm:num_requests_running", start=start, end=end, step="15s"
    )
    again = read_prometheus_api(
        live_prometheus.url,
        query="vllm:num_requests_running",
        start=start,
        end=end,
        step="15s",
        chunk="1h",
    )
    assert _sorted(week).equals(_sorted(again))
    # The known answer: each evaluation takes the latest sample at or before it (scrapes
    # are a minute apart, well inside the 5-minute lookback).
    samples = (
        live_prometheus.frame.filter(pl.col("name") == "vllm:num_requests_running")
        .select("label.pool", pl.col("time").alias("sample_time"), "value")
        .sort("sample_time")
    )
    last = samples["sample_time"].max()
    inside = week.filter(pl.col("time") <= last).sort("time")
    expected = inside.select("label.pool", "time").join_asof(
        samples, left_on="time", right_on="sample_time", by="label.pool", strategy="backward"
    )
    assert inside.height == 2 * (8 * 3600 - 60) // 15 + 2
    assert inside["time"].min() == dt.datetime(2026, 11, 4, 6, tzinfo=dt.UTC)
    assert inside["value"].to_list() == expected["value"].to_list()
    after = week.filter(pl.col("time") > last)
    assert after["time"].max() <= last + dt.timedelta(minutes=5)
    assert set(week["type"]) == {"gauge"}


def test_a_bad_query_gives_the_servers_message(live_prometheus: Any) -> None:
    with pytest.raises(RemoteError, match=r"bad_data.*parse error") as info:
        read_prometheus_api(
            live_prometheus.url,
            query="rate(vllm:num_requests_running[5",
            start=live_prometheus.start,
            end=live_prometheus.end,
            step="1m",
        )
    assert info.value.status == 400
    assert info.value.error_type == "bad_data"
    assert f"{live_prometheus.url}/api/v1/query_range" in str(info.value)
    with pytest.raises(RemoteError, match=r"ranges only allowed for vector selectors|expected"):
        read_prometheus_api(
            live_prometheus.url,
            query="sum(vllm:num_requests_running)",
            start=live_prometheus.start,
            end=live_prometheus.end,
        )


def test_an_expression_at_a_step_is_named_by_the_query(live_prometheus: Any) -> None:
    query = "sum by (pool) (vllm:num_requests_running)"
    frame = read_prometheus_api(
        live_prometheus.url,
        query=query,
        start="2026-11-04T08:00:00Z",
        end="2026-11-04T08:10:00Z",
        step="1m",
    )
    assert set(frame["name"]) == {query}
    assert set(frame["type"]) == {"unknown"}
    file = live_prometheus.frame.filter(
        (pl.col("name") == "vllm:num_requests_running")
        & pl.col("time").is_between(
            dt.datetime(2026, 11, 4, 8, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 4, 8, 10, tzinfo=dt.UTC),
            closed="left",
        )
    )
    expected = file.group_by("label.pool", "time").agg(pl.col("value").sum())
    columns = ["label.pool", "time", "value"]
    assert frame.height == expected.height == 2 * 10
    assert frame.select(columns).sort(columns).equals(expected.select(columns).sort(columns))


def test_slo_alerts_are_the_same_from_the_server_and_the_file(live_prometheus: Any) -> None:
    live = toolkit.load_metrics(
        live_prometheus.url, query=SELECTOR, start=live_prometheus.start, end=live_prometheus.end
    )
    fired = []
    for frame in (live_prometheus.frame, live):
        objectives = slo.service_objectives(metrics=frame, ttft_threshold_s=1.0)
        events = slo.metric_events(frame, objectives, by="label.pool")
        fired.append(slo.alert_table(objectives, events, pool="label.pool"))
    from_file, from_server = fired
    assert from_file.filter(pl.col("severity") == "page").height > 0
    assert from_server.equals(from_file)


def test_without_metadata_types_are_inferred_from_the_series(live_prometheus: Any) -> None:
    frame = read_prometheus_api(
        live_prometheus.url,
        query=SELECTOR,
        start="2026-11-04T08:00:00Z",
        end="2026-11-04T08:05:00Z",
        metadata=False,
    )
    types = dict(frame.select("name", "type").unique().iter_rows())
    assert types["vllm:e2e_request_latency_seconds_bucket"] == "histogram"
    assert types["vllm:e2e_request_latency_seconds_count"] == "histogram"
    assert types["vllm:prompt_tokens_total"] == "counter"
    assert types["vllm:kv_cache_usage_perc"] == "unknown"  # never silently a gauge


# --- without a server: authentication, errors, parameters --------------------------------


@pytest.fixture
def stand_in() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A stand-in of the API that records each request's headers and answers one sample."""
    seen: list[dict[str, str]] = []

    class Api(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
            if self.path.startswith("/api/v1/metadata"):
                doc: dict[str, Any] = {"status": "success", "data": {}}
            elif "boom" in self.path:
                doc = {"status": "error", "errorType": "timeout", "error": "query timed out"}
                self.send_response(503)
                self.end_headers()
                self.wfile.write(json.dumps(doc).encode())
                return
            else:
                doc = {
                    "status": "success",
                    "data": {
                        "resultType": "matrix",
                        "result": [{"metric": {"__name__": "up"}, "values": [[1.5, "1"]]}],
                    },
                }
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps(doc).encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def test_authentication_headers_are_sent(stand_in: tuple[str, list[dict[str, str]]]) -> None:
    url, seen = stand_in
    window = {"start": "1970-01-01T00:00:00Z", "end": "1970-01-01T00:00:02Z"}
    frame = read_prometheus_api(
        url,
        query="up",
        bearer_token="s3cret",
        headers={"X-Scope-OrgID": "team-a"},
        metadata=False,
        **window,
    )
    assert frame.select("time", "value").rows() == [
        (dt.datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=dt.UTC), 1.0)
    ]
    assert seen[0]["authorization"] == "Bearer s3cret"
    assert seen[0]["x-scope-orgid"] == "team-a"
    assert seen[0]["path"].startswith("/api/v1/query?query=up%5B2000ms%5D&time=1.999")
    seen.clear()
    host = url.removeprefix("http://")
    with pytest.warns(toolkit.errors.ToolkitWarning, match="no metadata for 'up'"):
        read_prometheus_api(f"http://ana:p%40ss@{host}", query="up", **window)
    assert seen[0]["authorization"] == "Basic YW5hOnBAc3M="  # ana:p@ss


def test_server_errors_name_the_url_without_credentials(
    stand_in: tuple[str, list[dict[str, str]]],
) -> None:
    url, _ = stand_in
    host = url.removeprefix("http://")
    with pytest.raises(RemoteError, match="HTTP 503 \\(timeout\\): query timed out") as info:
        read_prometheus_api(
            f"http://ana:hunter2@{host}",
            query="boom",
            start="2026-11-04T00:00:00Z",
            end="2026-11-04T00:01:00Z",
        )
    assert "hunter2" not in str(info.value)
    assert info.value.url == f"{url}/api/v1/query"


def test_an_unreachable_server_is_a_toolkit_error() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RemoteError, match="could not reach the server") as info:
        read_prometheus_api(
            f"http://127.0.0.1:{port}",
            query="up",
            start="2026-11-04T00:00:00Z",
            end="2026-11-04T00:01:00Z",
        )
    assert info.value.status is None


def test_parameters_are_checked() -> None:
    base = {"query": "up", "start": "2026-11-04T00:00:00Z", "end": "2026-11-04T01:00:00Z"}
    with pytest.raises(ParameterError, match="'url' parameter of read_prometheus_api"):
        read_prometheus_api("prometheus:9090", **base)
    with pytest.raises(ParameterError, match=r"'end' parameter .* must be after 'start'"):
        read_prometheus_api("http://127.0.0.1:9", **{**base, "end": "2026-11-03T00:00:00Z"})
    with pytest.raises(ParameterError, match=r"'step' parameter .* positive duration"):
        read_prometheus_api("http://127.0.0.1:9", step="15", **base)
    with pytest.raises(ParameterError, match=r"'start' parameter .* timezone-aware"):
        read_prometheus_api("http://127.0.0.1:9", **{**base, "start": "2026-11-04T00:00:00"})
    with pytest.raises(ParameterError, match="'query' parameter of load_metrics"):
        toolkit.load_metrics("http://127.0.0.1:9", start=base["start"], end=base["end"])
    with pytest.raises(ParameterError, match="'query' parameter of load_metrics must go with"):
        toolkit.load_metrics("data/sample/vllm_metrics.prom.gz", query="up")


def test_discover_adds_the_live_metrics_to_the_catalog(live_prometheus: Any) -> None:
    catalog = toolkit.discover(
        None,
        prometheus=live_prometheus.url,
        start=live_prometheus.start,
        end=live_prometheus.end,
        cache=False,
    )
    assert catalog.has("metrics")
    metrics = catalog.table("metrics")
    assert _sorted(metrics).equals(_sorted(live_prometheus.frame))
    row = catalog.files.row(0, named=True)
    assert (row["path"], row["table"], row["format"], row["rows"], row["status"]) == (
        live_prometheus.url,
        "metrics",
        "prometheus-api",
        36_480,
        "loaded",
    )
    # With the same scrape as a file too, each sample is counted once.
    both = toolkit.discover(
        live_prometheus.scrape,
        prometheus=live_prometheus.url,
        start=live_prometheus.start,
        end=live_prometheus.end,
        cache=False,
    )
    assert both.table("metrics").height == 36_480
    assert any("counted once" in n for n in both.notes)


def test_victoriametrics_export_is_read_in_chunks() -> None:
    """raw="export" against a stand-in of VictoriaMetrics' /api/v1/export (JSON lines, one
    series per line, millisecond timestamps), as its documentation describes it."""
    series = [
        {"metric": {"__name__": "vllm:num_requests_running", "pool": "a"}, "ms": 60_000},
        {"metric": {"__name__": "vllm:prompt_tokens_total", "pool": "a"}, "ms": 30_000},
    ]
    asked: list[dict[str, str]] = []

    class Vm(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            import urllib.parse

            url = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/api/v1/metadata":
                body = json.dumps({"status": "success", "data": {}}).encode()
            else:
                asked.append(params)
                lo, hi = round(float(params["start"]) * 1000), round(float(params["end"]) * 1000)
                lines = []
                for s in series:
                    stamps = [t for t in range(0, 3_600_000, s["ms"]) if lo <= t <= hi]
                    lines.append(
                        json.dumps(
                            {
                                "metric": s["metric"],
                                "values": [t / 1000 for t in stamps],
                                "timestamps": stamps,
                            }
                        )
                    )
                body = "\n".join(lines).encode()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Vm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.warns(toolkit.errors.ToolkitWarning, match="no metadata"):
            frame = read_prometheus_api(
                f"http://127.0.0.1:{server.server_port}",
                query='{__name__=~"vllm:.*"}',
                start="1970-01-01T00:00:00Z",
                end="1970-01-01T01:00:00Z",
                raw="export",
                chunk="25m",
            )
    finally:
        server.shutdown()
        server.server_close()
    assert [a["match[]"] for a in asked] == ['{__name__=~"vllm:.*"}'] * 3
    assert [(a["start"], a["end"]) for a in asked] == [
        ("0.000", "1499.999"),
        ("1500.000", "2999.999"),
        ("3000.000", "3599.999"),
    ]
    counts = dict(frame.group_by("name").len().iter_rows())
    assert counts == {"vllm:num_requests_running": 60, "vllm:prompt_tokens_total": 120}
    types = dict(frame.select("name", "type").unique().iter_rows())
    assert types == {"vllm:num_requests_running": "unknown", "vllm:prompt_tokens_total": "counter"}
    assert frame.filter(pl.col("name") == "vllm:prompt_tokens_total")["value"].to_list() == [
        t * 30.0 for t in range(120)
    ]


def test_tls_with_a_ca_file_and_a_client_certificate(tmp_path: Any) -> None:
    """https with the server's certificate checked against ca_file and a client certificate
    that the server requires (mutual TLS)."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (needed to make test certificates)")

    def make(name: str, *extra: str) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-keyout", str(tmp_path / f"{name}.key"), "-out", str(tmp_path / f"{name}.pem"),
             *extra],
            check=True,
            capture_output=True,
        )  # fmt: skip

    make("server", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    make("client", "-subj", "/CN=toolkit-client")

    class Api(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = {"resultType": "matrix", "result": []}
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps({"status": "success", "data": data}).encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(tmp_path / "client.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_port}"
    window = {"query": "up", "start": "2026-11-04T00:00:00Z", "end": "2026-11-04T00:01:00Z"}
    try:
        ok = read_prometheus_api(
            url,
            ca_file=str(tmp_path / "server.pem"),
            client_cert=(str(tmp_path / "client.pem"), str(tmp_path / "client.key")),
            **window,
        )
        assert ok.height == 0
        with pytest.raises(RemoteError, match=r"could not reach the server.*CERTIFICATE_VERIFY"):
            read_prometheus_api(url, **window)  # the system CAs do not know this server
        with pytest.raises(ParameterError, match="'ca_file' parameter"):
            read_prometheus_api(url, ca_file=str(tmp_path / "missing.pem"), **window)
    finally:
        server.shutdown()
        server.server_close()
