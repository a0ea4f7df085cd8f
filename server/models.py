"""The server's tables as typed SQLAlchemy 2 ORM classes.

State that kiosks copy offline (patrons, items, events, registrations) carries a
``version``: the value of the global change counter of the write that last
touched the row, which is what ``GET /snapshot?since=`` compares against.
Loans and registrations are derived from the transaction log (see
``circulation.py`` and ``events.py``) and may be rebuilt when a late transaction
arrives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from server.timeutil import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend and hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base for all server tables."""


class ChangeCounter(Base):
    """One row: the last change number handed out. Bumping it also serialises writers."""

    __tablename__ = "change_counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Patron(Base):
    """A library member (anggota)."""

    __tablename__ = "patrons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), default="umum")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|blocked|expired
    blocked_reason: Mapped[str | None] = mapped_column(String(200))
    expires_on: Mapped[date | None] = mapped_column(Date)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    fines_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(400))
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class Item(Base):
    """A copy on the shelf (eksemplar). ``status`` is the shelf status; on-loan is derived."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(400))
    author: Mapped[str | None] = mapped_column(String(200))
    isbn: Mapped[str | None] = mapped_column(String(20))
    item_type: Mapped[str] = mapped_column(String(40), default="book")
    # available | lost | not_for_loan | in_transit (on_loan comes from an open loan)
    status: Mapped[str] = mapped_column(String(16), default="available")
    hold_patron_id: Mapped[int | None] = mapped_column(ForeignKey("patrons.id"))
    last_key: Mapped[str | None] = mapped_column(String(200))  # order key of last applied txn
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class Loan(Base):
    """One loan of an item to a patron; open while ``returned_at`` is null."""

    __tablename__ = "loans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    # null once ``purge-history`` dropped the link of an old returned loan; an open
    # loan (all that batches read) always has it, hence the plain ``int``
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), index=True, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    checkout_txn_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_loans_open", "patron_id", "returned_at"),)


class LoanPolicy(Base):
    """Loan rules for a patron category and item type; '*' matches any."""

    __tablename__ = "loan_policies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(40))
    item_type: Mapped[str] = mapped_column(String(40))
    loan_days: Mapped[int] = mapped_column(Integer)
    max_loans: Mapped[int] = mapped_column(Integer)
    max_renewals: Mapped[int] = mapped_column(Integer)
    fines_limit_idr: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("category", "item_type"),)


class ClosedDay(Base):
    """A day the library is closed (public holiday or staff-added); due dates skip it."""

    __tablename__ = "closed_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")


class Event(Base):
    """A workshop or other event (acara / lokakarya)."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    waitlist: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set when staff cancel the event: kiosks stop offering it, sign-ups are refused
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_key: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class Registration(Base):
    """A person registered for an event (by card or as a guest), with attendance."""

    __tablename__ = "registrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_code: Mapped[str] = mapped_column(String(32), unique=True)
    person_key: Mapped[str] = mapped_column(String(400))
    card: Mapped[str | None] = mapped_column(String(64))
    guest_name: Mapped[str | None] = mapped_column(String(200))
    guest_phone: Mapped[str | None] = mapped_column(String(40))
    guest_email: Mapped[str | None] = mapped_column(String(200))
    guest_institution: Mapped[str | None] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    waitlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_in_kiosk: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class Kiosk(Base):
    """A kiosk allowed to talk to the server; only a hash of its token is kept."""

    __tablename__ = "kiosks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_depth: Mapped[int | None] = mapped_column(Integer)
    snapshot_age_s: Mapped[float | None] = mapped_column()
    app_version: Mapped[str | None] = mapped_column(String(64))
    # set by ``revoke-kiosk``: the token stops working; ``add-kiosk`` issues a new one
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Transaction(Base):
    """Every transaction a kiosk sent, with the first result returned for it."""

    __tablename__ = "transactions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    offline: Mapped[bool] = mapped_column(Boolean)
    card: Mapped[str | None] = mapped_column(String(64))
    item: Mapped[str | None] = mapped_column(String(64), index=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    ticket_code: Mapped[str | None] = mapped_column(String(32), index=True)
    person_key: Mapped[str | None] = mapped_column(String(400))
    order_key: Mapped[str] = mapped_column(String(200))
    # effective: part of the entity's history that replays rebuild state from
    effective: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (
        Index("ix_transactions_kiosk_seq", "kiosk", "seq"),
        # the staff console's reports read a period of event times
        Index("ix_transactions_at", "at"),
    )


class Conflict(Base):
    """An offline transaction the server could not fully honour; staff resolve it."""

    __tablename__ = "conflicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("transactions.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class StaffUser(Base):
    """A librarian who may use the staff API."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``admin`` (kiosks, staff accounts, settings) or ``librarian`` (everything else)
    role: Mapped[str] = mapped_column(String(16), default="librarian")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StaffSession(Base):
    """A staff bearer token (only its sha256 is stored) with an expiry and an idle timeout."""

    __tablename__ = "staff_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PinFailures(Base):
    """Wrong PINs entered for one card, kept across restarts (guessing is counted
    per card, not per kiosk or per process): enough of them lock PIN checks for a
    while; a right PIN or staff clear the count."""

    __tablename__ = "pin_failures"
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_kiosk: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PatronSession(Base):
    """A patron's short session at one kiosk (only the token's sha256 is kept):
    what lets that kiosk read the patron's account or renew for them."""

    __tablename__ = "patron_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("patrons.id"))
    kiosk: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Visit(Base):
    """A guest-book entry (Buku Tamu): a member by card, or a visitor without one.

    ``day`` is the local (WIB) date of ``at``, kept for the reports' indexed ranges.
    ``count_key`` (card and counting window) is set on the one visit of a card that
    counts in its window, and unique: a card counts once per window across kiosks.
    """

    __tablename__ = "visits"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the transaction id
    kiosk: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date)
    hour: Mapped[int] = mapped_column(Integer)  # local hour 0-23 (visits by hour)
    card: Mapped[str | None] = mapped_column(String(64))
    member: Mapped[bool] = mapped_column(Boolean)
    counted: Mapped[bool] = mapped_column(Boolean)
    count_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(10))
    education: Mapped[str | None] = mapped_column(String(60))
    occupation: Mapped[str | None] = mapped_column(String(60))
    institution: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(String(60))
    contact: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_visits_day", "day", "counted"),)


class GroupVisit(Base):
    """A group (rombongan) as one guest-book entry with its counts by gender."""

    __tablename__ = "group_visits"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date, index=True)
    hour: Mapped[int] = mapped_column(Integer)
    leader: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    institution: Mapped[str] = mapped_column(String(200))
    male: Mapped[int] = mapped_column(Integer)
    female: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str | None] = mapped_column(String(60))


class Feedback(Base):
    """An anonymous rating: no card, no name; the kiosk and the time only."""

    __tablename__ = "feedback"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date, index=True)
    hour: Mapped[int] = mapped_column(Integer)
    service: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class FeedbackChip(Base):
    """One "what could be better" chip of a rating."""

    __tablename__ = "feedback_chips"
    feedback_id: Mapped[str] = mapped_column(ForeignKey("feedback.id"), primary_key=True)
    chip: Mapped[str] = mapped_column(String(60), primary_key=True)


class IlsWriteback(Base):
    """An applied item transaction waiting to be written into the library's own
    system (``[ils]``); written in the same database transaction as the transaction
    itself and drained by a background worker in event-time order. Guest-book
    entries queue here too: ``what`` says which, ``item`` then holds the visit's or
    group visit's id (an amend queues the visit it amends)."""

    __tablename__ = "ils_writebacks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(64), index=True)
    # item | visit | group_visit: what ``item`` names (a barcode, or a guest-book row's id)
    what: Mapped[str] = mapped_column(String(16), default="item", server_default="item")
    item: Mapped[str] = mapped_column(String(64))
    order_key: Mapped[str] = mapped_column(String(200))
    # pending | done | conflict
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_ils_writebacks_pending", "state", "order_key"),)


class IlsState(Base):
    """What the connector to the library's own system last did: one row per kind."""

    __tablename__ = "ils_state"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(40))  # ILS time of the last pull
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_s: Mapped[float | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
