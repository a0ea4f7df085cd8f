"""Guest-book and feedback transactions on the server (SQLite and PostgreSQL, real HTTP app)."""

from __future__ import annotations

from sqlalchemy import select

from server.models import Feedback, FeedbackChip, GroupVisit, Visit
from tests.server.helpers import post, tx, wib


def _visit(card: str | None = None, window: str = "2026-11-02", **visit) -> dict:
    return {"card": card, "visit": {"window": window, **visit}} if card else {"visit": visit}


def test_a_card_counts_once_per_window_across_kiosks(client, demo, kiosk_a, kiosk_b) -> None:
    first = tx("visit", "kiosk-a", wib(2, 9), offline=True, **_visit("AGT0001"))
    res = post(client, kiosk_a, first)
    assert res[0]["status"] == "accepted"
    # the same card at the other kiosk, later that day; and the first one sent again
    again = tx("visit", "kiosk-b", wib(2, 15), offline=True, **_visit("AGT0001"))
    next_day = tx("visit", "kiosk-b", wib(3, 8), offline=True, **_visit("AGT0001", "2026-11-03"))
    res = post(client, kiosk_b, again, next_day)
    assert [r["status"] for r in res] == ["accepted", "accepted"]
    assert post(client, kiosk_a, first)[0]["duplicate"] is True
    with demo.db.read() as s:
        rows = s.execute(select(Visit.kiosk, Visit.counted, Visit.day).order_by(Visit.at)).all()
    assert [(k, c, d.day) for k, c, d in rows] == [
        ("kiosk-a", True, 2),
        ("kiosk-b", False, 2),
        ("kiosk-b", True, 3),
    ]


def test_late_arrival_changes_which_visit_counts_not_how_many(client, demo, kiosk_a) -> None:
    late = tx("visit", "kiosk-a", wib(2, 16), offline=True, **_visit("AGT0002"))
    early = tx("visit", "kiosk-a", wib(2, 9), offline=True, **_visit("AGT0002"))
    post(client, kiosk_a, late)
    post(client, kiosk_a, early)
    with demo.db.read() as s:
        counted = s.scalars(select(Visit.counted).where(Visit.card == "AGT0002")).all()
    assert sorted(counted) == [False, True]


def test_guest_purpose_amend_group_and_feedback(client, demo, kiosk_a, kiosk_b) -> None:
    guest = tx(
        "visit",
        "kiosk-a",
        wib(2, 10),
        offline=True,
        visit={"name": "Rina", "gender": "female", "education": "S1", "occupation": "Pelajar",
               "institution": "SMAN 1", "contact": "0812345678", "window": "2026-11-02"},
    )  # fmt: skip
    member = tx("visit", "kiosk-a", wib(2, 11), offline=True, **_visit("AGT0001"))
    purpose = tx(
        "visit", "kiosk-a", wib(2, 11, 1), offline=True,
        visit={"purpose": "Internet", "amends": member["id"]},
    )  # fmt: skip
    foreign = tx(
        "visit", "kiosk-b", wib(2, 11, 2), offline=True,
        visit={"purpose": "Lainnya", "amends": member["id"]},
    )  # fmt: skip
    group = tx(
        "group_visit", "kiosk-a", wib(2, 13), offline=True,
        group={"leader": "Bu Ani", "phone": "081299887766", "institution": "SDN 2",
               "male": 12, "female": 14},
    )  # fmt: skip
    rating = tx("feedback", "kiosk-a", wib(2, 11, 3), offline=True,
                feedback={"service": "guestbook", "score": 4})  # fmt: skip
    chips = tx("feedback", "kiosk-a", wib(2, 11, 4), offline=True,
               feedback={"service": "guestbook", "score": 4, "chips": ["Koleksi buku"],
                         "amends": rating["id"]})  # fmt: skip
    res = post(client, kiosk_a, guest, member, purpose, group, rating, chips)
    assert [r["status"] for r in res] == ["accepted"] * 6
    post(client, kiosk_b, foreign)  # another kiosk cannot change this kiosk's visit
    with demo.db.read() as s:
        visits = {v.id: v for v in s.scalars(select(Visit))}
        g = s.scalars(select(GroupVisit)).one()
        f = s.scalars(select(Feedback)).one()
        chip_rows = s.execute(select(FeedbackChip.feedback_id, FeedbackChip.chip)).all()
    assert len(visits) == 2  # amends make no row of their own
    rina = visits[guest["id"]]
    assert (rina.name, rina.gender, rina.member, rina.counted, rina.hour) == (
        "Rina", "female", False, True, 10,
    )  # fmt: skip
    assert visits[member["id"]].purpose == "Internet"
    assert (g.male, g.female, g.institution) == (12, 14, "SDN 2")
    assert (f.score, f.service, f.event_id) == (4, "guestbook", None)
    assert [tuple(r) for r in chip_rows] == [(rating["id"], "Koleksi buku")]


def test_feedback_with_a_card_is_refused_as_invalid(client, demo, kiosk_a) -> None:
    bad = tx("feedback", "kiosk-a", wib(2, 9), offline=True, card="AGT0001",
             feedback={"service": "checkout", "score": 1})  # fmt: skip
    empty_group = tx("group_visit", "kiosk-a", wib(2, 9), offline=True,
                     group={"leader": "X", "institution": "Y"})  # fmt: skip
    nameless = tx("visit", "kiosk-a", wib(2, 9), offline=True, visit={"window": "2026-11-02"})
    res = post(client, kiosk_a, bad, empty_group, nameless)
    assert [(r["status"], r["reason"]) for r in res] == [("refused", "invalid")] * 3
    assert "anonymous" in res[0]["message"]
    with demo.db.read() as s:
        assert s.scalars(select(Feedback)).all() == []


def test_purge_history_forgets_who_visited_and_keeps_the_counts(
    client, demo, kiosk_a, tmp_path
) -> None:
    from server.models import Transaction
    from server.retention import purge_history
    from server.visit_reports import visits_report

    member = tx("visit", "kiosk-a", wib(2, 9, year=2025), offline=True,
                card="AGT0001", visit={"window": "2025-11-02"})  # fmt: skip
    guest = tx("visit", "kiosk-a", wib(2, 10, year=2025), offline=True, visit={
        "name": "Rina", "gender": "female", "contact": "0812345678",
        "window": "2025-11-02"})  # fmt: skip
    group = tx("group_visit", "kiosk-a", wib(2, 11, year=2025), offline=True, group={
        "leader": "Bu Guru", "phone": "08123456789", "institution": "SDN 1",
        "male": 3, "female": 4})  # fmt: skip
    recent = tx("visit", "kiosk-a", wib(2, 9), offline=True, **_visit("AGT0002"))
    res = post(client, kiosk_a, member, guest, group, recent)
    assert [r["status"] for r in res] == ["accepted"] * 4
    day = wib(2, 9, year=2025).date()
    with demo.db.read() as s:
        before = visits_report(s, day, day, "day").total.total
    report = purge_history(demo.db, 365, now=wib(30, 12))
    assert report.visits == 3
    with demo.db.read() as s:
        visits = {v.id: v for v in s.scalars(select(Visit))}
        groups = s.scalars(select(GroupVisit)).all()
        payloads = {t.id: (t.card, t.payload) for t in s.scalars(select(Transaction))}
        after = visits_report(s, day, day, "day").total.total
    assert before == after == 9  # a member, a visitor, a group of seven
    assert visits[member["id"]].card is None and visits[member["id"]].counted
    assert visits[guest["id"]].name is None and visits[guest["id"]].contact is None
    assert visits[guest["id"]].gender == "female"
    assert [(g.leader, g.phone, g.male + g.female) for g in groups] == [("-", None, 7)]
    assert visits[recent["id"]].card == "AGT0002"  # inside the kept period
    for old in (member, guest, group):
        card, payload = payloads[old["id"]]
        assert card is None
        for text in ("AGT0001", "Rina", "0812345678", "Bu Guru", "08123456789"):
            assert text not in payload
    assert payloads[recent["id"]][0] == "AGT0002"
    # a second run finds nothing left to forget
    again = purge_history(demo.db, 365, now=wib(30, 12))
    assert (again.visits, again.transactions) == (0, 0)
