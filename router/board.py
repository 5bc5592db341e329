"""The supervisor's board: what it shows, and whose teams. Pure: the facts come in, the
board goes out; ``now`` is a parameter.

For each team the caller supervises (an admin: every team): its agents with their
status, load against capacity per channel, the tickets they hold and the oldest of
them; the tickets waiting for an agent, most urgent first, each with the routing's
reason for the wait; and the SLA warnings and breaches of the last day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.access import Principal
from router.staff_views import AgentLoad
from router.vocabulary import Priority, Role

EVENTS_SINCE = timedelta(hours=24)
WAITING_SHOWN = 200  # the board is for a person: the most urgent this many, and the count


@dataclass(frozen=True)
class HeldTickets:
    """The active tickets an agent holds."""

    count: int
    oldest_at: datetime | None  # created_at of the oldest of them


@dataclass(frozen=True)
class BoardAgent:
    load: AgentLoad
    held: HeldTickets

    @property
    def full(self) -> bool:
        return self.load.capacity > 0 and self.load.load >= self.load.capacity


@dataclass(frozen=True)
class WaitingTicket:
    number: int
    subject: str
    priority: Priority
    team: str
    created_at: datetime
    waiting_since: datetime
    due_at: datetime | None  # the nearest running SLA deadline
    why: str  # the routing's reasons, as it logged them ("" until it has said)


@dataclass(frozen=True)
class SlaEvent:
    number: int
    subject: str
    team: str
    assignee: str | None
    breach: bool  # else a warning
    clock: str  # first_response, next_response, resolution
    at: datetime
    detail: str


@dataclass(frozen=True)
class PriorityGroup:
    priority: Priority
    tickets: tuple[WaitingTicket, ...]


@dataclass(frozen=True)
class Board:
    teams: tuple[str, ...]
    agents: tuple[BoardAgent, ...]
    waiting: tuple[PriorityGroup, ...]
    waiting_total: int  # all that wait, also past WAITING_SHOWN
    events: tuple[SlaEvent, ...]  # newest first
    now: datetime


def board_team_ids(principal: Principal, teams: Mapping[int, str]) -> dict[int, str]:
    """The teams on ``principal``'s board (id -> name): an admin's are all of them, a
    supervisor's those supervised; an agent has none (the board is not theirs)."""
    if principal.role is Role.ADMIN:
        return dict(teams)
    if principal.role is Role.SUPERVISOR:
        return {i: name for i, name in teams.items() if i in principal.supervised}
    return {}


def make_board(
    *,
    teams: Iterable[str],
    loads: Iterable[AgentLoad],
    held: Mapping[str, HeldTickets],
    waiting: Iterable[WaitingTicket],
    waiting_total: int,
    events: Iterable[SlaEvent],
    now: datetime,
) -> Board:
    """The board of ``teams``: their agents (each once, by name), the waiting tickets by
    priority (most urgent group first; within one, the nearest deadline, then the oldest),
    and the SLA events of the last day, newest first."""
    names = tuple(sorted(set(teams)))
    shown = set(names)
    agents = tuple(
        BoardAgent(load=load, held=held.get(load.name, HeldTickets(0, None)))
        for load in sorted(loads, key=lambda a: a.name)
        if shown.intersection(load.teams)
    )
    by_priority: dict[Priority, list[WaitingTicket]] = {}
    for ticket in waiting:
        if ticket.team in shown:
            by_priority.setdefault(ticket.priority, []).append(ticket)
    groups = tuple(
        PriorityGroup(p, tuple(sorted(by_priority[p], key=_waiting_order)))
        for p in sorted(by_priority, key=lambda p: p.rank)
    )
    since = now - EVENTS_SINCE
    recent = sorted(
        (e for e in events if e.team in shown and e.at >= since),
        key=lambda e: (e.at, e.number),
        reverse=True,
    )
    return Board(
        teams=names,
        agents=agents,
        waiting=groups,
        waiting_total=waiting_total,
        events=tuple(recent),
        now=now,
    )


def _waiting_order(ticket: WaitingTicket) -> tuple[int, datetime, datetime, int]:
    due = ticket.due_at
    return (0 if due is not None else 1, due or ticket.created_at, ticket.created_at, ticket.number)
