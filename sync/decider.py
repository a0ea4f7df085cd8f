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
from datetime import UTC, datetime, timedelta

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
    """A card's patron, or why there is none; ``offline`` when it came from the snapshot.

    ``session`` is the server's patron session (a card without a PIN gets one at
    once): the account view and renewals need it.
    """

    patron: PatronInfo | None
    offline: bool
    reason: Reason | None = None
    session: str | None = None


@dataclass(frozen=True, slots=True)
class PinVerdict:
    """One PIN entry: ``ok`` True/False, or None when it could not be checked here.

    ``reason`` says why not: ``pin_wrong``, ``pin_locked`` (too many wrong PINs for
    this card, on the server or at this kiosk, until ``locked_until``) or
    ``pin_offline`` (offline with no PIN hash this kiosk may check: see staff).
    """

    ok: bool | None
    reason: Reason | None = None
    session: str | None = None
    tries_left: int | None = None
    locked_until: datetime | None = None
    retry_after_s: float = 0.0


class PinGuard:
    """This kiosk's own count of wrong PINs per card, kept across re-scans of the card.

    ``max_tries`` wrong PINs in a row (online or offline) lock the card's PIN
    entry at this kiosk for ``lock_s``; a right PIN clears the count. The server
    keeps its own durable count besides; this one also holds while offline.
    """

    def __init__(
        self,
        max_tries: int = 3,
        lock_s: float = 15 * 60.0,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.max_tries = max_tries
        self.lock_s = lock_s
        self.clock = clock
        self._wrong: dict[str, tuple[int, datetime | None]] = {}

    def locked_until(self, card: str) -> datetime | None:
        tries, until = self._wrong.get(card, (0, None))
        if until is not None and until <= self.clock():
            del self._wrong[card]  # the lock is over: a fresh count
            return None
        return until

    def tries_left(self, card: str) -> int:
        return max(0, self.max_tries - self._wrong.get(card, (0, None))[0])

    def wrong(self, card: str) -> datetime | None:
        """Count a wrong PIN; returns the lock's end when this one locked the card."""
        tries = self._wrong.get(card, (0, None))[0] + 1
        until = self.clock() + timedelta(seconds=self.lock_s) if tries >= self.max_tries else None
        self._wrong[card] = (tries, until)
        if len(self._wrong) > 10_000:  # a kiosk left running for months: drop the oldest
            self._wrong.pop(next(iter(self._wrong)))
        return until

    def right(self, card: str) -> None:
        self._wrong.pop(card, None)


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
        pins: PinGuard | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.link = link
        self.policy = policy
        self.deadline_s = deadline_s
        #: Called after an offline transaction was queued (the sync worker's ``nudge``).
        self.on_queued = on_queued
        self._hasher = PasswordHasher()
        #: Wrong PINs per card at this kiosk, kept across re-scans of the card.
        self.pins = pins if pins is not None else PinGuard()

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

    def submit(
        self,
        kind: Kind,
        *,
        session_items: int = 0,
        patron_session: str | None = None,
        **fields: object,
    ) -> Decision:
        """Make, decide and durably commit one transaction.

        ``patron_session`` goes with an online renewal: the server renews by card
        only for the patron whose session this kiosk holds.
        """
        tx = self.store.new_transaction(kind, **fields)  # type: ignore[arg-type]
        unanswered = False  # an online attempt that may have reached the server
        intent = False
        if self.online and self.client is not None and kind not in KIOSK_DECIDES:
            # Noted before the request goes out, so a crash between the server
            # applying it and the commit below is found after the restart.
            self.store.begin_online(tx)
            intent = True
            try:
                result = self.client.post_transactions(
                    [tx], timeout=self.deadline_s, patron_session=patron_session
                )[0]
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
                found = self.client.patron(card, timeout=self.deadline_s)
            except SyncRejected as exc:
                if isinstance(exc, RequestRejected) and exc.status_code == 404:
                    self._ok()
                    return PatronLookup(None, offline=False, reason=Reason.UNKNOWN_CARD)
                self._failed(exc)
            except SyncError as exc:
                self._failed(exc)
            else:
                self._ok()
                info = found.patron
                session = found.session.session if found.session else None
                return PatronLookup(info, offline=False, reason=info.reason, session=session)
        snap = self.store.patron(card)
        if snap is None:
            return PatronLookup(None, offline=True, reason=Reason.NOT_IN_SNAPSHOT)
        info = patron_info_from_snapshot(snap, datetime.now(UTC).astimezone(WIB).date())
        return PatronLookup(info, offline=True, reason=info.reason)

    def check_pin(self, card: str, pin: str) -> PinVerdict:
        """Check a PIN with the server, or offline against this kiosk's sealed hash.

        Offline, a card that needs a PIN is never let through unchecked: without a
        hash this kiosk can open (the server ships none unless its
        ``offline_pin_hashes`` is on), or with ``[offline] check_pin = false``, the
        answer is ``pin_offline`` and the patron goes to the desk.
        """
        until = self.pins.locked_until(card)
        if until is not None:
            return PinVerdict(False, Reason.PIN_LOCKED, locked_until=until)
        verdict = self._check_pin(card, pin)
        if verdict.ok:
            self.pins.right(card)
        elif verdict.ok is False and verdict.reason == Reason.PIN_WRONG:
            until = self.pins.wrong(card)
            left = self.pins.tries_left(card)
            if verdict.tries_left is not None:
                left = min(left, verdict.tries_left)
            if until is not None:
                return PinVerdict(False, Reason.PIN_LOCKED, locked_until=until, tries_left=0)
            return PinVerdict(False, Reason.PIN_WRONG, tries_left=left)
        return verdict

    def can_check_pin_offline(self, card: str) -> bool:
        """Whether an offline PIN entry for this card could be checked here at all."""
        snap = self.store.patron(card)
        if snap is None:
            return False
        if not snap.pin_required and not snap.pin_hash:
            return True
        if not self.policy.check_pin:
            return False
        return self.store.keys.open_pin_hash(snap.pin_hash, card) is not None

    def _check_pin(self, card: str, pin: str) -> PinVerdict:
        if self.online and self.client is not None:
            try:
                res = self.client.verify_pin(card, pin, timeout=self.deadline_s)
            except RequestRejected as exc:
                self._ok()
                if exc.status_code == 429:
                    return PinVerdict(
                        False, Reason.PIN_LOCKED, retry_after_s=exc.retry_after_s or 1.0
                    )
                return PinVerdict(False, Reason.PIN_WRONG)
            except SyncRejected:
                return PinVerdict(False, Reason.PIN_WRONG)
            except SyncError as exc:
                self._failed(exc)
            else:
                self._ok()
                if res.ok:
                    session = res.session.session if res.session else None
                    return PinVerdict(True, session=session)
                return PinVerdict(
                    False,
                    res.reason or Reason.PIN_WRONG,
                    tries_left=res.tries_left,
                    locked_until=res.locked_until,
                )
        snap = self.store.patron(card)
        if snap is None:
            return PinVerdict(None, Reason.NOT_IN_SNAPSHOT)
        if not snap.pin_required and not snap.pin_hash:
            return PinVerdict(True)  # this card has no PIN
        if not self.policy.check_pin:
            return PinVerdict(None, Reason.PIN_OFFLINE)  # policy: no PIN checks offline
        pin_hash = self.store.keys.open_pin_hash(snap.pin_hash, card)
        if pin_hash is None:
            return PinVerdict(None, Reason.PIN_OFFLINE)
        ok: bool
        try:
            ok = self._hasher.verify(pin_hash, pin)
        except (VerificationError, InvalidHashError):
            ok = False
        return PinVerdict(True) if ok else PinVerdict(False, Reason.PIN_WRONG)
