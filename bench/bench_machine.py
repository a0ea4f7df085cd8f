"""This machine's speed, printed first so other figures can be read against it.

The targets in the issues were set "on this 2-core machine", but sessions run on
different hosts of the same kind, and one was measured about 2.3x slower than
another on identical code. Two reference figures make that visible in the same
run instead of leaving it to guesswork:

- ``machine.python_ref_s``: seconds for a fixed pure-Python workload (a loop of
  integer additions and a dict/str workload, the kind of work the server and the
  flows do), best of three;
- ``machine.fsync_per_s``: 4 KiB write + fsync pairs per second in a temporary
  folder on the project's disk (what bounds durable commits).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.harness import Recorder


def _python_workload() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    table: dict[str, int] = {}
    for i in range(300_000):
        key = f"B{i:07d}"
        table[key] = table.get(key, 0) + len(key)
    assert total > 0 and len(table) == 300_000
    return time.perf_counter() - started


def _fsync_rate(folder: Path, n: int = 500) -> float:
    block = b"\0" * 4096
    fd = os.open(folder / "fsync.bin", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        started = time.perf_counter()
        for _ in range(n):
            os.write(fd, block)
            os.fsync(fd)
        return n / (time.perf_counter() - started)
    finally:
        os.close(fd)


def run(rec: Recorder) -> None:
    rec.record("machine.python_ref_s", min(_python_workload() for _ in range(3)), "s")
    root = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        rec.record("machine.fsync_per_s", _fsync_rate(Path(tmp)), "fsyncs/s")
