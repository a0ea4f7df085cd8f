"""Door sign-in (Presensi) for the event staff chose; stays until staff leave door mode."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from core.wire import FeedbackService
from kiosk.flows.base import CodeKind
from kiosk.flows.door import DoorFlow
from kiosk.flows.guest import FIELDS
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.events import FIELD_LABELS, event_when

CLEAR_AFTER_S = 6  # the last visitor's message leaves the screen before the next one


class DoorScreen(KioskScreen):
    """Presenter for :class:`DoorFlow`. No idle timeout: the door kiosk waits all day."""

    session = False
    walk_in = BooleanProperty(False)
    count_text = StringProperty("")

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow: DoorFlow | None = None
        self._clear_ev = None

    def open_event(self, event: Any) -> None:
        services = self.kapp.runtime.services
        rate = self.kapp.settings.feedback.workshop_rating

        def opened(flow: DoorFlow) -> None:
            self.flow = flow
            self.render()

        # Made on the flow thread: it reads the attendance count from the store.
        self.kapp.bridge.run(lambda: DoorFlow(services, event, rate_after_start=rate), opened)

    def on_pre_enter(self, *_: Any) -> None:
        self.render()

    def _clear_later(self) -> None:
        if self._clear_ev is not None:
            self._clear_ev.cancel()
        self._clear_ev = Clock.schedule_once(lambda _dt: self._clear(), CLEAR_AFTER_S)

    def _clear(self) -> None:
        self.call_flow(lambda f: None if f.guest_mode else f.reset())

    def on_scan(self, text: str) -> None:
        if self.kapp.runtime.services.classifier.kind_of(text) == CodeKind.STAFF:
            self.kapp.go("staff")
            self.kapp.screen("staff").start_with_card(text)
            return
        self.call_flow(lambda f: f.scan(text), count_scan=True, after=self._after_scan)

    def _after_scan(self) -> None:
        self._clear_later()
        flow = self.flow
        if flow is not None and flow.rate_now:
            # An attendee after the start: the workshop rating, after a moment to read.
            ev = flow.event
            Clock.schedule_once(lambda _dt: self._rate(ev.id, ev.title), 1.5)

    def _rate(self, event_id: int, title: str) -> None:
        if self.kapp.sm.current == "door":
            self.kapp.screen("survey").ask(
                FeedbackService.EVENT, back="door", event_id=event_id, event_title=title
            )

    def start_walk_in(self) -> None:
        self.call_flow(lambda f: f.start_walk_in())

    def cancel_walk_in(self) -> None:
        self.call_flow(lambda f: f.cancel_walk_in())

    def focus(self, field: str) -> None:
        self.call_flow(lambda f: f.form.focus(field))

    def key(self, key: str) -> None:
        self.call_flow(lambda f: f.form.press(key))

    def submit_walk_in(self) -> None:
        self.call_flow(lambda f: f.submit_walk_in(), after=self._clear_later)

    def render(self) -> None:
        flow = self.flow
        ids = self.ids
        tr = self.kapp.translator
        if flow is None:
            self.walk_in = False
            ids.title.text = tr("Mode presensi belum dipilih. Silakan hubungi petugas.")
            self.count_text = ""
            self.show(ids.message, None)
            return
        ev = flow.event
        self.walk_in = flow.guest_mode
        ids.title.text = ev.title
        ids.when.text = event_when(tr, ev) + (f" · {ev.place}" if ev.place else "")
        self.count_text = tr("Hadir: {n} dari {cap}").format(n=flow.count, cap=flow.capacity)
        self.show(ids.message, flow.message)
        for name in FIELDS:
            f = ids[f"f_{name}"]
            f.label = tr(FIELD_LABELS[name])
            f.value = flow.form.values[name]
            f.active = flow.form.active == name

    def reset(self) -> None:
        # Door mode survives the end of a patron session; only the form is cleared.
        if self.flow is not None:
            self.call_flow(lambda f: f.reset())
        else:
            self.render()

    def close(self) -> None:
        """Staff leave door mode."""
        self.flow = None
        self.render()
