"""A process loads the heavy libraries of what it does, not of everything the project can do.

Each start costs its imports' CPU (about 1.3-1.9 s here), and the suite starts hundreds of
processes. Alembic is loaded to migrate or read the scripts, python-telegram-bot and httpx
when a Bot API client or a webhook sender is made, pygal when a chart is drawn, aiosmtpd and
imapclient by the processes that run the mail connectors. Checked in a fresh interpreter:
this one has imported everything already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("alembic", "telegram", "httpx", "pygal", "aiosmtpd", "imapclient")

# a spawned worker's imports and its runtime, then the scheduler's (which imports the weekly
# report's charts)
WORKER_AND_SCHEDULER = """
from config.loader import load_settings
from workers.runtime.build import build_runtime
from workers.runtime.processes import worker_process
from workers.runtime.scheduler import Scheduler
Scheduler(build_runtime(load_settings(None), pool_size=2)).stop()
"""
COMMAND_LINE = "import workers.cli.main"
LOADED = """
import json, sys
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
countries = [m for m in sys.modules if m.startswith("holidays.countries.")]
print(json.dumps([heavy, len(countries)]))
"""


def loaded_heavy(code: str, tmp_path: Path) -> tuple[list[str], int]:
    """Which of ``HEAVY`` a fresh interpreter has loaded after running ``code``, and how
    many countries' holidays."""
    probe = code + LOADED
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    env["RELAYDESK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'start.db'}"
    done = subprocess.run(
        [sys.executable, "-c", probe, *HEAVY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    heavy, countries = json.loads(done.stdout.strip().splitlines()[-1])
    return list(heavy), int(countries)


@pytest.mark.parametrize(
    "code", [WORKER_AND_SCHEDULER, COMMAND_LINE], ids=["worker and scheduler", "command line"]
)
def test_a_process_starts_without_the_heavy_libraries_it_does_not_use(
    code: str, tmp_path: Path
) -> None:
    # the shipped settings name a country for a calendar: its code is checked at start,
    # the countries' holidays (about 280 modules) are read when a calendar is built
    assert loaded_heavy(code, tmp_path) == ([], 0)


def test_the_probe_sees_a_heavy_library_once_it_is_used(tmp_path: Path) -> None:
    made = WORKER_AND_SCHEDULER + "from connectors.webhooks.sender import WebhookSender\n"
    made += "from config.webhook_settings import WebhookSettings\n"
    made += "WebhookSender(WebhookSettings()).close()\n"
    made += "from router.business_calendar import BusinessCalendar as Calendar, weekdays\n"
    made += "Calendar.from_country('DE', timezone='UTC', weekly=weekdays().weekly)\n"
    heavy, countries = loaded_heavy(made, tmp_path)
    assert heavy == ["httpx"]
    assert countries > 0  # (the package's countries are one package: all or none)
