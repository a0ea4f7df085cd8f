"""Killed between the ILS write and the server's own record: no double, no loss.

For SLiMS (MyISAM, no transactions) and INLISLite (InnoDB) alike: a real server
process (``kiosk-server serve``) takes a kiosk checkout and a late return over HTTP;
a second process drains the write-back queue and is SIGKILLed right after each
write into the ILS; ``kiosk-server ils drain`` afterwards finds the ILS's rows by
their keys and writes nothing twice: one loan row, returned, one fine row.
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
from sqlalchemy.engine import Engine

from server.timeutil import WIB
from tests.ils.rig import KINDS, SeededIls, count, served_ils
from tests.server.helpers import tx
from tests.server_process import ROOT, ServerProcess

pytestmark = pytest.mark.mariadb


@pytest.fixture(params=sorted(KINDS))
def ils_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server(
    tmp_path: Path, mariadb_url: str, ils_kind: str, ils_db: Engine
) -> Iterator[ServerProcess]:
    # the running server leaves the queue to the rig and `ils drain`
    with served_ils(tmp_path, ils_kind, mariadb_url, background=False) as proc:
        yield proc


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


def test_killed_after_the_ils_write_neither_doubles_nor_loses(
    server: ServerProcess, ils_kind: str, ils_db: Engine
) -> None:
    ils: SeededIls = KINDS[ils_kind]
    item = ils.item(1)
    out = tx("checkout", card=ils.card(1), item=item, offline=True,
             at=datetime.now(WIB) - timedelta(days=15))  # fmt: skip
    assert _post(server, out)[0]["status"] == "accepted"
    assert f"{ils_kind} took {item}" in _crash_drain(server)
    assert count(ils_db, ils.loan_rows) == 1
    assert "write-backs queued: 1" in server.cli("ils", "status").stdout  # not recorded

    assert _post(server, tx("checkin", item=item))[0]["status"] == "accepted"
    _crash_drain(server)  # the repeat of the checkout, then the return and its fine
    assert count(ils_db, ils.returned_rows) == 1
    assert count(ils_db, ils.fine_rows) == 1

    drained = server.cli("ils", "drain").stdout
    assert "still queued: 0" in drained
    assert count(ils_db, ils.loan_rows) == 1
    assert count(ils_db, ils.returned_rows) == 1
    assert count(ils_db, ils.fine_rows) == 1
    check = server.cli("ils", "check")
    assert check.returncode == 0 and "0 difference(s)" in check.stdout


#: the guest-book rows a member's visit and a group of two make in each ILS
_GUEST_ROWS = {
    "slims": ("SELECT COUNT(*) FROM visitor_count", 3),  # the member, one row a person
    "inlislite": (
        "SELECT (SELECT COUNT(*) FROM memberguesses) + (SELECT COUNT(*) FROM groupguesses)",
        2,
    ),
}


def test_killed_after_the_ils_took_visits_neither_doubles_nor_loses(
    server: ServerProcess, ils_kind: str, ils_db: Engine
) -> None:
    ils: SeededIls = KINDS[ils_kind]
    member = tx("visit", card=ils.card(1), offline=True, visit={})
    crowd = {"leader": "Bu Sari", "institution": "SDN 2", "male": 1, "female": 1}
    group = tx("group_visit", offline=True, group=crowd)
    assert [r["status"] for r in _post(server, member, group)] == ["accepted"] * 2
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ils.crash_rig", os.environ["KIOSK_SERVER_CONFIG"], "visits"],
        env=server.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "the ILS took visits" in proc.stdout
    sql, expected = _GUEST_ROWS[ils_kind]
    assert count(ils_db, sql) == expected
    assert "write-backs queued: 2" in server.cli("ils", "status").stdout  # not recorded

    assert "still queued: 0" in server.cli("ils", "drain").stdout
    assert count(ils_db, sql) == expected
