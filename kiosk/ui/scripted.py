"""Run the real kiosk app through a scripted scenario (UI tests, screenshots, benchmark).

Kivy allows one App and one Window per process, so tests start this module
in a subprocess::

    python -m kiosk.ui.scripted --config kiosk.toml --script steps.json --out DIR [--seed-demo]

Steps (a JSON list of one-key objects, run in order on the Kivy clock):
``{"scan": "AGT0001"}`` types the code as window key events (the wedge path) and
waits for its result (``"wait_idle": false`` goes on at once),
``{"scan_direct": ...}`` hands it to the app as a finished scan,
``{"tap": "tile_borrow"}`` touches the widget with that kv id,
``{"tap_text": "Pulang"}`` the touchable widget around a label showing that text,
``{"expect": "Laskar Pelangi"}`` waits (5 s) until a visible label shows it,
``{"expect_not": ...}``, ``{"expect_screen": "borrow"}``, ``{"shot": "home-id"}``,
``{"lang": "en"}``, ``{"texts": "key"}`` (visible), ``{"all_texts": "key"}`` (whole tree
and the spare item rows),
``{"hold": "staff_corner", "seconds": 3.5}`` (long press), ``{"wait": 0.5}``,
``{"idle": true}`` (no flow call running), ``{"signal": "name"}``
(writes DIR/name.signal for a test driving xdotool), ``{"expire": true}``,
``{"call": "borrow.finish", "args": []}``, ``{"pin": "1234"}`` (digits and OK),
``{"pin_digits": "12"}`` (digits only), ``{"touch_sizes": true}``, ``{"bench_scans": {...}}``.
Results go to DIR/result.json; screenshots to DIR/NAME.png.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from kiosk.config import KioskSettings, load_settings

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_S = 5.0


def widget_texts(widget: Any, *, visible_only: bool) -> list[str]:
    """Every Label text under ``widget`` (visible ones only: opacity > 0 all the way up)."""
    from kivy.uix.label import Label

    out: list[str] = []

    def walk(w: Any, shown: bool) -> None:
        shown = shown and getattr(w, "opacity", 1) > 0
        if visible_only and not shown:
            return
        if isinstance(w, Label) and w.text:
            out.append(w.text)
        for child in reversed(w.children):
            walk(child, shown)

    walk(widget, True)
    return out


def find_by_id(root: Any, wid: str) -> Any:
    """The first widget whose kv ``ids`` names ``wid``, searching depth-first from ``root``."""
    stack = [root]
    while stack:
        w = stack.pop(0)
        ids = getattr(w, "ids", None)
        if ids and wid in ids:
            return ids[wid]
        stack.extend(w.children)
    return None


class Driver:
    """Plays the steps one by one on the Kivy clock; never blocks the frame."""

    def __init__(self, app: Any, steps: list[dict], out: Path) -> None:
        self.app = app
        self.steps = steps
        self.out = out
        self.i = 0
        self.errors: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self.shots: dict[str, str] = {}
        self.metrics: dict[str, Any] = {}
        self._deadline: float | None = None
        self._step_t0: float | None = None
        self._bench: Any = None
        self._held: Any = None

    # -- helpers -----------------------------------------------------------
    def visible_texts(self) -> list[str]:
        root = self.app.root
        texts = widget_texts(self.app.current, visible_only=True)
        texts += widget_texts(root.ids.header, visible_only=True)
        for overlay in ("countdown", "busy", "attract"):
            if root.ids[overlay].shown:
                texts += widget_texts(root.ids[overlay], visible_only=True)
        return texts

    def all_texts(self) -> list[str]:
        texts = widget_texts(self.app.root, visible_only=False)
        for scr in self.app.sm.screens:  # screens not shown are not in the window's tree
            texts += widget_texts(scr, visible_only=False)
        from kiosk.ui.screens.lines import spare_rows

        for row in spare_rows():  # item rows kept for the next session
            texts += widget_texts(row, visible_only=False)
        return texts

    def min_touch_mm(self) -> float:
        """The smallest side, in millimetres, of any visible touch target on this screen."""
        from kivy.metrics import mm
        from kivy.uix.behaviors import ButtonBehavior

        sizes: list[float] = []

        def walk(w: Any) -> None:
            if getattr(w, "opacity", 1) <= 0 or getattr(w, "shown", True) is False:
                return
            if isinstance(w, ButtonBehavior) and w.width > 1 and w.height > 1:
                sizes.append(min(w.width, w.height) / mm(1))
            for child in w.children:
                walk(child)

        walk(self.app.current)
        walk(self.app.root.ids.header)
        return round(min(sizes), 1) if sizes else 0.0

    def _find_button_with_text(self, text: str) -> Any:
        """The touchable widget around a visible label that shows ``text``."""
        from kivy.uix.behaviors import ButtonBehavior
        from kivy.uix.label import Label

        stack = [self.app.current]
        while stack:
            w = stack.pop()
            if getattr(w, "opacity", 1) <= 0 or getattr(w, "shown", True) is False:
                continue
            if isinstance(w, Label) and text in w.text:
                p = w
                while p is not None and not isinstance(p, ButtonBehavior):
                    p = p.parent
                if p is not None:
                    return p
            stack.extend(w.children)
        return None

    def _find(self, wid: str) -> Any:
        return find_by_id(self.app.current, wid) or find_by_id(self.app.root, wid)

    def type_keys(self, text: str) -> None:
        """Key-down events as a wedge scanner makes them, Enter at the end."""
        from kivy.core.window import Window

        for ch in text:
            mods = ["shift"] if ch.isalpha() and ch.isupper() else []
            Window.dispatch("on_key_down", ord(ch.lower()), 0, ch.lower(), mods)
        Window.dispatch("on_key_down", 13, 40, None, [])

    def tap(self, widget: Any) -> None:
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def _timed_out(self, timeout: float) -> bool:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + timeout
        return now > self._deadline

    # -- the loop ----------------------------------------------------------
    def start(self) -> None:
        from kivy.clock import Clock

        Clock.schedule_once(self._next, 0)
        # The longest pause between two frames: a blocked UI thread shows up here.
        self._last_frame = time.monotonic()
        self.metrics["max_frame_gap_s"] = 0.0
        # Frames the UI thread ran while a decision was still pending on the flow
        # thread: a screen that waits on the network itself would run none.
        self.metrics["frames_while_busy"] = 0
        Clock.schedule_interval(self._frame, 0)

    def _frame(self, _dt: float) -> None:
        bridge = getattr(self.app, "bridge", None)
        if bridge is not None and bridge.busy:
            self.metrics["frames_while_busy"] += 1
        now = time.monotonic()
        gap = now - self._last_frame
        self._last_frame = now
        if gap > self.metrics["max_frame_gap_s"]:
            self.metrics["max_frame_gap_s"] = round(gap, 3)

    def _next(self, _dt: float) -> None:
        from kivy.clock import Clock

        while self.i < len(self.steps):
            step = self.steps[self.i]
            try:
                wait = self.run_step(step)
            except Exception as exc:  # noqa: BLE001 - report any failure, then go on
                log.exception("step %r failed", step)
                self.errors.append(f"step {self.i} {step!r}: {exc!r}")
                wait = None
            if wait is not None:  # come back later (a wait, or a condition not met yet)
                if self._step_t0 is None:
                    self._step_t0 = time.monotonic()
                Clock.schedule_once(self._next, wait)
                return
            if self._step_t0 is not None and time.monotonic() - self._step_t0 > 1.0:
                took = round(time.monotonic() - self._step_t0, 2)
                self.metrics.setdefault("slow_steps", []).append([self.i, step, took])
            self._step_t0 = None
            self._deadline = None
            self.i += 1
        self.finish()

    def run_step(self, step: dict) -> float | None:  # noqa: C901 - a flat dispatch reads best
        (kind, arg), *_ = step.items()
        timeout = float(step.get("timeout", DEFAULT_TIMEOUT_S))
        app = self.app
        if kind == "wait":
            if self._deadline is None:
                self._deadline = time.monotonic() + float(arg)
            return 0.05 if time.monotonic() < self._deadline else None
        if kind == "idle":
            return self._until(lambda: not app.bridge.busy, "idle", timeout)
        if kind == "scan":
            self.type_keys(arg)
            if step.get("wait_idle", True):
                self.steps.insert(self.i + 1, {"idle": True})
            return None
        if kind == "scan_direct":
            app.route_scan(arg)
            self.steps.insert(self.i + 1, {"idle": True})
            return None
        if kind == "tap":
            w = self._find(arg)
            if w is None:
                return self._until(lambda: False, f"widget {arg!r}", timeout)
            if self._deadline is None:
                # Let layout settle for a few frames after a screen change before touching.
                self._deadline = time.monotonic() + timeout
                return 0.1
            self.tap(w)
            self.steps.insert(self.i + 1, {"idle": True})
            return None
        if kind == "tap_text":
            w = self._find_button_with_text(arg)
            if w is None:
                return self._until(lambda: False, f"a button showing {arg!r}", timeout)
            if self._deadline is None:
                self._deadline = time.monotonic() + timeout
                return 0.1
            self.tap(w)
            self.steps.insert(self.i + 1, {"idle": True})
            return None
        if kind == "hold":
            return self._hold(arg, float(step.get("seconds", 3.5)))
        if kind in ("pin", "pin_digits"):
            pad = self._find("pad")
            if pad is None:
                return self._until(lambda: False, "PIN pad", timeout)
            for d in arg:
                pad.press(d)
            if kind == "pin":
                pad.press("ok")
            self.steps.insert(self.i + 1, {"idle": True})
            return None
        if kind == "expect":
            return self._until(lambda: any(arg in t for t in self.visible_texts()), arg, timeout)
        if kind == "expect_not":
            if any(arg in t for t in self.visible_texts()):
                self.errors.append(f"step {self.i}: {arg!r} is visible but must not be")
            return None
        if kind == "expect_screen":
            return self._until(lambda: app.sm.current == arg, f"screen {arg}", timeout)
        if kind == "shot":
            return self._shot(arg)
        if kind == "lang":
            app.set_language(arg)
            return None
        if kind == "texts":
            self.texts[arg] = self.visible_texts()
            return None
        if kind == "all_texts":
            self.texts[arg] = self.all_texts()
            return None
        if kind == "signal":
            (self.out / f"{arg}.signal").write_text("1")
            return None
        if kind == "expire":
            app.session.expire_now()
            return None
        if kind == "call":
            screen_name, method = arg.split(".", 1)
            target = app if screen_name == "app" else app.screen(screen_name)
            getattr(target, method)(*step.get("args", []))
            self.steps.insert(self.i + 1, {"idle": True})
            return None
        if kind == "touch_sizes":
            self.metrics[f"min_touch_mm_{app.sm.current}"] = self.min_touch_mm()
            return None
        if kind == "rss":
            from kiosk.ui.bench_driver import rss_mb

            self.metrics[f"rss_mb_{arg}"] = rss_mb()
            return None
        if kind == "bench_scans":
            from kiosk.ui.bench_driver import BenchScans

            if self._bench is None:
                n, measure = int(arg.get("n", 500)), int(arg.get("measure", 150))
                self._bench = BenchScans(self, n, measure, str(arg.get("mode", "borrow")))
            wait = self._bench.tick()
            if wait is None:
                self.metrics.update(self._bench.metrics())
                self._bench = None
                self._deadline = None
            else:
                # Never time out a benchmark loop: it ends when its plan is done.
                self._deadline = time.monotonic() + 3600
            return wait
        raise ValueError(f"unknown step {kind!r}")

    def _hold(self, wid: str, seconds: float) -> float | None:
        """Press a widget, keep the finger down ``seconds``, lift it (a long press)."""
        from kivy.tests.common import UnitTestTouch

        if self._held is None:
            w = self._find(wid)
            if w is None:
                return self._until(lambda: False, f"widget {wid!r}", DEFAULT_TIMEOUT_S)
            x, y = w.to_window(*w.center)
            self._held = UnitTestTouch(x, y)
            self._held.touch_down()
            self._deadline = time.monotonic() + seconds
        if time.monotonic() < (self._deadline or 0):
            return 0.05
        self._held.touch_up()
        self._held = None
        return None

    def _until(self, cond: Any, what: str, timeout: float) -> float | None:
        if cond():
            return None
        if self._timed_out(timeout):
            seen = " | ".join(self.visible_texts())[:1500]
            self.errors.append(f"step {self.i}: timed out waiting for {what}; visible: {seen}")
            return None
        return 0.05

    def _shot(self, name: str) -> float | None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        # Let one more frame draw after the last change before reading pixels.
        if self._deadline is None:
            self._deadline = time.monotonic()
            return 0.15
        stem = self.out / name
        made = Window.screenshot(name=str(stem) + ".png")
        if made:
            # Kivy adds a counter to the file name (shot0001.png); give it the asked name.
            Path(made).replace(str(stem) + ".png")
            self.shots[name] = str(stem) + ".png"
        Clock.tick_draw()
        return None

    def finish(self) -> None:
        result = {
            "errors": self.errors,
            "texts": self.texts,
            "shots": self.shots,
            "metrics": self.metrics,
            "screen": self.app.sm.current,
        }
        (self.out / "result.json").write_text(json.dumps(result, indent=1, default=str))
        self.app.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True)
    p.add_argument("--script", required=True, help="JSON file with the steps")
    p.add_argument("--out", required=True)
    p.add_argument("--seed-demo", action="store_true", help="seed the store with demo data")
    p.add_argument("--max-s", type=float, default=90.0, help="stop the app after this long")
    args = p.parse_args(argv)
    if os.environ.get("KIOSK_LOG_LEVEL"):
        logging.basicConfig(level=os.environ["KIOSK_LOG_LEVEL"], stream=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings: KioskSettings = load_settings(args.config)
    if args.seed_demo:
        from kiosk.ui.demo_data import seed_store

        seed_store(settings.kiosk.data_dir, settings.kiosk.name)
    steps = json.loads(Path(args.script).read_text())
    from kiosk.runtime import build_runtime
    from kiosk.ui.app import _configure_kivy, make_app_class

    _configure_kivy(settings)
    runtime = build_runtime(settings, decides=True)
    runtime.start()
    try:
        app = make_app_class()(runtime)
        driver = Driver(app, steps, out)
        from kivy.clock import Clock
        from kivy.core.window import Window

        def first_frame(*_: Any) -> None:
            Window.unbind(on_flip=first_frame)
            (out / "first_frame").write_text(repr(time.time()))
            driver.start()

        Window.bind(on_flip=first_frame)

        def out_of_time(_dt: float) -> None:
            driver.errors.append(f"stopped after --max-s {args.max_s} s at step {driver.i}")
            driver.finish()

        Clock.schedule_once(out_of_time, args.max_s)
        app.run()
    finally:
        runtime.stop()
    return 0 if (out / "result.json").exists() else 1


if __name__ == "__main__":
    raise SystemExit(main())
