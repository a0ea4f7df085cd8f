"""Loan policies and the library calendar: when a loan falls due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ClosedDay, LoanPolicy
from server.timeutil import end_of_local_day, local_date

SUNDAY = 6


@dataclass(frozen=True)
class Policy:
    """Loan rules that apply to one patron category and item type."""

    loan_days: int
    max_loans: int
    max_renewals: int
    fines_limit_idr: int


FALLBACK = Policy(loan_days=14, max_loans=5, max_renewals=2, fines_limit_idr=20000)


class Policies:
    """All loan policies, loaded once per batch; lookups fall back through '*'."""

    def __init__(self, session: Session) -> None:
        self._rows = {
            (p.category, p.item_type): Policy(
                p.loan_days, p.max_loans, p.max_renewals, p.fines_limit_idr
            )
            for p in session.scalars(select(LoanPolicy))
        }

    def longest_loan_days(self) -> int:
        """The longest loan period of any policy: the bound on an offline due date."""
        return max([FALLBACK.loan_days, *(p.loan_days for p in self._rows.values())])

    def lookup(self, category: str, item_type: str = "*") -> Policy:
        for key in ((category, item_type), (category, "*"), ("*", item_type), ("*", "*")):
            if key in self._rows:
                return self._rows[key]
        return FALLBACK


class LibraryCalendar:
    """Closed days (holidays and staff-added days) plus weekly closing days."""

    def __init__(self, closed: set[date], closed_weekdays: frozenset[int]) -> None:
        self.closed = closed
        self.closed_weekdays = closed_weekdays

    @classmethod
    def load(
        cls, session: Session, closed_weekdays: frozenset[int] = frozenset({SUNDAY})
    ) -> LibraryCalendar:
        return cls(set(session.scalars(select(ClosedDay.day))), closed_weekdays)

    def is_open(self, day: date) -> bool:
        return day.weekday() not in self.closed_weekdays and day not in self.closed

    def next_open_day(self, day: date) -> date:
        # a year of closed days in a row means a broken calendar; stop rather than loop
        for _ in range(366):
            if self.is_open(day):
                return day
            day += timedelta(days=1)
        return day

    def due_at(self, issued_at: datetime, loan_days: int) -> datetime:
        """End of the WIB day ``loan_days`` after issue, moved off closed days (UTC)."""
        day = self.next_open_day(local_date(issued_at) + timedelta(days=loan_days))
        return end_of_local_day(day)
