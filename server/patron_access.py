"""Who may act for a patron at a kiosk: PIN checks, their lock, patron sessions.

Wrong PINs are counted per card in the database (``pin_failures``), so guessing
from several kiosks or across a server restart adds up; ``max_failures`` of them
lock that card's PIN checks for ``lock_minutes``. Every wrong PIN is logged with
the kiosk's name. A right PIN, or a card without a PIN, opens a short patron
session bound to the kiosk that asked (``patron_sessions``, token stored as a
sha256); account reads and renewals by card need it. Each kiosk also has a
token bucket for PIN checks, so one token cannot try PINs at full speed.

The argon2 check runs outside the write gate: it takes tens of milliseconds and
must not hold up other kiosks' checkouts. The clock is injectable for tests.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from core.patronkeys import card_tag, key_id
from server.auth import new_token, token_hash, verify_secret
from server.db import Database
from server.models import Kiosk, Patron, PatronSession, PinFailures
from server.queries import find_patron
from server.settings import PatronAccessSettings
from server.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PinOutcome:
    """One PIN check: ``ok``, or wrong (``tries_left``), or ``locked_until``."""

    ok: bool
    tries_left: int | None = None
    locked_until: datetime | None = None


class PinRateLimit:
    """A token bucket per kiosk: ``per_minute`` checks, refilled evenly."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, kiosk: str) -> float:
        """0 when the kiosk may check a PIN now; otherwise seconds until it may."""
        with self._lock:
            now = self._clock()
            level, at = self._buckets.get(kiosk, (self.capacity, now))
            level = min(self.capacity, level + (now - at) * self.rate)
            if level >= 1.0:
                self._buckets[kiosk] = (level - 1.0, now)
                return 0.0
            self._buckets[kiosk] = (level, now)
            return (1.0 - level) / self.rate


class PatronAccess:
    """PIN checks with a durable lock, and patron sessions, for one server process."""

    def __init__(
        self,
        db: Database,
        settings: PatronAccessSettings,
        master_key: bytes,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self._master = master_key
        self.card_key = hmac.new(master_key, b"card-tag", hashlib.sha256).digest()
        self.key_id = key_id(self.card_key)
        self.rate = PinRateLimit(settings.pin_checks_per_minute)

    # -- keys ------------------------------------------------------------------
    def tag(self, card: str | None) -> str | None:
        return card_tag(self.card_key, card) if card else None

    def pin_key(self, kiosk_id: int, kiosk_name: str) -> bytes:
        """The key sealing PIN hashes for one kiosk (the same for it across token rotations)."""
        label = f"pin-seal:{kiosk_id}:{kiosk_name}".encode()
        return hmac.new(self._master, label, hashlib.sha256).digest()

    def kiosk_pin_key(self, kiosk_name: str) -> bytes:
        with self.db.read() as s:
            kiosk_id = s.execute(select(Kiosk.id).where(Kiosk.name == kiosk_name)).scalar()
        if kiosk_id is None:
            raise LookupError(f"no kiosk named {kiosk_name!r}")
        return self.pin_key(kiosk_id, kiosk_name)

    # -- PINs ------------------------------------------------------------------
    def locked_until(self, patron_id: int) -> datetime | None:
        """When this card's PIN lock ends, or None when PINs may be checked now."""
        with self.db.read() as s:
            until = s.execute(
                select(PinFailures.locked_until).where(PinFailures.patron_id == patron_id)
            ).scalar()
        return until if until is not None and until > self.clock() else None

    def check_pin(self, patron: Patron, pin: str, kiosk: str) -> PinOutcome:
        """Check a PIN and count the result. The patron must have a PIN."""
        assert patron.pin_hash is not None
        until = self.locked_until(patron.id)
        if until is not None:
            log.warning("PIN check for a locked card (patron %d) from kiosk %s", patron.id, kiosk)
            return PinOutcome(False, 0, until)
        ok = verify_secret(patron.pin_hash, pin)  # slow: outside any write
        now = self.clock()
        with self.db.write() as (s, _version):
            row = s.get(PinFailures, patron.id)
            if ok:
                if row is not None:
                    s.delete(row)
                return PinOutcome(True)
            if row is None:
                row = PinFailures(patron_id=patron.id, failures=0)
                s.add(row)
            if row.locked_until is not None and row.locked_until <= now:
                row.failures = 0  # the last lock is over: a fresh count
                row.locked_until = None
            row.failures += 1
            row.last_failure_at = now
            row.last_kiosk = kiosk
            left = max(0, self.settings.pin_max_failures - row.failures)
            if left == 0:
                row.locked_until = now + timedelta(minutes=self.settings.pin_lock_minutes)
            failures, locked = row.failures, row.locked_until
        log.warning(
            "wrong PIN for patron %d from kiosk %s (%d in a row)%s",
            patron.id,
            kiosk,
            failures,
            f"; PIN checks locked until {locked.isoformat()}" if locked else "",
        )
        return PinOutcome(False, left, locked)

    def clear_pin_lock(self, card: str) -> bool:
        """Staff: forget a card's wrong PINs and end its lock. False for an unknown card."""
        with self.db.write() as (s, _version):
            patron = find_patron(s, card)
            if patron is None:
                return False
            s.execute(delete(PinFailures).where(PinFailures.patron_id == patron.id))
        log.info("PIN lock cleared for patron %d", patron.id)
        return True

    # -- sessions --------------------------------------------------------------
    def open_session(self, patron_id: int, kiosk: str) -> tuple[str, datetime]:
        """A new session for this kiosk's patron; the kiosk's earlier ones end."""
        token = new_token()
        now = self.clock()
        expires = now + timedelta(minutes=self.settings.session_minutes)
        with self.db.write() as (s, _version):
            s.execute(
                delete(PatronSession).where(
                    (PatronSession.kiosk == kiosk) | (PatronSession.expires_at <= now)
                )
            )
            s.add(
                PatronSession(
                    token_hash=token_hash(token),
                    patron_id=patron_id,
                    kiosk=kiosk,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return token, expires

    def session_patron(self, token: str | None, kiosk: str) -> Patron | None:
        """The patron of a live session this kiosk holds, or None."""
        if not token or len(token) > 100:
            return None
        with self.db.read() as s:
            return s.execute(
                select(Patron)
                .join(PatronSession, PatronSession.patron_id == Patron.id)
                .where(
                    PatronSession.token_hash == token_hash(token),
                    PatronSession.kiosk == kiosk,
                    PatronSession.expires_at > self.clock(),
                    Patron.deleted.is_(False),
                )
            ).scalar()

    def end_sessions(self, kiosk: str) -> None:
        """The patron at this kiosk is done: its sessions end now."""
        with self.db.write() as (s, _version):
            s.execute(delete(PatronSession).where(PatronSession.kiosk == kiosk))
