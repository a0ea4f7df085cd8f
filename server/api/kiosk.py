"""Routes a kiosk uses: health, transactions, snapshot, patrons and events."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from functools import partial

import anyio
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select

from core.text import ascii_digits
from core.wire import (
    AccountView,
    BatchResult,
    ErrorBody,
    EventView,
    Health,
    OpenConflicts,
    PatronInfo,
    PinCheck,
    PinResult,
    Snapshot,
    TransactionBatch,
)
from server import __version__
from server.api.deps import AUTH_RESPONSES, Caller, any_caller, get_server, kiosk_caller
from server.api.errors import ApiError
from server.auth import verify_secret
from server.models import Conflict, Event, Transaction
from server.queries import account_view, event_views, find_patron, patron_info, upcoming_events
from server.service import Server
from server.snapshot import stream_snapshot
from server.text import storable
from server.timeutil import utcnow

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
    urgent = is_urgent(batch)
    work = partial(server.apply_batch, caller.name, batch, urgent)
    limiter = limiters(request.app)[0 if urgent else 1]
    results = await anyio.to_thread.run_sync(work, limiter=limiter)
    # already validated models: serialise once instead of FastAPI re-validating them
    body = BatchResult(results=results).model_dump_json()
    return Response(content=body, media_type="application/json")


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
    chunks = stream_snapshot(
        server.db, cursor, server.public_key, server.settings.offline_pin_hashes
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


@router.get("/patrons/{card}", response_model=PatronInfo, responses=NOT_FOUND)
def get_patron(
    card: str, _caller: Caller = Depends(any_caller), server: Server = Depends(get_server)
) -> PatronInfo:
    """What the kiosk may know about a patron, and whether they can borrow now."""
    with server.db.read() as s:
        patron = find_patron(s, _card(card))
        if patron is None:
            raise ApiError(404, "unknown_card", "no patron with that card number")
        return patron_info(s, patron)


@router.post("/patrons/{card}/verify-pin", response_model=PinResult, responses=NOT_FOUND)
def verify_pin(
    card: str,
    body: PinCheck,
    _caller: Caller = Depends(any_caller),
    server: Server = Depends(get_server),
) -> PinResult:
    """Check a patron's PIN; a patron without a PIN passes with any PIN."""
    with server.db.read() as s:
        patron = find_patron(s, _card(card))
        if patron is None:
            raise ApiError(404, "unknown_card", "no patron with that card number")
        ok = patron.pin_hash is None or (
            storable(body.pin) and verify_secret(patron.pin_hash, body.pin)
        )
        return PinResult(ok=ok, patron=patron_info(s, patron) if ok else None)


@router.get("/patrons/{card}/account", response_model=AccountView, responses=NOT_FOUND)
def get_account(
    card: str, _caller: Caller = Depends(any_caller), server: Server = Depends(get_server)
) -> AccountView:
    """Loans with due dates, holds and fines: the patron's "My account" screen."""
    with server.db.read() as s:
        patron = find_patron(s, _card(card))
        if patron is None:
            raise ApiError(404, "unknown_card", "no patron with that card number")
        return account_view(s, patron)


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
