"""Staff-facing listings shared by the API and the CLI."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Item, Loan, Patron
from server.timeutil import utcnow


class StaffLoan(BaseModel):
    """An open loan as staff see it."""

    card: str
    name: str
    item: str
    title: str
    issued_at: datetime
    due_at: datetime
    renewals: int
    overdue: bool


def open_loans(session: Session, card: str | None = None, limit: int = 5000) -> list[StaffLoan]:
    now = utcnow()
    q = (
        select(Patron.card, Patron.name, Item.barcode, Item.title, Loan)
        .join(Patron, Patron.id == Loan.patron_id)
        .join(Item, Item.id == Loan.item_id)
        .where(Loan.returned_at.is_(None))
    )
    if card:
        q = q.where(Patron.card == card)
    rows = session.execute(q.order_by(Patron.card, Loan.due_at).limit(limit))
    return [
        StaffLoan(
            card=c,
            name=n,
            item=b,
            title=t,
            issued_at=loan.issued_at,
            due_at=loan.due_at,
            renewals=loan.renewals,
            overdue=loan.due_at < now,
        )
        for c, n, b, t, loan in rows
    ]
