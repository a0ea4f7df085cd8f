"""A real server process and Debian's chromium driven by Playwright, for the console.

The browser is the system's (``/usr/bin/chromium``, or ``KIOSK_CHROMIUM``): nothing
downloads one. Tests marked ``browser`` skip where it is missing, except under
``KIOSK_REQUIRE_ALL=1`` (CI), where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server_process import ServerProcess

ADMIN = ("kepala", "kepala-rahasia-1")
LIBRARIAN = ("pustakawan1", "pustaka-rahasia-2")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def console_server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path / "server")
    srv.setup_demo("kiosk-1")
    srv.cli("add-staff", ADMIN[0], "--password", ADMIN[1], "--role", "admin")
    srv.cli("add-staff", LIBRARIAN[0], "--password", LIBRARIAN[1], "--role", "librarian")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import chromium_path

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    # destructive buttons ask "are you sure?": the librarian in these tests says yes
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        yield page
    finally:
        context.close()


def sign_in(page: object, base: str, who: tuple[str, str], next_path: str = "/staff/") -> None:
    """Sign in through the real form, as a librarian would."""
    page.goto(base + next_path)  # type: ignore[attr-defined]
    page.fill("#name", who[0])  # type: ignore[attr-defined]
    page.fill("#password", who[1])  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("form[action='/staff/login'] button[type=submit]")  # type: ignore[attr-defined]
    assert "/staff/login" not in page.url, page.content()  # type: ignore[attr-defined]
