"""A month of a small library's activity, for console screenshots and page tests.

Written straight into the server's database (the transaction log the dashboard reads),
with registrations for the demo workshop and one open conflict, so every console page
has something true-looking to show. Seeded: the same scene every time.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from core import demo
from server.db import Database
from server.models import Conflict, Event, Kiosk, Registration, Transaction

KIOSKS = ("kiosk-lobi", "kiosk-anak", "kiosk-pintu")
_KINDS = ["checkout"] * 45 + ["checkin"] * 40 + ["renew"] * 8 + ["door_signin"] * 4
_KINDS += ["event_register"] * 3
GUESTS = (
    ("Rina Wulandari", "0812-3456-7890", "SMAN 1 Probolinggo"),
    ("Agus Salim", "0813-2222-1111", "Karang Taruna Kanigaran"),
    ("Maya Putri", "0857-1000-2000", "Universitas Panca Marga"),
)


def build(db: Database, now: datetime | None = None, *, transactions: int = 2500) -> None:
    """Add the scene to a database that ``seed-demo`` filled."""
    now = now or datetime.now(UTC)
    rnd = random.Random(11)
    cards = [p.card for p in demo.PATRONS if p.card.startswith("AGT")]
    barcodes = [i.barcode for i in demo.ITEMS]
    with db.write() as (s, v):
        for name in KIOSKS:
            if s.execute(select(Kiosk).where(Kiosk.name == name)).scalar() is None:
                s.add(
                    Kiosk(
                        name=name,
                        token_hash=uuid.uuid4().hex,
                        last_seen=now - timedelta(minutes=rnd.choice((1, 2, 25, 300))),
                        queue_depth=rnd.choice((0, 0, 3)),
                        snapshot_age_s=rnd.choice((40.0, 95.0, 620.0)),
                        app_version="0.1.0",
                    )
                )
        rows = []
        for i in range(transactions):
            # busier in the afternoon and on Saturdays, as a city library is
            day = rnd.random() ** 1.3 * 30
            hour = rnd.choice((8, 9, 10, 10, 11, 13, 14, 14, 15, 15, 16, 16, 17, 18))
            at = (now - timedelta(days=day)).replace(hour=hour - 7 if hour >= 7 else 0)
            at = at.replace(minute=rnd.randrange(60))
            if at > now:
                at -= timedelta(days=1)
            kind = rnd.choice(_KINDS)
            rows.append(
                {
                    "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                    "kiosk": rnd.choice(KIOSKS),
                    "seq": 100_000 + i,
                    "kind": kind,
                    "at": at,
                    "offline": rnd.random() < 0.1,
                    "card": rnd.choice(cards),
                    "item": rnd.choice(barcodes)
                    if kind in ("checkout", "checkin", "renew")
                    else None,
                    "event_id": None,
                    "order_key": f"{at.isoformat()}|{i}",
                    "effective": True,
                    "status": "accepted",
                    "payload": "{}",
                    "result": "{}",
                    "received_at": at,
                }
            )
        s.execute(insert(Transaction), rows)
        event = s.execute(select(Event).where(Event.title == demo.WORKSHOP.title)).scalar_one()
        for i, (name, phone, institution) in enumerate(GUESTS):
            s.add(
                Registration(
                    event_id=event.id,
                    ticket_code=f"SCENE{i:03d}",
                    person_key=f"guest:{name.lower()}|{phone}",
                    guest_name=name,
                    guest_phone=phone,
                    guest_institution=institution,
                    registered_at=now - timedelta(days=2, hours=i),
                    waitlisted=False,
                    version=v,
                    deleted=False,
                )
            )
        s.add(
            Registration(
                event_id=event.id,
                ticket_code="SCENE100",
                person_key="card:AGT0001",
                card="AGT0001",
                registered_at=now - timedelta(days=1),
                waitlisted=False,
                version=v,
                deleted=False,
            )
        )
        conflict_tx = Transaction(
            id=str(uuid.UUID(int=rnd.getrandbits(128))),
            kiosk="kiosk-anak",
            seq=999_999,
            kind="checkout",
            at=now - timedelta(hours=3),
            offline=True,
            card="AGT0002",
            item="B000104",
            order_key="conflict",
            effective=True,
            status="conflict",
            payload="{}",
            result="{}",
            received_at=now - timedelta(hours=1),
        )
        s.add(conflict_tx)
        s.flush()
        s.add(
            Conflict(
                transaction_id=conflict_tx.id,
                kind="checkout",
                reason="item_on_loan_to_other",
                message="item is on loan to another patron",
            )
        )
