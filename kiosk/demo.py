"""``make run``: the central server on an embedded SQLite file with the demo library,
a registered kiosk, and the kiosk window connected to it.

Everything lives under ``data/demo/`` (ignored by git). The kiosk's token is
made fresh on every start (``kiosk-server add-kiosk`` rotates it) and written
only to the generated ``data/demo/kiosk.toml``; the demo staff password is made
fresh too (``seed-demo``) and printed in the terminal.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from core import demo
from kiosk.cli import _display_problem
from kiosk.cli import main as kiosk_main
from kiosk.flows.staff import DEMO_STAFF_PIN

ROOT = Path.cwd()
DATA = ROOT / "data" / "demo"
KIOSK_NAME = "demo-kiosk"


def _server_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("kiosk-server")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "server.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(_server_cmd() + args, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"make run: kiosk-server {args[0]} failed (exit {proc.returncode})")
    return proc.stdout


def write_kiosk_config(path: Path, *, url: str, token: str, data_dir: Path) -> None:
    """The demo kiosk's config: keyboard as scanner, on-screen slip preview as printer."""
    # created 0600: the token is never readable by other users, not even for a moment
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(
            f"""# Made by `make run` on every start; edit config/kiosk.example.toml for real kiosks.
[kiosk]
name = "{KIOSK_NAME}"
library_name = "Perpustakaan Kota Probolinggo"
language = "id"
data_dir = "{data_dir.as_posix()}"
demo = true

[server]
url = "{url}"
token = "{token}"

[devices]
scanners = ["wedge:"]
printer = "preview:"
"""
        )


def demo_cards_line() -> str:
    """The cards and items to try, from the demo library ``kiosk-server seed-demo`` wrote."""
    cards = ", ".join(
        f"{p.card} ({p.first_name}" + (f", PIN {p.pin})" if p.pin else ")")
        for p in demo.PATRONS
        if p.status == "active" and p.card != demo.STAFF_CARD
    )
    items = f"{demo.ITEMS[0].barcode}…{demo.ITEMS[-1].barcode}"
    staff = f"staff card {demo.STAFF_CARD} (PIN {DEMO_STAFF_PIN})"
    return f"demo cards: {cards}; {staff}; items {items}"


def main() -> int:
    problem = _display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    DATA.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["KIOSK_SERVER_DB"] = f"sqlite:///{(DATA / 'server.sqlite3').as_posix()}"
    env["KIOSK_SERVER_DATA"] = str(DATA / "server")
    _run(["migrate"], env)
    # data/demo is the demo's own database: re-seeding it on every start is the point
    staff_password = _run(["seed-demo", "--force"], env).strip().splitlines()[-1].strip()
    token = _run(["add-kiosk", KIOSK_NAME], env).strip().splitlines()[-1].strip()
    port = int(os.environ.get("KIOSK_DEMO_PORT") or _free_port())
    url = f"http://127.0.0.1:{port}"
    log = (DATA / "server.log").open("ab")
    server = subprocess.Popen(
        _server_cmd() + ["serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print(
                    f"make run: the server did not start; see {DATA / 'server.log'}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.2)
        config = DATA / "kiosk.toml"
        write_kiosk_config(config, url=url, token=token, data_dir=DATA / "kiosk")
        print(f"central server: {url}  (log: {DATA / 'server.log'})")
        print(demo_cards_line())
        print("type a code and Enter anywhere in the window: the keyboard is the scanner")
        print(
            f"staff console: {url}/staff/  sign in as petugas / {staff_password}"
            "  (new on every start; also the staff API's login)"
        )
        return kiosk_main(["--config", str(config)])
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


if __name__ == "__main__":
    raise SystemExit(main())
