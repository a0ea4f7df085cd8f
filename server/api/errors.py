"""Every error leaves the API as ``ErrorBody`` JSON: a clear message and a stable code."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.wire import ErrorBody

log = logging.getLogger("server.api")


class ApiError(Exception):
    """Raise from a route to answer ``status`` with ``ErrorBody(detail, code)``."""

    def __init__(self, status: int, code: str, detail: str, retry_after: int = 0) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.retry_after = retry_after  # seconds, sent as Retry-After when set


def _body(status: int, code: str, detail: str, headers: dict[str, str] | None = None):
    return JSONResponse(
        ErrorBody(detail=detail, code=code).model_dump(), status_code=status, headers=headers
    )


def _where(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        return _body(exc.status, exc.code, exc.detail, headers or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        try:
            phrase = HTTPStatus(exc.status_code).phrase
        except ValueError:
            phrase = "error"
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such endpoint; the API lives under /api/v1"
            if req.app.openapi_url:
                detail += f" (see {req.app.openapi_url})"
        return _body(exc.status_code, code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        msgs = []
        for err in exc.errors()[:5]:
            msgs.append(f"{_where(err.get('loc', ()))}: {err.get('msg', 'invalid')}")
        more = len(exc.errors()) - 5
        detail = "invalid request: " + "; ".join(msgs) + (f" (+{more} more)" if more > 0 else "")
        return _body(422, "invalid_request", detail)

    @app.exception_handler(Exception)
    async def _crash(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error: %s", exc)
        return _body(500, "internal_error", "internal server error; the details are in the log")
