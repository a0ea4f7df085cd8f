"""A batch's closing writes on PostgreSQL as one statement (one round trip).

The transaction-log rows, the changed items (version, order key, shelf status
and hold), the versions of patrons whose loan count changed, the loans made and
the loans returned or renewed are independent writes whose results nobody reads.
Each is a set-based statement over array parameters (``unnest``; the log rows as
one JSON document), and they are sent together as data-modifying CTEs of one
statement: the same SQL text for the same set of parts, so nothing is compiled
per batch.

Array parameters go as PostgreSQL array literals made here (:func:`array_literal`,
:class:`ArrayLiteral`), not as lists for psycopg to dump element by element. Both
tricks shorten the time a batch holds the write gate: ``server.tx_per_s``,
``server.batch10k_s`` and ``server.checkout_p99_ms`` of ``make bench`` show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ARRAY, TextClause, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from server.timeutil import as_naive_utc

# the transactions table's columns, in the order of the rows given
LOG_COLUMNS = (
    "id", "kiosk", "seq", "kind", "at", "offline", "card", "item", "event_id", "ticket_code",
    "person_key", "order_key", "effective", "status", "payload", "result", "received_at",
)  # fmt: skip
_LOG_TIMES = ("at", "received_at")

_PARTS = {
    # one JSON document for all rows: psycopg's text arrays would escape every quote
    # of the JSON payload and result columns in Python
    "log": (
        "INSERT INTO transactions ({cols}) SELECT {cols}"
        " FROM json_populate_recordset(NULL::transactions, CAST(:log_rows AS JSON))"
    ).format(cols=", ".join(LOG_COLUMNS)),
    # with the shelf status and hold, which a checkout or return may change
    "items": (
        "UPDATE items SET version = :version, last_key = changed.last_key,"
        " status = changed.status, hold_patron_id = changed.hold_patron_id"
        " FROM unnest(CAST(:item_ids AS INTEGER[]), CAST(:item_keys AS VARCHAR[]),"
        " CAST(:item_status AS VARCHAR[]), CAST(:item_hold AS INTEGER[]))"
        " AS changed(id, last_key, status, hold_patron_id) WHERE items.id = changed.id"
    ),
    "patrons": (
        "UPDATE patrons SET version = :version"
        " WHERE patrons.id = ANY(CAST(:patron_ids AS INTEGER[]))"
    ),
    # loans returned or renewed: one part for both, as PostgreSQL applies only one of
    # two changes a statement makes to the same row
    "loans": (
        "UPDATE loans SET returned_at = changed.returned_at, due_at = changed.due_at,"
        " renewals = changed.renewals"
        " FROM unnest(CAST(:loan_ids AS INTEGER[]), CAST(:loan_returned AS TIMESTAMP[]),"
        " CAST(:loan_due AS TIMESTAMP[]), CAST(:loan_renewals AS INTEGER[]))"
        " AS changed(id, returned_at, due_at, renewals) WHERE loans.id = changed.id"
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


def _element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        # inside double quotes only a quote and a backslash are special
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, datetime):
        # naive UTC: a timestamp column ignores an offset written in its input
        naive = as_naive_utc(value)
        assert naive is not None
        return naive.isoformat()
    if isinstance(value, bool | int | float):
        return str(value)
    raise TypeError(f"no array literal for {type(value).__name__}")


def array_literal(values: Iterable[object]) -> str:
    """A PostgreSQL array literal (``{1,2}``, ``{"a","b"}``, ``NULL`` for None) for a
    parameter the statement casts (``CAST(:ids AS INTEGER[])``).

    psycopg dumps a list parameter element by element in Python (and escapes text
    ones with a regular expression), many times the cost of this join; every batch
    binds a dozen such arrays while it holds the write gate.
    """
    return "{" + ",".join(map(_element, values)) + "}"


class ArrayLiteral(TypeDecorator[Any]):
    """A bound list of ``item_type`` values sent as one :func:`array_literal` text.

    The statement still types the parameter as the array (``$1::VARCHAR(64)[]``), so
    PostgreSQL reads the text as that array when it binds it and plans with the
    actual values. (A text parameter cast to the array in SQL is not folded into a
    constant, so PostgreSQL would plan the item and patron reads without knowing the
    values, and some plans come out far slower.)
    """

    impl = ARRAY
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], str | None]:
        # replaces ARRAY's own processor, which would treat the text as a list
        return lambda value: None if value is None else array_literal(value)


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

    def _arrays(self, part: str, rows: Sequence[Any], names: dict[str, str]) -> None:
        """Add ``part`` with, for each parameter in ``names``, the array of that
        attribute of ``rows``."""
        if rows:
            for param, attr in names.items():
                self.params[param] = array_literal(getattr(row, attr) for row in rows)
            self.parts.append(part)

    def items(self, changed: Sequence[Any]) -> None:
        """Items the batch changed (objects with ``id``, ``last_key``, ``status`` and
        ``hold_patron_id``): written with the batch's version."""
        names = {"item_ids": "id", "item_keys": "last_key", "item_status": "status",
                 "item_hold": "hold_patron_id"}  # fmt: skip
        self._arrays("items", changed, names)

    def patrons(self, ids: list[int]) -> None:
        if ids:
            self.params["patron_ids"] = array_literal(ids)
            self.parts.append("patrons")

    def loans(self, changed: Sequence[Any]) -> None:
        """Loans read from the database and returned or renewed since (objects with
        ``id``, ``returned_at``, ``due_at`` and ``renewals``)."""
        names = {"loan_ids": "id", "loan_returned": "returned_at", "loan_due": "due_at",
                 "loan_renewals": "renewals"}  # fmt: skip
        self._arrays("loans", changed, names)

    def new_loans(self, made: Sequence[Any]) -> None:
        """Loans made in the batch (objects with the loans columns but ``id``)."""
        names = {"nl_item": "item_id", "nl_patron": "patron_id", "nl_issued": "issued_at",
                 "nl_due": "due_at", "nl_returned": "returned_at", "nl_renewals": "renewals",
                 "nl_txn": "checkout_txn_id"}  # fmt: skip
        self._arrays("new_loans", made, names)

    def kiosks(self, seen: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Each kiosk's last contact and reported health (``kiosk_seen_values``), one
        entry per kiosk."""
        if seen:
            self.params["k_name"] = array_literal(name for name, _ in seen)
            self.params["k_last_seen"] = array_literal(v["last_seen"] for _, v in seen)
            self.params.update(
                {f"k_{f}": array_literal(v.get(f) for _, v in seen) for f in _KIOSK_FIELDS}
            )
            self.parts.append("kiosks")

    def execute(self, session: Session) -> None:
        if self.parts:
            session.execute(_statement(tuple(self.parts)), self.params)
