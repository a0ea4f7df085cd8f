"""Mount the console on the FastAPI app: its routes, static files and error pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from server.console import routes_admin, routes_events, routes_home, routes_library
from server.console.auth import Forbidden, SignInRequired, login_url
from server.console.web import redirect, render

PREFIX = "/staff"


def install(app: FastAPI) -> None:
    """Add the console under ``/staff/`` (the API stays under ``/api/v1``)."""
    for module in (routes_home, routes_events, routes_library, routes_admin):
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
