"""What the staff screen reads from the outbox every 2 s must not grow with the rows
a kiosk sent long ago: counts come from the unsent rows and the flagged ones only,
and they agree with a full count of the file."""

from __future__ import annotations

import sqlite3
import time

from core.wire import Kind, Reason, Status, TransactionResult
from sync import schema
from sync.store import LocalStore
from tests.sync.parts import accepted, age_store_file, failed_behind_conflicts


def _history(store: LocalStore) -> None:
    """Sent rows, a conflict with a mismatch, a failed row, pending and in-flight ones."""
    sent = []
    for i in range(60):
        tx = store.new_transaction(Kind.CHECKIN, item=f"B{i:06d}", offline=True)
        store.commit(tx, accepted(tx), applied_on_server=False)
        sent.append(tx)
    online = store.new_transaction(Kind.CHECKIN, item="B900000")
    store.commit(online, accepted(online), applied_on_server=True)  # sent as it was decided
    store.mark_in_flight([t.id for t in sent])
    results = [accepted(t) for t in sent[:-1]]
    results.append(
        TransactionResult(id=sent[-1].id, status=Status.CONFLICT, reason=Reason.NOT_ON_LOAN)
    )
    assert store.mark_sent(results) == [sent[-1].id]
    bad = store.new_transaction(Kind.CHECKIN, item="B800000", offline=True)
    store.commit(bad, accepted(bad), applied_on_server=False)
    store.mark_failed(bad.id, "422: the server will never take this")
    for i in range(3):
        tx = store.new_transaction(Kind.CHECKIN, item=f"B7{i:05d}", offline=True)
        store.commit(tx, accepted(tx), applied_on_server=False)
    store.mark_in_flight([store.pending(1)[0].id])


def _full_count(path) -> tuple[int, ...]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT COUNT(CASE WHEN state='pending' THEN 1 END),"
            " COUNT(CASE WHEN state='in_flight' THEN 1 END),"
            " COUNT(CASE WHEN state='failed' THEN 1 END),"
            " COUNT(CASE WHEN state='sent' THEN 1 END),"
            " COUNT(CASE WHEN server_status='conflict' THEN 1 END),"
            " COUNT(CASE WHEN mismatch IS NOT NULL AND handled_at IS NULL THEN 1 END)"
            " FROM outbox"
        ).fetchone()
    finally:
        db.close()


def _counts(store: LocalStore, count_sent: bool) -> tuple[int | None, ...]:
    st = store.stats(count_sent=count_sent)
    return st.pending, st.in_flight, st.failed, st.sent, st.conflicts, st.mismatches


def test_staff_counts_agree_with_a_full_count(tmp_path):
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    _history(store)
    full = _full_count(store.path)
    assert full == (2, 1, 1, 61, 1, 1)
    assert _counts(store, count_sent=True) == full
    assert _counts(store, count_sent=False) == full[:3] + (None,) + full[4:]
    assert [r.tx.item for r in store.mismatches()] == ["B000059"]
    assert [r.tx.item for r in store.failed()] == ["B800000"]


def test_failed_rows_are_found_behind_many_newer_follow_ups(tmp_path):
    """``kiosk status`` once picked failed rows out of the newest 100 follow-ups:
    an old failed row behind 100 newer conflicts was counted but never listed."""
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    old = failed_behind_conflicts(store, failed=3, conflicts=105)
    assert store.follow_up_count() == 108
    assert not any(r.state.value == "failed" for r in store.follow_ups(100))
    assert [r.tx.id for r in store.failed()] == old  # oldest first: the order to resend
    assert [r.tx.id for r in store.failed(2)] == old[:2]
    assert store.resend_failed(old[0])
    assert [r.tx.id for r in store.failed()] == old[1:]


def _plans(store: LocalStore, call) -> list[str]:
    """The query plan of every statement ``call`` runs on the store's connection."""
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    try:
        call()
    finally:
        store._db.set_trace_callback(None)
    probe = sqlite3.connect(store.path)
    try:
        return [
            f"{sql} -> {row[3]}"
            for sql in statements
            if sql.lstrip().upper().startswith("SELECT")
            for row in probe.execute("EXPLAIN QUERY PLAN " + sql)
        ]
    finally:
        probe.close()


def test_staff_reads_never_scan_the_whole_outbox(tmp_path):
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    _history(store)
    plans = _plans(
        store, lambda: (store.stats(), store.mismatches(), store.failed(), store.queue_depth())
    )
    on_outbox = [p for p in plans if "outbox" in p.split(" -> ")[1]]
    assert len(on_outbox) >= 4, plans
    # A range search from the unsent mark, or a walk of the flagged rows' index:
    # never "SCAN outbox" (the table) nor a scan of the id index (every row too).
    scans = [p for p in on_outbox if p.split(" -> ")[1].startswith("SCAN")]
    full = [p for p in scans if "outbox_follow_up" not in p]
    assert full == []
    # The one count that needs every row is only made when asked for.
    asked = _plans(store, lambda: store.stats(count_sent=True))
    assert any(p.split(" -> ")[1].startswith("SCAN outbox") for p in asked)


def test_a_store_from_schema_5_gets_the_follow_up_index_and_handled_columns(tmp_path):
    path = tmp_path / "k.sqlite3"
    store = LocalStore(path, kiosk="k1")
    _history(store)
    store.close()
    age_store_file(
        path,
        "DROP INDEX outbox_follow_up",
        "CREATE INDEX outbox_flagged ON outbox(seq)"
        " WHERE (state='failed' OR server_status='conflict' OR mismatch IS NOT NULL)",
        "ALTER TABLE outbox DROP COLUMN handled_by",
        "ALTER TABLE outbox DROP COLUMN handled_at",
        "UPDATE meta SET value='5' WHERE key='schema_version'",
    )
    again = LocalStore(path, kiosk="k1")
    names = [r[0] for r in again._db.execute("SELECT name FROM sqlite_master WHERE type='index'")]
    assert "outbox_follow_up" in names and "outbox_flagged" not in names
    assert again.get_meta("schema_version") == str(schema.SCHEMA_VERSION)
    assert _counts(again, count_sent=True) == _full_count(path)
    [mismatch] = again.mismatches()
    assert again.mark_handled(mismatch.tx.id, "STF0001")


def test_staff_mark_a_mismatch_handled(tmp_path):
    """The follow-up list holds failed rows, conflicts and open mismatches, newest
    first. A mismatch staff settled with the patron stops counting; a conflict stays
    until central staff resolve it, and then the row may be pruned like any other."""
    store = LocalStore(tmp_path / "k.sqlite3", kiosk="k1")
    _history(store)
    failed, conflict = store.follow_ups()
    assert store.follow_up_count() == 2
    assert [r.tx.id for r in store.follow_ups(limit=1)] == [failed.tx.id]  # the newest
    assert (failed.state.value, failed.tx.item) == ("failed", "B800000")
    assert (conflict.server_status, conflict.tx.item) == ("conflict", "B000059")
    assert conflict.mismatch is not None and conflict.handled_at is None

    assert not store.mark_handled(failed.tx.id, "STF0001")  # no mismatch: nothing to settle
    assert store.mark_handled(conflict.tx.id, "STF0001", now=1000.0)
    assert not store.mark_handled(conflict.tx.id, "STF0001")  # once
    assert store.mismatches() == []
    stats = store.stats()
    assert (stats.mismatches, stats.conflicts, stats.failed) == (0, 1, 1)
    row = store.row(conflict.tx.id)
    assert row is not None and row.handled_at == 1000.0 and row.mismatch is not None
    assert [r.tx.id for r in store.follow_ups()] == [failed.tx.id, conflict.tx.id]

    settled, _opened = store.match_conflicts([], asked_at=time.time() + 1)  # resolved centrally
    assert settled == 1
    assert [r.tx.id for r in store.follow_ups()] == [failed.tx.id]
    assert store.follow_up_count() == 1
    store.prune_sent(0, now=time.time() + 60)
    assert store.row(conflict.tx.id) is None  # its record stays on the server
    assert store.row(failed.tx.id) is not None
