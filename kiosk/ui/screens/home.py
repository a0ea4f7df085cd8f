"""Home / attract: the four services, language switch, scan a card to borrow."""

from __future__ import annotations

from kivy.clock import Clock

from kiosk.flows.base import CodeKind, Message, Severity
from kiosk.ui.screens.base import KioskScreen


class HomeScreen(KioskScreen):
    """Tiles for Pinjam, Kembalikan, Acara, Akun Saya. A card scanned here starts a borrow."""

    session = False
    STAFF_HOLD_S = 3.0

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.message: Message | None = None
        self._hold_ev = None

    def on_scan(self, text: str) -> None:
        kind = self.kapp.runtime.services.classifier.kind_of(text)
        if kind == CodeKind.PATRON:
            self.kapp.go("borrow")
            self.kapp.screen("borrow").start_with_card(text)
        elif kind == CodeKind.STAFF:
            self.kapp.go("staff")
            self.kapp.screen("staff").start_with_card(text)
        elif kind == CodeKind.ITEM:
            # A patron returning books without pressing the tile: start the return.
            self.kapp.go("return")
            self.kapp.screen("return").on_scan(text)
        elif kind == CodeKind.TICKET:
            self.set_message(
                Message("Tiket acara dipindai di layar presensi pintu masuk.", Severity.INFO)
            )
        else:
            self.set_message(Message("Kode tidak dikenali.", Severity.ERROR))
            self.kapp.sounds.play("error")

    def open(self, name: str) -> None:
        self.set_message(None)
        self.kapp.go(name)

    def set_message(self, message: Message | None) -> None:
        self.message = message
        self.render()

    def timed_out(self) -> None:
        self.set_message(Message("Sesi berakhir karena tidak ada aktivitas.", Severity.INFO))
        Clock.schedule_once(lambda _dt: self.set_message(None), 8)

    def render(self) -> None:
        self.show(self.ids.message, self.message)

    def reset(self) -> None:
        self.message = None
        self.render()

    # Hidden staff entry: hold the bottom corner for three seconds, then a PIN.
    def staff_hold_start(self) -> None:
        self.staff_hold_cancel()
        self._hold_ev = Clock.schedule_once(lambda _dt: self.open("staff"), self.STAFF_HOLD_S)

    def staff_hold_cancel(self) -> None:
        if self._hold_ev is not None:
            self._hold_ev.cancel()
            self._hold_ev = None
