"""Pruning: dropping sent rows the server has settled, in short steps.

The server keeps every transaction for good (and answers a resend from it), so
a kiosk's copy of a settled one is only history; without pruning a kiosk's file
grows by about one outbox row per transaction for as long as it runs. Rows
staff must see stay, and so do the kiosk's own offline refusals, which never
went to the server.
"""

from __future__ import annotations

import json
import time

from sync.outbox import FLAGGED, SENT
from sync.store_part import META_INT, StorePart

#: Rows looked at per :meth:`Pruning.prune_sent` call: one short write transaction,
#: which a patron's commit may wait behind (``sync.prune_step_max_ms`` in ``make bench``).
PRUNE_BATCH = 1000
#: Rows pruning never drops: those staff must see, and sent rows the server has no
#: result for (refused offline by the kiosk: the only record of them is here).
KEPT = f"({FLAGGED} OR (state='sent' AND server_status IS NULL))"


class Pruning(StorePart):
    """The pruning part of :class:`sync.store.LocalStore`."""

    def prune_sent(self, older_than_s: float, *, now: float | None = None) -> tuple[int, bool]:
        """Delete up to PRUNE_BATCH sent rows whose result came back over
        ``older_than_s`` ago, oldest first; returns ``(deleted, more)``.

        Rows staff must see (failed, in conflict, different from what the patron
        was told) stay, and so do the kiosk's own offline refusals (``KEPT``). The
        walk goes in sequence order from where the last one stopped (kept in
        ``meta``), so the rows kept for staff are passed over once, and it stops at
        the first row still unsent or too young: each call holds the store's lock
        for one short transaction, and ``more`` says whether to call again.
        """
        cutoff = (time.time() if now is None else now) - older_than_s
        with self._tx() as db:
            start = int(db.execute(META_INT, ("prune_from",)).fetchone()[0])
            walked = db.execute(
                f"SELECT seq, state, sent_at, {KEPT} FROM outbox WHERE seq >= ?"
                " ORDER BY seq LIMIT ?",
                (start, PRUNE_BATCH),
            ).fetchall()
            doomed: list[int] = []
            more = len(walked) == PRUNE_BATCH
            for seq, state, sent_at, kept in walked:
                if not kept and (state != SENT or sent_at is None or sent_at >= cutoff):
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
                pruned = int(db.execute(META_INT, ("pruned_sent",)).fetchone()[0])
                db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('pruned_sent', ?)",
                    (str(pruned + len(doomed)),),
                )
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('prune_from', ?)", (str(start),)
            )
        return len(doomed), more
