"""Property: offline transactions from three kiosks, delivered in any order, in any
batches and with repeats, leave the same loans and attendance as applying them
one by one in event-time order."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from core.wire import TransactionIn
from server.models import Conflict, Event, Item, Loan, Patron, Registration, Transaction
from server.service import Server
from server.timeutil import WIB

START = datetime(2026, 12, 5, 9, 0, tzinfo=WIB) - timedelta(hours=1)
KIOSKS = ["k1", "k2", "k3"]
ITEMS = ["B000101", "B000102", "B000108"]
CARDS = ["AGT0001", "AGT0002", "AGT0003", "STF0001"]
GUESTS = [{"name": "Rina", "phone": "0812"}, {"name": "Joko", "email": "joko@example.id"}]

action = st.one_of(
    st.tuples(st.just("checkout"), st.sampled_from(ITEMS), st.sampled_from(CARDS)),
    st.tuples(st.just("checkin"), st.sampled_from(ITEMS), st.none()),
    st.tuples(st.just("renew"), st.sampled_from(ITEMS), st.sampled_from(CARDS)),
    st.tuples(st.just("event_register"), st.none(), st.sampled_from(CARDS + [None])),
    st.tuples(st.just("door_signin"), st.none(), st.sampled_from(CARDS + [None])),
)
raw_txn = st.tuples(st.sampled_from(KIOSKS), st.integers(0, 90), action, st.integers(0, 1))


def _build(raw: list, event_id: int, tag: int) -> list[TransactionIn]:
    # per kiosk, sequence numbers follow the kiosk's own clock, as on a real kiosk
    txns = []
    for kiosk in KIOSKS:
        mine = sorted((r for r in raw if r[0] == kiosk), key=lambda r: r[1])
        for seq, (_k, minute, (kind, item, card), guest_i) in enumerate(mine, start=1):
            extra: dict = {}
            if kind in ("event_register", "door_signin"):
                extra["event_id"] = event_id
                if card is None:
                    extra["guest"] = GUESTS[guest_i]
            txns.append(
                TransactionIn(
                    id=f"{tag}-{kiosk}-{seq}",
                    kiosk=kiosk,
                    seq=seq,
                    kind=kind,
                    at=START + timedelta(minutes=minute),
                    offline=True,
                    card=card,
                    item=item,
                    **extra,
                )
            )
    return txns


def _reset(server: Server) -> int:
    with server.db.write() as (s, v):
        for model in (Conflict, Transaction, Loan, Registration):
            s.execute(delete(model))
        budi = s.execute(select(Patron.id).where(Patron.card == "AGT0002")).scalar_one()
        s.execute(update(Item).values(last_key=None, status="available", hold_patron_id=None))
        s.execute(update(Item).where(Item.barcode == "B000108").values(hold_patron_id=budi))
        s.execute(update(Event).values(last_key=None, capacity=2, waitlist=True))
        return s.execute(select(Event.id)).scalar_one()


def _state(server: Server) -> tuple[list, list]:
    with server.db.read() as s:
        rows = s.execute(
            select(Loan, Item.barcode, Patron.card)
            .join(Item, Item.id == Loan.item_id)
            .join(Patron, Patron.id == Loan.patron_id)
        )
        loans = [
            (barcode, card, loan.issued_at, loan.due_at, loan.returned_at, loan.renewals)
            for loan, barcode, card in rows
        ]
        regs = [
            (r.event_id, r.person_key, r.ticket_code, r.waitlisted, r.signed_in_at)
            for r in s.scalars(select(Registration).where(Registration.deleted.is_(False)))
        ]
    # repr as the sort key: returned_at and signed_in_at may be None
    return sorted(loans, key=repr), sorted(regs, key=repr)


_examples = iter(range(10**9))


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw=st.lists(raw_txn, min_size=1, max_size=18),
    data=st.data(),
)
def test_any_delivery_order_equals_event_time_order(demo: Server, raw: list, data) -> None:
    tag = next(_examples)
    # the demo event is next Saturday and these offline transactions happen in it:
    # allow event times that far ahead (the server clamps later ones)
    demo.settings = replace(demo.settings, clock_skew_minutes=8 * 24 * 60)
    event_id = _reset(demo)
    txns = _build(raw, event_id, tag)
    for txn in sorted(txns, key=lambda t: (t.at, t.kiosk, t.seq)):
        demo.apply([txn])
    expected = _state(demo)

    _reset(demo)
    delivery = data.draw(st.permutations(txns), label="delivery")
    repeats = data.draw(st.lists(st.sampled_from(txns), max_size=6), label="repeats")
    stream = list(delivery)
    for r in repeats:
        stream.insert(data.draw(st.integers(0, len(stream)), label="where"), r)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(stream) - 1)), max_size=5)))
    start = 0
    for cut in [*cuts, len(stream)]:
        if stream[start:cut]:
            demo.apply(stream[start:cut])
        start = cut
    assert _state(demo) == expected
