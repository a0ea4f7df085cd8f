"""Administrative actions shared by the CLI and the tests."""

from __future__ import annotations

from sqlalchemy import select

from server.auth import hash_secret, new_token, token_hash
from server.db import Database
from server.models import Kiosk, StaffUser


def add_kiosk(db: Database, name: str) -> str:
    """Register kiosk ``name`` (or rotate its token) and return the new token."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a kiosk name is 1-100 characters")
    token = new_token()
    with db.write() as (s, _v):
        kiosk = s.execute(select(Kiosk).where(Kiosk.name == name)).scalar()
        if kiosk is None:
            s.add(Kiosk(name=name, token_hash=token_hash(token)))
        else:
            kiosk.token_hash = token_hash(token)
    return token


def add_staff(db: Database, name: str, password: str, *, role: str | None = None) -> bool:
    """Create staff user ``name`` or set a new password; True when created.

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
                StaffUser(name=name, password_hash=hash_secret(password), role=role or "librarian")
            )
            return True
        user.password_hash = hash_secret(password)
        if role is not None:
            user.role = role
        return False
