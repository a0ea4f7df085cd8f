"""Staff mode: entry by staff card + PIN, the health panel, actions."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import KioskSettings
from kiosk.flows.base import Severity
from kiosk.flows.staff import StaffFlow, StaffStep, staff_pin_ok
from kiosk.runtime import build_runtime
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
    flow.enter_pin("3333")
    assert flow.step == StaffStep.LOCKED
    flow.hidden_entry()
    flow.enter_pin("9999")
    assert flow.open
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
