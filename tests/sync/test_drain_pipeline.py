"""The pipelined drain against a real server on 127.0.0.1: one batch on the wire at
a time and in order, every result written, and nothing lost or applied twice when
a POST or a result write fails half-way."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from core.errors import SyncError
from core.wire import Kind
from sync.store import OutboxState
from tests.helpers import outbox_row, server_result
from tests.sync.parts import (
    loans_per_checkout,
    make_kiosk,
    offline_accepted,
    server_db,
    server_tx_ids,
)

pytestmark = pytest.mark.timeout(120)

ITEMS = ["B000101", "B000102", "B000103", "B000104", "B000105"]


def _loans_then_returns(k):
    return offline_accepted(
        k, [(Kind.CHECKOUT, i) for i in ITEMS] + [(Kind.CHECKIN, i) for i in ITEMS[:3]]
    )


def _watch_posts(k):
    """Wrap the client: record each batch's ids and the queue depth it reported,
    and fail the test if two POSTs were ever on the wire at once."""
    posts: list[tuple[list[str], int | None]] = []
    on_wire = threading.Semaphore(1)
    real = k.worker.client.post_payloads

    def post(batch, **kw):
        assert on_wire.acquire(blocking=False), "two batches on the wire at once"
        try:
            posts.append(([i for i, _ in batch], kw.get("queue_depth")))
            return real(batch, **kw)
        finally:
            on_wire.release()

    k.worker.client.post_payloads = post
    return posts


def test_pipelined_drain_sends_batches_in_order_and_writes_every_result(tmp_path, server):
    k = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"], batch_size=3)
    k.worker.refresh_snapshot()
    txs = _loans_then_returns(k)
    posts = _watch_posts(k)
    assert k.worker.drain_all() == len(txs)
    assert [ids for ids, _ in posts] == [[t.id for t in txs[i : i + 3]] for i in (0, 3, 6)]
    # Each batch reports what was still queued when it left (answered batches excluded).
    assert [depth for _, depth in posts] == [8, 5, 2]
    assert all(r.state == OutboxState.SENT and r.server_result for r in k.store.rows())
    assert k.store.queue_depth() == 0 and k.worker.sent_total == len(txs)
    db = server_db(server)
    try:
        seqs = [r[0] for r in db.execute("SELECT seq FROM transactions ORDER BY received_at, seq")]
    finally:
        db.close()
    assert seqs == [t.seq for t in txs]
    k.close()


def test_failed_post_mid_drain_keeps_written_results_and_requeues_the_rest(
    tmp_path, server, monkeypatch
):
    k = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"], batch_size=3)
    k.worker.refresh_snapshot()
    txs = _loans_then_returns(k)
    real = k.worker.client.post_payloads
    calls = 0

    def post(batch, **kw):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise SyncError("link dropped")
        return real(batch, **kw)

    monkeypatch.setattr(k.worker.client, "post_payloads", post)
    with pytest.raises(SyncError):
        k.worker.drain_all()
    states = [outbox_row(k.store, t.id).state for t in txs]
    # The first two batches were answered: both written (the second by the writer
    # thread while the third was being posted). The third waits.
    assert states == [OutboxState.SENT] * 6 + [OutboxState.PENDING] * 2
    assert outbox_row(k.store, txs[6].id).last_error == "link dropped"
    monkeypatch.setattr(k.worker.client, "post_payloads", real)
    assert k.worker.drain_all() == 2
    assert sorted(server_tx_ids(server)) == sorted(t.id for t in txs)
    assert set(loans_per_checkout(server).values()) == {1}
    k.close()


def test_failed_result_write_is_resent_after_restart_and_applied_once(
    tmp_path, server, monkeypatch
):
    k = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"], batch_size=3)
    k.worker.refresh_snapshot()
    txs = _loans_then_returns(k)
    real = k.store.mark_sent
    calls = 0

    def mark_sent(results):
        nonlocal calls
        calls += 1
        if calls == 2:  # the second batch's results, written on the writer thread
            raise sqlite3.OperationalError("disk I/O error")
        return real(results)

    monkeypatch.setattr(k.store, "mark_sent", mark_sent)
    with pytest.raises(sqlite3.OperationalError):
        k.worker.drain_all()
    states = [outbox_row(k.store, t.id).state for t in txs]
    # Batch 2 is applied on the server but its results were never written; batch 3
    # was answered too and is written on the way out.
    assert states == [OutboxState.SENT] * 3 + [OutboxState.IN_FLIGHT] * 3 + [OutboxState.SENT] * 2
    k.close()
    # A restart: in-flight rows go back to pending and are sent again; the server
    # answers them from its first results.
    again = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"], batch_size=3)
    assert again.worker.drain_all() == 3
    rows = [outbox_row(again.store, t.id) for t in txs]
    assert all(r.state == OutboxState.SENT for r in rows)
    assert [server_result(r).duplicate for r in rows[3:6]] == [True] * 3
    assert sorted(server_tx_ids(server)) == sorted(t.id for t in txs)
    assert set(loans_per_checkout(server).values()) == {1}
    again.close()
