"""The SLiMS connector on a real MariaDB (``KIOSK_BENCH_MARIADB_URL``, or the tests' one).

- ``ils.slims.pull_full_s``: a full pull of 20,000 members and 100,000 items into
  a fresh server (SQLite).
- ``ils.slims.pull_delta_s``: the next pull after 1% of members and items changed.
- ``ils.slims.sweep_s``: the deletion sweep over all those members and items after
  0.5% of each were deleted in SLiMS (every key read, the missing ones refused).
- ``ils.slims.writeback_per_s``: queued kiosk checkouts written into SLiMS per second.
- ``ils.slims.checkout_online_p99_ms`` beside ``ils.own.checkout_online_p99_ms``: one
  online checkout at a time over real HTTP (uvicorn on 127.0.0.1) with the SLiMS
  worker draining in the background, and the same with no ILS.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import requests
import uvicorn
from sqlalchemy import create_engine, text

from core.ids import uuid7
from core.wire import TransactionIn
from server.admin import add_kiosk
from server.app import create_app
from server.service import Server
from server.settings import IlsSettings, Settings
from server.timeutil import WIB
from tests.ils.conftest import drop_mariadb_database, fresh_mariadb_database
from tests.ils.slims_seed import seed_slims

MEMBERS = 20_000
ITEMS = 100_000
WRITEBACKS = 2_000
PROBES = 300


def _url() -> str | None:
    url = os.environ.get("KIOSK_BENCH_MARIADB_URL") or os.environ.get("KIOSK_TEST_MARIADB_URL")
    if url:
        os.environ.setdefault("KIOSK_TEST_MARIADB_URL", url)
    return url


def _server(folder: Path, ils: IlsSettings) -> Server:
    server = Server(
        Settings(data_dir=folder / "data", db_url=f"sqlite:///{folder / 'server.db'}", ils=ils)
    )
    server.db.migrate()
    return server


def _serve(server: Server) -> tuple[uvicorn.Server, threading.Thread, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    web = uvicorn.Server(
        uvicorn.Config(create_app(server), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    while not web.started:
        time.sleep(0.05)
    return web, thread, f"http://127.0.0.1:{port}"


def _probe(server: Server, cards: list[str], first_item: int) -> float:
    """p99 (ms) of single online checkouts over HTTP."""
    token = add_kiosk(server.db, f"bench-{first_item}")
    web, thread, base = _serve(server)
    latencies = []
    try:
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            for n in range(PROBES):
                txn = TransactionIn(
                    id=uuid7(), kiosk=f"bench-{first_item}", seq=n + 1, kind="checkout",
                    at=datetime.now(WIB), card=cards[n % len(cards)],
                    item=f"B{first_item + n:05d}",
                )  # fmt: skip
                body = {"transactions": [txn.model_dump(mode="json", exclude_none=True)]}
                started = time.perf_counter()
                r = http.post(f"{base}/api/v1/transactions", json=body, timeout=30)
                latencies.append((time.perf_counter() - started) * 1000)
                r.raise_for_status()
    finally:
        web.should_exit = True
        thread.join()  # the app's ILS loops stop with it
    latencies.sort()
    return latencies[int(0.99 * (len(latencies) - 1))]


def run(rec) -> None:
    if not _url():
        print("skipped: needs MariaDB (set KIOSK_BENCH_MARIADB_URL; make bench starts one)")
        return
    url = fresh_mariadb_database()
    engine = create_engine(url)
    try:
        seed_slims(engine, members=MEMBERS, items=ITEMS, age_days=30)
        with tempfile.TemporaryDirectory() as tmp:
            server = _server(Path(tmp), IlsSettings(kind="slims", url=url, background=False))
            ils = server.ils
            assert ils is not None
            started = time.perf_counter()
            report = ils.pull(full=True)
            rec.record("ils.slims.pull_full_s", time.perf_counter() - started, "s", "< 30")
            assert report.patrons == MEMBERS and report.items == ITEMS, report.summary()

            with engine.begin() as conn:
                conn.execute(text("UPDATE member SET last_update = CURDATE() "
                                  f"WHERE member_id <= 'M{MEMBERS // 100:04d}'"))  # fmt: skip
                conn.execute(
                    text(f"UPDATE item SET last_update = NOW() WHERE item_id <= {ITEMS // 100}")
                )
            started = time.perf_counter()
            report = ils.pull()
            rec.record("ils.slims.pull_delta_s", time.perf_counter() - started, "s", "< 2")

            gone_members, gone_items = MEMBERS // 200, ITEMS // 200
            with engine.begin() as conn:  # the last ones: the steps below use the first
                conn.execute(text("DELETE FROM member WHERE CAST(SUBSTRING(member_id, 2) "
                                  f"AS UNSIGNED) > {MEMBERS - gone_members}"))  # fmt: skip
                conn.execute(text(f"DELETE FROM item WHERE item_id > {ITEMS - gone_items}"))
            started = time.perf_counter()
            swept = ils.connector.sweep(server.db)
            rec.record("ils.slims.sweep_s", time.perf_counter() - started, "s", "< 5")
            assert (swept.patrons_removed, swept.items_removed) == (gone_members, gone_items), (
                swept.summary()
            )

            cards = [f"M{n:04d}" for n in range(4, MEMBERS + 1) if n != 3]
            txns = [
                TransactionIn(
                    id=uuid7(),
                    kiosk="bench",
                    seq=n + 1,
                    kind="checkout",
                    at=datetime.now(WIB),
                    card=cards[n % len(cards)],
                    item=f"B{n + 1:05d}",
                )  # fmt: skip
                for n in range(WRITEBACKS)
            ]
            for i in range(0, len(txns), 200):
                server.apply(txns[i : i + 200])
            started = time.perf_counter()
            settled = 0
            while (n := ils.drain()) > 0:
                settled += n
            rec.record("ils.slims.writeback_per_s", settled / (time.perf_counter() - started),
                       "/s", ">= 200")  # fmt: skip

            live = _server(Path(tmp) / "live", IlsSettings(kind="slims", url=url))
            assert live.ils is not None
            live.ils.pull(full=True)
            # the same patrons and items in a server that is its own authority
            own = Server(Settings(data_dir=Path(tmp) / "own", db_url=server.settings.db_url))
            p99_ils = _probe(live, cards, WRITEBACKS + 1)
            # the write-backs the worker left for later are written before the next
            # probe, so they do not run beside it
            for worker in threading.enumerate():
                if worker.name in ("ils-pull", "ils-writeback"):
                    worker.join()
            while live.ils.drain() > 0:
                pass
            p99_own = _probe(own, cards, WRITEBACKS + 1)
            rec.record("ils.own.checkout_online_p99_ms", p99_own, "ms")
            rec.record("ils.slims.checkout_online_p99_ms", p99_ils, "ms",
                       f"<= {1.5 * p99_own:.0f} (1.5x ils.own.checkout_online_p99_ms)")  # fmt: skip
    finally:
        engine.dispose()
        drop_mariadb_database(url)
