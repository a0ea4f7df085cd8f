"""The SLiMS connector end to end: a real MariaDB with SLiMS's tables, the real server.

A kiosk checkout becomes a SLiMS ``loan`` row the way SLiMS's circulation writes
it; a late return writes the ``fines`` row; the desk's changes reach the kiosks.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.wire import TransactionBatch, TransactionIn
from server.admin import add_kiosk
from server.calendar import LibraryCalendar
from server.ils.service import IlsService
from server.ils.slims import SlimsConnector
from server.models import Conflict, IlsState
from server.service import Server
from server.timeutil import WIB, utcnow
from tests.ils.rig import away_url, library_today, rows
from tests.ils.slims_seed import FINE_PER_DAY, LOAN_DAYS
from tests.server.helpers import post, tx

pytestmark = pytest.mark.mariadb


@pytest.fixture
def ils_kind() -> str:
    return "slims"


@pytest.fixture
def slims(ils_db: Engine) -> Engine:
    return ils_db


def loans(slims: Engine) -> list[dict]:
    return rows(slims, "SELECT * FROM loan ORDER BY loan_id")


def expected_due(at: datetime) -> date:
    return LibraryCalendar(set(), frozenset({6})).next_open_day(
        at.astimezone(WIB).date() + timedelta(days=LOAN_DAYS)
    )


def test_pull_mirrors_members_items_rules_and_closed_days(server: Server) -> None:
    with server.db.read() as s:
        cards: dict[str, str] = dict(s.execute(text("SELECT card, status FROM patrons")).all())
        items: dict[str, str] = dict(s.execute(text("SELECT barcode, item_type FROM items")).all())
        rules = s.execute(
            text("SELECT category, item_type, loan_days, max_loans FROM loan_policies")
        ).all()
        sundays = s.execute(text("SELECT COUNT(*) FROM closed_days")).scalar_one()
    assert cards == {"M0001": "active", "M0002": "active", "M0003": "blocked", "M0004": "active"}
    assert items["B00001"] == "slims-ct1" and len(items) == 6
    assert rules == [("slims-mt1", "*", LOAN_DAYS, 3)]
    assert sundays >= 52


def test_kiosk_checkout_becomes_a_slims_loan_row_with_the_due_date(
    client: TestClient, kiosk: dict, ils: IlsService, slims: Engine
) -> None:
    t = tx("checkout", card="M0001", item="B00001")
    [result] = post(client, kiosk, t)
    assert result["status"] == "accepted", result
    assert loans(slims) == []  # not yet: the patron never waits on SLiMS
    assert ils.drain() == 1
    [row] = loans(slims)
    at = datetime.fromisoformat(t["at"])
    assert row["item_code"] == "B00001" and row["member_id"] == "M0001"
    assert (row["is_lent"], row["is_return"], row["renewed"]) == (1, 0, 0)
    assert row["loan_date"] == at.astimezone(WIB).date()
    assert row["due_date"] == expected_due(at)
    assert row["uid"] == 7 and row["input_date"] is not None and row["pustaka_txn"] == t["id"]
    assert ils.drain() == 0 and len(loans(slims)) == 1
    assert ils.check() == []


def test_late_return_writes_the_fine_slims_would(
    client: TestClient, kiosk: dict, ils: IlsService, slims: Engine
) -> None:
    issued = datetime.now(WIB) - timedelta(days=20)
    out = tx("checkout", card="M0002", item="B00002", at=issued, offline=True)
    back = tx("checkin", item="B00002")
    assert post(client, kiosk, out)[0]["status"] == "accepted"
    assert post(client, kiosk, back)[0]["status"] == "accepted"
    ils.drain()
    [row] = loans(slims)
    assert row["is_return"] == 1 and row["return_date"] == library_today()
    due = row["due_date"]
    late = sum(
        1 for n in range(1, (library_today() - due).days + 1)
        if (due + timedelta(days=n)).weekday() != 6
    )  # fmt: skip
    with slims.connect() as conn:
        fines = conn.execute(text("SELECT member_id, debet, description FROM fines")).all()
    assert fines == [("M0002", late * FINE_PER_DAY, "Overdue fines for item B00002")]
    ils.drain()
    with slims.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM fines")).scalar_one() == 1


def test_patron_blocked_in_slims_is_refused_after_the_next_pull(
    client: TestClient, kiosk: dict, ils: IlsService, slims: Engine
) -> None:
    with slims.begin() as conn:
        conn.execute(
            text(
                "UPDATE member SET is_pending = 1, last_update = CURDATE() "
                "WHERE member_id = 'M0004'"
            )
        )
    ils.pull()
    [result] = post(client, kiosk, tx("checkout", card="M0004", item="B00003"))
    assert result["status"] == "refused" and result["reason"] == "patron_blocked"


def test_desk_loan_meanwhile_becomes_a_conflict_in_plain_words(
    client: TestClient, kiosk: dict, ils: IlsService, slims: Engine, server: Server
) -> None:
    t = tx("checkout", card="M0001", item="B00004")
    assert post(client, kiosk, t)[0]["status"] == "accepted"
    with slims.begin() as conn:  # the desk lends it before the write-back runs
        conn.execute(
            text(
                "INSERT INTO loan (item_code, member_id, loan_date, due_date, is_lent, "
                "is_return, input_date, last_update) VALUES ('B00004', 'M0002', CURDATE(), "
                "CURDATE() + INTERVAL 7 DAY, 1, 0, NOW(), NOW())"
            )
        )
    ils.drain()
    assert len(loans(slims)) == 1  # only the desk's
    with server.db.read() as s:
        [conflict] = s.query(Conflict).all()
    assert conflict.transaction_id == t["id"] and conflict.reason == "ils_contradicts"
    assert "lent at the desk" in conflict.message and "M0002" in conflict.message
    assert ils.status().conflicts == 1


def test_offline_burst_from_two_kiosks_out_of_order_lands_in_event_time_order(
    client: TestClient, kiosk: dict, server: Server, ils: IlsService, slims: Engine
) -> None:
    other = {"Authorization": f"Bearer {add_kiosk(server.db, 'kiosk-b')}"}
    t0 = datetime.now(WIB) - timedelta(hours=5)
    a1 = tx("checkout", card="M0001", item="B00005", at=t0, offline=True)
    b1 = tx("checkin", kiosk="kiosk-b", item="B00005", at=t0 + timedelta(hours=1), offline=True)
    a2 = tx("checkout", card="M0002", item="B00005", at=t0 + timedelta(hours=2), offline=True)
    post(client, other, b1)  # the return arrives first
    ils.drain()
    post(client, kiosk, a2, a1)
    ils.drain()
    rows = sorted(loans(slims), key=lambda r: r["input_date"])
    assert [(r["member_id"], r["is_return"]) for r in rows] == [("M0001", 1), ("M0002", 0)]
    assert rows[0]["return_date"] == (t0 + timedelta(hours=1)).date()
    assert ils.check() == []


def test_writeback_waits_while_slims_is_away(
    client: TestClient,
    kiosk: dict,
    server: Server,
    ils: IlsService,
    slims: Engine,
    mariadb_url: str,
) -> None:
    good = ils.connector
    ils.connector = SlimsConnector(away_url(mariadb_url))
    post(client, kiosk, tx("checkout", card="M0001", item="B00006"))
    assert ils.drain() == 0
    status = ils.status()
    assert status.queued == 1 and not status.reachable and "write-back failed" in status.last_error
    ils.connector = good
    assert ils.drain() == 1 and len(loans(slims)) == 1


def test_writeback_worker_stands_back_while_a_patron_is_being_applied(
    server: Server, ils: IlsService, slims: Engine
) -> None:
    server.apply([TransactionIn.model_validate(tx("checkout", card="M0001", item="B00001"))])
    ils.DEFER_S = 1.0  # long enough that a worker not standing back would be seen writing
    patron = TransactionBatch(
        transactions=[TransactionIn.model_validate(tx("checkout", card="M0002", item="B00002"))]
    )
    answers: list[str] = []
    with server.db.gate.hold():  # the patron's request waits for the gate meanwhile
        at_kiosk = threading.Thread(
            target=lambda: answers.extend(
                r.status for r in server.writes.apply_batch("kiosk-a", patron, urgent=True)
            )
        )
        at_kiosk.start()
        while server.writes.patrons_in == 0:
            time.sleep(0.001)
        drained: list[int] = []
        worker = threading.Thread(target=lambda: drained.append(ils.drain()))
        worker.start()
        time.sleep(0.3)
        assert loans(slims) == []  # standing back, not writing into SLiMS
    at_kiosk.join(10)
    worker.join(10)
    assert answers == ["accepted"] and server.writes.patrons_in == 0
    assert drained == [1] and [r["item_code"] for r in loans(slims)] == ["B00001"]


def test_pull_loop_waits_for_the_next_pull_due(server: Server, ils: IlsService) -> None:
    def last_pull() -> datetime | None:
        with server.db.read() as s:
            row = s.get(IlsState, "slims")
            return row.last_pull_at if row else None

    pulled = last_pull()  # the fixture's pull, just now: the next is due in a minute
    assert pulled is not None
    ils.start()
    time.sleep(0.5)
    ils.stop()
    assert last_pull() == pulled
    with server.db.write() as (s, _):
        row = s.get(IlsState, "slims")
        assert row is not None
        row.last_pull_at = utcnow() - timedelta(minutes=5)  # overdue: pull at once
    ils.start()
    try:
        deadline = time.monotonic() + 10
        while (last_pull() or pulled) <= pulled and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ils.stop()
    later = last_pull()
    assert later is not None and later > pulled
