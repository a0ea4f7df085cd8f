"""Out of service: nothing a patron can do; a staff card brings staff mode back."""

from __future__ import annotations

from kiosk.flows.base import CodeKind
from kiosk.ui.screens.base import KioskScreen


class OutOfServiceScreen(KioskScreen):
    """Shown when staff take the kiosk out of service; survives session ends."""

    session = False

    def on_scan(self, text: str) -> None:
        if self.kapp.runtime.services.classifier.kind_of(text) == CodeKind.STAFF:
            self.kapp.go("staff")
            self.kapp.screen("staff").start_with_card(text)
