"""A seeded demo desk is a believable one to simulate on: its tickets are resolved within
hours or days, so its agents are seldom full, and a simulation of a rule change routes
most tickets (what ``relaydesk rules simulate`` shows on the README's demo)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from config import EXAMPLE_PATH
from tests.conftest import make_settings
from workers.cli.main import main
from workers.desk.demo_seed import seed_demo

END = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
TICKETS, DAYS = 100, 7  # 20 a weekday, as the README's 1000 over 60 days


def test_a_seeded_demos_simulation_assigns_most_tickets_and_few_wait_for_a_full_agent(
    sqlite_url: str,
) -> None:
    settings = make_settings(sqlite_url)
    seed_demo(settings, end=END, tickets=TICKETS, days=DAYS, languages=("en", "zh"), seed=20)
    first, last = (END - timedelta(days=DAYS + 1)).date(), END.date()
    result = CliRunner().invoke(
        main,
        [
            "rules",
            "simulate",
            str(EXAMPLE_PATH),
            "--from",
            str(first),
            "--to",
            str(last),
            "--format=json",
        ],
        env={"RELAYDESK_DATABASE_URL": sqlite_url, "LANG": "C"},
    )
    assert result.exit_code == 0, result.output
    routing = json.loads(result.output)["routing"]
    assert routing["tickets"] == TICKETS
    assert routing["assigned"]["current"] >= 0.9 * TICKETS, routing
    full = sum(u["current"] for u in routing["unrouted"] if u["reason"] == "full")
    assert full <= 0.25 * TICKETS, routing
    # both online agents of the example take work (sam is away)
    assert {"ana", "ben"} <= {a["name"] for a in routing["agents"]}, routing["agents"]
