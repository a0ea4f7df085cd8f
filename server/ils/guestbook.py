"""Guest-book entries as the connectors write them into the ILS's own guest book.

Only visits that count are written (:mod:`server.visits`: a card counts once per
counting window; a visitor without a card always counts), which is what the ILS's
own guest book keeps when it limits repeat check-ins. Each row written into the
ILS carries the visit's id in ``pustaka_txn`` (unique), so writing a visit twice
writes one row; writing it again after an amend brings its purpose up to date.
Times go into the ILS as naive local time (WIB), as the ILS's own pages write them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from server.db import Database
from server.models import GroupVisit, Patron, Visit
from server.statements import chunks
from server.timeutil import naive_local


@dataclass(frozen=True)
class GuestVisit:
    """One counted visit: a member by card, or a visitor without one."""

    id: str
    kiosk: str
    at: datetime  # naive local time (WIB)
    card: str | None
    name: str  # the member's name on the server, or the visitor's own
    gender: str | None
    education: str | None
    occupation: str | None
    institution: str | None
    purpose: str | None


@dataclass(frozen=True)
class GuestGroup:
    """One group (rombongan) with its head count."""

    id: str
    kiosk: str
    at: datetime  # naive local time (WIB)
    leader: str
    phone: str | None
    institution: str
    male: int
    female: int
    purpose: str | None

    @property
    def people(self) -> int:
        return self.male + self.female


def load_visits(db: Database, ids: Sequence[str]) -> list[GuestVisit]:
    """The counted visits among ``ids``, oldest first (others are skipped)."""
    found: list[GuestVisit] = []
    with db.read() as session:
        for part in chunks(list(dict.fromkeys(ids))):
            rows = session.execute(
                select(Visit, Patron.name)
                .outerjoin(Patron, Patron.card == Visit.card)
                .where(Visit.id.in_(part), Visit.counted.is_(True))
            ).all()
            for v, patron_name in rows:
                found.append(
                    GuestVisit(
                        id=v.id,
                        kiosk=v.kiosk,
                        at=naive_local(v.at),
                        card=v.card,
                        name=(patron_name if v.card else v.name) or v.card or "",
                        gender=v.gender,
                        education=v.education,
                        occupation=v.occupation,
                        institution=v.institution,
                        purpose=v.purpose,
                    )  # fmt: skip
                )
    found.sort(key=lambda v: (v.at, v.id))
    return found


def load_groups(db: Database, ids: Sequence[str]) -> list[GuestGroup]:
    """The group visits among ``ids``, oldest first."""
    found: list[GuestGroup] = []
    with db.read() as session:
        for part in chunks(list(dict.fromkeys(ids))):
            for g in session.scalars(select(GroupVisit).where(GroupVisit.id.in_(part))):
                found.append(
                    GuestGroup(
                        id=g.id,
                        kiosk=g.kiosk,
                        at=naive_local(g.at),
                        leader=g.leader,
                        phone=g.phone,
                        institution=g.institution,
                        male=g.male,
                        female=g.female,
                        purpose=g.purpose,
                    )  # fmt: skip
                )
    found.sort(key=lambda g: (g.at, g.id))
    return found


def clip(value: str | None, size: int) -> str | None:
    """``value`` cut to the ILS column's ``size`` (None stays None)."""
    return None if value is None else value[:size]
