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

:class:`LocalStore` is the one object the kiosk uses; its parts live one job
per module and share its connection and lock:

- :mod:`sync.schema`: the tables and the migrations run at open;
- :mod:`sync.sequence`: new transactions and their durably reserved numbers;
- :mod:`sync.outbox`: the write-ahead commit, the rows and their states;
- :mod:`sync.intents`: notes of online decisions in progress, and recovery;
- :mod:`sync.outbox_marks`: what the server's answers do to the rows;
- :mod:`sync.staff_reads`: the queue figures and follow-ups staff mode shows;
- :mod:`sync.prune`: dropping settled sent rows in short steps;
- :mod:`sync.export`: the unsent queue as JSONL for a USB stick;
- :mod:`sync.visit_marks`: the guest book's cards counted per window;
- :mod:`sync.snapshot_store`: the offline snapshot.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sync.effects import ticket_code
from sync.export import QueueExport
from sync.intents import OnlineIntents
from sync.outbox import UNSENT_FROM, Outbox, OutboxRow, OutboxState
from sync.outbox_marks import OutboxMarks
from sync.prune import Pruning
from sync.schema import create_tables, migrate
from sync.secrets import KioskKeys
from sync.sequence import TransactionNumbers
from sync.snapshot_store import SnapshotStoreMixin
from sync.staff_reads import QueueStats, StaffReads
from sync.visit_marks import VisitMarks

__all__ = ["LocalStore", "OutboxRow", "OutboxState", "QueueStats", "ticket_code"]


class LocalStore(
    TransactionNumbers,
    Outbox,
    OnlineIntents,
    OutboxMarks,
    StaffReads,
    Pruning,
    QueueExport,
    VisitMarks,
    SnapshotStoreMixin,
):
    """The kiosk's durable state. Thread-safe: one connection guarded by a lock.

    One connection (not one per thread) keeps SQLite's write ordering simple;
    every statement here is short, so the lock is never held across I/O other
    than the commit's fsync.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        kiosk: str,
        synchronous: str = "FULL",
        keys: KioskKeys | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Patron data (snapshot, transactions, guest contacts): readable by the kiosk's
        # user only. SQLite gives the -wal and -shm files the database file's mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        self.kiosk = kiosk
        #: The card and PIN keys from the server (their own file, never this store).
        self.keys = keys if keys is not None else KioskKeys()
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path,
            check_same_thread=False,
            isolation_level=None,
            timeout=30,
            cached_statements=256,
        )
        self._cur = self._db.cursor()  # the enqueue path's cursor (used under the lock)
        self._db.create_function("card_tag", 1, self.keys.tag, deterministic=True)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        create_tables(self._db)
        with self._tx() as db:
            migrate(db)
            # Rows that were in flight when the process died go back to pending:
            # the server may or may not have them, and it is idempotent on the id.
            db.execute(
                f"UPDATE outbox SET state='pending' WHERE seq >= {UNSENT_FROM}"
                " AND state='in_flight'"
            )
            self._start_sequence(db)

    # -- plumbing the parts share ---------------------------------------------
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
