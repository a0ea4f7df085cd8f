"""A batch's closing writes on PostgreSQL as one statement (one round trip).

The transaction-log rows, the changed items' versions and order keys, the
versions of patrons whose loan count changed and the return times of closed
loans are independent writes whose results nobody reads. Each is a set-based
statement over array parameters (``unnest``), and they are sent together as
data-modifying CTEs of one statement: the same SQL text for the same set of
parts, so nothing is compiled per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from server.timeutil import as_naive_utc

# the transactions table's columns and the array type each is sent as
LOG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "VARCHAR"),
    ("kiosk", "VARCHAR"),
    ("seq", "BIGINT"),
    ("kind", "VARCHAR"),
    ("at", "TIMESTAMP"),
    ("offline", "BOOLEAN"),
    ("card", "VARCHAR"),
    ("item", "VARCHAR"),
    ("event_id", "BIGINT"),
    ("ticket_code", "VARCHAR"),
    ("person_key", "VARCHAR"),
    ("order_key", "VARCHAR"),
    ("effective", "BOOLEAN"),
    ("status", "VARCHAR"),
    ("payload", "TEXT"),
    ("result", "TEXT"),
    ("received_at", "TIMESTAMP"),
)

_PARTS = {
    "log": (
        "INSERT INTO transactions ({cols}) SELECT * FROM unnest({arrays})".format(
            cols=", ".join(c for c, _ in LOG_COLUMNS),
            arrays=", ".join(f"CAST(:log_{c} AS {t}[])" for c, t in LOG_COLUMNS),
        )
    ),
    "items": (
        "UPDATE items SET version = :version, last_key = changed.last_key"
        " FROM unnest(CAST(:item_ids AS INTEGER[]), CAST(:item_keys AS VARCHAR[]))"
        " AS changed(id, last_key) WHERE items.id = changed.id"
    ),
    "patrons": (
        "UPDATE patrons SET version = :version"
        " WHERE patrons.id = ANY(CAST(:patron_ids AS INTEGER[]))"
    ),
    "loans": (
        "UPDATE loans SET returned_at = closed.returned_at"
        " FROM unnest(CAST(:loan_ids AS INTEGER[]), CAST(:loan_returned AS TIMESTAMP[]))"
        " AS closed(id, returned_at) WHERE loans.id = closed.id"
    ),
}


@cache
def _statement(parts: tuple[str, ...]) -> TextClause:
    *ctes, last = parts
    with_ = ", ".join(f"w_{name} AS ({_PARTS[name]})" for name in ctes)
    return text((f"WITH {with_} " if with_ else "") + _PARTS[last])


class ClosingWrites:
    """Collects the parts of one batch's closing statement."""

    def __init__(self, version: int) -> None:
        self.params: dict[str, Any] = {"version": version}
        self.parts: list[str] = []

    def log_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        for col, sql_type in LOG_COLUMNS:
            values = [row[col] for row in rows]
            if sql_type == "TIMESTAMP":
                values = [as_naive_utc(v) for v in values]
            self.params[f"log_{col}"] = values
        self.parts.append("log")

    def items(self, ids: list[int], keys: list[str | None]) -> None:
        if ids:
            self.params.update(item_ids=ids, item_keys=keys)
            self.parts.append("items")

    def patrons(self, ids: list[int]) -> None:
        if ids:
            self.params["patron_ids"] = ids
            self.parts.append("patrons")

    def loans(self, returned: dict[int, datetime | None]) -> None:
        if returned:
            self.params["loan_ids"] = list(returned)
            self.params["loan_returned"] = [as_naive_utc(t) for t in returned.values()]
            self.parts.append("loans")

    def execute(self, session: Session) -> None:
        if self.parts:
            session.execute(_statement(tuple(self.parts)), self.params)
