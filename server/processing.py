"""Apply a batch of kiosk transactions: idempotent, merged in event-time order.

How late arrivals are merged: every item and event remembers the order key
(event time, kiosk, seq) of the last transaction applied to it. A transaction
at or after that key is applied directly. An offline one before it marks the
entity dirty; at the end of the batch (or before an online request needs the
entity) the entity's state is rebuilt by replaying all its effective
transactions in key order. New transactions in a batch are processed in key
order too, so a batch never replays because of its own ordering.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from core.tickets import TicketError, read_ticket, ticket_code_for
from core.wire import Kind, Reason, Status, TransactionIn, TransactionResult
from server.batch import BatchContext, Outcome
from server.calendar import SUNDAY, LibraryCalendar, Policies
from server.circulation import ItemState, apply_item, load_item_states, reset_item
from server.conflicts import flag_told_refused, sync_conflicts
from server.events import EventState, apply_event, load_event_states, person_key, reset_event
from server.events import write_back as write_back_event
from server.ils.service import enqueue as enqueue_writebacks
from server.ils.service import enqueue_visits as enqueue_visit_writebacks
from server.models import Item, Patron, Registration, Transaction
from server.pgwrite import ClosingWrites
from server.statements import among, chunks, per_backend
from server.text import storable
from server.timeutil import as_utc, order_key, utcnow
from server.visits import GUEST_BOOK_KINDS, VISIT_KINDS, apply_visit, validate_visit

log = logging.getLogger(__name__)
_TXN = cast(Table, Transaction.__table__)
_ITEMS = cast(Table, Item.__table__)
_PATRONS = cast(Table, Patron.__table__)
# Built once (server.statements): every batch runs them.
_STORED = per_backend(
    lambda pg: select(_TXN.c.id, _TXN.c.kiosk, _TXN.c.result).where(among(_TXN.c.id, "ids", pg))
)
_ITEM_VERSIONS = (
    update(_ITEMS).where(_ITEMS.c.id == bindparam("_id")).values(version=bindparam("_v"))
)  # with last_key, status and hold_patron_id from each row's parameters
_PATRON_VERSIONS = (
    update(_PATRONS)
    .where(_PATRONS.c.id.in_(bindparam("_ids", expanding=True)))
    .values(version=bindparam("_v"))
)
ITEM_KINDS = {Kind.CHECKOUT, Kind.CHECKIN, Kind.RENEW}
_MAX_BIGINT = 2**63 - 1
_MAX_INT = 2**31 - 1


@dataclass(frozen=True)
class OfflineBounds:
    """How far a kiosk's event time and due date may go before they are clamped."""

    clock_skew: timedelta = timedelta(minutes=10)
    """An event time later than the receive time plus this is clamped to the receive time."""
    due_grace: timedelta = timedelta(days=7)
    """A due date later than the event time plus the longest loan period plus this is
    clamped to the due date the longest loan period gives."""


@dataclass(frozen=True)
class RowRef:
    """Enough of a transaction row to attach a conflict to it."""

    id: str
    kind: str


@dataclass
class Work:
    """One new transaction on its way through the batch."""

    index: int
    txn: TransactionIn
    key: str
    row: dict[str, Any] | None = None  # the transactions-table row, inserted in bulk
    outcome: Outcome | None = None
    event_id: int | None = None
    person: str | None = None
    early: Outcome | None = None  # decided before reaching the ledger (unknown ticket, ...)


def _has_nul(*values: str | None) -> bool:
    return not all(storable(v) for v in values)


def validate(txn: TransactionIn) -> str | None:
    """A reason this transaction cannot be stored at all, or None."""
    g = txn.guest
    if _has_nul(txn.id, txn.kiosk, txn.card, txn.item, txn.ticket) or (
        g is not None and _has_nul(g.name, g.phone, g.email, g.institution)
    ):
        return "text fields must be valid UTF-8 without NUL characters"
    if txn.seq > _MAX_BIGINT:
        return "seq is too large"
    if txn.event_id is not None and not 0 <= txn.event_id <= _MAX_INT:
        return "event_id is out of range"
    for label, value in (("at", txn.at), ("due_at", txn.due_at)):
        if value is not None and not 2000 <= value.year <= 2100:
            return f"{label} must be between the years 2000 and 2100"
    if txn.kind in ITEM_KINDS and not (txn.item and txn.item.strip()):
        return f"{txn.kind.value} needs an item barcode"
    if txn.kind == Kind.CHECKOUT and not (txn.card and txn.card.strip()):
        return "checkout needs a card"
    if txn.kind == Kind.EVENT_REGISTER and (txn.event_id is None or not (txn.card or txn.guest)):
        return "event_register needs event_id and a card or a guest"
    if txn.kiosk_refused and not txn.offline:
        return "kiosk_refused is only for transactions decided offline"
    if txn.kind in VISIT_KINDS:
        return validate_visit(txn)
    if txn.kind in (Kind.DOOR_SIGNIN, Kind.EVENT_CANCEL) and not txn.ticket:
        if txn.event_id is None or not (txn.card or txn.guest):
            return f"{txn.kind.value} needs a ticket, or event_id with a card or a guest"
    return None


def normalise(txn: TransactionIn) -> TransactionIn:
    return txn.model_copy(
        update={
            "at": as_utc(txn.at),
            "due_at": as_utc(txn.due_at) if txn.due_at else None,
            "card": txn.card.strip() if txn.card and txn.card.strip() else None,
            "item": txn.item.strip() if txn.item else None,
        }
    )


def to_result(txn_id: str, out: Outcome) -> TransactionResult:
    return TransactionResult(
        id=txn_id,
        status=out.status,
        reason=out.reason,
        message=out.message,
        title=out.title,
        due_at=out.due_at,
        renewals=out.renewals,
        hold_for_other=out.hold_for_other,
        event_id=out.event_id,
        ticket=out.ticket,
        waitlisted=out.waitlisted,
        signed_in_at=out.signed_in_at,
        attendance_count=out.attendance_count,
    )


class BatchProcessor:
    """Applies one batch inside the caller's write transaction."""

    def __init__(
        self,
        session: Session,
        version: int,
        ticket_key: Ed25519PrivateKey,
        public_key: str,
        closed_weekdays: frozenset[int] = frozenset({SUNDAY}),
        now: datetime | None = None,
        rules: tuple[Policies, LibraryCalendar] | None = None,
        bounds: OfflineBounds | None = None,
        ils_queue: bool = False,
    ) -> None:
        self.session = session
        self.ils_queue = ils_queue  # queue item transactions for the ILS (server.ils)
        self.bounds = bounds or OfflineBounds()
        self.clamped: dict[str, str] = {}  # transaction id -> what was clamped
        self.public_key = public_key
        self.now = now or utcnow()
        self.ctx = BatchContext(
            session=session,
            version=version,
            policies=rules[0] if rules else Policies(session),
            calendar=rules[1] if rules else LibraryCalendar.load(session, closed_weekdays),
            ticket_key=ticket_key,
        )
        self.postgres = self.ctx.postgres
        self.items: dict[str, ItemState] = {}
        self.events: dict[int, EventState] = {}
        self.pending: dict[str, Work] = {}
        self.batch: dict[str, Work] = {}
        self.processed: list[Work] = []  # in the ledger already, in processing order
        self.inserted: set[str] = set()
        self.early_inserted: set[str] = set()
        self.deferred: list[Work] = []  # log rows to write with the closing writes
        # (kiosk name, kiosks-row values) to write with the closing writes (PostgreSQL)
        self.kiosks_seen: list[tuple[str, dict[str, Any]]] = []

    def _any_dirty(self) -> bool:
        states: list[ItemState | EventState] = [*self.items.values(), *self.events.values()]
        return any(s.dirty for s in states)

    def apply(self, txns: list[TransactionIn]) -> list[TransactionResult]:
        results: list[TransactionResult | None] = [None] * len(txns)
        first: dict[str, int] = {}
        work: list[Work] = []
        for i, txn in enumerate(txns):
            if txn.id in first:
                continue
            first[txn.id] = i
            problem = validate(txn)
            if problem:
                results[i] = TransactionResult(
                    id=txn.id, status=Status.REFUSED, reason=Reason.INVALID, message=problem
                )
                continue
            t = self._within_bounds(normalise(txn))
            work.append(Work(i, t, order_key(t.at, t.kiosk, t.seq)))
        stored = self._stored([w.txn.id for w in work])
        new: list[Work] = []
        told_refused: list[RowRef] = []
        for w in work:
            if w.txn.id in stored and stored[w.txn.id][0] != w.txn.kiosk:
                # nothing of the first result (its ticket, its title) goes to this kiosk
                results[w.index] = TransactionResult(
                    id=w.txn.id,
                    status=Status.REFUSED,
                    reason=Reason.ID_OF_OTHER_KIOSK,
                    message="this transaction id is already used by another kiosk; "
                    "a kiosk makes a new id for each transaction",
                )
            elif w.txn.id in stored:
                old = TransactionResult.model_validate_json(stored[w.txn.id][1])
                results[w.index] = old.model_copy(update={"duplicate": True})
                if w.txn.kiosk_refused and old.status == Status.ACCEPTED:
                    told_refused.append(RowRef(w.txn.id, w.txn.kind.value))
            else:
                new.append(w)
        flag_told_refused(self.session, told_refused)
        new.sort(key=lambda w: w.key)
        self.batch = {w.txn.id: w for w in new}
        self._preload(new)
        with self.session.no_autoflush:
            for w in new:
                self._process(w)
        decided = [w for w in new if w.outcome is not None]
        for w in decided:
            assert w.row is not None and w.outcome is not None
            results[w.index] = self._finish(w.row, w.txn.id, w.outcome)
        rest = [w for w in new if w.txn.id not in self.inserted]
        if self.postgres and not self.inserted and not self._any_dirty():
            self.deferred = rest  # no replay reads the log: written with the closing writes
        else:
            self._insert_rows(rest)
        for barcode in [b for b, s in self.items.items() if s.dirty]:
            self._replay_item(self.items[barcode])
        for eid in [e for e, s in self.events.items() if s.dirty]:
            self._replay_event(self.events[eid])
        for state in self.events.values():
            write_back_event(self.ctx, state)
        self._write_back_items()
        sync_conflicts(
            self.session,
            [(RowRef(w.txn.id, w.txn.kind.value), w.outcome) for w in decided if w.outcome],
            replay=False,
        )
        late = [w for w in new if w.index not in {d.index for d in decided}]
        for w in late:
            assert w.row is not None and w.outcome is not None, "replay left a result unset"
            results[w.index] = self._finish(w.row, w.txn.id, w.outcome)
        # rows inserted before their result was known: late ones, and any inserted
        # early because an online request needed a replay in the middle of the batch
        unfinished = [w for w in new if w in late or w.txn.id in self.early_inserted]
        if unfinished:
            self.session.execute(
                update(_TXN).where(_TXN.c.id == bindparam("_id")),
                [{"_id": w.txn.id, "status": w.row["status"], "result": w.row["result"],
                  "effective": w.row["effective"]} for w in unfinished if w.row is not None],
            )  # fmt: skip
        if late:
            sync_conflicts(
                self.session,
                [(RowRef(w.txn.id, w.txn.kind.value), w.outcome) for w in late if w.outcome],
                replay=False,
            )
        self.ctx.write_loans()
        if self.ils_queue:
            enqueue_writebacks(
                self.session,
                [w.row for w in new if w.row and w.row["effective"] and w.row["item"]],
            )
            enqueue_visit_writebacks(
                self.session,
                [(w.txn, w.key) for w in new if w.txn.kind in GUEST_BOOK_KINDS and w.outcome],
            )
        self.session.flush()
        for i, txn in enumerate(txns):
            if results[i] is None:
                base = results[first[txn.id]]
                assert base is not None
                results[i] = base.model_copy(update={"duplicate": True})
        return [r for r in results if r is not None]

    def _insert_rows(self, works: list[Work], early: bool = False) -> None:
        """Add these works' rows to the transaction log (Core executemany: several times
        cheaper than ORM objects)."""
        rows = [w.row for w in works if w.row is not None]
        if not rows:
            return
        self.session.flush()
        self.session.execute(insert(_TXN), rows)
        for w in works:
            self.inserted.add(w.txn.id)
            if early:
                self.early_inserted.add(w.txn.id)

    def _write_back_items(self) -> None:
        """Changed items (version, order key, shelf status and hold), versions of
        patrons whose loan count changed and loans returned or renewed, in one statement
        each instead of one UPDATE per row; on PostgreSQL all of them (and the log rows
        deferred by :meth:`apply`) in a single statement."""
        v = self.ctx.version
        changed = [
            s.item
            for s in self.items.values()
            if s.touched or s.last_key != s.item.last_key or s.item.shelf_changed
        ]
        for s in self.items.values():
            s.item.last_key = s.last_key  # the writes below take it from the item
        patrons = sorted(self.ctx.touched_patrons)
        self.session.flush()
        if self.postgres:
            writes = ClosingWrites(v)
            writes.log_rows([w.row for w in self.deferred if w.row is not None])
            self.inserted.update(w.txn.id for w in self.deferred)
            self.deferred = []
            writes.items(changed)
            writes.patrons(patrons)
            writes.loans(self.ctx.take_changed_loans())
            writes.new_loans(self.ctx.take_new_loans())
            writes.kiosks(self.kiosks_seen)
            writes.execute(self.session)
        else:
            # SQLite's executemany runs in-process: no round trips to save
            if changed:
                self.session.execute(
                    _ITEM_VERSIONS,
                    [
                        {"_id": i.id, "_v": v, "last_key": i.last_key, "status": i.status,
                         "hold_patron_id": i.hold_patron_id}
                        for i in changed
                    ],
                )  # fmt: skip
            for part in chunks(patrons):
                self.session.execute(_PATRON_VERSIONS, {"_ids": part, "_v": v})
            self.ctx.write_loans()

    def _within_bounds(self, txn: TransactionIn) -> TransactionIn:
        """``txn`` with an event time and a due date the server can stand behind.

        A kiosk's clock may be wrong and an offline slip says what the kiosk decided:
        an event time past the receive time (plus ``clock_skew``) becomes the receive
        time; a due date past the event time plus the longest loan period (plus
        ``due_grace``) becomes the due date that period gives. What was changed is
        noted for a conflict (see :meth:`_finish`); the stored payload holds the
        clamped values, so a replay rebuilds the same loans.
        """
        notes = []
        changes: dict[str, Any] = {}
        at = txn.at
        if at > self.now + self.bounds.clock_skew:
            notes.append(f"event time {at:%Y-%m-%d %H:%M} UTC was ahead of the server's clock")
            at = changes["at"] = self.now
        if txn.due_at is not None:
            longest = self.ctx.policies.longest_loan_days()
            if txn.due_at > at + timedelta(days=longest) + self.bounds.due_grace:
                due = self.ctx.calendar.due_at(at, longest)
                notes.append(f"due date {txn.due_at:%Y-%m-%d} was past the longest loan period")
                changes["due_at"] = due
        if not notes:
            return txn
        if txn.offline:
            self.clamped[txn.id] = "; ".join(notes) + ": clamped (check with the patron)"
        else:  # decided here, with the server's own due date: nothing for staff to check
            log.warning("kiosk %s: %s (transaction %s)", txn.kiosk, "; ".join(notes), txn.id)
        return txn.model_copy(update=changes)

    def _finish(self, row: dict[str, Any], txn_id: str, outcome: Outcome) -> TransactionResult:
        note = self.clamped.get(txn_id)
        if note is not None and outcome.status != Status.REFUSED:
            # flagged for staff; only a refusal (nothing stored) needs no flag
            if outcome.status == Status.ACCEPTED:
                outcome.status, outcome.reason, outcome.message = (
                    Status.CONFLICT, Reason.OUT_OF_BOUNDS, note
                )  # fmt: skip
            else:
                outcome.message = f"{outcome.message or ''}; {note}".lstrip("; ")
        result = to_result(txn_id, outcome)
        row["status"] = result.status.value
        row["result"] = result.model_dump_json(exclude_defaults=True)
        return result

    def _stored(self, ids: list[str]) -> dict[str, tuple[str, str]]:
        """(kiosk, first result) of the ids already in the log."""
        found: dict[str, tuple[str, str]] = {}
        for part in chunks(ids):
            for tid, kiosk, result in self.session.execute(_STORED[self.postgres], {"ids": part}):
                found[tid] = (kiosk, result)
        return found

    def _preload(self, new: list[Work]) -> None:
        self.ctx.load_patrons(w.txn.card for w in new if w.txn.card)
        barcodes = {w.txn.item for w in new if w.txn.kind in ITEM_KINDS and w.txn.item}
        self.items = load_item_states(self.ctx, barcodes)
        holders = [s.open_loan.patron_id for s in self.items.values() if s.open_loan is not None]
        # A return needs its borrower's loan count, not the patron: only a renewal with
        # no card looks at the borrower (the others load theirs by card, above).
        renewed = {w.txn.item for w in new if w.txn.kind == Kind.RENEW and not w.txn.card}
        self.ctx.load_patrons_by_id(
            s.open_loan.patron_id
            for code, s in self.items.items()
            if code in renewed and s.open_loan is not None
        )
        self.ctx.load_loan_counts(holders)
        self.ctx.load_loan_counts(p.id for p in self.ctx.patrons.values() if p is not None)
        codes: dict[str, tuple[str, int | None] | None] = {}
        for w in new:
            if w.txn.kind in ITEM_KINDS or w.txn.kind in VISIT_KINDS:
                continue
            w.event_id, w.person = w.txn.event_id, person_key(w.txn.card, w.txn.guest)
            if w.txn.kind in (Kind.DOOR_SIGNIN, Kind.EVENT_CANCEL) and w.txn.ticket:
                self._resolve_ticket(w, codes)
        self.events = load_event_states(self.ctx, {w.event_id for w in new if w.event_id})

    def _resolve_ticket(self, w: Work, codes: dict[str, tuple[str, int | None] | None]) -> None:
        """Find who a door ticket belongs to.

        A signed ticket (PK1) is checked against the server's key; an unsigned one
        (PKU, printed by a kiosk that registered the visitor offline) vouches for
        nothing by itself, so it counts only where its code names a registration
        the server holds for that same event.
        """
        assert w.txn.ticket is not None
        decide = not w.txn.offline
        try:
            ticket = read_ticket(self.public_key, w.txn.ticket)
        except TicketError as exc:
            w.early = Outcome.refused_or_conflict(
                decide, Reason.UNKNOWN_TICKET, str(exc), effective=False
            )
            return
        if w.txn.event_id is not None and w.txn.event_id != ticket.event_id:
            w.early = Outcome.refused_or_conflict(
                decide, Reason.UNKNOWN_TICKET, "ticket is for another event", effective=False
            )
            return
        if ticket.code not in codes:
            found = (
                self.session.execute(
                    select(Registration.person_key, Registration.event_id).where(
                        Registration.ticket_code == ticket.code
                    )
                ).first()
                or self.session.execute(
                    # an offline registration of someone already registered keeps the
                    # old registration; its own code still names that person
                    select(Transaction.person_key, Transaction.event_id).where(
                        Transaction.ticket_code == ticket.code
                    )
                ).first()
            )
            codes[ticket.code] = (found[0], found[1]) if found and found[0] else None
        w.event_id, w.person = ticket.event_id, None
        known = codes[ticket.code]
        if known is None:
            w.early = Outcome.refused_or_conflict(
                decide, Reason.UNKNOWN_TICKET, "no such registration", effective=False
            )
        elif not ticket.verified and known[1] != ticket.event_id:
            w.early = Outcome.refused_or_conflict(
                decide,
                Reason.UNKNOWN_TICKET,
                "no such registration for this event",
                effective=False,
            )
        else:
            w.person = known[0]

    def _process(self, w: Work) -> None:
        txn = w.txn
        decide = not txn.offline
        w.row = {
            "id": txn.id,
            "kiosk": txn.kiosk,
            "seq": txn.seq,
            "kind": txn.kind.value,
            "at": txn.at,
            "offline": txn.offline,
            "card": txn.card,
            "item": txn.item if txn.kind in ITEM_KINDS else None,
            "event_id": None,
            "ticket_code": None,
            "person_key": None,
            "order_key": w.key,
            "effective": False,
            "payload": txn.model_dump_json(exclude_none=True),
            "result": "{}",
            "status": "",
            "received_at": self.now,
        }
        if txn.kiosk_refused:
            # Logged (so a late copy of the online attempt finds this id) with no effect.
            w.outcome = Outcome.refused(
                Reason.REFUSED_AT_KIOSK, "the kiosk refused this offline; nothing happened"
            )
            return
        if txn.kind in VISIT_KINDS:  # the guest book and feedback: server/visits.py
            w.outcome = apply_visit(self.session, txn)
            return
        if txn.kind in ITEM_KINDS:
            assert txn.item is not None
            item_state = self.items.get(txn.item)
            if item_state is None:
                w.outcome = Outcome.refused_or_conflict(
                    decide,
                    Reason.UNKNOWN_ITEM,
                    f"no item with barcode {txn.item!r}",
                    effective=False,
                )
            else:
                self._through_ledger(w, item_state, decide)
            return
        w.row.update(event_id=w.event_id, person_key=w.person, ticket_code=ticket_code_for(txn.id))
        if w.early is not None:
            w.outcome = w.early
            return
        event_state = self.events.get(w.event_id) if w.event_id is not None else None
        if event_state is None:
            w.outcome = Outcome.refused_or_conflict(
                decide, Reason.UNKNOWN_EVENT, "no such event", effective=False
            )
            return
        self._through_ledger(w, event_state, decide)

    def _through_ledger(self, w: Work, state: ItemState | EventState, decide: bool) -> None:
        assert w.row is not None
        late = state.last_key is not None and w.key < state.last_key
        if not decide and (late or state.dirty):
            state.dirty = True
            w.row["effective"] = True
            self.pending[w.txn.id] = w  # the replay decides its result
            self.processed.append(w)
            return
        if state.dirty:
            # the replay reads the log from the database: put this batch's rows there
            self._insert_rows([p for p in self.processed if p.txn.id not in self.inserted], True)
            self._replay(state)
        w.outcome = self._apply(state, w.txn, w.person, decide)
        w.row["effective"] = w.outcome.effective
        if w.outcome.effective:
            if late:
                state.dirty = True  # online but stamped before history: re-merge at the end
            else:
                state.last_key = w.key
        self.processed.append(w)

    def _apply(
        self, state: ItemState | EventState, txn: TransactionIn, person: str | None, decide: bool
    ) -> Outcome:
        if isinstance(state, ItemState):
            return apply_item(self.ctx, state, txn, decide)
        assert person is not None
        return apply_event(self.ctx, state, txn, person, decide)

    def _replay(self, state: ItemState | EventState) -> None:
        if isinstance(state, ItemState):
            self._replay_item(state)
        else:
            self._replay_event(state)

    def _replay_item(self, state: ItemState) -> None:
        reset_item(self.ctx, state)
        rows = self.session.scalars(
            select(Transaction).where(
                Transaction.item == state.item.barcode, Transaction.effective.is_(True)
            )
        ).all()
        self._replay_rows(state, list(rows))

    def _replay_event(self, state: EventState) -> None:
        self.session.flush()
        reset_event(state)
        rows = self.session.scalars(
            select(Transaction).where(
                Transaction.event_id == state.event.id, Transaction.effective.is_(True)
            )
        ).all()
        self._replay_rows(state, list(rows))

    def _replay_rows(self, state: ItemState | EventState, rows: list[Transaction]) -> None:
        rows.sort(key=lambda r: r.order_key)
        txns = [TransactionIn.model_validate_json(r.payload) for r in rows]
        self.ctx.load_patrons(t.card for t in txns if t.card)
        outcomes: list[tuple[Transaction, Outcome]] = []
        with self.session.no_autoflush:
            for row, txn in zip(rows, txns, strict=True):
                out = self._apply(state, normalise(txn), row.person_key, False)
                pending = self.pending.pop(row.id, None)
                if pending is not None:
                    pending.outcome = out
                elif row.id not in self.batch:
                    # rows decided earlier in this batch keep the conflict of their
                    # first result (synced at the end); older rows are re-judged
                    outcomes.append((row, out))
        sync_conflicts(self.session, outcomes, replay=True)
        if rows:
            state.last_key = rows[-1].order_key
        state.dirty = False
