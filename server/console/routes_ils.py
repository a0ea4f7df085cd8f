"""The link to the library's own system (*Sistem Perpustakaan*): SLiMS or INLISLite.

One page says in plain words which system is the authority, whether it answers now,
when it was last pulled, how many write-backs wait (loans and guest-book visits
apart, with the oldest one's age, so staff see when the desk falls behind), which
ones it contradicted, and its last error. Staff (admins and librarians: neither
changes anything the ILS does not already hold) can pull now and check every open
loan against it; both run off the request thread (:mod:`server.console.ils_jobs`).
With ``kind = "own"`` the page says the server is its own authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from server.console.auth import StaffMember, check_csrf, require_staff
from server.console.i18n import N_, translations
from server.console.ils_jobs import HEALTH_WAIT_S, WAIT_S, HealthProbe, IlsJobs, Job
from server.console.web import FormData, language, posted_form, redirect, render
from server.ils.service import ILS_CONFLICT, IlsService
from server.models import Conflict, IlsState, IlsWriteback
from server.timeutil import as_utc, utcnow

router = APIRouter()

SYSTEM_NAMES = {"slims": "SLiMS", "inlislite": "INLISLite", "sip2": "SIP2"}
#: a queued write-back older than this means the desk does not see the kiosks' work
BEHIND_AFTER = timedelta(minutes=5)
#: differences listed on the page (the count is always the full one)
SHOWN_DIFFERENCES = 500
_ERROR_WORDS = (
    ("pull failed", N_("Penarikan data gagal")),
    ("guest-book write-back failed", N_("Tulis-balik buku tamu gagal")),
    ("write-back failed", N_("Tulis-balik peminjaman gagal")),
)


@dataclass
class Queue:
    """Write-backs waiting for the ILS, of one sort."""

    count: int = 0
    oldest: datetime | None = None

    def behind(self, now: datetime) -> bool:
        return self.oldest is not None and now - as_utc(self.oldest) > BEHIND_AFTER


def _jobs(request: Request) -> IlsJobs:
    jobs: IlsJobs = request.app.state.ils_jobs
    return jobs


def _ils(request: Request) -> IlsService | None:
    ils: IlsService | None = request.app.state.server.ils
    return ils


def ago(t: Any, then: datetime | None, now: datetime) -> str:
    """How long ago, in the coarsest unit that says it: "12 menit lalu"."""
    if then is None:
        return ""
    s = max(0, int((now - as_utc(then)).total_seconds()))
    if s < 60:
        return str(t.gettext("%(n)s detik lalu") % {"n": s})
    if s < 3600:
        return str(t.gettext("%(n)s menit lalu") % {"n": s // 60})
    if s < 2 * 86400:
        return str(t.gettext("%(n)s jam lalu") % {"n": s // 3600})
    return str(t.gettext("%(n)s hari lalu") % {"n": s // 86400})


def every(t: Any, seconds: float) -> str:
    """A pull interval in the unit staff think in: "60 detik", "15 menit", "2 jam"."""
    s = round(seconds)
    if s < 120 or s % 60:
        return str(t.gettext("%(n)s detik") % {"n": s})
    if s < 7200 or s % 3600:
        return str(t.gettext("%(n)s menit") % {"n": s // 60})
    return str(t.gettext("%(n)s jam") % {"n": s // 3600})


def _queues(request: Request) -> tuple[Queue, Queue, int, int]:
    """Queued loan and guest-book write-backs, write-backs the ILS contradicted, and
    how many of the conflicts they made are still open."""
    loans, visits = Queue(), Queue()
    with request.app.state.server.db.read() as s:
        for what, n, oldest in s.execute(
            select(IlsWriteback.what, func.count(), func.min(IlsWriteback.created_at))
            .where(IlsWriteback.state == "pending")
            .group_by(IlsWriteback.what)
        ):
            q = loans if what == "item" else visits
            q.count += int(n)
            if oldest is not None and (q.oldest is None or as_utc(oldest) < as_utc(q.oldest)):
                q.oldest = oldest
        contradicted = s.scalar(
            select(func.count()).where(IlsWriteback.state == "conflict")
        )  # fmt: skip
        open_conflicts = s.scalar(
            select(func.count())
            .select_from(Conflict)
            .where(Conflict.reason == ILS_CONFLICT, Conflict.resolved_at.is_(None))
        )
    return loans, visits, int(contradicted or 0), int(open_conflicts or 0)


def _state(request: Request, kind: str) -> IlsState | None:
    with request.app.state.server.db.read() as s:
        row = s.get(IlsState, kind)
        if row is not None:
            s.expunge(row)
        return row


def _error_words(message: str) -> str:
    for prefix, words in _ERROR_WORDS:
        if message.startswith(prefix):
            return words
    return N_("Galat")


def _iso_day(value: str | None) -> date | str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return value  # shown as the ILS wrote it


def _differences(check: Job | None) -> list[tuple[str, str, Any, Any]]:
    """The first differences of the last finished check, with dates to show."""
    if check is None or check.running or not check.result:
        return []
    return [
        (d.item, d.card, _iso_day(d.ils_due), _iso_day(d.our_due))
        for d in check.result[:SHOWN_DIFFERENCES]
    ]


def _where(url: str) -> str:
    """The ILS database's address for admins: host and database, never the password."""
    try:
        u = make_url(url)
    except Exception:  # a URL that does not parse still names nothing secret here
        return "?"
    host = u.host or "localhost"
    port = f":{u.port}" if u.port else ""
    return f"{u.drivername}://{u.username or ''}@{host}{port}/{u.database or ''}"


@router.get("/ils")
def ils_page(request: Request, member: StaffMember = Depends(require_staff)) -> Response:
    server = request.app.state.server
    ils = _ils(request)
    if ils is None:
        return render(request, "ils.html", {"own": True})
    t = translations(language(request))
    now = utcnow()
    kind = ils.connector.kind
    probe: HealthProbe = request.app.state.ils_health
    answer = probe.ask(ils.connector.health)
    state = _state(request, kind)
    loans, visits, contradicted, open_conflicts = _queues(request)
    pull, check = _jobs(request).last("pull"), _jobs(request).last("check")
    settings = server.settings.ils
    last_error = (state.last_error if state else None) or ""
    return render(
        request,
        "ils.html",
        {
            "own": False,
            "system": SYSTEM_NAMES.get(kind, kind),
            "answer": answer,
            "health_wait_s": HEALTH_WAIT_S,
            "state": state,
            "pulled_ago": ago(t, state.last_pull_at if state else None, now),
            "loans": loans,
            "visits": visits,
            "loans_ago": ago(t, loans.oldest, now),
            "visits_ago": ago(t, visits.oldest, now),
            "loans_behind": loans.behind(now),
            "visits_behind": visits.behind(now),
            "contradicted": contradicted,
            "open_conflicts": open_conflicts,
            "conflict_reason": ILS_CONFLICT,
            "last_error": last_error,
            "last_error_words": _error_words(last_error) if last_error else "",
            "error_ago": ago(t, state.last_error_at if state else None, now),
            "error_since_pulled": bool(
                state
                and state.last_error_at
                and state.last_pull_at
                and as_utc(state.last_pull_at) > as_utc(state.last_error_at)
            ),
            "pull": pull,
            "pull_ago": ago(t, pull.finished_at, now) if pull else "",
            "check": check,
            "check_ago": ago(t, check.finished_at, now) if check else "",
            "shown": SHOWN_DIFFERENCES,
            "differences": _differences(check),
            "running": bool((pull and pull.running) or (check and check.running)),
            "wait_s": WAIT_S,
            "interval": every(t, settings.pull_interval_s),
            "background": settings.background,
            "where": _where(settings.url) if member.admin else "",
        },
    )


def _start(request: Request, member: StaffMember, form: FormData, what: str) -> Job | None:
    check_csrf(request, str(form.get("csrf") or ""))
    ils = _ils(request)
    if ils is None:
        return None
    if what == "pull":
        full = form.get("full") == "1"
        return _jobs(request).run("pull", member.name, lambda: ils.pull(full=full))
    return _jobs(request).run("check", member.name, ils.differences)


@router.post("/ils/pull")
def pull_now(
    request: Request,
    member: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    """Pull what changed in the ILS now (everything with ``full=1``)."""
    _start(request, member, form, "pull")
    return redirect("/staff/ils#pull")


@router.post("/ils/check")
def check_now(
    request: Request,
    member: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    """Compare every open loan in the ILS with the server's."""
    _start(request, member, form, "check")
    return redirect("/staff/ils#check")
