"""Agents, their teams and skills; the atomic claim of a free slot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from router.assignment import AgentFacts
from router.vocabulary import AgentStatus
from store.models import Agent, AgentSkill, Team


def facts_of(agent: Agent) -> AgentFacts:
    return AgentFacts(
        id=agent.id,
        name=agent.name,
        status=AgentStatus(agent.status),
        capacity=agent.capacity,
        load=agent.load,
        teams=frozenset(t.name for t in agent.teams),
        last_assigned_at=agent.last_assigned_at,
    )


class AgentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str) -> Agent | None:
        return self.session.scalars(select(Agent).where(Agent.name == name)).first()

    def team(self, name: str) -> Team | None:
        return self.session.scalars(select(Team).where(Team.name == name)).first()

    def all(self) -> list[Agent]:
        return list(
            self.session.scalars(
                select(Agent)
                .options(selectinload(Agent.teams), selectinload(Agent.skills))
                .order_by(Agent.name)
            )
        )

    def team_members(self, team: str) -> list[AgentFacts]:
        """Facts of every agent of the team: the routing input (router decides who is eligible)."""
        agents = self.session.scalars(
            select(Agent)
            .join(Agent.teams)
            .where(Team.name == team)
            .options(selectinload(Agent.teams))
        )
        return [facts_of(a) for a in agents]

    def claim_slot(self, agent_id: int, now: datetime) -> bool:
        """Take one slot if the agent is online with room: never past capacity.

        A conditional UPDATE: on PostgreSQL a racing transaction waits for the
        row lock, then re-checks ``load < capacity``; on SQLite writers are serial.
        """
        result = self.session.execute(
            update(Agent)
            .where(
                Agent.id == agent_id,
                Agent.status == AgentStatus.ONLINE.value,
                Agent.load < Agent.capacity,
            )
            .values(load=Agent.load + 1, last_assigned_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def reclaim_slot(self, agent_id: int) -> None:
        """A reopened ticket takes its slot back, even past capacity: it is already theirs."""
        self.session.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values(load=Agent.load + 1)
            .execution_options(synchronize_session=False)
        )

    def release_slot(self, agent_id: int) -> None:
        self.session.execute(
            update(Agent)
            .where(Agent.id == agent_id, Agent.load > 0)
            .values(load=Agent.load - 1)
            .execution_options(synchronize_session=False)
        )

    def add(
        self,
        *,
        name: str,
        email: str,
        now: datetime,
        display_name: str = "",
        capacity: int = 5,
        status: AgentStatus = AgentStatus.OFFLINE,
        teams: tuple[str, ...] = (),
        skills: dict[str, int] | None = None,
    ) -> Agent:
        agent = Agent(
            name=name,
            email=email,
            display_name=display_name,
            capacity=capacity,
            load=0,
            status=status.value,
            created_at=now,
        )
        agent.teams = [self.ensure_team(t) for t in teams]
        agent.skills = [AgentSkill(skill=s, level=lvl) for s, lvl in (skills or {}).items()]
        self.session.add(agent)
        self.session.flush()
        return agent

    def ensure_team(self, name: str) -> Team:
        team = self.team(name)
        if team is None:
            team = Team(name=name)
            self.session.add(team)
            self.session.flush()
        return team

    def set_status(self, agent: Agent, status: AgentStatus) -> str:
        previous = agent.status
        agent.status = status.value
        return previous
