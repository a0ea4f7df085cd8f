"""The crash loop: a screenless station SIGKILLed at random moments, a server restarted.

Shared by the short tests (``tests/faults/test_crash_loop.py``) and the soak
(``tools/soak.py``). Each cycle starts ``kiosk --headless`` (checkout or return
mode, or guest-book mode with ``guestbook=True``) against a real
``kiosk-server`` on 127.0.0.1, feeds it scans on stdin, and kills it with
SIGKILL at a random moment while it decides, commits and syncs. Between cycles
the server is sometimes restarted, or kept down for part of a cycle so
decisions go offline and wait in the outbox.

The proof: every transaction the station confirmed (a complete JSON line on
stdout whose result is not "refused") is on the server exactly once at the end.
In guest-book mode also: no card has more visits on the server than it was
scanned, every visit on the server is one the station committed, and a card
counts exactly once per counting window (``visits.count_key``), as the station
told the member on every confirmed line.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kiosk.flows.guestbook import visit_window
from sync.store import LocalStore
from tests.server_process import ServerProcess
from tests.sync.parts import loans_per_checkout, server_db
from tests.sync.test_headless import kiosk_cmd, station_cmd, write_config


@dataclass
class CrashLoopResult:
    """What the loop did and what it found."""

    kills: int = 0
    confirmed: int = 0
    lost: int = 0
    duplicated: int = 0
    lines: int = 0
    server_restarts: int = 0
    offline_cycles: int = 0
    lost_ids: list[str] = field(default_factory=list)
    #: Guest book only: visits on the server, confirmed repeats (not counted),
    #: and (card, window) groups counted other than once or unlike the station said.
    visits: int = 0
    repeats: int = 0
    miscounted: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"soak: {self.kills} kill points, {self.confirmed} confirmed,"
            f" {self.lost} lost, {self.duplicated} duplicated"
        )
        if self.visits:
            text += (
                f"; {self.visits} visits on the server, {self.repeats} confirmed repeats,"
                f" {self.miscounted} miscounted"
            )
        return text


class CrashLoop:
    """One server, one kiosk data folder, many killed station processes."""

    def __init__(
        self,
        folder: Path,
        *,
        seed: int = 1,
        patrons: int = 40,
        items: int = 400,
        restart_p: float = 0.2,
        down_p: float = 0.15,
        kill_after_s: tuple[float, float] = (0.0, 1.0),
        guestbook: bool = False,
        log: Callable[[str], None] = lambda s: None,
    ) -> None:
        self.folder = folder
        self.rng = random.Random(seed)
        self.cards = [f"AGT{1000 + i}" for i in range(patrons)]
        self.items = [f"B{200000 + i}" for i in range(items)]
        self.restart_p = restart_p
        self.down_p = down_p
        self.kill_after_s = kill_after_s
        self.guestbook = guestbook
        self.log = log
        self.server = ServerProcess(folder / "server")
        self.on_loan: dict[str, str] = {}  # what the confirmed lines say is on loan
        self.confirmed: dict[str, dict] = {}
        self.scanned: Counter[str] = Counter()  # scans written to a station, per code
        self.result = CrashLoopResult()
        self.cfg: Path | None = None

    # -- setup ----------------------------------------------------------------
    def setup(self) -> None:
        srv = self.server
        srv.setup_demo("k1")
        pcsv = self.folder / "patrons.csv"
        pcsv.write_text(
            "card,name,expires_on\n" + "".join(f"{c},Anggota {c},2099-12-31\n" for c in self.cards)
        )
        icsv = self.folder / "items.csv"
        icsv.write_text("barcode,title\n" + "".join(f"{b},Buku {b}\n" for b in self.items))
        srv.cli("import-patrons", str(pcsv))
        srv.cli("import-items", str(icsv))
        srv.start()
        kdir = self.folder / "kiosk"
        kdir.mkdir(parents=True, exist_ok=True)
        self.cfg = write_config(
            kdir, url=srv.url, token=srv.tokens["k1"], idle_timeout_s=30.0, end_code="SELESAI"
        )
        # Shorter deadlines so a cycle with the server down still gets work done.
        text = self.cfg.read_text().replace("decision_timeout_s = 1.5", "decision_timeout_s = 1.0")
        self.cfg.write_text(text)

    # -- one cycle ------------------------------------------------------------
    def _visits(self, n: int) -> list[str]:
        """Cards at the guest book, each often again; now and then a book by mistake."""
        return [
            self.rng.choice(self.items) if self.rng.random() < 0.1 else self.rng.choice(self.cards)
            for _ in range(n)
        ]

    def _scans(self, mode: str, n: int) -> list[str]:
        scans: list[str] = []
        if mode == "return":
            out = list(self.on_loan)
            self.rng.shuffle(out)
            return out[:n]
        available = [b for b in self.items if b not in self.on_loan]
        self.rng.shuffle(available)
        loans: dict[str, int] = {}
        for card in self.on_loan.values():
            loans[card] = loans.get(card, 0) + 1
        while len(scans) < n and available:
            free = [c for c in self.cards if loans.get(c, 0) < 4]
            if not free:
                break
            card = self.rng.choice(free)
            room = 4 - loans.get(card, 0)
            take = min(room, self.rng.randint(1, 3), len(available))
            scans.append(card)
            for _ in range(take):
                scans.append(available.pop())
            loans[card] = loans.get(card, 0) + take
            scans.append("SELESAI")
        return scans

    def _note(self, line: dict) -> None:
        if line.get("type") != "transaction":
            return
        self.result.lines += 1
        if line["result"] == "refused":
            return
        tx_id = line["id"]
        if tx_id in self.confirmed:
            self.result.duplicated += 1  # the station confirmed one id twice
        self.confirmed[tx_id] = line
        if line["kind"] == "checkout":
            self.on_loan[line["item"]] = line["card"]
        elif line["kind"] == "checkin":
            self.on_loan.pop(line["item"], None)

    def cycle(self, scans_per_cycle: int = 40) -> None:
        assert self.cfg is not None
        srv = self.server
        starter: threading.Thread | None = None
        if self.rng.random() < self.restart_p:
            self._restart_server()
        if self.rng.random() < self.down_p:
            srv.stop()  # the station starts offline; the server comes back mid-cycle
            self.result.offline_cycles += 1
            starter = threading.Thread(target=self._start_later, daemon=True)
            starter.start()
        if self.guestbook:
            mode = "guestbook"
            scans = self._visits(scans_per_cycle)
        else:
            # Lend while patrons have room, return as they fill up: both kinds keep flowing.
            capacity = 4 * len(self.cards)
            mode = "checkout" if self.rng.random() > len(self.on_loan) / capacity else "return"
            scans = self._scans(mode, scans_per_cycle)
        proc = subprocess.Popen(
            station_cmd(self.cfg, "--mode", mode),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                lines.append(raw)
                ready.set()
            ready.set()

        def feed() -> None:
            assert proc.stdin is not None
            try:
                for s in scans:
                    proc.stdin.write(s + "\n")
                    proc.stdin.flush()
                    self.scanned[s] += 1
                    time.sleep(self.rng.uniform(0.001, 0.01))
            except (BrokenPipeError, ValueError, OSError):
                return

        reader = threading.Thread(target=read, daemon=True)
        feeder = threading.Thread(target=feed, daemon=True)
        reader.start()
        feeder.start()
        ready.wait(15)
        time.sleep(self.rng.uniform(*self.kill_after_s))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        reader.join(5)
        feeder.join(5)
        try:
            proc.stdin.close()
        except OSError:
            pass  # the pipe's reader is dead
        self.result.kills += 1
        for raw in lines:
            if raw.endswith("\n"):  # a line cut by the kill was never fully confirmed
                self._note(json.loads(raw))
        if starter is not None:
            starter.join(30)

    def _start_later(self) -> None:
        time.sleep(self.rng.uniform(0.3, 1.5))
        self.server.start()

    def _restart_server(self) -> None:
        srv = self.server
        if srv.proc is not None and self.rng.random() < 0.5:
            srv.proc.send_signal(signal.SIGKILL)  # the server crashes too
            srv.proc.wait(10)
            srv.proc = None
        srv.restart()
        self.result.server_restarts += 1

    # -- the end --------------------------------------------------------------
    def drain(self, timeout: float = 120.0) -> None:
        """Start the server and send whatever is still queued (staff ``kiosk sync``)."""
        assert self.cfg is not None
        if self.server.proc is None:
            self.server.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = subprocess.run(kiosk_cmd(self.cfg, "sync"), capture_output=True, text=True)
            if proc.returncode == 0 and "queue depth: 0" in proc.stdout:
                return
            time.sleep(0.5)
        raise AssertionError(f"the queue did not drain: {proc.stdout}{proc.stderr}")

    def verify(self) -> CrashLoopResult:
        if self.guestbook:
            return self._verify_visits()
        r = self.result
        db = server_db(self.server)
        try:
            on_server = {row[0] for row in db.execute("SELECT id FROM transactions")}
            reused = db.execute(
                "SELECT COUNT(*) FROM (SELECT kiosk, seq FROM transactions"
                " GROUP BY kiosk, seq HAVING COUNT(*) > 1)"
            ).fetchone()[0]
        finally:
            db.close()
        r.confirmed = len(self.confirmed)
        r.lost_ids = [i for i in self.confirmed if i not in on_server]
        r.lost = len(r.lost_ids)
        extra_loans = sum(n - 1 for n in loans_per_checkout(self.server).values() if n > 1)
        r.duplicated += extra_loans + reused
        return r

    def _verify_visits(self) -> CrashLoopResult:
        """The guest book's proof, from the server's ``visits`` table and the station's store."""
        r = self.result
        db = server_db(self.server)
        try:
            rows = db.execute("SELECT id, card, day, counted, count_key FROM visits").fetchall()
            reused = db.execute(
                "SELECT COUNT(*) FROM (SELECT kiosk, seq FROM transactions"
                " GROUP BY kiosk, seq HAVING COUNT(*) > 1)"
            ).fetchone()[0]
        finally:
            db.close()
        assert self.cfg is not None
        store = LocalStore(self.cfg.parent / "data" / "kiosk.sqlite3", kiosk="k1")
        try:
            committed = {row.tx.id for row in store.rows()}
        finally:
            store.close()
        on_server = {row[0]: row for row in rows}
        r.visits = len(rows)
        r.confirmed = len(self.confirmed)
        r.repeats = sum(1 for line in self.confirmed.values() if line.get("counted") is False)
        r.lost_ids = [i for i in self.confirmed if i not in on_server]
        r.lost = len(r.lost_ids)
        r.duplicated += reused
        # A visit the station never committed, or more visits of a card than it was scanned.
        strays = [i for i in on_server if i not in committed]
        r.duplicated += len(strays)
        r.problems += [f"on the server, not in the station's store: {i}" for i in strays[:5]]
        per_card = Counter(row[1] for row in rows)
        for card, n in per_card.items():
            if card is None or n > self.scanned[card]:
                r.duplicated += 1
                r.problems.append(f"{card}: {n} visits from {self.scanned[card]} scans")
        # Once per window: the default window is the visit's local (WIB) day.
        groups: dict[tuple[str, str], list[tuple]] = {}
        for row in rows:
            groups.setdefault((row[1], row[2]), []).append(row)
        for (card, day), group in groups.items():
            keys = [row[4] for row in group if row[3]]
            if keys != [f"{card}|{day}"] or any(row[4] for row in group if not row[3]):
                r.miscounted += 1
                r.problems.append(f"{card} on {day}: counted keys {keys} of {len(group)} visits")
        for tx_id, line in self.confirmed.items():
            row = on_server.get(tx_id)
            if row is None:
                continue  # counted as lost above
            window = visit_window(datetime.fromisoformat(line["at"]))
            if (line["card"], window) != (row[1], row[2]) or bool(row[3]) != line["counted"]:
                r.miscounted += 1
                r.problems.append(f"{tx_id}: the station said {line}, the server has {row}")
        return r

    def run(self, kills: int, min_confirmed: int = 0, scans_per_cycle: int = 40) -> CrashLoopResult:
        self.setup()
        try:
            while self.result.kills < kills or len(self.confirmed) < min_confirmed:
                self.cycle(scans_per_cycle)
                if self.result.kills % 10 == 0:
                    self.log(
                        f"  {self.result.kills} kills, {len(self.confirmed)} confirmed,"
                        f" {self.result.server_restarts} server restarts"
                    )
            self.drain()
            return self.verify()
        finally:
            self.server.stop()
