"""The kiosk's local SQLite store: the outbox and the offline snapshot.

Write-ahead: a transaction is committed here (WAL, ``synchronous=FULL``)
before the patron is told "done", and its local effect on the snapshot (an
item now on loan, a visitor now signed in) is written in the same SQLite
transaction as its outbox row, so a crash at any instant leaves both or
neither. Outbox rows move pending -> in_flight -> sent (or failed, with the
last error); in-flight rows go back to pending at start-up, and the server's
idempotency on the transaction id makes that re-send harmless.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

from sync.ids import uuid7
from sync.wire import (
    Kind,
    Snapshot,
    SnapshotItem,
    SnapshotPatron,
    SnapshotRegistration,
    Status,
    TransactionIn,
    TransactionResult,
)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    offline INTEGER NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    local_result TEXT,
    server_result TEXT,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, seq);
CREATE TABLE IF NOT EXISTS patrons (
    card TEXT PRIMARY KEY, first_name TEXT NOT NULL, status TEXT NOT NULL,
    expires_on TEXT, loan_count INTEGER NOT NULL, loan_limit INTEGER NOT NULL, pin_hash TEXT
);
CREATE TABLE IF NOT EXISTS items (
    barcode TEXT PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL,
    on_loan_to TEXT, due_at TEXT, hold_for TEXT, loan_days INTEGER
);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registrations (
    ticket TEXT PRIMARY KEY, event_id INTEGER NOT NULL, card TEXT, guest_name TEXT,
    signed_in_at TEXT
);
CREATE INDEX IF NOT EXISTS registrations_card ON registrations(event_id, card);
"""


class OutboxState(StrEnum):
    """Where an outbox row is on its way to the server."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"  # the server rejected the request itself (not the transaction); staff look


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One stored transaction with its delivery state."""

    tx: TransactionIn
    state: OutboxState
    attempts: int
    last_error: str | None
    local_result: TransactionResult | None
    server_result: TransactionResult | None


@dataclass(frozen=True, slots=True)
class QueueStats:
    """What staff mode shows about the outbox."""

    pending: int
    in_flight: int
    failed: int
    sent: int
    conflicts: int
    oldest_pending_at: datetime | None
    last_sent_at: float | None


def ticket_code(ticket: str) -> str:
    """The registration code inside a signed ticket payload ``PK1.<event>.<code>.<sig>``."""
    parts = ticket.split(".")
    return parts[2] if len(parts) == 4 and parts[0] == "PK1" else ticket


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


class LocalStore:
    """The kiosk's durable state. Thread-safe: one connection guarded by a lock.

    One connection (not one per thread) keeps SQLite's write ordering simple;
    every statement here is short, so the lock is never held across I/O other
    than the commit's fsync.
    """

    def __init__(self, path: Path | str, *, kiosk: str, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.kiosk = kiosk
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            # Rows that were in flight when the process died go back to pending:
            # the server may or may not have them, and it is idempotent on the id.
            db.execute("UPDATE outbox SET state='pending' WHERE state='in_flight'")

    # -- plumbing -----------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- transactions -------------------------------------------------------
    def new_transaction(
        self, kind: Kind, *, at: datetime | None = None, **fields: object
    ) -> TransactionIn:
        """A new transaction with a fresh UUIDv7 id and the next kiosk sequence number.

        The sequence number is reserved durably now, so a crash between the
        online decision and the local commit leaves a gap, never a reuse.
        """
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
            seq = int(row[0]) if row else 1
            top = db.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]
            seq = max(seq, top + 1)
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('next_seq', ?)", (str(seq + 1),)
            )
        return TransactionIn(
            id=uuid7(),
            kiosk=self.kiosk,
            seq=seq,
            kind=kind,
            at=at or datetime.now(UTC),
            **fields,  # type: ignore[arg-type]
        )

    def commit(
        self, tx: TransactionIn, result: TransactionResult, *, applied_on_server: bool
    ) -> None:
        """Store a decided transaction and its local effect in one SQLite transaction.

        ``applied_on_server`` is true when the server itself decided (online):
        the row is then already sent. Refusals are stored too (audit trail),
        as sent when the server refused, and never sent when the kiosk refused
        offline, because nothing happened.
        """
        if applied_on_server:
            state = OutboxState.SENT
        elif result.status == Status.REFUSED:
            state = OutboxState.SENT  # a local refusal changes nothing anywhere: nothing to send
        else:
            state = OutboxState.PENDING
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO outbox(seq, id, kind, at, offline, payload, state, local_result,"
                " server_result, created_at, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    tx.seq,
                    tx.id,
                    tx.kind.value,
                    tx.at.isoformat(),
                    int(tx.offline),
                    tx.model_dump_json(),
                    state.value,
                    result.model_dump_json(),
                    result.model_dump_json() if applied_on_server else None,
                    now,
                    now if state == OutboxState.SENT else None,
                ),
            )
            if result.status != Status.REFUSED:
                self._apply_local_effect(db, tx, result)

    def _apply_local_effect(
        self, db: sqlite3.Connection, tx: TransactionIn, result: TransactionResult
    ) -> None:
        # Keep the snapshot in step with what this kiosk did, so the next
        # offline decision (same session or the next patron) sees it.
        if tx.kind == Kind.CHECKOUT and tx.item:
            prev = db.execute("SELECT on_loan_to FROM items WHERE barcode=?", (tx.item,)).fetchone()
            db.execute(
                "UPDATE items SET status='on_loan', on_loan_to=?, due_at=? WHERE barcode=?",
                (tx.card, _iso(result.due_at), tx.item),
            )
            if not prev or prev[0] != tx.card:
                db.execute("UPDATE patrons SET loan_count=loan_count+1 WHERE card=?", (tx.card,))
        elif tx.kind == Kind.CHECKIN and tx.item:
            prev = db.execute("SELECT on_loan_to FROM items WHERE barcode=?", (tx.item,)).fetchone()
            db.execute(
                "UPDATE items SET status='available', on_loan_to=NULL, due_at=NULL WHERE barcode=?",
                (tx.item,),
            )
            if prev and prev[0]:
                db.execute(
                    "UPDATE patrons SET loan_count=MAX(loan_count-1, 0) WHERE card=?", (prev[0],)
                )
        elif tx.kind == Kind.RENEW and tx.item and result.due_at:
            db.execute("UPDATE items SET due_at=? WHERE barcode=?", (_iso(result.due_at), tx.item))
        elif tx.kind == Kind.EVENT_REGISTER and result.ticket and tx.event_id is not None:
            db.execute(
                "INSERT OR IGNORE INTO registrations(ticket, event_id, card, guest_name)"
                " VALUES (?,?,?,?)",
                (
                    ticket_code(result.ticket),
                    tx.event_id,
                    tx.card,
                    tx.guest.name if tx.guest else None,
                ),
            )
        elif tx.kind == Kind.DOOR_SIGNIN and tx.event_id is not None:
            when = _iso(result.signed_in_at or tx.at)
            if tx.ticket:
                db.execute(
                    "UPDATE registrations SET signed_in_at=COALESCE(signed_in_at, ?)"
                    " WHERE ticket=?",
                    (when, ticket_code(tx.ticket)),
                )
            elif tx.card:
                cur = db.execute(
                    "UPDATE registrations SET signed_in_at=COALESCE(signed_in_at, ?)"
                    " WHERE event_id=? AND card=?",
                    (when, tx.event_id, tx.card),
                )
                if cur.rowcount == 0:
                    db.execute(
                        "INSERT OR IGNORE INTO registrations(ticket, event_id, card, signed_in_at)"
                        " VALUES (?,?,?,?)",
                        (f"walkin:{tx.id}", tx.event_id, tx.card, when),
                    )
            elif tx.guest:
                db.execute(
                    "INSERT OR IGNORE INTO registrations"
                    "(ticket, event_id, guest_name, signed_in_at) VALUES (?,?,?,?)",
                    (f"walkin:{tx.id}", tx.event_id, tx.guest.name, when),
                )

    def pending(self, limit: int) -> list[TransactionIn]:
        """The oldest pending transactions, in kiosk sequence order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT payload FROM outbox WHERE state='pending' ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [TransactionIn.model_validate_json(r[0]) for r in rows]

    def mark_in_flight(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state='in_flight', attempts=attempts+1 WHERE id=?",
                [(i,) for i in ids],
            )

    def mark_sent(self, results: Iterable[TransactionResult]) -> None:
        now = time.time()
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state='sent', server_result=?, sent_at=?, last_error=NULL"
                " WHERE id=?",
                [(r.model_dump_json(), now, r.id) for r in results],
            )
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_sync', ?)", (str(now),)
            )

    def mark_retry(self, ids: Iterable[str], error: str) -> None:
        """Back to pending after a failed attempt; the error is kept for staff."""
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state='pending', last_error=? WHERE id=?",
                [(error[:500], i) for i in ids],
            )

    def mark_failed(self, tx_id: str, error: str) -> None:
        """The server will never accept this request as sent; kept for staff and export."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state='failed', last_error=? WHERE id=?", (error[:500], tx_id)
            )

    def row(self, tx_id: str) -> OutboxRow | None:
        with self._lock:
            r = self._db.execute(
                "SELECT payload, state, attempts, last_error, local_result, server_result"
                " FROM outbox WHERE id=?",
                (tx_id,),
            ).fetchone()
        if r is None:
            return None
        return OutboxRow(
            tx=TransactionIn.model_validate_json(r[0]),
            state=OutboxState(r[1]),
            attempts=r[2],
            last_error=r[3],
            local_result=TransactionResult.model_validate_json(r[4]) if r[4] else None,
            server_result=TransactionResult.model_validate_json(r[5]) if r[5] else None,
        )

    def rows(self, states: Iterable[OutboxState] | None = None) -> list[OutboxRow]:
        with self._lock:
            if states is None:
                ids = self._db.execute("SELECT id FROM outbox ORDER BY seq").fetchall()
            else:
                st = [s.value for s in states]
                marks = ",".join("?" * len(st))
                ids = self._db.execute(
                    f"SELECT id FROM outbox WHERE state IN ({marks}) ORDER BY seq", st
                ).fetchall()
        out = [self.row(i[0]) for i in ids]
        return [r for r in out if r is not None]

    def stats(self) -> QueueStats:
        with self._lock:
            counts = dict(
                self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
            )
            oldest = self._db.execute(
                "SELECT MIN(at) FROM outbox WHERE state IN ('pending','in_flight')"
            ).fetchone()[0]
            conflicts = self._db.execute(
                'SELECT COUNT(*) FROM outbox WHERE server_result LIKE \'%"status":"conflict"%\''
            ).fetchone()[0]
        last = self.get_meta("last_sync")
        return QueueStats(
            pending=counts.get("pending", 0),
            in_flight=counts.get("in_flight", 0),
            failed=counts.get("failed", 0),
            sent=counts.get("sent", 0),
            conflicts=conflicts,
            oldest_pending_at=_dt(oldest),
            last_sent_at=float(last) if last else None,
        )

    def queue_depth(self) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE state IN ('pending','in_flight')"
            ).fetchone()[0]

    # -- snapshot -----------------------------------------------------------
    def apply_snapshot(self, snap: Snapshot) -> None:
        """Store a full snapshot or a delta, and its cursor, in one transaction.

        Local effects of transactions the server has not seen yet are replayed
        on top, so a fresh snapshot never undoes what this kiosk just did.
        """
        with self._tx() as db:
            if snap.full:
                for table in ("patrons", "items", "events", "registrations"):
                    db.execute(f"DELETE FROM {table}")
            self._upsert_patrons(db, snap.patrons)
            self._upsert_items(db, snap.items)
            for ev in snap.events:
                db.execute(
                    "INSERT OR REPLACE INTO events(id, data) VALUES (?, ?)",
                    (ev.id, ev.model_dump_json()),
                )
            self._upsert_registrations(db, snap.registrations)
            unsent = db.execute(
                "SELECT payload, local_result FROM outbox WHERE state IN ('pending','in_flight')"
                " ORDER BY seq"
            ).fetchall()
            for payload, local in unsent:
                res = TransactionResult.model_validate_json(local)
                if res.status != Status.REFUSED:
                    self._apply_local_effect(db, TransactionIn.model_validate_json(payload), res)
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('snapshot_cursor', ?)",
                (snap.cursor,),
            )
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('snapshot_at', ?)",
                (str(time.time()),),
            )
            if snap.ticket_public_key:
                db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('ticket_public_key', ?)",
                    (snap.ticket_public_key,),
                )

    def _upsert_patrons(self, db: sqlite3.Connection, patrons: list[SnapshotPatron]) -> None:
        gone = [(p.card,) for p in patrons if p.deleted]
        db.executemany("DELETE FROM patrons WHERE card=?", gone)
        db.executemany(
            "INSERT OR REPLACE INTO patrons VALUES (?,?,?,?,?,?,?)",
            [
                (
                    p.card,
                    p.first_name,
                    p.status.value,
                    p.expires_on.isoformat() if p.expires_on else None,
                    p.loan_count,
                    p.loan_limit,
                    p.pin_hash,
                )
                for p in patrons
                if not p.deleted
            ],
        )

    def _upsert_items(self, db: sqlite3.Connection, items: list[SnapshotItem]) -> None:
        db.executemany(
            "DELETE FROM items WHERE barcode=?", [(i.barcode,) for i in items if i.deleted]
        )
        db.executemany(
            "INSERT OR REPLACE INTO items VALUES (?,?,?,?,?,?,?)",
            [
                (
                    i.barcode,
                    i.title,
                    i.status,
                    i.on_loan_to,
                    _iso(i.due_at),
                    i.hold_for,
                    i.loan_days,
                )
                for i in items
                if not i.deleted
            ],
        )

    def _upsert_registrations(
        self, db: sqlite3.Connection, regs: list[SnapshotRegistration]
    ) -> None:
        db.executemany(
            "DELETE FROM registrations WHERE ticket=?", [(r.ticket,) for r in regs if r.deleted]
        )
        db.executemany(
            "INSERT OR REPLACE INTO registrations(ticket, event_id, card, guest_name, signed_in_at)"
            " VALUES (?,?,?,?,?)",
            [
                (r.ticket, r.event_id, r.card, r.guest_name, _iso(r.signed_in_at))
                for r in regs
                if not r.deleted
            ],
        )

    def snapshot_cursor(self) -> str | None:
        return self.get_meta("snapshot_cursor")

    def snapshot_age_s(self) -> float | None:
        at = self.get_meta("snapshot_at")
        return None if at is None else max(0.0, time.time() - float(at))

    def patron(self, card: str) -> SnapshotPatron | None:
        with self._lock:
            r = self._db.execute(
                "SELECT card, first_name, status, expires_on, loan_count, loan_limit, pin_hash"
                " FROM patrons WHERE card=?",
                (card,),
            ).fetchone()
        if r is None:
            return None
        return SnapshotPatron(
            card=r[0],
            first_name=r[1],
            status=r[2],
            expires_on=date.fromisoformat(r[3]) if r[3] else None,
            loan_count=r[4],
            loan_limit=r[5],
            pin_hash=r[6],
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
        with self._lock:
            rows = self._db.execute(
                "SELECT barcode FROM items WHERE on_loan_to=?", (card,)
            ).fetchall()
        return [i for i in (self.item(r[0]) for r in rows) if i is not None]

    def events(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM events ORDER BY id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def registration(
        self, *, ticket: str | None = None, event_id: int | None = None, card: str | None = None
    ) -> SnapshotRegistration | None:
        with self._lock:
            if ticket is not None:
                r = self._db.execute(
                    "SELECT ticket, event_id, card, guest_name, signed_in_at FROM registrations"
                    " WHERE ticket=?",
                    (ticket,),
                ).fetchone()
            else:
                r = self._db.execute(
                    "SELECT ticket, event_id, card, guest_name, signed_in_at FROM registrations"
                    " WHERE event_id=? AND card=?",
                    (event_id, card),
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
