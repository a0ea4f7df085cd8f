"""Sync against a real server on 127.0.0.1: batches, health, snapshot deltas,
USB export/import, mismatches and conflicts shown to staff."""

from __future__ import annotations

import subprocess
import time

import pytest
import requests

from core.errors import SyncError
from core.wire import Kind, Reason, Status
from sync.store import OutboxState
from tests.helpers import outbox_row, server_result
from tests.sync.parts import (
    lent_twice,
    loans_per_checkout,
    make_kiosk,
    offline_accepted,
    open_loans,
    server_db,
    server_tx_ids,
    two_kiosks,
    wait_for,
)
from tests.sync.test_headless import kiosk_cmd, write_config

pytestmark = pytest.mark.timeout(120)


def staff_conflicts(srv) -> list[dict]:
    login = requests.post(
        srv.url + "/api/v1/staff/login",
        json={"name": "petugas", "password": "petugas123"},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    resp = requests.get(
        srv.url + "/api/v1/staff/conflicts",
        headers={"Authorization": f"Bearer {login.json()['token']}"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_drain_in_batches_in_sequence_order_with_health(tmp_path, server):
    k = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"], batch_size=4)
    k.worker.refresh_snapshot()
    items = ["B000101", "B000102", "B000103", "B000104", "B000105"]
    txs = offline_accepted(
        k, [(Kind.CHECKOUT, i) for i in items] + [(Kind.CHECKIN, i) for i in items[:3]]
    )
    assert k.store.queue_depth() == 8
    requests = 0
    while k.worker.drain_once():
        requests += 1
    assert requests == 2  # 8 rows in batches of 4
    db = server_db(server)
    try:
        seqs = [r[0] for r in db.execute("SELECT seq FROM transactions ORDER BY received_at, seq")]
        depth, age, version = db.execute(
            "SELECT queue_depth, snapshot_age_s, app_version FROM kiosks WHERE name='k1'"
        ).fetchone()
    finally:
        db.close()
    assert seqs == sorted(t.seq for t in txs)
    assert depth == 4 and age is not None and age >= 0 and version == "test"
    assert open_loans(server) == {"B000104": "AGT0001", "B000105": "AGT0001"}
    assert all(r.state == OutboxState.SENT for r in k.store.rows())
    k.close()


def test_snapshot_full_then_changes_since_cursor(tmp_path, server):
    k1, k2 = two_kiosks(tmp_path, server)
    assert k1.store.snapshot_age_s() is None
    k1.worker.refresh_snapshot()
    first = k1.store.snapshot_cursor()
    counts = k1.store.snapshot_counts()
    assert counts["patrons"] >= 4 and counts["items"] >= 10 and counts["events"] >= 1
    blocked = k1.store.patron("AGT0003")
    assert blocked is not None and blocked.status == "blocked"
    assert k1.store.ticket_public_key()
    age = k1.store.snapshot_age_s()
    assert age is not None and age < 5
    # Another kiosk lends a book online; the first kiosk's next refresh is a delta.
    d = k2.decider.submit(Kind.CHECKOUT, card="AGT0001", item="B000106")
    assert not d.offline and d.result.status == Status.ACCEPTED
    snap = k1.worker.client.snapshot(first)
    assert not snap.full and [i.barcode for i in snap.items] == ["B000106"]
    k1.worker.refresh_snapshot()
    assert k1.store.snapshot_cursor() != first
    item = k1.store.item("B000106")
    assert (
        item is not None
        and item.status == "on_loan"
        and item.on_loan_to == k1.store.keys.tag("AGT0001")
    )
    assert k1.store.snapshot_counts() == counts
    k1.close()
    k2.close()


def test_offline_yes_server_no_is_flagged_for_staff(tmp_path, server):
    k1, k2 = two_kiosks(tmp_path, server)
    k1.worker.refresh_snapshot()
    # k1 is offline; meanwhile k2 lends the same book online, earlier in event time.
    late = lent_twice(k1, k2)
    row = outbox_row(k1.store, late.id)
    assert server_result(row).status == Status.CONFLICT
    assert server_result(row).reason == Reason.ITEM_ON_LOAN_TO_OTHER
    assert row.mismatch is not None
    assert row.mismatch.startswith("kiosk said accepted, server says conflict")
    stats = k1.store.stats()
    assert stats.conflicts == 1 and stats.mismatches == 1
    # The server lists it for staff too (staff API).
    assert late.id in {c["transaction_id"] for c in staff_conflicts(server)}
    k1.close()
    k2.close()
    # Staff see it in `kiosk status`.
    cfg = write_config(tmp_path / "k1cfg", url=server.url, token=server.tokens["k1"])
    cfg.write_text(cfg.read_text().replace('data_dir = "data"', f'data_dir = "{tmp_path / "k1"}"'))
    out = subprocess.run(kiosk_cmd(cfg, "status"), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "conflicts: 1" in out.stdout and "mismatches: 1" in out.stdout
    assert "reachable, version" in out.stdout and "queue depth: 0" in out.stdout
    assert "snapshot age: " in out.stdout and "snapshot age: never" not in out.stdout
    assert f"mismatch: {late.id} checkout" in out.stdout
    # Settled with the patron: marked handled from the command line (screenless stations).
    done = subprocess.run(
        kiosk_cmd(cfg, "handled", late.id, "--by", "Rina"), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{late.id} marked handled by Rina" in done.stdout
    again = subprocess.run(kiosk_cmd(cfg, "handled", late.id), capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert again.returncode == 1 and "no open mismatch" in again.stderr
    out = subprocess.run(kiosk_cmd(cfg, "status"), capture_output=True, text=True, timeout=60)
    assert "conflicts: 1" in out.stdout and "mismatches: 0" in out.stdout  # central staff's
    assert "mismatch: " not in out.stdout


def test_a_failed_row_queued_again_by_staff_reaches_the_server_once(tmp_path, server):
    """A row the server rejected as a request (e.g. a newer kiosk's field an old server
    refused) stays on the kiosk as failed; once the server is fixed, staff queue it again
    ('kiosk resend', or the staff screen) and the next sync applies it once."""
    data = tmp_path / "k1"
    k = make_kiosk(data, "k1", server.url, server.tokens["k1"])
    bad, good = offline_accepted(k, [(Kind.CHECKIN, "B000101"), (Kind.CHECKIN, "B000102")])
    k.store.mark_in_flight([bad.id])
    k.store.mark_failed(bad.id, "POST /api/v1/transactions: 422: unknown field")
    assert k.worker.drain_all() == 1  # the failed row is not sent on its own
    assert server_tx_ids(server) == [good.id]
    k.close()
    cfg = write_config(tmp_path / "k1cfg", url=server.url, token=server.tokens["k1"])
    cfg.write_text(cfg.read_text().replace('data_dir = "data"', f'data_dir = "{data}"'))

    def kiosk(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(kiosk_cmd(cfg, *args), capture_output=True, text=True, timeout=60)

    out = kiosk("status")
    assert "failed: 1" in out.stdout
    assert f"failed: {bad.id} checkin card=- item=B000101" in out.stdout
    assert "422: unknown field (kiosk resend ID)" in out.stdout
    done = kiosk("resend", bad.id)
    assert done.returncode == 0, done.stderr
    assert f"{bad.id} queued again" in done.stdout
    again = kiosk("resend", bad.id)  # pending now: nothing to do twice
    assert again.returncode == 1 and "no failed transaction" in again.stderr
    assert kiosk("sync").returncode == 0
    assert sorted(server_tx_ids(server)) == sorted([good.id, bad.id])
    k = make_kiosk(data, "k1", server.url, server.tokens["k1"])
    row = k.store.row(bad.id)
    assert row is not None and row.state == OutboxState.SENT
    assert row.server_result is not None and row.server_result.status == Status.ACCEPTED
    stats = k.store.stats()
    assert (stats.failed, stats.pending, stats.in_flight) == (0, 0, 0)
    assert k.worker.drain_all() == 0 and sorted(server_tx_ids(server)) == sorted([good.id, bad.id])
    k.close()


def test_bad_token_keeps_the_queue(tmp_path, server):
    k = make_kiosk(tmp_path / "k1", "k1", server.url, "wrong-token")
    [tx] = offline_accepted(k, [(Kind.CHECKIN, "B000101")])
    with pytest.raises(SyncError):
        k.worker.drain_all()
    row = outbox_row(k.store, tx.id)
    assert row.state == OutboxState.PENDING and "401" in (row.last_error or "")
    assert k.store.stats().last_error
    k.close()


def test_usb_export_import_then_normal_sync_changes_nothing(tmp_path, server):
    cfg = write_config(tmp_path / "kiosk", url=server.url, token=server.tokens["k1"])
    data = tmp_path / "kiosk" / "data"
    k = make_kiosk(data, "k1", server.url, server.tokens["k1"])
    k.worker.refresh_snapshot()
    txs = offline_accepted(
        k,
        [(Kind.CHECKOUT, "B000101"), (Kind.CHECKOUT, "B000102"), (Kind.CHECKIN, "B000101")],
    )
    k.close()
    usb = tmp_path / "usb" / "queue.jsonl"
    usb.parent.mkdir()
    exp = subprocess.run(kiosk_cmd(cfg, "export-queue", str(usb)), capture_output=True, text=True)
    assert exp.returncode == 0, exp.stderr
    assert "exported 3 transactions" in exp.stdout
    imp = server.cli("import-queue", str(usb))
    assert "accepted 3" in imp.stdout, imp.stdout
    after_import = (sorted(server_tx_ids(server)), open_loans(server), loans_per_checkout(server))
    assert after_import[1] == {"B000102": "AGT0001"}
    again = server.cli("import-queue", str(usb))  # a second import is harmless too
    assert "duplicate 3" in again.stdout, again.stdout
    sync = subprocess.run(kiosk_cmd(cfg, "sync"), capture_output=True, text=True, timeout=60)
    assert sync.returncode == 0, sync.stderr
    assert "sent: 3" in sync.stdout and "queue depth: 0" in sync.stdout
    after_sync = (sorted(server_tx_ids(server)), open_loans(server), loans_per_checkout(server))
    assert after_sync == after_import
    k = make_kiosk(data, "k1", server.url, server.tokens["k1"])
    rows = [outbox_row(k.store, t.id) for t in txs]
    assert all(r.state == OutboxState.SENT and server_result(r).duplicate for r in rows)
    assert k.store.stats().mismatches == 0
    k.close()


def test_worker_backs_off_while_the_server_is_down(tmp_path, server):
    k = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"])
    k.worker.refresh_snapshot()
    server.stop()
    [tx] = offline_accepted(k, [(Kind.CHECKOUT, "B000101")])
    k.worker.interval_s = 0.01  # without backoff this would retry ~100 times a second
    k.worker.start()
    time.sleep(3)
    attempts = outbox_row(k.store, tx.id).attempts
    assert 1 <= attempts <= 8, attempts
    assert outbox_row(k.store, tx.id).state == OutboxState.PENDING
    server.start()
    k.worker.wake()
    wait_for(
        lambda: outbox_row(k.store, tx.id).state == OutboxState.SENT, 20, "the drain after recovery"
    )
    k.close()
