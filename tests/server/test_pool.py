"""Pooled connections: one the database server has hung up on is never handed out."""

from __future__ import annotations

import time

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from server.service import Server


def _terminate_all(server: Server) -> None:
    """End every connection to this database (a restart, as the pool sees it)."""
    dsn = make_url(server.db.url).set(drivername="postgresql")
    with psycopg.connect(dsn.render_as_string(hide_password=False), autocommit=True) as conn:
        sql = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        conn.execute(sql)  # type: ignore[arg-type]
        for _ in range(100):  # backends exit asynchronously
            left = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            row = conn.execute(left).fetchone()  # type: ignore[arg-type]
            if row is not None and row[0] <= 1:
                break
            time.sleep(0.02)


def _checkout(n: int) -> dict:
    return {
        "id": f"01J0000000000000000POOL{n:03d}",
        "kiosk": "kiosk-a",
        "seq": n,
        "kind": "checkout",
        "at": "2026-03-02T03:00:00Z",
        "card": "AGT0001",
        "item": f"B00010{n}",
    }


def test_connections_the_server_closed_are_replaced(
    demo: Server, client: TestClient, kiosk_a: dict[str, str]
) -> None:
    if demo.db.is_sqlite:
        pytest.skip("PostgreSQL connections only")
    r = client.post("/api/v1/transactions", json={"transactions": [_checkout(1)]}, headers=kiosk_a)
    assert r.status_code == 200, r.text
    _terminate_all(demo)
    r = client.post("/api/v1/transactions", json={"transactions": [_checkout(2)]}, headers=kiosk_a)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "accepted"
