"""Online intents: a transaction sent for a server decision is noted before it goes.

The note (``intents`` table) is committed before the request leaves and deleted
in the same SQLite transaction as the outbox row (``commit(had_intent=True)``).
One left behind means the kiosk stopped while the server may have applied the
transaction and before the patron saw any result; :meth:`recover_interrupted`
queues it so the server's answer settles it.
"""

from __future__ import annotations

import logging
import time

from core.wire import Reason, Status, TransactionIn, TransactionResult
from sync.outbox import INSERT_ROW, INTERRUPTED, LOWER_MARK, TX_JSON, outbox_params
from sync.store_part import StorePart

log = logging.getLogger(__name__)


class OnlineIntents(StorePart):
    """The online-intent part of :class:`sync.store.LocalStore`."""

    def begin_online(self, tx: TransactionIn) -> None:
        """Durably note that ``tx`` is about to be sent for an online decision.

        :meth:`commit` with ``had_intent=True`` removes the note with the result.
        A note still here after a crash is picked up by :meth:`recover_interrupted`.
        """
        payload = TX_JSON(tx, exclude_defaults=True).decode()
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
                    message=INTERRUPTED,
                )
                db.execute(INSERT_ROW, outbox_params(tx, result, sent=False, on_server=False))
                db.execute(LOWER_MARK, (seq,))
        if found:
            log.warning("queued %d transaction(s) a stopped kiosk left undecided", len(found))
        return len(found)
