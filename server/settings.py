"""Server settings, resolved once at start-up from arguments, environment and TOML.

Every key of the ``[server]`` table is checked when the file loads: an unknown key, a
value of the wrong type or out of range is one line ``FILE: [server] key: what is
wrong; what is allowed``, and all of a file's problems come at once.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass

from server.db import default_db_url


class SettingsError(ValueError):
    """A setting is missing or malformed; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


Weekday = Annotated[int, Field(ge=0, le=6)]
Positive = Annotated[int, Field(strict=True, gt=0)]
NonNegative = Annotated[int, Field(strict=True, ge=0)]


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class PatronAccessSettings:
    """How patrons' PINs and sessions are guarded (``[server.patrons]``)."""

    pin_max_failures: Positive = 5
    """Wrong PINs for one card before its PIN checks are locked."""
    pin_lock_minutes: Positive = 15
    """How long such a lock lasts (staff end it early: ``kiosk-server clear-pin-lock CARD``)."""
    session_minutes: Positive = 5
    """How long a patron session (after a PIN, or a card without one) lets a kiosk read
    the account and renew; a kiosk's next patron ends it sooner."""
    pin_checks_per_minute: Positive = 20
    """PIN checks one kiosk token may make per minute (a burst of as many); more get 429."""


IlsKind = Literal["own", "slims", "inlislite"]


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class IlsSettings:
    """Which system is the authority for patrons, items and loans (``[server.ils]``)."""

    kind: IlsKind = "own"
    """``own``: this server is the authority (patrons and items come by CSV).
    ``slims`` or ``inlislite``: the library's own system is; the server mirrors it and
    writes every applied checkout, return and renewal back into its database."""
    url: str = ""
    """SQLAlchemy URL of the ILS database, e.g. ``mysql+pymysql://user:pw@host/slims``;
    required unless ``kind = "own"``. Keep the password out of the repository
    (the environment variable ``KIOSK_ILS_URL`` overrides this)."""
    pull_interval_s: Annotated[float, Field(gt=0, le=86400)] = 60.0
    """Seconds between pulls of what changed in the ILS."""
    writeback_interval_s: Annotated[float, Field(gt=0, le=3600)] = 1.0
    """Seconds the write-back worker waits when its queue is empty or the ILS is away."""
    sweep_interval_s: Annotated[float, Field(ge=60, le=7 * 86400)] = 3600.0
    """Seconds between deletion sweeps on delta pulls (every full pull sweeps too): a
    member or item deleted in the ILS never shows in a pull by update time, so the
    sweep compares every key the ILS has with the mirror's and refuses the missing."""
    background: bool = True
    """Run the pull loop and the write-back worker inside ``serve``; false leaves both
    to ``kiosk-server ils pull|drain`` (from cron or a systemd timer)."""
    staff_uid: NonNegative = 1
    """The ILS user id (SLiMS ``uid``, INLISLite ``CreateBy``) kiosk writes are made as."""

    def __post_init__(self) -> None:
        if self.kind != "own" and not self.url:
            raise ValueError(f'url is required when kind = "{self.kind}"')


@dataclass(frozen=True, config=ConfigDict(extra="forbid", arbitrary_types_allowed=True))
class Settings:
    """Everything the server process needs to know at start-up."""

    data_dir: Path
    """Folder for the SQLite file and the ticket signing key (never committed)."""
    db_url: str
    """SQLAlchemy URL; SQLite in ``data_dir`` unless given."""
    closed_weekdays: frozenset[Weekday] = frozenset({6})
    """Weekdays the library is closed (Monday=0 ... Sunday=6); due dates skip them."""
    offline_pin_hashes: bool = False
    """Whether snapshots carry PIN hashes so kiosks can check PINs offline."""
    staff_session_hours: Annotated[int, Field(gt=0, le=24 * 30)] = 12
    """How long a staff login token stays valid."""
    staff_idle_minutes: Positive = 30
    """A staff session unused this long ends (the librarian walked away)."""
    login_failures_per_name: Positive = 5
    """Failed staff logins for one user name within ``login_window_minutes`` before
    that name is refused with 429 until the oldest failure leaves the window."""
    login_failures_per_address: Positive = 20
    """The same for one client address (many names guessed from one machine)."""
    login_window_minutes: Positive = 15
    """The window failed staff logins are counted in."""
    max_body_kb: Positive = 64
    """Largest request body for routes not named below (staff changes, PIN checks)."""
    max_transactions_body_kb: Positive = 4096
    """Largest ``POST /transactions`` body (5,000 transactions of about 600 bytes)."""
    max_login_body_kb: Positive = 4
    """Largest staff login body; logins are answered before any token exists."""
    clock_skew_minutes: NonNegative = 10
    """How far ahead of the server's clock a kiosk's event time may be before it is
    clamped to the receive time and flagged for staff."""
    due_grace_days: NonNegative = 7
    """Slack over the longest loan period for a due date a kiosk printed offline;
    a later one is clamped and flagged for staff."""
    keep_patron_history_days: NonNegative = 0
    """After this many days transactions, returned loans and registrations lose the
    link to their patron (``kiosk-server purge-history``); 0 keeps them for ever."""
    api_docs: bool = True
    """Serve ``/docs`` and ``/openapi.json``; switch off in production."""
    patron_access: PatronAccessSettings = PatronAccessSettings()
    """Wrong-PIN lock, patron sessions and the kiosk PIN-check rate (``[server.patrons]``)."""
    ils: IlsSettings = IlsSettings()
    """The library's own system, if it is the authority (``[server.ils]``)."""

    @classmethod
    def resolve(
        cls,
        db: str | None = None,
        data_dir: str | Path | None = None,
        config: str | Path | None = None,
    ) -> Settings:
        """Settings from the command line, then the environment, then the TOML file."""
        raw: dict[str, Any] = {}
        cfg_path = config or os.environ.get("KIOSK_SERVER_CONFIG")
        source = str(cfg_path or "settings")
        if cfg_path:
            raw = _read_table(Path(cfg_path))
        folder = data_dir or os.environ.get("KIOSK_SERVER_DATA") or raw.get("data_dir")
        raw = dict(raw)
        if "patrons" in raw:  # the TOML table [server.patrons]
            raw["patron_access"] = raw.pop("patrons")
        if os.environ.get("KIOSK_ILS_URL"):
            table = raw.get("ils")
            raw["ils"] = {**(table if isinstance(table, dict) else {}),
                          "url": os.environ["KIOSK_ILS_URL"]}  # fmt: skip
        values = {
            **raw,
            "data_dir": Path(str(folder or "./data/server")),
            "db_url": db or os.environ.get("KIOSK_SERVER_DB") or raw.get("db_url"),
        }
        if not values["db_url"]:
            values["db_url"] = default_db_url(values["data_dir"])
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or "?"
                key = key.replace("patron_access", "patrons", 1)
                msg = err["msg"]
                if err["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
                    fields: Any = cls
                    if key.startswith("patrons."):
                        fields = PatronAccessSettings
                    elif key.startswith("ils."):
                        fields = IlsSettings
                    known = ", ".join(
                        sorted(
                            f.replace("patron_access", "patrons")
                            for f in fields.__dataclass_fields__
                        )
                    )
                    msg = f"unknown key; allowed {known}"
                problems.append(f"{source}: [server] {key}: {msg}")
            raise SettingsError(problems) from None


def _read_table(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError([f"{path}: cannot read config ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise SettingsError([f"{path}: not UTF-8 text"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError([f"{path}: not valid TOML ({exc})"]) from None
    others = sorted(k for k in data if k != "server")
    if others:
        raise SettingsError([f"{path}: [{k}]: unknown section; allowed [server]" for k in others])
    table = data.get("server", {})
    if not isinstance(table, dict):
        raise SettingsError([f"{path}: server: must be a table [server]"])
    return table
