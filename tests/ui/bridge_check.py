"""Checks of kiosk.ui.bridge, run in a child process by test_bridge.py."""

from __future__ import annotations

import functools
import threading
import time

from kivy.clock import Clock

from kiosk.ui.bridge import UiBridge


def _pump(until, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < end, "timed out"
        Clock.tick()
        time.sleep(0.005)


def check_slow_work_runs_off_the_ui_thread_and_reports_busy() -> None:
    busy_changes: list[bool] = []
    bridge = UiBridge(on_busy=busy_changes.append)
    ui_thread = threading.get_ident()
    seen: dict[str, int] = {}

    release = threading.Event()

    def work() -> str:
        seen["work"] = threading.get_ident()
        # A decision waiting on the network, until the test lets it answer; had run()
        # called work itself, this would give up (after 5 s) before run() returned.
        seen["released"] = int(release.wait(timeout=5))
        return "done"

    results: list[str] = []

    def done(value: str) -> None:
        seen["done"] = threading.get_ident()
        results.append(value)

    bridge.run(work, done)
    assert bridge.busy and not results  # run() returned while the work still waits
    release.set()
    _pump(lambda: results)
    assert results == ["done"]
    assert seen["work"] != ui_thread and seen["done"] == ui_thread
    assert seen["released"] == 1  # the work answered because the test released it
    assert busy_changes[0] is True and busy_changes[-1] is False
    _pump(lambda: not bridge.busy)
    bridge.shutdown()


def check_work_runs_in_order_and_errors_reach_failed() -> None:
    bridge = UiBridge()
    order: list[int] = []
    errors: list[BaseException] = []

    def slow(i: int) -> int:
        time.sleep(0.01)
        return i

    for i in range(5):
        bridge.run(functools.partial(slow, i), order.append)
    bridge.run(lambda: 1 / 0, None, errors.append)
    _pump(lambda: len(order) == 5 and errors)
    assert order == [0, 1, 2, 3, 4]
    assert isinstance(errors[0], ZeroDivisionError)
    bridge.shutdown()


def check_call_soon_is_inline_on_the_ui_thread_and_posted_from_others() -> None:
    bridge = UiBridge()
    calls: list[tuple[str, int]] = []
    bridge.call_soon(lambda: calls.append(("ui", threading.get_ident())))
    assert calls == [("ui", threading.get_ident())]  # a wedge scan: handled at once
    device = threading.Thread(
        target=lambda: bridge.call_soon(lambda: calls.append(("device", threading.get_ident())))
    )
    device.start()
    device.join()
    assert len(calls) == 1  # from a device thread: posted, not run there
    _pump(lambda: len(calls) == 2)
    assert calls[1] == ("device", threading.get_ident())
    bridge.shutdown()


def check_pending_since_covers_exactly_the_pending_work() -> None:
    bridge = UiBridge()
    assert bridge.pending_since is None
    release = threading.Event()
    results: list[int] = []
    bridge.run(lambda: (release.wait(5), 1)[1], results.append)
    since = bridge.pending_since
    assert since is not None
    bridge.run(lambda: 2, results.append)
    assert bridge.pending_since == since  # still the first one's start
    bridge.run(lambda: 0, quiet=True)  # status polling is never "pending"
    release.set()
    _pump(lambda: results == [1, 2] and not bridge.busy)
    assert bridge.pending_since is None
    bridge.shutdown()


if __name__ == "__main__":
    check_slow_work_runs_off_the_ui_thread_and_reports_busy()
    check_work_runs_in_order_and_errors_reach_failed()
    check_call_soon_is_inline_on_the_ui_thread_and_posted_from_others()
    check_pending_since_covers_exactly_the_pending_work()
    print("bridge ok")
