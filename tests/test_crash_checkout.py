"""Walking skeleton's crash test: SIGKILL right after a confirmed checkout.

The station is told "done" only after the local commit, so whatever instant
the process dies at, the checkout is in the outbox on restart and reaches the
server exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess

import pytest

from tests.server_process import ServerProcess
from tests.sync.parts import loans_per_checkout, open_loans, server_tx_ids, wait_for
from tests.sync.test_headless import station_cmd, write_config

pytestmark = pytest.mark.timeout(120)


def _outbox(path) -> dict[str, str]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT id, state FROM outbox"))
    finally:
        db.close()


def _start(cfg):
    return subprocess.Popen(
        station_cmd(cfg, "--mode", "checkout"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _send(proc, *scans: str) -> None:
    for s in scans:
        proc.stdin.write(s + "\n")
    proc.stdin.flush()


def _next_tx(proc) -> dict:
    while True:
        line = json.loads(proc.stdout.readline())
        if line["type"] == "transaction":
            return line


def test_killed_right_after_confirming_a_checkout(tmp_path):
    srv = ServerProcess(tmp_path / "server")
    srv.setup_demo("k1")
    srv.start()
    cfg = write_config(tmp_path / "kiosk", url=srv.url, token=srv.tokens["k1"])
    db_path = tmp_path / "kiosk" / "data" / "kiosk.sqlite3"
    try:
        # Warm up: the station fetches its snapshot, then the network goes away.
        proc = _start(cfg)
        wait_for(lambda: db_path.exists() and _has_snapshot(db_path), 20, "the first snapshot")
        srv.stop()
        _send(proc, "AGT0001", "B000101")
        line = _next_tx(proc)
        os.kill(proc.pid, signal.SIGKILL)  # right after the patron was told "done"
        proc.wait(10)
        assert line["result"] == "accepted" and line["offline"] is True
        # Unsent: pending, or in flight if the sync worker had just picked it up
        # (the next start puts in-flight rows back to pending).
        assert _outbox(db_path)[line["id"]] in ("pending", "in_flight")

        # And once more online: the server decides, the kiosk commits, then dies.
        srv.start()
        proc = _start(cfg)
        wait_for(lambda: line["id"] in server_tx_ids(srv), 30, "the queued checkout to sync")
        _send(proc, "AGT0001", "B000102")
        online = _next_tx(proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert online["result"] == "accepted" and online["offline"] is False

        # Restart once more and let it sync: nothing is sent twice.
        proc = _start(cfg)
        wait_for(lambda: _outbox(db_path)[line["id"]] == "sent", 30, "the outbox row to be sent")
        proc.stdin.close()
        assert proc.wait(30) == 0
        assert sorted(server_tx_ids(srv)) == sorted([line["id"], online["id"]])
        assert loans_per_checkout(srv) == {line["id"]: 1, online["id"]: 1}
        assert open_loans(srv) == {"B000101": "AGT0001", "B000102": "AGT0001"}
    finally:
        srv.stop()


def _has_snapshot(path) -> bool:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return (
                db.execute("SELECT 1 FROM meta WHERE key='snapshot_cursor'").fetchone() is not None
            )
        finally:
            db.close()
    except sqlite3.Error:
        return False
