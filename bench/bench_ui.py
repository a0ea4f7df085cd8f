"""UI benchmarks: cold start to Home, memory beside a minimal Kivy app, 500 scans,
and the guest book's scan-to-welcome.

Each figure comes from the real app in a subprocess (``bench.ui_scans``: the
UI tests' scripted runner with the benchmark's steps) under the current
DISPLAY; with no DISPLAY an Xvfb is started for the run.
The kiosk runs offline on the demo snapshot, so scan latency is the kiosk's
own: wedge detection, offline decision, durable commit, render, next frame.
Under Xvfb every frame is drawn by software OpenGL (llvmpipe), which costs
tens of milliseconds a frame; a kiosk with a GPU draws far faster.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLD_RUNS = 3
SCANS = 500
MEASURED = 150  # scans timed one by one; the rest run a session at a time

MINIMAL_APP = r"""
import sys, time
from kivy.app import App
from kivy.uix.label import Label
from kivy.clock import Clock
from kivy.core.window import Window

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0

class Minimal(App):
    def build(self):
        return Label(text="Pustaka")

    def on_start(self):
        def done(_dt):
            print(rss(), flush=True)
            self.stop()
        Clock.schedule_once(done, 1.0)

Minimal().run()
"""


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KIVY_NO_ARGS="1",
        KIVY_HOME=str(tmp / "kivy-home"),
        KIVY_LOG_LEVEL="error",
        KIVY_NO_CONSOLELOG="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def _config(tmp: Path) -> Path:
    cfg = tmp / "kiosk.toml"
    cfg.write_text(
        f'[kiosk]\ndata_dir = "{tmp / "data"}"\ndemo = true\n'
        '[server]\ntoken = ""\n[ui]\nsound = false\nidle_timeout_s = 3600\n'
        "[offline]\nmax_items_per_session = 5\n[feedback]\nenabled = false\n"
    )
    return cfg


def _seed(tmp: Path) -> None:
    from tests.demo_library import seed_store

    seed_store(tmp / "data")


def _run_app(tmp: Path, steps: list[dict], timeout: float = 150) -> tuple[dict, float]:
    """Run the scripted app; returns (result, seconds from spawn to the first frame)."""
    out = tmp / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    script = tmp / "steps.json"
    script.write_text(json.dumps(steps))
    cmd = [sys.executable, "-m", "bench.ui_scans", "--config", str(_config(tmp))]
    cmd += ["--script", str(script), "--out", str(out), "--max-s", str(timeout)]
    t0 = time.time()
    subprocess.run(cmd, env=_env(tmp), check=True, timeout=timeout + 30, capture_output=True)
    first = float((out / "first_frame").read_text())
    return json.loads((out / "result.json").read_text()), first - t0


class _Display:
    """The current DISPLAY, or an Xvfb started for the benchmark."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.old = os.environ.get("DISPLAY")

    def __enter__(self) -> None:
        if self.old:
            return
        if shutil.which("Xvfb") is None:
            raise RuntimeError("bench_ui needs a display or Xvfb (apt-get install xvfb)")
        num = 90 + os.getpid() % 100
        self.proc = subprocess.Popen(
            ["Xvfb", f":{num}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.environ["DISPLAY"] = f":{num}"
        time.sleep(0.5)

    def __exit__(self, *_: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            if self.old is None:
                os.environ.pop("DISPLAY", None)


def run(rec) -> None:
    with _Display(), tempfile.TemporaryDirectory(prefix="bench-ui-") as tmpdir:
        tmp = Path(tmpdir)
        _seed(tmp)
        # Cold start: process spawn to the first frame of Home (imports, kv, window, store).
        starts = []
        for _ in range(COLD_RUNS):
            _res, took = _run_app(tmp, [{"expect_screen": "home"}])
            starts.append(took)
        rec.record("ui.cold_start_s", statistics.median(starts), "s", "< 2 s")

        res, _took = _run_app(tmp, [{"wait": 1.0}, {"rss": "start"}])
        app_rss = res["metrics"]["rss_mb_start"]
        # A file, not ``-c``: Kivy names the app (and its folders) after argv[0].
        minimal_py = tmp / "minimal_app.py"
        minimal_py.write_text(MINIMAL_APP)
        minimal = subprocess.run(
            [sys.executable, str(minimal_py)],
            env=_env(tmp),
            capture_output=True,
            text=True,
            timeout=60,
        )
        if minimal.returncode != 0:
            raise RuntimeError(f"minimal Kivy app failed: {minimal.stderr[-2000:]}")
        minimal_rss = float(minimal.stdout.strip().splitlines()[-1])
        rec.record("ui.rss_mb", app_rss, "MB", f"<= {1.3 * minimal_rss:.0f} MB (1.3x minimal)")
        rec.record("ui.minimal_kivy_rss_mb", minimal_rss, "MB", "none, the reference")
        rec.record("ui.rss_vs_minimal_ratio", app_rss / minimal_rss, "x", "<= 1.3x")

        steps: list[dict] = [{"wait": 0.5}, {"bench_scans": {"n": SCANS, "measure": MEASURED}}]
        res, _took = _run_app(tmp, steps)
        m = res["metrics"]
        rec.record("ui.rss_growth_mb_500_scans", m["rss_growth_mb"], "MB", "< 5 MB")
        rec.record("ui.scan_to_screen_p50_ms", m["scan_to_screen_p50_ms"], "ms", "none, see p99")
        rec.record("ui.scan_to_screen_p99_ms", m["scan_to_screen_p99_ms"], "ms", "< 50 ms offline")
        if res["errors"]:
            print("bench_ui: " + "; ".join(res["errors"]), file=sys.stderr)
        guestbook(rec, tmp)


GUESTBOOK_SCANS = 200


def guestbook(rec, tmp: Path) -> None:
    """Members scanning at the guest book, offline: first key to the frame with the welcome."""
    steps: list[dict] = [
        {"call": "app.go", "args": ["guestbook"]},
        {"wait": 0.5},
        {"bench_scans": {"n": GUESTBOOK_SCANS, "measure": GUESTBOOK_SCANS, "mode": "guestbook"}},
    ]
    res, _took = _run_app(tmp, steps)
    m = res["metrics"]
    rec.record("ui.guestbook_scan_to_welcome_p50_ms", m["scan_to_screen_p50_ms"], "ms", "none")
    rec.record(
        "ui.guestbook_scan_to_welcome_p99_ms", m["scan_to_screen_p99_ms"], "ms", "< 50 ms offline"
    )
    if res["errors"]:
        print("bench_ui (guest book): " + "; ".join(res["errors"]), file=sys.stderr)
