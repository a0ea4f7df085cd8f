"""Guest-book visits written into the ILS's own guest book, end to end.

The real server (SQLite and PostgreSQL) with SLiMS or INLISLite on a real MariaDB:
visits posted by a kiosk over HTTP land as ``visitor_count`` rows (SLiMS) or
``memberguesses``/``groupguesses`` rows (INLISLite) with the fields the ILS's own
guest book writes; a repeat writes nothing twice; an amend sets the purpose; a
visit made while the ILS is away lands once it is back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from server.ils.service import IlsService
from server.models import IlsWriteback
from server.service import Server
from server.timeutil import WIB
from tests.ils.rig import KINDS, away_connector, rows
from tests.server.conftest import db_url, pg_template, sqlite_template  # noqa: F401
from tests.server.helpers import post, tx

pytestmark = pytest.mark.mariadb


@pytest.fixture(params=sorted(KINDS))
def ils_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server_db_url(db_url: str) -> str:  # noqa: F811
    """The server on SQLite and on PostgreSQL."""
    return db_url


#: a member card of each seeded ILS, named "Anggota 1" there
CARD = {kind: seeded.card(1) for kind, seeded in KINDS.items()}


def guest_rows(ils_kind: str, ils_db: Engine) -> list[dict[str, Any]]:
    table, key = ("visitor_count", "visitor_id") if ils_kind == "slims" else ("memberguesses", "ID")
    return rows(ils_db, f"SELECT * FROM {table} ORDER BY {key}")


def local(value: str) -> datetime:
    """A kiosk's ISO time as the ILS stores it: naive WIB, whole seconds."""
    return datetime.fromisoformat(value).astimezone(WIB).replace(tzinfo=None, microsecond=0)


def queued(server: Server) -> int:
    with server.db.read() as s:
        return int(s.scalar(select(func.count()).where(IlsWriteback.state == "pending")) or 0)


def visit_at(hours_ago: float) -> datetime:
    return datetime.now(WIB) - timedelta(hours=hours_ago)


@pytest.mark.parametrize("ils_kind", ["slims"])
def test_slims_member_and_guest_visits_are_visitor_count_rows(
    client: TestClient, kiosk: dict, ils: IlsService, ils_db: Engine, ils_kind: str
) -> None:
    with ils_db.begin() as conn:
        conn.execute(text("UPDATE member SET inst_name = 'Dinas Pendidikan' "
                          "WHERE member_id = 'M0001'"))  # fmt: skip
    member = tx("visit", card="M0001", at=visit_at(2), offline=True, visit={})
    guest = tx("visit", at=visit_at(1), offline=True,
               visit={"name": "Rina", "institution": "SMAN 1", "gender": "female"})  # fmt: skip
    assert [r["status"] for r in post(client, kiosk, member, guest)] == ["accepted"] * 2
    assert guest_rows(ils_kind, ils_db) == []  # not yet: the visitor never waits on SLiMS
    assert ils.drain_visits() == 2
    got = [
        (r["member_id"], r["member_name"], r["institution"], r["checkin_date"], r["pustaka_txn"])
        for r in guest_rows(ils_kind, ils_db)
    ]
    assert got == [
        ("M0001", "Anggota 1", "Dinas Pendidikan", local(member["at"]), member["id"]),
        (None, "Rina", "SMAN 1", local(guest["at"]), guest["id"]),
    ]


@pytest.mark.parametrize("ils_kind", ["inlislite"])
def test_inlislite_member_and_guest_visits_are_memberguesses_rows(
    client: TestClient, kiosk: dict, ils: IlsService, ils_db: Engine, ils_kind: str
) -> None:
    member = tx("visit", card="A0001", at=visit_at(3), offline=True,
                visit={"purpose": "Membaca"})  # fmt: skip
    guest = tx("visit", at=visit_at(2), offline=True,
               visit={"name": "Rina", "gender": "female", "education": "S1",
                      "occupation": "pelajar", "institution": "SMAN 1",
                      "purpose": "Meminjam"})  # fmt: skip
    other = tx("visit", at=visit_at(1), offline=True,
               visit={"name": "Budi", "gender": "male", "occupation": "Nelayan",
                      "purpose": "Internet"})  # fmt: skip
    assert [r["status"] for r in post(client, kiosk, member, guest, other)] == ["accepted"] * 3
    assert ils.drain_visits() == 3
    m, g, o = guest_rows(ils_kind, ils_db)
    assert (m["NoAnggota"], m["Nama"], m["Status_id"], m["TujuanKunjungan_Id"]) == (
        "A0001", "Anggota 1", 3, 1,
    )  # fmt: skip
    assert (m["Location_Id"], m["CreateBy"], m["CreateTerminal"]) == (4, 7, "kiosk-a")
    assert m["CreateDate"] == local(member["at"]) and m["pustaka_txn"] == member["id"]
    assert (g["NoAnggota"], g["Nama"], g["Status_id"], g["JenisKelamin_id"]) == (
        None, "Rina", None, 2,
    )  # fmt: skip
    assert (g["PendidikanTerakhir_id"], g["Profesi_id"], g["TujuanKunjungan_Id"]) == (5, 2, 2)
    assert (g["Deskripsi"], g["Information"]) == ("Instansi: SMAN 1", None)
    # what INLISLite's master tables do not list stays as text, nothing is lost
    assert (o["JenisKelamin_id"], o["Profesi_id"], o["TujuanKunjungan_Id"]) == (1, None, None)
    assert (o["Deskripsi"], o["Information"]) == ("Pekerjaan: Nelayan", "Internet")


def test_a_repeat_writes_nothing_twice_and_a_repeat_scan_is_not_a_visit(
    client: TestClient, kiosk: dict, server: Server, ils: IlsService, ils_db: Engine, ils_kind: str
) -> None:
    card = CARD[ils_kind]
    # one counting window (the kiosk names it), whatever the hour the test runs at
    first = tx("visit", card=card, at=visit_at(3), offline=True, visit={"window": "w1"})
    again = tx("visit", card=card, at=visit_at(2), offline=True, visit={"window": "w1"})
    post(client, kiosk, first, again)
    assert queued(server) == 1  # the repeat scan counts nowhere, so not in the ILS either
    assert ils.drain_visits() == 1 and len(guest_rows(ils_kind, ils_db)) == 1
    assert ils.drain_visits() == 0
    # a worker that wrote and died before recording it would send the same ids again
    result = ils.connector.write_visits(server.db, [first["id"], again["id"]])
    assert result.written == 0 and result.conflict is None
    assert post(client, kiosk, first)[0]["duplicate"] is True
    assert queued(server) == 0 and len(guest_rows(ils_kind, ils_db)) == 1


def test_an_amend_sets_the_purpose_of_the_row_written_before(
    client: TestClient, kiosk: dict, server: Server, ils: IlsService, ils_db: Engine, ils_kind: str
) -> None:
    member = tx("visit", card=CARD[ils_kind], at=visit_at(2), offline=True, visit={})
    post(client, kiosk, member)
    assert ils.drain_visits() == 1
    amend = tx("visit", at=visit_at(1.9), offline=True,
               visit={"purpose": "Meminjam", "amends": member["id"]})  # fmt: skip
    post(client, kiosk, amend)
    assert queued(server) == 1
    assert ils.drain_visits() == 1
    [row] = guest_rows(ils_kind, ils_db)  # the same row, not a second one
    assert row["pustaka_txn"] == member["id"]
    if ils_kind == "inlislite":
        assert (row["TujuanKunjungan_Id"], row["UpdateBy"]) == (2, 7)
    # SLiMS keeps no purpose: its row stays as it was


def test_a_group_visit_lands_in_the_ils_guest_book(
    client: TestClient, kiosk: dict, server: Server, ils: IlsService, ils_db: Engine, ils_kind: str
) -> None:
    group = tx("group_visit", at=visit_at(1), offline=True,
               group={"leader": "Bu Sari", "phone": "08123", "institution": "SDN 2",
                      "male": 2, "female": 1, "purpose": "Kunjungan Studi"})  # fmt: skip
    assert post(client, kiosk, group)[0]["status"] == "accepted"
    assert ils.drain_visits() == 1
    if ils_kind == "slims":  # one row per person: SLiMS's visitor report counts rows
        got = [(r["member_id"], r["member_name"], r["institution"], r["pustaka_txn"])
               for r in guest_rows(ils_kind, ils_db)]  # fmt: skip
        assert got == [
            (None, f"Bu Sari (rombongan {n}/3)", "SDN 2", f"{group['id']}#{n}") for n in (1, 2, 3)
        ]
        assert {r["checkin_date"] for r in guest_rows(ils_kind, ils_db)} == {local(group["at"])}
    else:
        [g] = rows(ils_db, "SELECT * FROM groupguesses")
        assert (g["NamaKetua"], g["NomerTelponKetua"], g["AsalInstansi"]) == (
            "Bu Sari", "08123", "SDN 2",
        )  # fmt: skip
        assert (g["CountPersonel"], g["CountLaki"], g["CountPerempuan"]) == (3, 2, 1)
        assert (g["CountLainnya"], g["TujuanKunjungan_ID"], g["Location_ID"]) == (3, 3, 4)
        assert g["CreateDate"] == local(group["at"]) and g["pustaka_txn"] == group["id"]
        assert guest_rows(ils_kind, ils_db) == []
    ils.connector.write_visits(server.db, [], [group["id"]])  # a repeat
    table = "visitor_count" if ils_kind == "slims" else "groupguesses"
    assert len(rows(ils_db, f"SELECT * FROM {table}")) == (3 if ils_kind == "slims" else 1)


def test_a_visit_while_the_ils_is_away_queues_and_lands_after(
    client: TestClient,
    kiosk: dict,
    server: Server,
    ils: IlsService,
    ils_db: Engine,
    ils_kind: str,
    mariadb_url: str,
) -> None:
    good = ils.connector
    ils.connector = away_connector(ils_kind, mariadb_url)  # as if MariaDB were down
    visit = tx("visit", card=CARD[ils_kind], visit={})
    assert post(client, kiosk, visit)[0]["status"] == "accepted"  # no waiting on the ILS
    assert ils.drain_visits() == 0
    status = ils.status()
    assert status.queued == 1 and "guest-book write-back failed" in status.last_error
    ils.connector = good
    assert ils.drain_visits() == 1
    [row] = guest_rows(ils_kind, ils_db)
    assert row["pustaka_txn"] == visit["id"]


def test_visits_of_the_ils_own_kiosk_names_are_never_queued(
    server: Server, ils: IlsService, ils_kind: str
) -> None:
    from core.wire import TransactionIn

    desk = TransactionIn.model_validate(
        tx("visit", kiosk=f"ils:{ils_kind}", offline=True, visit={"name": "Desk"})
    )
    server.apply([desk])
    assert queued(server) == 0 and ils.drain_visits() == 0
