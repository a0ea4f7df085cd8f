"""The SLiMS connector on a real MariaDB (``KIOSK_BENCH_MARIADB_URL``, or the tests' one).

- ``ils.slims.pull_full_s``: a full pull of 20,000 members and 100,000 items into
  a fresh server (SQLite).
- ``ils.slims.pull_delta_s``: the next pull after 1% of members and items changed.
- ``ils.slims.sweep_s``: the deletion sweep over all those members and items after
  0.5% of each were deleted in SLiMS (every key read, the missing ones refused).
- ``ils.slims.writeback_per_s``: queued kiosk checkouts written into SLiMS per second.
- ``ils.slims.checkout_online_p99_ms`` beside ``ils.own.checkout_online_p99_ms``: one
  online checkout at a time over real HTTP (uvicorn on 127.0.0.1) with the SLiMS
  worker draining in the background, and the same with no ILS. The machine is
  shared, so the two are measured in alternating phases (own, SLiMS, own, ...) and
  each figure is the median of its phases' p99; ``ils.slims.checkout_online_ratio``
  is the one over the other.
"""

from __future__ import annotations

import os
import socket
import statistics
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
PHASES = 8  # of each kind, alternating
PROBES = 200  # online checkouts per phase


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


class _Kiosk:
    """One kiosk checking items out online, one at a time, from a served server."""

    def __init__(self, server: Server, name: str, cards: list[str], first_item: int) -> None:
        self.server = server
        self.name = name
        self.cards = cards
        self.next = first_item
        self.seq = 0
        self.web, self.thread, self.base = _serve(server)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {add_kiosk(server.db, name)}"

    def phase(self) -> float:
        """p99 (ms) of PROBES single online checkouts over HTTP."""
        latencies = []
        for _ in range(PROBES):
            self.seq += 1
            self.next += 1
            txn = TransactionIn(
                id=uuid7(), kiosk=self.name, seq=self.seq, kind="checkout",
                at=datetime.now(WIB), card=self.cards[self.next % len(self.cards)],
                item=f"B{self.next:05d}",
            )  # fmt: skip
            body = {"transactions": [txn.model_dump(mode="json", exclude_none=True)]}
            started = time.perf_counter()
            r = self.http.post(f"{self.base}/api/v1/transactions", json=body, timeout=30)
            latencies.append((time.perf_counter() - started) * 1000)
            r.raise_for_status()
        latencies.sort()
        return latencies[int(0.99 * (len(latencies) - 1))]

    def settle(self) -> None:
        """Wait until the ILS worker has written back everything this kiosk made, so
        the next phase does not run beside its leftovers."""
        ils = self.server.ils
        while ils is not None and ils.status().queued:
            time.sleep(0.01)

    def close(self) -> None:
        self.http.close()
        self.web.should_exit = True
        self.thread.join()  # the app's ILS loops stop with it


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

            # no pull comes due while the phases run
            live = _server(Path(tmp) / "live", IlsSettings(kind="slims", url=url,
                                                           pull_interval_s=86400))  # fmt: skip
            assert live.ils is not None
            live.ils.pull(full=True)
            # the same patrons and items in a server that is its own authority
            own = Server(Settings(data_dir=Path(tmp) / "own", db_url=server.settings.db_url))
            kiosks = {"own": _Kiosk(own, "bench-own", cards, WRITEBACKS),
                      "slims": _Kiosk(live, "bench-slims", cards, WRITEBACKS)}  # fmt: skip
            p99s: dict[str, list[float]] = {"own": [], "slims": []}
            try:
                for _ in range(PHASES):
                    for name, kiosk in kiosks.items():
                        p99s[name].append(kiosk.phase())
                        kiosk.settle()
            finally:
                for kiosk in kiosks.values():
                    kiosk.close()
            for name, values in p99s.items():
                print(f"   {name} p99 per phase (ms): " + " ".join(f"{v:.1f}" for v in values))
            p99_own = statistics.median(p99s["own"])
            p99_ils = statistics.median(p99s["slims"])
            rec.record("ils.own.checkout_online_p99_ms", p99_own, "ms")
            rec.record("ils.slims.checkout_online_p99_ms", p99_ils, "ms",
                       f"<= {1.5 * p99_own:.0f} (1.5x ils.own.checkout_online_p99_ms)")  # fmt: skip
            rec.record("ils.slims.checkout_online_ratio", p99_ils / p99_own, "x", "<= 1.5")
    finally:
        engine.dispose()
        drop_mariadb_database(url)
