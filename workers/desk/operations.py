"""Operations on agents and tickets, shared by the command line and other packages.

Each writes its audit event in the same transaction and, when it frees
capacity, drains the affected backlogs: inline in embedded mode (the CLI
process has no worker), through the broker otherwise.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from pydantic import ValidationError

from config.loader import problems_of
from config.settings import AgentSettings
from router.errors import NotFound
from router.lifecycle import check_transition, is_active
from router.vocabulary import AgentStatus, Status
from store.db import UnitOfWork
from store.models import Agent
from workers.desk.assignments import agent_named, return_tickets
from workers.desk.replies import post_answer
from workers.desk.sla_clocks import clock_event, status_event
from workers.runtime.context import Runtime
from workers.steps.route import drain_soon, route_soon


def add_agent(
    runtime: Runtime,
    *,
    name: str,
    email: str,
    display_name: str = "",
    teams: tuple[str, ...] = (),
    capacity: int = 5,
    status: AgentStatus = AgentStatus.OFFLINE,
    skills: dict[str, int] | None = None,
    actor: str = "cli",
) -> Agent:
    """Add an agent; ``ValueError`` names what is wrong (same rules as the config file)."""
    try:
        validated = AgentSettings(
            name=name,
            email=email,
            display_name=display_name,
            teams=teams,
            capacity=capacity,
            status=status.value,
            skills=skills or {},
        )
    except ValidationError as exc:
        raise ValueError("; ".join(f"{path}: {msg}" for path, msg in problems_of(exc))) from None
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        if uow.agents.by_name(name) is not None:
            raise ValueError(f"agent {name!r} exists already")
        unknown = [t for t in teams if uow.agents.team(t) is None]
        if unknown:
            raise ValueError(
                f"unknown team(s) {', '.join(unknown)}: add them to [[teams]] in the config "
                "and run `relaydesk migrate`"
            )
        agent = uow.agents.add(
            name=name,
            email=email,
            display_name=display_name,
            capacity=capacity,
            status=status,
            teams=teams,
            skills=dict(validated.skills),
            now=now,
        )
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action="agent.added",
            detail=f"{name} <{email}> teams={','.join(teams) or '-'} capacity={capacity} "
            f"status={status.value}",
            now=now,
        )
        team_ids = [t.id for t in agent.teams]
    drain_soon(runtime, team_ids if status is AgentStatus.ONLINE else [])
    return agent


def set_agent_status(
    runtime: Runtime, name: str, status: AgentStatus, *, actor: str = "cli"
) -> str:
    """Set an agent's routing status; returns the previous one."""
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, name)
        return change_agent_status(runtime, uow, agent, status, actor=actor)


def change_agent_status(
    runtime: Runtime, uow: UnitOfWork, agent: Agent, status: AgentStatus, *, actor: str
) -> str:
    """Within ``uow``: set the status, return tickets of an agent going offline (when
    configured), audit; routes and drains once committed. Returns the previous status."""
    returned: list[int] = []
    going_offline = status is AgentStatus.OFFLINE and agent.status != status.value
    if going_offline and runtime.settings.routing.return_on_offline:
        # the tickets first, then the agent's row: the order every writer locks in
        returned = return_tickets(
            runtime, uow, agent, reason=f"{agent.name} went offline", actor=actor
        )
    previous = uow.agents.set_status(agent, status)
    if previous != status.value:
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action="agent.status",
            detail=f"{agent.name}: {previous} -> {status.value}",
            now=runtime.now(),
        )
    team_ids = uow.agents.teams_served_by(agent.id)
    uow.after_commit(lambda: route_soon(runtime, returned))
    if status is AgentStatus.ONLINE and previous != status.value:
        uow.after_commit(lambda: drain_soon(runtime, team_ids))
    return previous


def set_ticket_status(
    runtime: Runtime, number: int, target: Status, *, actor: str = "cli", reason: str = ""
) -> Status:
    """Move a ticket through the lifecycle (validated in router); drains when a slot frees."""
    with runtime.db.unit_of_work() as uow:
        return change_ticket_status(runtime, uow, number, target, actor=actor, reason=reason)


def change_ticket_status(
    runtime: Runtime, uow: UnitOfWork, number: int, target: Status, *, actor: str, reason: str = ""
) -> Status:
    """Within ``uow``: lock, move (the agent's slot and the SLA clocks with it), audit;
    drains the freed agent's teams once committed. Returns the status before."""
    now = runtime.now()
    ticket = uow.tickets.get(number, for_update=True)
    if ticket is None:
        raise NotFound(f"no ticket #{number}")
    before = uow.tickets.set_status(ticket, target, now)  # moves the agent's slot too
    moved = status_event(before, target)
    if moved is not None:
        clock_event(runtime, uow, number, moved, now)
    freed = ticket.assignee_id is not None and is_active(before) and not is_active(target)
    uow.audit.record(
        ticket_id=number,
        actor=actor,
        action="ticket.status",
        detail=f"{before.value} -> {target.value}" + (f": {reason}" if reason else ""),
        now=now,
    )
    team_ids = uow.agents.teams_served_by(ticket.assignee_id) if freed else []
    uow.after_commit(lambda: drain_soon(runtime, team_ids))
    return before


def answer_ticket(
    runtime: Runtime,
    number: int,
    agent_name: str,
    text: str,
    *,
    internal: bool = False,
    status: Status | None = None,
    via: str = "cli",
) -> None:
    """An agent's public reply (sent to the requester) or internal note, then a status."""
    with runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(number, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket #{number}")
        agent = uow.agents.by_name(agent_name)
        if agent is None:
            raise NotFound(f"no agent {agent_name!r}")
        if status is not None and status is not Status(ticket.status):  # refuse before sending
            check_transition(Status(ticket.status), status)
        post_answer(runtime, uow, ticket, agent, text, internal=internal, via=via)
    if status is not None:
        set_ticket_status(runtime, number, status, actor=f"agent:{agent_name}", reason="answered")


def make_link_code(runtime: Runtime, name: str, *, actor: str = "cli") -> tuple[str, datetime]:
    """A one-time code that links ``name``'s Telegram account; only its hash is kept."""
    from workers.steps.ingest_telegram import link_code_hash

    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    expires_at = runtime.now() + timedelta(seconds=runtime.settings.telegram.link_code_ttl_s)
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, name)
        uow.chats.set_link_code(agent, link_code_hash(code), expires_at)
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action="agent.link_code",
            detail=f"a Telegram link code for {name}, valid until {expires_at:%Y-%m-%d %H:%M} UTC",
            now=runtime.now(),
        )
    return code, expires_at


def unlink_agent(runtime: Runtime, name: str, *, actor: str = "cli") -> None:
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, name)
        uow.chats.unlink(agent)
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action="agent.unlinked",
            detail=f"{name}: Telegram unlinked",
            now=runtime.now(),
        )


_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud, typed by hand
