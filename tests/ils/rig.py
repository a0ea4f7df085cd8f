"""What the SLiMS and INLISLite tests share: each system's seed and the SQL that
counts its loan rows, a server with that system as its ILS, and small readers.

``KINDS`` names both seeded libraries the same way (patron 3 blocked, items 1..6)
so a test written once runs against either system.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from server.ils import Connector, make_connector
from server.service import Server
from server.settings import IlsSettings, Settings
from server.timeutil import WIB
from tests.ils.inlislite_schema import seed_inlislite
from tests.ils.slims_seed import seed_slims
from tests.server_process import ServerProcess


@dataclass(frozen=True)
class SeededIls:
    """One ILS as the tests see it: how to seed it and how to count its rows."""

    kind: str
    label: str
    seed: Callable[[Engine], None]
    card_prefix: str
    item_prefix: str
    loan_rows: str
    """SQL: every loan row the system holds."""
    returned_rows: str
    """SQL: loan rows ended by a return."""
    fine_rows: str
    """SQL: fine (violation) rows."""
    open_rows: str
    """SQL: loans still out."""
    open_doubles: str
    """SQL: items with more than one loan still out (must stay 0)."""

    def card(self, n: int) -> str:
        return f"{self.card_prefix}{n:04d}"

    def item(self, n: int) -> str:
        return f"{self.item_prefix}{n:05d}"


KINDS = {
    "slims": SeededIls(
        kind="slims",
        label="SLiMS",
        seed=seed_slims,
        card_prefix="M",
        item_prefix="B",
        loan_rows="SELECT COUNT(*) FROM loan",
        returned_rows="SELECT COUNT(*) FROM loan WHERE is_return = 1",
        fine_rows="SELECT COUNT(*) FROM fines",
        open_rows="SELECT COUNT(*) FROM loan WHERE is_lent = 1 AND is_return = 0",
        open_doubles=(
            "SELECT COUNT(*) FROM (SELECT item_code FROM loan WHERE is_return = 0 "
            "GROUP BY item_code HAVING COUNT(*) > 1) d"
        ),
    ),
    "inlislite": SeededIls(
        kind="inlislite",
        label="INLISLite",
        seed=seed_inlislite,
        card_prefix="A",
        item_prefix="C",
        loan_rows="SELECT COUNT(*) FROM collectionloanitems",
        returned_rows="SELECT COUNT(*) FROM collectionloanitems WHERE LoanStatus = 'Return'",
        fine_rows="SELECT COUNT(*) FROM pelanggaran",
        open_rows="SELECT COUNT(*) FROM collectionloanitems WHERE LoanStatus = 'Loan'",
        open_doubles=(
            "SELECT COUNT(*) FROM (SELECT Collection_id FROM collectionloanitems "
            "WHERE LoanStatus = 'Loan' GROUP BY Collection_id HAVING COUNT(*) > 1) d"
        ),
    ),
}


def library_today() -> date:
    """Today in Probolinggo (WIB), the day the ILS's dates are written in; the machine's
    own date differs from it for seven hours of every UTC day."""
    return datetime.now(WIB).date()


def unpulled_ils_server(
    kind: str, url: str, folder: Path, staff_uid: int = 7, db_url: str | None = None
) -> Server:
    """A migrated server with ``url`` as its ILS, not pulled yet; its own database is
    ``db_url``, or SQLite in ``folder`` without one."""
    server = Server(
        Settings(
            data_dir=folder / "data",
            db_url=db_url or f"sqlite:///{folder / 'server.db'}",
            ils=IlsSettings(kind=kind, url=url, staff_uid=staff_uid),  # type: ignore[arg-type]
        )
    )
    server.db.migrate()
    assert server.ils is not None and server.ils.connector.kind == kind
    return server


def ils_server(kind: str, url: str, folder: Path, staff_uid: int = 7) -> Server:
    """A migrated server on SQLite in ``folder`` with ``url`` as its ILS, pulled once."""
    server = unpulled_ils_server(kind, url, folder, staff_uid)
    assert server.ils is not None
    server.ils.pull()
    return server


@contextmanager
def served_ils(
    folder: Path, kind: str, url: str, background: bool = True
) -> Iterator[ServerProcess]:
    """``kiosk-server serve`` in a process of its own with ``url`` as its ILS, migrated,
    pulled once and with kiosk ``kiosk-a`` (its token in ``tokens``); with
    ``background = false`` it leaves the queue to ``ils drain``."""
    config = folder / "server.toml"
    config.write_text(
        f'[server]\n[server.ils]\nkind = "{kind}"\nbackground = {str(background).lower()}\n',
        encoding="utf-8",
    )
    os.environ["KIOSK_SERVER_CONFIG"] = str(config)
    os.environ["KIOSK_ILS_URL"] = url
    proc = ServerProcess(folder / "srv")
    try:
        proc.cli("migrate")
        proc.cli("ils", "pull")
        proc.tokens["kiosk-a"] = proc.cli("add-kiosk", "kiosk-a").stdout.strip().splitlines()[-1]
        proc.start()
        yield proc
    finally:
        proc.stop()
        os.environ.pop("KIOSK_SERVER_CONFIG", None)
        os.environ.pop("KIOSK_ILS_URL", None)


def away_url(url: str) -> str:
    """The same database at a port nothing listens on: as if MariaDB were down."""
    return make_url(url).set(port=1).render_as_string(hide_password=False)


def away_connector(kind: str, url: str) -> Connector:
    """A connector of ``kind`` whose database does not answer."""
    away = make_connector(IlsSettings(kind=kind, url=away_url(url)))  # type: ignore[arg-type]
    assert away is not None
    return away


def rows(engine: Engine, sql: str, **params: object) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())
