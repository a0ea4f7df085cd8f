"""``preview:`` (PNG files, for demos and tests) and ``none:`` (no printer configured)."""

from __future__ import annotations

import itertools
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import PrinterOffline
from devices.base import DeviceState
from devices.printer.base import Printer, PrintResult
from devices.printer.preview import render_png
from devices.receipt import Receipt
from devices.urls import DeviceURL

log = logging.getLogger(__name__)


class PreviewPrinter(Printer):
    """Writes each slip as a PNG in ``folder``; :attr:`last_path` lets the UI show it."""

    def __init__(
        self, name: str, url: str, folder: Path, *, paper_mm: int = 58, keep: int = 200
    ) -> None:
        super().__init__(name, url, paper_mm=paper_mm)
        self.folder = Path(folder)
        self.keep = keep
        self.last_path: Path | None = None
        self._counter = itertools.count(1)

    def _status(self) -> DeviceState:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("preview printer folder %s: %s", self.folder, exc)
            return DeviceState.OFFLINE
        return DeviceState.READY

    def _print(self, receipt: Receipt) -> PrintResult:
        image = render_png(receipt, paper_mm=self.paper_mm)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"slip-{stamp}-{next(self._counter):04d}.png"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # a slip names the patron and the titles: readable by the kiosk's user only
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                image.save(f, format="PNG")
        except OSError as exc:
            raise PrinterOffline(f"preview printer cannot write {path}: {exc}") from exc
        self.last_path = path
        self._prune()
        return PrintResult(True, DeviceState.READY, path.stat().st_size, preview_path=path)

    def _prune(self) -> None:
        """Keep the newest ``keep`` slips so a demo kiosk does not fill its disk."""
        if self.keep <= 0:
            return
        slips = sorted(self.folder.glob("slip-*.png"))
        for old in slips[: max(0, len(slips) - self.keep)]:
            old.unlink(missing_ok=True)


class NullPrinter(Printer):
    """``none:`` — the kiosk has no printer by choice; nothing is printed, nothing raised."""

    def _status(self) -> DeviceState:
        return DeviceState.OFFLINE

    def _print(self, receipt: Receipt) -> PrintResult:
        return PrintResult(False, DeviceState.OFFLINE, detail="no printer configured")


def open_preview_printer(u: DeviceURL, *, name: str, paper_mm: int, **_: Any) -> PreviewPrinter:
    """``preview:?dir=data/slips&keep=200``: each slip a PNG (demos, tests)."""
    folder = Path(u.options.get("dir") or u.target or "data/slips")
    return PreviewPrinter(name, u.raw, folder, paper_mm=paper_mm, keep=u.int("keep", 200))


def open_null_printer(u: DeviceURL, *, name: str, paper_mm: int, **_: Any) -> NullPrinter:
    """``none:``: the kiosk has no printer by choice."""
    return NullPrinter(name, u.raw, paper_mm=paper_mm)
