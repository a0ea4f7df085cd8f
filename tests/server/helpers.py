"""Small builders for transactions in server tests, and a console sign-in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from fastapi.testclient import TestClient

from core.ids import uuid7
from core.wire import TransactionIn
from server.admin import add_staff
from server.app import create_app
from server.service import Server
from server.timeutil import WIB

_seq = count(1)


def wib(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


def soon(hours: float = 0) -> datetime:
    """A time shortly after now (online transactions inside the event's window)."""
    return datetime.now(WIB) + timedelta(hours=hours)


def tx(kind: str, kiosk: str = "kiosk-a", at: datetime | None = None, **fields: Any) -> dict:
    """A TransactionIn as JSON-ready dict."""
    model = TransactionIn(
        id=fields.pop("id", None) or uuid7(),
        kiosk=kiosk,
        seq=fields.pop("seq", None) or next(_seq),
        kind=kind,
        at=at or soon(),
        **fields,
    )
    return model.model_dump(mode="json", exclude_none=True)


def patron_session(client: Any, headers: dict, card: str, pin: str = "1234") -> str:
    """Open the patron's session at this kiosk, as the kiosk does before a renewal."""
    found = client.post("/api/v1/patrons/lookup", json={"card": card}, headers=headers).json()
    if found["session"] is None:  # a card with a PIN (the demo's is 1234)
        body = {"card": card, "pin": pin}
        found = client.post("/api/v1/patrons/verify-pin", json=body, headers=headers).json()
    return found["session"]["session"]


def post(client: Any, headers: dict, *txns: dict, **extra: Any) -> list[dict]:
    """Post a batch; online renewals go with their patron's session, as at a kiosk."""
    renewing = {t["card"] for t in txns if t["kind"] == "renew" and not t.get("offline")}
    if len(renewing) == 1:
        headers = {**headers, "X-Patron-Session": patron_session(client, headers, *renewing)}
    r = client.post(
        "/api/v1/transactions", json={"transactions": list(txns), **extra}, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()["results"]


def signed_in(server: Server, role: str = "librarian") -> tuple[TestClient, str]:
    """A client signed in to the console through its login form as staff member "ani"
    of ``role``, and the CSRF token its forms carry."""
    add_staff(server.db, "ani", "rahasia-ani-1", role=role)
    client = TestClient(create_app(server), base_url="http://testserver")
    page = client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    done = client.post(
        "/staff/login",
        data={"csrf": token.group(1), "name": "ani", "password": "rahasia-ani-1"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/").text)
    assert csrf
    return client, csrf.group(1)
