"""Many kiosks at once: writers are serialised, so one item goes to one patron, and
patrons' requests waiting for the same write gate share one write."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError

from core.ids import uuid7
from core.wire import TransactionBatch, TransactionIn
from server.admin import add_kiosk
from server.db import current_counter
from server.models import Kiosk, Transaction
from server.service import Server
from tests.server.helpers import soon


def test_simultaneous_checkouts_of_one_item(demo: Server) -> None:
    # a second Server object has its own in-process gate, like a second server
    # process: then only the database (counter row lock / SQLite lock) serialises
    other = Server(demo.settings)
    servers = [demo, other]
    cards = ["AGT0001", "AGT0002", "STF0001"] * 4
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(cards))

    def kiosk(i: int, card: str) -> None:
        txn = TransactionIn(id=uuid7(), kiosk=f"k{i}", seq=1, kind="checkout", at=soon(),
                            card=card, item="B000101")  # fmt: skip
        start.wait()
        batch = TransactionBatch(transactions=[txn])
        [r] = servers[i % 2].apply_batch(f"k{i}", batch, urgent=i % 3 == 0)
        with lock:
            results.append(r.reason.value if r.reason else r.status.value)

    threads = [threading.Thread(target=kiosk, args=(i, c)) for i, c in enumerate(cards)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    other.db.dispose()
    assert results.count("accepted") == 1
    assert len(results) == len(cards)
    assert set(results) <= {
        "accepted",
        "item_on_loan_to_other",
        "item_already_on_loan_to_patron",
    }


def _counter(server: Server) -> int:
    with server.db.read() as s:
        return current_counter(s)


def _online(kiosk: str, card: str, item: str) -> TransactionBatch:
    txn = TransactionIn(id=uuid7(), kiosk=kiosk, seq=1, kind="checkout", at=soon(), card=card,
                        item=item)  # fmt: skip
    return TransactionBatch(transactions=[txn], queue_depth=len(kiosk), version="9.9")


def _patrons(
    server: Server, batches: dict[str, TransactionBatch]
) -> tuple[list[threading.Thread], dict[str, object]]:
    """A thread per kiosk to send its patron request, and where each answer lands
    (its results, or the exception raised)."""
    answers: dict[str, object] = {}

    def kiosk(name: str) -> None:
        try:
            answers[name] = server.apply_batch(name, batches[name], urgent=True)
        except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
            answers[name] = exc

    return [threading.Thread(target=kiosk, args=(name,)) for name in batches], answers


def _start_and_wait_queued(
    server: Server, threads: list[threading.Thread], answers: dict[str, object]
) -> None:
    """Start the patrons' threads; return once all of them wait (or have answers)."""
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while server.patrons_waiting < len(threads) and len(answers) < len(threads):
        assert time.monotonic() < deadline, "the requests never queued"
        time.sleep(0.005)


def _while_gate_busy(server: Server, batches: dict[str, TransactionBatch]) -> dict[str, object]:
    """Each kiosk's patron request sent while a write holds the gate: the answers
    once the gate is free again."""
    threads, answers = _patrons(server, batches)
    with server.db.gate.hold():
        _start_and_wait_queued(server, threads, answers)
    for t in threads:
        t.join(timeout=60)
    return answers


def test_patron_requests_waiting_together_share_one_write(demo: Server) -> None:
    """Four patrons scan while the gate is busy: one write decides all of them, in
    event-time order (two want the same book), and every kiosk's health is kept."""
    names = ["kiosk-1", "kiosk-22", "kiosk-333", "kiosk-4444"]
    for name in names:
        add_kiosk(demo.db, name)
    batches = {
        "kiosk-1": _online("kiosk-1", "AGT0001", "B000101"),
        "kiosk-22": _online("kiosk-22", "AGT0002", "B000102"),
        "kiosk-333": _online("kiosk-333", "STF0001", "B000103"),
        "kiosk-4444": _online("kiosk-4444", "AGT0001", "B000103"),  # a later scan
    }
    before = _counter(demo)
    answers = _while_gate_busy(demo, batches)
    assert _counter(demo) == before + 1  # one write for the four
    status = {}
    for name, answer in answers.items():
        assert isinstance(answer, list), answer
        [result] = answer
        assert result.id == batches[name].transactions[0].id
        status[name] = result.reason.value if result.reason else result.status.value
    assert status == {
        "kiosk-1": "accepted",
        "kiosk-22": "accepted",
        "kiosk-333": "accepted",
        "kiosk-4444": "item_on_loan_to_other",
    }
    with demo.db.read() as s:
        rows = s.execute(
            select(Kiosk.name, Kiosk.queue_depth, Kiosk.app_version, Kiosk.last_seen).where(
                Kiosk.name.in_(names)
            )
        ).all()
    assert {name: depth for name, depth, _v, _s in rows} == {name: len(name) for name in names}
    assert {(version, seen is not None) for _n, _d, version, seen in rows} == {("9.9", True)}


_POISON = {
    # a database that refuses one transaction's row, as a constraint would
    "sqlite": [
        "CREATE TRIGGER poison BEFORE INSERT ON transactions WHEN NEW.item = 'B000105'"
        " BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF NEW.item = 'B000105' THEN RAISE EXCEPTION 'refused by the test trigger';"
        " END IF; RETURN NEW; END $$",
        "CREATE TRIGGER poison BEFORE INSERT ON transactions FOR EACH ROW"
        " EXECUTE FUNCTION poison()",
    ],
}


def test_a_request_that_fails_the_shared_write_fails_alone(demo: Server) -> None:
    """The database refuses one request's row: the shared write rolls back, and the
    requests are applied one by one, so only that one fails."""
    with demo.db.engine.begin() as conn:
        for stmt in _POISON[demo.db.engine.dialect.name]:
            conn.exec_driver_sql(stmt)
    batches = {
        "kiosk-1": _online("kiosk-1", "AGT0001", "B000101"),
        "kiosk-2": _online("kiosk-2", "STF0001", "B000105"),
        "kiosk-3": _online("kiosk-3", "AGT0002", "B000102"),
    }
    before = _counter(demo)
    answers = _while_gate_busy(demo, batches)
    assert isinstance(answers["kiosk-2"], DBAPIError)
    assert "refused by the test trigger" in str(answers["kiosk-2"])
    for name in ("kiosk-1", "kiosk-3"):
        answer = answers[name]
        assert isinstance(answer, list), answer
        assert [r.status.value for r in answer] == ["accepted"], answer
    assert _counter(demo) == before + 2  # the two that stood alone
    with demo.db.read() as s:
        logged = set(s.scalars(select(Transaction.item)))
    assert logged == {"B000101", "B000102"}


_SLOW = {
    # an upload part that takes a while: its log row for item SLOW1 sleeps 1 s
    "sqlite": [
        "CREATE TRIGGER slow BEFORE INSERT ON transactions WHEN NEW.item = 'SLOW1'"
        " BEGIN SELECT test_sleep(1.0); END"
    ],
    "postgresql": [
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF NEW.item = 'SLOW1' THEN PERFORM pg_sleep(1.0); END IF; RETURN NEW; END $$",
        "CREATE TRIGGER slow BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION slow()",
    ],
}


def _install(server: Server, *scripts: dict[str, list[str]]) -> None:
    engine = server.db.engine
    if engine.dialect.name == "sqlite":
        # SQLite calls back into Python for test_sleep: on every connection from now on
        event.listen(engine, "connect", lambda conn, _rec: conn.create_function(
            "test_sleep", 1, time.sleep))  # fmt: skip
        engine.dispose()
    with engine.begin() as conn:
        for script in scripts:
            for stmt in script[engine.dialect.name]:
                conn.exec_driver_sql(stmt)


def _during_upload(server: Server, batches: dict[str, TransactionBatch]) -> tuple[list, dict]:
    """Patrons' requests sent while kiosk-up's upload part (with SLOW1) is applied: the
    upload's results and each patron request's answer."""
    upload = TransactionBatch(
        transactions=[
            TransactionIn(
                id=uuid7(),
                kiosk="kiosk-up",
                seq=i + 1,
                kind="checkin",
                at=soon(),
                item=item,
                offline=True,
            )  # fmt: skip
            for i, item in enumerate(["SLOW1", "B000109"])
        ]
    )
    uploaded: list = []
    up = threading.Thread(target=lambda: uploaded.extend(server.apply_batch("kiosk-up", upload)))
    up.start()
    time.sleep(0.3)  # the upload is in its slow part now (1 s)
    patrons, answers = _patrons(server, batches)
    _start_and_wait_queued(server, patrons, answers)
    for t in [up, *patrons]:
        t.join(timeout=60)
    return uploaded, answers


def test_patron_requests_join_the_upload_part_in_progress(demo: Server) -> None:
    """Patrons who scan while an upload part is applied are decided in its write: the
    patrons wait for that part only, and no write of their own follows."""
    _install(demo, _SLOW)
    for name in ("kiosk-1", "kiosk-22"):
        add_kiosk(demo.db, name)
    batches = {
        "kiosk-1": _online("kiosk-1", "AGT0001", "B000101"),
        "kiosk-22": _online("kiosk-22", "AGT0002", "B000101"),  # the same book, later
    }
    before = _counter(demo)
    uploaded, answers = _during_upload(demo, batches)
    assert _counter(demo) == before + 1  # the part and both patrons: one write
    assert [(r.status.value, r.reason.value if r.reason else None) for r in uploaded] == [
        ("conflict", "unknown_item"),
        ("accepted", None),
    ]
    status = {}
    for name, answer in answers.items():
        assert isinstance(answer, list), answer
        status[name] = [r.reason.value if r.reason else r.status.value for r in answer]
    assert status == {"kiosk-1": ["accepted"], "kiosk-22": ["item_on_loan_to_other"]}
    with demo.db.read() as s:
        depths = {name: depth for name, depth in s.execute(select(Kiosk.name, Kiosk.queue_depth))}
    assert (depths["kiosk-1"], depths["kiosk-22"]) == (7, 8)


def test_patron_requests_that_fail_in_an_upload_part_leave_it_whole(demo: Server) -> None:
    """A joined request the database refuses: the upload part still commits, and the
    patrons' requests are applied after it on their own, so only that one fails."""
    _install(demo, _SLOW, _POISON)
    batches = {
        "kiosk-1": _online("kiosk-1", "AGT0001", "B000101"),
        "kiosk-2": _online("kiosk-2", "STF0001", "B000105"),
    }
    before = _counter(demo)
    uploaded, answers = _during_upload(demo, batches)
    assert [r.status.value for r in uploaded] == ["conflict", "accepted"]
    assert isinstance(answers["kiosk-2"], DBAPIError)
    answer = answers["kiosk-1"]
    assert isinstance(answer, list) and [r.status.value for r in answer] == ["accepted"]
    assert _counter(demo) == before + 2  # the part, then kiosk-1 alone
    with demo.db.read() as s:
        logged = set(s.scalars(select(Transaction.item)))
    assert logged == {"SLOW1", "B000109", "B000101"}
