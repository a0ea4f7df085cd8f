"""The real app under Xvfb: Home -> Borrow -> slip choice -> thanks -> Home, and the wedge path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.ui.harness import run_scenario, wait_for_file

pytestmark = pytest.mark.xvfb


def test_borrow_one_book_by_keyboard_wedge(tmp_path: Path) -> None:
    steps = [
        {"expect_screen": "home"},
        {"expect": "Pinjam"},
        {"expect": "Kembalikan"},
        {"shot": "home"},
        {"scan": "AGT0001"},  # window key events, as a wedge scanner types them
        {"expect_screen": "borrow"},
        {"expect": "Selamat datang, Siti"},
        {"scan": "B000101"},
        {"expect": "Laskar Pelangi"},
        {"expect": "Jatuh tempo"},
        {"texts": "items"},
        {"shot": "borrow"},
        {"tap": "done"},
        {"expect": "Cetak struk?"},
        {"tap": "slip_no"},
        {"expect": "Terima kasih"},
        {"tap": "home"},
        {"expect_screen": "home"},
    ]
    res = run_scenario(tmp_path, steps)
    assert res["errors"] == []
    assert res["screen"] == "home"
    assert any("Jatuh tempo" in t and "20" in t for t in res["texts"]["items"])
    for name in ("home", "borrow"):
        assert Path(res["shots"][name]).stat().st_size > 10_000


def test_return_screen_confirms_title(tmp_path: Path) -> None:
    steps = [
        {"tap": "tile_return"},
        {"expect_screen": "return"},
        {"scan": "B000106"},
        {"expect": "Perahu Kertas"},
        {"expect": "Berhasil dikembalikan"},
        {"shot": "return"},
        {"tap": "done"},
        {"expect": "Terima kasih"},
    ]
    res = run_scenario(tmp_path, steps)
    assert res["errors"] == []


def _xdotool(*args: str) -> str:
    return subprocess.run(
        ["xdotool", *args], check=True, capture_output=True, text=True, timeout=20
    ).stdout.strip()


def test_real_keystrokes_through_the_x_server(tmp_path: Path) -> None:
    """xdotool types into the SDL window through Xvfb, exactly as a USB wedge scanner does."""

    def type_card(out: Path, proc: subprocess.Popen) -> None:
        wait_for_file(out / "ready.signal", proc)
        window = _xdotool("getwindowfocus")
        assert window
        _xdotool("type", "--delay", "5", "AGT0001")
        _xdotool("key", "Return")
        wait_for_file(out / "borrowing.signal", proc)
        _xdotool("type", "--delay", "5", "B000102")
        _xdotool("key", "Return")

    steps: list[dict] = [
        {"expect_screen": "home"},
        {"wait": 0.3},
        {"signal": "ready"},
        {"expect": "Selamat datang, Siti", "timeout": 20},
        {"signal": "borrowing"},
        {"expect": "Bumi Manusia", "timeout": 20},
        {"shot": "xdotool"},
    ]
    res = run_scenario(tmp_path, steps, during=type_card)
    assert res["errors"] == []
    assert Path(res["shots"]["xdotool"]).exists()
