"""One path, online or offline: decide a transaction, commit it locally, report.

Online, the server decides (and applies) the transaction within a short
deadline and the row is stored as already sent. When no answer comes in time
the offline policy decides from the snapshot and the row waits in the outbox.
Either way the patron is told only after ``LocalStore.commit`` returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import SyncError, SyncRejected
from core.wire import Kind, PatronInfo, Reason, Status, TransactionIn, TransactionResult
from sync.client import RequestRejected, ServerClient
from sync.connectivity import Connectivity
from sync.policy import WIB, PolicySettings, decide_offline, patron_info_from_snapshot
from sync.store import LocalStore

log = logging.getLogger(__name__)

#: Kinds the kiosk decides alone, online or not: the guest book and ratings are
#: never refused, so a patron never waits on the server to be welcomed.
KIOSK_DECIDES = frozenset({Kind.VISIT, Kind.GROUP_VISIT, Kind.FEEDBACK})


@dataclass(frozen=True, slots=True)
class Decision:
    """A committed transaction and its result, as the flows show it."""

    tx: TransactionIn
    result: TransactionResult

    @property
    def offline(self) -> bool:
        return self.tx.offline


@dataclass(frozen=True, slots=True)
class PatronLookup:
    """A card's patron, or why there is none; ``offline`` when it came from the snapshot."""

    patron: PatronInfo | None
    offline: bool
    reason: Reason | None = None


class Decider:
    """Decides and commits transactions, online first, offline by policy."""

    def __init__(
        self,
        store: LocalStore,
        client: ServerClient | None,
        link: Connectivity | None,
        policy: PolicySettings,
        *,
        deadline_s: float = 1.5,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.link = link
        self.policy = policy
        self.deadline_s = deadline_s
        #: Called after an offline transaction was queued (the sync worker's ``nudge``).
        self.on_queued = on_queued
        self._hasher = PasswordHasher()

    @property
    def online(self) -> bool:
        return self.client is not None and (self.link is None or self.link.online)

    def _failed(self, exc: Exception) -> None:
        log.warning("server unreachable, deciding offline: %s", exc)
        if self.link is not None:
            self.link.report_failure(str(exc))

    def _ok(self) -> None:
        if self.link is not None:
            self.link.report_ok()

    def submit(self, kind: Kind, *, session_items: int = 0, **fields: object) -> Decision:
        """Make, decide and durably commit one transaction."""
        tx = self.store.new_transaction(kind, **fields)  # type: ignore[arg-type]
        unanswered = False  # an online attempt that may have reached the server
        intent = False
        if self.online and self.client is not None and kind not in KIOSK_DECIDES:
            # Noted before the request goes out, so a crash between the server
            # applying it and the commit below is found after the restart.
            self.store.begin_online(tx)
            intent = True
            try:
                result = self.client.post_transactions([tx], timeout=self.deadline_s)[0]
            except SyncRejected as exc:
                # Misconfiguration (bad token, kiosk unknown): keep serving offline, staff see why.
                self._failed(exc)
            except SyncError as exc:
                unanswered = True
                self._failed(exc)
            else:
                self._ok()
                self.store.commit(tx, result, applied_on_server=True, had_intent=True)
                return Decision(tx, result)
        # Same id as the online attempt: if the server did apply it before the
        # answer was lost, the later sync gets that first result back, never a second loan.
        tx = tx.model_copy(update={"offline": True})
        result = decide_offline(tx, self.store, self.policy, session_items=session_items)
        if unanswered and result.status == Status.REFUSED:
            # The server may have applied the online attempt while the patron is told
            # "refused": this refusal is sent too, so the server's result for the id
            # comes back and any difference is flagged for staff (see kiosk_refused).
            tx = tx.model_copy(update={"kiosk_refused": True})
        if tx.kind == Kind.CHECKOUT and result.due_at is not None and tx.due_at is None:
            # Carry the due date printed on the slip, so the server can honour it.
            tx = tx.model_copy(update={"due_at": result.due_at})
        self.store.commit(tx, result, applied_on_server=False, had_intent=intent)
        if self.on_queued is not None and (result.status != Status.REFUSED or tx.kiosk_refused):
            self.on_queued()
        return Decision(tx, result)

    def lookup_patron(self, card: str) -> PatronLookup:
        """Who holds this card: the server's answer, or the snapshot's when offline."""
        if self.online and self.client is not None:
            try:
                info = self.client.patron(card, timeout=self.deadline_s)
            except SyncRejected as exc:
                if isinstance(exc, RequestRejected) and exc.status_code == 404:
                    self._ok()
                    return PatronLookup(None, offline=False, reason=Reason.UNKNOWN_CARD)
                self._failed(exc)
            except SyncError as exc:
                self._failed(exc)
            else:
                self._ok()
                return PatronLookup(info, offline=False, reason=info.reason)
        snap = self.store.patron(card)
        if snap is None:
            return PatronLookup(None, offline=True, reason=Reason.NOT_IN_SNAPSHOT)
        info = patron_info_from_snapshot(snap, datetime.now(UTC).astimezone(WIB).date())
        return PatronLookup(info, offline=True, reason=info.reason)

    def check_pin(self, card: str, pin: str) -> bool | None:
        """True/False when the PIN could be checked; None when it cannot be checked now."""
        if self.online and self.client is not None:
            try:
                res = self.client.verify_pin(card, pin, timeout=self.deadline_s)
            except SyncRejected:
                return False
            except SyncError as exc:
                self._failed(exc)
            else:
                self._ok()
                return res.ok
        if not self.policy.check_pin:
            return True  # policy: PINs are not checked offline
        snap = self.store.patron(card)
        if snap is None or not snap.pin_hash:
            return None
        try:
            return self._hasher.verify(snap.pin_hash, pin)
        except (VerificationError, InvalidHashError):
            return False
