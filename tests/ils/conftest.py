"""ILS connector fixtures: a fresh MariaDB database per test, and a server on it.

MariaDB comes from ``KIOSK_TEST_MARIADB_URL`` (``tools/mariadb.sh`` prints one);
its user may create databases whose names start with the URL's database name.
Each test gets ``<that name>_<random>``, dropped afterwards. Without the variable
the tests skip, or fail when ``KIOSK_REQUIRE_ALL=1`` (see ``tests/conftest.py``).

A test module picks its system by overriding ``ils_kind``; ``ils_db``, ``server``,
``ils``, ``client`` and ``kiosk`` then serve it the same for SLiMS and INLISLite.
Modules outside this folder import the fixtures they need from here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from server.admin import add_kiosk
from server.app import create_app
from server.ils import PullReport
from server.ils.service import IlsService
from server.service import Server
from tests.ils.rig import KINDS, unpulled_ils_server

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
def ils_seed(ils_kind: str) -> Callable[[Engine], None]:
    """How ``ils_db`` fills the ILS (``tests.ils.rig.KINDS``); a module may override it."""
    return KINDS[ils_kind].seed


@pytest.fixture
def ils_db(mariadb_url: str, ils_seed: Callable[[Engine], None]) -> Iterator[Engine]:
    """The seeded ILS database."""
    engine = create_engine(mariadb_url)
    ils_seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def server_db_url(tmp_path: Path) -> str:
    """The server's own database: SQLite in the test's folder; a module may override it
    (with ``tests.server.conftest.db_url`` to run on PostgreSQL too)."""
    return f"sqlite:///{tmp_path / 'server.db'}"


@pytest.fixture
def first_pull(
    ils_db: Engine, ils_kind: str, mariadb_url: str, server_db_url: str, tmp_path: Path
) -> Iterator[tuple[Server, PullReport]]:
    """A server with that ILS and the report of its first pull (a full one)."""
    srv = unpulled_ils_server(ils_kind, mariadb_url, tmp_path, db_url=server_db_url)
    assert srv.ils is not None
    report = srv.ils.pull()
    yield srv, report
    srv.db.dispose()


@pytest.fixture
def server(first_pull: tuple[Server, PullReport]) -> Server:
    """A server with that ILS, pulled once."""
    return first_pull[0]


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
