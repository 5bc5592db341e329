"""The first routing policy: the least-loaded online agent of the team with a free slot.

Pure: agents and the ticket are facts, ``now`` is a parameter. The decision
carries its reasons, which go to the ticket's audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.vocabulary import AgentStatus, Priority


@dataclass(frozen=True)
class AgentFacts:
    id: int
    name: str
    status: AgentStatus
    capacity: int
    load: int
    teams: frozenset[str]
    last_assigned_at: datetime | None = None

    @property
    def free_slots(self) -> int:
        return max(self.capacity - self.load, 0)


@dataclass(frozen=True)
class TicketFacts:
    id: int
    team: str
    priority: Priority
    created_at: datetime


@dataclass(frozen=True)
class Decision:
    """The ranked candidates (best first) and why; empty ``ranked`` means wait."""

    ranked: tuple[AgentFacts, ...]
    reasons: tuple[str, ...]

    @property
    def agent(self) -> AgentFacts | None:
        return self.ranked[0] if self.ranked else None


def explain(agent: AgentFacts, ticket: TicketFacts, now: datetime) -> str:
    idle = "never assigned"
    if agent.last_assigned_at is not None:
        minutes = int((now - agent.last_assigned_at).total_seconds() // 60)
        idle = f"idle {minutes} min"
    return (
        f"team {ticket.team}, load {agent.load}/{agent.capacity}, {idle}, {ticket.priority.value}"
    )


def choose_agent(
    ticket: TicketFacts, agents: list[AgentFacts] | tuple[AgentFacts, ...], now: datetime
) -> Decision:
    """Rank the eligible agents: online, in the team, with a free slot.

    Best first: lowest load ratio, then longest since the last assignment
    (round-robin among equals), then id for a stable order.
    """
    eligible = [
        a
        for a in agents
        if a.status is AgentStatus.ONLINE and ticket.team in a.teams and a.load < a.capacity
    ]
    if not eligible:
        skipped = _why_not(ticket, agents)
        return Decision(ranked=(), reasons=(f"no eligible agent in team {ticket.team}", *skipped))

    def key(a: AgentFacts) -> tuple[float, datetime, int]:
        last = a.last_assigned_at or datetime.min.replace(tzinfo=now.tzinfo)
        return (a.load / a.capacity, last, a.id)

    ranked = tuple(sorted(eligible, key=key))
    return Decision(ranked=ranked, reasons=(explain(ranked[0], ticket, now),))


def _why_not(ticket: TicketFacts, agents: list[AgentFacts] | tuple[AgentFacts, ...]) -> list[str]:
    reasons = []
    for a in agents:
        if ticket.team not in a.teams:
            continue
        if a.status is not AgentStatus.ONLINE:
            reasons.append(f"{a.name}: {a.status.value}")
        elif a.load >= a.capacity:
            reasons.append(f"{a.name}: full {a.load}/{a.capacity}")
    return reasons
