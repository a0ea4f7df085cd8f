"""A batch's closing writes on PostgreSQL as one statement (one round trip).

The transaction-log rows, the changed items' versions and order keys, the
versions of patrons whose loan count changed and the return times of closed
loans are independent writes whose results nobody reads. Each is a set-based
statement over array parameters (``unnest``; the log rows as one JSON document),
and they are sent together as data-modifying CTEs of one statement: the same SQL
text for the same set of parts, so nothing is compiled per batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from server.timeutil import as_naive_utc

# the transactions table's columns, in the order of the rows given
LOG_COLUMNS = (
    "id", "kiosk", "seq", "kind", "at", "offline", "card", "item", "event_id", "ticket_code",
    "person_key", "order_key", "effective", "status", "payload", "result", "received_at",
)  # fmt: skip
_LOG_TIMES = ("at", "received_at")

_PARTS = {
    # one JSON document for all rows: psycopg's text arrays escape every quote of
    # the JSON payload and result columns in Python, a third of the batch's time
    "log": (
        "INSERT INTO transactions ({cols}) SELECT {cols}"
        " FROM json_populate_recordset(NULL::transactions, CAST(:log_rows AS JSON))"
    ).format(cols=", ".join(LOG_COLUMNS)),
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
    "new_loans": (
        "INSERT INTO loans (item_id, patron_id, issued_at, due_at, returned_at, renewals,"
        " checkout_txn_id) SELECT * FROM unnest(CAST(:nl_item AS INTEGER[]),"
        " CAST(:nl_patron AS INTEGER[]), CAST(:nl_issued AS TIMESTAMP[]),"
        " CAST(:nl_due AS TIMESTAMP[]), CAST(:nl_returned AS TIMESTAMP[]),"
        " CAST(:nl_renewals AS INTEGER[]), CAST(:nl_txn AS VARCHAR[]))"
    ),
    # the kiosks heard from (several when patrons' requests share a write); a field a
    # kiosk did not report keeps its value
    "kiosks": (
        "UPDATE kiosks SET last_seen = seen.last_seen,"
        " queue_depth = COALESCE(seen.queue_depth, kiosks.queue_depth),"
        " snapshot_age_s = COALESCE(seen.snapshot_age_s, kiosks.snapshot_age_s),"
        " app_version = COALESCE(seen.app_version, kiosks.app_version)"
        " FROM unnest(CAST(:k_name AS VARCHAR[]), CAST(:k_last_seen AS TIMESTAMP[]),"
        " CAST(:k_queue_depth AS INTEGER[]), CAST(:k_snapshot_age_s AS FLOAT[]),"
        " CAST(:k_app_version AS VARCHAR[]))"
        " AS seen(name, last_seen, queue_depth, snapshot_age_s, app_version)"
        " WHERE kiosks.name = seen.name"
    ),
}
_KIOSK_FIELDS = ("queue_depth", "snapshot_age_s", "app_version")


def _iso(value: datetime | None) -> str | None:
    naive = as_naive_utc(value)
    return None if naive is None else naive.isoformat()


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
        doc = []
        for row in rows:
            out = {col: row[col] for col in LOG_COLUMNS}
            for col in _LOG_TIMES:
                out[col] = _iso(row[col])
            doc.append(out)
        self.params["log_rows"] = json.dumps(doc, ensure_ascii=False)
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

    def new_loans(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.params.update(
                nl_item=[r["item_id"] for r in rows],
                nl_patron=[r["patron_id"] for r in rows],
                nl_issued=[as_naive_utc(r["issued_at"]) for r in rows],
                nl_due=[as_naive_utc(r["due_at"]) for r in rows],
                nl_returned=[as_naive_utc(r["returned_at"]) for r in rows],
                nl_renewals=[r["renewals"] for r in rows],
                nl_txn=[r["checkout_txn_id"] for r in rows],
            )
            self.parts.append("new_loans")

    def kiosks(self, seen: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Each kiosk's last contact and reported health (``kiosk_seen_values``), one
        entry per kiosk."""
        if seen:
            self.params["k_name"] = [name for name, _ in seen]
            self.params["k_last_seen"] = [as_naive_utc(v["last_seen"]) for _, v in seen]
            self.params.update({f"k_{f}": [v.get(f) for _, v in seen] for f in _KIOSK_FIELDS})
            self.parts.append("kiosks")

    def execute(self, session: Session) -> None:
        if self.parts:
            session.execute(_statement(tuple(self.parts)), self.params)
