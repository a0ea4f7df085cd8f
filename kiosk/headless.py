"""The screenless station (``kiosk --headless``): a scanner, a printer and a beeper.

For a door desk, a returns chute or a guest-book scanner at the entrance. It
runs the same flows as the touchscreen (checkout, return, door sign-in, guest
book) fed by the configured scanners, with no window.

A checkout session is a card followed by items; it ends at the next card, after
an idle timeout, or when the end code is scanned. Every outcome is written to
standard output as one JSON line, only after the transaction is committed to
the local store, and stdout is flushed after each line: whatever reads it (a
log, a door display, a test) never sees a confirmation that a crash could undo.

Transaction line: ``{"type": "transaction", "id", "seq", "kind", "card", "item",
"ticket", "event_id", "result", "reason", "offline", "at"}``; a guest-book
visit adds ``"counted"`` (false: the card was already counted in its window). Scans that make no
transaction (an unknown code, a refused card, the end code) give
``{"type": "notice", ...}`` lines.
"""

from __future__ import annotations

import io
import json
import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from core.errors import ConfigError
from core.tickets import TicketError, read_ticket
from core.wire import Reason, Status
from kiosk.config import KioskSettings
from kiosk.flows.base import CodeKind, Message, Services, Severity, reason_message
from kiosk.flows.checkin import ReturnFlow
from kiosk.flows.checkout import CheckoutFlow, CheckoutStep
from kiosk.flows.door import DoorFlow
from kiosk.flows.guestbook import GuestBookFlow, GuestBookOptions
from kiosk.runtime import build_runtime

log = logging.getLogger(__name__)

MODES = ("checkout", "return", "door", "guestbook")
Emit = Callable[[dict[str, Any]], None]


class JsonLines:
    """Writes one JSON object per line and flushes, so each line is out before the next scan."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()

    def __call__(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()


class Station:
    """Turns scans into flow calls and flow outcomes into JSON lines.

    Single-threaded: the caller feeds :meth:`scan` and :meth:`idle` from one thread.
    """

    def __init__(
        self,
        services: Services,
        *,
        mode: str,
        emit: Emit,
        event_id: int | None = None,
        end_code: str = "SELESAI",
        print_slips: bool = False,
        beep: Callable[[bool], None] | None = None,
        guestbook: GuestBookOptions | None = None,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.s = services
        self.mode = mode
        self.emit = emit
        self.event_id = event_id
        self.end_code = end_code
        self.print_slips = print_slips
        self.beep = beep or (lambda ok: None)
        self.checkout: CheckoutFlow | None = None
        self.returns: ReturnFlow | None = None
        self.doors: dict[int, DoorFlow] = {}  # one door flow per event, made at its first scan
        self.guestbook = GuestBookFlow(services, guestbook) if mode == "guestbook" else None

    # -- output ---------------------------------------------------------------
    def _emit_tx(self, tx_id: str) -> bool:
        """The committed row, read back from the store: the line states what is on disk."""
        row = self.s.store.row(tx_id)
        if row is None:  # cannot happen: the flows commit before they return
            log.error("transaction %s is not in the store", tx_id)
            return False
        res = row.local_result
        t = row.tx
        extra: dict[str, Any] = {}
        if res is not None and res.counted is not None:
            extra["counted"] = res.counted
        self.emit(
            {
                "type": "transaction",
                "id": t.id,
                "seq": t.seq,
                "kind": t.kind.value,
                "card": t.card,
                "item": t.item,
                "ticket": t.ticket,
                "event_id": t.event_id,
                "result": res.status.value if res else None,
                "reason": res.reason.value if res and res.reason else None,
                "offline": t.offline,
                "at": t.at.isoformat(),
                **extra,
            }
        )
        ok = res is not None and res.status != Status.REFUSED
        self.beep(ok)
        return ok

    def _notice(self, code: str, msg: Message, **extra: Any) -> None:
        self.emit(
            {
                "type": "notice",
                "code": code,
                "severity": msg.severity.value,
                "message": msg.render(),
                **extra,
            }
        )
        self.beep(msg.severity in (Severity.SUCCESS, Severity.INFO))

    # -- input ----------------------------------------------------------------
    def scan(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if text == self.end_code:
            self.end_session("end_code")
            return
        if self.mode == "checkout":
            self._checkout(text)
        elif self.mode == "return":
            self._return(text)
        elif self.mode == "guestbook":
            self._guestbook(text)
        else:
            self._door(text)

    def idle(self) -> None:
        """Nothing was scanned for the idle timeout: end the session."""
        if (self.checkout is not None and self.checkout.active) or (
            self.returns is not None and self.returns.lines
        ):
            self.end_session("idle")

    def end_session(self, why: str) -> None:
        flow = self.checkout
        if flow is not None and flow.active:
            flow.finish()
            if flow.step == CheckoutStep.SLIP:
                flow.choose_slip(self.print_slips)
            n = len(flow.borrowed)
            self._notice(why, flow.message, event="session_end", borrowed=n)
        self.checkout = None
        if self.returns is not None:
            if self.returns.returned:
                msg = self.returns.finish(self.print_slips)
                self._notice(why, msg, event="session_end", returned=len(self.returns.returned))
            self.returns = None

    # -- modes ------------------------------------------------------------------
    def _checkout(self, text: str) -> None:
        flow = self.checkout
        kind = self.s.classifier.kind_of(text)
        if (
            flow is not None
            and flow.step == CheckoutStep.ITEMS
            and kind == CodeKind.PATRON
            and flow.patron is not None
            and text != flow.patron.card
        ):
            self.end_session("next_card")  # the next patron's card ends this session
            flow = None
        if flow is None or not flow.active:
            flow = self.checkout = CheckoutFlow(self.s)
        if flow.step == CheckoutStep.PIN:
            msg = flow.enter_pin(text)
            self._notice("pin", msg)  # never echo the PIN itself
            return
        before = len(flow.lines)
        msg = flow.scan(text)
        if len(flow.lines) > before:
            for line in flow.lines[before:]:
                self._emit_tx(line.tx_id)
        else:
            extra: dict[str, Any] = {}
            if flow.patron is not None and flow.step in (CheckoutStep.ITEMS, CheckoutStep.PIN):
                extra = {"event": "session_start", "card": flow.patron.card}
            self._notice(text, msg, **extra)
            if not flow.active or flow.step == CheckoutStep.CARD:
                self.checkout = None

    def _return(self, text: str) -> None:
        if self.returns is None:
            self.returns = ReturnFlow(self.s)
        flow = self.returns
        before = len(flow.lines)
        msg = flow.scan(text)
        if len(flow.lines) > before:
            for line in flow.lines[before:]:
                self._emit_tx(line.tx_id)
        else:
            self._notice(text, msg)

    def _guestbook(self, text: str) -> None:
        flow = self.guestbook
        assert flow is not None
        flow.reset()  # no purpose is asked without a screen
        msg = flow.scan(text)
        if flow.tx_id is None:
            self._notice(text, msg)
            return
        self._emit_tx(flow.tx_id)

    def _door(self, text: str) -> None:
        kind = self.s.classifier.kind_of(text)
        event_id = self.event_id
        if kind == CodeKind.TICKET:
            event_id = self._ticket_event(text)
            if event_id is None:
                return
        elif kind != CodeKind.PATRON:
            self._notice(text, Message("Kode tidak dikenali sebagai tiket.", Severity.ERROR))
            return
        if event_id is None:
            self._notice(text, Message("Acara belum dipilih (--event).", Severity.ERROR))
            return
        door = self.doors.get(event_id)
        if door is None:
            door = self.doors[event_id] = DoorFlow.for_event_id(self.s, event_id)
        msg = door.scan(text)
        if door.tx_id is None:  # cannot happen: a card or ticket always makes one
            self._notice(text, msg)
            return
        self._emit_tx(door.tx_id)

    def _ticket_event(self, text: str) -> int | None:
        """The event a ticket is for, or None (after a notice) when it is not honoured.

        Read (and, when signed, verified) before the door flow sees it, so a forged
        ticket never becomes a transaction and a door with no --event learns the
        event from the ticket.
        """
        try:
            ticket = read_ticket(self.s.store.ticket_public_key(), text)
        except TicketError as exc:
            log.warning("door: bad ticket: %s", exc)
            self._notice("ticket", reason_message(Reason.UNKNOWN_TICKET))
            return None
        if self.event_id is not None and ticket.event_id != self.event_id:
            self._notice("ticket", reason_message(Reason.UNKNOWN_TICKET))
            return None
        return ticket.event_id


def _terminal_beep(out: TextIO) -> Callable[[bool], None]:
    def beep(ok: bool) -> None:
        # One bell for done, two for "look at this"; a USB buzzer listens to the same.
        out.write("\a" if ok else "\a\a")
        out.flush()

    return beep


class _UnbufferedLines:
    """stdin read without a hidden buffer.

    A buffered ``sys.stdin`` may pull several lines from the pipe at once; the
    stdin scanner then waits in ``select`` for more data while the next scan
    already sits in Python's buffer. Reading the raw descriptor a byte at a
    time (scans are a few bytes) keeps ``select`` and ``readline`` in step.
    """

    def __init__(self, fd: int = 0) -> None:
        self.raw = io.FileIO(fd, closefd=False)

    def fileno(self) -> int:
        return self.raw.fileno()

    def readline(self) -> str:
        return self.raw.readline().decode("utf-8", errors="replace")


def _open_scanners(settings: KioskSettings, scans: queue.Queue[str | None]) -> list[Any]:
    from devices.base import DeviceState, Scan, Symbology
    from devices.scanners import open_scanner

    urls = settings.headless.scanners or settings.devices.scanners
    sources = []
    live: set[str] = set()
    lock = threading.Lock()

    def on_scan(scan: Scan) -> None:
        if scan.symbology == Symbology.UNREADABLE:
            log.warning("unreadable scan from %s: %r", scan.source, scan.text)
            return
        scans.put(scan.text)

    def on_state(name: str, state: DeviceState) -> None:
        # When every source has ended (stdin closed), the station stops.
        if state in (DeviceState.OFFLINE, DeviceState.ERROR) and name.startswith("stdin"):
            with lock:
                live.discard(name)
                if not live:
                    scans.put(None)

    for i, url in enumerate(urls):
        if url.startswith("wedge:"):
            log.warning("scanner %s needs a window; the headless station skips it", url)
            continue
        name = f"{url.split(':', 1)[0]}-{i}"
        kw: dict[str, Any] = {"name": name, "on_state": on_state}
        if url.split(":", 1)[0] == "stdin":
            kw["stream"] = _UnbufferedLines(sys.stdin.fileno())
        src = open_scanner(url, **kw)
        if name.startswith("stdin"):
            live.add(name)
        sources.append(src)
    if not sources:
        raise ConfigError(
            "no scanner usable without a window: set [headless] scanners, e.g. ['stdin:']"
        )
    for src in sources:
        src.start(on_scan)
    return sources


def run_station(
    settings: KioskSettings,
    *,
    mode: str = "checkout",
    event_id: int | None = None,
    out: TextIO | None = None,
) -> int:
    """Run until the scanners end (stdin closed) or SIGTERM/SIGINT; 0 on a clean stop."""
    out = out or sys.stdout
    hs = settings.headless
    rt = build_runtime(settings, decides=True)
    scans: queue.Queue[str | None] = queue.Queue()
    sources: list[Any] = []
    try:
        # The runtime's services: the configured code rules and slip printer.
        services = rt.services if hs.print_slips else replace(rt.services, slips=None)
        station = Station(
            services,
            mode=mode,
            emit=JsonLines(out),
            event_id=event_id,
            end_code=hs.end_code,
            print_slips=services.slips is not None,
            beep=_terminal_beep(sys.stderr) if hs.beep and sys.stderr.isatty() else None,
            guestbook=GuestBookOptions.from_settings(settings.guestbook),
        )
        rt.start()
        sources = _open_scanners(settings, scans)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: scans.put(None))
        last = time.monotonic()
        while True:
            wait = max(0.05, hs.idle_timeout_s - (time.monotonic() - last))
            try:
                text = scans.get(timeout=wait)
            except queue.Empty:
                station.idle()
                last = time.monotonic()
                continue
            if text is None:
                break
            station.scan(text)
            last = time.monotonic()
        station.end_session("stop")
    except ConfigError as exc:
        print(f"kiosk --headless: {exc}", file=sys.stderr)
        return 2
    finally:
        for src in sources:
            src.stop()
        rt.stop()
    return 0
