"""Time helpers: the library works in WIB (Asia/Jakarta); the database stores UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive time from a kiosk is taken as UTC (kiosks are told to send offsets)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_naive_utc(value: datetime | None) -> datetime | None:
    """Naive UTC, as the database columns hold it (see ``models.UTCDateTime``)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def local_date(value: datetime) -> date:
    """The calendar day in Probolinggo (WIB) at instant ``value``."""
    return as_utc(value).astimezone(WIB).date()


def naive_local(value: datetime) -> datetime:
    """Instant ``value`` as the library's own systems (SLiMS, INLISLite) store times:
    naive local time (WIB), whole seconds."""
    return as_utc(value).astimezone(WIB).replace(tzinfo=None, microsecond=0)


def from_naive_local(value: datetime) -> datetime:
    """A naive local (WIB) time, as those systems store it, as an aware UTC instant."""
    return value.replace(tzinfo=WIB).astimezone(UTC)


def end_of_local_day(day: date) -> datetime:
    """The last second of ``day`` in WIB (when a loan due that day falls due), in UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=WIB).astimezone(UTC)


def order_key(at: datetime, kiosk: str, seq: int) -> str:
    """A string whose Python ordering equals ordering by (event time, kiosk, seq).

    The kiosk name is hex-encoded and followed by '!', which sorts before every hex
    digit, so a shorter name that is a prefix of a longer one still sorts first.
    Compared only in Python (database collations would reorder punctuation).
    """
    stamp = as_utc(at).strftime("%Y%m%d%H%M%S%f").rjust(20, "0")
    return f"{stamp}!{kiosk.encode('utf-8').hex()}!{seq:020d}"
