"""How the work would move between two rosters: counted as the replays decide.

A ``RoutingTally`` counts one replay (``router.routing_replay``): tickets per team
(the team the configuration classified them into), tickets taken per agent, tickets
nobody could take at arrival by why (with a few ticket numbers), those that waited
for a slot and got one, those never assigned, and urgent tickets taken by senior
agents (seniority at or above the roster's ``senior_at``). ``shift`` sets the
current and the candidate tallies side by side.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from router.routing_replay import Blocked, Routed
from router.vocabulary import Priority

EXAMPLES = 5


@dataclass
class RoutingTally:
    senior_at: int = 3
    tickets: int = 0
    assigned: int = 0
    waited: int = 0  # full at arrival, took a slot later
    never_assigned: int = 0
    urgent: int = 0  # urgent tickets assigned
    urgent_to_seniors: int = 0
    teams: Counter[str] = field(default_factory=Counter)
    agents: Counter[str] = field(default_factory=Counter)
    blocked: Counter[Blocked] = field(default_factory=Counter)
    examples: dict[Blocked, list[int]] = field(default_factory=dict)

    def add(self, routed: Routed) -> None:
        ticket = routed.ticket
        self.tickets += 1
        self.teams[ticket.team] += 1
        if routed.blocked is not None:
            self.blocked[routed.blocked] += 1
            kept = self.examples.setdefault(routed.blocked, [])
            if len(kept) < EXAMPLES:
                kept.append(ticket.id)
        agent = routed.agent
        if agent is None:
            self.never_assigned += 1
            return
        self.assigned += 1
        self.waited += routed.blocked is not None
        self.agents[agent.name] += 1
        if ticket.priority is Priority.URGENT:
            self.urgent += 1
            self.urgent_to_seniors += agent.seniority >= self.senior_at


@dataclass(frozen=True)
class Share:
    """Tickets of one agent or team, currently and with the candidate."""

    name: str
    current: int
    candidate: int

    @property
    def change(self) -> int:
        return self.candidate - self.current


@dataclass(frozen=True)
class Unrouted:
    """Tickets nobody could take at arrival, for one reason, in each roster."""

    reason: Blocked
    current: int
    candidate: int
    examples: tuple[int, ...]  # the candidate's (the current's when it has none)


@dataclass(frozen=True)
class Pair:
    current: int
    candidate: int


@dataclass(frozen=True)
class RoutingShift:
    tickets: int
    assigned: Pair
    waited: Pair
    never_assigned: Pair
    unrouted: tuple[Unrouted, ...]  # in the order of ``Blocked``
    agents: tuple[Share, ...]  # most moved first, then by name
    teams: tuple[Share, ...]
    urgent: Pair  # urgent tickets assigned
    urgent_to_seniors: Pair


def shift(current: RoutingTally, candidate: RoutingTally) -> RoutingShift:
    """The two replays side by side."""
    unrouted = tuple(
        Unrouted(
            reason,
            current.blocked[reason],
            candidate.blocked[reason],
            tuple(candidate.examples.get(reason) or current.examples.get(reason) or ()),
        )
        for reason in Blocked
        if current.blocked[reason] or candidate.blocked[reason]
    )
    return RoutingShift(
        tickets=candidate.tickets,
        assigned=Pair(current.assigned, candidate.assigned),
        waited=Pair(current.waited, candidate.waited),
        never_assigned=Pair(current.never_assigned, candidate.never_assigned),
        unrouted=unrouted,
        agents=_shares(current.agents, candidate.agents),
        teams=_shares(current.teams, candidate.teams),
        urgent=Pair(current.urgent, candidate.urgent),
        urgent_to_seniors=Pair(current.urgent_to_seniors, candidate.urgent_to_seniors),
    )


def _shares(current: Counter[str], candidate: Counter[str]) -> tuple[Share, ...]:
    names = set(current) | set(candidate)
    shares = (Share(n, current[n], candidate[n]) for n in names)
    return tuple(sorted(shares, key=lambda s: (-abs(s.change), s.name)))
