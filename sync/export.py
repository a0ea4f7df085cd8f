"""The queue export: every unsent transaction as JSONL, for a USB stick.

During a long outage staff carry the queue to the server (``kiosk
export-queue FILE``, then ``kiosk-server import-queue FILE``). Rows stay
pending: when the link comes back the normal sync re-sends them and the
server, idempotent on the id, answers with the results of the import.
"""

from __future__ import annotations

import os
from pathlib import Path

from sync.outbox import UNSENT
from sync.store_part import StorePart


class QueueExport(StorePart):
    """The export part of :class:`sync.store.LocalStore`."""

    def export_queue(self, path: Path | str) -> int:
        """Write every unsent transaction as JSONL (``TransactionIn``), in sequence order.

        The rows stay pending. The file is written beside its target and renamed,
        so a pulled stick never holds half a line.
        """
        with self._lock:
            found = self._db.execute(
                f"SELECT payload FROM outbox WHERE {UNSENT} ORDER BY seq"
            ).fetchall()
        target = Path(path)
        tmp = target.with_name(target.name + ".part")
        # unsent transactions name patrons and guests: readable by the kiosk's user only
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for (payload,) in found:
                fh.write(payload + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return len(found)
