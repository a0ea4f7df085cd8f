"""``ils check`` finds no difference after any mix of kiosk work, however it arrives.

Random checkouts, returns and renewals, online and offline, from two kiosks; the
offline ones arrive late, shuffled and repeated; the write-back worker drains at
random moments, and for part of the run the ILS is away. At the end the ILS's open
loans equal the server's, each kiosk loan is one row, nothing is left queued and
no write-back was taken for a contradiction by the desk.
The same property runs against SLiMS and INLISLite.
"""

from __future__ import annotations

import os
import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from core.ids import uuid7
from core.wire import TransactionIn
from server.ils.mirror import IlsDatabase
from server.timeutil import WIB
from tests.ils.conftest import drop_mariadb_database, fresh_mariadb_database
from tests.ils.rig import KINDS, away_connector, count, ils_server

pytestmark = pytest.mark.mariadb

step = st.tuples(
    st.sampled_from(["checkout", "checkin", "renew"]),
    st.integers(1, 4),  # item number
    st.sampled_from([1, 2, 4]),  # card number (3 is blocked)
    st.booleans(),  # offline
    st.sampled_from(["kiosk-a", "kiosk-b"]),
)


@pytest.mark.parametrize("ils_kind", sorted(KINDS))
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    steps=st.lists(step, min_size=3, max_size=25),
    seed=st.integers(0, 2**16),
    away_from=st.integers(0, 25),
)
# a late offline checkout before an online one of the same item by the same member:
# the replay makes the online one a repeat, whose row the ILS already had
@example(
    steps=[("checkout", 1, 1, False, "kiosk-a"), ("checkout", 2, 2, True, "kiosk-a"),
           ("checkout", 2, 2, False, "kiosk-a")],
    seed=0,
    away_from=3,
)  # fmt: skip
def test_ils_check_finds_no_difference_after_random_work(
    ils_kind: str, steps: list[tuple[str, int, int, bool, str]], seed: int, away_from: int
) -> None:
    if not os.environ.get("KIOSK_TEST_MARIADB_URL"):
        pytest.skip("needs MariaDB")
    seeded = KINDS[ils_kind]
    rnd = random.Random(seed)
    url = fresh_mariadb_database()
    engine = create_engine(url)
    try:
        seeded.seed(engine)
        with tempfile.TemporaryDirectory() as tmp:
            server = ils_server(ils_kind, url, Path(tmp))
            ils = server.ils
            assert ils is not None
            good = ils.connector
            away = away_connector(ils_kind, url)
            start = datetime.now(WIB) - timedelta(days=3)
            late: list[TransactionIn] = []
            seq = 0
            for n, (kind, item, card, offline, kiosk) in enumerate(steps):
                seq += 1
                txn = TransactionIn(
                    id=uuid7(), kiosk=kiosk, seq=seq, kind=kind, offline=offline or kind == "renew",
                    at=start + timedelta(minutes=10 * n), item=seeded.item(item),
                    card=None if kind == "checkin" else seeded.card(card),
                )  # fmt: skip
                if txn.offline:
                    late.append(txn)
                else:
                    server.apply([txn])
                ils.connector = away if n >= away_from and n < away_from + 5 else good
                if rnd.random() < 0.3:
                    ils.drain()
                if late and rnd.random() < 0.3:
                    rnd.shuffle(late)
                    server.apply(late[: rnd.randint(1, len(late))])
            rnd.shuffle(late)
            server.apply(late + late[: len(late) // 2])  # the rest, and repeats
            ils.connector = good
            while ils.drain():
                pass
            assert ils.check() == []
            status = ils.status()
            # nobody works at the desk here: the ILS never contradicts the server
            assert status.queued == 0 and status.conflicts == 0
            open_rows = count(engine, seeded.open_rows)
            doubles = count(engine, seeded.open_doubles)
            assert doubles == 0 and open_rows == len(good.open_loans())
            server.db.dispose()
            # each example's pools, closed now: left to the collector, a few hundred
            # examples hold more connections than MariaDB's default 151
            for connector in (good, away):
                assert isinstance(connector, IlsDatabase)
                connector.engine.dispose()
    finally:
        engine.dispose()
        drop_mariadb_database(url)
