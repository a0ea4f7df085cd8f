"""Who may call the server: staff logins and sessions, login throttling, revocation.

Invariants:

- a password is checked outside the write gate (``Database.write``), one at a
  time, on a thread of the lowest CPU priority (argon2 runs its lanes on threads
  of its own, which inherit it): guessing never holds up a patron's checkout for
  the length of a hash, nor takes the cores the checkouts need;
- a login answers as slowly for an unknown name as for a known one (a dummy hash
  is checked), so timing does not tell which names exist;
- a staff session ends at logout, at a password change, when its user is disabled,
  after ``staff_idle_minutes`` unused and after ``staff_session_hours``; expired
  rows are deleted whenever someone logs in;
- failed logins are counted per user name and per client address; past the limit
  the login is answered 429 with the seconds to wait, before any hash is computed.

Nothing here knows about HTTP or bearer headers: the staff API hands in a token
from ``Authorization``, and a browser console can hand in the same token from a
cookie (``StaffAuth.login`` / ``caller`` / ``logout``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update

from server.auth import hash_password, new_token, password_needs_rehash, token_hash, verify_secret
from server.db import Database
from server.models import StaffSession, StaffUser
from server.settings import Settings
from server.timeutil import as_utc, utcnow

Clock = Callable[[], datetime]


class LoginRefused(Exception):
    """A login that did not open a session; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, code: str, detail: str, retry_after: int = 0) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.retry_after = status, code, detail, retry_after


def refusal_pause(refused: LoginRefused) -> float:
    """Seconds to wait before answering a refused login, off any thread (an async sleep).

    A client that guesses one password after another gets at most one answer per
    pause: with four guessers the server handled thousands of cheap 429s a second,
    and that load, not the hashes, slowed patrons' checkouts (``make bench``:
    ``server.login_guessing_ratio``). A librarian who mistyped waits half a second.
    """
    return {401: 0.5, 403: 0.5, 429: 1.0}.get(refused.status, 0.0)


@dataclass(frozen=True)
class NewSession:
    """A staff session just opened: the secret token (shown once) and when it ends."""

    token: str
    staff: str
    expires_at: datetime
    idle_minutes: int


class LoginThrottle:
    """Failed logins per key (a user name, a client address) in a sliding window.

    Kept in the server process: a restart forgets the counts, which costs an
    attacker a restart per window; durable counts are for PINs, which are short.
    """

    MAX_KEYS = 50_000

    def __init__(self, window_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._now = monotonic
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str, limit: int) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        with self._lock:
            times = self._recent(key)
            if times is None or len(times) < limit:
                return 0.0
            return max(0.0, times[-limit] + self.window_s - self._now())

    def failed(self, key: str) -> None:
        with self._lock:
            if len(self._failures) >= self.MAX_KEYS:
                self._prune()
            self._failures.setdefault(key, deque(maxlen=1000)).append(self._now())

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        cutoff = self._now() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def _prune(self) -> None:
        for key in list(self._failures):
            self._recent(key)
        if len(self._failures) >= self.MAX_KEYS:  # a flood of addresses: start over
            self._failures.clear()


class StaffAuth:
    """Staff logins and sessions for the staff API (and a browser console later)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        patrons_waiting: Callable[[], bool] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        #: whether patrons' online requests wait for the server right now: a password
        #: hash waits for them (up to HASH_DEFER_S) rather than share the cores
        self.patrons_waiting = patrons_waiting
        self._monotonic = monotonic
        self._budget, self._budget_at = self.HASH_BURST, monotonic()
        self._budget_lock = threading.Lock()
        self.throttle = LoginThrottle(settings.login_window_minutes * 60.0, monotonic)
        self._dummy: str | None = None

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.settings.staff_idle_minutes)

    def login(self, name: str, password: str, address: str) -> NewSession:
        """Open a session for ``name`` or raise :class:`LoginRefused` (401, 403, 429)."""
        name = name.strip()
        keys = ((f"name:{name.casefold()}", self.settings.login_failures_per_name),
                (f"addr:{address}", self.settings.login_failures_per_address))  # fmt: skip
        wait = max(self.throttle.wait_s(key, limit) for key, limit in keys)
        if wait > 0:
            raise LoginRefused(
                429,
                "too_many_attempts",
                "too many failed logins; try again later",
                retry_after=max(1, math.ceil(wait)),
            )
        with self.db.read() as s:
            row = s.execute(
                select(StaffUser.id, StaffUser.password_hash, StaffUser.disabled).where(
                    StaffUser.name == name
                )
            ).first()
        if not self._hash_budget():
            raise LoginRefused(
                429, "logins_busy", "too many logins at once; try again in a second", retry_after=1
            )
        # an unknown name costs the same hash as a known one
        stored = row[1] if row else self._dummy_hash()
        self._defer_to_patrons()
        ok = _hasher_thread().submit(verify_secret, stored, password).result()
        if row is None or not ok:
            for key, _limit in keys:
                self.throttle.failed(key)
            raise LoginRefused(401, "bad_credentials", "wrong staff name or password")
        if row[2]:
            raise LoginRefused(403, "staff_disabled", "this staff account is disabled")
        self.throttle.forget(keys[0][0])
        # a password hashed with older, heavier settings is hashed again while known
        rehashed = hash_password(password) if password_needs_rehash(row[1]) else None
        token = new_token()
        now = self.clock()
        expires = now + timedelta(hours=self.settings.staff_session_hours)
        with self.db.write() as (s, _v):
            self._purge(s, now)
            if rehashed is not None:
                s.execute(
                    update(StaffUser).where(StaffUser.id == row[0]).values(password_hash=rehashed)
                )
            s.add(
                StaffSession(
                    token_hash=token_hash(token),
                    staff_id=row[0],
                    created_at=now,
                    last_used_at=now,
                    expires_at=expires,
                )
            )
        return NewSession(token, name, expires, self.settings.staff_session_hours)

    #: the longest a login's hash waits for patrons' requests to be answered first
    HASH_DEFER_S = 0.25
    #: password hashes the whole server computes per second, and in a burst: a library's
    #: staff log in a few times an hour, so only guessing ever meets this limit, and it
    #: keeps guessing from many addresses off the cores patrons' checkouts need
    HASHES_PER_S = 2.0
    HASH_BURST = 4.0

    def _hash_budget(self) -> bool:
        with self._budget_lock:
            now = self._monotonic()
            self._budget = min(
                self.HASH_BURST, self._budget + (now - self._budget_at) * self.HASHES_PER_S
            )
            self._budget_at = now
            if self._budget < 1.0:
                return False
            self._budget -= 1.0
            return True

    def _defer_to_patrons(self) -> None:
        if self.patrons_waiting is None:
            return
        deadline = time.monotonic() + self.HASH_DEFER_S
        while self.patrons_waiting() and time.monotonic() < deadline:
            time.sleep(0.002)

    def caller(self, token: str) -> str | None:
        """The staff name a session token stands for now, or None; notes the use."""
        digest = token_hash(token)
        now = self.clock()
        with self.db.read() as s:
            row = s.execute(
                select(
                    StaffUser.name,
                    StaffSession.id,
                    func.coalesce(StaffSession.last_used_at, StaffSession.created_at),
                )
                .join(StaffSession, StaffSession.staff_id == StaffUser.id)
                .where(
                    StaffSession.token_hash == digest,
                    StaffSession.expires_at > now,
                    StaffUser.disabled.is_(False),
                )
            ).first()
        if row is None:
            return None
        name, session_id, last_used = row
        last_used = as_utc(last_used)  # coalesce() loses the column's type
        if now - last_used >= self.idle:
            with self.db.write() as (s, _v):
                s.execute(delete(StaffSession).where(StaffSession.id == session_id))
            return None
        # a write per minute of use at most, not one per request
        if now - last_used >= min(timedelta(minutes=1), self.idle / 4):
            with self.db.write() as (s, _v):
                s.execute(
                    update(StaffSession)
                    .where(StaffSession.id == session_id)
                    .values(last_used_at=now)
                )
        return str(name)

    def logout(self, token: str) -> bool:
        """End the session of ``token``; True when there was one."""
        with self.db.write() as (s, _v):
            gone = s.execute(
                delete(StaffSession).where(StaffSession.token_hash == token_hash(token))
            )
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def purge(self) -> int:
        """Delete expired and idle sessions; how many went."""
        with self.db.write() as (s, _v):
            return self._purge(s, self.clock())

    def _purge(self, s, now: datetime) -> int:  # type: ignore[no-untyped-def]
        idle_since = now - self.idle
        gone = s.execute(
            delete(StaffSession).where(
                (StaffSession.expires_at <= now)
                | (func.coalesce(StaffSession.last_used_at, StaffSession.created_at) <= idle_since)
            )
        )
        return int(gone.rowcount)

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = hash_password(new_token())
        return self._dummy


_hashing: ThreadPoolExecutor | None = None
_hashing_lock = threading.Lock()


def _lowest_priority() -> None:
    try:  # Linux: a thread has its own nice value, and threads it starts inherit it
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass  # elsewhere it runs at normal priority, still one hash at a time


def _hasher_thread() -> ThreadPoolExecutor:
    """The one thread password hashes run on (see the module docstring)."""
    global _hashing
    with _hashing_lock:
        if _hashing is None:
            _hashing = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="password-hash", initializer=_lowest_priority
            )
        return _hashing


class CredentialStamp:
    """A file whose change tells a running server that access was taken away.

    ``kiosk-server revoke-kiosk``, ``disable-staff`` and a password change run in
    another process than ``serve``; the server keeps recently seen kiosk tokens
    for a few seconds (``Server.tokens``) and drops them all when this file
    changes, so a revoked token stops at its next request. Looking costs one
    ``stat`` per request. Servers on other machines (one PostgreSQL, several
    hosts) do not see the file: there a revoked kiosk token stops within the
    cache's few seconds.
    """

    NAME = "credentials-changed"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / self.NAME
        self._seen = self._mark()

    def _mark(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def touch(self) -> None:
        """Tell running servers that a credential was revoked."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(f"{time.time_ns()}\n")  # the size changes even within one mtime tick

    def changed(self) -> bool:
        """Whether the file changed since the last call (or since this object was made)."""
        mark = self._mark()
        if mark == self._seen:
            return False
        self._seen = mark
        return True
