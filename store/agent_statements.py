"""The routing hot path's statements on the agents, built once: building them costs more
than running them (see ``store.dialect``). Core statements on the tables, values as
parameters; ``store.agents.AgentRepository`` runs them."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Executable,
    Integer,
    TextClause,
    Update,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from router.vocabulary import AgentStatus
from store.dialect import table
from store.models import Agent, AgentSkill, agent_teams


@cache
def candidates(available_only: bool, dialect: str) -> Executable:
    """The agents of the teams ``team_ids`` with what routing weighs, a row for each of
    those teams an agent is in, its skills as one JSON object (skill -> level; None: it
    has none); ``available_only``: those online with room."""
    skills = (
        select(_object_of(dialect)(AgentSkill.skill, AgentSkill.level, type_=JSON))
        .where(AgentSkill.agent_id == Agent.id)
        .scalar_subquery()
    )
    query = (
        select(
            Agent.id,
            Agent.name,
            Agent.status,
            Agent.capacity,
            Agent.load,
            Agent.last_assigned_at,
            Agent.email,
            Agent.display_name,
            Agent.seniority,
            Agent.channel_capacity,
            agent_teams.c.team_id,
            Agent.telegram_chat_id,
            Agent.language,
            skills,
        )
        .join(agent_teams, agent_teams.c.agent_id == Agent.id)
        .where(agent_teams.c.team_id.in_(bindparam("team_ids", expanding=True)))
    )
    if available_only:
        query = query.where(Agent.status == AgentStatus.ONLINE.value, Agent.load < Agent.capacity)
    return query


def _object_of(dialect: str) -> Any:
    """The aggregate that makes a JSON object of key and value rows, in ``dialect``."""
    return func.json_object_agg if dialect == "postgresql" else func.json_group_object


@cache
def claim_slot() -> Update:
    """A slot of the agent ``agent_id`` if online with room (``now``: its last assignment)."""
    agents = table(Agent).c
    return (
        update(table(Agent))
        .where(
            agents.id == bindparam("agent_id"),
            agents.status == AgentStatus.ONLINE.value,
            agents.load < agents.capacity,
        )
        .values(load=agents.load + 1, last_assigned_at=bindparam("now"))
    )


@cache
def claim_best_free() -> Update:
    """PostgreSQL: a slot of the first agent in ``ranked`` (one array parameter: the
    same statement text whatever the candidates) that is online, has room, and whose
    row no other router holds right now."""
    agents = table(Agent).c
    ranked = bindparam("ranked", type_=ARRAY(Integer))
    best_free = (
        select(agents.id)
        .where(
            agents.id == func.any(ranked),
            agents.status == AgentStatus.ONLINE.value,
            agents.load < agents.capacity,
        )
        .order_by(func.array_position(ranked, agents.id))
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(table(Agent))
        .where(agents.id == best_free, agents.load < agents.capacity)
        .values(load=agents.load + 1, last_assigned_at=bindparam("now"))
        .returning(agents.id)
    )


@cache
def hold_free() -> Executable:
    """The agents ``agent_ids`` online with room, locked in id order, waiting for another
    transaction that holds one (PostgreSQL; SQLite ignores the clause: its writers are
    serial), then checked again."""
    agents = table(Agent).c
    return (
        select(agents.id, agents.load, agents.capacity, agents.last_assigned_at)
        .where(
            agents.id.in_(bindparam("agent_ids", expanding=True)),
            agents.status == AgentStatus.ONLINE.value,
            agents.load < agents.capacity,
        )
        .order_by(agents.id)
        .with_for_update()
    )


@cache
def bound_lock_wait() -> TextClause:
    """Limit the transaction's lock waits to ``lock_timeout`` (PostgreSQL, until
    ``restore_lock_wait``); returns the limit it had."""
    return text(
        "SELECT current_setting('lock_timeout'), set_config('lock_timeout', :lock_timeout, true)"
    )


@cache
def restore_lock_wait() -> TextClause:
    """Give the transaction back the lock wait limit ``bound_lock_wait`` returned."""
    return text("SELECT set_config('lock_timeout', :lock_timeout, true)")


@cache
def take_slots() -> Update:
    """``taken`` slots of the agent ``agent_id``, if it stays online and within capacity."""
    agents = table(Agent).c
    return (
        update(table(Agent))
        .where(
            agents.id == bindparam("agent_id"),
            agents.status == AgentStatus.ONLINE.value,
            agents.load + bindparam("taken") <= agents.capacity,
        )
        .values(load=agents.load + bindparam("taken"), last_assigned_at=bindparam("now"))
    )
