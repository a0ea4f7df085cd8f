"""What a scanned code is: patron card, staff card, item, event ticket — or nothing valid.

Patterns and check-digit rules are configuration (:class:`ClassifierRules`);
the defaults match the demo data. Tickets are only recognised here
(``PK1.`` signed by the server, ``PKU.`` made by a kiosk offline); both are
read in ``core/tickets.py``.
Messages are short Indonesian sentences safe to show a patron (they are also
the translation keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from devices.base import Scan, Symbology
from devices.checkdigits import ean13_valid, isbn10_to_13, isbn10_valid, luhn_valid, upca_valid


class CodeKind(StrEnum):
    PATRON_CARD = "patron_card"
    STAFF_CARD = "staff_card"
    ITEM = "item"
    EVENT_TICKET = "event_ticket"
    UNREADABLE = "unreadable"  # garbage, over-long, or a failed check digit
    UNKNOWN = "unknown"  # readable, but no rule matches


# Patron-safe messages (Bahasa Indonesia source strings = translation keys).
MSG_UNREADABLE = "Kode tidak terbaca. Silakan pindai ulang."
MSG_BAD_CHECK = "Kode tidak valid (angka pemeriksa salah). Silakan pindai ulang."
MSG_UNKNOWN = "Kode tidak dikenal. Silakan hubungi petugas."
MSG_WANT_CARD_GOT_ITEM = "Ini kode eksemplar. Silakan pindai kartu anggota Anda terlebih dahulu."
MSG_WANT_CARD_GOT_TICKET = "Ini tiket acara. Untuk meminjam, pindai kartu anggota Anda."
MSG_WANT_CARD_GOT_STAFF = "Ini kartu petugas. Silakan pindai kartu anggota."
MSG_WANT_ITEM_GOT_CARD = "Ini kartu anggota. Silakan pindai kode eksemplar pada buku."
MSG_WANT_ITEM_GOT_TICKET = "Ini tiket acara. Silakan pindai kode eksemplar pada buku."
MSG_WANT_ITEM_GOT_STAFF = "Ini kartu petugas. Silakan pindai kode eksemplar pada buku."
MSG_WANT_TICKET_GOT_ITEM = "Ini kode eksemplar. Silakan pindai tiket acara atau kartu anggota."
MSG_WANT_STAFF = "Silakan pindai kartu petugas."
MSG_WRONG_KIND = "Kode ini tidak dapat digunakan di sini."

_MISMATCH: dict[tuple[CodeKind, CodeKind], str] = {
    (CodeKind.PATRON_CARD, CodeKind.ITEM): MSG_WANT_CARD_GOT_ITEM,
    (CodeKind.PATRON_CARD, CodeKind.EVENT_TICKET): MSG_WANT_CARD_GOT_TICKET,
    (CodeKind.PATRON_CARD, CodeKind.STAFF_CARD): MSG_WANT_CARD_GOT_STAFF,
    (CodeKind.ITEM, CodeKind.PATRON_CARD): MSG_WANT_ITEM_GOT_CARD,
    (CodeKind.ITEM, CodeKind.EVENT_TICKET): MSG_WANT_ITEM_GOT_TICKET,
    (CodeKind.ITEM, CodeKind.STAFF_CARD): MSG_WANT_ITEM_GOT_STAFF,
    (CodeKind.EVENT_TICKET, CodeKind.ITEM): MSG_WANT_TICKET_GOT_ITEM,
    (CodeKind.STAFF_CARD, CodeKind.PATRON_CARD): MSG_WANT_STAFF,
    (CodeKind.STAFF_CARD, CodeKind.ITEM): MSG_WANT_STAFF,
    (CodeKind.STAFF_CARD, CodeKind.EVENT_TICKET): MSG_WANT_STAFF,
}


@dataclass(frozen=True, slots=True)
class ClassifierRules:
    """Which codes are which. Patterns are matched against the upper-cased code."""

    patron_patterns: tuple[str, ...] = (r"^AGT\d{4,10}$",)
    """Patron (member) card numbers."""
    staff_patterns: tuple[str, ...] = (r"^STF\d{4}$",)
    """Staff cards (open staff mode)."""
    item_patterns: tuple[str, ...] = (r"^B\d{6}$",)
    """Library item (eksemplar) barcodes."""
    items_by_ean13: bool = True
    """Accept a valid EAN-13 / ISBN-13 as an item (books with no library label)."""
    items_by_isbn10: bool = False
    """Accept a valid ISBN-10 (older books); normalised to ISBN-13."""
    items_by_upca: bool = False
    """Accept a valid UPC-A (imported books and media)."""
    patron_luhn: bool = False
    """Patron card digits carry a Luhn check digit."""
    ticket_prefixes: tuple[str, ...] = ("PK1.", "PKU.")
    """Event tickets (signed payload; verified in core/tickets.py)."""
    max_length: int = 512


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict on one code. ``message`` is set (patron-safe) when it is not usable."""

    kind: CodeKind
    code: str
    """The normalised code (upper-cased card/item; tickets untouched; ISBN-10 → 13)."""
    message: str | None = None
    detail: str = ""
    isbn13: str | None = None

    @property
    def ok(self) -> bool:
        return self.message is None


@dataclass
class Classifier:
    """Classifies scans by :class:`ClassifierRules`."""

    rules: ClassifierRules = field(default_factory=ClassifierRules)

    def __post_init__(self) -> None:
        def comp(ps: tuple[str, ...]) -> list[re.Pattern[str]]:
            return [re.compile(p) for p in ps]

        self._patron = comp(self.rules.patron_patterns)
        self._staff = comp(self.rules.staff_patterns)
        self._item = comp(self.rules.item_patterns)

    def classify(self, scan: Scan | str) -> Classification:
        text = scan.text if isinstance(scan, Scan) else scan
        symbology = scan.symbology if isinstance(scan, Scan) else Symbology.UNKNOWN
        raw = text.strip()
        if symbology is Symbology.UNREADABLE or not raw or len(raw) > self.rules.max_length:
            return Classification(CodeKind.UNREADABLE, raw[:64], MSG_UNREADABLE, "unreadable")
        if not raw.isprintable():
            return Classification(CodeKind.UNREADABLE, raw[:64], MSG_UNREADABLE, "control chars")
        for prefix in self.rules.ticket_prefixes:
            if raw.startswith(prefix):
                return Classification(CodeKind.EVENT_TICKET, raw)
        code = raw.upper()
        if any(p.match(code) for p in self._staff):
            return Classification(CodeKind.STAFF_CARD, code)
        if any(p.match(code) for p in self._patron):
            digits = "".join(c for c in code if c.isdigit())
            if self.rules.patron_luhn and not luhn_valid(digits):
                return Classification(CodeKind.UNREADABLE, code, MSG_BAD_CHECK, "luhn")
            return Classification(CodeKind.PATRON_CARD, code)
        if any(p.match(code) for p in self._item):
            return Classification(CodeKind.ITEM, code)
        return self._numeric_item(code, symbology)

    def _numeric_item(self, code: str, symbology: Symbology) -> Classification:
        r = self.rules
        if len(code) == 13 and code.isdigit() and r.items_by_ean13:
            if ean13_valid(code):
                isbn = code if code[:3] in ("978", "979") else None
                return Classification(CodeKind.ITEM, code, isbn13=isbn)
            return Classification(CodeKind.UNREADABLE, code, MSG_BAD_CHECK, "ean13 check digit")
        if len(code) == 10 and r.items_by_isbn10 and code[:9].isdigit():
            if isbn10_valid(code):
                isbn = isbn10_to_13(code)
                return Classification(CodeKind.ITEM, isbn, isbn13=isbn, detail=f"isbn10 {code}")
            return Classification(CodeKind.UNREADABLE, code, MSG_BAD_CHECK, "isbn10 check digit")
        if len(code) == 12 and code.isdigit() and r.items_by_upca:
            if upca_valid(code):
                return Classification(CodeKind.ITEM, code)
            return Classification(CodeKind.UNREADABLE, code, MSG_BAD_CHECK, "upc-a check digit")
        return Classification(CodeKind.UNKNOWN, code, MSG_UNKNOWN, f"no rule ({symbology})")

    def expect(
        self, kinds: CodeKind | Iterable[CodeKind], scan: Scan | str
    ) -> tuple[Classification, str | None]:
        """Classify ``scan`` and say, in a patron-safe sentence, why it is not what the
        screen asked for (``None`` when it is one of ``kinds``)."""
        wanted = {kinds} if isinstance(kinds, CodeKind) else set(kinds)
        c = self.classify(scan)
        if c.kind in wanted:
            return c, None
        if c.message is not None:
            return c, c.message
        for want in sorted(wanted):
            msg = _MISMATCH.get((want, c.kind))
            if msg is not None:
                return c, msg
        return c, MSG_WRONG_KIND


_default = Classifier()


def classify(scan: Scan | str, rules: ClassifierRules | None = None) -> Classification:
    """Classify with the default rules (or ``rules``)."""
    return (Classifier(rules) if rules else _default).classify(scan)


def expect(kind: CodeKind | Iterable[CodeKind], scan: Scan | str) -> str | None:
    """The message for a scan that is not ``kind`` (default rules); ``None`` when it is.

    ``expect(CodeKind.PATRON_CARD, item_scan)`` → "Ini kode eksemplar. Silakan
    pindai kartu anggota Anda terlebih dahulu."
    """
    return _default.expect(kind, scan)[1]
