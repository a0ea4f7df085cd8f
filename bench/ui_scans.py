"""Scan-to-screen latency and memory over many scans, run inside the scripted app.

``python -m bench.ui_scans`` is ``tests.ui.scripted`` with two more steps, for
``bench/bench_ui.py``: ``{"rss": "name"}`` (resident memory now) and
``{"bench_scans": {"n": 500, "measure": 150}}`` (``"mode": "guestbook"`` for the
guest book).
Each scan is typed as window key events (the wedge path); its latency runs
from the first key to the first frame drawn after the screen showed the result.
The scans are realistic sessions, offline: a card and three books borrowed,
then the same three returned, again and again; or, with ``"mode": "guestbook"``
on the guest-book screen, members' cards one after another (each a visit
committed and a welcome shown; a card seen before today is welcomed again).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from tests.ui import scripted

CARD = "AGT0001"
BOOKS = ("B000101", "B000102", "B000103")


def rss_mb() -> float:
    """Resident memory of this process (Linux /proc), in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


GUESTBOOK_CARDS = ("AGT0001", "AGT0002", "AGT0003", "AGT0004")


def _guestbook_plan(n: int) -> list[tuple[str, str]]:
    plan = [("scan", GUESTBOOK_CARDS[i % len(GUESTBOOK_CARDS)]) for i in range(n)]
    plan.insert(min(4, n), ("mark", "warm"))
    return plan


def _plan(n: int) -> list[tuple[str, str]]:
    """Sessions until ``n`` scans; memory is marked after the first (warm-up) session."""
    plan: list[tuple[str, str]] = []
    scans = 0
    while scans < n:
        plan.append(("scan", CARD))
        plan += [("scan", b) for b in BOOKS]
        plan += [("call", "finish_borrow"), ("call", "home"), ("call", "open_return")]
        plan += [("scan", b) for b in BOOKS]
        plan.append(("call", "home"))
        if scans == 0:
            plan.append(("mark", "warm"))
        scans += 1 + 2 * len(BOOKS)
    return plan


class BenchScans:
    """A frame-driven loop: one action per frame, never blocking the Kivy clock."""

    def __init__(self, driver: Any, n: int, measure: int = 150, mode: str = "borrow") -> None:
        self.pilot = driver.pilot
        self.app = driver.app
        self.plan = _guestbook_plan(n) if mode == "guestbook" else _plan(n)
        self.i = 0
        self.latencies: list[float] = []
        # Software GL (Xvfb + llvmpipe) takes 10-30 ms a frame: the first ``measure``
        # scans each wait for their frame (latency); the rest are typed a session
        # at a time (memory growth), so the run stays short.
        self.measure = measure
        self.rss_warm: float | None = None
        self._t0: float | None = None
        # Scans whose result a screen has shown, and when the last one was shown.
        self._shown = 0
        self._shown_at = 0.0
        self._handled = 0
        self._done_at: float | None = None
        self._last_flip = 0.0
        self.scans = 0
        from kivy.core.window import Window

        # Every flip is timed; a scan's latency ends at the first flip after its
        # result was put on the screen (the frame that shows it).
        Window.bind(on_flip=self._on_flip)
        self.app.bind(on_scan_shown=self._on_scan_shown)

    def _on_scan_shown(self, *_: Any) -> None:
        self._shown += 1
        self._shown_at = time.perf_counter()

    def _on_flip(self, *_: Any) -> None:
        if getattr(self.app, "frame_held", False):
            return  # the app held this frame back: nothing was drawn or shown
        self._last_flip = time.perf_counter()

    def tick(self) -> float | None:
        """Advance; return the delay before the next tick, or None when finished."""
        from kivy.core.window import Window

        app = self.app
        if self._t0 is not None:  # a scan in flight
            if self._done_at is None and self._shown > self._handled:
                self._done_at = self._shown_at
            if self._done_at is not None and self._last_flip >= self._done_at:
                self.latencies.append((self._last_flip - self._t0) * 1000.0)
                self._t0 = self._done_at = None
                self.i += 1
            return 0
        if app.bridge.busy:
            return 0
        while self.i < len(self.plan):
            kind, arg = self.plan[self.i]
            if kind == "scan" and self.scans >= self.measure:
                # Past the measured scans: type the next scans at once, as a fast
                # patron with a fast scanner would, and let frames coalesce.
                self.scans += 1
                self.pilot.type_keys(arg)
                self.i += 1
                continue
            if kind != "scan" and kind != "mark" and app.bridge.busy:
                return 0
            if kind == "scan":
                self._handled = self._shown
                self._t0 = time.perf_counter()
                self.scans += 1
                self.pilot.type_keys(arg)
                return 0
            if kind == "mark":
                self.rss_warm = rss_mb()
            elif arg == "finish_borrow":
                borrow = app.screen("borrow")
                borrow.finish()
                borrow.choose_slip(False)
                self.i += 1
                return 0  # choose_slip runs on the flow thread: wait until it is done
            elif arg == "home":
                app.go_home()
            elif arg == "open_return":
                app.go("return")
            self.i += 1
        Window.unbind(on_flip=self._on_flip)
        app.unbind(on_scan_shown=self._on_scan_shown)
        return None

    def metrics(self) -> dict[str, float]:
        lat = sorted(self.latencies)
        p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))] if lat else 0.0
        end = rss_mb()
        return {
            "scans": float(self.scans),
            "latency_samples": float(len(lat)),
            "scan_to_screen_p50_ms": statistics.median(lat) if lat else 0.0,
            "scan_to_screen_p99_ms": p99,
            "rss_warm_mb": self.rss_warm or 0.0,
            "rss_end_mb": end,
            "rss_growth_mb": end - (self.rss_warm or end),
        }


def rss_step(driver: Any, step: dict) -> None:
    """``{"rss": "name"}``: the app's resident memory now, as metric ``rss_mb_name``."""
    driver.metrics[f"rss_mb_{step['rss']}"] = rss_mb()


class BenchScansStep:
    """``{"bench_scans": {"n": 500, "measure": 150}}``: runs a :class:`BenchScans` to its end."""

    def __init__(self) -> None:
        self.bench: BenchScans | None = None

    def __call__(self, driver: Any, step: dict) -> float | None:
        arg = step["bench_scans"]
        if self.bench is None:
            n, measure = int(arg.get("n", 500)), int(arg.get("measure", 150))
            self.bench = BenchScans(driver, n, measure, str(arg.get("mode", "borrow")))
        wait = self.bench.tick()
        if wait is None:
            driver.metrics.update(self.bench.metrics())
            self.bench = None
            driver._deadline = None
        else:
            # Never time out a benchmark loop: it ends when its plan is done.
            driver._deadline = time.monotonic() + 3600
        return wait


if __name__ == "__main__":
    raise SystemExit(scripted.main(extra_steps={"rss": rss_step, "bench_scans": BenchScansStep()}))
