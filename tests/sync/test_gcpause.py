"""gc_paused: the collector is off inside and back as it was after the last exit."""

from __future__ import annotations

import gc
import threading

from core.gcpause import gc_paused


def test_nested_and_restored():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner exit does not switch it back on
    assert gc.isenabled()


def test_left_off_when_it_was_off():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_two_threads_overlapping():
    inside, leave = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with gc_paused():
            inside.set()
            leave.wait(10)
        seen.append(gc.isenabled())

    t = threading.Thread(target=other)
    with gc_paused():
        t.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread is still inside
    leave.set()
    t.join(10)
    assert seen == [True] and gc.isenabled()


def test_an_error_inside_still_restores():
    try:
        with gc_paused():
            raise ValueError("bad snapshot")
    except ValueError:
        pass
    assert gc.isenabled()
