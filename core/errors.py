"""One error hierarchy for the kiosk, its devices and its sync with the server.

Every error carries ``patron_message``: a short sentence safe to show on the
screen (a translation key in Bahasa Indonesia/English, see ``kiosk.i18n``);
the technical detail goes into ``str(error)`` and the log.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""

    patron_message = "Terjadi gangguan. Silakan hubungi petugas."

    def __init__(self, detail: str = "", *, patron_message: str | None = None) -> None:
        super().__init__(detail or self.patron_message)
        if patron_message is not None:
            self.patron_message = patron_message


class ConfigError(KioskError):
    """A config file is missing, unreadable, or has a wrong key or value.

    ``problems`` holds one line per problem (``FILE: [section] key: what is wrong;
    what is allowed``) so a command can print them all at once.
    """

    patron_message = "Kios belum disetel dengan benar. Silakan hubungi petugas."

    def __init__(
        self,
        detail: str = "",
        *,
        problems: list[str] | None = None,
        patron_message: str | None = None,
    ) -> None:
        self.problems: tuple[str, ...] = tuple(problems or ([detail] if detail else []))
        super().__init__(detail or "; ".join(self.problems), patron_message=patron_message)


class DeviceError(KioskError):
    """A scanner, printer or other device failed."""


class ScannerError(DeviceError):
    """A scanner could not be opened or stopped working."""

    patron_message = "Pemindai tidak dapat digunakan. Silakan hubungi petugas."


class DeviceUnavailable(DeviceError):
    """An optional backend (evdev, USB, camera) is not installed; the message names the fix."""


class PrinterError(DeviceError):
    """The slip could not be printed; the transaction still stands."""

    patron_message = "Struk tidak dapat dicetak, tetapi transaksi Anda sudah tercatat."


class PrinterOffline(PrinterError):
    """The printer does not answer."""


class PrinterOutOfPaper(PrinterError):
    """The printer reports that its paper has run out."""

    patron_message = "Kertas struk habis. Transaksi Anda sudah tercatat; silakan hubungi petugas."


class PrinterCoverOpen(PrinterError):
    """The printer reports that its cover is open."""


class SyncError(KioskError):
    """Talking to the central server failed (network, timeout, 5xx)."""


class SyncRejected(SyncError):
    """The server refused a request for a reason retrying will not fix (401, 403, 422)."""
