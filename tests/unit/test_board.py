"""The supervisor's board decided from facts: whose teams, which agents, the order of the
waiting tickets, and which SLA events are recent enough."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from router.access import Principal
from router.board import (
    HeldTickets,
    SlaEvent,
    WaitingTicket,
    board_team_ids,
    make_board,
)
from router.staff_views import AgentLoad
from router.vocabulary import Priority, Role

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TEAMS = {1: "support", 2: "billing"}


def person(role: Role, supervised: frozenset[int] = frozenset()) -> Principal:
    return Principal(1, "x", role, frozenset({1}), supervised)


def load(name: str, *teams: str) -> AgentLoad:
    return AgentLoad(name, "", "online", teams, 1, 2, ())


def waiting(number: int, priority: Priority, due_in_min: int | None = None) -> WaitingTicket:
    due = NOW + timedelta(minutes=due_in_min) if due_in_min is not None else None
    created = NOW - timedelta(minutes=number)
    return WaitingTicket(number, "s", priority, "support", created, created, due, "")


def event(number: int, hours_ago: float, team: str = "support") -> SlaEvent:
    at = NOW - timedelta(hours=hours_ago)
    return SlaEvent(number, "s", team, None, True, "resolution", at, "")


def test_a_board_shows_the_supervised_teams_every_team_to_an_admin_none_to_an_agent() -> None:
    assert board_team_ids(person(Role.SUPERVISOR, frozenset({2})), TEAMS) == {2: "billing"}
    assert board_team_ids(person(Role.ADMIN), TEAMS) == TEAMS
    assert board_team_ids(person(Role.AGENT), TEAMS) == {}


def test_waiting_tickets_go_by_priority_then_nearest_deadline_then_age() -> None:
    board = make_board(
        teams=["support"],
        loads=[load("ben", "support"), load("kim", "billing"), load("ana", "support", "x")],
        held={"ana": HeldTickets(1, NOW)},
        waiting=[
            waiting(1, Priority.NORMAL),
            waiting(2, Priority.URGENT),
            waiting(3, Priority.NORMAL, due_in_min=30),
            waiting(4, Priority.NORMAL),
            waiting(5, Priority.NORMAL, due_in_min=10),
        ],
        waiting_total=5,
        events=[event(7, 1), event(8, 25), event(9, 2), event(6, 1, team="billing")],
        now=NOW,
    )
    assert [a.load.name for a in board.agents] == ["ana", "ben"]
    assert board.agents[1].held == HeldTickets(0, None)
    assert [(g.priority, [t.number for t in g.tickets]) for g in board.waiting] == [
        (Priority.URGENT, [2]),
        (Priority.NORMAL, [5, 3, 4, 1]),
    ]
    assert [e.number for e in board.events] == [7, 9]  # newest first, the last day only
