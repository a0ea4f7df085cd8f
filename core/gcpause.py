"""Pause Python's cyclic garbage collector around a bulk load.

Building or parsing a full snapshot makes hundreds of thousands of small objects
(patrons, items), none of them in a reference cycle. With the collector on,
every 700 allocations start a pass over the young objects and older generations
are scanned again and again as they grow, for nothing. Reference counting still
frees everything; only the cycle search waits. ``sync.snapshot_full_s`` of
``make bench`` (the server streaming a full snapshot and a kiosk parsing it)
shows it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off inside, back to how it was after the outermost exit.

    Nested and concurrent uses (several threads) are counted, so the first to
    leave does not switch it back on under another.
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
