"""Several scanners at once, one stream of scans."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from devices.base import DeviceState, Scan, ScanCallback, ScanSource, StateCallback

log = logging.getLogger(__name__)


class ScannerHub:
    """Starts several :class:`ScanSource` objects and forwards every scan to one callback.

    Scans arrive on the sources' own threads; the callback must hop to the UI
    thread itself (the kiosk's one place that does so). :meth:`states` gives
    each source's :class:`DeviceState` for staff mode. A source that fails to
    start is logged and shown as ERROR; the others still run.
    """

    def __init__(
        self,
        sources: Iterable[ScanSource] = (),
        *,
        on_state: StateCallback | None = None,
    ) -> None:
        self.sources: list[ScanSource] = list(sources)
        self.on_state = on_state
        self._failed: dict[str, DeviceState] = {}
        self._lock = threading.Lock()
        self._on_scan: ScanCallback | None = None

    @classmethod
    def from_urls(
        cls,
        urls: Iterable[str],
        *,
        on_state: StateCallback | None = None,
        opener: Callable[..., ScanSource] | None = None,
    ) -> ScannerHub:
        """Open every URL (names are the URL's scheme plus an index when repeated)."""
        from devices.scanners import open_scanner

        opener = opener or open_scanner
        hub = cls(on_state=on_state)
        seen: dict[str, int] = {}
        for url in urls:
            scheme = url.split(":", 1)[0].lower()
            seen[scheme] = seen.get(scheme, 0) + 1
            name = scheme if seen[scheme] == 1 else f"{scheme}{seen[scheme]}"
            hub.add(opener(url, name=name, on_state=hub._state_changed))
        return hub

    def add(self, source: ScanSource) -> None:
        self.sources.append(source)
        if self._on_scan is not None:
            self._start_one(source)

    def source(self, name: str) -> ScanSource:
        """The source called ``name`` (``KeyError`` if none): the UI needs the wedge to feed it."""
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def _state_changed(self, name: str, state: DeviceState) -> None:
        if self.on_state is not None:
            self.on_state(name, state)

    def _forward(self, scan: Scan) -> None:
        # One lock so the callback never runs on two source threads at once.
        with self._lock:
            if self._on_scan is not None:
                self._on_scan(scan)

    def _start_one(self, source: ScanSource) -> None:
        try:
            source.start(self._forward)
            self._failed.pop(source.name, None)
        except Exception as exc:  # one broken scanner must not stop the others
            log.error("scanner %s failed to start: %s", source.name, exc)
            self._failed[source.name] = DeviceState.ERROR
            self._state_changed(source.name, DeviceState.ERROR)

    def start(self, on_scan: ScanCallback) -> None:
        self._on_scan = on_scan
        for s in self.sources:
            self._start_one(s)

    def stop(self, timeout: float = 2.0) -> None:
        self._on_scan = None
        for s in self.sources:
            try:
                s.stop(timeout)
            except Exception as exc:  # keep stopping the rest
                log.error("scanner %s failed to stop: %s", s.name, exc)

    def problems(self) -> dict[str, str]:
        """Plain-words problems of the sources that have one, by name."""
        out = {}
        for s in self.sources:
            problem = getattr(s, "problem", None)
            if problem:
                out[s.name] = str(problem)
        return out

    def states(self) -> dict[str, DeviceState]:
        """Each source's state, by name."""
        return {s.name: self._failed.get(s.name, s.state) for s in self.sources}
