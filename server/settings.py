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
class PatronAccessSettings:
    """How patrons' PINs and sessions are guarded (``[server.patrons]``)."""

    pin_max_failures: int = 5
    """Wrong PINs for one card before its PIN checks are locked."""
    pin_lock_minutes: int = 15
    """How long such a lock lasts (staff end it early: ``kiosk-server clear-pin-lock CARD``)."""
    session_minutes: int = 5
    """How long a patron session (after a PIN, or a card without one) lets a kiosk read
    the account and renew; a kiosk's next patron ends it sooner."""
    pin_checks_per_minute: int = 20
    """PIN checks one kiosk token may make per minute (a burst of as many); more get 429."""

    @classmethod
    def from_toml(cls, raw: object, cfg_path: object) -> PatronAccessSettings:
        if not isinstance(raw, dict):
            raise SettingsError(f"{cfg_path}: [server.patrons] must be a table")
        values: dict[str, int] = {}
        for key, default in (
            ("pin_max_failures", 5),
            ("pin_lock_minutes", 15),
            ("session_minutes", 5),
            ("pin_checks_per_minute", 20),
        ):
            value = raw.get(key, default)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise SettingsError(f"{cfg_path}: server.patrons.{key} must be a positive int")
            values[key] = value
        unknown = set(raw) - set(values)
        if unknown:
            raise SettingsError(f"{cfg_path}: unknown key server.patrons.{sorted(unknown)[0]}")
        return cls(**values)


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
    patron_access: PatronAccessSettings = field(default_factory=lambda: PatronAccessSettings())
    """Wrong-PIN lock, patron sessions and the kiosk PIN-check rate (``[server.patrons]``)."""

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
        return cls(
            patron_access=PatronAccessSettings.from_toml(raw.get("patrons", {}), cfg_path),
            data_dir=folder,
            db_url=str(url),
            closed_weekdays=frozenset(weekdays),
            offline_pin_hashes=bool(raw.get("offline_pin_hashes", False)),
            staff_session_hours=hours,
        )
