"""Nothing of a patron stays on screen after their session ends, by Done or by timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.harness import run_scenario

pytestmark = pytest.mark.xvfb

PATRON_TRACES = ("Siti", "AGT**01", "AGT0001", "Laskar Pelangi", "Negeri 5 Menara", "Perahu Kertas")


def _leaks(texts: list[str]) -> list[str]:
    return [t for t in texts if any(p in t for p in PATRON_TRACES)]


def test_idle_timeout_counts_down_and_clears_the_patron(tmp_path: Path) -> None:
    steps: list[dict] = [
        {"scan": "AGT0001"},
        {"expect": "Selamat datang, Siti"},
        {"scan": "B000101"},
        {"expect": "Laskar Pelangi"},
        {"expect": "Sesi akan berakhir dalam", "timeout": 10},
        {"shot": "countdown"},
        {"expect_screen": "home", "timeout": 10},
        {"expect": "Sesi berakhir karena tidak ada aktivitas"},
        {"all_texts": "after_timeout"},
        {"tap": "tile_account"},
        {"texts": "account_fresh"},
    ]
    extra = "[ui]\nidle_timeout_s = 5\ncountdown_s = 3\n"
    res = run_scenario(tmp_path, steps, extra_config=extra)
    assert res["errors"] == [], res["errors"]
    assert _leaks(res["texts"]["after_timeout"]) == []
    assert _leaks(res["texts"]["account_fresh"]) == []


def test_done_clears_every_screen_of_the_patron(tmp_path: Path) -> None:
    steps = [
        {"tap": "lang_en"},  # this patron reads English; the next one meets Bahasa Indonesia
        {"tap": "tile_account"},
        {"scan": "AGT0001"},
        {"expect": "Negeri 5 Menara"},
        {"tap": "done"},
        {"expect_screen": "home"},
        {"tap": "lang_en"},
        {"scan": "AGT0001"},
        {"expect": "Welcome, Siti"},
        {"scan": "B000101"},
        {"expect": "Laskar Pelangi"},
        {"tap": "done"},
        {"tap": "slip_no"},
        {"expect": "Thank you"},
        {"tap": "home"},
        {"expect_screen": "home"},
        {"expect": "Selamat datang di Pustaka Kiosk"},
        {"all_texts": "after_done"},
        {"tap": "tile_borrow"},
        {"texts": "next_patron"},
    ]
    res = run_scenario(tmp_path, steps)
    assert res["errors"] == [], res["errors"]
    assert _leaks(res["texts"]["after_done"]) == []
    assert _leaks(res["texts"]["next_patron"]) == []
