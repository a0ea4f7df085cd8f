"""Workshops and events (*Acara*): list, create, edit, copy, cancel; registrations,
attendance, exports (CSV, XLSX) and the printable door list.

An event row changed here gets the write's change number, so every kiosk receives
it at its next snapshot delta. Registrations and attendance are the ledger's: what
staff do to them here is a transaction from the console, applied by the same rules
as a kiosk's (capacity, waitlist, replay in event-time order).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select

from core.wire import Guest, Kind, Reason, Status
from server.console import ledger
from server.console.auth import StaffMember, check_csrf, require_staff
from server.console.i18n import N_, translations
from server.console.web import (
    CSV,
    XLSX,
    FormData,
    download,
    error_page,
    language,
    posted_form,
    redirect,
    render,
)
from server.models import Event, Feedback, Patron, Registration
from server.queries import event_views
from server.text import storable
from server.timeutil import WIB, as_utc, utcnow
from server.visit_reports import FACE_WORDS

router = APIRouter()

FLASH = {
    "created": N_("Acara dibuat. Kios menerimanya pada sinkron berikutnya."),
    "saved": N_("Perubahan disimpan. Kios menerimanya pada sinkron berikutnya."),
    "cancelled": N_("Acara dibatalkan. Kios tidak lagi menawarkannya."),
    "restored": N_("Acara dibuka kembali."),
}
#: the five faces' words (data in ``server.visit_reports``), here so the catalog has them
FACE_MSGIDS = (N_("Sangat buruk"), N_("Buruk"), N_("Biasa"), N_("Baik"), N_("Sangat baik"))
EXPORT_COLUMNS = (
    N_("No"),
    N_("Nama"),
    N_("Kartu"),
    N_("Instansi"),
    N_("Kontak"),
    N_("Status"),
    N_("Waktu daftar"),
    N_("Waktu hadir"),
    N_("Kios"),
    N_("Kode tiket"),
)


@dataclass
class EventForm:
    """The event form's fields as typed, with the problems found in them."""

    title: str = ""
    description: str = ""
    place: str = ""
    starts_at: str = ""
    ends_at: str = ""
    capacity: str = "30"
    waitlist: bool = False
    registration_opens_at: str = ""
    registration_closes_at: str = ""
    problems: dict[str, str] | None = None

    @classmethod
    def of(cls, e: Event, *, copy: bool = False) -> EventForm:
        return cls(
            title=e.title,
            description=e.description,
            place=e.place,
            starts_at="" if copy else _field_time(e.starts_at),
            ends_at="" if copy else _field_time(e.ends_at),
            capacity=str(e.capacity),
            waitlist=e.waitlist,
            registration_opens_at="" if copy else _field_time(e.registration_opens_at),
            registration_closes_at="" if copy else _field_time(e.registration_closes_at),
        )


def _field_time(value: datetime | None) -> str:
    return "" if value is None else as_utc(value).astimezone(WIB).strftime("%Y-%m-%dT%H:%M")


def _parse_time(text: str) -> datetime | None:
    """A ``datetime-local`` value, taken as the library's time (WIB)."""
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def _read_form(form: Any) -> tuple[EventForm, dict[str, Any] | None]:
    """The typed form and, when it is valid, the values for the event row."""
    f = EventForm(
        title=str(form.get("title") or "").strip(),
        description=str(form.get("description") or "").strip(),
        place=str(form.get("place") or "").strip(),
        starts_at=str(form.get("starts_at") or ""),
        ends_at=str(form.get("ends_at") or ""),
        capacity=str(form.get("capacity") or "").strip(),
        waitlist=form.get("waitlist") == "on",
        registration_opens_at=str(form.get("registration_opens_at") or ""),
        registration_closes_at=str(form.get("registration_closes_at") or ""),
    )
    problems: dict[str, str] = {}
    if not f.title or len(f.title) > 200:
        problems["title"] = N_("Isi judul (paling banyak 200 huruf).")
    if len(f.place) > 200:
        problems["place"] = N_("Tempat paling banyak 200 huruf.")
    if len(f.description) > 5000:
        problems["description"] = N_("Deskripsi paling banyak 5000 huruf.")
    for name in ("title", "place", "description"):
        if not storable(getattr(f, name)):
            problems[name] = N_("Teks ini memuat karakter yang tidak dapat disimpan.")
    times: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        try:
            times[name] = _parse_time(getattr(f, name))
        except ValueError:
            problems[name] = N_("Tanggal dan jam tidak terbaca.")
    if "starts_at" not in problems and times.get("starts_at") is None:
        problems["starts_at"] = N_("Isi waktu mulai.")
    if "ends_at" not in problems and times.get("ends_at") is None:
        problems["ends_at"] = N_("Isi waktu selesai.")
    start, end = times.get("starts_at"), times.get("ends_at")
    if start and end and end <= start:
        problems["ends_at"] = N_("Waktu selesai harus sesudah waktu mulai.")
    opens, closes = times.get("registration_opens_at"), times.get("registration_closes_at")
    if opens and closes and closes <= opens:
        problems["registration_closes_at"] = N_("Pendaftaran harus ditutup sesudah dibuka.")
    try:
        capacity = int(f.capacity)
        if not 1 <= capacity <= 100_000:
            raise ValueError
    except ValueError:
        problems["capacity"] = N_("Kapasitas adalah bilangan bulat 1 sampai 100.000.")
        capacity = 0
    if problems:
        f.problems = problems
        return f, None
    return f, {
        "title": f.title,
        "description": f.description,
        "place": f.place,
        "starts_at": start,
        "ends_at": end,
        "capacity": capacity,
        "waitlist": f.waitlist,
        "registration_opens_at": opens,
        "registration_closes_at": closes,
    }


def _flash(request: Request, moved: str | None = None) -> dict[str, str]:
    """The message for ``?done=`` (codes only: no text travels in the URL)."""
    key = request.query_params.get("done", "")
    t = translations(language(request))
    if key == "refused":
        why = request.query_params.get("reason", "")
        msgid = ledger.REASONS.get(Reason(why)) if why in Reason.__members__.values() else None
        return {
            "flash": t.gettext(msgid or "Permintaan ditolak oleh server."),
            "flash_kind": "bad",
        }
    if key == "missing":
        return {"flash": t.gettext("Isi nomor kartu atau nama tamu."), "flash_kind": "bad"}
    messages = {**FLASH, **REG_FLASH}
    if key not in messages:
        return {}
    text = t.gettext(messages[key])
    if moved:
        text += " " + t.gettext("%(name)s naik dari daftar tunggu.") % {"name": moved}
    return {"flash": text}


@router.get("/events")
def events(
    request: Request, q: str = "", show: str = "upcoming", _m: StaffMember = Depends(require_staff)
) -> Response:
    server = request.app.state.server
    now = utcnow()
    with server.db.read() as s:
        query = select(Event)
        if show == "past":
            query = query.where(Event.ends_at < now).order_by(Event.starts_at.desc())
        else:
            show = "upcoming"
            query = query.where(Event.ends_at >= now).order_by(Event.starts_at)
        if q.strip():
            like = f"%{q.strip()[:100]}%"
            query = query.where(or_(Event.title.ilike(like), Event.place.ilike(like)))
        views = event_views(s, s.scalars(query.limit(200)))
    return render(
        request, "events.html", {"events": views, "q": q, "show": show, **_flash(request)}
    )


@router.get("/events/new")
def new_event(
    request: Request, copy: int | None = None, _m: StaffMember = Depends(require_staff)
) -> Response:
    form = EventForm()
    if copy is not None:
        with request.app.state.server.db.read() as s:
            source = s.get(Event, copy) if 0 < copy < 2**31 else None
            if source is not None:
                form = EventForm.of(source, copy=True)
    return render(request, "event_form.html", {"form": form, "event": None})


@router.post("/events/new")
def create_event(
    request: Request,
    _m: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    typed, values = _read_form(form)
    if values is None:
        return render(request, "event_form.html", {"form": typed, "event": None}, status_code=422)
    with request.app.state.server.db.write() as (s, version):
        event = Event(**values, version=version)
        s.add(event)
        s.flush()
        event_id = event.id
    return redirect(f"/staff/events/{event_id}?done=created")


def _event_or_404(s: Any, event_id: int) -> Event | None:
    return s.get(Event, event_id) if 0 < event_id < 2**31 else None


@router.get("/events/{event_id}/edit")
def edit_event(
    request: Request, event_id: int, _m: StaffMember = Depends(require_staff)
) -> Response:
    with request.app.state.server.db.read() as s:
        event = _event_or_404(s, event_id)
        if event is None:
            return _not_found(request)
        return render(request, "event_form.html", {"form": EventForm.of(event), "event": event})


@router.post("/events/{event_id}/edit")
def save_event(
    request: Request,
    event_id: int,
    _m: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    typed, values = _read_form(form)
    with request.app.state.server.db.write() as (s, version):
        event = _event_or_404(s, event_id)
        if event is None:
            return _not_found(request)
        if values is None:
            return render(
                request, "event_form.html", {"form": typed, "event": event}, status_code=422
            )
        for key, value in values.items():
            setattr(event, key, value)
        event.version = version
    return redirect(f"/staff/events/{event_id}?done=saved")


@router.post("/events/{event_id}/cancel")
def cancel_event(
    request: Request,
    event_id: int,
    _m: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    restore = form.get("restore") == "1"
    with request.app.state.server.db.write() as (s, version):
        event = _event_or_404(s, event_id)
        if event is None:
            return _not_found(request)
        event.cancelled_at = None if restore else utcnow()
        event.version = version
    return redirect(f"/staff/events/{event_id}?done={'restored' if restore else 'cancelled'}")


def _not_found(request: Request) -> Response:
    return error_page(request, N_("Acara tidak ditemukan."), 404)


@dataclass(frozen=True)
class RegistrationRow:
    """One registration as the event page and the exports show it."""

    number: int
    ticket_code: str
    name: str
    card: str | None
    institution: str
    contact: str
    waitlisted: bool
    registered_at: datetime
    signed_in_at: datetime | None
    signed_in_kiosk: str | None


def registration_rows(s: Any, event_id: int, q: str = "") -> list[RegistrationRow]:
    """Every live registration of an event, seated first, in sign-up order."""
    query = (
        select(Registration, Patron.name, Patron.phone, Patron.email)
        .join(Patron, Patron.card == Registration.card, isouter=True)
        .where(Registration.event_id == event_id, Registration.deleted.is_(False))
        .order_by(Registration.waitlisted, Registration.registered_at, Registration.id)
    )
    rows = []
    needle = q.strip().casefold()[:100]
    for i, (r, pname, pphone, pemail) in enumerate(s.execute(query), start=1):
        name = pname or r.guest_name or "—"
        contact = r.guest_phone or r.guest_email or pphone or pemail or ""
        row = RegistrationRow(
            i,
            r.ticket_code,
            name,
            r.card,
            r.guest_institution or "",
            contact,
            r.waitlisted,
            r.registered_at,
            r.signed_in_at,
            r.signed_in_kiosk,
        )
        if needle and not any(
            needle in (v or "").casefold()
            for v in (row.name, row.card, row.institution, row.contact, row.ticket_code)
        ):
            continue
        rows.append(row)
    return rows


@router.get("/events/{event_id}")
def event_page(
    request: Request, event_id: int, q: str = "", _m: StaffMember = Depends(require_staff)
) -> Response:
    with request.app.state.server.db.read() as s:
        event = _event_or_404(s, event_id)
        if event is None:
            return _not_found(request)
        view = event_views(s, [event])[0]
        rows = registration_rows(s, event_id, q)
        ratings = {
            int(score): int(n)
            for score, n in s.execute(
                select(Feedback.score, func.count())
                .where(Feedback.event_id == event_id)
                .group_by(Feedback.score)
            )
        }
        moved_code = request.query_params.get("moved", "")[:32]
        moved = (
            next(
                (r.name for r in registration_rows(s, event_id) if r.ticket_code == moved_code),
                None,
            )
            if moved_code
            else None
        )
    return render(
        request,
        "event.html",
        {
            "event": view,
            "rows": rows,
            "q": q,
            "now": utcnow(),
            "ratings": ratings,
            "rating_count": sum(ratings.values()),
            "rating_mean": (
                sum(k * v for k, v in ratings.items()) / sum(ratings.values()) if ratings else 0
            ),
            "faces": FACE_WORDS,
            **_flash(request, moved),
        },
    )


def _export_values(t: Any, r: RegistrationRow) -> list[Any]:
    status = t.gettext("Daftar tunggu") if r.waitlisted else t.gettext("Terdaftar")
    if r.signed_in_at is not None:
        status = t.gettext("Hadir")
    fmt = "%Y-%m-%d %H:%M"
    return [
        r.number,
        r.name,
        r.card or "",
        r.institution,
        r.contact,
        status,
        as_utc(r.registered_at).astimezone(WIB).strftime(fmt),
        as_utc(r.signed_in_at).astimezone(WIB).strftime(fmt) if r.signed_in_at else "",
        r.signed_in_kiosk or "",
        r.ticket_code,
    ]


def _export(request: Request, event_id: int) -> tuple[Event, list[RegistrationRow]] | None:
    with request.app.state.server.db.read() as s:
        event = _event_or_404(s, event_id)
        if event is None:
            return None
        s.expunge(event)
        return event, registration_rows(s, event_id)


@router.get("/events/{event_id}/attendance.csv")
def attendance_csv(
    request: Request, event_id: int, _m: StaffMember = Depends(require_staff)
) -> Response:
    found = _export(request, event_id)
    if found is None:
        return _not_found(request)
    event, rows = found
    t = translations(language(request))
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs read UTF-8 names right with the BOM
    w = csv.writer(out)
    w.writerow([t.gettext(c) for c in EXPORT_COLUMNS])
    for r in rows:
        w.writerow(_export_values(t, r))
    return download(out.getvalue(), CSV, f"kehadiran-acara-{event.id}.csv")


@router.get("/events/{event_id}/attendance.xlsx")
def attendance_xlsx(
    request: Request, event_id: int, _m: StaffMember = Depends(require_staff)
) -> Response:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    found = _export(request, event_id)
    if found is None:
        return _not_found(request)
    event, rows = found
    t = translations(language(request))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t.gettext("Kehadiran")[:31])
    ws.append([event.title])
    ws.append([f"{_field_time(event.starts_at).replace('T', ' ')} · {event.place}"])
    ws.append([])
    header = []
    for c in EXPORT_COLUMNS:
        cell = WriteOnlyCell(ws, value=t.gettext(c))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for r in rows:
        ws.append(_export_values(t, r))
    out = io.BytesIO()
    wb.save(out)
    return download(out.getvalue(), XLSX, f"kehadiran-acara-{event.id}.xlsx")


@router.get("/events/{event_id}/door-list")
def door_list(
    request: Request, event_id: int, _m: StaffMember = Depends(require_staff)
) -> Response:
    found = _export(request, event_id)
    if found is None:
        return _not_found(request)
    event, rows = found
    return render(request, "door_list.html", {"event": event, "rows": rows})


# -- registrations by hand ---------------------------------------------------------------

REG_FLASH = {
    "registered": N_("Terdaftar."),
    "waitlisted": N_("Acara penuh: masuk daftar tunggu."),
    "attended": N_("Tercatat hadir."),
    "cancelled_reg": N_("Pendaftaran dibatalkan."),
}


def _after(event_id: int, done: str, **extra: str) -> Response:
    url = f"/staff/events/{event_id}?done={done}"
    for key, value in extra.items():
        url += f"&{key}={quote(value)}"
    return redirect(url)


def _refused(event_id: int, reason: Reason | None) -> Response:
    return _after(event_id, "refused", reason=reason.value if reason else "")


@router.post("/events/{event_id}/registrations")
def add_registration(
    request: Request,
    event_id: int,
    member: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    card = str(form.get("card") or "").strip()[:64]
    name = str(form.get("guest_name") or "").strip()[:200]
    fields: dict[str, Any] = {"event_id": event_id}
    if card:
        fields["card"] = card
    elif name:
        phone = str(form.get("guest_phone") or "").strip()[:40] or None
        institution = str(form.get("guest_institution") or "").strip()[:200] or None
        fields["guest"] = Guest(name=name, phone=phone, institution=institution)
    else:
        return _after(event_id, "missing")
    server = request.app.state.server
    result = ledger.apply(server, member, Kind.EVENT_REGISTER, **fields)
    if result.status != Status.ACCEPTED:
        return _refused(event_id, result.reason)
    return _after(event_id, "waitlisted" if result.waitlisted else "registered")


def _registration(request: Request, event_id: int, code: str) -> tuple[Event, Registration] | None:
    with request.app.state.server.db.read() as s:
        event = _event_or_404(s, event_id)
        reg = (
            s.query(Registration)
            .filter(
                Registration.event_id == event_id,
                Registration.ticket_code == code[:32],
                Registration.deleted.is_(False),
            )
            .first()
        )
        if event is None or reg is None:
            return None
        s.expunge(event)
        s.expunge(reg)
        return event, reg


@router.post("/events/{event_id}/registrations/{code}/attend")
def mark_attended(
    request: Request,
    event_id: int,
    code: str,
    member: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    found = _registration(request, event_id, code)
    if found is None:
        return _refused(event_id, Reason.NOT_REGISTERED)
    event, reg = found
    result = ledger.apply(
        request.app.state.server,
        member,
        Kind.DOOR_SIGNIN,
        event_id=event_id,
        ticket=ledger.ticket_for(event_id, reg.ticket_code),
        at=ledger.attend_time(event),
    )
    if result.status != Status.ACCEPTED:
        return _refused(event_id, result.reason)
    return _after(event_id, "attended")


@router.post("/events/{event_id}/registrations/{code}/cancel")
def cancel_registration(
    request: Request,
    event_id: int,
    code: str,
    member: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    found = _registration(request, event_id, code)
    if found is None:
        return _refused(event_id, Reason.NOT_REGISTERED)
    _event, reg = found
    server = request.app.state.server
    result = ledger.apply(
        server,
        member,
        Kind.EVENT_CANCEL,
        event_id=event_id,
        ticket=ledger.ticket_for(event_id, reg.ticket_code),
    )
    if result.status != Status.ACCEPTED:
        return _refused(event_id, result.reason)
    moved = ""
    if result.message and "moved up" in result.message:
        moved = result.message.split("; ", 1)[1].split(" ", 1)[0]
    return _after(event_id, "cancelled_reg", moved=moved)
