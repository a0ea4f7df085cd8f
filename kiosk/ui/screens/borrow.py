"""Borrow (Peminjaman Mandiri): card, PIN when asked, items, slip, thanks."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import StringProperty

from core.wire import FeedbackService
from kiosk.flows.base import mask_card
from kiosk.flows.checkout import CheckoutFlow, CheckoutStep
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.lines import clear_rows, fill_rows, loan_row

THANKS_S = 10  # the thank-you panel returns to Home by itself
SURVEY_AFTER_S = 3  # the thank-you shows this long before the five faces


class BorrowScreen(KioskScreen):
    """Presenter for :class:`CheckoutFlow`. Each step has its own panel in borrow.kv."""

    step = StringProperty(CheckoutStep.CARD.value)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow: CheckoutFlow | None = None
        self._panels: dict[str, Any] = {}
        self._home_ev = None

    # -- flow calls (network: on the flow thread) ----------------------------
    def _ensure_flow(self) -> CheckoutFlow:
        if self.flow is None:
            self.flow = CheckoutFlow(self.kapp.runtime.services)
        return self.flow

    def on_pre_enter(self, *_: Any) -> None:
        self._ensure_flow()
        self.render()

    def start_with_card(self, card: str) -> None:
        self.reset()
        self._ensure_flow()
        self.render()  # the card panel shows under "Memproses…" while the card is looked up
        self.on_scan(card)

    def on_scan(self, text: str) -> None:
        flow = self._ensure_flow()
        if flow.step == CheckoutStep.DONE:
            return
        self.call_flow(lambda f: f.scan(text), count_scan=True)

    def submit_pin(self, pin: str) -> None:
        self.call_flow(lambda f: f.enter_pin(pin))

    def renew(self) -> None:
        self.call_flow(lambda f: f.renew())

    def finish(self) -> None:
        flow = self._ensure_flow()

        def finished(_: Any) -> None:
            if flow is not self.flow:
                return
            if flow.step == CheckoutStep.DONE and not flow.borrowed:
                self.kapp.go_home()
                return
            self.render()

        self.kapp.bridge.run(flow.finish, finished)

    def choose_slip(self, print_slip: bool) -> None:
        self.call_flow(lambda f: f.choose_slip(print_slip))

    def cancel(self) -> None:
        self.kapp.go_home()

    # -- rendering -----------------------------------------------------------
    def _panel(self, step: str) -> Any:
        if step not in self._panels:
            cls = {
                "card": "BorrowCardPanel",
                "pin": "BorrowPinPanel",
                "items": "BorrowItemsPanel",
                "slip": "BorrowSlipPanel",
                "done": "ThanksPanel",
            }[step]
            panel = getattr(Factory, cls)()
            panel.screen = self
            self._panels[step] = panel
        return self._panels[step]

    def render(self) -> None:
        flow = self.flow
        step = flow.step.value if flow else CheckoutStep.CARD.value
        # A refused card leaves the flow at CARD; a finished session shows thanks.
        panel = self._panel(step)
        body = self.ids.body
        if panel.parent is not body:
            body.clear_widgets()
            body.add_widget(panel)
        self.step = step
        tr = self.kapp.translator
        message = flow.message if flow else None
        if step in ("card", "pin", "items") and "message" in panel.ids:
            # The card and PIN panels say their instruction in the heading; the bar
            # is for what went wrong (a refused card, a wrong PIN).
            quiet = step != "items" and message is not None and message.severity == "info"
            self.show(panel.ids.message, None if quiet else message)
        if step == "items" and flow is not None:
            patron = flow.patron
            panel.ids.patron.text = (
                tr("Anggota: {name} ({card})").format(
                    name=patron.first_name, card=mask_card(patron.card)
                )
                if patron
                else ""
            )
            panel.ids.count.text = tr("Buku dipinjam: {n}").format(n=len(flow.borrowed))
            fill_rows(panel.ids.lines, [loan_row(line, tr) for line in flow.lines])
            panel.ids.renew.opacity = 1 if flow.offer_renewal else 0
            panel.ids.renew.disabled = not flow.offer_renewal
        if step == "done" and flow is not None:
            self._render_done(panel, flow)

    def _render_done(self, panel: Any, flow: CheckoutFlow) -> None:
        tr = self.kapp.translator
        panel.title = tr("Terima kasih. Selamat membaca!")
        n = len(flow.borrowed)
        text = tr("Anda meminjam {n} buku.").format(n=n)
        dues = [line.due_at for line in flow.borrowed if line.due_at]
        if dues:
            text += " " + tr("Jatuh tempo paling awal: {due}.").format(due=tr.day(min(dues)))
        if flow.slip_message is not None:
            text += "\n" + tr.render(flow.slip_message)
        panel.text = text
        panel.home_text = tr("Kembali ke Beranda")
        panel.preview = self._slip_preview()
        if self._home_ev is None:
            asked = self.kapp.feedback_prompt.session_ended()
            self._home_ev = Clock.schedule_once(
                lambda _dt: self.kapp.after_session(FeedbackService.CHECKOUT, asked),
                SURVEY_AFTER_S if asked else THANKS_S,
            )

    def _slip_preview(self) -> str:
        if not self.kapp.demo:
            return ""
        slips = self.kapp.runtime.services.slips
        path = getattr(slips, "last_preview", None)
        return str(path) if path else ""

    def reset(self) -> None:
        if self._home_ev is not None:
            self._home_ev.cancel()
            self._home_ev = None
        self.end_flow(lambda f: f.cancel() if f.active else None)
        for panel in self._panels.values():
            if "lines" in panel.ids:
                clear_rows(panel.ids.lines)
            if "patron" in panel.ids:
                panel.ids.patron.text = ""
            if "pad" in panel.ids:
                panel.ids.pad.pin = ""
            if "message" in panel.ids:
                self.show(panel.ids.message, None)
        done = self._panels.get("done")
        if done is not None:
            done.title = done.text = done.preview = ""
        if self.ids:
            self.ids.body.clear_widgets()
