"""The screenless guest-book station fed by a ``socket://`` scanner, as a real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from core.wire import Kind
from sync.store import LocalStore, OutboxState
from tests.demo_library import demo_keys, library_snapshot
from tests.sync.test_headless import station_cmd, write_config

pytestmark = pytest.mark.timeout(90)
REPO = Path(__file__).resolve().parents[2]


def test_guestbook_station_counts_each_card_once_a_day(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    cfg = write_config(tmp_path, scanners=[f"socket://127.0.0.1:{port}"])
    data = tmp_path / "data"
    store = LocalStore(data / "kiosk.sqlite3", kiosk="k1", keys=demo_keys(data))
    store.apply_snapshot(library_snapshot())
    store.close()
    proc = subprocess.Popen(
        station_cmd(cfg, "--mode", "guestbook"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # the console script imports whatever checkout the venv was installed from
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p
            ),
        },
    )
    try:
        listener.settimeout(20)
        conn, _ = listener.accept()
        time.sleep(1.0)  # socket:// discards what arrived before it opened
        conn.sendall(b"AGT0001\r\nAGT0002\r\nAGT0001\r\nB000101\r\n")
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(4)]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, proc.stderr.read() if proc.stderr else ""
        conn.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()
    txs = [x for x in lines if x["type"] == "transaction"]
    assert [(t["kind"], t["card"], t["counted"]) for t in txs] == [
        ("visit", "AGT0001", True),
        ("visit", "AGT0002", True),
        ("visit", "AGT0001", False),
    ]
    assert lines[3]["type"] == "notice" and lines[3]["severity"] == "error"
    store = LocalStore(tmp_path / "data" / "kiosk.sqlite3", kiosk="k1")
    rows = [r for r in store.rows() if r.tx.kind == Kind.VISIT]
    store.close()
    # each line states what is on disk, waiting in the outbox (the server is unreachable)
    assert [r.tx.id for r in rows] == [t["id"] for t in txs]
    assert all(r.state == OutboxState.PENDING for r in rows)
