"""Screenshots of the staff console in Bahasa Indonesia and English: ``make screenshots``.

Starts a real server on a demo database with a month of generated activity
(``tests.console.scene``), signs in with Debian's chromium through Playwright and
writes ``docs/screenshots/console-SCREEN-LANG.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server.db import Database  # noqa: E402
from tests.conftest import chromium_path  # noqa: E402
from tests.console import scene  # noqa: E402
from tests.console.conftest import ADMIN, CHROMIUM_ARGS  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGES = (
    ("dashboard", "/staff/"),
    ("events", "/staff/events"),
    ("event", "/staff/events/1"),
    ("conflicts", "/staff/conflicts"),
    ("kiosks", "/staff/kiosks"),
    ("patron", "/staff/patrons/1"),
    ("import", "/staff/import"),
)


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="console-shots-") as tmp:
        srv = ServerProcess(Path(tmp) / "server")
        srv.setup_demo()
        srv.cli("add-staff", ADMIN[0], "--password", ADMIN[1], "--role", "admin")
        db = Database(srv.db_url)
        scene.build(db)
        db.dispose()
        srv.start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(srv.url + "/staff/login")
                page.screenshot(path=str(OUT / "console-login-id.png"))
                page.fill("#name", ADMIN[0])
                page.fill("#password", ADMIN[1])
                with page.expect_navigation():
                    page.click("main form button[type=submit]")
                for lang in ("id", "en"):
                    page.goto(f"{srv.url}/staff/?lang={lang}")
                    for name, path in PAGES:
                        page.goto(srv.url + path)
                        target = OUT / f"console-{name}-{lang}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(target.relative_to(ROOT))
                page.set_viewport_size({"width": 390, "height": 844})
                page.goto(f"{srv.url}/staff/events/1?lang=id")
                page.screenshot(path=str(OUT / "console-event-phone-id.png"), full_page=True)
                browser.close()
        finally:
            srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
