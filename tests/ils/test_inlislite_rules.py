"""INLISLite's late-day count and penalty rules, on fixed dates (no database).

The figures are worked out by hand from INLISLite's ``SirkulasiHelpers::lateDays``
and the fine its return form proposes (``pengembalian/createPelanggaran.php``).
"""

from __future__ import annotations

from datetime import date

from server.ils.inlislite import PenaltyRule, late_days

DUE = date(2025, 3, 3)  # a Monday
BACK = date(2025, 3, 12)  # the Wednesday of the next week: 9 calendar days on


def test_late_days_leave_out_closed_weekend_days_and_holidays() -> None:
    assert late_days(DUE, BACK, set(), set()) == 9
    assert late_days(DUE, BACK, {6}, set()) == 8  # Sunday 9 March
    assert late_days(DUE, BACK, {5, 6}, set()) == 7  # and Saturday 8 March
    assert late_days(DUE, BACK, {6}, {date(2025, 3, 5)}) == 7


def test_late_days_take_off_holidays_as_inlislite_does() -> None:
    # the due date itself counts as a holiday, and a holiday on a closed Sunday
    # is taken off twice: INLISLite's own arithmetic
    holidays = {DUE, date(2025, 3, 9)}
    assert late_days(DUE, BACK, {6}, holidays) == 9 - 1 - 2
    assert late_days(DUE, BACK, {6}, {date(2025, 3, 13)}) == 8  # after the return: no


def test_returned_in_time_is_never_late() -> None:
    assert late_days(DUE, DUE, {6}, {DUE}) == 0
    assert late_days(BACK, DUE, set(), set()) == 0
    # late on paper, but only over closed days
    assert late_days(date(2025, 3, 7), date(2025, 3, 9), {5, 6}, set()) == 0


def test_constant_penalty_is_the_amount_whatever_the_delay() -> None:
    rule = PenaltyRule("Konstan", 5000, 1, "Hari", 1)
    assert [rule.of(n) for n in (0, 1, 30)] == [0, 5000, 5000]


def test_multiple_penalty_counts_whole_tenors_at_least_one() -> None:
    per_day = PenaltyRule("Berkelipatan", 1000, 1, "Hari", 1)
    assert [per_day.of(n) for n in (1, 4)] == [1000, 4000]
    per_week = PenaltyRule("Berkelipatan", 2000, 1, "Minggu", 1)
    assert [per_week.of(n) for n in (3, 7, 15)] == [2000, 2000, 4000]
    two_days_doubled = PenaltyRule("Berkelipatan", 500, 2, "hari", 2)
    assert two_days_doubled.of(5) == 500 * 2 * 2
    per_month = PenaltyRule("Berkelipatan", 10000, 1, "Bulan", 1)
    assert per_month.of(61) == 20000


def test_penalty_without_amount_or_tenor_settings() -> None:
    assert PenaltyRule("Berkelipatan", 0, 1, "Hari", 1).of(10) == 0
    # no tenor unit: INLISLite's divider stays 1, so the amount goes per day
    assert PenaltyRule(None, 1000, None, None, 1).of(10) == 10000
    # a unit with no count would divide by zero in INLISLite; taken as one tenor
    assert PenaltyRule("Berkelipatan", 1000, None, "Hari", 1).of(10) == 1000
    assert PenaltyRule("Berkelipatan", 1000, 1, "Hari", None).of(10) == 0  # no multiplier
