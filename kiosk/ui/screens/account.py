"""My account (Akun Saya): loans with due dates, overdue marked in words, holds, fines."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.flows.account import AccountFlow, AccountStep
from kiosk.i18n import format_rupiah
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.lines import RowText, clear_rows, fill_rows


class AccountScreen(KioskScreen):
    """Presenter for :class:`AccountFlow`."""

    step = StringProperty(AccountStep.CARD.value)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow: AccountFlow | None = None

    def _ensure_flow(self) -> AccountFlow:
        if self.flow is None:
            self.flow = AccountFlow(self.kapp.runtime.services, self.kapp.runtime.client)
        return self.flow

    def on_pre_enter(self, *_: Any) -> None:
        self._ensure_flow()
        self.render()

    def on_scan(self, text: str) -> None:
        self.call_flow(lambda f: f.scan(text), count_scan=True)

    def submit_pin(self, pin: str) -> None:
        self.call_flow(lambda f: f.enter_pin(pin))

    def renew(self, item: str) -> None:
        self.call_flow(lambda f: f.renew(item))

    def render(self) -> None:
        flow = self.flow
        ids = self.ids
        tr = self.kapp.translator
        self.step = flow.step.value if flow else AccountStep.CARD.value
        self.show(ids.message, flow.message if flow else None)
        data = flow.data if flow else None
        if data is None:
            ids.who.text = ids.summary.text = ids.fines.text = ""
            ids.loans.clear_widgets()
            clear_rows(ids.holds)
            return
        ids.who.text = f"{data.name} ({data.card_masked})"
        ids.summary.text = tr("Pinjaman: {n} · Terlambat: {late}").format(
            n=len(data.loans), late=len(data.overdue)
        )
        if data.fines_idr is None:
            ids.fines.text = tr("Denda: belum diketahui (luring)")
        else:
            ids.fines.text = tr("Denda: {amount}").format(amount=format_rupiah(data.fines_idr))
        rows = []
        for loan in data.loans:
            due = tr.day(loan.due_at) if loan.due_at else "—"
            if loan.overdue:
                rows.append(
                    RowText(
                        loan.title,
                        tr("TERLAMBAT · jatuh tempo {due}").format(due=due),
                        tr("Terlambat"),
                        "error",
                    )
                )
            else:
                detail = tr("Jatuh tempo {due}").format(due=due)
                rows.append(RowText(loan.title, detail, tr("Dipinjam"), "info"))
        self._fill_loans(data.loans, rows)
        holds = [
            RowText(
                h.title,
                tr("Siap diambil di meja layanan.") if h.ready else tr("Belum tersedia."),
                tr("Pesanan"),
                "success" if h.ready else "info",
            )
            for h in data.holds
        ]
        fill_rows(ids.holds, list(reversed(holds)))
        ids.holds_title.opacity = 1 if holds else 0

    def _fill_loans(self, loans: list, rows: list[RowText]) -> None:
        """Loan rows, soonest due first; touching one renews it (the server decides)."""
        from kiosk.ui.widgets import TappableRow

        box = self.ids.loans
        box.clear_widgets()
        action = self.kapp.translator("Perpanjang")
        for loan, r in zip(loans, rows, strict=True):
            row = TappableRow(
                title=r.title,
                detail=r.detail,
                status_word=r.word,
                severity=r.severity,
                item=loan.item,
                action=action,
            )
            row.bind(on_release=lambda w: self.renew(w.item))
            box.add_widget(row)

    def reset(self) -> None:
        self.end_flow(lambda f: f.reset())
        self.ids.pad.pin = ""
        self.render()
