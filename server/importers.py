"""Import patrons and items from the CSV a library exports from its current system.

Header names are matched loosely (SLiMS / INLISLite style: ``member_id``,
``no_anggota``, ``nama``, ``item_code``, ``judul`` ...). A bad row is reported with
its line number and the rest still load. PINs are not imported: the old system's
PINs are usually hashed, and patrons set a new one at the desk.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from core.text import ascii_digits
from server.db import Database
from server.models import Item, Patron

PATRON_FIELDS: dict[str, tuple[str, ...]] = {
    "card": ("card", "card_number", "member_id", "no_anggota", "nomor_anggota", "member_no",
             "id_anggota", "barcode", "kartu"),
    "name": ("name", "nama", "member_name", "nama_anggota", "full_name", "fullname"),
    "category": ("category", "kategori", "member_type", "member_type_name", "jenis_anggota",
                 "tipe_anggota"),
    "status": ("status", "member_status", "status_anggota"),
    "expires_on": ("expires_on", "expire_date", "expiry", "expiry_date", "expired_date",
                   "member_expire", "tanggal_kadaluarsa", "masa_berlaku", "berlaku_hingga",
                   "tgl_akhir"),
    "phone": ("phone", "telepon", "no_hp", "hp", "member_phone", "mobile", "no_telp"),
    "email": ("email", "member_email", "surel"),
    "address": ("address", "alamat", "member_address"),
    "fines_idr": ("fines", "fines_idr", "denda"),
}  # fmt: skip

ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "barcode": ("barcode", "item_code", "kode_eksemplar", "item_barcode", "no_induk",
                "nomor_barcode"),
    "title": ("title", "judul"),
    "author": ("author", "authors", "pengarang", "penulis"),
    "isbn": ("isbn", "isbn_issn"),
    "item_type": ("item_type", "type", "jenis", "coll_type_name", "collection_type",
                  "tipe_koleksi", "gmd", "jenis_koleksi"),
    "status": ("status", "item_status", "status_eksemplar"),
}  # fmt: skip

_PATRON_STATUS = {
    "active": "active", "aktif": "active", "": "active", "1": "active",
    "blocked": "blocked", "blokir": "blocked", "diblokir": "blocked", "pending": "blocked",
    "expired": "expired", "kadaluarsa": "expired", "kedaluwarsa": "expired",
}  # fmt: skip
_ITEM_STATUS = {
    "available": "available", "tersedia": "available", "": "available", "ada": "available",
    "lost": "lost", "hilang": "lost",
    "not_for_loan": "not_for_loan", "not for loan": "not_for_loan", "reference": "not_for_loan",
    "referensi": "not_for_loan", "tidak dipinjamkan": "not_for_loan",
    "in_transit": "in_transit", "in transit": "in_transit", "dalam pengiriman": "in_transit",
}  # fmt: skip


@dataclass
class ImportReport:
    """What an import did; ``errors`` holds (line number, message)."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    #: False when rejected lines stopped the whole file (``skip_bad=False``)
    loaded: bool = True

    def summary(self) -> str:
        return f"{self.created} created, {self.updated} updated, {len(self.errors)} rejected"


class RowError(ValueError):
    """A row that cannot be imported; the message says which column and why."""


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def _read_rows(
    path: Path | str, fields: dict[str, tuple[str, ...]], data: bytes | None = None
) -> Iterator[tuple[int, dict]]:
    raw = Path(path).read_bytes() if data is None else data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel on Windows
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        raise RowError(f"{path}: the file is empty")
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        for key, aliases in fields.items():
            if _norm(name) in aliases and key not in columns:
                columns[key] = i
    required = [k for k in fields if k in ("card", "name", "barcode", "title")]
    missing = [k for k in required if k not in columns]
    if missing:
        wanted = "; ".join(f"{k}: one of {', '.join(fields[k][:4])}" for k in missing)
        raise RowError(f"{path}: no column for {wanted} (header was {header})")
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        values = {k: (row[i].strip() if i < len(row) else "") for k, i in columns.items()}
        yield reader.line_num, values


def parse_date(text: str) -> date | None:
    if not text or text in ("0000-00-00", "-"):
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RowError(f"date {text!r} is not YYYY-MM-DD or DD/MM/YYYY")


def _text(values: dict, key: str, limit: int, required: bool = False) -> str | None:
    value = values.get(key) or ""
    if "\x00" in value:
        raise RowError(f"{key} contains a NUL character")
    if len(value) > limit:
        raise RowError(f"{key} is longer than {limit} characters")
    if required and not value:
        raise RowError(f"{key} is empty")
    return value or None


def _patron_row(values: dict) -> dict:
    status = (values.get("status") or "").lower()
    if status not in _PATRON_STATUS:
        raise RowError(f"status {status!r} is not active, blocked or expired")
    fines = (values.get("fines_idr") or "0").replace(".", "").replace(",", "").replace("Rp", "")
    if not ascii_digits(fines.strip()):
        raise RowError(f"fines {values.get('fines_idr')!r} is not a whole number of rupiah")
    return {
        "card": _text(values, "card", 64, True),
        "name": _text(values, "name", 200, True),
        "category": (_text(values, "category", 40) or "umum").lower(),
        "status": _PATRON_STATUS[status],
        "expires_on": parse_date(values.get("expires_on") or ""),
        "phone": _text(values, "phone", 40),
        "email": _text(values, "email", 200),
        "address": _text(values, "address", 400),
        "fines_idr": int(fines.strip()),
    }


def _item_row(values: dict) -> dict:
    status = (values.get("status") or "").lower()
    if status not in _ITEM_STATUS:
        raise RowError(f"status {status!r} is not available, lost, not_for_loan or in_transit")
    isbn = re.sub(r"[^0-9Xx]", "", values.get("isbn") or "") or None
    if isbn and len(isbn) not in (10, 13):
        raise RowError(f"ISBN {values.get('isbn')!r} does not have 10 or 13 digits")
    return {
        "barcode": _text(values, "barcode", 64, True),
        "title": _text(values, "title", 400, True),
        "author": _text(values, "author", 200),
        "isbn": isbn,
        "item_type": (_text(values, "item_type", 40) or "book").lower(),
        "status": _ITEM_STATUS[status],
    }


def _import(
    db: Database,
    path: Path | str,
    fields: dict[str, tuple[str, ...]],
    parse: Callable[[dict], dict],
    model: type[Patron] | type[Item],
    key: str,
    data_bytes: bytes | None = None,
    skip_bad: bool = True,
) -> ImportReport:
    report = ImportReport()
    parsed: dict[str, tuple[int, dict]] = {}
    for line, values in _read_rows(path, fields, data_bytes):
        try:
            data = parse(values)
        except RowError as exc:
            report.errors.append((line, str(exc)))
            continue
        if data[key] in parsed:
            report.errors.append((line, f"{key} {data[key]} repeats line {parsed[data[key]][0]}"))
            continue
        parsed[data[key]] = (line, data)
    if report.errors and not skip_bad:
        report.loaded = False
        return report
    column = getattr(model, key)
    with db.write() as (s, version):
        keys = list(parsed)
        existing: dict[str, Patron | Item] = {}
        for start in range(0, len(keys), 1000):
            found: list[Patron | Item] = list(
                s.scalars(select(model).where(column.in_(keys[start : start + 1000])))
            )
            for row in found:
                existing[getattr(row, key)] = row
        for k, (_line, data) in parsed.items():
            obj = existing.get(k)
            if obj is None:
                s.add(model(**data, version=version, deleted=False))
                report.created += 1
            else:
                for name, value in data.items():
                    setattr(obj, name, value)
                obj.version, obj.deleted = version, False
                report.updated += 1
    return report


def import_patrons(
    db: Database, path: Path | str, *, data: bytes | None = None, skip_bad: bool = True
) -> ImportReport:
    """Load patrons from a CSV file (or its ``data``) in one write.

    With ``skip_bad=False`` a file with any rejected line loads nothing: the report
    lists every line's problem and ``loaded`` is False.
    """
    return _import(db, path, PATRON_FIELDS, _patron_row, Patron, "card", data, skip_bad)


def import_items(
    db: Database, path: Path | str, *, data: bytes | None = None, skip_bad: bool = True
) -> ImportReport:
    """Load items as :func:`import_patrons` loads patrons."""
    return _import(db, path, ITEM_FIELDS, _item_row, Item, "barcode", data, skip_bad)
