"""The real thing: ``kiosk-server serve`` (uvicorn) on 127.0.0.1 and HTTP requests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core.tickets import verify_ticket
from server.admin import add_kiosk
from server.demo import seed_demo
from server.service import Server
from tests.server.helpers import tx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(server: Server, tmp_path: Path) -> Iterator[tuple[str, str]]:
    seed_demo(server.db, staff_password="petugas123")
    token = add_kiosk(server.db, "kiosk-a")
    port = _free_port()
    env = dict(os.environ)
    env["KIOSK_SERVER_DB"] = server.settings.db_url
    env["KIOSK_SERVER_DATA"] = str(server.settings.data_dir)
    log = (tmp_path / "uvicorn.log").open("wb")
    cmd = [
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/api/v1/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "uvicorn.log").read_text())
            time.sleep(0.1)
        yield base, token
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_checkout_register_and_door_over_real_http(live: tuple[str, str]) -> None:
    base, token = live
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        events = http.get(f"{base}/api/v1/events", timeout=5).json()
        eid = events[0]["id"]
        batch = {
            "transactions": [
                tx("checkout", card="AGT0002", item="B000108"),
                tx("event_register", card="AGT0002", event_id=eid),
            ],
            "queue_depth": 0,
        }
        r = http.post(f"{base}/api/v1/transactions", json=batch, timeout=10)
        assert r.status_code == 200, r.text
        out, reg = r.json()["results"]
        assert out["status"] == "accepted" and out["title"] == "Laut Bercerita"
        again = http.post(f"{base}/api/v1/transactions", json=batch, timeout=10).json()
        assert [x["duplicate"] for x in again["results"]] == [True, True]
        snap = http.get(f"{base}/api/v1/snapshot", timeout=10).json()
        assert verify_ticket(snap["ticket_public_key"], reg["ticket"]).event_id == eid
        door = {"transactions": [tx("door_signin", ticket=reg["ticket"])]}
        [signin] = http.post(f"{base}/api/v1/transactions", json=door, timeout=10).json()["results"]
        assert signin["status"] == "accepted" and signin["attendance_count"] == 1
        bad = http.post(f"{base}/api/v1/transactions", data="{", timeout=5)
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    assert requests.get(f"{base}/api/v1/patrons/AGT0001", timeout=5).status_code == 401
