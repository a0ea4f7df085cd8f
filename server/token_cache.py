"""Who a bearer token belongs to, remembered briefly so a busy kiosk does not cost a
database query per request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from server.auth import token_hash


@dataclass(frozen=True)
class Caller:
    """Who is calling: a kiosk (by name) or a staff user (by name)."""

    kind: str  # "kiosk" | "staff"
    name: str


class TokenCache:
    """Recently seen bearer tokens and their callers.

    Entries live ``ttl`` seconds: a rotated kiosk token or an expired staff
    session stops working within that time. Keys are token hashes.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Caller | None:
        key = token_hash(token)
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or hit[1] < time.monotonic():
                self._entries.pop(key, None)
                return None
            return hit[0]

    def put(self, token: str, caller: Caller) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token_hash(token)] = (caller, time.monotonic() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
