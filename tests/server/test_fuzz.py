"""Schemathesis fuzzes every operation from the server's own OpenAPI document.

No request may produce a 5xx, and every 4xx must carry ErrorBody JSON with a
readable message. Examples per operation are bounded to keep the run short.
(``schemathesis.pytest.from_fixture`` does not work with pytest 9, so the
operations are walked here with one hypothesis run each.)
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err

from server.admin import add_kiosk
from server.app import create_app
from server.service import Server

EXAMPLES = 12


def test_api_never_fails_and_errors_are_clear(demo: Server) -> None:
    app = create_app(demo)
    kiosk = {"Authorization": f"Bearer {add_kiosk(demo.db, 'kiosk-a')}"}
    with TestClient(app) as c:
        token = c.post(
            "/api/v1/staff/login", json={"name": "petugas", "password": "petugas123"}
        ).json()["token"]
    staff = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"an operation the fuzzer cannot load: {result.err()}")
        operation = result.ok()
        path = operation.path
        staff_route = path.startswith("/api/v1/staff") and not path.endswith("/login")
        statuses = _fuzz(operation, staff if staff_route else kiosk)
        seen.append(f"{operation.method.upper()} {path} {sorted(statuses)}")
    print("\n".join(seen))
    assert len(seen) >= 16, seen


def _fuzz(operation, headers: dict) -> set[int]:
    statuses: set[int] = set()

    def own_kiosk(case):
        # most generated batches name a random kiosk (a correct 403); also send ones
        # that pass the identity check so the transaction path itself gets fuzzed
        body = case.body
        if isinstance(body, dict) and isinstance(body.get("transactions"), list):
            for txn in body["transactions"]:
                if isinstance(txn, dict) and "kiosk" in txn:
                    txn["kiosk"] = "kiosk-a"
        return case

    positive = operation.as_strategy()
    strategy = st.one_of(
        positive,
        positive.map(own_kiosk),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    busy = operation.path.endswith("/transactions")

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES * 4 if busy else EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case) -> None:
        response = case.call(headers=headers)
        statuses.add(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])
        if 400 <= response.status_code < 500:
            body = response.json()
            assert set(body) == {"detail", "code"}, body
            assert isinstance(body["detail"], str) and len(body["detail"]) >= 8, body
            assert body["code"] and " " not in body["code"], body

    fuzz()
    return statuses
