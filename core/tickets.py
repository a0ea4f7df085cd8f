"""Signed event tickets: a compact text for a QR code, verifiable offline.

A ticket reads ``PK1.<event_id>.<ticket_code>.<signature>`` where the signature
is Ed25519 over ``PK1.<event_id>.<ticket_code>`` in unpadded base64url. The
server signs with its private key; a door kiosk verifies with the public key it
received in the snapshot, so sign-in at the door keeps working offline. A
forged or altered ticket raises :class:`TicketError`.

A kiosk that registers a visitor while offline cannot sign: it prints
``PKU.<event_id>.<ticket_code>`` instead, with the same code the server will
give that registration (``ticket_code_for`` of the transaction id). An unsigned
ticket proves nothing by itself, so a reader honours it only when the code is a
registration it already knows (its own, or one the server sent in the snapshot).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.text import ascii_digits

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# cryptography (~10 MB resident) is imported where a key is used, not at module
# import: a kiosk reads most tickets without it (unsigned ones, or none at all).

PREFIX = "PK1"
UNSIGNED_PREFIX = "PKU"
_CODE_RE = re.compile(r"^[A-Z0-9]{4,32}$")


class TicketError(ValueError):
    """A ticket that is malformed, forged or signed by another key."""


@dataclass(frozen=True)
class Ticket:
    """The verified content of a ticket."""

    event_id: int
    code: str
    verified: bool = True
    """False for an unsigned (offline-made) ticket: only a known registration vouches for it."""


def ticket_code_for(txn_id: str) -> str:
    """The registration code a registering transaction creates; stable, so replays keep it."""
    digest = hashlib.sha256(b"ticket:" + txn_id.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")[:10]


def unsigned_ticket(event_id: int, txn_id: str) -> str:
    """The QR payload a kiosk prints for a registration it made offline."""
    return f"{UNSIGNED_PREFIX}.{event_id}.{ticket_code_for(txn_id)}"


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TicketError("ticket signature is not valid base64url") from exc


def generate_keypair() -> tuple[bytes, str]:
    """A new key pair: (private key as PKCS#8 PEM bytes, public key text)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    return private_key_pem(key), public_key_text(key)


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """Load a PEM private key; raises TicketError when it is not an Ed25519 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise TicketError(f"cannot read the ticket private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise TicketError("the ticket private key is not an Ed25519 key")
    return key


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half as unpadded base64url of the 32 raw bytes (goes in the snapshot)."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64e(raw)


def _load_public(text: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    raw = _b64d(text)
    if len(raw) != 32:
        raise TicketError("ticket public key must be 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def sign_ticket(key: Ed25519PrivateKey, event_id: int, code: str) -> str:
    """The QR payload for registration ``code`` of event ``event_id``."""
    if not _CODE_RE.match(code):
        raise TicketError("ticket code must be 4-32 characters A-Z and 0-9")
    if event_id < 0:
        raise TicketError("event id must not be negative")
    body = f"{PREFIX}.{event_id}.{code}"
    return f"{body}.{_b64e(key.sign(body.encode('ascii')))}"


def parse_ticket(payload: str) -> tuple[Ticket, bytes, bytes]:
    """Split a payload without checking the signature: (ticket, signed body, signature)."""
    text = payload.strip()
    parts = text.split(".")
    if len(parts) != 4 or parts[0] != PREFIX:
        raise TicketError("not a Pustaka ticket (expected PK1.<event>.<code>.<signature>)")
    _, event_part, code, sig_text = parts
    if not ascii_digits(event_part) or len(event_part) > 12:
        raise TicketError("ticket event id is not a number")
    if not _CODE_RE.match(code):
        raise TicketError("ticket code is malformed")
    signature = _b64d(sig_text)
    if len(signature) != 64:
        raise TicketError("ticket signature has the wrong length")
    body = f"{PREFIX}.{event_part}.{code}".encode("ascii")
    return Ticket(int(event_part), code), body, signature


def verify_ticket(public_key: str, payload: str) -> Ticket:
    """Check ``payload`` against ``public_key`` (base64url text); raise TicketError if forged."""
    from cryptography.exceptions import InvalidSignature

    ticket, body, signature = parse_ticket(payload)
    try:
        _load_public(public_key).verify(signature, body)
    except InvalidSignature as exc:
        raise TicketError("ticket signature does not match (forged or altered ticket)") from exc
    return ticket


def _parse_unsigned(text: str) -> Ticket:
    parts = text.split(".")
    if len(parts) != 3 or parts[0] != UNSIGNED_PREFIX:
        raise TicketError("not a Pustaka ticket (expected PKU.<event>.<code>)")
    _, event_part, code = parts
    if not ascii_digits(event_part) or len(event_part) > 12:
        raise TicketError("ticket event id is not a number")
    if not _CODE_RE.match(code):
        raise TicketError("ticket code is malformed")
    return Ticket(int(event_part), code, verified=False)


def read_ticket(public_key: str | None, payload: str) -> Ticket:
    """Any ticket payload: a signed one checked against ``public_key``, or an unsigned one.

    The result's ``verified`` says whether the signature vouches for it; an
    unsigned ticket (or a signed one read with no key to check it) comes back
    with ``verified=False`` and must be matched against a known registration.
    Malformed, forged or altered tickets raise :class:`TicketError`.
    """
    text = payload.strip()
    if text.startswith(UNSIGNED_PREFIX + "."):
        return _parse_unsigned(text)
    if public_key is None:
        ticket, _body, _sig = parse_ticket(text)
        return Ticket(ticket.event_id, ticket.code, verified=False)
    return verify_ticket(public_key, text)
