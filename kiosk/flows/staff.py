"""Staff mode: who may enter, and what staff see and do.

Entry: a staff card (STF…) and the staff PIN, or a hidden long press on Home
and the PIN. The PIN is checked against ``[ui] staff_pin_hash`` (argon2) when
the config has it; without it, only a demo kiosk accepts the demo PIN 9999.

Wrong PINs are counted in the local store (so neither a new staff session nor a
restart resets them): after three, each try waits longer; after five, staff mode
locks for 15 minutes, and one more wrong PIN after that locks it again. While a
wait runs, no PIN is checked at all.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import KioskError, PrinterError
from core.wire import Kind, Status
from kiosk.flows.base import CodeKind, Message, Severity
from sync.effects import ticket_code
from sync.store import OutboxRow, OutboxState

log = logging.getLogger(__name__)

DEMO_STAFF_PIN = "9999"


class StaffStep(StrEnum):
    LOCKED = "locked"  # waiting for a staff card or the hidden long press
    PIN = "pin"
    OPEN = "open"


@dataclass(frozen=True)
class StaffStatus:
    """The health panel: link, queue, sync, snapshot, devices."""

    link: str  # online / offline / forced_offline / unknown / none
    queue_depth: int
    failed: int
    conflicts: int
    mismatches: int
    last_sync_at: datetime | None
    last_error: str | None
    snapshot_age_s: float | None
    devices: dict[str, str] = field(default_factory=dict)
    # names of the kiosk's private files (token, patron data) others could read at start
    exposed_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUp:
    """A transaction staff at this kiosk should look at, worded for the staff screen."""

    tx_id: str
    at: datetime
    kind: Kind
    card: str | None
    code: str | None  # the item's barcode, or the registration code of a ticket
    what: Message
    # a difference staff settle with the patron, then mark as handled here (conflicts
    # are settled at the central server)
    closable: bool
    # a row the server rejected: staff queue it again once the cause is fixed there
    resendable: bool = False


def follow_up(row: OutboxRow) -> FollowUp:
    """What staff should know about one flagged outbox row, in plain words."""
    tx = row.tx
    if row.state == OutboxState.FAILED:
        what = Message(
            "Tidak dapat dikirim ke server: {error}",
            Severity.ERROR,
            {"error": (row.last_error or "?")[:120]},
        )
    elif row.open_mismatch:
        what = _mismatch_words(row)
    else:
        what = Message(
            "Konflik di server: diselesaikan oleh petugas di server pusat.", Severity.WARNING
        )
    return FollowUp(
        tx_id=tx.id,
        at=tx.at,
        kind=tx.kind,
        card=tx.card or (tx.guest.name if tx.guest else None),
        code=tx.item or (ticket_code(tx.ticket) if tx.ticket else None),
        what=what,
        closable=row.open_mismatch,
        resendable=row.state == OutboxState.FAILED,
    )


def _mismatch_words(row: OutboxRow) -> Message:
    told, server = row.local_result, row.server_result
    if told is None or server is None:
        return Message("Hasil di kios dan di server berbeda.", Severity.WARNING)
    if told.status == Status.ACCEPTED and server.status != Status.ACCEPTED:
        return Message("Kios menyetujui, server tidak. Hubungi anggota ini.", Severity.WARNING)
    if told.status != Status.ACCEPTED and server.status == Status.ACCEPTED:
        return Message(
            "Kios menolak atau terhenti, tetapi server mencatatnya. Periksa bersama anggota.",
            Severity.WARNING,
        )
    if told.due_at is not None and server.due_at is not None and told.due_at != server.due_at:
        return Message(
            "Jatuh tempo di struk {slip}, di server {server}.",
            Severity.WARNING,
            {"slip": told.due_at, "server": server.due_at},
        )
    return Message("Hasil di kios dan di server berbeda.", Severity.WARNING)


def staff_pin_ok(settings: Any, pin: str) -> bool:
    """Check a staff PIN against the config's hash; the demo PIN only on a demo kiosk."""
    pin_hash = getattr(settings.ui, "staff_pin_hash", None)
    if pin_hash:
        try:
            return PasswordHasher().verify(pin_hash, pin)
        except (VerificationError, InvalidHashError):
            return False
    return bool(settings.kiosk.demo) and pin == DEMO_STAFF_PIN


class StaffPinGuard:
    """Wrong staff PINs and the wait they impose, kept in the store's ``meta`` table.

    ``clock`` is wall time (seconds since the epoch): the wait must hold across a
    restart, which a monotonic clock does not.
    """

    #: Wrong PINs in a row that cost nothing; the next ones wait BACKOFF_S, doubling.
    FREE_TRIES = 2
    BACKOFF_S = 30.0
    #: Wrong PINs in a row that lock staff mode for LOCK_S.
    LOCK_AFTER = 5
    LOCK_S = 15 * 60.0

    _FAILURES = "staff_pin_failures"
    _WAIT_UNTIL = "staff_pin_wait_until"

    def __init__(self, store: Any, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    @property
    def failures(self) -> int:
        return int(self.store.get_meta(self._FAILURES, "0") or 0)

    def wait_s(self) -> float:
        """Seconds before the next PIN may be tried (0: now). A clock set back cannot
        stretch a wait past its full length."""
        until = float(self.store.get_meta(self._WAIT_UNTIL, "0") or 0)
        return min(max(0.0, until - self.clock()), self.LOCK_S)

    def failed(self) -> tuple[int, float]:
        """Count one wrong PIN; returns (wrong PINs in a row, seconds to wait now)."""
        n = self.failures + 1
        if n >= self.LOCK_AFTER:
            wait = self.LOCK_S
        elif n > self.FREE_TRIES:
            wait = self.BACKOFF_S * 2 ** (n - self.FREE_TRIES - 1)
        else:
            wait = 0.0
        # After a lock has run out the count stays one short of it, so the next
        # wrong PIN locks again: a guesser gets one try per LOCK_S.
        self.store.set_meta(self._FAILURES, str(min(n, self.LOCK_AFTER - 1)))
        self.store.set_meta(self._WAIT_UNTIL, repr(self.clock() + wait))
        return n, wait

    def succeeded(self) -> None:
        self.store.set_meta(self._FAILURES, "0")
        self.store.set_meta(self._WAIT_UNTIL, "0")


def wait_message(wait_s: float) -> Message:
    """The staff PIN screen's words while a wait runs (minutes once it is long)."""
    if wait_s > 90:
        return Message(
            "Mode petugas dikunci karena PIN salah berkali-kali. Coba lagi dalam {minutes} menit.",
            Severity.ERROR,
            {"minutes": math.ceil(wait_s / 60)},
        )
    return Message(
        "Terlalu banyak PIN salah. Coba lagi dalam {seconds} detik.",
        Severity.ERROR,
        {"seconds": math.ceil(wait_s)},
    )


class StaffFlow:
    """Authentication and the actions of staff mode. ``runtime`` is a KioskRuntime."""

    def __init__(self, runtime: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.rt = runtime
        self.step = StaffStep.LOCKED
        self.card: str | None = None
        self.message = Message("Pindai kartu petugas.")
        self.guard = StaffPinGuard(runtime.store, clock)

    # -- entry ---------------------------------------------------------------
    def _ask_pin(self) -> Message:
        self.step = StaffStep.PIN
        wait = self.guard.wait_s()
        self.message = wait_message(wait) if wait else Message("Masukkan PIN petugas.")
        return self.message

    def scan(self, text: str) -> Message:
        text = text.strip()
        if self.rt.services.classifier.kind_of(text) != CodeKind.STAFF:
            self.message = Message("Ini bukan kartu petugas.", Severity.ERROR)
            return self.message
        self.card = text
        return self._ask_pin()

    def hidden_entry(self) -> None:
        self.card = None
        self._ask_pin()

    def enter_pin(self, pin: str) -> Message:
        if self.step != StaffStep.PIN:
            return self.message
        wait = self.guard.wait_s()
        if wait:
            # not even checked: a wait that still answered right or wrong would not slow
            # a guesser down
            self.message = wait_message(wait)
            return self.message
        if staff_pin_ok(self.rt.settings, pin):
            self.step = StaffStep.OPEN
            self.guard.succeeded()
            log.info("staff mode opened (card %s)", self.card or "long press")
            self.message = Message("Mode petugas.", Severity.INFO)
            return self.message
        n, wait = self.guard.failed()
        log.warning(
            "wrong staff PIN (%d in a row, card %s); next try in %.0f s",
            n,
            self.card or "long press",
            wait,
        )
        if wait:
            self.lock()
            self.message = wait_message(wait)
        else:
            self.message = Message("PIN salah. Coba lagi.", Severity.ERROR)
        return self.message

    def lock(self) -> None:
        self.step = StaffStep.LOCKED
        self.card = None
        self.message = Message("Pindai kartu petugas.")

    @property
    def open(self) -> bool:
        return self.step == StaffStep.OPEN

    # -- status --------------------------------------------------------------
    def status(self, devices: dict[str, str] | None = None) -> StaffStatus:
        store = self.rt.store
        stats = store.stats()
        link = self.rt.link
        state = "none" if link is None else str(getattr(link.state, "value", link.state))
        last = datetime.fromtimestamp(stats.last_sent_at, UTC) if stats.last_sent_at else None
        snapshot_age = store.snapshot_age_s()
        if snapshot_age is not None:
            # A snapshot refresh is a sync too: an idle kiosk that is online has sent
            # nothing, yet its last contact with the server is the snapshot's age.
            refreshed = datetime.now(UTC) - timedelta(seconds=snapshot_age)
            last = refreshed if last is None else max(last, refreshed)
        worker = self.rt.worker
        error = stats.last_error or (worker.last_error if worker is not None else None)
        return StaffStatus(
            link=state,
            queue_depth=stats.pending + stats.in_flight,
            failed=stats.failed,
            conflicts=stats.conflicts,
            mismatches=stats.mismatches,
            last_sync_at=last,
            last_error=error,
            snapshot_age_s=snapshot_age,
            devices=devices or {},
            exposed_files=tuple(p.name for p in getattr(self.rt, "exposed_files", ())),
        )

    #: Follow-ups listed at once (newest first); the screen says how many more there are.
    FOLLOW_UP_LIMIT = 100

    def follow_ups(self) -> list[FollowUp]:
        """Failed rows, conflicts and differences from what patrons were told, newest
        first (empty while staff mode is locked)."""
        if not self.open:
            return []
        return [follow_up(row) for row in self.rt.store.follow_ups(self.FOLLOW_UP_LIMIT)]

    def follow_ups_beyond(self, shown: int) -> Message | None:
        """A note when there are more follow-ups than the ``shown`` ones listed."""
        total = self.rt.store.follow_up_count() if self.open else 0
        if total <= shown:
            return None
        return Message(
            "Menampilkan {shown} terbaru dari {total}. Selesaikan ini untuk melihat sisanya.",
            Severity.INFO,
            {"shown": shown, "total": total},
        )

    # -- actions (each returns a message for the staff screen) ---------------
    def _require_open(self) -> Message | None:
        if not self.open:
            return Message("Mode petugas terkunci.", Severity.ERROR)
        return None

    def sync_now(self) -> Message:
        if (m := self._require_open()) is not None:
            return m
        if self.rt.worker is None:
            return Message("Tidak ada server yang disetel: kios hanya luring.", Severity.WARNING)
        self.rt.worker.wake()
        return Message("Sinkronisasi dimulai.", Severity.SUCCESS)

    def force_offline(self, forced: bool) -> Message:
        if (m := self._require_open()) is not None:
            return m
        if self.rt.link is None:
            return Message("Tidak ada server yang disetel: kios hanya luring.", Severity.WARNING)
        self.rt.link.force_offline(forced)
        if forced:
            return Message("Kios dipaksa luring (offline).", Severity.WARNING)
        return Message("Kios kembali mencoba daring (online).", Severity.SUCCESS)

    @property
    def forced_offline(self) -> bool:
        link = self.rt.link
        return link is not None and str(getattr(link.state, "value", "")) == "forced_offline"

    def print_test(self) -> Message:
        if (m := self._require_open()) is not None:
            return m
        slips = self.rt.services.slips
        printer = getattr(slips, "print_test", None)
        if printer is None:
            return Message("Tidak ada printer yang disetel.", Severity.WARNING)
        try:
            printer()
        except PrinterError as exc:
            log.warning("test slip failed: %s", exc)
            return Message(exc.patron_message, Severity.ERROR)
        return Message("Struk uji dicetak.", Severity.SUCCESS)

    def mark_handled(self, tx_id: str) -> Message:
        """Staff settled a difference with the patron: it stops counting as open."""
        if (m := self._require_open()) is not None:
            return m
        by = self.card or "staff PIN"
        if not self.rt.store.mark_handled(tx_id, by):
            return Message("Sudah ditangani sebelumnya.", Severity.INFO)
        log.info("staff (%s) marked %s as handled", by, tx_id)
        return Message("Ditandai sudah ditangani.", Severity.SUCCESS)

    def resend(self, tx_id: str) -> Message:
        """Queue a row the server rejected again (its cause fixed at the server) and
        start a sync."""
        if (m := self._require_open()) is not None:
            return m
        if not self.rt.store.resend_failed(tx_id):
            return Message("Sudah dikirim ulang sebelumnya.", Severity.INFO)
        log.info("staff (%s) queued failed transaction %s again", self.card or "staff PIN", tx_id)
        if self.rt.worker is not None:
            self.rt.worker.wake()
        return Message("Dikirim ulang pada sinkronisasi berikutnya.", Severity.SUCCESS)

    def export_queue(self, folder: Path) -> Message:
        """Write unsent transactions as JSONL next to the kiosk's data (for a USB stick)."""
        if (m := self._require_open()) is not None:
            return m
        path = folder / f"queue-{datetime.now(UTC):%Y%m%d-%H%M%S}.jsonl"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            n = self.rt.store.export_queue(path)
        except (OSError, KioskError) as exc:
            log.error("queue export to %s failed: %s", path, exc)
            return Message("Antrean tidak dapat diekspor.", Severity.ERROR)
        return Message(
            "{n} transaksi diekspor ke {path}.", Severity.SUCCESS, {"n": n, "path": str(path)}
        )
