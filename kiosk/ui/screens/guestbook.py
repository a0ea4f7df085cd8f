"""Guest book mode (Buku Tamu): staff open it like door mode; it stays all day.

Members scan their card; visitors without one type a short form on the key
grid; a group's leader enters the group. The screen forgets every visitor's
text after a short thank-you, and after the idle timeout in a half-filled form.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import NumericProperty, StringProperty

from core.wire import FeedbackService, Gender
from kiosk.flows.base import CodeKind
from kiosk.flows.guestbook import (
    GroupForm,
    GuestBookFlow,
    GuestBookOptions,
    GuestBookStep,
    VisitorForm,
)
from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen

CLEAR_AFTER_S = 6  # the last visitor's greeting leaves the screen before the next one
LABELS = {
    "name": N_("Nama"),
    "institution": N_("Asal lembaga / instansi"),
    "contact": N_("Telepon atau email (boleh kosong)"),
    "leader": N_("Nama ketua rombongan"),
    "phone": N_("Telepon ketua"),
}
GENDERS = ((Gender.MALE.value, N_("Laki-laki")), (Gender.FEMALE.value, N_("Perempuan")))


class GuestBookScreen(KioskScreen):
    """Presenter for :class:`GuestBookFlow`."""

    session = False
    step = StringProperty(GuestBookStep.SCAN.value)
    greeting = StringProperty("")  # the member's greeting or the thank-you
    guest_page = NumericProperty(0)  # 0: typing, 1: taps (gender, education, ...)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow: GuestBookFlow | None = None
        self._clear_ev: Any = None
        self._buttons: dict[int, tuple[list[tuple[str, str]], list[Any]]] = {}

    def _ensure_flow(self) -> GuestBookFlow:
        if self.flow is None:
            settings = self.kapp.settings
            self.flow = GuestBookFlow(
                self.kapp.runtime.services, GuestBookOptions.from_settings(settings.guestbook)
            )
        return self.flow

    def on_pre_enter(self, *_: Any) -> None:
        self._ensure_flow()
        self.render()

    # -- timers: no visitor's text outlives them --------------------------------
    def _clear_in(self, seconds: float) -> None:
        if self._clear_ev is not None:
            self._clear_ev.cancel()
        self._clear_ev = Clock.schedule_once(lambda _dt: self._clear(), seconds)

    def _clear(self) -> None:
        if self._clear_ev is not None:
            self._clear_ev.cancel()  # when called before its time (the survey opens)
            self._clear_ev = None
        self.guest_page = 0
        self.call_flow(lambda f: f.reset())

    def _touched(self) -> None:
        self._clear_in(self.kapp.settings.ui.idle_timeout_s)

    def _after_entry(self) -> None:
        flow = self.flow
        if flow is None or flow.step != GuestBookStep.DONE:
            if flow is not None and flow.step == GuestBookStep.PURPOSE:
                self._clear_in(self.kapp.settings.ui.idle_timeout_s)
            return
        if self.kapp.feedback_prompt.session_ended():
            Clock.schedule_once(lambda _dt: self._survey(), 1.5)
        self._clear_in(CLEAR_AFTER_S)

    def _survey(self) -> None:
        if self.kapp.sm.current == "guestbook":
            self._clear()
            self.kapp.screen("survey").ask(FeedbackService.GUESTBOOK, back="guestbook")

    # -- input ----------------------------------------------------------------
    def on_scan(self, text: str) -> None:
        if self.kapp.runtime.services.classifier.kind_of(text) == CodeKind.STAFF:
            self.kapp.go("staff")
            self.kapp.screen("staff").start_with_card(text)
            return
        self.guest_page = 0
        self.call_flow(lambda f: f.scan(text), count_scan=True, after=self._after_entry)

    def purpose(self, purpose: str | None = None) -> None:
        self.call_flow(lambda f: f.choose_purpose(purpose), after=self._after_entry)

    def start_guest(self) -> None:
        self.guest_page = 0
        self._touched()
        self.call_flow(lambda f: f.start_guest())

    def start_group(self) -> None:
        self._touched()
        self.call_flow(lambda f: f.start_group())

    def cancel(self) -> None:
        self.guest_page = 0
        self.call_flow(lambda f: f.cancel())

    def _form(self, flow: GuestBookFlow) -> VisitorForm | GroupForm:
        return flow.group_form if flow.step == GuestBookStep.GROUP else flow.visitors_form

    def focus(self, field: str) -> None:
        self._touched()
        self.call_flow(lambda f: self._form(f).focus(field))

    def key(self, key: str) -> None:
        self._touched()
        self.call_flow(lambda f: self._form(f).press(key))

    def choose(self, what: str, value: str) -> None:
        self._touched()
        self.call_flow(lambda f: f.visitors_form.choose(what, value))

    def count(self, gender: str, step: int) -> None:
        self._touched()
        self.call_flow(lambda f: f.group_form.count(gender, step))

    def next_page(self) -> None:
        self._touched()
        self.guest_page = 1
        self.render()

    def submit_guest(self) -> None:
        self.call_flow(lambda f: f.submit_guest(), after=self._after_guest)

    def _after_guest(self) -> None:
        if self.flow is not None and self.flow.step == GuestBookStep.DONE:
            self.guest_page = 0
        self._after_entry()

    def submit_group(self) -> None:
        self.call_flow(lambda f: f.submit_group(), after=self._after_entry)

    # -- rendering -------------------------------------------------------------
    def render(self) -> None:
        flow = self.flow
        ids = self.ids
        tr = self.kapp.translator
        if flow is None:
            self.step = GuestBookStep.SCAN.value
            self.show(ids.message, None)
            self.greeting = ""
            return
        self.step = flow.step.value
        greeted = flow.step in (GuestBookStep.PURPOSE, GuestBookStep.DONE)
        self.greeting = self.msg(flow.message) if greeted else ""
        # a greeting is shown large, once; problems and hints in the message bar
        self.show(ids.message, None if greeted else flow.message)
        ids.counted.text = tr("Pengunjung tercatat di kios ini: {n}").format(n=flow.counted)
        self._fill_choices(ids.purpose_box, [(p, p) for p in flow.purposes], None, self.purpose)
        v = flow.visitors_form
        for name in VisitorForm.FIELDS:
            f = ids[f"g_{name}"]
            f.label, f.value, f.active = tr(LABELS[name]), v.values[name], v.active == name
        self._fill_tabs(flow, v)
        g = flow.group_form
        for name in GroupForm.FIELDS:
            f = ids[f"r_{name}"]
            label = LABELS.get(name, N_("Asal lembaga / instansi"))
            f.label, f.value, f.active = tr(label), g.values[name], g.active == name
        ids.male_count.text = tr("Laki-laki: {n}").format(n=g.male)
        ids.female_count.text = tr("Perempuan: {n}").format(n=g.female)

    def _fill_tabs(self, flow: GuestBookFlow, v: VisitorForm) -> None:
        ids, opts, chosen = self.ids, flow.options, v.choices
        for what, box, words in (
            ("gender", ids.gender_box, GENDERS),
            ("education", ids.education_box, [(w, w) for w in opts.education]),
            ("occupation", ids.occupation_box, [(w, w) for w in opts.occupations]),
            ("purpose", ids.visit_purpose_box, [(w, w) for w in opts.purposes]),
        ):
            self._fill_choices(box, words, chosen[what], partial(self.choose, what))

    def _fill_choices(
        self, box: Any, pairs: Any, selected: str | None, tap: Callable[[str], None]
    ) -> None:
        """One toggle button per ``(value, msgid)``; the chosen one is outlined. The
        buttons are made once per language (making ~30 on every render cost a scan's
        welcome a frame or more); later renders only move the outline."""
        from kiosk.ui.widgets import KButton

        tr = self.kapp.translator
        labels = [(value, tr(word)) for value, word in pairs]
        made = self._buttons.get(id(box))
        if made is None or made[0] != labels:
            box.clear_widgets()
            buttons = []
            for value, label in labels:
                b = KButton(text=label, size_hint_x=None, width=dp(290))
                b.bind(on_release=lambda _b, v=value: tap(v))
                box.add_widget(b)
                buttons.append(b)
            made = self._buttons[id(box)] = (labels, buttons)
        for (value, _label), b in zip(made[0], made[1], strict=True):
            b.selected = value == selected

    def reset(self) -> None:
        # Guest book mode survives the end of a session; only the visitor is forgotten.
        self.guest_page = 0
        if self.flow is not None:
            self.call_flow(lambda f: f.reset())
        else:
            self.render()

    def close(self) -> None:
        """Staff leave guest book mode."""
        if self._clear_ev is not None:
            self._clear_ev.cancel()
            self._clear_ev = None
        self.end_flow()
        self.render()
