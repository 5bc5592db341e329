"""``relaydesk rules simulate`` on a seeded desk (SQLite and PostgreSQL): what it reports
is what ingest does once the candidate is applied for real, ticket by ticket."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from config import load_settings
from router.rule_simulation import compare, values
from router.vocabulary import Priority
from store.models import Team, Ticket
from store.ticket_arrivals import TicketArrivals
from tests.support.desk import Desk, desk_for
from workers.cli import main
from workers.runtime.rule_book import rule_setup

pytestmark = pytest.mark.integration

BASE = """
database_url = "{url}"
[helpdesk]
default_team = "support"
[[teams]]
name = "support"
[[teams]]
name = "billing"
[[teams]]
name = "infra"
[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support", "billing", "infra"]
status = "offline"
[[rules.all_match]]
name = "outage"
when = {{ subject_regex = "(?i)\\\\bdown\\\\b" }}
set = {{ priority = "urgent" }}
"""
CURRENT = """
[[rules.first_match]]
name = "invoices"
when = {{ keywords = ["invoice"] }}
set = {{ category = "billing", team = "billing", required_skills = {{ billing = 2 }} }}
[[rules.first_match]]
name = "vpn"
when = {{ keywords = ["vpn"] }}
set = {{ category = "network", required_skills = {{ network = 1 }} }}
"""
CANDIDATE = """
[[rules.first_match]]
name = "invoices"
when = {{ keywords = ["invoice", "refund"] }}
set = {{ category = "billing", team = "billing", required_skills = {{ billing = 2 }} }}
[[rules.first_match]]
name = "vpn"
when = {{ keywords = ["vpn"] }}
set = {{ category = "network", team = "infra", required_skills = {{ network = 2 }} }}
[[rules.first_match]]
name = "fax"
when = {{ keywords = ["fax"] }}
set = {{ category = "fax" }}
"""
MESSAGES: list[dict[str, Any]] = [
    {"key": "a", "subject": "VPN is down", "body": "since this morning"},
    {"key": "b", "subject": "a question", "body": "how do I start the vpn?"},
    {"key": "c", "subject": "money back", "body": "I want a refund"},
    {"key": "d", "subject": "my invoice", "body": "is wrong"},
    {"key": "e", "subject": "hello", "body": "just saying hi"},
    {
        "key": "f",
        "subject": "printer",
        "body": "it jams",
        "category_hint": "hardware",
        "priority_hint": Priority.HIGH,
        "custom_fields": {"room": "2.14"},
    },
]


def feed(desk: Desk, prefix: str) -> list[int]:
    numbers = []
    for m in MESSAGES:
        extra = {k: v for k, v in m.items() if k != "key"}
        numbers.append(
            desk.submit(f"{prefix}{m['key']}", sender=f"{m['key']}@example.org", **extra)
        )
    return numbers


def decided(desk: Desk, numbers: list[int]) -> dict[int, dict[str, str]]:
    """What ingest wrote on each ticket, as the simulation words it."""
    with desk.runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Ticket.id, Ticket.category, Ticket.priority, Team.name, Ticket.required_skills)
            .join(Team, Team.id == Ticket.team_id)
            .where(Ticket.id.in_(numbers))
        )
        return {
            number: {
                "category": category,
                "priority": priority,
                "team": team,
                "skills": ", ".join(f"{s}>={n}" for s, n in sorted(skills.items())) or "-",
            }
            for number, category, priority, team, skills in rows
        }


def cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_the_simulation_reports_what_the_candidate_does_when_applied_for_real(
    database_url: str, tmp_path: Path
) -> None:
    current = tmp_path / "relaydesk.toml"
    candidate = tmp_path / "candidate.toml"
    current.write_text((BASE + CURRENT).format(url=database_url))
    candidate.write_text((BASE + CANDIDATE).format(url=database_url))
    for desk in desk_for(load_settings(current, environ={})):
        before = decided(desk, feed(desk, "past-"))
    report = json.loads(
        cli(
            "--config", str(current), "rules", "simulate", str(candidate), "--format", "json"
        ).output
    )
    table = cli("--config", str(current), "rules", "simulate", str(candidate)).output
    settings = load_settings(current, environ={})
    for desk in desk_for(settings):
        with desk.runtime.db.unit_of_work() as uow:
            arrivals = TicketArrivals(uow.session)
            today = datetime.now(UTC)
            replayed = list(arrivals.between(today - timedelta(days=1), today + timedelta(days=1)))
        proposed = load_settings(candidate, environ={})
        current_setup = rule_setup(settings)
        assert {a.number: values(current_setup.classify(a)) for a in replayed} == before
        outcomes = compare(
            replayed, rule_setup(settings), rule_setup(proposed), keep_outcomes=True
        ).outcomes
    for desk in desk_for(load_settings(candidate, environ={})):
        after = decided(desk, feed(desk, "again-"))

    originals = sorted(before)
    again = dict(zip(originals, sorted(after), strict=True))
    # ticket by ticket, the replay under the candidate is what ingest did under it
    assert {n: values(outcomes[n]) for n in originals} == {n: after[again[n]] for n in originals}
    # and the report's from -> to are the live desk's before and after
    changes: dict[tuple[str, str, str], list[int]] = {}
    for n in originals:
        for name, old in before[n].items():
            new = after[again[n]][name]
            if old != new:
                changes.setdefault((name, old, new), []).append(n)
    reported = {(c["field"], c["from"], c["to"]): c["examples"] for c in report["changes"]}
    assert reported == changes
    assert reported[("team", "support", "infra")] == originals[:2]
    assert report["tickets"] == 6
    assert report["changed"] == 3
    assert report["rules_never_matched"] == ["fax"]
    assert report["unmatched_examples"] == [originals[4], originals[5]]
    assert "3 of 6 tickets would be classified differently." in table
    assert "Rules that would never match: fax" in table
    billing = cli(
        "--config",
        str(current),
        "rules",
        "simulate",
        str(candidate),
        "--team",
        "billing",
        "--format",
        "json",
    ).output
    # billing's now: "my invoice", and fed again under the candidate, the refund and it
    assert json.loads(billing)["tickets"] == 3
    broken = tmp_path / "broken.toml"
    broken.write_text(candidate.read_text().replace('team = "infra"', 'team = "nowhere"'))
    refused = CliRunner().invoke(main, ["--config", str(current), "rules", "simulate", str(broken)])
    assert refused.exit_code == 2 and "nowhere" in refused.output
    chinese = CliRunner().invoke(
        main,
        ["--config", str(current), "rules", "simulate", str(candidate)],
        env={"LC_ALL": "zh_CN.UTF-8"},
    )
    assert "fax" in chinese.output and "Rules that would never match" not in chinese.output
