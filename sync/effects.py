"""A transaction's effect on the kiosk's local snapshot, as SQL.

The store runs these inside the same SQLite transaction as the outbox row, and
again on top of every fresh snapshot for rows the server has not seen yet. So
each effect must be idempotent: applying it twice leaves the same state (a
checkout counts a loan only when the item was not already on loan to that
card; a return uncounts only while the item is still on loan).

Cards are stored as tags: ``card_tag(card)`` is the store's SQL function
(``sync.secrets.KioskKeys.tag``). The statements use sub-selects instead of a
SELECT round trip from Python, so the write lock is held for as few statements as possible.
"""

from __future__ import annotations

import sqlite3

from core.wire import Kind, TransactionIn, TransactionResult


def ticket_code(ticket: str) -> str:
    """The registration code inside a ticket payload: signed ``PK1.<event>.<code>.<sig>``
    or unsigned ``PKU.<event>.<code>`` (made offline; see core/tickets.py)."""
    parts = ticket.strip().split(".")
    if (len(parts), parts[0]) in ((4, "PK1"), (3, "PKU")):
        return parts[2]
    return ticket


def _iso(dt: object) -> str | None:
    return dt.isoformat() if dt is not None else None  # type: ignore[attr-defined]


# Items name their borrower by card tag (``card_tag()``, registered by the store);
# a patron's loan count is read from them (``LocalStore.patron``).
_CHECKOUT_ITEM = (
    "UPDATE items SET status='on_loan', on_loan_to=card_tag(?1), due_at=?3 WHERE barcode=?2"
)
_CHECKIN_ITEM = "UPDATE items SET status='available', on_loan_to=NULL, due_at=NULL WHERE barcode=?1"


def apply_local_effect(
    db: sqlite3.Connection | sqlite3.Cursor, tx: TransactionIn, result: TransactionResult
) -> None:
    """Bring the snapshot in step with an accepted (or conflicting) transaction."""
    if tx.kind == Kind.CHECKOUT and tx.item:
        due = _iso(result.due_at or tx.due_at)
        db.execute(_CHECKOUT_ITEM, (tx.card, tx.item, due))
    elif tx.kind == Kind.CHECKIN and tx.item:
        db.execute(_CHECKIN_ITEM, (tx.item,))
    elif tx.kind == Kind.RENEW and tx.item and result.due_at:
        db.execute("UPDATE items SET due_at=? WHERE barcode=?", (_iso(result.due_at), tx.item))
    elif tx.kind == Kind.EVENT_REGISTER and result.ticket and tx.event_id is not None:
        db.execute(
            "INSERT OR IGNORE INTO registrations(ticket, event_id, card, guest_name)"
            " VALUES (?,?,card_tag(?),?)",
            (
                ticket_code(result.ticket),
                tx.event_id,
                tx.card,
                tx.guest.name if tx.guest else None,
            ),
        )
    elif tx.kind == Kind.DOOR_SIGNIN and tx.event_id is not None:
        _door(db, tx, result)
    elif tx.kind == Kind.VISIT and tx.card and tx.visit is not None and tx.visit.window:
        db.execute(
            "INSERT OR IGNORE INTO visit_marks(card, window, first_at) VALUES (?,?,?)",
            (tx.card, tx.visit.window, _iso(tx.at)),
        )


def _door(
    db: sqlite3.Connection | sqlite3.Cursor, tx: TransactionIn, result: TransactionResult
) -> None:
    when = _iso(result.signed_in_at or tx.at)
    if tx.ticket:
        db.execute(
            "UPDATE registrations SET signed_in_at=COALESCE(signed_in_at, ?) WHERE ticket=?",
            (when, ticket_code(tx.ticket)),
        )
    elif tx.card:
        cur = db.execute(
            "UPDATE registrations SET signed_in_at=COALESCE(signed_in_at, ?)"
            " WHERE event_id=? AND card=card_tag(?)",
            (when, tx.event_id, tx.card),
        )
        if cur.rowcount == 0:
            # A walk-in with a card: remember it so a second scan is "already signed in".
            db.execute(
                "INSERT OR IGNORE INTO registrations(ticket, event_id, card, signed_in_at)"
                " VALUES (?,?,card_tag(?),?)",
                (f"walkin:{tx.id}", tx.event_id, tx.card, when),
            )
    elif tx.guest:
        db.execute(
            "INSERT OR IGNORE INTO registrations(ticket, event_id, guest_name, signed_in_at)"
            " VALUES (?,?,?,?)",
            (f"walkin:{tx.id}", tx.event_id, tx.guest.name, when),
        )
