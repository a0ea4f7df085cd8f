"""Guest-book and feedback reports: what a library hands to its city and to Perpusnas.

Modelled on INLISLite's "Kunjungan Periodik": visits per day, month or year,
split into members, non-members and persons in groups, and the same split by
gender, purpose, education, occupation, kiosk (location) and hour. Only
counted visits count (a card once per counting window). Members' gender,
education and occupation are not in the guest book (the card says who they
are, the kiosk asks nothing more) and show as "tidak diketahui"; groups give
gender counts and a purpose, not education or occupation.

Every number comes from a GROUP BY over an indexed day range; days are rolled
up into months or years here (a year is at most 366 rows). The staff console
reads :func:`visits_report` and :func:`feedback_report`; the CLI writes them as
CSV or XLSX with :func:`write_csv` and :func:`write_xlsx`.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Event, Feedback, FeedbackChip, GroupVisit, Visit

Period = Literal["day", "month", "year"]
UNKNOWN = "tidak diketahui"
GENDER_WORDS = {"male": "Laki-laki", "female": "Perempuan"}
FACE_WORDS = {1: "Sangat buruk", 2: "Buruk", 3: "Biasa", 4: "Baik", 5: "Sangat baik"}
#: Report words (the city's report is in Bahasa Indonesia).
SECTION_WORDS = {
    "period": "Periode",
    "gender": "Jenis kelamin",
    "purpose": "Tujuan kunjungan",
    "education": "Pendidikan terakhir",
    "occupation": "Pekerjaan",
    "kiosk": "Lokasi (kios)",
    "hour": "Jam",
}
COUNT_HEADERS = ["Anggota", "Non-anggota", "Rombongan (orang)", "Jumlah"]


@dataclass
class Counts:
    """Members, non-members and persons in groups for one row of a report."""

    members: int = 0
    non_members: int = 0
    group_persons: int = 0

    @property
    def total(self) -> int:
        return self.members + self.non_members + self.group_persons

    def row(self) -> list[int]:
        return [self.members, self.non_members, self.group_persons, self.total]


@dataclass
class VisitReport:
    """Visits from ``start`` to ``end`` (inclusive, local days), per ``by`` period."""

    start: date
    end: date
    by: Period
    periods: dict[str, Counts] = field(default_factory=dict)
    #: section ("gender", "purpose", ...) -> label -> counts
    sections: dict[str, dict[str, Counts]] = field(default_factory=dict)

    @property
    def total(self) -> Counts:
        out = Counts()
        for c in self.periods.values():
            out.members += c.members
            out.non_members += c.non_members
            out.group_persons += c.group_persons
        return out

    def tables(self) -> list[tuple[str, list[str], list[list[object]]]]:
        """(title, header, rows) for every table of the report, totals last in each."""
        out: list[tuple[str, list[str], list[list[object]]]] = []
        for key, rows in [("period", self.periods), *self.sections.items()]:
            title = SECTION_WORDS[key]
            body: list[list[object]] = [[label, *c.row()] for label, c in rows.items()]
            body.append(["Jumlah", *self.total.row()])
            out.append((title, [title, *COUNT_HEADERS], body))
        return out


def period_of(day: date, by: Period) -> str:
    """The label of the period ``day`` falls in: ``2026-12-01``, ``2026-12`` or ``2026``."""
    if by == "day":
        return day.isoformat()
    if by == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return f"{day.year:04d}"


def visits_report(session: Session, start: date, end: date, by: Period = "day") -> VisitReport:
    """Counted visits and group persons between two local days, inclusive."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    rep = VisitReport(start, end, by)
    v_range = (Visit.day.between(start, end), Visit.counted.is_(True))
    g_range = (GroupVisit.day.between(start, end),)
    persons = GroupVisit.male + GroupVisit.female

    periods: dict[str, Counts] = defaultdict(Counts)
    for day, member, n in session.execute(
        select(Visit.day, Visit.member, func.count())
        .where(*v_range)
        .group_by(Visit.day, Visit.member)
    ):
        _add(periods[period_of(day, by)], bool(member), int(n))
    for day, n in session.execute(
        select(GroupVisit.day, func.sum(persons)).where(*g_range).group_by(GroupVisit.day)
    ):
        periods[period_of(day, by)].group_persons += int(n or 0)
    rep.periods = dict(sorted(periods.items()))

    # gender: visitors without a card by their answer, groups by their counts
    gender: dict[str, Counts] = defaultdict(Counts)
    for g, member, n in session.execute(
        select(Visit.gender, Visit.member, func.count())
        .where(*v_range)
        .group_by(Visit.gender, Visit.member)
    ):
        _add(gender[GENDER_WORDS.get(g or "", UNKNOWN)], bool(member), int(n))
    male, female = session.execute(
        select(func.sum(GroupVisit.male), func.sum(GroupVisit.female)).where(*g_range)
    ).one()
    gender[GENDER_WORDS["male"]].group_persons += int(male or 0)
    gender[GENDER_WORDS["female"]].group_persons += int(female or 0)
    rep.sections["gender"] = _ordered(gender)

    for key, col, group_col in (
        ("purpose", Visit.purpose, GroupVisit.purpose),
        ("education", Visit.education, None),
        ("occupation", Visit.occupation, None),
        ("kiosk", Visit.kiosk, GroupVisit.kiosk),
        ("hour", Visit.hour, GroupVisit.hour),
    ):
        rows: dict[str, Counts] = defaultdict(Counts)
        for value, member, n in session.execute(
            select(col, Visit.member, func.count()).where(*v_range).group_by(col, Visit.member)
        ):
            _add(rows[_label(key, value)], bool(member), int(n))
        if group_col is not None:
            for value, n in session.execute(
                select(group_col, func.sum(persons)).where(*g_range).group_by(group_col)
            ):
                rows[_label(key, value)].group_persons += int(n or 0)
        rep.sections[key] = _ordered(rows)
    return rep


def _add(c: Counts, member: bool, n: int) -> None:
    if member:
        c.members += n
    else:
        c.non_members += n


def _label(key: str, value: object) -> str:
    if value is None or value == "":
        return UNKNOWN
    if key == "hour":
        return f"{int(value):02d}.00-{int(value):02d}.59"  # type: ignore[call-overload]
    return str(value)


def _ordered(rows: dict[str, Counts]) -> dict[str, Counts]:
    """Known labels sorted, "tidak diketahui" last."""
    return dict(sorted(rows.items(), key=lambda kv: (kv[0] == UNKNOWN, kv[0])))


@dataclass
class FeedbackReport:
    """Ratings from ``start`` to ``end``: per service and per workshop, faces and chips."""

    start: date
    end: date
    #: service -> score (1-5) -> count
    faces: dict[str, dict[int, int]] = field(default_factory=dict)
    #: service -> chip -> count
    chips: dict[str, dict[str, int]] = field(default_factory=dict)
    #: (event id, title) -> score -> count
    workshops: dict[tuple[int, str], dict[int, int]] = field(default_factory=dict)

    def tables(self) -> list[tuple[str, list[str], list[list[object]]]]:
        face_header = [FACE_WORDS[s] for s in range(1, 6)]
        faces = [
            [svc, *[by.get(s, 0) for s in range(1, 6)], sum(by.values()), _mean(by)]
            for svc, by in self.faces.items()
        ]
        chips = [[svc, chip, n] for svc, by in self.chips.items() for chip, n in by.items()]
        shops = [
            [eid, title, *[by.get(s, 0) for s in range(1, 6)], sum(by.values()), _mean(by)]
            for (eid, title), by in self.workshops.items()
        ]
        return [
            ("Penilaian per layanan", ["Layanan", *face_header, "Jumlah", "Rata-rata"], faces),
            ("Yang perlu diperbaiki", ["Layanan", "Pilihan", "Jumlah"], chips),
            (
                "Penilaian lokakarya",
                ["Acara", "Judul", *face_header, "Jumlah", "Rata-rata"],
                shops,
            ),
        ]


def _mean(by: dict[int, int]) -> float:
    n = sum(by.values())
    return round(sum(s * c for s, c in by.items()) / n, 2) if n else 0.0


def feedback_report(session: Session, start: date, end: date) -> FeedbackReport:
    """Counts per face and per chip, per service and per workshop, between two local days."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    rep = FeedbackReport(start, end)
    in_range = Feedback.day.between(start, end)
    faces: dict[str, dict[int, int]] = defaultdict(dict)
    for svc, score, n in session.execute(
        select(Feedback.service, Feedback.score, func.count())
        .where(in_range)
        .group_by(Feedback.service, Feedback.score)
    ):
        faces[svc][int(score)] = int(n)
    rep.faces = dict(sorted(faces.items()))
    chips: dict[str, dict[str, int]] = defaultdict(dict)
    for svc, chip, n in session.execute(
        select(Feedback.service, FeedbackChip.chip, func.count())
        .join(FeedbackChip, FeedbackChip.feedback_id == Feedback.id)
        .where(in_range)
        .group_by(Feedback.service, FeedbackChip.chip)
    ):
        chips[svc][chip] = int(n)
    rep.chips = {
        s: dict(sorted(c.items(), key=lambda kv: -kv[1])) for s, c in sorted(chips.items())
    }
    shops: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    for eid, title, score, n in session.execute(
        select(Feedback.event_id, Event.title, Feedback.score, func.count())
        .outerjoin(Event, Event.id == Feedback.event_id)
        .where(in_range, Feedback.event_id.is_not(None))
        .group_by(Feedback.event_id, Event.title, Feedback.score)
    ):
        shops[(int(eid or 0), title or "")][int(score)] = int(n)
    rep.workshops = dict(sorted(shops.items()))
    return rep


Tables = Iterable[tuple[str, list[str], list[list[object]]]]


def write_csv(out: IO[str], heading: str, tables: Tables) -> None:
    """One CSV with a heading line, then each table under its title, a blank line between."""
    w = csv.writer(out)
    w.writerow([heading])
    for title, header, rows in tables:
        w.writerow([])
        w.writerow([title])
        w.writerow(header)
        w.writerows(rows)


def write_xlsx(path: Path, heading: str, tables: Tables) -> None:
    """One sheet per table, the heading on top of each, the header row bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = True
    for title, header, rows in tables:
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        first = False
        ws.title = title[:31]
        ws.append([heading])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(header)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "A3"
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in list(col)[1:]) + 2
            ws.column_dimensions[col[0].column_letter].width = min(max(width, 10), 50)
    wb.save(path)


def visits_heading(rep: VisitReport) -> str:
    by = {"day": "harian", "month": "bulanan", "year": "tahunan"}[rep.by]
    return f"Laporan Kunjungan Periodik ({by}) {rep.start.isoformat()} s.d. {rep.end.isoformat()}"


def feedback_heading(rep: FeedbackReport) -> str:
    return f"Laporan Penilaian Layanan {rep.start.isoformat()} s.d. {rep.end.isoformat()}"
