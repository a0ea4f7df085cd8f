"""The server's core object: database, settings and signing key, shared by API and CLI."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.auth import token_hash
from server.calendar import LibraryCalendar, Policies
from server.db import Database
from server.keys import load_or_create_ticket_key
from server.models import Kiosk
from server.processing import BatchProcessor
from server.settings import Settings
from server.text import storable
from server.timeutil import order_key, utcnow
from sync.tickets import public_key_text
from sync.wire import TransactionBatch, TransactionIn, TransactionResult


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
        self._rules: tuple[float, Policies, LibraryCalendar] | None = None
        self._rules_lock = threading.Lock()
        self.tokens = TokenCache()

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
            return BatchProcessor(
                session,
                version,
                self.ticket_key,
                self.public_key,
                self.settings.closed_weekdays,
                rules=self.rules(session),
            ).apply(list(txns))

    def apply_batch(
        self, kiosk: str, batch: TransactionBatch, urgent: bool = False
    ) -> list[TransactionResult]:
        """A kiosk's batch: the transactions plus the kiosk's reported health.

        ``urgent`` (a patron waiting for an online decision) lets it overtake queue
        uploads. A large upload is applied in event-time order in chunks of
        BULK_CHUNK, or BUSY_CHUNK while patrons are deciding at kiosks, each committed
        on its own (the wire contract allows per-transaction acceptance), so it never
        holds the write gate for long.
        """
        txns = batch.transactions
        order = list(range(len(txns)))
        if len(txns) > min(self.BULK_CHUNK, self.BUSY_CHUNK):
            order.sort(key=lambda i: _sort_key(txns[i]))
        results: list[TransactionResult | None] = [None] * len(txns)
        start = 0
        while True:  # once at least: an empty batch still reports the kiosk's health
            chunk = order[start : start + self._chunk_size(urgent)]
            start += len(chunk)
            last = start == len(order)
            with self.db.write(urgent) as (session, version):
                processor = BatchProcessor(
                    session,
                    version,
                    self.ticket_key,
                    self.public_key,
                    self.settings.closed_weekdays,
                    rules=self.rules(session),
                )
                if last:
                    seen = kiosk_seen_values(batch)
                    if processor.postgres:
                        processor.kiosk_seen = (kiosk, seen)  # sent with its closing writes
                    else:
                        session.execute(update(Kiosk).where(Kiosk.name == kiosk).values(**seen))
                out = processor.apply([txns[i] for i in chunk])
            for i, result in zip(chunk, out, strict=True):
                results[i] = result
            if last:
                return [r for r in results if r is not None]

    def _chunk_size(self, urgent: bool) -> int:
        """Transactions per write-gate hold for the next part of an upload: fewer while
        patrons are at kiosks, since a patron's request waits for the hold in progress."""
        recent = time.monotonic() - self.db.gate.last_urgent < self.PATRONS_ACTIVE_S
        return self.BUSY_CHUNK if recent and not urgent else self.BULK_CHUNK

    BULK_CHUNK = 50
    BUSY_CHUNK = 25
    PATRONS_ACTIVE_S = 2.0


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
