"""Engines, sessions and schema migration (always through Alembic)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from select import select as select_fds
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from server.models import ChangeCounter

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'server.db').resolve()}"


def make_engine(url: str) -> Engine:
    """An engine with the settings this server relies on for each backend."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    psycopg3 = parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg"
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        # psycopg connections get a check without a round trip instead (see below)
        kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=not psycopg3)
        if psycopg3:
            # psycopg prepares a statement after 5 runs and PostgreSQL then keeps a
            # generic plan made while tables were small (seq scans of the transaction
            # log); planning each time costs far less than that
            kwargs["connect_args"] = {"prepare_threshold": None}
    engine = create_engine(url, **kwargs)
    if psycopg3:
        event.listen(engine, "checkout", _check_alive)
    if engine.dialect.name == "postgresql":
        # a bulk INSERT without RETURNING (the transaction log) as one multi-row
        # INSERT ... VALUES statement instead of psycopg's executemany, which sends
        # and runs one statement per row (SQLAlchemy does the same for psycopg2)
        engine.dialect.use_insertmanyvalues_wo_returning = True
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets snapshot readers run beside the writer; NORMAL is durable in WAL
            # except for the last commits on power loss, which kiosks re-send anyway.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


def _check_alive(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: drop a psycopg connection the server has hung up on.

    pool_pre_ping costs a SELECT 1 and its transaction (three round trips) per
    checkout, on every request (``server.checkout_p99_ms`` of ``make bench`` shows
    it). An idle connection has nothing to read unless the server closed it
    (restart, admin shutdown, idle timeout), so looking at the socket finds those
    for free; the pool then opens a new one.
    """
    if dbapi_conn.closed or dbapi_conn.broken:
        raise exc.DisconnectionError("connection closed")
    try:
        readable, _, _ = select_fds([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError) as err:
        raise exc.DisconnectionError(str(err)) from err
    if readable:  # a hang-up or an error message: do not hand this connection out
        raise exc.DisconnectionError("server sent data to an idle connection")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (``alembic upgrade head``)."""
    command.upgrade(alembic_config(engine), "head")


class WriteGate:
    """Lets one writer of this process in at a time; urgent writers go first.

    Writes are serialised by the database anyway (see :meth:`Database.write`).
    Queueing them here instead keeps SQLite out of its busy handler (which
    sleeps in growing steps) and lets a patron's online checkout overtake the
    background queue uploads of other kiosks.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._urgent_waiting = 0

    @contextmanager
    def hold(self, urgent: bool = False, done: Callable[[], bool] | None = None) -> Iterator[bool]:
        """Wait for the gate; yields True while holding it.

        ``done`` lets a waiter whose work another holder took on (see
        ``GroupCommit.apply_batch``) stop waiting: it is asked under the gate's lock
        whenever a holder leaves, and when it answers true this yields False
        without taking the gate.
        """
        with self._cond:
            if urgent:
                self._urgent_waiting += 1
                try:
                    while self._busy and not (done and done()):
                        self._cond.wait()
                finally:
                    self._urgent_waiting -= 1
            else:
                while (self._busy or self._urgent_waiting) and not (done and done()):
                    self._cond.wait()
            held = not (done and done())
            if held:
                self._busy = True
            elif urgent:
                # writers that stood back for this urgent one must look again
                self._cond.notify_all()
        if not held:
            yield False
            return
        try:
            yield True
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


class Database:
    """An engine plus a session factory; one per server process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.gate = WriteGate()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        migrate(self.engine)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    @contextmanager
    def write(self, urgent: bool = False) -> Iterator[tuple[Session, int]]:
        """A write transaction and its change number.

        The counter bump is the first statement, so on PostgreSQL its row lock and on
        SQLite the database write lock are held from the start until commit: writers
        are serialised and change numbers appear in commit order, which the snapshot
        cursor depends on.
        """
        with self.gate.hold(urgent), self.write_held() as pair:
            yield pair

    @contextmanager
    def write_held(self) -> Iterator[tuple[Session, int]]:
        """:meth:`write` for a caller that holds ``self.gate`` already."""
        with self.sessions() as session, session.begin():
            version = bump_counter(session)
            yield session, version

    def dispose(self) -> None:
        self.engine.dispose()


_BUMP = (
    update(ChangeCounter.__table__)  # type: ignore[arg-type]
    .where(ChangeCounter.__table__.c.id == 1)
    .values(value=ChangeCounter.__table__.c.value + 1)
    .returning(ChangeCounter.__table__.c.value)
)


def bump_counter(session: Session) -> int:
    # plain Core on the session's connection: this runs once per write, keep it cheap
    row = session.connection().execute(_BUMP).scalar_one()
    return int(row)


def current_counter(session: Session) -> int:
    return int(
        session.execute(select(ChangeCounter.value).where(ChangeCounter.id == 1)).scalar_one()
    )
