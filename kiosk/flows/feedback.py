"""Patron feedback: "Bagaimana layanan kami hari ini?" with five faces, then chips.

Anonymous by construction: a rating's transaction carries the service, the
score, the chips and (at a workshop's door) the event, never a card, ticket or
guest, and this flow is never given the patron. It is asked at most every Nth
session (:class:`FeedbackPrompt`), can be skipped, and the screen forgets it
with the idle timeout. The face is committed at its tap (one tap is enough);
chips tapped afterwards are a second transaction that amends the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from core.wire import Feedback, FeedbackService, Kind
from kiosk.flows.base import Message, Services, Severity
from kiosk.i18n import N_

QUESTION = N_("Bagaimana layanan kami hari ini?")
EVENT_QUESTION = N_("Bagaimana acara {title} hari ini?")
#: The five faces, worst to best (score 1 to 5), as msgids under each face.
FACES = (N_("Sangat buruk"), N_("Buruk"), N_("Biasa"), N_("Baik"), N_("Sangat baik"))


class FeedbackPrompt:
    """Counts finished sessions and says when to ask: every ``every_n``-th one."""

    def __init__(self, every_n: int = 3, *, enabled: bool = True) -> None:
        self.every_n = max(1, every_n)
        self.enabled = enabled
        self.sessions = 0

    def session_ended(self) -> bool:
        """A borrow, return or guest-book session finished: True when to ask now."""
        self.sessions += 1
        return self.enabled and self.sessions % self.every_n == 0


class SurveyStep(StrEnum):
    FACES = "faces"
    CHIPS = "chips"
    DONE = "done"


class SurveyFlow:
    """One rating of one service: a face, then optionally what could be better."""

    def __init__(
        self,
        services: Services,
        chips: Sequence[str] = (),
        *,
        service: FeedbackService = FeedbackService.GUESTBOOK,
        event_id: int | None = None,
        event_title: str = "",
    ) -> None:
        self.s = services
        self.chips = tuple(chips)
        self.start(service, event_id=event_id, event_title=event_title)

    def start(
        self, service: FeedbackService, *, event_id: int | None = None, event_title: str = ""
    ) -> None:
        """Ask afresh about ``service`` (the workshop ``event_id`` for EVENT)."""
        self.service = service
        self.event_id = event_id if service == FeedbackService.EVENT else None
        self.event_title = event_title
        self.step = SurveyStep.FACES
        self.score: int | None = None
        self.selected: list[str] = []
        self.tx_id: str | None = None
        if self.event_id is not None and event_title:
            self.message = Message(EVENT_QUESTION, params={"title": event_title})
        else:
            self.message = Message(QUESTION)

    def rate(self, score: int) -> Message:
        """The face tap: committed at once, then the chips (if any are configured)."""
        if self.step != SurveyStep.FACES or not 1 <= score <= 5:
            return self.message
        feedback = Feedback(service=self.service, score=score)
        decision = self.s.decider.submit(Kind.FEEDBACK, feedback=feedback, event_id=self.event_id)
        self.tx_id, self.score = decision.tx.id, score
        if self.chips:
            self.step = SurveyStep.CHIPS
            self.message = Message("Terima kasih! Apa yang bisa kami perbaiki? (boleh dilewati)")
        else:
            self._done()
        return self.message

    def toggle(self, chip: str) -> None:
        if self.step != SurveyStep.CHIPS or chip not in self.chips:
            return
        if chip in self.selected:
            self.selected.remove(chip)
        else:
            self.selected.append(chip)

    def send(self) -> Message:
        """The chips tapped (none: nothing more is sent)."""
        if self.step != SurveyStep.CHIPS:
            return self.message
        if self.selected and self.tx_id is not None and self.score is not None:
            feedback = Feedback(
                service=self.service,
                score=self.score,
                chips=list(self.selected),
                amends=self.tx_id,
            )
            self.s.decider.submit(Kind.FEEDBACK, feedback=feedback, event_id=self.event_id)
        self._done()
        return self.message

    def skip(self) -> Message:
        """No rating (at the faces) or no chips (after a face): nothing more is sent."""
        self._done()
        return self.message

    def _done(self) -> None:
        self.step = SurveyStep.DONE
        self.selected = []
        self.message = Message("Terima kasih atas penilaian Anda.", Severity.SUCCESS)
