"""The background write-back runs in a process of its own and outlives that process's
death: a killed writer is started again and the queue loses and doubles nothing."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from server.admin import add_kiosk
from server.app import create_app
from server.service import Server
from server.settings import IlsSettings, Settings
from tests.ils.rig import served_ils
from tests.ils.slims_seed import seed_slims
from tests.server.helpers import post, tx

pytestmark = pytest.mark.mariadb


@pytest.fixture
def slims(mariadb_url: str) -> Iterator[Engine]:
    engine = create_engine(mariadb_url)
    seed_slims(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def server(slims: Engine, mariadb_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = Server(
        Settings(
            data_dir=tmp_path / "data",
            db_url=f"sqlite:///{tmp_path / 'server.db'}",
            ils=IlsSettings(kind="slims", url=mariadb_url, writeback_interval_s=0.1),
        )
    )
    srv.db.migrate()
    assert srv.ils is not None
    srv.ils.pull()
    yield srv
    srv.db.dispose()


def _loan_keys(slims: Engine, want: int) -> list[str]:
    """SLiMS's loan rows' keys once there are ``want`` of them (or after 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        with slims.connect() as conn:
            keys = [k for (k,) in conn.execute(text("SELECT pustaka_txn FROM loan"))]
        if len(keys) >= want or time.monotonic() > deadline:
            return sorted(keys)
        time.sleep(0.05)


def test_background_write_back_runs_apart_and_survives_its_process_dying(
    server: Server, slims: Engine
) -> None:
    assert server.ils is not None
    kiosk = {"Authorization": f"Bearer {add_kiosk(server.db, 'kiosk-a')}"}
    with TestClient(create_app(server), raise_server_exceptions=False) as client:
        writer = server.ils.writer
        assert writer is not None
        first = tx("checkout", card="M0001", item="B00001")
        assert post(client, kiosk, first)[0]["status"] == "accepted"
        assert _loan_keys(slims, 1) == [first["id"]]
        pid = writer.pid
        assert pid is not None and pid != os.getpid()

        os.kill(pid, signal.SIGKILL)
        second = tx("checkout", card="M0002", item="B00002")
        assert post(client, kiosk, second)[0]["status"] == "accepted"
        assert _loan_keys(slims, 2) == sorted([first["id"], second["id"]])
        assert writer.pid not in (None, pid)  # a new writer took over
        deadline = time.monotonic() + 30
        while server.ils.status().queued and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.ils.status().queued == 0
    assert writer.pid is None  # stopped with the app
    assert _loan_keys(slims, 2) == sorted([first["id"], second["id"]])


def test_background_loop_writes_the_guest_book_while_checkouts_keep_it_busy(
    server: Server, slims: Engine
) -> None:
    assert server.ils is not None
    kiosk = {"Authorization": f"Bearer {add_kiosk(server.db, 'kiosk-a')}"}
    with TestClient(create_app(server), raise_server_exceptions=False) as client:
        visit = tx("visit", card="M0003", visit={})
        assert post(client, kiosk, visit)[0]["status"] == "accepted"
        # a checkout and its return, again and again: each wakes the worker, which
        # drains the guest book at most once a writeback_interval_s meanwhile
        deadline = time.monotonic() + 60
        rows = 0
        while rows == 0 and time.monotonic() < deadline:
            for kind in ("checkout", "checkin"):
                card = "M0001" if kind == "checkout" else None
                assert post(client, kiosk, tx(kind, card=card, item="B00001"))[0]["status"] == (
                    "accepted"
                )
            with slims.connect() as conn:
                rows = conn.execute(
                    text("SELECT COUNT(*) FROM visitor_count WHERE pustaka_txn = :k"),
                    {"k": visit["id"]},
                ).scalar_one()
        assert rows == 1


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_served_server_writes_back_from_a_child_it_ends_on_shutdown(
    slims: Engine, mariadb_url: str, tmp_path: Path
) -> None:
    with served_ils(tmp_path, "slims", mariadb_url) as proc:
        token = proc.tokens["kiosk-a"]
        assert proc.proc is not None
        out = tx("checkout", card="M0001", item="B00001")
        r = requests.post(
            f"{proc.url}/api/v1/transactions", json={"transactions": [out]},
            headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )  # fmt: skip
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted"
        assert _loan_keys(slims, 1) == [out["id"]]
        writers = [
            c for c in _children(proc.proc.pid)
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()
        ]  # fmt: skip
        assert len(writers) == 1
        proc.stop()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{writers[0]}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{writers[0]}").exists(), "the writer outlived the server"
