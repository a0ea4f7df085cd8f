"""Server settings, resolved once at start-up from arguments, environment and TOML."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from server.db import default_db_url


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the file and key."""


@dataclass(frozen=True)
class Settings:
    """Everything the server process needs to know at start-up."""

    data_dir: Path
    """Folder for the SQLite file and the ticket signing key (never committed)."""
    db_url: str
    """SQLAlchemy URL; SQLite in ``data_dir`` unless given."""
    closed_weekdays: frozenset[int] = field(default_factory=lambda: frozenset({6}))
    """Weekdays the library is closed (Monday=0 ... Sunday=6); due dates skip them."""
    offline_pin_hashes: bool = False
    """Whether snapshots carry PIN hashes so kiosks can check PINs offline."""
    staff_session_hours: int = 12
    """How long a staff login token stays valid."""
    staff_idle_minutes: int = 30
    """A staff session unused this long ends (the librarian walked away)."""
    login_failures_per_name: int = 5
    """Failed staff logins for one user name within ``login_window_minutes`` before
    that name is refused with 429 until the oldest failure leaves the window."""
    login_failures_per_address: int = 20
    """The same for one client address (many names guessed from one machine)."""
    login_window_minutes: int = 15
    """The window failed staff logins are counted in."""
    max_body_kb: int = 64
    """Largest request body for routes not named below (staff changes, PIN checks)."""
    max_transactions_body_kb: int = 4096
    """Largest ``POST /transactions`` body (5,000 transactions of about 600 bytes)."""
    max_login_body_kb: int = 4
    """Largest staff login body; logins are answered before any token exists."""
    clock_skew_minutes: int = 10
    """How far ahead of the server's clock a kiosk's event time may be before it is
    clamped to the receive time and flagged for staff."""
    due_grace_days: int = 7
    """Slack over the longest loan period for a due date a kiosk printed offline;
    a later one is clamped and flagged for staff."""
    keep_patron_history_days: int = 0
    """After this many days transactions, returned loans and registrations lose the
    link to their patron (``kiosk-server purge-history``); 0 keeps them for ever."""
    api_docs: bool = True
    """Serve ``/docs`` and ``/openapi.json``; switch off in production."""

    @classmethod
    def resolve(
        cls,
        db: str | None = None,
        data_dir: str | Path | None = None,
        config: str | Path | None = None,
    ) -> Settings:
        raw: dict[str, object] = {}
        cfg_path = config or os.environ.get("KIOSK_SERVER_CONFIG")
        if cfg_path:
            path = Path(cfg_path)
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8")).get("server", {})
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise SettingsError(f"{path}: cannot read config: {exc}") from exc
        folder = Path(
            data_dir
            or os.environ.get("KIOSK_SERVER_DATA")
            or str(raw.get("data_dir", "./data/server"))
        )
        url = db or os.environ.get("KIOSK_SERVER_DB") or raw.get("db_url") or default_db_url(folder)
        weekdays = raw.get("closed_weekdays", [6])
        if not isinstance(weekdays, list) or not all(
            isinstance(d, int) and 0 <= d <= 6 for d in weekdays
        ):
            raise SettingsError(f"{cfg_path}: server.closed_weekdays must be a list of 0..6")
        hours = raw.get("staff_session_hours", 12)
        if not isinstance(hours, int) or hours <= 0:
            raise SettingsError(f"{cfg_path}: server.staff_session_hours must be a positive int")
        ints = {
            name: _whole(raw, name, getattr(cls, name), cfg_path, zero_ok=name in _ZERO_OK)
            for name in _INT_KEYS
        }
        return cls(
            data_dir=folder,
            db_url=str(url),
            closed_weekdays=frozenset(weekdays),
            offline_pin_hashes=bool(raw.get("offline_pin_hashes", False)),
            staff_session_hours=hours,
            api_docs=_flag(raw, "api_docs", True, cfg_path),
            **ints,
        )


_INT_KEYS = (
    "staff_idle_minutes",
    "login_failures_per_name",
    "login_failures_per_address",
    "login_window_minutes",
    "max_body_kb",
    "max_transactions_body_kb",
    "max_login_body_kb",
    "clock_skew_minutes",
    "due_grace_days",
    "keep_patron_history_days",
)
_ZERO_OK = {"clock_skew_minutes", "due_grace_days", "keep_patron_history_days"}


def _whole(raw: dict[str, object], name: str, default: int, cfg: object, *, zero_ok: bool) -> int:
    value = raw.get(name, default)
    low = 0 if zero_ok else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "a whole number of 0 or more" if zero_ok else "a positive whole number"
        raise SettingsError(f"{cfg}: server.{name} must be {what}")
    return value


def _flag(raw: dict[str, object], name: str, default: bool, cfg: object) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise SettingsError(f"{cfg}: server.{name} must be true or false")
    return value
