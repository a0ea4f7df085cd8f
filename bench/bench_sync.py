"""Sync benchmarks: durable enqueue vs raw SQLite, outbox drain, snapshot, lookups, decisions.

Everything runs against real files in one temporary folder (same disk for the
SQLite comparison) and a real ``kiosk-server`` subprocess on 127.0.0.1.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from core.wire import Kind, Status, TransactionResult
from kiosk.config import OfflinePolicy
from kiosk.flows.base import Services
from kiosk.flows.checkout import CheckoutFlow
from sync.client import ServerClient
from sync.decider import Decider
from sync.store import LocalStore
from sync.worker import SyncWorker
from tests.server_process import ServerProcess

N_COMMITS = 3000
N_PATRONS = 100_000
N_ITEMS = 300_000
N_DRAIN = 10_000
N_SINGLE = 1_000
N_HISTORY = 300_000  # rows a busy kiosk sends in a few years


def _card(i: int) -> str:
    return f"AGT{1_000_000 + i}"


def _barcode(i: int) -> str:
    return f"B{100_000 + i}"


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# -- durable enqueue vs raw SQLite ----------------------------------------------
def bench_enqueue(rec, folder: Path) -> None:
    """Both on the same disk, interleaved in short rounds so the disk's wandering
    fsync time weighs on both alike."""
    raw = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    payload = "x" * 400  # about one outbox row
    store = LocalStore(folder / "enqueue.sqlite3", kiosk="bench")
    raw_s = ours_s = 0.0
    ratios: list[float] = []
    rounds, per_round = 60, N_COMMITS // 60
    for r in range(rounds):
        started = time.perf_counter()
        for i in range(r * per_round, (r + 1) * per_round):
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("INSERT INTO t(id, payload) VALUES (?, ?)", (i, payload))
            raw.execute("COMMIT")
        raw_t = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(r * per_round, (r + 1) * per_round):
            tx = store.new_transaction(Kind.CHECKIN, item=_barcode(i), offline=True)
            store.commit(
                tx, TransactionResult(id=tx.id, status=Status.ACCEPTED), applied_on_server=False
            )
        ours_t = time.perf_counter() - started
        raw_s += raw_t
        ours_s += ours_t
        ratios.append(raw_t / ours_t)
    raw.close()
    store.close()
    n = rounds * per_round
    rec.record("sync.sqlite_commit_per_s", n / raw_s, "commits/s")
    rec.record("sync.enqueue_per_s", n / ours_s, "tx/s")
    # The ratio of the two rates. (Per-round ratios vary a lot on this shared disk;
    # their median is kept as a second figure to show the spread.)
    rec.record("sync.enqueue_vs_sqlite_ratio", raw_s / ours_s, "", ">= 0.8")
    rec.record("sync.enqueue_vs_sqlite_round_median", statistics.median(ratios), "")


# -- staff screen reads on a long-lived outbox ------------------------------------
#: The old one-pass count, kept here as the baseline of the same run.
_FULL_PASS = (
    "SELECT COUNT(CASE WHEN state='pending' THEN 1 END),"
    " COUNT(CASE WHEN state='in_flight' THEN 1 END), COUNT(CASE WHEN state='failed' THEN 1 END),"
    " COUNT(CASE WHEN state='sent' THEN 1 END),"
    " MIN(CASE WHEN state IN ('pending','in_flight') THEN at END),"
    " COUNT(CASE WHEN server_status='conflict' THEN 1 END), COUNT(mismatch) FROM outbox"
)


def bench_staff_stats(rec, folder: Path, rows: int = N_HISTORY) -> None:
    """What the staff screen reads every 2 s, on a kiosk with years of sent rows."""
    store = LocalStore(folder / "history.sqlite3", kiosk="bench")
    tx = store.new_transaction(Kind.CHECKIN, item="B00000001", offline=True)
    payload = tx.model_dump_json(exclude_defaults=True)
    result = TransactionResult(id=tx.id, status=Status.ACCEPTED).model_dump_json()
    with store._tx() as db:  # rows of a real row's width, made by SQLite itself
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)"
            " INSERT INTO outbox(seq, id, kind, at, offline, payload, state, local_result,"
            " server_result, created_at, sent_at, server_status)"
            " SELECT i, printf('%s-%d', ?2, i), 'checkin', ?3, 1, ?4, 'sent', ?5, ?5, 0, 0,"
            " 'accepted' FROM n",
            (rows, tx.id, tx.at.isoformat(), payload, result),
        )
        db.execute("UPDATE meta SET value=? WHERE key='unsent_from'", (str(rows + 1),))
    store.close()
    store = LocalStore(folder / "history.sqlite3", kiosk="bench")  # numbers past those rows
    for i in range(20):  # and what staff must see: a few conflicts, a few still queued
        t = store.new_transaction(Kind.CHECKIN, item=f"B{i:08d}", offline=True)
        store.commit(t, TransactionResult(id=t.id, status=Status.ACCEPTED), applied_on_server=False)
    store.mark_sent(
        [TransactionResult(id=t.id, status=Status.CONFLICT) for t in store.pending(20)[-5:]]
    )

    def median_ms(fn) -> float:
        fn()
        times = []
        for _ in range(15):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    ours = median_ms(store.stats)
    full = median_ms(lambda: store._db.execute(_FULL_PASS).fetchone())
    st = store.stats()
    print(f"   ({rows} sent rows; staff sees {st.pending} pending, {st.conflicts} conflicts)")
    rec.record("sync.staff_stats_ms", ours, "ms")
    rec.record("sync.staff_stats_full_pass_ms", full, "ms")
    rec.record("sync.staff_stats_speedup", full / ours, "x")
    bench_prune(rec, store, rows)
    store.close()


def bench_prune(rec, store: LocalStore, rows: int) -> None:
    """Dropping years of sent rows: each step holds the store (a patron's commit waits
    for it), so the figure that matters is the longest step."""
    steps: list[float] = []
    deleted, more = 0, True
    started = time.perf_counter()
    while more:
        t0 = time.perf_counter()
        n, more = store.prune_sent(90 * 86400.0)
        steps.append((time.perf_counter() - t0) * 1000)
        deleted += n
    took = time.perf_counter() - started
    print(f"   (pruned {deleted} of {rows} sent rows in {len(steps)} steps)")
    rec.record("sync.prune_300k_s", took, "s")
    rec.record("sync.prune_step_p50_ms", statistics.median(steps), "ms")
    rec.record("sync.prune_step_max_ms", max(steps), "ms")


# -- server data ----------------------------------------------------------------
def load_library(srv: ServerProcess) -> None:
    """100k patrons and 300k items straight into the server DB with its own models."""
    from sqlalchemy import insert

    from server.db import Database
    from server.models import Item, Patron

    db = Database(srv.db_url)
    with db.write() as (s, version):
        s.execute(
            insert(Patron),
            [
                {
                    "card": _card(i),
                    "name": f"Anggota {i}",
                    "category": "umum",
                    "status": "active",
                    "expires_on": date(2099, 12, 31),
                    "version": version,
                    "deleted": False,
                    "fines_idr": 0,
                }
                for i in range(N_PATRONS)
            ],
        )
        s.execute(
            insert(Item),
            [
                {
                    "barcode": _barcode(i),
                    "title": f"Buku nomor {i}",
                    "item_type": "book",
                    "status": "available",
                    "version": version,
                    "deleted": False,
                }
                for i in range(N_ITEMS)
            ],
        )
    db.dispose()


def touch_one_percent(srv: ServerProcess) -> None:
    from sqlalchemy import update

    from server.db import Database
    from server.models import Item, Patron

    db = Database(srv.db_url)
    with db.write() as (s, version):
        s.execute(
            update(Patron)
            .where(Patron.card.in_([_card(i) for i in range(0, N_PATRONS, 100)]))
            .values(version=version, name="Anggota Baru")
        )
        s.execute(
            update(Item)
            .where(Item.barcode.in_([_barcode(i) for i in range(0, N_ITEMS, 100)]))
            .values(version=version, title="Judul baru")
        )
    db.dispose()


# -- snapshot, lookup ---------------------------------------------------------------
def bench_snapshot(rec, srv: ServerProcess, folder: Path) -> LocalStore:
    store = LocalStore(folder / "snap.sqlite3", kiosk="k1")
    worker = SyncWorker(store, ServerClient(srv.url, srv.tokens["k1"]), request_timeout_s=60)
    started = time.perf_counter()
    worker.refresh_snapshot()
    rec.record("sync.snapshot_full_s", time.perf_counter() - started, "s", "< 15")
    assert store.snapshot_counts()["items"] >= N_ITEMS
    touch_one_percent(srv)
    started = time.perf_counter()
    worker.refresh_snapshot()
    rec.record("sync.snapshot_delta_s", time.perf_counter() - started, "s", "< 1")
    changed = store.item(_barcode(0))
    assert changed is not None and changed.title == "Judul baru"
    worker.client.close()
    return store


def bench_lookup(rec, store: LocalStore) -> None:
    import random

    rng = random.Random(1)
    times = []
    for _ in range(20_000):
        card = _card(rng.randrange(N_PATRONS))
        t0 = time.perf_counter()
        found = store.patron(card)
        times.append((time.perf_counter() - t0) * 1000)
        assert found is not None
    rec.record("sync.lookup_p50_ms", statistics.median(times), "ms")
    rec.record("sync.lookup_p99_ms", _pct(times, 99), "ms", "< 1")


# -- decisions ------------------------------------------------------------------------
def _decisions(services: Services, first_item: int, n: int, per_session: int) -> list[float]:
    times: list[float] = []
    item = first_item
    patron = first_item // 5
    while len(times) < n:
        flow = CheckoutFlow(services)
        flow.scan(_card(patron))
        patron += 1
        for _ in range(per_session):
            t0 = time.perf_counter()
            flow.scan(_barcode(item))
            times.append((time.perf_counter() - t0) * 1000)
            assert flow.lines[-1].ok, flow.lines[-1]
            item += 1
    return times


def bench_decisions(rec, srv: ServerProcess, store: LocalStore) -> None:
    online = Decider(
        store, ServerClient(srv.url, srv.tokens["k1"], timeout=1.5), None, OfflinePolicy()
    )
    times = _decisions(Services(decider=online, store=store), 200_000, 300, 4)
    rec.record("sync.decision_online_p50_ms", statistics.median(times), "ms")
    rec.record("sync.decision_online_p99_ms", _pct(times, 99), "ms", "< 40")
    offline = Decider(store, None, None, OfflinePolicy())
    times = _decisions(Services(decider=offline, store=store), 210_000, 300, 3)
    rec.record("sync.decision_offline_p50_ms", statistics.median(times), "ms")
    rec.record("sync.decision_offline_p99_ms", _pct(times, 99), "ms", "< 15")


# -- drain ------------------------------------------------------------------------------
def _queue(store: LocalStore, first: int, n: int) -> None:
    now = datetime.now(UTC)
    for i in range(first, first + n):
        tx = store.new_transaction(
            Kind.CHECKOUT, card=_card(i // 4), item=_barcode(i), offline=True, at=now
        )
        store.commit(
            tx, TransactionResult(id=tx.id, status=Status.ACCEPTED), applied_on_server=False
        )


def bench_drain(rec, srv: ServerProcess, folder: Path) -> None:
    batched = LocalStore(folder / "drain.sqlite3", kiosk="k1")
    _queue(batched, 0, N_DRAIN)
    # The worker's default batch size (sync.worker.DEFAULT_BATCH_SIZE), which is also
    # the default of a kiosk's [server] batch_size (kiosk/config.py).
    worker = SyncWorker(batched, ServerClient(srv.url, srv.tokens["k1"]))
    started = time.perf_counter()
    sent = worker.drain_all()
    took = time.perf_counter() - started
    assert sent == N_DRAIN and batched.queue_depth() == 0
    rec.record("sync.drain10k_s", took, "s", "< 10")
    single = LocalStore(folder / "single.sqlite3", kiosk="k2")
    _queue(single, 20_000, N_SINGLE)
    one = SyncWorker(single, ServerClient(srv.url, srv.tokens["k2"]), batch_size=1)
    started = time.perf_counter()
    assert one.drain_all() == N_SINGLE
    per_tx = (time.perf_counter() - started) / N_SINGLE
    rec.record("sync.drain_single_per_tx_ms", per_tx * 1000, "ms")
    rec.record("sync.drain_batched_vs_single_ratio", per_tx * N_DRAIN / took, "x", ">= 20")


def run(rec) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sync-", dir=Path.cwd()) as tmp:
        folder = Path(tmp)
        bench_enqueue(rec, folder)
        bench_staff_stats(rec, folder)
        srv = ServerProcess(folder / "server")
        srv.setup_demo("k1", "k2")
        load_library(srv)
        srv.start()
        try:
            store = bench_snapshot(rec, srv, folder)
            bench_lookup(rec, store)
            bench_decisions(rec, srv, store)
            store.close()
            bench_drain(rec, srv, folder)
        finally:
            srv.stop()
