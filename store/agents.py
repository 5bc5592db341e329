"""Agents, their teams and skills; the atomic claim of a free slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, selectinload

from router.assignment import AgentFacts
from router.vocabulary import AgentStatus
from store.dialect import insert_ignoring_conflict
from store.models import Agent, AgentSkill, Team, agent_teams


@dataclass(frozen=True)
class Member:
    """An agent as routing sees it, with where to notify them."""

    facts: AgentFacts
    email: str
    display_name: str


class AgentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str) -> Agent | None:
        return self.session.scalars(select(Agent).where(Agent.name == name)).first()

    def by_email(self, address: str) -> Agent | None:
        address = address.strip().lower()
        return self.session.scalars(
            select(Agent).where(func.lower(Agent.email) == address).order_by(Agent.id)
        ).first()

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

    def team_members(self, team_id: int, team_name: str) -> list[Member]:
        """Every agent of the team: the routing input (router decides who is eligible).

        One query; each agent's ``teams`` holds the team being routed for, the
        only membership the decision looks at.
        """
        rows = self.session.execute(
            select(
                Agent.id,
                Agent.name,
                Agent.status,
                Agent.capacity,
                Agent.load,
                Agent.last_assigned_at,
                Agent.email,
                Agent.display_name,
            )
            .join(agent_teams, agent_teams.c.agent_id == Agent.id)
            .where(agent_teams.c.team_id == team_id)
        ).all()
        teams = frozenset({team_name})
        return [
            Member(
                facts=AgentFacts(
                    id=r[0],
                    name=r[1],
                    status=AgentStatus(r[2]),
                    capacity=r[3],
                    load=r[4],
                    teams=teams,
                    last_assigned_at=r[5],
                ),
                email=r[6],
                display_name=r[7],
            )
            for r in rows
        ]

    def team_id(self, name: str) -> int:
        """The id of team ``name``, created when missing."""
        found = self.session.execute(select(Team.id).where(Team.name == name)).scalar()
        if found is not None:
            return found
        inserted = insert_ignoring_conflict(self.session, Team, {"name": name})
        if inserted is not None:
            return int(inserted)
        return self.session.execute(select(Team.id).where(Team.name == name)).scalar_one()

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

    def claim_first_free(self, ranked_ids: list[int], now: datetime) -> int | None:
        """Claim a slot of the best agent in ``ranked_ids`` that can take one.

        On PostgreSQL, agents whose row another router holds right now are
        skipped (SELECT ... FOR UPDATE SKIP LOCKED), so concurrent routers
        spread over the ranked agents instead of queueing on the best one; only
        if every candidate is busy does it wait, on the best. On SQLite writers
        are serial and the ranked order is taken as is.
        """
        if not ranked_ids:
            return None
        if self.session.get_bind().dialect.name == "postgresql":
            rank = case({agent_id: i for i, agent_id in enumerate(ranked_ids)}, value=Agent.id)
            best_free = (
                select(Agent.id)
                .where(
                    Agent.id.in_(ranked_ids),
                    Agent.status == AgentStatus.ONLINE.value,
                    Agent.load < Agent.capacity,
                )
                .order_by(rank)
                .limit(1)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            claimed = self.session.execute(
                update(Agent)
                .where(Agent.id == best_free, Agent.load < Agent.capacity)
                .values(load=Agent.load + 1, last_assigned_at=now)
                .returning(Agent.id)
                .execution_options(synchronize_session=False)
            ).scalar()
            if claimed is not None:
                return int(claimed)
        for agent_id in ranked_ids:  # every candidate busy (or SQLite): wait, best first
            if self.claim_slot(agent_id, now):
                return agent_id
        return None

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
        """Team ``name`` as an ORM object (to attach agents to), created when missing."""
        team = self.session.get(Team, self.team_id(name))
        assert team is not None
        return team

    def set_status(self, agent: Agent, status: AgentStatus) -> str:
        previous = agent.status
        agent.status = status.value
        return previous
