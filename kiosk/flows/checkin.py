"""Self return (Pengembalian Mandiri): scan items, each confirmed with its title."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import PrinterError
from core.wire import Kind, Status
from kiosk.flows.base import CodeKind, Message, Services, Severity, reason_message


@dataclass(frozen=True, slots=True)
class ReturnLine:
    """One returned (or refused) item."""

    item: str
    title: str | None
    ok: bool
    hold_for_other: bool
    message: Message
    tx_id: str
    offline: bool


class ReturnFlow:
    """Returns need no card: each scanned item is checked in on its own."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.lines: list[ReturnLine] = []
        self.message = Message("Pindai buku yang ingin Anda kembalikan.")
        self.finished = False
        self.slip_message: Message | None = None

    def scan(self, text: str) -> Message:
        kind, text = self.s.classifier.code_of(text)
        if kind == CodeKind.PATRON:
            self.message = Message(
                "Pengembalian tidak memerlukan kartu. Pindai kode buku.", Severity.INFO
            )
            return self.message
        if kind != CodeKind.ITEM:
            self.message = Message("Kode tidak dikenali sebagai kode buku.", Severity.ERROR)
            return self.message
        if any(line.item == text and line.ok for line in self.lines):
            self.message = Message("Buku ini sudah dikembalikan di sesi ini.")
            return self.message
        decision = self.s.decider.submit(Kind.CHECKIN, item=text)
        res = decision.result
        ok = res.status != Status.REFUSED
        if not ok:
            msg = reason_message(res.reason)
        elif res.hold_for_other:
            msg = Message(
                "Dikembalikan. Buku ini dipesan anggota lain: serahkan kepada petugas.",
                Severity.WARNING,
            )
        else:
            msg = Message("Berhasil dikembalikan. Terima kasih.", Severity.SUCCESS)
        self.lines.append(
            ReturnLine(
                text, res.title, ok, res.hold_for_other, msg, decision.tx.id, decision.offline
            )
        )
        self.message = msg
        return msg

    @property
    def returned(self) -> list[ReturnLine]:
        return [line for line in self.lines if line.ok]

    def finish(self, print_slip: bool) -> Message:
        self.finished = True
        self.message = Message("Terima kasih.", Severity.SUCCESS)
        if print_slip and self.returned and self.s.slips is not None:
            try:
                self.s.slips.print_return(self.returned, any(r.offline for r in self.returned))
            except PrinterError as exc:
                self.slip_message = Message(exc.patron_message, Severity.WARNING)
                self.message = self.slip_message
        return self.message
