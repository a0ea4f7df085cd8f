"""Staff mode (Mode petugas): health of the kiosk and the actions staff need."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from kivy.properties import BooleanProperty, StringProperty
from kivy.utils import escape_markup

from kiosk.flows.base import Message, Severity
from kiosk.flows.events import load_events
from kiosk.flows.staff import FollowUp, StaffFlow, StaffStatus, StaffStep
from kiosk.i18n import format_clock, format_time
from kiosk.ui.devices import device_states
from kiosk.ui.labels import DEVICE_STATE, KIND_LABEL, LINK_STATE
from kiosk.ui.screens.base import KioskScreen

log = logging.getLogger(__name__)


def age_text(tr: Any, seconds: float | None) -> str:
    if seconds is None:
        return tr("belum ada")
    if seconds < 120:
        return tr("{n} detik").format(n=int(seconds))
    if seconds < 7200:
        return tr("{n} menit").format(n=int(seconds // 60))
    return tr("{n} jam").format(n=int(seconds // 3600))


class StaffScreen(KioskScreen):
    """Presenter for :class:`StaffFlow`; a staff session times out like a patron's."""

    step = StringProperty(StaffStep.LOCKED.value)
    choosing_event = BooleanProperty(False)
    scanner_test = BooleanProperty(False)
    showing_follow_ups = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.flow: StaffFlow | None = None
        self.message: Message | None = None
        self._status: StaffStatus | None = None
        self._events: list = []

    def _ensure_flow(self) -> StaffFlow:
        if self.flow is None:
            self.flow = StaffFlow(self.kapp.runtime)
        return self.flow

    def on_pre_enter(self, *_: Any) -> None:
        self.render()

        def enter(flow: StaffFlow) -> None:
            if flow.step == StaffStep.LOCKED:
                flow.hidden_entry()  # opened by the long press: straight to the PIN

        self.call_flow(enter)

    def start_with_card(self, card: str) -> None:
        self._ask(lambda f: f.scan(card))

    def submit_pin(self, pin: str) -> None:
        flow = self._ensure_flow()

        def checked(msg: Message) -> None:
            if flow is not self.flow:
                return
            self.message = msg
            self.feedback(msg)
            if flow.step == StaffStep.LOCKED:
                self.kapp.go_home()
                return
            self.render()

        self.kapp.bridge.run(lambda: flow.enter_pin(pin), checked)

    def on_scan(self, text: str) -> None:
        flow = self._ensure_flow()
        if self.scanner_test and flow.open:
            kind = self.kapp.runtime.services.classifier.kind_of(text)
            self.message = Message(
                "Pemindai berfungsi: {code} ({kind}).",
                Severity.SUCCESS,
                {"code": text, "kind": kind.value},
            )
            self.scanner_test = False
            self.render()
            return
        if not flow.open:
            self._ask(lambda f: f.scan(text))

    # -- actions ---------------------------------------------------------------
    def _ask(self, work: Any) -> None:
        """``work(flow)`` on the flow thread; its message is shown (no sound)."""
        flow = self._ensure_flow()

        def done(msg: Message) -> None:
            if flow is self.flow:
                self.message = msg
                self.render()

        self.kapp.bridge.run(lambda: work(flow), done)

    def _act(self, work: Any, then: Any = None) -> None:
        flow = self._ensure_flow()

        def done(msg: Message) -> None:
            self.message = msg
            self.render()
            self.refresh()
            if then is not None:
                then()

        self.kapp.bridge.run(lambda: work(flow), done)

    def sync_now(self) -> None:
        self._act(lambda f: f.sync_now())

    def toggle_offline(self) -> None:
        self._act(lambda f: f.force_offline(not f.forced_offline))

    def print_test(self) -> None:
        self._act(lambda f: f.print_test())

    def test_scanner(self) -> None:
        self.scanner_test = True
        self.message = Message("Pindai kode apa saja untuk menguji pemindai.")
        self.render()

    def export_queue(self) -> None:
        folder = self.kapp.runtime.data_dir / "export"
        self._act(lambda f: f.export_queue(folder))

    def choose_door(self) -> None:
        services, client = self.kapp.runtime.services, self.kapp.runtime.client

        def done(events: list) -> None:
            self._events = events
            self.choosing_event = True
            self._fill_events(events)

        self.kapp.bridge.run(lambda: load_events(services, client), done)

    def _fill_events(self, events: list) -> None:
        from kiosk.ui.widgets import KButton

        box = self.ids.event_choices
        box.clear_widgets()
        tr = self.kapp.translator
        for ev in events:
            b = KButton(text=f"{ev.title} · {tr.day(ev.starts_at)}", icon="▶")
            b.bind(on_release=lambda _b, ev=ev: self.open_door(ev))
            box.add_widget(b)
        if not events:
            self.message = Message("Belum ada acara mendatang.")
            self.render()

    def open_guestbook(self) -> None:
        """Guest book mode (Buku Tamu): the kiosk stays on it until staff leave."""
        self.choosing_event = False
        self._lock()
        self.kapp.go("guestbook")

    def open_door(self, event: Any) -> None:
        self.choosing_event = False
        self.kapp.screen("door").open_event(event)
        self._lock()
        self.kapp.go("door")

    # -- follow-up list: what staff must look at -----------------------------------
    def show_follow_ups(self) -> None:
        flow = self._ensure_flow()

        def read() -> tuple[list[FollowUp], Message | None]:
            items = flow.follow_ups()
            return items, flow.follow_ups_beyond(len(items))

        def done(found: tuple[list[FollowUp], Message | None]) -> None:
            self.showing_follow_ups = True
            self._fill_follow_ups(*found)

        self.kapp.bridge.run(read, done)

    def hide_follow_ups(self) -> None:
        self.showing_follow_ups = False
        self.ids.follow_up_rows.clear_widgets()
        self.refresh()

    def mark_handled(self, tx_id: str) -> None:
        self._act(lambda f: f.mark_handled(tx_id), then=self.show_follow_ups)

    def resend(self, tx_id: str) -> None:
        self._act(lambda f: f.resend(tx_id), then=self.show_follow_ups)

    def _fill_follow_ups(self, items: list[FollowUp], more: Message | None = None) -> None:
        from kivy.factory import Factory

        from kiosk.ui.widgets import KButton

        box = self.ids.follow_up_rows
        box.clear_widgets()
        tr = self.kapp.translator
        if not items:
            box.add_widget(Factory.KLabel(text=tr("Tidak ada yang perlu ditindaklanjuti.")))
        for item in items:
            head = " · ".join(
                [
                    f"{tr.day(item.at)} {format_clock(item.at)}",
                    tr(KIND_LABEL.get(item.kind.value, item.kind.value)),
                    escape_markup(item.card or "—"),
                    escape_markup(item.code or "—"),
                ]
            )
            box.add_widget(
                Factory.KLabel(
                    text=f"[b]{head}[/b]\n{escape_markup(self.msg(item.what))}", markup=True
                )
            )
            if item.closable:
                b = KButton(text=tr("Sudah ditangani"), icon="✔")
                b.bind(on_release=lambda _b, tx_id=item.tx_id: self.mark_handled(tx_id))
                box.add_widget(b)
            if item.resendable:
                b = KButton(text=tr("Kirim ulang"), icon="↻")
                b.bind(on_release=lambda _b, tx_id=item.tx_id: self.resend(tx_id))
                box.add_widget(b)
        if more is not None:
            box.add_widget(Factory.KLabel(text=self.msg(more)))

    def out_of_service(self) -> None:
        self._lock()
        self.kapp.go("oos")

    def quit_app(self) -> None:
        log.info("staff closed the kiosk app")
        self.kapp.stop()

    def close(self) -> None:
        self.kapp.screen("door").close()
        if self.kapp.sm.has_screen("guestbook"):
            self.kapp.screen("guestbook").close()
        self.kapp.go_home()

    def _lock(self) -> None:
        if self.flow is not None:
            self.call_flow(lambda f: f.lock())
        self.message = None

    # -- rendering -------------------------------------------------------------
    def refresh(self) -> None:
        """Read the status on the flow thread (a printer may take a moment to answer)."""
        flow = self.flow
        if flow is None or not flow.open:
            return
        runtime = self.kapp.runtime

        def done(status: StaffStatus) -> None:
            if flow is self.flow and flow.open:
                self._status = status
                self.render()

        self.kapp.bridge.run(lambda: flow.status(device_states(runtime)), done, quiet=True)

    def render(self) -> None:
        flow = self.flow
        ids = self.ids
        tr = self.kapp.translator
        self.step = flow.step.value if flow else StaffStep.LOCKED.value
        self.show(ids.message, self.message or (flow.message if flow else None))
        if flow is None or not flow.open:
            ids.status.text = ""
            self._status = None
            return
        st = self._status
        if st is None:
            ids.status.text = tr("Memproses…")
            self.refresh()
            return
        last = format_time(st.last_sync_at) if st.last_sync_at else tr("belum pernah")
        if st.last_sync_at:
            last = tr.day(st.last_sync_at) + " " + last
        devices = ", ".join(
            f"{name}: {_device_text(tr, state)}" for name, state in st.devices.items()
        )
        rows = [
            (tr("Koneksi"), tr(LINK_STATE.get(st.link, st.link))),
            (tr("Antrean belum terkirim"), str(st.queue_depth)),
            (tr("Gagal dikirim"), str(st.failed)),
            (tr("Konflik / selisih"), f"{st.conflicts} / {st.mismatches}"),
            (tr("Sinkron terakhir"), last),
            (tr("Umur salinan lokal"), age_text(tr, st.snapshot_age_s)),
            (tr("Perangkat"), devices or tr("tidak ada")),
            (tr("Galat terakhir"), (st.last_error or "—")[:120]),
            (tr("Waktu kios"), format_time(datetime.now(UTC))),
        ]
        if st.exposed_files:
            rows.append(
                (
                    tr("Berkas terbaca pengguna lain"),
                    tr("{files} (ubah ke chmod 600)").format(
                        files=escape_markup(", ".join(st.exposed_files[:3]))
                        + (" …" if len(st.exposed_files) > 3 else "")
                    ),
                )
            )
        ids.status.text = "\n".join(f"[b]{k}:[/b]  {v}" for k, v in rows)
        ids.offline_btn.text = (
            tr("Kembali daring") if flow.forced_offline else tr("Paksa luring (offline)")
        )

    def reset(self) -> None:
        self._lock()
        self.flow = None
        self.choosing_event = False
        self.scanner_test = False
        self.showing_follow_ups = False
        self.ids.pad.pin = ""
        self.ids.event_choices.clear_widgets()
        self.ids.follow_up_rows.clear_widgets()
        self.render()


def _device_text(tr: Any, state: str) -> str:
    """A device's state in the screen's language, with its problem in plain words if any."""
    state, _, problem = state.partition(": ")
    label = tr(DEVICE_STATE.get(state, state))
    return f"{label} ({problem})" if problem else label
