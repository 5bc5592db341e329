"""A candidate configuration piloted on one team, on both databases, with a running desk
(its worker threads follow the store as a fleet's processes do): only the pilot team's
tickets are decided by the candidate, and their decisions' audit events name it; the
rest keep the desk's version. Promote gives everyone the candidate, end gives no one;
the command line starts, lists, compares and refuses what it must."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from config import EXAMPLE_PATH
from router.vocabulary import AuditAction, ConfigAction
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.cli.main import main
from workers.desk.config_changes import apply_at_start, config_history
from workers.desk.config_pilots import (
    PilotProblem,
    PilotRefused,
    compare_pilot,
    end_pilot,
    promote_pilot,
    start_pilot,
)
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.steps.sla_sweep import sweep_sla

DECISIONS = {AuditAction.TICKET_CREATED, AuditAction.SLA_POLICY, AuditAction.TICKET_ASSIGNED}
INVOICE = "my invoice is wrong"  # the example's rules: team billing
OTHER = "it is broken"  # no rule: the default team, support


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url))


@pytest.fixture
def operator(database_url: str) -> Iterator[Runtime]:
    """Another process (an operator's command line) that changes the configuration."""
    runtime = build_runtime(make_settings(database_url), pool_size=1)
    yield runtime
    runtime.close()


def decided(desk: Desk, number: int) -> tuple[set[str | None], dict[str, object]]:
    """The versions on ticket ``number``'s decisions, and its SLA policy's data."""
    with desk.runtime.db.unit_of_work() as uow:
        events = [e for e in uow.audit.for_ticket(number) if e.action in DECISIONS]
    assert {e.action for e in events} == DECISIONS
    policy = next(e.data for e in events if e.action == AuditAction.SLA_POLICY)
    return {e.config_version for e in events}, policy


def test_a_pilot_on_one_team_changes_only_that_teams_decisions(
    desk: Desk, operator: Runtime, database_url: str
) -> None:
    first = apply_at_start(desk.runtime, "test").version
    urgent = make_settings(database_url, relaydesk_helpdesk__default_priority="urgent")
    started = start_pilot(operator, urgent, ["billing"], applied_by="lead@desk")
    assert started.version == first and started.teams == ("billing",)
    assert started.candidate != first and started.roster_waits == ()

    billing = desk.submit("b1", body=INVOICE)
    support = desk.submit("s1", body=OTHER)
    assert desk.ticket(billing).team == "billing" and desk.ticket(billing).priority == "urgent"
    assert desk.ticket(support).team == "support" and desk.ticket(support).priority == "normal"
    versions, policy = decided(desk, billing)
    assert versions == {started.candidate} and policy["policy"] == "urgent"
    versions, policy = decided(desk, support)
    assert versions == {first} and policy["policy"] == "standard"

    compared = compare_pilot(operator)
    assert compared.running and compared.started is not None
    created = {
        (d.team, d.version): d.tickets
        for d in compared.decisions
        if d.action is AuditAction.TICKET_CREATED
    }
    assert created == {("billing", started.candidate): 1, ("support", first): 1}

    promoted = promote_pilot(operator, applied_by="lead@desk")
    assert promoted.version == started.candidate and promoted.pilot_ended == started.candidate
    everyone = desk.submit("s2", body=OTHER)
    assert desk.ticket(everyone).priority == "urgent"
    assert decided(desk, everyone)[0] == {started.candidate}
    with pytest.raises(PilotRefused) as refused:
        end_pilot(operator, applied_by="lead@desk")  # promoted: no pilot runs
    assert refused.value.problems == ((PilotProblem.NO_PILOT, ""),)
    assert [(c.action, c.pilot is not None) for c in config_history(operator)] == [
        (ConfigAction.PROMOTE, False),
        (ConfigAction.PILOT, True),
        (ConfigAction.START, False),
    ]


def test_ending_a_pilot_returns_its_team_and_a_reload_ends_one_too(
    desk: Desk, operator: Runtime, database_url: str
) -> None:
    first = apply_at_start(desk.runtime, "test").version
    urgent = make_settings(database_url, relaydesk_helpdesk__default_priority="urgent")
    started = start_pilot(operator, urgent, ["support"], applied_by="lead@desk")
    assert desk.ticket(desk.submit("s1", body=OTHER)).priority == "urgent"
    assert desk.ticket(desk.submit("b1", body=INVOICE)).priority == "normal"
    assert end_pilot(operator, applied_by="lead@desk") == started.candidate
    after = desk.submit("s2", body=OTHER)
    assert desk.ticket(after).priority == "normal"
    assert decided(desk, after)[0] == {first}
    assert not compare_pilot(operator).running

    start_pilot(operator, urgent, ["support"], applied_by="lead@desk")
    from workers.desk.config_changes import apply_settings

    low = make_settings(database_url, relaydesk_helpdesk__default_priority="low")
    applied = apply_settings(operator, low, action=ConfigAction.RELOAD, applied_by="lead")
    assert applied.pilot_ended == started.candidate
    assert desk.ticket(desk.submit("s3", body=OTHER)).priority == "low"


def test_a_pilot_is_refused_with_every_problem_and_changes_nothing(
    desk: Desk, operator: Runtime, database_url: str
) -> None:
    urgent = make_settings(database_url, relaydesk_helpdesk__default_priority="urgent")
    with pytest.raises(PilotRefused) as refused:
        start_pilot(operator, urgent, ["billing"], applied_by="lead")
    assert refused.value.problems == ((PilotProblem.NO_VERSION, ""),)
    first = apply_at_start(desk.runtime, "test").version
    with pytest.raises(PilotRefused) as refused:
        start_pilot(operator, desk.runtime.settings, ["sales", " "], applied_by="lead")
    assert set(refused.value.problems) == {
        (PilotProblem.NOT_A_TEAM, "sales"),
        (PilotProblem.SAME_VERSION, ""),
    }
    with pytest.raises(PilotRefused) as refused:
        start_pilot(operator, urgent, [], applied_by="lead")
    assert refused.value.problems == ((PilotProblem.NO_TEAMS, ""),)
    assert [c.version for c in config_history(operator)] == [first]
    assert desk.ticket(desk.submit("b1", body=INVOICE)).priority == "normal"


def invoke(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        list(args),
        env={"RELAYDESK_DATABASE_URL": database_url, "LANG": "C", "COLUMNS": "200"},
    )
    return result.exit_code, result.output


def test_the_command_line_pilots_lists_compares_and_promotes(
    desk: Desk, database_url: str, tmp_path: Path
) -> None:
    first = apply_at_start(desk.runtime, "test").version
    candidate = tmp_path / "candidate.toml"
    candidate.write_text(
        EXAMPLE_PATH.read_text().replace('default_priority = "normal"', 'default_priority = "high"')
        + '\n[[agents]]\nname = "kim"\nemail = "kim@relaydesk.localhost"\nteams = ["billing"]\n'
    )
    code, output = invoke(
        database_url, "config", "reload", str(candidate), "--pilot-teams", "billing,nowhere"
    )
    assert code == 2 and "nowhere is not a team" in output
    code, output = invoke(
        database_url, "config", "reload", str(candidate), "--pilot-teams", "billing", "--by", "lead"
    )
    assert code == 0, output
    assert "piloted on billing; every other team keeps " + first in output
    assert "agents differ: the roster changes when the pilot is promoted" in output
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.agents.by_name("kim") is None  # the roster waits for the promotion
    assert desk.ticket(desk.submit("b1", body=INVOICE)).priority == "high"
    assert desk.ticket(desk.submit("s1", body=OTHER)).priority == "normal"

    code, output = invoke(database_url, "config", "history", "--json")
    assert code == 0, output
    latest = json.loads(output)[0]
    assert latest["action"] == "pilot" and latest["version"] == first
    assert latest["pilot"]["teams"] == ["billing"]
    piloted = latest["pilot"]["version"]
    code, output = invoke(database_url, "config", "history")
    assert code == 0 and f"{piloted} on billing" in output

    code, output = invoke(database_url, "config", "pilot", "compare", "--json")
    assert code == 0, output
    compared = json.loads(output)
    assert compared["pilot"]["candidate"] == piloted and compared["pilot"]["running"]
    assert {
        (d["team"], d["version"]) for d in compared["decisions"] if d["action"] == "ticket.created"
    } == {("billing", piloted), ("support", first)}
    code, output = invoke(database_url, "config", "pilot", "compare")
    assert code == 0 and f"{piloted} (pilot)" in output

    code, output = invoke(database_url, "config", "pilot", "promote")
    assert code == 0 and f"Configuration {piloted} applied (was {first})" in output
    assert "the pilot of " + piloted + " ended" in output and "agent kim created" in output
    assert desk.ticket(desk.submit("s2", body=OTHER)).priority == "high"
    code, output = invoke(database_url, "config", "pilot", "end")
    assert code == 2 and "no pilot is running" in output


def test_the_sla_sweep_decides_each_clock_by_its_tickets_teams_version(
    desk: Desk, operator: Runtime, database_url: str
) -> None:
    first = apply_at_start(desk.runtime, "test").version
    urgent = make_settings(database_url, relaydesk_helpdesk__default_priority="urgent")
    started = start_pilot(operator, urgent, ["billing"], applied_by="lead@desk")
    billing = desk.submit("b1", body=INVOICE)
    support = desk.submit("s1", body=OTHER)
    later = datetime.now(UTC) + timedelta(days=30)
    desk.runtime.clock = lambda: later  # every clock is past due
    fired = sweep_sla(desk.runtime)
    assert fired.breaches >= 4  # first response and resolution of both
    with desk.runtime.db.unit_of_work() as uow:
        breached = {
            number: {
                e.config_version
                for e in uow.audit.for_ticket(number)
                if e.action == AuditAction.SLA_BREACHED
            }
            for number in (billing, support)
        }
    assert breached == {billing: {started.candidate}, support: {first}}
