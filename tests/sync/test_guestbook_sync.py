"""Guest-book visits and ratings made offline reach the real server once each."""

from __future__ import annotations

from kiosk.flows.feedback import SurveyFlow
from kiosk.flows.guestbook import GuestBookFlow
from sync.client import ServerClient
from sync.store import OutboxState
from tests.demo_library import library_snapshot
from tests.sync.parts import make_kiosk, server_db, wait_for


def test_offline_visits_synced_once_and_counted_once(tmp_path, server) -> None:
    server.stop()  # offline from the start
    kiosk = make_kiosk(tmp_path / "k1", "k1", server.url, server.tokens["k1"])
    try:
        kiosk.store.apply_snapshot(library_snapshot())
        book = GuestBookFlow(kiosk.services)
        for card in ("AGT0001", "AGT0002", "AGT0001"):
            book.scan(card)
        book.scan("AGT0002")
        book.choose_purpose(None)
        survey = SurveyFlow(kiosk.services, ("Koleksi buku",))
        survey.rate(5)
        survey.toggle("Koleksi buku")
        survey.send()
        made = [r.tx.id for r in kiosk.store.rows()]
        assert len(made) == 6
        assert all(r.state == OutboxState.PENDING for r in kiosk.store.rows())
        server.start()
        kiosk.worker.start()
        wait_for(lambda: kiosk.store.queue_depth() == 0, what="the queue drained")
        # sent again (as after a lost answer): the server keeps the first results, adds nothing
        again = ServerClient(server.url, server.tokens["k1"]).post_transactions(
            [r.tx for r in kiosk.store.rows()], timeout=10
        )
        assert all(r.duplicate for r in again) and len(again) == 6
    finally:
        kiosk.close()
    db = server_db(server)
    try:
        logged = sorted(r[0] for r in db.execute("SELECT id FROM transactions"))
        visits = db.execute("SELECT card, counted FROM visits ORDER BY at").fetchall()
        ratings = db.execute("SELECT score FROM feedback").fetchall()
        chips = db.execute("SELECT chip FROM feedback_chips").fetchall()
    finally:
        db.close()
    assert logged == sorted(made)
    assert visits == [("AGT0001", 1), ("AGT0002", 1), ("AGT0001", 0), ("AGT0002", 0)]
    assert ratings == [(5,)] and chips == [("Koleksi buku",)]
