"""Bring the teams and agents named in configuration into the store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from config.settings import Settings
from router.vocabulary import AgentStatus
from store.db import UnitOfWork
from store.models import Agent, AgentSkill


def sync_directory(uow: UnitOfWork, settings: Settings, now: datetime) -> list[str]:
    """Create missing teams and agents, update what config owns; returns what changed.

    Config owns an agent's email, display name, role, capacity (overall and per
    channel), seniority, time zone, teams, skills and supervisor, and a team's supervisor,
    claim mode and fallback team. The routing status belongs to the agent once they exist (it is
    set from config only on creation), and the load is never touched.
    """
    changes: list[str] = []
    agents = uow.agents
    # the agents it may change, locked in id order before it changes any (it updates them
    # in config order): a writer that holds two agents takes them in id order, as a
    # routing batch does, so the two queue instead of deadlocking
    names = [a.name for a in settings.agents]
    agents.lock(list(uow.session.scalars(select(Agent.id).where(Agent.name.in_(names)))))
    for team_cfg in settings.teams:
        if agents.team(team_cfg.name) is None:
            agents.ensure_team(team_cfg.name)
            changes.append(f"team {team_cfg.name} created")
    for agent_cfg in settings.agents:
        agent = agents.by_name(agent_cfg.name)
        if agent is None:
            agents.add(
                name=agent_cfg.name,
                email=agent_cfg.email,
                display_name=agent_cfg.display_name,
                capacity=agent_cfg.capacity,
                status=AgentStatus(agent_cfg.status),
                teams=agent_cfg.teams,
                skills=agent_cfg.skills,
                now=now,
            )
            changes.append(f"agent {agent_cfg.name} created")
            agent = agents.by_name(agent_cfg.name)
            assert agent is not None
            agent.seniority = agent_cfg.seniority
            agent.channel_capacity = {str(k): v for k, v in agent_cfg.channel_capacity.items()}
            agent.role = agent_cfg.role
            agent.timezone = agent_cfg.timezone
            agent.language = agent_cfg.language or None
            continue
        agent.role = agent_cfg.role
        agent.timezone = agent_cfg.timezone
        agent.language = agent_cfg.language or None
        agent.seniority = agent_cfg.seniority
        agent.channel_capacity = {str(k): v for k, v in agent_cfg.channel_capacity.items()}
        agent.email = agent_cfg.email
        agent.display_name = agent_cfg.display_name
        agent.capacity = agent_cfg.capacity
        agent.teams = [agents.ensure_team(t) for t in agent_cfg.teams]
        current = {s.skill: s for s in agent.skills}
        for skill, level in agent_cfg.skills.items():
            if skill in current:
                current[skill].level = level
            else:
                agent.skills.append(AgentSkill(skill=skill, level=level))
        agent.skills = [s for s in agent.skills if s.skill in agent_cfg.skills]
    uow.session.flush()
    for agent_cfg in settings.agents:
        agent = agents.by_name(agent_cfg.name)
        supervisor = agents.by_name(agent_cfg.supervisor) if agent_cfg.supervisor else None
        if agent is not None:
            agent.supervisor_id = supervisor.id if supervisor else None
    for team_cfg in settings.teams:
        team = agents.ensure_team(team_cfg.name)
        supervisor = agents.by_name(team_cfg.supervisor) if team_cfg.supervisor else None
        team.supervisor_id = supervisor.id if supervisor else None
        team.claim_mode = team_cfg.claim_mode
        fallback = agents.ensure_team(team_cfg.fallback_team) if team_cfg.fallback_team else None
        team.fallback_team_id = fallback.id if fallback else None
    return changes
