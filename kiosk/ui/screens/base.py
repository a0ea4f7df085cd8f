"""What every kiosk screen shares: the app, scans, reset and re-render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.uix.screenmanager import Screen

from kiosk.flows.base import Message, Severity
from kiosk.i18n import N_


class KioskScreen(Screen):
    """A screen that is also its own presenter: .kv handlers call its methods.

    The screen reads its flow's state to render; it calls the flow only through
    :meth:`call_flow` and :meth:`end_flow` (the bridge's flow thread, see
    ``kiosk.ui.bridge``). ``session`` says whether the idle timeout applies while it is shown.
    ``reset()`` must forget every bit of patron data the screen holds.
    ``render()`` rebuilds the dynamic text from the flow (also on a language switch).
    """

    session = True
    flow: Any = None

    @property
    def kapp(self) -> Any:
        return App.get_running_app()

    def tr(self, msgid: str) -> str:
        return self.kapp.translator(msgid)

    def msg(self, message: Message) -> str:
        return self.kapp.translator.render(message)

    def show(self, bar: Any, message: Message | None) -> None:
        """Fill a MessageBar from a flow message: icon, word and text."""
        if message is None:
            bar.text, bar.word, bar.severity = "", "", "info"
            return
        bar.severity = message.severity.value
        bar.word = self.severity_word(message.severity)
        bar.text = self.msg(message)

    def severity_word(self, severity: Severity) -> str:
        words = {
            Severity.SUCCESS: N_("Berhasil"),
            Severity.WARNING: N_("Perhatian"),
            Severity.ERROR: N_("Gagal"),
            Severity.INFO: "",
        }
        word = words.get(severity, "")
        return self.tr(word) if word else ""

    def feedback(self, message: Message) -> None:
        """Sound for an outcome: success, warning or error (info is silent)."""
        if message.severity in (Severity.SUCCESS, Severity.WARNING, Severity.ERROR):
            self.kapp.sounds.play(message.severity.value)

    def _ensure_flow(self) -> Any:
        """The screen's flow, made on first use (each screen makes its own kind)."""
        return self.flow

    def call_flow(
        self,
        work: Callable[[Any], Any],
        *,
        count_scan: bool = False,
        after: Callable[[], None] | None = None,
    ) -> None:
        """Run ``work(flow)`` on the flow thread (it may wait on the network), then
        re-render on the UI thread. A result that arrives after the session ended
        belongs to a flow that is gone and is dropped unseen."""
        flow = self._ensure_flow()
        if flow is None:
            return

        def done(result: Any) -> None:
            if flow is not self.flow:
                return
            if isinstance(result, Message):
                self.feedback(result)
            self.render()
            if after is not None:
                after()
            if count_scan:
                self.kapp.scan_done()

        self.kapp.bridge.run(lambda: work(flow), done)

    def end_flow(self, cleanup: Callable[[Any], Any] | None = None) -> None:
        """Forget the flow now; ``cleanup(flow)`` runs on the flow thread after any call
        already queued for it (a session ending while a decision is still running)."""
        flow, self.flow = self.flow, None
        if flow is not None and cleanup is not None:
            self.kapp.bridge.run(lambda: cleanup(flow), quiet=True)

    def on_scan(self, text: str) -> None:
        """A code was scanned while this screen is shown."""

    def reset(self) -> None:
        """Forget the patron: called when the session ends, for any reason."""

    def render(self) -> None:
        """Re-render dynamic text (after a flow step or a language switch)."""
