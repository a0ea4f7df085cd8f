"""The guest book and patron feedback on the server: applying visit, group-visit
and feedback transactions (server/processing.py hands them here).

None of them touches circulation or events, so none goes through the ledger or
replays: each is one row in its own table, keyed by the transaction id, written
inside the batch's write transaction (so the transaction log's idempotency
covers them). A card counts once per counting window across every kiosk: the
first of its visits in the window to arrive takes the window's ``count_key``
(unique), the others are stored uncounted. Arrival order decides only which
visit counts, never how many, because windows are fixed (a day, or a block of
hours), not sliding. Amending transactions (a member's purpose, a rating's
chips) change the row they name, and only a row from the same kiosk.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Table, insert, select, update
from sqlalchemy.orm import Session

from core.wire import Kind, Status, TransactionIn
from server.batch import Outcome
from server.models import Feedback, FeedbackChip, GroupVisit, Visit
from server.text import storable
from server.timeutil import WIB, local_date

VISIT_KINDS = frozenset({Kind.VISIT, Kind.GROUP_VISIT, Kind.FEEDBACK})
#: the kinds written into the ILS's own guest book (``[server.ils]``)
GUEST_BOOK_KINDS = frozenset({Kind.VISIT, Kind.GROUP_VISIT})

_VISITS = cast(Table, Visit.__table__)
_GROUPS = cast(Table, GroupVisit.__table__)
_FEEDBACK = cast(Table, Feedback.__table__)
_CHIPS = cast(Table, FeedbackChip.__table__)


def validate_visit(txn: TransactionIn) -> str | None:
    """Why a guest-book or feedback transaction cannot be stored, or None."""
    texts: list[str | None] = []
    if txn.kind == Kind.VISIT:
        v = txn.visit
        if v is None:
            return "visit needs a visit"
        if not (v.amends or txn.card or (v.name and v.name.strip())):
            return "visit needs a card, a visitor's name, or amends"
        texts = [v.name, v.education, v.occupation, v.institution, v.purpose, v.contact]
        texts += [v.window, v.amends]
    elif txn.kind == Kind.GROUP_VISIT:
        g = txn.group
        if g is None:
            return "group_visit needs a group"
        if g.male + g.female == 0:
            return "group_visit needs at least one person"
        texts = [g.leader, g.phone, g.institution, g.purpose]
    elif txn.kind == Kind.FEEDBACK:
        f = txn.feedback
        if f is None:
            return "feedback needs a feedback"
        if txn.card or txn.guest or txn.ticket or txn.visit or txn.group:
            return "feedback is anonymous: it must not carry a card, ticket or guest"
        texts = [*f.chips, f.amends]
    if not all(storable(t) for t in texts):
        return "text fields must be valid UTF-8 without NUL characters"
    return None


def apply_visit(session: Session, txn: TransactionIn) -> Outcome:
    """Store one guest-book or feedback transaction (already validated and normalised)."""
    if txn.kind == Kind.VISIT:
        return _visit(session, txn)
    if txn.kind == Kind.GROUP_VISIT:
        return _group(session, txn)
    return _feedback(session, txn)


def _when(txn: TransactionIn) -> dict[str, object]:
    local = txn.at.astimezone(WIB)
    return {"id": txn.id, "kiosk": txn.kiosk, "at": txn.at, "day": local.date(), "hour": local.hour}


def _visit(session: Session, txn: TransactionIn) -> Outcome:
    v = txn.visit
    assert v is not None
    if v.amends:
        result = session.execute(
            update(_VISITS)
            .where(_VISITS.c.id == v.amends, _VISITS.c.kiosk == txn.kiosk)
            .values(purpose=v.purpose)
        )
        done = cast(CursorResult[Any], result).rowcount
        return Outcome(message="purpose set" if done else "no such visit here", effective=False)
    count_key = None
    if txn.card:
        window = v.window or local_date(txn.at).isoformat()
        key = f"{txn.card}|{window}"[:120]
        taken = session.execute(select(_VISITS.c.id).where(_VISITS.c.count_key == key)).first()
        count_key = None if taken else key
    counted = txn.card is None or count_key is not None
    session.execute(
        insert(_VISITS).values(
            **_when(txn),
            card=txn.card,
            member=txn.card is not None,
            counted=counted,
            count_key=count_key,
            name=None if txn.card else v.name,
            gender=v.gender.value if v.gender else None,
            education=v.education,
            occupation=v.occupation,
            institution=v.institution,
            purpose=v.purpose,
            contact=None if txn.card else v.contact,
        )
    )
    return Outcome(
        Status.ACCEPTED,
        message="counted" if counted else "already counted in this window",
        effective=False,
    )


def _group(session: Session, txn: TransactionIn) -> Outcome:
    g = txn.group
    assert g is not None
    session.execute(
        insert(_GROUPS).values(
            **_when(txn),
            leader=g.leader,
            phone=g.phone,
            institution=g.institution,
            male=g.male,
            female=g.female,
            purpose=g.purpose,
        )
    )
    return Outcome(effective=False)


def _feedback(session: Session, txn: TransactionIn) -> Outcome:
    f = txn.feedback
    assert f is not None
    chips = list(dict.fromkeys(f.chips))
    if f.amends:
        own = session.execute(
            select(_FEEDBACK.c.id).where(_FEEDBACK.c.id == f.amends, _FEEDBACK.c.kiosk == txn.kiosk)
        ).first()
        if own is None:
            return Outcome(message="no such rating here", effective=False)
        have = set(session.scalars(select(_CHIPS.c.chip).where(_CHIPS.c.feedback_id == f.amends)))
        rows = [{"feedback_id": f.amends, "chip": c} for c in chips if c not in have]
    else:
        session.execute(
            insert(_FEEDBACK).values(
                **_when(txn), service=f.service.value, score=f.score, event_id=txn.event_id
            )
        )
        rows = [{"feedback_id": txn.id, "chip": c} for c in chips]
    if rows:
        session.execute(insert(_CHIPS), rows)
    return Outcome(effective=False)
