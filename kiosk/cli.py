"""The ``kiosk`` command: the touchscreen app, the screenless station, staff tools."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from core.cli import OneLineParser, error_log_path, run_command
from core.text import ascii_digits
from kiosk.config import KioskSettings, load_settings

DEFAULT_CONFIG = "kiosk.toml"


def _config_path(arg: str | None) -> Path:
    return Path(arg or os.environ.get("KIOSK_CONFIG") or DEFAULT_CONFIG)


def _display_problem() -> str | None:
    """Why no window can open here, or None. Checked before Kivy is imported."""
    if sys.platform.startswith("linux"):
        if os.environ.get("SDL_VIDEODRIVER") or os.environ.get("DISPLAY"):
            return None
        if os.environ.get("WAYLAND_DISPLAY"):
            return None
        return (
            "kiosk: no display found (DISPLAY is not set). Run it on the kiosk's desktop, "
            "or without a screen: xvfb-run -a make run"
        )
    return None


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="kiosk", description="Pustaka Kiosk self-service station")
    p.add_argument("--config", help=f"kiosk TOML file (default $KIOSK_CONFIG or {DEFAULT_CONFIG})")
    p.add_argument("--headless", action="store_true", help="screenless station (no window)")
    p.add_argument(
        "--mode", choices=["checkout", "return", "door", "guestbook"], default="checkout"
    )
    p.add_argument("--event", type=int, help="event id for --mode door")
    p.add_argument("--log-level", default=os.environ.get("KIOSK_LOG_LEVEL", "INFO"))
    sub = p.add_subparsers(dest="command")
    sub.add_parser("status", help="queue depth, last sync, snapshot age, link")
    sub.add_parser("sync", help="send the queue and refresh the snapshot now")
    ex = sub.add_parser("export-queue", help="write unsent transactions to FILE (JSONL)")
    ex.add_argument("file")
    hd = sub.add_parser("handled", help="mark a mismatch settled with the patron (TX_ID)")
    hd.add_argument("tx_id")
    hd.add_argument("--by", help="who settled it (default: the logged-in user)")
    rs = sub.add_parser("resend", help="queue a failed transaction again (TX_ID)")
    rs.add_argument("tx_id")
    sub.add_parser("hash-pin", help="print the argon2 hash of a staff PIN for [ui] staff_pin_hash")
    dec = sub.add_parser("decode", help="read codes in still images with the camera pipeline")
    dec.add_argument("files", nargs="+")
    return p


def main(argv: list[str] | None = None) -> int:
    """Every failure ends as one line on stderr (see ``core.cli.run_command``)."""
    args = build_parser().parse_args(argv)
    level = logging.getLevelName(str(args.log_level).upper())
    if not isinstance(level, int):
        print(
            f"kiosk: error: --log-level {args.log_level!r}; allowed DEBUG, INFO, WARNING, ERROR",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    loaded: list[KioskSettings] = []

    def log_path() -> Path:
        return error_log_path("kiosk", loaded[0].kiosk.data_dir if loaded else None)

    return run_command("kiosk", lambda: _main(args, loaded), log_path=log_path)


def _main(args: argparse.Namespace, loaded: list[KioskSettings]) -> int:
    if args.command == "hash-pin":
        return _hash_pin()
    if args.command == "decode":
        from devices.camera.cli import main as decode_main

        return decode_main(args.files)
    settings = load_settings(_config_path(args.config))
    loaded.append(settings)
    if args.command in ("status", "sync", "export-queue", "handled", "resend"):
        from kiosk import admin

        return admin.run(args.command, settings, args)
    if args.headless:
        from kiosk.headless import run_station

        return run_station(settings, mode=args.mode, event_id=args.event)
    return run_ui(settings)


def _hash_pin() -> int:
    import getpass

    from argon2 import PasswordHasher

    pin = getpass.getpass("Staff PIN: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not ascii_digits(pin) or not 4 <= len(pin) <= 12:
        print("kiosk: a staff PIN is 4 to 12 digits", file=sys.stderr)
        return 2
    print(PasswordHasher().hash(pin))
    return 0


def run_ui(settings: KioskSettings) -> int:
    problem = _display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from kiosk.ui.app import run_app

    return run_app(settings)


if __name__ == "__main__":
    raise SystemExit(main())
