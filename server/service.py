"""The server's core object: what a request or a CLI command needs, wired once per process.

Each job lives in its own module: the rules cache (``server.rules_cache``), the
token cache (``server.token_cache``) and the group commit that schedules writes
through the write gate (``server.group_commit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.tickets import public_key_text
from core.wire import TransactionBatch, TransactionIn, TransactionResult
from server.calendar import LibraryCalendar, Policies
from server.db import Database
from server.group_commit import GroupCommit
from server.ils import make_connector
from server.ils.service import IlsService
from server.keys import load_or_create_patron_key, load_or_create_ticket_key
from server.models import Kiosk
from server.patron_access import PatronAccess
from server.processing import BatchProcessor, OfflineBounds
from server.rules_cache import RulesCache
from server.settings import Settings
from server.token_cache import Caller, TokenCache

__all__ = ["Caller", "Server"]  # Caller: where server.api.deps imports it from


class Server:
    """Everything a request or a CLI command needs, made once per process."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.db_url)
        self.ticket_key = load_or_create_ticket_key(settings.data_dir)
        self.public_key = public_key_text(self.ticket_key)
        self.rules_cache = RulesCache(settings.closed_weekdays)
        self.patrons = PatronAccess(
            self.db, settings.patron_access, load_or_create_patron_key(settings.data_dir)
        )
        self.tokens = TokenCache()
        self.writes = GroupCommit(self.db, self.processor)
        connector = make_connector(settings.ils)
        self.ils = (
            IlsService(
                self.db,
                connector,
                self.apply,
                pull_interval_s=settings.ils.pull_interval_s,
                writeback_interval_s=settings.ils.writeback_interval_s,
                sweep_interval_s=settings.ils.sweep_interval_s,
                patrons_in=lambda: self.writes.patrons_in > 0,
                writer=partial(make_connector, settings.ils),
            )
            if connector is not None
            else None
        )

    def rules(self, session: Session) -> tuple[Policies, LibraryCalendar]:
        """Loan policies and calendar (see :class:`RulesCache`)."""
        return self.rules_cache.get(session)

    def forget_rules(self) -> None:
        """Read the rules again for the next batch (this process changed them)."""
        self.rules_cache.forget()

    def apply(self, txns: Sequence[TransactionIn]) -> list[TransactionResult]:
        """Apply transactions in one write transaction (all or nothing on an error)."""
        with self.db.write() as (session, version):
            results = self.processor(session, version, []).apply(list(txns))
        if self.ils is not None:
            self.ils.wake()
        return results

    def apply_batch(
        self, kiosk: str, batch: TransactionBatch, urgent: bool = False
    ) -> list[TransactionResult]:
        """A kiosk's batch: the transactions plus the kiosk's reported health
        (see :meth:`GroupCommit.apply_batch`)."""
        results = self.writes.apply_batch(kiosk, batch, urgent)
        if self.ils is not None:
            self.ils.wake()  # write it into the ILS now, off the patron's request
        return results

    @property
    def patrons_waiting(self) -> int:
        """Patrons' requests waiting for the write gate now, not yet taken on."""
        return self.writes.patrons_waiting

    def processor(
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
            bounds=OfflineBounds(
                timedelta(minutes=self.settings.clock_skew_minutes),
                timedelta(days=self.settings.due_grace_days),
            ),
            ils_queue=self.settings.ils.kind != "own",
        )
        if processor.postgres:
            processor.kiosks_seen = seen  # sent with its closing writes
        else:
            for name, values in seen:
                session.execute(update(Kiosk).where(Kiosk.name == name).values(**values))
        return processor
