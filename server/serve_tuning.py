"""Interpreter settings for the ``serve`` process, where a patron waits on every request.

- The GIL is handed over more often than Python's default 5 ms, so a patron's
  request is not stuck behind worker threads busy with other kiosks' uploads.
- The cyclic garbage collector runs rarely. A request's objects die by reference
  counting and hold next to no cycles, yet with the default thresholds a pass
  starts every 700 allocations and a full pass pauses every thread at once.
  Start-up objects are frozen out of every pass; a pass comes after
  :data:`SERVE_GC_THRESHOLDS`\\ [0] more live objects (garbage counts towards it,
  so what cycles there are still go).

``server.checkout_p99_ms`` of ``make bench`` (patrons' checkouts while 200 kiosks
upload) shows both.
"""

from __future__ import annotations

import gc
import sys

SERVE_GC_THRESHOLDS = (50_000, 20, 100)  # (generation 0, 1, 2)
SWITCH_INTERVAL_S = 0.001


def tune_for_serving() -> None:
    """Apply the settings above; call once the app is built, before serving."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.freeze()  # start-up objects never die: keep them out of every pass
    gc.set_threshold(*SERVE_GC_THRESHOLDS)
