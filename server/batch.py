"""One batch's working state, shared by the circulation and event ledgers.

A batch reads patrons, items and loans as plain values (:class:`BatchPatron`,
:class:`BatchLoan`, ``server.circulation.BatchItem``), not ORM objects, and writes
what it changed itself, in bulk, with its closing writes (``server.pgwrite`` on
PostgreSQL). A part of an upload loads or makes about 150 of them, and an ORM
object costs several times more to load and to make than these: the upload
throughput figures ``server.tx_per_s`` and ``server.batch10k_s`` of ``make bench``
show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Select, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from core.tickets import sign_ticket
from core.wire import Reason, Status
from server.calendar import LibraryCalendar, Policies
from server.models import Loan, Patron
from server.pgwrite import ClosingWrites
from server.statements import among, chunks, per_backend
from server.timeutil import local_date

_LOANS = cast(Table, Loan.__table__)
# the columns a loan made in a batch is inserted with (the database gives the id)
_MADE_LOAN = [c.name for c in _LOANS.columns if c.name != "id"]
_OPEN_LOANS = (
    select(func.count())
    .where(_LOANS.c.patron_id == Patron.id, _LOANS.c.returned_at.is_(None))
    .correlate(Patron)
    .scalar_subquery()
)

# Built once (server.statements): what a batch reads of a patron (BatchPatron's
# fields, in order) with the open loans, and the open-loan counts.
_PATRON_COLUMNS = (
    Patron.id, Patron.card, Patron.category, Patron.status, Patron.expires_on, Patron.fines_idr
)  # fmt: skip
_PATRONS_BY_CARD = per_backend(
    lambda pg: select(*_PATRON_COLUMNS, _OPEN_LOANS).where(among(Patron.card, "keys", pg))
)
_PATRONS_BY_ID = per_backend(
    lambda pg: select(*_PATRON_COLUMNS, _OPEN_LOANS).where(among(Patron.id, "keys", pg))
)
_LOAN_COUNTS = per_backend(
    lambda pg: (
        select(Loan.patron_id, func.count())
        .where(among(Loan.patron_id, "ids", pg), Loan.returned_at.is_(None))
        .group_by(Loan.patron_id)
    )
)


@dataclass
class Outcome:
    """What applying one transaction did (becomes a TransactionResult)."""

    status: Status = Status.ACCEPTED
    reason: Reason | None = None
    message: str | None = None
    title: str | None = None
    due_at: datetime | None = None
    renewals: int | None = None
    hold_for_other: bool = False
    event_id: int | None = None
    ticket: str | None = None
    waitlisted: bool = False
    signed_in_at: datetime | None = None
    attendance_count: int | None = None
    effective: bool = True  # whether it changed (or may change on replay) state

    @classmethod
    def refused(cls, reason: Reason, message: str) -> Outcome:
        return cls(Status.REFUSED, reason, message, effective=False)

    @classmethod
    def refused_or_conflict(
        cls, decide: bool, reason: Reason, message: str, *, effective: bool
    ) -> Outcome:
        """A check that failed: a refusal for an online request (``decide``), else a
        conflict for staff, since an offline transaction already happened.

        ``effective`` is for the conflict only (a refusal never is): whether the
        transaction stays in the item's or event's history, so that a replay after
        late arrivals judges it again.
        """
        if decide:
            return cls.refused(reason, message)
        return cls(Status.CONFLICT, reason, message, effective=effective)


@dataclass(slots=True)
class BatchPatron:
    """What a batch needs to know of a patron (read only)."""

    id: int
    card: str
    category: str
    status: str
    expires_on: date | None
    fines_idr: int


@dataclass(slots=True)
class BatchLoan:
    """A loan as a batch sees it: read open from the database (``id`` set), or made
    in this batch (``id`` None, inserted with the closing writes)."""

    item_id: int
    patron_id: int
    issued_at: datetime
    due_at: datetime
    returned_at: datetime | None
    renewals: int
    checkout_txn_id: str | None
    id: int | None = None


@dataclass
class BatchContext:
    """Caches and helpers for one write transaction (one batch)."""

    session: Session
    version: int
    policies: Policies
    calendar: LibraryCalendar
    ticket_key: Ed25519PrivateKey
    patrons: dict[str, BatchPatron | None] = field(default_factory=dict)
    patrons_by_id: dict[int, BatchPatron] = field(default_factory=dict)
    loan_counts: dict[int, int] = field(default_factory=dict)
    touched_patrons: set[int] = field(default_factory=set)  # loan count changed
    # loans read from the database and then returned or renewed: still to write
    changed_loans: dict[int, BatchLoan] = field(default_factory=dict)
    # loans made in this batch, inserted in bulk with their final values at the end
    new_loans: list[BatchLoan] = field(default_factory=list)
    # which of a per_backend statement pair to run, and how to write (from the session)
    postgres: bool = field(init=False)

    def __post_init__(self) -> None:
        self.postgres = self.session.get_bind().dialect.name == "postgresql"

    def close_loan(self, loan: BatchLoan, returned_at: datetime) -> None:
        """Set a loan's return time; written for all of a batch's loans in one statement
        (:meth:`write_loans`) instead of one UPDATE per loan."""
        loan.returned_at = returned_at
        self.loan_changed(loan)

    def loan_changed(self, loan: BatchLoan) -> None:
        """Note that a loan read from the database was returned or renewed (a loan made
        in this batch is inserted with its final values anyway)."""
        if loan.id is not None:
            self.changed_loans[loan.id] = loan

    def take_new_loans(self) -> list[BatchLoan]:
        """The loans made since the last call. Nothing in a batch reads open loans back
        from the database after it changed them, so inserting them at the end changes
        no answer; a replay drops the item's new loans with its old ones."""
        made, self.new_loans = self.new_loans, []
        return made

    def take_changed_loans(self) -> list[BatchLoan]:
        """Loans read from the database and changed since the last call. Every read of
        open loans in a batch happens before its loans change, so deferring this write
        changes no answer."""
        rows = list(self.changed_loans.values())
        self.changed_loans = {}
        return rows

    def write_loans(self) -> None:
        """Write the loans made and the loans changed since the last call."""
        if not self.changed_loans and not self.new_loans:
            return
        changed = self.take_changed_loans()
        made = self.take_new_loans()
        if self.postgres:
            writes = ClosingWrites(self.version)
            writes.loans(changed)
            writes.new_loans(made)
            writes.execute(self.session)
            return
        if changed:
            self.session.execute(
                update(_LOANS).where(_LOANS.c.id == bindparam("_id")),
                [
                    {"_id": loan.id, "returned_at": loan.returned_at, "due_at": loan.due_at,
                     "renewals": loan.renewals}
                    for loan in changed
                ],
            )  # fmt: skip
        if made:
            self.session.execute(
                insert(_LOANS), [{c: getattr(loan, c) for c in _MADE_LOAN} for loan in made]
            )

    def load_patrons(self, cards: Iterable[str]) -> None:
        wanted = {c for c in cards if c and c not in self.patrons}
        for chunk in chunks(sorted(wanted)):
            self._add_patrons(_PATRONS_BY_CARD[self.postgres], chunk)
        for card in wanted:
            self.patrons.setdefault(card, None)

    def _add_patrons(self, stmt: Select, keys: list) -> None:
        """Patrons and their open-loan counts in one query. A count is kept only for a
        patron whose loans this batch has not changed yet (see load_loan_counts)."""
        for *fields, n in self.session.execute(stmt, {"keys": keys}):
            p = BatchPatron(*fields)
            self.patrons[p.card] = p
            self.patrons_by_id[p.id] = p
            self.loan_counts.setdefault(p.id, int(n))

    def patron(self, card: str | None) -> BatchPatron | None:
        if not card:
            return None
        if card not in self.patrons:
            self.load_patrons([card])
        return self.patrons[card]

    def load_patrons_by_id(self, ids: Iterable[int]) -> None:
        wanted = sorted({i for i in ids if i not in self.patrons_by_id})
        for chunk in chunks(wanted):
            self._add_patrons(_PATRONS_BY_ID[self.postgres], chunk)

    def patron_by_id(self, patron_id: int) -> BatchPatron:
        self.load_patrons_by_id([patron_id])
        return self.patrons_by_id[patron_id]  # foreign keys guarantee it is there

    def load_loan_counts(self, patron_ids: Iterable[int]) -> None:
        """Open-loan counts, read once per patron before this batch changes them."""
        wanted = sorted({i for i in patron_ids if i not in self.loan_counts})
        for chunk in chunks(wanted):
            for pid, n in self.session.execute(_LOAN_COUNTS[self.postgres], {"ids": chunk}):
                self.loan_counts[pid] = int(n)
            for pid in chunk:
                self.loan_counts.setdefault(pid, 0)

    def loan_count(self, patron: BatchPatron) -> int:
        self.load_loan_counts([patron.id])
        return self.loan_counts[patron.id]

    def adjust_loans(self, patron_id: int, delta: int) -> None:
        self.load_loan_counts([patron_id])
        self.loan_counts[patron_id] += delta
        self.touched_patrons.add(patron_id)

    def patron_problem(self, patron: BatchPatron, at: datetime) -> Reason | None:
        """Why this patron may not borrow at ``at`` (ignoring loan count), if any."""
        if patron.status == "blocked":
            return Reason.PATRON_BLOCKED
        if patron.status == "expired" or (
            patron.expires_on is not None and patron.expires_on < local_date(at)
        ):
            return Reason.CARD_EXPIRED
        return None

    def sign(self, event_id: int, code: str) -> str:
        return sign_ticket(self.ticket_key, event_id, code)
