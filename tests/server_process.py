"""A real central server in a subprocess on 127.0.0.1, for integration tests.

Uses the installed ``kiosk-server`` command exactly as staff would: migrate,
seed-demo, add-kiosk (token from the last line of its output), serve.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("kiosk-server")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "server.cli"]


@dataclass
class ServerProcess:
    """One server with its own database file; ``restart`` keeps the database."""

    folder: Path
    db_url: str = ""
    port: int = 0
    proc: subprocess.Popen | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db_url = self.db_url or f"sqlite:///{(self.folder / 'server.sqlite3').as_posix()}"
        self.port = self.port or free_port()

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KIOSK_SERVER_DB"] = self.db_url
        env["KIOSK_SERVER_DATA"] = str(self.folder / "data")
        # The console script imports the checkout the venv was installed from; the
        # server under test is this checkout's.
        env["PYTHONPATH"] = str(ROOT)
        return env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            server_cmd() + list(args), env=self.env, capture_output=True, text=True, timeout=120
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kiosk-server {args}: {proc.returncode}\n{proc.stdout}{proc.stderr}"
            )
        return proc

    def setup_demo(self, *kiosks: str) -> None:
        self.cli("migrate")
        self.cli("seed-demo")
        for name in kiosks:
            self.tokens[name] = self.cli("add-kiosk", name).stdout.strip().splitlines()[-1]

    def start(self, timeout: float = 30.0) -> None:
        log = (self.folder / "server.log").open("ab")
        self.proc = subprocess.Popen(
            server_cmd() + ["serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    "server exited:\n" + (self.folder / "server.log").read_text()[-3000:]
                )
            try:
                if requests.get(self.url + "/api/v1/health", timeout=0.5).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError("server did not answer /health in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def get(self, path: str, kiosk: str) -> requests.Response:
        return requests.get(
            self.url + "/api/v1" + path,
            headers={"Authorization": f"Bearer {self.tokens[kiosk]}"},
            timeout=10,
        )
