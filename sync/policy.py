"""The offline policy: what a kiosk may decide alone, from its snapshot.

Every refusal carries a ``Reason`` the screen translates. The policy is pure
(store reads only); the caller commits the transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from core.tickets import TicketError, read_ticket, unsigned_ticket
from core.wire import (
    Kind,
    PatronInfo,
    PatronStatus,
    Reason,
    SnapshotPatron,
    Status,
    TransactionIn,
    TransactionResult,
)
from sync.store import LocalStore

WIB = ZoneInfo("Asia/Jakarta")


class PolicySettings(Protocol):
    """The offline knobs (``[offline]`` in kiosk.toml, ``kiosk.config.OfflinePolicy``)."""

    # Read-only properties, so frozen settings models satisfy the protocol.
    @property
    def allow_checkout(self) -> bool: ...
    @property
    def max_items_per_session(self) -> int: ...
    @property
    def loan_days(self) -> int: ...
    @property
    def check_pin(self) -> bool: ...
    @property
    def allow_returns(self) -> bool: ...
    @property
    def allow_door_signin(self) -> bool: ...
    @property
    def allow_event_register(self) -> bool: ...


def offline_due_at(now: datetime, days: int) -> datetime:
    """Due at the end of the library day (23.59 WIB), ``days`` days after ``now``."""
    local = now.astimezone(WIB).date() + timedelta(days=days)
    return datetime.combine(local, time(23, 59), WIB).astimezone(UTC)


def patron_info_from_snapshot(p: SnapshotPatron, today: date) -> PatronInfo:
    """The session view of a snapshot patron, with the offline borrowing verdict."""
    reason: Reason | None = None
    if p.status == PatronStatus.BLOCKED:
        reason = Reason.PATRON_BLOCKED
    elif p.status == PatronStatus.EXPIRED or (p.expires_on is not None and p.expires_on < today):
        reason = Reason.CARD_EXPIRED
    elif p.loan_limit and p.loan_count >= p.loan_limit:
        reason = Reason.TOO_MANY_LOANS
    return PatronInfo(
        card=p.card,
        first_name=p.first_name,
        status=PatronStatus.EXPIRED if reason == Reason.CARD_EXPIRED else p.status,
        expires_on=p.expires_on,
        loan_count=p.loan_count,
        loan_limit=p.loan_limit,
        pin_required=p.pin_required or p.pin_hash is not None,
        can_borrow=reason is None,
        reason=reason,
    )


def _refuse(tx: TransactionIn, reason: Reason, **kw: object) -> TransactionResult:
    return TransactionResult(id=tx.id, status=Status.REFUSED, reason=reason, **kw)  # type: ignore[arg-type]


def _accept(tx: TransactionIn, **kw: object) -> TransactionResult:
    return TransactionResult(id=tx.id, status=Status.ACCEPTED, **kw)  # type: ignore[arg-type]


def decide_offline(
    tx: TransactionIn,
    store: LocalStore,
    policy: PolicySettings,
    *,
    session_items: int = 0,
) -> TransactionResult:
    """Decide ``tx`` from the snapshot alone.

    ``session_items`` counts the offline loans already made in this session.
    """
    if tx.kind == Kind.CHECKOUT:
        return _checkout(tx, store, policy, session_items)
    if tx.kind == Kind.CHECKIN:
        if not policy.allow_returns:
            return _refuse(tx, Reason.OFFLINE_NOT_ALLOWED)
        item = store.item(tx.item or "")
        if item is None:
            # The book is physically here: take it back; the server will sort out the record.
            return _accept(tx)
        # Taken back even when the snapshot says "not on loan": another kiosk may
        # have lent it offline (a return at kiosk B can precede the checkout from
        # kiosk A on the server), and a patron must never be left holding a book
        # the kiosk refuses. The server merges it in event-time order.
        return _accept(tx, title=item.title, hold_for_other=bool(item.hold_for))
    if tx.kind == Kind.RENEW:
        # Renewals depend on holds placed anywhere in the library: only the server knows.
        return _refuse(tx, Reason.OFFLINE_NOT_ALLOWED)
    if tx.kind == Kind.EVENT_REGISTER:
        return _register(tx, store, policy)
    if tx.kind == Kind.DOOR_SIGNIN:
        return _door(tx, store, policy)
    if tx.kind == Kind.VISIT:
        return _visit(tx, store)
    if tx.kind in (Kind.GROUP_VISIT, Kind.FEEDBACK):
        return _accept(tx)
    return _refuse(tx, Reason.INVALID)


def _visit(tx: TransactionIn, store: LocalStore) -> TransactionResult:
    """A guest-book entry is never refused; a card already counted in the visit's
    window is welcomed again and not counted again."""
    visit = tx.visit
    if visit is None or visit.amends or not tx.card or not visit.window:
        return _accept(tx, counted=visit is not None and visit.amends is None)
    first = store.visit_first_at(tx.card, visit.window)
    return _accept(tx, counted=first is None, signed_in_at=first or tx.at)


def _checkout(
    tx: TransactionIn, store: LocalStore, policy: PolicySettings, session_items: int
) -> TransactionResult:
    if not policy.allow_checkout:
        return _refuse(tx, Reason.OFFLINE_NOT_ALLOWED)
    patron = store.patron(tx.card or "")
    if patron is None:
        return _refuse(tx, Reason.NOT_IN_SNAPSHOT)
    info = patron_info_from_snapshot(patron, tx.at.astimezone(WIB).date())
    if not info.can_borrow:
        return _refuse(tx, info.reason or Reason.INVALID)
    if session_items >= policy.max_items_per_session:
        return _refuse(tx, Reason.OFFLINE_SESSION_LIMIT)
    item = store.item(tx.item or "")
    if item is None:
        return _refuse(tx, Reason.UNKNOWN_ITEM)
    tag = store.keys.tag(tx.card)  # loans and holds name patrons by card tag
    if item.status == "on_loan":
        reason = (
            Reason.ITEM_ALREADY_ON_LOAN_TO_PATRON
            if tag is not None and item.on_loan_to == tag
            else Reason.ITEM_ON_LOAN_TO_OTHER
        )
        return _refuse(tx, reason, title=item.title, due_at=item.due_at)
    if item.status == "not_for_loan":
        return _refuse(tx, Reason.ITEM_NOT_FOR_LOAN, title=item.title)
    if item.status == "lost":
        return _refuse(tx, Reason.ITEM_LOST, title=item.title)
    if item.status == "in_transit":
        return _refuse(tx, Reason.ITEM_IN_TRANSIT, title=item.title)
    if item.hold_for and item.hold_for != tag:
        return _refuse(tx, Reason.ITEM_ON_HOLD_FOR_OTHER, title=item.title)
    return _accept(
        tx, title=item.title, due_at=tx.due_at or offline_due_at(tx.at, policy.loan_days)
    )


def _event(store: LocalStore, event_id: int | None) -> dict | None:
    for ev in store.events():
        if ev["id"] == event_id:
            return ev
    return None


def _register(tx: TransactionIn, store: LocalStore, policy: PolicySettings) -> TransactionResult:
    if not policy.allow_event_register:
        return _refuse(tx, Reason.OFFLINE_NOT_ALLOWED)
    ev = _event(store, tx.event_id)
    if ev is None:
        return _refuse(tx, Reason.UNKNOWN_EVENT)
    if datetime.fromisoformat(ev["ends_at"]) < tx.at:
        return _refuse(tx, Reason.EVENT_OVER, event_id=tx.event_id)
    if tx.card:
        if store.patron(tx.card) is None:
            return _refuse(tx, Reason.NOT_IN_SNAPSHOT)
        if store.registration(event_id=tx.event_id, card=tx.card) is not None:
            return _refuse(tx, Reason.ALREADY_REGISTERED, event_id=tx.event_id)
    # Seats are counted from the snapshot plus this kiosk's own sign-ups; another
    # kiosk may fill the last seat meanwhile, which the server turns into a conflict.
    full = ev.get("seats_left", 1) <= 0
    if full and not ev.get("waitlist"):
        return _refuse(tx, Reason.EVENT_FULL, event_id=tx.event_id)
    # The server would sign the ticket; offline the kiosk prints an unsigned one
    # with the code the server will give this registration (core/tickets.py).
    return _accept(
        tx,
        event_id=tx.event_id,
        waitlisted=full,
        ticket=unsigned_ticket(tx.event_id, tx.id) if tx.event_id is not None else None,
    )


def _door(tx: TransactionIn, store: LocalStore, policy: PolicySettings) -> TransactionResult:
    if not policy.allow_door_signin:
        return _refuse(tx, Reason.OFFLINE_NOT_ALLOWED)
    if _event(store, tx.event_id) is None:
        return _refuse(tx, Reason.UNKNOWN_EVENT)
    reg = None
    if tx.ticket:
        try:
            ticket = read_ticket(store.ticket_public_key(), tx.ticket)
        except TicketError:
            return _refuse(tx, Reason.UNKNOWN_TICKET, event_id=tx.event_id)
        if ticket.event_id != tx.event_id:
            return _refuse(tx, Reason.UNKNOWN_TICKET, event_id=tx.event_id)
        reg = store.registration(ticket=ticket.code)
        if reg is not None and reg.event_id != tx.event_id:
            return _refuse(tx, Reason.UNKNOWN_TICKET, event_id=tx.event_id)
        if reg is None and not ticket.verified:
            # Nothing vouches for it here: an unsigned ticket from another kiosk's
            # offline sign-up reaches this kiosk only with the server's snapshot.
            return _refuse(tx, Reason.TICKET_NOT_YET_KNOWN, event_id=tx.event_id)
    elif tx.card:
        reg = store.registration(event_id=tx.event_id, card=tx.card)
    if reg is not None and reg.signed_in_at is not None:
        return _refuse(
            tx,
            Reason.ALREADY_SIGNED_IN,
            event_id=tx.event_id,
            signed_in_at=reg.signed_in_at,
            attendance_count=store.attendance(tx.event_id or 0),
        )
    return _accept(
        tx,
        event_id=tx.event_id,
        signed_in_at=tx.at,
        attendance_count=store.attendance(tx.event_id or 0) + 1,
    )
