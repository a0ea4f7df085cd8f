"""The INLISLite connector end to end: a real MariaDB with INLISLite's tables, the real
server. A kiosk checkout becomes a ``collectionloans`` + ``collectionloanitems`` pair
with the item lent (``Status_id`` 5); a return ends it and, when late, writes the
``pelanggaran`` row; draining again writes nothing twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from server.calendar import LibraryCalendar
from server.ils.service import IlsService
from server.models import ClosedDay
from server.service import Server
from server.timeutil import WIB
from tests.ils.inlislite_schema import (
    FINE_PER_DAY,
    HOLIDAY_OFFSETS,
    LOAN_DAYS,
    SUSPEND_PER_DAY,
)
from tests.ils.rig import library_today, rows
from tests.server.helpers import post, tx

pytestmark = pytest.mark.mariadb


@pytest.fixture
def ils_kind() -> str:
    return "inlislite"


@pytest.fixture
def inlis(ils_db: Engine) -> Engine:
    return ils_db


def status_of(inlis: Engine, barcode: str) -> int:
    [row] = rows(inlis, f"SELECT Status_id FROM collections WHERE NomorBarcode = '{barcode}'")
    return int(row["Status_id"])


def expected_due(at: datetime) -> date:
    return LibraryCalendar(set(), frozenset({6})).next_open_day(
        at.astimezone(WIB).date() + timedelta(days=LOAN_DAYS)
    )


def test_pull_mirrors_members_items_member_types_and_closed_days(server: Server) -> None:
    with server.db.read() as s:
        cards: dict[str, str] = dict(s.execute(text("SELECT card, status FROM patrons")).all())
        expiry = s.execute(text("SELECT expires_on FROM patrons WHERE card = 'A0001'")).scalar()
        items: dict[str, str] = dict(s.execute(text("SELECT barcode, title FROM items")).all())
        rules = s.execute(
            text(
                "SELECT category, item_type, loan_days, max_loans, max_renewals FROM loan_policies"
            )
        ).all()
        closed = {c.day: c.reason for c in s.query(ClosedDay)}
    assert cards == {"A0001": "active", "A0002": "active", "A0003": "blocked", "A0004": "active"}
    assert str(expiry) == str(date.today() + timedelta(days=365))
    assert items["C00001"] == "Judul Buku 1" and len(items) == 6
    assert rules == [("inlis-ja1", "*", LOAN_DAYS, 3, 1)]
    # the holidays rows, and Sundays (IsSundayHoliday), not Saturdays (IsSaturdayHoliday)
    for offset in HOLIDAY_OFFSETS:
        assert closed[date.today() + timedelta(days=offset)] == f"ILS: Libur {offset}"
    ahead = [library_today() + timedelta(days=n) for n in range(1, 15)]
    sundays = [d for d in ahead if d.weekday() == 6]
    assert all(d in closed for d in sundays) and len(sundays) == 2
    assert not any(d.weekday() == 5 and d in closed for d in ahead)


def test_member_blocked_and_item_withdrawn_reach_the_kiosk_after_the_next_pull(
    client: TestClient, kiosk: dict, ils: IlsService, inlis: Engine
) -> None:
    with inlis.begin() as conn:
        conn.execute(
            text(
                "UPDATE members SET StatusAnggota_id = 2, UpdateDate = NOW() "
                "WHERE MemberNo = 'A0004'"
            )
        )
        conn.execute(
            text(
                "UPDATE collections SET Status_id = 4, UpdateDate = NOW() "
                "WHERE NomorBarcode = 'C00006'"
            )
        )
    report = ils.pull()
    assert not report.full and report.patrons == 1 and report.items == 1
    [blocked] = post(client, kiosk, tx("checkout", card="A0004", item="C00003"))
    assert blocked["status"] == "refused" and blocked["reason"] == "patron_blocked"
    [withdrawn] = post(client, kiosk, tx("checkout", card="A0001", item="C00006"))
    assert withdrawn["status"] == "refused", withdrawn


def test_an_opac_booking_holds_the_item_for_its_member_until_it_expires(
    client: TestClient, kiosk: dict, ils: IlsService, inlis: Engine
) -> None:
    with inlis.begin() as conn:
        conn.execute(
            text(
                "UPDATE collections SET BookingMemberID = :m, BookingExpiredDate = :until "
                "WHERE NomorBarcode = :c"
            ),
            [{"m": "A0002", "until": datetime.now() + timedelta(days=2), "c": "C00004"},
             {"m": "A0001", "until": datetime.now() - timedelta(days=1), "c": "C00005"}],
        )  # fmt: skip
    ils.pull()
    [other] = post(client, kiosk, tx("checkout", card="A0001", item="C00004"))
    assert other["status"] == "refused", other
    [expired] = post(client, kiosk, tx("checkout", card="A0004", item="C00005"))
    assert expired["status"] == "accepted", expired  # an expired booking holds nothing
    [booker] = post(client, kiosk, tx("checkout", card="A0002", item="C00004"))
    assert booker["status"] == "accepted", booker
    assert ils.drain() == 2
    [lent] = rows(
        inlis,
        "SELECT Status_id, BookingMemberID, BookingExpiredDate FROM collections "
        "WHERE NomorBarcode = 'C00004'",
    )
    assert lent == {"Status_id": 5, "BookingMemberID": None, "BookingExpiredDate": None}
    assert ils.check() == []


def test_kiosk_checkout_becomes_an_inlislite_loan_with_the_due_date(
    client: TestClient, kiosk: dict, ils: IlsService, inlis: Engine
) -> None:
    t = tx("checkout", card="A0001", item="C00001")
    [result] = post(client, kiosk, t)
    assert result["status"] == "accepted", result
    assert rows(inlis, "SELECT * FROM collectionloanitems") == []  # the patron never waits
    assert ils.drain() == 1
    at = datetime.fromisoformat(t["at"])
    [loan] = rows(inlis, "SELECT * FROM collectionloans")
    [item] = rows(inlis, "SELECT * FROM collectionloanitems")
    [member] = rows(inlis, "SELECT ID FROM members WHERE MemberNo = 'A0001'")
    # location_library.ID 1 as INLISLite's session keeps it: "1", not "01"
    assert loan["ID"] == f"1{at.astimezone(WIB):%y%m%d}00001"
    assert (loan["Member_id"], loan["CollectionCount"], loan["CreateBy"]) == (member["ID"], 1, 7)
    assert item["CollectionLoan_id"] == loan["ID"] and item["member_id"] == member["ID"]
    assert item["LoanStatus"] == "Loan" and item["ActualReturn"] is None
    assert item["LoanDate"].date() == at.astimezone(WIB).date()
    assert item["DueDate"].date() == expected_due(at)
    assert item["pustaka_txn"] == t["id"]
    assert status_of(inlis, "C00001") == 5
    assert ils.drain() == 0 and ils.connector.write_back(ils.db, "C00001").written == 0
    assert len(rows(inlis, "SELECT * FROM collectionloanitems")) == 1
    assert ils.check() == []

    second = tx("checkout", card="A0002", item="C00002")
    assert post(client, kiosk, second)[0]["status"] == "accepted"
    ils.drain()
    ids = [r["ID"] for r in rows(inlis, "SELECT ID FROM collectionloans ORDER BY ID")]
    assert ids[1] == ids[0][:-5] + "00002"  # the day's counter goes on


def test_return_in_time_ends_the_loan_without_a_violation(
    client: TestClient, kiosk: dict, ils: IlsService, inlis: Engine
) -> None:
    post(client, kiosk, tx("checkout", card="A0001", item="C00003"))
    ils.drain()
    back = tx("checkin", item="C00003")
    assert post(client, kiosk, back)[0]["status"] == "accepted"
    assert ils.drain() == 1
    [item] = rows(inlis, "SELECT * FROM collectionloanitems")
    assert item["LoanStatus"] == "Return" and item["LateDays"] == 0
    assert item["ActualReturn"].date() == datetime.fromisoformat(back["at"]).astimezone(WIB).date()
    assert status_of(inlis, "C00003") == 1
    assert rows(inlis, "SELECT * FROM pelanggaran") == []
    assert ils.check() == []


def test_late_return_writes_the_violation_once(
    client: TestClient, kiosk: dict, ils: IlsService, inlis: Engine
) -> None:
    issued = datetime.now(WIB) - timedelta(days=20)
    out = tx("checkout", card="A0002", item="C00002", at=issued, offline=True)
    back = tx("checkin", item="C00002")
    assert post(client, kiosk, out)[0]["status"] == "accepted"
    assert post(client, kiosk, back)[0]["status"] == "accepted"
    assert ils.drain() == 2
    [item] = rows(inlis, "SELECT * FROM collectionloanitems")
    due = item["DueDate"].date()
    # INLISLite's count: days after the due date that are not Sundays, less the
    # holidays from the due date to the return
    late = sum(
        1 for n in range(1, (library_today() - due).days + 1)
        if (due + timedelta(days=n)).weekday() != 6
    ) - sum(
        1 for n in HOLIDAY_OFFSETS if due <= date.today() + timedelta(days=n) <= library_today()
    )  # fmt: skip
    assert late < (library_today() - due).days  # Sundays and the holiday are not late days
    assert late > 0 and item["LateDays"] == late and item["LoanStatus"] == "Return"
    assert item["ActualReturn"].date() == library_today()
    assert status_of(inlis, "C00002") == 1
    [fine] = rows(inlis, "SELECT * FROM pelanggaran")
    assert fine["JumlahDenda"] == late * FINE_PER_DAY
    assert fine["JumlahSuspend"] == late * SUSPEND_PER_DAY
    assert fine["CollectionLoanItem_id"] == item["ID"] and fine["Member_id"] == item["member_id"]
    assert fine["CollectionLoan_id"] == item["CollectionLoan_id"] and fine["Paid"] == 0

    # a repeat (as after a crash before the server recorded the write-back) adds nothing
    connector = ils.connector
    assert connector.write_back(ils.db, "C00002").written == 0
    assert ils.drain() == 0
    assert len(rows(inlis, "SELECT * FROM pelanggaran")) == 1
    assert len(rows(inlis, "SELECT * FROM collectionloanitems")) == 1
    assert len(rows(inlis, "SELECT * FROM collectionloans")) == 1


def test_desk_loan_meanwhile_becomes_a_conflict(
    client: TestClient, kiosk: dict, ils: IlsService, inlis: Engine
) -> None:
    t = tx("checkout", card="A0001", item="C00004")
    assert post(client, kiosk, t)[0]["status"] == "accepted"
    with inlis.begin() as conn:  # the desk lends it before the write-back runs
        conn.execute(
            text(
                "INSERT INTO collectionloans (ID, Member_id, CollectionCount, CreateDate) "
                "VALUES ('DESK1', 2, 1, NOW())"
            )
        )
        conn.execute(
            text(
                "INSERT INTO collectionloanitems (CollectionLoan_id, Collection_id, member_id, "
                "LoanDate, DueDate, LoanStatus) SELECT 'DESK1', ID, 2, NOW(), NOW() + "
                "INTERVAL 7 DAY, 'Loan' FROM collections WHERE NomorBarcode = 'C00004'"
            )
        )
    ils.drain()
    assert len(rows(inlis, "SELECT * FROM collectionloanitems")) == 1  # only the desk's
    status = ils.status()
    assert status.conflicts == 1 and status.queued == 0


def test_desk_loans_and_returns_reach_the_server_and_are_not_written_back(
    client: TestClient, kiosk: dict, ils: IlsService, inlis: Engine, server: Server
) -> None:
    with inlis.begin() as conn:  # the desk lends C00005 to A0002
        conn.execute(
            text(
                "INSERT INTO collectionloans (ID, Member_id, CollectionCount, CreateDate) "
                "VALUES ('DESK1', 2, 1, NOW())"
            )
        )
        conn.execute(
            text(
                "INSERT INTO collectionloanitems (CollectionLoan_id, Collection_id, member_id, "
                "LoanDate, DueDate, LoanStatus, CreateDate, UpdateDate) SELECT 'DESK1', ID, 2, "
                "NOW() - INTERVAL 1 HOUR, CURDATE() + INTERVAL 7 DAY, 'Loan', NOW(), NOW() "
                "FROM collections WHERE NomorBarcode = 'C00005'"
            )
        )
        conn.execute(text("UPDATE collections SET Status_id = 5 WHERE NomorBarcode = 'C00005'"))
    assert ils.pull().desk_transactions == 1
    assert ils.check() == []
    [refused] = post(client, kiosk, tx("checkout", card="A0001", item="C00005"))
    assert refused["status"] == "refused", refused

    # returned at a kiosk: the desk's loan item is ended in INLISLite, not doubled
    assert post(client, kiosk, tx("checkin", item="C00005"))[0]["status"] == "accepted"
    assert ils.drain() == 1
    [item] = rows(inlis, "SELECT * FROM collectionloanitems")
    assert item["LoanStatus"] == "Return" and item["ActualReturn"] is not None
    assert status_of(inlis, "C00005") == 1

    # a kiosk loan returned at the desk comes back as a return
    t = tx("checkout", card="A0001", item="C00003")
    assert post(client, kiosk, t)[0]["status"] == "accepted"
    ils.drain()
    with inlis.begin() as conn:
        conn.execute(
            text(
                "UPDATE collectionloanitems SET LoanStatus = 'Return', ActualReturn = :back, "
                "UpdateDate = NOW() WHERE pustaka_txn = :k"
            ),  # INLISLite keeps naive local time
            {"k": t["id"], "back": datetime.now(WIB).replace(tzinfo=None)},
        )
    [kiosk_item] = rows(
        inlis, f"SELECT ID FROM collectionloanitems WHERE pustaka_txn = '{t['id']}'"
    )
    pulled = {txn.id for txn in ils.pull().transactions}
    assert f"inlis-{kiosk_item['ID']}-in" in pulled
    assert f"inlis-{kiosk_item['ID']}-out" not in pulled  # the kiosk's own loan: not again
    with server.db.read() as s:
        still_open = s.execute(
            text("SELECT COUNT(*) FROM loans WHERE returned_at IS NULL")
        ).scalar_one()
    assert still_open == 0
    assert ils.check() == []
    assert ils.drain() == 0 and len(rows(inlis, "SELECT * FROM collectionloanitems")) == 2


def test_kiosk_renewal_moves_the_due_date_in_inlislite(
    client: TestClient, kiosk: dict, ils: IlsService, inlis: Engine
) -> None:
    issued = datetime.now(WIB) - timedelta(days=3)
    out = tx("checkout", card="A0001", item="C00001", at=issued, offline=True)
    assert post(client, kiosk, out)[0]["status"] == "accepted"
    ils.drain()
    [before] = rows(inlis, "SELECT DueDate FROM collectionloanitems")
    [renewed] = post(client, kiosk, tx("renew", card="A0001", item="C00001"))
    assert renewed["status"] == "accepted", renewed
    assert ils.drain() == 1
    [after] = rows(inlis, "SELECT DueDate, LoanStatus FROM collectionloanitems")
    assert after["DueDate"] > before["DueDate"] and after["LoanStatus"] == "Loan"
    assert ils.check() == []
    assert ils.drain() == 0 and len(rows(inlis, "SELECT * FROM collectionloans")) == 1
