"""Catalogs and formatting: Bahasa Indonesia first, English complete; WIB dates and Rupiah."""

from __future__ import annotations

from datetime import UTC, date, datetime

from kiosk.flows.base import Message, Severity
from kiosk.i18n import Translator, format_day, format_rupiah, format_time
from tools.i18n_catalog import extract


def test_dates_times_and_money() -> None:
    assert format_day(date(2026, 11, 28)) == "28 Nov 2026"
    months = [format_day(date(2026, m, 1)).split()[1] for m in range(1, 13)]
    assert months == "Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des".split()
    # 23:30 UTC is already the next day in Jakarta (UTC+7).
    assert format_day(datetime(2026, 11, 27, 23, 30, tzinfo=UTC)) == "28 Nov 2026"
    assert format_time(datetime(2026, 11, 28, 7, 5, tzinfo=UTC)) == "14.05 WIB"
    assert format_rupiah(1500) == "Rp 1.500"
    assert format_rupiah(1250000) == "Rp 1.250.000"
    assert format_rupiah(0) == "Rp 0"


def test_runtime_language_switch_and_message_params() -> None:
    tr = Translator("id")
    seen: list[str] = []
    tr.bind(seen.append)
    due = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    msg = Message("Berhasil dipinjam. Jatuh tempo {due}.", Severity.SUCCESS, {"due": due})
    assert tr.render(msg) == "Berhasil dipinjam. Jatuh tempo 5 Des 2026."
    tr.set_language("en")
    assert seen == ["en"]
    assert tr.render(msg) == "Borrowed. Due 5 Dec 2026."
    assert tr.render(Message("Kartu anggota tidak dikenal.", ask_staff=True)).endswith(
        "Please ask a member of staff."
    )
    assert tr.gettext_in("Pinjam", "id") == "Pinjam"


def test_every_msgid_has_an_english_translation() -> None:
    tr = Translator("en")
    template = extract()
    ids = [str(m.id) for m in template if m.id]
    assert len(ids) > 150
    missing = [i for i in ids if tr(i) == i and i not in {"OK", "ID", "EN"}]
    # A few words are the same in both languages; everything else must differ.
    assert missing == [], missing[:10]


def test_translations_keep_placeholders() -> None:
    import re

    tr = Translator("en")
    for m in extract():
        if not m.id:
            continue
        want = set(re.findall(r"\{(\w+)\}", str(m.id)))
        got = set(re.findall(r"\{(\w+)\}", tr(str(m.id))))
        assert want == got, m.id
