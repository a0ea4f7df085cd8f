"""Administrators' pages: kiosks (register, rotate, revoke) and staff accounts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from server.admin import add_kiosk, add_staff, revoke_kiosk, set_staff_disabled
from server.console import reports
from server.console.auth import ROLES, StaffMember, check_csrf, require_admin, require_staff
from server.console.i18n import translations
from server.console.web import FormData, error_page, language, posted_form, redirect, render
from server.models import StaffUser
from server.text import storable

router = APIRouter()


def _text(form: Any, name: str, limit: int) -> str:
    value = str(form.get(name) or "").strip()[:limit]
    return value if storable(value) else ""


@router.get("/kiosks")
def kiosks(request: Request, member: StaffMember = Depends(require_staff)) -> Response:
    with request.app.state.server.db.read() as s:
        rows = reports.kiosk_health(s)
    flash = {}
    if request.query_params.get("done") == "revoked":
        t = translations(language(request))
        flash = {"flash": t.gettext("Token kios dicabut; kios itu tidak dapat lagi terhubung.")}
    return render(request, "kiosks.html", {"rows": rows, "can_manage": member.admin, **flash})


def _token_page(request: Request, name: str, token: str, rotated: bool) -> Response:
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "kiosk_token.html",
        {"name": name, "token": token, "base": base, "rotated": rotated},
    )


@router.post("/kiosks")
def register_kiosk(
    request: Request,
    _m: StaffMember = Depends(require_admin),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    name = _text(form, "name", 100)
    if not name:
        return error_page(request, "Isi nama kios (1 sampai 100 huruf).", 422)
    db = request.app.state.server.db
    with db.read() as s:
        exists = name in {k.name for k in reports.kiosk_health(s)}
    if exists and form.get("rotate") != "1":
        return error_page(request, "Nama kios itu sudah terdaftar; pakai tombol Ganti token.", 409)
    token = add_kiosk(db, name, request.app.state.credential_stamp)
    request.app.state.server.tokens.clear()
    return _token_page(request, name, token, rotated=exists)


@router.post("/kiosks/revoke")
def revoke(
    request: Request,
    _m: StaffMember = Depends(require_admin),
    form: FormData = Depends(posted_form),
) -> Response:
    """Stop a kiosk's token at once; what it sent stays. Registering it again issues a new one."""
    check_csrf(request, str(form.get("csrf") or ""))
    name = _text(form, "name", 100)
    try:
        revoke_kiosk(request.app.state.server.db, name, request.app.state.credential_stamp)
    except ValueError:
        return error_page(request, "Kios itu tidak ada.", 404)
    request.app.state.server.tokens.clear()
    return redirect("/staff/kiosks?done=revoked")


@router.get("/accounts")
def accounts(request: Request, _m: StaffMember = Depends(require_admin)) -> Response:
    with request.app.state.server.db.read() as s:
        users = [
            (u.id, u.name, u.role, u.created_at)
            for u in s.scalars(select(StaffUser).order_by(StaffUser.name))
        ]
    return render(request, "accounts.html", {"users": users, "roles": ROLES})


@router.post("/accounts")
def save_account(
    request: Request,
    member: StaffMember = Depends(require_admin),
    form: FormData = Depends(posted_form),
) -> Response:
    check_csrf(request, str(form.get("csrf") or ""))
    name = _text(form, "name", 100)
    password = str(form.get("password") or "")
    role = str(form.get("role") or "librarian")
    if role not in ROLES or not name:
        return error_page(request, "Isi nama dan peran.", 422)
    db = request.app.state.server.db
    if password:
        try:
            add_staff(db, name, password, request.app.state.credential_stamp)
        except ValueError:
            return error_page(request, "Kata sandi paling sedikit 8 huruf.", 422)
    with db.write() as (s, _v):
        user = s.execute(select(StaffUser).where(StaffUser.name == name)).scalar()
        if user is None:
            return error_page(request, "Akun baru memerlukan kata sandi.", 422)
        if user.id == member.id and role != "admin":
            return error_page(request, "Anda tidak dapat mencabut peran admin Anda sendiri.", 422)
        user.role = role
    return redirect("/staff/accounts")


@router.post("/accounts/disable")
def disable_account(
    request: Request,
    member: StaffMember = Depends(require_admin),
    form: FormData = Depends(posted_form),
) -> Response:
    """Refuse a staff member's sign-ins and end their sessions (or allow them again)."""
    check_csrf(request, str(form.get("csrf") or ""))
    name = _text(form, "name", 100)
    disabled = form.get("enable") != "1"
    if disabled and name == member.name:
        return error_page(request, "Anda tidak dapat menonaktifkan akun Anda sendiri.", 422)
    try:
        set_staff_disabled(
            request.app.state.server.db, name, disabled, request.app.state.credential_stamp
        )
    except ValueError:
        return error_page(request, "Akun itu tidak ada.", 404)
    return redirect("/staff/accounts")
