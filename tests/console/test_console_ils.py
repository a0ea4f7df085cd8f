"""The *Sistem Perpustakaan* page in a real browser against a real server process whose
authority is a SLiMS database on the real MariaDB: status, pull, check, roles, CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import Engine

from tests.console.conftest import ADMIN, LIBRARIAN, sign_in
from tests.ils.conftest import ils_db, ils_seed, mariadb_url  # noqa: F401
from tests.ils.slims_seed import add_member_at_desk, lend_at_desk
from tests.server_process import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.mariadb, pytest.mark.timeout(180)]


@dataclass
class SlimsServerProcess(ServerProcess):
    """A server whose ``[server.ils]`` is SLiMS; the ILS URL comes by the environment,
    so its password is written nowhere."""

    ils_url: str = ""

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        config = self.folder / "server.toml"
        # pulls only when the test (or a staff member) asks
        config.write_text('[server.ils]\nkind = "slims"\npull_interval_s = 3600\n')
        env["KIOSK_SERVER_CONFIG"] = str(config)
        env["KIOSK_ILS_URL"] = self.ils_url
        return env


@pytest.fixture
def ils_kind() -> str:
    return "slims"


@pytest.fixture
def slims_server(
    ils_db: Engine,  # noqa: F811
    mariadb_url: str,  # noqa: F811
    tmp_path: Path,
) -> Iterator[SlimsServerProcess]:
    srv = SlimsServerProcess(tmp_path / "server", ils_url=mariadb_url)
    srv.cli("migrate")
    srv.cli("add-staff", ADMIN[0], "--password", ADMIN[1], "--role", "admin")
    srv.cli("add-staff", LIBRARIAN[0], "--password", LIBRARIAN[1], "--role", "librarian")
    srv.cli("ils", "pull")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _cell(page: object, cell_id: str) -> str:
    value = page.locator(f"#{cell_id}").inner_text()  # type: ignore[attr-defined]
    return re.sub(r"\s+", " ", str(value)).strip()


def test_a_librarian_sees_the_status_pulls_and_checks(
    slims_server: SlimsServerProcess,
    ils_db: Engine,  # noqa: F811
    browser_page,
) -> None:
    page = browser_page
    base = slims_server.url
    sign_in(page, base, LIBRARIAN)
    page.click("nav.main >> text=Sistem Perpustakaan")
    page.wait_for_url(base + "/staff/ils")
    assert page.locator("h1").inner_text() == "Sistem Perpustakaan"
    assert _cell(page, "answer").startswith("Ya")
    assert re.search(r"\d\d-\d\d-\d{4} \d\d:\d\d \(\d+ detik lalu\)", _cell(page, "last-pull"))
    assert _cell(page, "queue-loans") == "0" and _cell(page, "queue-visits") == "0"
    assert _cell(page, "last-error") == "Tidak ada"
    assert "mysql" not in page.content()  # the database's address is for admins

    # a member added at the SLiMS desk arrives with "Tarik sekarang"
    add_member_at_desk(ils_db, "M0777", "Sri Rahayu")
    page.click("#pull button[type=submit]")
    page.wait_for_url(base + "/staff/ils#pull")
    result = page.locator("#pull-result").inner_text()
    assert "Penarikan selesai" in result
    assert re.search(r"Anggota\s+[1-9]", result), result
    page.goto(base + "/staff/patrons?q=M0777")
    assert "Sri Rahayu" in page.locator("main").inner_text()

    # a loan made in SLiMS behind the server's back is a difference until the next pull
    lend_at_desk(ils_db, "B00002", "M0002")
    page.goto(base + "/staff/ils")
    page.click("#check button[type=submit]")
    page.wait_for_url(base + "/staff/ils#check")
    assert "1 selisih ditemukan" in page.locator("#check-result").inner_text()
    row = page.locator("#differences tbody tr").all_inner_texts()
    assert len(row) == 1 and "B00002" in row[0] and "M0002" in row[0]
    assert "tidak dipinjam" in row[0]  # not on loan on the server
    page.click("#pull button[type=submit]")
    page.wait_for_url(base + "/staff/ils#pull")
    assert re.search(r"Transaksi meja sirkulasi\s+1", page.locator("#pull-result").inner_text())
    page.click("#check button[type=submit]")
    page.wait_for_url(base + "/staff/ils#check")
    assert "Tidak ada selisih" in page.locator("#check-result").inner_text()
    assert page.locator("#differences").count() == 0

    # a post without the form's token changes nothing, even with the session cookie
    refused = page.request.post(base + "/staff/ils/pull", form={"full": "1"})
    assert refused.status == 403
    wrong = page.request.post(base + "/staff/ils/check", form={"csrf": "0" * 40})
    assert wrong.status == 403
    # and without a session it goes nowhere
    bare = requests.post(base + "/staff/ils/pull", data={}, allow_redirects=False, timeout=10)
    assert bare.status_code in (303, 403)


def test_an_admin_sees_where_the_ils_is_and_the_page_in_english(
    slims_server: SlimsServerProcess, browser_page
) -> None:
    page = browser_page
    base = slims_server.url
    sign_in(page, base, ADMIN, "/staff/ils")
    assert page.url == base + "/staff/ils"
    system = _cell(page, "answer")
    assert system.startswith("Ya")
    body = page.locator("main").inner_text()
    assert "mysql+pymysql://" in body
    password = re.search(r"://[^:]+:([^@]+)@", slims_server.ils_url)
    assert password and password.group(1) not in page.content()
    page.click("text=English")
    assert page.locator("h1").inner_text() == "Library system"
    assert _cell(page, "answer").startswith("Yes")
    page.click("#check button[type=submit]")
    page.wait_for_url(base + "/staff/ils#check")
    assert "No differences" in page.locator("#check-result").inner_text()
