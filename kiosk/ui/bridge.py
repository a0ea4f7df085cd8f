"""The one place where work hops between the Kivy thread and the flow thread.

The rule: every call into a flow (kiosk.flows: a scan, a PIN, a key on a guest
form, a reset at the end of a session, and making a flow whose constructor
reads the store) runs on this bridge's one flow thread, through
:meth:`UiBridge.run` (screens use ``KioskScreen.call_flow`` and ``end_flow``).
The Kivy thread only reads the state a flow has left, to render it; it never
calls a flow, so a flow is never used by two threads at once, and its calls run
in the order they were made. Two things that are not screen flows stay on the
Kivy thread: the idle-session clock (``kiosk.flows.session``, asked a few times
a second) and the code classifier (a pure function of the config).

Flow calls may wait on the network (a decision can take up to the decision
deadline); the screen keeps drawing and shows "Memproses…". Their results, and
scans from device threads, come back through :meth:`UiBridge.post`, which is
``Clock.schedule_once``. Nothing else in the UI hops threads, and no worker
touches a widget.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kivy.clock import Clock

log = logging.getLogger(__name__)


class UiBridge:
    """Runs flow work off the UI thread and posts results back onto it.

    One worker thread, because flows are not thread-safe and scans must be
    decided in the order they were made.
    """

    def __init__(self, on_busy: Callable[[bool], None] | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-flow")
        self._pending = 0
        self._posts = 0
        self._posts_lock = threading.Lock()
        self._on_busy = on_busy
        self._ui_thread = threading.get_ident()  # made by the App, on the Kivy thread
        self._pending_since: float | None = None

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` now when already on the Kivy thread, else :meth:`post` it.

        A wedge scan arrives in a window key event, on the Kivy thread: handling it
        there and then (not a frame later) lets its result reach the screen one
        frame sooner. Scans from device threads are posted as before.
        """
        if threading.get_ident() == self._ui_thread:
            fn(*args)
        else:
            self.post(fn, *args)

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` on the Kivy thread at the next frame (safe from any thread)."""
        with self._posts_lock:
            self._posts += 1

        def call(_dt: float) -> None:
            with self._posts_lock:
                self._posts -= 1
            fn(*args)

        Clock.schedule_once(call, 0)

    @property
    def busy(self) -> bool:
        """Flow work running, or results and scans not yet delivered to the screen."""
        return self._pending > 0 or self._posts > 0

    @property
    def pending_since(self) -> float | None:
        """``time.perf_counter()`` when the flow work now pending began (None: none)."""
        return self._pending_since

    def _set_pending(self, delta: int) -> None:
        if self._pending == 0 and delta > 0:
            self._pending_since = time.perf_counter()
        self._pending += delta
        if self._pending == 0:
            self._pending_since = None
        if self._on_busy is not None:
            self._on_busy(self._pending > 0)

    def run(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
        *,
        quiet: bool = False,
    ) -> None:
        """Run ``work()`` on the flow thread; call ``done(result)`` on the UI thread.

        ``quiet`` work (status polling) does not show "Memproses…".
        """
        if not quiet:
            self._set_pending(+1)
        future = self._pool.submit(work)
        future.add_done_callback(lambda f: self.post(self._finish, f, done, failed, quiet))

    def _finish(
        self,
        future: Future,
        done: Callable[[Any], None] | None,
        failed: Callable[[BaseException], None] | None,
        quiet: bool = False,
    ) -> None:
        if not quiet:
            self._set_pending(-1)
        exc = future.exception()
        if exc is not None:
            log.error("flow call failed", exc_info=exc)
            if failed is not None:
                failed(exc)
            return
        if done is not None:
            done(future.result())

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
