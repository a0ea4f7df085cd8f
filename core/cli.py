"""How the ``kiosk`` and ``kiosk-server`` commands report a failure: one line, no traceback.

Bad input (a config value, an argument, a file, an unreachable server or database)
is one line that says what is wrong and exit status 2 (config, arguments) or 1. An
error nobody foresaw is one line naming the log file, and its traceback goes to
that file, so a librarian sees a sentence and a developer still gets the details.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from core.errors import ConfigError, KioskError

log = logging.getLogger(__name__)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (``prog: error: ...; see prog --help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog.split()[0]} --help\n")


def error_log_path(prog: str, folder: Path | None = None) -> Path:
    """Where a command writes the traceback of an unexpected error.

    ``KIOSK_ERROR_LOG`` wins; else ``folder/logs/PROG-errors.log`` when the data
    folder is known; else the system's temporary folder.
    """
    env = os.environ.get("KIOSK_ERROR_LOG")
    if env:
        return Path(env)
    base = folder / "logs" if folder is not None else Path(tempfile.gettempdir())
    return base / f"{prog}-errors.log"


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def run_command(
    prog: str,
    body: Callable[[], int],
    *,
    log_path: Callable[[], Path],
    expected: tuple[type[BaseException], ...] = (),
) -> int:
    """Run a command's body and turn every failure into one line on stderr.

    ``ConfigError`` prints each of its problems and exits 2; ``KioskError``, ``OSError``
    and the ``expected`` types print their message and exit 1; anything else writes
    its traceback to ``log_path()`` and prints one line naming that file.
    """
    try:
        return body()
    except ConfigError as exc:
        for line in exc.problems or (str(exc),):
            print(f"{prog}: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: stopped", file=sys.stderr)
        return 130
    except (KioskError, OSError, *expected) as exc:  # type: ignore[misc]
        log.debug("%s failed", prog, exc_info=True)
        print(f"{prog}: {_first_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:
        path = log_path()
        where = _write_traceback(path, prog, exc)
        print(
            f"{prog}: unexpected error ({type(exc).__name__}: {_first_line(exc)}); "
            f"details in {where}",
            file=sys.stderr,
        )
        return 1


def _write_traceback(path: Path, prog: str, exc: BaseException) -> str:
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(exc))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(f"--- {stamp} {prog}\n{text}\n")
    except OSError:
        return "the log (it could not be written; run with --log-level debug)"
    return str(path)
