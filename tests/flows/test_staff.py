"""Staff mode: entry by staff card + PIN, the health panel, actions, follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from core.wire import Kind, Reason, Status, TransactionResult
from kiosk.config import KioskSettings
from kiosk.flows.base import Severity
from kiosk.flows.staff import StaffFlow, StaffStep, staff_pin_ok
from kiosk.runtime import build_runtime
from sync.store import LocalStore
from tests.flows.ui_fixtures import demo_services  # noqa: F401 - fixture


def _runtime(tmp_path: Path, demo: bool = True):
    settings = KioskSettings.model_validate(
        {"kiosk": {"data_dir": str(tmp_path / "data"), "demo": demo}, "server": {"token": ""}}
    )
    return build_runtime(settings)


def test_demo_pin_only_on_a_demo_kiosk(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, demo=True)
    assert staff_pin_ok(rt.settings, "9999")
    assert not staff_pin_ok(rt.settings, "1234")
    rt.stop()
    rt = _runtime(tmp_path / "b", demo=False)
    assert not staff_pin_ok(rt.settings, "9999")
    rt.stop()


def test_staff_card_then_pin_opens(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    flow = StaffFlow(rt)
    assert flow.scan("AGT0001").severity == Severity.ERROR
    flow.scan("STF0001")
    assert flow.step == StaffStep.PIN
    assert flow.sync_now().severity == Severity.ERROR  # locked: no actions yet
    flow.enter_pin("1111")
    flow.enter_pin("2222")
    assert flow.step == StaffStep.PIN
    flow.enter_pin("3333")
    assert flow.step == StaffStep.LOCKED
    rt.stop()


class FakeClock:
    """Wall time the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


def test_wrong_staff_pins_back_off_then_lock_across_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    rt = _runtime(tmp_path)
    flow = StaffFlow(rt, clock=clock)
    flow.hidden_entry()
    for pin in ("1111", "2222"):
        assert flow.enter_pin(pin).msgid == "PIN salah. Coba lagi."
    # the third: a wait of 30 s, and staff mode goes back to its locked step
    msg = flow.enter_pin("3333")
    assert flow.step == StaffStep.LOCKED
    assert msg.msgid.startswith("Terlalu banyak PIN salah") and msg.params == {"seconds": 30}
    # during the wait even the right PIN is not checked
    flow.hidden_entry()
    assert flow.message.params == {"seconds": 30}
    clock.now += 10
    assert flow.enter_pin("9999").params == {"seconds": 20}
    assert not flow.open
    clock.now += 20
    assert flow.enter_pin("4444").params == {"seconds": 60}  # the fourth doubles the wait
    clock.now += 60
    flow.hidden_entry()
    msg = flow.enter_pin("5555")  # the fifth locks for 15 minutes
    assert msg.msgid.startswith("Mode petugas dikunci") and msg.params == {"minutes": 15}
    rt.stop()

    # a restart (new runtime, new flow on the same store) keeps the lock
    clock.now += 14 * 60
    rt = _runtime(tmp_path)
    flow = StaffFlow(rt, clock=clock)
    flow.hidden_entry()
    assert flow.message.params == {"seconds": 60}
    assert flow.enter_pin("9999").severity == Severity.ERROR and not flow.open
    # once it has run out one more wrong PIN locks again at once
    clock.now += 61
    flow.hidden_entry()
    assert flow.message.msgid == "Masukkan PIN petugas."
    assert flow.enter_pin("6666").params == {"minutes": 15}
    clock.now += 15 * 60
    flow.hidden_entry()
    assert flow.enter_pin("9999").msgid == "Mode petugas." and flow.open
    # the right PIN clears the count: two wrong ones cost nothing again
    flow.lock()
    flow.hidden_entry()
    flow.enter_pin("1111")
    assert flow.enter_pin("2222").msgid == "PIN salah. Coba lagi."
    rt.stop()


def test_a_clock_set_back_cannot_stretch_the_lock(tmp_path: Path) -> None:
    clock = FakeClock()
    rt = _runtime(tmp_path)
    flow = StaffFlow(rt, clock=clock)
    for _ in range(5):
        flow.hidden_entry()
        flow.enter_pin("0000")
        clock.now += 3600
    clock.now -= 10 * 365 * 86400
    flow.hidden_entry()
    assert flow.message.params == {"minutes": 15}
    rt.stop()


def test_status_and_actions_offline_only(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    flow = StaffFlow(rt)
    flow.hidden_entry()
    flow.enter_pin("9999")
    st = flow.status({"wedge": "ready"})
    assert st.link == "none" and st.queue_depth == 0 and st.devices == {"wedge": "ready"}
    assert flow.sync_now().severity == Severity.WARNING  # no server configured
    assert flow.force_offline(True).severity == Severity.WARNING
    assert flow.print_test().severity == Severity.SUCCESS  # the preview printer
    assert rt.services.slips.last_preview.exists()
    msg = flow.export_queue(tmp_path / "export")
    assert msg.severity == Severity.SUCCESS and Path(msg.params["path"]).exists()
    flow.lock()
    assert not flow.open
    rt.stop()


def told_then_heard(
    store: LocalStore, item: str, told: dict, heard: dict | None, *, error: str | None = None
) -> str:
    """An offline checkout the kiosk decided as ``told``; the server then answered
    ``heard`` (or refused the request itself with ``error``). Returns its id."""
    tx = store.new_transaction(Kind.CHECKOUT, card="AGT0001", item=item, offline=True)
    store.commit(tx, TransactionResult(id=tx.id, **told), applied_on_server=False)
    store.mark_in_flight([tx.id])
    if error is not None:
        store.mark_failed(tx.id, error)
    else:
        assert heard is not None
        store.mark_sent([TransactionResult(id=tx.id, **heard)])
    return tx.id


DUE_SLIP = datetime(2026, 12, 14, 16, 0, tzinfo=UTC)
DUE_SERVER = datetime(2026, 12, 15, 16, 0, tzinfo=UTC)


def test_follow_up_list_and_marking_a_difference_handled(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    ok = {"status": Status.ACCEPTED, "due_at": DUE_SLIP}
    refused = told_then_heard(
        rt.store, "B000101", ok, {"status": Status.REFUSED, "reason": Reason.ITEM_ON_LOAN_TO_OTHER}
    )
    later_due = told_then_heard(
        rt.store, "B000102", ok, {"status": Status.ACCEPTED, "due_at": DUE_SERVER}
    )
    failed = told_then_heard(rt.store, "B000103", ok, None, error="422: not a transaction")
    conflict = told_then_heard(
        rt.store, "B000104", ok, {"status": Status.CONFLICT, "reason": Reason.NOT_ON_LOAN}
    )
    flow = StaffFlow(rt)
    flow.scan("STF0001")
    assert flow.follow_ups() == []  # locked
    flow.enter_pin("9999")
    items = flow.follow_ups()
    assert [i.tx_id for i in items] == [conflict, failed, later_due, refused]  # newest first
    by_id = {i.tx_id: i for i in items}
    assert by_id[refused].what.msgid == "Kios menyetujui, server tidak. Hubungi anggota ini."
    assert by_id[later_due].what.params == {"slip": DUE_SLIP, "server": DUE_SERVER}
    assert by_id[failed].what.params == {"error": "422: not a transaction"}
    assert by_id[conflict].what.msgid == "Kios menyetujui, server tidak. Hubungi anggota ini."
    assert [i.closable for i in items] == [True, False, True, True]
    assert [i.resendable for i in items] == [False, True, False, False]
    assert [(i.card, i.code) for i in items] == [
        ("AGT0001", "B000104"),
        ("AGT0001", "B000103"),
        ("AGT0001", "B000102"),
        ("AGT0001", "B000101"),
    ]
    assert flow.status().mismatches == 3
    assert flow.follow_ups_beyond(len(items)) is None  # all of them listed
    flow.FOLLOW_UP_LIMIT = 3
    more = flow.follow_ups_beyond(len(flow.follow_ups()))
    assert more is not None and more.params == {"shown": 3, "total": 4}
    flow.FOLLOW_UP_LIMIT = StaffFlow.FOLLOW_UP_LIMIT

    assert flow.mark_handled(refused).severity == Severity.SUCCESS
    assert flow.mark_handled(refused).msgid == "Sudah ditangani sebelumnya."
    assert flow.mark_handled(conflict).severity == Severity.SUCCESS
    items = flow.follow_ups()
    assert [i.tx_id for i in items] == [conflict, failed, later_due]
    assert items[0].what.msgid.startswith("Konflik di server") and not items[0].closable
    assert flow.status().mismatches == 1
    row = rt.store.row(refused)
    assert row is not None and row.handled_at is not None
    # The server's cause fixed: the failed row goes back in the queue.
    assert flow.resend(failed).msgid == "Dikirim ulang pada sinkronisasi berikutnya."
    assert flow.resend(failed).msgid == "Sudah dikirim ulang sebelumnya."
    assert [i.tx_id for i in flow.follow_ups()] == [conflict, later_due]
    assert [t.id for t in rt.store.pending(10)] == [failed]
    assert (flow.status().failed, flow.status().queue_depth) == (0, 1)
    flow.lock()
    assert flow.mark_handled(later_due).severity == Severity.ERROR  # locked
    assert flow.resend(later_due).severity == Severity.ERROR
    rt.stop()
