"""The benchmark harness: every ``bench/bench_*.py`` module has ``run(rec: Recorder)``.

``make bench`` runs them all in one process order, prints each figure as
``name: value unit (target …)`` and writes ``bench/results/latest.json`` as one
flat JSON object of named figures. Benchmarks never assert on time.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass
class Recorder:
    """Collects named figures; each is printed the moment it is recorded."""

    figures: dict[str, float] = field(default_factory=dict)

    def record(self, name: str, value: float, unit: str = "", target: str = "") -> None:
        value = round(float(value), 4)
        self.figures[name] = value
        line = f"{name}: {value:g} {unit}".rstrip()
        if target:
            line += f" (target {target})"
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    only = set(args)
    rec = Recorder()
    failed: list[str] = []
    bench_dir = Path(__file__).resolve().parent
    # bench_machine first: its reference figures describe the machine the rest ran on.
    modules = sorted(
        pkgutil.iter_modules([str(bench_dir)]), key=lambda m: (m.name != "bench_machine", m.name)
    )
    for info in modules:
        if not info.name.startswith("bench_"):
            continue
        short = info.name.removeprefix("bench_")
        if only and short not in only and info.name not in only:
            continue
        print(f"== {info.name}", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{info.name}")
            module.run(rec)
        except Exception:  # a broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(info.name)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old: dict[str, float] = {}
    if only and RESULTS.exists():
        old = json.loads(RESULTS.read_text())
    old.update(rec.figures)
    RESULTS.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS.relative_to(bench_dir.parent)} ({len(rec.figures)} figures)")
    if failed:
        print("benchmarks that failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
