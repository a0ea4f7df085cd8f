"""Connectors to the library's own system (ILS): SLiMS and INLISLite on MariaDB.

With ``[server.ils] kind = "own"`` nothing here runs. Otherwise the ILS is the
source of truth: :class:`Connector.pull` brings what changed into the server's
tables (patrons, items, loan policies, closed days directly; loans made or ended
at the desk as transactions in the server's own log, so a replay keeps them), and
every item transaction the server applies is queued (``ils_writebacks``, in the
same database transaction) for :class:`Connector.write_back`, which a background
worker calls in event-time order. A write-back is idempotent by keys kept in the
ILS's own rows, so a crash between the ILS write and the server's record of it
never doubles or loses a loan, even on MyISAM. Guest-book entries that count
(see :mod:`server.visits`) are queued the same way and written into the ILS's own
guest book by :class:`Connector.write_visits` (:mod:`server.ils.guestbook`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from core.wire import TransactionIn

if TYPE_CHECKING:
    from server.db import Database
    from server.settings import IlsSettings

#: ``kiosk`` of the transactions a pull makes from the desk's own loans and returns
#: (they are in the ILS already, so they are never written back).
ILS_KIOSK_PREFIX = "ils:"


@dataclass
class SweepReport:
    """What one deletion sweep found: rows the ILS no longer has (now refused here)
    and rows it has again (given back their state from the ILS)."""

    patrons_removed: int = 0
    items_removed: int = 0
    patrons_back: int = 0
    items_back: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"sweep: {self.patrons_removed} patrons and {self.items_removed} items gone from "
            f"the ILS, {self.patrons_back} patrons and {self.items_back} items back"
        )


@dataclass
class PullReport:
    """What one pull brought in."""

    cursor: str
    full: bool
    patrons: int = 0
    items: int = 0
    policies: int = 0
    closed_days: int = 0
    desk_transactions: int = 0
    transactions: list[TransactionIn] = field(default_factory=list)
    """The desk's loans, returns and renewals since the cursor, for the server's log."""
    swept: SweepReport | None = None
    """The deletion sweep run with this pull, if one was due."""

    def summary(self) -> str:
        kind = "full" if self.full else "delta"
        text = (
            f"{kind} pull: {self.patrons} patrons, {self.items} items, "
            f"{self.policies} loan rules, {self.closed_days} closed days, "
            f"{self.desk_transactions} desk transactions"
        )
        return text if self.swept is None else f"{text}; {self.swept.summary()}"


@dataclass
class WriteResult:
    """The outcome of writing one item's loans into the ILS."""

    conflict: str | None = None
    """Plain words for staff when the ILS contradicts the server (nothing written)."""
    written: int = 0
    """Rows the ILS got (0 when it already had everything: a repeat)."""


@dataclass(frozen=True)
class OpenLoan:
    """An open loan as either side sees it, for ``ils check``."""

    item: str
    card: str
    due: str  # ISO date, as the ILS stores it


@dataclass
class Health:
    """Whether the ILS answers, and how far behind the mirror is."""

    reachable: bool
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Connector(Protocol):
    """One library system. The SIP2 connector will implement the same calls."""

    kind: str

    def pull(self, db: Database, cursor: str | None) -> PullReport:
        """Mirror what changed in the ILS since ``cursor`` (everything when None)."""
        ...

    def write_back(self, db: Database, item: str) -> WriteResult:
        """Make the ILS's loans of ``item`` match the server's; safe to repeat."""
        ...

    def write_visits(
        self, db: Database, visits: Sequence[str], groups: Sequence[str] = ()
    ) -> WriteResult:
        """Write these guest-book visits and group visits (by id) into the ILS's own
        guest book, or bring the rows written before up to date (an amended purpose);
        safe to repeat."""
        ...

    def write_back_many(self, db: Database, items: Sequence[str]) -> dict[str, WriteResult]:
        """:meth:`write_back` for each of ``items`` (each once, in their order)."""
        ...

    def open_loans(self) -> list[OpenLoan]:
        """Every loan the ILS holds open now."""
        ...

    def health(self) -> Health:
        """Whether the ILS database answers now."""
        ...

    def sweep(self, db: Database) -> SweepReport:
        """Refuse patrons and items the ILS no longer has (deleted there: a pull by
        change never sees them go), and restore those it has again."""
        ...


def make_connector(settings: IlsSettings, staff_uid: int | None = None) -> Connector | None:
    """The connector ``settings`` choose, or None for ``kind = "own"``."""
    if settings.kind == "slims":
        from server.ils.slims import SlimsConnector

        return SlimsConnector(
            settings.url, uid=settings.staff_uid if staff_uid is None else staff_uid
        )
    if settings.kind == "inlislite":
        from server.ils.inlislite import InlisliteConnector

        return InlisliteConnector(
            settings.url, uid=settings.staff_uid if staff_uid is None else staff_uid
        )
    return None
