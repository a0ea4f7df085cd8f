"""Every word of the console has its English, and the English page uses it."""

from __future__ import annotations

from babel.messages.pofile import read_po

from server.console.i18n import DOMAIN, LOCALE_DIR, translations
from tools.i18n_catalog import extract_console


def test_every_console_msgid_is_translated_into_english() -> None:
    template = extract_console()
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        english = {str(m.id): str(m.string) for m in read_po(f) if m.id}
    wanted = {str(m.id) for m in template if m.id}
    assert len(wanted) > 250  # the extractor found the templates' words at all
    missing = sorted(w for w in wanted if not english.get(w))
    assert missing == [], missing[:10]


def test_the_compiled_english_catalog_is_the_one_loaded() -> None:
    t = translations("en")
    assert t.gettext("Beranda") == "Dashboard"
    assert t.gettext("Konflik") == "Conflicts"
    assert translations("id").gettext("Beranda") == "Beranda"
