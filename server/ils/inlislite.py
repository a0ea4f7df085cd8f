"""INLISLite v3 (Perpusnas) on MariaDB: pull by update time, write loans as its
circulation does.

A checkout becomes a ``collectionloans`` row (an id numbered as INLISLite numbers
them: location prefix, ``yymmdd``, a 5-digit counter for the day) plus one
``collectionloanitems`` row with ``LoanStatus = 'Loan'`` and the ``DueDate``, and
sets ``collections.Status_id`` to 5 (on loan). A return sets ``ActualReturn``,
``LoanStatus = 'Return'``, ``LateDays``, ``Status_id`` 1 (available) and, when late,
writes the ``pelanggaran`` row (fine ``DendaPerTenor`` per late day, suspension
``DaySuspend`` per late day when the member type suspends) as its return does.

INLISLite's tables are InnoDB, so each item's write-back is one database
transaction; on top of that every loan item and ``pelanggaran`` row the connector
adds carries the server's checkout transaction id in a ``pustaka_txn`` column with
a unique index (added by :meth:`InlisliteConnector.prepare`). A repeat after a
crash between the INLISLite commit and the server's record of it finds the row and
writes nothing twice.

Pull mirrors members (``StatusAnggota_id`` 3 is active, anything else blocked;
``EndDate`` the expiry), collections (``Status_id`` 1 and 5 are on the shelf or
lent, other statuses not for loan) and member types (``jenis_anggota``) as loan
policies. Loans made or ended at the INLISLite desk come into the server as
transactions of kiosk ``ils:inlislite`` with ids ``inlis-<loan item ID>-out`` and
``-in``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from core.wire import Kind, TransactionIn
from server.db import Database
from server.ils import OpenLoan, PullReport, WriteResult
from server.ils.mirror import (
    IlsDatabase,
    ItemRow,
    PatronRow,
    replace_policies,
    upsert_items,
    upsert_patrons,
)
from server.models import Item, Loan, Patron
from server.timeutil import WIB, as_utc, local_date

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


def category(jenis_anggota_id: int | None) -> str:
    return f"inlis-ja{jenis_anggota_id or 0}"


def _local(value: datetime) -> datetime:
    """An aware instant as INLISLite stores it: naive local time (WIB)."""
    return as_utc(value).astimezone(WIB).replace(tzinfo=None, microsecond=0)


def _from_local(value: datetime) -> datetime:
    return value.replace(tzinfo=WIB).astimezone(UTC)


def _desk_key(loan_item_id: int) -> str:
    return f"inlis-{loan_item_id}-out"


class InlisliteConnector(IlsDatabase):
    """Pull from and write into one INLISLite v3 database (see the module docstring)."""

    kind = "inlislite"
    LABEL = "INLISLite"
    MARKED_TABLES = ("collectionloanitems", "pelanggaran")

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
            patrons = self._members(ils, since)
            items = self._items(ils, since)
            loans = self._loans(ils, since)
        with db.write() as (session, version):
            report.policies = replace_policies(session, policies)
            report.patrons = upsert_patrons(session, version, patrons)
            report.items = upsert_items(session, version, items)
        report.transactions = self._desk_transactions(db, loans)
        report.desk_transactions = len(report.transactions)
        return report

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
            issued = _from_local(r.LoanDate)
            returned = r.LoanStatus == "Return" and r.ActualReturn is not None
            # INLISLite keeps whole seconds: a return in the loan's own second must
            # still come after the checkout, whose server time has the fraction
            after = issued + timedelta(seconds=1)
            checkin = TransactionIn(
                id=f"inlis-{r.ID}-in", seq=seq + 99, kind=Kind.CHECKIN,
                at=max(_from_local(r.ActualReturn), after) if returned else after, **base,
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
                    due_at=_from_local(datetime.combine(due.date(), time(23, 59, 59))),
                    **base,
                )  # fmt: skip
            )
            if returned:
                txns.append(checkin)
        txns.sort(key=lambda t: t.at)
        return txns

    def _members(self, ils: Connection, since: datetime | None) -> list[PatronRow]:
        sql = (
            "SELECT MemberNo, Fullname, JenisAnggota_id, StatusAnggota_id, EndDate, Email "
            "FROM members WHERE MemberNo IS NOT NULL AND MemberNo <> ''"
        )
        params: dict[str, Any] = {}
        if since is not None:
            sql += " AND UpdateDate >= :t"
            params["t"] = since
        rows = []
        for no, name, ja, status, end, email in ils.execute(text(sql), params):
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

    def _items(self, ils: Connection, since: datetime | None) -> list[ItemRow]:
        sql = (
            "SELECT c.NomorBarcode, k.Title, k.Author, k.ISBN, c.Status_id FROM collections c "
            "LEFT JOIN catalogs k ON k.ID = c.Catalog_id "
            "WHERE c.NomorBarcode IS NOT NULL AND c.NomorBarcode <> ''"
        )
        params: dict[str, Any] = {}
        if since is not None:
            sql += " AND (c.UpdateDate >= :t OR k.UpdateDate >= :t)"
            params["t"] = since
        return [
            ItemRow(
                barcode=code,
                title=(title or code)[:400],
                author=(author or None) and author[:200],
                isbn=(isbn or None) and isbn[:20],
                item_type=ITEM_TYPE,
                status="available" if status in (AVAILABLE, ON_LOAN) else "not_for_loan",
            )
            for code, title, author, isbn, status in ils.execute(text(sql), params)
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
            for maybe_key, card, issued, due, returned in loans:
                key = str(maybe_key)  # the query keeps loans with a key only
                row = by_key.get(key)
                if row is None and key.startswith("inlis-"):
                    continue  # a desk loan INLISLite no longer has: nothing to mirror back
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
            open_now = ils.execute(
                text(
                    "SELECT COUNT(*) FROM collectionloanitems "
                    "WHERE Collection_id = :c AND LoanStatus = 'Loan'"
                ),
                {"c": coll_id},
            ).scalar_one()
            want = ON_LOAN if open_now else AVAILABLE
            if status in (AVAILABLE, ON_LOAN) and status != want:
                ils.execute(
                    text("UPDATE collections SET Status_id = :s, UpdateDate = :now WHERE ID = :c"),
                    {"s": want, "now": self._now(), "c": coll_id},
                )
                result.written += 1
        return result

    @staticmethod
    def _now() -> datetime:
        return datetime.now(WIB).replace(tzinfo=None, microsecond=0)

    def _new_loan_id(self, ils: Connection, day: datetime) -> str:
        """The next loan number of ``day``, as INLISLite's ``generateNewID`` makes it."""
        prefix = f"{self.location_id:02d}{day:%y%m%d}"
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
        stamp = _local(issued)
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
            {"loan": loan_id, "c": coll_id, "m": member, "at": stamp, "due": _local(due),
             "uid": self.uid, "k": key},
        )  # fmt: skip
        return ils.execute(
            text("SELECT * FROM collectionloanitems WHERE pustaka_txn = :k"), {"k": key}
        ).one()

    def _sync(
        self, ils: Connection, key: str, row: Any, due: datetime, returned: datetime | None
    ) -> int:
        """Bring one loan item row to the server's state; returns rows written."""
        if row.LoanStatus != "Loan":
            return 0
        now = self._now()
        if returned is None:
            if row.DueDate != _local(due):  # renewed at a kiosk
                ils.execute(
                    text(
                        "UPDATE collectionloanitems SET DueDate = :d, UpdateDate = :now "
                        "WHERE ID = :id"
                    ),
                    {"d": _local(due), "now": now, "id": row.ID},
                )
                return 1
            return 0
        back = _local(returned)
        late = max(0, (back.date() - local_date(due)).days)
        ils.execute(
            text(
                "UPDATE collectionloanitems SET ActualReturn = :r, LoanStatus = 'Return', "
                "LateDays = :late, DueDate = :d, UpdateDate = :now WHERE ID = :id"
            ),
            {"r": back, "late": late, "d": _local(due), "now": now, "id": row.ID},
        )
        if late == 0:
            return 1
        return 1 + self._violation(ils, key, row, late, back)

    def _violation(self, ils: Connection, key: str, row: Any, late: int, back: datetime) -> int:
        """The ``pelanggaran`` row INLISLite's return writes for a late item."""
        rules = ils.execute(
            text(
                "SELECT j.DendaPerTenor, j.SuspendMember, j.DaySuspend FROM members m "
                "JOIN jenis_anggota j ON j.id = m.JenisAnggota_id WHERE m.ID = :m"
            ),
            {"m": row.member_id},
        ).first()
        per_day, suspends, suspend_days = rules if rules is not None else (0, 0, 0)
        done = ils.execute(
            text(
                "INSERT IGNORE INTO pelanggaran (CollectionLoan_id, CollectionLoanItem_id, "
                "JenisPelanggaran_id, JenisDenda_id, JumlahDenda, JumlahSuspend, Member_id, "
                "Collection_id, Paid, CreateBy, CreateDate, UpdateDate, pustaka_txn) VALUES "
                "(:loan, :item, :kind, :fine_kind, :fine, :suspend, :m, :c, 0, :uid, :at, :at, "
                ":k)"
            ),
            {"loan": row.CollectionLoan_id, "item": row.ID, "kind": LATE,
             "fine_kind": MONEY_FINE, "fine": late * int(per_day or 0),
             "suspend": late * int(suspend_days or 0) if suspends else 0,
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
