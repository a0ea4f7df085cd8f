"""Routes a kiosk uses: health, transactions, snapshot, patrons and events."""

from __future__ import annotations

import base64
import logging
import math
import zlib
from collections.abc import Iterator
from functools import partial

import anyio
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.text import ascii_digits
from core.wire import (
    PATRON_SESSION_HEADER,
    AccountView,
    BatchResult,
    CardQuery,
    ErrorBody,
    EventView,
    Health,
    Kind,
    KioskSecrets,
    OpenConflicts,
    PatronLookupResult,
    PatronSession,
    PinCheck,
    PinResult,
    Reason,
    Snapshot,
    TransactionBatch,
)
from server import __version__
from server.api.deps import AUTH_RESPONSES, Caller, any_caller, get_server, kiosk_caller
from server.api.errors import ApiError
from server.models import Conflict, Event, Patron, Transaction
from server.queries import account_view, event_views, find_patron, patron_info, upcoming_events
from server.service import Server
from server.snapshot import stream_snapshot
from server.text import storable
from server.timeutil import utcnow

log = logging.getLogger(__name__)
router = APIRouter()
URGENT_MAX = 3


def limiters(app: FastAPI) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
    """(urgent, bulk) worker-thread limits, made on first use inside the event loop."""
    pair = getattr(app.state, "tx_limiters", None)
    if pair is None:
        pair = (anyio.CapacityLimiter(8), anyio.CapacityLimiter(4))
        app.state.tx_limiters = pair
    return pair


ERRORS: dict[int | str, dict] = {
    code: {"model": ErrorBody, **spec} for code, spec in AUTH_RESPONSES.items()
}
NOT_FOUND: dict[int | str, dict] = {**ERRORS, 404: {"model": ErrorBody}}


def _card(card: str) -> str:
    card = card.strip()
    if not card or len(card) > 64 or not storable(card):
        raise ApiError(422, "invalid_card", "a card number is 1-64 printable characters")
    return card


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness probe; no token needed."""
    return Health(ok=True, version=__version__, time=utcnow())


def is_urgent(batch: TransactionBatch) -> bool:
    """A few online transactions: a patron is standing at the kiosk waiting."""
    txns = batch.transactions
    return 0 < len(txns) <= URGENT_MAX and not any(t.offline for t in txns)


@router.post("/transactions", response_model=BatchResult, responses=ERRORS)
async def post_transactions(
    request: Request,
    batch: TransactionBatch,
    caller: Caller = Depends(kiosk_caller),
    server: Server = Depends(get_server),
) -> Response:
    """Apply a batch; one result per transaction in the same order (idempotent by id).

    Urgent batches run on their own worker threads so that queue uploads from
    many kiosks cannot keep a waiting patron in line behind them.
    """
    for txn in batch.transactions:
        if txn.kiosk != caller.name:
            raise ApiError(
                403,
                "wrong_kiosk",
                f"transaction {txn.id} claims kiosk {txn.kiosk!r} but this token "
                f"belongs to {caller.name!r}",
            )
    if any(t.kind == Kind.RENEW and not t.offline for t in batch.transactions):
        check = partial(
            _check_renewals, batch, caller, server, request.headers.get(PATRON_SESSION_HEADER)
        )
        await anyio.to_thread.run_sync(check)
    urgent = is_urgent(batch)
    work = partial(server.apply_batch, caller.name, batch, urgent)
    limiter = limiters(request.app)[0 if urgent else 1]
    results = await anyio.to_thread.run_sync(work, limiter=limiter)
    # already validated models: serialise once instead of FastAPI re-validating them
    body = BatchResult(results=results).model_dump_json()
    return Response(content=body, media_type="application/json")


def _check_renewals(
    batch: TransactionBatch, caller: Caller, server: Server, token: str | None
) -> None:
    """A renewal decided online acts for a patron: it needs that patron's session here.

    Offline and kiosk-refused copies are records of what already happened at the
    kiosk (offline renewals are refused there) and pass as before.
    """
    renewals = [t for t in batch.transactions if t.kind == Kind.RENEW and not t.offline and t.card]
    if not renewals:
        return
    patron = _session_patron(server, caller, token)
    for t in renewals:
        if (t.card or "").strip() != patron.card:
            raise ApiError(
                403, "patron_session_required", f"transaction {t.id}: the session is another card's"
            )


@router.get(
    "/snapshot",
    response_model=Snapshot,
    responses={**ERRORS, 200: {"model": Snapshot}},
)
def get_snapshot(
    request: Request,
    since: str | None = Query(default=None, max_length=20, description="cursor from last time"),
    _caller: Caller = Depends(any_caller),
    server: Server = Depends(get_server),
) -> StreamingResponse:
    """A full copy (no ``since``) or the changes since ``since`` for offline use."""
    cursor: int | None = None
    if since is not None and since != "":
        if not ascii_digits(since):
            raise ApiError(422, "invalid_cursor", "since must be a cursor from an earlier snapshot")
        cursor = int(since)
    pin_key = None
    if server.settings.offline_pin_hashes and _caller.kind == "kiosk":
        pin_key = server.patrons.kiosk_pin_key(_caller.name)
    chunks = stream_snapshot(
        server.db, cursor, server.public_key, server.patrons.card_key, pin_key=pin_key
    )
    if "gzip" in request.headers.get("accept-encoding", ""):
        # a full copy is tens of MB of very repetitive JSON: about a tenth gzipped
        return StreamingResponse(
            gzip_chunks(chunks),
            media_type="application/json",
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return StreamingResponse(chunks, media_type="application/json")


def gzip_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    for chunk in chunks:
        out = packer.compress(chunk)
        if out:
            yield out
    yield packer.flush()


def _find(s: Session, card: str) -> Patron:
    patron = find_patron(s, _card(card))
    if patron is None:
        raise ApiError(404, "unknown_card", "no patron with that card number")
    return patron


def _session(server: Server, patron_id: int, kiosk: str) -> PatronSession:
    token, expires = server.patrons.open_session(patron_id, kiosk)
    return PatronSession(session=token, expires_at=expires)


@router.post("/patrons/lookup", response_model=PatronLookupResult, responses=NOT_FOUND)
def lookup_patron(
    body: CardQuery, caller: Caller = Depends(kiosk_caller), server: Server = Depends(get_server)
) -> PatronLookupResult:
    """What the kiosk may know about a patron, and whether they can borrow now.

    A card without a PIN opens the patron's session at this kiosk at once; a card
    with one gets it from ``verify-pin``.
    """
    with server.db.read() as s:
        patron = _find(s, body.card)
        info = patron_info(s, patron)
    session = None if patron.pin_hash else _session(server, patron.id, caller.name)
    return PatronLookupResult(patron=info, session=session)


@router.post(
    "/patrons/verify-pin",
    response_model=PinResult,
    responses={**NOT_FOUND, 429: {"model": ErrorBody, "description": "too many PIN checks"}},
)
def verify_pin(
    body: PinCheck, caller: Caller = Depends(kiosk_caller), server: Server = Depends(get_server)
) -> PinResult:
    """Check a patron's PIN and open their session at this kiosk.

    Wrong PINs count per card; after ``pin_max_failures`` of them the card's PIN
    checks are locked (``reason: pin_locked`` with ``locked_until``). Each kiosk
    token may check ``pin_checks_per_minute`` PINs a minute (429 with Retry-After).
    """
    if body.card is None:
        raise ApiError(422, "invalid_card", "send the card number in the body: {card, pin}")
    wait = server.patrons.rate.take(caller.name)
    if wait > 0:
        log.warning("kiosk %s checks PINs too fast: refused for %.0f s", caller.name, wait)
        raise ApiError(
            429,
            "too_many_pin_checks",
            "too many PIN checks from this kiosk; try again shortly",
            retry_after=max(1, math.ceil(wait)),
        )
    with server.db.read() as s:
        patron = _find(s, body.card)
        info = patron_info(s, patron)
    if patron.pin_hash is None:
        return PinResult(ok=True, patron=info, session=_session(server, patron.id, caller.name))
    if not storable(body.pin):
        raise ApiError(422, "invalid_pin", "a PIN is 1-32 printable characters")
    outcome = server.patrons.check_pin(patron, body.pin, caller.name)
    if outcome.ok:
        return PinResult(ok=True, patron=info, session=_session(server, patron.id, caller.name))
    locked = outcome.locked_until is not None
    return PinResult(
        ok=False,
        reason=Reason.PIN_LOCKED if locked else Reason.PIN_WRONG,
        tries_left=outcome.tries_left,
        locked_until=outcome.locked_until,
    )


def _session_patron(server: Server, caller: Caller, token: str | None) -> Patron:
    patron = server.patrons.session_patron(token, caller.name)
    if patron is None:
        raise ApiError(
            403,
            "patron_session_required",
            f"send a live patron session of this kiosk in {PATRON_SESSION_HEADER}"
            " (from /patrons/lookup or /patrons/verify-pin)",
        )
    return patron


@router.get("/patrons/account", response_model=AccountView, responses=NOT_FOUND)
def get_account(
    x_patron_session: str | None = Header(default=None, max_length=100),
    caller: Caller = Depends(kiosk_caller),
    server: Server = Depends(get_server),
) -> AccountView:
    """Loans with due dates, holds and fines: the "My account" screen of the patron
    whose session this kiosk holds."""
    patron = _session_patron(server, caller, x_patron_session)
    with server.db.read() as s:
        return account_view(s, patron)


@router.post("/patrons/end-session", status_code=204, responses=ERRORS)
def end_patron_session(
    caller: Caller = Depends(kiosk_caller), server: Server = Depends(get_server)
) -> Response:
    """The patron at this kiosk is done: any session of theirs here ends now."""
    server.patrons.end_sessions(caller.name)
    return Response(status_code=204)


@router.get("/kiosk-secrets", response_model=KioskSecrets, responses=ERRORS)
def kiosk_secrets(
    caller: Caller = Depends(kiosk_caller), server: Server = Depends(get_server)
) -> KioskSecrets:
    """This kiosk's keys for its snapshot: the card-tag key and its own PIN-sealing key."""
    try:
        pin_key = server.patrons.kiosk_pin_key(caller.name)
    except LookupError:
        raise ApiError(401, "unauthorized", "unknown kiosk") from None
    return KioskSecrets(
        card_key=b64(server.patrons.card_key),
        pin_key=b64(pin_key),
        key_id=server.patrons.key_id,
    )


def b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


@router.get("/conflicts", response_model=OpenConflicts, responses=ERRORS)
def open_conflicts(
    caller: Caller = Depends(kiosk_caller), server: Server = Depends(get_server)
) -> OpenConflicts:
    """Ids of this kiosk's transactions in conflict and not resolved yet, so its
    staff screen counts what is still open rather than every conflict it was told of."""
    with server.db.read() as s:
        ids = s.scalars(
            select(Conflict.transaction_id)
            .join(Transaction, Transaction.id == Conflict.transaction_id)
            .where(Conflict.resolved_at.is_(None), Transaction.kiosk == caller.name)
            .order_by(Conflict.transaction_id)
        ).all()
    return OpenConflicts(ids=list(ids))


@router.get("/events", response_model=list[EventView], responses=ERRORS)
def list_events(
    _caller: Caller = Depends(any_caller), server: Server = Depends(get_server)
) -> list[EventView]:
    """Upcoming and running events with seats left and attendance."""
    with server.db.read() as s:
        return upcoming_events(s)


@router.get("/events/{event_id}", response_model=EventView, responses=NOT_FOUND)
def get_event(
    event_id: int, _caller: Caller = Depends(any_caller), server: Server = Depends(get_server)
) -> EventView:
    """One event, past or upcoming."""
    with server.db.read() as s:
        event = None
        if 0 < event_id <= 2**31 - 1:
            event = s.execute(select(Event).where(Event.id == event_id)).scalar()
        if event is None:
            raise ApiError(404, "unknown_event", f"no event with id {event_id}")
        return event_views(s, [event])[0]
