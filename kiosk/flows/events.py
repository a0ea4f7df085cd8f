"""Workshops & events (Acara): list upcoming events, sign up with a card or as a guest.

A sign-up is a transaction like a loan: decided online when the server
answers, else by the offline policy, and always committed before the patron
is told. When the event is full and has a waitlist, the sign-up lands on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.errors import PrinterError, SyncError
from core.wire import EventView, Guest, Kind, Status, TransactionResult
from kiosk.flows.base import CodeKind, Message, Services, Severity, reason_message
from kiosk.flows.guest import GuestForm

log = logging.getLogger(__name__)


class EventsStep(StrEnum):
    LIST = "list"  # upcoming events
    DETAIL = "detail"  # one event: scan a card or choose "guest"
    GUEST = "guest"  # on-screen form
    DONE = "done"  # signed up (or waitlisted): slip offer


def load_events(services: Services, client: Any = None, now: datetime | None = None) -> list:
    """Upcoming events, soonest first: the server's list, or the snapshot's offline.

    An event staff cancelled (``cancelled``) is not offered, online or offline."""
    events: list[EventView] | None = None
    if client is not None and services.decider.online:
        try:
            events = client.events(timeout=services.decider.deadline_s)
        except SyncError as exc:
            log.warning("events list unavailable, using the snapshot: %s", exc)
    if events is None:
        events = [EventView.model_validate(e) for e in services.store.events()]
    now = now or datetime.now(UTC)
    return sorted(
        (e for e in events if e.ends_at > now and not e.cancelled), key=lambda e: e.starts_at
    )


class EventsFlow:
    """List -> event -> card or guest form -> registered (ticket) or waitlisted."""

    def __init__(
        self,
        services: Services,
        client: Any = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.s = services
        self.client = client
        self.clock = clock or services.clock
        self.reset()

    def reset(self) -> None:
        """Back to the list; forget the card, the guest and the result."""
        self.step = EventsStep.LIST
        self.events: list[EventView] = []
        self.event: EventView | None = None
        self.form = GuestForm()
        self.result: TransactionResult | None = None
        self.tx_id: str | None = None
        self.offline = False
        self.card: str | None = None
        self.guest: Guest | None = None
        self.message = Message("Pilih acara yang ingin Anda ikuti.")
        self.slip_message: Message | None = None

    def load(self) -> list[EventView]:
        self.events = load_events(self.s, self.client, self.clock())
        if not self.events:
            self.message = Message("Belum ada acara mendatang.")
        return self.events

    def select(self, event_id: int) -> Message:
        found = [e for e in self.events if e.id == event_id]
        if not found:
            self.message = reason_message(None)
            return self.message
        self.event = found[0]
        self.step = EventsStep.DETAIL
        if self.event.seats_left <= 0 and self.event.waitlist:
            self.message = Message(
                "Kuota penuh. Anda dapat mendaftar di daftar tunggu.", Severity.WARNING
            )
        elif self.event.seats_left <= 0:
            self.message = Message("Maaf, kuota acara sudah penuh.", Severity.ERROR)
        else:
            self.message = Message("Pindai kartu anggota, atau daftar sebagai tamu.")
        return self.message

    def back(self) -> None:
        self.step = EventsStep.LIST if self.step != EventsStep.GUEST else EventsStep.DETAIL
        if self.step == EventsStep.LIST:
            self.event = None
        self.form.clear()
        self.message = Message("Pilih acara yang ingin Anda ikuti.")

    def start_guest(self) -> None:
        if self.event is not None:
            self.form.clear()
            self.step = EventsStep.GUEST
            self.message = Message("Isi data Anda dengan papan ketik di layar.")

    # -- signing up ----------------------------------------------------------
    def scan(self, text: str) -> Message:
        text = text.strip()
        if self.step not in (EventsStep.DETAIL, EventsStep.GUEST) or self.event is None:
            self.message = Message("Pilih acara terlebih dahulu.", Severity.INFO)
            return self.message
        if self.s.classifier.kind_of(text) != CodeKind.PATRON:
            self.message = Message("Kode tidak dikenali sebagai kartu anggota.", Severity.ERROR)
            return self.message
        self.card = text
        return self._register(card=text)

    def submit_guest(self) -> Message:
        problem = self.form.validate()
        if problem is not None:
            self.message = problem
            return problem
        self.guest = self.form.guest()
        return self._register(guest=self.guest)

    def _register(self, **who: Any) -> Message:
        assert self.event is not None
        decision = self.s.decider.submit(Kind.EVENT_REGISTER, event_id=self.event.id, **who)
        res = decision.result
        self.offline = decision.offline
        if res.status == Status.REFUSED:
            self.message = reason_message(res.reason)
            return self.message
        self.result, self.tx_id = res, decision.tx.id
        self.step = EventsStep.DONE
        self.form.clear()  # the guest's phone number stays on screen no longer than needed
        if res.waitlisted:
            self.message = Message(
                "Anda masuk daftar tunggu {title}. Kami akan menghubungi Anda.",
                Severity.WARNING,
                {"title": self.event.title},
            )
        else:
            self.message = Message(
                "Terdaftar di {title}. Tunjukkan struk bertiket QR di pintu masuk.",
                Severity.SUCCESS,
                {"title": self.event.title},
            )
        return self.message

    @property
    def ticket(self) -> str | None:
        """What the QR on the slip carries: the server's signed ticket, or offline the
        kiosk's unsigned one (core/tickets.py); the transaction id only as a last resort."""
        if self.result is None:
            return None
        return self.result.ticket or self.tx_id

    def print_slip(self) -> Message:
        """The slip with the QR ticket; the registration stands whatever the printer does."""
        slips = self.s.slips
        printer = getattr(slips, "print_event", None)
        if printer is None or self.event is None or self.result is None:
            return self.message
        try:
            printer(
                event_title=self.event.title,
                starts_at=self.event.starts_at,
                ticket=self.ticket or "",
                txn_id=self.tx_id or "",
                location=self.event.place,
                attendee=self.guest.name if self.guest else "",
                card_number=self.card or "",
                offline=self.offline,
            )
        except PrinterError as exc:
            self.slip_message = Message(exc.patron_message, Severity.WARNING)
            return self.slip_message
        return Message("Struk sudah dicetak.", Severity.SUCCESS)
