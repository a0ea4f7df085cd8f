"""``kiosk-server``: run, migrate and administer the central server."""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from core.cli import OneLineParser, error_log_path, run_command
from core.wire import TransactionIn, TransactionResult
from server.access import CredentialStamp
from server.admin import add_kiosk, add_staff, revoke_kiosk, set_staff_disabled
from server.db import Database
from server.importers import RowError, import_items, import_patrons
from server.models import Transaction
from server.settings import Settings, SettingsError
from server.staffdata import open_loans

IMPORT_CHUNK = 2000


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="kiosk-server", description=__doc__)
    p.add_argument("--db", help="SQLAlchemy URL (default: $KIOSK_SERVER_DB or SQLite in data dir)")
    p.add_argument("--data-dir", help="data folder (default: $KIOSK_SERVER_DATA or ./data/server)")
    p.add_argument("--config", help="TOML settings file (see config/server.example.toml)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the HTTP API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--ssl-certfile",
        type=Path,
        help="serve HTTPS with this PEM certificate (chain); needs --ssl-keyfile",
    )
    serve.add_argument("--ssl-keyfile", type=Path, help="the certificate's PEM private key")
    sub.add_parser("migrate", help="create or upgrade the database schema (alembic upgrade head)")
    seed = sub.add_parser(
        "seed-demo", help="load the demo library into an empty database; prints the password"
    )
    seed.add_argument(
        "--force", action="store_true", help="load it over existing data (demo databases only)"
    )
    kiosk = sub.add_parser("add-kiosk", help="register a kiosk and print its token")
    kiosk.add_argument("name")
    revoke = sub.add_parser(
        "revoke-kiosk", help="stop a kiosk's token at once (add-kiosk gives it a new one)"
    )
    revoke.add_argument("name")
    staff = sub.add_parser("add-staff", help="create a staff user or change a password")
    staff.add_argument("name")
    staff.add_argument("--password", help="default: $KIOSK_STAFF_PASSWORD, else asked")
    staff.add_argument(
        "--role",
        choices=("admin", "librarian"),
        help="console role (new users: librarian; existing users keep theirs unless given)",
    )
    for name, what in (("disable-staff", "refuse a staff user's logins and end their sessions"),
                       ("enable-staff", "let a disabled staff user log in again")):  # fmt: skip
        sub.add_parser(name, help=what).add_argument("name")
    purge = sub.add_parser(
        "purge-history",
        help="drop the patron link of history older than keep_patron_history_days",
    )
    purge.add_argument("--days", type=int, help="instead of keep_patron_history_days")
    for name, what in (("import-patrons", "patrons"), ("import-items", "items")):
        imp = sub.add_parser(name, help=f"import {what} from a CSV export")
        imp.add_argument("csv", type=Path)
    queue = sub.add_parser("import-queue", help="apply a kiosk's exported queue (JSONL)")
    queue.add_argument("file", type=Path)
    export = sub.add_parser("export-transactions", help="write received transactions to stdout")
    export.add_argument("--kiosk")
    export.add_argument("--since", type=date.fromisoformat, help="YYYY-MM-DD (event time, UTC)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    unlock = sub.add_parser("clear-pin-lock", help="end a card's wrong-PIN lock and count")
    unlock.add_argument("card")
    loans = sub.add_parser("loans", help="list open loans")
    loans.add_argument("--card")
    report = sub.add_parser("report", help="guest-book visits or patron feedback, as CSV or XLSX")
    kinds = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    for name, what in (
        ("visits", "visits per period (Kunjungan Periodik)"),
        ("feedback", "ratings per face and chip, per service and workshop"),
    ):
        r = kinds.add_parser(name, help=what)
        r.add_argument("--from", dest="start", type=_day, required=True, help="YYYY-MM-DD (WIB)")
        r.add_argument("--to", dest="end", type=_day, required=True, help="YYYY-MM-DD, inclusive")
        if name == "visits":
            r.add_argument("--by", choices=("day", "month", "year"), default="day")
        r.add_argument("--format", choices=("csv", "xlsx"), default="csv")
        r.add_argument("--output", "-o", type=Path, help="file to write (xlsx needs one)")
    ils = sub.add_parser("ils", help="the library's own system ([server.ils]): status, pull, check")
    ils.add_argument(
        "action",
        choices=("status", "pull", "check", "drain"),
        help="status: last pull, lag, queued write-backs, last error; pull: a full pull now; "
        "check: every difference between the ILS's open loans and the server's; "
        "drain: write the queued transactions into the ILS now",
    )
    return p


if TYPE_CHECKING:
    from server.ils.service import IlsService


def _ils(settings: Settings, db: Database, action: str) -> int:
    from server.service import Server

    server = Server(settings, db)
    if server.ils is None:
        raise ValueError(
            'ils: [server.ils] kind is "own": this server is the authority, no ILS to talk to'
        )
    try:
        return _ils_action(server.ils, action)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ValueError(f"ils {action}: the ILS database did not answer: {reason}") from None


def _ils_action(ils: IlsService, action: str) -> int:
    if action == "status":
        for line in ils.status().lines():
            print(line)
        return 0
    if action == "pull":
        print(ils.pull(full=True).summary())
        return 0
    if action == "drain":
        total = 0
        while (settled := ils.drain() + ils.drain_visits()) > 0:
            total += settled
        print(f"write-backs settled: {total}; still queued: {ils.status().queued}")
        return 0
    problems = ils.check()
    for line in problems:
        print(line)
    print(f"{len(problems)} difference(s) between the ILS's open loans and the server's")
    return 1 if problems else 0


def _purge_history(settings: Settings, db: Database, days: int | None) -> int:
    from server.access import StaffAuth
    from server.retention import purge_history

    keep = settings.keep_patron_history_days if days is None else days
    if keep <= 0:
        print(
            "error: keep_patron_history_days is 0 (keep for ever); set it in the config "
            "or pass --days N",
            file=sys.stderr,
        )
        return 2
    report = purge_history(db, keep)
    sessions = StaffAuth(db, settings).purge()
    print(f"{report.summary()}; expired staff sessions deleted: {sessions}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def main(argv: list[str] | None = None) -> int:
    """Every failure ends as one line on stderr (see ``core.cli.run_command``)."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.resolve(args.db, args.data_dir, args.config)
    except SettingsError as exc:
        for line in exc.problems:
            print(f"kiosk-server: {line}", file=sys.stderr)
        return 2
    return run_command(
        "kiosk-server",
        lambda: _with_database(args, settings),
        log_path=lambda: error_log_path("kiosk-server", settings.data_dir),
        expected=(ValueError, RowError),
    )


def _with_database(args: argparse.Namespace, settings: Settings) -> int:
    try:
        db = Database(settings.db_url)
    except ArgumentError as exc:
        raise ValueError(
            f"database URL {_safe_url(settings.db_url)!r} is not valid: {exc}"
        ) from None
    except NoSuchModuleError as exc:
        raise ValueError(f"database URL {_safe_url(settings.db_url)!r}: {exc}") from None
    try:
        try:
            db.migrate()
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ValueError(
                f"cannot reach the database at {_safe_url(settings.db_url)}: {reason}"
            ) from None
        return _run(args, settings, db)
    finally:
        db.dispose()


def _tls_files(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """uvicorn's own TLS (certificate, key), for a server with no reverse proxy in front."""
    cert, key = args.ssl_certfile, args.ssl_keyfile
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise ValueError("serve: --ssl-certfile and --ssl-keyfile go together")
    for flag, path in (("--ssl-certfile", cert), ("--ssl-keyfile", key)):
        if not path.is_file():
            raise ValueError(f"serve: {flag} {path}: no such file")
    return str(cert), str(key)


def _run(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    cmd = args.command
    stamp = CredentialStamp(settings.data_dir)
    if cmd == "migrate":
        print(f"schema is up to date ({_safe_url(settings.db_url)})")
    elif cmd == "ils":
        return _ils(settings, db, args.action)
    elif cmd == "serve":
        import uvicorn

        ssl_certfile, ssl_keyfile = _tls_files(args)

        from server.app import create_app
        from server.serve_tuning import tune_for_serving
        from server.service import Server

        print(f"database: {_safe_url(settings.db_url)}", flush=True)
        app = create_app(Server(settings, db))
        tune_for_serving()
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            # kiosks post every few seconds; keep their connections instead of racing
            # a close against their next request (uvicorn's default is 5 s)
            timeout_keep_alive=30,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
        )
    elif cmd == "seed-demo":
        from server.demo import seed_demo

        demo_password = seed_demo(db, force=args.force)
        print("demo data loaded: patrons AGT0001-AGT0004, STF0001; items B000101-B000110;")
        print("workshop 'Lokakarya Menulis Cerpen'; staff user 'petugas', password (shown once):")
        print(demo_password)
    elif cmd == "add-kiosk":
        token = add_kiosk(db, args.name, stamp)
        print(f"kiosk {args.name.strip()!r} registered; its token (shown once):")
        print(token)
    elif cmd == "revoke-kiosk":
        revoke_kiosk(db, args.name, stamp)
        print(f"kiosk {args.name.strip()!r} revoked; its transactions stay on the server")
    elif cmd == "add-staff":
        password = args.password or os.environ.get("KIOSK_STAFF_PASSWORD")
        if not password:
            password = getpass.getpass(f"password for {args.name}: ")
        created = add_staff(db, args.name, password, stamp, role=args.role)
        print(
            f"staff user {args.name!r} "
            + ("created" if created else "password changed; their sessions ended")
        )
    elif cmd in ("disable-staff", "enable-staff"):
        disabled = cmd == "disable-staff"
        set_staff_disabled(db, args.name, disabled, stamp)
        print(f"staff user {args.name.strip()!r} {'disabled' if disabled else 'enabled'}")
    elif cmd == "purge-history":
        return _purge_history(settings, db, args.days)
    elif cmd in ("import-patrons", "import-items"):
        report = (import_patrons if cmd == "import-patrons" else import_items)(db, args.csv)
        for line, msg in report.errors:
            print(f"{args.csv}:{line}: {msg}", file=sys.stderr)
        print(report.summary())
        return 0 if not report.errors else 3
    elif cmd == "import-queue":
        return _import_queue(settings, db, args.file)
    elif cmd == "export-transactions":
        _export(db, args.kiosk, args.since, args.format)
    elif cmd == "clear-pin-lock":
        return _clear_pin_lock(settings, db, args.card)
    elif cmd == "report":
        return _report(db, args)
    elif cmd == "loans":
        with db.read() as s:
            rows = open_loans(s, args.card)
        for r in rows:
            flag = "  OVERDUE" if r.overdue else ""
            print(f"{r.card}\t{r.name}\t{r.item}\t{r.title}\tdue {r.due_at:%Y-%m-%d}{flag}")
        print(f"{len(rows)} open loan(s)")
    return 0


def _clear_pin_lock(settings: Settings, db: Database, card: str) -> int:
    from server.keys import load_or_create_patron_key
    from server.patron_access import PatronAccess

    access = PatronAccess(db, settings.patron_access, load_or_create_patron_key(settings.data_dir))
    if not access.clear_pin_lock(card):
        print(f"error: no patron with card {card.strip()!r}", file=sys.stderr)
        return 1
    print(f"PIN checks for card {card.strip()!r} are open again (wrong PINs forgotten)")
    return 0


def _report(db: Database, args: argparse.Namespace) -> int:
    from server import visit_reports as vr

    if args.format == "xlsx" and args.output is None:
        raise ValueError("--format xlsx needs --output FILE.xlsx")
    with db.read() as s:
        if args.report == "visits":
            rep = vr.visits_report(s, args.start, args.end, args.by)
            heading, tables = vr.visits_heading(rep), rep.tables()
        else:
            fb = vr.feedback_report(s, args.start, args.end)
            heading, tables = vr.feedback_heading(fb), fb.tables()
    if args.format == "xlsx":
        vr.write_xlsx(args.output, heading, tables)
        print(f"written: {args.output}")
    elif args.output is not None:
        with args.output.open("w", newline="", encoding="utf-8") as f:
            vr.write_csv(f, heading, tables)
        print(f"written: {args.output}")
    else:
        vr.write_csv(sys.stdout, heading, tables)
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _import_queue(settings: Settings, db: Database, path: Path) -> int:
    from server.service import Server

    server = Server(settings, db)
    counts: Counter[str] = Counter()
    bad = 0
    batch: list[TransactionIn] = []

    def flush() -> None:
        for result in server.apply(batch):
            counts["duplicate" if result.duplicate else result.status.value] += 1
        batch.clear()

    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                batch.append(TransactionIn.model_validate_json(line))
            except ValidationError as exc:
                bad += 1
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                print(f"{path}:{n}: not a transaction: {where}: {first['msg']}", file=sys.stderr)
                continue
            if len(batch) >= IMPORT_CHUNK:
                flush()
    if batch:
        flush()
    parts = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"
    print(f"applied: {parts}; unreadable lines: {bad}")
    return 0 if bad == 0 else 3


EXPORT_FIELDS = ["id", "kiosk", "seq", "kind", "at", "offline", "status", "reason", "received_at"]


def _export_rows(db: Database, kiosk: str | None, since: date | None) -> Iterator[dict]:
    with db.read() as s:
        q = select(Transaction)
        if kiosk:
            q = q.where(Transaction.kiosk == kiosk)
        if since:
            q = q.where(Transaction.at >= datetime.combine(since, time(0), tzinfo=UTC))
        q = q.order_by(Transaction.at, Transaction.kiosk, Transaction.seq)
        for t in s.scalars(q.execution_options(yield_per=2000)):
            result = TransactionResult.model_validate_json(t.result)
            yield {
                "id": t.id,
                "kiosk": t.kiosk,
                "seq": t.seq,
                "kind": t.kind,
                "at": t.at.isoformat(),
                "offline": t.offline,
                "status": result.status.value,
                "reason": result.reason.value if result.reason else "",
                "received_at": t.received_at.isoformat(),
                "result": result,
            }


def _export(db: Database, kiosk: str | None, since: date | None, fmt: str) -> None:
    out = sys.stdout
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in _export_rows(db, kiosk, since):
            writer.writerow({**row, "offline": "1" if row["offline"] else "0"})
    else:
        for row in _export_rows(db, kiosk, since):
            row["result"] = row["result"].model_dump(mode="json", exclude_defaults=True)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
