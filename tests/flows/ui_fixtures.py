"""Offline services seeded with the demo scene the UI tests see (tests.demo_library, no Kivy)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import OfflinePolicy
from kiosk.flows.base import Services
from sync.decider import Decider
from sync.store import LocalStore
from tests.demo_library import demo_keys, scene_snapshot


@pytest.fixture
def demo_services(tmp_path: Path) -> Iterator[Services]:
    # The demo keys: the ones the scene's card tags and sealed PIN were made with.
    store = LocalStore(tmp_path / "kiosk.sqlite3", kiosk="k-ui", keys=demo_keys())
    store.apply_snapshot(scene_snapshot())
    decider = Decider(store, None, None, OfflinePolicy())
    yield Services(decider=decider, store=store)
    store.close()
