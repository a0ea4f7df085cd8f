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
from urllib.parse import quote

from fastapi import Request
from sqlalchemy import select

from server.access import StaffAuth
from server.models import StaffUser

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


def csrf_for(session_token: str) -> str:
    return hashlib.sha256(b"csrf:" + session_token.encode()).hexdigest()[:40]


def sign_in(request: Request, name: str, password: str) -> str:
    """Open a session through the server's staff login (the same throttle, dummy hash
    and disabled-user check as the API's); returns the token for the cookie.

    Raises :class:`server.access.LoginRefused` (401 wrong, 403 disabled, 429 throttled).
    """
    auth: StaffAuth = request.app.state.staff_auth
    address = request.client.host if request.client else "?"
    return auth.login(name, password, address).token


def close_session(request: Request, token: str) -> None:
    auth: StaffAuth = request.app.state.staff_auth
    auth.logout(token)


def session_alive(request: Request, token: str) -> bool:
    """Whether ``token`` is a console session that has not ended (idle, expired, ...)."""
    if len(token) > 200:
        return False
    auth: StaffAuth = request.app.state.staff_auth
    return auth.caller(token) is not None


def signed_in(request: Request) -> StaffMember | None:
    """The staff member of the request's session cookie, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    auth: StaffAuth = request.app.state.staff_auth
    name = auth.caller(token)
    if name is None:
        return None
    with request.app.state.server.db.read() as s:
        row = s.execute(select(StaffUser.id, StaffUser.role).where(StaffUser.name == name)).first()
    if row is None:
        return None
    request.state.csrf = csrf_for(token)
    member = StaffMember(row.id, name, row.role)
    request.state.staff = member
    return member


def require_staff(request: Request) -> StaffMember:
    """Dependency: the signed-in staff member; a signed-out browser goes to sign in."""
    member = signed_in(request)
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
