"""Exactly-once through a hostile network: the fault proxy between kiosk and a real server."""

from __future__ import annotations

import time

import pytest

from core.errors import SyncError
from core.wire import Kind, Reason, Status
from sync.connectivity import LinkState
from sync.decider import Decider
from sync.faultproxy import FaultPlan, FaultProxy
from sync.store import OutboxState
from tests.helpers import outbox_row, server_result
from tests.sync.parts import (
    loans_per_checkout,
    make_kiosk,
    open_loans,
    server_conflicts,
    server_tx_ids,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)

ITEMS = ["B000101", "B000102", "B000103", "B000104"]


def _proxy(server, plan=None) -> FaultProxy:
    return FaultProxy(("127.0.0.1", server.port), plan).start()


def test_outbox_drains_exactly_once_through_faults(tmp_path, server):
    proxy = _proxy(server)
    k = make_kiosk(
        tmp_path / "k1", "k1", proxy.url, server.tokens["k1"], batch_size=5, request_timeout_s=1.0
    )
    k.worker.refresh_snapshot()
    offline = Decider(k.store, None, None, k.decider.policy)
    made = []
    for _ in range(6):
        for kind in (Kind.CHECKOUT, Kind.CHECKIN):
            for item in ITEMS:
                if kind == Kind.CHECKOUT:
                    d = offline.submit(kind, item=item, card="AGT0001")
                else:
                    d = offline.submit(kind, item=item)
                assert d.result.status == Status.ACCEPTED, d.result
                made.append(d.tx)
    proxy.plan = FaultPlan(
        refuse=0.1,
        reset_request=0.1,
        drop_response=0.3,
        truncate=0.1,
        delay=0.05,
        delay_s=2,
        seed=7,
    )
    deadline = time.monotonic() + 90
    errors = 0
    while k.store.queue_depth() and time.monotonic() < deadline:
        try:
            k.worker.drain_once()
        except SyncError:
            errors += 1
    assert k.store.queue_depth() == 0
    assert errors > 0 and proxy.counts["drop_response"] > 0 and proxy.counts["truncate"] > 0
    # Every transaction is on the server once; every checkout made exactly one loan.
    on_server = server_tx_ids(server)
    assert sorted(on_server) == sorted(t.id for t in made)
    checkouts = [t.id for t in made if t.kind == Kind.CHECKOUT]
    assert loans_per_checkout(server) == {i: 1 for i in checkouts}
    assert open_loans(server) == {}  # returned last, in event-time order
    rows = k.store.rows()
    assert all(r.state == OutboxState.SENT for r in rows)
    assert all(server_result(r).status == Status.ACCEPTED for r in rows)
    # Some answers were lost after the server committed: the re-send got the first result.
    assert any(server_result(r).duplicate for r in rows)
    assert k.store.stats().mismatches == 0
    k.close()
    proxy.stop()


def test_lost_answer_to_an_online_decision_never_makes_a_second_loan(tmp_path, server):
    proxy = _proxy(server)
    k = make_kiosk(tmp_path / "k1", "k1", proxy.url, server.tokens["k1"])
    k.worker.refresh_snapshot()
    proxy.plan = FaultPlan(drop_response=1.0)  # the server commits, the kiosk hears nothing
    d = k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000105")
    assert d.offline and d.result.status == Status.ACCEPTED  # decided again, offline, same id
    assert k.link.state == LinkState.OFFLINE
    assert open_loans(server) == {"B000105": "AGT0001"}  # the server had applied it
    proxy.plan = FaultPlan()
    k.worker.drain_all()
    row = outbox_row(k.store, d.tx.id)
    assert row.state == OutboxState.SENT and server_result(row).duplicate
    assert loans_per_checkout(server) == {d.tx.id: 1}
    assert server_tx_ids(server) == [d.tx.id]
    k.close()
    proxy.stop()


def test_lost_answer_then_offline_refusal_reaches_staff(tmp_path, server):
    """The server applied an online checkout, its answer was lost, and the offline
    policy then refused the same id (no snapshot yet): the patron was told "refused".
    The refusal is sent all the same, gets the server's first result back, and the
    difference is flagged for staff instead of staying unknown."""
    proxy = _proxy(server)
    k = make_kiosk(tmp_path / "k1", "k1", proxy.url, server.tokens["k1"])  # no snapshot
    proxy.plan = FaultPlan(drop_response=1.0)
    d = k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000106")
    assert d.offline and d.result.status == Status.REFUSED and d.tx.kiosk_refused
    assert open_loans(server) == {"B000106": "AGT0001"}  # the server had applied it
    assert k.store.queue_depth() == 1  # a refusal, queued to be sent
    proxy.plan = FaultPlan()
    k.worker.drain_all()
    row = outbox_row(k.store, d.tx.id)
    assert row.state == OutboxState.SENT
    assert server_result(row).status == Status.ACCEPTED and server_result(row).duplicate
    assert [m.tx.id for m in k.store.mismatches()] == [d.tx.id]
    mismatch = k.store.mismatches()[0].mismatch
    assert mismatch is not None and "kiosk said refused, server says accepted" in mismatch
    assert loans_per_checkout(server) == {d.tx.id: 1}
    # ... and on the server too, where staff resolve conflicts for every kiosk
    assert server_conflicts(server) == [(d.tx.id, "kiosk_told_refused")]
    k.close()
    proxy.stop()


def test_offline_refusal_after_an_undelivered_attempt_changes_nothing(tmp_path, server):
    """The online attempt never reached the server: the refusal sent later is logged
    with no effect, and a late copy of the attempt can no longer make a loan."""
    proxy = _proxy(server)
    k = make_kiosk(tmp_path / "k1", "k1", proxy.url, server.tokens["k1"])  # no snapshot
    proxy.plan = FaultPlan(refuse=1.0)
    d = k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000106")
    assert d.offline and d.result.status == Status.REFUSED and d.tx.kiosk_refused
    assert server_tx_ids(server) == []
    proxy.plan = FaultPlan()
    k.worker.drain_all()
    row = outbox_row(k.store, d.tx.id)
    assert row.state == OutboxState.SENT and server_result(row).status == Status.REFUSED
    assert server_result(row).reason == Reason.REFUSED_AT_KIOSK
    assert k.store.mismatches() == [] and open_loans(server) == {}
    assert server_conflicts(server) == []  # nothing happened, nothing for staff
    late = d.tx.model_copy(update={"offline": False, "kiosk_refused": False})
    client = k.decider.client
    assert client is not None
    [again] = client.post_transactions([late], timeout=10)
    assert again.duplicate and again.status == Status.REFUSED
    assert open_loans(server) == {} and server_tx_ids(server) == [d.tx.id]
    k.close()
    proxy.stop()


def test_deadline_then_offline_at_once_then_probe_brings_it_back(tmp_path, server):
    proxy = _proxy(server)
    k = make_kiosk(tmp_path / "k1", "k1", proxy.url, server.tokens["k1"], deadline_s=0.5)
    k.worker.refresh_snapshot()
    k.link.start()
    proxy.plan = FaultPlan(delay=1.0, delay_s=2.0)
    first = k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000101")
    # The answer would have come (online) after 2 s: the 0.5 s deadline ended the wait.
    assert first.offline and first.result.status == Status.ACCEPTED
    # Offline at once: the next decision does not try the network (and so cannot wait).
    assert k.link.state == LinkState.OFFLINE and not k.decider.online
    second = k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000102")
    assert second.offline
    proxy.plan = FaultPlan()
    wait_for(lambda: k.link.state == LinkState.ONLINE, 10, "the probe to find the server")
    third = k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000103")
    assert not third.offline and third.result.status == Status.ACCEPTED
    k.link.force_offline(True)
    assert k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000104").offline
    k.close()
    proxy.stop()
