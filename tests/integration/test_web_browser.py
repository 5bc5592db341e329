"""The web pages in a real headless Chromium (this machine has no route to the internet)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from connectors.web.app import create_app
from tests.support.services import free_port
from tests.support.web_fakes import SETTINGS, FakeHelpdesk

pytestmark = pytest.mark.integration


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed: the web pages are tested in it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


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


def rendered(url: str) -> str:
    """The page's DOM once its scripts have run."""
    result = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    return result.stdout


def test_the_api_docs_render_their_operations_without_the_internet(base_url: str) -> None:
    page = rendered(f"{base_url}/docs")

    assert 'class="swagger-ui' in page
    for summary in ("Open a ticket", "Read a ticket", "Follow a submission"):
        assert summary in page
