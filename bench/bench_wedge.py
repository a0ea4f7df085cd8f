"""Keyboard wedge: share of scanner bursts and typed strings the detector classifies right.

Synthetic timings: scanners send a key every 1–15 ms with occasional jitter up
to 30 ms; people type with log-normal gaps (median ~180 ms, the fastest
around 60 ms), sometimes right before or after a scan. Seeded, so the figure
is the same on every run.
"""

from __future__ import annotations

import random
import string

from bench.harness import Recorder
from devices.wedge import ScanDetected, TypedKeys, WedgeDetector

TRIALS = 2000
CODES = ("AGT{:07d}", "STF{:04d}", "B{:06d}", "978602{:07d}")


def _scan_keys(rng: random.Random, t: float) -> tuple[str, list[tuple[str, float]], float]:
    code = rng.choice(CODES).format(rng.randrange(10**4))
    keys = []
    for ch in code + "\r":
        keys.append((ch, t))
        jitter = rng.random() < 0.05
        t += rng.uniform(0.015, 0.030) if jitter else rng.uniform(0.001, 0.015)
    return code, keys, t


def _typed_keys(rng: random.Random, t: float) -> tuple[str, list[tuple[str, float]], float]:
    text = "".join(
        rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(1, 12))
    )
    keys = []
    for ch in text:
        keys.append((ch, t))
        t += max(0.06, rng.lognormvariate(-1.7, 0.5))
    keys.append(("\r", t))  # the person presses Enter at the end
    return text, keys, t + max(0.06, rng.lognormvariate(-1.7, 0.5))


def run(rec: Recorder) -> None:
    rng = random.Random(20261128)
    right = total = 0
    scans_right = typed_right = scans = typed = 0
    for _ in range(TRIALS):
        det = WedgeDetector()
        t = 0.0
        parts = []
        for _ in range(rng.randint(1, 3)):  # a few things in a row, scans and typing mixed
            if rng.random() < 0.5:
                code, keys, t = _scan_keys(rng, t)
                parts.append(("scan", code, keys))
            else:
                text, keys, t = _typed_keys(rng, t)
                parts.append(("typed", text, keys))
            t += rng.uniform(0.08, 1.5)
        for kind, expected, keys in parts:
            events = []
            for k, kt in keys:
                events += det.feed(k, kt)
            events += det.poll(keys[-1][1] + 0.2)
            got_scans = [e.text for e in events if isinstance(e, ScanDetected)]
            got_typed = "".join(k for e in events if isinstance(e, TypedKeys) for k in e.keys)
            if kind == "scan":
                ok = got_scans == [expected] and got_typed == ""
                scans += 1
                scans_right += ok
            else:
                ok = got_scans == [] and got_typed == expected + "\r"
                typed += 1
                typed_right += ok
            right += ok
            total += 1
    rec.record("wedge.accuracy", right / total, "", "1.0")
    rec.record("wedge.scan_accuracy", scans_right / max(1, scans))
    rec.record("wedge.typed_accuracy", typed_right / max(1, typed))
