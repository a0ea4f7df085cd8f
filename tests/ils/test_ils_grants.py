"""The database grants README gives a library for SLiMS are enough.

A user with SELECT on SLiMS and INSERT, UPDATE on the three tables the connector
writes (and no ALTER: the key column was added once by a user that could) pulls,
writes a checkout and its late return with the fine, and a guest-book visit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from core.ids import uuid7
from core.wire import TransactionIn
from server.ils.slims import SlimsConnector
from server.timeutil import WIB
from tests.ils.own_mariadb import OwnMariadb, own_mariadb
from tests.ils.rig import count, ils_server
from tests.ils.slims_seed import seed_slims

pytestmark = pytest.mark.mariadbd

LEAST = "pustaka_least"


def _least_grants(password: str) -> str:
    user = f"'{LEAST}'@'127.0.0.1'"
    return (
        f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY '{password}';\n"
        f"GRANT SELECT ON `ils`.* TO {user};\n"
        + "".join(f"GRANT INSERT, UPDATE ON `ils`.`{t}` TO {user};\n"
                  for t in ("loan", "fines", "visitor_count"))
    )  # fmt: skip


@pytest.fixture
def least_url() -> Iterator[tuple[str, OwnMariadb]]:
    """SLiMS in a MariaDB of its own, keyed once by its owner, and a URL for a user
    with the README's grants only."""
    with own_mariadb() as server:
        owner = create_engine(server.url)
        seed_slims(owner)
        SlimsConnector(server.url, engine=owner).prepare()
        owner.dispose()
        password = uuid7().replace("-", "")[:20]
        # table grants need the tables: the init file runs them at the next start
        server.stop()
        server.extra_init = _least_grants(password)
        server.write_init()
        server.start()
        url = make_url(server.url).set(username=LEAST, password=password)
        yield url.render_as_string(hide_password=False), server


def test_the_readme_grants_are_enough_for_slims(
    least_url: tuple[str, OwnMariadb], tmp_path: Path
) -> None:
    url, mariadb = least_url
    server = ils_server("slims", url, tmp_path)  # prepares and pulls as the least user
    ils = server.ils
    assert ils is not None
    at = datetime.now(WIB) - timedelta(days=20)
    out = TransactionIn(id=uuid7(), kiosk="kiosk-a", seq=1, kind="checkout", offline=True,
                        at=at, item="B00001", card="M0001")  # fmt: skip
    back = TransactionIn(id=uuid7(), kiosk="kiosk-a", seq=2, kind="checkin", offline=True,
                         at=at + timedelta(days=19), item="B00001")  # fmt: skip
    visit = TransactionIn(id=uuid7(), kiosk="kiosk-a", seq=3, kind="visit", offline=True,
                          at=at + timedelta(days=19), card="M0002", visit={})  # fmt: skip
    server.apply([out, back, visit])
    assert ils.drain() == 2 and ils.drain_visits() == 1
    assert ils.status().last_error == ""
    owner = create_engine(mariadb.url)
    try:
        assert count(owner, "SELECT COUNT(*) FROM loan WHERE is_return = 1 "
                            "AND pustaka_txn IS NOT NULL") == 1  # fmt: skip
        assert count(owner, "SELECT COUNT(*) FROM fines WHERE debet > 0") == 1
        assert count(owner, "SELECT COUNT(*) FROM visitor_count WHERE member_id = 'M0002'") == 1
    finally:
        owner.dispose()
    server.db.dispose()
