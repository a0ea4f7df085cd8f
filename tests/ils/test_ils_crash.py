"""Killed between the SLiMS write and the server's own record: no double, no loss.

A real server process (``kiosk-server serve``) takes a kiosk checkout and a return
over HTTP; a second process drains the write-back queue and is SIGKILLed right
after each SLiMS write; ``kiosk-server ils drain`` afterwards finds SLiMS's rows by
their keys and writes nothing twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from server.timeutil import WIB
from tests.ils.slims_seed import seed_slims
from tests.server.helpers import tx
from tests.server_process import ROOT, ServerProcess

pytestmark = pytest.mark.mariadb


@pytest.fixture
def slims(mariadb_url: str) -> Iterator[Engine]:
    engine = create_engine(mariadb_url)
    seed_slims(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def server(tmp_path: Path, mariadb_url: str, slims: Engine) -> Iterator[ServerProcess]:
    config = tmp_path / "server.toml"
    # the running server leaves the queue to the rig and `ils drain`
    config.write_text(
        '[server]\n[server.ils]\nkind = "slims"\nbackground = false\n',
        encoding="utf-8",
    )
    os.environ["KIOSK_SERVER_CONFIG"] = str(config)
    os.environ["KIOSK_ILS_URL"] = mariadb_url
    proc = ServerProcess(tmp_path / "srv")
    try:
        proc.cli("migrate")
        proc.cli("ils", "pull")
        proc.tokens["kiosk-a"] = proc.cli("add-kiosk", "kiosk-a").stdout.strip().splitlines()[-1]
        proc.start()
        yield proc
    finally:
        proc.stop()
        os.environ.pop("KIOSK_SERVER_CONFIG", None)
        os.environ.pop("KIOSK_ILS_URL", None)


def _post(server: ServerProcess, *txns: dict) -> list[dict]:
    r = requests.post(
        f"{server.url}/api/v1/transactions",
        json={"transactions": list(txns)},
        headers={"Authorization": f"Bearer {server.tokens['kiosk-a']}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _crash_drain(server: ServerProcess) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ils.crash_rig", os.environ["KIOSK_SERVER_CONFIG"]],
        env=server.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return proc.stdout


def _count(slims: Engine, sql: str) -> int:
    with slims.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_killed_after_the_slims_write_neither_doubles_nor_loses(
    server: ServerProcess, slims: Engine
) -> None:
    out = tx("checkout", card="M0001", item="B00001", offline=True,
             at=datetime.now(WIB) - timedelta(days=15))  # fmt: skip
    assert _post(server, out)[0]["status"] == "accepted"
    assert "SLiMS took B00001" in _crash_drain(server)
    assert _count(slims, "SELECT COUNT(*) FROM loan") == 1
    assert "write-backs queued: 1" in server.cli("ils", "status").stdout  # not recorded

    assert _post(server, tx("checkin", item="B00001"))[0]["status"] == "accepted"
    _crash_drain(server)  # the repeat of the checkout, then the return and its fine
    assert _count(slims, "SELECT COUNT(*) FROM loan WHERE is_return = 1") == 1
    assert _count(slims, "SELECT COUNT(*) FROM fines") == 1

    drained = server.cli("ils", "drain").stdout
    assert "still queued: 0" in drained
    assert _count(slims, "SELECT COUNT(*) FROM loan") == 1
    assert _count(slims, "SELECT COUNT(*) FROM fines") == 1
    check = server.cli("ils", "check")
    assert check.returncode == 0 and "0 difference(s)" in check.stdout
