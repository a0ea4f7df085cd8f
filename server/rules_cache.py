"""Loan policies and the library calendar, kept briefly: every batch needs them."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session

from server.calendar import LibraryCalendar, Policies


class RulesCache:
    """The policies and calendar one server process applies, read again after ``ttl``
    seconds.

    Changes made through this process (staff closed-days routes) call
    :meth:`forget`; changes from another process show within ``ttl``.
    """

    def __init__(self, closed_weekdays: frozenset[int], ttl: float = 10.0) -> None:
        self.closed_weekdays = closed_weekdays
        self.ttl = ttl
        self._rules: tuple[float, Policies, LibraryCalendar] | None = None
        self._lock = threading.Lock()

    def get(self, session: Session) -> tuple[Policies, LibraryCalendar]:
        """The rules, read through ``session`` when none are kept or they are too old."""
        with self._lock:
            cached = self._rules
            if cached is None or time.monotonic() - cached[0] > self.ttl:
                cal = LibraryCalendar.load(session, self.closed_weekdays)
                cached = (time.monotonic(), Policies(session), cal)
                self._rules = cached
            return cached[1], cached[2]

    def forget(self) -> None:
        """Read the rules again at the next :meth:`get`."""
        with self._lock:
            self._rules = None
