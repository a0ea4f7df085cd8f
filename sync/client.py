"""HTTP client for the central server: one ``requests.Session``, short deadlines.

Network trouble (refused, reset, timeout, 5xx) becomes ``SyncError`` (retry
later); requests the server will never accept (401, 403, 404, 422) become
``SyncRejected`` with the server's own message.

Everything the kiosk trusts from the server (decisions, the snapshot, and in it
the ticket public key that decides which offline tickets pass) arrives through
this one session. With an ``https://`` URL the server's certificate is always
checked: against the system's CAs, or against ``ca_file`` (``verify=`` in
requests) for a library's own CA; nothing here turns the check off. Plain
``http://`` to another machine is refused before a client is made (see
``kiosk.config``) unless staff allowed it explicitly.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from core.errors import SyncError, SyncRejected
from core.wire import (
    API_PREFIX,
    PATRON_SESSION_HEADER,
    AccountView,
    BatchResult,
    CardQuery,
    EventView,
    Health,
    KioskSecrets,
    OpenConflicts,
    PatronLookupResult,
    PinCheck,
    PinResult,
    Snapshot,
    TransactionBatch,
    TransactionIn,
    TransactionResult,
)

if TYPE_CHECKING:
    import requests


class RequestRejected(SyncRejected):
    """A 4xx answer; ``status_code`` tells a bad token (401/403) from a bad request (422)."""

    def __init__(self, detail: str, *, status_code: int, retry_after_s: float = 0.0) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.retry_after_s = retry_after_s  # a 429's Retry-After

    @property
    def auth(self) -> bool:
        """True when the kiosk itself is not allowed in: no transaction is to blame."""
        return self.status_code in (401, 403)


class ServerClient:
    """Talks to ``/api/v1`` with the kiosk's bearer token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 1.5,
        session: requests.Session | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.base = base_url.rstrip("/") + API_PREFIX
        self.timeout = timeout
        # Given on every request, not only on the session: requests lets
        # $REQUESTS_CA_BUNDLE override a session's verify (psf/requests#3829).
        self.verify: bool | str = os.fspath(ca_file) if ca_file is not None else True
        if session is None:
            # requests (and urllib3, email, http) costs ~15 MB: an offline-only kiosk
            # never makes a client, so it is imported here, not at module import.
            import requests

            session = requests.Session()
        self.session = session
        self.session.verify = self.verify
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["User-Agent"] = "pustaka-kiosk"

    def close(self) -> None:
        self.session.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        timeout: float | None = None,
        too_many_is_refusal: bool = False,
        **kw: Any,
    ) -> requests.Response:
        import requests

        try:
            resp = self.session.request(
                method, self.base + path, timeout=timeout or self.timeout, verify=self.verify, **kw
            )
        except requests.exceptions.SSLError as exc:
            raise SyncError(
                f"{method} {path}: SSLError: the server's certificate was not accepted"
                f" ({_ssl_why(exc)}); check [server] ca_file"
            ) from None
        except requests.ConnectionError as exc:
            raise SyncError(f"cannot reach the server at {self.base}: {_why(exc)}") from None
        except requests.Timeout:
            raise SyncError(f"{method} {path}: no answer from {self.base} in time") from None
        except requests.RequestException as exc:
            raise SyncError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        if resp.status_code == 429 and too_many_is_refusal:
            try:
                wait = float(resp.headers.get("Retry-After", "1"))
            except ValueError:
                wait = 1.0
            raise RequestRejected(
                f"{method} {path}: 429: too many requests", status_code=429, retry_after_s=wait
            )
        if resp.status_code >= 500 or resp.status_code == 429:
            raise SyncError(
                f"{method} {path}: server answered {resp.status_code}: {resp.text[:200]}"
            )
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except ValueError:
                detail = resp.text
            raise RequestRejected(
                f"{method} {path}: {resp.status_code}: {str(detail)[:300]}",
                status_code=resp.status_code,
            )
        return resp

    def _json(self, resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            # A proxy or a half-delivered body: treat as a network fault, retry later.
            raise SyncError(f"{resp.request.method} {resp.url}: answer is not JSON") from None

    def health(self, timeout: float | None = None) -> Health:
        return Health.model_validate(self._json(self._request("GET", "/health", timeout=timeout)))

    def post_transactions(
        self,
        txs: list[TransactionIn],
        *,
        timeout: float | None = None,
        patron_session: str | None = None,
        queue_depth: int | None = None,
        snapshot_age_s: float | None = None,
        version: str | None = None,
    ) -> list[TransactionResult]:
        batch = TransactionBatch(
            transactions=txs,
            queue_depth=queue_depth,
            snapshot_age_s=snapshot_age_s,
            version=version,
        )
        resp = self._request(
            "POST",
            "/transactions",
            timeout=timeout,
            data=batch.model_dump_json(exclude_none=True),
            headers={
                "Content-Type": "application/json",
                **({PATRON_SESSION_HEADER: patron_session} if patron_session else {}),
            },
        )
        try:
            results = BatchResult.model_validate(self._json(resp)).results
        except ValueError as exc:
            raise SyncError(f"POST /transactions: malformed answer: {exc}") from None
        if [r.id for r in results] != [t.id for t in txs]:
            raise SyncError("POST /transactions: answer does not match the batch")
        return results

    def post_payloads(
        self,
        payloads: list[tuple[str, str]],
        *,
        timeout: float | None = None,
        queue_depth: int | None = None,
        snapshot_age_s: float | None = None,
        version: str | None = None,
    ) -> list[TransactionResult]:
        """``post_transactions`` for ``(id, TransactionIn JSON)`` pairs already serialised
        (the outbox stores them so); the body is the same ``TransactionBatch``."""
        health = TransactionBatch(
            transactions=[],
            queue_depth=queue_depth,
            snapshot_age_s=snapshot_age_s,
            version=version,
        ).model_dump_json(exclude_none=True, exclude={"transactions"})
        body = '{"transactions":[' + ",".join(p for _, p in payloads) + "]"
        body += ("," + health[1:]) if health != "{}" else "}"
        resp = self._request(
            "POST",
            "/transactions",
            timeout=timeout,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        try:
            results = BatchResult.model_validate_json(resp.content).results
        except ValueError as exc:
            raise SyncError(f"POST /transactions: malformed answer: {exc}") from None
        if [r.id for r in results] != [i for i, _ in payloads]:
            raise SyncError("POST /transactions: answer does not match the batch")
        return results

    def patron(self, card: str, timeout: float | None = None) -> PatronLookupResult:
        """The patron of a card, with a patron session when the card needs no PIN."""
        resp = self._request(
            "POST",
            "/patrons/lookup",
            timeout=timeout,
            data=CardQuery(card=card).model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return PatronLookupResult.model_validate(self._json(resp))

    def verify_pin(self, card: str, pin: str, timeout: float | None = None) -> PinResult:
        """Check a PIN; a 429 (this kiosk checks too fast) is a ``RequestRejected``."""
        resp = self._request(
            "POST",
            "/patrons/verify-pin",
            timeout=timeout,
            too_many_is_refusal=True,
            data=PinCheck(card=card, pin=pin).model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return PinResult.model_validate(self._json(resp))

    def account(self, session: str, timeout: float | None = None) -> AccountView:
        """The account of the patron whose session (from ``patron``/``verify_pin``) this is."""
        resp = self._request(
            "GET", "/patrons/account", timeout=timeout, headers={PATRON_SESSION_HEADER: session}
        )
        return AccountView.model_validate(self._json(resp))

    def end_patron_session(self, timeout: float | None = None) -> None:
        """The patron at this kiosk is done: their session ends on the server now."""
        self._request("POST", "/patrons/end-session", timeout=timeout)

    def kiosk_secrets(self, timeout: float | None = None) -> KioskSecrets:
        """This kiosk's card and PIN keys (see ``sync.secrets``)."""
        resp = self._request("GET", "/kiosk-secrets", timeout=timeout)
        return KioskSecrets.model_validate(self._json(resp))

    def open_conflicts(self, timeout: float | None = None) -> list[str]:
        """Ids of this kiosk's transactions in a conflict staff have not resolved."""
        got = self._json(self._request("GET", "/conflicts", timeout=timeout))
        return OpenConflicts.model_validate(got).ids

    def events(self, timeout: float | None = None) -> list[EventView]:
        data = self._json(self._request("GET", "/events", timeout=timeout))
        return [EventView.model_validate(e) for e in data]

    def snapshot(self, since: str | None = None, timeout: float | None = None) -> Snapshot:
        params = {"since": since} if since else {}
        resp = self._request("GET", "/snapshot", params=params, timeout=timeout)
        return Snapshot.model_validate_json(resp.content)


def _why(exc: BaseException) -> str:
    """The innermost reason of a connection error, as the OS put it ("Connection refused")."""
    text = str(exc)
    if "] " in text:
        reason = text.rsplit("] ", 1)[-1]
        reason = reason.rstrip("')\"")
        return reason.strip() or text[:200]
    return text[:200]


def _ssl_why(exc: BaseException) -> str:
    """OpenSSL's own words for a refused certificate ("[SSL: CERTIFICATE_VERIFY_FAILED] ...")."""
    text = str(exc)
    start = text.find("[SSL")
    return text[start:].rstrip("')\"") if start >= 0 else _why(exc)
