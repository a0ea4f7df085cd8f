"""Slips for the flows: a layout from ``kiosk.slips`` sent to the configured printer.

The flows call this after the transaction is committed; a printer failure
raises ``PrinterError`` to the flow, which tells the patron plainly while the
loans stand. ``lang`` and ``tr`` follow the screen language (the UI sets them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.wire import PatronInfo
from devices.base import DeviceState
from devices.printer import Printer
from kiosk import slips

log = logging.getLogger(__name__)


class SlipPrinter:
    """Implements ``kiosk.flows.base.SlipService`` on a ``devices`` printer."""

    def __init__(
        self,
        printer: Printer,
        *,
        library_name: str,
        kiosk_name: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.printer = printer
        self.library_name = library_name
        self.kiosk_name = kiosk_name
        self.clock = clock
        self.lang = "id"
        self.tr: Callable[[str], str] = lambda s: s
        self.last_preview: Path | None = None

    def _send(self, receipt: Any) -> None:
        result = self.printer.print_receipt(receipt)
        self.last_preview = result.preview_path or self.last_preview

    def _common(self) -> dict[str, Any]:
        return {
            "library_name": self.library_name,
            "at": self.clock(),
            "tr": self.tr,
            "lang": self.lang,
        }

    def print_checkout(self, patron: PatronInfo, lines: Sequence[Any], offline: bool) -> None:
        items = [slips.SlipItem(ln.item, ln.title or "", ln.due_at) for ln in lines]
        self._send(
            slips.checkout_slip(
                card_number=patron.card,
                items=items,
                txn_id=lines[-1].tx_id,
                offline=offline,
                patron_name=patron.first_name,
                **self._common(),
            )
        )

    def print_return(self, lines: Sequence[Any], offline: bool) -> None:
        items = [slips.SlipItem(ln.item, ln.title or "") for ln in lines]
        self._send(
            slips.return_slip(
                items=items, txn_id=lines[-1].tx_id, offline=offline, **self._common()
            )
        )

    def print_event(
        self,
        *,
        event_title: str,
        starts_at: datetime,
        ticket: str,
        txn_id: str,
        location: str = "",
        attendee: str = "",
        card_number: str = "",
        offline: bool = False,
    ) -> None:
        self._send(
            slips.event_registration_slip(
                event_title=event_title,
                starts_at=starts_at,
                ticket=ticket,
                txn_id=txn_id,
                location=location,
                attendee=attendee,
                card_number=card_number,
                offline=offline,
                **self._common(),
            )
        )

    def print_door(
        self,
        *,
        event_title: str,
        txn_id: str = "",
        attendee: str = "",
        card_number: str = "",
        first_signin_at: datetime | None = None,
        offline: bool = False,
    ) -> None:
        self._send(
            slips.door_signin_slip(
                event_title=event_title,
                txn_id=txn_id,
                attendee=attendee,
                card_number=card_number,
                first_signin_at=first_signin_at,
                offline=offline,
                **self._common(),
            )
        )

    def print_test(self) -> None:
        self._send(
            slips.test_slip(
                kiosk_name=self.kiosk_name,
                printer_url=self.printer.url,
                paper_mm=self.printer.paper_mm,
                **self._common(),
            )
        )

    def state(self) -> DeviceState:
        return self.printer.status()
