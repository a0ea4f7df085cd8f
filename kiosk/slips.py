"""Slip layouts: plain data in, a :class:`devices.receipt.Receipt` out.

Every function takes ``tr`` (translation of the Indonesian source strings,
identity by default) and ``lang`` (``"id"`` or ``"en"``, for month names and the
time separator). Times are shown in WIB (Asia/Jakarta): ``28 Nov 2026 14.05 WIB``.
Card numbers are masked (``AGT****01``): a slip left at the kiosk must not
hand anyone a working card number. No Kivy, no UI imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from devices.receipt import Align, Barcode, Columns, Feed, QRCode, Receipt, Rule, Text

WIB = ZoneInfo("Asia/Jakarta")
Translate = Callable[[str], str]

MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

#: Longest transaction reference that fits 58 mm paper as Code 128 at 2 dots a module.
BARCODE_MAX = 12


def _identity(s: str) -> str:
    return s


@dataclass(frozen=True, slots=True)
class SlipItem:
    """One item line: its barcode, title and (for loans) due date."""

    barcode: str
    title: str = ""
    due: date | datetime | None = None


def _as_item(obj: SlipItem | Mapping[str, Any]) -> SlipItem:
    if isinstance(obj, SlipItem):
        return obj
    return SlipItem(str(obj.get("barcode", "")), str(obj.get("title") or ""), obj.get("due"))


def to_wib(at: datetime) -> datetime:
    """``at`` in WIB; a naive datetime is taken as UTC (the store keeps UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(WIB)


def format_date(d: date | datetime, lang: str = "id") -> str:
    """``28 Nov 2026`` (``Des``/``Dec`` by language)."""
    if isinstance(d, datetime):
        d = to_wib(d).date()
    months = MONTHS.get(lang, MONTHS["id"])
    return f"{d.day} {months[d.month - 1]} {d.year}"


def format_wib(at: datetime, lang: str = "id") -> str:
    """``28 Nov 2026 14.05 WIB`` (``14:05`` in English)."""
    local = to_wib(at)
    sep = "." if lang == "id" else ":"
    return f"{format_date(local.date(), lang)} {local.hour:02d}{sep}{local.minute:02d} WIB"


def mask_card(card: str, *, keep_start: int = 3, keep_end: int = 2) -> str:
    """``AGT0001201`` → ``AGT*****01``; short numbers keep only their last character."""
    card = card.strip()
    if len(card) <= keep_start + keep_end:
        return "*" * max(0, len(card) - 1) + card[-1:]
    hidden = len(card) - keep_start - keep_end
    return card[:keep_start] + "*" * hidden + card[len(card) - keep_end :]


def txn_barcode(txn_id: str) -> str:
    """The part of a transaction id printed as Code 128.

    A UUID (36 characters) does not fit 58 mm paper as Code 128, so long ids
    are shortened to their last 12 characters without dashes (the random tail
    of a UUIDv7); the full id is printed as text above the barcode.
    """
    compact = txn_id.replace("-", "").upper()
    return compact if len(compact) <= BARCODE_MAX else compact[-BARCODE_MAX:]


def _header(library_name: str, title: str, at: datetime, lang: str) -> list[Any]:
    return [
        Text(library_name, bold=True, align=Align.CENTER),
        Text(title, bold=True, size=2, align=Align.CENTER),
        Text(format_wib(at, lang), align=Align.CENTER),
        Rule(),
    ]


def _offline_mark(offline: bool, tr: Translate) -> list[Any]:
    if not offline:
        return []
    return [
        Text(tr("LURING (OFFLINE)"), bold=True, size=2, align=Align.CENTER),
        Text(tr("Dicatat saat luring; akan dikirim ke server nanti."), align=Align.CENTER),
        Rule(),
    ]


def _footer(txn_id: str, tr: Translate, thanks: str) -> list[Any]:
    blocks: list[Any] = [Rule()]
    if txn_id:
        blocks += [
            Text(f"{tr('No. transaksi')}: {txn_id}"),
            Barcode(txn_barcode(txn_id)),
        ]
    blocks += [Text(thanks, align=Align.CENTER), Feed(1)]
    return blocks


def checkout_slip(
    *,
    library_name: str,
    card_number: str,
    items: Iterable[SlipItem | Mapping[str, Any]],
    txn_id: str,
    at: datetime,
    offline: bool = False,
    patron_name: str = "",
    tr: Translate = _identity,
    lang: str = "id",
) -> Receipt:
    """Slip for a self checkout: masked card, each item with title and due date."""
    r = Receipt()
    r.add(*_header(library_name, tr("Peminjaman Mandiri"), at, lang))
    r.add(*_offline_mark(offline, tr))
    r.add(Columns(tr("Nomor anggota"), mask_card(card_number)))
    if patron_name:
        r.add(Columns(tr("Nama"), patron_name))
    r.add(Rule(), Columns(tr("Eksemplar"), tr("Jatuh tempo"), bold=True))
    count = 0
    for raw in items:
        item = _as_item(raw)
        count += 1
        r.add(Text(item.title or item.barcode))
        due = format_date(item.due, lang) if item.due is not None else "-"
        r.add(Columns(item.barcode, due, bold=True))
    r.add(Rule(), Columns(tr("Jumlah eksemplar"), str(count), bold=True))
    r.add(*_footer(txn_id, tr, tr("Terima kasih. Kembalikan tepat waktu.")))
    return r


def return_slip(
    *,
    library_name: str,
    items: Iterable[SlipItem | Mapping[str, Any]],
    txn_id: str,
    at: datetime,
    card_number: str = "",
    offline: bool = False,
    tr: Translate = _identity,
    lang: str = "id",
) -> Receipt:
    """Slip for a self return: each item returned (card optional: returns need none)."""
    r = Receipt()
    r.add(*_header(library_name, tr("Pengembalian Mandiri"), at, lang))
    r.add(*_offline_mark(offline, tr))
    if card_number:
        r.add(Columns(tr("Nomor anggota"), mask_card(card_number)), Rule())
    count = 0
    for raw in items:
        item = _as_item(raw)
        count += 1
        r.add(Text(item.title or item.barcode, bold=True), Columns(item.barcode, tr("Kembali")))
    r.add(Rule(), Columns(tr("Jumlah eksemplar"), str(count), bold=True))
    r.add(Columns(tr("Tanggal kembali"), format_date(at, lang)))
    r.add(*_footer(txn_id, tr, tr("Terima kasih.")))
    return r


def event_registration_slip(
    *,
    library_name: str,
    event_title: str,
    starts_at: datetime,
    ticket: str,
    txn_id: str,
    at: datetime,
    location: str = "",
    attendee: str = "",
    card_number: str = "",
    offline: bool = False,
    tr: Translate = _identity,
    lang: str = "id",
) -> Receipt:
    """Registration slip for a workshop; the QR is the ticket scanned at the door.

    ``attendee`` is the guest's name (a guest has no card); members show their
    masked card number instead of a name.
    """
    r = Receipt()
    r.add(*_header(library_name, tr("Pendaftaran Acara"), at, lang))
    r.add(*_offline_mark(offline, tr))
    r.add(Text(event_title, bold=True, align=Align.CENTER))
    r.add(Columns(tr("Waktu"), format_wib(starts_at, lang)))
    if location:
        r.add(Columns(tr("Tempat"), location))
    if card_number:
        r.add(Columns(tr("Nomor anggota"), mask_card(card_number)))
    if attendee:
        r.add(Columns(tr("Peserta"), attendee))
    r.add(Rule(), Text(tr("Tunjukkan kode QR ini saat presensi di pintu."), align=Align.CENTER))
    r.add(QRCode(ticket, size=6))
    r.add(*_footer(txn_id, tr, tr("Sampai jumpa di acara!")))
    return r


def door_signin_slip(
    *,
    library_name: str,
    event_title: str,
    at: datetime,
    txn_id: str = "",
    attendee: str = "",
    card_number: str = "",
    first_signin_at: datetime | None = None,
    offline: bool = False,
    tr: Translate = _identity,
    lang: str = "id",
) -> Receipt:
    """Door sign-in (presensi) slip; a repeat scan shows when the first sign-in was."""
    r = Receipt()
    r.add(*_header(library_name, tr("Presensi"), at, lang))
    r.add(*_offline_mark(offline, tr))
    r.add(Text(event_title, bold=True, align=Align.CENTER))
    if card_number:
        r.add(Columns(tr("Nomor anggota"), mask_card(card_number)))
    if attendee:
        r.add(Columns(tr("Peserta"), attendee))
    if first_signin_at is not None:
        local = to_wib(first_signin_at)
        sep = "." if lang == "id" else ":"
        r.add(Text(f"{tr('Sudah hadir pukul')} {local.hour:02d}{sep}{local.minute:02d}"))
    else:
        r.add(Text(tr("Hadir"), bold=True, size=2, align=Align.CENTER))
    r.add(*_footer(txn_id, tr, tr("Selamat mengikuti acara.")))
    return r


def test_slip(
    *,
    library_name: str,
    kiosk_name: str,
    printer_url: str,
    paper_mm: int,
    at: datetime,
    tr: Translate = _identity,
    lang: str = "id",
) -> Receipt:
    """Staff test slip: every block type, so a bad print head or cutter shows at once."""
    r = Receipt()
    r.add(*_header(library_name, tr("Tes Printer"), at, lang))
    r.add(Columns(tr("Kios"), kiosk_name), Columns(tr("Kertas"), f"{paper_mm} mm"))
    r.add(Text(printer_url), Rule())
    r.add(Text("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), Text("abcdefghijklmnopqrstuvwxyz 0123456789"))
    r.add(Text(tr("Tebal"), bold=True), Text(tr("Besar"), size=2), Rule("="))
    r.add(Barcode("TEST-128"), QRCode("PK-TEST-QR", size=4))
    r.add(Text(tr("Printer siap."), align=Align.CENTER), Feed(1))
    return r
