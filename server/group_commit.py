"""Group commit: how patrons' requests and kiosks' uploads share the database's
write gate.

A write's fixed work (session, change number, reads, closing writes, commit) costs
the server many times what one more transaction in it costs. So patrons' online
requests that wait for the gate together are applied in one write, and an upload
is applied in parts of :attr:`GroupCommit.BULK_CHUNK`, each committed on its own,
with the patrons' requests that came meanwhile joining the part in progress. A
patron then waits for one part at most. ``make bench`` shows it in
``server.checkout_p99_ms`` (patrons while uploads run), ``server.tx_per_s``
(uploads) and ``server.single_tx_per_s`` (every kiosk posting one transaction at a
time).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.wire import TransactionBatch, TransactionIn, TransactionResult
from server.db import Database
from server.processing import BatchProcessor
from server.text import storable
from server.timeutil import order_key, utcnow

log = logging.getLogger(__name__)

#: A batch processor for one write (session, change number) that also writes the
#: health of the kiosks given (name, :func:`kiosk_seen_values`).
ProcessorFactory = Callable[[Session, int, list[tuple[str, dict[str, Any]]]], BatchProcessor]


class GroupCommit:
    """Applies kiosks' batches through ``db.gate``, patrons' requests first and
    together, uploads in parts."""

    # The size of an upload's parts. A patron's request waits for the part in
    # progress at most (see _join_waiting); smaller parts trade uploads' throughput
    # (server.tx_per_s) for little of a patron's wait (server.checkout_p99_ms).
    BULK_CHUNK = 50

    def __init__(self, db: Database, processor: ProcessorFactory) -> None:
        self.db = db
        self._processor = processor
        self._waiting: list[_Request] = []  # patrons' requests waiting for the gate
        self._waiting_lock = threading.Lock()
        self._patrons_in = 0  # patrons' requests in _apply_urgent now

    def apply_batch(
        self, kiosk: str, batch: TransactionBatch, urgent: bool = False
    ) -> list[TransactionResult]:
        """A kiosk's batch: the transactions plus the kiosk's reported health.

        ``urgent`` (a patron waiting for an online decision) overtakes queue uploads,
        and is applied together with the other patrons' requests waiting at the same
        moment (see :meth:`_apply_urgent`). A large upload is applied in event-time
        order in parts of BULK_CHUNK, each committed on its own (the wire contract
        allows per-transaction acceptance), so it never holds the write gate for long;
        patrons' requests that come meanwhile join the part in progress.
        """
        if urgent:  # a few transactions (server.api.kiosk.is_urgent): one part
            return self._apply_urgent(_Request(kiosk, batch))
        txns = batch.transactions
        order = list(range(len(txns)))
        if len(txns) > self.BULK_CHUNK:
            order.sort(key=lambda i: _sort_key(txns[i]))
        results: list[TransactionResult | None] = [None] * len(txns)
        start = 0
        while True:  # once at least: an empty batch still reports the kiosk's health
            chunk = order[start : start + self.BULK_CHUNK]
            start += len(chunk)
            last = start == len(order)
            seen = [(kiosk, kiosk_seen_values(batch))] if last else []
            with self.db.gate.hold():
                joined: list[tuple[_Request, list[TransactionResult]]] = []
                try:
                    with self.db.write_held() as (session, version):
                        part = [txns[i] for i in chunk]
                        out = self._processor(session, version, seen).apply(part)
                        joined = self._join_waiting(session, version)
                except BaseException:
                    self._wait_again([request for request, _ in joined])
                    raise
                # answered after the commit and before the gate opens: a patron whose
                # request joined never finds the gate free with no answer
                for request, answer in joined:
                    request.results = answer
            for i, result in zip(chunk, out, strict=True):
                results[i] = result
            if last:
                return [r for r in results if r is not None]

    def _join_waiting(
        self, session: Session, version: int
    ) -> list[tuple[_Request, list[TransactionResult]]]:
        """Patrons' requests that came while this upload part was being applied, applied
        in its write before it commits (a savepoint apart), with their answers.

        Each would otherwise wait for the part and then pay a write of its own; joined,
        the patron waits for the part only. If they fail here, the part still commits
        and they go back to waiting, to be applied on their own.
        """
        taken = self._take_waiting()
        if not taken:
            return []
        try:
            with session.begin_nested():
                out = self._apply_in(session, version, taken)
        except Exception as exc:
            log.warning("%d patron requests could not join an upload's write: %s", len(taken), exc)
            self._wait_again(taken)
            return []
        return self._split(taken, out)

    def _take_waiting(self) -> list[_Request]:
        """Every request waiting now, off the list (the caller answers each one)."""
        with self._waiting_lock:
            taken, self._waiting = self._waiting, []
        return taken

    def _wait_again(self, requests: list[_Request]) -> None:
        """Put requests taken from the waiting list back, first in line."""
        if requests:
            with self._waiting_lock:
                self._waiting[:0] = requests

    @property
    def patrons_waiting(self) -> int:
        """Patrons' requests waiting for the write gate now, not yet taken on."""
        with self._waiting_lock:
            return len(self._waiting)

    @property
    def patrons_in(self) -> int:
        """Patrons' requests waiting for the write gate or being applied now."""
        with self._waiting_lock:
            return self._patrons_in

    def _apply_urgent(self, request: _Request) -> list[TransactionResult]:
        """A patron's request, applied in one write with the patrons' requests that
        wait for the write gate with it.

        Patrons at several kiosks who scan while the gate is busy all wait for the
        same holder to leave, and a write's fixed work is most of what each of their
        requests costs (see the module's docstring). An upload part being applied
        meanwhile takes them into its own write before it commits (see
        :meth:`_join_waiting`); otherwise the first of them to get the gate applies
        every waiting request, and the others return with their results without
        holding it.
        """
        with self._waiting_lock:
            self._waiting.append(request)
            self._patrons_in += 1
        try:
            with self.db.gate.hold(urgent=True, done=request.finished) as held:
                if held:  # nobody took it on while it waited: apply it and those still waiting
                    self._apply_waiting()
        finally:
            with self._waiting_lock:
                self._patrons_in -= 1
        if request.error is not None:
            raise request.error
        assert request.results is not None
        return request.results

    def _apply_waiting(self) -> None:
        """Apply every waiting patron request (the caller holds the gate).

        Together first; if that write fails, one by one, so a request whose data
        makes the database refuse the write fails alone. Every request taken leaves
        with its results or an error.
        """
        taken = self._take_waiting()
        try:
            self._apply_requests(taken)
        except Exception as exc:
            if len(taken) == 1:
                taken[0].error = exc
            else:
                log.warning("%d requests failed as one write (%s); one by one now", len(taken), exc)
                for request in taken:
                    try:
                        self._apply_requests([request])
                    except Exception as alone:
                        request.error = alone
        finally:
            for request in taken:
                if not request.finished():  # only when something stopped this thread
                    request.error = RuntimeError("the server stopped applying this request")

    def _apply_requests(self, requests: list[_Request]) -> None:
        """One write transaction for these requests' transactions; then their results."""
        with self.db.write_held() as (session, version):
            out = self._apply_in(session, version, requests)
        for request, answer in self._split(requests, out):
            request.results = answer

    def _apply_in(
        self, session: Session, version: int, requests: list[_Request]
    ) -> list[TransactionResult]:
        """Apply these requests' transactions and their kiosks' health in this write."""
        seen: dict[str, dict[str, Any]] = {}
        for request in requests:  # a kiosk twice (a resend): its later report wins
            seen.setdefault(request.kiosk, {}).update(kiosk_seen_values(request.batch))
        txns = [t for request in requests for t in request.batch.transactions]
        out = self._processor(session, version, list(seen.items())).apply(txns)
        if len(out) != len(txns):  # each request's answer is a slice of this list
            raise RuntimeError(f"{len(out)} results for {len(txns)} transactions")
        return out

    @staticmethod
    def _split(
        requests: list[_Request], out: list[TransactionResult]
    ) -> list[tuple[_Request, list[TransactionResult]]]:
        """Each request's slice of the results of their transactions applied together."""
        answers = []
        at = 0
        for request in requests:
            answers.append((request, out[at : at + len(request.batch.transactions)]))
            at += len(request.batch.transactions)
        return answers


@dataclass(eq=False)
class _Request:
    """A patron's request waiting for the write gate, and its answer once applied."""

    kiosk: str
    batch: TransactionBatch
    results: list[TransactionResult] | None = None
    error: Exception | None = None

    def finished(self) -> bool:
        return self.results is not None or self.error is not None


def kiosk_seen_values(batch: TransactionBatch) -> dict[str, Any]:
    """What a batch tells about its kiosk: now, and the health fields it reported."""
    values: dict[str, Any] = {"last_seen": utcnow()}
    if batch.queue_depth is not None:
        values["queue_depth"] = min(batch.queue_depth, 2**31 - 1)  # an INTEGER column
    if batch.snapshot_age_s is not None:
        values["snapshot_age_s"] = min(batch.snapshot_age_s, 1e12)
    if batch.version is not None and storable(batch.version):
        values["app_version"] = batch.version
    return values


def _sort_key(txn: TransactionIn) -> str:
    try:
        return order_key(txn.at, txn.kiosk, txn.seq)
    except (OverflowError, ValueError):
        return ""  # refused as invalid anyway; any position will do
