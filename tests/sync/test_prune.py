"""A kiosk drops the transactions it sent long ago (the server keeps them all), and
never one that is unsent, one staff must see, or one a sequence number depends on."""

from __future__ import annotations

import time

from core.wire import Kind, Reason, Status, TransactionIn, TransactionResult
from sync import worker as worker_module
from sync.client import ServerClient
from sync.prune import PRUNE_BATCH
from sync.store import LocalStore
from sync.worker import SyncWorker
from tests.sync.parts import accepted, sent_checkins

DAY = 86400.0


def _sent(store: LocalStore, n: int, prefix: str = "B") -> list[str]:
    """``n`` offline returns, sent and accepted; their ids in sequence order."""
    return [t.id for t in sent_checkins(store, n, prefix)]


def _ids(store: LocalStore) -> list[str]:
    return [r[0] for r in store._db.execute("SELECT id FROM outbox ORDER BY seq")]


def test_prune_keeps_unsent_rows_and_what_staff_must_see(tmp_path):
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")

    def answer(t: TransactionIn) -> TransactionResult:
        if t.item == "B000003":
            return TransactionResult(id=t.id, status=Status.CONFLICT, reason=Reason.NOT_ON_LOAN)
        return accepted(t)

    txs = sent_checkins(store, 10, result=answer)
    online = store.new_transaction(Kind.CHECKIN, item="B900000")
    store.commit(online, accepted(online), applied_on_server=True)
    refused = store.new_transaction(Kind.CHECKOUT, card="AGT0009", item="B600000", offline=True)
    no = TransactionResult(id=refused.id, status=Status.REFUSED, reason=Reason.CARD_EXPIRED)
    store.commit(refused, no, applied_on_server=False)  # the kiosk's own offline refusal
    bad = store.new_transaction(Kind.CHECKIN, item="B800000", offline=True)
    store.commit(bad, accepted(bad), applied_on_server=False)
    store.mark_failed(bad.id, "422: the server will never take this")
    queued = []
    for i in range(3):
        tx = store.new_transaction(Kind.CHECKIN, item=f"B7{i:05d}", offline=True)
        store.commit(tx, accepted(tx), applied_on_server=False)
        queued.append(tx.id)
    store.mark_in_flight(queued[:1])
    before = store.stats(count_sent=True)
    later = _sent(store, 2, prefix="C")  # sent after the queued ones: wait behind them

    deleted, more = store.prune_sent(DAY, now=time.time() + 2 * DAY)

    assert (deleted, more) == (10, False)  # nine accepted returns and the online one
    assert _ids(store) == [txs[3].id, refused.id, bad.id, *queued, *later]
    after = store.stats(count_sent=True)
    assert before.sent is not None  # counted: count_sent=True
    assert after.sent == before.sent + 2  # "sent" still counts the pruned ones
    kept = store.row(refused.id)
    assert kept is not None and kept.local_result == no  # nowhere else to find it
    assert (after.pending, after.in_flight, after.failed, after.conflicts) == (2, 1, 1, 1)
    assert [i for i, _ in store.pending_payloads(10)] == queued[1:]
    store.close()


def test_rows_sent_recently_stay_and_hold_back_the_rows_after_them(tmp_path):
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    ids = _sent(store, 6)
    now = time.time()
    store._db.execute("UPDATE outbox SET sent_at=? WHERE id IN (?,?)", (now, ids[2], ids[4]))
    store._db.execute(
        "UPDATE outbox SET sent_at=? WHERE id NOT IN (?,?)", (now - 3 * DAY, ids[2], ids[4])
    )

    assert store.prune_sent(DAY, now=now) == (2, False)
    assert _ids(store) == ids[2:]
    assert store.prune_sent(DAY, now=now) == (0, False)  # nothing aged meanwhile
    assert store.prune_sent(DAY, now=now + 2 * DAY) == (4, False)
    assert _ids(store) == []
    store.close()


def test_prune_goes_in_short_steps_and_passes_flagged_rows_once(tmp_path):
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    n = 2 * PRUNE_BATCH + 300
    ids = _sent(store, n)
    flagged = ids[5], ids[PRUNE_BATCH + 7]
    store._db.execute(
        "UPDATE outbox SET mismatch='slip due Monday, server due Tuesday' WHERE id IN (?,?)",
        flagged,
    )
    later = time.time() + 2 * DAY
    steps = []
    more = True
    while more:
        deleted, more = store.prune_sent(DAY, now=later)
        steps.append(deleted)
    assert steps == [PRUNE_BATCH - 1, PRUNE_BATCH - 1, 300]
    assert _ids(store) == list(flagged)
    assert store.stats(count_sent=True).sent == n
    assert store.prune_sent(DAY, now=later) == (0, False)
    store.close()


def test_no_sequence_number_is_used_twice_after_everything_was_pruned(tmp_path):
    path = tmp_path / "k.sqlite3"
    store = LocalStore(path, kiosk="k1")
    _sent(store, 5)
    top = store._db.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
    assert store.prune_sent(DAY, now=time.time() + 2 * DAY) == (5, False)
    store.close()

    store = LocalStore(path, kiosk="k1")  # a restart with an empty outbox
    tx = store.new_transaction(Kind.CHECKIN, item="B123456", offline=True)
    store.commit(tx, accepted(tx), applied_on_server=False)
    assert tx.seq > top
    assert [i for i, _ in store.pending_payloads(10)] == [tx.id]
    assert store.stats(count_sent=True).sent == 5
    store.close()


def test_the_sync_worker_prunes_while_the_server_is_unreachable(tmp_path, monkeypatch):
    monkeypatch.setattr(worker_module, "PRUNE_PAUSE_S", 0.0)
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    _sent(store, PRUNE_BATCH + 20)
    store._db.execute("UPDATE outbox SET sent_at=sent_at - ?", (3 * DAY,))
    waiting = store.new_transaction(Kind.CHECKIN, item="B999999", offline=True)
    store.commit(waiting, accepted(waiting), applied_on_server=False)
    dead = ServerClient("http://127.0.0.1:9", "token")  # nothing listens on port 9
    worker = SyncWorker(store, dead, interval_s=0.05, request_timeout_s=0.5, keep_sent_s=DAY)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while len(_ids(store)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert _ids(store) == [waiting.id]  # the old ones went; the unsent one stays queued
    assert worker.last_error is not None  # the drain did fail all along
    assert store.queue_depth() == 1
    store.close()


def test_keep_sent_days_comes_from_the_config(tmp_path):
    from kiosk.config import load_settings
    from kiosk.runtime import build_runtime

    def runtime(extra: str):
        folder = tmp_path / str(len(extra))
        folder.mkdir()
        cfg = folder / "kiosk.toml"
        cfg.write_text(
            '[kiosk]\nname = "k1"\ndata_dir = "data"\n'
            f'[server]\ntoken = "t"\n{extra}\n'
            '[devices]\nscanners = ["stdin:"]\nprinter = "none:"\n'
        )
        return build_runtime(load_settings(cfg))

    default, none_kept = runtime(""), runtime("keep_sent_days = 0")
    try:
        assert default.worker is not None and default.worker.keep_sent_s == 90 * DAY
        assert none_kept.worker is not None and none_kept.worker.keep_sent_s is None
    finally:
        default.stop()
        none_kept.stop()


def test_a_long_prune_is_spread_over_passes_of_the_sync_loop(tmp_path, monkeypatch):
    monkeypatch.setattr(worker_module, "PRUNE_PAUSE_S", 0.0)
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    _sent(store, PRUNE_BATCH + 20)
    worker = SyncWorker(store, ServerClient("http://127.0.0.1:9", "t"), keep_sent_s=DAY)
    store._db.execute("UPDATE outbox SET sent_at=sent_at - ?", (3 * DAY,))
    assert worker.prune_sent(max_steps=1) == PRUNE_BATCH
    assert worker._last_prune == float("-inf")  # not done: the next pass goes on
    assert worker.prune_sent(max_steps=1) == 20
    assert time.monotonic() - worker._last_prune < 60  # done: next time in an hour
    assert _ids(store) == []
    store.close()
