"""SLiMS 9 (Senayan) on MariaDB: pull by update time, write loans as its circulation does.

SLiMS's tables are MyISAM: no transactions. Each write here is one statement, and
every row the connector adds carries the server's key in a ``pustaka_txn`` column
with a unique index (added by :meth:`SlimsConnector.prepare`): a loan row under
the checkout's transaction id, a fines row under ``fine:`` plus that id. A repeat
(after a crash between the SLiMS write and the server's record of it) finds the
row and writes nothing twice; ``INSERT IGNORE`` makes even two racing workers safe.
Updates (return, renewal) set absolute values, so repeating them changes nothing.

Guest-book visits go to ``visitor_count`` as SLiMS's visitor page writes them: a
member's ``member_id`` with the name and institution SLiMS holds for the member; a
visitor without a card with ``member_id`` NULL, the name and institution given.
SLiMS keeps no purpose of a visit and knows no groups; a group becomes one row per
person (see :meth:`SlimsConnector.write_visits`), keyed ``<id>#<n>``.

The desk's own loans (rows without ``pustaka_txn``) come into the server as
transactions of kiosk ``ils:slims`` with ids ``slims-<loan_id>-out``/``-in``/``-r<n>``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from core.wire import Kind, TransactionIn
from server.db import Database
from server.ils import OpenLoan, PullReport, WriteResult
from server.ils.guestbook import clip, load_groups, load_visits
from server.ils.mirror import (
    IlsDatabase,
    ItemRow,
    PatronRow,
    keyed_text,
    replace_closed_days,
    replace_policies,
    set_holds,
    upsert_items,
    upsert_patrons,
)
from server.models import Item, Loan, Patron
from server.statements import chunks
from server.timeutil import (
    end_of_local_day,
    from_naive_local,
    local_date,
    naive_local,
    utcnow,
)

log = logging.getLogger(__name__)

KIOSK = "ils:slims"
_DAYNAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
#: weekly closing days (SLiMS ``holiday`` rows with a day name and no date) are
#: expanded into dated closed days this far ahead
_WEEKLY_AHEAD_DAYS = 400
#: the write-back's own connection is opened afresh after this long unused (MariaDB
#: drops idle connections after its wait_timeout)
_WRITER_IDLE_S = 300.0


def category(member_type_id: int | None) -> str:
    return f"slims-mt{member_type_id or 0}"


def item_type(coll_type_id: int | None) -> str:
    return f"slims-ct{coll_type_id or 0}"


_LOANS_OF_ITEMS = text("SELECT * FROM loan WHERE item_code IN :items ORDER BY loan_id").bindparams(
    bindparam("items", expanding=True)
)
_LOANS_BY_KEY = text("SELECT * FROM loan WHERE pustaka_txn IN :keys").bindparams(
    bindparam("keys", expanding=True)
)
_INSERT_LOAN = text(
    "INSERT IGNORE INTO loan (item_code, member_id, loan_date, due_date, renewed, "
    "loan_rules_id, is_lent, is_return, input_date, last_update, uid, pustaka_txn) "
    "VALUES (:item, :card, :ld, :dd, 0, :rid, 1, 0, :at, :at, :uid, :key)"
)
#: members' types, items' collection types, member types' fines and the loan rules,
#: in one round trip: (what, key, a, b, c)
_RULES = text(
    "SELECT 'm', member_id, member_type_id, NULL, NULL FROM member "
    "WHERE member_id IN :cards "
    "UNION ALL SELECT 'i', item_code, coll_type_id, NULL, NULL FROM item "
    "WHERE item_code IN :items "
    "UNION ALL SELECT 't', member_type_id, fine_each_day, grace_periode, NULL "
    "FROM mst_member_type "
    "UNION ALL SELECT 'r', CONCAT(member_type_id, ':', coll_type_id), loan_rules_id, "
    "fine_each_day, grace_periode FROM mst_loan_rules WHERE COALESCE(gmd_id, 0) = 0"
).bindparams(bindparam("cards", expanding=True), bindparam("items", expanding=True))


@dataclass
class _Step:
    """One of the server's loans of an item, and its SLiMS row (None: not there yet)."""

    item: str
    key: str
    card: str
    issued: datetime
    due: datetime
    returned: datetime | None
    renewals: int
    row: Any
    rekey: bool = False
    """``row`` was written for a checkout the server no longer counts as a loan, by
    the same member: it becomes this loan's row (key and dates)."""

    @property
    def late(self) -> bool:
        return self.returned is not None and local_date(self.returned) > local_date(self.due)


@dataclass
class _Rules:
    """What SLiMS's circulation would look up for a (member, item) pair."""

    member_types: dict[str, int | None]
    coll_types: dict[str, int | None]
    fines: dict[int, tuple[int, int]]  # member type: (fine_each_day, grace_periode)
    rules: dict[tuple[int, int], tuple[int, int, int]]  # lowest loan_rules_id first

    def of(self, card: str, item: str) -> tuple[int, int, int]:
        """(loan_rules_id, fine_each_day, grace_periode) SLiMS applies to this pair."""
        mt = self.member_types.get(card)
        if mt is None or item not in self.coll_types or mt not in self.fines:
            return 0, 0, 0
        ct = self.coll_types[item]
        rule = self.rules.get((mt, ct)) if ct is not None else None
        return rule if rule is not None else (0, *self.fines[mt])


class _Calendar:
    """SLiMS's closed days (dated and weekly), read once for a write-back's returns."""

    def __init__(self, ils: Connection) -> None:
        self.dates: set[date] = set()
        self.weekly: set[str] = set()
        for day, name in ils.execute(text("SELECT holiday_date, holiday_dayname FROM holiday")):
            if day is not None:
                self.dates.add(day)
            elif name:
                self.weekly.add(name)

    def open_days_between(self, due: date, back: date) -> int:
        days = 0
        day = due + timedelta(days=1)
        while day <= back:
            if day not in self.dates and _DAYNAMES[day.weekday()] not in self.weekly:
                days += 1
            day += timedelta(days=1)
        return days


class SlimsConnector(IlsDatabase):
    """Pull from and write into one SLiMS database (see the module docstring)."""

    kind = "slims"
    LABEL = "SLiMS"
    MARKED_TABLES = ("loan", "fines", "visitor_count")
    MEMBER_KEYS_SQL = "SELECT member_id FROM member"
    ITEM_KEYS_SQL = "SELECT item_code FROM item WHERE item_code IS NOT NULL AND item_code <> ''"

    def __init__(self, url: str, uid: int = 1, engine: Engine | None = None) -> None:
        super().__init__(url, engine)
        self.uid = uid
        self._writer_lock = threading.Lock()
        self._writer_conn: Connection | None = None
        self._writer_used = 0.0

    # -- pull ---------------------------------------------------------------

    def pull(self, db: Database, cursor: str | None) -> PullReport:
        self.prepare()
        with self.engine.connect() as ils:
            now = ils.execute(text("SELECT NOW()")).scalar_one()
            since = datetime.fromisoformat(cursor) - timedelta(seconds=2) if cursor else None
            report = PullReport(cursor=now.isoformat(), full=since is None)
            policies = self._policies(ils)
            days = self._closed_days(ils, now.date())
            patrons = self._members(ils, since)
            items = self._items(ils, since)
            holds = self._holds(ils)
            loans = self._loans(ils, since)
        with db.write() as (session, version):
            report.policies = replace_policies(session, policies)
            report.closed_days = replace_closed_days(session, days)
            report.patrons = upsert_patrons(session, version, patrons)
            report.items = upsert_items(session, version, items)
            session.flush()
            set_holds(session, version, holds)
        report.transactions = self._desk_transactions(db, loans)
        report.desk_transactions = len(report.transactions)
        return report

    def _policies(self, ils: Connection) -> list[tuple[str, str, int, int, int]]:
        rows: list[tuple[str, str, int, int, int]] = []
        types = ils.execute(
            text(
                "SELECT member_type_id, loan_limit, loan_periode, reborrow_limit "
                "FROM mst_member_type"
            )
        ).all()
        for mt, limit, days, renew in types:
            rows.append((category(mt), "*", int(days), int(limit), int(renew)))
        limits = {mt: int(limit) for mt, limit, _, _ in types}
        for mt, ct, days, renew in ils.execute(
            text(
                "SELECT member_type_id, coll_type_id, loan_periode, reborrow_limit "
                "FROM mst_loan_rules WHERE coll_type_id > 0 AND COALESCE(gmd_id, 0) = 0"
            )
        ):
            rows.append((category(mt), item_type(ct), int(days), limits.get(mt, 0), int(renew)))
        return rows

    def _closed_days(self, ils: Connection, today: date) -> dict[date, str]:
        days: dict[date, str] = {}
        weekly: set[int] = set()
        for name, day, description in ils.execute(
            text("SELECT holiday_dayname, holiday_date, description FROM holiday")
        ):
            if day is not None:
                days[day] = description or "holiday"
            elif name in _DAYNAMES:
                weekly.add(_DAYNAMES.index(name))
        for offset in range(_WEEKLY_AHEAD_DAYS):
            day = today + timedelta(days=offset)
            if day.weekday() in weekly:
                days.setdefault(day, f"closed every {_DAYNAMES[day.weekday()]}")
        return days

    def _members(
        self, ils: Connection, since: datetime | None, keys: list[str] | None = None
    ) -> list[PatronRow]:
        sql = (
            "SELECT member_id, member_name, member_type_id, expire_date, is_pending, "
            "member_email FROM member"
        )
        params: dict[str, Any] = {}
        if since is not None:  # SLiMS keeps only the date of a member's last change
            sql += " WHERE last_update >= :d OR input_date >= :d"
            params["d"] = since.date()
        elif keys is not None:  # the sweep's look at members it had refused
            sql += " WHERE member_id IN :keys"
            params["keys"] = keys
        return [
            PatronRow(
                card=str(mid),
                name=name or "",
                category=category(mt),
                status="blocked" if pending else "active",
                blocked_reason="pending in SLiMS" if pending else None,
                expires_on=expire,
                email=email,
            )
            for mid, name, mt, expire, pending, email in ils.execute(
                keyed_text(sql, params), params
            )
        ]

    def _items(
        self, ils: Connection, since: datetime | None, keys: list[str] | None = None
    ) -> list[ItemRow]:
        sql = (
            "SELECT i.item_code, b.title, b.isbn_issn, i.coll_type_id, "
            "COALESCE(s.no_loan, 0), i.item_status_id FROM item i "
            "LEFT JOIN biblio b ON b.biblio_id = i.biblio_id "
            "LEFT JOIN mst_item_status s ON s.item_status_id = i.item_status_id "
            "WHERE i.item_code IS NOT NULL AND i.item_code <> ''"
        )
        params: dict[str, Any] = {}
        if since is not None:
            sql += " AND (i.last_update >= :t OR b.last_update >= :t)"
            params["t"] = since
        elif keys is not None:  # the sweep's look at items it had refused
            sql += " AND i.item_code IN :keys"
            params["keys"] = keys
        rows = []
        for code, title, isbn, ct, no_loan, status_id in ils.execute(
            keyed_text(sql, params), params
        ):
            status = "available"
            if no_loan:
                status = "lost" if status_id == "MIS" else "not_for_loan"
            rows.append(
                ItemRow(
                    barcode=code,
                    title=(title or code)[:400],
                    author=None,
                    isbn=(isbn or None) and isbn[:20],
                    item_type=item_type(ct),
                    status=status,
                )
            )
        return rows

    def _holds(self, ils: Connection) -> dict[str, str]:
        holds: dict[str, str] = {}
        for code, member in ils.execute(
            text(
                "SELECT item_code, member_id FROM reserve WHERE item_code IS NOT NULL "
                "ORDER BY reserve_date, reserve_id"
            )
        ):
            holds.setdefault(code, str(member))
        return holds

    def _loans(self, ils: Connection, since: datetime | None) -> list[Any]:
        cols = (
            "SELECT loan_id, item_code, member_id, loan_date, due_date, renewed, is_return, "
            "return_date, input_date, last_update, pustaka_txn FROM loan"
        )
        if since is None:  # history needs nothing: what is open, and kiosk loans ended here
            return list(
                ils.execute(
                    text(f"{cols} WHERE (is_lent = 1 AND is_return = 0) OR pustaka_txn IS NOT NULL")
                )
            )
        return list(ils.execute(text(f"{cols} WHERE last_update >= :t"), {"t": since}))

    def _desk_transactions(self, db: Database, loans: list[Any]) -> list[TransactionIn]:
        """The desk's loans, returns and renewals as transactions for the server's log."""
        ours = [r for r in loans if r.pustaka_txn]
        open_here: dict[str, int] = {}
        if ours:
            with db.read() as session:
                keys = [r.pustaka_txn for r in ours]
                for key, renewals in session.execute(
                    select(Loan.checkout_txn_id, Loan.renewals).where(
                        Loan.checkout_txn_id.in_(keys), Loan.returned_at.is_(None)
                    )
                ):
                    if key is not None:
                        open_here[key] = renewals
        txns: list[TransactionIn] = []
        for r in loans:
            if not r.item_code or not r.member_id:
                continue
            issued = from_naive_local(r.input_date or datetime.combine(r.loan_date, time(8)))
            changed = from_naive_local(r.last_update) if r.last_update else issued
            base = {"kiosk": KIOSK, "offline": True, "item": r.item_code, "card": r.member_id}
            seq = int(r.loan_id) * 100
            if r.pustaka_txn:
                if r.pustaka_txn not in open_here:
                    continue  # the server has it as SLiMS has it, or wrote the return itself
                if r.is_return:
                    txns.append(self._checkin(r, base, seq, issued, changed))
                elif r.renewed > open_here[r.pustaka_txn]:
                    txns.append(self._renewal(r, base, seq, changed))
                continue
            txns.append(
                TransactionIn(
                    id=f"slims-{r.loan_id}-out",
                    seq=seq,
                    kind=Kind.CHECKOUT,
                    at=issued,
                    due_at=end_of_local_day(r.due_date),
                    **base,
                )  # fmt: skip
            )
            if r.renewed:
                txns.append(self._renewal(r, base, seq, max(changed, issued)))
            if r.is_return:
                txns.append(self._checkin(r, base, seq, issued, changed))
        txns.sort(key=lambda t: t.at)
        return txns

    @staticmethod
    def _checkin(
        r: Any, base: dict[str, Any], seq: int, issued: datetime, changed: datetime
    ) -> TransactionIn:
        returned = changed
        if r.return_date is not None and local_date(changed) != r.return_date:
            returned = end_of_local_day(r.return_date) - timedelta(hours=6)
        return TransactionIn(
            id=f"slims-{r.loan_id}-in", seq=seq + 99, kind=Kind.CHECKIN,
            at=max(returned, issued), **base,
        )  # fmt: skip

    @staticmethod
    def _renewal(r: Any, base: dict[str, Any], seq: int, at: datetime) -> TransactionIn:
        return TransactionIn(
            id=f"slims-{r.loan_id}-r{r.renewed}", seq=seq + min(int(r.renewed), 98),
            kind=Kind.RENEW, at=at, due_at=end_of_local_day(r.due_date), **base,
        )  # fmt: skip

    # -- write-back ---------------------------------------------------------

    def write_back(self, db: Database, item: str) -> WriteResult:
        return self.write_back_many(db, [item])[item]

    def write_back_many(self, db: Database, items: Sequence[str]) -> dict[str, WriteResult]:
        """:meth:`write_back` for each of ``items``, in their order, in a few round
        trips for them all: one read of the server's loans, one of SLiMS's loan rows,
        one of the rules the new rows need, one multi-row insert."""
        self.prepare()
        items = list(dict.fromkeys(items))
        ours = self._our_loans(db, items)
        results = {item: WriteResult() for item in items}
        with self._writer() as ils:
            theirs: dict[str, list[Any]] = {item: [] for item in items}
            for r in ils.execute(_LOANS_OF_ITEMS, {"items": items}):
                theirs[r.item_code].append(r)
            plan: list[_Step] = []
            stale: list[Any] = []
            for item in items:
                steps, leftover = self._plan(item, ours.get(item, []), theirs[item], results[item])
                plan += steps
                stale += leftover
            rekeyed = [s for s in plan if s.rekey]
            if rekeyed:
                self._rekey(ils, rekeyed)
                for s in rekeyed:
                    results[s.item].written += 1
            if stale:
                self._close_stale(ils, stale)
                for r in stale:
                    results[r.item_code].written += 1
            rules = self._rules(ils, plan)
            new = [s for s in plan if s.row is None]
            if new:
                ils.execute(_INSERT_LOAN, [self._loan_values(s, rules) for s in new])
                for s in new:
                    results[s.item].written += 1
                again = [s.key for s in new if s.returned is not None or s.renewals]
                if again:
                    found = {r.pustaka_txn: r for r in ils.execute(_LOANS_BY_KEY, {"keys": again})}
                    for s in new:
                        s.row = found.get(s.key)
            calendar = _Calendar(ils) if any(s.late for s in plan) else None
            for s in plan:
                if s.row is not None:
                    results[s.item].written += self._sync(ils, s, rules, calendar)
        return results

    @contextmanager
    def _writer(self) -> Iterator[Connection]:
        """The write-back's own SLiMS connection (autocommit), kept from one chunk to
        the next: a pool checkout costs a ping and isolation-level round trips each
        time. Any error drops it; the next chunk opens a new one."""
        with self._writer_lock:
            conn = self._writer_conn
            if conn is not None and monotonic() - self._writer_used > _WRITER_IDLE_S:
                self._drop_writer()
                conn = None
            if conn is None:
                conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self._writer_conn = conn
            try:
                yield conn
            except BaseException:
                self._drop_writer()
                raise
            self._writer_used = monotonic()

    def _drop_writer(self) -> None:
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            with suppress(SQLAlchemyError):  # it may be the broken one
                conn.invalidate()
                conn.close()

    @staticmethod
    def _our_loans(db: Database, items: list[str]) -> dict[str, list[Any]]:
        """The server's keyed loans of ``items``, each item's oldest first."""
        loans: dict[str, list[Any]] = {}
        with db.read() as session:
            for row in session.connection().execute(
                select(
                    Item.barcode, Loan.checkout_txn_id, Patron.card, Loan.issued_at,
                    Loan.due_at, Loan.returned_at, Loan.renewals,
                )
                .join(Item, Item.id == Loan.item_id)
                .join(Patron, Patron.id == Loan.patron_id)
                .where(Item.barcode.in_(items), Loan.checkout_txn_id.is_not(None))
                .order_by(Loan.issued_at)
            ):  # fmt: skip
                loans.setdefault(row[0], []).append(row)
        return loans

    def _plan(
        self, item: str, ours: list[Any], rows: list[Any], result: WriteResult
    ) -> tuple[list[_Step], list[Any]]:
        """What one item's loans need in SLiMS, up to a loan the desk contradicts
        (then ``result.conflict`` says so and nothing after it is written); and the
        rows to close: written for checkouts the server no longer counts as loans (a
        late offline checkout replayed before one made it a repeat) and not taken
        over by the same member's loan."""
        by_key = {r.pustaka_txn: r for r in rows if r.pustaka_txn}
        by_id = {int(r.loan_id): r for r in rows}
        known = {str(loan.checkout_txn_id) for loan in ours}
        stale = [
            r for r in rows
            if r.pustaka_txn and r.pustaka_txn not in known and r.is_lent and not r.is_return
        ]  # fmt: skip
        steps = []
        for _, maybe_key, card, issued, due, returned, renewals in ours:
            key = str(maybe_key)  # the query keeps loans with a key only
            row = self._row_for(key, by_key, by_id)
            if row is None and key.startswith("slims-"):
                continue  # a desk loan SLiMS no longer has: nothing to mirror back
            mine = [r for r in stale if row is None and str(r.member_id) == card]
            if mine:
                stale.remove(mine[0])
                steps.append(
                    _Step(item, key, card, issued, due, returned, renewals, mine[0], rekey=True)
                )
                continue
            if row is None:
                desk = [
                    r for r in rows
                    if r.is_lent and not r.is_return and not r.pustaka_txn
                    and f"slims-{r.loan_id}-out" not in known
                ]  # fmt: skip
                if desk and returned is None:
                    d = desk[-1]
                    result.conflict = (
                        f"SLiMS already has item {item} on loan to member {d.member_id} "
                        f"since {d.loan_date} (lent at the desk), so the kiosk loan to "
                        f"{card} on {local_date(issued)} was not written into SLiMS. "
                        "Find the item and check it in or out at the desk."
                    )
                    return steps, []
            steps.append(_Step(item, key, card, issued, due, returned, renewals, row))
        return steps, stale

    def _rekey(self, ils: Connection, steps: list[_Step]) -> None:
        """Give each step's stale row its loan's key, dates and renewals, and read
        the rows again for :meth:`_sync`."""
        now = naive_local(utcnow())
        ils.execute(
            text(
                "UPDATE loan SET pustaka_txn = :key, loan_date = :ld, due_date = :dd, "
                "renewed = :n, input_date = :at, last_update = :now, uid = :uid "
                "WHERE loan_id = :id"
            ),
            [{"key": s.key, "ld": naive_local(s.issued).date(), "dd": local_date(s.due),
              "n": s.renewals, "at": naive_local(s.issued), "now": now, "uid": self.uid,
              "id": s.row.loan_id} for s in steps],
        )  # fmt: skip
        found = {
            r.pustaka_txn: r for r in ils.execute(_LOANS_BY_KEY, {"keys": [s.key for s in steps]})
        }
        for s in steps:
            s.row = found.get(s.key)

    @staticmethod
    def _close_stale(ils: Connection, rows: list[Any]) -> None:
        """Return the rows of checkouts the server no longer counts as loans: today,
        without a fine (by the server's log the item was not out on them)."""
        now = naive_local(utcnow())
        ils.execute(
            text(
                "UPDATE loan SET is_return = 1, return_date = :r, last_update = :now "
                "WHERE loan_id IN :ids AND is_return = 0"
            ).bindparams(bindparam("ids", expanding=True)),
            {"r": now.date(), "now": now, "ids": [r.loan_id for r in rows]},
        )

    @staticmethod
    def _row_for(key: str, by_key: dict[str, Any], by_id: dict[int, Any]) -> Any:
        if key.startswith("slims-") and key.endswith("-out"):
            return by_id.get(int(key.split("-")[1]))
        return by_key.get(key)

    @staticmethod
    def _rules(ils: Connection, plan: list[_Step]) -> _Rules:
        """The rules SLiMS applies to the (member, item) pairs of the new rows and the
        late returns in ``plan``, read in one round trip."""
        wanted = [s for s in plan if s.row is None or s.late]
        if not wanted:
            return _Rules({}, {}, {}, {})
        members: dict[str, int | None] = {}
        colls: dict[str, int | None] = {}
        fines: dict[int, tuple[int, int]] = {}
        rules: dict[tuple[int, int], tuple[int, int, int]] = {}
        cards = sorted({s.card for s in wanted})
        items = sorted({s.item for s in wanted})
        for what, key, a, b, c in ils.execute(_RULES, {"cards": cards, "items": items}):
            if what == "m":
                members[str(key)] = None if a is None else int(a)
            elif what == "i":
                colls[str(key)] = None if a is None else int(a)
            elif what == "t":
                fines[int(key)] = (int(a or 0), int(b or 0))
            elif key is not None:  # a rule for no collection type matches no item
                mt, ct = (int(part) for part in str(key).split(":"))
                rule = (int(a), int(b or 0), int(c or 0))
                if (mt, ct) not in rules or rule < rules[(mt, ct)]:
                    rules[(mt, ct)] = rule
        return _Rules(members, colls, fines, rules)

    def _loan_values(self, s: _Step, rules: _Rules) -> dict[str, Any]:
        stamp = naive_local(s.issued)
        return {"item": s.item, "card": s.card, "ld": stamp.date(), "dd": local_date(s.due),
                "rid": rules.of(s.card, s.item)[0], "at": stamp, "uid": self.uid,
                "key": s.key}  # fmt: skip

    def _sync(self, ils: Connection, s: _Step, rules: _Rules, calendar: _Calendar | None) -> int:
        """Bring one SLiMS loan row to the server's state; returns rows written."""
        row = s.row
        written = 0
        now = naive_local(utcnow())
        if s.returned is None and not row.is_return:
            if s.renewals != row.renewed and s.renewals > row.renewed:
                ils.execute(
                    text(
                        "UPDATE loan SET renewed = :n, due_date = :d, last_update = :now, "
                        "uid = :uid WHERE loan_id = :id"
                    ),
                    {"n": s.renewals, "d": local_date(s.due), "now": now, "uid": self.uid,
                     "id": row.loan_id},
                )  # fmt: skip
                written += 1
            return written
        if s.returned is not None and not row.is_return:
            back = local_date(s.returned)
            ils.execute(
                text(
                    "UPDATE loan SET is_return = 1, return_date = :r, renewed = :n, "
                    "due_date = :d, last_update = :now, uid = :uid WHERE loan_id = :id"
                ),
                {"r": back, "n": max(s.renewals, int(row.renewed)), "d": local_date(s.due),
                 "now": now, "uid": self.uid, "id": row.loan_id},
            )  # fmt: skip
            written += 1
            if s.late and calendar is not None:
                written += self._fine(ils, s, rules, calendar, local_date(s.due), back)
        return written

    def _fine(
        self, ils: Connection, s: _Step, rules: _Rules, calendar: _Calendar, due: date,
        back: date,
    ) -> int:  # fmt: skip
        """The overdue fine SLiMS writes on a return: days late (closed days not
        counted) times ``fine_each_day``, nothing within the grace period."""
        _, per_day, grace = rules.of(s.card, s.row.item_code)
        late = calendar.open_days_between(due, back)
        if per_day <= 0 or late <= grace:
            return 0
        done = ils.execute(
            text(
                "INSERT IGNORE INTO fines (fines_date, member_id, debet, credit, description, "
                "pustaka_txn) VALUES (:d, :m, :debet, 0, :desc, :k)"
            ),
            {"d": back, "m": s.card, "debet": late * per_day,
             "desc": f"Overdue fines for item {s.row.item_code}", "k": f"fine:{s.key}"},
        )  # fmt: skip
        return int(done.rowcount or 0)

    # -- reconcile ----------------------------------------------------------

    def open_loans(self) -> list[OpenLoan]:
        with self.engine.connect() as ils:
            return [
                OpenLoan(item=code, card=str(member), due=str(due))
                for code, member, due in ils.execute(
                    text(
                        "SELECT item_code, member_id, due_date FROM loan "
                        "WHERE is_lent = 1 AND is_return = 0"
                    )
                )
            ]

    # -- guest book ---------------------------------------------------------

    def write_visits(
        self, db: Database, visits: Sequence[str], groups: Sequence[str] = ()
    ) -> WriteResult:
        """Counted visits and group visits into ``visitor_count``, one
        ``INSERT IGNORE`` per chunk (MyISAM: each row is in or not, never half).

        SLiMS's visitor report counts rows, so a group of n people is n rows (the
        leader's name numbered 1/n..n/n, the group's institution): the library's
        visitor numbers in SLiMS then match the head count in Pustaka's own
        reports. A visit's purpose has no column in SLiMS, so an amend writes
        nothing here."""
        self.prepare()
        guests = load_visits(db, visits)
        crowds = load_groups(db, groups)
        rows: list[dict[str, Any]] = []
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ils:
            members = self._members_named(ils, sorted({g.card for g in guests if g.card}))
            for g in guests:
                name, institution = g.name, g.institution
                if g.card and g.card in members:
                    name, institution = members[g.card]
                rows.append(
                    {"m": clip(g.card, 20), "name": clip(name or g.card or "", 255),
                     "inst": clip(institution or None, 100), "at": g.at, "k": g.id}
                )  # fmt: skip
            for c in crowds:
                for n in range(1, c.people + 1):
                    rows.append(
                        {"m": None, "name": clip(f"{c.leader} (rombongan {n}/{c.people})", 255),
                         "inst": clip(c.institution, 100), "at": c.at, "k": f"{c.id}#{n}"}
                    )  # fmt: skip
            written = 0
            for part in chunks(rows):
                done = ils.execute(
                    text(
                        "INSERT IGNORE INTO visitor_count (member_id, member_name, institution, "
                        "checkin_date, pustaka_txn) VALUES (:m, :name, :inst, :at, :k)"
                    ),
                    part,
                )
                written += int(done.rowcount or 0)
        return WriteResult(written=written)

    @staticmethod
    def _members_named(ils: Connection, cards: list[str]) -> dict[str, tuple[str, str | None]]:
        """(member_name, inst_name or None) of these members, as SLiMS's visitor page
        takes them from ``member``."""
        found: dict[str, tuple[str, str | None]] = {}
        for part in chunks(cards):
            rows = ils.execute(
                text(
                    "SELECT member_id, member_name, inst_name FROM member WHERE member_id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": part},
            )
            for mid, name, inst in rows:
                found[str(mid)] = (name or str(mid), (inst or "").strip() or None)
        return found
