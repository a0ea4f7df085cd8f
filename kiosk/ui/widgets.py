"""Widgets every screen uses: tiles, buttons, message bars, item rows, PIN pad.

Their looks live in ``kv/widgets.kv``; here only the behaviour that is not a
one-liner.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.metrics import dp, mm
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.scrollview import ScrollView

from kiosk.ui import theme


def touch_size() -> float:
    """Smallest side of any touch target: 15 mm, and never under 64 dp."""
    return max(mm(theme.MIN_TOUCH_MM), dp(64))


def big_touch_size() -> float:
    """The main action of a screen (Selesai, Pinjam…): larger than the minimum."""
    return max(touch_size(), dp(88))


class Tile(ButtonBehavior, BoxLayout):
    """A large Home tile: icon, title, subtitle (the other language)."""

    icon = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    bg = ListProperty(theme.rgba(theme.BORROW))


class KButton(ButtonBehavior, BoxLayout):
    """A touch button at least 15 mm high, text always with a word (not colour alone)."""

    text = StringProperty("")
    icon = StringProperty("")
    bg = ListProperty(theme.rgba(theme.NEUTRAL))
    fg = ListProperty(theme.rgba(theme.WHITE))
    font_size = NumericProperty(dp(26))
    selected = BooleanProperty(False)


class MessageBar(BoxLayout):
    """A patron message with an icon and a severity word, never colour alone."""

    text = StringProperty("")
    severity = StringProperty("info")
    word = StringProperty("")  # "Berhasil", "Perhatian", "Gagal": said in words too
    icon = StringProperty("ℹ")
    ink = ListProperty(theme.rgba(theme.INFO_INK))
    paper = ListProperty(theme.rgba(theme.INFO_BG))

    def on_severity(self, _inst: object, value: str) -> None:
        icon, ink, paper = theme.SEVERITY_STYLE.get(value, theme.SEVERITY_STYLE["info"])
        self.icon, self.ink, self.paper = icon, theme.rgba(ink), theme.rgba(paper)


class LineRow(BoxLayout):
    """One scanned item: status icon and word, title, detail (due date or reason)."""

    title = StringProperty("")
    detail = StringProperty("")
    status_word = StringProperty("")
    severity = StringProperty("success")
    icon = StringProperty("✔")
    ink = ListProperty(theme.rgba(theme.SUCCESS_INK))
    paper = ListProperty(theme.rgba(theme.SUCCESS_BG))

    def on_severity(self, _inst: object, value: str) -> None:
        icon, ink, paper = theme.SEVERITY_STYLE.get(value, theme.SEVERITY_STYLE["info"])
        self.icon, self.ink, self.paper = icon, theme.rgba(ink), theme.rgba(paper)


class TappableRow(ButtonBehavior, LineRow):
    """A row with an action (My account: touch a loan to renew it); says so in words."""

    item = StringProperty("")
    action = StringProperty("")


class PinPad(GridLayout):
    """Digits, delete and OK. Shows dots, never the PIN.

    OK fires ``on_submit`` with the PIN, bound where the pad is declared
    (``on_submit: root.submit_pin(args[1])``).
    """

    __events__ = ("on_submit",)
    pin = StringProperty("")
    max_len = NumericProperty(8)

    def press(self, key: str) -> None:
        if key == "del":
            self.pin = self.pin[:-1]
        elif key == "ok":
            if self.pin:
                pin, self.pin = self.pin, ""
                self.dispatch("on_submit", pin)
        elif len(self.pin) < self.max_len:
            self.pin += key

    def on_submit(self, pin: str) -> None:
        """A PIN was entered."""


class HiddenNotDrawn:
    """Mixin for a widget with a ``shown`` property: hidden, it is not drawn at all.

    Kivy still draws a widget at opacity 0; on software GL a hidden full-window
    overlay cost a full-screen blend every frame (~15 ms at 1280x800). Hidden, the
    widget's canvas leaves its parent's canvas, and comes back to the same place
    in the drawing order when shown (opacity still says what is visible).
    """

    shown: Any
    parent: Any
    canvas: Any

    def _sync_drawn(self, *_: Any) -> None:
        parent = self.parent
        if parent is None:
            return
        group = parent.canvas
        drawn = self.canvas in group.children
        if self.shown and not drawn:
            at = min(getattr(self, "_drawn_at", len(group.children)), len(group.children))
            group.insert(at, self.canvas)
        elif not self.shown and drawn:
            self._drawn_at = group.children.index(self.canvas)
            group.remove(self.canvas)

    def _watch_shown(self) -> None:
        # Before the next frame: the parent adds our canvas after setting ``parent``.
        trigger = Clock.create_trigger(self._sync_drawn, -1)
        self.fbind("shown", trigger)  # type: ignore[attr-defined]
        self.fbind("parent", trigger)  # type: ignore[attr-defined]


class Overlay(HiddenNotDrawn, BoxLayout):
    """A layer over the screens; when shown it takes every touch (no taps go through).

    Hidden, it lets every touch pass: a hidden layer is never made ``disabled``,
    because a disabled Kivy widget swallows the touches that land on it.
    """

    shown = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._watch_shown()

    def on_touch_down(self, touch: object) -> bool:
        if not self.shown:
            return False
        super().on_touch_down(touch)
        return True

    def on_touch_up(self, touch: object) -> bool:
        if not self.shown:
            return False
        super().on_touch_up(touch)
        return True


class ThanksPanel(BoxLayout):
    """The closing panel of a session: thanks, a summary, the slip preview in demo mode."""

    title = StringProperty("")
    text = StringProperty("")
    preview = StringProperty("")
    home_text = StringProperty("")


class KeyGrid(BoxLayout):
    """An on-screen keyboard (touch only; no TextInput, no system keyboard).

    The ``on_key`` event gets ``"A"``…``"Z"``, digits, symbols, ``"space"``, ``"del"``,
    ``"shift"`` or ``"next"`` (bound where the grid is declared: ``on_key: root.key(args[1])``);
    the presenter hands them to a ``GuestForm``.
    """

    __events__ = ("on_key",)
    ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL@", "ZXCVBNM.-_")
    shift = BooleanProperty(False)

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.orientation = "vertical"
        self.spacing = dp(6)
        for row in self.ROWS:
            line = BoxLayout(spacing=dp(6))
            for ch in row:
                line.add_widget(self._key(ch, ch))
            self.add_widget(line)
        bottom = BoxLayout(spacing=dp(6))
        bottom.add_widget(self._key("⇧", "shift", 1.2))
        bottom.add_widget(self._key("␣", "space", 4))
        bottom.add_widget(self._key("⌫", "del", 1.4))
        bottom.add_widget(self._key("⇥", "next", 1.4))
        self.add_widget(bottom)

    def _key(self, label: str, key: str, weight: float = 1.0) -> KButton:
        b = KButton(text=label, size_hint_x=weight, font_size=dp(26))
        b.bg = theme.rgba(theme.NEUTRAL)
        b.size_hint_min_x = 0  # the grid's width sets the key width; height stays >= 15 mm
        b.bind(on_release=lambda *_: self.press(key))
        return b

    def press(self, key: str) -> None:
        if key == "shift":
            self.shift = not self.shift
        elif key not in ("del", "next"):
            self.shift = False
        self.dispatch("on_key", key)

    def on_key(self, key: str) -> None:
        """A key was pressed."""


class EventCard(ButtonBehavior, BoxLayout):
    """One event in the list: title, when, where, seats (in words, not colour)."""

    event_id = NumericProperty(0)
    title = StringProperty("")
    when = StringProperty("")
    place = StringProperty("")
    seats = StringProperty("")
    full = BooleanProperty(False)


class FormField(ButtonBehavior, BoxLayout):
    """A field of the guest form: label and value; touch it to type into it."""

    label = StringProperty("")
    value = StringProperty("")
    active = BooleanProperty(False)
    field = StringProperty("")


class KScrollView(ScrollView):
    """Kivy's ScrollView without its binding leak (Kivy 2.3.1).

    ``update_from_scroll`` binds ``bar_color`` again on every scroll update and
    unbinds it once, half a second later; updates closer together than that (rows
    added as items are scanned) pile up bindings, a few per session, for as long
    as the kiosk runs. Here at most one is bound at a time; the bar looks the same.
    """

    def update_from_scroll(self, *largs: Any) -> None:
        self.funbind("bar_color", self._change_bar_color)
        super().update_from_scroll(*largs)


class Layer(HiddenNotDrawn, BoxLayout):
    """One of several stacked panels of a screen; only the shown one is seen and touched."""

    shown = BooleanProperty(False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._watch_shown()

    def on_touch_down(self, touch: object) -> bool:
        return bool(self.shown and super().on_touch_down(touch))

    def on_touch_move(self, touch: object) -> bool:
        return bool(self.shown and super().on_touch_move(touch))

    def on_touch_up(self, touch: object) -> bool:
        return bool(self.shown and super().on_touch_up(touch))
