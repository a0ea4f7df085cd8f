"""My account (Akun Saya): loans with due dates, holds ready for pickup, fines.

Online, the server's account view is the truth. Offline, the kiosk shows
what its snapshot knows (loans only, plus its own unsent loans) and says
the list may be incomplete. A patron whose card asks for a PIN enters it
first: the account shows what they have borrowed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.errors import SyncError
from core.wire import AccountView, Kind, Reason, Status
from kiosk.flows.base import (
    CodeKind,
    Message,
    PinAttempts,
    Services,
    Severity,
    mask_card,
    pin_blocked_at_start,
    reason_message,
)

log = logging.getLogger(__name__)


class AccountStep(StrEnum):
    CARD = "card"
    PIN = "pin"
    SHOW = "show"


@dataclass(frozen=True, slots=True)
class AccountLoan:
    item: str
    title: str
    due_at: datetime | None
    overdue: bool
    renewals: int = 0


@dataclass(frozen=True, slots=True)
class AccountHold:
    item: str
    title: str
    ready: bool


@dataclass(frozen=True)
class AccountData:
    """What the account screen shows; ``fines_idr`` is None when unknown (offline)."""

    name: str
    card_masked: str
    loans: list[AccountLoan]
    holds: list[AccountHold] = field(default_factory=list)
    fines_idr: int | None = 0
    offline: bool = False

    @property
    def overdue(self) -> list[AccountLoan]:
        return [loan for loan in self.loans if loan.overdue]


class AccountFlow:
    """Card (and PIN) -> account. ``client`` is the server client, None when offline-only."""

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
        self.step = AccountStep.CARD
        self.card: str | None = None
        self.session: str | None = None  # the server's patron session
        self.data: AccountData | None = None
        self.message = Message("Pindai kartu anggota Anda.")
        self._pin = PinAttempts()

    def scan(self, text: str) -> Message:
        text = text.strip()
        kind = self.s.classifier.kind_of(text)
        if self.step != AccountStep.CARD and text == self.card:
            return self.message
        if kind != CodeKind.PATRON:
            self.message = Message("Kode tidak dikenali sebagai kartu anggota.", Severity.ERROR)
            return self.message
        self.reset()
        found = self.s.decider.lookup_patron(text)
        if found.patron is None:
            self.message = reason_message(found.reason or Reason.UNKNOWN_CARD)
            return self.message
        if found.patron.pin_required:
            blocked = pin_blocked_at_start(self.s.decider, text, found.offline)
            if blocked is not None:
                self.message = blocked
                return blocked
        self.card = text
        self.session = found.session
        if found.patron.pin_required:
            self.step = AccountStep.PIN
            self.message = Message("Masukkan PIN Anda.")
            return self.message
        return self._load()

    def enter_pin(self, pin: str) -> Message:
        if self.step != AccountStep.PIN or self.card is None:
            return self.message
        accepted, over, msg = self._pin.check(self.s.decider, self.card, pin)
        if accepted:
            self.session = self._pin.session
            return self._load()
        if over:
            self.reset()
        assert msg is not None
        self.message = msg
        return msg

    # -- loading -------------------------------------------------------------
    def _load(self) -> Message:
        assert self.card is not None
        view = self._online_view()
        self.data = self._from_view(view) if view is not None else self._from_snapshot(self.card)
        self.step = AccountStep.SHOW
        if self.data.offline:
            self.message = Message(
                "Luring (offline): data dari salinan lokal, mungkin belum lengkap.",
                Severity.WARNING,
            )
        elif self.data.overdue:
            self.message = Message(
                "Ada {n} pinjaman yang terlambat.", Severity.WARNING, {"n": len(self.data.overdue)}
            )
        elif not self.data.loans:
            self.message = Message(
                "Halo, {name}. Anda tidak sedang meminjam buku.",
                Severity.INFO,
                {"name": self.data.name},
            )
        else:
            self.message = Message("Halo, {name}.", Severity.INFO, {"name": self.data.name})
        return self.message

    def _online_view(self) -> AccountView | None:
        # Only the server's patron session (from the card or the PIN) opens the account.
        if self.client is None or not self.s.decider.online or self.session is None:
            return None
        try:
            return self.client.account(self.session, timeout=self.s.decider.deadline_s)
        except SyncError as exc:
            log.warning("account view unavailable, showing the snapshot: %s", exc)
            return None

    def _from_view(self, view: AccountView) -> AccountData:
        loans = [
            AccountLoan(v.item, v.title, v.due_at, v.overdue, v.renewals)
            for v in sorted(view.loans, key=lambda v: v.due_at)
        ]
        holds = [AccountHold(h.item, h.title, h.ready) for h in view.holds]
        return AccountData(
            view.patron.first_name, mask_card(view.patron.card), loans, holds, view.fines_idr
        )

    def _from_snapshot(self, card: str) -> AccountData:
        now = self.clock()
        snap = self.s.store.patron(card)
        loans = [
            AccountLoan(i.barcode, i.title, i.due_at, bool(i.due_at and i.due_at < now))
            for i in self.s.store.loans_of(card)
        ]
        loans.sort(key=lambda loan: loan.due_at or now)
        name = snap.first_name if snap else card
        return AccountData(name, mask_card(card), loans, [], None, offline=True)

    # -- actions -------------------------------------------------------------
    def renew(self, item: str) -> Message:
        """Renew one loan from the account list; the list is reloaded after."""
        if self.step != AccountStep.SHOW or self.card is None:
            return self.message
        decision = self.s.decider.submit(
            Kind.RENEW, card=self.card, item=item, patron_session=self.session
        )
        res = decision.result
        if res.status == Status.REFUSED:
            msg = reason_message(res.reason)
        else:
            msg = Message(
                "Berhasil diperpanjang. Jatuh tempo {due}.", Severity.SUCCESS, {"due": res.due_at}
            )
        self._load()
        self.message = msg
        return msg

    def reset(self) -> None:
        """Forget the patron (session end, next card)."""
        self.step = AccountStep.CARD
        self.card = None
        self.session = None
        self.data = None
        self._pin = PinAttempts()
        self.message = Message("Pindai kartu anggota Anda.")
