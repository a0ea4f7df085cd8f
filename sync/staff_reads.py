"""What staff mode reads from the outbox, and the one mark staff make on it.

Staff see the queue (pending, in flight, the oldest waiting) and the rows they
must follow up: failed, in conflict on the server, or different from what the
patron was told. A kiosk keeps every row it ever sent, so these reads touch
only the unsent rows at the end of the table and the flagged rows on their
partial index, never the years of sent rows around them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sync.outbox import FLAGGED, OPEN_MISMATCH, ROW_COLS, UNSENT, OutboxRow, to_row
from sync.store_part import META_INT, StorePart


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


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


class StaffReads(StorePart):
    """The staff part of :class:`sync.store.LocalStore`: queue figures and follow-ups."""

    def _flagged(self, where: str, order: str, limit: int | None) -> list[OutboxRow]:
        """Flagged rows (on the follow-up index) that also match ``where``."""
        sql = ROW_COLS + f" WHERE {FLAGGED} AND {where} ORDER BY {order}"
        with self._lock:
            found = self._db.execute(sql + " LIMIT ?", (-1 if limit is None else limit,))
            return [to_row(r) for r in found.fetchall()]

    def mismatches(self, limit: int | None = None) -> list[OutboxRow]:
        """Rows whose server result differs from what the patron was told, not handled
        by staff yet, oldest first."""
        return self._flagged(OPEN_MISMATCH, "seq", limit)

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
            row = self._db.execute(f"SELECT COUNT(*) FROM outbox WHERE {FLAGGED}").fetchone()
        return int(row[0])

    def mark_handled(self, tx_id: str, by: str, *, now: float | None = None) -> bool:
        """Staff settled this row's mismatch with the patron: it stops counting (and may
        be pruned once its age allows). False when there is no open mismatch to settle."""
        with self._tx() as db:
            return (
                db.execute(
                    f"UPDATE outbox SET handled_at=?, handled_by=? WHERE id=? AND {OPEN_MISMATCH}",
                    (time.time() if now is None else now, by, tx_id),
                ).rowcount
                == 1
            )

    def stats(self, *, count_sent: bool = False) -> QueueStats:
        """What staff mode shows, read from the unsent rows and the flagged ones only.

        The staff screen asks every 2 s on the UI thread, so this must not grow with
        the sent rows a kiosk keeps (``sync.staff_stats_ms`` against
        ``sync.staff_stats_full_pass_ms`` in ``make bench``). ``sent`` needs a pass
        over them, so it is counted only when asked (``kiosk status``); otherwise it
        is None.
        """
        with self._lock:
            db = self._db
            pending, in_flight, oldest = db.execute(
                "SELECT COUNT(CASE WHEN state='pending' THEN 1 END),"
                " COUNT(CASE WHEN state='in_flight' THEN 1 END),"
                f" MIN(at) FROM outbox WHERE {UNSENT}"
            ).fetchone()
            failed, conflicts, mismatches = db.execute(
                "SELECT COUNT(CASE WHEN state='failed' THEN 1 END),"
                " COUNT(CASE WHEN server_status='conflict' THEN 1 END),"
                f" COUNT(CASE WHEN {OPEN_MISMATCH} THEN 1 END) FROM outbox WHERE {FLAGGED}"
            ).fetchone()
            sent = (
                db.execute("SELECT COUNT(*) FROM outbox WHERE state='sent'").fetchone()[0]
                + db.execute(META_INT, ("pruned_sent",)).fetchone()[0]
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
