"""Text checks shared by the kiosk, sync and the server."""

from __future__ import annotations


def ascii_digits(text: str) -> bool:
    """True for one or more of 0-9 only.

    ``str.isdigit`` also accepts digits like "²" or "٣" that ``int`` refuses (or reads
    as a different number), so a check with it let a QR code, a CSV cell or a query
    parameter through to a crash.
    """
    return text.isascii() and text.isdigit()
