"""Every command meets bad input with one line per problem and the right exit status.

The commands run as real processes (``python -m kiosk.cli`` / ``server.cli``), so what
is checked is what a librarian's terminal shows: no Python traceback, one line per
problem naming the file and key, exit 2 for config and arguments, 1 for the rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BROKEN_KIOSK = [
    # (toml text, expected lines: each a substring of one stderr line, in order)
    ('[devices]\nprinter = "lpt://foo"\n', ["[devices] printer: unknown scheme 'lpt'"]),
    (
        '[devices]\nscanners = ["serial:///dev/ttyACM0?baud=9600"]\n',
        ["[devices] scanners[0]: ", "unknown option 'baud'; allowed aim, baudrate"],
    ),
    ('[devices]\nscanners = ["wedge:?max_gap_ms=fast"]\n', ["option max_gap_ms: 'fast' is not"]),
    ('[devices]\nprinter = "tcp://"\n', ["names no device; for example tcp://"]),
    ('[devices]\nprinter = "usb://printer"\n', ["'printer' is not valid; for example usb://"]),
    ("[devices]\npaper_mm = 76\n", ["[devices] paper_mm: "]),
    ('[headless]\nscanners = ["camera:0?decoder=zbar"]\n', ["[headless] scanners[0]: "]),
    ("[codes]\npatron_patterns = ['^AGT(\\\\d+$']\n", ["[codes] patron_patterns: "]),
    ("[offline]\nmax_items_per_session = 500\n", ["[offline] max_items_per_session: "]),
    ('[kiosk]\nlanguge = "id"\n', ["[kiosk] languge: unknown key"]),
    ("[server\n", ["not valid TOML"]),
]


def _run(module: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KIOSK_ERROR_LOG": str(cwd / "errors.log")}
    env.pop("KIOSK_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_lines(run: subprocess.CompletedProcess[str], prog: str, wanted: list[str]) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, lines  # each broken config in the tables has one problem
    for piece in wanted:
        assert piece in lines[0], lines
    assert all(line.startswith(f"{prog}: ") or line.startswith(f"{prog} ") for line in lines), lines


@pytest.mark.parametrize(("text", "wanted"), BROKEN_KIOSK)
@pytest.mark.parametrize("command", [["status"], ["--headless", "--mode", "return"], ["sync"]])
def test_kiosk_commands_refuse_a_broken_config(
    tmp_path: Path, text: str, wanted: list[str], command: list[str]
) -> None:
    (tmp_path / "kiosk.toml").write_text(text)
    run = _run("kiosk.cli", ["--config", "kiosk.toml", *command], tmp_path)
    assert run.returncode == 2, run.stderr
    _assert_lines(run, "kiosk", wanted)
    assert all("kiosk.toml" in line for line in run.stderr.strip().splitlines())


def test_all_problems_of_a_file_come_at_once(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text(
        '[kiosk]\nlanguge = "id"\n[devices]\nprinter = "lpt://x"\n'
        'scanners = ["serial://?baud=1"]\n[ui]\nvolume = 3\n'
    )
    run = _run("kiosk.cli", ["--config", "kiosk.toml", "status"], tmp_path)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 5, lines  # languge, volume, baud, no port, lpt
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("args", "status", "wanted"),
    [
        (["--config", "missing.toml", "status"], 2, "missing.toml: cannot read config"),
        (["--mode", "dance"], 2, "kiosk: error: argument --mode: invalid choice"),
        (["--log-level", "LOUD", "status"], 2, "--log-level 'LOUD'"),
        (["--config", "ok.toml", "export-queue", "no/such/dir/q.jsonl"], 1, "no/such/dir"),
        (["--config", "ok.toml", "resend", "nope"], 1, "nope"),
        (["--event", "x"], 2, "argument --event: invalid int value"),
        (["decode", "missing.png"], 1, "missing.png"),
    ],
)
def test_kiosk_bad_arguments(tmp_path: Path, args: list[str], status: int, wanted: str) -> None:
    (tmp_path / "ok.toml").write_text('[kiosk]\ndata_dir = "data"\n[devices]\nprinter = "none:"\n')
    run = _run("kiosk.cli", args, tmp_path)
    assert run.returncode == status, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    assert wanted in run.stderr, run.stderr


def test_kiosk_sync_to_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "ok.toml").write_text(
        '[kiosk]\ndata_dir = "data"\n[server]\nurl = "http://127.0.0.1:9"\ntoken = "t"\n'
        'decision_timeout_s = 0.5\n[devices]\nprinter = "none:"\n'
    )
    run = _run("kiosk.cli", ["--config", "ok.toml", "sync"], tmp_path)
    assert "Traceback" not in run.stderr
    assert run.returncode == 1, (run.stdout, run.stderr)
    problems = [line for line in run.stderr.splitlines() if line.startswith("kiosk")]
    assert len(problems) == 1 and "127.0.0.1:9" in problems[0], run.stderr


BROKEN_SERVER = [
    ("[server]\nclosed_weekdays = [7]\n", 2, ["[server] closed_weekdays: "]),
    ("[server]\nstaff_session_hours = 'long'\n", 2, ["[server] staff_session_hours: "]),
    ("[server]\nofline_pin_hashes = true\n", 2, ["[server] ofline_pin_hashes: unknown key"]),
    ("[srv]\n", 2, ["[srv]: unknown section"]),
    ("[server\n", 2, ["not valid TOML"]),
]


@pytest.mark.parametrize(("text", "status", "wanted"), BROKEN_SERVER)
@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "9"], ["seed-demo"]])
def test_server_commands_refuse_a_broken_config(
    tmp_path: Path, text: str, status: int, wanted: list[str], command: list[str]
) -> None:
    (tmp_path / "server.toml").write_text(text)
    run = _run("server.cli", ["--config", "server.toml", *command], tmp_path)
    assert run.returncode == status, run.stderr
    _assert_lines(run, "kiosk-server", wanted)


@pytest.mark.parametrize(
    ("args", "status", "wanted"),
    [
        (["--db", "postgresql+psycopg://x@127.0.0.1:9/x", "migrate"], 1, "cannot reach the"),
        (["--db", "nosuch://", "migrate"], 1, "database URL 'nosuch://'"),
        (["--data-dir", "d", "import-patrons", "missing.csv"], 1, "missing.csv: No such file"),
        (["--data-dir", "d", "import-queue", "missing.jsonl"], 1, "missing.jsonl"),
        (["--data-dir", "d", "export-transactions", "--since", "yesterday"], 2, "--since"),
        (["serve", "--port", "x"], 2, "argument --port: invalid int value"),
        (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
        (["--data-dir", "d", "import-items", "bad.csv"], 1, "bad.csv"),
    ],
)
def test_server_bad_arguments(tmp_path: Path, args: list[str], status: int, wanted: str) -> None:
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00garbage\n")
    run = _run("server.cli", args, tmp_path)
    assert run.returncode == status, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert wanted in lines[0], lines


def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_log(
    tmp_path: Path,
) -> None:
    # A database file that is not a database: SQLAlchemy raises from deep inside.
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "server.db").write_bytes(b"this is not sqlite" * 100)
    run = _run("server.cli", ["--data-dir", "d", "migrate"], tmp_path)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, lines
    logged = (tmp_path / "errors.log").read_text() if (tmp_path / "errors.log").exists() else ""
    assert ("details in" in lines[0] and "Traceback" in logged) or "database" in lines[0], lines
