"""ILS connector fixtures: a fresh MariaDB database per test, and a server on it.

MariaDB comes from ``KIOSK_TEST_MARIADB_URL`` (``tools/mariadb.sh`` prints one);
its user may create databases whose names start with the URL's database name.
Each test gets ``<that name>_<random>``, dropped afterwards. Without the variable
the tests skip, or fail when ``KIOSK_REQUIRE_ALL=1`` (see ``tests/conftest.py``).

A test module picks its system by overriding ``ils_kind``; ``ils_db``, ``server``,
``ils``, ``client`` and ``kiosk`` then serve it the same for SLiMS and INLISLite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from server.admin import add_kiosk
from server.app import create_app
from server.ils.service import IlsService
from server.service import Server
from tests.ils.rig import KINDS, ils_server

MARIADB_ENV = "KIOSK_TEST_MARIADB_URL"


def fresh_mariadb_database() -> str:
    """Create an empty database next to the test URL's and return its URL."""
    base = make_url(os.environ[MARIADB_ENV])
    name = f"{base.database}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_mariadb_database(url: str) -> None:
    target = make_url(url)
    engine = create_engine(target.set(database=make_url(os.environ[MARIADB_ENV]).database))
    with engine.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{target.database}`"))
    engine.dispose()


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A URL to an empty MariaDB database of this test's own."""
    url = fresh_mariadb_database()
    try:
        yield url
    finally:
        drop_mariadb_database(url)


@pytest.fixture
def ils_kind() -> str:
    """Which ILS a test module's fixtures set up; each module overrides this."""
    raise pytest.UsageError("override the ils_kind fixture in the test module")


@pytest.fixture
def ils_db(mariadb_url: str, ils_kind: str) -> Iterator[Engine]:
    """The seeded ILS database (see ``tests.ils.rig.KINDS``)."""
    engine = create_engine(mariadb_url)
    KINDS[ils_kind].seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def server(ils_db: Engine, ils_kind: str, mariadb_url: str, tmp_path: Path) -> Iterator[Server]:
    """A server on SQLite with that ILS, pulled once."""
    srv = ils_server(ils_kind, mariadb_url, tmp_path)
    yield srv
    srv.db.dispose()


@pytest.fixture
def ils(server: Server) -> IlsService:
    assert server.ils is not None
    return server.ils


@pytest.fixture
def client(server: Server) -> Iterator[TestClient]:
    # the app's own worker would drain concurrently; these tests drain by hand
    with TestClient(create_app(server), raise_server_exceptions=False) as c:
        assert server.ils is not None
        server.ils.stop()
        yield c


@pytest.fixture
def kiosk(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {add_kiosk(server.db, 'kiosk-a')}"}
