"""The outbox: one row per transaction, written with its local effect, read to send.

Write-ahead: :meth:`Outbox.commit` writes the row and the transaction's effect
on the snapshot in one SQLite transaction (WAL, ``synchronous=FULL``), so a
crash at any instant leaves both or neither. Rows move pending -> in_flight ->
sent (or failed, with the last error); :mod:`sync.outbox_marks` moves them.

The SQL fragments here (the unsent rows, the flagged rows) are shared by the
other parts of the store, so each rule is written once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from core.wire import Status, TransactionIn, TransactionResult
from sync.effects import apply_local_effect
from sync.store_part import StorePart


class OutboxState(StrEnum):
    """Where an outbox row is on its way to the server."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"  # the server rejected the request itself (not the transaction); staff look


PENDING = OutboxState.PENDING.value
SENT = OutboxState.SENT.value

#: Rows that may be unsent (pending or in flight) all have ``seq >= UNSENT_FROM``.
#: The low-water mark is kept in ``meta`` and moved in the same SQLite transaction
#: as the rows it covers, so it holds after every commit, across processes and
#: crashes. It replaces an index on ``state``: that index cost every enqueue one
#: more b-tree (and one more page in its WAL commit), while unsent rows are few
#: and sit at the end of the table, where a rowid range scan finds them.
UNSENT_FROM = "CAST((SELECT value FROM meta WHERE key='unsent_from') AS INTEGER)"
UNSENT = f"seq >= {UNSENT_FROM} AND state IN ('pending','in_flight')"
#: A pending row committed below the mark (its seq was taken before a sync moved
#: the mark past it, e.g. while the online decision was awaited) lowers it.
LOWER_MARK = "UPDATE meta SET value=?1 WHERE key='unsent_from' AND CAST(value AS INTEGER) > ?1"

#: A difference from what the patron was told that staff have not settled yet.
OPEN_MISMATCH = "(mismatch IS NOT NULL AND handled_at IS NULL)"
#: Rows staff must look at: failed, in conflict on the server, or different from what
#: the patron was told and not handled yet. A partial index holds only these (see
#: :func:`sync.schema.migrate`): an enqueue never matches it, so it adds no page to a
#: patron's commit, and the staff screen counts them without reading the years of
#: sent rows around them.
FLAGGED = f"(state='failed' OR server_status='conflict' OR {OPEN_MISMATCH})"

#: ``server_status`` of a row whose conflict staff resolved on the server since.
RESOLVED = "resolved"

#: What an interrupted decision's local result says, and its mismatch after it.
INTERRUPTED = "the kiosk stopped before the patron saw a result"

#: pydantic's own serialisers, called directly (``model_dump_json`` adds a Python
#: layer to every commit: ``sync.enqueue_per_s`` in ``make bench``).
TX_JSON = TransactionIn.__pydantic_serializer__.to_json
RESULT_JSON = TransactionResult.__pydantic_serializer__.to_json

INSERT_ROW = (
    "INSERT INTO outbox(seq, id, kind, at, offline, payload, state, local_result,"
    " server_result, created_at, sent_at, server_status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


def outbox_params(
    tx: TransactionIn, result: TransactionResult, *, sent: bool, on_server: bool
) -> tuple[object, ...]:
    """The values of one outbox row (``INSERT_ROW``'s parameters).

    Rows are kept narrow (no nulls, no default values): fewer bytes per commit.
    Plain str and int only: sqlite3 looks for an adapter for any subclass (an
    enum member, a bool), which costs more than taking the value here.
    """
    res_json = RESULT_JSON(result, exclude_defaults=True).decode()
    now = time.time()
    return (
        tx.seq,
        tx.id,
        tx.kind.value,
        tx.at.isoformat(),
        1 if tx.offline else 0,
        TX_JSON(tx, exclude_defaults=True).decode(),
        SENT if sent else PENDING,
        res_json,
        res_json if on_server else None,
        now,
        now if sent else None,
        result.status.value if on_server else None,
    )


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
        """A difference from what the patron was told, not settled yet (``OPEN_MISMATCH``)."""
        return self.mismatch is not None and self.handled_at is None


#: The columns :func:`to_row` reads, in its order.
ROW_COLS = (
    "SELECT payload, state, attempts, last_error, local_result, server_result, mismatch,"
    " server_status, handled_at FROM outbox"
)


def to_row(r: tuple) -> OutboxRow:
    """An :class:`OutboxRow` from a row selected with ``ROW_COLS``."""
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


class Outbox(StorePart):
    """The outbox part of :class:`sync.store.LocalStore`: the write-ahead commit and
    the reads that find what to send."""

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
        params = outbox_params(tx, result, sent=sent, on_server=applied_on_server)
        # The hot path (one per scan, ``sync.enqueue_per_s`` in ``make bench``): the same
        # steps as _tx() without its generator layer.
        with self._lock:
            cur = self._cur
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.execute(INSERT_ROW, params)
                if had_intent:
                    cur.execute("DELETE FROM intents WHERE seq=?", (tx.seq,))
                if not sent:
                    cur.execute(LOWER_MARK, (tx.seq,))
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

    def queue_depth(self) -> int:
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM outbox WHERE {UNSENT}").fetchone()[0]

    def row(self, tx_id: str) -> OutboxRow | None:
        with self._lock:
            r = self._db.execute(ROW_COLS + " WHERE id=?", (tx_id,)).fetchone()
        return None if r is None else to_row(r)

    def rows(self, states: Iterable[OutboxState] | None = None) -> list[OutboxRow]:
        with self._lock:
            if states is None:
                found = self._db.execute(ROW_COLS + " ORDER BY seq").fetchall()
            else:
                st = [s.value for s in states]
                marks = ",".join("?" * len(st))
                found = self._db.execute(
                    ROW_COLS + f" WHERE state IN ({marks}) ORDER BY seq", st
                ).fetchall()
        return [to_row(r) for r in found]
