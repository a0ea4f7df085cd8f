"""Keyed card tags and sealed PIN hashes: what kiosk and server agree on.

The offline snapshot never links a title or an event to a card number. Where
the kiosk must compare a scanned card with a loan, a hold or a registration,
the snapshot carries ``card_tag(card_key, card)`` instead: an HMAC that only a
holder of the card key can compute. PIN hashes, when the server ships them at
all, are sealed (AES-GCM) with a key issued to one kiosk, so a copied snapshot
alone is no list of hashes to brute-force four-digit PINs from. Both keys reach
a kiosk once, over its authenticated connection, and are kept in a file of
their own beside (never inside) the snapshot store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: Marks a sealed PIN hash (version 1: AES-256-GCM, 12-byte nonce, base64url).
SEALED_PREFIX = "PS1."


def card_tag(key: bytes, card: str) -> str:
    """The keyed tag of a card number (32 hex digits)."""
    return hmac.new(key, card.strip().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key, so a kiosk notices when it changed."""
    return hmac.new(key, b"key-id", hashlib.sha256).hexdigest()[:12]


def seal_pin_hash(key: bytes, pin_hash: str, card: str) -> str:
    """Encrypt an argon2 PIN hash for one kiosk; the card is bound in as associated data,
    so a sealed hash copied onto another patron's row does not open."""
    nonce = os.urandom(12)
    box = AESGCM(key).encrypt(nonce, pin_hash.encode("utf-8"), card.strip().encode("utf-8"))
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + box).decode("ascii")


def open_pin_hash(key: bytes, sealed: str, card: str) -> str | None:
    """The argon2 hash inside a sealed value, or None when it does not open with ``key``."""
    if not sealed.startswith(SEALED_PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :])
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], card.strip().encode("utf-8"))
    except (InvalidTag, ValueError, binascii.Error):
        return None
    return plain.decode("utf-8", errors="replace")
