"""Walking skeleton, end to end: a real server process on 127.0.0.1 with a
temporary SQLite file, the kiosk's real store and sync worker, a checkout
scanned through the flow, and the loan read back from the server."""

from __future__ import annotations

import time

import pytest

from kiosk.config import OfflinePolicy
from kiosk.flows.base import Services
from kiosk.flows.checkin import ReturnFlow
from kiosk.flows.checkout import CheckoutFlow
from sync.client import ServerClient
from sync.connectivity import Connectivity
from sync.decider import Decider
from sync.store import LocalStore, OutboxState
from sync.worker import SyncWorker
from tests.server_process import ServerProcess


@pytest.fixture
def server(tmp_path):
    srv = ServerProcess(tmp_path / "server")
    srv.setup_demo("k1")
    srv.start()
    yield srv
    srv.stop()


def _kiosk(tmp_path, srv: ServerProcess, *, url: str | None = None):
    store = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1")
    base = url or srv.url
    client = ServerClient(base, srv.tokens["k1"], timeout=1.5)
    link = Connectivity(lambda: ServerClient(base, srv.tokens["k1"]).health(timeout=1))
    worker = SyncWorker(
        store, ServerClient(base, srv.tokens["k1"]), link=link, interval_s=0.1, batch_size=50
    )
    decider = Decider(store, client, link, OfflinePolicy())
    return store, worker, Services(decider=decider, store=store)


def _loans(srv: ServerProcess, card: str) -> dict[str, str]:
    resp = srv.account(card, "k1")
    assert resp.status_code == 200, resp.text
    return {loan["item"]: loan["title"] for loan in resp.json()["loans"]}


def test_online_checkout_and_return_reach_server(tmp_path, server):
    store, worker, services = _kiosk(tmp_path, server)
    worker.refresh_snapshot()
    assert store.patron("AGT0001") is not None  # the snapshot arrived

    flow = CheckoutFlow(services)
    flow.scan("AGT0001")
    flow.scan("B000101")
    line = flow.lines[-1]
    assert line.ok and not line.offline and line.title == "Laskar Pelangi"
    assert store.row(line.tx_id).state == OutboxState.SENT  # decided by the server itself
    assert _loans(server, "AGT0001") == {"B000101": "Laskar Pelangi"}

    ret = ReturnFlow(services)
    ret.scan("B000101")
    assert ret.lines[-1].ok and not ret.lines[-1].offline
    assert _loans(server, "AGT0001") == {}
    store.close()


def test_offline_checkout_is_synced_by_worker(tmp_path, server):
    store, worker, services = _kiosk(tmp_path, server)
    worker.refresh_snapshot()
    server.stop()  # the network is gone: decisions come from the snapshot

    flow = CheckoutFlow(services)
    flow.scan("AGT0001")
    flow.scan("B000102")
    line = flow.lines[-1]
    assert line.ok and line.offline
    assert store.row(line.tx_id).state == OutboxState.PENDING

    server.start()
    worker.start()
    deadline = time.monotonic() + 20
    while store.row(line.tx_id).state != OutboxState.SENT and time.monotonic() < deadline:
        time.sleep(0.1)
    worker.stop()
    row = store.row(line.tx_id)
    assert row.state == OutboxState.SENT
    assert row.server_result is not None and row.server_result.status == "accepted"
    assert _loans(server, "AGT0001") == {"B000102": "Bumi Manusia"}
    store.close()
