"""The kiosk's local SQLite store: the outbox and the offline snapshot.

Write-ahead: a transaction is committed here (WAL, ``synchronous=FULL``)
before the patron is told "done", and its local effect on the snapshot (an
item now on loan, a visitor now signed in) is written in the same SQLite
transaction as its outbox row, so a crash at any instant leaves both or
neither. Outbox rows move pending -> in_flight -> sent (or failed, with the
last error); in-flight rows go back to pending at start-up, and the server's
idempotency on the transaction id makes that re-send harmless.

When the server's result for an offline transaction differs from what the
kiosk told the patron (accepted offline, refused or conflicting on the
server), the row is flagged with a ``mismatch`` so staff can see it; once they
have settled it with the patron, they mark it handled (``handled_at``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from core.ids import uuid7
from core.wire import Kind, Reason, Status, TransactionIn, TransactionResult
from sync.effects import apply_local_effect, ticket_code
from sync.snapshot_store import SNAPSHOT_INDEXES, SNAPSHOT_TABLES, SnapshotStoreMixin

log = logging.getLogger(__name__)

__all__ = ["LocalStore", "OutboxRow", "OutboxState", "QueueStats", "ticket_code"]

SCHEMA_VERSION = 6

#: Sequence numbers are reserved durably in blocks: one extra fsync per block
#: instead of one per transaction. A crash leaves a gap, never a reuse.
SEQ_BLOCK = 256

_OUTBOX = """
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
    sent_at REAL,
    server_status TEXT,
    mismatch TEXT,
    handled_at REAL,
    handled_by TEXT
);
-- Cards counted in the guest book, per counting window (Visit.window): a card
-- scanned again in the same window is welcomed again but not counted again.
-- Written with the visit's outbox row (sync/effects.py); old windows are pruned.
CREATE TABLE IF NOT EXISTS visit_marks (
    card TEXT NOT NULL,
    window TEXT NOT NULL,
    first_at TEXT NOT NULL,
    PRIMARY KEY (card, window)
) WITHOUT ROWID;
-- A transaction sent for an online decision whose result is not committed yet.
-- Committed (fsync) before the request goes out, deleted in the same SQLite
-- transaction as the outbox row: one left behind means the kiosk stopped while
-- the server may have applied it and before the patron saw any result.
CREATE TABLE IF NOT EXISTS intents (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

#: Rows that may be unsent (pending or in flight) all have ``seq >= UNSENT_FROM``.
#: The low-water mark is kept in ``meta`` and moved in the same SQLite transaction
#: as the rows it covers, so it holds after every commit, across processes and
#: crashes. It replaces an index on ``state``: that index cost every enqueue one
#: more b-tree (and one more page in its WAL commit), while unsent rows are few
#: and sit at the end of the table, where a rowid range scan finds them.
UNSENT_FROM = "CAST((SELECT value FROM meta WHERE key='unsent_from') AS INTEGER)"
_UNSENT = f"seq >= {UNSENT_FROM} AND state IN ('pending','in_flight')"
#: A pending row committed below the mark (its seq was taken before a sync moved
#: the mark past it, e.g. while the online decision was awaited) lowers it.
_LOWER_MARK = "UPDATE meta SET value=?1 WHERE key='unsent_from' AND CAST(value AS INTEGER) > ?1"

#: A difference from what the patron was told that staff have not settled yet.
_OPEN_MISMATCH = "(mismatch IS NOT NULL AND handled_at IS NULL)"
#: Rows staff must look at: failed, in conflict on the server, or different from what
#: the patron was told and not handled yet. A partial index holds only these (see
#: ``_migrate``): an enqueue never matches it, so it adds no page to a patron's commit,
#: and the staff screen counts them without reading the years of sent rows around them.
_FLAGGED = f"(state='failed' OR server_status='conflict' OR {_OPEN_MISMATCH})"

#: ``server_status`` of a row whose conflict staff resolved on the server since.
RESOLVED = "resolved"

#: Rows looked at per :meth:`LocalStore.prune_sent` call (one short write transaction:
#: a patron's commit waits for it at most a few milliseconds).
PRUNE_BATCH = 1000
#: Rows pruning never drops: those staff must see, and sent rows the server has no
#: result for (refused offline by the kiosk: the only record of them is here).
_KEPT = f"({_FLAGGED} OR (state='sent' AND server_status IS NULL))"
#: An integer kept in ``meta`` (0 when not there yet).
_META_INT = "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key=?), 0)"

#: What an interrupted decision's local result says, and its mismatch after it.
_INTERRUPTED = "the kiosk stopped before the patron saw a result"

#: pydantic's own serialisers, called directly (``model_dump_json`` adds a Python layer).
_TX_JSON = TransactionIn.__pydantic_serializer__.to_json
_RESULT_JSON = TransactionResult.__pydantic_serializer__.to_json
_TX_VALIDATE = TransactionIn.__pydantic_validator__.validate_python
_MADE_HERE = frozenset({"id", "kiosk", "seq", "kind", "at"})

_INSERT = (
    "INSERT INTO outbox(seq, id, kind, at, offline, payload, state, local_result,"
    " server_result, created_at, sent_at, server_status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _outbox_params(
    tx: TransactionIn, result: TransactionResult, *, sent: bool, on_server: bool
) -> tuple[object, ...]:
    """The values of one outbox row (``_INSERT``'s parameters).

    Rows are kept narrow (no nulls, no default values): fewer bytes per commit.
    Plain str and int only: sqlite3 looks for an adapter for any subclass (an
    enum member, a bool), which costs more than taking the value here.
    """
    res_json = _RESULT_JSON(result, exclude_defaults=True).decode()
    now = time.time()
    return (
        tx.seq,
        tx.id,
        tx.kind.value,
        tx.at.isoformat(),
        1 if tx.offline else 0,
        _TX_JSON(tx, exclude_defaults=True).decode(),
        _SENT if sent else _PENDING,
        res_json,
        res_json if on_server else None,
        now,
        now if sent else None,
        result.status.value if on_server else None,
    )


class OutboxState(StrEnum):
    """Where an outbox row is on its way to the server."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"  # the server rejected the request itself (not the transaction); staff look


_PENDING = OutboxState.PENDING.value
_SENT = OutboxState.SENT.value


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One stored transaction with its delivery state."""

    tx: TransactionIn
    state: OutboxState
    attempts: int
    last_error: str | None
    local_result: TransactionResult | None
    server_result: TransactionResult | None
    mismatch: str | None = None
    server_status: str | None = None  # as last heard: accepted, refused, conflict, resolved
    handled_at: float | None = None  # when staff settled the mismatch with the patron

    @property
    def open_mismatch(self) -> bool:
        """A difference from what the patron was told, not settled yet (``_OPEN_MISMATCH``)."""
        return self.mismatch is not None and self.handled_at is None


@dataclass(frozen=True, slots=True)
class QueueStats:
    """What staff mode shows about the outbox."""

    pending: int
    in_flight: int
    failed: int
    # sent in all, pruned rows included; counted only when asked: stats(count_sent=True)
    sent: int | None
    conflicts: int
    oldest_pending_at: datetime | None
    last_sent_at: float | None
    mismatches: int = 0
    last_error: str | None = None


def mismatch_of(local: TransactionResult, server: TransactionResult) -> str | None:
    """Why the server's result differs from what the kiosk told the patron, or None."""
    if local.status != server.status:
        if local.reason == Reason.KIOSK_INTERRUPTED:
            said = _INTERRUPTED
        else:
            said = f"kiosk said {local.status.value}"
        why = f"{said}, server says {server.status.value}"
        if server.reason is not None:
            why += f" ({server.reason.value})"
        return why
    if local.due_at is not None and server.due_at is not None and local.due_at != server.due_at:
        return f"slip due {local.due_at.isoformat()}, server due {server.due_at.isoformat()}"
    return None


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


class LocalStore(SnapshotStoreMixin):
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
            self.path,
            check_same_thread=False,
            isolation_level=None,
            timeout=30,
            cached_statements=256,
        )
        self._cur = self._db.cursor()  # the enqueue path's cursor (used under the lock)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_OUTBOX)
        for table, cols in SNAPSHOT_TABLES.items():
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
        for stmt in SNAPSHOT_INDEXES:
            self._db.execute(stmt)
        with self._tx() as db:
            self._migrate(db)
            # Rows that were in flight when the process died go back to pending:
            # the server may or may not have them, and it is idempotent on the id.
            db.execute(
                f"UPDATE outbox SET state='pending' WHERE seq >= {UNSENT_FROM}"
                " AND state='in_flight'"
            )
            row = db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
            top = db.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]
            self._next_seq = max(int(row[0]) if row else 1, top + 1)
            self._seq_limit = self._next_seq  # nothing reserved yet in this process

    def _migrate(self, db: sqlite3.Connection) -> None:
        cols = {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
        for col, kind in (
            ("server_status", "TEXT"),  # schema 2
            ("mismatch", "TEXT"),
            ("handled_at", "REAL"),  # schema 6
            ("handled_by", "TEXT"),
        ):
            if col not in cols:
                db.execute(f"ALTER TABLE outbox ADD COLUMN {col} {kind}")
        if db.execute("SELECT 1 FROM meta WHERE key='unsent_from'").fetchone() is None:
            # A new store, or one from schema version 2 (with the index on state,
            # still there to find the unsent rows once before it goes).
            low = db.execute(
                "SELECT MIN(seq) FROM outbox WHERE state IN ('pending','in_flight')"
            ).fetchone()[0]
            if low is None:
                low = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").fetchone()[0]
            db.execute("INSERT INTO meta(key, value) VALUES ('unsent_from', ?)", (str(low),))
        db.execute("DROP INDEX IF EXISTS outbox_state")
        # Schema 6 (schema 5's outbox_flagged counted handled mismatches). A store with
        # years of rows builds it once, here (~1 s per 300k rows).
        db.execute("DROP INDEX IF EXISTS outbox_flagged")
        db.execute(f"CREATE INDEX IF NOT EXISTS outbox_follow_up ON outbox(seq) WHERE {_FLAGGED}")
        db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )

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
    def _take_seq(self) -> int:
        with self._lock:
            if self._next_seq >= self._seq_limit:
                with self._tx() as db:
                    # Another store on this file (a second process, a tool) may have
                    # reserved a block since we last looked: start past its reservation.
                    row = db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
                    if row is not None and int(row[0]) > self._next_seq:
                        self._next_seq = int(row[0])
                    limit = self._next_seq + SEQ_BLOCK
                    db.execute(
                        "INSERT OR REPLACE INTO meta(key, value) VALUES ('next_seq', ?)",
                        (str(limit),),
                    )
                self._seq_limit = limit
            seq = self._next_seq
            self._next_seq += 1
            return seq

    def new_transaction(
        self, kind: Kind, *, at: datetime | None = None, **fields: object
    ) -> TransactionIn:
        """A new transaction with a fresh UUIDv7 id and the next kiosk sequence number.

        The sequence number is reserved durably (in blocks) before it is handed
        out, so a crash between an online decision and the local commit leaves
        a gap in the sequence, never a reuse.
        """
        if fields.keys() & _MADE_HERE:
            raise TypeError(f"new_transaction() makes {sorted(fields.keys() & _MADE_HERE)} itself")
        fields["id"] = uuid7()
        fields["kiosk"] = self.kiosk
        fields["seq"] = self._take_seq()
        fields["kind"] = kind
        fields["at"] = at or datetime.now(UTC)
        # The same validation as TransactionIn(**fields), without BaseModel.__init__'s layer.
        tx: TransactionIn = _TX_VALIDATE(fields)
        return tx

    def begin_online(self, tx: TransactionIn) -> None:
        """Durably note that ``tx`` is about to be sent for an online decision.

        :meth:`commit` with ``had_intent=True`` removes the note with the result.
        A note still here after a crash is picked up by :meth:`recover_interrupted`.
        """
        payload = _TX_JSON(tx, exclude_defaults=True).decode()
        with self._tx() as db:
            db.execute(
                "INSERT INTO intents(seq, id, payload, created_at) VALUES (?,?,?,?)",
                (tx.seq, tx.id, payload, time.time()),
            )

    def intents(self) -> list[str]:
        """Ids sent for an online decision whose result is not committed (yet)."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM intents ORDER BY seq")]

    def recover_interrupted(self, older_than_s: float) -> int:
        """Queue the transactions a stopped kiosk left undecided; returns how many.

        The server may have applied one before the kiosk stopped, and nobody saw
        its result. Each is queued as refused here (``kiosk_refused``): the server
        returns its first result if it had applied it (the kiosk then flags the
        difference for staff), or logs a refusal that changes nothing, after which
        a late copy of the lost request can no longer apply. Only notes older than
        ``older_than_s`` are taken, so a decision still in progress in another
        process on this file is left alone.
        """
        cutoff = time.time() - older_than_s
        # The sync worker asks before every drain: a plain read answers "nothing"
        # without taking SQLite's write lock beside the patrons' commits.
        with self._lock:
            if not self._db.execute(
                "SELECT 1 FROM intents WHERE created_at <= ? LIMIT 1", (cutoff,)
            ).fetchone():
                return 0
        with self._tx() as db:
            found = db.execute(
                "SELECT seq, payload FROM intents WHERE created_at <= ? ORDER BY seq", (cutoff,)
            ).fetchall()
            for seq, payload in found:
                db.execute("DELETE FROM intents WHERE seq=?", (seq,))
                if db.execute("SELECT 1 FROM outbox WHERE seq=?", (seq,)).fetchone():
                    continue  # committed after all (a note is never left with its row)
                tx = TransactionIn.model_validate_json(payload).model_copy(
                    update={"offline": True, "kiosk_refused": True}
                )
                result = TransactionResult(
                    id=tx.id,
                    status=Status.REFUSED,
                    reason=Reason.KIOSK_INTERRUPTED,
                    message=_INTERRUPTED,
                )
                db.execute(_INSERT, _outbox_params(tx, result, sent=False, on_server=False))
                db.execute(_LOWER_MARK, (seq,))
        if found:
            log.warning("queued %d transaction(s) a stopped kiosk left undecided", len(found))
        return len(found)

    def commit(
        self,
        tx: TransactionIn,
        result: TransactionResult,
        *,
        applied_on_server: bool,
        had_intent: bool = False,
    ) -> None:
        """Store a decided transaction and its local effect in one SQLite transaction.

        ``applied_on_server`` is true when the server itself decided (online):
        the row is then already sent. Refusals are stored too (audit trail),
        as sent when the server refused, and never sent when the kiosk refused
        offline, because nothing happened (except a ``kiosk_refused`` one, whose
        online attempt may have reached the server: it is sent like any other).
        """
        status = result.status
        # A local refusal changes nothing anywhere: there is nothing to send, unless an
        # unanswered online attempt with this id may have changed something there.
        sent = applied_on_server or (status == Status.REFUSED and not tx.kiosk_refused)
        # Serialise before taking the lock: only the INSERT and the effect run under it.
        params = _outbox_params(tx, result, sent=sent, on_server=applied_on_server)
        # The hot path (one per scan): the same steps as _tx() without its generator overhead.
        with self._lock:
            cur = self._cur
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.execute(_INSERT, params)
                if had_intent:
                    cur.execute("DELETE FROM intents WHERE seq=?", (tx.seq,))
                if not sent:
                    cur.execute(_LOWER_MARK, (tx.seq,))
                if status != Status.REFUSED:
                    apply_local_effect(cur, tx, result)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def pending(self, limit: int) -> list[TransactionIn]:
        """The oldest pending transactions, in kiosk sequence order."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT payload FROM outbox WHERE seq >= {UNSENT_FROM} AND state='pending'"
                " ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [TransactionIn.model_validate_json(r[0]) for r in rows]

    def pending_payloads(self, limit: int) -> list[tuple[str, str]]:
        """Like :meth:`pending`, as stored ``(id, TransactionIn JSON)`` pairs.

        The sync worker sends these strings as they are: parsing and
        re-serialising thousands of rows per drain would cost more than the
        SQLite reads.
        """
        with self._lock:
            return self._db.execute(
                f"SELECT id, payload FROM outbox WHERE seq >= {UNSENT_FROM} AND state='pending'"
                " ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()

    def mark_in_flight(self, ids: Iterable[str]) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state='in_flight', attempts=attempts+1 WHERE id=?",
                [(i,) for i in ids],
            )

    def mark_sent(self, results: Iterable[TransactionResult]) -> list[str]:
        """Write the server's results back; returns the ids whose result is a mismatch."""
        results = list(results)
        now = time.time()
        flagged: list[str] = []
        with self._tx() as db:
            locals_ = dict(
                db.execute(
                    "SELECT id, local_result FROM outbox"
                    " WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps([r.id for r in results]),),
                ).fetchall()
            )
            rows = []
            for r in results:
                local = locals_.get(r.id)
                why = (
                    mismatch_of(TransactionResult.model_validate_json(local), r) if local else None
                )
                if why:
                    flagged.append(r.id)
                rows.append(
                    (
                        _RESULT_JSON(r, exclude_defaults=True).decode(),
                        now,
                        r.status.value,
                        why,
                        r.id,
                    )
                )
            db.executemany(
                "UPDATE outbox SET state='sent', server_result=?, sent_at=?, last_error=NULL,"
                " server_status=?, mismatch=? WHERE id=?",
                rows,
            )
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_sync', ?)", (str(now),)
            )
            db.execute("DELETE FROM meta WHERE key='last_sync_error'")
            self._raise_mark(db)
        return flagged

    @staticmethod
    def _raise_mark(db: sqlite3.Connection) -> None:
        """Move the low-water mark up to the first row still unsent (inside the caller's
        transaction, after rows left the unsent states)."""
        low = db.execute(f"SELECT MIN(seq) FROM outbox WHERE {_UNSENT}").fetchone()[0]
        if low is None:
            # Nothing unsent: past the last row. A seq taken but not yet committed lies
            # below; its commit lowers the mark again (_LOWER_MARK).
            low = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").fetchone()[0]
        db.execute("UPDATE meta SET value=? WHERE key='unsent_from'", (str(low),))

    def mark_retry(self, ids: Iterable[str], error: str) -> None:
        """Back to pending after a failed attempt; the error is kept for staff."""
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state='pending', last_error=? WHERE id=?",
                [(error[:500], i) for i in ids],
            )
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_sync_error', ?)",
                (error[:500],),
            )

    def mark_failed(self, tx_id: str, error: str) -> None:
        """The server will never accept this request as sent; kept for staff and export."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state='failed', last_error=? WHERE id=?", (error[:500], tx_id)
            )
            self._raise_mark(db)

    def resend_failed(self, tx_id: str) -> bool:
        """Queue a failed row again (staff, once the server's cause is fixed, such as a
        server upgraded to accept a field it refused). It goes out with the next drain,
        in sequence order among the rows waiting then; the server merges it by event
        time like any late arrival. If the server rejects it again it is failed again.
        False when ``tx_id`` is not a failed row."""
        with self._tx() as db:
            row = db.execute(
                "SELECT seq FROM outbox WHERE id=? AND state='failed'", (tx_id,)
            ).fetchone()
            if row is None:
                return False
            db.execute("UPDATE outbox SET state='pending' WHERE seq=?", (row[0],))
            db.execute(_LOWER_MARK, (row[0],))  # failed rows lie below the mark
        return True

    def note_sync_error(self, error: str | None) -> None:
        """Remember the last sync problem for ``kiosk status`` (another process)."""
        if error is None:
            with self._tx() as db:
                db.execute("DELETE FROM meta WHERE key='last_sync_error'")
        else:
            self.set_meta("last_sync_error", error[:500])

    _ROW_COLS = (
        "SELECT payload, state, attempts, last_error, local_result, server_result, mismatch,"
        " server_status, handled_at FROM outbox"
    )

    @staticmethod
    def _to_row(r: tuple) -> OutboxRow:
        return OutboxRow(
            tx=TransactionIn.model_validate_json(r[0]),
            state=OutboxState(r[1]),
            attempts=r[2],
            last_error=r[3],
            local_result=TransactionResult.model_validate_json(r[4]) if r[4] else None,
            server_result=TransactionResult.model_validate_json(r[5]) if r[5] else None,
            mismatch=r[6],
            server_status=r[7],
            handled_at=r[8],
        )

    def row(self, tx_id: str) -> OutboxRow | None:
        with self._lock:
            r = self._db.execute(self._ROW_COLS + " WHERE id=?", (tx_id,)).fetchone()
        return None if r is None else self._to_row(r)

    def rows(self, states: Iterable[OutboxState] | None = None) -> list[OutboxRow]:
        with self._lock:
            if states is None:
                found = self._db.execute(self._ROW_COLS + " ORDER BY seq").fetchall()
            else:
                st = [s.value for s in states]
                marks = ",".join("?" * len(st))
                found = self._db.execute(
                    self._ROW_COLS + f" WHERE state IN ({marks}) ORDER BY seq", st
                ).fetchall()
        return [self._to_row(r) for r in found]

    def _flagged(self, where: str, order: str, limit: int | None) -> list[OutboxRow]:
        """Flagged rows (on the follow-up index) that also match ``where``."""
        sql = self._ROW_COLS + f" WHERE {_FLAGGED} AND {where} ORDER BY {order}"
        with self._lock:
            found = self._db.execute(sql + " LIMIT ?", (-1 if limit is None else limit,))
            return [self._to_row(r) for r in found.fetchall()]

    def mismatches(self, limit: int | None = None) -> list[OutboxRow]:
        """Rows whose server result differs from what the patron was told, not handled
        by staff yet, oldest first."""
        return self._flagged(_OPEN_MISMATCH, "seq", limit)

    def failed(self, limit: int = 100) -> list[OutboxRow]:
        """Failed rows (the server rejected them as requests), oldest first: the order
        staff send them again in. Read on the follow-up index, so failed rows are found
        however many conflicts and mismatches are newer than them."""
        return self._flagged("state='failed'", "seq", limit)

    def follow_ups(self, limit: int = 100) -> list[OutboxRow]:
        """The rows staff must look at (failed, in conflict, an open mismatch), newest
        first."""
        return self._flagged("1", "seq DESC", limit)

    def follow_up_count(self) -> int:
        """How many rows :meth:`follow_ups` would list with no limit."""
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM outbox WHERE {_FLAGGED}").fetchone()
        return int(row[0])

    def visit_first_at(self, card: str, window: str) -> datetime | None:
        """When ``card`` was first counted in the guest-book window ``window``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT first_at FROM visit_marks WHERE card=? AND window=?", (card, window)
            ).fetchone()
        return _dt(row[0]) if row else None

    def prune_visit_marks(self, before: str) -> int:
        """Forget the counted cards of windows that sort before ``before`` (older days)."""
        with self._tx() as db:
            return db.execute("DELETE FROM visit_marks WHERE window < ?", (before,)).rowcount

    def mark_handled(self, tx_id: str, by: str, *, now: float | None = None) -> bool:
        """Staff settled this row's mismatch with the patron: it stops counting (and may
        be pruned once its age allows). False when there is no open mismatch to settle."""
        with self._tx() as db:
            return (
                db.execute(
                    f"UPDATE outbox SET handled_at=?, handled_by=? WHERE id=? AND {_OPEN_MISMATCH}",
                    (time.time() if now is None else now, by, tx_id),
                ).rowcount
                == 1
            )

    def stats(self, *, count_sent: bool = False) -> QueueStats:
        """What staff mode shows, read from the unsent rows and the flagged ones only.

        The staff screen asks every 2 s on the UI thread, and a kiosk keeps every row
        it ever sent: one pass over 300,000 rows took ~270 ms. ``sent`` needs that
        pass, so it is counted only when asked (``kiosk status``); otherwise it is None.
        """
        with self._lock:
            db = self._db
            pending, in_flight, oldest = db.execute(
                "SELECT COUNT(CASE WHEN state='pending' THEN 1 END),"
                " COUNT(CASE WHEN state='in_flight' THEN 1 END),"
                f" MIN(at) FROM outbox WHERE {_UNSENT}"
            ).fetchone()
            failed, conflicts, mismatches = db.execute(
                "SELECT COUNT(CASE WHEN state='failed' THEN 1 END),"
                " COUNT(CASE WHEN server_status='conflict' THEN 1 END),"
                f" COUNT(CASE WHEN {_OPEN_MISMATCH} THEN 1 END) FROM outbox WHERE {_FLAGGED}"
            ).fetchone()
            sent = (
                db.execute("SELECT COUNT(*) FROM outbox WHERE state='sent'").fetchone()[0]
                + db.execute(_META_INT, ("pruned_sent",)).fetchone()[0]
                if count_sent
                else None
            )
        last = self.get_meta("last_sync")
        return QueueStats(
            pending=pending,
            in_flight=in_flight,
            failed=failed,
            sent=sent,
            conflicts=conflicts,
            oldest_pending_at=_dt(oldest),
            last_sent_at=float(last) if last else None,
            mismatches=mismatches,
            last_error=self.get_meta("last_sync_error"),
        )

    def queue_depth(self) -> int:
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM outbox WHERE {_UNSENT}").fetchone()[0]

    def match_conflicts(self, open_ids: Iterable[str], *, asked_at: float) -> tuple[int, int]:
        """Bring the rows' conflict flags in step with the server's list of this kiosk's
        open conflicts (asked for at ``asked_at``); returns ``(settled, opened)``.

        Staff resolve conflicts on the server, and a merge there may settle one or
        turn an accepted transaction into one; the kiosk heard only the first
        result. A row the server no longer lists becomes ``resolved`` (no longer
        counted as a conflict), unless its result came after the list was made; a
        sent row it lists is counted as a conflict again.
        """
        doc = json.dumps(sorted(set(open_ids)))
        with self._tx() as db:
            settled = db.execute(
                # {_FLAGGED} first: the partial index finds the few flagged rows
                f"UPDATE outbox SET server_status='{RESOLVED}' WHERE {_FLAGGED}"
                " AND server_status='conflict' AND sent_at < ?"
                " AND id NOT IN (SELECT value FROM json_each(?))",
                (asked_at, doc),
            ).rowcount
            opened = db.execute(
                "UPDATE outbox SET server_status='conflict' WHERE state='sent'"
                " AND server_status IS NOT NULL AND server_status != 'conflict'"
                " AND id IN (SELECT value FROM json_each(?))",
                (doc,),
            ).rowcount
        return settled, opened

    def prune_sent(self, older_than_s: float, *, now: float | None = None) -> tuple[int, bool]:
        """Delete up to PRUNE_BATCH sent rows whose result came back over
        ``older_than_s`` ago, oldest first; returns ``(deleted, more)``.

        The server keeps every transaction for good (and answers a resend from it),
        so a kiosk's copy of a settled one is only history; without this a kiosk
        adds ~500 bytes per transaction for as long as it runs. Rows staff must see
        (failed, in conflict, different from what the patron was told) stay, and so
        do the kiosk's own offline refusals, which never went to the server. The
        walk goes in sequence order from where the last one stopped (kept in
        ``meta``), so the rows kept for staff are passed over once, and it stops at
        the first row still unsent or too young: each call holds the store's lock
        for one short transaction, and ``more`` says whether to call again.
        """
        cutoff = (time.time() if now is None else now) - older_than_s
        with self._tx() as db:
            start = int(db.execute(_META_INT, ("prune_from",)).fetchone()[0])
            walked = db.execute(
                f"SELECT seq, state, sent_at, {_KEPT} FROM outbox WHERE seq >= ?"
                " ORDER BY seq LIMIT ?",
                (start, PRUNE_BATCH),
            ).fetchall()
            doomed: list[int] = []
            more = len(walked) == PRUNE_BATCH
            for seq, state, sent_at, kept in walked:
                if not kept and (state != _SENT or sent_at is None or sent_at >= cutoff):
                    more = False  # unsent or too young: the rows after it wait for it
                    break
                if not kept:
                    doomed.append(seq)
                start = seq + 1
            if doomed:
                db.execute(
                    "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))",
                    (json.dumps(doomed),),
                )
                pruned = int(db.execute(_META_INT, ("pruned_sent",)).fetchone()[0])
                db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('pruned_sent', ?)",
                    (str(pruned + len(doomed)),),
                )
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('prune_from', ?)", (str(start),)
            )
        return len(doomed), more

    def export_queue(self, path: Path | str) -> int:
        """Write every unsent transaction as JSONL (``TransactionIn``), in sequence order.

        For a USB stick during a long outage. Rows stay pending: when the link
        comes back the normal sync re-sends them and the server, idempotent on
        the id, answers with the results of the import. The file is written
        beside its target and renamed, so a pulled stick never holds half a line.
        """
        with self._lock:
            found = self._db.execute(
                f"SELECT payload FROM outbox WHERE {_UNSENT} ORDER BY seq"
            ).fetchall()
        target = Path(path)
        tmp = target.with_name(target.name + ".part")
        with open(tmp, "w", encoding="utf-8") as fh:
            for (payload,) in found:
                fh.write(payload + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return len(found)
