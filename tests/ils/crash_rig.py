"""Run the write-back worker once and die by SIGKILL right after the ILS (SLiMS or
INLISLite) took the write, before the server records it: the crash the exactly-once
key must survive.

Usage: python -m tests.ils.crash_rig CONFIG [visits] (with KIOSK_SERVER_DB /
KIOSK_SERVER_DATA); ``visits`` drains the guest-book queue instead of the items'.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from server.db import Database
from server.ils import WriteResult
from server.service import Server
from server.settings import Settings


def main(config: str) -> None:
    settings = Settings.resolve(config=config)
    server = Server(settings, Database(settings.db_url))
    assert server.ils is not None
    connector = server.ils.connector
    real = connector.write_back_many

    def write_then_die(db: Database, items: Sequence[str]) -> dict[str, WriteResult]:
        results = real(db, items)
        for item, result in results.items():
            print(f"{connector.kind} took {item}: {result}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        return results  # never reached

    connector.write_back_many = write_then_die  # type: ignore[method-assign]
    server.ils.drain()


def main_visits(config: str) -> None:
    settings = Settings.resolve(config=config)
    server = Server(settings, Database(settings.db_url))
    assert server.ils is not None
    real = server.ils.connector.write_visits

    def write_then_die(db: Database, visits: Sequence[str], groups: Sequence[str] = ()) -> Any:
        result = real(db, visits, groups)
        print(f"the ILS took visits {list(visits)} groups {list(groups)}: {result}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        return result  # never reached

    server.ils.connector.write_visits = write_then_die  # type: ignore[method-assign]
    server.ils.drain_visits()


if __name__ == "__main__":
    if sys.argv[2:] == ["visits"]:
        main_visits(sys.argv[1])
    else:
        main(sys.argv[1])
