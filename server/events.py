"""Event registration and door sign-in applied to one event's state.

Same two modes as ``circulation.py``: ``decide=True`` checks and may refuse,
``decide=False`` applies what already happened and reports conflicts. The state
is plain data (one :class:`Reg` per person) written back to rows by ticket code,
so a replay can rebuild it and only changed rows get a new version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import select

from core.tickets import ticket_code_for
from core.wire import Guest, Kind, Reason, Status, TransactionIn
from server.batch import BatchContext, Outcome
from server.models import Event, Registration


@dataclass
class Reg:
    """One person's registration as the ledger sees it."""

    ticket_code: str
    person_key: str
    card: str | None
    guest_name: str | None
    guest_phone: str | None
    guest_email: str | None
    guest_institution: str | None
    registered_at: datetime
    waitlisted: bool = False
    signed_in_at: datetime | None = None
    signed_in_kiosk: str | None = None


_REG_FIELDS = [f.name for f in fields(Reg)]


@dataclass
class EventState:
    """An event row, its live registrations by person, and the rows behind them."""

    event: Event
    regs: dict[str, Reg]
    rows: dict[str, Registration]  # every row of this event by ticket code, deleted ones too
    dirty: bool = False
    last_key: str | None = None

    def seated(self) -> int:
        return sum(1 for r in self.regs.values() if not r.waitlisted)

    def attended(self) -> int:
        return sum(1 for r in self.regs.values() if r.signed_in_at is not None)


def person_key(card: str | None, guest: Guest | None) -> str | None:
    """Who a registration is for: a card, or a guest by name and phone/email."""
    if card:
        return "card:" + card.strip()
    if guest is not None:
        name = " ".join(guest.name.casefold().split())
        contact = re.sub(r"\D", "", guest.phone or "") or (guest.email or "").strip().casefold()
        key = f"guest:{name}|{contact}"
        if len(key) > 400:  # the column's width; long names still need a stable key
            key = "guest#" + hashlib.sha256(key.encode("utf-8")).hexdigest()
        return key
    return None


def load_event_states(ctx: BatchContext, ids: set[int]) -> dict[int, EventState]:
    states: dict[int, EventState] = {}
    if not ids:
        return states
    for event in ctx.session.scalars(select(Event).where(Event.id.in_(sorted(ids)))):
        states[event.id] = EventState(event, {}, {}, last_key=event.last_key)
    for row in ctx.session.scalars(
        select(Registration).where(Registration.event_id.in_(list(states)))
    ):
        state = states[row.event_id]
        state.rows[row.ticket_code] = row
        if not row.deleted:
            state.regs[row.person_key] = Reg(**{n: getattr(row, n) for n in _REG_FIELDS})
    return states


def reset_event(state: EventState) -> None:
    """Forget registrations before a replay rebuilds them (rows stay until write-back)."""
    state.regs = {}


def write_back(ctx: BatchContext, state: EventState) -> None:
    """Make the rows match the state; only changed rows get this batch's version."""
    changed = False
    live = {reg.ticket_code: reg for reg in state.regs.values()}
    for code, reg in live.items():
        row = state.rows.get(code)
        if row is None:
            row = Registration(event_id=state.event.id, **{n: getattr(reg, n) for n in _REG_FIELDS})
            row.version, row.deleted = ctx.version, False
            ctx.session.add(row)
            state.rows[code] = row
            changed = True
            continue
        if row.deleted or any(getattr(row, n) != getattr(reg, n) for n in _REG_FIELDS):
            for n in _REG_FIELDS:
                setattr(row, n, getattr(reg, n))
            row.deleted, row.version = False, ctx.version
            changed = True
    for code, row in state.rows.items():
        if code not in live and not row.deleted:
            row.deleted, row.version = True, ctx.version
            changed = True
    if changed:
        state.event.version = ctx.version
    if state.event.last_key != state.last_key:
        state.event.last_key = state.last_key


def apply_event(
    ctx: BatchContext, state: EventState, txn: TransactionIn, key: str, decide: bool
) -> Outcome:
    """Apply a registration, cancellation or door sign-in for person ``key`` (resolved by
    the caller)."""
    if txn.kind == Kind.EVENT_REGISTER:
        return _register(ctx, state, txn, key, decide)
    if txn.kind == Kind.EVENT_CANCEL:
        return _cancel(state, txn, key, decide)
    return _door(ctx, state, txn, key, decide)


def next_on_waitlist(state: EventState) -> Reg | None:
    """Who takes the next free seat: the earliest waitlisted registration."""
    waiting = [r for r in state.regs.values() if r.waitlisted]
    return min(waiting, key=lambda r: (r.registered_at, r.ticket_code), default=None)


def _cancel(state: EventState, txn: TransactionIn, key: str, decide: bool) -> Outcome:
    ev = state.event
    reg = state.regs.get(key)
    if reg is None:
        return Outcome.refused_or_conflict(
            decide, Reason.NOT_REGISTERED, "no such registration to cancel", effective=False
        )
    del state.regs[key]
    message = "registration cancelled"
    if not reg.waitlisted and state.seated() < ev.capacity:
        moved = next_on_waitlist(state)
        if moved is not None:
            state.regs[moved.person_key] = replace(moved, waitlisted=False)
            message = f"registration cancelled; {moved.ticket_code} moved up from the waitlist"
    return Outcome(title=ev.title, event_id=ev.id, message=message)


def _new_reg(txn: TransactionIn, key: str, waitlisted: bool) -> Reg:
    g = txn.guest
    return Reg(
        ticket_code=ticket_code_for(txn.id),
        person_key=key,
        card=txn.card.strip() if txn.card else None,
        guest_name=g.name.strip() if g and not txn.card else None,
        guest_phone=g.phone if g and not txn.card else None,
        guest_email=g.email if g and not txn.card else None,
        guest_institution=g.institution if g and not txn.card else None,
        registered_at=txn.at,
        waitlisted=waitlisted,
    )


def _register(
    ctx: BatchContext, state: EventState, txn: TransactionIn, key: str, decide: bool
) -> Outcome:
    ev = state.event
    existing = state.regs.get(key)
    if existing is not None:
        return Outcome(
            Status.REFUSED if decide else Status.ACCEPTED,
            Reason.ALREADY_REGISTERED,
            "already registered; this is the existing ticket",
            title=ev.title,
            event_id=ev.id,
            ticket=ctx.sign(ev.id, existing.ticket_code),
            waitlisted=existing.waitlisted,
            effective=not decide,
        )
    problem: tuple[Reason, str] | None = None
    if txn.card and ctx.patron(txn.card) is None:
        problem = (Reason.UNKNOWN_CARD, f"no patron with card {txn.card!r}")
    elif ev.cancelled_at is not None:
        problem = (Reason.REGISTRATION_CLOSED, "the event was cancelled")
    elif txn.at >= ev.ends_at:
        problem = (Reason.EVENT_OVER, "the event has ended")
    elif (ev.registration_opens_at and txn.at < ev.registration_opens_at) or (
        ev.registration_closes_at and txn.at > ev.registration_closes_at
    ):
        problem = (Reason.REGISTRATION_CLOSED, "registration is not open at this time")
    full = state.seated() >= ev.capacity
    if problem is None and full and not ev.waitlist:
        problem = (Reason.EVENT_FULL, f"all {ev.capacity} seats are taken")
    if problem is not None and decide:
        out = Outcome.refused(*problem)
        out.title, out.event_id = ev.title, ev.id
        return out
    reg = _new_reg(txn, key, waitlisted=full and ev.waitlist)
    state.regs[key] = reg
    out = Outcome(
        title=ev.title,
        event_id=ev.id,
        ticket=ctx.sign(ev.id, reg.ticket_code),
        waitlisted=reg.waitlisted,
    )
    if problem is not None:
        out.status, out.reason, out.message = Status.CONFLICT, problem[0], problem[1]
    return out


def _door(
    ctx: BatchContext, state: EventState, txn: TransactionIn, key: str, decide: bool
) -> Outcome:
    ev = state.event
    reg = state.regs.get(key)
    if reg is not None and reg.signed_in_at is not None:
        # a repeat scan: admitted already, so report the first sign-in and change nothing
        return Outcome(
            Status.REFUSED if decide else Status.ACCEPTED,
            Reason.ALREADY_SIGNED_IN,
            "already signed in",
            title=ev.title,
            event_id=ev.id,
            signed_in_at=reg.signed_in_at,
            attendance_count=state.attended(),
            effective=not decide,
        )
    problem: tuple[Reason, str] | None = None
    if ev.cancelled_at is not None:
        problem = (Reason.REGISTRATION_CLOSED, "the event was cancelled")
    elif txn.at > ev.ends_at:
        problem = (Reason.EVENT_OVER, "the event has ended")
    elif reg is None and txn.card and ctx.patron(txn.card) is None:
        problem = (Reason.UNKNOWN_CARD, f"no patron with card {txn.card!r}")
    elif (reg is None or reg.waitlisted) and state.seated() >= ev.capacity:
        problem = (Reason.EVENT_FULL, f"all {ev.capacity} seats are taken")
    if problem is not None and decide:
        out = Outcome.refused(*problem)
        out.title, out.event_id, out.attendance_count = ev.title, ev.id, state.attended()
        return out
    if reg is None:
        reg = _new_reg(txn, key, waitlisted=False)  # walk-in: registers on the spot
    state.regs[key] = replace(reg, waitlisted=False, signed_in_at=txn.at, signed_in_kiosk=txn.kiosk)
    out = Outcome(
        title=ev.title,
        event_id=ev.id,
        signed_in_at=txn.at,
        attendance_count=state.attended(),
        ticket=ctx.sign(ev.id, reg.ticket_code),
    )
    if problem is not None:
        out.status, out.reason, out.message = Status.CONFLICT, problem[0], problem[1]
    return out
