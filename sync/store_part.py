"""What every part of :class:`sync.store.LocalStore` shares, for the type checker.

The store is one object built from small parts, one module per job (outbox,
marks, intents, sequence numbers, staff reads, pruning, export). Each part
uses the store's one connection under its one lock; :class:`LocalStore` itself
provides them. Nothing here exists at run time beyond the class: the parts add
no call layer to the store's methods.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

#: An integer kept in ``meta`` (0 when not there yet).
META_INT = "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key=?), 0)"


class StorePart:
    """The base of each part: the connection, the lock and the plumbing it relies on."""

    kiosk: str
    _db: sqlite3.Connection
    _cur: sqlite3.Cursor  # the enqueue path's cursor (used under the lock)
    _lock: threading.RLock

    if TYPE_CHECKING:  # provided by LocalStore

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def get_meta(self, key: str, default: str | None = None) -> str | None: ...

        def set_meta(self, key: str, value: str) -> None: ...
