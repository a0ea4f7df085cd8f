"""Console sign-in: cookie sessions, roles and CSRF tokens.

A session is a random token in an ``HttpOnly``, ``SameSite=Strict`` cookie (``Secure``
when the request came over TLS); only its sha256 is stored, in the same table as the
staff API's bearer sessions. A form's CSRF token is derived from the session token,
which a page from another site can neither read nor send, and is checked on every
post. The login form, before any session, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from urllib.parse import quote

from fastapi import Request
from sqlalchemy import delete, select

from server.auth import hash_secret, new_token, token_hash, verify_secret
from server.models import StaffSession, StaffUser
from server.service import Server
from server.timeutil import utcnow

SESSION_COOKIE = "pustaka_staff"
LOGIN_CSRF_COOKIE = "pustaka_login_csrf"
ROLES = ("admin", "librarian")


@dataclass(frozen=True)
class StaffMember:
    """Who is signed in to this request, and as what."""

    id: int
    name: str
    role: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


class SignInRequired(Exception):
    """The page needs a signed-in staff member; the browser goes to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Forbidden(Exception):
    """Signed in, but this page or action is for another role (or the CSRF token is wrong)."""


@cache
def _dummy_hash() -> str:
    """An argon2 hash of a random password: checking an unknown name costs as much as a
    known one, so the answer's timing does not tell which names exist."""
    return hash_secret(secrets.token_hex(16))


def csrf_for(session_token: str) -> str:
    return hashlib.sha256(b"csrf:" + session_token.encode()).hexdigest()[:40]


def check_credentials(server: Server, name: str, password: str) -> StaffMember | None:
    """The staff member behind a name and password, or None (same cost either way)."""
    with server.db.read() as s:
        user = s.execute(select(StaffUser).where(StaffUser.name == name)).scalar()
        stored = user.password_hash if user is not None else _dummy_hash()
        ok = verify_secret(stored, password)
        if user is None or not ok:
            return None
        return StaffMember(user.id, user.name, user.role)


def open_session(server: Server, member: StaffMember) -> str:
    """A new session for ``member``; returns the token for the cookie."""
    token = new_token()
    expires = utcnow() + timedelta(hours=server.settings.staff_session_hours)
    with server.db.write() as (s, _v):
        s.add(StaffSession(token_hash=token_hash(token), staff_id=member.id, expires_at=expires))
        s.execute(delete(StaffSession).where(StaffSession.expires_at < utcnow()))
    return token


def close_session(server: Server, token: str) -> None:
    with server.db.write() as (s, _v):
        s.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


def signed_in(server: Server, request: Request) -> StaffMember | None:
    """The staff member of the request's session cookie, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    with server.db.read() as s:
        row = s.execute(
            select(StaffUser.id, StaffUser.name, StaffUser.role)
            .join(StaffSession, StaffSession.staff_id == StaffUser.id)
            .where(StaffSession.token_hash == token_hash(token), StaffSession.expires_at > utcnow())
        ).first()
    if row is None:
        return None
    request.state.csrf = csrf_for(token)
    member = StaffMember(row.id, row.name, row.role)
    request.state.staff = member
    return member


def require_staff(request: Request) -> StaffMember:
    """Dependency: the signed-in staff member; a signed-out browser goes to sign in."""
    member = signed_in(request.app.state.server, request)
    if member is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise SignInRequired(path)
    return member


def require_admin(request: Request) -> StaffMember:
    """Dependency: as :func:`require_staff`, for the ``admin`` role only."""
    member = require_staff(request)
    if not member.admin:
        raise Forbidden("this page is for administrators")
    return member


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse a post whose CSRF token is not the session's."""
    expected = getattr(request.state, "csrf", "")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("the form's security token is missing or out of date; reload the page")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def check_login_csrf(request: Request, sent: str | None) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise Forbidden("the form's security token is missing or out of date; reload the page")


def login_url(next_path: str) -> str:
    return "/staff/login?next=" + quote(next_path, safe="/")


def safe_next(next_path: str | None) -> str:
    """Only a path on this console: never another site after signing in."""
    if next_path and next_path.startswith("/staff/") and not next_path.startswith("//"):
        return next_path
    return "/staff/"
