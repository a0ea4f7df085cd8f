"""The FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI

from core.wire import API_PREFIX
from server import __version__
from server.api import errors, kiosk, staff
from server.console import setup as console
from server.service import Server


def create_app(server: Server) -> FastAPI:
    """An app bound to ``server`` (its schema must already be migrated)."""
    app = FastAPI(
        title="Pustaka Kiosk server",
        version=__version__,
        description="Central server for the Pustaka self-service library kiosks.",
    )
    app.state.server = server
    errors.install(app)
    app.include_router(kiosk.router, prefix=API_PREFIX)
    app.include_router(staff.router, prefix=API_PREFIX)
    console.install(app)
    return app
