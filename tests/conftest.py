"""Suite-wide rules.

Tests that need an X display (``xvfb``), a PostgreSQL server (``postgres``) or
a MariaDB server (``mariadb``, for the ILS connectors; ``mariadbd`` for a server
of the test's own, to stop and start) are skipped where those
are missing, except when ``KIOSK_REQUIRE_ALL=1`` (set by
``.ci/run``): then a missing display or database fails the test, so CI can
never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_ALL = os.environ.get("KIOSK_REQUIRE_ALL") == "1"


def chromium_path() -> str:
    """Debian's chromium (or ``KIOSK_CHROMIUM``): Playwright never downloads a browser here."""
    return os.environ.get("KIOSK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _missing(marker: str) -> str | None:
    if marker == "browser":
        if not os.path.exists(chromium_path()):
            return "needs Debian's chromium (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs playwright (pip install playwright; no browser download)"
    if marker == "xvfb":
        if not os.environ.get("DISPLAY"):
            return "needs an X display (run under xvfb-run, as make test does)"
        if not shutil.which("xdotool"):
            return "needs xdotool (apt-get install xdotool)"
    if marker == "postgres" and not os.environ.get("KIOSK_TEST_PG_URL"):
        return "needs PostgreSQL: set KIOSK_TEST_PG_URL (make test starts one when run as root)"
    if marker == "mariadb" and not os.environ.get("KIOSK_TEST_MARIADB_URL"):
        return "needs MariaDB: set KIOSK_TEST_MARIADB_URL (make test starts one when run as root)"
    if marker == "mariadbd":
        from tests.ils.own_mariadb import missing

        return missing()
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("xvfb", "postgres", "browser", "mariadb", "mariadbd"):
        if item.get_closest_marker(marker) is None:
            continue
        why = _missing(marker)
        if why is None:
            continue
        if REQUIRE_ALL:
            pytest.fail(f"KIOSK_REQUIRE_ALL=1 but this test {why}", pytrace=False)
        pytest.skip(why)
    if item.get_closest_marker("hardware") and os.environ.get("KIOSK_HARDWARE") != "1":
        pytest.skip("needs real hardware (set KIOSK_HARDWARE=1)")
    if item.get_closest_marker("slow") and os.environ.get("KIOSK_SLOW") != "1":
        pytest.skip("long-running; run by make soak (KIOSK_SLOW=1)")
