"""The dashboard's numbers, from the server's own transaction log.

One grouped query per period gives counts by local hour, kind and offline flag (at
most 24 x days x kinds x 2 rows, whatever the traffic); per-day activity, the
busiest hours of the week and the offline share are folded from it in Python. The
query reads a range of ``transactions.at`` through its index (``ix_transactions_at``),
so the page costs the same with a year of a city library's data; ``make bench``
prints it as ``console.dashboard_p95_ms``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session

from core.wire import Kind
from server.models import Conflict, Event, Item, Kiosk, Transaction
from server.queries import event_views
from server.timeutil import WIB, utcnow

#: the kinds the dashboard counts, in the order its tables show them
KINDS = (Kind.CHECKOUT, Kind.CHECKIN, Kind.RENEW, Kind.DOOR_SIGNIN, Kind.EVENT_REGISTER)
WIB_OFFSET_H = 7  # Asia/Jakarta has no daylight saving time
LATE_AFTER = timedelta(minutes=10)
SILENT_AFTER = timedelta(hours=1)


@dataclass
class Activity:
    """Counts over a period, folded from the hourly buckets."""

    first: date
    last: date
    per_day: dict[date, Counter[str]] = field(default_factory=dict)
    #: (weekday Monday=0, hour) -> transactions
    week_hours: Counter[tuple[int, int]] = field(default_factory=Counter)
    offline_per_day: Counter[date] = field(default_factory=Counter)
    offline: int = 0
    total: int = 0

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def totals(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for counts in self.per_day.values():
            out.update(counts)
        return out

    @property
    def offline_share(self) -> float:
        return self.offline / self.total if self.total else 0.0


def _local_hour(session: Session) -> ColumnElement[str]:
    """``YYYY-MM-DD HH`` of a transaction's time in WIB, as the database computes it."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(
            Transaction.at + literal_column(f"interval '{WIB_OFFSET_H} hours'"), "YYYY-MM-DD HH24"
        )
    return func.strftime("%Y-%m-%d %H", Transaction.at, f"+{WIB_OFFSET_H} hours")


def utc_range(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants that bound the local (WIB) days ``first`` .. ``last``."""
    start = datetime.combine(first, time(0), WIB).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), WIB).astimezone(UTC)
    return start, end


def activity(session: Session, first: date, last: date) -> Activity:
    """What kiosks did on each local day from ``first`` to ``last`` (both included)."""
    start, end = utc_range(first, last)
    bucket = _local_hour(session).label("bucket")
    rows = session.execute(
        select(bucket, Transaction.kind, Transaction.offline, func.count())
        .where(
            Transaction.at >= start,
            Transaction.at < end,
            Transaction.effective.is_(True),
        )
        .group_by(bucket, Transaction.kind, Transaction.offline)
    )
    out = Activity(first, last)
    for text, kind, offline, n in rows:
        d = date.fromisoformat(text[:10])
        hour = int(text[11:13])
        out.per_day.setdefault(d, Counter())[kind] += n
        out.week_hours[(d.weekday(), hour)] += n
        out.total += n
        if offline:
            out.offline += n
            out.offline_per_day[d] += n
    return out


def top_titles(session: Session, first: date, last: date, limit: int = 10) -> list[tuple]:
    """(barcode, title, loans) of the items borrowed most at kiosks in the period."""
    start, end = utc_range(first, last)
    n = func.count().label("n")
    top = (
        select(Transaction.item, n)
        .where(
            Transaction.at >= start,
            Transaction.at < end,
            Transaction.kind == Kind.CHECKOUT.value,
            Transaction.effective.is_(True),
        )
        .group_by(Transaction.item)
        .order_by(n.desc(), Transaction.item)
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(top.c.item, Item.title, top.c.n)
        .join(Item, Item.barcode == top.c.item, isouter=True)
        .order_by(top.c.n.desc(), top.c.item)
    )
    return [(barcode, title or "—", count) for barcode, title, count in rows]


def workshops(session: Session, first: date, last: date) -> list:
    """Attendance against capacity for the events that started in the period."""
    start, end = utc_range(first, last)
    events = session.scalars(
        select(Event)
        .where(Event.starts_at >= start, Event.starts_at < end)
        .order_by(Event.starts_at)
        .limit(200)
    )
    return event_views(session, events)


@dataclass(frozen=True)
class KioskHealth:
    """A kiosk's last report and the plain state staff see."""

    name: str
    last_seen: datetime | None
    queue_depth: int | None
    snapshot_age_s: float | None
    app_version: str | None
    revoked: bool
    state: str  # online | late | silent | never
    silent_hours: float | None


def kiosk_health(session: Session, now: datetime | None = None) -> list[KioskHealth]:
    now = now or utcnow()
    out = []
    for k in session.scalars(select(Kiosk).order_by(Kiosk.name)):
        revoked = bool(getattr(k, "revoked_at", None))
        if k.last_seen is None:
            state, hours = "never", None
        else:
            age = now - k.last_seen
            hours = age.total_seconds() / 3600
            state = "online" if age <= LATE_AFTER else "late" if age <= SILENT_AFTER else "silent"
        out.append(
            KioskHealth(
                k.name,
                k.last_seen,
                k.queue_depth,
                k.snapshot_age_s,
                k.app_version,
                revoked,
                state,
                hours,
            )
        )
    return out


def open_conflicts(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(Conflict).where(Conflict.resolved_at.is_(None))
        ).scalar_one()
    )
