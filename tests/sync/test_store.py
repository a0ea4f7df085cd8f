"""LocalStore on real SQLite files: write-ahead, sequence numbers, snapshot, mismatches."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

from core.wire import (
    Kind,
    Reason,
    Snapshot,
    SnapshotItem,
    SnapshotPatron,
    Status,
    TransactionIn,
    TransactionResult,
)
from sync import sequence
from sync.store import LocalStore, OutboxState
from tests.demo_library import library_snapshot
from tests.helpers import kiosk_keys, tag
from tests.sync.parts import accepted


def _open(tmp_path, name="kiosk.sqlite3"):
    store = LocalStore(tmp_path / name, kiosk="k1", keys=kiosk_keys())
    store.apply_snapshot(library_snapshot())
    return store


def test_commit_writes_row_and_effect_together(tmp_path):
    store = _open(tmp_path)
    tx = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item="B000101", offline=True)
    due = datetime(2030, 1, 1, tzinfo=UTC)
    store.commit(tx, accepted(tx, due_at=due), applied_on_server=False)
    store.close()
    # A fresh connection (as after a power cut) sees both the row and the loan.
    again = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
    row = again.row(tx.id)
    assert row is not None and row.state == OutboxState.PENDING
    item = again.item("B000101")
    assert item is not None and item.on_loan_to == tag("AGT0001")
    assert item.due_at == due
    patron = again.patron("AGT0001")
    assert patron is not None and patron.loan_count == 1
    assert again.queue_depth() == 1


def test_effects_are_idempotent_when_replayed(tmp_path):
    store = _open(tmp_path)
    tx = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item="B000101", offline=True)
    store.commit(tx, accepted(tx), applied_on_server=False)
    # A delta that does not mention the patron or item: the pending loan is replayed once.
    store.apply_snapshot(Snapshot(cursor="2", full=False, generated_at=datetime.now(UTC)))
    store.apply_snapshot(Snapshot(cursor="3", full=False, generated_at=datetime.now(UTC)))
    assert store.patron("AGT0001").loan_count == 1
    # A full snapshot from a server that has not seen it yet: replayed on top.
    store.apply_snapshot(library_snapshot())
    assert store.item("B000101").on_loan_to == tag("AGT0001")
    assert store.patron("AGT0001").loan_count == 1
    ret = store.new_transaction(Kind.CHECKIN, item="B000101", offline=True)
    store.commit(ret, accepted(ret), applied_on_server=False)
    store.apply_snapshot(library_snapshot())
    assert store.item("B000101").status == "available"
    assert store.patron("AGT0001").loan_count == 0
    assert store.snapshot_cursor() == "1"


def test_in_flight_rows_go_back_to_pending_at_start(tmp_path):
    store = _open(tmp_path)
    txs = []
    for item in ("B000101", "B000102"):
        tx = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item=item, offline=True)
        store.commit(tx, accepted(tx), applied_on_server=False)
        txs.append(tx)
    store.mark_in_flight([t.id for t in txs])
    assert store.pending(10) == []
    store.close()
    again = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
    assert [t.id for t in again.pending(10)] == [t.id for t in txs]
    first = again.row(txs[0].id)
    assert first is not None and first.attempts == 1


def test_sequence_numbers_never_reused_across_restarts(tmp_path):
    seen: list[int] = []
    for _ in range(3):
        store = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
        for _ in range(5):
            tx = store.new_transaction(Kind.CHECKIN, item="B000101", offline=True)
            seen.append(tx.seq)
            if len(seen) % 2:  # some are never committed (a crash after the online post)
                store.commit(tx, accepted(tx), applied_on_server=False)
        store.close()
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_sequence_block_is_reserved_durably(tmp_path):
    store = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k1", keys=kiosk_keys())
    first = store.new_transaction(Kind.CHECKIN, item="X").seq
    # Not committed: the process "dies" here. The reservation on disk covers it.
    raw = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    reserved = int(raw.execute("SELECT value FROM meta WHERE key='next_seq'").fetchone()[0])
    raw.close()
    assert reserved == first + sequence.SEQ_BLOCK


def test_mismatch_flagged_when_server_disagrees(tmp_path):
    store = _open(tmp_path)
    ok = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item="B000101", offline=True)
    store.commit(ok, accepted(ok), applied_on_server=False)
    bad = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item="B000102", offline=True)
    store.commit(bad, accepted(bad), applied_on_server=False)
    flagged = store.mark_sent(
        [
            accepted(ok),
            TransactionResult(id=bad.id, status=Status.CONFLICT, reason=Reason.PATRON_BLOCKED),
        ]
    )
    assert flagged == [bad.id]
    row = store.row(bad.id)
    assert row.state == OutboxState.SENT
    assert "kiosk said accepted, server says conflict (patron_blocked)" == row.mismatch
    stats = store.stats(count_sent=True)
    assert (stats.conflicts, stats.mismatches, stats.pending, stats.sent) == (1, 1, 0, 2)
    assert store.stats().sent is None  # the staff screen's call does not count them
    assert [r.tx.id for r in store.mismatches()] == [bad.id]
    assert stats.last_sent_at is not None


def test_due_date_difference_is_a_mismatch(tmp_path):
    store = _open(tmp_path)
    tx = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item="B000101", offline=True)
    slip = datetime(2030, 1, 8, 16, 59, tzinfo=UTC)
    store.commit(tx, accepted(tx, due_at=slip), applied_on_server=False)
    flagged = store.mark_sent([accepted(tx, due_at=slip + timedelta(days=7))])
    assert flagged == [tx.id] and "slip due" in store.row(tx.id).mismatch


def test_local_refusal_is_kept_but_never_sent(tmp_path):
    store = _open(tmp_path)
    tx = store.new_transaction(Kind.CHECKOUT, card="AGT0003", item="B000101", offline=True)
    store.commit(
        tx,
        TransactionResult(id=tx.id, status=Status.REFUSED, reason=Reason.PATRON_BLOCKED),
        applied_on_server=False,
    )
    assert store.pending(10) == [] and store.row(tx.id).state == OutboxState.SENT
    assert store.item("B000101").status == "available"


def test_export_queue_writes_pending_jsonl_in_order(tmp_path):
    store = _open(tmp_path)
    ids = []
    for item in ("B000101", "B000102", "B000103"):
        tx = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item=item, offline=True)
        store.commit(tx, accepted(tx), applied_on_server=False)
        ids.append(tx.id)
    store.mark_sent([accepted(store.pending(1)[0])])
    out = tmp_path / "usb" / "queue.jsonl"
    out.parent.mkdir()
    assert store.export_queue(out) == 2
    lines = out.read_text().splitlines()
    txs = [TransactionIn.model_validate_json(line) for line in lines]
    assert [t.id for t in txs] == ids[1:]
    assert all(json.loads(line)["kiosk"] == "k1" for line in lines)
    assert store.queue_depth() == 2  # rows stay pending: normal sync still sends them
    assert not list(out.parent.glob("*.part"))


def test_full_snapshot_does_not_hold_the_lock_throughout(tmp_path, monkeypatch):
    store = _open(tmp_path)
    monkeypatch.setattr("sync.snapshot_store.CHUNK_ROWS", 2_000)
    now = datetime.now(UTC)
    big = Snapshot(
        cursor="9",
        full=True,
        generated_at=now,
        patrons=[
            SnapshotPatron(card=f"P{i:07d}", first_name="A", status="active", loan_limit=5)
            for i in range(40_000)
        ],
        items=[
            SnapshotItem(barcode=f"I{i:07d}", title="T", status="available") for i in range(60_000)
        ],
    )
    done = threading.Event()
    commits_during: list[float] = []

    def scan_while_loading():
        while not done.is_set():
            tx = store.new_transaction(Kind.CHECKIN, item="B000101", offline=True)
            store.commit(tx, accepted(tx), applied_on_server=False)
            commits_during.append(time.monotonic())

    t = threading.Thread(target=scan_while_loading, daemon=True)
    t.start()
    started = time.monotonic()
    store.apply_snapshot(big)
    ended = time.monotonic()
    done.set()
    t.join(5)
    inside = [c for c in commits_during if started < c < ended]
    assert len(inside) >= 5, "patron scans should interleave with a big snapshot download"
    assert store.snapshot_counts()["patrons"] == 40_000
    assert store.patron("P0000001") is not None and store.patron("AGT0001") is None
