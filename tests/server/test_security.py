"""Issue 18, server side: staff sessions, login throttling, bodies, revocation,
offline bounds, per-kiosk ids, retention and the API docs switch.

Every test talks real HTTP to uvicorn on 127.0.0.1 (in this process, so the staff
session clock can be moved on), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import uvicorn
from sqlalchemy import func, select, update

from server.admin import add_kiosk, add_staff
from server.app import create_app
from server.cli import main as cli
from server.models import Conflict, Event, Loan, Registration, Transaction
from server.retention import purge_history
from server.service import Server
from tests.server.conftest import DEMO_STAFF_PASSWORD
from tests.server.helpers import soon, tx

API = "/api/v1"


class Clock:
    """The staff sessions' wall clock, moved on by the tests."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Live:
    base: str
    port: int
    server: Server
    clock: Clock
    kiosk_a: dict[str, str]
    kiosk_b: dict[str, str]

    def login(self, password: str = DEMO_STAFF_PASSWORD, name: str = "petugas"):
        return requests.post(
            f"{self.base}{API}/staff/login", json={"name": name, "password": password}, timeout=10
        )

    def staff_headers(self) -> dict[str, str]:
        r = self.login()
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def post(self, headers: dict[str, str], *txns: dict) -> list[dict]:
        r = requests.post(
            f"{self.base}{API}/transactions",
            json={"transactions": list(txns)},
            headers=headers,
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()["results"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(server: Server, clock: Clock) -> Iterator[tuple[str, int]]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(server, clock=clock), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        uv.should_exit = True
        thread.join(10)


@pytest.fixture
def live(demo: Server) -> Iterator[Live]:
    clock = Clock()
    a = {"Authorization": f"Bearer {add_kiosk(demo.db, 'kiosk-a')}"}
    b = {"Authorization": f"Bearer {add_kiosk(demo.db, 'kiosk-b')}"}
    for base, port in _serve(demo, clock):
        yield Live(base, port, demo, clock, a, b)


def _raw(port: int, head: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(head.encode("latin-1"))
    return sock


def _status(sock: socket.socket) -> int:
    """The status of the answer, read while the body is still unsent (5 s at most)."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


# --- bodies ------------------------------------------------------------------------


def test_a_50_mb_body_without_token_is_refused_unread(live: Live) -> None:
    sock = _raw(
        live.port,
        f"POST {API}/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n",
    )
    with sock:
        sock.sendall(b'{"transactions": [' + b" " * 65536)  # and never the rest
        assert _status(sock) == 401


def test_a_chunked_body_without_token_is_refused_unread(live: Live) -> None:
    sock = _raw(
        live.port,
        f"POST {API}/transactions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Authorization: Bearer not-a-token\r\n\r\n",
    )
    with sock:
        sock.sendall(b"10000\r\n" + b" " * 65536 + b"\r\n")  # never finished
        assert _status(sock) == 401


def test_oversize_bodies_with_a_token_are_413(live: Live) -> None:
    token = live.kiosk_a["Authorization"]
    sock = _raw(
        live.port,
        f"POST {API}/transactions HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n",
    )
    with sock:
        assert _status(sock) == 413  # before one byte of the body was sent
    # chunked, no length: refused once what was read passes the cap
    sock = _raw(
        live.port,
        f"POST {API}/transactions HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    with sock:
        chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"  # 1 MB
        try:
            for _ in range(8):  # the cap is 4 MB; the server answers and closes first
                sock.sendall(chunk)
        except OSError:
            pass
        assert _status(sock) == 413
    big_login = {"name": "petugas", "password": "x" * 100, "pad": "y" * 8000}
    r = requests.post(f"{live.base}{API}/staff/login", json=big_login, timeout=10)
    assert r.status_code == 413 and r.json()["code"] == "content_too_large"


# --- idempotency per kiosk and bounds on offline values -----------------------------


def test_an_id_of_another_kiosk_is_refused_with_nothing_of_its_result(live: Live) -> None:
    eid = requests.get(f"{live.base}{API}/events", headers=live.kiosk_a, timeout=10).json()[0]["id"]
    first = tx("event_register", "kiosk-a", card="AGT0001", event_id=eid)
    [a] = live.post(live.kiosk_a, first)
    assert a["status"] == "accepted" and a["ticket"]
    stolen = {**first, "kiosk": "kiosk-b"}
    [b] = live.post(live.kiosk_b, stolen)
    assert b["status"] == "refused" and b["reason"] == "id_of_other_kiosk"
    assert b.get("ticket") is None and b.get("event_id") is None and not b.get("duplicate")
    [again] = live.post(live.kiosk_a, first)  # the owner still gets its first result
    assert again["duplicate"] and again["ticket"] == a["ticket"]


def test_far_future_offline_values_are_clamped_and_flagged(live: Live) -> None:
    future = datetime(2099, 6, 1, 10, tzinfo=UTC)
    [r] = live.post(
        live.kiosk_a,
        tx(
            "checkout",
            "kiosk-a",
            at=future,
            card="AGT0001",
            item="B000101",
            offline=True,
            due_at="2100-12-31T16:59:59Z",
        ),
    )
    assert r["status"] == "conflict" and r["reason"] == "out_of_bounds"
    now = datetime.now(UTC)
    with live.server.db.read() as s:
        loan = s.scalars(select(Loan).where(Loan.returned_at.is_(None))).one()
        row = s.get(Transaction, r["id"])
    assert loan.issued_at <= now + timedelta(minutes=1)
    assert loan.due_at <= now + timedelta(days=31 + 7)  # longest demo policy: 30 days
    assert row is not None and row.at <= now and "2099" not in row.payload
    conflicts = requests.get(
        f"{live.base}{API}/staff/conflicts", headers=live.staff_headers(), timeout=10
    ).json()
    [c] = [c for c in conflicts if c["transaction_id"] == r["id"]]
    assert c["reason"] == "out_of_bounds" and "2099" in c["message"]


def test_a_clamped_conflict_survives_a_replay(live: Live) -> None:
    [r] = live.post(
        live.kiosk_a,
        tx("checkout", "kiosk-a", at=datetime(2099, 1, 1, tzinfo=UTC), card="AGT0001",
           item="B000102", offline=True),
    )  # fmt: skip
    # a late offline return stamped before it makes the server replay the item
    live.post(
        live.kiosk_b,
        tx("checkin", "kiosk-b", at=soon(-2), item="B000102", offline=True),
    )
    with live.server.db.read() as s:
        c = s.scalars(select(Conflict).where(Conflict.transaction_id == r["id"])).one()
    assert c.reason == "out_of_bounds" and c.resolved_at is None


# --- staff login, sessions ----------------------------------------------------------


def test_login_is_throttled_per_name_with_retry_after(live: Live) -> None:
    for _ in range(5):
        assert live.login("wrong-password").status_code == 401
    r = live.login()  # even the right password waits now
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"
    assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
    # unknown names are answered like known ones, and counted as well
    for _ in range(5):
        r = live.login("whatever", name="nobody")
        assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    assert live.login("whatever", name="nobody").status_code == 429


def test_login_is_throttled_per_address(live: Live) -> None:
    for i in range(20):  # one guess each for many names, from one address
        assert live.login("x", name=f"guess-{i}").status_code == 401
    assert live.login().status_code == 429


def test_logout_ends_the_session(live: Live) -> None:
    headers = live.staff_headers()
    url = f"{live.base}{API}/staff/kiosks"
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    r = requests.post(f"{live.base}{API}/staff/logout", headers=headers, timeout=10)
    assert r.status_code == 204
    assert requests.get(url, headers=headers, timeout=10).status_code == 401


def test_password_change_and_disable_end_sessions(live: Live, tmp_path: Path) -> None:
    url = f"{live.base}{API}/staff/kiosks"
    headers = live.staff_headers()
    add_staff(live.server.db, "petugas", "a-new-password")
    assert requests.get(url, headers=headers, timeout=10).status_code == 401
    assert live.login().status_code == 401
    r = live.login("a-new-password")
    assert r.status_code == 200
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    args = ["--db", live.server.settings.db_url, "--data-dir", str(tmp_path / "cli")]
    assert cli([*args, "disable-staff", "petugas"]) == 0
    assert requests.get(url, headers=headers, timeout=10).status_code == 401
    r = live.login("a-new-password")
    assert r.status_code == 403 and r.json()["code"] == "staff_disabled"
    assert cli([*args, "enable-staff", "petugas"]) == 0
    assert live.login("a-new-password").status_code == 200


def test_idle_sessions_end_and_expired_ones_are_purged(live: Live) -> None:
    url = f"{live.base}{API}/staff/kiosks"
    headers = live.staff_headers()
    live.clock.now += timedelta(minutes=29)
    assert requests.get(url, headers=headers, timeout=10).status_code == 200  # in use
    live.clock.now += timedelta(minutes=29)
    assert requests.get(url, headers=headers, timeout=10).status_code == 200  # still
    live.clock.now += timedelta(minutes=31)
    assert requests.get(url, headers=headers, timeout=10).status_code == 401  # idle
    stale = live.staff_headers()
    live.clock.now += timedelta(hours=13)  # past staff_session_hours, never used
    live.staff_headers()  # a login purges the rows that ended
    with live.server.db.read() as s:
        from server.models import StaffSession

        assert s.scalar(select(func.count()).select_from(StaffSession)) == 1
    assert requests.get(url, headers=stale, timeout=10).status_code == 401


# --- kiosks -------------------------------------------------------------------------


def test_revoke_kiosk_stops_its_token_at_once_and_keeps_its_transactions(
    live: Live,
) -> None:
    [r] = live.post(live.kiosk_a, tx("checkout", "kiosk-a", card="AGT0001", item="B000103"))
    assert r["status"] == "accepted"
    assert requests.get(f"{live.base}{API}/events", headers=live.kiosk_a, timeout=10).ok
    settings = live.server.settings
    code = cli(["--db", settings.db_url, "--data-dir", str(settings.data_dir),
                "revoke-kiosk", "kiosk-a"])  # fmt: skip
    assert code == 0
    # the token was remembered a moment ago; it stops anyway
    r2 = requests.get(f"{live.base}{API}/events", headers=live.kiosk_a, timeout=10)
    assert r2.status_code == 401
    r3 = requests.post(
        f"{live.base}{API}/transactions",
        json={"transactions": [tx("checkin", "kiosk-a", item="B000103")]},
        headers=live.kiosk_a,
        timeout=10,
    )
    assert r3.status_code == 401
    with live.server.db.read() as s:
        assert s.get(Transaction, r["id"]) is not None
    assert requests.get(f"{live.base}{API}/events", headers=live.kiosk_b, timeout=10).ok


# --- retention and docs -------------------------------------------------------------


def test_purge_history_drops_patron_links_and_keeps_counts(live: Live) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    live.post(
        live.kiosk_a,
        tx("checkout", "kiosk-a", at=old, card="AGT0002", item="B000104", offline=True),
        tx("checkin", "kiosk-a", at=old + timedelta(days=3), item="B000104", offline=True),
        tx("checkout", "kiosk-a", at=old, card="AGT0001", item="B000105", offline=True),
    )  # B000105 is still out: its history stays whole
    eid = requests.get(f"{live.base}{API}/events", headers=live.kiosk_a, timeout=10).json()[0]["id"]
    live.post(live.kiosk_a, tx("event_register", "kiosk-a", card="AGT0002", event_id=eid))
    with live.server.db.write() as (s, _v):
        s.execute(
            update(Event)
            .where(Event.id == eid)
            .values(starts_at=old, ends_at=old + timedelta(hours=3))
        )
    report = purge_history(live.server.db, 365)
    assert (report.loans, report.registrations) == (1, 1)
    with live.server.db.read() as s:
        loans = s.scalars(select(Loan).order_by(Loan.issued_at, Loan.id)).all()
        txns = s.scalars(select(Transaction)).all()
        regs = s.scalars(select(Registration)).all()
    assert len(loans) == 2 and len(txns) == 4 and len(regs) == 1  # counts kept
    returned = [loan for loan in loans if loan.returned_at is not None]
    assert [loan.patron_id for loan in returned] == [None]
    assert [loan.patron_id for loan in loans if loan.returned_at is None] != [None]
    for t in txns:
        if t.item == "B000105":
            assert t.card == "AGT0001"  # an open loan's history
        else:
            assert t.card is None and "AGT0002" not in t.payload
    assert regs[0].card is None and regs[0].person_key.startswith("purged:")
    # a late return on the open item still replays correctly afterwards
    [late] = live.post(
        live.kiosk_b,
        tx("checkin", "kiosk-b", at=old + timedelta(days=1), item="B000105", offline=True),
    )
    assert late["status"] == "accepted"
    with live.server.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Loan)) == 2
    assert purge_history(live.server.db, 365).registrations == 0  # once is enough


def test_docs_can_be_switched_off(demo: Server) -> None:
    off = Server(replace(demo.settings, api_docs=False), demo.db)
    for base, _port in _serve(off, Clock()):
        for path in ("/docs", "/openapi.json", "/redoc"):
            assert requests.get(base + path, timeout=10).status_code == 404
        assert requests.get(f"{base}{API}/health", timeout=10).ok
    for base, _port in _serve(demo, Clock()):
        assert requests.get(base + "/openapi.json", timeout=10).status_code == 200
