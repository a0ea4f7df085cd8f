"""The wire schema between kiosk and central server (``/api/v1``).

Both sides import these pydantic models, so a field renamed on one side breaks
the other's tests rather than production. Everything here is plain data: no
I/O, no Kivy, no SQLAlchemy. Changes must stay backwards compatible (add
optional fields; never rename or remove), because kiosks in the field are
upgraded later than the server.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

API_PREFIX = "/api/v1"


class Kind(StrEnum):
    """What a transaction does."""

    CHECKOUT = "checkout"
    CHECKIN = "checkin"
    RENEW = "renew"
    EVENT_REGISTER = "event_register"
    DOOR_SIGNIN = "door_signin"
    #: a registration cancelled (by staff at the console, ``ticket`` names it); the
    #: first on the waitlist takes the seat it frees
    EVENT_CANCEL = "event_cancel"
    VISIT = "visit"  # a guest-book entry: a member by card, or a guest by the visit's fields
    GROUP_VISIT = "group_visit"  # a group (rombongan) as one guest-book entry
    FEEDBACK = "feedback"  # an anonymous rating: never carries a card


class Status(StrEnum):
    """The server's verdict on one transaction."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    CONFLICT = "conflict"  # offline transaction applied as far as possible; staff must look


class Reason(StrEnum):
    """Machine-readable reasons for a refusal or a conflict (the kiosk translates them)."""

    UNKNOWN_CARD = "unknown_card"
    CARD_EXPIRED = "card_expired"
    PATRON_BLOCKED = "patron_blocked"
    TOO_MANY_LOANS = "too_many_loans"
    FINES_OVER_LIMIT = "fines_over_limit"
    PIN_REQUIRED = "pin_required"
    PIN_WRONG = "pin_wrong"
    PIN_LOCKED = "pin_locked"  # too many wrong PINs for this card: checks paused a while
    PIN_OFFLINE = "pin_offline"  # a PIN card offline without a hash to check: see staff
    PATRON_SESSION_REQUIRED = "patron_session_required"
    UNKNOWN_ITEM = "unknown_item"
    ITEM_ON_LOAN_TO_OTHER = "item_on_loan_to_other"
    ITEM_ALREADY_ON_LOAN_TO_PATRON = "item_already_on_loan_to_patron"
    ITEM_ON_HOLD_FOR_OTHER = "item_on_hold_for_other"
    ITEM_NOT_FOR_LOAN = "item_not_for_loan"
    ITEM_LOST = "item_lost"
    ITEM_IN_TRANSIT = "item_in_transit"
    NOT_ON_LOAN = "not_on_loan"
    RENEWAL_LIMIT = "renewal_limit"
    RENEWAL_ON_HOLD = "renewal_on_hold"
    OVERDUE_ITEMS = "overdue_items"
    UNKNOWN_EVENT = "unknown_event"
    EVENT_FULL = "event_full"
    EVENT_OVER = "event_over"
    REGISTRATION_CLOSED = "registration_closed"
    ALREADY_REGISTERED = "already_registered"
    NOT_REGISTERED = "not_registered"
    UNKNOWN_TICKET = "unknown_ticket"
    TICKET_NOT_YET_KNOWN = "ticket_not_yet_known"  # an offline-made ticket nothing vouches for
    ALREADY_SIGNED_IN = "already_signed_in"
    INVALID = "invalid"
    OFFLINE_NOT_ALLOWED = "offline_not_allowed"
    OFFLINE_SESSION_LIMIT = "offline_session_limit"
    NOT_IN_SNAPSHOT = "not_in_snapshot"
    REFUSED_AT_KIOSK = "refused_at_kiosk"  # the kiosk refused it offline: nothing happened
    KIOSK_INTERRUPTED = "kiosk_interrupted"  # the kiosk stopped before it showed a result
    # A conflict for staff (never a kiosk result): the server applied it, the patron
    # was told "refused" or saw nothing (a lost answer, then a kiosk_refused copy).
    KIOSK_TOLD_REFUSED = "kiosk_told_refused"
    # Refused: this transaction id is already stored for another kiosk.
    ID_OF_OTHER_KIOSK = "id_of_other_kiosk"
    # A conflict for staff: an event time or due date past the server's bounds was
    # clamped (the message says what the kiosk sent).
    OUT_OF_BOUNDS = "out_of_bounds"


class Guest(BaseModel):
    """A visitor without a library card (event sign-up or walk-in at the door)."""

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    institution: str | None = Field(default=None, max_length=200)


class Gender(StrEnum):
    """As the guest book asks it (INLISLite's JenisKelamin)."""

    MALE = "male"
    FEMALE = "female"


class Visit(BaseModel):
    """A guest-book entry (Buku Tamu).

    A member is the transaction's ``card`` and fills nothing here but ``window``
    and later ``purpose``; a visitor without a card gives ``name`` and the other
    fields INLISLite's guest book asks. ``window`` names the counting window the
    visit falls in (``2026-12-01`` for "once per local day"): the server counts a
    card once per window, whichever kiosks it was scanned at. A visit with
    ``amends`` only sets the purpose of this kiosk's earlier visit ``amends``
    (the member picks it after the greeting, which was committed at the scan).
    """

    name: str | None = Field(default=None, max_length=200)
    gender: Gender | None = None
    education: str | None = Field(default=None, max_length=60)
    occupation: str | None = Field(default=None, max_length=60)
    institution: str | None = Field(default=None, max_length=200)
    purpose: str | None = Field(default=None, max_length=60)
    contact: str | None = Field(default=None, max_length=200)
    window: str | None = Field(default=None, max_length=40)
    amends: str | None = Field(default=None, max_length=64)


class GroupVisit(BaseModel):
    """A group (rombongan, e.g. a school class) as one guest-book entry."""

    leader: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    institution: str = Field(min_length=1, max_length=200)
    male: int = Field(default=0, ge=0, le=10_000)
    female: int = Field(default=0, ge=0, le=10_000)
    purpose: str | None = Field(default=None, max_length=60)


class FeedbackService(StrEnum):
    """What a rating is about."""

    CHECKOUT = "checkout"
    CHECKIN = "checkin"
    GUESTBOOK = "guestbook"
    EVENT = "event"  # a workshop, rated at its door (the transaction's event_id)


class Feedback(BaseModel):
    """An anonymous rating: five faces (1 worst, 5 best) and what could be better.

    The transaction carrying it has no card, ticket or guest. ``amends`` adds
    ``chips`` to this kiosk's earlier rating (the face is committed at its tap).
    """

    service: FeedbackService
    score: int = Field(ge=1, le=5)
    chips: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=12
    )
    amends: str | None = Field(default=None, max_length=64)


class TransactionIn(BaseModel):
    """One action made at a kiosk, as sent to the server.

    ``id`` is made by the kiosk (UUIDv7, time-ordered) and is the idempotency
    key: the server returns the first result for an id it has already seen.
    ``at`` is the event time (timezone-aware); late arrivals are merged in
    event-time order. ``offline`` says the kiosk decided without the server.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    kiosk: str = Field(min_length=1, max_length=100)
    seq: int = Field(ge=0)
    kind: Kind
    at: datetime
    offline: bool = False
    card: str | None = Field(default=None, max_length=64)
    item: str | None = Field(default=None, max_length=64)
    event_id: int | None = None
    ticket: str | None = Field(default=None, max_length=512)
    guest: Guest | None = None
    due_at: datetime | None = None  # an offline checkout's due date as printed on the slip
    # The kiosk refused this offline after an online attempt with the same id got no
    # answer. If that attempt reached the server, its first result stands (and the
    # kiosk flags the difference for staff); if not, the server records a refusal
    # that changes nothing, and a late copy of the attempt can no longer apply.
    kiosk_refused: bool = False
    visit: Visit | None = None  # kind visit
    group: GroupVisit | None = None  # kind group_visit
    feedback: Feedback | None = None  # kind feedback


class TransactionResult(BaseModel):
    """The server's result for one transaction; stored on the kiosk too."""

    id: str
    status: Status
    reason: Reason | None = None
    message: str | None = None  # technical detail for staff and logs, not shown to patrons
    duplicate: bool = False  # true when this id had been applied before
    title: str | None = None
    due_at: datetime | None = None
    renewals: int | None = None
    hold_for_other: bool = False  # checkin: item is on hold for someone; hand to staff
    event_id: int | None = None
    ticket: str | None = None  # signed ticket payload for a registration (QR content)
    waitlisted: bool = False
    signed_in_at: datetime | None = None  # door: when this person first signed in;
    # visit: when this card was first counted in the visit's window
    counted: bool | None = None  # visit: counted (false: a repeat within its window)
    attendance_count: int | None = None


class TransactionBatch(BaseModel):
    """A batch posted to ``POST /api/v1/transactions`` with the kiosk's health."""

    model_config = ConfigDict(extra="forbid")

    transactions: list[TransactionIn] = Field(max_length=5000)
    queue_depth: int | None = Field(default=None, ge=0)
    snapshot_age_s: float | None = Field(default=None, ge=0)
    version: str | None = Field(default=None, max_length=64)


class BatchResult(BaseModel):
    """Results in the same order as the batch's transactions."""

    results: list[TransactionResult]


class OpenConflicts(BaseModel):
    """``GET /api/v1/conflicts``: this kiosk's transactions in conflict that staff
    have not resolved yet (a merge on the server may also open or settle some)."""

    ids: list[str]


class PatronStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    EXPIRED = "expired"


class PatronInfo(BaseModel):
    """What a kiosk may know about a patron at the start of a session."""

    card: str
    first_name: str
    status: PatronStatus
    expires_on: date | None = None
    loan_count: int = 0
    loan_limit: int = 0
    pin_required: bool = False
    can_borrow: bool = True
    reason: Reason | None = None  # why not, when can_borrow is false


class CardQuery(BaseModel):
    """Body of ``POST /api/v1/patrons/lookup``: card numbers never go in a URL path,
    where every access log would keep them."""

    model_config = ConfigDict(extra="forbid")

    card: str = Field(min_length=1, max_length=64)


class PinCheck(BaseModel):
    """Body of ``POST /api/v1/patrons/verify-pin``."""

    model_config = ConfigDict(extra="forbid")

    pin: str = Field(min_length=1, max_length=32)
    card: str | None = Field(default=None, min_length=1, max_length=64)


#: The header that carries a patron session token (``PatronSession.session``).
PATRON_SESSION_HEADER = "X-Patron-Session"


class PatronSession(BaseModel):
    """A short-lived patron session the server opened for this kiosk.

    Account reads and renewals by card need it (header ``X-Patron-Session``);
    it ends after a few minutes, and never works from another kiosk's token.
    """

    session: str
    expires_at: datetime


class PatronLookupResult(BaseModel):
    """``POST /api/v1/patrons/lookup``: the patron, and a session at once when the
    card needs no PIN (a PIN card gets one from ``verify-pin``)."""

    patron: PatronInfo
    session: PatronSession | None = None


class PinResult(BaseModel):
    """``POST /api/v1/patrons/verify-pin``: ``ok`` with a session, or why not."""

    ok: bool
    patron: PatronInfo | None = None
    session: PatronSession | None = None
    reason: Reason | None = None  # pin_wrong, or pin_locked until ``locked_until``
    tries_left: int | None = None  # wrong PINs left before the lock
    locked_until: datetime | None = None


class KioskSecrets(BaseModel):
    """``GET /api/v1/kiosk-secrets``: keys the server issues to one kiosk (base64url).

    ``card_key`` computes the card tags of the snapshot; ``pin_key`` opens the
    sealed PIN hashes shipped to this kiosk only (see ``core.patronkeys``). The
    kiosk keeps them in a file of their own (mode 0600), apart from its store.
    """

    card_key: str
    pin_key: str
    key_id: str


class LoanView(BaseModel):
    item: str
    title: str
    issued_at: datetime
    due_at: datetime
    renewals: int = 0
    overdue: bool = False


class HoldView(BaseModel):
    item: str
    title: str
    ready: bool = True


class AccountView(BaseModel):
    """``GET /api/v1/patrons/account`` (with a patron session): what a patron sees
    under My account."""

    patron: PatronInfo
    loans: list[LoanView]
    holds: list[HoldView] = []
    fines_idr: int = 0


class EventView(BaseModel):
    id: int
    title: str
    description: str = ""
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    capacity: int
    registered: int = 0
    seats_left: int = 0
    waitlist: bool = False
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    attended: int = 0
    #: staff cancelled the event: kiosks stop offering it and refuse sign-ups
    cancelled: bool = False


class SnapshotPatron(BaseModel):
    card: str
    first_name: str
    status: PatronStatus
    expires_on: date | None = None
    loan_count: int = 0
    loan_limit: int = 0
    # The argon2 hash sealed for this kiosk (core.patronkeys), only when the server's
    # offline_pin_hashes is on; pin_required says whether a PIN is asked for at all.
    pin_hash: str | None = None
    pin_required: bool = False
    deleted: bool = False


class SnapshotItem(BaseModel):
    barcode: str
    title: str
    status: Literal["available", "on_loan", "lost", "not_for_loan", "in_transit"]
    on_loan_to: str | None = None  # card tag (core.patronkeys) of the borrower, never the card
    due_at: datetime | None = None
    hold_for: str | None = None  # card tag of the patron the hold is for, if any
    loan_days: int | None = None  # loan period for this item type (offline due dates)
    deleted: bool = False


class SnapshotRegistration(BaseModel):
    event_id: int
    ticket: str  # the ticket code (the signed QR payload carries it)
    card: str | None = None  # card tag (core.patronkeys) of a registration by card
    guest_name: str | None = None
    signed_in_at: datetime | None = None
    deleted: bool = False


class Snapshot(BaseModel):
    """``GET /api/v1/snapshot?since=CURSOR``: full copy or changes since ``since``."""

    cursor: str
    full: bool
    generated_at: datetime
    patrons: list[SnapshotPatron] = []
    items: list[SnapshotItem] = []
    events: list[EventView] = []
    registrations: list[SnapshotRegistration] = []
    ticket_public_key: str | None = None  # for verifying signed tickets offline
    key_id: str | None = None  # fingerprint of the card key the tags were made with


class Health(BaseModel):
    """``GET /api/v1/health`` (no auth)."""

    ok: bool = True
    version: str
    time: datetime


class ErrorBody(BaseModel):
    """Every 4xx/5xx body: a clear message and a stable code."""

    detail: str
    code: str
