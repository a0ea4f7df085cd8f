"""The server's core object: database, settings and signing key, shared by API and CLI."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.tickets import public_key_text
from core.wire import TransactionBatch, TransactionIn, TransactionResult
from server.auth import token_hash
from server.calendar import LibraryCalendar, Policies
from server.db import Database
from server.keys import load_or_create_patron_key, load_or_create_ticket_key
from server.models import Kiosk
from server.patron_access import PatronAccess
from server.processing import BatchProcessor
from server.settings import Settings
from server.text import storable
from server.timeutil import order_key, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """Who is calling: a kiosk (by name) or a staff user (by name)."""

    kind: str  # "kiosk" | "staff"
    name: str


class TokenCache:
    """Recently seen bearer tokens, so a busy kiosk does not cost a query per request.

    Entries live ``ttl`` seconds: a rotated kiosk token or an expired staff
    session stops working within that time. Keys are token hashes.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Caller | None:
        key = token_hash(token)
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or hit[1] < time.monotonic():
                self._entries.pop(key, None)
                return None
            return hit[0]

    def put(self, token: str, caller: Caller) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token_hash(token)] = (caller, time.monotonic() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Server:
    """Everything a request or a CLI command needs, made once per process."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.db_url)
        self.ticket_key = load_or_create_ticket_key(settings.data_dir)
        self.public_key = public_key_text(self.ticket_key)
        self.patrons = PatronAccess(
            self.db, settings.patron_access, load_or_create_patron_key(settings.data_dir)
        )
        self._rules: tuple[float, Policies, LibraryCalendar] | None = None
        self._rules_lock = threading.Lock()
        self.tokens = TokenCache()
        self._waiting: list[_Request] = []  # patrons' requests waiting for the gate
        self._waiting_lock = threading.Lock()

    RULES_TTL_S = 10.0

    def rules(self, session: Session) -> tuple[Policies, LibraryCalendar]:
        """Loan policies and calendar, cached briefly: every batch needs them.

        Changes made through this process (staff closed-days routes) call
        :meth:`forget_rules`; changes from another process show within RULES_TTL_S.
        """
        with self._rules_lock:
            cached = self._rules
            if cached is None or time.monotonic() - cached[0] > self.RULES_TTL_S:
                cal = LibraryCalendar.load(session, self.settings.closed_weekdays)
                cached = (time.monotonic(), Policies(session), cal)
                self._rules = cached
            return cached[1], cached[2]

    def forget_rules(self) -> None:
        with self._rules_lock:
            self._rules = None

    def apply(self, txns: Sequence[TransactionIn]) -> list[TransactionResult]:
        """Apply transactions in one write transaction (all or nothing on an error)."""
        with self.db.write() as (session, version):
            return self._processor(session, version, []).apply(list(txns))

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

    # A patron's request waits for the part in progress at most (see _join_waiting).
    # Parts of 25 while patrons were at kiosks cost the bench 25% of its uploads'
    # throughput (704-715 against 929-945 tx/s) for 3-6 ms of probe p99 (67-70 ms).
    BULK_CHUNK = 50

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

    def _processor(
        self, session: Session, version: int, seen: list[tuple[str, dict[str, Any]]]
    ) -> BatchProcessor:
        """A batch processor for this write, with the health of the kiosks in ``seen``
        (``kiosk_seen_values``) written along."""
        processor = BatchProcessor(
            session,
            version,
            self.ticket_key,
            self.public_key,
            self.settings.closed_weekdays,
            rules=self.rules(session),
        )
        if processor.postgres:
            processor.kiosks_seen = seen  # sent with its closing writes
        else:
            for name, values in seen:
                session.execute(update(Kiosk).where(Kiosk.name == name).values(**values))
        return processor

    @property
    def patrons_waiting(self) -> int:
        """Patrons' requests waiting for the write gate now, not yet taken on."""
        with self._waiting_lock:
            return len(self._waiting)

    def _apply_urgent(self, request: _Request) -> list[TransactionResult]:
        """A patron's request, applied in one write with the patrons' requests that
        wait for the write gate with it.

        A write's fixed work (session, change number, reads, closing writes, commit)
        costs ~8 ms of server time for one online checkout, each further transaction
        in it ~0.5 ms; patrons at several kiosks who scan while the gate is busy all
        wait for the same holder to leave. An upload part being applied meanwhile
        takes them into its own write before it commits (see :meth:`_join_waiting`);
        otherwise the first of them to get the gate applies every waiting request,
        and the others return with their results without holding it.
        """
        with self._waiting_lock:
            self._waiting.append(request)
        with self.db.gate.hold(urgent=True, done=request.finished) as held:
            if held:  # nobody took it on while it waited: apply it and those still waiting
                self._apply_waiting()
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
