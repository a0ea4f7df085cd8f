"""Translations and formatting: Bahasa Indonesia first, English second.

msgids are Bahasa Indonesia (the flows write them); the ``en`` catalog
translates them. The :class:`Translator` switches language at run time, so a
patron can press "EN" on Home and every screen follows. Dates, times and
money are formatted the way an Indonesian library writes them: ``28 Nov
2026``, ``14.05 WIB`` (Asia/Jakarta), ``Rp 1.500``.

The compiled ``.mo`` files are committed; when one is missing (a fresh
checkout that edited a ``.po``), it is compiled from the ``.po`` at import so
``make run`` needs no extra step.
"""

from __future__ import annotations

import gettext as _gettext
import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal

log = logging.getLogger(__name__)

WIB = ZoneInfo("Asia/Jakarta")
DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("id", "en")


def N_(msgid: str) -> str:
    """Mark a msgid for extraction without translating it now."""
    return msgid


def _compile_if_missing(lang: str) -> None:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if not po.exists() or (mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
        return
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    try:
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        with mo.open("wb") as f:
            write_mo(f, catalog)
    except OSError as exc:  # read-only install: fall back to msgids (Bahasa Indonesia)
        log.warning("cannot compile %s: %s", po, exc)


def load_catalog(lang: str) -> _gettext.NullTranslations:
    """The gettext catalog for a language (msgids when it cannot be loaded)."""
    _compile_if_missing(lang)
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def as_wib(value: datetime) -> datetime:
    """A datetime in Western Indonesia Time; naive values are taken as UTC."""
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(WIB)


def format_day(value: date | datetime, lang: str = "id") -> str:
    """``28 Nov 2026`` (Indonesian month abbreviations: Mei, Agu, Okt, Des)."""
    if isinstance(value, datetime):
        value = as_wib(value).date()
    return _babel_date(value, "d MMM y", locale=lang)


def format_long_day(value: date | datetime, lang: str = "id") -> str:
    """``Sabtu, 28 November 2026``."""
    if isinstance(value, datetime):
        value = as_wib(value).date()
    return _babel_date(value, "EEEE, d MMMM y", locale=lang)


def format_clock(value: datetime) -> str:
    """``14.05`` in WIB, 24 hours with a dot (the Indonesian way, used in both languages)."""
    return as_wib(value).strftime("%H.%M")


def format_time(value: datetime) -> str:
    """``14.05 WIB``."""
    return f"{format_clock(value)} WIB"


def format_rupiah(amount: int) -> str:
    """``Rp 1.500``: whole rupiah, dot grouping, in both languages (it is Rupiah)."""
    return "Rp " + format_decimal(int(amount), format="#,##0", locale="id")


class Translator:
    """The current language and its catalog; call it like ``_()``.

    ``bind(callback)`` registers a function called after every language switch,
    which the UI uses to re-render its labels.
    """

    def __init__(self, lang: str = "id") -> None:
        self._catalogs: dict[str, _gettext.NullTranslations] = {}
        self._listeners: list[Callable[[str], None]] = []
        self.lang = "id"
        self.set_language(lang)

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; use one of {LANGUAGES}")
        if lang not in self._catalogs:
            self._catalogs[lang] = load_catalog(lang)
        self.lang = lang
        for fn in list(self._listeners):
            fn(lang)

    def bind(self, fn: Callable[[str], None]) -> None:
        self._listeners.append(fn)

    def gettext(self, msgid: str) -> str:
        if not msgid:
            return ""
        return self._catalogs[self.lang].gettext(msgid)

    __call__ = gettext

    def gettext_in(self, msgid: str, lang: str) -> str:
        """Translate into ``lang`` without switching the current language."""
        if lang not in self._catalogs:
            self._catalogs[lang] = load_catalog(lang)
        return self._catalogs[lang].gettext(msgid) if msgid else ""

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogs[self.lang].ngettext(singular, plural, n)

    # -- formatting ----------------------------------------------------------
    def day(self, value: date | datetime) -> str:
        return format_day(value, self.lang)

    def long_day(self, value: date | datetime) -> str:
        return format_long_day(value, self.lang)

    def format_param(self, value: Any) -> Any:
        """How a message parameter is shown: datetimes as a day, dates likewise."""
        if isinstance(value, datetime):
            return self.day(value)
        if isinstance(value, date):
            return self.day(value)
        return value

    def render(self, message: Any) -> str:
        """Translate a ``kiosk.flows.base.Message`` and format its parameters."""
        params = {k: self.format_param(v) for k, v in message.params.items()}
        text = self.gettext(message.msgid)
        try:
            text = text.format(**params)
        except (KeyError, IndexError, ValueError):
            # A translation that names a parameter the flow did not give must
            # not crash the screen; the msgid still makes sense.
            log.warning("bad parameters for %r: %r", message.msgid, params)
        if message.ask_staff:
            text += " " + self.gettext("Silakan hubungi petugas.")
        return text


__all__ = [
    "LANGUAGES",
    "N_",
    "Translator",
    "WIB",
    "as_wib",
    "format_clock",
    "format_day",
    "format_long_day",
    "format_rupiah",
    "format_time",
    "load_catalog",
]
