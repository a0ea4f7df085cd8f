"""server.keys: one ticket signing key per data folder, whoever starts first."""

from __future__ import annotations

import multiprocessing
import stat
import sys
from pathlib import Path

import pytest

from core.tickets import public_key_text
from server.keys import KEY_FILE, load_or_create_ticket_key


def _start(data_dir: str, barrier, out) -> None:  # type: ignore[no-untyped-def]
    barrier.wait()
    out.put(public_key_text(load_or_create_ticket_key(Path(data_dir))))


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    # server workers (or a CLI beside the server) starting on a new data folder
    ctx = multiprocessing.get_context("spawn")
    n = 6
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_start, args=(str(tmp_path), barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * n
    keys = {out.get(timeout=5) for _ in range(n)}
    assert keys == {public_key_text(load_or_create_ticket_key(tmp_path))}
    assert [f.name for f in tmp_path.iterdir()] == [KEY_FILE]  # no half-made copies left


def test_a_key_made_meanwhile_by_another_process_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = public_key_text(load_or_create_ticket_key(tmp_path))
    # this process looked before the other one put its key in place
    monkeypatch.setattr(Path, "exists", lambda _self: False)
    assert public_key_text(load_or_create_ticket_key(tmp_path)) == first
    assert [f.name for f in tmp_path.iterdir()] == [KEY_FILE]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_key_file_is_private(tmp_path: Path) -> None:
    load_or_create_ticket_key(tmp_path / "new")
    mode = stat.S_IMODE((tmp_path / "new" / KEY_FILE).stat().st_mode)
    assert mode == 0o600
