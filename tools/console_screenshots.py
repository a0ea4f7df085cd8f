"""Screenshots of the staff console in Bahasa Indonesia and English: ``make screenshots``.

Starts a real server on a demo database with a month of generated activity
(``tests.console.scene``), signs in with Debian's chromium through Playwright and
writes ``docs/screenshots/console-SCREEN-LANG.png``. The *Sistem Perpustakaan* page
is shot twice: on that server (no ILS: ``console-ils-own-LANG``) and, given a MariaDB
in ``KIOSK_TEST_MARIADB_URL`` (``make screenshots`` starts one), on a second server
whose authority is a small SLiMS library (``console-ils-LANG``).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server.db import Database  # noqa: E402
from tests.conftest import chromium_path  # noqa: E402
from tests.console import scene  # noqa: E402
from tests.console.conftest import ADMIN, CHROMIUM_ARGS, LIBRARIAN  # noqa: E402
from tests.ils.conftest import MARIADB_ENV  # noqa: E402
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
    ("ils-own", "/staff/ils"),
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
                if os.environ.get(MARIADB_ENV):
                    shoot_slims(browser, Path(tmp) / "slims")
                else:
                    print(f"console-ils-*.png: not made, set {MARIADB_ENV} (tools/mariadb.sh)")
                browser.close()
        finally:
            srv.stop()
    return 0


def shoot_slims(browser: object, folder: Path) -> None:
    """The page on a server whose authority is SLiMS, after a pull from the console, a
    kiosk loan the desk contradicted and a check that finds the desk's own loans."""
    from sqlalchemy import create_engine, text

    from tests.console.test_console_ils import SlimsServerProcess
    from tests.ils.conftest import drop_mariadb_database, fresh_mariadb_database
    from tests.ils.slims_seed import seed_slims

    url = fresh_mariadb_database()
    slims = create_engine(url)
    srv = SlimsServerProcess(folder, ils_url=url)
    try:
        seed_slims(slims, members=40, items=120)
        srv.cli("migrate")
        # a librarian's view: an admin's would show the test database's address
        srv.cli("add-staff", LIBRARIAN[0], "--password", LIBRARIAN[1], "--role", "librarian")
        token = srv.cli("add-kiosk", "kiosk-lobi").stdout.strip().splitlines()[-1]
        srv.cli("ils", "pull")
        srv.start()
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page.goto(srv.url + "/staff/login?next=/staff/ils")
        page.fill("#name", LIBRARIAN[0])
        page.fill("#password", LIBRARIAN[1])
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        with slims.begin() as conn:
            conn.execute(text(
                "INSERT INTO member (member_id, member_name, gender, member_type_id, "
                "expire_date, is_pending, input_date, last_update) VALUES ('M0777', "
                "'Sri Rahayu', 0, 1, CURDATE() + INTERVAL 1 YEAR, 0, CURDATE(), CURDATE())"
            ))  # fmt: skip
        page.click("#pull button[type=submit]")
        page.wait_for_url(re.compile(r".*/staff/ils#pull$"))
        with slims.begin() as conn:  # the desk lends two items the server has not pulled
            for item, member in (("B00004", "M0002"), ("B00017", "M0011")):
                conn.execute(
                    text(
                        "INSERT INTO loan (item_code, member_id, loan_date, due_date, "
                        "is_lent, is_return, input_date, last_update) VALUES (:i, :m, "
                        "CURDATE(), CURDATE() + INTERVAL 7 DAY, 1, 0, NOW(), NOW())"
                    ),
                    {"i": item, "m": member},
                )
        import requests

        from tests.server.helpers import tx

        requests.post(  # a kiosk lends B00004 too: SLiMS contradicts the write-back
            srv.url + "/api/v1/transactions",
            json={"transactions": [tx("checkout", "kiosk-lobi", card="M0001", item="B00004")]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).raise_for_status()  # fmt: skip
        time.sleep(3)  # the write-back worker meets the desk's loan
        page.click("#check button[type=submit]")
        page.wait_for_url(re.compile(r".*/staff/ils#check$"))
        for lang in ("id", "en"):
            page.goto(f"{srv.url}/staff/ils?lang={lang}")
            target = OUT / f"console-ils-{lang}.png"
            page.screenshot(path=str(target), full_page=True)
            print(target.relative_to(ROOT))
        page.close()
    finally:
        srv.stop()
        slims.dispose()
        drop_mariadb_database(url)


if __name__ == "__main__":
    raise SystemExit(main())
