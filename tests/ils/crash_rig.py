"""Run the write-back worker once and die by SIGKILL right after SLiMS took the write,
before the server records it: the crash the exactly-once key must survive.

Usage: python -m tests.ils.crash_rig CONFIG (with KIOSK_SERVER_DB / KIOSK_SERVER_DATA).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from server.db import Database
from server.ils import WriteResult
from server.service import Server
from server.settings import Settings


def main(config: str) -> None:
    settings = Settings.resolve(config=config)
    server = Server(settings, Database(settings.db_url))
    assert server.ils is not None
    real = server.ils.connector.write_back_many

    def write_then_die(db: Database, items: Sequence[str]) -> dict[str, WriteResult]:
        results = real(db, items)
        for item, result in results.items():
            print(f"SLiMS took {item}: {result}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        return results  # never reached

    server.ils.connector.write_back_many = write_then_die  # type: ignore[method-assign]
    server.ils.drain()


if __name__ == "__main__":
    main(sys.argv[1])
