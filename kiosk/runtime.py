"""Builds the kiosk's parts from its settings, and starts and stops them.

This is the one place that turns config into objects (store, server client,
connectivity probe, decider, sync worker, devices); everything below it gets
its dependencies through constructors.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devices.printer import open_printer
from kiosk import __version__
from kiosk.config import KioskSettings
from kiosk.filemodes import warn_exposed
from kiosk.flows.base import ScanClassifier, Services
from kiosk.slip_service import SlipPrinter
from sync.client import ServerClient
from sync.connectivity import Connectivity
from sync.decider import Decider
from sync.secrets import SECRETS_FILE, KioskKeys
from sync.store import LocalStore
from sync.worker import SyncWorker

log = logging.getLogger(__name__)


class Listeners:
    """Callbacks for a part made before whoever listens to it (the sync worker, the app).

    The part gets this object as its callback in its constructor; a listener made
    later (the app, once it starts) :meth:`add`s itself. Listeners are called on the
    part's thread: a UI listener posts to its own.
    """

    def __init__(self) -> None:
        self._fns: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def add(self, fn: Callable[[], None]) -> None:
        with self._lock:
            self._fns.append(fn)

    def __call__(self) -> None:
        with self._lock:
            fns = list(self._fns)
        for fn in fns:
            fn()


@dataclass
class KioskRuntime:
    """Everything a running kiosk holds (UI or screenless station)."""

    settings: KioskSettings
    store: LocalStore
    client: ServerClient | None
    link: Connectivity | None
    decider: Decider
    worker: SyncWorker | None
    services: Services
    sync_changed: Listeners = field(default_factory=Listeners)
    """Called on the sync worker's thread when the queue or the link changes."""
    extras: dict[str, object] = field(default_factory=dict)
    #: Private files (token, patron data) others could read at start; warned about once.
    exposed_files: list[Path] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.settings.kiosk.data_dir

    def start(self) -> None:
        if self.link is not None:
            self.link.start()
        if self.worker is not None:
            self.worker.start()

    def stop(self) -> None:
        printer = self.extras.get("printer")
        if printer is not None and hasattr(printer, "close"):
            printer.close()
        if self.worker is not None:
            self.worker.stop()
        if self.link is not None:
            self.link.stop()
        if self.client is not None:
            self.client.close()
        self.store.close()


def build_runtime(
    settings: KioskSettings, *, sync: bool = True, decides: bool = False
) -> KioskRuntime:
    """Open the local store and wire the parts; nothing is started yet.

    ``decides`` is for the process that serves patrons (the app, the screenless
    station): any note of an online decision still undecided when it starts is from
    before a crash or power cut and goes out with the queue at once. A staff CLI
    beside a running app must not take those, so it leaves them to the worker's age
    rule.
    """
    data = settings.kiosk.data_dir
    data.mkdir(parents=True, exist_ok=True)
    # The server's card and PIN keys live in a file of their own (0600), never in the store.
    keys = KioskKeys(data / SECRETS_FILE)
    store = LocalStore(data / "kiosk.sqlite3", kiosk=settings.kiosk.name, keys=keys)
    if decides:
        store.recover_interrupted(0)
    client: ServerClient | None = None
    link: Connectivity | None = None
    worker: SyncWorker | None = None
    srv = settings.server
    sync_changed = Listeners()
    if sync and srv.token:
        client = ServerClient(
            srv.url, srv.token, timeout=srv.decision_timeout_s, ca_file=srv.ca_file
        )
        probe_client = ServerClient(
            srv.url, srv.token, timeout=srv.decision_timeout_s, ca_file=srv.ca_file
        )
        link = Connectivity(lambda: probe_client.health(timeout=srv.decision_timeout_s))
        # The worker gets its own session: requests.Session is not meant to be
        # shared between the UI's decisions and a background drain.
        worker = SyncWorker(
            store,
            ServerClient(srv.url, srv.token, ca_file=srv.ca_file),
            link=link,
            batch_size=srv.batch_size,
            interval_s=srv.sync_interval_s,
            snapshot_interval_s=srv.snapshot_interval_s,
            version=__version__,
            keep_sent_s=srv.keep_sent_days * 86400.0 if srv.keep_sent_days else None,
            on_change=sync_changed,
        )
    elif sync:
        log.warning("no server token configured: the kiosk runs offline only")
    decider = Decider(
        store,
        client,
        link,
        settings.offline,
        deadline_s=srv.decision_timeout_s,
        # An offline transaction is sent as soon as the link allows, not at the next tick.
        on_queued=worker.nudge if worker is not None else None,
    )
    printer = open_printer(_printer_url(settings), paper_mm=settings.devices.paper_mm)
    slip_printer = SlipPrinter(
        printer, library_name=settings.kiosk.library_name, kiosk_name=settings.kiosk.name
    )
    slip_printer.lang = settings.kiosk.language
    services = Services(
        decider=decider,
        store=store,
        slips=slip_printer,
        classifier=ScanClassifier(settings.codes.rules()),
    )
    runtime = KioskRuntime(
        settings, store, client, link, decider, worker, services, sync_changed=sync_changed
    )
    runtime.extras["printer"] = printer
    runtime.exposed_files = warn_exposed(settings)
    return runtime


def _printer_url(settings: KioskSettings) -> str:
    """A bare ``preview:`` writes its PNGs into the kiosk's own data folder."""
    url = settings.devices.printer
    if url in ("preview:", "preview://"):
        return f"preview:?dir={(settings.kiosk.data_dir / 'slips').as_posix()}"
    return url
