"""Return (Pengembalian Mandiri): scan items, each confirmed with its title."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty

from core.wire import FeedbackService
from kiosk.flows.checkin import ReturnFlow
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.lines import clear_rows, fill_rows, return_row

THANKS_S = 8
SURVEY_AFTER_S = 3  # the thank-you shows this long before the five faces


class ReturnScreen(KioskScreen):
    """Presenter for :class:`ReturnFlow`."""

    finished = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow: ReturnFlow | None = None
        self._home_ev = None

    def _ensure_flow(self) -> ReturnFlow:
        if self.flow is None:
            self.flow = ReturnFlow(self.kapp.runtime.services)
        return self.flow

    def on_pre_enter(self, *_: Any) -> None:
        self._ensure_flow()
        self.render()

    def on_scan(self, text: str) -> None:
        if self._ensure_flow().finished:
            return
        self.call_flow(lambda f: f.scan(text), count_scan=True)

    def finish(self, print_slip: bool) -> None:
        flow = self._ensure_flow()
        if not flow.returned:
            self.kapp.go_home()
            return
        self.call_flow(lambda f: f.finish(print_slip))

    def cancel(self) -> None:
        self.kapp.go_home()

    def render(self) -> None:
        flow = self.flow
        tr = self.kapp.translator
        self.finished = bool(flow and flow.finished)
        ids = self.ids
        if flow is None:
            self.show(ids.message, None)
            clear_rows(ids.lines)
            return
        if flow.finished:
            t = ids.thanks
            t.title = tr("Terima kasih.")
            text = tr("Anda mengembalikan {n} buku.").format(n=len(flow.returned))
            if any(line.hold_for_other for line in flow.returned):
                text += "\n" + tr("Serahkan buku yang ditandai kepada petugas.")
            if flow.slip_message is not None:
                text += "\n" + tr.render(flow.slip_message)
            t.text = text
            t.home_text = tr("Kembali ke Beranda")
            slips = self.kapp.runtime.services.slips
            path = getattr(slips, "last_preview", None) if self.kapp.demo else None
            t.preview = str(path) if path else ""
            if self._home_ev is None:
                asked = self.kapp.feedback_prompt.session_ended()
                self._home_ev = Clock.schedule_once(
                    lambda _dt: self.kapp.after_session(FeedbackService.CHECKIN, asked),
                    SURVEY_AFTER_S if asked else THANKS_S,
                )
            return
        self.show(ids.message, flow.message)
        ids.count.text = tr("Buku dikembalikan: {n}").format(n=len(flow.returned))
        fill_rows(ids.lines, [return_row(line, tr) for line in flow.lines])

    def reset(self) -> None:
        if self._home_ev is not None:
            self._home_ev.cancel()
            self._home_ev = None
        self.flow = None
        self.finished = False
        ids = self.ids
        clear_rows(ids.lines)
        self.show(ids.message, None)
        ids.count.text = ""
        ids.thanks.title = ids.thanks.text = ids.thanks.preview = ""
