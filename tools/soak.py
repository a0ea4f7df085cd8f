"""The long crash loop (``make soak``): 200+ SIGKILLs of the screenless station
and 10,000+ confirmed transactions against a real server that is restarted and
taken down along the way. Ends with one line::

    soak: K kill points, N confirmed, L lost, D duplicated

With ``--guestbook`` the station is a guest-book scanner and the line adds the
visits on the server and how many (card, window) groups were miscounted.

Exit status 0 only when nothing was lost, duplicated or miscounted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.faults.crashloop import CrashLoop  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/soak.py", description=__doc__)
    p.add_argument("--kills", type=int, default=200, help="kill points (at least)")
    p.add_argument("--transactions", type=int, default=10_000, help="confirmed (at least)")
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--guestbook", action="store_true", help="a guest-book station")
    p.add_argument("--keep", help="folder to keep the server and kiosk files in")
    args = p.parse_args(argv)
    # The venv's ``kiosk`` may be an editable install of another checkout: the
    # station processes must run this one (as tests/sync/test_headless.py does).
    os.environ["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(ROOT), os.environ.get("PYTHONPATH")) if part
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        print(f"soak: seed {args.seed}, files in {folder}", flush=True)
        loop = CrashLoop(
            folder,
            seed=args.seed,
            patrons=200,
            items=2000,
            restart_p=0.1,
            down_p=0.1,
            kill_after_s=(0.2, 2.5),
            guestbook=args.guestbook,
            log=lambda s: print(s, flush=True),
        )
        result = loop.run(args.kills, args.transactions, scans_per_cycle=160)
    print(
        f"soak: {result.lines} transaction lines, {result.server_restarts} server restarts,"
        f" {result.offline_cycles} offline cycles, {time.monotonic() - started:.0f} s",
        flush=True,
    )
    if result.lost_ids:
        print("soak: lost ids: " + ", ".join(result.lost_ids[:20]), flush=True)
    for problem in result.problems[:20]:
        print(f"soak: {problem}", flush=True)
    print(result.summary(), flush=True)
    return 0 if result.lost == result.duplicated == result.miscounted == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
