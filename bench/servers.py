"""What the server benchmarks share: a throwaway database and a server process on it.

The database is PostgreSQL when ``KIOSK_BENCH_PG_URL`` (or the tests'
``KIOSK_TEST_PG_URL``) names a server, else a SQLite file in a temporary folder;
either is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy.engine import make_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_url() -> str | None:
    """The PostgreSQL server benchmarks use, if there is one."""
    return os.environ.get("KIOSK_BENCH_PG_URL") or os.environ.get("KIOSK_TEST_PG_URL")


def pg_admin(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE, ANALYZE)."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scratch:
    """A throwaway server database and the folder beside it."""

    url: str
    folder: Path
    postgres: bool

    def analyze(self) -> None:
        """Give PostgreSQL's planner statistics for freshly loaded tables, as a
        library's database has them (autovacuum would otherwise analyze them in the
        middle of a measurement). Nothing on SQLite."""
        if self.postgres:
            pg_admin(self.url, "ANALYZE")


@contextmanager
def scratch_database(prefix: str) -> Iterator[Scratch]:
    """A fresh, empty database named after ``prefix``, dropped on the way out."""
    pg = pg_url()
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    name = f"{prefix.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    try:
        if pg:
            pg_admin(pg, f'CREATE DATABASE "{name}"')
            url = make_url(pg).set(database=name)
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            print(f"backend: PostgreSQL ({url.render_as_string(hide_password=True)})")
            yield Scratch(url.render_as_string(hide_password=False), folder, True)
        else:
            print(f"backend: SQLite ({folder / 'server.db'})")
            yield Scratch(f"sqlite:///{folder / 'server.db'}", folder, False)
    finally:
        if pg:
            pg_admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def server_process(scratch: Scratch) -> Iterator[str]:
    """``kiosk-server serve`` on ``scratch`` in a process of its own; yields its base
    URL once it answers, and stops it on the way out."""
    port = free_port()
    data = str(scratch.folder / "data")
    env = dict(os.environ, KIOSK_SERVER_DB=scratch.url, KIOSK_SERVER_DATA=data)
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port),
         "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/api/v1/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
