"""Online/offline state with a background health probe.

After one failed request the kiosk is offline at once, so the next patron's
scan is decided locally without waiting for a dead network. A daemon thread
then probes ``/health`` with exponential backoff and jitter and flips the
state back when the server answers.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from enum import StrEnum

from core.errors import SyncError

log = logging.getLogger(__name__)


class LinkState(StrEnum):
    """What staff mode shows as the kiosk's connection."""

    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    FORCED_OFFLINE = "forced_offline"


class Connectivity:
    """Shared online/offline flag with a probing thread; safe to use from any thread."""

    def __init__(
        self,
        probe: Callable[[], object],
        *,
        min_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        on_change: Callable[[LinkState], None] | None = None,
    ) -> None:
        self._probe = probe
        self._min = min_backoff_s
        self._max = max_backoff_s
        self._on_change = on_change
        self._state = LinkState.UNKNOWN
        self._forced = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    @property
    def state(self) -> LinkState:
        return LinkState.FORCED_OFFLINE if self._forced else self._state

    @property
    def online(self) -> bool:
        """True when online decisions should be tried (unknown counts: try once)."""
        return not self._forced and self._state != LinkState.OFFLINE

    def _set(self, state: LinkState) -> None:
        with self._lock:
            changed = state != self._state
            self._state = state
        if changed:
            log.info("link is now %s", state)
            if self._on_change:
                self._on_change(self.state)

    def report_ok(self) -> None:
        self._set(LinkState.ONLINE)

    def report_failure(self, error: str) -> None:
        """A request failed: go offline now and let the prober find the way back."""
        self.last_error = error
        self._set(LinkState.OFFLINE)
        self._wake.set()

    def force_offline(self, forced: bool) -> None:
        """Staff switch: no online decisions while forced (the outbox keeps its rows)."""
        self._forced = forced
        if self._on_change:
            self._on_change(self.state)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="link-probe", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = self._min
        while not self._stop.is_set():
            if self._state != LinkState.OFFLINE and self._state != LinkState.UNKNOWN:
                self._wake.wait()
                self._wake.clear()
                backoff = self._min
                continue
            try:
                self._probe()
            except (SyncError, OSError) as exc:
                self.last_error = str(exc)
                self._state = LinkState.OFFLINE if self._state == LinkState.UNKNOWN else self._state
                # Full jitter: many kiosks coming back after one outage must not probe in step.
                self._stop.wait(random.uniform(0, backoff))
                backoff = min(self._max, backoff * 2)
                continue
            self._set(LinkState.ONLINE)
