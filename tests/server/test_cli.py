"""kiosk-server CLI, run in-process against each backend."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.cli import main
from server.db import Database
from server.models import Event, Item, Patron
from tests.server.helpers import tx, wib


@pytest.fixture
def run(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    def _run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db_url, "--data-dir", str(tmp_path / "data"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _count(db_url: str, model: type) -> int:
    db = Database(db_url)
    try:
        with db.read() as s:
            return int(s.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        db.dispose()


def test_seed_demo_refuses_data_unless_forced_and_is_idempotent(run, db_url: str) -> None:
    assert run("migrate")[0] == 0
    code, out, _ = run("seed-demo")
    password = out.strip().splitlines()[-1]
    assert code == 0 and len(password) >= 12 and password != "petugas123"
    code, _, err = run("seed-demo")  # a database with data: refused, nothing changed
    assert code == 1 and "holds data already" in err and "--force" in err
    code, out, _ = run("seed-demo", "--force")
    assert code == 0 and out.strip().splitlines()[-1] != password  # a new one each time
    assert (_count(db_url, Patron), _count(db_url, Item), _count(db_url, Event)) == (5, 10, 1)


def test_seed_demo_refuses_a_database_with_one_kiosk(run, db_url: str) -> None:
    assert run("add-kiosk", "pintu-1")[0] == 0
    code, _, err = run("seed-demo")
    assert code == 1 and "holds data already" in err
    assert _count(db_url, Patron) == 0


def test_add_kiosk_prints_token_last_and_rotates(run) -> None:
    code, out, _ = run("add-kiosk", "pintu-1")
    first = out.strip().splitlines()[-1]
    assert code == 0 and len(first) >= 40 and " " not in first
    second = run("add-kiosk", "pintu-1")[1].strip().splitlines()[-1]
    assert second != first


def test_add_kiosk_refuses_the_name_reserved_for_the_ils_desk(run, db_url: str) -> None:
    for name in ("ils:slims", "ILS:pintu"):
        code, out, err = run("add-kiosk", name)
        assert code == 1 and out == ""
        assert "reserved" in err and "'ils:'" in err
    assert run("add-kiosk", "pintu-ils:1")[0] == 0  # only the prefix is reserved


def test_add_staff_from_env(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_STAFF_PASSWORD", "rahasia-sekali")
    assert run("add-staff", "ani") == (0, "staff user 'ani' created\n", "")
    assert run("add-staff", "ani", "--password", "short")[0] == 1


def test_import_patrons_with_a_bad_row(run, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "anggota.csv"
    path.write_text(
        "no_anggota;nama;member_type_name;expire_date;alamat;denda\n"
        "P0001;Sri Wahyuni;Umum;2027-06-30;Jl. Suroyo 1;0\n"
        "P0002;Agus Salim;Pelajar;31/12/2027;Jl. Panglima Sudirman 5;5.000\n"
        "P0003;Tanggal Salah;Umum;2027-31-31;;0\n"
        ";Tanpa Nomor;Umum;2027-01-01;;0\n"
        "P0004;Denda Aneh;Umum;2027-01-01;;²\n",
        encoding="utf-8",
    )
    code, out, err = run("import-patrons", str(path))
    assert code == 3
    assert "2 created, 0 updated, 3 rejected" in out
    assert f"{path}:4: date '2027-31-31'" in err and f"{path}:5: card is empty" in err
    assert f"{path}:6: fines '²' is not a whole number" in err
    assert _count(db_url, Patron) == 2
    # again: updates, no duplicates
    assert "0 created, 2 updated" in run("import-patrons", str(path))[1]


def test_import_items_and_missing_column(run, db_url: str, tmp_path: Path) -> None:
    good = tmp_path / "items.csv"
    good.write_text(
        "item_code,judul,pengarang,isbn,coll_type_name,status\n"
        "C0001,Atheis,Achdiat K. Mihardja,978-979-407-166-3,book,tersedia\n"
        "C0002,Kamus Jawa,,,,referensi\n"
        "C0003,Buku Hilang,,,book,dicuri\n",
        encoding="utf-8",
    )
    code, out, err = run("import-items", str(good))
    assert (code, out.strip()) == (3, "2 created, 0 updated, 1 rejected")
    assert ":4: status 'dicuri'" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("kode,nama\nX,Y\n", encoding="utf-8")
    code, _, err = run("import-items", str(bad))
    assert code == 1 and "no column for barcode" in err


def test_import_queue_is_idempotent_and_export(run, tmp_path: Path) -> None:
    run("seed-demo")
    lines = [
        json.dumps(
            tx(
                "checkout",
                "pintu",
                wib(27, 10),
                card="AGT0001",
                item="B000101",
                offline=True,
                seq=1,
            )
        ),  # fmt: skip
        json.dumps(tx("checkin", "pintu", wib(27, 11), item="B000101", offline=True, seq=2)),
        "{not json",
        json.dumps(
            tx(
                "checkout",
                "lobby",
                wib(27, 12),
                card="AGT0002",
                item="B000102",
                offline=True,
                seq=1,
            )
        ),  # fmt: skip
    ]
    queue = tmp_path / "queue.jsonl"
    queue.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run("import-queue", str(queue))
    assert code == 3 and "accepted 3" in out and ":3: not a transaction" in err
    code, out, _ = run("import-queue", str(queue))
    assert "duplicate 3" in out
    code, out, _ = run("loans")
    assert "AGT0002\tBudi Santoso\tB000102" in out and "1 open loan(s)" in out
    code, out, _ = run("loans", "--card", "AGT0001")
    assert "0 open loan(s)" in out
    code, out, _ = run("export-transactions")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["kiosk"], r["seq"], r["kind"], r["offline"], r["status"]) for r in rows] == [
        ("pintu", "1", "checkout", "1", "accepted"),
        ("pintu", "2", "checkin", "1", "accepted"),
        ("lobby", "1", "checkout", "1", "accepted"),
    ]
    code, out, _ = run("export-transactions", "--kiosk", "lobby", "--format", "jsonl")
    [only] = [json.loads(line) for line in out.splitlines()]
    assert only["kind"] == "checkout" and only["result"]["title"] == "Bumi Manusia"
    code, out, _ = run("export-transactions", "--since", "2026-11-28")
    assert out.strip().splitlines() == [out.splitlines()[0]]  # header only
