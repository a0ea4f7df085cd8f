"""A kiosk that stops in the middle of an online decision: the server may have
applied it, the patron saw nothing. The note written before the request goes out
brings it back after the restart, to the server and (if it was applied) to staff."""

from __future__ import annotations

import pytest

from core.wire import Kind, Reason, Status
from sync.store import LocalStore, OutboxState
from tests.helpers import outbox_row
from tests.sync.parts import (
    age_store_file,
    loans_per_checkout,
    make_kiosk,
    open_loans,
    server_tx_ids,
)

pytestmark = pytest.mark.timeout(120)


def _stopped_mid_decision(tmp_path, server, *, reached_server: bool):
    """A kiosk notes an online checkout, (maybe) sends it, then dies before its commit."""
    k = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"])
    tx = k.store.new_transaction(Kind.CHECKOUT, card="AGT0001", item="B000107")
    k.store.begin_online(tx)
    if reached_server:
        assert k.decider.client is not None
        [res] = k.decider.client.post_transactions([tx], timeout=10)
        assert res.status == Status.ACCEPTED
    k.close()  # the process is gone: no commit, the note stays
    again = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"])
    assert again.store.intents() == [tx.id]
    return tx, again


def test_an_applied_decision_nobody_saw_reaches_staff(tmp_path, server):
    tx, k = _stopped_mid_decision(tmp_path, server, reached_server=True)
    # Too young to be taken by a drain (it could be another process's decision)...
    assert k.store.recover_interrupted(60) == 0 and k.store.intents() == [tx.id]
    # ...but the restarted kiosk itself takes it.
    assert k.store.recover_interrupted(0) == 1 and k.store.intents() == []
    row = k.store.row(tx.id)
    assert row.state == OutboxState.PENDING and row.tx.kiosk_refused and row.tx.offline
    assert row.local_result.reason == Reason.KIOSK_INTERRUPTED
    k.worker.drain_all()
    row = k.store.row(tx.id)
    assert row.server_result.status == Status.ACCEPTED and row.server_result.duplicate
    [flagged] = k.store.mismatches()  # staff see it
    assert flagged.tx.id == tx.id
    assert flagged.mismatch.startswith("the kiosk stopped before the patron saw a result")
    assert loans_per_checkout(server) == {tx.id: 1}
    assert open_loans(server) == {"B000107": "AGT0001"}
    k.close()


def test_a_decision_that_never_left_changes_nothing(tmp_path, server):
    tx, k = _stopped_mid_decision(tmp_path, server, reached_server=False)
    assert k.store.recover_interrupted(0) == 1
    k.worker.drain_all()
    row = k.store.row(tx.id)
    assert row.state == OutboxState.SENT
    assert row.server_result.reason == Reason.REFUSED_AT_KIOSK
    assert k.store.mismatches() == [] and open_loans(server) == {}
    # the request the kiosk never got to send can no longer make a loan
    [late] = k.decider.client.post_transactions([tx], timeout=10)
    assert late.duplicate and late.status == Status.REFUSED
    assert open_loans(server) == {} and server_tx_ids(server) == [tx.id]
    k.close()


def test_decisions_leave_no_note_behind(tmp_path, server):
    """Online, and online-failed-then-offline: the note goes with the commit."""
    k = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"])
    k.worker.refresh_snapshot()
    online = k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000101")
    assert not online.offline and online.result.status == Status.ACCEPTED
    assert k.store.intents() == []
    assert k.decider.client is not None
    k.decider.client.base = "http://127.0.0.1:9/api/v1"  # nothing listens there
    offline = k.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000102")
    assert offline.offline and offline.result.status == Status.ACCEPTED
    assert k.store.intents() == []
    k.close()


def test_a_store_from_schema_3_gets_the_notes_table(tmp_path):
    path = tmp_path / "old.sqlite3"
    LocalStore(path, kiosk="k1").close()
    age_store_file(path, "DROP TABLE intents")
    store = LocalStore(path, kiosk="k1")
    tx = store.new_transaction(Kind.CHECKIN, item="B1")
    store.begin_online(tx)
    assert store.intents() == [tx.id]
    store.close()


def test_only_the_deciding_process_takes_fresh_notes_at_start(tmp_path):
    """A staff CLI (``kiosk sync``) beside the running app must not take the app's
    decision in progress; the app or station starting up takes any note at once."""
    from kiosk.config import load_settings
    from kiosk.runtime import build_runtime
    from tests.sync.test_headless import write_config

    settings = load_settings(write_config(tmp_path / "cfg", token="t"))
    app = build_runtime(settings, decides=True)  # nothing to take yet
    tx = app.store.new_transaction(Kind.CHECKOUT, card="AGT0001", item="B000101")
    app.store.begin_online(tx)  # the app waits for the server's answer...
    cli = build_runtime(settings)  # ...while staff run `kiosk sync`
    assert cli.store.intents() == [tx.id] and cli.store.queue_depth() == 0
    cli.stop()
    app.stop()  # the app dies before the answer
    restarted = build_runtime(settings, decides=True)
    assert restarted.store.intents() == [] and restarted.store.queue_depth() == 1
    assert outbox_row(restarted.store, tx.id).tx.kiosk_refused
    restarted.stop()
