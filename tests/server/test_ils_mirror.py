"""The ILS mirror writes only what changed, so kiosks download only what changed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from server.ils.mirror import ItemRow, PatronRow, upsert_items, upsert_patrons
from server.models import Item, Patron
from server.service import Server


def _patron(card: str, **changes: object) -> PatronRow:
    row = PatronRow(card, f"Anggota {card}", "slims-mt1", "active", None, date(2027, 6, 30), None)
    return PatronRow(**{**row.__dict__, **changes})  # type: ignore[arg-type]


def _item(code: str, **changes: object) -> ItemRow:
    row = ItemRow(code, f"Judul {code}", None, None, "slims-ct1", "available")
    return ItemRow(**{**row.__dict__, **changes})  # type: ignore[arg-type]


def _versions(server: Server) -> dict[str, int]:
    with server.db.read() as s:
        found = {k: v for k, v in s.execute(select(Patron.card, Patron.version))}
        found.update({k: v for k, v in s.execute(select(Item.barcode, Item.version))})
    return found


def test_rows_read_again_unchanged_keep_their_version(server: Server) -> None:
    patrons = [_patron("M1"), _patron("M2"), _patron("M3")]
    items = [_item("B1"), _item("B2")]
    with server.db.write() as (session, version):
        assert upsert_patrons(session, version, patrons) == 3
        assert upsert_items(session, version, items) == 2
    first = _versions(server)

    # the next pull reads them all again (SLiMS keeps only the day of a change);
    # one member's expiry and one item's status did change at the desk
    patrons[1] = _patron("M2", expires_on=date(2028, 6, 30))
    items[0] = _item("B1", status="not_for_loan")
    with server.db.write() as (session, version):
        assert upsert_patrons(session, version, patrons) == 1
        assert upsert_items(session, version, items) == 1
        changed_at = version
    second = _versions(server)
    assert {k for k in first if first[k] != second[k]} == {"M2", "B1"}
    assert second["M2"] == second["B1"] == changed_at
    with server.db.read() as s:
        assert s.scalar(select(Patron.expires_on).where(Patron.card == "M2")) == date(2028, 6, 30)
        assert s.scalar(select(Item.status).where(Item.barcode == "B1")) == "not_for_loan"


def test_a_deleted_row_read_again_is_restored(server: Server) -> None:
    with server.db.write() as (session, version):
        upsert_items(session, version, [_item("B9")])
    with server.db.write() as (session, _version):
        item = session.scalars(select(Item).where(Item.barcode == "B9")).one()
        item.deleted = True
    with server.db.write() as (session, version):
        assert upsert_items(session, version, [_item("B9")]) == 1
    with server.db.read() as s:
        assert s.scalar(select(Item.deleted).where(Item.barcode == "B9")) is False
