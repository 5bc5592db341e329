"""What routing decides a ticket on: whether it waits for someone, its facts relaxed by how
long it waited, and the teams that may take it (alone or in a batch alike)."""

from __future__ import annotations

from datetime import datetime

from router.backlog import relax_requirements
from router.lifecycle import is_active
from router.routing_facts import TicketFacts
from store.tickets import RoutingTicket
from workers.runtime.context import Runtime
from workers.runtime.routing_policy import skills_timeout


def waits(ticket: RoutingTicket) -> bool:
    """Unassigned, in a team, and active: routing may give it to someone."""
    return ticket.assignee_id is None and ticket.team_id is not None and is_active(ticket.status)


def routing_inputs(
    runtime: Runtime, ticket: RoutingTicket, now: datetime
) -> tuple[TicketFacts, tuple[str, ...], dict[int, str]]:
    """The ticket's facts (relaxed by how long it waited), why, and the teams that may
    take it (its own; its fallback team once the skills timeout widened it)."""
    assert ticket.team_id is not None
    fallback = ticket.fallback_team
    timeouts = skills_timeout(runtime.settings.routing, fallback[1] if fallback else None)
    facts, relaxed = relax_requirements(ticket.facts, now - ticket.queued_at, timeouts)
    teams = {ticket.team_id: ticket.facts.team}
    if fallback is not None and fallback[1] in facts.widened_to:
        teams[fallback[0]] = fallback[1]
    return facts, relaxed, teams
