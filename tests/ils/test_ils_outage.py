"""The ILS's MariaDB stops for real in the middle of kiosk work and comes back.

A MariaDB server of the test's own holds the library's tables; a real server
process (``kiosk-server serve``, pull loop and write-back worker running) takes
online decisions and offline batches from two kiosks over HTTP. Part way through
the stream mariadbd gets SIGTERM and exits: every online decision still comes back
within the kiosk's decision deadline, the write-backs queue and ``ils status`` says
why. mariadbd starts again on the same data and port; the worker drains the queue
by itself (its pooled connections died with the server), ``ils check`` finds no
difference, and the ILS holds exactly one loan row per kiosk checkout and the
fines of the late returns: nothing lost, nothing doubled.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from kiosk.config import ServerSection
from server.ils.inlislite import InlisliteConnector
from server.ils.mirror import IlsDatabase
from server.ils.slims import SlimsConnector
from server.timeutil import WIB
from tests.ils.inlislite_schema import seed_inlislite
from tests.ils.own_mariadb import OwnMariadb, own_mariadb
from tests.ils.slims_seed import seed_slims
from tests.server.helpers import tx
from tests.server_process import ServerProcess

pytestmark = pytest.mark.mariadbd

#: the kiosk's deadline for an online decision; past it the kiosk decides offline
DEADLINE_S = float(ServerSection.model_fields["decision_timeout_s"].default)


@dataclass(frozen=True)
class Ils:
    """What differs between the two systems for this test."""

    kind: str
    seed: Callable[[Engine], None]
    card: Callable[[int], str]
    item: Callable[[int], str]
    connector: Callable[[str], IlsDatabase]
    loan_keys: str  # one row per kiosk loan, keyed by the checkout's id
    fine_keys: str  # one row per late return, keyed by fine_prefix + checkout id
    fine_prefix: str


SYSTEMS = {
    "slims": Ils(
        "slims", lambda e: seed_slims(e, members=8, items=12),
        lambda n: f"M{n:04d}", lambda n: f"B{n:05d}", SlimsConnector,
        "SELECT pustaka_txn FROM loan WHERE pustaka_txn IS NOT NULL",
        "SELECT pustaka_txn FROM fines WHERE pustaka_txn IS NOT NULL", "fine:",
    ),
    "inlislite": Ils(
        "inlislite", lambda e: seed_inlislite(e, members=8, items=12),
        lambda n: f"A{n:04d}", lambda n: f"C{n:05d}", InlisliteConnector,
        "SELECT pustaka_txn FROM collectionloanitems WHERE pustaka_txn IS NOT NULL",
        "SELECT pustaka_txn FROM pelanggaran WHERE pustaka_txn IS NOT NULL", "late:",
    ),
}  # fmt: skip


@pytest.fixture
def mariadbd() -> Iterator[OwnMariadb]:
    with own_mariadb() as server:
        yield server


@pytest.fixture(params=sorted(SYSTEMS))
def ils(request: pytest.FixtureRequest, mariadbd: OwnMariadb) -> Iterator[tuple[Ils, Engine]]:
    system = SYSTEMS[request.param]
    engine = create_engine(mariadbd.url, pool_pre_ping=True)
    system.seed(engine)
    try:
        yield system, engine
    finally:
        engine.dispose()


@pytest.fixture
def server(
    tmp_path: Path,
    mariadbd: OwnMariadb,
    ils: tuple[Ils, Engine],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ServerProcess]:
    config = tmp_path / "server.toml"
    config.write_text(
        f'[server]\n[server.ils]\nkind = "{ils[0].kind}"\npull_interval_s = 1\n'
        "writeback_interval_s = 0.2\nbackground = true\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KIOSK_SERVER_CONFIG", str(config))
    monkeypatch.setenv("KIOSK_ILS_URL", mariadbd.url)
    proc = ServerProcess(tmp_path / "srv")
    try:
        proc.cli("migrate")
        proc.cli("ils", "pull")
        for name in ("kiosk-a", "kiosk-b"):
            proc.tokens[name] = proc.cli("add-kiosk", name).stdout.strip().splitlines()[-1]
        proc.start()
        yield proc
    finally:
        proc.stop()


@dataclass
class Step:
    kiosk: str
    txns: list[dict]

    @property
    def online(self) -> bool:
        return not any(t.get("offline") for t in self.txns)


def _stream(ils: Ils) -> tuple[list[Step], list[str], set[str]]:
    """The kiosks' work in order: steps, the checkouts' ids, the late ones' ids."""
    now = datetime.now(WIB)
    card, item = ils.card, ils.item

    def out(kiosk: str, n: int, m: int, ago: timedelta | None = None) -> dict:
        if ago is None:
            return tx("checkout", kiosk=kiosk, card=card(m), item=item(n))
        return tx("checkout", kiosk=kiosk, card=card(m), item=item(n), at=now - ago, offline=True)

    def back(kiosk: str, n: int, ago: timedelta | None = None) -> dict:
        if ago is None:
            return tx("checkin", kiosk=kiosk, item=item(n))
        return tx("checkin", kiosk=kiosk, item=item(n), at=now - ago, offline=True)

    a, b = "kiosk-a", "kiosk-b"
    late_a = out(b, 3, 4, timedelta(days=20))
    late_b = out(b, 11, 8, timedelta(days=25))
    steps = [
        Step(a, [out(a, 1, 1)]),
        Step(b, [out(b, 2, 2)]),
        Step(a, [back(a, 1)]),
        Step(b, [late_a, back(b, 3, timedelta(hours=1)), out(b, 4, 5, timedelta(hours=2))]),
        # mariadbd is being stopped from here on
        Step(a, [out(a, 5, 1)]),
        Step(b, [out(b, 6, 6)]),
        Step(a, [out(a, 7, 7, timedelta(hours=3)), out(a, 8, 7, timedelta(hours=3))]),
        Step(b, [back(b, 2)]),
        # mariadbd is down for all of these
        Step(a, [out(a, 9, 2)]),
        Step(b, [out(b, 10, 4)]),
        Step(a, [back(a, 5)]),
        Step(b, [late_b, back(b, 11, timedelta(minutes=30)), back(b, 4, timedelta(minutes=20))]),
        Step(a, [out(a, 1, 1)]),
        Step(b, [back(b, 6)]),
    ]
    checkouts = [t["id"] for s in steps for t in s.txns if t["kind"] == "checkout"]
    return steps, checkouts, {late_a["id"], late_b["id"]}


def _keys(engine: Engine, sql: str) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(str(k) for (k,) in conn.execute(text(sql)))


def _status(server: ServerProcess) -> str:
    return server.cli("ils", "status", check=False).stdout


def _queued(status: str) -> int:
    found = re.search(r"write-backs queued: (\d+)", status)
    assert found is not None, status
    return int(found.group(1))


def _wait_for(what: str, ok: Callable[[], str | None], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = ok()
        if got is not None:
            return got
        time.sleep(0.3)
    raise AssertionError(f"{what} not within {timeout:.0f} s")


def test_ils_stopped_mid_run_and_restarted_loses_and_doubles_nothing(
    server: ServerProcess, mariadbd: OwnMariadb, ils: tuple[Ils, Engine]
) -> None:
    system, engine = ils
    steps, checkouts, late = _stream(system)
    probe = system.connector(mariadbd.url)  # an engine whose pool the outage kills
    assert probe.health().reachable

    answers: list[tuple[Step, float, list[dict]]] = []
    stopping, down = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def kiosks() -> None:
        try:
            for i, step in enumerate(steps):
                if i == 4:
                    stopping.set()  # the stop races the next steps
                if i == 8:
                    down.wait(120)
                started = time.perf_counter()
                r = requests.post(
                    f"{server.url}/api/v1/transactions",
                    json={"transactions": step.txns},
                    headers={"Authorization": f"Bearer {server.tokens[step.kiosk]}"},
                    # an online decision later than the deadline is no decision
                    timeout=DEADLINE_S if step.online else 30,
                )
                assert r.status_code == 200, r.text
                answers.append((step, time.perf_counter() - started, r.json()["results"]))
                time.sleep(0.05)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    def written_back_before_the_stop() -> str | None:
        have = _keys(engine, system.loan_keys)
        return "yes" if have[steps[0].txns[0]["id"]] and have[steps[1].txns[0]["id"]] else None

    stream = threading.Thread(target=kiosks, daemon=True)
    stream.start()
    assert stopping.wait(60), failures
    # SLiMS/INLISLite took the first online checkouts while it was up
    _wait_for("write-back while the ILS is up", written_back_before_the_stop, 30)
    mariadbd.stop()  # SIGTERM, waited for: the ILS is down
    down.set()
    stream.join(120)
    assert not stream.is_alive() and not failures, failures

    assert len(answers) == len(steps)
    for step, took, results in answers:
        assert [r["status"] for r in results] == ["accepted"] * len(step.txns), results
        if step.online:
            assert took < DEADLINE_S, f"an online decision took {took:.2f} s"

    def queued_with_error() -> str | None:
        status = _status(server)
        return status if _queued(status) > 0 and "last error: none" not in status else None

    status = _wait_for("write-backs queued with an error", queued_with_error, 30)
    assert "NOT reachable" in status and "failed" in status, status

    mariadbd.start()  # same data directory, same port
    assert probe.health().reachable  # its pooled connection died: checked before use

    def drained_status() -> str | None:
        status = _status(server)
        return status if _queued(status) == 0 else None

    drained = _wait_for("the queue drained by itself", drained_status, 90)
    assert "(reachable" in drained, drained

    check = server.cli("ils", "check", check=False)
    assert check.returncode == 0 and "0 difference(s)" in check.stdout, check.stdout
    assert _keys(engine, system.loan_keys) == Counter(checkouts)
    assert _keys(engine, system.fine_keys) == Counter(system.fine_prefix + k for k in late)
    probe.engine.dispose()
