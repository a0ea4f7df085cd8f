"""Screenshots of every kiosk screen in Bahasa Indonesia and English: ``make screenshots``.

Runs the real app (under the current DISPLAY, e.g. ``xvfb-run``) once per
language through the UI tests' scripted runner (``tests.ui.scripted``), with
the demo scene and no server, and writes ``docs/screenshots/SCREEN-LANG.png``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core import demo  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def steps(lang: str) -> list[dict]:
    s: list[dict] = [
        {"expect_screen": "home"},
        {"wait": 0.3},
        {"shot": f"home-{lang}"},
        {"call": "app.show_attract"},
        {"shot": f"attract-{lang}"},
        {"call": "app.go_home"},
        {"scan": "AGT0002"},
        {"expect_screen": "borrow"},
        {"pin_digits": "12"},  # two digits typed, not sent: the pad shows two dots
        {"shot": f"borrow-pin-{lang}"},
        {"call": "app.go_home"},
        {"scan": "AGT0001"},
        {"expect_screen": "borrow"},
        {"scan": "B000101"},
        {"scan": "B000102"},
        {"scan": "B000109"},
        {"scan": "B000106"},
        {"shot": f"borrow-{lang}"},
        {"tap": "done"},
        {"shot": f"borrow-slip-{lang}"},
        {"tap": "slip_yes"},
        {"wait": 0.3},
        {"shot": f"borrow-thanks-{lang}"},
        {"call": "app.go_home"},
        {"tap": "tile_return"},
        {"scan": "B000101"},
        {"scan": "B000108"},
        {"scan": "B000110"},
        {"shot": f"return-{lang}"},
        {"call": "app.go_home"},
        {"tap": "tile_account"},
        {"scan": "AGT0001"},
        {"wait": 0.2},
        {"shot": f"account-{lang}"},
        {"call": "app.go_home"},
        {"tap": "tile_events"},
        {"wait": 0.3},
        {"shot": f"events-{lang}"},
        {"tap_text": demo.WORKSHOP.title},
        {"tap": "as_guest"},
        *[{"call": "events.key", "args": [k]} for k in ["shift", *"RINA", "space", *"WATI"]],
        {"call": "events.key", "args": ["next"]},
        *[{"call": "events.key", "args": [k]} for k in "0812345678"],
        {"shot": f"events-guest-{lang}"},
        {"call": "events.key", "args": ["9"]},
        {"tap": "submit_guest"},
        {"wait": 0.3},
        {"shot": f"events-ticket-{lang}"},
        {"call": "app.go_home"},
        {"scan": "STF0001"},
        {"pin_digits": "99"},  # two digits typed, not sent: the staff pad shows two dots
        {"shot": f"staff-pin-{lang}"},
        {"call": "app.go_home"},
        {"scan": "STF0001"},
        {"pin": "9999"},
        {"wait": 0.6},
        {"shot": f"staff-{lang}"},
        {"tap": "door_mode"},
        {"wait": 0.3},
        {"tap_text": demo.WORKSHOP.title},  # the event's button in the list
        {"scan": "AGT0002"},
        {"scan": "AGT0002"},
        {"shot": f"door-{lang}"},
        {"scan": "STF0001"},
        {"pin": "9999"},
        {"wait": 0.3},
        {"tap": "guestbook_mode"},
        {"expect_screen": "guestbook"},
        {"scan": "AGT0002"},
        {"wait": 0.2},
        {"shot": f"guestbook-member-{lang}"},
        {"tap": "skip_purpose"},
        {"expect_screen": "survey"},
        {"wait": 0.2},
        {"shot": f"survey-{lang}"},
        {"tap": "face_4"},
        {"tap_text": "Koleksi buku" if lang == "id" else "Book collection"},
        {"shot": f"survey-chips-{lang}"},
        {"tap": "skip_chips"},
        {"expect_screen": "guestbook", "timeout": 8},
        {"tap": "as_guest"},
        *[{"call": "guestbook.key", "args": [k]} for k in ["shift", *"RINA", "space", *"WATI"]],
        {"call": "guestbook.key", "args": ["next"]},
        *[{"call": "guestbook.key", "args": [k]} for k in ["shift", *"SMAN", "space", "1"]],
        {"shot": f"guestbook-guest-{lang}"},
        {"tap": "next_page"},
        {"call": "guestbook.choose", "args": ["gender", "female"]},
        {"call": "guestbook.choose", "args": ["education", "SMA/SMK"]},
        {"call": "guestbook.choose", "args": ["occupation", "Pelajar"]},
        {"wait": 0.2},
        {"shot": f"guestbook-guest-choices-{lang}"},
        {"tap": "cancel_guest_2"},
        {"tap": "as_group"},
        *[{"call": "guestbook.key", "args": [k]} for k in ["B", "U", "space", *"ANI"]],
        {"call": "guestbook.key", "args": ["next"]},
        *[{"call": "guestbook.key", "args": [k]} for k in "081299887766"],
        {"call": "guestbook.key", "args": ["next"]},
        *[{"call": "guestbook.key", "args": [k]} for k in ["shift", *"SDN", "space", "2"]],
        {"call": "guestbook.count", "args": ["male", 12]},
        {"call": "guestbook.count", "args": ["female", 14]},
        {"wait": 0.2},
        {"shot": f"guestbook-group-{lang}"},
        {"tap": "submit_group"},
        {"wait": 0.2},
        {"shot": f"guestbook-{lang}"},
        {"scan": "STF0001"},
        {"pin": "9999"},
        {"wait": 0.3},
        {"call": "staff.out_of_service"},
        {"wait": 0.2},
        {"shot": f"out-of-service-{lang}"},
    ]
    return s


def run(lang: str, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "kiosk.toml"
    cfg.write_text(
        f'[kiosk]\nlanguage = "{lang}"\ndata_dir = "{work / "data"}"\ndemo = true\n'
        '[server]\ntoken = ""\n[ui]\nsound = false\n'
        # every guest-book session asks, so the survey is on screen for its shot
        "[feedback]\nevery_nth_session = 1\n"
    )
    # as a real kiosk's is: staff mode would list a config others can read
    cfg.chmod(0o600)
    script = work / "steps.json"
    script.write_text(json.dumps(steps(lang)))
    env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_HOME=str(work / "kivy"), KIVY_LOG_LEVEL="error")
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "tests.ui.scripted", "--config", str(cfg), "--script"]
    cmd += [str(script), "--out", str(work / "out"), "--seed-demo"]
    subprocess.run(cmd, env=env, check=True, timeout=180)
    return json.loads((work / "out" / "result.json").read_text())


def main() -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("SDL_VIDEODRIVER")):
        print("screenshots: no display; run under xvfb-run (make screenshots)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    failed = False
    with tempfile.TemporaryDirectory(prefix="kiosk-shots-") as tmp:
        for lang in ("id", "en"):
            res = run(lang, Path(tmp) / lang)
            for err in res["errors"]:
                print(f"screenshots ({lang}): {err}", file=sys.stderr)
                failed = True
            for name, path in sorted(res["shots"].items()):
                shutil.copyfile(path, OUT / f"{name}.png")
                print(f"docs/screenshots/{name}.png")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
