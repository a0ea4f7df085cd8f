"""New transactions: a time-ordered id and the kiosk's next sequence number.

Sequence numbers are reserved durably in blocks before they are handed out, so
a crash between an online decision and the local commit leaves a gap in the
sequence, never a reuse. A second store on the same file (another process, a
tool) reserves past this one's block.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from core.ids import uuid7
from core.wire import Kind, TransactionIn
from sync.store_part import StorePart

#: Sequence numbers reserved per durable write: one extra fsync per block instead
#: of one per transaction (``sync.enqueue_per_s`` in ``make bench``).
SEQ_BLOCK = 256

#: The same validation as ``TransactionIn(**fields)``, without BaseModel.__init__'s layer.
_TX_VALIDATE = TransactionIn.__pydantic_validator__.validate_python
_MADE_HERE = frozenset({"id", "kiosk", "seq", "kind", "at"})


class TransactionNumbers(StorePart):
    """The part of :class:`sync.store.LocalStore` that makes new transactions."""

    _next_seq: int
    _seq_limit: int

    def _start_sequence(self, db: sqlite3.Connection) -> None:
        """Continue past every number used or reserved on this file (at open, inside
        the opening transaction); nothing is reserved yet in this process."""
        row = db.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()
        top = db.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]
        self._next_seq = max(int(row[0]) if row else 1, top + 1)
        self._seq_limit = self._next_seq

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
        tx: TransactionIn = _TX_VALIDATE(fields)
        return tx
