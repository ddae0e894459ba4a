"""Shared fixtures: real public data from ../shared/data/real and backend parametrisation."""

from __future__ import annotations

import os
from collections.abc import Iterator
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
