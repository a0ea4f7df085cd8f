"""The offline snapshot half of the local store: applying copies and reading them.

Loans, holds and registrations hold card tags, never card numbers; the store
compares a scanned card through ``keys`` (``sync.secrets.KioskKeys``, kept in
its own file) and SQL statements through the ``card_tag()`` function the
store registers on its connection.

A full snapshot (hundreds of thousands of rows) is written into staging tables
in short chunks, each its own SQLite transaction, and then swapped in by
renaming tables in one short transaction. The store's lock is released between
chunks, so a patron's scan is decided and committed while a large download is
being stored, instead of waiting seconds behind it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from core.wire import (
    Snapshot,
    SnapshotItem,
    SnapshotPatron,
    SnapshotRegistration,
    Status,
    TransactionIn,
    TransactionResult,
)
from sync.effects import apply_local_effect
from sync.secrets import KioskKeys

SNAPSHOT_TABLES = {
    "patrons": (
        "card TEXT PRIMARY KEY, first_name TEXT NOT NULL, status TEXT NOT NULL,"
        " expires_on TEXT, loan_count INTEGER NOT NULL, loan_limit INTEGER NOT NULL, pin_hash TEXT,"
        " pin_required INTEGER NOT NULL DEFAULT 0"
    ),
    "items": (
        "barcode TEXT PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL,"
        " on_loan_to TEXT, due_at TEXT, hold_for TEXT, loan_days INTEGER"
    ),
    "events": "id INTEGER PRIMARY KEY, data TEXT NOT NULL",
    "registrations": (
        "ticket TEXT PRIMARY KEY, event_id INTEGER NOT NULL, card TEXT, guest_name TEXT,"
        " signed_in_at TEXT"
    ),
}
SNAPSHOT_INDEXES = (
    "CREATE INDEX IF NOT EXISTS registrations_card ON registrations(event_id, card)",
    "CREATE INDEX IF NOT EXISTS items_on_loan_to ON items(on_loan_to)",
)

CHUNK_ROWS = 20_000

_PATRON_SQL = "INSERT OR REPLACE INTO {t} VALUES (?,?,?,?,?,?,?,?)"
_ITEM_SQL = "INSERT OR REPLACE INTO {t} VALUES (?,?,?,?,?,?,?)"
_REG_SQL = (
    "INSERT OR REPLACE INTO {t}(ticket, event_id, card, guest_name, signed_in_at)"
    " VALUES (?,?,?,?,?)"
)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def _patron_rows(patrons: Sequence[SnapshotPatron]) -> list[tuple[Any, ...]]:
    return [
        (
            p.card,
            p.first_name,
            p.status.value,
            p.expires_on.isoformat() if p.expires_on else None,
            p.loan_count,
            p.loan_limit,
            p.pin_hash,
            int(p.pin_required or p.pin_hash is not None),
        )
        for p in patrons
        if not p.deleted
    ]


def _item_rows(items: Sequence[SnapshotItem]) -> list[tuple[Any, ...]]:
    return [
        (i.barcode, i.title, i.status, i.on_loan_to, _iso(i.due_at), i.hold_for, i.loan_days)
        for i in items
        if not i.deleted
    ]


def _reg_rows(regs: Sequence[SnapshotRegistration]) -> list[tuple[Any, ...]]:
    return [
        (r.ticket, r.event_id, r.card, r.guest_name, _iso(r.signed_in_at))
        for r in regs
        if not r.deleted
    ]


def _chunks(rows: list[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class SnapshotStoreMixin:
    """Snapshot methods of :class:`sync.store.LocalStore` (shares its connection and lock)."""

    _db: sqlite3.Connection
    _lock: threading.RLock
    keys: KioskKeys

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:  # provided by LocalStore
        raise NotImplementedError

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        raise NotImplementedError

    # -- writing ------------------------------------------------------------
    def apply_snapshot(self, snap: Snapshot) -> None:
        """Store a full snapshot or a delta, and its cursor.

        Local effects of transactions the server has not seen yet are replayed
        on top (they are idempotent), so a fresh snapshot never undoes what
        this kiosk just did.
        """
        if snap.full:
            self._apply_full(snap)
            return
        with self._tx() as db:
            for gone, table, key in (
                ([p.card for p in snap.patrons if p.deleted], "patrons", "card"),
                ([i.barcode for i in snap.items if i.deleted], "items", "barcode"),
                ([r.ticket for r in snap.registrations if r.deleted], "registrations", "ticket"),
            ):
                db.executemany(f"DELETE FROM {table} WHERE {key}=?", [(k,) for k in gone])
            self._insert_all(db, snap, suffix="")
            self._finish(db, snap)

    def _insert_all(self, db: sqlite3.Connection, snap: Snapshot, suffix: str) -> None:
        db.executemany(_PATRON_SQL.format(t="patrons" + suffix), _patron_rows(snap.patrons))
        db.executemany(_ITEM_SQL.format(t="items" + suffix), _item_rows(snap.items))
        db.executemany(
            f"INSERT OR REPLACE INTO events{suffix}(id, data) VALUES (?, ?)",
            [(ev.id, ev.model_dump_json()) for ev in snap.events],
        )
        db.executemany(_REG_SQL.format(t="registrations" + suffix), _reg_rows(snap.registrations))

    def _apply_full(self, snap: Snapshot) -> None:
        with self._tx() as db:
            for table, cols in SNAPSHOT_TABLES.items():
                db.execute(f"DROP TABLE IF EXISTS {table}_new")
                db.execute(f"CREATE TABLE {table}_new ({cols})")
        # Big tables go in chunks, each its own short transaction: decisions interleave.
        for sql, rows in (
            (_PATRON_SQL.format(t="patrons_new"), _patron_rows(snap.patrons)),
            (_ITEM_SQL.format(t="items_new"), _item_rows(snap.items)),
            (_REG_SQL.format(t="registrations_new"), _reg_rows(snap.registrations)),
        ):
            for chunk in _chunks(rows, CHUNK_ROWS):
                with self._tx() as db:
                    db.executemany(sql, chunk)
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO events_new(id, data) VALUES (?, ?)",
                [(ev.id, ev.model_dump_json()) for ev in snap.events],
            )
            for table in SNAPSHOT_TABLES:
                db.execute(f"DROP TABLE {table}")
                db.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
            for stmt in SNAPSHOT_INDEXES:
                db.execute(stmt)
            self._finish(db, snap)

    def _finish(self, db: sqlite3.Connection, snap: Snapshot) -> None:
        unsent = db.execute(
            "SELECT payload, local_result FROM outbox WHERE seq >= CAST((SELECT value FROM meta"
            " WHERE key='unsent_from') AS INTEGER) AND state IN ('pending','in_flight')"
            " ORDER BY seq"
        ).fetchall()
        for payload, local in unsent:
            res = TransactionResult.model_validate_json(local)
            if res.status != Status.REFUSED:
                apply_local_effect(db, TransactionIn.model_validate_json(payload), res)
        meta = [("snapshot_cursor", snap.cursor), ("snapshot_at", str(time.time()))]
        meta.append(("snapshot_generated_at", snap.generated_at.isoformat()))
        if snap.ticket_public_key:
            meta.append(("ticket_public_key", snap.ticket_public_key))
        if snap.key_id:
            meta.append(("snapshot_key_id", snap.key_id))
        db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", meta)

    # -- reading ------------------------------------------------------------
    def snapshot_cursor(self) -> str | None:
        return self.get_meta("snapshot_cursor")

    def snapshot_age_s(self) -> float | None:
        """Seconds since the last snapshot was stored (None: never)."""
        at = self.get_meta("snapshot_at")
        return None if at is None else max(0.0, time.time() - float(at))

    def ticket_public_key(self) -> str | None:
        return self.get_meta("ticket_public_key")

    def patron(self, card: str) -> SnapshotPatron | None:
        """A patron by card; ``loan_count`` counts the items on loan to their card tag
        (so this kiosk's own offline loans and returns count at once)."""
        tag = self.keys.tag(card)
        with self._lock:
            r = self._db.execute(
                "SELECT card, first_name, status, expires_on, loan_count, loan_limit, pin_hash,"
                " pin_required FROM patrons WHERE card=?",
                (card,),
            ).fetchone()
            if r is not None and tag is not None:
                count = self._db.execute(
                    "SELECT COUNT(*) FROM items WHERE on_loan_to=?", (tag,)
                ).fetchone()[0]
            elif r is not None:
                count = r[4]
        if r is None:
            return None
        return SnapshotPatron(
            card=r[0],
            first_name=r[1],
            status=r[2],
            expires_on=date.fromisoformat(r[3]) if r[3] else None,
            loan_count=count,
            loan_limit=r[5],
            pin_hash=r[6],
            pin_required=bool(r[7]) or r[6] is not None,
        )

    def item(self, barcode: str) -> SnapshotItem | None:
        with self._lock:
            r = self._db.execute(
                "SELECT barcode, title, status, on_loan_to, due_at, hold_for, loan_days"
                " FROM items WHERE barcode=?",
                (barcode,),
            ).fetchone()
        if r is None:
            return None
        return SnapshotItem(
            barcode=r[0],
            title=r[1],
            status=r[2],
            on_loan_to=r[3],
            due_at=_dt(r[4]),
            hold_for=r[5],
            loan_days=r[6],
        )

    def loans_of(self, card: str) -> list[SnapshotItem]:
        """Items the snapshot (plus this kiosk's own unsent work) has on loan to a card."""
        tag = self.keys.tag(card)
        if tag is None:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT barcode FROM items WHERE on_loan_to=?", (tag,)
            ).fetchall()
        return [i for i in (self.item(r[0]) for r in rows) if i is not None]

    def events(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM events ORDER BY id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def registration(
        self, *, ticket: str | None = None, event_id: int | None = None, card: str | None = None
    ) -> SnapshotRegistration | None:
        cols = "SELECT ticket, event_id, card, guest_name, signed_in_at FROM registrations"
        with self._lock:
            if ticket is not None:
                r = self._db.execute(cols + " WHERE ticket=?", (ticket,)).fetchone()
            else:
                r = self._db.execute(
                    cols + " WHERE event_id=? AND card=? ORDER BY signed_in_at IS NULL LIMIT 1",
                    (event_id, self.keys.tag(card)),
                ).fetchone()
        if r is None:
            return None
        return SnapshotRegistration(
            ticket=r[0], event_id=r[1], card=r[2], guest_name=r[3], signed_in_at=_dt(r[4])
        )

    def attendance(self, event_id: int) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM registrations WHERE event_id=? AND signed_in_at IS NOT NULL",
                (event_id,),
            ).fetchone()[0]

    def snapshot_counts(self) -> dict[str, int]:
        """Rows per snapshot table (staff status)."""
        with self._lock:
            return {
                t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in SNAPSHOT_TABLES
            }
