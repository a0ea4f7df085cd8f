"""The background sync thread: drains the outbox and refreshes the snapshot.

It never touches the UI: it posts state changes through ``on_change`` (the UI
hops onto its own thread there). Batches go in kiosk sequence order; a failed
batch goes back to pending and is retried with exponential backoff; a batch
the server rejects as a whole is split to find the one bad transaction, which
is parked as failed for staff so it cannot block the queue behind it.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable

from kiosk.errors import SyncError, SyncRejected
from sync.client import RequestRejected, ServerClient
from sync.connectivity import Connectivity
from sync.store import LocalStore

log = logging.getLogger(__name__)


class SyncWorker:
    """Daemon thread that moves pending outbox rows to the server."""

    def __init__(
        self,
        store: LocalStore,
        client: ServerClient,
        *,
        link: Connectivity | None = None,
        batch_size: int = 200,
        interval_s: float = 2.0,
        snapshot_interval_s: float = 300.0,
        request_timeout_s: float = 15.0,
        version: str = "",
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.link = link
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.snapshot_interval_s = snapshot_interval_s
        self.request_timeout_s = request_timeout_s
        self.version = version
        self.on_change = on_change
        self.last_error: str | None = None
        self.sent_total = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = 0.0
        self._last_snapshot = 0.0

    # -- thread control -----------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sync-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Sync now (staff "sync now", or a new row was committed)."""
        self._backoff = 0.0
        self._wake.set()

    def nudge(self) -> None:
        """A new row is waiting: send soon, but keep any error backoff in force."""
        if self._backoff == 0.0:
            self._wake.set()

    def _forced_offline(self) -> bool:
        return self.link is not None and self.link.state == "forced_offline"

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._forced_offline():
                # The queue first, the snapshot second, each on its own: a snapshot
                # the server cannot build must never hold back the patrons' loans.
                ok = self._guarded(self._drain_until_empty)
                if time.monotonic() - self._last_snapshot >= self.snapshot_interval_s:
                    ok = self._guarded(self.refresh_snapshot) and ok
                if ok:
                    self._backoff = 0.0
            pause = self.interval_s if self._backoff == 0 else random.uniform(0, self._backoff)
            self._wake.wait(pause)
            self._wake.clear()

    def _drain_until_empty(self) -> None:
        while self.drain_once() and not self._stop.is_set():
            pass

    def _guarded(self, step: Callable[[], None]) -> bool:
        try:
            step()
        except SyncError as exc:
            self._note_error(exc)
            return False
        except Exception:  # the thread must survive anything and keep the queue
            log.exception("sync worker error")
            self._backoff = min(max(self._backoff * 2, 1.0), 60.0)
            return False
        return True

    def _note_error(self, exc: SyncError) -> None:
        self.last_error = str(exc)
        log.warning("sync failed: %s", exc)
        self._backoff = min(max(self._backoff * 2, 1.0), 60.0)
        if self.link is not None and not isinstance(exc, SyncRejected):
            self.link.report_failure(str(exc))
        try:
            self.store.note_sync_error(str(exc))
        except sqlite3.Error:  # the note is for staff; never let it stop the retry loop
            log.exception("cannot record the sync error")
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- work ---------------------------------------------------------------
    def drain_once(self) -> bool:
        """Send one batch. True when a batch went through (there may be more)."""
        batch = self.store.pending_payloads(self.batch_size)
        if not batch:
            return False
        self._send(batch)
        self._changed()
        return True

    def _send(self, batch: list[tuple[str, str]]) -> None:
        ids = [i for i, _ in batch]
        self.store.mark_in_flight(ids)
        try:
            results = self.client.post_payloads(
                batch,
                timeout=self.request_timeout_s,
                queue_depth=self.store.queue_depth(),
                snapshot_age_s=self.store.snapshot_age_s(),
                version=self.version,
            )
        except RequestRejected as exc:
            self.store.mark_retry(ids, str(exc))
            if exc.auth:
                # The kiosk's token is wrong or revoked: no transaction is to blame,
                # keep them all and back off until staff fix the configuration.
                raise
            if len(batch) == 1:
                self.store.mark_failed(ids[0], str(exc))
                log.error("transaction %s rejected by the server: %s", ids[0], exc)
                return
            half = len(batch) // 2
            self._send(batch[:half])
            self._send(batch[half:])
            return
        except SyncError as exc:
            self.store.mark_retry(ids, str(exc))
            raise
        flagged = self.store.mark_sent(results)
        for tx_id in flagged:
            log.warning("transaction %s: the server's result differs from the kiosk's", tx_id)
        self.sent_total += len(results)
        if self.link is not None:
            self.link.report_ok()
        self.last_error = None

    def refresh_snapshot(self) -> None:
        """Fetch the snapshot (whole the first time, then the changes since the cursor)."""
        snap = self.client.snapshot(
            self.store.snapshot_cursor(), timeout=self.request_timeout_s * 4
        )
        self.store.apply_snapshot(snap)
        self._last_snapshot = time.monotonic()
        self._changed()

    def drain_all(self, max_batches: int = 100_000) -> int:
        """Send everything pending now (CLI ``kiosk sync``); returns how many were sent.

        Raises ``SyncError`` when the server cannot be reached; what was sent
        before stays sent.
        """
        before = self.sent_total
        for _ in range(max_batches):
            if not self.drain_once():
                break
        return self.sent_total - before
