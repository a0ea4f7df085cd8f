"""Keyboard wedge: scanner bursts versus people typing, on synthetic timings."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import DeviceState, Scan, Symbology
from devices.wedge import KeyboardWedge, ScanDetected, TypedKeys, WedgeDetector, open_wedge


def burst(text: str, t0: float = 0.0, gap: float = 0.004, suffix: str = "enter"):
    keys = [(c, t0 + i * gap) for i, c in enumerate(text)]
    if suffix:
        keys.append((suffix, t0 + len(text) * gap))
    return keys


def typing(text: str, t0: float = 0.0, gap: float = 0.15):
    return [(c, t0 + i * gap) for i, c in enumerate(text)]


def run(det: WedgeDetector, keys, end: float | None = None):
    events = []
    for k, t in keys:
        events += det.feed(k, t)
    if end is not None:
        events += det.poll(end)
    return events


def typed_text(events) -> str:
    return "".join(k for e in events if isinstance(e, TypedKeys) for k in e.keys)


def scans(events) -> list[str]:
    return [e.text for e in events if isinstance(e, ScanDetected)]


def test_scanner_burst_is_a_scan_and_types_nothing():
    events = run(WedgeDetector(), burst("AGT0000101"))
    assert scans(events) == ["AGT0000101"]
    assert typed_text(events) == ""


def test_person_typing_is_released_not_scanned():
    events = run(WedgeDetector(), typing("Siti") + [("enter", 0.8)], end=2.0)
    assert scans(events) == []
    assert typed_text(events) == "Sitienter"


def test_typing_then_scan_then_typing_keeps_each_apart():
    keys = typing("ab") + burst("B000123", t0=1.0) + typing("cd", t0=2.0)
    events = run(WedgeDetector(), keys, end=5.0)
    assert scans(events) == ["B000123"]
    assert typed_text(events) == "abcd"


def test_short_fast_burst_with_enter_is_typing():
    # Two keys rolled over quickly then Enter: shorter than min_length, so a person.
    events = run(WedgeDetector(min_length=3), burst("ok"))
    assert scans(events) == []
    assert typed_text(events) == "okenter"


def test_prefix_stripped_and_crlf_suffix_swallowed():
    det = WedgeDetector(prefix="]C1")
    keys = burst("]C1B000123", suffix="\r") + [("\n", 0.045)]
    events = run(det, keys, end=1.0)
    assert scans(events) == ["B000123"]
    assert typed_text(events) == ""


def test_no_suffix_scanner_ends_on_pause():
    det = WedgeDetector(suffix=None)
    events = run(det, burst("9786020332956", suffix=""), end=1.0)
    assert scans(events) == ["9786020332956"]


def test_overlong_burst_is_flagged():
    det = WedgeDetector(max_length=10)
    events = run(det, burst("X" * 50))
    assert len(events) == 1 and isinstance(events[0], ScanDetected)
    assert events[0].overlong and events[0].text == "X" * 10


def test_modifiers_ignored_and_backspace_released():
    det = WedgeDetector()
    keys = [
        ("shift", 0.0),
        ("A", 0.001),
        ("G", 0.005),
        ("T", 0.009),
        ("1", 0.013),
        ("enter", 0.017),
    ]
    assert scans(run(det, keys)) == ["AGT1"]
    events = run(det, [("a", 1.0), ("backspace", 1.2)])
    assert typed_text(events) == "abackspace"


def test_deadline_and_pending():
    det = WedgeDetector(max_gap=0.04)
    det.feed("a", 1.0)
    deadline = det.deadline()
    assert det.pending and deadline is not None and abs(deadline - 1.04) < 1e-9
    assert det.poll(1.02) == []
    assert det.poll(1.05) == [TypedKeys(("a",))]
    assert not det.pending and det.deadline() is None


def test_keyboard_wedge_source_dispatches_scans_and_returns_typed_keys():
    got: list[Scan] = []
    src = open_wedge("wedge:?max_gap_ms=40&min_length=4", name="wedge")
    assert src.state is DeviceState.UNKNOWN
    src.start(got.append)
    assert src.state is DeviceState.READY
    typed = []
    for k, t in burst("STF0001") + typing("hi", t0=1.0):
        typed += src.feed_key(k, t)
    typed += src.poll(3.0)
    assert [s.text for s in got] == ["STF0001"] and got[0].source == "wedge"
    assert typed == ["h", "i"]
    src.stop()


def test_overlong_wedge_scan_is_unreadable():
    got: list[Scan] = []
    src = KeyboardWedge(detector=WedgeDetector(max_length=8))
    src.start(got.append)
    for k, t in burst("Y" * 20):
        src.feed_key(k, t)
    assert got[0].symbology is Symbology.UNREADABLE


printable = st.characters(min_codepoint=32, max_codepoint=126)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(printable, st.sampled_from(["enter", "backspace", "shift", "\t"])),
            st.floats(0, 0.5),
        ),
        max_size=60,
    )
)
def test_fuzz_no_character_is_lost_or_invented(stream):
    """Every printable key fed ends up, in order, in exactly one scan or one typed release."""
    det = WedgeDetector()
    t = 0.0
    events = []
    for key, dt in stream:
        t += dt
        events += det.feed(key, t)
    events += det.poll(t + 1.0)
    out: list[str] = []
    for e in events:
        out.extend(e.keys if isinstance(e, TypedKeys) else list(e.text))
    fed_chars = [k for k, _ in stream if len(k) == 1 and k.isprintable()]
    assert [k for k in out if len(k) == 1 and k.isprintable()] == fed_chars
    assert not det.pending


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=3, max_size=40),
    st.integers(0, 2**32),
)
def test_fuzz_scans_with_jitter_are_always_scans(code, seed):
    rng = random.Random(seed)
    det = WedgeDetector()
    t = 10.0
    events = []
    for c in code:
        events += det.feed(c, t)
        t += rng.uniform(0.001, 0.030)
    events += det.feed("enter", t)
    assert scans(events) == [code]
    assert typed_text(events) == ""


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
    st.integers(0, 2**32),
)
def test_fuzz_human_typing_is_never_a_scan(text, seed):
    rng = random.Random(seed)
    det = WedgeDetector()
    t = 0.0
    events = []
    for c in text:
        events += det.feed(c, t)
        t += rng.uniform(0.06, 0.6)
    events += det.feed("enter", t)
    events += det.poll(t + 1)
    assert scans(events) == []
    assert typed_text(events) == text + "enter"
