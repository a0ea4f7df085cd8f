"""Administrative actions shared by the CLI and the tests.

Actions that take access away (a revoked kiosk, a disabled staff user, a changed
password) touch ``stamp`` so a running server drops the tokens it remembers.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from server.access import CredentialStamp
from server.auth import hash_password, new_token, token_hash
from server.db import Database
from server.ils import ILS_KIOSK_PREFIX
from server.models import Kiosk, StaffSession, StaffUser
from server.timeutil import utcnow


def add_kiosk(db: Database, name: str, stamp: CredentialStamp | None = None) -> str:
    """Register kiosk ``name`` (or rotate its token, or let a revoked kiosk back in
    with a new one) and return the new token."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a kiosk name is 1-100 characters")
    if name.lower().startswith(ILS_KIOSK_PREFIX):
        raise ValueError(
            f"kiosk names starting with {ILS_KIOSK_PREFIX!r} are reserved for the desk's own "
            "transactions pulled from the library's system; choose another name"
        )
    token = new_token()
    with db.write() as (s, _v):
        kiosk = s.execute(select(Kiosk).where(Kiosk.name == name)).scalar()
        if kiosk is None:
            s.add(Kiosk(name=name, token_hash=token_hash(token)))
            return token
        kiosk.token_hash = token_hash(token)
        kiosk.revoked_at = None
    if stamp is not None:  # the old token stops now, not when the server forgets it
        stamp.touch()
    return token


def revoke_kiosk(db: Database, name: str, stamp: CredentialStamp | None = None) -> None:
    """Stop kiosk ``name``'s token; what it sent before stays on the server."""
    with db.write() as (s, _v):
        kiosk = s.execute(select(Kiosk).where(Kiosk.name == name.strip())).scalar()
        if kiosk is None:
            raise ValueError(f"no kiosk named {name.strip()!r}")
        kiosk.revoked_at = utcnow()
    if stamp is not None:
        stamp.touch()


def add_staff(
    db: Database,
    name: str,
    password: str,
    stamp: CredentialStamp | None = None,
    *,
    role: str | None = None,
) -> bool:
    """Create staff user ``name`` or set a new password (which ends the user's
    sessions); True when created.

    ``role`` (``admin`` or ``librarian``) is set when given; a new user is a
    librarian unless told otherwise.
    """
    if role not in (None, "admin", "librarian"):
        raise ValueError("a staff role is admin or librarian")
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a staff name is 1-100 characters")
    if len(password) < 8:
        raise ValueError("a staff password needs at least 8 characters")
    with db.write() as (s, _v):
        user = s.execute(select(StaffUser).where(StaffUser.name == name)).scalar()
        if user is None:
            s.add(
                StaffUser(
                    name=name, password_hash=hash_password(password), role=role or "librarian"
                )
            )
            return True
        user.password_hash = hash_password(password)
        if role is not None:
            user.role = role
        s.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    if stamp is not None:
        stamp.touch()
    return False


def set_staff_disabled(
    db: Database, name: str, disabled: bool, stamp: CredentialStamp | None = None
) -> None:
    """Disable staff user ``name`` (their sessions end, logins are refused) or enable
    them again."""
    with db.write() as (s, _v):
        user = s.execute(select(StaffUser).where(StaffUser.name == name.strip())).scalar()
        if user is None:
            raise ValueError(f"no staff user named {name.strip()!r}")
        user.disabled = disabled
        if disabled:
            s.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    if stamp is not None:
        stamp.touch()
