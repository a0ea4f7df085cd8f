"""What staff do to registrations at the console, as transactions of the console.

Registrations and attendance are rebuilt from the transaction log in event-time
order whenever a late offline transaction arrives, so a change made by hand must be
in that log too, or the next replay would undo it. Each action here is one
transaction from the pseudo-kiosk ``konsol/NAME`` (who did it), applied online by
the server's own rules: capacity, waitlist, registration window.
"""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from typing import Any

from core.ids import uuid7
from core.tickets import UNSIGNED_PREFIX
from core.wire import Kind, Reason, TransactionIn, TransactionResult
from server.console.auth import StaffMember
from server.console.i18n import N_
from server.service import Server
from server.timeutil import as_utc, utcnow

#: the console's words for why the server said no
REASONS = {
    Reason.REGISTRATION_CLOSED: N_(
        "Pendaftaran acara ini sedang ditutup atau acaranya dibatalkan."
    ),
    Reason.EVENT_FULL: N_("Acara sudah penuh dan tidak memakai daftar tunggu."),
    Reason.EVENT_OVER: N_("Acara sudah selesai."),
    Reason.UNKNOWN_CARD: N_("Nomor kartu itu tidak dikenal."),
    Reason.ALREADY_REGISTERED: N_("Orang ini sudah terdaftar."),
    Reason.ALREADY_SIGNED_IN: N_("Orang ini sudah tercatat hadir."),
    Reason.NOT_REGISTERED: N_("Pendaftaran itu tidak ada (mungkin sudah dibatalkan)."),
    Reason.UNKNOWN_TICKET: N_("Pendaftaran itu tidak ada untuk acara ini."),
}
_seq = itertools.count()


def console_kiosk(member: StaffMember) -> str:
    """The pseudo-kiosk name a staff member's console transactions carry."""
    return f"konsol/{member.name}"[:100]


def ticket_for(event_id: int, code: str) -> str:
    """The unsigned ticket text naming a registration the server holds."""
    return f"{UNSIGNED_PREFIX}.{event_id}.{code}"


def apply(server: Server, member: StaffMember, kind: Kind, **fields: Any) -> TransactionResult:
    """Apply one console transaction now and return the server's result."""
    txn = TransactionIn(
        id=uuid7(),
        kiosk=console_kiosk(member),
        # increasing per process and across restarts: microseconds plus a counter
        seq=time.time_ns() // 1000 + next(_seq),
        kind=kind,
        at=fields.pop("at", None) or utcnow(),
        **fields,
    )
    return server.apply([txn])[0]


def attend_time(event: Any) -> Any:
    """When a sign-in marked by hand counts: now, or the event's last minute when staff
    mark it afterwards (for the certificates list), so the event's rules still hold."""
    now = utcnow()
    end = as_utc(event.ends_at)
    return now if now < end else end - timedelta(seconds=1)
