"""Request dependencies: the server object and bearer-token authentication."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from server.access import StaffAuth
from server.api.errors import ApiError
from server.auth import token_hash
from server.models import Kiosk
from server.service import Caller, Server

bearer = HTTPBearer(auto_error=False, description="a kiosk token or a staff session token")

AUTH_RESPONSES: dict[int | str, dict] = {
    401: {"description": "missing or unknown bearer token"},
    403: {"description": "token not allowed here"},
}


# The small dependencies below are ``async def`` on purpose: FastAPI runs a plain
# ``def`` dependency on a worker thread, and two such hops per request (with the
# GIL handed back and forth each time) cost a patron's online checkout several
# milliseconds when the server is busy. They never block.


async def get_server(request: Request) -> Server:
    return request.app.state.server


def bearer_token(creds: HTTPAuthorizationCredentials | None) -> str:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <token>'")
    return creds.credentials


def _lookup_kiosk(server: Server, token: str) -> Caller | None:
    with server.db.read() as s:
        name = s.execute(
            select(Kiosk.name).where(
                Kiosk.token_hash == token_hash(token), Kiosk.revoked_at.is_(None)
            )
        ).scalar()
    return Caller("kiosk", name) if name is not None else None


def _lookup(app: Any, token: str) -> Caller | None:
    server: Server = app.state.server
    caller = _lookup_kiosk(server, token)
    if caller is not None:
        return caller
    staff: StaffAuth = app.state.staff_auth
    name = staff.caller(token)
    return Caller("staff", name) if name is not None else None


async def resolve_token(app: Any, token: str) -> Caller | None:
    """Who ``token`` belongs to now, or None.

    Kiosk tokens are remembered a few seconds (``Server.tokens``): a kiosk posts
    every few seconds and patrons wait on it. Every remembered token is dropped
    when a revocation is signalled (``CredentialStamp``). Staff sessions are looked
    up each time (staff requests are few) so logout, a password change and the idle
    timeout take effect at once.
    """
    server: Server = app.state.server
    if app.state.credential_stamp.changed():
        server.tokens.clear()
    caller = server.tokens.get(token)
    if caller is None:
        caller = await anyio.to_thread.run_sync(_lookup, app, token)
        if caller is not None and caller.kind == "kiosk":
            server.tokens.put(token, caller)
    return caller


async def any_caller(
    request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Caller:
    token = bearer_token(creds)
    checked = getattr(request.state, "caller", None)  # by server.api.limits, for a body
    caller = checked if checked is not None else await resolve_token(request.app, token)
    if caller is None:
        raise ApiError(401, "unauthorized", "unknown, expired or revoked token")
    return caller


async def kiosk_caller(caller: Caller = Depends(any_caller)) -> Caller:
    if caller.kind != "kiosk":
        raise ApiError(403, "kiosk_only", "only a kiosk token may do this")
    return caller


async def staff_caller(caller: Caller = Depends(any_caller)) -> Caller:
    if caller.kind != "staff":
        raise ApiError(403, "staff_only", "log in as staff (POST /api/v1/staff/login) first")
    return caller
