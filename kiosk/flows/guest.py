"""The guest form (name, phone or email, institution) typed on the on-screen keyboard.

Pure Python: the key grid on screen calls :meth:`GuestForm.press`; the form
validates and turns into a ``core.wire.Guest``. Used by event sign-up and by
walk-ins at the door.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from core.wire import Guest
from kiosk.flows.base import Message, Severity

FIELDS = ("name", "contact", "institution")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{6,18}[0-9]$")
MAX_LEN = {"name": 80, "contact": 60, "institution": 80}


@dataclass
class KeyForm:
    """Text fields typed on the on-screen key grid, and the one being typed into.

    Subclasses name their ``FIELDS``, each field's ``MAX_LEN`` and the fields
    typed without automatic capitals (``PLAIN``: phone numbers, emails).
    """

    FIELDS: ClassVar[tuple[str, ...]] = FIELDS
    MAX_LEN: ClassVar[dict[str, int]] = MAX_LEN
    PLAIN: ClassVar[frozenset[str]] = frozenset({"contact"})

    values: dict[str, str] = field(default_factory=dict)
    active: str = ""
    shift: bool = False  # the next letter is a capital (⇧ on the key grid)

    def __post_init__(self) -> None:
        if not self.values:
            self.values = dict.fromkeys(self.FIELDS, "")
        if not self.active:
            self.active = self.FIELDS[0]

    def focus(self, name: str) -> None:
        if name in self.FIELDS:
            self.active = name

    def press(self, key: str) -> None:
        """One on-screen key: a character, ``space``, ``del``, ``next``, ``shift`` or ``clear``.

        Names and institutions get a capital at the start of each word; ``shift``
        makes the next letter a capital anywhere (SMAN, RSUD).
        """
        text = self.values[self.active]
        if key == "del":
            text = text[:-1]
        elif key == "clear":
            text = ""
        elif key == "next":
            fields = self.FIELDS
            self.active = fields[(fields.index(self.active) + 1) % len(fields)]
            return
        elif key == "shift":
            self.shift = not self.shift
            return
        elif key == "space":
            text += " " if text and not text.endswith(" ") else ""
        elif len(key) == 1 and key.isprintable():
            # The key grid shows capitals; names get a capital at each word, contacts none.
            word_start = not text or text.endswith(" ")
            capital = self.shift or (self.active not in self.PLAIN and word_start)
            key = key.upper() if capital else key.lower()
            self.shift = False
            text += key
        self.values[self.active] = text[: self.MAX_LEN[self.active]]

    def clear(self) -> None:
        self.values = dict.fromkeys(self.FIELDS, "")
        self.active = self.FIELDS[0]
        self.shift = False


@dataclass
class GuestForm(KeyForm):
    """Name, phone or email, institution: an event guest or a walk-in at the door."""

    def validate(self) -> Message | None:
        """Why the form cannot be sent yet, or None."""
        name = self.values["name"].strip()
        contact = self.values["contact"].strip()
        if len(name) < 2:
            return Message("Tulis nama Anda.", Severity.ERROR)
        if not contact:
            return Message("Tulis nomor telepon atau email Anda.", Severity.ERROR)
        if "@" in contact:
            if not _EMAIL.match(contact):
                return Message("Alamat email belum benar.", Severity.ERROR)
        elif not _PHONE.match(contact):
            return Message("Nomor telepon belum benar.", Severity.ERROR)
        return None

    def guest(self) -> Guest:
        contact = self.values["contact"].strip()
        email = contact if "@" in contact else None
        phone = None if email else contact
        institution = self.values["institution"].strip() or None
        return Guest(
            name=self.values["name"].strip(), phone=phone, email=email, institution=institution
        )
