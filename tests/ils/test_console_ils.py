"""The console's *Sistem Perpustakaan* page without a browser: the real app in-process
against a real SLiMS database on MariaDB (the browser test is in tests/console)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from server.admin import add_kiosk
from server.service import Server
from tests.ils.slims_seed import add_member_at_desk, lend_at_desk
from tests.server.helpers import post, signed_in, tx

pytestmark = pytest.mark.mariadb


@pytest.fixture
def ils_kind() -> str:
    return "slims"


def _cell(html: str, cell_id: str) -> str:
    found = re.search(rf'<td id="{cell_id}">(.*?)</td>', html, re.S)
    assert found, cell_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_page_counts_queued_write_backs_and_links_contradicted_ones(
    server: Server, ils_db: Engine
) -> None:
    client, csrf = signed_in(server)
    kiosk = {"Authorization": f"Bearer {add_kiosk(server.db, 'kiosk-a')}"}
    assert '<a href="/staff/ils"' in client.get("/staff/").text  # in the menu
    results = post(
        client,
        kiosk,
        tx("checkout", card="M0001", item="B00001"),
        tx("checkout", card="M0001", item="B00004"),
    )
    assert [r["status"] for r in results] == ["accepted", "accepted"], results
    page = client.get("/staff/ils")
    assert page.status_code == 200
    assert _cell(page.text, "queue-loans").startswith("2 · tertua ")
    assert _cell(page.text, "queue-visits") == "0"
    answer = _cell(page.text, "answer")
    assert answer.startswith("Ya basis datanya menjawab (versi ") and "MariaDB" in answer
    english = client.get("/staff/ils?lang=en")
    assert _cell(english.text, "answer").startswith("Yes its database answers (version ")
    client.get("/staff/ils?lang=id")
    assert "SLiMS" in page.text and "mysql+pymysql" not in page.text  # librarians: no URL
    lend_at_desk(ils_db, "B00004", "M0002")  # the desk lends B00004 before the write-back runs
    assert server.ils is not None
    assert server.ils.drain() == 2
    page = client.get("/staff/ils")
    assert _cell(page.text, "queue-loans") == "0"
    assert _cell(page.text, "contradicted").startswith("1 · 1 konflik terbuka")
    assert 'href="/staff/conflicts?reason=ils_contradicts"' in page.text
    listed = client.get("/staff/conflicts?reason=ils_contradicts").text
    assert listed.count('<article class="card">') == 1 and "B00004" in listed
    other = client.get("/staff/conflicts?reason=patron_blocked").text
    assert '<article class="card">' not in other


def test_pull_and_check_from_the_page(server: Server, ils_db: Engine) -> None:
    client, csrf = signed_in(server)
    add_member_at_desk(ils_db, "M0777", "Sri Rahayu")
    lend_at_desk(ils_db, "B00002", "M0002")
    page = client.post("/staff/ils/check", data={"csrf": csrf})
    assert page.status_code == 200  # the redirect followed back to the page
    assert "1 selisih ditemukan" in page.text
    rows = re.findall(r"<tr><td>(B\d+)</td><td>(M\d+)</td>", page.text)
    assert rows == [("B00002", "M0002")]
    page = client.post("/staff/ils/pull", data={"csrf": csrf})
    assert "Penarikan selesai" in page.text
    pulled = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', page.text))
    assert int(pulled["Anggota"]) >= 1 and int(pulled["Transaksi meja sirkulasi"]) == 1
    assert client.get("/staff/patrons?q=M0777").text.count("Sri Rahayu") >= 1
    page = client.post("/staff/ils/check", data={"csrf": csrf})
    assert "Tidak ada selisih" in page.text
    english = client.get("/staff/ils?lang=en")
    assert "No differences" in english.text and "Library system" in english.text
    refused = client.post("/staff/ils/pull", data={})
    assert refused.status_code == 403


def test_an_admin_sees_where_the_ils_is_but_never_its_password(
    server: Server, mariadb_url: str
) -> None:
    client, _csrf = signed_in(server, role="admin")
    page = client.get("/staff/ils").text
    assert "mysql+pymysql://" in page
    password = re.search(r"://[^:]+:([^@]+)@", mariadb_url)
    assert password and password.group(1) not in page


def test_an_ils_that_does_not_answer_is_said_so(server: Server, ils_db: Engine) -> None:
    client, csrf = signed_in(server)
    assert server.ils is not None
    # the connector now points at a port nobody listens on: the ILS is away
    server.ils.connector.engine = create_engine(  # type: ignore[attr-defined]
        "mysql+pymysql://nobody:x@127.0.0.1:9/slims", connect_args={"connect_timeout": 2}
    )
    page = client.get("/staff/ils")
    assert _cell(page.text, "answer") == "Tidak basis datanya tidak menjawab (OperationalError)"
    page = client.post("/staff/ils/pull", data={"csrf": csrf})
    assert "Penarikan gagal" in page.text
    assert _cell(page.text, "last-error").startswith("Penarikan data gagal")
