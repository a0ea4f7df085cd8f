"""Writes what a pull found into the server's own tables.

Patrons, items, loan policies and closed days are overwritten from the ILS (it is
the source of truth); each changed patron and item gets the write's version so
kiosks fetch it with their next snapshot delta. Loans are not touched here: the
desk's loans and returns come in as transactions (see :mod:`server.ils`).

A pull by update time never sees a row deleted in the ILS; :meth:`IlsDatabase.sweep`
compares every key the ILS has with the mirror's and refuses the missing ones
(patron blocked "removed in <ILS>", item not for loan), and gives a row that is
back in the ILS its state from there again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, create_engine, delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from server.ils import Health, SweepReport
from server.models import ClosedDay, Item, LoanPolicy, Patron
from server.statements import chunks

if TYPE_CHECKING:
    from datetime import datetime

    from server.db import Database

log = logging.getLogger(__name__)
_PATRONS = cast(Table, Patron.__table__)
_ITEMS = cast(Table, Item.__table__)
#: closed days a pull owns start their reason with this; staff-added ones stay
ILS_DAY_PREFIX = "ILS: "
#: what an item the ILS no longer has becomes: the server and every kiosk's offline
#: policy refuse to lend it, and a return of it is still taken
REMOVED_ITEM_STATUS = "not_for_loan"


class IlsDatabase:
    """What the SQL connectors share: the engine, the marker columns that make their
    write-back exactly once, and the health check.

    A subclass names its system (``LABEL``) and the tables whose rows it writes and
    must find again by transaction (``MARKED_TABLES``).
    """

    LABEL = "ILS"
    MARKED_TABLES: tuple[str, ...] = ()
    #: every member's card and every item's barcode the ILS has (for the sweep)
    MEMBER_KEYS_SQL = ""
    ITEM_KEYS_SQL = ""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.engine = engine or create_engine(url, pool_pre_ping=True, pool_recycle=3600)
        self._prepared = False

    def prepare(self) -> None:
        """Add the key columns the write-back relies on (once; safe to repeat)."""
        if self._prepared:
            return
        with self.engine.begin() as conn:
            # look first: a user that may no longer ALTER (granted once, for this) is fine
            marked = {
                table for (table,) in conn.execute(
                    text(
                        "SELECT TABLE_NAME FROM information_schema.STATISTICS "
                        "WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'pustaka_txn' "
                        "AND NON_UNIQUE = 0"
                    )
                )
            }  # fmt: skip
            for table in self.MARKED_TABLES:
                if table in marked:
                    continue
                conn.execute(
                    text(
                        f"ALTER TABLE `{table}` ADD COLUMN IF NOT EXISTS "
                        "`pustaka_txn` VARCHAR(80) NULL DEFAULT NULL, "
                        "ADD UNIQUE INDEX IF NOT EXISTS `pustaka_txn` (`pustaka_txn`)"
                    )
                )
        self._prepared = True

    def health(self) -> Health:
        try:
            with self.engine.connect() as conn:
                version = conn.execute(text("SELECT VERSION()")).scalar_one()
        except SQLAlchemyError as exc:
            error = exc.__class__.__name__
            return Health(
                False, f"{self.LABEL} database does not answer: {error}", {"error": error}
            )
        return Health(True, f"{self.LABEL} database answers ({version})", {"version": version})

    # -- deletion sweep -----------------------------------------------------

    def _members(
        self, ils: Connection, since: datetime | None, keys: list[str] | None = None
    ) -> list[PatronRow]:
        raise NotImplementedError

    def _items(
        self, ils: Connection, since: datetime | None, keys: list[str] | None = None
    ) -> list[ItemRow]:
        raise NotImplementedError

    @property
    def removed_reason(self) -> str:
        """The blocked reason of a patron the ILS no longer has."""
        return f"removed in {self.LABEL}"

    def sweep(self, db: Database) -> SweepReport:
        """Refuse the mirror's patrons and items the ILS no longer has; restore the
        ones it has again. Writes only what changes (each with the write's version,
        so kiosks get it with their next snapshot delta)."""
        started = time.perf_counter()
        with self.engine.connect() as ils:
            cards = {str(k) for (k,) in ils.execute(text(self.MEMBER_KEYS_SQL))}
            codes = {str(k) for (k,) in ils.execute(text(self.ITEM_KEYS_SQL))}
        reason = self.removed_reason
        with db.read() as session:
            patrons = session.execute(
                select(Patron.id, Patron.card, Patron.status, Patron.blocked_reason).where(
                    Patron.deleted.is_(False)
                )
            ).all()
            items = session.execute(
                select(Item.id, Item.barcode, Item.status).where(Item.deleted.is_(False))
            ).all()
        gone_patrons = [
            pid for pid, card, status, why in patrons
            if card not in cards and (status, why) != ("blocked", reason)
        ]  # fmt: skip
        gone_items = [
            iid for iid, code, status in items
            if code not in codes and status != REMOVED_ITEM_STATUS
        ]  # fmt: skip
        # an empty key list is far likelier a wrong or half-restored database than a
        # library that deleted every member: refuse nobody on its word
        if not cards and gone_patrons:
            log.warning("%s has no members at all: sweep leaves patrons alone", self.LABEL)
            gone_patrons = []
        if not codes and gone_items:
            log.warning("%s has no items at all: sweep leaves items alone", self.LABEL)
            gone_items = []
        back_cards = [card for _, card, _, why in patrons if card in cards and why == reason]
        # an item refused here may be refused in the ILS too: look, write only the changed
        maybe_back = [code for _, code, status in items
                      if code in codes and status == REMOVED_ITEM_STATUS]  # fmt: skip
        back_patrons: list[PatronRow] = []
        back_items: list[ItemRow] = []
        if back_cards or maybe_back:
            with self.engine.connect() as ils:
                if back_cards:
                    back_patrons = self._members(ils, None, keys=back_cards)
                if maybe_back:
                    back_items = [
                        r for r in self._items(ils, None, keys=maybe_back)
                        if r.status != REMOVED_ITEM_STATUS
                    ]  # fmt: skip
        if gone_patrons or gone_items or back_patrons or back_items:
            with db.write() as (session, version):
                mark_removed(session, version, reason, gone_patrons, gone_items)
                upsert_patrons(session, version, back_patrons)
                upsert_items(session, version, back_items)
        return SweepReport(
            patrons_removed=len(gone_patrons),
            items_removed=len(gone_items),
            patrons_back=len(back_patrons),
            items_back=len(back_items),
            seconds=time.perf_counter() - started,
        )


@dataclass
class PatronRow:
    card: str
    name: str
    category: str
    status: str  # active | blocked
    blocked_reason: str | None
    expires_on: date | None
    email: str | None


@dataclass
class ItemRow:
    barcode: str
    title: str
    author: str | None
    isbn: str | None
    item_type: str
    status: str  # available | not_for_loan | lost


def _existing(session: Session, column: Any, keys: list[str], fields: list[str]) -> dict[Any, Any]:
    """The mirrored rows among ``keys``: key -> (id, deleted, *fields)."""
    table = column.table
    cols = [table.c.id, table.c.deleted, *(table.c[f] for f in fields)]
    found: dict[Any, Any] = {}
    for part in chunks(keys):
        for key, *rest in session.execute(select(column, *cols).where(column.in_(part))):
            found[key] = rest
    return found


def _upsert(
    session: Session, table: Table, key: str, version: int, values: list[dict[str, Any]],
    on_insert: dict[str, Any],
) -> int:  # fmt: skip
    """Insert the new rows of ``values`` and overwrite the changed ones, each with
    ``version``; rows the mirror already holds as they are stay untouched, so a pull
    that re-reads them (SLiMS keeps only the date of a member's change) does not make
    every kiosk download them again. Returns how many rows were written."""
    if not values:
        return 0
    fields = [k for k in values[0] if k != key]
    have = _existing(session, table.c[key], [v[key] for v in values], fields)
    new = [{**v, **on_insert, "version": version, "deleted": False}
           for v in values if v[key] not in have]  # fmt: skip
    changed = []
    for v in values:
        row = have.get(v[key])
        if row is None:
            continue
        ident, deleted, *current = row
        if deleted or list(current) != [v[f] for f in fields]:
            changed.append({**v, "_id": ident, "version": version, "deleted": False})
    if new:
        session.execute(insert(table), new)
    if changed:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in changed[0] if k not in (key, "_id")}),
            changed,
        )
    return len(new) + len(changed)


def upsert_patrons(session: Session, version: int, rows: list[PatronRow]) -> int:
    """Insert or overwrite patrons by card; returns how many were written."""
    values = [
        {"card": r.card, "name": r.name, "category": r.category, "status": r.status,
         "blocked_reason": r.blocked_reason, "expires_on": r.expires_on, "email": r.email}
        for r in rows
    ]  # fmt: skip
    return _upsert(session, _PATRONS, "card", version, values, {"fines_idr": 0})


def upsert_items(session: Session, version: int, rows: list[ItemRow]) -> int:
    """Insert or overwrite items by barcode (shelf status, title, type)."""
    values = [
        {"barcode": r.barcode, "title": r.title, "author": r.author, "isbn": r.isbn,
         "item_type": r.item_type, "status": r.status}
        for r in rows
    ]  # fmt: skip
    return _upsert(session, _ITEMS, "barcode", version, values, {})


def keyed_text(sql: str, params: dict[str, Any]) -> TextClause:
    """``text(sql)`` whose ``:keys``, when ``params`` has them, is a list of values."""
    clause = text(sql)
    return clause.bindparams(bindparam("keys", expanding=True)) if "keys" in params else clause


def mark_removed(
    session: Session, version: int, reason: str, patron_ids: list[int], item_ids: list[int]
) -> None:
    """Block patrons (with ``reason``) and refuse items the ILS no longer has."""
    for part in chunks(patron_ids):
        session.execute(
            update(_PATRONS)
            .where(_PATRONS.c.id.in_(part))
            .values(status="blocked", blocked_reason=reason, version=version)
        )
    for part in chunks(item_ids):
        session.execute(
            update(_ITEMS)
            .where(_ITEMS.c.id.in_(part))
            .values(status=REMOVED_ITEM_STATUS, version=version)
        )


def set_holds(session: Session, version: int, holds: dict[str, str]) -> None:
    """Holds as the ILS has them now: ``holds`` maps barcode to the card first in line."""
    cards = {
        card: row[0]
        for card, row in _existing(
            session, _PATRONS.c.card, sorted(set(holds.values())), []
        ).items()
    }
    want = {code: cards.get(card) for code, card in holds.items()}
    held = {
        code: pid
        for code, pid in session.execute(
            select(Item.barcode, Item.hold_patron_id).where(Item.hold_patron_id.is_not(None))
        )
    }
    changes = [(code, want.get(code)) for code in set(held) | set(want)]
    changes = [(code, pid) for code, pid in changes if held.get(code) != pid]
    if changes:
        session.execute(
            update(_ITEMS)
            .where(_ITEMS.c.barcode == bindparam("_code"))
            .values(hold_patron_id=bindparam("_pid"), version=version),
            [{"_code": code, "_pid": pid} for code, pid in changes],
        )


def replace_policies(session: Session, rows: list[tuple[str, str, int, int, int]]) -> int:
    """Loan policies (category, item type, days, max loans, max renewals) from the ILS."""
    session.execute(delete(LoanPolicy))
    for category, item_type, days, max_loans, renewals in rows:
        session.add(
            LoanPolicy(
                category=category,
                item_type=item_type,
                loan_days=days,
                max_loans=max_loans,
                max_renewals=renewals,
                # the ILS refuses by its own fines rules at the desk; kiosks do not
                fines_limit_idr=2**62,
            )
        )
    return len(rows)


def replace_closed_days(session: Session, days: dict[date, str]) -> int:
    """The ILS's holidays as closed days (staff-added days are kept)."""
    ours = set(
        session.scalars(select(ClosedDay.day).where(ClosedDay.reason.like(f"{ILS_DAY_PREFIX}%")))
    )
    other = set(session.scalars(select(ClosedDay.day))) - ours
    gone = ours - set(days)
    if gone:
        session.execute(delete(ClosedDay).where(ClosedDay.day.in_(gone)))
    for day, reason in days.items():
        if day in other:
            continue
        text = (ILS_DAY_PREFIX + reason)[:200]
        if day in ours:
            session.execute(update(ClosedDay).where(ClosedDay.day == day).values(reason=text))
        else:
            session.add(ClosedDay(day=day, reason=text))
    return len(days)
