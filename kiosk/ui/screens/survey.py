"""The five-face question after a session, and the workshop rating at the door.

Shown by :meth:`SurveyScreen.ask`; the screen goes back where it came from (Home,
the guest book or the door) when the patron rates, skips or walks away: it has
its own idle timer (the guest book and the door stay open all day, so the app's
session timeout, which returns to Home, does not apply).
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty

from core.wire import FeedbackService
from kiosk.flows.feedback import FACES, SurveyFlow, SurveyStep
from kiosk.ui.screens.base import KioskScreen

FACE_ICONS = ("☹", "☹", "•", "☺", "☻")
DONE_S = 2.5  # the thank-you stays this long before the screen goes back


class SurveyScreen(KioskScreen):
    """Presenter for :class:`SurveyFlow`; ``back`` names the screen to return to."""

    session = False
    chips_shown = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow: SurveyFlow | None = None
        self.back = "home"
        self._idle_ev: Any = None

    def ask(
        self,
        service: FeedbackService,
        back: str = "home",
        *,
        event_id: int | None = None,
        event_title: str = "",
    ) -> None:
        """Start a rating of ``service`` and show it."""
        self.back = back
        self.flow = SurveyFlow(
            self.kapp.runtime.services,
            self.kapp.settings.feedback.chips,
            service=service,
            event_id=event_id,
            event_title=event_title,
        )
        self._arm(self.kapp.settings.ui.idle_timeout_s)
        self.kapp.go("survey")
        self.render()

    def _arm(self, seconds: float) -> None:
        if self._idle_ev is not None:
            self._idle_ev.cancel()
        self._idle_ev = Clock.schedule_once(lambda _dt: self.leave(), seconds)

    def rate(self, score: int) -> None:
        self._arm(self.kapp.settings.ui.idle_timeout_s)
        self.call_flow(lambda f: f.rate(score), after=self._after)

    def toggle(self, chip: str) -> None:
        self._arm(self.kapp.settings.ui.idle_timeout_s)
        self.call_flow(lambda f: f.toggle(chip))

    def send(self) -> None:
        self.call_flow(lambda f: f.send(), after=self._after)

    def skip(self) -> None:
        self.call_flow(lambda f: f.skip(), after=self._after)

    def _after(self) -> None:
        if self.flow is not None and self.flow.step == SurveyStep.DONE:
            self._arm(DONE_S)

    def leave(self) -> None:
        """Back where the patron came from; the rating (if any) is already committed."""
        back = self.back
        self.reset()
        if self.kapp.sm.current != "survey":
            return
        if back == "home":
            self.kapp.go_home()
        else:
            self.kapp.go(back)

    def render(self) -> None:
        from kiosk.ui.widgets import KButton

        flow = self.flow
        ids = self.ids
        tr = self.kapp.translator
        if flow is None:
            self.chips_shown = False
            self.show(ids.message, None)
            ids.question.text = ""
            ids.chip_box.clear_widgets()
            return
        self.chips_shown = flow.step == SurveyStep.CHIPS
        ids.question.text = self.msg(flow.message) if flow.step != SurveyStep.DONE else ""
        for i, word in enumerate(FACES):
            face = ids[f"face_{i + 1}"]
            face.text, face.icon = tr(word), FACE_ICONS[i]
            face.selected = flow.score == i + 1
        self.show(ids.message, flow.message if flow.step == SurveyStep.DONE else None)
        box = ids.chip_box
        box.clear_widgets()
        if flow.step == SurveyStep.CHIPS:
            for chip in flow.chips:
                b = KButton(text=tr(chip), size_hint_x=None, width=dp(380))
                b.selected = chip in flow.selected
                b.bind(on_release=lambda _b, c=chip: self.toggle(c))
                box.add_widget(b)

    def reset(self) -> None:
        if self._idle_ev is not None:
            self._idle_ev.cancel()
            self._idle_ev = None
        self.end_flow()
        self.back = "home"
        self.render()
