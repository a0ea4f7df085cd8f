"""Conflict records for staff: what a batch could not honour, and what a kiosk told
a patron differently from what the server applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.wire import Reason, Status
from server.batch import Outcome
from server.models import Conflict
from server.statements import chunks
from server.timeutil import utcnow


class LoggedTxn(Protocol):
    """What a conflict needs from a transaction row."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...


# conflicts a replay must not settle: they are about what a kiosk sent or said
_STAFF_ONLY = {Reason.KIOSK_TOLD_REFUSED, Reason.OUT_OF_BOUNDS}


def sync_conflicts(
    session: Session, outcomes: Sequence[tuple[LoggedTxn, Outcome]], *, replay: bool
) -> None:
    """Create conflict rows for CONFLICT outcomes; on replay, settle ones that went away."""
    if not outcomes:
        return
    # rows new in this batch cannot have a conflict yet: only replays need to look
    ids = [row.id for row, _ in outcomes] if replay else []
    if not replay and any(o.status == Status.CONFLICT for _, o in outcomes):
        session.flush()  # transactions first: conflicts reference them (no ORM relationship)
    existing: dict[str, Conflict] = {}
    for chunk in chunks(ids):
        for c in session.scalars(select(Conflict).where(Conflict.transaction_id.in_(chunk))):
            existing[c.transaction_id] = c
    for row, outcome in outcomes:
        conflict = existing.get(row.id)
        # An open conflict the merge may rewrite or settle: not one only staff can
        # settle (a patron told "refused", whatever the replay decides now).
        mergeable = (
            conflict
            if conflict is not None
            and conflict.resolved_at is None
            and conflict.reason not in _STAFF_ONLY
            else None
        )
        if outcome.status == Status.CONFLICT and outcome.reason is not None:
            if conflict is None:
                session.add(
                    Conflict(
                        transaction_id=row.id,
                        kind=row.kind,
                        reason=outcome.reason.value,
                        message=outcome.message or "",
                    )
                )
            elif mergeable is not None:
                mergeable.reason = outcome.reason.value
                mergeable.message = outcome.message or ""
        elif replay and mergeable is not None:
            mergeable.resolved_at = utcnow()
            mergeable.resolved_by = "server"
            mergeable.note = "no longer a conflict once late transactions were merged in time order"


#: What staff read in the conflict list for a KIOSK_TOLD_REFUSED conflict.
TOLD_REFUSED_MESSAGE = (
    "applied here, but the kiosk told the patron it was refused or showed no result"
    " (its answer was lost): check that the patron has what this says"
)


def flag_told_refused(session: Session, rows: Sequence[LoggedTxn]) -> None:
    """A conflict for each applied transaction a kiosk later reported as refused.

    The kiosk's copy carries ``kiosk_refused``; the server answers it with its first
    result and changes nothing. Only the kiosk flagged the difference before, so a
    librarian at the central server never saw that a loan (or a return) stands for
    a patron who walked away told otherwise. One conflict per transaction, so a
    repeated copy adds nothing.
    """
    if not rows:
        return
    have: set[str] = set()
    for chunk in chunks([r.id for r in rows]):
        have.update(
            session.scalars(
                select(Conflict.transaction_id).where(Conflict.transaction_id.in_(chunk))
            )
        )
    for row in rows:
        if row.id not in have:
            have.add(row.id)
            session.add(
                Conflict(
                    transaction_id=row.id,
                    kind=row.kind,
                    reason=Reason.KIOSK_TOLD_REFUSED.value,
                    message=TOLD_REFUSED_MESSAGE,
                )
            )
