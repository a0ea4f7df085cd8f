"""INLISLite v3 (Perpusnas) on MariaDB: pull by update time, write loans as its
circulation does.

A checkout becomes a ``collectionloans`` row (an id numbered as INLISLite's
``SirkulasiHelpers::generateNewID`` numbers them: the location's id as it is, then
``yymmdd``, then a 5-digit counter for the day) plus one ``collectionloanitems`` row
with ``LoanStatus = 'Loan'`` and the ``DueDate``, and sets ``collections.Status_id``
to 5 (on loan). A return sets ``ActualReturn``, ``LoanStatus = 'Return'``,
``LateDays``, ``Status_id`` 1 (available) and, when late, writes the ``pelanggaran``
row with the fine and suspension INLISLite's return form proposes from the member
type (``jenis_anggota``: constant, or per tenor of N days/weeks/months/years).

Late days are counted as INLISLite's ``SirkulasiHelpers::lateDays`` counts them:
calendar days from the due date to the return, less the Saturdays and Sundays after
the due date when ``settingparameters`` says they are holidays
(``IsSaturdayHoliday``/``IsSundayHoliday`` = ``True``), less the ``holidays`` rows
dated from the due date to the return, both ends included. Pull mirrors the same
holidays and weekend days into the server's closed days.

INLISLite's tables are InnoDB, so each item's write-back is one database
transaction; on top of that every loan item and ``pelanggaran`` row the connector
adds carries the server's checkout transaction id in a ``pustaka_txn`` column with
a unique index (added by :meth:`InlisliteConnector.prepare`). A repeat after a
crash between the INLISLite commit and the server's record of it finds the row and
writes nothing twice.

Guest-book visits go to ``memberguesses`` as INLISLite's Buku Tamu writes them (a
member: ``NoAnggota``, ``Nama``, ``Status_id``; a visitor without a card: ``Nama``
only), groups to ``groupguesses``; see :meth:`InlisliteConnector.write_visits`.

Pull mirrors members (``StatusAnggota_id`` 3 is active, anything else blocked;
``EndDate`` the expiry), collections (``Status_id`` 1 and 5 are on the shelf or
lent, other statuses not for loan), member types (``jenis_anggota``) as loan
policies and the OPAC's bookings not yet expired (``collections.BookingMemberID``)
as holds; a kiosk loan clears the booking as INLISLite's own loan does. Loans made
or ended at the INLISLite desk come into the server as transactions of kiosk
``ils:inlislite`` with ids ``inlis-<loan item ID>-out`` and ``-in``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Connection, Engine

from core.wire import Kind, TransactionIn
from server.db import Database
from server.ils import OpenLoan, PullReport, WriteResult
from server.ils.guestbook import GuestGroup, GuestVisit, clip, load_groups, load_visits
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

#: ``members.StatusAnggota_id`` of an active member (INLISLite's own loan check)
ACTIVE_MEMBER = 3
#: ``collections.Status_id``: on the shelf, and lent
AVAILABLE, ON_LOAN = 1, 5
#: ``pelanggaran.JenisPelanggaran_id`` and ``JenisDenda_id`` the connector writes
#: for a late return (INLISLite's default "Terlambat" and money fine rows)
LATE, MONEY_FINE = 1, 1
ITEM_TYPE = "inlislite"
KIOSK = "ils:inlislite"
#: weekend days INLISLite may be set to close on (``settingparameters`` names)
_WEEKEND = {5: "IsSaturdayHoliday", 6: "IsSundayHoliday"}
#: weekend closing days are expanded into dated closed days this far ahead
_WEEKLY_AHEAD_DAYS = 400
#: days in one tenor unit (``DendaTenorSatuan``/``SuspendTenorSatuan``), as INLISLite
#: divides the late days by them
_TENOR_DAYS = {"hari": 1, "minggu": 7, "bulan": 30, "tahun": 365}


def category(jenis_anggota_id: int | None) -> str:
    return f"inlis-ja{jenis_anggota_id or 0}"


def _desk_key(loan_item_id: int) -> str:
    return f"inlis-{loan_item_id}-out"


def late_days(due: date, back: date, weekend: set[int], holidays: set[date]) -> int:
    """Days late as INLISLite counts them (see the module docstring); 0 when in time.

    Like INLISLite, a holiday on the due date itself, or on a weekend day that is
    closed anyway, is taken off as well."""
    days = (back - due).days
    if days <= 0:
        return 0
    weekends = sum(1 for n in range(1, days + 1) if (due + timedelta(days=n)).weekday() in weekend)
    closed = sum(1 for day in holidays if due <= day <= back)
    return max(0, days - weekends - closed)


@dataclass(frozen=True)
class PenaltyRule:
    """One penalty of a member type: ``DendaType`` + ``DendaPerTenor`` + ``DendaTenor*``
    for the fine, ``SuspendType`` + ``DaySuspend`` + ``SuspendTenor*`` for suspension."""

    kind: str | None  # "Konstan" or "Berkelipatan"
    amount: int
    tenor_count: float | None
    tenor_unit: str | None
    multiply: int | None

    def of(self, late: int) -> int:
        """The penalty INLISLite's return form proposes for ``late`` days."""
        if late <= 0 or self.amount <= 0:
            return 0
        if self.kind == "Konstan":
            return self.amount
        unit = _TENOR_DAYS.get((self.tenor_unit or "").strip().lower())
        divider = unit * (self.tenor_count or 0) if unit else 1
        tenors = max(1, int(late // divider)) if divider > 0 else 1
        return int(self.amount * tenors * (self.multiply or 0))


class InlisliteConnector(IlsDatabase):
    """Pull from and write into one INLISLite v3 database (see the module docstring)."""

    kind = "inlislite"
    LABEL = "INLISLite"
    MARKED_TABLES = ("collectionloanitems", "pelanggaran", "memberguesses", "groupguesses")
    MEMBER_KEYS_SQL = "SELECT MemberNo FROM members WHERE MemberNo IS NOT NULL AND MemberNo <> ''"
    ITEM_KEYS_SQL = (
        "SELECT NomorBarcode FROM collections WHERE NomorBarcode IS NOT NULL AND NomorBarcode <> ''"
    )

    def __init__(
        self, url: str, uid: int = 1, location_id: int = 1, engine: Engine | None = None
    ) -> None:
        super().__init__(url, engine)
        self.uid = uid
        self.location_id = location_id

    # -- pull ---------------------------------------------------------------

    def pull(self, db: Database, cursor: str | None) -> PullReport:
        self.prepare()
        with self.engine.connect() as ils:
            now = ils.execute(text("SELECT NOW()")).scalar_one()
            since = datetime.fromisoformat(cursor) - timedelta(seconds=2) if cursor else None
            report = PullReport(cursor=now.isoformat(), full=since is None)
            policies = [
                (category(ja), "*", int(days or 0), int(limit or 0), int(renew or 0))
                for ja, limit, days, renew in ils.execute(
                    text(
                        "SELECT id, MaxPinjamKoleksi, MaxLoanDays, CountPerpanjang "
                        "FROM jenis_anggota"
                    )
                )
            ]
            days = self._closed_days(ils, now.date())
            patrons = self._members(ils, since)
            items = self._items(ils, since)
            loans = self._loans(ils, since)
            holds = self._bookings(ils)
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

    @staticmethod
    def _weekend(ils: Connection) -> set[int]:
        """The weekend days ``settingparameters`` marks as holidays."""
        names = {name: day for day, name in _WEEKEND.items()}
        return {
            names[name]
            for name, value in ils.execute(
                text("SELECT Name, Value FROM settingparameters WHERE Name IN :names").bindparams(
                    bindparam("names", expanding=True)
                ),
                {"names": list(names)},
            )
            if str(value or "").strip() == "True"
        }

    def _closed_days(self, ils: Connection, today: date) -> dict[date, str]:
        days: dict[date, str] = {}
        for day, name in ils.execute(text("SELECT Dates, Names FROM holidays")):
            if day is not None:
                day = day.date() if isinstance(day, datetime) else day
                days[day] = name or "holiday"
        weekend = self._weekend(ils)
        for offset in range(_WEEKLY_AHEAD_DAYS):
            day = today + timedelta(days=offset)
            if day.weekday() in weekend:
                days.setdefault(day, f"closed every {day:%A}")
        return days

    @staticmethod
    def _bookings(ils: Connection) -> dict[str, str]:
        """Items booked in INLISLite's OPAC and not yet expired: barcode -> the
        booking member's card (``collections.BookingMemberID`` holds the MemberNo)."""
        return {
            str(code): str(member)
            for code, member in ils.execute(
                text(
                    "SELECT NomorBarcode, BookingMemberID FROM collections "
                    "WHERE BookingMemberID IS NOT NULL AND BookingMemberID <> '' "
                    "AND BookingExpiredDate > NOW()"
                )
            )
        }

    def _loans(self, ils: Connection, since: datetime | None) -> list[Any]:
        cols = (
            "SELECT i.ID, c.NomorBarcode, m.MemberNo, i.LoanDate, i.DueDate, i.ActualReturn, "
            "i.LoanStatus, i.CreateDate, i.UpdateDate, i.pustaka_txn FROM collectionloanitems i "
            "JOIN collections c ON c.ID = i.Collection_id JOIN members m ON m.ID = i.member_id"
        )
        if since is None:  # history needs nothing: what is open, and kiosk loans ended here
            return list(
                ils.execute(
                    text(f"{cols} WHERE i.LoanStatus = 'Loan' OR i.pustaka_txn IS NOT NULL")
                )
            )
        return list(
            ils.execute(
                text(f"{cols} WHERE COALESCE(i.UpdateDate, i.CreateDate) >= :t"), {"t": since}
            )
        )

    def _desk_transactions(self, db: Database, loans: list[Any]) -> list[TransactionIn]:
        """The desk's loans and returns as transactions for the server's log."""
        ours = [r.pustaka_txn for r in loans if r.pustaka_txn]
        open_here: set[str] = set()
        if ours:
            with db.read() as session:
                open_here = {
                    str(key)
                    for key in session.scalars(
                        select(Loan.checkout_txn_id).where(
                            Loan.checkout_txn_id.in_(ours), Loan.returned_at.is_(None)
                        )
                    )
                }
        txns: list[TransactionIn] = []
        for r in loans:
            if not r.NomorBarcode or not r.MemberNo or r.LoanDate is None:
                continue
            base = {"kiosk": KIOSK, "offline": True, "item": r.NomorBarcode,
                    "card": str(r.MemberNo)}  # fmt: skip
            seq = int(r.ID) * 100
            issued = from_naive_local(r.LoanDate)
            returned = r.LoanStatus == "Return" and r.ActualReturn is not None
            # INLISLite keeps whole seconds: a return in the loan's own second must
            # still come after the checkout, whose server time has the fraction
            after = issued + timedelta(seconds=1)
            checkin = TransactionIn(
                id=f"inlis-{r.ID}-in", seq=seq + 99, kind=Kind.CHECKIN,
                at=max(from_naive_local(r.ActualReturn), after) if returned else after, **base,
            )  # fmt: skip
            if r.pustaka_txn:
                if r.pustaka_txn in open_here and returned:
                    txns.append(checkin)  # a kiosk loan returned at the desk
                continue
            due = r.DueDate or r.LoanDate
            txns.append(
                TransactionIn(
                    id=_desk_key(r.ID),
                    seq=seq,
                    kind=Kind.CHECKOUT,
                    at=issued,
                    due_at=end_of_local_day(due.date()),
                    **base,
                )  # fmt: skip
            )
            if returned:
                txns.append(checkin)
        txns.sort(key=lambda t: t.at)
        return txns

    def _members(
        self, ils: Connection, since: datetime | None, keys: list[str] | None = None
    ) -> list[PatronRow]:
        sql = (
            "SELECT MemberNo, Fullname, JenisAnggota_id, StatusAnggota_id, EndDate, Email "
            "FROM members WHERE MemberNo IS NOT NULL AND MemberNo <> ''"
        )
        params: dict[str, Any] = {}
        if since is not None:
            sql += " AND UpdateDate >= :t"
            params["t"] = since
        elif keys is not None:  # the sweep's look at members it had refused
            sql += " AND MemberNo IN :keys"
            params["keys"] = keys
        rows = []
        for no, name, ja, status, end, email in ils.execute(keyed_text(sql, params), params):
            active = status == ACTIVE_MEMBER
            rows.append(
                PatronRow(
                    card=str(no),
                    name=name or "",
                    category=category(ja),
                    status="active" if active else "blocked",
                    blocked_reason=None if active else f"INLISLite member status {status}",
                    expires_on=end,
                    email=email or None,
                )
            )
        return rows

    def _items(
        self, ils: Connection, since: datetime | None, keys: list[str] | None = None
    ) -> list[ItemRow]:
        sql = (
            "SELECT c.NomorBarcode, k.Title, k.Author, k.ISBN, c.Status_id FROM collections c "
            "LEFT JOIN catalogs k ON k.ID = c.Catalog_id "
            "WHERE c.NomorBarcode IS NOT NULL AND c.NomorBarcode <> ''"
        )
        params: dict[str, Any] = {}
        if since is not None:
            sql += " AND (c.UpdateDate >= :t OR k.UpdateDate >= :t)"
            params["t"] = since
        elif keys is not None:  # the sweep's look at items it had refused
            sql += " AND c.NomorBarcode IN :keys"
            params["keys"] = keys
        return [
            ItemRow(
                barcode=code,
                title=(title or code)[:400],
                author=(author or None) and author[:200],
                isbn=(isbn or None) and isbn[:20],
                item_type=ITEM_TYPE,
                status="available" if status in (AVAILABLE, ON_LOAN) else "not_for_loan",
            )
            for code, title, author, isbn, status in ils.execute(keyed_text(sql, params), params)
        ]

    # -- write-back ---------------------------------------------------------

    def write_back_many(self, db: Database, items: Sequence[str]) -> dict[str, WriteResult]:
        return {item: self.write_back(db, item) for item in dict.fromkeys(items)}

    def write_back(self, db: Database, item: str) -> WriteResult:
        self.prepare()
        with db.read() as session:
            loans = session.execute(
                select(
                    Loan.checkout_txn_id, Patron.card, Loan.issued_at, Loan.due_at,
                    Loan.returned_at,
                )
                .join(Item, Item.id == Loan.item_id)
                .join(Patron, Patron.id == Loan.patron_id)
                .where(Item.barcode == item, Loan.checkout_txn_id.is_not(None))
                .order_by(Loan.issued_at)
            ).all()  # fmt: skip
        result = WriteResult()
        with self.engine.begin() as ils:
            found = ils.execute(
                text("SELECT ID, Status_id FROM collections WHERE NomorBarcode = :c FOR UPDATE"),
                {"c": item},
            ).first()
            if found is None:
                result.conflict = (
                    f"INLISLite has no collection with barcode {item}, so its kiosk loans "
                    "were not written into INLISLite. Check the barcode at the desk."
                )
                return result
            coll_id, status = int(found[0]), found[1]
            rows = ils.execute(
                text("SELECT * FROM collectionloanitems WHERE Collection_id = :c ORDER BY ID"),
                {"c": coll_id},
            ).all()
            by_key = {r.pustaka_txn: r for r in rows if r.pustaka_txn}
            by_key.update({_desk_key(r.ID): r for r in rows if not r.pustaka_txn})
            known = {str(key) for key, *_ in loans}
            # rows written for a checkout the server no longer counts as a loan (a late
            # offline transaction replayed before it made it a repeat): re-keyed to the
            # loan that took its place, or closed
            stale = [
                r for r in rows
                if r.pustaka_txn and r.pustaka_txn not in known and r.LoanStatus == "Loan"
            ]  # fmt: skip
            for maybe_key, card, issued, due, returned in loans:
                key = str(maybe_key)  # the query keeps loans with a key only
                row = by_key.get(key)
                if row is None and key.startswith("inlis-"):
                    continue  # a desk loan INLISLite no longer has: nothing to mirror back
                if row is None and stale:
                    row = self._rekey(ils, stale, key, card, issued, due)
                    if row is not None:
                        by_key[key] = row
                        result.written += 1
                if row is None:
                    desk = [
                        r for r in rows
                        if r.LoanStatus == "Loan" and not r.pustaka_txn
                        and _desk_key(r.ID) not in known
                    ]  # fmt: skip
                    if desk and returned is None:
                        d = desk[-1]
                        result.conflict = (
                            f"INLISLite already has item {item} on loan (loan "
                            f"{d.CollectionLoan_id}, since {d.LoanDate:%Y-%m-%d}, lent at the "
                            f"desk), so the kiosk loan to {card} on {local_date(issued)} was "
                            "not written into INLISLite. Find the item and check it in or out "
                            "at the desk."
                        )
                        break
                    member = ils.execute(
                        text("SELECT ID FROM members WHERE MemberNo = :m"), {"m": card}
                    ).scalar()
                    if member is None:
                        result.conflict = (
                            f"INLISLite has no member with card {card}, so the kiosk loan of "
                            f"item {item} on {local_date(issued)} was not written into "
                            "INLISLite. Check the member at the desk."
                        )
                        break
                    row = self._insert_loan(ils, key, coll_id, int(member), issued, due)
                    result.written += 2
                    by_key[key] = row
                result.written += self._sync(ils, key, row, due, returned)
            if stale and result.conflict is None:
                result.written += self._close_stale(ils, stale)
            open_now = ils.execute(
                text(
                    "SELECT COUNT(*) FROM collectionloanitems "
                    "WHERE Collection_id = :c AND LoanStatus = 'Loan'"
                ),
                {"c": coll_id},
            ).scalar_one()
            want = ON_LOAN if open_now else AVAILABLE
            if status in (AVAILABLE, ON_LOAN) and status != want:
                # lent: the booking is fulfilled, as INLISLite's own loan clears it
                ils.execute(
                    text(
                        "UPDATE collections SET Status_id = :s, UpdateDate = :now"
                        + (", BookingMemberID = NULL, BookingExpiredDate = NULL"
                           if want == ON_LOAN else "")
                        + " WHERE ID = :c"
                    ),
                    {"s": want, "now": self._now(), "c": coll_id},
                )  # fmt: skip
                result.written += 1
        return result

    @staticmethod
    def _now() -> datetime:
        return naive_local(utcnow())

    def _new_loan_id(self, ils: Connection, day: datetime) -> str:
        """The next loan number of ``day``, as INLISLite's ``generateNewID`` makes it:
        the location's id unpadded (its session keeps ``location_library.ID``)."""
        prefix = f"{self.location_id}{day:%y%m%d}"
        last = ils.execute(
            text("SELECT MAX(ID) FROM collectionloans WHERE ID LIKE :p FOR UPDATE"),
            {"p": prefix + "%"},
        ).scalar()
        counter = int(str(last)[len(prefix) :] or 0) + 1 if last else 1
        return f"{prefix}{counter:05d}"

    def _insert_loan(
        self, ils: Connection, key: str, coll_id: int, member: int, issued: datetime,
        due: datetime,
    ) -> Any:  # fmt: skip
        stamp = naive_local(issued)
        loan_id = self._new_loan_id(ils, stamp)
        ils.execute(
            text(
                "INSERT INTO collectionloans (ID, Member_id, CollectionCount, "
                "LocationLibrary_id, CreateBy, CreateDate, UpdateDate) "
                "VALUES (:id, :m, 1, :loc, :uid, :at, :at)"
            ),
            {"id": loan_id, "m": member, "loc": self.location_id, "uid": self.uid, "at": stamp},
        )
        ils.execute(
            text(
                "INSERT INTO collectionloanitems (CollectionLoan_id, Collection_id, member_id, "
                "LoanDate, DueDate, LoanStatus, LateDays, CreateBy, CreateDate, UpdateDate, "
                "pustaka_txn) VALUES (:loan, :c, :m, :at, :due, 'Loan', 0, :uid, :at, :at, :k)"
            ),
            {"loan": loan_id, "c": coll_id, "m": member, "at": stamp, "due": naive_local(due),
             "uid": self.uid, "k": key},
        )  # fmt: skip
        return ils.execute(
            text("SELECT * FROM collectionloanitems WHERE pustaka_txn = :k"), {"k": key}
        ).one()

    def _rekey(
        self, ils: Connection, stale: list[Any], key: str, card: str, issued: datetime,
        due: datetime,
    ) -> Any:  # fmt: skip
        """Give the server's loan ``key`` the stale row of the same member, if there is
        one (taken out of ``stale``), with the loan's dates; None when there is none."""
        member = ils.execute(text("SELECT ID FROM members WHERE MemberNo = :m"), {"m": card})
        member_id = member.scalar()
        mine = [r for r in stale if member_id is not None and r.member_id == member_id]
        if not mine:
            return None
        row = mine[0]
        stale.remove(row)
        ils.execute(
            text(
                "UPDATE collectionloanitems SET pustaka_txn = :k, LoanDate = :at, "
                "DueDate = :due, UpdateDate = :now WHERE ID = :id"
            ),
            {"k": key, "at": naive_local(issued), "due": naive_local(due), "now": self._now(),
             "id": row.ID},
        )  # fmt: skip
        return ils.execute(
            text("SELECT * FROM collectionloanitems WHERE ID = :id"), {"id": row.ID}
        ).one()

    def _close_stale(self, ils: Connection, stale: list[Any]) -> int:
        """Close the rows of checkouts the server no longer counts as loans: returned
        now, without late days or a fine (the item is not on loan by the server's log)."""
        now = self._now()
        for row in stale:
            ils.execute(
                text(
                    "UPDATE collectionloanitems SET LoanStatus = 'Return', ActualReturn = :now, "
                    "LateDays = 0, UpdateDate = :now WHERE ID = :id AND LoanStatus = 'Loan'"
                ),
                {"now": now, "id": row.ID},
            )
        return len(stale)

    def _sync(
        self, ils: Connection, key: str, row: Any, due: datetime, returned: datetime | None
    ) -> int:
        """Bring one loan item row to the server's state; returns rows written."""
        if row.LoanStatus != "Loan":
            return 0
        now = self._now()
        if returned is None:
            if row.DueDate != naive_local(due):  # renewed at a kiosk
                ils.execute(
                    text(
                        "UPDATE collectionloanitems SET DueDate = :d, UpdateDate = :now "
                        "WHERE ID = :id"
                    ),
                    {"d": naive_local(due), "now": now, "id": row.ID},
                )
                return 1
            return 0
        back = naive_local(returned)
        late = self._late_days(ils, local_date(due), back.date())
        ils.execute(
            text(
                "UPDATE collectionloanitems SET ActualReturn = :r, LoanStatus = 'Return', "
                "LateDays = :late, DueDate = :d, UpdateDate = :now WHERE ID = :id"
            ),
            {"r": back, "late": late, "d": naive_local(due), "now": now, "id": row.ID},
        )
        if late == 0:
            return 1
        return 1 + self._violation(ils, key, row, late, back)

    def _late_days(self, ils: Connection, due: date, back: date) -> int:
        if back <= due:
            return 0
        holidays = {
            day.date() if isinstance(day, datetime) else day
            for (day,) in ils.execute(
                text("SELECT Dates FROM holidays WHERE DATE(Dates) BETWEEN :a AND :b"),
                {"a": due, "b": back},
            )
        }
        return late_days(due, back, self._weekend(ils), holidays)

    def _violation(self, ils: Connection, key: str, row: Any, late: int, back: datetime) -> int:
        """The ``pelanggaran`` row INLISLite's return writes for a late item."""
        rules = ils.execute(
            text(
                "SELECT j.DendaType, j.DendaPerTenor, j.DendaTenorJumlah, j.DendaTenorSatuan, "
                "j.DendaTenorMultiply, j.SuspendType, j.DaySuspend, j.SuspendTenorJumlah, "
                "j.SuspendTenorSatuan, j.SuspendTenorMultiply FROM members m "
                "JOIN jenis_anggota j ON j.id = m.JenisAnggota_id WHERE m.ID = :m"
            ),
            {"m": row.member_id},
        ).first()
        fine = suspend = 0
        if rules is not None:
            fine = PenaltyRule(rules[0], int(rules[1] or 0), rules[2], rules[3], rules[4]).of(late)
            suspend = PenaltyRule(rules[5], int(rules[6] or 0), *rules[7:10]).of(late)
        done = ils.execute(
            text(
                "INSERT IGNORE INTO pelanggaran (CollectionLoan_id, CollectionLoanItem_id, "
                "JenisPelanggaran_id, JenisDenda_id, JumlahDenda, JumlahSuspend, Member_id, "
                "Collection_id, Paid, CreateBy, CreateDate, UpdateDate, pustaka_txn) VALUES "
                "(:loan, :item, :kind, :fine_kind, :fine, :suspend, :m, :c, 0, :uid, :at, :at, "
                ":k)"
            ),
            {"loan": row.CollectionLoan_id, "item": row.ID, "kind": LATE,
             "fine_kind": MONEY_FINE, "fine": fine, "suspend": suspend,
             "m": row.member_id, "c": row.Collection_id, "uid": self.uid, "at": back,
             "k": f"late:{key}"},
        )  # fmt: skip
        return int(done.rowcount or 0)

    # -- reconcile ----------------------------------------------------------

    def open_loans(self) -> list[OpenLoan]:
        with self.engine.connect() as ils:
            return [
                OpenLoan(item=code, card=str(member), due=str(due.date()))
                for code, member, due in ils.execute(
                    text(
                        "SELECT c.NomorBarcode, m.MemberNo, i.DueDate FROM collectionloanitems i "
                        "JOIN collections c ON c.ID = i.Collection_id "
                        "JOIN members m ON m.ID = i.member_id WHERE i.LoanStatus = 'Loan'"
                    )
                )
            ]

    # -- guest book ---------------------------------------------------------

    def write_visits(
        self, db: Database, visits: Sequence[str], groups: Sequence[str] = ()
    ) -> WriteResult:
        """Counted visits into ``memberguesses`` and group visits into
        ``groupguesses``, in one InnoDB transaction; rows written before (same
        ``pustaka_txn``) get the server's purpose now (an amend) and nothing else.

        Gender, education, occupation and purpose are free text or our own codes on
        the server; INLISLite keeps ids of its master tables (``jenis_kelamin``,
        ``master_pendidikan``, ``master_pekerjaan``, ``tujuan_kunjungan``). A value
        takes the id of the master row of the same name (case ignored); one without
        such a row leaves the id NULL and its text goes to ``Information`` (the
        purpose) or ``Deskripsi`` (institution, education, occupation), so nothing
        the visitor said is lost. A member's row carries the member's
        ``StatusAnggota_id`` in ``Status_id``: INLISLite's lists of members' and
        non-members' visits tell them apart by it."""
        self.prepare()
        guests = load_visits(db, visits)
        crowds = load_groups(db, groups)
        result = WriteResult()
        with self.engine.begin() as ils:
            masters = _Masters.load(ils)
            location = ils.execute(
                text("SELECT MIN(ID) FROM locations WHERE LocationLibrary_id = :l"),
                {"l": self.location_id},
            ).scalar()
            if guests:
                result.written += self._write_guests(ils, guests, masters, location)
            if crowds:
                result.written += self._write_groups(ils, crowds, masters, location)
        return result

    def _written(self, ils: Connection, table: str, purpose: str, keys: list[str]) -> dict:
        """(purpose id, Information) of the rows of ``table`` already written, by key."""
        found: dict[str, tuple[Any, Any]] = {}
        for part in chunks(keys):
            for key, tk, info in ils.execute(
                text(
                    f"SELECT pustaka_txn, {purpose}, Information FROM {table} "
                    "WHERE pustaka_txn IN :k FOR UPDATE"
                ).bindparams(bindparam("k", expanding=True)),
                {"k": part},
            ):
                found[str(key)] = (tk, info)
        return found

    def _write_guests(
        self, ils: Connection, guests: list[GuestVisit], masters: _Masters, location: Any
    ) -> int:
        have = self._written(ils, "memberguesses", "TujuanKunjungan_Id", [g.id for g in guests])
        cards = sorted({g.card for g in guests if g.card})
        members: dict[str, tuple[str, Any]] = {}
        for part in chunks(cards):
            for no, name, status in ils.execute(
                text(
                    "SELECT MemberNo, Fullname, StatusAnggota_id FROM members WHERE MemberNo IN :c"
                ).bindparams(bindparam("c", expanding=True)),
                {"c": part},
            ):
                members[str(no)] = (name, status)
        now = self._now()
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for g in guests:
            who = "Member" if g.card else "NonMember"
            purpose_id, information = masters.purpose(g.purpose, who)
            if g.id in have:
                if have[g.id] != (purpose_id, information):
                    changed.append({"tk": purpose_id, "info": information, "now": now,
                                    "uid": self.uid, "k": g.id})  # fmt: skip
                continue
            name, status = g.name, None
            if g.card:
                name, status = members.get(g.card, (g.name, ACTIVE_MEMBER))
            education = masters.find("pendidikan", g.education)
            occupation = masters.find("pekerjaan", g.occupation)
            notes = [
                f"Instansi: {g.institution}" if g.institution else "",
                f"Pendidikan: {g.education}" if g.education and education is None else "",
                f"Pekerjaan: {g.occupation}" if g.occupation and occupation is None else "",
            ]
            new.append(
                {"no": clip(g.card, 50), "name": clip(name or g.card or "-", 100),
                 "status": status if g.card else None, "job": occupation, "edu": education,
                 "sex": masters.gender(g.gender), "desc": clip("; ".join(n for n in notes if n)
                 or None, 255), "loc": location, "tk": purpose_id, "info": information,
                 "uid": self.uid, "at": g.at, "term": clip(g.kiosk, 100), "k": g.id}
            )  # fmt: skip
        if new:
            ils.execute(
                text(
                    "INSERT IGNORE INTO memberguesses (NoAnggota, Nama, Status_id, Profesi_id, "
                    "PendidikanTerakhir_id, JenisKelamin_id, Deskripsi, Location_Id, "
                    "TujuanKunjungan_Id, Information, CreateBy, CreateDate, CreateTerminal, "
                    "UpdateBy, UpdateDate, UpdateTerminal, pustaka_txn) VALUES (:no, :name, "
                    ":status, :job, :edu, :sex, :desc, :loc, :tk, :info, :uid, :at, :term, :uid, "
                    ":at, :term, :k)"
                ),
                new,
            )
        if changed:
            ils.execute(
                text(
                    "UPDATE memberguesses SET TujuanKunjungan_Id = :tk, Information = :info, "
                    "UpdateBy = :uid, UpdateDate = :now WHERE pustaka_txn = :k"
                ),
                changed,
            )
        return len(new) + len(changed)

    def _write_groups(
        self, ils: Connection, crowds: list[GuestGroup], masters: _Masters, location: Any
    ) -> int:
        have = self._written(ils, "groupguesses", "TujuanKunjungan_ID", [c.id for c in crowds])
        now = self._now()
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for c in crowds:
            purpose_id, information = masters.purpose(c.purpose, "Rombongan")
            if c.id in have:
                if have[c.id] != (purpose_id, information):
                    changed.append({"tk": purpose_id, "info": information, "now": now,
                                    "uid": self.uid, "k": c.id})  # fmt: skip
                continue
            # INLISLite's own form makes the occupations add up to the head count;
            # the kiosk does not ask them, so the whole group is "Lainnya" (other)
            new.append(
                {"leader": clip(c.leader, 255), "phone": clip(c.phone, 20),
                 "inst": clip(c.institution, 255), "n": c.people, "m": c.male, "f": c.female,
                 "tk": purpose_id, "info": information, "loc": location, "uid": self.uid,
                 "at": c.at, "term": clip(c.kiosk, 100), "k": c.id}
            )  # fmt: skip
        if new:
            ils.execute(
                text(
                    "INSERT IGNORE INTO groupguesses (NamaKetua, NomerTelponKetua, AsalInstansi, "
                    "AlamatInstansi, CountPersonel, CountLainnya, CountLaki, CountPerempuan, "
                    "TujuanKunjungan_ID, Information, Location_ID, CreateBy, CreateDate, "
                    "CreateTerminal, UpdateBy, UpdateDate, UpdateTerminal, pustaka_txn) VALUES "
                    "(:leader, :phone, :inst, '', :n, :n, :m, :f, :tk, :info, :loc, :uid, :at, "
                    ":term, :uid, :at, :term, :k)"
                ),
                new,
            )
        if changed:
            ils.execute(
                text(
                    "UPDATE groupguesses SET TujuanKunjungan_ID = :tk, Information = :info, "
                    "UpdateBy = :uid, UpdateDate = :now WHERE pustaka_txn = :k"
                ),
                changed,
            )
        return len(new) + len(changed)


#: the words INLISLite's ``jenis_kelamin`` rows use for our two genders
_GENDER_WORDS = {"male": ("laki", "pria", "male"), "female": ("perempuan", "wanita", "female")}


class _Masters:
    """INLISLite's master rows the guest book refers to, by lower-cased name."""

    def __init__(self, tables: dict[str, dict[str, int]], purposes: list[Any]) -> None:
        self.tables = tables
        self.purposes = purposes  # (ID, Code, TujuanKunjungan, Member, NonMember, Rombongan)

    @classmethod
    def load(cls, ils: Connection) -> _Masters:
        tables: dict[str, dict[str, int]] = {}
        for key, sql in (
            ("pendidikan", "SELECT id, Nama FROM master_pendidikan"),
            ("pekerjaan", "SELECT id, Pekerjaan FROM master_pekerjaan"),
            ("kelamin", "SELECT ID, Name FROM jenis_kelamin"),
        ):
            tables[key] = {}
            for ident, name in ils.execute(text(sql)):
                tables[key].setdefault((name or "").strip().lower(), int(ident))
        purposes = list(
            ils.execute(
                text(
                    "SELECT ID, Code, TujuanKunjungan, Member, NonMember, Rombongan "
                    "FROM tujuan_kunjungan ORDER BY ID"
                )
            )
        )
        return cls(tables, purposes)

    def find(self, table: str, value: str | None) -> int | None:
        if not value:
            return None
        return self.tables[table].get(value.strip().lower())

    def gender(self, value: str | None) -> int | None:
        words = _GENDER_WORDS.get(value or "", ())
        for name, ident in self.tables["kelamin"].items():
            if name.startswith(words):
                return ident
        return None

    def purpose(self, value: str | None, who: str) -> tuple[int | None, str | None]:
        """(``tujuan_kunjungan`` id, None) for a purpose INLISLite lists by that name
        or code (preferring rows offered to ``who``), else (None, the text)."""
        if not value:
            return None, None
        wanted = value.strip().lower()
        matches = [
            p for p in self.purposes
            if wanted in ((p.TujuanKunjungan or "").strip().lower(), (p.Code or "").lower())
        ]  # fmt: skip
        matches.sort(key=lambda p: not getattr(p, who))
        if matches:
            return int(matches[0].ID), None
        return None, clip(value, 255)
