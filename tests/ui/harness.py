"""Start the real kiosk app in a subprocess with a scripted scenario (see tests.ui.scripted).

Kivy has one App and one Window per process, so every UI test gets its own
process; the pytest process itself never imports a Kivy window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def kiosk_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KIVY_NO_ARGS="1",
        KIVY_HOME=str(tmp / "kivy-home"),
        KIVY_LOG_LEVEL="warning",
        KIVY_NO_CONSOLELOG="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def write_config(tmp: Path, *, lang: str = "id", extra: str = "") -> Path:
    cfg = tmp / "kiosk.toml"
    cfg.write_text(
        f"""
[kiosk]
name = "kiosk-ui-test"
language = "{lang}"
data_dir = "{tmp / "data"}"
demo = true

[server]
token = ""

[devices]
scanners = ["wedge:"]
printer = "preview:"
{extra}
"""
    )
    return cfg


def run_scenario(
    tmp: Path,
    steps: list[dict],
    *,
    lang: str = "id",
    extra_config: str = "",
    seed: bool = True,
    during: Callable[[Path, subprocess.Popen], None] | None = None,
    timeout: float = 90.0,
) -> dict:
    """Run the app through ``steps``; returns result.json (errors, texts, shots, metrics)."""
    out = tmp / "out"
    out.mkdir(parents=True, exist_ok=True)
    script = tmp / "steps.json"
    script.write_text(json.dumps(steps))
    cfg = write_config(tmp, lang=lang, extra=extra_config)
    cmd = [sys.executable, "-m", "tests.ui.scripted", "--config", str(cfg)]
    cmd += ["--script", str(script), "--out", str(out), "--max-s", str(timeout - 5)]
    if seed:
        cmd.append("--seed-demo")
    log = (tmp / "app.log").open("w")
    proc = subprocess.Popen(cmd, env=kiosk_env(tmp), stdout=log, stderr=subprocess.STDOUT)
    try:
        if during is not None:
            during(out, proc)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    result_file = out / "result.json"
    if not result_file.exists():
        tail = (tmp / "app.log").read_text()[-4000:]
        raise AssertionError(f"the app wrote no result (exit {proc.returncode}):\n{tail}")
    return json.loads(result_file.read_text())


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the app exited before {path.name}")
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {path.name}")
        time.sleep(0.05)
