"""Extract msgids, update the ``id`` and ``en`` catalogs and compile them.

Run ``python -m tools.i18n_catalog`` (``--check`` fails on untranslated msgids).
Two catalogs: the kiosk's (``kiosk/i18n``) and the staff console's
(``server/console/locale``: msgids from its Jinja2 templates and its Python).

msgids come from Python (``tr``, ``Message``, ``N_``…), from the .kv files
(``app.tr("…")``) and from tables that hold msgids as plain data (the flows'
refusal reasons, the errors' patron messages). ``id`` is the identity
catalog; ``en`` keeps its translations and gains empty entries for new
msgids, which ``--check`` reports.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from kiosk.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {
    "_": None,
    "N_": None,
    "gettext": None,
    "tr": None,
    "tr_other": None,
    "tr_in": None,
    "Message": None,
    "reason_message": None,
}


def _data_msgids() -> list[str]:
    """msgids kept as data rather than in a call Babel can see."""
    import inspect

    from core import errors
    from kiosk.flows.base import REASON_MESSAGES

    ids = [msgid for msgid, _ask in REASON_MESSAGES.values()]
    for _name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.KioskError):
            ids.append(cls.patron_message)
    try:
        from kiosk.ui.labels import LABEL_MSGIDS
    except ImportError:
        LABEL_MSGIDS = ()  # noqa: N806 - mirrors the constant's name
    ids.extend(LABEL_MSGIDS)
    # The guest book's and the survey's default words (kiosk.toml may replace them).
    from kiosk.config import FeedbackSection, GuestBookSection
    from kiosk.flows.feedback import FACES

    book = GuestBookSection()
    ids += [*book.purposes, *book.education, *book.occupations, *FeedbackSection().chips, *FACES]
    return ids


def extract() -> Catalog:
    cat = Catalog(project="pustaka-kiosk", msgid_bugs_address="", charset="utf-8")
    # Same map as babel.cfg, relative to the kiosk package.
    method_map = [("ui/kv/**.kv", "kiosk.i18n.extract:extract_kv"), ("**.py", "python")]
    for filename, lineno, message, comments, _ctx in extract_from_dir(
        str(ROOT / "kiosk"),
        method_map=method_map,
        options_map={"**.py": {"encoding": "utf-8"}},
        keywords=KEYWORDS,
    ):
        if isinstance(message, tuple):
            message = message[0]
        if message:
            cat.add(message, locations=[(f"kiosk/{filename}", lineno)], auto_comments=comments)
    for msgid in _data_msgids():
        if msgid and msgid not in cat:
            cat.add(msgid, locations=[("kiosk/flows/base.py", 0)])
    return cat


def extract_console() -> Catalog:
    """msgids of the staff console: ``_("…")`` in templates, ``N_``/``gettext`` in Python."""
    cat = Catalog(project="pustaka-console", msgid_bugs_address="", charset="utf-8")
    folder = ROOT / "server" / "console"
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        str(folder),
        method_map=method_map,
        options_map={"templates/**.html": {"encoding": "utf-8"}},
        keywords={
            "_": None,
            "N_": None,
            "gettext": None,
            "ngettext": (1, 2),
            "error_page": (2,),
        },
    ):
        if isinstance(message, tuple):
            message = message[0]
        if message:
            cat.add(message, locations=[(f"server/console/{filename}", lineno)])
    return cat


def _po_path(lang: str, locale_dir: Path = LOCALE_DIR, domain: str = DOMAIN) -> Path:
    return locale_dir / lang / "LC_MESSAGES" / f"{domain}.po"


def update(
    template: Catalog, locale_dir: Path = LOCALE_DIR, domain: str = DOMAIN
) -> dict[str, list[str]]:
    """Write both .po files and compile them; returns the untranslated msgids per language."""
    missing: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        po = _po_path(lang, locale_dir, domain)
        po.parent.mkdir(parents=True, exist_ok=True)
        old: dict[str, str] = {}
        if po.exists():
            with po.open("rb") as f:
                for m in read_po(f, locale=lang):
                    if m.id and m.string:
                        old[str(m.id)] = str(m.string)
        cat = Catalog(locale=lang, project="pustaka-kiosk", charset="utf-8")
        cat.language_team = "Pustaka Kiosk"
        for m in template:
            if not m.id:
                continue
            text = old.get(str(m.id), str(m.id) if lang == "id" else "")
            cat.add(m.id, text, locations=m.locations)
        missing[lang] = [str(m.id) for m in cat if m.id and not m.string]
        with po.open("wb") as f:
            write_po(f, cat, width=100, sort_output=True, omit_header=False)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, cat)
    return missing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="update and compile the kiosk's catalogs")
    p.add_argument("--check", action="store_true", help="fail when a msgid has no translation")
    args = p.parse_args(argv)
    from server.console import i18n as console_i18n

    failed = False
    for name, template, locale_dir, domain in (
        ("kiosk", extract(), LOCALE_DIR, DOMAIN),
        ("console", extract_console(), console_i18n.LOCALE_DIR, console_i18n.DOMAIN),
    ):
        locale_dir.mkdir(parents=True, exist_ok=True)
        with (locale_dir.parent / f"{domain}.pot").open("wb") as f:
            write_po(f, template, width=100, sort_output=True)
        missing = update(template, locale_dir, domain)
        for lang, ids in missing.items():
            for msgid in ids:
                print(f"{name} {lang}: untranslated: {msgid}", file=sys.stderr)
        counts = ", ".join(f"{k}={len(v)}" for k, v in missing.items())
        print(f"{name}: {len(template)} msgids; untranslated: {counts}")
        failed = failed or any(missing.values())
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
