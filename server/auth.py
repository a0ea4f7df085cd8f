"""Secrets: kiosk tokens (sha256, they are random), staff passwords and PINs (argon2)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
#: Staff passwords: argon2id at OWASP's first recommended setting (19 MiB, 2 passes,
#: one lane). Guessing them online is throttled, so a lighter hash costs no safety
#: there, and a login checked while patrons check out takes one core and a fifth of
#: the memory traffic of the default (64 MiB, 3 passes, 4 lanes): the figure is
#: ``server.login_guessing_ratio`` in ``make bench``.
_staff_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def new_token() -> str:
    """A random bearer token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # tokens are long random strings, so a fast hash is enough to keep them out of the DB
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_secret(secret: str) -> str:
    """A salted, slow hash for a password or a PIN."""
    return _hasher.hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    """A staff password's hash (see ``_staff_hasher``)."""
    return _staff_hasher.hash(password)


def password_needs_rehash(stored: str) -> bool:
    """True for a staff password hashed with other settings (before this one)."""
    try:
        return _staff_hasher.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True
