"""Shared plumbing for scanners that read on their own daemon thread."""

from __future__ import annotations

import logging
import threading

from devices.base import DeviceState, Scan, ScanCallback, StateCallback

log = logging.getLogger(__name__)


class ThreadedSource:
    """Base for sources with a reader thread, a stop event and a state.

    Subclasses implement :meth:`_run` (which must return soon after
    ``self._stop`` is set) and may override :meth:`_interrupt` to unblock a
    read. ``on_state(name, state)`` is called from the reader thread on each
    change, so the hub or staff mode can show it.
    """

    def __init__(self, name: str, *, on_state: StateCallback | None = None) -> None:
        self.name = name
        self.on_state = on_state
        self._state = DeviceState.UNKNOWN
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_scan: ScanCallback | None = None
        #: why the device cannot be used right now, in plain words for staff mode
        #: ("/dev/ttyACM0 does not exist"); None while it works
        self.problem: str | None = None

    @property
    def state(self) -> DeviceState:
        return self._state

    def _set_state(self, state: DeviceState) -> None:
        if state is self._state:
            return
        log.info("scanner %s: %s -> %s", self.name, self._state, state)
        self._state = state
        if self.on_state is not None:
            try:
                self.on_state(self.name, state)
            except Exception:  # a listener's bug must not kill the reader thread
                log.exception("scanner %s: state listener failed", self.name)

    def _emit(self, scan: Scan) -> None:
        if self._on_scan is None:
            return
        try:
            self._on_scan(scan)
        except Exception:  # same: the callback belongs to someone else
            log.exception("scanner %s: scan callback failed for %r", self.name, scan.text)

    def start(self, on_scan: ScanCallback) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError(f"scanner {self.name} already started")
        self._on_scan = on_scan
        self._stop.clear()
        self._thread = threading.Thread(target=self._guarded_run, name=f"scan-{self.name}")
        self._thread.daemon = True
        self._thread.start()

    def _guarded_run(self) -> None:
        try:
            self._run()
        except Exception:  # never let the thread die silently: show it as an error
            log.exception("scanner %s: reader thread failed", self.name)
            self._set_state(DeviceState.ERROR)

    def _run(self) -> None:
        raise NotImplementedError

    def _interrupt(self) -> None:
        """Unblock a pending read so the thread sees the stop event."""

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._interrupt()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("scanner %s: reader thread did not stop in %.1f s", self.name, timeout)
        self._thread = None
        self._set_state(DeviceState.OFFLINE)
