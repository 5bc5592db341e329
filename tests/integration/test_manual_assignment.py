"""Assign, transfer, unassign and claim by hand, on both databases, with real workers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from router.errors import PermanentError
from router.vocabulary import AgentStatus
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.desk.agents import set_agent_status
from workers.desk.assignments import assign_ticket, claim_ticket, transfer_ticket, unassign_ticket

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, relaydesk_routing__return_on_offline="true"))


def _loads(desk: Desk) -> dict[str, int]:
    with desk.runtime.db.unit_of_work() as uow:
        return {a.name: a.load for a in uow.agents.all()}


def _actions(desk: Desk, number: int) -> list[str]:
    with desk.runtime.db.unit_of_work() as uow:
        return [e.action for e in uow.audit.for_ticket(number)]


def test_assigning_by_hand_moves_the_slot_from_one_agent_to_the_other(desk: Desk) -> None:
    number = desk.submit("a1")
    first = desk.ticket(number).assignee
    other = "ben" if first == "ana" else "ana"
    previous = assign_ticket(desk.runtime, number, other, reason="knows the customer")
    desk.settle()
    assert previous == first and desk.ticket(number).assignee == other
    assert _loads(desk)[first] == 0 and _loads(desk)[other] == 1
    assert desk.sender.to(f"{other}@relaydesk.localhost")  # told about it
    with desk.runtime.db.unit_of_work() as uow:
        (last,) = [e for e in uow.audit.for_ticket(number) if e.actor == "cli"]
    assert last.action == "ticket.assigned"
    assert last.detail == f"assigned to {other} (from {first}) by cli: knows the customer"


def test_a_full_or_absent_agent_is_refused_unless_forced(desk: Desk) -> None:
    number = desk.submit("a2")
    with pytest.raises(PermanentError, match="sam cannot take it: away"):
        assign_ticket(desk.runtime, number, "sam")
    assign_ticket(desk.runtime, number, "sam", force=True, reason="escalation")
    assert desk.ticket(number).assignee == "sam" and _loads(desk)["sam"] == 1


def test_a_transfer_to_a_team_takes_the_ticket_away_and_routes_it_there(desk: Desk) -> None:
    number = desk.submit("a3")
    taken_from = desk.ticket(number).assignee
    transfer_ticket(desk.runtime, number, to_team="billing", reason="it is about an invoice")
    desk.settle()
    view = desk.ticket(number)
    assert view.team == "billing" and view.assignee == "ana"  # the online billing agent
    assert sum(_loads(desk).values()) == 1 and taken_from in ("ana", "ben")
    assert "ticket.transferred" in _actions(desk, number)
    with pytest.raises(ValueError, match="needs a reason"):
        transfer_ticket(desk.runtime, number, to_team="support", reason=" ")


def test_an_unassigned_ticket_goes_back_to_the_queue_and_is_routed_again(desk: Desk) -> None:
    set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)
    number = desk.submit("a4")
    set_agent_status(desk.runtime, "ana", AgentStatus.AWAY)
    assert unassign_ticket(desk.runtime, number, reason="on leave") == "ana"
    desk.settle()
    assert desk.ticket(number).assignee is None and _loads(desk)["ana"] == 0
    set_agent_status(desk.runtime, "ben", AgentStatus.ONLINE)  # capacity frees: the drain runs
    desk.settle()
    assert desk.ticket(number).assignee == "ben"


def test_a_claim_on_a_taken_ticket_is_refused_naming_who_has_it(desk: Desk) -> None:
    number = desk.submit("a5")
    holder = desk.ticket(number).assignee
    other = "ben" if holder == "ana" else "ana"
    with pytest.raises(PermanentError, match=f"taken by {holder}"):
        claim_ticket(desk.runtime, number, other)
    assert desk.ticket(number).assignee == holder


def test_an_agent_going_offline_gives_new_and_open_tickets_back(desk: Desk) -> None:
    numbers = [desk.submit(f"off{i}") for i in range(4)]
    holders = {n: desk.ticket(n).assignee for n in numbers}
    leaving = holders[numbers[0]]
    staying = "ben" if leaving == "ana" else "ana"
    set_agent_status(desk.runtime, leaving, AgentStatus.OFFLINE)
    desk.settle()
    for number in numbers:
        assert desk.ticket(number).assignee in (staying, None)
    assert _loads(desk)[leaving] == 0
    returned = [n for n in numbers if holders[n] == leaving]
    assert all("ticket.unassigned" in _actions(desk, n) for n in returned)


def test_an_unassigned_ticket_goes_to_someone_else_when_someone_else_can_take_it(
    desk: Desk,
) -> None:
    number = desk.submit("a6")
    first = desk.ticket(number).assignee
    unassign_ticket(desk.runtime, number, reason="needs fresh eyes")
    desk.settle()
    assert desk.ticket(number).assignee not in (None, first)
