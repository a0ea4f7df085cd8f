"""The connector at work: the write-back queue's worker, the pull loop, status, check.

Both loops run on daemon threads with a stop event (started by the app, or driven
once by ``kiosk-server ils ...``). Neither ever holds up a kiosk: a kiosk's request
only adds a queue row in its own database transaction (see ``enqueue``). The
app's write-back worker keeps the queue in this process but has the ILS written
from a child process (:mod:`server.ils.process`), so the driver work never
competes with requests for the interpreter lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.wire import Kind, TransactionIn, TransactionResult
from server.db import Database
from server.ils import ILS_KIOSK_PREFIX, Connector, OpenLoan, PullReport, WriteResult
from server.ils.process import WriterGone, WriterProcess
from server.models import (
    Conflict,
    GroupVisit,
    IlsState,
    IlsWriteback,
    Item,
    Loan,
    Patron,
    Transaction,
    Visit,
)
from server.statements import chunks
from server.timeutil import local_date, utcnow

log = logging.getLogger(__name__)
_QUEUE = cast(Table, IlsWriteback.__table__)
#: the conflict reason staff see for a write-back the ILS contradicts
ILS_CONFLICT = "ils_contradicts"
_APPLY_CHUNK = 500
#: items written back in one go: few round trips each, yet short enough that the
#: worker stands back for patrons between them
_WRITE_CHUNK = 50


def enqueue(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Queue write-backs for applied item transactions (``id``, ``kiosk``, ``item``,
    ``order_key`` of each), inside the caller's write transaction. The desk's own
    transactions (pulled from the ILS) are in the ILS already and are skipped."""
    values = [
        {"transaction_id": r["id"], "item": r["item"], "order_key": r["order_key"],
         "state": "pending", "attempts": 0, "created_at": utcnow()}
        for r in rows
        if r["item"] and not r["kiosk"].startswith(ILS_KIOSK_PREFIX)
    ]  # fmt: skip
    if values:
        session.execute(insert(_QUEUE), values)


def enqueue_visits(session: Session, applied: Sequence[tuple[TransactionIn, str]]) -> None:
    """Queue guest-book write-backs for applied visit and group-visit transactions
    (each with its order key), inside the caller's write transaction.

    Only what the ILS's own guest book would keep is queued: a visit that counts (a
    repeat scan of a card within its counting window is stored uncounted and never
    reaches the ILS), every group visit, and for an amend the visit it amends, if
    that one counts (its row in the ILS then gets the new purpose). Kiosks named
    ``ils:...`` are the ILS's own and are skipped."""
    ours = [(t, key) for t, key in applied if not t.kiosk.startswith(ILS_KIOSK_PREFIX)]
    targets: dict[str, tuple[str, str]] = {}  # txn id -> (visit id, kiosk) it writes
    for t, _ in ours:
        if t.kind == Kind.VISIT and t.visit is not None:
            targets[t.id] = (t.visit.amends or t.id, t.kiosk)
    counted: set[tuple[str, str]] = set()
    ids = sorted({visit for visit, _ in targets.values()})
    for part in chunks(ids):
        counted.update(
            (vid, kiosk)
            for vid, kiosk in session.execute(
                select(Visit.id, Visit.kiosk).where(Visit.id.in_(part), Visit.counted.is_(True))
            )
        )
    groups = {t.id for t, _ in ours if t.kind == Kind.GROUP_VISIT}
    if groups:
        groups = set(session.scalars(select(GroupVisit.id).where(GroupVisit.id.in_(groups))))
    values = []
    for t, key in ours:
        if t.id in targets and targets[t.id] in counted:
            what, subject = "visit", targets[t.id][0]
        elif t.id in groups:
            what, subject = "group_visit", t.id
        else:
            continue
        values.append(
            {"transaction_id": t.id, "what": what, "item": subject, "order_key": key,
             "state": "pending", "attempts": 0, "created_at": utcnow()}
        )  # fmt: skip
    if values:
        session.execute(insert(_QUEUE), values)


@dataclass
class Status:
    """What ``kiosk-server ils status`` prints."""

    kind: str
    reachable: bool
    detail: str
    last_pull_at: str
    lag_s: float | None
    queued: int
    conflicts: int
    last_error: str

    def lines(self) -> list[str]:
        lag = "never pulled" if self.lag_s is None else f"{self.lag_s:.0f} s ago"
        return [
            f"ILS: {self.kind} ({'reachable' if self.reachable else 'NOT reachable'}: "
            f"{self.detail})",
            f"last pull: {self.last_pull_at or 'never'} ({lag})",
            f"write-backs queued: {self.queued}; contradicted by the ILS: {self.conflicts}",
            f"last error: {self.last_error or 'none'}",
        ]


@dataclass(frozen=True)
class Difference:
    """One open loan the ILS and the server disagree on (``None``: no such loan there)."""

    item: str
    card: str
    ils_due: str | None
    our_due: str | None

    def words(self) -> str:
        if self.ils_due is None:
            return f"item {self.item}: on loan to {self.card} here, not in the ILS"
        if self.our_due is None:
            return f"item {self.item}: on loan to {self.card} in the ILS, not here"
        return (
            f"item {self.item} on loan to {self.card}: "
            f"due {self.ils_due} in the ILS, {self.our_due} here"
        )


class IlsService:
    """Pulls from and writes back to one ILS for one server database."""

    #: the longest the write-back worker stands back for patrons' requests at a time
    DEFER_S = 0.05

    def __init__(
        self,
        db: Database,
        connector: Connector,
        apply: Callable[[list[TransactionIn]], list[TransactionResult]],
        pull_interval_s: float = 60.0,
        writeback_interval_s: float = 1.0,
        patrons_in: Callable[[], bool] | None = None,
        sweep_interval_s: float = 3600.0,
        writer: Callable[[], Connector | None] | None = None,
    ) -> None:
        self.db = db
        self.connector = connector
        self.apply = apply
        self.pull_interval_s = pull_interval_s
        self.writeback_interval_s = writeback_interval_s
        self.patrons_in = patrons_in
        self.sweep_interval_s = sweep_interval_s
        # kept in memory: after a restart the first pull sweeps (one extra sweep, cheap)
        self._swept_at: float | None = None
        self.make_writer = writer
        """Builds the connector again in a process of its own, where the background
        worker writes back (see :mod:`server.ils.process`); None: in this process."""
        self._writer: WriterProcess | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pull_lock = threading.Lock()

    # -- pull ---------------------------------------------------------------

    def pull(self, full: bool = False) -> PullReport:
        """One pull (everything when ``full`` or never pulled), applied to the server,
        and the deletion sweep with every full pull and at most every
        ``sweep_interval_s`` with delta pulls."""
        with self._pull_lock:
            state = self._state()
            started = time.perf_counter()
            try:
                report = self.connector.pull(self.db, None if full else state.get("cursor"))
                txns = report.transactions
                for i in range(0, len(txns), _APPLY_CHUNK):
                    self.apply(txns[i : i + _APPLY_CHUNK])
                if report.full or self._sweep_due():
                    report.swept = self.connector.sweep(self.db)
                    self._swept_at = time.monotonic()
            except SQLAlchemyError as exc:
                self._error(f"pull failed: {exc.__class__.__name__}: {exc}"[:2000])
                raise
            self._save_state(
                cursor=report.cursor,
                last_pull_at=utcnow(),
                last_pull_s=time.perf_counter() - started,
            )
            return report

    def _sweep_due(self) -> bool:
        """Whether a delta pull sweeps for deletions too (see ``sweep_interval_s``)."""
        return self._swept_at is None or time.monotonic() - self._swept_at >= self.sweep_interval_s

    # -- write-back ---------------------------------------------------------

    def drain(self, limit: int = 500) -> int:
        """Write queued transactions into the ILS, oldest event first; returns how many
        queue rows were settled (0 when the queue is empty or the ILS is away)."""
        with self.db.read() as session:
            # Core on the session's connection: this runs after every patron's checkout
            rows = (
                session.connection()
                .execute(
                    select(IlsWriteback.id, IlsWriteback.item, IlsWriteback.transaction_id)
                    .where(IlsWriteback.state == "pending", IlsWriteback.what == "item")
                    .order_by(IlsWriteback.order_key, IlsWriteback.id)
                    .limit(limit)
                )
                .all()
            )
        if not rows:
            return 0
        settled: list[tuple[int, str, str | None]] = []  # (queue id, txn id, conflict)
        items = list(dict.fromkeys(item for _, item, _ in rows))
        synced: dict[str, str | None] = {}
        try:
            for i in range(0, len(items), _WRITE_CHUNK):
                self._defer_to_patrons()
                chunk = items[i : i + _WRITE_CHUNK]
                results = self._write_back_many(chunk)
                synced.update((item, results[item].conflict) for item in chunk)
        except (SQLAlchemyError, WriterGone) as exc:
            self._error(f"write-back failed: {exc.__class__.__name__}: {exc}"[:2000])
        for qid, item, txn_id in rows:
            if item not in synced:
                break  # event-time order: nothing after a failed item counts as done
            settled.append((qid, txn_id, synced[item]))
        self._record(settled, failed=[r[0] for r in rows[len(settled) :]])
        return len(settled)

    def drain_visits(self, limit: int = 2000) -> int:
        """Write queued guest-book visits and group visits into the ILS in one call;
        returns how many queue rows were settled (0 when none or the ILS is away)."""
        with self.db.read() as session:
            rows = session.execute(
                select(IlsWriteback.id, IlsWriteback.what, IlsWriteback.item,
                       IlsWriteback.transaction_id)
                .where(IlsWriteback.state == "pending", IlsWriteback.what != "item")
                .order_by(IlsWriteback.order_key, IlsWriteback.id)
                .limit(limit)
            ).all()  # fmt: skip
        if not rows:
            return 0
        visits = [subject for _, what, subject, _ in rows if what == "visit"]
        groups = [subject for _, what, subject, _ in rows if what == "group_visit"]
        self._defer_to_patrons()
        try:
            self.connector.write_visits(self.db, visits, groups)
        except SQLAlchemyError as exc:
            self._error(f"guest-book write-back failed: {exc.__class__.__name__}: {exc}"[:2000])
            self._record([], failed=[r[0] for r in rows])
            return 0
        self._record([(qid, txn_id, None) for qid, _, _, txn_id in rows], failed=[])
        return len(rows)

    @property
    def writer(self) -> WriterProcess | None:
        """The process the background worker writes back in (None when not running)."""
        return self._writer

    def _write_back_many(self, items: list[str]) -> dict[str, WriteResult]:
        if self._writer is not None:
            return self._writer.write_back_many(items)
        return self.connector.write_back_many(self.db, items)

    def _defer_to_patrons(self) -> None:
        """Step aside while patrons' online requests are being applied (at most
        DEFER_S at a time, so a steady stream of them still lets write-backs through):
        the worker's SLiMS round trips and its own writes would compete with them for
        the interpreter and the write gate."""
        if self.patrons_in is None:
            return
        deadline = time.monotonic() + self.DEFER_S
        while self.patrons_in() and time.monotonic() < deadline:
            time.sleep(0.001)

    def _record(self, settled: list[tuple[int, str, str | None]], failed: list[int]) -> None:
        self._defer_to_patrons()
        now = utcnow()
        with self.db.write() as (session, _):
            done = [qid for qid, _, conflict in settled if conflict is None]
            if done:
                session.connection().execute(
                    update(IlsWriteback)
                    .where(IlsWriteback.id.in_(done))
                    .values(state="done", done_at=now)
                )
            if failed:
                session.execute(
                    update(IlsWriteback)
                    .where(IlsWriteback.id.in_(failed))
                    .values(attempts=IlsWriteback.attempts + 1)
                )
            for qid, txn_id, conflict in settled:
                if conflict is None:
                    continue
                session.execute(
                    update(IlsWriteback)
                    .where(IlsWriteback.id == qid)
                    .values(state="conflict", done_at=now, last_error=conflict)
                )
                have = session.scalar(select(Conflict.id).where(Conflict.transaction_id == txn_id))
                if have is None:
                    kind = session.scalar(select(Transaction.kind).where(Transaction.id == txn_id))
                    session.add(
                        Conflict(
                            transaction_id=txn_id,
                            kind=kind or "checkout",
                            reason=ILS_CONFLICT,
                            message=conflict,
                        )
                    )

    # -- status and check ---------------------------------------------------

    def status(self) -> Status:
        health = self.connector.health()
        state = self._state()
        with self.db.read() as session:
            queued = session.scalar(select(func.count()).where(IlsWriteback.state == "pending"))
            conflicts = session.scalar(select(func.count()).where(IlsWriteback.state == "conflict"))
        last = state.get("last_pull_at")
        return Status(
            kind=self.connector.kind,
            reachable=health.reachable,
            detail=health.detail,
            last_pull_at=last.isoformat(timespec="seconds") if last else "",
            lag_s=(utcnow() - last).total_seconds() if last else None,
            queued=int(queued or 0),
            conflicts=int(conflicts or 0),
            last_error=state.get("last_error") or "",
        )

    def differences(self) -> list[Difference]:
        """Every open loan on which the ILS and the server disagree, by item and card."""
        theirs = {(o.item, o.card): o for o in self.connector.open_loans()}
        with self.db.read() as session:
            ours = {
                (code, card): OpenLoan(code, card, local_date(due).isoformat())
                for code, card, due in session.execute(
                    select(Item.barcode, Patron.card, Loan.due_at)
                    .join(Item, Item.id == Loan.item_id)
                    .join(Patron, Patron.id == Loan.patron_id)
                    .where(Loan.returned_at.is_(None))
                )
            }
        found = []
        for key in sorted(set(theirs) | set(ours)):
            a, b = theirs.get(key), ours.get(key)
            if a is None or b is None or a.due != b.due:
                found.append(Difference(key[0], key[1], a.due if a else None, b.due if b else None))
        return found

    def check(self) -> list[str]:
        """Every difference between the ILS's open loans and the server's, in words."""
        return [d.words() for d in self.differences()]

    # -- loops --------------------------------------------------------------

    def start(self) -> None:
        """Run the pull loop and the write-back worker on daemon threads."""
        self._stop.clear()
        if self.make_writer is not None:
            self._writer = WriterProcess(self.db.url, self.make_writer)
            self._writer.start()
        for name, target in (("ils-pull", self._pull_loop), ("ils-writeback", self._drain_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        if self._writer is not None:
            self._writer.stop()
            self._writer = None

    def wake(self) -> None:
        """Drain now (a transaction was queued)."""
        self._wake.set()

    def _pull_loop(self) -> None:
        # a pull made less than an interval ago (before a restart, or by
        # ``kiosk-server ils pull``) is fresh: the next one is due an interval after it
        if not self._stop.wait(self._until_pull_due()):
            self._pull_now_and_then()

    def _until_pull_due(self) -> float:
        try:
            last = self._state().get("last_pull_at")
        except SQLAlchemyError:
            log.exception("could not read the last ILS pull's time")
            return 0.0
        if last is None:
            return 0.0
        since = (utcnow() - last).total_seconds()
        return max(0.0, min(self.pull_interval_s, self.pull_interval_s - since))

    def _pull_now_and_then(self) -> None:
        while not self._stop.is_set():
            try:
                self.pull()
            except Exception:  # the loop must outlive any one bad pull; logged, retried
                log.exception("ILS pull failed")
            self._stop.wait(self.pull_interval_s)

    def _drain_loop(self) -> None:
        visits_due = 0.0
        while not self._stop.is_set():
            try:
                settled = self.drain()
                # the guest book can wait a second: woken after every patron's
                # checkout, its queue read would otherwise run with each one
                if time.monotonic() >= visits_due:
                    visits_due = time.monotonic() + self.writeback_interval_s
                    settled += self.drain_visits()
            except Exception:
                log.exception("ILS write-back failed")
                settled = 0
            if settled == 0:
                self._wake.wait(self.writeback_interval_s)
                self._wake.clear()

    # -- state row ----------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        with self.db.read() as session:
            row = session.get(IlsState, self.connector.kind)
            if row is None:
                return {}
            return {"cursor": row.cursor, "last_pull_at": row.last_pull_at,
                    "last_error": row.last_error}  # fmt: skip

    def _save_state(self, **values: Any) -> None:
        with self.db.write() as (session, _):
            row = session.get(IlsState, self.connector.kind)
            if row is None:
                row = IlsState(kind=self.connector.kind)
                session.add(row)
            for key, value in values.items():
                setattr(row, key, value)

    def _error(self, message: str) -> None:
        log.warning("ILS %s: %s", self.connector.kind, message)
        try:
            self._save_state(last_error=message, last_error_at=utcnow())
        except SQLAlchemyError:
            log.exception("could not record the ILS error")
