"""The keys the server issued to this kiosk, kept in a file of their own.

``card_key`` turns a scanned card into the tag the snapshot uses for loans,
holds and registrations; ``pin_key`` opens the PIN hashes sealed for this
kiosk. They live apart from the snapshot store (``kiosk-secrets.json``, mode
0600), so a copy of the store alone links no title to a card and gives no PIN
hash to guess against. Without a path the keys stay in memory (tests, tools).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from pathlib import Path

from core.patronkeys import card_tag, open_pin_hash
from core.wire import KioskSecrets

log = logging.getLogger(__name__)

#: The keys' file name in the kiosk's data folder, beside the store.
SECRETS_FILE = "kiosk-secrets.json"


class KioskKeys:
    """This kiosk's card and PIN keys; empty until the server issued them."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.card_key: bytes | None = None
        self.pin_key: bytes | None = None
        self.key_id: str | None = None
        self._lock = threading.Lock()
        if path is not None and path.exists():
            try:
                self._take(KioskSecrets.model_validate_json(path.read_bytes()))
            except (OSError, ValueError) as exc:
                log.error("%s: unreadable, asking the server again: %s", path, exc)

    def _take(self, wire: KioskSecrets) -> None:
        self.card_key = base64.urlsafe_b64decode(wire.card_key)
        self.pin_key = base64.urlsafe_b64decode(wire.pin_key)
        self.key_id = wire.key_id

    @property
    def ready(self) -> bool:
        return self.card_key is not None

    def save(self, wire: KioskSecrets) -> None:
        """Keep new keys, on disk first (written whole, readable by this user only)."""
        with self._lock:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(self.path.name + ".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(json.dumps(wire.model_dump()))
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o600)  # an older file of that name may have had wider modes
                os.replace(tmp, self.path)
            self._take(wire)

    def tag(self, card: str | None) -> str | None:
        """The snapshot's tag for a card; None without a key (nothing will match)."""
        if not card or self.card_key is None:
            return None
        return card_tag(self.card_key, card)

    def open_pin_hash(self, sealed: str | None, card: str) -> str | None:
        """The argon2 hash in a sealed snapshot value, or None when it cannot be opened."""
        if not sealed or self.pin_key is None:
            return None
        return open_pin_hash(self.pin_key, sealed, card)
