"""Mount the console on the FastAPI app: its routes, static files and error pages."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from server.console import (
    routes_admin,
    routes_events,
    routes_guestbook,
    routes_home,
    routes_ils,
    routes_library,
)
from server.console.auth import (
    SESSION_COOKIE,
    Forbidden,
    SignInRequired,
    login_url,
    session_alive,
)
from server.console.ils_jobs import HealthProbe, IlsJobs
from server.console.routes_library import MAX_UPLOAD
from server.console.web import redirect, render

PREFIX = "/staff"
LOGIN_PATH = f"{PREFIX}/login"
#: request body caps of the console's posts, beside the API's (``server.api.limits``)
BODY_CAPS = {LOGIN_PATH: 8 * 1024, f"{PREFIX}/import": MAX_UPLOAD + 64 * 1024}


async def has_session(scope: MutableMapping[str, Any]) -> bool:
    """Whether a request carries a live console session (checked before its body is read)."""
    request = Request(scope)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return False
    return await anyio.to_thread.run_sync(session_alive, request, token)


def install(app: FastAPI) -> None:
    """Add the console under ``/staff/`` (the API stays under ``/api/v1``)."""
    app.state.ils_jobs = IlsJobs()
    app.state.ils_health = HealthProbe()
    modules = (routes_home, routes_events, routes_library, routes_guestbook, routes_ils)
    for module in (*modules, routes_admin):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    app.mount(
        f"{PREFIX}/static",
        StaticFiles(directory=Path(__file__).with_name("static")),
        name="console-static",
    )

    @app.exception_handler(SignInRequired)
    async def _sign_in(_request: Request, exc: SignInRequired) -> Response:
        return redirect(login_url(exc.next_path))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"message": str(exc)}, status_code=403)
