"""Staff accounts as the access rules see them, their passwords, and their load per channel."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from router.access import Account
from router.lifecycle import ACTIVE_STATUSES
from router.vocabulary import Role
from store.models import Agent, Team, Ticket, agent_teams

ACTIVE = [s.value for s in ACTIVE_STATUSES]


class StaffDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def account(self, agent_id: int) -> Account | None:
        row = self.session.execute(
            select(Agent.id, Agent.name, Agent.role).where(Agent.id == agent_id)
        ).first()
        if row is None:
            return None
        teams = self.session.scalars(
            select(agent_teams.c.team_id).where(agent_teams.c.agent_id == agent_id)
        )
        supervises = self.session.scalars(select(Team.id).where(Team.supervisor_id == agent_id))
        return Account(
            agent_id=row[0],
            name=row[1],
            role=Role(row[2]),
            teams=frozenset(teams),
            supervises=frozenset(supervises),
        )

    def password_hash(self, name: str) -> tuple[int, str | None] | None:
        """The agent's id and password hash (None: no password set), or None: no such agent."""
        row = self.session.execute(
            select(Agent.id, Agent.password_hash).where(Agent.name == name)
        ).first()
        return None if row is None else (row[0], row[1])

    def set_password_hash(self, agent_id: int, password_hash: str, now: datetime) -> None:
        self.session.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values(password_hash=password_hash, password_set_at=now)
            .execution_options(synchronize_session=False)
        )

    def team_names(self) -> dict[int, str]:
        return {team_id: name for team_id, name in self.session.execute(select(Team.id, Team.name))}

    def loads_by_channel(self) -> dict[int, dict[str, int]]:
        """Each agent's active tickets per channel: agent id -> channel -> count."""
        loads: dict[int, dict[str, int]] = defaultdict(dict)
        for agent_id, channel, count in self.session.execute(
            select(Ticket.assignee_id, Ticket.channel, func.count())
            .where(Ticket.assignee_id.is_not(None), Ticket.status.in_(ACTIVE))
            .group_by(Ticket.assignee_id, Ticket.channel)
        ):
            if agent_id is not None:
                loads[agent_id][channel] = count
        return loads
