"""The server's core object: database, settings and signing key, shared by API and CLI."""

from __future__ import annotations

from collections.abc import Sequence

import threading
import time

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.calendar import LibraryCalendar, Policies

from server.db import Database
from server.keys import load_or_create_ticket_key
from server.models import Kiosk
from server.processing import BatchProcessor
from server.settings import Settings
from server.timeutil import utcnow
from sync.tickets import public_key_text
from sync.wire import TransactionBatch, TransactionIn, TransactionResult


class Server:
    """Everything a request or a CLI command needs, made once per process."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.db_url)
        self.ticket_key = load_or_create_ticket_key(settings.data_dir)
        self.public_key = public_key_text(self.ticket_key)
        self._rules: tuple[float, Policies, LibraryCalendar] | None = None
        self._rules_lock = threading.Lock()

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

    def apply_batch(self, kiosk: str, batch: TransactionBatch) -> list[TransactionResult]:
        """A kiosk's batch: the transactions plus the kiosk's reported health."""
        with self.db.write() as (session, version):
            values: dict[str, object] = {"last_seen": utcnow()}
            if batch.queue_depth is not None:
                values["queue_depth"] = batch.queue_depth
            if batch.snapshot_age_s is not None:
                values["snapshot_age_s"] = batch.snapshot_age_s
            if batch.version is not None:
                values["app_version"] = batch.version
            session.execute(update(Kiosk).where(Kiosk.name == kiosk).values(**values))
            return BatchProcessor(
                session,
                version,
                self.ticket_key,
                self.public_key,
                self.settings.closed_weekdays,
                rules=self.rules(session),
            ).apply(batch.transactions)
