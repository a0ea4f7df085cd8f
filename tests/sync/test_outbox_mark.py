"""The outbox's low-water mark: queries that look only at ``seq >= unsent_from`` must
find every pending and in-flight row, whatever order things happen in, across
restarts and across two processes' stores on one file."""

from __future__ import annotations

import random
import sqlite3

import pytest

from core.wire import Kind, Status, TransactionResult
from sync.store import LocalStore
from tests.sync.parts import accepted, age_store_file


def _brute(path) -> tuple[list[str], int]:
    """Pending ids in seq order and the unsent count, by a full scan of the file."""
    db = sqlite3.connect(path)
    try:
        pending = [
            r[0] for r in db.execute("SELECT id FROM outbox WHERE state='pending' ORDER BY seq")
        ]
        unsent = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE state IN ('pending','in_flight')"
        ).fetchone()[0]
    finally:
        db.close()
    return pending, unsent


def _check(store: LocalStore) -> None:
    pending, unsent = _brute(store.path)
    assert [i for i, _ in store.pending_payloads(10_000)] == pending
    assert [t.id for t in store.pending(10_000)] == pending
    assert store.queue_depth() == unsent
    stats = store.stats()
    assert stats.pending + stats.in_flight == unsent


def test_a_seq_taken_before_the_mark_moved_past_it_is_still_found(tmp_path):
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    waiting = store.new_transaction(Kind.CHECKIN, item="B1")  # an online decision in progress
    later = store.new_transaction(Kind.CHECKIN, item="B2", offline=True)
    store.commit(later, accepted(later), applied_on_server=False)
    store.mark_in_flight([later.id])
    store.mark_sent([accepted(later)])  # nothing unsent: the mark moves past `later`
    assert store.queue_depth() == 0
    # The server did not answer in time: decided offline, committed below the mark.
    offline = waiting.model_copy(update={"offline": True})
    store.commit(offline, accepted(offline), applied_on_server=False)
    assert [i for i, _ in store.pending_payloads(10)] == [offline.id]
    store.close()
    again = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")  # and after a restart
    assert [t.id for t in again.pending(10)] == [offline.id]
    _check(again)
    again.close()


def test_two_stores_on_one_file_keep_the_mark_right(tmp_path):
    """The staff CLI (``kiosk sync``) may drain while the kiosk app is running."""
    app = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    cli = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    waiting = app.new_transaction(Kind.CHECKIN, item="B1")
    tx = app.new_transaction(Kind.CHECKIN, item="B2", offline=True)
    app.commit(tx, accepted(tx), applied_on_server=False)
    # The CLI's store sends it (it makes no transactions of its own).
    cli.mark_in_flight([i for i, _ in cli.pending_payloads(10)])
    cli.mark_sent([accepted(tx)])
    assert cli.queue_depth() == 0
    app.commit(waiting, accepted(waiting), applied_on_server=False)
    assert [i for i, _ in cli.pending_payloads(10)] == [waiting.id]
    _check(app)
    _check(cli)
    app.close()
    cli.close()


def test_two_stores_opened_together_never_hand_out_the_same_seq(tmp_path):
    """Both opened before either reserved a block: the second to reserve starts past
    the first one's reservation instead of reusing its numbers."""
    a = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    b = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    seqs = []
    for i in range(3):
        for store in (a, b, b, a):
            tx = store.new_transaction(Kind.CHECKIN, item=f"B{i}", offline=True)
            store.commit(tx, accepted(tx), applied_on_server=False)
            seqs.append(tx.seq)
    assert len(set(seqs)) == len(seqs) == 12
    _check(a)
    assert len(a.pending(100)) == 12
    a.close()
    b.close()


@pytest.mark.parametrize("seed", range(6))
def test_random_histories_never_hide_an_unsent_row(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "k.sqlite3"
    store = LocalStore(path, kiosk="k1")
    taken = []  # transactions made but not committed yet (decisions in progress)
    failed: list[str] = []  # rows the server rejected, not queued again yet
    for step in range(300):
        op = rng.random()
        if op < 0.35:
            taken.append(store.new_transaction(Kind.CHECKIN, item=f"B{step}"))
        elif op < 0.6 and taken:
            tx = taken.pop(rng.randrange(len(taken)))  # in any order
            online = rng.random() < 0.3
            store.commit(tx, accepted(tx), applied_on_server=online)
        elif op < 0.72:
            batch = store.pending_payloads(rng.randint(1, 6))
            ids = [i for i, _ in batch]
            if ids:
                store.mark_in_flight(ids)
                fate = rng.random()
                if fate < 0.6:
                    store.mark_sent([TransactionResult(id=i, status=Status.ACCEPTED) for i in ids])
                elif fate < 0.85:
                    store.mark_retry(ids, "link down")
                else:
                    store.mark_retry(ids, "rejected")
                    store.mark_failed(ids[0], "rejected")
                    failed.append(ids[0])
        elif op < 0.74 and failed:  # staff queue a failed row again, now or much later
            assert store.resend_failed(failed.pop(rng.randrange(len(failed))))
        elif op < 0.77:
            store.close()  # a restart: in-flight rows go back to pending
            store = LocalStore(path, kiosk="k1")
            taken.clear()  # those decisions died with the process
        _check(store)
    # Everything committed and not sent is still there to send.
    for tx in taken:
        store.commit(tx, accepted(tx), applied_on_server=False)
    _check(store)
    store.close()


def test_a_version_2_store_gets_its_mark_from_the_unsent_rows(tmp_path):
    path = tmp_path / "k.sqlite3"
    store = LocalStore(path, kiosk="k1")
    txs = [store.new_transaction(Kind.CHECKIN, item=f"B{i}", offline=True) for i in range(4)]
    for tx in txs:
        store.commit(tx, accepted(tx), applied_on_server=False)
    store.mark_in_flight([txs[0].id])
    store.mark_sent([accepted(txs[0])])
    store.close()
    # As a version 2 store left it: no mark, an index on state.
    age_store_file(
        path,
        "DELETE FROM meta WHERE key='unsent_from'",
        "CREATE INDEX outbox_state ON outbox(state, seq)",
    )
    again = LocalStore(path, kiosk="k1")
    assert [t.id for t in again.pending(10)] == [t.id for t in txs[1:]]
    assert again.get_meta("unsent_from") == str(txs[1].seq)
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master WHERE name='outbox_state'").fetchone() is None
    db.close()
    _check(again)
    again.close()
