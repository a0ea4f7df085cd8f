"""The background sync thread: drains the outbox and refreshes the snapshot.

It never touches the UI: it posts state changes through ``on_change`` (the UI
hops onto its own thread there). Batches go in kiosk sequence order; a failed
batch goes back to pending and is retried with exponential backoff; a batch
the server rejects as a whole is split to find the one bad transaction, which
is parked as failed for staff so it cannot block the queue behind it.
"""

from __future__ import annotations

import logging
import queue
import random
import sqlite3
import sys
import threading
import time
from collections.abc import Callable

from core.errors import SyncError, SyncRejected
from core.gcpause import gc_paused
from core.wire import TransactionResult
from sync.client import RequestRejected, ServerClient
from sync.connectivity import Connectivity
from sync.store import LocalStore

log = logging.getLogger(__name__)

#: Transactions per POST, chosen for the pipelined drain (``sync.drain10k_s`` and
#: ``sync.drain_batched_vs_single_ratio`` in ``make bench``). Smaller batches pay
#: the per-request cost (HTTP, the server's request handling, two kiosk commits)
#: more often; much larger ones leave little to overlap (5,000, the wire maximum,
#: is two requests) and keep one request open for seconds on a slow server, close
#: to the request deadline.
DEFAULT_BATCH_SIZE = 1000
#: How often the sent rows past their keeping time are pruned, and the pause between
#: two of its short transactions (the UI's commits get the store in between).
PRUNE_EVERY_S = 3600.0
PRUNE_PAUSE_S = 0.05
#: A note of an online decision older than this belongs to a kiosk that stopped
#: (decisions are bounded by the deadline, at most 30 s by the config's rules).
INTERRUPTED_AFTER_S = 60.0


class _ResultWriter:
    """A daemon thread that writes one batch's results while the next batch is posted.

    One job at a time: ``start`` hands it over, ``wait`` returns what the write
    returned (the mismatched ids) or raises what it raised, on the caller's thread.
    """

    def __init__(self, write: Callable[[list[TransactionResult]], list[str]]) -> None:
        self._write = write
        self._jobs: queue.SimpleQueue[list[TransactionResult] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[list[str], BaseException | None]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="sync-results", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._done.put((self._write(job), None))
            except BaseException as exc:  # handed to the worker thread by wait()
                self._done.put(([], exc))

    def start(self, results: list[TransactionResult]) -> None:
        self._jobs.put(results)

    def wait(self) -> list[str]:
        flagged, exc = self._done.get()
        if exc is not None:
            raise exc
        return flagged

    def close(self, timeout: float = 5.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)


class SyncWorker:
    """Daemon thread that moves pending outbox rows to the server."""

    def __init__(
        self,
        store: LocalStore,
        client: ServerClient,
        *,
        link: Connectivity | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        interval_s: float = 2.0,
        snapshot_interval_s: float = 300.0,
        request_timeout_s: float = 15.0,
        version: str = "",
        on_change: Callable[[], None] | None = None,
        keep_sent_s: float | None = None,
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
        self.keep_sent_s = keep_sent_s  # None: keep every sent row
        self.last_error: str | None = None
        self.sent_total = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = 0.0
        self._last_snapshot = 0.0
        self._last_prune = float("-inf")

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
                        self._refresh_conflicts_quietly()
                if ok:
                    self._backoff = 0.0
            if time.monotonic() - self._last_prune >= PRUNE_EVERY_S:
                self._prune_quietly()
            pause = self.interval_s if self._backoff == 0 else random.uniform(0, self._backoff)
            self._wake.wait(pause)
            self._wake.clear()

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
    def refresh_conflicts(self) -> tuple[int, int]:
        """Ask the server which of this kiosk's conflicts are still open and update the
        rows' flags (resolved by staff, or opened by a merge): ``(settled, opened)``."""
        asked_at = time.time()
        ids = self.client.open_conflicts(timeout=self.request_timeout_s)
        settled, opened = self.store.match_conflicts(ids, asked_at=asked_at)
        if settled or opened:
            log.info("conflicts: %d resolved on the server, %d opened there", settled, opened)
            self._changed()
        return settled, opened

    def _refresh_conflicts_quietly(self) -> None:
        # What staff see at the kiosk, not the patrons' queue: a server too old for
        # this request (404) or a failed try is logged and tried with the next snapshot.
        try:
            self.refresh_conflicts()
        except SyncError as exc:  # a 404 from an older server too
            log.warning("cannot refresh the open conflicts: %s", exc)
        except Exception:
            log.exception("cannot refresh the open conflicts")

    def _prune_quietly(self) -> None:
        # Local book-keeping, also while offline: a failure here (a full disk, say)
        # is logged and tried again in PRUNE_EVERY_S, and never backs off the sync.
        try:
            self.prune_sent()
        except Exception:
            self._last_prune = time.monotonic()
            log.exception("cannot prune sent transactions")

    def prune_sent(self, max_steps: int = 20) -> int:
        """Drop the sent rows older than ``keep_sent_s``: at most ``max_steps`` short
        transactions with a pause between them, so neither a patron's commit nor the
        queue's drain waits long for it; the next pass goes on where this one stopped.
        Returns how many rows went."""
        if self.keep_sent_s is None:
            self._last_prune = time.monotonic()
            return 0
        total = 0
        more = True
        for _ in range(max_steps):
            deleted, more = self.store.prune_sent(self.keep_sent_s)
            total += deleted
            if not more or self._stop.wait(PRUNE_PAUSE_S):
                break
        if not more:
            self._last_prune = time.monotonic()  # all done: again in PRUNE_EVERY_S
        if total:
            log.info("pruned %d sent transaction(s) older than %.0f days", total,
                     self.keep_sent_s / 86400)  # fmt: skip
        return total

    def drain_once(self) -> bool:
        """Send one batch and write its results. True when a batch went through."""
        batch = self.store.pending_payloads(self.batch_size)
        if not batch:
            return False
        self._send(batch)
        self._changed()
        return True

    def _send(self, batch: list[tuple[str, str]]) -> None:
        """One batch, start to end: in flight, posted, results written."""
        ids = [i for i, _ in batch]
        self.store.mark_in_flight(ids)
        results = self._post(batch, ids, self.store.queue_depth(), self.store.snapshot_age_s())
        if results is not None:
            self._record(results, self.store.mark_sent(results))

    def _post(
        self,
        batch: list[tuple[str, str]],
        ids: list[str],
        queue_depth: int,
        snapshot_age_s: float | None,
    ) -> list[TransactionResult] | None:
        """POST a batch already marked in flight; its results, or None when the server
        refused the request itself (then handled here: split, or parked as failed)."""
        try:
            results = self.client.post_payloads(
                batch,
                timeout=self.request_timeout_s,
                queue_depth=queue_depth,
                snapshot_age_s=snapshot_age_s,
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
                return None
            half = len(batch) // 2
            self._send(batch[:half])
            self._send(batch[half:])
            return None
        except SyncError as exc:
            self.store.mark_retry(ids, str(exc))
            raise
        if self.link is not None:
            self.link.report_ok()
        self.last_error = None
        return results

    def _record(self, results: list[TransactionResult], flagged: list[str]) -> None:
        """Book-keeping once a batch's results are written."""
        for tx_id in flagged:
            log.warning("transaction %s: the server's result differs from the kiosk's", tx_id)
        self.sent_total += len(results)

    def _drain(self, max_batches: int) -> None:
        """Send batches in sequence order until none is pending or ``max_batches`` went.

        Pipelined on the kiosk's side only: once the server has answered batch N,
        batch N+1 is read and marked in flight, then posted while N's results are
        written on a helper thread. The server still gets one batch at a time, in
        order, each only after the previous one was answered. A crash while N's
        results are being written leaves N in flight, to be re-sent after the
        restart and answered from the server's first result (idempotent by id).
        """
        # Decisions a stopped kiosk left undecided go out with the queue; the age
        # keeps a decision still in progress in another process on this file out.
        self.store.recover_interrupted(INTERRUPTED_AFTER_S)
        writer: _ResultWriter | None = None
        answered: list[TransactionResult] | None = None  # answered, results not written yet
        try:
            for _ in range(max_batches):
                if self._stop.is_set():
                    break
                batch = self.store.pending_payloads(self.batch_size)
                if not batch:
                    break
                ids = [i for i, _ in batch]
                self.store.mark_in_flight(ids)
                # Read before the writer takes the store's lock for its transaction;
                # the answered batch is still in flight here but is no longer queued.
                depth = self.store.queue_depth() - (len(answered) if answered else 0)
                age = self.store.snapshot_age_s()
                writing, answered = answered, None
                if writing is not None:
                    writer = writer or _ResultWriter(self.store.mark_sent)
                    writer.start(writing)
                try:
                    answered = self._post(batch, ids, depth, age)
                finally:
                    if writer is not None and writing is not None:
                        self._record(writing, writer.wait())
                self._changed()
        finally:
            try:
                if answered is not None:
                    self._record(answered, self.store.mark_sent(answered))
            finally:
                if writer is not None:
                    writer.close()

    def _drain_until_empty(self) -> None:
        self._drain(sys.maxsize)

    def refresh_snapshot(self) -> None:
        """Fetch the snapshot (whole the first time, then the changes since the cursor).

        The kiosk's keys come first: without them the snapshot's card tags match
        nothing. When the server's card key changed (its data folder was replaced),
        new keys are fetched and the whole snapshot again.
        """
        keys = self.store.keys
        if not keys.ready:
            keys.save(self.client.kiosk_secrets(timeout=self.request_timeout_s))
        with gc_paused():  # hundreds of thousands of small acyclic objects
            cursor = self.store.snapshot_cursor()
            snap = self.client.snapshot(cursor, timeout=self.request_timeout_s * 4)
            if snap.key_id is not None and snap.key_id != keys.key_id:
                log.warning("the server's card key changed: fetching keys and a full snapshot")
                keys.save(self.client.kiosk_secrets(timeout=self.request_timeout_s))
                if not snap.full:
                    snap = self.client.snapshot(None, timeout=self.request_timeout_s * 4)
            self.store.apply_snapshot(snap)
            del snap  # freed by reference counting before the collector is back
        self._last_snapshot = time.monotonic()
        self._changed()

    def drain_all(self, max_batches: int = 100_000) -> int:
        """Send everything pending now (CLI ``kiosk sync``); returns how many were sent.

        Raises ``SyncError`` when the server cannot be reached; what was sent
        before stays sent.
        """
        before = self.sent_total
        self._drain(max_batches)
        return self.sent_total - before
