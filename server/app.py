"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from core.wire import API_PREFIX
from server import __version__
from server.access import Clock, CredentialStamp, StaffAuth
from server.api import errors, kiosk, staff
from server.api.limits import LOGIN_PATH, BodyGuard, body_caps
from server.console import setup as console
from server.service import Server
from server.timeutil import utcnow


def create_app(server: Server, clock: Clock = utcnow) -> FastAPI:
    """An app bound to ``server`` (its schema must already be migrated).

    ``clock`` is the time staff sessions are judged by (tests move it on).
    """
    docs = server.settings.api_docs

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # the ILS connector's pull loop and write-back worker live as long as the app
        ils = server.ils if server.settings.ils.background else None
        if ils is not None:
            ils.start()
        try:
            yield
        finally:
            if ils is not None:
                ils.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Pustaka Kiosk server",
        version=__version__,
        description="Central server for the Pustaka self-service library kiosks.",
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    app.state.server = server
    app.state.staff_auth = StaffAuth(
        server.db,
        server.settings,
        clock=clock,
        patrons_waiting=lambda: server.writes.patrons_waiting > 0,
    )
    app.state.credential_stamp = CredentialStamp(server.settings.data_dir)
    errors.install(app)
    default, per_path = body_caps(server.settings)
    app.add_middleware(
        BodyGuard,
        default=default,
        per_path={**per_path, **console.BODY_CAPS},
        public=frozenset({LOGIN_PATH, console.LOGIN_PATH}),
        cookie_paths=(console.PREFIX + "/", console.has_session),
    )
    app.include_router(kiosk.router, prefix=API_PREFIX)
    app.include_router(staff.router, prefix=API_PREFIX)
    console.install(app)
    return app
