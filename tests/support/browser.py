"""A real headless Chromium driven by Playwright, for the pages' tests.

Playwright drives Debian's ``chromium`` (``executable_path``): nothing is
downloaded, and this machine has no route to the internet anyway. Without the
browser a test is skipped on a laptop and fails when ``CI`` is set, as the
other fixtures for real services do.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

#: Where the browser tests write their screenshots for a reviewer (not committed).
SCREENSHOTS = Path(os.environ.get("RELAYDESK_SCREENSHOTS", "screenshots"))


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed: the web pages are tested in it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser per test module: Playwright's sync API keeps its event loop running
    in the main thread while it is open, and a later module's ``asyncio.run`` in the
    same test process would fail with "cannot be called from a running event loop"."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (its own cookies) at 1280x800, English."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Write the page as SCREENSHOTS/NAME.png for a reviewer to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
