"""Shared fixtures: real PostgreSQL servers and a fresh, migrated database per test.

Every data-path test runs against the embedded server (the product's default) and, when
``RETAIL_TEST_DATABASE_URL`` names a server, against that one too (CI sets it to the server on
127.0.0.1:5432). Each test gets its own database, created and dropped around it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from retail_platform.settings import RetailPaths, retail_paths
from retail_platform.warehouse.connection import engine_for, libpq_url, scratch_database
from retail_platform.warehouse.embedded import start_embedded, stop_embedded
from retail_platform.warehouse.migrations import migrate

REAL_DATA = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online_retail_II_2009-2010.csv.gz"
)


def pytest_configure(config: pytest.Config) -> None:
    """A temporary root of this session's own, unless one is given: pytest's default root is shared by every
    session of the user, and a session deletes all but the newest three of its folders, so a second suite
    running on the same machine (a developer's beside CI's) would delete the data folders of this one's
    embedded servers under it."""
    if not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix="retail-platform-pytest-")
        config.stash[_OWN_BASETEMP] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_BASETEMP, None)
    if own:
        shutil.rmtree(own, ignore_errors=True)


_OWN_BASETEMP = pytest.StashKey[str]()


def _server_params() -> list:
    params = [pytest.param("embedded", id="embedded")]
    params.append(
        pytest.param(
            "external",
            id="external",
            marks=pytest.mark.skipif(
                not os.environ.get("RETAIL_TEST_DATABASE_URL"), reason="RETAIL_TEST_DATABASE_URL is not set"
            ),
        )
    )
    return params


@pytest.fixture(scope="session")
def embedded_admin_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One embedded server for the whole session, stopped when the session ends."""
    pgdata = tmp_path_factory.mktemp("embedded") / "pgdata"
    return start_embedded(pgdata, database="postgres", keep_running=False)


@pytest.fixture(scope="session", params=_server_params())
def server_url(request: pytest.FixtureRequest) -> str:
    """Admin URL of a PostgreSQL server: embedded, or the one named by RETAIL_TEST_DATABASE_URL."""
    if request.param == "embedded":
        return request.getfixturevalue("embedded_admin_url")
    return libpq_url(os.environ["RETAIL_TEST_DATABASE_URL"])


@pytest.fixture
def database_url(server_url: str) -> Iterator[str]:
    """A brand-new empty database on the server, dropped after the test."""
    with scratch_database(server_url, "rp_test") as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Engine:
    """A SQLAlchemy engine on a fresh database with every migration applied."""
    engine = engine_for(database_url)
    migrate(engine)
    return engine


@pytest.fixture
def paths(tmp_path: Path) -> RetailPaths:
    """RETAIL_HOME folders in a temporary directory."""
    return retail_paths(tmp_path / "home").ensure()


@pytest.fixture
def real_data() -> Path:
    if not REAL_DATA.exists():
        pytest.skip(f"real data set not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A RETAIL_HOME that does not exist yet, for commands run as a new user would (``processes.run_cli``);
    the embedded server a command started in it is stopped afterwards."""
    home = tmp_path / "retail_home"
    yield home
    stop_embedded(home / "pgdata")
