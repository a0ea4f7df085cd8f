"""The ticket signing key, kept in the server's data folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.tickets import generate_keypair, load_private_key

KEY_FILE = "ticket_signing_key.pem"


def load_or_create_ticket_key(data_dir: Path) -> Ed25519PrivateKey:
    """Read the key, or make one on first run (readable by the server user only)."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        pem, _ = generate_keypair()
        # Written whole under a private name, then linked into place: two processes
        # starting on a new data folder (server workers, a CLI beside the server)
        # never see a half-written key, and the first link wins for both.
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".ticket-key-")
        try:
            with os.fdopen(fd, "wb") as fh:  # mkstemp makes it readable by us only
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            os.unlink(tmp)
    return load_private_key(path.read_bytes())


PATRON_KEY_FILE = "patron_key.bin"


def load_or_create_patron_key(data_dir: Path) -> bytes:
    """The secret card tags and kiosks' PIN-sealing keys derive from (32 random bytes,
    readable by the server user only; made on first run like the ticket key)."""
    path = data_dir / PATRON_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".patron-key-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path}: expected 32 bytes, found {len(key)}")
    return key
