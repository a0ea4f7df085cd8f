"""Drive the running kiosk app from inside its process as a person would (like Textual's Pilot).

A pilot touches widgets (found by kv id or by the text they show), types codes
as a keyboard-wedge scanner does, reads the texts on screen and takes
screenshots. It asks the app nothing it would not show a patron: no screen has
methods for it. Used by ``tests/ui/scripted.py`` (UI tests, screenshots, the
UI benchmark); it must run on the Kivy thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def widget_texts(widget: Any, *, visible_only: bool) -> list[str]:
    """Every Label text under ``widget`` (visible ones only: opacity > 0 all the way up)."""
    from kivy.uix.label import Label

    out: list[str] = []

    def walk(w: Any, shown: bool) -> None:
        shown = shown and getattr(w, "opacity", 1) > 0
        if visible_only and not shown:
            return
        if isinstance(w, Label) and w.text:
            out.append(w.text)
        for child in reversed(w.children):
            walk(child, shown)

    walk(widget, True)
    return out


def find_by_id(root: Any, wid: str) -> Any:
    """The first widget whose kv ``ids`` names ``wid``, searching breadth-first from ``root``."""
    queue = [root]
    while queue:
        w = queue.pop(0)
        ids = getattr(w, "ids", None)
        if ids and wid in ids:
            return ids[wid]
        queue.extend(w.children)
    return None


def _hidden(w: Any) -> bool:
    return getattr(w, "opacity", 1) <= 0 or getattr(w, "shown", True) is False


class Pilot:
    """Touch, type and read the screen of a running ``KioskApp``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    # -- reading the screen ------------------------------------------------------
    def visible_texts(self) -> list[str]:
        """The texts a patron sees: the current screen, the header and any overlay shown."""
        root = self.app.root
        texts = widget_texts(self.app.current, visible_only=True)
        texts += widget_texts(root.ids.header, visible_only=True)
        for overlay in ("countdown", "busy", "attract"):
            if root.ids[overlay].shown:
                texts += widget_texts(root.ids[overlay], visible_only=True)
        return texts

    def all_texts(self) -> list[str]:
        """Every text the app holds: whole tree, screens not shown, the spare item rows."""
        texts = widget_texts(self.app.root, visible_only=False)
        for scr in self.app.sm.screens:  # screens not shown are not in the window's tree
            texts += widget_texts(scr, visible_only=False)
        from kiosk.ui.screens.lines import spare_rows

        for row in spare_rows():  # item rows kept for the next session
            texts += widget_texts(row, visible_only=False)
        return texts

    def min_touch_mm(self) -> float:
        """The smallest side, in millimetres, of any visible touch target on this screen."""
        from kivy.metrics import mm
        from kivy.uix.behaviors import ButtonBehavior

        sizes: list[float] = []

        def walk(w: Any) -> None:
            if _hidden(w):
                return
            if isinstance(w, ButtonBehavior) and w.width > 1 and w.height > 1:
                sizes.append(min(w.width, w.height) / mm(1))
            for child in w.children:
                walk(child)

        walk(self.app.current)
        walk(self.app.root.ids.header)
        return round(min(sizes), 1) if sizes else 0.0

    # -- finding widgets ---------------------------------------------------------
    def find(self, wid: str) -> Any:
        """The widget with kv id ``wid`` on the current screen, else anywhere in the window."""
        return find_by_id(self.app.current, wid) or find_by_id(self.app.root, wid)

    def button_with_text(self, text: str) -> Any:
        """The touchable widget around a visible label that shows ``text`` (None if none)."""
        from kivy.uix.behaviors import ButtonBehavior
        from kivy.uix.label import Label

        stack = [self.app.current]
        while stack:
            w = stack.pop()
            if _hidden(w):
                continue
            if isinstance(w, Label) and text in w.text:
                p = w
                while p is not None and not isinstance(p, ButtonBehavior):
                    p = p.parent
                if p is not None:
                    return p
            stack.extend(w.children)
        return None

    # -- acting ------------------------------------------------------------------
    def type_keys(self, text: str) -> None:
        """Key-down events as a wedge scanner makes them, Enter at the end."""
        from kivy.core.window import Window

        for ch in text:
            mods = ["shift"] if ch.isalpha() and ch.isupper() else []
            Window.dispatch("on_key_down", ord(ch.lower()), 0, ch.lower(), mods)
        Window.dispatch("on_key_down", 13, 40, None, [])

    def touch_down(self, widget: Any) -> Any:
        """Put a finger on the middle of ``widget``; lift it with ``touch.touch_up()``."""
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        return touch

    def tap(self, widget: Any) -> None:
        """Touch ``widget`` and let go at once."""
        self.touch_down(widget).touch_up()

    def screenshot(self, path: Path) -> Path | None:
        """Write the window as a PNG at ``path``; the path, or None if Kivy made none."""
        from kivy.core.window import Window

        made = Window.screenshot(name=str(path))
        if not made:
            return None
        # Kivy adds a counter to the file name (shot0001.png); give it the asked name.
        Path(made).replace(path)
        return path
