"""The screenless station as a real process: stdin scans in, JSON lines out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.wire import Kind, Status
from sync.store import LocalStore, OutboxState
from tests.demo_library import library_snapshot
from tests.helpers import kiosk_keys
from tests.sync.parts import failed_behind_conflicts


def write_config(folder: Path, *, url: str = "http://127.0.0.1:9", token: str = "", **hs) -> Path:
    """A kiosk.toml for a station reading scans from stdin, with no printer."""
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in hs.items())
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "kiosk.toml"
    cfg.write_text(
        f"""
[kiosk]
name = "k1"
data_dir = "data"

[server]
url = "{url}"
token = "{token}"
decision_timeout_s = 1.5
sync_interval_s = 0.2
snapshot_interval_s = 60

[devices]
scanners = ["stdin:"]
printer = "none:"

[headless]
beep = false
{extra}"""
    )
    return cfg


def kiosk_cmd(cfg: Path, *args: str) -> list[str]:
    exe = Path(sys.executable).with_name("kiosk")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "kiosk"]
    return base + ["--config", str(cfg), "--log-level", "WARNING", *args]


def station_cmd(cfg: Path, *args: str) -> list[str]:
    return kiosk_cmd(cfg, "--headless", *args)


pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _this_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The venv's ``kiosk`` may be an editable install of another checkout: the station
    processes must run this one, the code under test."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    )


def _lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_offline_checkout_session_prints_committed_lines(tmp_path):
    cfg = write_config(tmp_path, idle_timeout_s=30)
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys(tmp_path / "data")
    )
    store.apply_snapshot(library_snapshot())
    store.close()
    scans = "AGT0001\nB000101\nB000109\nB000102\nSELESAI\nB000103\nAGT0003\n"
    proc = subprocess.run(
        station_cmd(cfg, "--mode", "checkout"),
        input=scans,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = _lines(proc.stdout)
    txs = [o for o in out if o["type"] == "transaction"]
    assert [(t["item"], t["result"], t["reason"]) for t in txs] == [
        ("B000101", "accepted", None),
        ("B000109", "refused", "item_not_for_loan"),
        ("B000102", "accepted", None),
    ]
    assert all(t["offline"] and t["card"] == "AGT0001" and t["kind"] == "checkout" for t in txs)
    notices = [o for o in out if o["type"] == "notice"]
    assert any(n.get("event") == "session_end" and n["borrowed"] == 2 for n in notices)
    # After the end code, an item without a card is refused with a message, no transaction.
    assert any(n["code"] == "B000103" and n["severity"] == "error" for n in notices)
    # The blocked card gives a notice that says why.
    assert any(n["code"] == "AGT0003" and "diblokir" in n["message"] for n in notices)
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys(tmp_path / "data")
    )
    for t in txs:
        assert store.row(t["id"]) is not None
    assert [r.tx.id for r in store.rows([OutboxState.PENDING])] == [txs[0]["id"], txs[2]["id"]]
    store.close()


def test_next_card_and_idle_timeout_end_sessions(tmp_path):
    cfg = write_config(tmp_path, idle_timeout_s=0.3)
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys(tmp_path / "data")
    )
    snap = library_snapshot()
    p2 = snap.patrons[0].model_copy(update={"card": "AGT0005", "first_name": "Budi"})
    store.apply_snapshot(snap.model_copy(update={"patrons": [*snap.patrons, p2]}))
    store.close()
    proc = subprocess.Popen(
        station_cmd(cfg, "--mode", "checkout"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def send(line: str) -> None:
        stdin.write(line + "\n")
        stdin.flush()

    def read_until(pred) -> dict:
        while True:
            obj = json.loads(stdout.readline())
            if pred(obj):
                return obj

    send("AGT0001")
    send("B000101")
    read_until(lambda o: o.get("item") == "B000101")
    send("AGT0005")  # the next patron's card ends the first session
    end = read_until(lambda o: o.get("event") == "session_end")
    assert end["code"] == "next_card" and end["borrowed"] == 1
    send("B000102")
    second = read_until(lambda o: o.get("item") == "B000102")
    assert second["card"] == "AGT0005" and second["result"] == "accepted"
    idle = read_until(lambda o: o.get("event") == "session_end")  # nothing scanned for 0.3 s
    assert idle["code"] == "idle"
    send("B000103")  # no session: an item alone is refused
    assert read_until(lambda o: o.get("code") == "B000103")["severity"] == "error"
    proc.stdin.close()
    assert proc.wait(30) == 0


def test_door_mode_signs_in_once(tmp_path):
    cfg = write_config(tmp_path)
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys(tmp_path / "data")
    )
    store.apply_snapshot(library_snapshot())
    store.close()
    proc = subprocess.run(
        station_cmd(cfg, "--mode", "door", "--event", "1"),
        input="AGT0001\nAGT0001\nPK1.1.ABCD.xxxx\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    txs = [o for o in _lines(proc.stdout) if o["type"] == "transaction"]
    assert [(t["kind"], t["result"], t["reason"]) for t in txs[:2]] == [
        ("door_signin", "accepted", None),
        ("door_signin", "refused", "already_signed_in"),
    ]


def test_socket_scanner_feeds_the_station(tmp_path):
    """``socket://HOST:PORT`` (a network scanner or a test feeding one) instead of stdin."""
    import signal
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    cfg = write_config(tmp_path, scanners=[f"socket://127.0.0.1:{port}"])
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys(tmp_path / "data")
    )
    store.apply_snapshot(library_snapshot())
    store.close()
    proc = subprocess.Popen(
        station_cmd(cfg, "--mode", "return"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        listener.settimeout(20)
        conn, _ = listener.accept()
        # pyserial's socket:// open() discards whatever already arrived
        # (reset_input_buffer), so give it a moment before the first scan.
        time.sleep(1.0)
        conn.sendall(b"B000101\r\nB000109\r\n")
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        second = json.loads(proc.stdout.readline())
        assert (first["kind"], first["item"], first["offline"]) == ("checkin", "B000101", True)
        assert second["item"] == "B000109" and second["result"] in ("accepted", "refused")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        conn.close()
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()


def test_door_station_signed_ticket_online_and_forged_ticket(tmp_path, server):
    from tests.sync.parts import make_kiosk

    desk = make_kiosk(tmp_path / "desk", "k2", server.url, server.tokens["k2"])
    reg = desk.decider.submit(Kind.EVENT_REGISTER, card="AGT0001", event_id=1)
    assert reg.result.status == Status.ACCEPTED and reg.result.ticket, reg.result
    desk.close()
    ticket = reg.result.ticket
    head, _, sig = ticket.rpartition(".")
    forged = head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    cfg = write_config(tmp_path / "door", url=server.url, token=server.tokens["k1"])
    door = make_kiosk(tmp_path / "door" / "data", "k1", server.url, server.tokens["k1"])
    door.worker.refresh_snapshot()  # the station starts with the ticket public key
    assert door.store.ticket_public_key()
    door.close()
    proc = subprocess.run(
        station_cmd(cfg, "--mode", "door", "--event", "1"),
        input=f"{ticket}\n{ticket}\n{forged}\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = _lines(proc.stdout)
    txs = [o for o in out if o["type"] == "transaction"]
    assert [(t["result"], t["reason"], t["offline"]) for t in txs] == [
        ("accepted", None, False),
        ("refused", "already_signed_in", False),
    ]
    assert txs[0]["ticket"] == ticket and txs[0]["event_id"] == 1
    # The forged one never became a transaction: the signature is checked locally.
    notices = [o for o in out if o["type"] == "notice"]
    assert [n["code"] for n in notices] == ["ticket"]
    assert "Tiket tidak sah" in notices[0]["message"]


def test_status_lists_the_oldest_failed_rows_and_says_how_many_more(tmp_path):
    """A screenless station's staff find failed rows through ``kiosk status``: the oldest
    first (the order to send them again), even behind newer conflicts, and a line says
    how many were not listed."""
    cfg = write_config(tmp_path)  # no token: status does not wait for a server
    store = LocalStore(
        tmp_path / "data" / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys(tmp_path / "data")
    )
    failed = failed_behind_conflicts(store, failed=23, conflicts=100)
    store.close()
    out = subprocess.run(kiosk_cmd(cfg, "status"), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    listed = [ln.split()[1] for ln in lines if ln.startswith("failed: ") and " checkin " in ln]
    assert "failed: 23" in lines
    assert listed == failed[:20]
    assert "failed: ... and 3 more, listed once those above are settled" in out.stdout
    assert "refused 0 (kiosk resend ID)" in out.stdout and "refused 20" not in out.stdout
    # The newer conflicts differ from what patrons were told: 20 listed, then the rest.
    assert len([ln for ln in lines if ln.startswith("mismatch: 0")]) == 20
    assert "mismatch: ... and 80 more, listed once those above are settled" in lines
