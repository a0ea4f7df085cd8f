"""Staff routes: login and logout, conflicts, kiosks, closed days and loans."""

from __future__ import annotations

from datetime import date, datetime

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy import select

from core.wire import ErrorBody
from server.access import LoginRefused, StaffAuth, refusal_pause
from server.api.deps import (
    AUTH_RESPONSES,
    Caller,
    bearer,
    bearer_token,
    get_server,
    staff_caller,
)
from server.api.errors import ApiError
from server.models import ClosedDay, Conflict, Kiosk, Transaction
from server.service import Server
from server.staffdata import StaffLoan, open_loans
from server.text import storable
from server.timeutil import utcnow

router = APIRouter(prefix="/staff")
ERRORS: dict[int | str, dict] = {
    code: {"model": ErrorBody, **spec} for code, spec in AUTH_RESPONSES.items()
}


class LoginIn(BaseModel):
    """Staff credentials."""

    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    """A bearer token for the staff routes."""

    token: str
    expires_at: datetime
    idle_minutes: int
    """The session also ends after this many minutes without a request."""


class ConflictView(BaseModel):
    """A conflict with the transaction it came from."""

    id: int
    transaction_id: str
    kiosk: str
    kind: str
    at: datetime
    card: str | None
    item: str | None
    event_id: int | None
    reason: str
    message: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None


class ResolveIn(BaseModel):
    """How staff settled a conflict."""

    note: str = Field(min_length=1, max_length=2000)


class KioskView(BaseModel):
    """A kiosk's health as last reported."""

    name: str
    last_seen: datetime | None
    queue_depth: int | None
    snapshot_age_s: float | None
    version: str | None


class ClosedDayView(BaseModel):
    """A day the library is closed."""

    day: date
    reason: str = Field(default="", max_length=200)


def _no_nul(*values: str) -> None:
    if not all(storable(v) for v in values):
        raise ApiError(422, "invalid_text", "text must be valid UTF-8 without NUL characters")


@router.post(
    "/login",
    response_model=LoginOut,
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody, "description": "the staff account is disabled"},
        429: {"model": ErrorBody, "description": "too many failed logins; see Retry-After"},
    },
)
async def login(body: LoginIn, request: Request) -> LoginOut:
    """Exchange a staff name and password for a bearer token.

    The session ends at ``expires_at``, after ``idle_minutes`` without a request,
    at logout and when the password changes. Failed logins are counted per name and
    per client address; past the limit the answer is 429 with ``Retry-After``. A
    refusal is answered after a short pause (``refusal_pause``), which costs the
    server nothing and a guesser most of its rate.
    """
    _no_nul(body.name, body.password)
    auth: StaffAuth = request.app.state.staff_auth
    address = request.client.host if request.client else "unknown"
    try:
        new = await anyio.to_thread.run_sync(auth.login, body.name, body.password, address)
    except LoginRefused as exc:
        await anyio.sleep(refusal_pause(exc))
        raise ApiError(exc.status, exc.code, exc.detail, retry_after=exc.retry_after) from None
    return LoginOut(token=new.token, expires_at=new.expires_at, idle_minutes=new.idle_minutes)


@router.post("/logout", status_code=204, responses=ERRORS)
def logout(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Depends(bearer),
    _caller: Caller = Depends(staff_caller),
) -> Response:
    """End this staff session: its token stops working at once."""
    auth: StaffAuth = request.app.state.staff_auth
    auth.logout(bearer_token(creds))
    return Response(status_code=204)


def _conflict_view(c: Conflict, t: Transaction) -> ConflictView:
    return ConflictView(
        id=c.id,
        transaction_id=c.transaction_id,
        kiosk=t.kiosk,
        kind=c.kind,
        at=t.at,
        card=t.card,
        item=t.item,
        event_id=t.event_id,
        reason=c.reason,
        message=c.message,
        created_at=c.created_at,
        resolved_at=c.resolved_at,
        resolved_by=c.resolved_by,
        note=c.note,
    )


@router.get("/conflicts", response_model=list[ConflictView], responses=ERRORS)
def list_conflicts(
    include_resolved: bool = False,
    _caller: Caller = Depends(staff_caller),
    server: Server = Depends(get_server),
) -> list[ConflictView]:
    """Open conflicts (or all with ``include_resolved=true``), oldest first."""
    with server.db.read() as s:
        q = select(Conflict, Transaction).join(
            Transaction, Transaction.id == Conflict.transaction_id
        )
        if not include_resolved:
            q = q.where(Conflict.resolved_at.is_(None))
        return [_conflict_view(c, t) for c, t in s.execute(q.order_by(Conflict.id).limit(1000))]


@router.post(
    "/conflicts/{conflict_id}/resolve",
    response_model=ConflictView,
    responses={**ERRORS, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
def resolve_conflict(
    conflict_id: int,
    body: ResolveIn,
    caller: Caller = Depends(staff_caller),
    server: Server = Depends(get_server),
) -> ConflictView:
    """Mark a conflict settled, with a note saying what staff did."""
    _no_nul(body.note)
    with server.db.write() as (s, _v):
        c = s.get(Conflict, conflict_id) if 0 < conflict_id < 2**31 else None
        if c is None:
            raise ApiError(404, "unknown_conflict", f"no conflict with id {conflict_id}")
        if c.resolved_at is not None:
            raise ApiError(409, "already_resolved", "this conflict was already resolved")
        c.resolved_at, c.resolved_by, c.note = utcnow(), caller.name, body.note
        t = s.get(Transaction, c.transaction_id)
        assert t is not None
        return _conflict_view(c, t)


@router.get("/kiosks", response_model=list[KioskView], responses=ERRORS)
def list_kiosks(
    _caller: Caller = Depends(staff_caller), server: Server = Depends(get_server)
) -> list[KioskView]:
    """Every kiosk with its last report."""
    with server.db.read() as s:
        return [
            KioskView(
                name=k.name,
                last_seen=k.last_seen,
                queue_depth=k.queue_depth,
                snapshot_age_s=k.snapshot_age_s,
                version=k.app_version,
            )
            for k in s.scalars(select(Kiosk).order_by(Kiosk.name))
        ]


@router.get("/closed-days", response_model=list[ClosedDayView], responses=ERRORS)
def list_closed_days(
    year: int | None = Query(default=None, ge=1900, le=2200),
    _caller: Caller = Depends(staff_caller),
    server: Server = Depends(get_server),
) -> list[ClosedDayView]:
    """Closed days (holidays and staff-added), optionally for one year."""
    with server.db.read() as s:
        q = select(ClosedDay).order_by(ClosedDay.day)
        if year is not None:
            q = q.where(ClosedDay.day >= date(year, 1, 1), ClosedDay.day <= date(year, 12, 31))
        return [ClosedDayView(day=d.day, reason=d.reason) for d in s.scalars(q)]


@router.post("/closed-days", response_model=ClosedDayView, responses=ERRORS)
def add_closed_day(
    body: ClosedDayView,
    _caller: Caller = Depends(staff_caller),
    server: Server = Depends(get_server),
) -> ClosedDayView:
    """Add (or rename) a closed day; due dates issued from now on skip it."""
    _no_nul(body.reason)
    with server.db.write() as (s, _v):
        row = s.get(ClosedDay, body.day)
        if row is None:
            s.add(ClosedDay(day=body.day, reason=body.reason))
        else:
            row.reason = body.reason
    server.forget_rules()
    return body


@router.delete(
    "/closed-days/{day}",
    response_model=ClosedDayView,
    responses={**ERRORS, 404: {"model": ErrorBody}},
)
def delete_closed_day(
    day: date, _caller: Caller = Depends(staff_caller), server: Server = Depends(get_server)
) -> ClosedDayView:
    """Open the library again on ``day``."""
    with server.db.write() as (s, _v):
        row = s.get(ClosedDay, day)
        if row is None:
            raise ApiError(404, "unknown_day", f"{day} is not a closed day")
        view = ClosedDayView(day=row.day, reason=row.reason)
        s.delete(row)
    server.forget_rules()
    return view


@router.get("/loans", response_model=list[StaffLoan], responses=ERRORS)
def list_loans(
    card: str | None = Query(default=None, max_length=64),
    _caller: Caller = Depends(staff_caller),
    server: Server = Depends(get_server),
) -> list[StaffLoan]:
    """Open loans, for one card or everyone (at most 5000)."""
    if card is not None:
        _no_nul(card)
    with server.db.read() as s:
        return open_loans(s, card.strip() if card else None)
