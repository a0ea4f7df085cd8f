"""Idle timeout, countdown and attract mode, with a fake clock."""

from __future__ import annotations

from kiosk.flows.session import IdleSession, SessionState


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_idle_session_counts_down_then_expires() -> None:
    clock = FakeClock()
    s = IdleSession(60, 15, attract_after_s=30, clock=clock)
    assert s.status().state == SessionState.IDLE
    s.begin()
    clock.t += 44
    st = s.status()
    assert st.state == SessionState.ACTIVE
    clock.t += 2  # 14 s left: inside the countdown
    st = s.status()
    assert st.state == SessionState.COUNTDOWN and st.seconds_left == 14
    s.touch()  # the patron touches the screen: back to a full minute
    assert s.status().state == SessionState.ACTIVE
    clock.t += 61
    assert s.status().state == SessionState.EXPIRED
    s.end()
    assert s.status().state == SessionState.IDLE


def test_attract_mode_only_on_quiet_home() -> None:
    clock = FakeClock()
    s = IdleSession(60, 15, attract_after_s=30, clock=clock)
    clock.t += 31
    assert s.attract()
    s.begin()
    clock.t += 31
    assert not s.attract()  # never during a patron's session


def test_countdown_longer_than_timeout_is_clamped() -> None:
    clock = FakeClock()
    s = IdleSession(10, 30, clock=clock)
    s.begin()
    assert s.status().state == SessionState.COUNTDOWN
    s.expire_now()
    assert s.status().state == SessionState.EXPIRED
