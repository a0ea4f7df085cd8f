"""Request dependencies: the server object and bearer-token authentication."""

from __future__ import annotations

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from server.api.errors import ApiError
from server.auth import token_hash
from server.models import Kiosk, StaffSession, StaffUser
from server.service import Caller, Server
from server.timeutil import utcnow

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


def _token(creds: HTTPAuthorizationCredentials | None) -> str:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <token>'")
    return creds.credentials


def _lookup(server: Server, token: str) -> Caller | None:
    digest = token_hash(token)
    with server.db.read() as s:
        name = s.execute(select(Kiosk.name).where(Kiosk.token_hash == digest)).scalar()
        if name is not None:
            return Caller("kiosk", name)
        staff = s.execute(
            select(StaffUser.name)
            .join(StaffSession, StaffSession.staff_id == StaffUser.id)
            .where(StaffSession.token_hash == digest, StaffSession.expires_at > utcnow())
        ).scalar()
        return Caller("staff", staff) if staff is not None else None


async def any_caller(
    creds: HTTPAuthorizationCredentials | None = Depends(bearer),
    server: Server = Depends(get_server),
) -> Caller:
    token = _token(creds)
    caller = server.tokens.get(token)
    if caller is None:
        caller = await anyio.to_thread.run_sync(_lookup, server, token)
        if caller is None:
            raise ApiError(401, "unauthorized", "unknown or expired token")
        server.tokens.put(token, caller)
    return caller


async def kiosk_caller(caller: Caller = Depends(any_caller)) -> Caller:
    if caller.kind != "kiosk":
        raise ApiError(403, "kiosk_only", "only a kiosk token may do this")
    return caller


async def staff_caller(caller: Caller = Depends(any_caller)) -> Caller:
    if caller.kind != "staff":
        raise ApiError(403, "staff_only", "log in as staff (POST /api/v1/staff/login) first")
    return caller
