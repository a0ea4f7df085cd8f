"""The guest book (*Buku Tamu*) page: visits and ratings for a period, with downloads.

The tables are the city's report (``server.visit_reports``, modelled on INLISLite's
"Kunjungan Periodik"), in Bahasa Indonesia as it is handed in; the charts above them
(visits per period, by category, by hour) carry no number that is not in a table.
"""

from __future__ import annotations

import io
import tempfile
from datetime import date, timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from server.console import charts
from server.console.auth import StaffMember, require_staff
from server.console.i18n import translations
from server.console.web import CSV, XLSX, download, language, render
from server.timeutil import local_date, utcnow
from server.visit_reports import (
    FACE_WORDS,
    Period,
    feedback_heading,
    feedback_report,
    visits_heading,
    visits_report,
    write_csv,
    write_xlsx,
)

router = APIRouter()
MAX_DAYS = 366 * 3


def _period(start: str | None, end: str | None, by: str | None) -> tuple[date, date, Period]:
    today = local_date(utcnow())
    try:
        last = date.fromisoformat(end) if end else today
    except ValueError:
        last = today
    try:
        first = date.fromisoformat(start) if start else last.replace(day=1)
    except ValueError:
        first = last.replace(day=1)
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(days=MAX_DAYS))
    period: Period = by if by in ("day", "month", "year") else "day"  # type: ignore[assignment]
    return first, last, period


@router.get("/guestbook")
def guestbook(
    request: Request,
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
    _m: StaffMember = Depends(require_staff),
) -> Response:
    first, last, period = _period(start, end, by)
    with request.app.state.server.db.read() as s:
        visits = visits_report(s, first, last, period)
        ratings = feedback_report(s, first, last)
    t = translations(language(request))
    labels = list(visits.periods)
    per_period = charts.bars(
        [label[5:] if period == "day" else label for label in labels],
        [
            (t.gettext("Anggota"), [c.members for c in visits.periods.values()]),
            (t.gettext("Non-anggota"), [c.non_members for c in visits.periods.values()]),
            (t.gettext("Rombongan (orang)"), [c.group_persons for c in visits.periods.values()]),
        ],
        title=t.gettext("Kunjungan per periode"),
    )
    hours = visits.sections.get("hour", {})
    by_hour = charts.bars(
        list(hours),
        [(t.gettext("Pengunjung"), [c.total for c in hours.values()])],
        title=t.gettext("Kunjungan per jam"),
        height=180,
    )
    purposes = visits.sections.get("purpose", {})
    by_purpose = charts.bars(
        list(purposes),
        [(t.gettext("Pengunjung"), [c.total for c in purposes.values()])],
        title=t.gettext("Kunjungan per tujuan"),
        height=180,
    )
    return render(
        request,
        "guestbook.html",
        {
            "first": first,
            "last": last,
            "by": period,
            "visits": visits,
            "ratings": ratings,
            "per_period": per_period,
            "legend": charts.legend(
                [t.gettext("Anggota"), t.gettext("Non-anggota"), t.gettext("Rombongan (orang)")]
            ),
            "by_hour": by_hour,
            "by_purpose": by_purpose,
            "faces": FACE_WORDS,
        },
    )


@router.get("/guestbook/{what}.{fmt}")
def guestbook_download(
    request: Request,
    what: str,
    fmt: str,
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
    _m: StaffMember = Depends(require_staff),
) -> Response:
    """``visits`` or ``feedback`` as ``csv`` or ``xlsx``, the files ``kiosk-server report``
    writes."""
    if what not in ("visits", "feedback") or fmt not in ("csv", "xlsx"):
        return Response(status_code=404)
    first, last, period = _period(start, end, by)
    with request.app.state.server.db.read() as s:
        if what == "visits":
            rep = visits_report(s, first, last, period)
            heading, tables = visits_heading(rep), rep.tables()
        else:
            frep = feedback_report(s, first, last)
            heading, tables = feedback_heading(frep), frep.tables()
    name = f"{'kunjungan' if what == 'visits' else 'penilaian'}-{first}-{last}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        write_csv(out, heading, tables)
        body: bytes = out.getvalue().encode("utf-8")
        media = CSV
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            write_xlsx(path, heading, tables)
            body = path.read_bytes()
        media = XLSX
    return download(body, media, name)
