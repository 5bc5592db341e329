"""The agents' load as the scheduler samples it (``agent_load_days``), for the people
figures (per agent over the period) and the load against capacity over time."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.report_figures import LoadDay, LoadFacts, ReportFilters
from router.report_period import Period
from store.models import Agent, AgentLoadDay, Team, agent_teams
from store.report_sql import as_date


def load_facts(session: Session, period: Period) -> list[LoadFacts]:
    """Agents' sampled load on the days of the period (``AgentLoadDay``)."""
    first, last = period.first, period.last
    query = (
        select(
            Agent.name,
            func.sum(AgentLoadDay.samples),
            func.sum(AgentLoadDay.load_sum),
            func.sum(AgentLoadDay.capacity_sum),
            func.max(AgentLoadDay.peak),
        )
        .join(Agent, Agent.id == AgentLoadDay.agent_id)
        .where(AgentLoadDay.day >= first, AgentLoadDay.day <= last)
        .group_by(Agent.name)
        .order_by(Agent.name)
    )
    return [
        LoadFacts(name, int(n), int(load), int(capacity), int(peak))
        for name, n, load, capacity, peak in session.execute(query)
    ]


def load_days(session: Session, period: Period, filters: ReportFilters) -> list[LoadDay]:
    """The agents' load samples per day of the period: the agents of the teams and the
    agents named in the filters (the others do not apply to an agent's load)."""
    where = [AgentLoadDay.day >= period.first, AgentLoadDay.day <= period.last]
    if filters.team:
        members = select(agent_teams.c.agent_id).join(Team, Team.id == agent_teams.c.team_id)
        where.append(AgentLoadDay.agent_id.in_(members.where(Team.name.in_(filters.team))))
    if filters.agent:
        named = select(Agent.id).where(Agent.name.in_(filters.agent))
        where.append(AgentLoadDay.agent_id.in_(named))
    query = (
        select(
            AgentLoadDay.day,
            func.sum(AgentLoadDay.load_sum),
            func.sum(AgentLoadDay.capacity_sum),
            func.max(AgentLoadDay.peak),
        )
        .where(*where)
        .group_by(AgentLoadDay.day)
        .order_by(AgentLoadDay.day)
    )
    return [
        LoadDay(as_date(d), int(load), int(capacity), int(peak))
        for d, load, capacity, peak in session.execute(query)
    ]
