"""A TCP proxy that breaks connections on purpose, between a kiosk and its server.

It ships in the package (not only in tests) so staff and tests can rehearse a
bad network on a laptop::

    python -m sync.faultproxy --listen 127.0.0.1:9000 --target 127.0.0.1:8080 \\
        --refuse 0.1 --drop-response 0.2 --truncate 0.1 --delay 0.1 --delay-s 3

Faults, each with its own probability (rolled once per HTTP request):

``refuse``         close the client's connection (FIN) before the request reaches the server
``reset_request``  read the request, then reset (RST) without forwarding it
``drop_response``  forward the request, let the server commit and answer, then
                   reset the client's connection instead of passing the answer on:
                   the nastiest case for exactly-once delivery
``truncate``       pass on only the first part of the answer, then close
``delay``          hold the answer back ``delay_s`` seconds (past a deadline)

The proxy works on raw bytes and knows just enough HTTP/1.1 to find where a
request ends (``Content-Length``), so a fault hits one request even on a
kept-alive connection.
"""

from __future__ import annotations

import argparse
import logging
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields

log = logging.getLogger(__name__)

FAULTS = ("refuse", "reset_request", "drop_response", "truncate", "delay")


@dataclass
class FaultPlan:
    """Probabilities (0..1) of each fault per request, and the delay length."""

    refuse: float = 0.0
    reset_request: float = 0.0
    drop_response: float = 0.0
    truncate: float = 0.0
    delay: float = 0.0
    delay_s: float = 3.0
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def roll(self) -> str | None:
        """The fault for the next request, or None to pass it through."""
        x = self._rng.random()
        for name in FAULTS:
            p = float(getattr(self, name))
            if x < p:
                return name
            x -= p
        return None


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed router or a pulled cable would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _read_message(sock: socket.socket, buf: bytearray) -> bytes | None:
    """One HTTP/1.1 message (head + Content-Length body) from ``sock``; None at EOF."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head_end = buf.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buf[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            return _read_chunked(sock, buf, head_end)
    while len(buf) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    msg = bytes(buf[: head_end + length])
    del buf[: head_end + length]
    return msg


def _read_chunked(sock: socket.socket, buf: bytearray, pos: int) -> bytes | None:
    while True:
        while b"\r\n" not in buf[pos:]:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buf += chunk
        line_end = buf.index(b"\r\n", pos)
        size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
        need = line_end + 2 + size + 2
        while len(buf) < need:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buf += chunk
        pos = need
        if size == 0:
            msg = bytes(buf[:pos])
            del buf[:pos]
            return msg


class FaultProxy:
    """Listens on ``listen`` and forwards to ``target``, injecting faults per ``plan``.

    ``counts`` tells how often each fault (and ``pass``) happened. ``plan`` may
    be replaced at any time (e.g. ``proxy.plan = FaultPlan()`` to heal the link).
    """

    def __init__(
        self,
        target: tuple[str, int],
        plan: FaultPlan | None = None,
        *,
        listen: tuple[str, int] = ("127.0.0.1", 0),
    ) -> None:
        self.target = target
        self.plan = plan or FaultPlan()
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._server = socket.create_server(listen)
        self._server.settimeout(0.2)
        self.address: tuple[str, int] = self._server.getsockname()[:2]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._server.close()
        for conn in list(self._conns):
            _reset(conn)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _count(self, name: str) -> None:
        with self._counts_lock:
            self.counts[name] += 1

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            threading.Thread(
                target=self._serve, args=(client,), name="faultproxy-conn", daemon=True
            ).start()

    def _serve(self, client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conns.add(client)
        upstream: socket.socket | None = None
        try:
            cbuf, ubuf = bytearray(), bytearray()
            while not self._stop.is_set():
                request = _read_message(client, cbuf)
                if request is None:
                    return
                fault = self.plan.roll()
                self._count(fault or "pass")
                if fault == "refuse":
                    return  # closed in ``finally``: an empty answer, nothing forwarded
                if fault == "reset_request":
                    _reset(client)
                    return
                if upstream is None:
                    upstream = socket.create_connection(self.target, timeout=60)
                    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                upstream.sendall(request)
                response = _read_message(upstream, ubuf)
                if response is None:
                    return
                if fault == "drop_response":
                    _reset(client)  # the server has committed; the kiosk never hears of it
                    return
                if fault == "truncate":
                    client.sendall(response[: max(1, len(response) // 2)])
                    client.close()
                    return
                if fault == "delay":
                    time.sleep(self.plan.delay_s)
                client.sendall(response)
        except OSError as exc:
            log.debug("faultproxy connection ended: %s", exc)
        finally:
            self._conns.discard(client)
            client.close()
            if upstream is not None:
                upstream.close()


def _hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sync.faultproxy", description=__doc__)
    p.add_argument("--listen", default="127.0.0.1:9000", help="HOST:PORT to listen on")
    p.add_argument("--target", required=True, help="HOST:PORT of the real server")
    for f in fields(FaultPlan):
        if f.name.startswith("_"):
            continue
        kind = int if f.name == "seed" else float
        p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default)
    args = p.parse_args(argv)
    plan = FaultPlan(
        **{f.name: getattr(args, f.name) for f in fields(FaultPlan) if not f.name.startswith("_")}
    )
    logging.basicConfig(level=logging.INFO)
    proxy = FaultProxy(_hostport(args.target), plan, listen=_hostport(args.listen)).start()
    print(f"faultproxy: {proxy.url} -> {args.target} ({plan})", flush=True)
    try:
        while True:
            time.sleep(5)
            log.info("faults so far: %s", dict(proxy.counts))
    except KeyboardInterrupt:
        proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
