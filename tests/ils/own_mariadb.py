"""A MariaDB server of a test's own, to stop and start for real (an ILS outage).

The machine's shared MariaDB (``tools/mariadb.sh``) must stay up for every other
test; this one lives in a temporary folder: ``mariadb-install-db`` makes its data
directory, ``mariadbd`` serves it on a free port of 127.0.0.1 and its own socket.
The test user is made by an ``--init-file`` at every start (password login over
TCP, the way the connector logs in to a library's server), so no grant tables are
skipped and no root login is needed. ``stop`` sends SIGTERM and waits for the
server to exit; ``start`` again serves the same data directory on the same port.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.server_process import free_port

INSTALL_DB = "mariadb-install-db"


def mariadbd_path() -> str | None:
    """The server binary (Debian's ``mariadb-server`` puts it in /usr/sbin)."""
    found = shutil.which("mariadbd")
    if found:
        return found
    return "/usr/sbin/mariadbd" if os.access("/usr/sbin/mariadbd", os.X_OK) else None


def missing() -> str | None:
    """Why this machine cannot run a MariaDB server of a test's own, or None."""
    if mariadbd_path() is None or shutil.which(INSTALL_DB) is None:
        return "needs mariadbd and mariadb-install-db (apt-get install mariadb-server)"
    return None


#: small InnoDB files and no binary log: a test's server starts in a second or two
_SMALL = ["--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M"]


@dataclass
class OwnMariadb:
    """One MariaDB server in ``folder`` with one database, ``ils``."""

    folder: Path
    port: int = 0
    user: str = "pustaka"
    password: str = field(default_factory=lambda: secrets.token_hex(12))
    proc: subprocess.Popen[bytes] | None = None
    extra_init: str = ""
    """More SQL for the init file (run at every start, after the test user's)."""

    def __post_init__(self) -> None:
        self.port = self.port or free_port()

    @property
    def url(self) -> str:
        return f"mysql+pymysql://{self.user}:{self.password}@127.0.0.1:{self.port}/ils"

    def _as_root(self) -> list[str]:
        # mariadbd refuses to run as root; the Debian package's user owns the folder
        return ["--user=mysql"] if os.geteuid() == 0 else []

    def install(self) -> None:
        """Make the data directory and the init file (once)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.write_init()
        done = subprocess.run(
            [INSTALL_DB, "--no-defaults", f"--datadir={self.folder / 'data'}",
             "--auth-root-authentication-method=normal", "--skip-test-db",
             *self._as_root(), *_SMALL],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"{INSTALL_DB} failed:\n{done.stdout}{done.stderr}")

    def write_init(self) -> None:
        """(Re)write the init file the next start runs: the test user, its database
        and ``extra_init``."""
        init = self.folder / "init.sql"
        init.write_text(
            f"CREATE USER IF NOT EXISTS '{self.user}'@'127.0.0.1' "
            f"IDENTIFIED BY '{self.password}';\n"
            f"GRANT ALL PRIVILEGES ON `ils`.* TO '{self.user}'@'127.0.0.1';\n"
            "CREATE DATABASE IF NOT EXISTS `ils` CHARACTER SET utf8mb4;\n" + self.extra_init,
            encoding="utf-8",
        )
        if os.geteuid() == 0:
            shutil.chown(self.folder, "mysql", "mysql")
            shutil.chown(init, "mysql", "mysql")

    def start(self, timeout: float = 60.0) -> None:
        """Serve the data directory; returns once the port takes connections."""
        binary = mariadbd_path()
        assert binary is not None
        self.proc = subprocess.Popen(
            [binary, "--no-defaults", f"--datadir={self.folder / 'data'}",
             f"--socket={self.folder / 'mariadbd.sock'}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--pid-file={self.folder / 'mariadbd.pid'}",
             f"--log-error={self.folder / 'error.log'}", f"--init-file={self.folder / 'init.sql'}",
             "--skip-log-bin", *self._as_root(), *_SMALL],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"mariadbd exited:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
            except OSError:
                time.sleep(0.1)
                continue
            # the port opens before the init file has run: wait for the user too
            if self._user_can_log_in():
                return
            time.sleep(0.1)
        raise AssertionError(f"mariadbd did not answer in {timeout:.0f} s:\n{self.log_tail()}")

    def _user_can_log_in(self) -> bool:
        import pymysql

        try:
            pymysql.connect(
                host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                database="ils", connect_timeout=2,
            ).close()  # fmt: skip
        except pymysql.MySQLError:
            return False
        return True

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM, then wait until the server has exited (a clean shutdown)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError("mariadbd did not stop on SIGTERM") from None
        self.proc = None

    def log_tail(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextmanager
def own_mariadb() -> Iterator[OwnMariadb]:
    """A started server in a fresh folder, stopped and removed afterwards. The folder
    is made in the system's temporary directory, not pytest's: pytest's is private
    to its user, and mariadbd runs as ``mysql`` when the tests run as root."""
    folder = Path(tempfile.mkdtemp(prefix="pustaka-mariadb-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "mysql", "mysql")
    server = OwnMariadb(folder / "server")
    try:
        server.install()
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
