"""Many kiosks at once: writers are serialised, so one item goes to one patron."""

from __future__ import annotations

import threading

from server.service import Server
from sync.ids import uuid7
from sync.wire import TransactionBatch, TransactionIn
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
