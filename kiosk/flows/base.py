"""Shared pieces of the flows: messages, services, code classification."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from core.wire import PatronInfo, Reason
from devices.classify import Classifier as DeviceClassifier
from devices.classify import ClassifierRules
from devices.classify import CodeKind as DeviceKind
from kiosk.slips import mask_card  # noqa: F401  (re-exported for the screens)
from sync.decider import Decider
from sync.store import LocalStore


class Severity(StrEnum):
    """How a message is shown: never by colour alone, each has its own icon and word."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"  # done, but look (e.g. hand this item to staff)
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Message:
    """A msgid (Bahasa Indonesia) with parameters; the UI translates and formats it."""

    msgid: str
    severity: Severity = Severity.INFO
    params: dict[str, Any] = field(default_factory=dict)
    ask_staff: bool = False

    def render(self, gettext: Callable[[str], str] = lambda s: s) -> str:
        text = gettext(self.msgid).format(**self.params)
        if self.ask_staff:
            text += " " + gettext("Silakan hubungi petugas.")
        return text


PIN_OFFLINE_TEXT = (
    "Kartu ini memakai PIN. Saat jaringan terputus PIN tidak dapat diperiksa;"
    " silakan ke meja petugas."
)

# Plain words for every reason, in the library's own terms (see indonesian-terms.md).
# ask_staff is set where only a person at the desk can help.
REASON_MESSAGES: dict[Reason, tuple[str, bool]] = {
    Reason.UNKNOWN_CARD: ("Kartu anggota tidak dikenal.", True),
    Reason.CARD_EXPIRED: ("Masa keanggotaan sudah habis.", True),
    Reason.PATRON_BLOCKED: ("Keanggotaan Anda sedang diblokir.", True),
    Reason.TOO_MANY_LOANS: ("Batas pinjaman tercapai.", False),
    Reason.FINES_OVER_LIMIT: ("Denda Anda melebihi batas.", True),
    Reason.PIN_REQUIRED: ("PIN diperlukan.", False),
    Reason.PIN_WRONG: ("PIN salah.", False),
    Reason.PIN_LOCKED: ("PIN kartu ini dikunci sementara karena terlalu sering salah.", True),
    Reason.PIN_OFFLINE: (PIN_OFFLINE_TEXT, False),
    Reason.PATRON_SESSION_REQUIRED: ("Silakan pindai kartu anggota Anda lagi.", False),
    Reason.UNKNOWN_ITEM: ("Kode eksemplar tidak dikenal.", True),
    Reason.ITEM_ON_LOAN_TO_OTHER: ("Buku ini tercatat masih dipinjam anggota lain.", True),
    Reason.ITEM_ALREADY_ON_LOAN_TO_PATRON: ("Buku ini sudah Anda pinjam.", False),
    Reason.ITEM_ON_HOLD_FOR_OTHER: ("Buku ini sudah dipesan anggota lain.", True),
    Reason.ITEM_NOT_FOR_LOAN: ("Buku ini tidak untuk dipinjam (koleksi rujukan).", False),
    Reason.ITEM_LOST: ("Buku ini tercatat hilang.", True),
    Reason.ITEM_IN_TRANSIT: ("Buku ini sedang dalam pengiriman antarcabang.", True),
    Reason.NOT_ON_LOAN: ("Buku ini tidak tercatat sedang dipinjam.", True),
    Reason.RENEWAL_LIMIT: ("Batas perpanjangan tercapai.", False),
    Reason.RENEWAL_ON_HOLD: ("Tidak dapat diperpanjang: buku ini dipesan anggota lain.", False),
    Reason.OVERDUE_ITEMS: ("Ada pinjaman yang terlambat dikembalikan.", True),
    Reason.UNKNOWN_EVENT: ("Acara tidak ditemukan.", True),
    Reason.EVENT_FULL: ("Maaf, kuota acara sudah penuh.", False),
    Reason.EVENT_OVER: ("Acara sudah selesai.", False),
    Reason.REGISTRATION_CLOSED: ("Pendaftaran acara sudah ditutup.", False),
    Reason.ALREADY_REGISTERED: ("Anda sudah terdaftar di acara ini.", False),
    Reason.NOT_REGISTERED: ("Anda belum terdaftar di acara ini.", True),
    Reason.UNKNOWN_TICKET: ("Tiket tidak sah untuk acara ini.", True),
    Reason.TICKET_NOT_YET_KNOWN: (
        "Tiket ini belum tercatat di kios ini. Pindai kartu anggota Anda atau daftar sebagai tamu.",
        True,
    ),
    Reason.ALREADY_SIGNED_IN: ("Sudah hadir pukul {time}.", False),
    Reason.INVALID: ("Permintaan tidak dapat diproses.", True),
    Reason.OFFLINE_NOT_ALLOWED: ("Layanan ini tidak tersedia saat luring (offline).", True),
    Reason.OFFLINE_SESSION_LIMIT: ("Batas pinjaman saat luring (offline) tercapai.", False),
    Reason.NOT_IN_SNAPSHOT: ("Data Anda belum tersedia saat luring (offline).", True),
}


def reason_message(reason: Reason | None, **params: Any) -> Message:
    """The patron-facing message for a refusal reason."""
    msgid, ask = REASON_MESSAGES.get(reason or Reason.INVALID, REASON_MESSAGES[Reason.INVALID])
    return Message(msgid, Severity.ERROR, params, ask_staff=ask)


#: A PIN card while offline, with no PIN this kiosk may check: never let through.
PIN_OFFLINE_MESSAGE = PIN_OFFLINE_TEXT


class PinAttempts:
    """A patron's PIN entry: asks the decider, says what happened, keeps the session.

    Wrong PINs are counted by the decider's ``PinGuard`` per card, so scanning the
    card again does not start the count over; the server counts them too.
    """

    def __init__(self) -> None:
        self.session: str | None = None  # the server's patron session after a right PIN

    def check(self, decider: Decider, card: str, pin: str) -> tuple[bool, bool, Message | None]:
        """``(accepted, session_over, message)`` for one PIN entry."""
        verdict = decider.check_pin(card, pin)
        if verdict.ok:
            self.session = verdict.session
            return True, False, None
        if verdict.ok is None:
            return False, True, Message(PIN_OFFLINE_MESSAGE, Severity.ERROR)
        if verdict.retry_after_s:
            return (
                False,
                False,
                Message(
                    "Terlalu banyak percobaan PIN di kios ini. Coba lagi sebentar lagi.",
                    Severity.ERROR,
                ),
            )
        if verdict.reason == Reason.PIN_LOCKED:
            return False, True, pin_locked_message()
        return False, False, Message("PIN salah. Coba lagi.", Severity.ERROR)


def pin_locked_message() -> Message:
    return Message(
        "PIN salah terlalu sering. PIN kartu ini dikunci sementara.",
        Severity.ERROR,
        ask_staff=True,
    )


def pin_blocked_at_start(decider: Decider, card: str, offline: bool) -> Message | None:
    """Why a PIN card cannot go on to its PIN step here and now, or None when it can:
    locked after wrong PINs at this kiosk, or offline with no PIN this kiosk may check."""
    if decider.pins.locked_until(card) is not None:
        return pin_locked_message()
    if offline and not decider.can_check_pin_offline(card):
        return Message(PIN_OFFLINE_MESSAGE, Severity.ERROR)
    return None


class CodeKind(StrEnum):
    """What a scanned code is, as the flows care."""

    PATRON = "patron"
    ITEM = "item"
    TICKET = "ticket"
    STAFF = "staff"
    UNKNOWN = "unknown"


_FROM_DEVICES = {
    DeviceKind.PATRON_CARD: CodeKind.PATRON,
    DeviceKind.STAFF_CARD: CodeKind.STAFF,
    DeviceKind.ITEM: CodeKind.ITEM,
    DeviceKind.EVENT_TICKET: CodeKind.TICKET,
}


class Classifier(Protocol):
    """Tells what a scanned code is and its normalised form."""

    def kind_of(self, text: str) -> CodeKind: ...

    def code_of(self, text: str) -> tuple[CodeKind, str]: ...


@dataclass
class ScanClassifier:
    """The flows' view of ``devices.classify``: patterns and check digits from config."""

    rules: ClassifierRules = field(default_factory=ClassifierRules)

    def __post_init__(self) -> None:
        self._classifier = DeviceClassifier(self.rules)

    def code_of(self, text: str) -> tuple[CodeKind, str]:
        """The kind and the normalised code (upper-cased; ISBN-10 as ISBN-13)."""
        c = self._classifier.classify(text)
        return _FROM_DEVICES.get(c.kind, CodeKind.UNKNOWN), c.code

    def kind_of(self, text: str) -> CodeKind:
        return self.code_of(text)[0]


class SlipService(Protocol):
    """Prints slips for the flows; raises ``PrinterError`` when it cannot."""

    def print_checkout(self, patron: PatronInfo, lines: list[Any], offline: bool) -> None: ...

    def print_return(self, lines: list[Any], offline: bool) -> None: ...


@dataclass
class Services:
    """What every flow needs, injected (no flow reads a global)."""

    decider: Decider
    store: LocalStore
    slips: SlipService | None = None
    classifier: Classifier = field(default_factory=ScanClassifier)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
