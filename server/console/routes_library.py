"""Conflicts, patrons, items, CSV import and the calendar of closed days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import or_, select

from server.console.auth import StaffMember, check_csrf, require_staff
from server.console.i18n import N_, translations
from server.console.web import FormData, error_page, language, posted_form, redirect, render
from server.importers import RowError, import_items, import_patrons
from server.models import ClosedDay, Conflict, Item, Loan, Patron, Transaction
from server.text import storable
from server.timeutil import utcnow

router = APIRouter()

PAGE = 100
MAX_UPLOAD = 20 * 1024 * 1024

CONFLICT_WORDS = {
    "item_on_loan_to_other": N_("Buku sedang dipinjam anggota lain"),
    "item_lost": N_("Buku tercatat hilang"),
    "item_not_for_loan": N_("Buku tidak untuk dipinjamkan"),
    "item_on_hold_for_other": N_("Buku dipesan anggota lain"),
    "patron_blocked": N_("Anggota diblokir"),
    "card_expired": N_("Kartu kedaluwarsa"),
    "too_many_loans": N_("Melebihi batas pinjaman"),
    "unknown_card": N_("Kartu tidak dikenal"),
    "unknown_item": N_("Buku tidak dikenal"),
    "not_on_loan": N_("Buku tidak sedang dipinjam"),
    "event_full": N_("Acara sudah penuh"),
    "event_over": N_("Acara sudah selesai"),
    "registration_closed": N_("Pendaftaran acara ditutup"),
    "kiosk_told_refused": N_(
        "Kios memberi tahu anggota bahwa transaksi ditolak, padahal server sudah mencatatnya"
    ),
    "renewal_limit": N_("Batas perpanjangan tercapai"),
    "ils_contradicts": N_(
        "Sistem perpustakaan (SLiMS atau INLISLite) mencatat lain; transaksi tidak ditulis ke sana"
    ),
    "out_of_bounds": N_("Waktu atau jatuh tempo dari kios di luar batas; sudah disesuaikan"),
    "fines_over_limit": N_("Denda melebihi batas"),
}
KIND_WORDS = {
    "checkout": N_("Peminjaman"),
    "checkin": N_("Pengembalian"),
    "renew": N_("Perpanjangan"),
    "event_register": N_("Pendaftaran acara"),
    "door_signin": N_("Presensi acara"),
}


def _flash(request: Request, messages: dict[str, str]) -> dict[str, str]:
    key = request.query_params.get("done", "")
    if key not in messages:
        return {}
    return {"flash": translations(language(request)).gettext(messages[key])}


def _form_text(form: Any, name: str, limit: int) -> str:
    value = str(form.get(name) or "").strip()[:limit]
    return value if storable(value) else ""


# -- conflicts ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictRow:
    """A conflict in plain words: who, what, which kiosk, when, why."""

    id: int
    kind: str
    reason: str
    message: str
    kiosk: str
    at: datetime
    card: str | None
    patron_name: str | None
    item: str | None
    title: str | None
    event_id: int | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    note: str | None


@router.get("/conflicts")
def conflicts(
    request: Request,
    kiosk: str = "",
    kind: str = "",
    state: str = "open",
    q: str = "",
    reason: str = "",
    _m: StaffMember = Depends(require_staff),
) -> Response:
    with request.app.state.server.db.read() as s:
        query = (
            select(Conflict, Transaction, Patron.name, Item.title)
            .join(Transaction, Transaction.id == Conflict.transaction_id)
            .join(Patron, Patron.card == Transaction.card, isouter=True)
            .join(Item, Item.barcode == Transaction.item, isouter=True)
        )
        if state == "resolved":
            query = query.where(Conflict.resolved_at.is_not(None)).order_by(
                Conflict.resolved_at.desc()
            )
        else:
            state = "open"
            query = query.where(Conflict.resolved_at.is_(None)).order_by(Conflict.id)
        if kiosk:
            query = query.where(Transaction.kiosk == kiosk[:100])
        if kind:
            query = query.where(Conflict.kind == kind[:20])
        if reason:
            query = query.where(Conflict.reason == reason[:40])
        if q.strip():
            like = f"%{q.strip()[:100]}%"
            query = query.where(
                or_(
                    Transaction.card.ilike(like),
                    Transaction.item.ilike(like),
                    Conflict.note.ilike(like),
                    Patron.name.ilike(like),
                    Item.title.ilike(like),
                )
            )
        rows = [
            ConflictRow(
                c.id,
                c.kind,
                c.reason,
                c.message,
                t.kiosk,
                t.at,
                t.card,
                pname,
                t.item,
                title,
                t.event_id,
                c.created_at,
                c.resolved_at,
                c.resolved_by,
                c.note,
            )
            for c, t, pname, title in s.execute(query.limit(PAGE))
        ]
        kiosks = sorted(
            k
            for (k,) in s.execute(
                select(Transaction.kiosk)
                .join(Conflict, Conflict.transaction_id == Transaction.id)
                .distinct()
            )
        )
    return render(
        request,
        "conflicts.html",
        {
            "rows": rows,
            "kiosks": kiosks,
            "kiosk": kiosk,
            "kind": kind,
            "state": state,
            "q": q,
            "reason": reason,
            "words": CONFLICT_WORDS,
            "kinds": KIND_WORDS,
            **_flash(request, {"resolved": N_("Konflik ditandai selesai.")}),
        },
    )


@router.post("/conflicts/{conflict_id}/resolve")
def resolve(
    request: Request,
    conflict_id: int,
    member: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    note = _form_text(form, "note", 2000)
    if not note:
        return error_page(request, "Tulis catatan tentang apa yang sudah dilakukan.", 422)
    with request.app.state.server.db.write() as (s, _v):
        c = s.get(Conflict, conflict_id) if 0 < conflict_id < 2**31 else None
        if c is not None and c.resolved_at is None:
            c.resolved_at, c.resolved_by, c.note = utcnow(), member.name, note
    return redirect("/staff/conflicts?done=resolved")


# -- patrons and items ---------------------------------------------------------------


def _search(request: Request, model: type[Patron] | type[Item], q: str, order: Any) -> list[Any]:
    """Live rows of ``model`` matching what was typed (its exact key, or words in a name
    or title), at most PAGE, detached from the session for the template."""
    needle = q.strip()[:100]
    if not needle:
        return []
    like = f"%{needle}%"
    match = (
        or_(Patron.card == needle, Patron.name.ilike(like), Patron.card.ilike(like))
        if model is Patron
        else or_(Item.barcode == needle, Item.title.ilike(like), Item.isbn == needle)
    )
    with request.app.state.server.db.read() as s:
        rows = list(
            s.scalars(
                select(model)
                .where(model.deleted.is_(False))
                .where(match)
                .order_by(order)
                .limit(PAGE)
            )
        )
        for row in rows:
            s.expunge(row)
    return rows


@router.get("/patrons")
def patrons(request: Request, q: str = "", _m: StaffMember = Depends(require_staff)) -> Response:
    return render(
        request, "patrons.html", {"rows": _search(request, Patron, q, Patron.name), "q": q}
    )


def _patron_detail(s: Any, patron_id: int) -> dict[str, Any] | None:
    patron = s.get(Patron, patron_id) if 0 < patron_id < 2**31 else None
    if patron is None:
        return None
    loans = s.execute(
        select(Loan, Item.barcode, Item.title)
        .join(Item, Item.id == Loan.item_id)
        .where(Loan.patron_id == patron.id)
        .order_by(Loan.returned_at.is_not(None), Loan.issued_at.desc())
        .limit(50)
    ).all()
    holds = s.execute(
        select(Item.barcode, Item.title).where(Item.hold_patron_id == patron.id)
    ).all()
    recent = s.execute(
        select(
            Transaction.at,
            Transaction.kind,
            Transaction.item,
            Transaction.kiosk,
            Transaction.status,
        )
        .where(Transaction.card == patron.card)
        .order_by(Transaction.at.desc())
        .limit(20)
    ).all()
    return {"patron": patron, "loans": loans, "holds": holds, "recent": recent, "now": utcnow()}


def _pin_locked_until(request: Request, patron_id: int) -> datetime | None:
    access = getattr(request.app.state.server, "patrons", None)
    return access.locked_until(patron_id) if access is not None else None


@router.get("/patrons/{patron_id}")
def patron_page(
    request: Request, patron_id: int, _m: StaffMember = Depends(require_staff)
) -> Response:
    with request.app.state.server.db.read() as s:
        detail = _patron_detail(s, patron_id)
        if detail is None:
            return _missing(request, N_("Anggota tidak ditemukan."))
        return render(
            request,
            "patron.html",
            {
                **detail,
                "pin_locked_until": _pin_locked_until(request, patron_id),
                "kinds": KIND_WORDS,
                **_flash(
                    request,
                    {
                        "blocked": N_(
                            "Anggota diblokir. Kios menerimanya pada sinkron berikutnya."
                        ),
                        "unblocked": N_("Blokir dibuka. Kios menerimanya pada sinkron berikutnya."),
                        "pin_cleared": N_("Kunci PIN dibuka; anggota dapat memasukkan PIN lagi."),
                    },
                ),
            },
        )


@router.post("/patrons/{patron_id}/block")
def block_patron(
    request: Request,
    patron_id: int,
    _m: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    unblock = form.get("unblock") == "1"
    reason = _form_text(form, "reason", 200)
    with request.app.state.server.db.write() as (s, version):
        patron = s.get(Patron, patron_id) if 0 < patron_id < 2**31 else None
        if patron is None:
            return _missing(request, N_("Anggota tidak ditemukan."))
        if unblock:
            patron.status, patron.blocked_reason = "active", None
        else:
            patron.status, patron.blocked_reason = "blocked", reason or None
        patron.version = version
    return redirect(f"/staff/patrons/{patron_id}?done={'unblocked' if unblock else 'blocked'}")


@router.post("/patrons/{patron_id}/clear-pin-lock")
def clear_pin_lock(
    request: Request,
    patron_id: int,
    _m: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    """Forget a card's wrong PINs and end its lock (the patron proved who they are)."""
    check_csrf(request, str(form.get("csrf") or ""))
    with request.app.state.server.db.read() as s:
        patron = s.get(Patron, patron_id) if 0 < patron_id < 2**31 else None
        card = patron.card if patron is not None else None
    if card is None:
        return _missing(request, N_("Anggota tidak ditemukan."))
    request.app.state.server.patrons.clear_pin_lock(card)
    return redirect(f"/staff/patrons/{patron_id}?done=pin_cleared")


@router.get("/items")
def items(request: Request, q: str = "", _m: StaffMember = Depends(require_staff)) -> Response:
    return render(request, "items.html", {"rows": _search(request, Item, q, Item.title), "q": q})


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int, _m: StaffMember = Depends(require_staff)) -> Response:
    with request.app.state.server.db.read() as s:
        item = s.get(Item, item_id) if 0 < item_id < 2**31 else None
        if item is None:
            return _missing(request, N_("Buku tidak ditemukan."))
        loan = s.execute(
            select(Loan, Patron.card, Patron.name, Patron.id)
            .join(Patron, Patron.id == Loan.patron_id)
            .where(Loan.item_id == item.id, Loan.returned_at.is_(None))
        ).first()
        hold = s.get(Patron, item.hold_patron_id) if item.hold_patron_id else None
        history = s.execute(
            select(
                Transaction.at,
                Transaction.kind,
                Transaction.card,
                Transaction.kiosk,
                Transaction.status,
                Transaction.offline,
            )
            .where(Transaction.item == item.barcode)
            .order_by(Transaction.at.desc())
            .limit(50)
        ).all()
        return render(
            request,
            "item.html",
            {"item": item, "loan": loan, "hold": hold, "history": history, "kinds": KIND_WORDS},
        )


def _missing(request: Request, msgid: str) -> Response:
    return error_page(request, msgid, 404)


# -- import ----------------------------------------------------------------------------


@router.get("/import")
def import_form(request: Request, _m: StaffMember = Depends(require_staff)) -> Response:
    return render(request, "import.html", {})


@router.post("/import")
def import_upload(
    request: Request,
    _m: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    what = str(form.get("what") or "patrons")
    skip_bad = form.get("skip_bad") == "on"
    upload = form.get("file")
    t = translations(language(request))
    problem = None
    report = None
    filename = ""
    if upload is None or isinstance(upload, str):
        problem = t.gettext("Pilih berkas CSV untuk diunggah.")
    else:
        filename = (upload.filename or "upload.csv")[:200]
        data = upload.file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            problem = t.gettext("Berkas terlalu besar (paling besar 20 MB).")
        else:
            load = import_items if what == "items" else import_patrons
            try:
                report = load(request.app.state.server.db, filename, data=data, skip_bad=skip_bad)
            except RowError as exc:
                problem = str(exc)
    return render(
        request,
        "import.html",
        {
            "report": report,
            "problem": problem,
            "what": what,
            "filename": filename,
            "skip_bad": skip_bad,
        },
        status_code=200 if problem is None else 422,
    )


# -- calendar --------------------------------------------------------------------------


@router.get("/calendar")
def calendar(
    request: Request, year: int | None = None, _m: StaffMember = Depends(require_staff)
) -> Response:
    today = utcnow().date()
    year = year if year and 1900 < year < 2200 else today.year
    with request.app.state.server.db.read() as s:
        days = list(
            s.scalars(
                select(ClosedDay)
                .where(ClosedDay.day >= date(year, 1, 1), ClosedDay.day <= date(year, 12, 31))
                .order_by(ClosedDay.day)
            )
        )
        for d in days:
            s.expunge(d)
    weekdays = sorted(request.app.state.server.settings.closed_weekdays)
    return render(
        request,
        "calendar.html",
        {
            "days": days,
            "year": year,
            "weekdays": weekdays,
            **_flash(
                request,
                {
                    "added": N_("Hari libur disimpan; jatuh tempo baru melompatinya."),
                    "removed": N_("Hari libur dihapus."),
                },
            ),
        },
    )


@router.post("/calendar")
def calendar_change(
    request: Request,
    _m: StaffMember = Depends(require_staff),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    server = request.app.state.server
    try:
        day = date.fromisoformat(str(form.get("day") or ""))
    except ValueError:
        return error_page(request, "Tanggal tidak terbaca.", 422)
    remove = form.get("remove") == "1"
    with server.db.write() as (s, _v):
        row = s.get(ClosedDay, day)
        if remove:
            if row is not None:
                s.delete(row)
        elif row is None:
            s.add(ClosedDay(day=day, reason=_form_text(form, "reason", 200)))
        else:
            row.reason = _form_text(form, "reason", 200)
    server.forget_rules()
    return redirect(f"/staff/calendar?year={day.year}&done={'removed' if remove else 'added'}")
