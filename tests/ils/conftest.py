"""ILS connector fixtures: a fresh MariaDB database per test.

MariaDB comes from ``KIOSK_TEST_MARIADB_URL`` (``tools/mariadb.sh`` prints one);
its user may create databases whose names start with the URL's database name.
Each test gets ``<that name>_<random>``, dropped afterwards. Without the variable
the tests skip, or fail when ``KIOSK_REQUIRE_ALL=1`` (see ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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
