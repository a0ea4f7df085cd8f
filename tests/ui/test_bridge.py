"""The one hop back to the Kivy thread: work runs off the UI thread, results come back on it.

The checks import Kivy's clock, so they run in a child process: the pytest
process stays free of Kivy (the flow tests assert that flows never import it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.ui.harness import ROOT, kiosk_env


def test_bridge_runs_work_off_the_ui_thread(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ui.bridge_check"],
        cwd=ROOT,
        env=kiosk_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "bridge ok" in proc.stdout
