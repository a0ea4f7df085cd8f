"""Realistic camera frames: zxing-cpp, pyzbar and the default pipeline side by side.

Run by ``bench_camera.py``.

The frames come from :mod:`devices.camera.realistic` at its ``hard`` level (the
worst a person would still call readable): printed slips, book covers, phone
screens and webcam effects, each named, plus combinations and frames holding no
code. Timing is on one core (the process is pinned to one CPU and OpenCV to one
thread), as on a kiosk whose other core runs the app. The default pipeline is
measured as the live camera runs it (``default``: nothing more after the first
pass where nothing code-like was found, up to 60 ms of CPU where only edges were,
150 ms where zxing-cpp found a code it could not read) and as ``kiosk decode`` runs
it (``default_still``, no limit).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

import numpy as np

from bench.harness import Recorder
from devices.base import Symbology
from devices.camera import make_decoder, realistic
from devices.camera.decoders import require
from devices.camera.source import LIVE

PER_KIND = 8
NEGATIVES_PER_KIND = 4


def run(rec: Recorder) -> None:
    cv2 = require("cv2")
    t0 = time.perf_counter()
    frames = realistic.dataset(
        level="hard", per_kind=PER_KIND, negatives_per_kind=NEGATIVES_PER_KIND
    )
    print(f"   generated {len(frames)} frames in {time.perf_counter() - t0:.1f} s")
    decoders = {
        "zxing": make_decoder("zxing"),
        "pyzbar": make_decoder("pyzbar"),
        "default": make_decoder("default", **LIVE),
        "default_still": make_decoder("default"),
    }
    threads = cv2.getNumThreads()
    cpus = os.sched_getaffinity(0)
    cv2.setNumThreads(1)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        table = {name: _measure(rec, name, dec, frames) for name, dec in decoders.items()}
    finally:
        cv2.setNumThreads(threads)
        os.sched_setaffinity(0, cpus)
    _print_table(table)


def _measure(rec: Recorder, name: str, dec, frames) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Reads (1.0 or 0.0) per family and per kind/family, times per kind, false codes."""
    dec.decode(frames[0].image)  # warm-up: the first call loads tables
    by: dict[str, list[float]] = defaultdict(list)
    times: list[float] = []
    false_pos = misreads = positives = negatives = 0
    for f in frames:
        start = time.perf_counter()
        found = dec.decode(f.image)
        ms = (time.perf_counter() - start) * 1000
        times.append(ms)
        by[f"{f.kind}/ms"].append(ms)
        if f.data is None:
            negatives += 1
            false_pos += bool(found)
            by[f"{f.kind}/false"].append(float(bool(found)))
            continue
        positives += 1
        ok = any(d.text == f.data and d.symbology == f.symbology for d in found)
        misreads += any(d.text != f.data for d in found)
        family = "qr" if f.symbology is Symbology.QR else "linear"
        by[family].append(float(ok))
        by[f"{f.kind}/{family}"].append(float(ok))
    prefixes = [f"camera.realistic.{name}"]
    if name == "default":
        prefixes.append("camera.realistic")
    for p in prefixes:
        rec.record(f"{p}.qr_read_rate", _rate(by["qr"]), "", ">= 0.95")
        rec.record(f"{p}.linear_read_rate", _rate(by["linear"]), "", ">= 0.95")
        rec.record(f"{p}.false_positive_rate", false_pos / max(1, negatives), "", "0")
        rec.record(f"{p}.misread_rate", misreads / max(1, positives), "", "0")
        rec.record(f"{p}.frame_ms_median", float(np.median(times)), "ms", "< 33")
        rec.record(f"{p}.frame_ms_p95", float(np.percentile(times, 95)), "ms")
    for kind in (*realistic.KINDS, *realistic.NEGATIVE_KINDS):
        key = f"camera.realistic.{name}.{kind}"
        for family in ("qr", "linear"):
            if by[f"{kind}/{family}"]:  # in the table below
                rec.figures[f"{key}.{family}_read_rate"] = round(_rate(by[f"{kind}/{family}"]), 4)
        if by[f"{kind}/false"]:
            rec.figures[f"{key}.false_positive_rate"] = round(_rate(by[f"{kind}/false"]), 4)
        rec.figures[f"{key}.frame_ms_median"] = round(float(np.median(by[f"{kind}/ms"])), 2)
        rec.figures[f"{key}.frame_ms_p95"] = round(float(np.percentile(by[f"{kind}/ms"], 95)), 2)
    by["all/ms"] = times
    return by


def _rate(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _print_table(table: dict[str, dict[str, list[float]]]) -> None:
    names = list(table)
    print("   qr / linear read rate, median / p95 ms")
    print("   " + " " * 29 + "".join(f"{n:>26}" for n in names))
    for kind in (*realistic.KINDS, ""):
        label = kind or "overall"
        cells = ""
        for n in names:
            q = _rate(table[n][f"{kind}/qr" if kind else "qr"])
            lin = _rate(table[n][f"{kind}/linear" if kind else "linear"])
            ms = table[n][f"{kind}/ms" if kind else "all/ms"]
            med, p95 = float(np.median(ms)), float(np.percentile(ms, 95))
            cells += f"{q:>7.2f}/{lin:.2f} {med:>6.1f}/{p95:<6.0f}"
        print(f"   {label:<29}{cells}")
    print("   codes reported in frames holding none (of frames), median / p95 ms")
    for kind in realistic.NEGATIVE_KINDS:
        cells = ""
        for n in names:
            false = table[n][f"{kind}/false"]
            ms = table[n][f"{kind}/ms"]
            med, p95 = float(np.median(ms)), float(np.percentile(ms, 95))
            cells += f"{int(sum(false)):>9}/{len(false):<3} {med:>6.1f}/{p95:<6.0f}"
        print(f"   {kind:<29}{cells}")
