"""My account, offline from the snapshot, online from a server account view (fake client)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.errors import SyncError
from core.wire import AccountView, HoldView, LoanView, PatronInfo, PatronStatus
from kiosk.flows.account import AccountFlow, AccountStep
from kiosk.flows.base import Severity
from tests.flows import ui_fixtures

demo_services = ui_fixtures.demo_services  # the fixture, shared with the other UI flow tests


def test_offline_account_shows_snapshot_loans_and_says_incomplete(demo_services) -> None:
    flow = AccountFlow(demo_services)
    msg = flow.scan("AGT0001")
    assert flow.step == AccountStep.SHOW
    data = flow.data
    assert data is not None and data.offline and data.fines_idr is None
    assert [loan.title for loan in data.loans] == ["Negeri 5 Menara", "Perahu Kertas"]
    assert [loan.overdue for loan in data.loans] == [True, False]
    assert data.card_masked == "AGT**01"
    assert msg.severity == Severity.WARNING and "luring" in msg.msgid.lower()


def test_account_asks_pin_when_card_requires_it(demo_services) -> None:
    flow = AccountFlow(demo_services)
    flow.scan("AGT0002")
    assert flow.step == AccountStep.PIN and flow.data is None
    assert flow.enter_pin("0000").severity == Severity.ERROR
    flow.enter_pin("1234")
    assert flow.step == AccountStep.SHOW and flow.data is not None


def test_three_wrong_pins_end_the_attempt(demo_services) -> None:
    flow = AccountFlow(demo_services)
    flow.scan("AGT0002")
    for _ in range(3):
        msg = flow.enter_pin("0000")
    assert flow.step == AccountStep.CARD and msg.ask_staff


def test_unknown_and_non_card_codes(demo_services) -> None:
    flow = AccountFlow(demo_services)
    assert flow.scan("B000101").severity == Severity.ERROR
    assert flow.scan("AGT9999").severity == Severity.ERROR
    assert flow.step == AccountStep.CARD


class FakeClient:
    def __init__(self, view: AccountView | None = None) -> None:
        self.view = view

    def account(self, session: str, timeout: float | None = None) -> AccountView:
        if self.view is None:
            raise SyncError("connection refused")
        assert session == "session-1"  # only the patron's session opens the account
        return self.view


def test_online_account_view_with_holds_and_fines(demo_services, monkeypatch) -> None:
    now = datetime.now(UTC)
    view = AccountView(
        patron=PatronInfo(card="AGT0001", first_name="Siti", status=PatronStatus.ACTIVE),
        loans=[
            LoanView(
                item="B000102",
                title="Bumi Manusia",
                issued_at=now - timedelta(days=20),
                due_at=now - timedelta(days=6),
                overdue=True,
            )
        ],
        holds=[HoldView(item="B000107", title="Pulang", ready=True)],
        fines_idr=1500,
    )
    monkeypatch.setattr(type(demo_services.decider), "online", property(lambda self: True))
    monkeypatch.setattr(type(demo_services.decider), "lookup_patron", _online_lookup)
    flow = AccountFlow(demo_services, FakeClient(view))
    msg = flow.scan("AGT0001")
    data = flow.data
    assert data is not None and not data.offline
    assert data.fines_idr == 1500 and data.holds[0].title == "Pulang"
    assert msg.params == {"n": 1}


def test_online_failure_falls_back_to_snapshot(demo_services, monkeypatch) -> None:
    monkeypatch.setattr(type(demo_services.decider), "online", property(lambda self: True))
    monkeypatch.setattr(type(demo_services.decider), "lookup_patron", _offline_lookup)
    flow = AccountFlow(demo_services, FakeClient(None))
    flow.scan("AGT0001")
    assert flow.data is not None and flow.data.offline


def _online_lookup(self, card):
    from sync.decider import PatronLookup

    return PatronLookup(
        PatronInfo(card=card, first_name="Siti", status=PatronStatus.ACTIVE),
        offline=False,
        session="session-1",
    )


def _offline_lookup(self, card):
    from sync.decider import PatronLookup
    from sync.policy import patron_info_from_snapshot

    snap = self.store.patron(card)
    return PatronLookup(patron_info_from_snapshot(snap, datetime.now(UTC).date()), offline=True)


def test_reset_forgets_the_patron(demo_services) -> None:
    flow = AccountFlow(demo_services)
    flow.scan("AGT0001")
    flow.reset()
    assert flow.data is None and flow.card is None and flow.step == AccountStep.CARD
