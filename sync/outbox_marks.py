"""What the server's answers do to outbox rows: in flight, sent, retried, failed.

Every mark is one SQLite transaction that also keeps the unsent low-water mark
(``sync.outbox.UNSENT_FROM``) true. When the server's result for an offline
transaction differs from what the kiosk told the patron (accepted offline,
refused or conflicting on the server), the row is flagged with a ``mismatch``
so staff can see it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable

from core.wire import Reason, TransactionResult
from sync.outbox import FLAGGED, INTERRUPTED, LOWER_MARK, RESOLVED, RESULT_JSON, UNSENT
from sync.store_part import StorePart


def mismatch_of(local: TransactionResult, server: TransactionResult) -> str | None:
    """Why the server's result differs from what the kiosk told the patron, or None."""
    if local.status != server.status:
        if local.reason == Reason.KIOSK_INTERRUPTED:
            said = INTERRUPTED
        else:
            said = f"kiosk said {local.status.value}"
        why = f"{said}, server says {server.status.value}"
        if server.reason is not None:
            why += f" ({server.reason.value})"
        return why
    if local.due_at is not None and server.due_at is not None and local.due_at != server.due_at:
        return f"slip due {local.due_at.isoformat()}, server due {server.due_at.isoformat()}"
    return None


def raise_mark(db: sqlite3.Connection) -> None:
    """Move the low-water mark up to the first row still unsent (inside the caller's
    transaction, after rows left the unsent states)."""
    low = db.execute(f"SELECT MIN(seq) FROM outbox WHERE {UNSENT}").fetchone()[0]
    if low is None:
        # Nothing unsent: past the last row. A seq taken but not yet committed lies
        # below; its commit lowers the mark again (LOWER_MARK).
        low = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox").fetchone()[0]
    db.execute("UPDATE meta SET value=? WHERE key='unsent_from'", (str(low),))


class OutboxMarks(StorePart):
    """The delivery part of :class:`sync.store.LocalStore`: the sync worker's marks."""

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
                        RESULT_JSON(r, exclude_defaults=True).decode(),
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
            raise_mark(db)
        return flagged

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
            raise_mark(db)

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
            db.execute(LOWER_MARK, (row[0],))  # failed rows lie below the mark
        return True

    def note_sync_error(self, error: str | None) -> None:
        """Remember the last sync problem for ``kiosk status`` (another process)."""
        if error is None:
            with self._tx() as db:
                db.execute("DELETE FROM meta WHERE key='last_sync_error'")
        else:
            self.set_meta("last_sync_error", error[:500])

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
                # {FLAGGED} first: the partial index finds the few flagged rows
                f"UPDATE outbox SET server_status='{RESOLVED}' WHERE {FLAGGED}"
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
