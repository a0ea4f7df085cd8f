"""Which of the kiosk's files hold a token or patron data, and which of them others can read.

The kiosk creates these files readable by its own user only (0600); a file
copied in by hand, restored from a backup or made by an older version may not
be. The kiosk then warns once at start (the log, the staff screen, ``kiosk
status``) rather than changing modes on its own: staff may have reasons, and a
warning they can see is what leads to a fix.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from kiosk.config import KioskSettings

log = logging.getLogger(__name__)

STORE_NAME = "kiosk.sqlite3"


def private_files(settings: KioskSettings) -> list[Path]:
    """Files of this kiosk that hold its token or patron data (those that exist now)."""
    data = settings.kiosk.data_dir
    store = data / STORE_NAME
    candidates = [store, store.with_name(STORE_NAME + "-wal"), store.with_name(STORE_NAME + "-shm")]
    if settings.source is not None:
        candidates.insert(0, settings.source)
    candidates += sorted((data / "slips").glob("slip-*.png"))  # names and titles
    candidates += sorted((data / "export").glob("queue-*.jsonl"))  # unsent transactions
    return [p for p in candidates if p.is_file()]


def readable_by_others(paths: list[Path]) -> list[Path]:
    """The paths that a group or other users may read."""
    found = []
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            found.append(path)
    return found


def exposed_files(settings: KioskSettings) -> list[Path]:
    """Private kiosk files others can read, to warn about."""
    return readable_by_others(private_files(settings))


def describe(paths: list[Path], limit: int = 3) -> str:
    """A short list for one status line: ``kiosk.toml, kiosk.sqlite3 and 4 more``."""
    names = [p.name for p in paths[:limit]]
    more = len(paths) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def warn_exposed(settings: KioskSettings) -> list[Path]:
    """Log one warning naming the exposed files (if any); returns them for the screens."""
    found = exposed_files(settings)
    if found:
        log.warning(
            "%d kiosk file(s) holding the token or patron data are readable by other users:"
            " %s; make them private: chmod 600 FILE",
            len(found),
            ", ".join(str(p) for p in found[:10]) + (" …" if len(found) > 10 else ""),
        )
    return found
