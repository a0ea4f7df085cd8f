"""The ticket signing key, kept in the server's data folder."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.tickets import generate_keypair, load_private_key

KEY_FILE = "ticket_signing_key.pem"


def load_or_create_ticket_key(data_dir: Path) -> Ed25519PrivateKey:
    """Read the key, or make one on first run (readable by the server user only)."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        pem, _ = generate_keypair()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    return load_private_key(path.read_bytes())
