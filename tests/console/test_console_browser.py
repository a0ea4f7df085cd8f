"""The staff console in a real browser (Debian's chromium via Playwright) against a real
server process on 127.0.0.1: what a librarian does every day, end to end."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from openpyxl import load_workbook

from core.wire import Kind
from tests.console.conftest import ADMIN, LIBRARIAN, sign_in
from tests.server_process import ServerProcess
from tests.sync.parts import make_kiosk

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _post_transactions(srv: ServerProcess, kiosk: str, txns: list[dict]) -> list[dict]:
    resp = requests.post(
        srv.url + "/api/v1/transactions",
        json={"transactions": txns},
        headers={"Authorization": f"Bearer {srv.tokens[kiosk]}"},
        timeout=10,
    )
    resp.raise_for_status()
    return list(resp.json()["results"])


_seq = iter(range(1, 10**6))


def _txn(kind: Kind, at: datetime, **fields: object) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kiosk": "kiosk-1",
        "seq": next(_seq),
        "kind": kind.value,
        "at": at.isoformat(),
        **fields,
    }


def test_sign_in_sign_out_and_a_signed_out_browser_goes_to_sign_in(
    console_server: ServerProcess, browser_page
) -> None:
    page = browser_page
    base = console_server.url
    page.goto(base + "/staff/conflicts")
    assert "/staff/login" in page.url and "next=/staff/conflicts" in page.url
    page.fill("#name", LIBRARIAN[0])
    page.fill("#password", "wrong password")
    page.click("form[action='/staff/login'] button[type=submit]")
    assert page.locator(".flash.bad").inner_text() == "Nama atau kata sandi salah."
    page.fill("#password", LIBRARIAN[1])
    page.click("form[action='/staff/login'] button[type=submit]")
    page.wait_for_url(base + "/staff/conflicts")  # back where the browser wanted to go
    assert page.locator("h1").inner_text() == "Konflik"
    page.click("header form[action='/staff/logout'] button")
    page.wait_for_url(re.compile(r".*/staff/login$"))
    page.goto(base + "/staff/")
    assert "/staff/login" in page.url
    # English is one click away and remembered
    page.click("text=English")
    assert page.locator("h1").inner_text() == "Sign in to the Staff Console"


def test_a_workshop_made_in_the_form_reaches_a_kiosk_by_snapshot_delta(
    console_server: ServerProcess, browser_page, tmp_path: Path
) -> None:
    srv = console_server
    kiosk = make_kiosk(tmp_path / "k", "kiosk-1", srv.url, srv.tokens["kiosk-1"])
    try:
        kiosk.worker.refresh_snapshot()
        before = {e["title"] for e in kiosk.store.events()}
        assert "Kelas Literasi Digital" not in before
        page = browser_page
        sign_in(page, srv.url, LIBRARIAN, "/staff/events/new")
        page.fill("#title", "Kelas Literasi Digital")
        page.fill("#description", "Mengenal hoaks dan sumber tepercaya.")
        page.fill("#place", "Ruang Baca Anak")
        page.fill("#starts_at", "2031-03-14T09:00")
        page.fill("#ends_at", "2031-03-14T11:30")
        page.fill("#capacity", "2")
        page.check("#waitlist")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r".*/staff/events/\d+\?done=created"))
        assert "Kelas Literasi Digital" in page.locator("h1").inner_text()
        kiosk.worker.refresh_snapshot()  # a delta: the kiosk had a snapshot already
        events = {e["title"]: e for e in kiosk.store.events()}
        made = events["Kelas Literasi Digital"]
        assert made["capacity"] == 2 and made["waitlist"] is True
        assert made["place"] == "Ruang Baca Anak"
        # 09:00 in Probolinggo (WIB, UTC+7) is 02:00 UTC
        assert datetime.fromisoformat(made["starts_at"]) == datetime(2031, 3, 14, 2, tzinfo=UTC)
    finally:
        kiosk.close()


def test_registrations_exports_and_door_list(
    console_server: ServerProcess, browser_page, tmp_path: Path
) -> None:
    srv = console_server
    events = requests.get(
        srv.url + "/api/v1/events",
        headers={"Authorization": f"Bearer {srv.tokens['kiosk-1']}"},
        timeout=10,
    ).json()
    event = events[0]
    at = datetime.now(UTC)
    results = _post_transactions(
        srv,
        "kiosk-1",
        [
            _txn(Kind.EVENT_REGISTER, at, event_id=event["id"], card="AGT0001"),
            _txn(
                Kind.EVENT_REGISTER,
                at + timedelta(seconds=1),
                event_id=event["id"],
                guest={"name": "Rina Wulandari", "phone": "0812-3456-789", "institution": "SMAN 1"},
            ),
        ],
    )
    assert all(r["status"] == "accepted" for r in results), results
    page = browser_page
    sign_in(page, srv.url, LIBRARIAN, f"/staff/events/{event['id']}")
    table = page.locator("table").last.inner_text()
    assert "Siti" in table and "Rina Wulandari" in table and "SMAN 1" in table
    page.fill("#q", "rina")
    page.click("form[method=get] button")
    assert "Siti" not in page.locator("table").last.inner_text()

    with page.expect_download() as info:
        page.click("text=Unduh kehadiran (CSV)")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig"))))
    assert rows[0][:5] == ["No", "Nama", "Kartu", "Instansi", "Kontak"]
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["Rina Wulandari"][3:6] == ["SMAN 1", "0812-3456-789", "Terdaftar"]
    assert by_name["Siti Rahmawati"][2] == "AGT0001"

    with page.expect_download() as info:
        page.click("text=Unduh kehadiran (XLSX)")
    saved = tmp_path / "kehadiran.xlsx"
    info.value.save_as(saved)
    sheet = load_workbook(saved).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == event["title"]
    header = values[3]
    assert header[:2] == ["No", "Nama"]
    names = {row[1] for row in values[4:]}
    assert "Rina Wulandari" in names and len(values[4:]) == 2

    page.click("text=Cetak daftar pintu")
    assert page.locator("h1").inner_text().startswith("Daftar pintu")
    assert page.locator("tbody tr").count() == 2


def test_a_conflict_is_resolved_with_a_note(console_server: ServerProcess, browser_page) -> None:
    srv = console_server
    srv.tokens["kiosk-2"] = srv.cli("add-kiosk", "kiosk-2").stdout.strip().splitlines()[-1]
    at = datetime.now(UTC) - timedelta(minutes=5)
    # Two kiosks, offline, lend the same book to two patrons: the later one conflicts.
    _post_transactions(
        srv, "kiosk-1", [_txn(Kind.CHECKOUT, at, card="AGT0001", item="B000101", offline=True)]
    )
    second = _txn(
        Kind.CHECKOUT, at + timedelta(minutes=1), card="AGT0002", item="B000101", offline=True
    )
    second["kiosk"] = "kiosk-2"
    assert _post_transactions(srv, "kiosk-2", [second])[0]["status"] == "conflict"
    page = browser_page
    sign_in(page, srv.url, LIBRARIAN, "/staff/conflicts")
    card = page.locator("article.card").first
    text = card.inner_text()
    assert "Buku sedang dipinjam anggota lain" in text and "kiosk-2" in text and "AGT0002" in text
    card.locator("input[name=note]").fill("Budi dihubungi; buku dikembalikan ke Siti.")
    card.locator("button").click()
    page.wait_for_url(re.compile(r".*done=resolved"))
    assert page.locator("article.card").count() == 0
    page.select_option("#state", "resolved")
    page.fill("#q", "dihubungi")
    page.click("form[method=get] button")
    assert "Budi dihubungi" in page.locator("article.card").first.inner_text()


def test_an_admin_registers_a_kiosk_whose_token_works(
    console_server: ServerProcess, browser_page
) -> None:
    srv = console_server
    page = browser_page
    sign_in(page, srv.url, ADMIN, "/staff/kiosks")
    page.fill("#name", "kiosk-lantai-2")
    page.click("form[action='/staff/kiosks'] button[type=submit] >> text=Daftarkan kios")
    toml = page.locator("#toml").inner_text()
    token = re.search(r'token = "([^"]+)"', toml)
    assert token and 'name = "kiosk-lantai-2"' in toml
    health = requests.post(
        srv.url + "/api/v1/transactions",
        json={"transactions": [], "queue_depth": 0},
        headers={"Authorization": f"Bearer {token.group(1)}"},
        timeout=10,
    )
    assert health.status_code == 200
    page.goto(srv.url + "/staff/kiosks")
    row = page.locator("tbody tr").filter(has_text="kiosk-lantai-2")
    assert row.count() == 1
    row.locator("button", has_text="Cabut token").click()
    assert "dicabut" in page.locator(".flash").inner_text()
    assert "dicabut" in page.locator("tbody tr").filter(has_text="kiosk-lantai-2").inner_text()
    refused = requests.post(
        srv.url + "/api/v1/transactions",
        json={"transactions": [], "queue_depth": 0},
        headers={"Authorization": f"Bearer {token.group(1)}"},
        timeout=10,
    )
    assert refused.status_code == 401


def test_a_librarian_is_refused_an_admin_page_and_a_post_without_csrf_is_refused(
    console_server: ServerProcess, browser_page
) -> None:
    srv = console_server
    page = browser_page
    sign_in(page, srv.url, LIBRARIAN)
    response = page.goto(srv.url + "/staff/accounts")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "Tidak diizinkan"
    # the same browser session posting a form without its CSRF token
    posted = page.request.post(srv.url + "/staff/events/new", form={"title": "Tanpa token"})
    assert posted.status == 403
    listed = page.request.get(srv.url + "/staff/events?q=Tanpa")
    assert "Tanpa token" not in listed.text()


def test_a_csv_upload_with_one_bad_line_loads_nothing_until_told(
    console_server: ServerProcess, browser_page, tmp_path: Path
) -> None:
    srv = console_server
    upload = tmp_path / "anggota.csv"
    upload.write_text(
        "member_id,member_name,expire_date\n"
        "AGT7001,Dewi Lestari,2030-01-31\n"
        "AGT7002,,2030-01-31\n"
        "AGT7003,Joko Susilo,2030-01-31\n",
        encoding="utf-8",
    )
    page = browser_page
    sign_in(page, srv.url, LIBRARIAN, "/staff/import")
    page.set_input_files("#file", str(upload))
    page.click("form[action='/staff/import'] button[type=submit]")
    report = page.locator("section.card").inner_text()
    assert "Tidak ada yang dimuat" in report
    assert re.search(r"\b3\b", page.locator("table").inner_text())  # the bad line's number
    page.goto(srv.url + "/staff/patrons?q=AGT7001")
    assert "Dewi Lestari" not in page.content()
    page.goto(srv.url + "/staff/import")
    page.set_input_files("#file", str(upload))
    page.check("#skip_bad")
    page.click("form[action='/staff/import'] button[type=submit]")
    assert "2 baru" in page.locator("section.card").inner_text()
    page.goto(srv.url + "/staff/patrons?q=AGT7001")
    assert "Dewi Lestari" in page.content()


def test_registrations_by_hand_and_the_waitlist_moving_up(
    console_server: ServerProcess, browser_page
) -> None:
    srv = console_server
    page = browser_page
    sign_in(page, srv.url, LIBRARIAN, "/staff/events/new")
    page.fill("#title", "Kelas Origami")
    page.fill("#starts_at", "2031-05-02T09:00")
    page.fill("#ends_at", "2031-05-02T11:00")
    page.fill("#capacity", "2")
    page.check("#waitlist")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/staff/events/\d+\?done=created"))
    event_url = page.url.split("?")[0]

    def register(card: str = "", guest: str = "") -> str:
        page.fill("#card", card)
        page.fill("#guest_name", guest)
        page.click("form[action$='/registrations'] button")
        return page.locator(".flash").inner_text()

    assert register(card="AGT0001") == "Terdaftar."
    assert register(guest="Rina Wulandari") == "Terdaftar."
    assert register(guest="Joko Susilo") == "Acara penuh: masuk daftar tunggu."
    assert register(card="AGT0001") == "Orang ini sudah terdaftar."
    assert register(card="AGT9999") == "Nomor kartu itu tidak dikenal."
    rows = page.locator("table").last.locator("tbody tr")
    assert rows.count() == 3
    joko = rows.filter(has_text="Joko Susilo")
    assert "Daftar tunggu" in joko.inner_text()

    siti = rows.filter(has_text="Siti Rahmawati")
    siti.locator("button", has_text="Tandai hadir").click()
    assert page.locator(".flash").inner_text() == "Tercatat hadir."
    assert "Tandai hadir" not in rows.filter(has_text="Siti Rahmawati").inner_text()

    rows.filter(has_text="Rina Wulandari").locator("button", has_text="Batalkan").click()
    flash = page.locator(".flash").inner_text()
    assert flash == "Pendaftaran dibatalkan. Joko Susilo naik dari daftar tunggu."
    rows = page.locator("table").last.locator("tbody tr")
    assert rows.count() == 2 and "Rina" not in page.locator("table").last.inner_text()
    assert "Terdaftar" in rows.filter(has_text="Joko Susilo").inner_text()
    # what the page shows is the server's ledger, as a kiosk sees it
    event_id = int(event_url.rsplit("/", 1)[1])
    view = requests.get(
        f"{srv.url}/api/v1/events/{event_id}",
        headers={"Authorization": f"Bearer {srv.tokens['kiosk-1']}"},
        timeout=10,
    ).json()
    assert (view["registered"], view["attended"], view["seats_left"]) == (2, 1, 0)
