"""Checkout, checkin and renew applied to one item's state.

Every function works in one of two modes. ``decide=True`` is an online request:
the normal checks run and a failed check refuses with no effect. ``decide=False``
applies a transaction that already happened (an offline one, or any accepted one
being replayed): it always takes effect as far as possible and a failed check
turns into a CONFLICT for staff. Replaying an item's effective transactions in
event-time order with ``decide=False`` therefore rebuilds its loans exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, select

from core.wire import Kind, Reason, Status, TransactionIn
from server.batch import BatchContext, BatchLoan, BatchPatron, Outcome
from server.models import Item, Loan
from server.statements import among, chunks, per_backend

_SHELF_REASONS = {
    "not_for_loan": Reason.ITEM_NOT_FOR_LOAN,
    "lost": Reason.ITEM_LOST,
    "in_transit": Reason.ITEM_IN_TRANSIT,
}


@dataclass(slots=True)
class BatchItem:
    """An item as a batch sees it (see server.batch: plain values, not ORM objects).
    ``status`` and ``hold_patron_id`` may change; the batch writes them back."""

    id: int
    barcode: str
    title: str
    item_type: str
    status: str
    hold_patron_id: int | None
    last_key: str | None
    loaded: tuple[str, int | None] = field(init=False)

    def __post_init__(self) -> None:
        self.loaded = (self.status, self.hold_patron_id)

    @property
    def shelf_changed(self) -> bool:
        """Whether the batch changed the item's status or hold."""
        return (self.status, self.hold_patron_id) != self.loaded


@dataclass
class ItemState:
    """An item row and its open loan, if any."""

    item: BatchItem
    open_loan: BatchLoan | None = None
    dirty: bool = False  # a late transaction arrived: replay before trusting this state
    last_key: str | None = None  # written back in bulk with the version (see processing)
    touched: bool = False  # changed in this batch: gets the batch's version


# Built once (server.statements): every batch runs it.
# BatchItem's fields, then BatchLoan's, in order
_ITEM_COLUMNS = (
    Item.id, Item.barcode, Item.title, Item.item_type, Item.status, Item.hold_patron_id,
    Item.last_key,
)  # fmt: skip
_LOAN_COLUMNS = (
    Loan.item_id, Loan.patron_id, Loan.issued_at, Loan.due_at, Loan.returned_at, Loan.renewals,
    Loan.checkout_txn_id, Loan.id,
)  # fmt: skip
_ITEM_STATES = per_backend(
    lambda pg: (
        select(*_ITEM_COLUMNS, *_LOAN_COLUMNS)
        .outerjoin(Loan, and_(Loan.item_id == Item.id, Loan.returned_at.is_(None)))
        .where(among(Item.barcode, "codes", pg), Item.deleted.is_(False))
    )
)
_ITEM_WIDTH = len(_ITEM_COLUMNS)


def load_item_states(ctx: BatchContext, barcodes: set[str]) -> dict[str, ItemState]:
    """Items and their open loans, one query per 500 barcodes."""
    states: dict[str, ItemState] = {}
    for codes in chunks(sorted(barcodes)):
        rows: Iterable[Any] = ctx.session.execute(_ITEM_STATES[ctx.postgres], {"codes": codes})
        for row in rows:
            state = states.get(row[1])
            if state is None:
                item = BatchItem(*row[:_ITEM_WIDTH])
                state = states[item.barcode] = ItemState(item, last_key=item.last_key)
            if row[-1] is not None:  # the open loan's id
                state.open_loan = BatchLoan(*row[_ITEM_WIDTH:])
    return states


def apply_item(ctx: BatchContext, state: ItemState, txn: TransactionIn, decide: bool) -> Outcome:
    if txn.kind == Kind.CHECKOUT:
        return _checkout(ctx, state, txn, decide)
    if txn.kind == Kind.CHECKIN:
        return _checkin(ctx, state, txn, decide)
    return _renew(ctx, state, txn, decide)


def _close_loan(ctx: BatchContext, state: ItemState, txn: TransactionIn) -> BatchLoan:
    loan = state.open_loan
    assert loan is not None
    # a return stamped before the issue (kiosk clocks) must not make a negative loan
    ctx.close_loan(loan, max(txn.at, loan.issued_at))
    ctx.adjust_loans(loan.patron_id, -1)
    state.open_loan = None
    return loan


def _checkout(ctx: BatchContext, state: ItemState, txn: TransactionIn, decide: bool) -> Outcome:
    item = state.item
    patron = ctx.patron(txn.card)
    if patron is None:
        return Outcome.refused_or_conflict(
            decide, Reason.UNKNOWN_CARD, f"no patron with card {txn.card!r}", effective=False
        )
    policy = ctx.policies.lookup(patron.category, item.item_type)
    loan = state.open_loan
    if loan is not None and loan.patron_id == patron.id:
        # a double scan: the patron already has it; nothing changes
        return Outcome(
            Status.REFUSED if decide else Status.ACCEPTED,
            Reason.ITEM_ALREADY_ON_LOAN_TO_PATRON,
            "item is already on loan to this patron",
            title=item.title,
            due_at=loan.due_at,
            renewals=loan.renewals,
            effective=not decide,
        )
    problem = _checkout_problem(ctx, state, patron, txn, policy.max_loans, policy.fines_limit_idr)
    if problem is not None and decide:
        return Outcome.refused(problem[0], problem[1])
    if state.open_loan is not None:
        _close_loan(ctx, state, txn)  # it physically left with this patron, so it came back
    if txn.offline and txn.due_at is not None:
        due = txn.due_at  # what the offline slip printed is what the patron was told
    else:
        due = ctx.calendar.due_at(txn.at, policy.loan_days)
    loan = BatchLoan(
        item_id=item.id,
        patron_id=patron.id,
        issued_at=txn.at,
        due_at=due,
        returned_at=None,
        renewals=0,
        checkout_txn_id=txn.id,
    )
    ctx.new_loans.append(loan)  # inserted with the batch's closing writes
    state.open_loan = loan
    ctx.adjust_loans(patron.id, +1)
    if item.hold_patron_id == patron.id:
        item.hold_patron_id = None  # the hold is fulfilled
    if item.status in ("lost", "in_transit"):
        item.status = "available"  # found: it is in the patron's hands
    state.touched = True
    out = Outcome(title=item.title, due_at=due, renewals=0)
    if problem is not None:
        out.status, out.reason, out.message = Status.CONFLICT, problem[0], problem[1]
    return out


def _checkout_problem(
    ctx: BatchContext,
    state: ItemState,
    patron: BatchPatron,
    txn: TransactionIn,
    max_loans: int,
    fines_limit: int,
) -> tuple[Reason, str] | None:
    item = state.item
    reason = ctx.patron_problem(patron, txn.at)
    if reason is not None:
        return reason, f"patron {patron.card} is {patron.status}"
    if patron.fines_idr > fines_limit:
        return Reason.FINES_OVER_LIMIT, f"fines Rp{patron.fines_idr} over limit Rp{fines_limit}"
    if ctx.loan_count(patron) >= max_loans:
        return Reason.TOO_MANY_LOANS, f"patron already has {max_loans} loans"
    if state.open_loan is not None:
        return Reason.ITEM_ON_LOAN_TO_OTHER, "item is on loan to another patron"
    if item.hold_patron_id is not None and item.hold_patron_id != patron.id:
        return Reason.ITEM_ON_HOLD_FOR_OTHER, "item is on hold for another patron"
    if item.status in _SHELF_REASONS:
        return _SHELF_REASONS[item.status], f"item status is {item.status}"
    return None


def _checkin(ctx: BatchContext, state: ItemState, txn: TransactionIn, decide: bool) -> Outcome:
    item = state.item
    hold = item.hold_patron_id is not None
    if state.open_loan is None:
        if item.status in ("lost", "in_transit"):
            item.status = "available"
            state.touched = True
            return Outcome(title=item.title, hold_for_other=hold, message="item was not on loan")
        if decide:
            out = Outcome.refused(Reason.NOT_ON_LOAN, "item was not on loan")
            out.title = item.title
            out.hold_for_other = hold
            return out
        # offline: the item is back in the library either way; nothing to resolve
        return Outcome(title=item.title, hold_for_other=hold, message="item was not on loan")
    loan = _close_loan(ctx, state, txn)
    state.touched = True
    return Outcome(
        title=item.title, due_at=loan.due_at, renewals=loan.renewals, hold_for_other=hold
    )


def _renew(ctx: BatchContext, state: ItemState, txn: TransactionIn, decide: bool) -> Outcome:
    item = state.item
    loan = state.open_loan
    patron = ctx.patron(txn.card) if txn.card else None
    if txn.card and patron is None:
        return Outcome.refused_or_conflict(
            decide, Reason.UNKNOWN_CARD, f"no patron with card {txn.card!r}", effective=False
        )
    if loan is None or (patron is not None and loan.patron_id != patron.id):
        # effective: a checkout that arrives later, stamped before it, makes it a renewal
        return Outcome.refused_or_conflict(
            decide, Reason.NOT_ON_LOAN, "item is not on loan to this patron", effective=True
        )
    patron = patron or ctx.patron_by_id(loan.patron_id)
    policy = ctx.policies.lookup(patron.category, item.item_type)
    problem: tuple[Reason, str] | None = None
    reason = ctx.patron_problem(patron, txn.at)
    if reason is not None:
        problem = (reason, f"patron {patron.card} is {patron.status}")
    elif loan.renewals >= policy.max_renewals:
        problem = (Reason.RENEWAL_LIMIT, f"already renewed {loan.renewals} times")
    elif item.hold_patron_id is not None and item.hold_patron_id != patron.id:
        problem = (Reason.RENEWAL_ON_HOLD, "another patron holds this item")
    if problem is not None and decide:
        out = Outcome.refused(*problem)
        out.title, out.due_at, out.renewals = item.title, loan.due_at, loan.renewals
        return out
    if txn.offline and txn.due_at is not None:
        due = txn.due_at
    else:
        due = max(loan.due_at, ctx.calendar.due_at(txn.at, policy.loan_days))
    loan.due_at = due
    loan.renewals += 1
    ctx.loan_changed(loan)
    state.touched = True
    out = Outcome(title=item.title, due_at=due, renewals=loan.renewals)
    if problem is not None:
        out.status, out.reason, out.message = Status.CONFLICT, problem[0], problem[1]
    return out


def reset_item(ctx: BatchContext, state: ItemState) -> None:
    """Forget the item's loans before a replay rebuilds them from the log."""
    if state.open_loan is not None:
        ctx.adjust_loans(state.open_loan.patron_id, -1)
        state.open_loan = None
    # loans purge-history unlinked stay: their transactions no longer replay
    ctx.session.execute(
        delete(Loan).where(Loan.item_id == state.item.id, Loan.patron_id.is_not(None))
    )
    ctx.new_loans = [loan for loan in ctx.new_loans if loan.item_id != state.item.id]
    ctx.changed_loans = {
        i: loan for i, loan in ctx.changed_loans.items() if loan.item_id != state.item.id
    }
    state.touched = True
