"""Offline services seeded with the UI's demo snapshot (kiosk.ui.demo_data, no Kivy)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import OfflinePolicy
from kiosk.flows.base import Services
from kiosk.ui.demo_data import DEMO_SECRETS, demo_snapshot
from sync.decider import Decider
from sync.secrets import KioskKeys
from sync.store import LocalStore


@pytest.fixture
def demo_services(tmp_path: Path) -> Iterator[Services]:
    keys = KioskKeys()
    keys.save(DEMO_SECRETS)  # the keys the demo snapshot's tags and sealed PIN use
    store = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k-ui", keys=keys)
    store.apply_snapshot(demo_snapshot(pin_hash=_fast_hash("1234")))
    decider = Decider(store, None, None, OfflinePolicy())
    yield Services(decider=decider, store=store)
    store.close()


def _fast_hash(pin: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024).hash(pin)
