"""The guest book's counted cards: one mark per card and counting window.

A member scanned again in the same window (``Visit.window``, e.g. one local
day) is welcomed again but not counted again. The mark is written by the
visit's local effect (``sync.effects``), inside the SQLite transaction of its
outbox row, so a crash leaves both or neither; the offline policy reads it;
the guest book drops the windows before yesterday once a day. The table is
made at open with the others (``sync.schema``).
"""

from __future__ import annotations

from datetime import datetime

from sync.store_part import StorePart


class VisitMarks(StorePart):
    """The guest-book part of :class:`sync.store.LocalStore`."""

    def visit_first_at(self, card: str, window: str) -> datetime | None:
        """When ``card`` was first counted in the guest-book window ``window``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT first_at FROM visit_marks WHERE card=? AND window=?", (card, window)
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def prune_visit_marks(self, before: str) -> int:
        """Forget the counted cards of windows that sort before ``before`` (older days)."""
        with self._tx() as db:
            return db.execute("DELETE FROM visit_marks WHERE window < ?", (before,)).rowcount
