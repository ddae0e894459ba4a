"""Shared fixtures: real public data from ../shared/data/real and backend parametrisation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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
