"""The guest book and the five-face survey in the real app under Xvfb (offline, demo data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.wire import Gender, Kind
from sync.store import LocalStore
from tests.ui.harness import run_scenario

pytestmark = pytest.mark.xvfb

WORDS = {
    "id": {
        "budi": "Selamat datang, Budi!",
        "again": "Selamat datang kembali, Budi!",
        "reading": "Membaca",
        "thanks": "Terima kasih. Selamat membaca!",
        "female": "Perempuan",
        "s1": "S1",
        "student": "Pelajar",
        "rina": "Terima kasih, Rina.",
        "group": "(12 orang) tercatat",
        "question": "Bagaimana layanan kami hari ini?",
        "collection": "Koleksi buku",
        "rated": "Terima kasih atas penilaian Anda.",
    },
    "en": {
        "budi": "Welcome, Budi!",
        "again": "Welcome back, Budi!",
        "reading": "Reading",
        "thanks": "Thank you. Happy reading!",
        "female": "Female",
        "s1": "Bachelor's degree",
        "student": "School student",
        "rina": "Thank you, Rina.",
        "group": "(12 people) recorded",
        "question": "How was our service today?",
        "collection": "Book collection",
        "rated": "Thank you for your rating.",
    },
}
OPEN_GUESTBOOK = [
    {"scan": "STF0001"},
    {"expect_screen": "staff"},
    {"pin": "9999"},
    {"tap": "guestbook_mode"},
    {"expect_screen": "guestbook"},
]


def _ok(res: dict) -> None:
    assert res["errors"] == [], "\n".join(res["errors"])


def _rows(tmp_path: Path, kind: Kind) -> list:
    store = LocalStore(tmp_path / "data" / "kiosk.sqlite3", kiosk="kiosk-ui-test")
    try:
        return [r for r in store.rows() if r.tx.kind == kind]
    finally:
        store.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_member_guest_and_group_paths(tmp_path: Path, lang: str) -> None:
    w = WORDS[lang]
    steps: list[dict] = [
        *OPEN_GUESTBOOK,
        {"touch_sizes": True},
        {"shot": f"guestbook-{lang}"},
        {"scan": "AGT0002"},
        {"expect": w["budi"]},
        {"expect": w["reading"]},
        {"touch_sizes": True},
        {"shot": f"guestbook-member-{lang}"},
        {"tap_text": w["reading"]},
        {"expect": w["thanks"]},
        {"scan": "AGT0002"},
        {"expect": w["again"]},
        # a visitor without a card
        {"tap": "as_guest"},
        *[{"call": "guestbook.key", "args": [k]} for k in "RINA"],
        {"call": "guestbook.key", "args": ["next"]},
        *[{"call": "guestbook.key", "args": [k]} for k in "SMAN"],
        {"touch_sizes": True},
        {"shot": f"guestbook-guest-{lang}"},
        {"tap": "next_page"},
        {"tap_text": w["female"]},
        {"tap_text": w["s1"]},
        {"tap_text": w["student"]},
        {"touch_sizes": True},
        {"shot": f"guestbook-guest-choices-{lang}"},
        {"tap": "submit_guest"},
        {"expect": w["rina"]},
        {"expect_not": "Sman"},
        # a group
        {"tap": "as_group"},
        *[{"call": "guestbook.key", "args": [k]} for k in ["B", "U", "space", "A", "N", "I"]],
        {"call": "guestbook.key", "args": ["next"]},
        *[{"call": "guestbook.key", "args": [k]} for k in "081299887766"],
        {"call": "guestbook.key", "args": ["next"]},
        *[{"call": "guestbook.key", "args": [k]} for k in "SDN"],
        {"tap": "male_plus10"},
        {"tap": "female_plus"},
        {"tap": "female_plus"},
        {"touch_sizes": True},
        {"shot": f"guestbook-group-{lang}"},
        {"tap": "submit_group"},
        {"expect": w["group"]},
    ]
    # no survey in between: test_survey_* covers it
    res = run_scenario(tmp_path, steps, lang=lang, extra_config="\n[feedback]\nenabled = false\n")
    _ok(res)
    assert min(v for k, v in res["metrics"].items() if k.startswith("min_touch_mm_")) >= 15.0
    visits = _rows(tmp_path, Kind.VISIT)
    assert [(r.tx.card, r.local_result.counted) for r in visits] == [
        ("AGT0002", True),
        (None, False),  # the purpose, amending the first
        ("AGT0002", False),
        (None, True),  # Rina
    ]
    assert visits[1].tx.visit.purpose == "Membaca"  # stored as configured, whatever the language
    rina = visits[3].tx.visit
    assert (rina.name, rina.gender, rina.education, rina.occupation, rina.institution) == (
        "Rina",
        Gender.FEMALE,
        "S1",
        "Pelajar",
        "Sman",
    )
    (group,) = _rows(tmp_path, Kind.GROUP_VISIT)
    assert (group.tx.group.leader, group.tx.group.male, group.tx.group.female) == ("Bu Ani", 10, 2)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_survey_after_a_guestbook_session_carries_no_card(tmp_path: Path, lang: str) -> None:
    w = WORDS[lang]
    steps: list[dict] = [
        *OPEN_GUESTBOOK,
        {"scan": "AGT0001"},
        {"tap": "skip_purpose"},
        {"expect_screen": "survey"},
        {"expect": w["question"]},
        {"touch_sizes": True},
        {"shot": f"survey-{lang}"},
        {"tap": "face_2"},
        {"expect": w["collection"]},
        {"shot": f"survey-chips-{lang}"},
        {"tap_text": w["collection"]},
        {"tap": "send_chips"},
        {"expect": w["rated"]},
        {"expect_screen": "guestbook"},
    ]
    extra = "\n[feedback]\nevery_nth_session = 1\n"
    res = run_scenario(tmp_path, steps, lang=lang, extra_config=extra)
    _ok(res)
    rows = _rows(tmp_path, Kind.FEEDBACK)
    assert [(r.tx.feedback.score, r.tx.feedback.chips) for r in rows] == [
        (2, []),
        (2, ["Koleksi buku"]),
    ]
    for r in rows:
        assert r.tx.card is None and r.tx.guest is None and r.tx.ticket is None
        assert r.tx.feedback.service == "guestbook"


def test_no_visitor_text_after_the_idle_timeout(tmp_path: Path) -> None:
    steps: list[dict] = [
        *OPEN_GUESTBOOK,
        {"tap": "as_guest"},
        *[{"call": "guestbook.key", "args": [k]} for k in "WULAN"],
        {"expect": "Wulan"},
        {"wait": 6.5},
        {"expect_screen": "guestbook"},
        {"all_texts": "after_form"},
        {"scan": "AGT0002"},
        {"expect": "Budi"},
        {"wait": 7.0},
        {"all_texts": "after_member"},
    ]
    extra = "\n[ui]\nidle_timeout_s = 5\ncountdown_s = 2\n"
    res = run_scenario(tmp_path, steps, extra_config=extra)
    _ok(res)
    for key in ("after_form", "after_member"):
        texts = " ".join(res["texts"][key])
        assert "Wulan" not in texts and "Budi" not in texts, key
    assert _rows(tmp_path, Kind.VISIT)[0].tx.card == "AGT0002"
