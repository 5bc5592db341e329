"""Hand-made assignment: assign, transfer, unassign and claim, each with its reason.

The same functions serve the command line and any other package (later the
Telegram bot's Claim button). Each locks the ticket first, moves agent slots
with the same conditional UPDATEs routing uses, writes its audit event in the
same transaction, and afterwards routes what went back to the queue and drains
the backlogs of whoever got a slot back.
"""

from __future__ import annotations

from datetime import datetime

from router.audit_origin import ActorRef
from router.errors import NotFound, PermanentError
from router.lifecycle import check_transition, is_active
from router.notice_texts import assigned_by, claimed_by, taken_notice
from router.vocabulary import AuditAction, OutboxKind, Status, SystemActor
from store.db import UnitOfWork
from store.models import Agent, Ticket
from store.staff_ticket_reads import require_version
from workers.desk.agent_notices import AgentContact, brief_of, notify_agent
from workers.desk.languages import agent_language
from workers.runtime.context import Runtime
from workers.steps.drain import drain_soon
from workers.steps.route import route_soon
from workers.steps.route_notices import queue_assignment_notice


def _locked_active(uow: UnitOfWork, number: int, if_match: str | None = None) -> Ticket:
    ticket = uow.tickets.get(number, for_update=True)
    if ticket is None:
        raise NotFound(f"no ticket #{number}")
    require_version(uow.session, ticket, if_match)
    if not is_active(Status(ticket.status)):
        raise PermanentError(f"ticket #{number} is {ticket.status}: reopen it first")
    return ticket


def agent_named(uow: UnitOfWork, name: str) -> Agent:
    """The agent called ``name``, or ``NotFound``."""
    agent = uow.agents.by_name(name)
    if agent is None:
        raise NotFound(f"no agent named {name!r}")
    return agent


def _release(uow: UnitOfWork, ticket: Ticket, *, freed_teams: bool = True) -> list[int]:
    """Take the ticket from its assignee; the teams whose backlog may now move."""
    previous = ticket.assignee
    if previous is None:
        return []
    uow.agents.release_slot(previous.id)
    ticket.assignee_id = None
    ticket.assigned_at = None
    return uow.agents.teams_served_by(previous.id) if freed_teams else []


def _give(runtime: Runtime, uow: UnitOfWork, ticket: Ticket, agent: Agent, force: bool) -> None:
    now = runtime.now()
    if force:
        uow.agents.reclaim_slot(agent.id)  # past capacity if need be: a person decided
    elif not uow.agents.claim_slot(agent.id, now):
        raise PermanentError(
            f"{agent.name} cannot take it: {agent.status}, load {agent.load}/{agent.capacity} "
            "(`tickets assign --force` assigns anyway)"
        )
    else:  # the agent's row is ours now: count its tickets in this channel
        limit = (agent.channel_capacity or {}).get(ticket.channel)
        if limit is not None and uow.agents.channel_load(agent.id, ticket.channel) >= limit:
            raise PermanentError(
                f"{agent.name} is full in {ticket.channel} ({limit}) "
                "(`tickets assign --force` assigns anyway)"
            )
    _take(ticket, agent, now)


def _take(ticket: Ticket, agent: Agent, now: datetime) -> None:
    ticket.assignee_id = agent.id
    ticket.assigned_at = now
    ticket.updated_at = now
    if Status(ticket.status) is Status.NEW:
        ticket.status = check_transition(Status.NEW, Status.OPEN).value


def _notify(
    runtime: Runtime, uow: UnitOfWork, ticket: Ticket, agent: Agent, actor: str, reason: str
) -> None:
    contact = AgentContact.of(agent)
    queue_assignment_notice(
        runtime,
        uow,
        contact,
        brief_of(uow, ticket),
        reasons=(assigned_by(actor, reason, agent_language(runtime, contact)),),
        dedupe_key=None,
    )


def assign_ticket(
    runtime: Runtime,
    number: int,
    agent_name: str,
    *,
    reason: str = "",
    force: bool = False,
    actor: ActorRef = SystemActor.CLI,
    action: AuditAction = AuditAction.TICKET_ASSIGNED,
    if_match: str | None = None,
) -> str | None:
    """Give ticket ``number`` to an agent (taking it from its assignee); the previous one.

    ``if_match``: the version the caller read (``StaleVersion`` if it changed since)."""
    with runtime.db.unit_of_work() as uow:
        ticket = _locked_active(uow, number, if_match)
        agent = agent_named(uow, agent_name)
        previous = ticket.assignee.name if ticket.assignee else None
        if ticket.assignee_id == agent.id:
            return previous
        uow.agents.lock([agent.id, *([ticket.assignee_id] if ticket.assignee_id else [])])
        freed = _release(uow, ticket)
        _give(runtime, uow, ticket, agent, force)
        why = f"by {actor}" + (f": {reason}" if reason else "")
        uow.audit.record(
            ticket_id=number,
            actor=actor,
            action=action,
            detail=f"assigned to {agent.name}"
            + (f" (from {previous})" if previous else "")
            + f" {why}",
            now=runtime.now(),
            data={"agent": agent.name, "previous": previous, "forced": force},
        )
        _notify(runtime, uow, ticket, agent, str(actor), reason)
        _tell_the_others(runtime, uow, ticket, agent)
    drain_soon(runtime, freed)
    return previous


def transfer_ticket(
    runtime: Runtime,
    number: int,
    *,
    reason: str,
    to_agent: str | None = None,
    to_team: str | None = None,
    actor: ActorRef = SystemActor.CLI,
    if_match: str | None = None,
) -> None:
    """Move a ticket to another agent, or to another team's queue, with a reason."""
    if (to_agent is None) == (to_team is None):
        raise ValueError("transfer to an agent or to a team")
    if not reason.strip():
        raise ValueError("a transfer needs a reason")
    if to_agent is not None:
        assign_ticket(
            runtime,
            number,
            to_agent,
            reason=reason,
            actor=actor,
            action=AuditAction.TICKET_TRANSFERRED,
            if_match=if_match,
        )
        return
    assert to_team is not None
    with runtime.db.unit_of_work() as uow:
        ticket = _locked_active(uow, number, if_match)
        team = uow.agents.team(to_team)
        if team is None:
            raise NotFound(f"no team named {to_team!r}")
        previous = ticket.assignee.name if ticket.assignee else None
        previous_id = ticket.assignee_id
        old_team = ticket.team.name if ticket.team else None
        freed = _release(uow, ticket)
        ticket.team_id = team.id
        ticket.queued_at = runtime.now()
        ticket.updated_at = runtime.now()
        uow.audit.record(
            ticket_id=number,
            actor=actor,
            action=AuditAction.TICKET_TRANSFERRED,
            detail=f"team {old_team or '-'} -> {team.name}"
            + (f", taken from {previous}" if previous else "")
            + f": {reason}",
            now=runtime.now(),
            data={"team": team.name, "previous_team": old_team, "previous": previous},
        )
    _back_in_line(runtime, number, team.id, previous_id, freed)


def unassign_ticket(
    runtime: Runtime,
    number: int,
    *,
    reason: str = "",
    actor: ActorRef = SystemActor.CLI,
    if_match: str | None = None,
) -> str:
    """Return a ticket to its team's queue; the agent who had it."""
    with runtime.db.unit_of_work() as uow:
        ticket = _locked_active(uow, number, if_match)
        if ticket.assignee is None:
            raise PermanentError(f"ticket #{number} has no assignee")
        previous = ticket.assignee.name
        previous_id = ticket.assignee_id
        team_id = ticket.team_id
        freed = _release(uow, ticket)
        ticket.queued_at = runtime.now()
        ticket.updated_at = runtime.now()
        uow.audit.record(
            ticket_id=number,
            actor=actor,
            action=AuditAction.TICKET_UNASSIGNED,
            detail=f"taken from {previous}, back to the queue" + (f": {reason}" if reason else ""),
            now=runtime.now(),
            data={"previous": previous},
        )
    _back_in_line(runtime, number, team_id, previous_id, freed)
    return previous


def _back_in_line(
    runtime: Runtime, number: int, team_id: int | None, taken_from: int | None, freed: list[int]
) -> None:
    """A ticket given back to a team's queue waits its turn there, by priority and age,
    behind older urgent work (routing it at once let it jump the line, often straight
    back to the agent it was taken from): the team's backlog is drained, the freed
    slots with it, and ``taken_from`` is passed over for it while anyone else can
    take it. A ticket without a team is routed, as at intake."""
    if team_id is None:
        route_soon(runtime, [number], avoid=taken_from)
        drain_soon(runtime, freed)
        return
    avoid = {number: taken_from} if taken_from is not None else None
    drain_soon(runtime, [team_id, *freed], avoid=avoid)


def claim_ticket(
    runtime: Runtime,
    number: int,
    agent_name: str,
    *,
    actor: ActorRef = "",
    if_match: str | None = None,
) -> None:
    """An agent takes a waiting ticket; the first claim wins, a later one is refused.

    An agent the ticket was offered to (claim mode) may claim it; anyone else
    only if in its team with its required skills. Either way, never past the
    agent's capacity, overall or in the ticket's channel.
    """
    with runtime.db.unit_of_work() as uow:
        claim_in(runtime, uow, number, agent_name, actor=actor, if_match=if_match)


def claim_in(
    runtime: Runtime,
    uow: UnitOfWork,
    number: int,
    agent_name: str,
    *,
    actor: ActorRef = "",
    if_match: str | None = None,
) -> Ticket:
    """``claim_ticket`` within ``uow`` (the Telegram Claim button's transaction)."""
    actor = actor or f"agent:{agent_name}"
    ticket = _locked_active(uow, number, if_match)
    agent = agent_named(uow, agent_name)
    if ticket.assignee is not None:
        raise PermanentError(f"ticket #{number} is taken by {ticket.assignee.name}")
    offered = _offers(uow, ticket)
    if agent.id not in offered:
        if ticket.team is not None and ticket.team not in agent.teams:
            raise PermanentError(f"{agent.name} is not in team {ticket.team.name}")
        levels = {s.skill: s.level for s in agent.skills}
        for skill, level in sorted((ticket.required_skills or {}).items()):
            if levels.get(skill, 0) < level:
                raise PermanentError(f"{agent.name} lacks {skill}≥{level}")
    uow.agents.lock([agent.id])  # then count: a concurrent claim waits for this one
    limit = (agent.channel_capacity or {}).get(ticket.channel)
    if limit is not None and uow.agents.channel_load(agent.id, ticket.channel) >= limit:
        raise PermanentError(f"{agent.name} is full in {ticket.channel} ({limit})")
    if not uow.agents.claim_slot(agent.id, runtime.now()):
        raise PermanentError(
            f"{agent.name} cannot take it: {agent.status}, load {agent.load}/{agent.capacity}"
        )
    _take(ticket, agent, runtime.now())
    uow.audit.record(
        ticket_id=number,
        actor=actor,
        action=AuditAction.TICKET_CLAIMED,
        detail=f"claimed by {agent.name}, load {agent.load + 1}/{agent.capacity}",
        now=runtime.now(),
        data={"agent": agent.name},
    )
    _tell_the_others(runtime, uow, ticket, agent, offered)
    return ticket


def _offers(uow: UnitOfWork, ticket: Ticket) -> set[int]:
    """The agents offered the ticket this round (since it was last queued)."""
    return uow.outbox.offers_since(ticket.id, ticket.queued_at or ticket.created_at)


def _tell_the_others(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: Ticket,
    winner: Agent,
    offered: set[int] | None = None,
) -> None:
    """Claim mode: everyone else who was offered the ticket hears it is taken."""
    since = ticket.queued_at or ticket.created_at
    others = (_offers(uow, ticket) if offered is None else offered) - {winner.id}
    if not others:
        return
    taken_by = winner.display_name or winner.name
    brief = brief_of(uow, ticket)
    for agent in uow.agents.by_ids(sorted(others)):
        contact = AgentContact.of(agent)
        language = agent_language(runtime, contact)
        rendered = taken_notice(
            number=ticket.id,
            subject=ticket.subject,
            taken_by=taken_by,
            language=language,
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
        )
        notify_agent(
            runtime,
            uow,
            contact,
            brief,
            kind=OutboxKind.TAKEN,
            rendered=rendered,
            dedupe_key=f"taken:{ticket.id}:{agent.id}:{since.timestamp()}"[:255],
            detail=claimed_by(taken_by, language),
        )


def return_tickets(
    runtime: Runtime,
    uow: UnitOfWork,
    agent: Agent,
    tickets: list[Ticket],
    *,
    reason: str,
    actor: ActorRef,
) -> list[int]:
    """Give ``tickets``, the agent's and locked, back to the queue; their ids."""
    returned = []
    for ticket in tickets:
        _release(uow, ticket, freed_teams=False)  # going offline: its free slots take nothing
        ticket.queued_at = runtime.now()
        ticket.updated_at = runtime.now()
        uow.audit.record(
            ticket_id=ticket.id,
            actor=actor,
            action=AuditAction.TICKET_UNASSIGNED,
            detail=f"taken from {agent.name}, back to the queue: {reason}",
            now=runtime.now(),
            data={"previous": agent.name},
        )
        returned.append(ticket.id)
    return returned
