"""The kiosk's staff screen counts the conflicts still open on the server: those staff
resolved there stop counting, and those a later merge opened start counting."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from core.wire import Kind, Status, TransactionResult
from sync.outbox import RESOLVED
from tests.helpers import outbox_row, server_result
from tests.sync.parts import lent_twice, offline_accepted, sent_checkins, two_kiosks, wait_for
from tests.sync.test_sync_server import staff_conflicts

pytestmark = pytest.mark.timeout(120)


def _server_status(k, tx_id: str) -> str | None:
    return k.store._db.execute("SELECT server_status FROM outbox WHERE id=?", (tx_id,)).fetchone()[
        0
    ]


def _resolve(srv, conflict_id: int) -> None:
    login = requests.post(
        srv.url + "/api/v1/staff/login",
        json={"name": "petugas", "password": "petugas123"},
        timeout=10,
    )
    r = requests.post(
        f"{srv.url}/api/v1/staff/conflicts/{conflict_id}/resolve",
        json={"note": "book found on the shelf"},
        headers={"Authorization": f"Bearer {login.json()['token']}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text


def test_a_conflict_staff_resolved_on_the_server_stops_counting(tmp_path, server):
    k1, k2 = two_kiosks(tmp_path, server)
    k1.worker.refresh_snapshot()
    [other] = offline_accepted(k1, [(Kind.CHECKOUT, "B000102")])
    late = lent_twice(k1, k2)
    assert k1.store.stats().conflicts == 1
    assert k1.worker.refresh_conflicts() == (0, 0)  # still open: nothing changes

    [conflict] = [c for c in staff_conflicts(server) if c["transaction_id"] == late.id]
    _resolve(server, conflict["id"])
    assert k1.worker.refresh_conflicts() == (1, 0)
    stats = k1.store.stats()
    assert (stats.conflicts, stats.mismatches) == (0, 1)  # what the patron was told stays
    assert _server_status(k1, late.id) == RESOLVED
    assert _server_status(k1, other.id) == Status.ACCEPTED.value
    assert k1.worker.refresh_conflicts() == (0, 0)
    k1.close()
    k2.close()


def test_a_conflict_a_later_merge_opened_starts_counting(tmp_path, server):
    k1, k2 = two_kiosks(tmp_path, server)
    k1.worker.refresh_snapshot()
    [lent] = offline_accepted(k1, [(Kind.CHECKOUT, "B000104")])
    k1.worker.drain_all()
    assert server_result(outbox_row(k1.store, lent.id)).status == Status.ACCEPTED
    # k2 was offline longer: its checkout of the same book an hour earlier arrives now
    earlier = k2.store.new_transaction(
        Kind.CHECKOUT, at=lent.at - timedelta(hours=1), card="AGT0002", item="B000104",
        offline=True,
    )  # fmt: skip
    k2.store.commit(
        earlier, TransactionResult(id=earlier.id, status=Status.ACCEPTED), applied_on_server=False
    )
    k2.worker.drain_all()
    open_on_server = {c["transaction_id"] for c in staff_conflicts(server)}
    assert lent.id in open_on_server  # the merge made k1's loan the conflict

    assert k1.store.stats().conflicts == 0  # k1 heard "accepted" when it sent it
    # the running sync loop asks with each snapshot refresh
    k1.worker.snapshot_interval_s = 0.1
    k1.worker.start()
    wait_for(lambda: k1.store.stats().conflicts == 1, what="the opened conflict")
    k1.worker.stop()
    assert _server_status(k1, lent.id) == "conflict"
    assert k1.worker.refresh_conflicts() == (0, 0)
    k1.close()
    k2.close()


def test_a_result_newer_than_the_list_is_left_alone(tmp_path):
    """A conflict recorded after the server's list was made may not be in it yet."""
    from sync.store import LocalStore

    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    txs = sent_checkins(
        store, 2, result=lambda t: TransactionResult(id=t.id, status=Status.CONFLICT)
    )
    sent_at = store._db.execute("SELECT MAX(sent_at) FROM outbox").fetchone()[0]
    assert store.match_conflicts([], asked_at=sent_at) == (0, 0)
    assert store.stats().conflicts == 2
    assert store.match_conflicts([txs[1].id], asked_at=sent_at + 1) == (1, 0)
    assert store.stats().conflicts == 1
    store.close()
