"""Shared fixtures: real public data from ../shared/data/real and backend parametrisation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

# One discovery cache per test session (kernels of the notebook tests inherit it): tests never
# read a user's ~/.cache, and every session starts cold, as on a fresh machine.
if "TOOLKIT_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["TOOLKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="toolkit-test-cache-")


def _real_data_root() -> Path:
    override = os.environ.get("TOOLKIT_REAL_DATA")
    if override:
        return Path(override)
    return (REPO / ".." / "shared" / "data" / "real").resolve()


REAL_DATA = _real_data_root()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Root of the real public datasets (see SOURCES.md there).

    Skips the test when the folder is absent (a user's clone), unless
    TOOLKIT_REQUIRE_REAL_DATA=1 (CI), where its absence is a failure.
    """
    if not REAL_DATA.is_dir():
        reason = (
            f"real data folder {REAL_DATA} is absent; set TOOLKIT_REAL_DATA to its path "
            "or clone the project next to shared/"
        )
        if os.environ.get("TOOLKIT_REQUIRE_REAL_DATA") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return REAL_DATA


@pytest.fixture(params=["polars", "pandas"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run a public-API test once per frame backend."""
    return str(request.param)


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """A two-worker Dask LocalCluster shared by the toolkit.scale tests.

    Thread workers in this process (processes=False): process workers take seconds each
    to spawn here, and the code path (client.map, pickled arguments, as_completed) is the
    same; the tests that need process workers (a worker killed, the CLI) start their own.
    """
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


# --- a live Prometheus backfilled from the sample's scrapes ------------------------------

#: The stretch of the sample week the live-Prometheus tests backfill: the h100 release
#: (TTFT pages) starts inside it.
LIVE_START = "2026-11-04T06:00:00Z"
LIVE_END = "2026-11-04T14:00:00Z"


@dataclass(frozen=True)
class LivePrometheus:
    """A real Prometheus on 127.0.0.1 holding a stretch of the sample's vLLM scrapes."""

    url: str
    start: str
    end: str
    scrape: Path  # the stretch as a scrape file (what the file reader reads)
    frame: Any  # the file reader's metrics table of that file


def _require_tool(name: str) -> str:
    import shutil

    found = shutil.which(name)
    if found is None:
        reason = f"{name} is not installed (Debian: apt-get install prometheus)"
        if os.environ.get("TOOLKIT_REQUIRE_REAL_DATA") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePrometheus]:
    """Prometheus 2 (Debian's) with blocks made by ``promtool tsdb create-blocks-from
    openmetrics`` from the sample's vLLM scrapes between LIVE_START and LIVE_END, and
    scraping a page of the same families (their # TYPE lines, samples without timestamps)
    so that ``/api/v1/metadata`` knows their types, as a server scraping vLLM does."""
    import datetime as dt
    import gzip
    import re
    import subprocess
    import threading
    import time
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import toolkit
    from toolkit.ingest.backfill import write_openmetrics

    prometheus, promtool = _require_tool("prometheus"), _require_tool("promtool")
    work = tmp_path_factory.mktemp("live-prometheus")
    lo = int(dt.datetime.fromisoformat(LIVE_START).timestamp() * 1000)
    hi = int(dt.datetime.fromisoformat(LIVE_END).timestamp() * 1000)
    source = REPO / "data" / "sample" / "vllm_metrics.prom.gz"
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    kept, page, typed = [], [], set()
    for line in lines:
        if line.startswith("#"):
            kept.append(line)
            page.append(line)
            continue
        ts = int(line.rsplit(" ", 1)[1])
        if lo <= ts < hi:
            kept.append(line)
        family = re.split(r"[{ ]", line, maxsplit=1)[0]
        if family not in typed:  # one sample per series name, scraped at "now"
            typed.add(family)
            page.append(line.rsplit(" ", 1)[0])
    scrape = work / "stretch.prom"
    scrape.write_text("\n".join(kept) + "\n", encoding="utf-8")
    frame = toolkit.load_metrics(scrape)
    backfill = work / "backfill.om"
    write_openmetrics(frame, backfill)
    data = work / "tsdb"
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(backfill), str(data)],
        check=True,
        capture_output=True,
    )
    body = ("\n".join(page) + "\n").encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # a scrape that timed out on a busy machine: the next one comes
                pass

        def log_message(self, *args: Any) -> None:
            pass

    target = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    config = work / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n"
        "scrape_configs:\n  - job_name: vllm\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{target.server_port}']\n",
        encoding="utf-8",
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (work / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/metadata", timeout=2) as r:
                    ready = b'"vllm:' in r.read()
            except OSError:
                ready = False
            if ready:
                break
            time.sleep(0.5)
        if not ready:
            raise RuntimeError(
                "Prometheus did not become ready with metadata: "
                + (work / "prometheus.log").read_text(errors="replace")[-2000:]
            )
        yield LivePrometheus(url, LIVE_START, LIVE_END, scrape, frame)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        target.shutdown()
        target.server_close()
