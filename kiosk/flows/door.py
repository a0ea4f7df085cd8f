"""Door sign-in (Presensi) for one event: card, QR ticket, or a walk-in guest.

Staff choose the event in staff mode; the kiosk then stays on this screen.
Each sign-in is a transaction (online or offline, same path). A second scan of
the same person says when they first signed in: "Sudah hadir pukul 09.12".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.wire import EventView, Guest, Kind, Reason, Status
from kiosk.flows.base import CodeKind, Message, Services, Severity, reason_message
from kiosk.flows.events import load_events
from kiosk.flows.guest import GuestForm
from kiosk.i18n import format_clock


class DoorFlow:
    """Sign-ins for ``event``; ``count`` against ``event.capacity``."""

    def __init__(
        self,
        services: Services,
        event: EventView,
        *,
        clock: Callable[[], datetime] | None = None,
        rate_after_start: bool = False,
    ) -> None:
        self.s = services
        self.event = event
        #: Attendees scanning after the start are asked to rate the workshop.
        self.rate_after_start = rate_after_start
        self.rate_now = False
        """The last scan was an attendee's after the start: offer the workshop rating."""
        self.clock = clock or services.clock
        self.count = max(event.attended, services.store.attendance(event.id))
        self.form = GuestForm()
        self.guest_mode = False
        self.last_name: str | None = None
        self.tx_id: str | None = None
        """The transaction of the last scan or walk-in (None: it made none)."""
        self.message = Message("Pindai kartu anggota atau tiket QR Anda.")

    @classmethod
    def for_event_id(cls, services: Services, event_id: int) -> DoorFlow:
        """Sign-ins for an event known only by its id (the screenless station's ``--event``).

        The snapshot's view of the event when it has one; else a bare view, and the
        decision says whether the event exists.
        """
        for data in services.store.events():
            if data.get("id") == event_id:
                return cls(services, EventView.model_validate(data))
        epoch = datetime.fromtimestamp(0, UTC)
        bare = EventView(id=event_id, title="", starts_at=epoch, ends_at=epoch, capacity=0)
        return cls(services, bare)

    @property
    def capacity(self) -> int:
        return self.event.capacity

    def scan(self, text: str) -> Message:
        self.tx_id = None
        self.rate_now = False
        text = text.strip()
        kind = self.s.classifier.kind_of(text)
        if kind == CodeKind.TICKET:
            return self._sign_in(ticket=text)
        if kind == CodeKind.PATRON:
            return self._sign_in(card=text)
        self.message = Message("Kode tidak dikenali sebagai kartu atau tiket.", Severity.ERROR)
        return self.message

    def start_walk_in(self) -> None:
        self.form.clear()
        self.guest_mode = True
        self.message = Message("Isi data Anda dengan papan ketik di layar.")

    def cancel_walk_in(self) -> None:
        self.form.clear()
        self.guest_mode = False
        self.message = Message("Pindai kartu anggota atau tiket QR Anda.")

    def submit_walk_in(self) -> Message:
        self.tx_id = None
        problem = self.form.validate()
        if problem is not None:
            self.message = problem
            return problem
        guest = self.form.guest()
        msg = self._sign_in(guest=guest)
        if msg.severity != Severity.ERROR:
            self.form.clear()
            self.guest_mode = False
        return msg

    def _sign_in(
        self, *, card: str | None = None, ticket: str | None = None, guest: Guest | None = None
    ) -> Message:
        decision = self.s.decider.submit(
            Kind.DOOR_SIGNIN, event_id=self.event.id, card=card, ticket=ticket, guest=guest
        )
        self.tx_id = decision.tx.id
        res = decision.result
        if res.attendance_count is not None:
            self.count = max(self.count, res.attendance_count)
        if res.status == Status.REFUSED:
            if res.reason == Reason.ALREADY_SIGNED_IN and res.signed_in_at is not None:
                self._offer_rating()
                self.message = Message(
                    "Sudah hadir pukul {time}.",
                    Severity.INFO,
                    {"time": format_clock(res.signed_in_at)},
                )
            else:
                self.message = reason_message(res.reason)
            return self.message
        if res.attendance_count is None:
            self.count += 1
        self._offer_rating()
        self.message = Message(
            "Selamat datang! Presensi tercatat pukul {time}.",
            Severity.SUCCESS,
            {"time": format_clock(res.signed_in_at or decision.tx.at)},
        )
        return self.message

    def _offer_rating(self) -> None:
        self.rate_now = self.rate_after_start and self.clock() >= self.event.starts_at

    def reset(self) -> None:
        """Between visitors: forget the form and the last message, keep the count."""
        self.form.clear()
        self.tx_id = None
        self.rate_now = False
        self.guest_mode = False
        self.message = Message("Pindai kartu anggota atau tiket QR Anda.")


def door_events(services: Services, client: object = None) -> list[EventView]:
    """Events staff can open door mode for (upcoming or running today)."""
    return load_events(services, client)
