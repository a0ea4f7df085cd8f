"""The write-back's ILS work in a process of its own.

A write-back is mostly database-driver work (pymysql parsing packets, SQLAlchemy
building statements): in the server's process it competes with patrons' requests
for the interpreter lock, and every round trip to the ILS hands the lock back and
forth while a patron waits. :class:`WriterProcess` runs ``write_back_many`` in a
child process instead; the server's worker thread keeps the queue (reading it,
recording what was settled) and waits on a pipe meanwhile, holding nothing.

The child only reads the server's database (the loans to write back), so it never
takes the database's write lock from under a patron's request.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess

from sqlalchemy.exc import SQLAlchemyError

from server.db import Database
from server.ils import Connector, WriteResult

log = logging.getLogger(__name__)

#: how long the server waits for an ended child to go
_STOP_S = 5.0
#: the child's niceness, added to the server's
_NICE = 10


class WriterGone(Exception):
    """The write-back process failed a chunk or died; the chunk stays queued."""


class WriterProcess:
    """``write_back_many`` of the connector ``make`` builds, run in a child process
    (started on first use, started again after it died)."""

    def __init__(self, db_url: str, make: Callable[[], Connector | None]) -> None:
        self.db_url = db_url
        self.make = make
        self._lock = threading.Lock()
        self._pipe: Pipe | None = None
        self._proc: BaseProcess | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    def start(self) -> None:
        """Start the child now (its imports take a moment), unless it runs already."""
        with self._lock:
            self._ensure()

    def write_back_many(self, items: Sequence[str]) -> dict[str, WriteResult]:
        with self._lock:
            self._ensure()
            assert self._pipe is not None
            try:
                self._pipe.send(list(items))
                ok, payload = self._pipe.recv()
            except (EOFError, OSError) as exc:
                self._end()
                raise WriterGone(f"the ILS write-back process stopped ({exc!r})") from exc
            if not ok:
                raise WriterGone(str(payload))
            return dict(payload)

    def stop(self) -> None:
        """End the child. No chunk is under way while the lock is held, so it can be
        ended at once (it may still be importing, which takes a moment)."""
        with self._lock:
            if self._proc is not None and self._proc.is_alive():
                self._proc.terminate()
            self._end()

    def _ensure(self) -> None:
        if self._pipe is None or self._proc is None or not self._proc.is_alive():
            self._start()

    def _start(self) -> None:
        self._end()
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded server
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(
            target=_serve, args=(theirs, self.db_url, self.make), name="ils-writer", daemon=True
        )
        proc.start()
        theirs.close()
        self._pipe, self._proc = ours, proc

    def _end(self) -> None:
        pipe, proc = self._pipe, self._proc
        self._pipe = self._proc = None
        if pipe is not None:
            pipe.close()  # a child waiting for work sees the end of it and leaves
        if proc is not None:
            proc.join(_STOP_S)
            if proc.is_alive():
                proc.terminate()
                proc.join(_STOP_S)


def _serve(pipe: Pipe, db_url: str, make: Callable[[], Connector | None]) -> None:
    """The child: write back each chunk the server sends, until the server goes."""
    # background work: the scheduler gives a core to patrons' requests first
    os.nice(_NICE)
    db = Database(db_url)
    connector = make()
    assert connector is not None, "the ILS settings name no connector"
    try:
        while True:
            try:
                items = pipe.recv()
            except (EOFError, OSError):
                return  # the server is gone
            try:
                reply: tuple[bool, object] = (True, connector.write_back_many(db, items))
            except SQLAlchemyError as exc:
                reply = (False, f"{exc.__class__.__name__}: {exc}"[:2000])
            pipe.send(reply)
    finally:
        db.dispose()
