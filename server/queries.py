"""Read models: what patrons, accounts and events look like over the API."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.wire import (
    AccountView,
    EventView,
    HoldView,
    LoanView,
    PatronInfo,
    PatronStatus,
    Reason,
)
from server.calendar import Policies
from server.models import Event, Item, Loan, Patron, Registration
from server.timeutil import local_date, utcnow


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def effective_status(patron: Patron, today: date) -> PatronStatus:
    if patron.status == "blocked":
        return PatronStatus.BLOCKED
    if patron.status == "expired" or (patron.expires_on is not None and patron.expires_on < today):
        return PatronStatus.EXPIRED
    return PatronStatus.ACTIVE


def find_patron(session: Session, card: str) -> Patron | None:
    return session.execute(
        select(Patron).where(Patron.card == card.strip(), Patron.deleted.is_(False))
    ).scalar()


def open_loan_count(session: Session, patron_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Loan)
            .where(Loan.patron_id == patron_id, Loan.returned_at.is_(None))
        ).scalar_one()
    )


def patron_info(session: Session, patron: Patron, now: datetime | None = None) -> PatronInfo:
    now = now or utcnow()
    status = effective_status(patron, local_date(now))
    policy = Policies(session).lookup(patron.category)
    count = open_loan_count(session, patron.id)
    reason: Reason | None = None
    if status == PatronStatus.BLOCKED:
        reason = Reason.PATRON_BLOCKED
    elif status == PatronStatus.EXPIRED:
        reason = Reason.CARD_EXPIRED
    elif patron.fines_idr > policy.fines_limit_idr:
        reason = Reason.FINES_OVER_LIMIT
    elif count >= policy.max_loans:
        reason = Reason.TOO_MANY_LOANS
    return PatronInfo(
        card=patron.card,
        first_name=first_name(patron.name),
        status=status,
        expires_on=patron.expires_on,
        loan_count=count,
        loan_limit=policy.max_loans,
        pin_required=patron.pin_hash is not None,
        can_borrow=reason is None,
        reason=reason,
    )


def loan_views(session: Session, patron_id: int, now: datetime | None = None) -> list[LoanView]:
    now = now or utcnow()
    rows = session.execute(
        select(Loan, Item.barcode, Item.title)
        .join(Item, Item.id == Loan.item_id)
        .where(Loan.patron_id == patron_id, Loan.returned_at.is_(None))
        .order_by(Loan.due_at)
    ).all()
    return [
        LoanView(
            item=barcode,
            title=title,
            issued_at=loan.issued_at,
            due_at=loan.due_at,
            renewals=loan.renewals,
            overdue=loan.due_at < now,
        )
        for loan, barcode, title in rows
    ]


def account_view(session: Session, patron: Patron) -> AccountView:
    holds = session.execute(
        select(Item.barcode, Item.title, Item.id)
        .where(Item.hold_patron_id == patron.id, Item.deleted.is_(False))
        .order_by(Item.barcode)
    ).all()
    on_loan = set(
        session.scalars(
            select(Loan.item_id).where(
                Loan.item_id.in_([h.id for h in holds]), Loan.returned_at.is_(None)
            )
        )
    )
    return AccountView(
        patron=patron_info(session, patron),
        loans=loan_views(session, patron.id),
        holds=[HoldView(item=b, title=t, ready=i not in on_loan) for b, t, i in holds],
        fines_idr=patron.fines_idr,
    )


def event_views(session: Session, events: Iterable[Event]) -> list[EventView]:
    events = list(events)
    ids = [e.id for e in events]
    seated: dict[int, int] = {}
    attended: dict[int, int] = {}
    if ids:
        for eid, waitlisted, signed, n in session.execute(
            select(
                Registration.event_id,
                Registration.waitlisted,
                Registration.signed_in_at.is_not(None),
                func.count(),
            )
            .where(Registration.event_id.in_(ids), Registration.deleted.is_(False))
            .group_by(
                Registration.event_id,
                Registration.waitlisted,
                Registration.signed_in_at.is_not(None),
            )
        ):
            if not waitlisted:
                seated[eid] = seated.get(eid, 0) + n
            if signed:
                attended[eid] = attended.get(eid, 0) + n
    return [
        EventView(
            id=e.id,
            title=e.title,
            description=e.description,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            place=e.place,
            capacity=e.capacity,
            registered=seated.get(e.id, 0),
            seats_left=max(0, e.capacity - seated.get(e.id, 0)),
            waitlist=e.waitlist,
            registration_opens_at=e.registration_opens_at,
            registration_closes_at=e.registration_closes_at,
            attended=attended.get(e.id, 0),
            cancelled=e.cancelled_at is not None,
        )
        for e in events
    ]


def upcoming_events(session: Session, now: datetime | None = None) -> list[EventView]:
    """Events not over yet and not cancelled, soonest first (the kiosks' online list)."""
    now = now or utcnow()
    rows = session.scalars(
        select(Event)
        .where(Event.ends_at >= now, Event.cancelled_at.is_(None))
        .order_by(Event.starts_at)
    )
    return event_views(session, rows)
