"""Staff-started pulls and checks of the library's own system, off the request thread.

A pull of 20,000 members or a check of 20,000 loans must never hold a browser
request (or a worker thread of the server) for as long as it takes: each runs on a
daemon thread, the request waits for it at most :data:`WAIT_S` and then shows that
it is still running. One job of each kind runs at a time (a second press of the
button joins the running one), and the last of each is kept, in this process, to
show on the page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.timeutil import utcnow

log = logging.getLogger(__name__)

#: the longest a staff member's post waits for a pull or a check before the page
#: says it is still running
WAIT_S = 10.0
#: the longest the page waits for the ILS to say whether it answers
HEALTH_WAIT_S = 3.0


@dataclass
class Job:
    """One pull or check a staff member started, and how it ended."""

    what: str  # pull | check
    by: str
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    result: Any = None
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class IlsJobs:
    """The console's pulls and checks: one of each kind at a time, the last one kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def last(self, what: str) -> Job | None:
        with self._lock:
            return self._jobs.get(what)

    def run(self, what: str, by: str, work: Callable[[], Any], wait_s: float = WAIT_S) -> Job:
        """Start ``work`` unless a job of this kind is running (then join that one), and
        wait for it at most ``wait_s``; the job comes back finished or still running."""
        with self._lock:
            job = self._jobs.get(what)
            if job is None or not job.running:
                job = Job(what, by)
                self._jobs[what] = job
                thread = threading.Thread(
                    target=self._work, args=(job, work), name=f"console-ils-{what}", daemon=True
                )
                thread.start()
        job.done.wait(wait_s)
        return job

    @staticmethod
    def _work(job: Job, work: Callable[[], Any]) -> None:
        try:
            job.result = work()
        except Exception as exc:  # shown to staff on the page; the detail goes to the log
            log.exception("console ILS %s failed", job.what)
            job.error = f"{exc.__class__.__name__}: {exc}"[:2000]
        finally:
            job.finished_at = utcnow()
            job.done.set()


@dataclass
class Answer:
    """Whether the ILS answered the page's health probe in time."""

    answered: bool
    reachable: bool = False
    detail: str = ""
    version: str = ""
    """The ILS database server's version, when it answered."""
    error: str = ""
    """The kind of failure (a driver's exception name), when it did not."""


class HealthProbe:
    """The ILS's health, asked on a daemon thread with a bounded wait: a database host
    that drops packets would otherwise hold the page for the driver's whole connect
    timeout. A probe still hanging is reused, never stacked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: tuple[threading.Event, list[Any]] | None = None

    def ask(self, health: Callable[[], Any], wait_s: float = HEALTH_WAIT_S) -> Answer:
        with self._lock:
            if self._pending is None:
                box: list[Any] = []
                self._pending = (threading.Event(), box)
                threading.Thread(
                    target=self._probe, args=(health, *self._pending), name="console-ils-health",
                    daemon=True,
                ).start()  # fmt: skip
            done, found = self._pending
        if not done.wait(wait_s):
            return Answer(answered=False)
        with self._lock:
            if self._pending is not None and self._pending[0] is done:
                self._pending = None
        result = found[0] if found else None
        if result is None:
            return Answer(answered=True, reachable=False, detail="health check failed")
        extra = getattr(result, "extra", {}) or {}
        return Answer(
            answered=True,
            reachable=bool(result.reachable),
            detail=str(result.detail),
            version=str(extra.get("version", "")),
            error=str(extra.get("error", "")),
        )

    @staticmethod
    def _probe(health: Callable[[], Any], done: threading.Event, box: list[Any]) -> None:
        try:
            box.append(health())
        except Exception:  # a health check that raises means the ILS does not answer
            log.exception("ILS health check failed")
        finally:
            done.set()
