"""Members and items deleted in the ILS stop being lent; back in the ILS, back here.

A pull by update time never sees a deleted row, so without the sweep the kiosks
would go on lending an item the library has thrown away. Both connectors, on a
real MariaDB with their own tables, the real server in process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from server.ils import PullReport
from server.ils.service import IlsService
from server.service import Server
from tests.ils.rig import KINDS, SeededIls
from tests.ils.slims_seed import seed_slims
from tests.server.helpers import post, tx

pytestmark = pytest.mark.mariadb


@dataclass(frozen=True)
class Deletable:
    """Where a system keeps its members and items, to delete them and restore them."""

    delete_member: str  # :k is the card
    delete_item: str  # :k is the barcode
    copy_table: dict[str, str]  # table of members, of items: copied aside to restore


DELETABLE = {
    "slims": Deletable(
        "DELETE FROM member WHERE member_id = :k", "DELETE FROM item WHERE item_code = :k",
        {"member": "member_id", "item": "item_code"},
    ),
    "inlislite": Deletable(
        "DELETE FROM members WHERE MemberNo = :k",
        "DELETE FROM collections WHERE NomorBarcode = :k",
        {"members": "MemberNo", "collections": "NomorBarcode"},
    ),
}  # fmt: skip


@pytest.fixture(params=sorted(KINDS))
def ils_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ils_seed(ils_kind: str) -> Callable[[Engine], None]:
    # rows last changed yesterday (INLISLite's seed always dates them so): a delta pull
    # today sees only what the test changes
    return partial(seed_slims, age_days=1) if ils_kind == "slims" else KINDS[ils_kind].seed


@pytest.fixture
def system(ils_kind: str) -> SeededIls:
    return KINDS[ils_kind]


@pytest.fixture
def tables(ils_kind: str) -> Deletable:
    return DELETABLE[ils_kind]


@pytest.fixture(autouse=True)
def _first_pull_sweeps_and_finds_nothing_gone(first_pull: tuple[Server, PullReport]) -> None:
    first = first_pull[1]  # full: the first ever; it sweeps and finds nothing gone
    assert first.full and first.swept is not None
    assert (first.swept.patrons_removed, first.swept.items_removed) == (0, 0)


def _patron(server: Server, card: str) -> tuple[str, str | None, int]:
    with server.db.read() as s:
        row = s.execute(
            text("SELECT status, blocked_reason, version FROM patrons WHERE card = :c"), {"c": card}
        ).one()
    return row[0], row[1], int(row[2])


def _item(server: Server, code: str) -> tuple[str, int]:
    with server.db.read() as s:
        row = s.execute(
            text("SELECT status, version FROM items WHERE barcode = :c"), {"c": code}
        ).one()
    return row[0], int(row[1])


def _snapshot(client: TestClient, kiosk: dict, since: str) -> dict:
    r = client.get(f"/api/v1/snapshot?since={since}", headers=kiosk)
    assert r.status_code == 200, r.text
    return r.json()


def test_deleted_in_the_ils_refused_everywhere_and_back_when_restored(
    system: SeededIls,
    tables: Deletable,
    ils_db: Engine,
    server: Server,
    ils: IlsService,
    client: TestClient,
    kiosk: dict,
) -> None:
    card, code = system.card(4), system.item(6)
    with ils_db.begin() as conn:  # keep a copy, as a backup would, then delete at the desk
        for table in tables.copy_table:
            conn.execute(text(f"CREATE TABLE `{table}_backup` AS SELECT * FROM `{table}`"))
        conn.execute(text(tables.delete_member), {"k": card})
        conn.execute(text(tables.delete_item), {"k": code})
    cursor = _snapshot(client, kiosk, "")["cursor"]

    blind = ils.pull()  # a delta pull with no sweep due: the blind spot
    assert not blind.full and blind.swept is None
    assert _patron(server, card)[0] == "active" and _item(server, code)[0] == "available"

    ils.sweep_interval_s = 0.0  # due now
    swept = ils.pull()
    assert swept.swept is not None
    assert (swept.swept.patrons_removed, swept.swept.items_removed) == (1, 1)
    assert (swept.swept.patrons_back, swept.swept.items_back) == (0, 0)
    assert "1 patrons and 1 items gone" in swept.summary()
    status, reason, pv = _patron(server, card)
    assert (status, reason) == ("blocked", f"removed in {system.label}")
    assert _item(server, code)[0] == "not_for_loan"
    assert _patron(server, system.card(1))[:2] == ("active", None)  # the others untouched

    # what kiosks get for their offline decisions (a delta pull of SLiMS, which keeps
    # only the day of a member's change, rewrites today's members too)
    delta = _snapshot(client, kiosk, cursor)
    assert {p["card"]: p["status"] for p in delta["patrons"]}[card] == "blocked"
    assert {i["barcode"]: i["status"] for i in delta["items"]}[code] == "not_for_loan"
    [refused] = post(client, kiosk, tx("checkout", card=card, item=system.item(1)))
    assert (refused["status"], refused["reason"]) == ("refused", "patron_blocked")
    [refused] = post(client, kiosk, tx("checkout", card=system.card(1), item=code))
    assert (refused["status"], refused["reason"]) == ("refused", "item_not_for_loan")

    again = ils.pull()  # nothing new gone: nothing written, no version churn for kiosks
    assert again.swept is not None and again.swept.patrons_removed == 0
    assert again.swept.items_removed == 0 and _patron(server, card)[2] == pv

    with ils_db.begin() as conn:  # restored from the backup, old update times and all
        for table, key in tables.copy_table.items():
            conn.execute(
                text(
                    f"INSERT INTO `{table}` SELECT * FROM `{table}_backup` b "
                    f"WHERE b.`{key}` NOT IN (SELECT `{key}` FROM `{table}`)"
                )
            )
    back = ils.pull()
    assert back.swept is not None
    assert (back.swept.patrons_back, back.swept.items_back) == (1, 1)
    assert _patron(server, card)[:2] == ("active", None)
    assert _item(server, code)[0] == "available"
    [lent] = post(client, kiosk, tx("checkout", card=card, item=code))
    assert lent["status"] == "accepted", lent


def test_every_full_pull_sweeps(
    system: SeededIls, tables: Deletable, ils_db: Engine, server: Server, ils: IlsService
) -> None:
    with ils_db.begin() as conn:
        conn.execute(text(tables.delete_item), {"k": system.item(2)})
    assert ils.pull().swept is None  # a delta pull, the sweep not due for an hour
    report = ils.pull(full=True)
    assert report.full and report.swept is not None and report.swept.items_removed == 1
    assert _item(server, system.item(2))[0] == "not_for_loan"


def test_an_empty_ils_table_refuses_nobody(
    system: SeededIls, tables: Deletable, ils_db: Engine, server: Server, ils: IlsService
) -> None:
    table = next(iter(tables.copy_table))  # the members' table
    with ils_db.begin() as conn:
        conn.execute(text(f"DELETE FROM `{table}`"))
    report = ils.pull(full=True)
    assert report.swept is not None and report.swept.patrons_removed == 0
    assert _patron(server, system.card(1))[0] == "active"
