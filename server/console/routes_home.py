"""Sign-in, sign-out and the dashboard (*Beranda*)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from server.access import LoginRefused, refusal_pause
from server.console import charts, reports
from server.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    StaffMember,
    check_csrf,
    check_login_csrf,
    close_session,
    new_login_csrf,
    require_staff,
    safe_next,
    sign_in,
)
from server.console.i18n import N_, translations
from server.console.web import CSV, FormData, download, language, posted_form, redirect, render
from server.timeutil import local_date, utcnow

router = APIRouter()

KIND_LABELS = {
    "checkout": N_("Peminjaman"),
    "checkin": N_("Pengembalian"),
    "renew": N_("Perpanjangan"),
    "door_signin": N_("Presensi acara"),
    "event_register": N_("Pendaftaran acara"),
}
WEEKDAYS = (N_("Sen"), N_("Sel"), N_("Rab"), N_("Kam"), N_("Jum"), N_("Sab"), N_("Min"))
MAX_PERIOD_DAYS = 366


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login")
def login_form(request: Request, next: str = "/staff/") -> Response:  # noqa: A002
    token = new_login_csrf()
    response = render(request, "login.html", {"login_csrf": token, "next": safe_next(next)})
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/staff/login",
    )
    return response


@router.post("/login")
async def login(request: Request, form: FormData = Depends(posted_form)) -> Response:
    """Sign in; a refusal is answered after the same pause as the API's (see
    ``server.access.refusal_pause``), slept on the event loop."""
    response, refused = await anyio.to_thread.run_sync(_login, request, form)
    if refused is not None:
        await anyio.sleep(refusal_pause(refused))
    return response


def _login(request: Request, form: FormData) -> tuple[Response, LoginRefused | None]:
    check_login_csrf(request, str(form.get("csrf") or ""))
    name = str(form.get("name") or "").strip()[:100]
    password = str(form.get("password") or "")[:200]
    nxt = safe_next(str(form.get("next") or ""))
    refused: LoginRefused | None = None
    token = ""
    try:
        if not name or not password:
            raise LoginRefused(401, "bad_credentials", "missing name or password")
        token = sign_in(request, name, password)
    except LoginRefused as exc:
        refused = exc
    if refused is not None:
        t = translations(language(request))
        if refused.status == 429:
            text = t.gettext("Terlalu banyak percobaan yang salah. Coba lagi dalam %(n)d detik.")
            text %= {"n": refused.retry_after}
        elif refused.status == 403:
            text = t.gettext("Akun petugas ini dinonaktifkan.")
        else:
            text = t.gettext("Nama atau kata sandi salah.")
        csrf = new_login_csrf()
        response = render(
            request,
            "login.html",
            {"login_csrf": csrf, "next": nxt, "name": name, "flash": text, "flash_kind": "bad"},
            status_code=refused.status,
        )
        if refused.retry_after:
            response.headers["Retry-After"] = str(refused.retry_after)
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            csrf,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path="/staff/login",
        )
        return response, refused
    done = redirect(nxt)
    done.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/staff",
    )
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff/login")
    return done, None


@router.post("/logout")
def logout(
    request: Request,
    member: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    token = request.cookies.get(SESSION_COOKIE, "")
    close_session(request, token)
    response = redirect("/staff/login")
    response.delete_cookie(SESSION_COOKIE, path="/staff")
    return response


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    """The chosen period, the last 30 days by default, at most a year."""
    today = local_date(utcnow())
    try:
        last = date.fromisoformat(end) if end else today
    except ValueError:
        last = today
    try:
        first = date.fromisoformat(start) if start else last - timedelta(days=29)
    except ValueError:
        first = last - timedelta(days=29)
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_PERIOD_DAYS:
        first = last - timedelta(days=MAX_PERIOD_DAYS - 1)
    return first, last


def _dashboard_data(request: Request, start: str | None, end: str | None) -> dict:
    server = request.app.state.server
    first, last = _period(start, end)
    today = local_date(utcnow())
    with server.db.read() as s:
        act = reports.activity(s, first, last)
        today_counts = (
            act.per_day.get(today) if first <= today <= last else None
        ) or reports.activity(s, today, today).per_day.get(today, Counter())
        top = reports.top_titles(s, first, last)
        shops = reports.workshops(s, first, last)
        kiosks = reports.kiosk_health(s)
        conflicts = reports.open_conflicts(s)
    return {
        "first": first,
        "last": last,
        "act": act,
        "today": today,
        "today_counts": today_counts,
        "top": top,
        "workshops": shops,
        "kiosks_offline": sum(
            1 for k in kiosks if k.state in ("silent", "never") and not k.revoked
        ),
        "conflicts": conflicts,
    }


@router.get("/")
def dashboard(
    request: Request,
    start: str | None = None,
    end: str | None = None,
    _member: StaffMember = Depends(require_staff),
) -> Response:
    data = _dashboard_data(request, start, end)
    t = translations(language(request))
    act: reports.Activity = data["act"]
    days = act.days()
    kinds = [k.value for k in reports.KINDS]
    series = [
        (t.gettext(KIND_LABELS[k]), [act.per_day.get(d, Counter())[k] for d in days]) for k in kinds
    ]
    day_chart = charts.bars(
        [d.strftime("%d/%m") for d in days],
        series,
        title=t.gettext("Kegiatan per hari"),
    )
    heat = [[act.week_hours[(wd, h)] for h in range(24)] for wd in range(7)]
    heat_chart = charts.heatmap(
        [t.gettext(w) for w in WEEKDAYS],
        [f"{h:02d}" for h in range(24)],
        heat,
        title=t.gettext("Jam tersibuk dalam seminggu"),
    )
    return render(
        request,
        "dashboard.html",
        {
            **data,
            "kinds": kinds,
            "kind_labels": KIND_LABELS,
            "days": days,
            "day_chart": day_chart,
            "legend": charts.legend([name for name, _ in series]),
            "heat": heat,
            "heat_chart": heat_chart,
            "weekdays": WEEKDAYS,
        },
    )


@router.get("/dashboard.csv")
def dashboard_csv(
    request: Request,
    table: str = "days",
    start: str | None = None,
    end: str | None = None,
    _member: StaffMember = Depends(require_staff),
) -> Response:
    """Each dashboard table as CSV: ``days``, ``hours``, ``titles``, ``workshops``."""
    data = _dashboard_data(request, start, end)
    act: reports.Activity = data["act"]
    out = io.StringIO()
    w = csv.writer(out)
    kinds = [k.value for k in reports.KINDS]
    if table == "hours":
        w.writerow(["weekday", *[f"{h:02d}" for h in range(24)]])
        for wd in range(7):
            w.writerow([WEEKDAYS[wd], *[act.week_hours[(wd, h)] for h in range(24)]])
    elif table == "titles":
        w.writerow(["barcode", "title", "loans"])
        w.writerows(data["top"])
    elif table == "workshops":
        w.writerow(["event_id", "title", "starts_at", "capacity", "registered", "attended"])
        for e in data["workshops"]:
            w.writerow(
                [e.id, e.title, e.starts_at.isoformat(), e.capacity, e.registered, e.attended]
            )
    else:
        table = "days"
        w.writerow(["date", *kinds, "offline_total"])
        for d in act.days():
            counts = act.per_day.get(d, Counter())
            w.writerow([d.isoformat(), *[counts[k] for k in kinds], act.offline_per_day[d]])
        w.writerow(["offline_share", act.offline_share])
    name = f"pustaka-{table}-{data['first'].isoformat()}-{data['last'].isoformat()}.csv"
    return download(out.getvalue(), CSV, name)
