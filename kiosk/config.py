"""Typed kiosk settings, loaded and validated once at start-up from TOML.

A wrong key or value stops start-up with a ``ConfigError`` that names the file
and the key (``kiosk.toml: [offline] max_items: Input should be a valid
integer``). Settings are then passed in to whatever needs them; no module
reads a global settings object.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import ConfigError
from devices.classify import ClassifierRules
from devices.urlcheck import PAPER_MM, check_printer_url, check_scanner_url


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KioskSection(_Section):
    """Who this kiosk is and where it keeps its files."""

    name: str = Field("kiosk-1", min_length=1, description="Kiosk name registered on the server")
    library_name: str = Field(
        "Perpustakaan Kota Probolinggo", description="Shown on screen and slips"
    )
    language: Literal["id", "en"] = Field("id", description="Default screen language")
    data_dir: Path = Field(Path("data/kiosk"), description="Local store, slips, logs")
    demo: bool = Field(False, description="Show printed slips on screen (demo mode)")
    logo: Path | None = Field(None, description="Logo image shown on Home")


class ServerSection(_Section):
    """How the kiosk reaches the central server."""

    url: str = Field(
        "http://127.0.0.1:8080",
        pattern=r"^https?://",
        description="Base URL; https:// with the certificate checked, plain http:// only to"
        " this machine (loopback) unless allow_plain_http is set",
    )
    ca_file: Path | None = Field(
        None,
        description="PEM file of the CA that signed the server's certificate (a library's own"
        " CA); default: the system's trusted CAs",
    )
    allow_plain_http: bool = Field(
        False,
        description="Allow http:// to another machine: the token, PINs and the ticket key"
        " then travel in clear",
    )
    token: str = Field("", description="Kiosk bearer token (kiosk-server add-kiosk NAME)")
    decision_timeout_s: float = Field(1.5, gt=0, le=30, description="Deadline for online decisions")
    sync_interval_s: float = Field(2.0, gt=0, le=3600, description="Pause between outbox drains")
    # 1000: the best measured drain (bench_sync); the server takes up to 5000 per request.
    batch_size: int = Field(1000, ge=1, le=5000, description="Transactions per sync request")
    snapshot_interval_s: float = Field(300.0, gt=0, description="Pause between snapshot refreshes")
    keep_sent_days: int = Field(
        90, ge=0, le=3650, description="Days a sent transaction stays on the kiosk; 0 keeps all"
    )


class DevicesSection(_Section):
    """Hardware, chosen by URL (see devices/)."""

    scanners: list[str] = Field(default_factory=lambda: ["wedge:"], min_length=1)
    printer: str = Field(
        "preview:", min_length=1, description="Printer URL; 'none:' for no printer"
    )
    paper_mm: Literal[58, 80] = 58


class OfflinePolicy(_Section):
    """What the kiosk may decide on its own when the server cannot be reached."""

    allow_checkout: bool = True
    max_items_per_session: int = Field(3, ge=0, le=50)
    loan_days: int = Field(7, ge=1, le=120)
    check_pin: bool = Field(
        True,
        description=(
            "Offline, check a PIN card's PIN against the sealed hash the server shipped;"
            " false (or no hash shipped) refuses PIN cards offline and sends them to staff"
        ),
    )
    allow_returns: bool = True
    allow_door_signin: bool = True
    allow_event_register: bool = True


class WedgeSection(_Section):
    """Keyboard-wedge scanner timing: a scanner types far faster than a person."""

    max_gap_ms: float = Field(50.0, gt=0, le=1000)
    min_length: int = Field(3, ge=1, le=64)
    prefix: str = ""
    suffix: str = Field("\r", description="What the scanner sends after a code (Enter)")


class CodesSection(_Section):
    """Which scanned codes are cards, items and tickets (see devices.classify)."""

    patron_patterns: list[str] = Field(default_factory=lambda: [r"^AGT\d{4,10}$"])
    staff_patterns: list[str] = Field(default_factory=lambda: [r"^STF\d{4}$"])
    item_patterns: list[str] = Field(default_factory=lambda: [r"^B\d{6}$"])
    items_by_ean13: bool = Field(True, description="A valid EAN-13/ISBN-13 is an item")
    items_by_isbn10: bool = Field(False, description="A valid ISBN-10 is an item")
    items_by_upca: bool = Field(False, description="A valid UPC-A is an item")
    patron_luhn: bool = Field(False, description="Card numbers carry a Luhn check digit")
    ticket_prefixes: list[str] = Field(default_factory=lambda: ["PK1.", "PKU."])

    @field_validator("patron_patterns", "staff_patterns", "item_patterns")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression {pattern!r}: {exc}") from None
        return value

    def rules(self) -> ClassifierRules:
        return ClassifierRules(
            patron_patterns=tuple(self.patron_patterns),
            staff_patterns=tuple(self.staff_patterns),
            item_patterns=tuple(self.item_patterns),
            items_by_ean13=self.items_by_ean13,
            items_by_isbn10=self.items_by_isbn10,
            items_by_upca=self.items_by_upca,
            patron_luhn=self.patron_luhn,
            ticket_prefixes=tuple(self.ticket_prefixes),
        )


class UiSection(_Section):
    """Session rules and sound."""

    idle_timeout_s: int = Field(60, ge=5, le=3600)
    countdown_s: int = Field(15, ge=0, le=120)
    sound: bool = True
    volume: float = Field(0.6, ge=0, le=1)
    fullscreen: bool = False
    staff_pin_hash: str | None = Field(
        None, description="argon2 hash of the staff PIN (make one with: kiosk hash-pin)"
    )
    width: int = Field(1280, ge=320)
    height: int = Field(800, ge=240)


class HeadlessSection(_Section):
    """The screenless station (``kiosk --headless``): scanner, printer and beeper only."""

    scanners: list[str] = Field(
        default_factory=list,
        description="Scanner URLs for the station; empty means [devices] scanners",
    )
    idle_timeout_s: float = Field(
        20.0, gt=0, le=3600, description="A checkout session ends after this long without a scan"
    )
    end_code: str = Field(
        "SELESAI", min_length=1, max_length=64, description="Scanning this code ends the session"
    )
    print_slips: bool = Field(True, description="Print a slip when a session ends")
    beep: bool = Field(True, description="Sound the terminal bell on stderr for each outcome")


class GuestBookSection(_Section):
    """The guest book (Buku Tamu): the choices a visitor taps and how visits are counted.

    The default words are in the screen catalogs (English shown for them); words
    of your own are shown as written. Reports group by the words as written here.
    """

    purposes: list[str] = Field(
        default_factory=lambda: [
            "Membaca",
            "Meminjam/mengembalikan",
            "Mengerjakan tugas",
            "Internet",
            "Acara",
            "Lainnya",
        ],
        min_length=1,
        max_length=12,
        description="Purposes of a visit, one tap each",
    )
    education: list[str] = Field(
        default_factory=lambda: [
            "Tidak/belum sekolah",
            "SD",
            "SMP",
            "SMA/SMK",
            "Diploma",
            "S1",
            "S2/S3",
        ],
        min_length=1,
        max_length=12,
        description="Highest education a visitor without a card picks from",
    )
    occupations: list[str] = Field(
        default_factory=lambda: [
            "Pelajar",
            "Mahasiswa",
            "PNS/TNI/Polri",
            "Pegawai swasta",
            "Wiraswasta",
            "Guru/Dosen",
            "Ibu rumah tangga",
            "Tidak bekerja",
            "Lainnya",
        ],
        min_length=1,
        max_length=12,
        description="Occupations a visitor without a card picks from",
    )
    count_window_hours: int = Field(
        0,
        ge=0,
        le=24,
        description="A card is counted once per window: 0 = once per local day (WIB), "
        "else per block of this many hours from midnight (must divide 24)",
    )

    @field_validator("purposes", "education", "occupations")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        for word in value:
            if not word.strip() or len(word) > 60:
                raise ValueError(f"each entry must be 1 to 60 characters, not {word!r}")
        if len(set(value)) != len(value):
            raise ValueError("entries must not repeat")
        return value

    @field_validator("count_window_hours")
    @classmethod
    def _divides_day(cls, value: int) -> int:
        if value and 24 % value:
            raise ValueError("must be 0 or divide 24 (1, 2, 3, 4, 6, 8, 12, 24)")
        return value


class FeedbackSection(_Section):
    """The anonymous five-face question after a session (never linked to the card)."""

    enabled: bool = Field(True, description="Ask at all")
    every_nth_session: int = Field(
        3, ge=1, le=1000, description="Ask after every Nth borrow, return or guest-book session"
    )
    chips: list[str] = Field(
        default_factory=lambda: [
            "Waktu tunggu",
            "Koleksi buku",
            "Kenyamanan ruang",
            "Keramahan petugas",
            "Kios mudah dipakai",
            "Lainnya",
        ],
        max_length=12,
        description="What could be better: the optional second tap",
    )
    workshop_rating: bool = Field(
        True, description="At a workshop's door, attendees scanning after the start rate it"
    )

    @field_validator("chips")
    @classmethod
    def _chips(cls, value: list[str]) -> list[str]:
        return GuestBookSection._words(value)


class KioskSettings(_Section):
    """Everything in kiosk.toml."""

    kiosk: KioskSection = KioskSection()
    server: ServerSection = ServerSection()
    devices: DevicesSection = DevicesSection()
    offline: OfflinePolicy = OfflinePolicy()
    wedge: WedgeSection = WedgeSection()
    codes: CodesSection = CodesSection()
    ui: UiSection = UiSection()
    headless: HeadlessSection = HeadlessSection()
    guestbook: GuestBookSection = GuestBookSection()
    feedback: FeedbackSection = FeedbackSection()
    source: Path | None = Field(None, exclude=True)


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if not parts:
        return "(top level)"
    if len(parts) == 1:
        return parts[0]
    return f"[{parts[0]}] " + ".".join(parts[1:])


def _device_problems(data: dict) -> list[tuple[str, str]]:
    """(key, problem) for every device URL in the raw TOML mapping that cannot work."""
    out: list[tuple[str, str]] = []
    devices = data.get("devices")
    devices = devices if isinstance(devices, dict) else {}
    headless = data.get("headless")
    headless = headless if isinstance(headless, dict) else {}
    for section, values in (("devices", devices), ("headless", headless)):
        scanners = values.get("scanners")
        if isinstance(scanners, list):
            for i, url in enumerate(scanners):
                if isinstance(url, str):
                    out += [(f"[{section}] scanners[{i}]", p) for p in check_scanner_url(url)]
    printer, paper = devices.get("printer", "preview:"), devices.get("paper_mm", 58)
    if isinstance(printer, str):
        # A wrong paper_mm is reported once, by its own key.
        width = paper if paper in PAPER_MM else PAPER_MM[0]
        out += [("[devices] printer", p) for p in check_printer_url(printer, width)]
    return out


def is_loopback_host(host: str | None) -> bool:
    """True for a host name that can only mean this machine: localhost, 127.0.0.0/8, ::1."""
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _plain_http_problem(server: ServerSection) -> str | None:
    """Why ``[server] url`` may not be used as given, or None.

    Over plain HTTP the bearer token, patrons' PINs and the ticket public key (which
    decides which offline tickets pass) could be read or swapped on the way, so it
    is allowed only to this machine, or where staff say so explicitly.
    """
    parts = urlsplit(server.url)
    if parts.scheme != "http" or server.allow_plain_http:
        return None
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if is_loopback_host(host):
        return None
    return (
        f"plain http:// to {host or '?'} sends the kiosk token and PINs in clear; use"
        " https:// (with ca_file for the library's own CA) or set allow_plain_http = true"
    )


def parse_settings(data: dict, source: str = "kiosk.toml") -> KioskSettings:
    """Validate a parsed TOML mapping, device URLs included.

    Every problem of the file is reported at once, one line each, naming the file
    and the key; device URLs are checked here, not when the device opens.
    """
    problems: list[str] = []
    settings: KioskSettings | None = None
    try:
        settings = KioskSettings.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{source}: {_key_path(err['loc'])}: {msg}")
    problems += [f"{source}: {key}: {problem}" for key, problem in _device_problems(data)]
    if settings is not None:
        problem = _plain_http_problem(settings.server)
        if problem:
            problems.append(f"{source}: [server] url: {problem}")
    if problems or settings is None:
        raise ConfigError(problems=problems)
    return settings


def load_settings(path: Path | str) -> KioskSettings:
    """Read and validate a kiosk TOML file. Relative data_dir is taken from the file's folder."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    settings = parse_settings(data, str(path))
    kiosk = settings.kiosk
    if not kiosk.data_dir.is_absolute():
        kiosk = kiosk.model_copy(update={"data_dir": (path.parent / kiosk.data_dir).resolve()})
    server = settings.server
    if server.ca_file is not None:
        ca_file = server.ca_file
        if not ca_file.is_absolute():
            ca_file = (path.parent / ca_file).resolve()
        try:
            ca_file.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"{path}: [server] ca_file: cannot read {ca_file} ({exc.strerror})"
            ) from None
        server = server.model_copy(update={"ca_file": ca_file})
    return settings.model_copy(update={"kiosk": kiosk, "server": server, "source": path})
