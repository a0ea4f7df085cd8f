"""Self checkout (Peminjaman Mandiri): card, optional PIN, items, slip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.errors import PrinterError
from core.wire import Kind, PatronInfo, Reason, Status
from kiosk.flows.base import (
    CodeKind,
    Message,
    PinAttempts,
    Services,
    Severity,
    pin_blocked_at_start,
    reason_message,
)


class CheckoutStep(StrEnum):
    CARD = "card"  # waiting for a patron card
    PIN = "pin"  # PIN pad
    ITEMS = "items"  # scanning items
    SLIP = "slip"  # slip / no slip choice
    DONE = "done"  # thank-you


@dataclass(frozen=True, slots=True)
class LoanLine:
    """One scanned item in a session, as the screen and the slip show it."""

    item: str
    title: str | None
    ok: bool
    due_at: datetime | None
    message: Message
    tx_id: str
    offline: bool
    renewal: bool = False


class CheckoutFlow:
    """The borrow session's state machine. Not thread-safe: drive it from one thread."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.step = CheckoutStep.CARD
        self.patron: PatronInfo | None = None
        self.patron_offline = False
        self.lines: list[LoanLine] = []
        self.message = Message("Pindai kartu anggota Anda.")
        self.offer_renewal: str | None = None  # item barcode a re-scan offered to renew
        self.slip_message: Message | None = None
        self._pin = PinAttempts()
        self.patron_session: str | None = None  # the server's, for renewals

    # -- card and PIN --------------------------------------------------------
    def scan(self, text: str) -> Message:
        """Any scan during the session: a card at the start, items after."""
        kind, text = self.s.classifier.code_of(text)
        if self.step == CheckoutStep.CARD:
            if kind == CodeKind.ITEM:
                self.message = Message(
                    "Ini kode buku. Pindai kartu anggota Anda terlebih dahulu.", Severity.ERROR
                )
            elif kind != CodeKind.PATRON:
                self.message = Message("Kode tidak dikenali sebagai kartu anggota.", Severity.ERROR)
            else:
                self._start(text)
            return self.message
        if self.step == CheckoutStep.ITEMS:
            if kind == CodeKind.PATRON:
                if self.patron and text == self.patron.card:
                    self.message = Message("Kartu Anda sudah dipindai. Silakan pindai buku.")
                else:
                    self.message = Message(
                        "Ini kartu anggota lain. Tekan Selesai dulu untuk mengakhiri sesi ini.",
                        Severity.ERROR,
                    )
                return self.message
            if kind != CodeKind.ITEM:
                self.message = Message("Kode tidak dikenali sebagai kode buku.", Severity.ERROR)
                return self.message
            return self._borrow(text)
        self.message = Message("Silakan ikuti petunjuk di layar.", Severity.INFO)
        return self.message

    def _start(self, card: str) -> None:
        found = self.s.decider.lookup_patron(card)
        self.patron_offline = found.offline
        if found.patron is None:
            self.message = reason_message(found.reason or Reason.UNKNOWN_CARD)
            return
        if not found.patron.can_borrow:
            self.message = reason_message(found.patron.reason)
            return
        if found.patron.pin_required:
            blocked = pin_blocked_at_start(self.s.decider, card, found.offline)
            if blocked is not None:
                self.message = blocked
                return
        self.patron = found.patron
        self.patron_session = found.session
        if found.patron.pin_required:
            self.step = CheckoutStep.PIN
            self.message = Message("Masukkan PIN Anda.")
        else:
            self._welcome()

    def _welcome(self) -> None:
        assert self.patron is not None
        self.step = CheckoutStep.ITEMS
        self.message = Message(
            "Selamat datang, {name}. Pindai buku yang ingin Anda pinjam.",
            Severity.SUCCESS,
            {"name": self.patron.first_name},
        )

    def enter_pin(self, pin: str) -> Message:
        if self.step != CheckoutStep.PIN or self.patron is None:
            return self.message
        accepted, over, msg = self._pin.check(self.s.decider, self.patron.card, pin)
        if accepted:
            self.patron_session = self._pin.session
            self._welcome()
            return self.message
        if over:
            self.cancel()
        assert msg is not None
        self.message = msg
        return msg

    # -- items ---------------------------------------------------------------
    def _session_offline_loans(self) -> int:
        return sum(1 for line in self.lines if line.ok and line.offline and not line.renewal)

    def _borrow(self, barcode: str) -> Message:
        assert self.patron is not None
        self.offer_renewal = None
        if any(line.item == barcode and line.ok for line in self.lines):
            self.message = Message("Buku ini sudah tercatat di sesi ini.", Severity.INFO)
            return self.message
        decision = self.s.decider.submit(
            Kind.CHECKOUT,
            card=self.patron.card,
            item=barcode,
            session_items=self._session_offline_loans(),
        )
        res = decision.result
        if res.status == Status.REFUSED:
            msg = reason_message(res.reason)
            if res.reason == Reason.ITEM_ALREADY_ON_LOAN_TO_PATRON:
                self.offer_renewal = barcode
                msg = Message("Buku ini sudah Anda pinjam. Ingin memperpanjang?", Severity.INFO)
        else:
            msg = Message(
                "Berhasil dipinjam. Jatuh tempo {due}.", Severity.SUCCESS, {"due": res.due_at}
            )
        self.lines.append(
            LoanLine(
                item=barcode,
                title=res.title,
                ok=res.status != Status.REFUSED,
                due_at=res.due_at,
                message=msg,
                tx_id=decision.tx.id,
                offline=decision.offline,
            )
        )
        self.message = msg
        return msg

    def renew(self, barcode: str | None = None) -> Message:
        """Renew an item already on loan to this patron (offered after a re-scan)."""
        barcode = barcode or self.offer_renewal
        if self.patron is None or barcode is None:
            return self.message
        self.offer_renewal = None
        decision = self.s.decider.submit(
            Kind.RENEW, card=self.patron.card, item=barcode, patron_session=self.patron_session
        )
        res = decision.result
        if res.status == Status.REFUSED:
            msg = reason_message(res.reason)
        else:
            msg = Message(
                "Berhasil diperpanjang. Jatuh tempo {due}.", Severity.SUCCESS, {"due": res.due_at}
            )
        self.lines.append(
            LoanLine(
                barcode,
                res.title,
                res.status != Status.REFUSED,
                res.due_at,
                msg,
                decision.tx.id,
                decision.offline,
                renewal=True,
            )
        )
        self.message = msg
        return msg

    # -- ending --------------------------------------------------------------
    @property
    def borrowed(self) -> list[LoanLine]:
        return [line for line in self.lines if line.ok]

    def finish(self) -> None:
        """Done: ask slip or no slip when something was borrowed, else end."""
        if self.step != CheckoutStep.ITEMS:
            self.cancel()
            return
        self.step = CheckoutStep.SLIP if self.borrowed else CheckoutStep.DONE
        self.message = Message("Cetak struk?") if self.borrowed else Message("Terima kasih.")

    def choose_slip(self, print_slip: bool) -> Message:
        """Print (or not). The loans stand whatever the printer does."""
        self.step = CheckoutStep.DONE
        self.message = Message("Terima kasih. Selamat membaca!", Severity.SUCCESS)
        if print_slip and self.s.slips is not None and self.patron is not None:
            offline = any(line.offline for line in self.borrowed)
            try:
                self.s.slips.print_checkout(self.patron, self.borrowed, offline)
            except PrinterError as exc:
                self.slip_message = Message(exc.patron_message, Severity.WARNING)
                self.message = self.slip_message
        return self.message

    def cancel(self) -> None:
        """End the session now (timeout, cancel, next card). Committed loans stay."""
        self.step = CheckoutStep.DONE
        self.patron_session = None

    @property
    def active(self) -> bool:
        return self.step != CheckoutStep.DONE
