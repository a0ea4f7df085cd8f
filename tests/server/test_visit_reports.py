"""The visits and feedback reports, checked against a recomputation of generated visits."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from server.cli import main as server_main
from server.timeutil import WIB
from server.visit_reports import feedback_report, visits_report
from tests.server.helpers import post, tx, wib

PURPOSES = ["Membaca", "Internet", None]
EDUCATION = ["SD", "SMA/SMK", "S1"]
YEAR = 2025


def _generate(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Visits over November and December 2025 at two kiosks: members (some scanned
    again the same day), visitors without a card, groups; and the ratings. All in the
    past: the server clamps (and flags) event times ahead of its clock."""
    visits: list[dict] = []
    for _ in range(260):
        day = date(YEAR, 11, 1) + timedelta(days=rng.randrange(61))
        at = wib(day.day, rng.randrange(8, 20), rng.randrange(60), day.month, day.year)
        kiosk = rng.choice(["kiosk-a", "kiosk-b"])
        window = day.isoformat()
        r = rng.random()
        if r < 0.6:
            card = f"AGT{rng.randrange(1, 15):04d}"
            visits.append(tx("visit", kiosk, at, offline=True, card=card,
                             visit={"window": window}))  # fmt: skip
            purpose = rng.choice(PURPOSES)
            if purpose:
                amend = {"purpose": purpose, "amends": visits[-1]["id"]}
                visits.append(tx("visit", kiosk, at + timedelta(seconds=5), offline=True,
                                 visit=amend))  # fmt: skip
        elif r < 0.9:
            visits.append(tx("visit", kiosk, at, offline=True, visit={
                "name": "Tamu", "gender": rng.choice(["male", "female"]),
                "education": rng.choice(EDUCATION), "occupation": "Pelajar",
                "purpose": rng.choice(PURPOSES), "window": window}))  # fmt: skip
        else:
            visits.append(tx("group_visit", kiosk, at, offline=True, group={
                "leader": "Bu Guru", "phone": "08123456789", "institution": "SDN 1",
                "male": rng.randrange(0, 20), "female": rng.randrange(1, 20),
                "purpose": rng.choice(PURPOSES)}))  # fmt: skip
    ratings: list[dict] = []
    for _ in range(60):
        at = wib(rng.randrange(1, 31), 10, year=YEAR)
        fb = {"service": rng.choice(["checkout", "guestbook"]), "score": rng.randrange(1, 6)}
        ratings.append(tx("feedback", "kiosk-a", at, offline=True, feedback=fb))
        if rng.random() < 0.5:
            ratings.append(tx("feedback", "kiosk-a", at + timedelta(seconds=3), offline=True,
                              feedback={**fb, "chips": ["Koleksi buku"],
                                        "amends": ratings[-1]["id"]}))  # fmt: skip
    ratings.append(tx("feedback", "kiosk-b", wib(5, 12, year=YEAR), offline=True, event_id=1,
                      feedback={"service": "event", "score": 5}))  # fmt: skip
    return visits, ratings


def _local(at: str) -> tuple[date, int]:
    from datetime import datetime

    t = datetime.fromisoformat(at).astimezone(WIB)
    return t.date(), t.hour


def _expected(visits: list[dict], start: date, end: date) -> dict:
    """The report's numbers, recomputed from the generated transactions in the order
    the server received them (a card's first visit to arrive in a day is the one
    counted, with its purpose)."""
    periods: Counter = Counter()
    by_gender: Counter = Counter()
    by_purpose: Counter = Counter()
    by_kiosk: Counter = Counter()
    seen: set[tuple[str, str]] = set()
    purpose_of = {v["visit"]["amends"]: v["visit"]["purpose"] for v in visits
                  if v["kind"] == "visit" and v["visit"].get("amends")}  # fmt: skip
    for v in visits:
        day, _hour = _local(v["at"])
        if not start <= day <= end:
            continue
        month = f"{day.year}-{day.month:02d}"
        if v["kind"] == "group_visit":
            g = v["group"]
            n = g["male"] + g["female"]
            periods[(month, "group")] += n
            by_gender[("Laki-laki", "group")] += g["male"]
            by_gender[("Perempuan", "group")] += g["female"]
            by_purpose[(g.get("purpose") or "tidak diketahui", "group")] += n
            by_kiosk[(v["kiosk"], "group")] += n
            continue
        visit = v["visit"]
        if visit.get("amends"):
            continue
        if "card" in v:
            key = (v["card"], visit["window"])
            if key in seen:
                continue
            seen.add(key)
            who, gender, purpose = "member", "tidak diketahui", purpose_of.get(v["id"])
        else:
            who, gender = "guest", {"male": "Laki-laki", "female": "Perempuan"}[visit["gender"]]
            purpose = visit.get("purpose")
        periods[(month, who)] += 1
        by_gender[(gender, who)] += 1
        by_purpose[(purpose or "tidak diketahui", who)] += 1
        by_kiosk[(v["kiosk"], who)] += 1
    return {"periods": periods, "gender": by_gender, "purpose": by_purpose, "kiosk": by_kiosk}


def _as_counter(rows: dict) -> Counter:
    out: Counter = Counter()
    for label, c in rows.items():
        for who, n in (("member", c.members), ("guest", c.non_members), ("group", c.group_persons)):
            if n:
                out[(label, who)] = n
    return out


@pytest.mark.timeout(300)
def test_visits_report_matches_a_recomputation(client, demo, kiosk_a, kiosk_b) -> None:
    rng = random.Random(20)
    visits, ratings = _generate(rng)
    # Each kiosk sends its own transactions in order; the two kiosks' batches
    # interleave at random, so a card's visits at both arrive in either order.
    streams = {
        k: sorted((v for v in visits if v["kiosk"] == k), key=lambda v: v["at"])
        for k in ("kiosk-a", "kiosk-b")
    }
    headers = {"kiosk-a": kiosk_a, "kiosk-b": kiosk_b}
    arrived: list[dict] = []
    while any(streams.values()):
        kiosk = rng.choice([k for k, rest in streams.items() if rest])
        batch, streams[kiosk] = streams[kiosk][:20], streams[kiosk][20:]
        results = post(client, headers[kiosk], *batch)
        assert [r["status"] for r in results] == ["accepted"] * len(batch)
        arrived += batch
    visits = arrived
    post(client, kiosk_a, *[r for r in ratings if r["kiosk"] == "kiosk-a"])
    post(client, kiosk_b, *[r for r in ratings if r["kiosk"] == "kiosk-b"])
    start, end = date(YEAR, 11, 1), date(YEAR, 12, 31)
    want = _expected(visits, start, end)
    with demo.db.read() as s:
        rep = visits_report(s, start, end, "month")
        fb = feedback_report(s, start, end)
    assert _as_counter(rep.periods) == want["periods"]
    assert _as_counter(rep.sections["gender"]) == want["gender"]
    assert _as_counter(rep.sections["purpose"]) == want["purpose"]
    assert _as_counter(rep.sections["kiosk"]) == want["kiosk"]
    assert rep.total.total == sum(want["periods"].values())
    assert sum(c.total for c in rep.sections["hour"].values()) == rep.total.total
    faces = Counter((r["feedback"]["service"], r["feedback"]["score"]) for r in ratings
                    if not r["feedback"].get("amends"))  # fmt: skip
    got = Counter({(svc, s): n for svc, by in fb.faces.items() for s, n in by.items()})
    assert got == faces
    amended = sum(1 for r in ratings if r["feedback"].get("amends"))
    assert sum(n for by in fb.chips.values() for n in by.values()) == amended
    assert list(fb.workshops.values()) == [{5: 1}]
    assert list(fb.workshops)[0][1] == "Lokakarya Menulis Cerpen"


def test_report_cli_csv_and_xlsx(client, demo, kiosk_a, tmp_path, capsys) -> None:
    post(
        client,
        kiosk_a,
        tx("visit", "kiosk-a", wib(2, 9), offline=True, card="AGT0001",
           visit={"window": "2026-11-02"}),
        tx("visit", "kiosk-a", wib(2, 10), offline=True,
           visit={"name": "Rina", "gender": "female", "window": "2026-11-02"}),
    )  # fmt: skip
    db = ["--db", demo.db.url, "--data-dir", str(tmp_path / "data")]
    args = ["report", "visits", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "month"]
    assert server_main([*db, *args]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][0].startswith("Laporan Kunjungan Periodik (bulanan) 2026-11-01")
    assert ["2026-11", "1", "1", "0", "2"] in rows
    out = tmp_path / "visits.xlsx"
    assert server_main([*db, *args, "--format", "xlsx", "-o", str(out)]) == 0
    wb = load_workbook(out)
    assert wb.sheetnames[:3] == ["Periode", "Jenis kelamin", "Tujuan kunjungan"]
    sheet = wb["Periode"]
    assert [c.value for c in sheet[3]] == ["2026-11", 1, 1, 0, 2]
    assert server_main([*db, "report", "feedback", "--from", "2026-11-01", "--to",
                        "2026-11-30"]) == 0  # fmt: skip
    assert "Penilaian per layanan" in capsys.readouterr().out
    # bad input: one clear line, no traceback
    assert server_main([*db, "report", "visits", "--from", "2026-11-30", "--to",
                        "2026-11-01"]) != 0  # fmt: skip
    assert "before --from" in capsys.readouterr().err
    assert server_main([*db, *args, "--format", "xlsx"]) != 0
    assert "needs --output" in capsys.readouterr().err
