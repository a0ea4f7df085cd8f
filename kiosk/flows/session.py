"""Session rules: idle timeout with a visible countdown, and the attract mode.

Pure Python with an injected clock, so the rules are tested without a window.
The UI asks :meth:`IdleSession.state` a few times a second and shows the
countdown; when it says ``EXPIRED`` the UI ends the session and clears every
trace of the patron from the screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class SessionState(StrEnum):
    IDLE = "idle"  # no session (Home)
    ACTIVE = "active"
    COUNTDOWN = "countdown"  # warn: the session ends soon unless the patron touches the screen
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class SessionStatus:
    state: SessionState
    seconds_left: int = 0


class IdleSession:
    """Tracks activity in a patron's session.

    :param idle_timeout_s: seconds without a touch or scan before the session ends.
    :param countdown_s: the last seconds of that, shown as a countdown.
    :param attract_after_s: seconds of quiet on Home before the attract mode shows.
    """

    def __init__(
        self,
        idle_timeout_s: float,
        countdown_s: float,
        *,
        attract_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if countdown_s > idle_timeout_s:
            countdown_s = idle_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.countdown_s = countdown_s
        self.attract_after_s = attract_after_s
        self._clock = clock
        self._last = clock()
        self.active = False

    def begin(self) -> None:
        """A patron's session starts (a screen other than Home opened)."""
        self.active = True
        self._last = self._clock()

    def end(self) -> None:
        self.active = False
        self._last = self._clock()

    def touch(self) -> None:
        """Any touch or scan: the patron is still there."""
        self._last = self._clock()

    def idle_for(self) -> float:
        return max(0.0, self._clock() - self._last)

    def status(self) -> SessionStatus:
        if not self.active:
            return SessionStatus(SessionState.IDLE)
        left = self.idle_timeout_s - self.idle_for()
        if left <= 0:
            return SessionStatus(SessionState.EXPIRED)
        if left <= self.countdown_s:
            return SessionStatus(SessionState.COUNTDOWN, int(left + 0.999))
        return SessionStatus(SessionState.ACTIVE, int(left + 0.999))

    def attract(self) -> bool:
        """True when Home has been quiet long enough to show the attract mode."""
        return not self.active and self.idle_for() >= self.attract_after_s

    def expire_now(self) -> None:
        """End the session at the next status check (staff action, tests)."""
        self._last = self._clock() - self.idle_timeout_s - 1
