"""Workshops & events (Acara): the list, one event, sign up by card or guest form, ticket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.properties import StringProperty

from kiosk.flows.events import EventsFlow, EventsStep
from kiosk.flows.guest import FIELDS
from kiosk.i18n import N_, format_time
from kiosk.ui.screens.base import KioskScreen

FIELD_LABELS = {
    "name": N_("Nama"),
    "contact": N_("Telepon atau email"),
    "institution": N_("Instansi (boleh kosong)"),
}


def event_when(tr: Any, ev: Any) -> str:
    """``Kamis, 3 Desember 2026 · 09.00 WIB``."""
    return f"{tr.long_day(ev.starts_at)} · {format_time(ev.starts_at)}"


def seats_text(tr: Any, ev: Any) -> str:
    if ev.seats_left > 0:
        return tr("Sisa kursi: {n} dari {cap}").format(n=ev.seats_left, cap=ev.capacity)
    if ev.waitlist:
        return tr("Penuh · daftar tunggu dibuka")
    return tr("Penuh")


class EventsScreen(KioskScreen):
    """Presenter for :class:`EventsFlow`."""

    step = StringProperty(EventsStep.LIST.value)
    qr_path = StringProperty("")

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow: EventsFlow | None = None

    def _ensure_flow(self) -> EventsFlow:
        if self.flow is None:
            self.flow = EventsFlow(self.kapp.runtime.services, self.kapp.runtime.client)
        return self.flow

    def on_pre_enter(self, *_: Any) -> None:
        self._ensure_flow()
        self.call_flow(lambda f: f.load())

    # -- actions from the .kv ------------------------------------------------
    def select(self, event_id: int) -> None:
        def select(flow: EventsFlow) -> None:
            flow.select(event_id)  # its message is shown, with no sound

        self.call_flow(select)

    def back(self) -> None:
        flow = self._ensure_flow()
        if flow.step == EventsStep.LIST:
            self.kapp.go_home()
            return
        self.call_flow(lambda f: f.back())

    def guest(self) -> None:
        self.call_flow(lambda f: f.start_guest())

    def focus(self, field: str) -> None:
        self.call_flow(lambda f: f.form.focus(field))

    def key(self, key: str) -> None:
        self.call_flow(lambda f: f.form.press(key))

    def submit_guest(self) -> None:
        self.call_flow(lambda f: f.submit_guest())

    def print_slip(self) -> None:
        self.call_flow(lambda f: f.print_slip())

    def on_scan(self, text: str) -> None:
        self.call_flow(lambda f: f.scan(text), count_scan=True)

    # -- rendering -----------------------------------------------------------
    def render(self) -> None:
        from kivy.factory import Factory

        flow = self.flow
        ids = self.ids
        tr = self.kapp.translator
        self.step = flow.step.value if flow else EventsStep.LIST.value
        self.show(ids.message, flow.message if flow else None)
        if flow is None:
            ids.list.clear_widgets()
            return
        if self.step == EventsStep.LIST.value:
            ids.list.clear_widgets()
            for ev in flow.events:
                card = Factory.EventCard(
                    event_id=ev.id,
                    title=ev.title,
                    when=event_when(tr, ev),
                    place=ev.place,
                    seats=seats_text(tr, ev),
                    full=ev.seats_left <= 0,
                )
                card.bind(on_release=lambda c: self.select(int(c.event_id)))
                ids.list.add_widget(card)
        chosen = flow.event
        ids.ev_title.text = chosen.title if chosen else ""
        ids.ev_when.text = event_when(tr, chosen) if chosen else ""
        ids.ev_place.text = chosen.place if chosen else ""
        ids.ev_seats.text = seats_text(tr, chosen) if chosen else ""
        ids.ev_desc.text = chosen.description if chosen else ""
        for name in FIELDS:
            f = ids[f"f_{name}"]
            f.label = tr(FIELD_LABELS[name])
            f.value = flow.form.values[name]
            f.active = flow.form.active == name
        self.qr_path = self._qr() if self.step == EventsStep.DONE.value else ""
        ids.ticket_note.text = (
            tr("Foto kode QR ini, atau cetak struk bertiket.") if self.qr_path else ""
        )

    def _qr(self) -> str:
        """The ticket as a QR image on screen (deleted when the session ends)."""
        flow = self.flow
        if flow is None or not flow.ticket:
            return ""
        import segno

        folder = Path(self.kapp.runtime.data_dir) / "screen"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ticket-{flow.tx_id}.png"
        if not path.exists():
            segno.make_qr(flow.ticket).save(str(path), scale=8, border=2)
        return str(path)

    def reset(self) -> None:
        if self.qr_path:
            Path(self.qr_path).unlink(missing_ok=True)
        self.qr_path = ""
        self.end_flow(lambda f: f.reset())
        self.render()
        for name in FIELDS:
            self.ids[f"f_{name}"].value = ""
