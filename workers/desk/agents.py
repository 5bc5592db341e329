"""Agents: add one, set an agent's routing status, link or unlink an agent's Telegram.

Each writes its audit event in the same transaction and, when capacity changes,
routes and drains the affected backlogs: inline in embedded mode (the CLI
process has no worker), through the broker otherwise.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pydantic import ValidationError

from config.loader import problems_of
from config.settings import AgentSettings
from connectors.telegram.commands import link_code_of
from router.audit_origin import ActorRef
from router.lifecycle import ROUTABLE_STATUSES
from router.vocabulary import AgentStatus, AuditAction, SystemActor
from store.db import UnitOfWork
from store.models import Agent
from workers.desk.assignments import agent_named, return_tickets
from workers.runtime.context import Runtime
from workers.steps.drain import drain_soon
from workers.steps.route import route_soon


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
    actor: str = SystemActor.CLI,
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
            action=AuditAction.AGENT_ADDED,
            detail=f"{name} <{email}> teams={','.join(teams) or '-'} capacity={capacity} "
            f"status={status.value}",
            now=now,
        )
        team_ids = [t.id for t in agent.teams]
    drain_soon(runtime, team_ids if status is AgentStatus.ONLINE else [])
    return agent


def set_agent_status(
    runtime: Runtime, name: str, status: AgentStatus, *, actor: ActorRef = SystemActor.CLI
) -> str:
    """Set an agent's routing status; returns the previous one."""
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, name)
        return change_agent_status(runtime, uow, agent, status, actor=actor)


def change_agent_status(
    runtime: Runtime, uow: UnitOfWork, agent: Agent, status: AgentStatus, *, actor: ActorRef
) -> str:
    """Within ``uow``: set the status, return tickets of an agent going offline (when
    configured), audit; routes and drains once committed. Returns the previous status."""
    returned: list[int] = []
    if status is AgentStatus.OFFLINE and runtime.settings.routing.return_on_offline:
        # its row locked before its tickets are returned: a router that claimed a slot just
        # before has committed by then, and its ticket goes back too
        agent, held = uow.agents.lock_holding(agent.id, ROUTABLE_STATUSES)
        if agent.status != status.value:
            returned = return_tickets(
                runtime, uow, agent, held, reason=f"{agent.name} went offline", actor=actor
            )
    previous = uow.agents.set_status(agent, status)
    if previous != status.value:
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.AGENT_STATUS,
            detail=f"{agent.name}: {previous} -> {status.value}",
            now=runtime.now(),
        )
    team_ids = uow.agents.teams_served_by(agent.id)
    uow.after_commit(lambda: route_soon(runtime, returned))
    if status is AgentStatus.ONLINE and previous != status.value:
        uow.after_commit(lambda: drain_soon(runtime, team_ids))
    return previous


def link_code_hash(code: str) -> str:
    """What is kept of a link code: its hash (the code is typed by hand: case and
    separators ignored)."""
    return hashlib.sha256(link_code_of(code).encode()).hexdigest()


def make_link_code(
    runtime: Runtime, name: str, *, actor: str = SystemActor.CLI
) -> tuple[str, datetime]:
    """A one-time code that links ``name``'s Telegram account; only its hash is kept."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    expires_at = runtime.now() + timedelta(seconds=runtime.settings.telegram.link_code_ttl_s)
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, name)
        uow.chats.set_link_code(agent, link_code_hash(code), expires_at)
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.AGENT_LINK_CODE,
            detail=f"a Telegram link code for {name}, valid until {expires_at:%Y-%m-%d %H:%M} UTC",
            now=runtime.now(),
        )
    return code, expires_at


def unlink_agent(runtime: Runtime, name: str, *, actor: str = SystemActor.CLI) -> None:
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, name)
        uow.chats.unlink(agent)
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.AGENT_UNLINKED,
            detail=f"{name}: Telegram unlinked",
            now=runtime.now(),
        )


_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud, typed by hand
