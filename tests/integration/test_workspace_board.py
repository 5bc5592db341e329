"""The supervisor's board, as a page and as JSON, through the real app on SQLite and
PostgreSQL: a supervisor sees their teams only, with the routing's reasons for each wait
and the SLA events of the last day; an agent may not see it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from router.vocabulary import AgentStatus, AuditAction, Channel, SystemActor
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.agents import set_agent_status
from workers.steps.route import route

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def sla_event(desk: StaffDesk, number: int, action: AuditAction, hours_ago: float) -> None:
    with desk.runtime.db.unit_of_work() as uow:  # as the SLA sweep records them
        uow.audit.record(
            ticket_id=number,
            actor=SystemActor.SLA,
            action=action,
            detail="first_response target missed",
            now=desk.clock() - timedelta(hours=hours_ago),
            data={"timer": "first_response"},
        )


def test_a_supervisor_sees_their_teams_agents_backlog_with_reasons_and_sla_events(
    desk: StaffDesk,
) -> None:
    held = desk.ticket("support", "ana", Channel.EMAIL)
    for name in ("ana", "ben"):  # nobody free: routing says why the next one waits
        set_agent_status(desk.runtime, name, AgentStatus.OFFLINE)
    waiting = desk.ticket("support", None)
    route(desk.runtime, waiting)
    other_team = desk.ticket("billing", None)
    sla_event(desk, held, AuditAction.SLA_BREACHED, hours_ago=2)
    sla_event(desk, waiting, AuditAction.SLA_WARNING, hours_ago=1)
    sla_event(desk, held, AuditAction.SLA_WARNING, hours_ago=30)  # older than a day
    sla_event(desk, other_team, AuditAction.SLA_BREACHED, hours_ago=1)  # not sam's team
    desk.clock.advance(minutes=42)

    board = desk.signed_in("sam").get("/api/v1/board").json()
    assert board["teams"] == ["support"]
    assert [a["load"]["name"] for a in board["agents"]] == ["ana", "ben"]
    [ana] = [a for a in board["agents"] if a["load"]["name"] == "ana"]
    assert ana["held"]["count"] == 1 and ana["load"]["status"] == "offline"
    [group] = board["waiting"]
    [shown] = group["tickets"]
    assert (group["priority"], shown["number"], board["waiting_total"]) == ("normal", waiting, 1)
    assert "offline" in shown["why"]  # the routing's own words
    assert [(e["number"], e["breach"]) for e in board["events"]] == [
        (waiting, False),
        (held, True),
    ]

    client = desk.client()
    client.post("/desk/sign-in", data={"name": "sam", "password": "correct horse battery"})
    page = client.get("/desk/board")
    assert page.status_code == 200
    assert "Waiting for an agent: 1 ticket" in page.text
    assert re.search(rf'data-ticket="{waiting}"', page.text)
    assert f'data-ticket="{other_team}"' not in page.text
    assert "42 min" in page.text  # how long it has waited
    assert shown["why"].split(";")[0] in page.text.replace("&#39;", "'").replace("&gt;", ">")


def test_an_admins_board_has_every_team_and_an_agent_has_none(desk: StaffDesk) -> None:
    desk.ticket("billing", None)
    assert desk.signed_in("root").get("/api/v1/board").json()["teams"] == [
        "billing",
        "sales",
        "support",
    ]
    agent = desk.client()
    home = agent.post("/desk/sign-in", data={"name": "ana", "password": "correct horse battery"})
    assert 'data-go="board"' not in home.text
    refused = agent.get("/desk/board")
    assert refused.status_code == 403 and "Not allowed" in refused.text
