"""The guest book (Buku Tamu): members by card, visitors by a short form, groups.

Every entry is a transaction the kiosk decides alone (a guest book refuses
nobody), committed before the visitor is greeted and synced like any other. A
member is greeted by first name from the snapshot; a card scanned again within
the counting window (default: the same day in WIB) is welcomed again but not
counted again, decided from this kiosk's own store, and the server applies the
same rule across kiosks by the window named in the visit. The purpose a member
taps after the greeting is a second, small transaction that amends the visit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from core.wire import Gender, GroupVisit, Kind, Visit
from kiosk.flows.base import CodeKind, Message, Services, Severity
from kiosk.flows.guest import _EMAIL, _PHONE, KeyForm
from kiosk.i18n import N_, format_clock
from sync.policy import WIB


def visit_window(at: datetime, hours: int = 0) -> str:
    """The counting window ``at`` falls in: the local (WIB) date, or with ``hours``
    the block of that many hours from local midnight (``2026-12-01T08+4h``)."""
    local = at.astimezone(WIB)
    day = local.date().isoformat()
    if not hours or hours >= 24:
        return day
    start = local.hour - local.hour % hours
    return f"{day}T{start:02d}+{hours}h"


@dataclass(frozen=True)
class GuestBookOptions:
    """What the guest book asks (kiosk.toml ``[guestbook]``)."""

    purposes: tuple[str, ...] = ("Membaca", "Lainnya")
    education: tuple[str, ...] = ("SD", "SMP", "SMA/SMK", "S1")
    occupations: tuple[str, ...] = ("Pelajar", "Lainnya")
    window_hours: int = 0

    @classmethod
    def from_settings(cls, section: object) -> GuestBookOptions:
        """From a ``kiosk.config.GuestBookSection``."""
        return cls(
            purposes=tuple(getattr(section, "purposes")),  # noqa: B009
            education=tuple(getattr(section, "education")),  # noqa: B009
            occupations=tuple(getattr(section, "occupations")),  # noqa: B009
            window_hours=int(getattr(section, "count_window_hours")),  # noqa: B009
        )


class GuestBookStep(StrEnum):
    SCAN = "scan"  # waiting for a card; or "Tamu" / "Rombongan"
    PURPOSE = "purpose"  # a member was greeted: one tap picks the purpose, or skip
    GUEST = "guest"  # the visitor form
    GROUP = "group"  # the group form
    DONE = "done"  # thanked


@dataclass
class VisitorForm(KeyForm):
    """A visitor without a card: typed name, institution and optional contact;
    gender, education, occupation and purpose are taps."""

    FIELDS: ClassVar[tuple[str, ...]] = ("name", "institution", "contact")
    MAX_LEN: ClassVar[dict[str, int]] = {"name": 80, "institution": 80, "contact": 60}
    PLAIN: ClassVar[frozenset[str]] = frozenset({"contact"})

    choices: dict[str, str | None] = field(
        default_factory=lambda: dict.fromkeys(("gender", "education", "occupation", "purpose"))
    )

    def choose(self, what: str, value: str | None) -> None:
        if what in self.choices:
            self.choices[what] = None if self.choices[what] == value else value

    def validate(self) -> Message | None:
        if len(self.values["name"].strip()) < 2:
            return Message("Tulis nama Anda.", Severity.ERROR)
        if self.choices["gender"] is None:
            return Message("Pilih jenis kelamin.", Severity.ERROR)
        if self.choices["education"] is None:
            return Message("Pilih pendidikan terakhir.", Severity.ERROR)
        if self.choices["occupation"] is None:
            return Message("Pilih pekerjaan.", Severity.ERROR)
        contact = self.values["contact"].strip()
        if contact and not (_EMAIL.match(contact) if "@" in contact else _PHONE.match(contact)):
            return Message("Nomor telepon atau email belum benar.", Severity.ERROR)
        return None

    def visit(self, window: str) -> Visit:
        gender = self.choices["gender"]
        return Visit(
            name=self.values["name"].strip(),
            gender=Gender(gender) if gender else None,
            education=self.choices["education"],
            occupation=self.choices["occupation"],
            institution=self.values["institution"].strip() or None,
            purpose=self.choices["purpose"],
            contact=self.values["contact"].strip() or None,
            window=window,
        )

    def clear(self) -> None:
        super().clear()
        self.choices = dict.fromkeys(self.choices)


@dataclass
class GroupForm(KeyForm):
    """A group (rombongan): leader, phone, institution typed; counts by gender tapped."""

    FIELDS: ClassVar[tuple[str, ...]] = ("leader", "phone", "institution")
    MAX_LEN: ClassVar[dict[str, int]] = {"leader": 80, "phone": 20, "institution": 80}
    PLAIN: ClassVar[frozenset[str]] = frozenset({"phone"})
    MAX_PERSONS: ClassVar[int] = 500

    male: int = 0
    female: int = 0
    purpose: str | None = None

    def count(self, gender: str, step: int) -> None:
        """``+1``/``-1`` (or ``+10``) on the male or female count."""
        if gender == Gender.MALE:
            self.male = min(self.MAX_PERSONS, max(0, self.male + step))
        elif gender == Gender.FEMALE:
            self.female = min(self.MAX_PERSONS, max(0, self.female + step))

    def validate(self) -> Message | None:
        if len(self.values["leader"].strip()) < 2:
            return Message("Tulis nama ketua rombongan.", Severity.ERROR)
        phone = self.values["phone"].strip()
        if not _PHONE.match(phone):
            return Message("Nomor telepon belum benar.", Severity.ERROR)
        if len(self.values["institution"].strip()) < 2:
            return Message("Tulis asal lembaga rombongan.", Severity.ERROR)
        if self.male + self.female == 0:
            return Message("Isi jumlah anggota rombongan.", Severity.ERROR)
        return None

    def group(self) -> GroupVisit:
        return GroupVisit(
            leader=self.values["leader"].strip(),
            phone=self.values["phone"].strip(),
            institution=self.values["institution"].strip(),
            male=self.male,
            female=self.female,
            purpose=self.purpose,
        )

    def clear(self) -> None:
        super().clear()
        self.male = self.female = 0
        self.purpose = None


_READY = N_("Pindai kartu anggota Anda, atau pilih Tamu atau Rombongan.")


class GuestBookFlow:
    """Scan -> greeting and purpose; or the visitor form; or the group form."""

    def __init__(
        self,
        services: Services,
        options: GuestBookOptions | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        on_session_end: Callable[[], None] | None = None,
    ) -> None:
        self.s = services
        self.options = options or GuestBookOptions()
        self.clock = clock or services.clock
        #: Called once per finished entry (the feedback question counts sessions).
        self.on_session_end = on_session_end
        self.visitors_form = VisitorForm()
        self.group_form = GroupForm()
        self.counted = 0  # entries counted at this kiosk since start (persons)
        self._pruned: str | None = None
        self.reset()

    # -- state ---------------------------------------------------------------
    def reset(self) -> None:
        """Between visitors: forget the card, the name, both forms and the message."""
        self.step = GuestBookStep.SCAN
        self.first_name: str | None = None
        self.repeat = False
        self.tx_id: str | None = None
        self.visitors_form.clear()
        self.group_form.clear()
        self.message = Message(_READY)

    @property
    def purposes(self) -> Sequence[str]:
        return self.options.purposes

    def _window(self, now: datetime) -> str:
        window = visit_window(now, self.options.window_hours)
        if self._pruned != window:
            # Marks of earlier windows can never match again: keep the table a day long.
            yesterday = (now - timedelta(days=1)).astimezone(WIB).date().isoformat()
            self.s.store.prune_visit_marks(yesterday)
            self._pruned = window
        return window

    # -- a member ------------------------------------------------------------
    def scan(self, text: str) -> Message:
        """A card at the guest book: committed, then greeted (again) by first name."""
        kind, card = self.s.classifier.code_of(text.strip())
        if kind != CodeKind.PATRON:
            self.message = Message("Kode tidak dikenali sebagai kartu anggota.", Severity.ERROR)
            return self.message
        if self.step in (GuestBookStep.PURPOSE, GuestBookStep.DONE):
            self.reset()  # the next visitor scanned before the last one tapped
        now = self.clock()  # the visit's time and its window agree
        visit = Visit(window=self._window(now))
        decision = self.s.decider.submit(Kind.VISIT, at=now, card=card, visit=visit)
        res = decision.result
        patron = self.s.store.patron(card)
        self.first_name = patron.first_name if patron is not None else None
        self.tx_id = decision.tx.id
        self.repeat = res.counted is False
        name = {"name": self.first_name} if self.first_name else {}
        if self.repeat:
            first = res.signed_in_at or decision.tx.at
            msgid = (
                N_("Selamat datang kembali, {name}! Kunjungan Anda sudah tercatat pukul {time}.")
                if name
                else N_("Selamat datang kembali! Kunjungan Anda sudah tercatat pukul {time}.")
            )
            self.message = Message(msgid, Severity.SUCCESS, {**name, "time": format_clock(first)})
            self.step = GuestBookStep.DONE
            self._session_end()
            return self.message
        self.counted += 1
        msgid = N_("Selamat datang, {name}!") if name else N_("Selamat datang!")
        self.message = Message(msgid, Severity.SUCCESS, name)
        self.step = GuestBookStep.PURPOSE
        return self.message

    def choose_purpose(self, purpose: str | None) -> Message:
        """One tap after the greeting; None skips. Amends the visit just committed."""
        if self.step != GuestBookStep.PURPOSE or self.tx_id is None:
            return self.message
        if purpose is not None and purpose in self.options.purposes:
            amend = Visit(purpose=purpose, amends=self.tx_id)
            self.s.decider.submit(Kind.VISIT, at=self.clock(), visit=amend)
        self.step = GuestBookStep.DONE
        self.message = Message("Terima kasih. Selamat membaca!", Severity.SUCCESS)
        self._session_end()
        return self.message

    # -- a visitor without a card -------------------------------------------
    def start_guest(self) -> None:
        self.reset()
        self.step = GuestBookStep.GUEST
        self.message = Message("Isi buku tamu dengan papan ketik di layar.")

    def submit_guest(self) -> Message:
        form = self.visitors_form
        problem = form.validate()
        if problem is not None:
            self.message = problem
            return problem
        now = self.clock()
        decision = self.s.decider.submit(Kind.VISIT, at=now, visit=form.visit(self._window(now)))
        self.tx_id = decision.tx.id
        self.counted += 1
        name = form.values["name"].strip().split(" ")[0]
        form.clear()  # the visitor's details stay on screen no longer than needed
        self.step = GuestBookStep.DONE
        self.message = Message(
            "Terima kasih, {name}. Selamat datang di perpustakaan!",
            Severity.SUCCESS,
            {"name": name},
        )
        self._session_end()
        return self.message

    # -- a group -------------------------------------------------------------
    def start_group(self) -> None:
        self.reset()
        self.step = GuestBookStep.GROUP
        self.message = Message("Isi data rombongan dengan papan ketik di layar.")

    def submit_group(self) -> Message:
        form = self.group_form
        problem = form.validate()
        if problem is not None:
            self.message = problem
            return problem
        group = form.group()
        decision = self.s.decider.submit(Kind.GROUP_VISIT, at=self.clock(), group=group)
        self.tx_id = decision.tx.id
        persons = group.male + group.female
        self.counted += persons
        form.clear()
        self.step = GuestBookStep.DONE
        self.message = Message(
            "Rombongan {institution} ({count} orang) tercatat. Selamat datang!",
            Severity.SUCCESS,
            {"institution": group.institution, "count": persons},
        )
        self._session_end()
        return self.message

    def cancel(self) -> None:
        """Back to the scan prompt from a form (nothing is recorded)."""
        self.reset()

    def _session_end(self) -> None:
        if self.on_session_end is not None:
            self.on_session_end()
