"""The walking skeleton as a person uses it: the real Kivy app under Xvfb,
connected to a real central server process on 127.0.0.1. Touch "Pinjam",
scan a card and an item as keyboard input, see title and due date, touch
"Selesai", print the slip to the preview; the loan is then on the server.
The same for "Kembalikan"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server_process import ServerProcess
from tests.ui.harness import kiosk_env

pytestmark = pytest.mark.xvfb


def _run_app(tmp: Path, server: ServerProcess, steps: list[dict]) -> dict:
    cfg = tmp / "kiosk.toml"
    cfg.write_text(
        f"""
[kiosk]
name = "k1"
data_dir = "{(tmp / "data").as_posix()}"
demo = true

[server]
url = "{server.url}"
token = "{server.tokens["k1"]}"
# A loaded CI machine must not push this test onto the offline path.
decision_timeout_s = 10

[devices]
scanners = ["wedge:"]
printer = "preview:"
"""
    )
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    (tmp / "steps.json").write_text(json.dumps(steps))
    cmd = [
        sys.executable,
        "-m",
        "tests.ui.scripted",
        "--config",
        str(cfg),
        "--script",
        str(tmp / "steps.json"),
        "--out",
        str(out),
        "--max-s",
        "80",
    ]
    with (tmp / "app.log").open("w") as log:
        proc = subprocess.run(
            cmd, env=kiosk_env(tmp), stdout=log, stderr=subprocess.STDOUT, timeout=100
        )
    result = out / "result.json"
    assert result.exists(), f"exit {proc.returncode}: {(tmp / 'app.log').read_text()[-3000:]}"
    return json.loads(result.read_text())


def _loans(server: ServerProcess, card: str) -> list[str]:
    resp = server.account(card, "k1")
    assert resp.status_code == 200, resp.text
    return [loan["item"] for loan in resp.json()["loans"]]


def test_borrow_and_return_in_the_window_reach_the_server(tmp_path):
    server = ServerProcess(tmp_path / "server")
    server.setup_demo("k1")
    server.start()
    try:
        res = _run_app(
            tmp_path,
            server,
            [
                {"expect_screen": "home"},
                {"tap": "tile_borrow"},
                {"expect_screen": "borrow"},
                {"scan": "AGT0001"},
                {"expect": "Selamat datang, Siti"},
                {"scan": "B000103"},
                {"expect": "Ronggeng Dukuh Paruk"},
                {"expect": "Jatuh tempo"},
                {"texts": "borrowed"},
                {"tap": "done"},
                {"expect": "Cetak struk?"},
                {"wait": 0.5},  # let the slip panel lay out: taps land at a widget's centre
                {"tap": "slip_yes"},
                {"expect": "Terima kasih"},
                {"idle": True},
                {"shot": "thanks"},
            ],
        )
        assert res["errors"] == []
        assert not any("Luring" in t or "Offline" in t for t in res["texts"]["borrowed"])
        assert _loans(server, "AGT0001") == ["B000103"]
        slips = sorted((tmp_path / "data" / "slips").glob("slip-*.png"))
        assert len(slips) == 1 and slips[0].stat().st_size > 5_000

        res = _run_app(
            tmp_path,
            server,
            [
                {"expect_screen": "home"},
                {"tap": "tile_return"},
                {"expect_screen": "return"},
                {"scan": "B000103"},
                {"expect": "Ronggeng Dukuh Paruk"},
                {"expect": "Berhasil dikembalikan"},
                {"tap": "done"},
                {"expect": "Terima kasih"},
            ],
        )
        assert res["errors"] == []
        assert _loans(server, "AGT0001") == []
    finally:
        server.stop()
