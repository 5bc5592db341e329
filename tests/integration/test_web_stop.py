"""``relaydesk web`` stopped by SIGTERM exits 0, whenever the stop comes: while it still
starts (its runtime built, the app made) here; while it serves, in
test_simulation_jobs_distributed.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config import EXAMPLE_PATH
from tests.support.processes import Background, relaydesk_env
from tests.support.services import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "relaydesk.toml"
    shutil.copyfile(EXAMPLE_PATH, config)
    return relaydesk_env(
        config, RELAYDESK_DATABASE_URL=sqlite_url, RELAYDESK_WEB__PORT=str(free_port())
    )


def test_web_stopped_while_it_starts_exits_cleanly(env: dict[str, str]) -> None:
    web = Background(["web"], env)
    try:
        web.wait_for_output("relaydesk web on", 60)  # said before uvicorn runs
        assert web.stop() == 0, web.output()
    finally:
        web.kill_group()
