"""The web pages in a real headless Chromium (this machine has no route to the internet)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Page

from connectors.web.app import create_app
from tests.support.services import free_port
from tests.support.web_fakes import SETTINGS, FakeHelpdesk

pytestmark = pytest.mark.integration


@pytest.fixture
def base_url() -> Iterator[str]:
    desk = FakeHelpdesk()
    port = free_port()
    app = create_app(intake=desk, tickets=desk, settings=SETTINGS)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_the_api_docs_render_their_operations_without_the_internet(
    base_url: str, page: Page
) -> None:
    offline: list[str] = []
    page.on("request", lambda r: offline.append(r.url) if not r.url.startswith(base_url) else None)
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary", timeout=30_000)
    summaries = page.locator(".opblock-summary-description").all_inner_texts()

    for summary in ("Open a ticket", "Read a ticket", "Follow a submission"):
        assert summary in summaries
    assert offline == []  # every asset came from our own server
