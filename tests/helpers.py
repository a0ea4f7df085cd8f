"""Shared test helpers: the fake printer behind a printer, outbox rows and their results,
the kiosk keys tests run with.

The demo library's snapshot is in ``tests/demo_library.py``."""

from __future__ import annotations

from core.wire import TransactionResult
from devices.printer.base import Printer
from devices.sim.fake_printer import FakeEscposPrinter
from sync.store import LocalStore, OutboxRow
from tests.demo_library import DEMO_SECRETS, demo_keys, seal, tag

#: The keys kiosk-side tests run with where no server issued any: the demo kiosk's, so
#: the demo library's card tags and sealed PIN (``tests.demo_library``) open with them.
TEST_SECRETS = DEMO_SECRETS
#: ``kiosk_keys(data_dir=None)``: those keys, saved in ``data_dir`` when given.
kiosk_keys = demo_keys
__all__ = ["TEST_SECRETS", "fake_of", "kiosk_keys", "outbox_row", "seal", "server_result", "tag"]


def fake_of(printer: Printer) -> FakeEscposPrinter:
    """The fake ESC/POS printer behind a ``fake-printer:`` printer (``open_fake_printer``
    hangs it on the printer as ``printer.fake``)."""
    fake = getattr(printer, "fake", None)
    assert isinstance(fake, FakeEscposPrinter), f"{printer!r} carries no fake printer"
    return fake


def outbox_row(store: LocalStore, tx_id: str) -> OutboxRow:
    """``store.row(tx_id)``; fails the test if the outbox does not hold that transaction."""
    row = store.row(tx_id)
    assert row is not None, f"no outbox row for {tx_id}"
    return row


def server_result(row: OutboxRow) -> TransactionResult:
    """The server's answer stored on ``row``; fails the test if none was stored."""
    assert row.server_result is not None, f"no server result stored for {row.tx.id}"
    return row.server_result
