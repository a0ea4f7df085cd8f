"""Server test fixtures: every test runs against SQLite and against PostgreSQL.

PostgreSQL comes from ``KIOSK_TEST_PG_URL`` (a URL to an existing database the
user may create databases from). A template database is migrated once per
session; each test gets a fresh copy (``CREATE DATABASE ... TEMPLATE``) that is
dropped afterwards. Without the variable the postgres variant is skipped, or
fails when ``KIOSK_REQUIRE_ALL=1``: CI must not pass by skipping it.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from server.admin import add_kiosk
from server.app import create_app
from server.db import Database
from server.demo import seed_demo
from server.service import Server
from server.settings import Settings

PG_ENV = "KIOSK_TEST_PG_URL"
DEMO_STAFF_PASSWORD = "petugas123"  # seed-demo makes a random one unless given
REQUIRE_ALL = os.environ.get("KIOSK_REQUIRE_ALL") == "1"


def _pg_admin_dsn() -> str:
    url = make_url(os.environ[PG_ENV]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_url_for(name: str) -> str:
    url = make_url(os.environ[PG_ENV]).set(database=name)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    with psycopg.connect(_pg_admin_dsn(), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database for this session (dropped at the end)."""
    if not os.environ.get(PG_ENV):
        why = f"needs PostgreSQL: set {PG_ENV}"
        if REQUIRE_ALL:
            pytest.fail(f"KIOSK_REQUIRE_ALL=1 but this test {why}", pytrace=False)
        pytest.skip(why)
    name = f"kiosk_tmpl_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    db = Database(_pg_url_for(name))
    db.migrate()
    db.dispose()
    # CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template;
    # autovacuum sometimes was (about one test in a few hundred). It does not visit a
    # database that allows no connections.
    _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy_template(name: str, template_name: str) -> None:
    for attempt in range(20):
        try:
            _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
            return
        except psycopg.errors.ObjectInUse:
            # a session still leaving the template (it is a race, not a fault): try again
            if attempt == 19:
                raise
            time.sleep(0.1 * (attempt + 1))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "server.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "server.db"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    name = f"kiosk_t_{uuid.uuid4().hex[:12]}"
    _copy_template(name, template_name)
    try:
        yield _pg_url_for(name)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    settings = Settings(data_dir=tmp_path / "data", db_url=db_url)
    srv = Server(settings)
    srv.db.migrate()  # already at head: proves migrate is idempotent on a live schema
    yield srv
    srv.db.dispose()


@pytest.fixture
def demo(server: Server) -> Server:
    seed_demo(server.db, staff_password=DEMO_STAFF_PASSWORD)
    return server


@pytest.fixture
def client(demo: Server) -> Iterator[TestClient]:
    with TestClient(create_app(demo), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def kiosk_a(demo: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {add_kiosk(demo.db, 'kiosk-a')}"}


@pytest.fixture
def kiosk_b(demo: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {add_kiosk(demo.db, 'kiosk-b')}"}


@pytest.fixture
def staff(client: TestClient) -> dict[str, str]:
    r = client.post("/api/v1/staff/login", json={"name": "petugas", "password": "petugas123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
