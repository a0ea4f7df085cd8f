"""The Kivy application: window, screens, scans, session timer, language.

``run_app(settings)`` is what ``kiosk`` (no subcommand) calls: it builds the
runtime, starts it, runs the app and stops the runtime on exit.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.config import KioskSettings
from kiosk.flows.session import IdleSession, SessionState
from kiosk.i18n import Translator, format_clock, format_long_day
from kiosk.ui import theme

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).with_name("kv")
#: Built at start: Home and the two screens a scan at Home opens. The others (their
#: .kv rules, widgets and label textures, two on-screen keyboards among them) are
#: built the first time they are shown, which keeps ~20 MB out of a fresh kiosk.
EAGER_SCREENS = ("home", "borrow", "return")
#: How long frames wait for a pending decision before the screen draws without it.
FRAME_HOLD_S = 0.04


def _configure_kivy(settings: KioskSettings) -> None:
    """Kivy reads its config at import: set it first (window size, no Escape-to-quit)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # One log: Kivy's records go through Python logging (set up by the kiosk CLI)
    # instead of a second console handler of Kivy's own.
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "window_icon", str(theme.ASSETS / "logo.png"))
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "width", str(settings.ui.width))
    Config.set("graphics", "height", str(settings.ui.height))
    Config.set("graphics", "fullscreen", "auto" if settings.ui.fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    # No multisampled framebuffer: it costs ~37 MB at 1280x800 on software GL (and
    # fill rate on a small GPU); the rounded shapes antialias their own edges
    # (SmoothRoundedRectangle, SmoothLine in the .kv files) and text is textures.
    Config.set("graphics", "multisamples", "0")


def _register_fonts() -> None:
    from kivy.core.text import DEFAULT_FONT, LabelBase

    # DejaVu Sans covers Indonesian and the status symbols (✔ ✖ ⚠) we show.
    LabelBase.register(DEFAULT_FONT, str(theme.FONT_REGULAR), fn_bold=str(theme.FONT_BOLD))


def make_app_class() -> type:
    """Build the App class after Kivy's config is set (importing kivy.app reads it)."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.lang import Builder
    from kivy.properties import BooleanProperty, NumericProperty, StringProperty

    class KioskApp(App):
        """The touchscreen kiosk. Holds the runtime; screens hold the flows."""

        lang = StringProperty("id")
        clock_text = StringProperty("")
        date_text = StringProperty("")
        link_text = StringProperty("")
        link_offline = BooleanProperty(True)
        busy = BooleanProperty(False)
        countdown = NumericProperty(0)
        attract = BooleanProperty(False)
        library_name = StringProperty("")
        logo_path = StringProperty("")
        demo = BooleanProperty(False)
        __events__ = (*App.__events__, "on_scan_shown")

        def __init__(self, runtime: Any, **kw: Any) -> None:
            super().__init__(**kw)
            from kiosk.ui.bridge import UiBridge
            from kiosk.ui.sound import Sounds

            self.runtime = runtime
            self.settings: KioskSettings = runtime.settings
            self.title = self.settings.kiosk.library_name
            self.library_name = self.settings.kiosk.library_name
            logo = self.settings.kiosk.logo
            default_logo = theme.ASSETS / "logo.png"
            self.logo_path = str(logo if logo and Path(logo).exists() else default_logo)
            self.demo = self.settings.kiosk.demo
            self.translator = Translator(self.settings.kiosk.language)
            self.lang = self.translator.lang
            self.bridge = UiBridge(on_busy=self._on_busy)
            self.sounds = Sounds(enabled=self.settings.ui.sound, volume=self.settings.ui.volume)
            ui = self.settings.ui
            self.session = IdleSession(ui.idle_timeout_s, ui.countdown_s)
            from kiosk.flows.feedback import FeedbackPrompt

            fb = self.settings.feedback
            #: Says after which finished sessions the five-face question is asked.
            self.feedback_prompt = FeedbackPrompt(fb.every_nth_session, enabled=fb.enabled)
            self.scanners: Any = None
            self.keys: Any = None
            self._busy_ev = None
            self.frame_held = False  # this frame is held back (see _hold_frame)

        # -- building ------------------------------------------------------------
        def build(self) -> Any:
            from kivy.factory import Factory

            from kiosk.ui.screens import registry

            _register_fonts()
            Window.clearcolor = theme.rgba(theme.BG)
            Builder.load_file(str(KV_DIR / "widgets.kv"))
            Builder.load_file(str(KV_DIR / "root.kv"))
            root = Factory.KioskRoot()
            self._screen_classes = registry()
            for name in EAGER_SCREENS:
                self._add_screen(root.ids.sm, name)
            self.translator.bind(self._language_changed)
            return root

        def _add_screen(self, sm: Any, name: str) -> Any:
            Builder.load_file(str(KV_DIR / f"{name}.kv"))
            scr = self._screen_classes[name](name=name)
            sm.add_widget(scr)
            return scr

        def on_start(self) -> None:
            # Sync and link changes arrive from worker threads: post them, then
            # coalesce into one refresh per frame however many arrive.
            self._refresh = Clock.create_trigger(self._refresh_status, 0)
            self.runtime.sync_changed.add(lambda: self.bridge.post(self._refresh))
            self._sync_slip_language()
            self._start_scanners()
            Window.bind(on_key_down=self.keys.on_key_down)
            Window.bind(on_draw=self._hold_frame, on_flip=self._hold_flip)
            Window.bind(on_touch_down=lambda *_: self._activity())
            Clock.schedule_interval(self.keys.poll, 0.02)
            Clock.schedule_interval(self._tick, 0.5)
            self._tick(0)
            Clock.schedule_once(self._freeze_startup_objects, 0.3)

        def _hold_frame(self, *_: Any) -> bool:
            """Skip drawing while a decision begun less than FRAME_HOLD_S ago is pending.

            A scan that opens a screen (a card at Home) used to draw that screen empty
            and then, a frame later, with the decision; on software GL a frame takes
            15-30 ms. An offline decision takes a few milliseconds: the screen is drawn
            once, with it. A slow (online) decision holds frames back only this long,
            then the screen and "Memproses..." draw as before.
            """
            since = self.bridge.pending_since
            self.frame_held = since is not None and time.perf_counter() - since < FRAME_HOLD_S
            return self.frame_held

        def _hold_flip(self, *_: Any) -> bool:
            return self.frame_held  # the same decision as this frame's draw

        def _freeze_startup_objects(self, _dt: float) -> None:
            # What start-up made (Kivy, the widget tree, modules) lives as long as the
            # app: move it out of the collector's sight, so a full collection scans only
            # what came later. Over the whole heap one paused a frame for 100+ ms.
            gc.collect()
            gc.freeze()

        def on_stop(self) -> None:
            if self.scanners is not None:
                self.scanners.stop()
            self.bridge.shutdown()

        def _start_scanners(self) -> None:
            from kiosk.ui.devices import find_wedge, scanner_hub
            from kiosk.ui.keys import KeyRouter

            self.scanners = scanner_hub(self.runtime)
            wedge = find_wedge(self.scanners, self.settings)
            self.keys = KeyRouter(
                wedge,
                self.route_scan,
                manual_entry=self.settings.kiosk.demo,
                on_key=self._activity,
            )
            if self.scanners is not None:
                # Device threads call back here; route_scan runs on the UI thread.
                self.scanners.start(lambda scan: self.bridge.call_soon(self.route_scan, scan.text))

        # -- navigation ----------------------------------------------------------
        @property
        def sm(self) -> Any:
            return self.root.ids.sm

        def screen(self, name: str) -> Any:
            """The screen called ``name``, built on first use."""
            sm = self.sm
            if not sm.has_screen(name):
                return self._add_screen(sm, name)
            return sm.get_screen(name)

        @property
        def current(self) -> Any:
            return self.sm.current_screen

        def go(self, name: str) -> None:
            self.attract = False
            self.screen(name)
            self.sm.current = name
            if self.current.session:
                self.session.begin()
            else:
                self.session.end()

        def go_home(self, *_: Any) -> None:
            """End any session: every screen forgets its patron, Home shows."""
            for scr in self.sm.screens:
                scr.reset()
            self.countdown = 0
            self.session.end()
            self.sm.current = "home"
            # The next patron meets the kiosk's own language, not the last one's choice.
            if self.translator.lang != self.settings.kiosk.language:
                self.translator.set_language(self.settings.kiosk.language)

        def after_session(self, service: Any, asked: bool) -> None:
            """A borrow or return session's thank-you is over: the five faces when
            ``asked`` (see ``feedback_prompt``), else Home."""
            if asked and self.sm.current in ("borrow", "return"):
                for scr in self.sm.screens:
                    if scr.name != "survey":
                        scr.reset()
                self.screen("survey").ask(service, back="home")
            else:
                self.go_home()

        def show_attract(self) -> None:
            """Show the attract screen now (demo, screenshots); any touch dismisses it."""
            if self.sm.current == "home":
                self.attract = True

        def set_language(self, lang: str) -> None:
            self._activity()
            self.translator.set_language(lang)

        def tr(self, msgid: str, *_deps: Any) -> str:
            """Translate for .kv (pass ``app.lang`` so the binding follows a language switch)."""
            return self.translator(msgid)

        def tr_in(self, msgid: str, lang: str) -> str:
            """Translate into a given language (Home tiles show both languages)."""
            return self.translator.gettext_in(msgid, lang)

        def tr_other(self, msgid: str, *_deps: Any) -> str:
            """The msgid in the language not shown: the tiles' second line."""
            return self.tr_in(msgid, "en" if self.lang == "id" else "id")

        def _sync_slip_language(self) -> None:
            # Slips are printed in the language the patron chose on screen.
            slips = self.runtime.services.slips
            if slips is not None and hasattr(slips, "lang"):
                slips.lang = self.translator.lang
                slips.tr = self.translator.gettext

        def _refresh_status(self, *_: Any) -> None:
            self._tick_header()
            if self.sm.current == "staff":
                self.current.refresh()

        def _language_changed(self, lang: str) -> None:
            self.lang = lang
            self._sync_slip_language()
            for scr in self.sm.screens:
                scr.render()
            self._tick(0)

        # -- scans and activity --------------------------------------------------
        def route_scan(self, text: str) -> None:
            """Every scan from every scanner ends here, on the UI thread."""
            text = text.strip()
            if not text:
                return
            self._activity()
            self.current.on_scan(text)

        def scan_done(self) -> None:
            """A screen has shown a scan's result: dispatch ``on_scan_shown``."""
            self.dispatch("on_scan_shown")

        def on_scan_shown(self) -> None:
            """Default handler of the event a scan's result on screen fires (the UI
            benchmark binds to it to time scan-to-screen)."""

        def _activity(self) -> None:
            self.session.touch()
            self.attract = False
            if self.countdown:
                self.countdown = 0

        def _on_busy(self, busy: bool) -> None:
            # Show "Memproses…" only when a decision takes long enough to notice.
            if self._busy_ev is not None:
                self._busy_ev.cancel()
                self._busy_ev = None
            if busy:
                self._busy_ev = Clock.schedule_once(lambda _dt: setattr(self, "busy", True), 0.15)
            else:
                self.busy = False

        def _tick_header(self) -> None:
            now = datetime.now(UTC)
            self.clock_text = format_clock(now) + " WIB"
            self.date_text = format_long_day(now, self.lang)
            link = self.runtime.link
            if link is None or not link.online:
                self.link_offline = True
                self.link_text = self.tr("Luring (Offline)", self.lang)
            else:
                self.link_offline = False
                self.link_text = self.tr("Daring (Online)", self.lang)

        def _tick(self, _dt: float) -> None:
            self._tick_header()
            self._ticks = getattr(self, "_ticks", 0) + 1
            if self.sm.current == "staff" and self._ticks % 4 == 0:
                self._refresh()
            status = self.session.status()
            if status.state == SessionState.EXPIRED and not self.bridge.busy:
                log.info("session timed out on %s", self.sm.current)
                self.go_home()
                self.screen("home").timed_out()
            elif status.state == SessionState.COUNTDOWN:
                self.countdown = status.seconds_left
            else:
                self.countdown = 0
            if self.sm.current == "home" and self.session.attract():
                self.attract = True

    return KioskApp


def run_app(settings: KioskSettings) -> int:
    """Build the runtime, start it, run the app, stop the runtime; the exit code."""
    from kiosk.runtime import build_runtime

    _configure_kivy(settings)
    runtime = build_runtime(settings, decides=True)
    runtime.start()
    try:
        app = make_app_class()(runtime)
        app.run()
    finally:
        runtime.stop()
    return int(getattr(app, "exit_code", 0) or 0)
