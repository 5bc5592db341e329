"""``relaydesk rules simulate`` routing and SLA sections on a hand-built history (SQLite
and PostgreSQL): three tickets whose arrival, first response and resolution are set, a
candidate that takes ana out of billing and tightens the first-response target."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from config import load_settings
from store.models import Ticket
from tests.support.desk import desk_for
from workers.cli import main

pytestmark = pytest.mark.integration

TEAMS = """
database_url = "{url}"
[helpdesk]
default_team = "support"
[[teams]]
name = "support"
[[teams]]
name = "billing"
[[rules.first_match]]
name = "invoices"
when = {{ keywords = ["invoice"] }}
set = {{ category = "billing", team = "billing", required_skills = {{ billing = 2 }} }}
[[agents]]
name = "ben"
email = "ben@desk.test"
teams = ["support"]
status = "online"
"""
CURRENT = """
[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support", "billing"]
skills = {{ billing = 3 }}
seniority = 4
status = "online"
[[sla.policies]]
name = "standard"
first_response = "4h"
resolution = "1d"
"""
CANDIDATE = """
[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
skills = {{ billing = 3 }}
seniority = 4
status = "online"
[[agents]]
name = "cai"
email = "cai@desk.test"
teams = ["billing"]
skills = {{ billing = 1 }}
status = "online"
[[sla.policies]]
name = "tight"
first_response = "1h"
resolution = "1d"
"""


def test_the_simulation_reports_routing_and_sla_changes_known_by_hand(
    database_url: str, tmp_path: Path
) -> None:
    current = tmp_path / "relaydesk.toml"
    candidate = tmp_path / "candidate.toml"
    current.write_text((TEAMS + CURRENT).format(url=database_url))
    candidate.write_text((TEAMS + CANDIDATE).format(url=database_url))
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    minutes = timedelta(minutes=1)
    for desk in desk_for(load_settings(current, environ={})):
        invoice = desk.submit("t1", sender="a@example.org", subject="my invoice", body="wrong")
        hello = desk.submit("t2", sender="b@example.org", subject="hello", body="hi")
        again = desk.submit("t3", sender="c@example.org", subject="hello again", body="hi")
        history = {  # arrived, first response, resolved
            invoice: (base, base + 120 * minutes, base + 180 * minutes),
            hello: (base + 10 * minutes, base + 40 * minutes, base + 60 * minutes),
            again: (base + 20 * minutes, None, None),
        }
        with desk.runtime.db.unit_of_work() as uow:
            for number, (arrived, answered, resolved) in history.items():
                uow.session.execute(
                    update(Ticket)
                    .where(Ticket.id == number)
                    .values(
                        created_at=arrived,
                        first_response_at=answered,
                        resolved_at=resolved,
                        done_at=resolved,
                    )
                )
    args = ["--config", str(current), "rules", "simulate", str(candidate), "--since", "7d"]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)

    routing = report["routing"]
    assert routing["tickets"] == 3
    assert routing["assigned"] == {"current": 3, "candidate": 2}
    # the invoice: ana now; with the candidate cai is billing's only agent, at level 1 of 2
    assert routing["unrouted"] == [
        {"reason": "no_skill", "current": 0, "candidate": 1, "examples": [invoice]}
    ]
    agents = {a["name"]: (a["current"], a["candidate"]) for a in routing["agents"]}
    # now: ana the invoice, ben (never assigned) the first hello, ana (idle longer) the second
    assert agents == {"ana": (2, 1), "ben": (1, 1)}
    teams = {t["name"]: (t["current"], t["candidate"]) for t in routing["teams"]}
    assert teams == {"billing": (1, 1), "support": (2, 2)}

    sla = report["sla"]
    assert sla["policy_changes"] == [{"from": "standard", "to": "tight", "count": 3}]
    first = sla["first_response"]
    assert first["moves"]["earlier_1h_to_1d"] == 3
    # the invoice was answered after 2 h: met at 4 h, a breach at 1 h; the second hello
    # was never answered: breached both ways
    assert first["met_to_breached"] == {"count": 1, "examples": [invoice]}
    assert first["breached_to_met"] == {"count": 0, "examples": []}
    assert (first["current"]["met"], first["candidate"]["met"]) == (2, 1)
    assert (first["current"]["breached"], first["candidate"]["breached"]) == (1, 2)
    resolution = sla["resolution"]
    assert resolution["moves"]["unchanged"] == 3 and resolution["met_to_breached"]["count"] == 0

    table = CliRunner().invoke(main, args, env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "nobody with the skills" in table.output and "Met -> breached" in table.output
    rows = CliRunner().invoke(main, [*args, "--format", "csv"]).output.splitlines()
    assert f"unrouted,no_skill,0,1,1,{invoice}" in rows
    assert f"sla_flip,first_response,met,breached,1,{invoice}" in rows
    assert "agent_share,ana,2,1,-1," in rows
    chinese = CliRunner().invoke(main, args, env={"LC_ALL": "zh_CN.UTF-8", "COLUMNS": "200"})
    assert "没有人具备所需技能" in chinese.output and "nobody with the skills" not in chinese.output
