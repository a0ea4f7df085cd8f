"""Camera decoding: zxing-cpp versus pyzbar versus the default pipeline, on one generated set.

Every symbology the kiosk reads, clean and under seven degradations, placed in
1280×720 frames, plus frames with no code (noise, text, shelves, stripes,
faces…). Prints read rates per symbology and per degradation side by side and
records the headline figures. The default pipeline is measured as the live
camera runs it (with ``source.LIVE``'s limits, see ``DefaultDecoder``);
``default_still`` is the same pipeline with no limit, as ``kiosk decode`` runs it
on files.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from bench import camera_realistic
from bench.harness import Recorder
from devices.camera import make_decoder, synth
from devices.camera.source import LIVE

SEEDS = 3
NEGATIVES_PER_KIND = 4


def run(rec: Recorder) -> None:
    t0 = time.perf_counter()
    samples = synth.dataset(seeds=SEEDS, negatives_per_kind=NEGATIVES_PER_KIND)
    print(f"   generated {len(samples)} frames in {time.perf_counter() - t0:.1f} s")
    decoders = {
        "zxing": make_decoder("zxing"),
        "pyzbar": make_decoder("pyzbar"),
        "default": make_decoder("default", **LIVE),
        "default_still": make_decoder("default"),
    }
    table: dict[str, dict[str, list[bool]]] = {}
    for name, dec in decoders.items():
        dec.decode(samples[0].frame)  # warm-up: first call loads tables
        by: dict[str, list[bool]] = defaultdict(list)
        times: list[float] = []
        false_pos = misreads = 0
        negatives = positives = 0
        for s in samples:
            start = time.perf_counter()
            found = dec.decode(s.frame)
            times.append((time.perf_counter() - start) * 1000)
            if s.data is None:
                negatives += 1
                false_pos += bool(found)
                continue
            positives += 1
            ok = any(d.text == s.data and d.symbology == s.symbology for d in found)
            misreads += any(d.text != s.data for d in found)
            by[str(s.symbology)].append(ok)
            by[s.degradation].append(ok)
            by["degraded" if s.degradation != "clean" else "clean_all"].append(ok)
        table[name] = by
        p = f"camera.{name}"
        rec.record(f"{p}.clean_read_rate", _rate(by["clean_all"]), "", ">= 0.99")
        rec.record(f"{p}.degraded_read_rate", _rate(by["degraded"]))
        rec.record(f"{p}.frame_ms_median", float(np.median(times)), "ms", "< 33")
        rec.record(f"{p}.frame_ms_p95", float(np.percentile(times, 95)), "ms")
        rec.record(f"{p}.false_positive_rate", false_pos / max(1, negatives), "", "0")
        rec.record(f"{p}.misread_rate", misreads / max(1, positives), "", "0")
        if name == "default":
            rec.record("camera.false_positive_rate", false_pos / max(1, negatives), "", "0")
    _print_table(table)
    print("   -- realistic frames (devices/camera/realistic.py), one core")
    camera_realistic.run(rec)


def _rate(xs: list[bool]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _print_table(table: dict[str, dict[str, list[bool]]]) -> None:
    names = list(table)
    rows = [str(s) for s in synth.SAMPLES] + ["clean", *synth.DEGRADATIONS]
    print("   read rate        " + "".join(f"{n:>14}" for n in names))
    for row in rows:
        cells = "".join(f"{_rate(table[n][row]):>14.2f}" for n in names)
        print(f"   {row:<16} {cells}")
