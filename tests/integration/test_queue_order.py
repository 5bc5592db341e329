"""A ticket waits its turn: given back to the queue it does not jump older urgent work,
and agents shared by two teams take the most urgent ticket of either, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_settings
from tests.support.desk import Desk, desk_for
from workers.desk.assignments import transfer_ticket, unassign_ticket
from workers.steps.drain import drain_backlog

pytestmark = pytest.mark.integration

CONFIG = """
database_url = "{url}"
[helpdesk]
default_team = "front"
acknowledge = false

[[rules.all_match]]
name = "outage"
when = {{ keywords = ["outage"] }}
set = {{ priority = "urgent" }}

[[rules.all_match]]
name = "invoices"
when = {{ keywords = ["invoice"] }}
set = {{ team = "back" }}

[[teams]]
name = "front"

[[teams]]
name = "back"

[[agents]]
name = "solo"
email = "solo@desk.test"
teams = ["front"]
status = "online"
capacity = 1

[[agents]]
name = "both"
email = "both@desk.test"
teams = ["front", "back"]
status = "offline"
capacity = 1
"""


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    path = tmp_path / "relaydesk.toml"
    path.write_text(CONFIG.format(url=database_url))
    yield from desk_for(load_settings(path, environ={}))


def _team(desk: Desk, name: str) -> int:
    with desk.runtime.db.unit_of_work() as uow:
        return uow.agents.team_id(name)


def _set(desk: Desk, name: str, **values: object) -> None:
    """Change an agent's row without the drain a status change would start."""
    with desk.runtime.db.unit_of_work() as uow:
        agent = uow.agents.by_name(name)
        assert agent is not None
        for key, value in values.items():
            setattr(agent, key, value)


def test_an_unassigned_ticket_waits_behind_older_urgent_work(desk: Desk) -> None:
    normal = desk.submit("n1")
    assert desk.ticket(normal).assignee == "solo"
    urgent = desk.submit("u1", body="outage everywhere")  # solo is full: it waits
    assert desk.ticket(urgent).assignee is None

    unassign_ticket(desk.runtime, normal, reason="needs another look")
    desk.settle()

    assert desk.ticket(urgent).assignee == "solo"  # the freed slot went to the older urgent one
    assert desk.ticket(normal).assignee is None  # back in line, not straight back to solo


def test_an_unassigned_ticket_goes_to_someone_else_free_before_the_agent_it_left(
    desk: Desk,
) -> None:
    number = desk.submit("n2")
    assert desk.ticket(number).assignee == "solo"
    _set(desk, "both", status="online")

    unassign_ticket(desk.runtime, number, reason="needs fresh eyes")
    desk.settle()

    assert desk.ticket(number).assignee == "both"


def test_a_ticket_moved_to_another_team_waits_behind_that_teams_urgent_work(desk: Desk) -> None:
    _set(desk, "solo", status="offline")
    _set(desk, "both", status="online", load=1)  # busy: the team's tickets wait
    urgent = desk.submit("u2", body="invoice outage")
    moved = desk.submit("n3")
    assert desk.ticket(urgent).team == "back" and desk.ticket(urgent).assignee is None
    _set(desk, "both", load=0)

    transfer_ticket(desk.runtime, moved, to_team="back", reason="it is about billing")
    desk.settle()

    assert desk.ticket(urgent).assignee == "both"
    assert desk.ticket(moved).assignee is None


def test_an_agent_shared_by_two_teams_takes_the_most_urgent_ticket_of_either(desk: Desk) -> None:
    _set(desk, "solo", status="offline")
    normal = desk.submit("n4")  # front's, older
    urgent = desk.submit("u4", body="invoice outage")  # back's, urgent
    assert desk.ticket(normal).assignee is None and desk.ticket(urgent).assignee is None
    _set(desk, "both", status="online")

    assert drain_backlog(desk.runtime, _team(desk, "front")) == 1  # front's drain, first

    assert desk.ticket(urgent).assignee == "both"
    assert desk.ticket(normal).assignee is None
