"""Kiosk-side parts wired to a real server on 127.0.0.1, and a read-only look into its DB."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.wire import Kind, Reason, Status, TransactionIn, TransactionResult
from kiosk.config import OfflinePolicy
from kiosk.flows.base import Services
from sync.client import ServerClient
from sync.connectivity import Connectivity
from sync.decider import Decider
from sync.store import LocalStore
from sync.worker import SyncWorker
from tests.server_process import ServerProcess


@dataclass
class Kiosk:
    """One kiosk's store, link, decider and (not started) sync worker."""

    store: LocalStore
    link: Connectivity
    decider: Decider
    worker: SyncWorker
    services: Services

    def close(self) -> None:
        self.worker.stop()
        self.link.stop()
        self.store.close()


def make_kiosk(
    folder: Path,
    name: str,
    url: str,
    token: str,
    *,
    policy: OfflinePolicy | None = None,
    batch_size: int = 50,
    request_timeout_s: float = 5.0,
    deadline_s: float = 1.5,
) -> Kiosk:
    folder.mkdir(parents=True, exist_ok=True)
    store = LocalStore(folder / "kiosk.sqlite3", kiosk=name)
    probe = ServerClient(url, token)
    link = Connectivity(lambda: probe.health(timeout=1.0), min_backoff_s=0.05, max_backoff_s=0.5)
    worker = SyncWorker(
        store,
        ServerClient(url, token),
        link=link,
        batch_size=batch_size,
        interval_s=0.05,
        request_timeout_s=request_timeout_s,
        version="test",
    )
    decider = Decider(
        store,
        ServerClient(url, token, timeout=deadline_s),
        link,
        policy or OfflinePolicy(),
        deadline_s=deadline_s,
    )
    return Kiosk(store, link, decider, worker, Services(decider=decider, store=store))


def server_db(srv: ServerProcess) -> sqlite3.Connection:
    """The server's SQLite file, read-only (the running server keeps writing it)."""
    path = srv.db_url.removeprefix("sqlite:///")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


def server_tx_ids(srv: ServerProcess) -> list[str]:
    db = server_db(srv)
    try:
        return [r[0] for r in db.execute("SELECT id FROM transactions")]
    finally:
        db.close()


def accepted(tx: TransactionIn, **fields: object) -> TransactionResult:
    """The result of ``tx`` accepted (``fields``: due_at and the like)."""
    return TransactionResult(id=tx.id, status=Status.ACCEPTED, **fields)


def failed_behind_conflicts(store: LocalStore, failed: int, conflicts: int) -> list[str]:
    """``failed`` rows the server rejected as requests (errors "422: refused N"), then
    ``conflicts`` newer rows the server answered with a conflict (each a mismatch with
    what the kiosk told the patron). Returns the failed rows' ids, oldest first."""
    ids = []
    for i in range(failed):
        tx = store.new_transaction(Kind.CHECKIN, item=f"B1{i:05d}", offline=True)
        store.commit(tx, accepted(tx), applied_on_server=False)
        store.mark_failed(tx.id, f"422: refused {i}")
        ids.append(tx.id)
    sent_checkins(
        store,
        conflicts,
        prefix="B2",
        result=lambda t: TransactionResult(
            id=t.id, status=Status.CONFLICT, reason=Reason.NOT_ON_LOAN
        ),
    )
    return ids


def age_store_file(path: Path | str, *statements: str) -> None:
    """Run ``statements`` on a closed store's file (to make it look like an older one)."""
    db = sqlite3.connect(path)
    try:
        for sql in statements:
            db.execute(sql)
        db.commit()
    finally:
        db.close()


def server_conflicts(srv: ServerProcess) -> list[tuple[str, str]]:
    """(transaction id, reason) of every open conflict on the server."""
    db = server_db(srv)
    try:
        rows = db.execute(
            "SELECT transaction_id, reason FROM conflicts WHERE resolved_at IS NULL ORDER BY id"
        ).fetchall()
    finally:
        db.close()
    return [tuple(r) for r in rows]


def open_loans(srv: ServerProcess) -> dict[str, str]:
    """item barcode -> card of every open loan on the server."""
    db = server_db(srv)
    try:
        rows = db.execute(
            "SELECT i.barcode, p.card FROM loans l JOIN items i ON i.id=l.item_id"
            " JOIN patrons p ON p.id=l.patron_id WHERE l.returned_at IS NULL"
        ).fetchall()
    finally:
        db.close()
    return dict(rows)


def loans_per_checkout(srv: ServerProcess) -> dict[str, int]:
    """checkout transaction id -> number of loan rows it made (exactly once means 1)."""
    db = server_db(srv)
    try:
        rows = db.execute(
            "SELECT checkout_txn_id, COUNT(*) FROM loans WHERE checkout_txn_id IS NOT NULL"
            " GROUP BY checkout_txn_id"
        ).fetchall()
    finally:
        db.close()
    return dict(rows)


def wait_for(cond: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def two_kiosks(folder: Path, srv: ServerProcess) -> tuple[Kiosk, Kiosk]:
    """Kiosks k1 and k2 of ``srv``, each with its own store under ``folder``."""
    return (
        make_kiosk(folder / "k1", "k1", srv.url, srv.tokens["k1"]),
        make_kiosk(folder / "k2", "k2", srv.url, srv.tokens["k2"]),
    )


def lent_twice(k1: Kiosk, k2: Kiosk, item: str = "B000107") -> TransactionIn:
    """k2 lends ``item`` online; then k1, offline, lends it too and sends that: the
    server makes k1's (later) checkout a conflict. Returns k1's transaction."""
    online = k2.decider.submit(Kind.CHECKOUT, card="AGT0002", item=item)
    assert online.result.status == Status.ACCEPTED
    [late] = offline_accepted(k1, [(Kind.CHECKOUT, item)])
    assert late.at > online.tx.at
    k1.worker.drain_all()
    return late


def sent_checkins(
    store: LocalStore,
    n: int,
    prefix: str = "B",
    result: Callable[[TransactionIn], TransactionResult] | None = None,
) -> list[TransactionIn]:
    """``n`` offline returns committed, sent and answered with ``result(tx)``
    (accepted unless given)."""
    txs = []
    for i in range(n):
        tx = store.new_transaction(Kind.CHECKIN, item=f"{prefix}{i:06d}", offline=True)
        store.commit(tx, accepted(tx), applied_on_server=False)
        txs.append(tx)
    store.mark_in_flight([t.id for t in txs])
    store.mark_sent([(result or accepted)(t) for t in txs])
    return txs


def offline_accepted(k: Kiosk, pairs: list[tuple[Kind, str]]) -> list[TransactionIn]:
    """Make (kind, item) transactions at ``k`` offline (checkouts for AGT0001), each
    accepted by the offline policy, as a kiosk with no network does; return them."""
    offline = Decider(k.store, None, None, OfflinePolicy(max_items_per_session=50))
    out = []
    for kind, item in pairs:
        if kind == Kind.CHECKOUT:
            d = offline.submit(kind, item=item, card="AGT0001")
        else:
            d = offline.submit(kind, item=item)
        assert d.result.status == Status.ACCEPTED, d.result
        out.append(d.tx)
    return out
