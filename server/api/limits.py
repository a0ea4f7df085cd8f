"""Requests with a body: the token is checked before the body is read, and the body
is capped before it is parsed.

An ASGI middleware, so that nothing reads a byte of a body that will be refused:
a request without a known kiosk or staff token is answered 401 at once (except the
staff login, which has no token yet and the smallest cap), a ``Content-Length``
over the route's cap is answered 413 at once, and a body sent without one
(chunked) is counted as it is read and refused at the first byte over the cap.
The server's memory does not grow with what a client sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse

from core.wire import API_PREFIX, ErrorBody
from server.api.deps import resolve_token
from server.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PATH = f"{API_PREFIX}/staff/login"


class BodyTooLarge(HTTPException):
    """Raised while a body is read past its cap; answered 413 like any HTTPException
    (FastAPI passes HTTPException through where it turns other read errors into 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit // 1024} KB; send less at a time")


def body_caps(settings: Settings) -> tuple[int, dict[str, int]]:
    """(default cap, cap per path) in bytes, from the settings."""
    return settings.max_body_kb * 1024, {
        f"{API_PREFIX}/transactions": settings.max_transactions_body_kb * 1024,
        LOGIN_PATH: settings.max_login_body_kb * 1024,
    }


class BodyGuard:
    """The middleware; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        default: int,
        per_path: dict[str, int],
        public: frozenset[str],
        cookie_paths: tuple[str, Callable[[Scope], Awaitable[bool]]] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path
        self.public = public
        #: (path prefix, check): pages signed in by a session cookie instead of a bearer
        #: token (the staff console); a post without a live session goes to sign in.
        self.cookie_paths = cookie_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.per_path.get(path, self.default)
        headers = _headers(scope)
        length = headers.get("content-length")
        if length in (None, "0") and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: the route checks its token
            return
        if self.cookie_paths is not None and path.startswith(self.cookie_paths[0]):
            if path not in self.public and not await self.cookie_paths[1](scope):
                response = RedirectResponse(self.cookie_paths[0] + "login", status_code=303)
                response.headers["Connection"] = "close"
                await response(scope, receive, send)
                return
        elif path not in self.public:
            token = _bearer(headers.get("authorization", ""))
            caller = await resolve_token(scope["app"], token) if token else None
            if caller is None:
                await _answer(scope, receive, send, 401, "unauthorized",
                              "send 'Authorization: Bearer <token>' with a known token",
                              {"WWW-Authenticate": "Bearer"})  # fmt: skip
                return
            scope.setdefault("state", {})["caller"] = caller  # the route need not look again
        if length is not None:
            if not length.isdigit():
                await _answer(scope, receive, send, 400, "bad_request", "bad Content-Length")
                return
            if int(length) > limit:
                detail = f"request body over {limit // 1024} KB; send less at a time"
                await _answer(scope, receive, send, 413, "content_too_large", detail)
                return
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, capped, tracked)
        except BodyTooLarge as exc:  # read outside a route (nothing answered it yet)
            if started:
                raise
            await _answer(scope, receive, send, 413, "content_too_large", str(exc.detail))


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _bearer(value: str) -> str | None:
    scheme, _, token = value.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def _answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> None:
    # the unread body is the server's to drop: uvicorn closes the connection after this
    response = JSONResponse(
        ErrorBody(detail=detail, code=code).model_dump(),
        status_code=status,
        headers={**(headers or {}), "Connection": "close"},
    )
    await response(scope, receive, send)
