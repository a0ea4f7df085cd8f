"""The demo library: the one set of patrons, items, staff and workshop every demo agrees on.

``kiosk-server seed-demo`` writes it into the server's database
(``server/demo.py``); ``make run`` (``kiosk/demo.py``) shows its cards; the
tests, screenshots and benchmarks seed an offline kiosk from it
(``tests/demo_library.py``). README's "Demo cards" describe it: change both
together. Plain data and date arithmetic only, no I/O. The PINs and the staff
password are for demos only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

#: Western Indonesia Time, the library's clock (UTC+7, no daylight saving).
WIB = timezone(timedelta(hours=7), "WIB")


@dataclass(frozen=True)
class DemoPatron:
    """A library member with a card."""

    card: str
    name: str
    category: str = "umum"
    #: ``active``, ``blocked`` or ``expired``.
    status: str = "active"
    blocked_reason: str | None = None
    fines_idr: int = 0
    #: The PIN asked at the kiosk, or None for a card that needs none.
    pin: str | None = None

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    def expires_on(self, today: date) -> date:
        """Membership end: a month ago for an expired card, else about two years ahead."""
        if self.status == "expired":
            return today - timedelta(days=30)
        return today.replace(year=today.year + 2, day=min(today.day, 28))


@dataclass(frozen=True)
class DemoItem:
    """A copy on the shelf, by its barcode."""

    barcode: str
    title: str
    author: str
    isbn: str
    item_type: str = "book"
    #: ``available`` or ``not_for_loan`` (reference only); none is on loan at first.
    status: str = "available"
    #: The card of the patron it is held for, if any.
    hold_for: str | None = None


@dataclass(frozen=True)
class DemoLoanRule:
    """How long a category may borrow a type of item, and how much (``*`` is any type)."""

    category: str
    item_type: str
    loan_days: int
    max_loans: int
    max_renewals: int
    fines_limit_idr: int


@dataclass(frozen=True)
class DemoWorkshop:
    """The workshop patrons sign up for: next Saturday morning, open to all, free."""

    title: str
    description: str
    place: str
    capacity: int
    waitlist: bool
    starts: time
    hours: int

    def day(self, today: date) -> date:
        """The next Saturday after ``today`` (a week ahead when today is Saturday)."""
        return today + timedelta(days=(5 - today.weekday()) % 7 or 7)

    def starts_at(self, today: date) -> datetime:
        return datetime.combine(self.day(today), self.starts, tzinfo=WIB)

    def ends_at(self, today: date) -> datetime:
        return self.starts_at(today) + timedelta(hours=self.hours)


@dataclass(frozen=True)
class DemoStaffLogin:
    """A staff console (``/staff/``) user."""

    name: str
    password: str


PATRONS: tuple[DemoPatron, ...] = (
    DemoPatron("AGT0001", "Siti Rahmawati"),
    DemoPatron("AGT0002", "Budi Santoso", pin="1234"),
    DemoPatron(
        "AGT0003",
        "Dewi Lestari",
        status="blocked",
        blocked_reason="denda belum dibayar (unpaid fines)",
        fines_idr=25000,
    ),
    DemoPatron("AGT0004", "Ahmad Fauzi", status="expired"),
    DemoPatron("STF0001", "Petugas Perpustakaan", category="staf"),
)

#: The staff card: opens staff mode at the kiosk (with the staff PIN).
STAFF_CARD = "STF0001"
STAFF_LOGIN = DemoStaffLogin("petugas", "petugas123")

ITEMS: tuple[DemoItem, ...] = (
    DemoItem("B000101", "Laskar Pelangi", "Andrea Hirata", "9789793062792"),
    DemoItem("B000102", "Bumi Manusia", "Pramoedya Ananta Toer", "9789799731234"),
    DemoItem("B000103", "Ronggeng Dukuh Paruk", "Ahmad Tohari", "9789792256475"),
    DemoItem("B000104", "Cantik Itu Luka", "Eka Kurniawan", "9786020312583"),
    DemoItem("B000105", "Negeri 5 Menara", "Ahmad Fuadi", "9789792222487"),
    DemoItem("B000106", "Perahu Kertas", "Dee Lestari", "9789793551180"),
    DemoItem("B000107", "Pulang", "Leila S. Chudori", "9789799124708"),
    DemoItem("B000108", "Laut Bercerita", "Leila S. Chudori", "9786024242633", hold_for="AGT0002"),
    DemoItem(
        "B000109",
        "Kamus Besar Bahasa Indonesia",
        "Badan Pengembangan dan Pembinaan Bahasa",
        "9789794610428",
        item_type="reference",
        status="not_for_loan",
    ),
    DemoItem("B000110", "Sang Pemimpi", "Andrea Hirata", "9789793062808"),
)

LOAN_RULES: tuple[DemoLoanRule, ...] = (
    DemoLoanRule("umum", "*", 14, 5, 2, 20000),
    DemoLoanRule("umum", "book", 14, 5, 2, 20000),
    DemoLoanRule("staf", "*", 30, 10, 5, 100000),
)

WORKSHOP = DemoWorkshop(
    title="Lokakarya Menulis Cerpen",
    description=(
        "Belajar menulis cerita pendek bersama penulis lokal Probolinggo. "
        "Terbuka untuk umum, gratis."
    ),
    place="Ruang Serbaguna Lt. 2",
    capacity=20,
    waitlist=True,
    starts=time(9, 0),
    hours=3,
)


def patron(card: str) -> DemoPatron:
    """The demo patron with this card (KeyError if there is none)."""
    for p in PATRONS:
        if p.card == card:
            return p
    raise KeyError(card)


def item(barcode: str) -> DemoItem:
    """The demo item with this barcode (KeyError if there is none)."""
    for it in ITEMS:
        if it.barcode == barcode:
            return it
    raise KeyError(barcode)


def loan_rule(category: str, item_type: str = "*") -> DemoLoanRule:
    """The rule for a category and item type, falling back to the category's ``*`` rule."""
    for wanted in (item_type, "*"):
        for rule in LOAN_RULES:
            if rule.category == category and rule.item_type == wanted:
                return rule
    raise KeyError((category, item_type))
