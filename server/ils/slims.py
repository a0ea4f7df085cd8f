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
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Connection, Engine

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
from server.timeutil import WIB, as_utc, local_date

log = logging.getLogger(__name__)

KIOSK = "ils:slims"
_DAYNAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
#: weekly closing days (SLiMS ``holiday`` rows with a day name and no date) are
#: expanded into dated closed days this far ahead
_WEEKLY_AHEAD_DAYS = 400


def category(member_type_id: int | None) -> str:
    return f"slims-mt{member_type_id or 0}"


def item_type(coll_type_id: int | None) -> str:
    return f"slims-ct{coll_type_id or 0}"


def _local(value: datetime) -> datetime:
    """An aware instant as SLiMS stores it: naive local time (WIB)."""
    return as_utc(value).astimezone(WIB).replace(tzinfo=None)


def _from_local(value: datetime) -> datetime:
    return value.replace(tzinfo=WIB).astimezone(UTC)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=WIB).astimezone(UTC)


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
            issued = _from_local(r.input_date or datetime.combine(r.loan_date, time(8)))
            changed = _from_local(r.last_update) if r.last_update else issued
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
                    due_at=_end_of(r.due_date),
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
            returned = _end_of(r.return_date) - timedelta(hours=6)
        return TransactionIn(
            id=f"slims-{r.loan_id}-in", seq=seq + 99, kind=Kind.CHECKIN,
            at=max(returned, issued), **base,
        )  # fmt: skip

    @staticmethod
    def _renewal(r: Any, base: dict[str, Any], seq: int, at: datetime) -> TransactionIn:
        return TransactionIn(
            id=f"slims-{r.loan_id}-r{r.renewed}", seq=seq + min(int(r.renewed), 98),
            kind=Kind.RENEW, at=at, due_at=_end_of(r.due_date), **base,
        )  # fmt: skip

    # -- write-back ---------------------------------------------------------

    def write_back(self, db: Database, item: str) -> WriteResult:
        self.prepare()
        with db.read() as session:
            loans = session.execute(
                select(
                    Loan.checkout_txn_id, Patron.card, Loan.issued_at, Loan.due_at,
                    Loan.returned_at, Loan.renewals,
                )
                .join(Item, Item.id == Loan.item_id)
                .join(Patron, Patron.id == Loan.patron_id)
                .where(Item.barcode == item, Loan.checkout_txn_id.is_not(None))
                .order_by(Loan.issued_at)
            ).all()  # fmt: skip
        result = WriteResult()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as ils:
            rows = ils.execute(
                text("SELECT * FROM loan WHERE item_code = :c ORDER BY loan_id"), {"c": item}
            ).all()
            by_key = {r.pustaka_txn: r for r in rows if r.pustaka_txn}
            by_id = {int(r.loan_id): r for r in rows}
            known = {str(key) for key, *_ in loans}
            for maybe_key, card, issued, due, returned, renewals in loans:
                key = str(maybe_key)  # the query keeps loans with a key only
                row = self._row_for(key, by_key, by_id)
                if row is None and key.startswith("slims-"):
                    continue  # a desk loan SLiMS no longer has: nothing to mirror back
                if row is None:
                    desk = [
                        r for r in rows
                        if r.is_lent and not r.is_return and not self._known(r, known)
                    ]  # fmt: skip
                    if desk and returned is None:
                        d = desk[-1]
                        result.conflict = (
                            f"SLiMS already has item {item} on loan to member {d.member_id} "
                            f"since {d.loan_date} (lent at the desk), so the kiosk loan to "
                            f"{card} on {local_date(issued)} was not written into SLiMS. "
                            "Find the item and check it in or out at the desk."
                        )
                        return result
                    row = self._insert_loan(ils, key, item, card, issued, due, returned, renewals)
                    result.written += 1
                    by_key[key] = row
                result.written += self._sync(ils, key, row, card, due, returned, renewals)
        return result

    @staticmethod
    def _row_for(key: str, by_key: dict[str, Any], by_id: dict[int, Any]) -> Any:
        if key.startswith("slims-") and key.endswith("-out"):
            return by_id.get(int(key.split("-")[1]))
        return by_key.get(key)

    @staticmethod
    def _known(row: Any, keys: set[str]) -> bool:
        return (row.pustaka_txn in keys) or (f"slims-{row.loan_id}-out" in keys)

    def _rules(self, ils: Connection, card: str, item: str) -> tuple[int, int, int]:
        """(loan_rules_id, fine_each_day, grace_periode) SLiMS applies to this pair."""
        found = ils.execute(
            text(
                "SELECT m.member_type_id, i.coll_type_id, t.fine_each_day, t.grace_periode "
                "FROM member m JOIN mst_member_type t ON t.member_type_id = m.member_type_id "
                "JOIN item i ON i.item_code = :i WHERE m.member_id = :m"
            ),
            {"m": card, "i": item},
        ).first()
        if found is None:
            return 0, 0, 0
        rule = ils.execute(
            text(
                "SELECT loan_rules_id, fine_each_day, grace_periode FROM mst_loan_rules "
                "WHERE member_type_id = :mt AND coll_type_id = :ct AND COALESCE(gmd_id, 0) = 0 "
                "ORDER BY loan_rules_id LIMIT 1"
            ),
            {"mt": found[0], "ct": found[1]},
        ).first()
        if rule is not None:
            return int(rule[0]), int(rule[1] or 0), int(rule[2] or 0)
        return 0, int(found[2] or 0), int(found[3] or 0)

    def _insert_loan(
        self, ils: Connection, key: str, item: str, card: str, issued: datetime,
        due: datetime, returned: datetime | None, renewals: int,
    ) -> Any:  # fmt: skip
        rules_id, _, _ = self._rules(ils, card, item)
        stamp = _local(issued)
        ils.execute(
            text(
                "INSERT IGNORE INTO loan (item_code, member_id, loan_date, due_date, renewed, "
                "loan_rules_id, is_lent, is_return, input_date, last_update, uid, pustaka_txn) "
                "VALUES (:item, :card, :ld, :dd, 0, :rid, 1, 0, :at, :at, :uid, :key)"
            ),
            {"item": item, "card": card, "ld": stamp.date(), "dd": local_date(due),
             "rid": rules_id, "at": stamp, "uid": self.uid, "key": key},
        )  # fmt: skip
        return ils.execute(text("SELECT * FROM loan WHERE pustaka_txn = :k"), {"k": key}).one()

    def _sync(
        self, ils: Connection, key: str, row: Any, card: str, due: datetime,
        returned: datetime | None, renewals: int,
    ) -> int:  # fmt: skip
        """Bring one SLiMS loan row to the server's state; returns rows written."""
        written = 0
        now = datetime.now(WIB).replace(tzinfo=None, microsecond=0)
        if returned is None and not row.is_return:
            if renewals != row.renewed and renewals > row.renewed:
                ils.execute(
                    text(
                        "UPDATE loan SET renewed = :n, due_date = :d, last_update = :now, "
                        "uid = :uid WHERE loan_id = :id"
                    ),
                    {"n": renewals, "d": local_date(due), "now": now, "uid": self.uid,
                     "id": row.loan_id},
                )  # fmt: skip
                written += 1
            return written
        if returned is not None and not row.is_return:
            back = local_date(returned)
            ils.execute(
                text(
                    "UPDATE loan SET is_return = 1, return_date = :r, renewed = :n, "
                    "due_date = :d, last_update = :now, uid = :uid WHERE loan_id = :id"
                ),
                {"r": back, "n": max(renewals, int(row.renewed)), "d": local_date(due),
                 "now": now, "uid": self.uid, "id": row.loan_id},
            )  # fmt: skip
            written += 1
            written += self._fine(ils, key, row, card, local_date(due), back)
        return written

    def _fine(self, ils: Connection, key: str, row: Any, card: str, due: date, back: date) -> int:
        """The overdue fine SLiMS writes on a return: days late (closed days not
        counted) times ``fine_each_day``, nothing within the grace period."""
        if back <= due:
            return 0
        _, per_day, grace = self._rules(ils, card, row.item_code)
        late = self._open_days_between(ils, due, back)
        if per_day <= 0 or late <= grace:
            return 0
        done = ils.execute(
            text(
                "INSERT IGNORE INTO fines (fines_date, member_id, debet, credit, description, "
                "pustaka_txn) VALUES (:d, :m, :debet, 0, :desc, :k)"
            ),
            {"d": back, "m": card, "debet": late * per_day,
             "desc": f"Overdue fines for item {row.item_code}", "k": f"fine:{key}"},
        )  # fmt: skip
        return int(done.rowcount or 0)

    @staticmethod
    def _open_days_between(ils: Connection, due: date, back: date) -> int:
        closed_dates = {
            d for (d,) in ils.execute(
                text(
                    "SELECT holiday_date FROM holiday "
                    "WHERE holiday_date > :a AND holiday_date <= :b"
                ),
                {"a": due, "b": back},
            )
        }  # fmt: skip
        weekly = {
            name for (name,) in ils.execute(
                text("SELECT holiday_dayname FROM holiday WHERE holiday_date IS NULL")
            )
        }  # fmt: skip
        days = 0
        day = due + timedelta(days=1)
        while day <= back:
            if day not in closed_dates and _DAYNAMES[day.weekday()] not in weekly:
                days += 1
            day += timedelta(days=1)
        return days

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
