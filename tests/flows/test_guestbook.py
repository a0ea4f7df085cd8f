"""Guest book and feedback flows on a real store, no window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.wire import FeedbackService, Gender, Kind
from kiosk.flows.base import Severity
from kiosk.flows.door import DoorFlow
from kiosk.flows.events import load_events
from kiosk.flows.feedback import FeedbackPrompt, SurveyFlow, SurveyStep
from kiosk.flows.guestbook import GuestBookFlow, GuestBookOptions, GuestBookStep, visit_window
from sync.store import OutboxState
from tests.flows import ui_fixtures

demo_services = ui_fixtures.demo_services

OPTIONS = GuestBookOptions(
    purposes=("Membaca", "Internet"),
    education=("SMA/SMK", "S1"),
    occupations=("Pelajar", "Lainnya"),
)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _visits(services, kind: Kind = Kind.VISIT):
    return [r for r in services.store.rows() if r.tx.kind == kind]


def test_window_is_the_local_day_or_hour_blocks() -> None:
    # 23.30 UTC is 06.30 the next day in WIB
    at = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert visit_window(at) == "2026-12-02"
    assert visit_window(at, 4) == "2026-12-02T04+4h"
    assert visit_window(at, 24) == "2026-12-02"


def test_member_greeted_by_first_name_then_purpose_amends(demo_services) -> None:
    flow = GuestBookFlow(demo_services, OPTIONS)
    msg = flow.scan("agt0001")
    assert msg.severity == Severity.SUCCESS and msg.params == {"name": "Siti"}
    assert flow.step == GuestBookStep.PURPOSE and flow.counted == 1
    flow.choose_purpose("Internet")
    assert flow.step == GuestBookStep.DONE
    rows = _visits(demo_services)
    assert [r.tx.card for r in rows] == ["AGT0001", None]
    assert rows[0].local_result.counted is True
    assert rows[1].tx.visit.purpose == "Internet" and rows[1].tx.visit.amends == rows[0].tx.id
    assert all(r.state == OutboxState.PENDING and r.tx.offline for r in rows)


def test_same_card_same_day_welcomed_again_but_counted_once(demo_services) -> None:
    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 09.00 WIB
    flow = GuestBookFlow(demo_services, OPTIONS, clock=clock)
    flow.scan("AGT0002")
    flow.choose_purpose(None)  # skipped: nothing more is written
    clock.at += timedelta(hours=5)
    again = flow.scan("AGT0002")
    assert again.msgid.startswith("Selamat datang kembali, {name}!")
    assert again.params["time"] == "09.00"
    assert flow.counted == 1 and flow.step == GuestBookStep.DONE
    rows = _visits(demo_services)
    assert [r.local_result.counted for r in rows] == [True, False]
    # the next day it counts again; the marks of two days ago are pruned
    clock.at += timedelta(days=1)
    assert flow.scan("AGT0002").params == {"name": "Budi"} and flow.counted == 2


def test_a_window_of_hours_counts_again_in_the_next_block(demo_services) -> None:
    clock = Clock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # 08.00 WIB
    flow = GuestBookFlow(
        demo_services, GuestBookOptions(purposes=("Membaca",), window_hours=4), clock=clock
    )
    flow.scan("AGT0001")
    clock.at += timedelta(hours=1)
    flow.scan("AGT0001")
    clock.at += timedelta(hours=3)  # 12.00 WIB: the next block
    flow.scan("AGT0001")
    assert [r.local_result.counted for r in _visits(demo_services)] == [True, False, True]


def test_unknown_card_still_counted_and_item_refused(demo_services) -> None:
    flow = GuestBookFlow(demo_services, OPTIONS)
    assert flow.scan("B000101").severity == Severity.ERROR
    msg = flow.scan("AGT9999")  # not in the snapshot: welcomed without a name
    assert msg.msgid == "Selamat datang!" and flow.counted == 1


def test_visitor_form_validates_and_commits_every_field(demo_services) -> None:
    flow = GuestBookFlow(demo_services, OPTIONS)
    flow.start_guest()
    form = flow.visitors_form
    assert flow.submit_guest().msgid == "Tulis nama Anda."
    for ch in "rina wati":
        form.press(" " if ch == " " else ch.upper())
    assert flow.submit_guest().msgid == "Pilih jenis kelamin."
    form.choose("gender", Gender.FEMALE)
    form.choose("education", "S1")
    assert flow.submit_guest().msgid == "Pilih pekerjaan."
    form.choose("occupation", "Pelajar")
    form.choose("purpose", "Membaca")
    form.press("next")
    for ch in "SMAN 1":
        form.press("space" if ch == " " else ch)
    form.press("next")
    for ch in "08":
        form.press(ch)
    assert flow.submit_guest().msgid == "Nomor telepon atau email belum benar."
    for ch in "1234567890":
        form.press(ch)
    msg = flow.submit_guest()
    assert msg.severity == Severity.SUCCESS and msg.params == {"name": "Rina"}
    assert form.values == {"name": "", "institution": "", "contact": ""}  # wiped
    (row,) = _visits(demo_services)
    v = row.tx.visit
    assert row.tx.card is None and v.name == "Rina Wati" and v.gender == Gender.FEMALE
    assert (v.education, v.occupation, v.purpose) == ("S1", "Pelajar", "Membaca")
    assert (v.institution, v.contact) == ("Sman 1", "081234567890")
    assert v.window and row.local_result.counted is True


def test_group_counts_persons_by_gender(demo_services) -> None:
    flow = GuestBookFlow(demo_services, OPTIONS)
    flow.start_group()
    form = flow.group_form
    for key in ["B", "u", "space", "A", "n", "i", "next", *"081299887766", "next", *"Sdn 2"]:
        form.press("space" if key == " " else key)
    assert flow.submit_group().msgid == "Isi jumlah anggota rombongan."
    form.count(Gender.MALE, 10)
    form.count(Gender.MALE, 2)
    form.count(Gender.FEMALE, 15)
    form.count(Gender.FEMALE, -1)
    msg = flow.submit_group()
    assert msg.params == {"institution": "Sdn 2", "count": 26} and flow.counted == 26
    (row,) = _visits(demo_services, Kind.GROUP_VISIT)
    g = row.tx.group
    assert (g.leader, g.phone, g.institution, g.male, g.female) == (
        "Bu Ani",
        "081299887766",
        "Sdn 2",
        12,
        14,
    )


def test_feedback_prompt_every_nth_session() -> None:
    prompt = FeedbackPrompt(3)
    assert [prompt.session_ended() for _ in range(7)] == [
        False,
        False,
        True,
        False,
        False,
        True,
        False,
    ]
    assert not any(FeedbackPrompt(1, enabled=False).session_ended() for _ in range(3))


def test_survey_carries_no_card_and_chips_amend(demo_services) -> None:
    # a member's session first, so there is a card nearby to leak
    GuestBookFlow(demo_services, OPTIONS).scan("AGT0001")
    survey = SurveyFlow(demo_services, ("Koleksi buku", "Waktu tunggu"))
    survey.rate(4)
    assert survey.step == SurveyStep.CHIPS
    survey.toggle("Waktu tunggu")
    survey.toggle("Tidak ada")  # not offered: ignored
    survey.send()
    assert survey.step == SurveyStep.DONE
    rows = _visits(demo_services, Kind.FEEDBACK)
    assert len(rows) == 2
    for r in rows:
        assert r.tx.card is None and r.tx.guest is None and r.tx.ticket is None
        assert r.tx.visit is None and r.tx.event_id is None
        assert '"card"' not in r.tx.model_dump_json(exclude_none=True)
    assert rows[0].tx.feedback.score == 4 and rows[0].tx.feedback.chips == []
    assert rows[1].tx.feedback.chips == ["Waktu tunggu"]
    assert rows[1].tx.feedback.amends == rows[0].tx.id


def test_survey_skipped_writes_nothing(demo_services) -> None:
    survey = SurveyFlow(demo_services, ("Koleksi buku",))
    survey.skip()
    survey.start(FeedbackService.CHECKOUT)
    survey.rate(2)
    survey.send()  # no chips chosen: only the face
    rows = _visits(demo_services, Kind.FEEDBACK)
    assert [(r.tx.feedback.service, r.tx.feedback.score) for r in rows] == [
        (FeedbackService.CHECKOUT, 2)
    ]


def test_workshop_rating_offered_to_attendees_after_the_start(demo_services) -> None:
    event = next(e for e in load_events(demo_services) if e.id == 1)
    clock = Clock(event.starts_at - timedelta(minutes=10))
    door = DoorFlow(demo_services, event, clock=clock, rate_after_start=True)
    door.scan("AGT0001")
    assert not door.rate_now  # before the start: no rating
    clock.at = event.starts_at + timedelta(hours=2)
    door.scan("AGT0001")  # leaving: already signed in
    assert door.rate_now
    survey = SurveyFlow(
        demo_services, (), service=FeedbackService.EVENT, event_id=1, event_title=event.title
    )
    assert survey.message.params == {"title": event.title}
    survey.rate(5)
    (row,) = _visits(demo_services, Kind.FEEDBACK)
    assert row.tx.event_id == 1 and row.tx.card is None and survey.step == SurveyStep.DONE
