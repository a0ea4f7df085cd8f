"""Turn flow lines (loans, returns) into what a row shows: icon, word, title, detail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.flows.base import Severity
from kiosk.i18n import Translator


@dataclass(frozen=True, slots=True)
class RowText:
    title: str
    detail: str
    word: str
    severity: str


def loan_row(line: Any, tr: Translator) -> RowText:
    """A borrow line: due date when lent, the reason in plain words when refused."""
    title = line.title or line.item
    if line.ok:
        word = tr("Diperpanjang") if line.renewal else tr("Dipinjam")
        detail = tr("Jatuh tempo {due}").format(due=tr.day(line.due_at)) if line.due_at else ""
        if line.offline:
            detail += " · " + tr("Luring (Offline)")
        return RowText(title, detail, word, Severity.SUCCESS.value)
    sev = line.message.severity
    word = tr("Sudah dipinjam") if sev == Severity.INFO else tr("Ditolak")
    return RowText(title, tr.render(line.message), word, sev.value)


def return_row(line: Any, tr: Translator) -> RowText:
    """A return line: confirmed with its title; an item on hold says to hand it to staff."""
    title = line.title or line.item
    if line.ok and line.hold_for_other:
        return RowText(title, tr.render(line.message), tr("Serahkan"), Severity.WARNING.value)
    if line.ok:
        detail = tr("Berhasil dikembalikan.")
        if line.offline:
            detail += " · " + tr("Luring (Offline)")
        return RowText(title, detail, tr("Kembali"), Severity.SUCCESS.value)
    return RowText(title, tr.render(line.message), tr("Ditolak"), Severity.ERROR.value)


#: Rows taken off a screen, blanked, for the next session to reuse. Rows made and
#: dropped every session left their widgets, bindings and label textures to the
#: cyclic GC: ~20 MB more resident between full collections, and a 100+ ms pause
#: when one came. A kiosk runs for months; the spare rows are bounded.
_SPARE: list[Any] = []
MAX_SPARE = 24


def spare_rows() -> list[Any]:
    """The rows kept for reuse (for the privacy checks: they must hold no patron text)."""
    return list(_SPARE)


def _keep(row: Any) -> None:
    from kiosk.ui.widgets import LineRow

    if type(row) is LineRow and len(_SPARE) < MAX_SPARE:
        # No patron data stays in a spare row.
        row.title = row.detail = row.status_word = ""
        _SPARE.append(row)


def clear_rows(container: Any) -> None:
    """Take every row off ``container`` (plain rows are kept, blank, for reuse)."""
    for w in list(container.children):
        container.remove_widget(w)
        _keep(w)


def fill_rows(container: Any, rows: list[RowText]) -> None:
    """Show ``rows`` newest first, reusing the row widgets already there.

    A vertical BoxLayout draws ``children[-1]`` at the top, so the children list
    (oldest first) matches ``rows``; a new row is appended at the top. Reusing
    rows means a scan re-renders one row's text, not the whole list's.
    """
    from kiosk.ui.widgets import LineRow

    existing = list(container.children)
    for k, r in enumerate(rows):
        if k < len(existing):
            w = existing[k]
            w.title, w.detail, w.status_word, w.severity = r.title, r.detail, r.word, r.severity
        else:
            row = _SPARE.pop() if _SPARE else LineRow()
            row.title, row.detail, row.status_word = r.title, r.detail, r.word
            row.severity = r.severity
            container.add_widget(row, index=len(container.children))
    for w in existing[len(rows) :]:
        container.remove_widget(w)
        _keep(w)
