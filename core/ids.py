"""Kiosk-made transaction ids: UUIDv7 (RFC 9562), time-ordered."""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_counter = 0
#: Random bytes are read from the OS in blocks: one system call per 512 ids, not
#: one or two per id (the call is a large part of an id's cost on the enqueue path).
_POOL_BYTES = 4096
_pool = b""
_pool_at = 0


def _forget_pool() -> None:
    """A forked child must not hand out the random bytes its parent also uses."""
    global _pool, _pool_at
    _pool, _pool_at = b"", 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _random8() -> int:
    """8 random bytes from the OS as an integer (called with ``_lock`` held)."""
    global _pool, _pool_at
    at = _pool_at
    if at >= len(_pool):
        _pool, at = os.urandom(_POOL_BYTES), 0
    _pool_at = at + 8
    return int.from_bytes(_pool[at : at + 8], "big")


def uuid7(now_ms: int | None = None) -> str:
    """A UUIDv7 string; ids made later in this process always sort after earlier ones."""
    global _last_ms, _counter
    with _lock:
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        if ms <= _last_ms:
            # Same millisecond (or the clock stepped back): keep monotonic by counting.
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = 0
        else:
            _counter = _random8() & 0x3FF
        _last_ms = ms
        counter = _counter
        rand_b = _random8() & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (counter & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand_b
    # Formatted by hand: uuid.UUID(int=...) costs more than the rest of this function.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
