"""Staff commands on the kiosk's own machine: ``kiosk status|sync|export-queue FILE|
handled TX_ID``.

They open the same local store as the running kiosk (SQLite allows that), so
staff can look at the queue or copy it to a USB stick while the kiosk runs.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from core.errors import SyncError
from kiosk.config import KioskSettings
from kiosk.filemodes import describe, exposed_files
from kiosk.runtime import build_runtime
from sync.client import ServerClient
from sync.secrets import SECRETS_FILE, KioskKeys
from sync.store import LocalStore, OutboxRow

#: ``kiosk status`` lists at most this many mismatches and failed rows each.
STATUS_LISTED = 20


def _listed(
    what: str, rows: list[OutboxRow], total: int, detail: Callable[[OutboxRow], str]
) -> list[str]:
    """``kiosk status`` lines for up to STATUS_LISTED rows of a kind, and one that says
    how many of the ``total`` it did not list."""
    lines = [
        f"{what}: {r.tx.id} {r.tx.kind.value} card={r.tx.card or '-'} item={r.tx.item or '-'}"
        f" at {r.tx.at.isoformat()}: {detail(r)}"
        for r in rows[:STATUS_LISTED]
    ]
    more = total - len(lines)
    if more > 0:
        lines.append(f"{what}: ... and {more} more, listed once those above are settled")
    return lines


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _store(settings: KioskSettings) -> LocalStore:
    data = settings.kiosk.data_dir
    data.mkdir(parents=True, exist_ok=True)
    keys = KioskKeys(data / SECRETS_FILE)
    return LocalStore(data / "kiosk.sqlite3", kiosk=settings.kiosk.name, keys=keys)


def _reachable(settings: KioskSettings) -> str:
    """One health probe with the decision deadline: what staff need to know first."""
    if not settings.server.token:
        return "no token: offline only"
    client = ServerClient(
        settings.server.url, settings.server.token, ca_file=settings.server.ca_file
    )
    try:
        health = client.health(timeout=settings.server.decision_timeout_s)
    except SyncError as exc:
        return f"unreachable: {exc}"
    finally:
        client.close()
    return f"reachable, version {health.version}"


def _private_files_line(settings: KioskSettings) -> str:
    exposed = exposed_files(settings)
    if not exposed:
        return "private files: readable by this user only"
    return f"private files: READABLE BY OTHER USERS: {describe(exposed)} (chmod 600 them)"


def status(settings: KioskSettings, out: TextIO | None = None) -> int:
    """Queue depth, last sync, conflicts, mismatches and snapshot age, one per line."""
    out = out or sys.stdout  # looked up per call: tests swap sys.stdout
    store = _store(settings)
    try:
        st = store.stats(count_sent=True)
        last = None if st.last_sent_at is None else time.time() - st.last_sent_at
        oldest = st.oldest_pending_at
        counts = store.snapshot_counts()
        lines = [
            f"kiosk: {settings.kiosk.name}",
            f"server: {settings.server.url} ({_reachable(settings)})",
            f"queue depth: {st.pending + st.in_flight}",
            f"pending: {st.pending}",
            f"in flight: {st.in_flight}",
            f"failed: {st.failed}",
            f"sent: {st.sent}",
            f"conflicts: {st.conflicts}",
            f"mismatches: {st.mismatches}",
            f"last sync: {_ago(last)}",
            "oldest pending: "
            + ("none" if oldest is None else _ago((datetime.now(UTC) - oldest).total_seconds())),
            f"last sync error: {st.last_error or 'none'}",
            f"snapshot age: {_ago(store.snapshot_age_s())}",
            f"snapshot cursor: {store.snapshot_cursor() or 'none'}",
            f"snapshot rows: {counts['patrons']} patrons, {counts['items']} items,"
            f" {counts['events']} events, {counts['registrations']} registrations",
            _private_files_line(settings),
        ]
        lines += _listed(
            "mismatch", store.mismatches(STATUS_LISTED), st.mismatches, lambda r: str(r.mismatch)
        )
        lines += _listed(
            "failed",
            store.failed(STATUS_LISTED),
            st.failed,
            lambda r: f"{r.last_error or '?'} (kiosk resend ID)",
        )
        out.write("\n".join(lines) + "\n")
    finally:
        store.close()
    return 0


def sync_now(settings: KioskSettings, out: TextIO | None = None) -> int:
    """Refresh the snapshot and send the whole queue now; 1 when the server cannot be reached."""
    out = out or sys.stdout  # looked up per call: tests swap sys.stdout
    if not settings.server.token:
        print("kiosk sync: no server token in the config ([server] token)", file=sys.stderr)
        return 2
    rt = build_runtime(settings)
    try:
        assert rt.worker is not None
        try:
            sent = rt.worker.drain_all()
            rt.worker.refresh_snapshot()
        except SyncError as exc:
            print(f"kiosk sync: {exc}", file=sys.stderr)
            out.write(f"sent: {rt.worker.sent_total}\nqueue depth: {rt.store.queue_depth()}\n")
            return 1
        st = rt.store.stats()
        out.write(
            f"sent: {sent}\nqueue depth: {st.pending + st.in_flight}\n"
            f"conflicts: {st.conflicts}\nmismatches: {st.mismatches}\n"
        )
    finally:
        rt.stop()
    return 0


def export_queue(settings: KioskSettings, path: str, out: TextIO | None = None) -> int:
    """Write the unsent queue as JSONL for ``kiosk-server import-queue FILE``."""
    out = out or sys.stdout  # looked up per call: tests swap sys.stdout
    store = _store(settings)
    try:
        n = store.export_queue(path)
    except OSError as exc:
        print(f"kiosk export-queue: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        store.close()
    out.write(f"exported {n} transactions to {path}\n")
    return 0


def mark_handled(
    settings: KioskSettings, tx_id: str, by: str | None = None, out: TextIO | None = None
) -> int:
    """Staff settled a difference from what a patron was told (a ``mismatch:`` line of
    ``kiosk status``): it stops counting. The screenless station's way to do what the
    staff screen's follow-up list does."""
    out = out or sys.stdout  # looked up per call: tests swap sys.stdout
    try:
        who = by or getpass.getuser()
    except (KeyError, OSError):  # no user name on this system
        who = "staff"
    tx_id = tx_id.strip()
    store = _store(settings)
    try:
        done = store.mark_handled(tx_id, who)
    finally:
        store.close()
    if not done:
        print(
            f"kiosk handled: no open mismatch with id {tx_id} (see 'kiosk status')",
            file=sys.stderr,
        )
        return 1
    out.write(f"{tx_id} marked handled by {who}\n")
    return 0


def resend(settings: KioskSettings, tx_id: str, out: TextIO | None = None) -> int:
    """Queue a transaction the server rejected (a ``failed:`` line of ``kiosk status``)
    again, once its cause is fixed at the server; the next sync sends it."""
    out = out or sys.stdout  # looked up per call: tests swap sys.stdout
    tx_id = tx_id.strip()
    store = _store(settings)
    try:
        done = store.resend_failed(tx_id)
    finally:
        store.close()
    if not done:
        print(f"kiosk resend: no failed transaction with id {tx_id}", file=sys.stderr)
        return 1
    out.write(f"{tx_id} queued again; 'kiosk sync' sends it now\n")
    return 0


def run(command: str, settings: KioskSettings, args: argparse.Namespace) -> int:
    """Dispatch from ``kiosk.cli``."""
    if command == "status":
        return status(settings)
    if command == "sync":
        return sync_now(settings)
    if command == "export-queue":
        return export_queue(settings, args.file)
    if command == "handled":
        return mark_handled(settings, args.tx_id, args.by)
    if command == "resend":
        return resend(settings, args.tx_id)
    print(f"kiosk: unknown staff command {command!r}", file=sys.stderr)
    return 2
