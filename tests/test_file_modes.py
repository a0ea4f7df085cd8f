"""Kiosk files holding the token or patron data are 0600, and the kiosk warns when not."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from kiosk.cli import main as kiosk_main
from kiosk.config import load_settings
from kiosk.demo import write_kiosk_config
from kiosk.flows.staff import StaffFlow
from kiosk.runtime import build_runtime


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _config(folder: Path) -> Path:
    cfg = folder / "kiosk.toml"
    write_kiosk_config(cfg, url="http://127.0.0.1:9", token="rahasia", data_dir=folder / "data")
    return cfg


def test_kiosk_files_are_created_private_even_with_an_open_umask(tmp_path):
    old = os.umask(0o022)  # the usual default: files 0644
    try:
        cfg = _config(tmp_path)
        rt = build_runtime(load_settings(cfg), sync=False)
        try:
            flow = StaffFlow(rt)
            flow.hidden_entry()
            flow.enter_pin("9999")
            assert flow.print_test().severity.value == "success"
            assert flow.export_queue(tmp_path / "data" / "export").severity.value == "success"
            data = tmp_path / "data"
            files = [cfg, data / "kiosk.sqlite3", data / "kiosk.sqlite3-wal"]
            files += [data / "kiosk.sqlite3-shm"]
            files += list((data / "slips").glob("*.png"))
            files += list((data / "export").glob("*.jsonl"))
            assert len(files) == 6
            assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
        finally:
            rt.stop()
    finally:
        os.umask(old)


def test_readable_files_are_warned_about_once_at_start(tmp_path, caplog, capsys):
    cfg = _config(tmp_path)
    settings = load_settings(cfg)
    rt = build_runtime(settings, sync=False)
    rt.stop()
    assert not rt.exposed_files
    cfg.chmod(0o644)  # as a copy made by hand might be
    (tmp_path / "data" / "kiosk.sqlite3").chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="kiosk.filemodes"):
        rt = build_runtime(settings, sync=False)
    try:
        warned = [r for r in caplog.records if r.name == "kiosk.filemodes"]
        assert len(warned) == 1
        assert str(cfg) in warned[0].getMessage() and "chmod 600" in warned[0].getMessage()
        flow = StaffFlow(rt)
        flow.hidden_entry()
        flow.enter_pin("9999")
        # SQLite gives its -wal and -shm files the database's mode
        assert flow.status().exposed_files == (
            "kiosk.toml",
            "kiosk.sqlite3",
            "kiosk.sqlite3-wal",
            "kiosk.sqlite3-shm",
        )
    finally:
        rt.stop()
    assert kiosk_main(["--config", str(cfg), "status"]) == 0
    out = capsys.readouterr().out
    assert (
        "private files: READABLE BY OTHER USERS: kiosk.toml, kiosk.sqlite3, kiosk.sqlite3-wal"
        " and 1 more (chmod 600 them)"
    ) in out
    # the kiosk does not change modes on its own: staff fix them
    assert mode(cfg) == 0o644
    for path in [cfg, *(tmp_path / "data").glob("kiosk.sqlite3*")]:
        path.chmod(0o600)
    assert kiosk_main(["--config", str(cfg), "status"]) == 0
    assert "private files: readable by this user only" in capsys.readouterr().out
