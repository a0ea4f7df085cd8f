"""Rendering: the Jinja2 environment, the page context and the language of a request."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from server.console.i18n import LANGUAGES, translations
from server.timeutil import WIB, as_utc

TEMPLATES = Path(__file__).with_name("templates")
LANG_COOKIE = "pustaka_lang"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    """``?lang=`` when given, else the language cookie, else Bahasa Indonesia."""
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "id"
    return lang if lang in LANGUAGES else "id"


def local(value: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """A stored UTC time as the library's clock shows it (WIB)."""
    if value is None:
        return "—"
    return as_utc(value).astimezone(WIB).strftime(fmt)


def day(value: date | datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return local(value, "%d-%m-%Y")
    return value.strftime("%d-%m-%Y")


def number(value: float | int | None, digits: int = 0) -> str:
    """Numbers the Indonesian way: 1.234 and 12,5."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


_env.filters.update(local=local, day=day, number=number)


def _ils_kind(request: Request) -> str:
    """``own``, ``slims``, ... : the menu lists *Sistem Perpustakaan* only for an ILS."""
    server = getattr(request.app.state, "server", None)
    return str(server.settings.ils.kind) if server is not None else "own"


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page in the request's language, with the signed-in user and CSRF token if any."""
    lang = language(request)
    t = translations(lang)
    ctx = {
        "request": request,
        "lang": lang,
        "_": t.gettext,
        "ngettext": t.ngettext,
        "user": getattr(request.state, "staff", None),
        "csrf": getattr(request.state, "csrf", ""),
        "path": request.url.path,
        "ils_kind": _ils_kind(request),
        **(context or {}),
    }
    html = _env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="strict"
        )
    response.headers["Cache-Control"] = "no-store"
    return response


async def posted_form(request: Request) -> FormData:
    """Dependency: the posted form, parsed on the event loop so that the route itself can
    be a plain function run on a worker thread (its database work never blocks the loop)."""
    return await request.form()


def error_page(request: Request, msgid: str, status_code: int) -> HTMLResponse:
    """A page that says, in the request's language, why nothing was done."""
    text = translations(language(request)).gettext(msgid)
    return render(request, "error.html", {"message": text}, status_code=status_code)


def download(body: bytes | str, media_type: str, filename: str) -> Response:
    """A file for the browser to save (exports, reports)."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def redirect(url: str) -> RedirectResponse:
    """After a form post: 303 so the browser loads the next page with GET."""
    return RedirectResponse(url, status_code=303)
