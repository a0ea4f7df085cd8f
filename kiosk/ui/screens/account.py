"""Placeholder, replaced by the full screen."""

from __future__ import annotations

from kiosk.ui.screens.base import KioskScreen


class AccountScreen(KioskScreen):
    """Not built yet."""

    def start_with_card(self, card: str) -> None:
        """Not built yet."""
