"""The console's words: msgids are Bahasa Indonesia, ``en`` comes from a gettext catalog.

Catalogs live in ``server/console/locale/LANG/LC_MESSAGES/console.po`` (with the
compiled ``.mo``); ``python -m tools.i18n_catalog`` extracts msgids from the
templates and the console's Python and updates both.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LANGUAGES = ("id", "en")
DOMAIN = "console"
LOCALE_DIR = Path(__file__).with_name("locale")


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for ``lang``; Indonesian (the msgids themselves) needs none."""
    if lang == "id":
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
    except OSError:
        return gettext.NullTranslations()


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for a deferred msgid
    """Mark a msgid for extraction; translated where it is shown."""
    return msgid
