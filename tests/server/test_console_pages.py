"""Console pages that need no browser to check: the guest book report, workshop ratings
on an event, and clearing a patron's PIN lock (real SQLite, the real app in-process)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from server.app import create_app
from server.models import Event, Patron, PinFailures
from server.service import Server
from server.timeutil import local_date, utcnow
from tests.server.helpers import post, signed_in, tx


def test_the_guest_book_page_shows_the_report_and_downloads_it(demo: Server, kiosk_a: dict) -> None:
    client, _csrf = signed_in(demo)
    now = utcnow() - timedelta(minutes=5)
    window = local_date(now).isoformat()
    results = post(
        TestClient(create_app(demo)),
        kiosk_a,
        tx("visit", at=now, offline=True, card="AGT0001", visit={"window": window}),
        tx("visit", at=now, offline=True, card="AGT0001", visit={"window": window}),
        tx("visit", at=now, offline=True,
           visit={"name": "Rina", "gender": "female", "purpose": "Membaca", "window": window}),
        tx("group_visit", at=now, offline=True,
           group={"leader": "Bu Guru", "institution": "SDN 1", "male": 12, "female": 9}),
    )  # fmt: skip
    assert all(r["status"] == "accepted" for r in results), results
    page = client.get("/staff/guestbook")
    assert page.status_code == 200
    tiles = re.findall(r'<span class="n">([\d.]+)</span><span class="l">([^<]+)</span>', page.text)
    counts = {label: int(n.replace(".", "")) for n, label in tiles}
    # the member counts once however often scanned; the group counts its persons
    assert counts == {"Kunjungan": 23, "Anggota": 1, "Non-anggota": 1, "Rombongan (orang)": 21}
    xlsx = client.get("/staff/guestbook/visits.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][0].startswith("Laporan Kunjungan Periodik")
    assert rows[-1][1:] == [1, 1, 21, 23]  # Jumlah: members, non-members, groups, total


def test_workshop_ratings_show_on_the_event_page(demo: Server, kiosk_a: dict) -> None:
    client, _csrf = signed_in(demo)
    with demo.db.read() as s:
        eid = s.execute(select(Event.id)).scalars().first()
    at = utcnow() - timedelta(minutes=1)
    results = post(
        TestClient(create_app(demo)),
        kiosk_a,
        *[tx("feedback", at=at, offline=True, event_id=eid,
             feedback={"service": "event", "score": score})
          for score in (5, 4, 5)],
    )  # fmt: skip
    assert all(r["status"] == "accepted" for r in results), results
    page = client.get(f"/staff/events/{eid}")
    assert "4,67" in page.text and "3 penilaian" in page.text


def test_staff_clear_a_patron_s_pin_lock(demo: Server) -> None:
    client, csrf = signed_in(demo)
    with demo.db.write() as (s, _v):
        budi = s.execute(select(Patron).where(Patron.card == "AGT0002")).scalar_one()
        s.add(
            PinFailures(patron_id=budi.id, failures=5, locked_until=utcnow() + timedelta(minutes=9))
        )
        budi_id = budi.id
    page = client.get(f"/staff/patrons/{budi_id}")
    assert "Buka kunci PIN" in page.text
    done = client.post(
        f"/staff/patrons/{budi_id}/clear-pin-lock", data={"csrf": csrf}, follow_redirects=True
    )
    assert "Kunci PIN dibuka" in done.text and "Buka kunci PIN" not in done.text
    with demo.db.read() as s:
        assert (
            s.execute(select(PinFailures).where(PinFailures.patron_id == budi_id)).first() is None
        )
    refused = client.post(f"/staff/patrons/{budi_id}/clear-pin-lock", data={})
    assert refused.status_code == 403  # no CSRF token


def test_without_an_ils_the_page_says_the_server_is_its_own_authority(demo: Server) -> None:
    client, csrf = signed_in(demo)
    assert 'href="/staff/ils"' not in client.get("/staff/").text  # no menu entry
    page = client.get("/staff/ils")
    assert page.status_code == 200
    assert "tidak ada SLiMS atau INLISLite yang terhubung" in page.text
    assert 'href="/staff/import"' in page.text
    assert "/staff/ils/pull" not in page.text
    # a post does nothing without an ILS, and nothing at all without the token
    assert client.post("/staff/ils/pull", data={"csrf": csrf}).status_code == 200
    assert client.post("/staff/ils/check", data={}).status_code == 403
