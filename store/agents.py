"""Agents, their teams and skills; the atomic claim of a free slot."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from router.lifecycle import ACTIVE_STATUSES
from router.routing_facts import AgentFacts
from router.vocabulary import AgentStatus, Status
from store import agent_statements as statements
from store import ticket_claims
from store.agent_locks import lock_agent_holding
from store.dialect import insert_ignoring_conflict
from store.models import Agent, AgentSkill, Team, Ticket, agent_teams


@dataclass(frozen=True)
class Member:
    """An agent as routing sees it, with where to notify them."""

    facts: AgentFacts
    email: str
    display_name: str
    telegram_chat_id: str | None = None  # set when the agent linked a Telegram account
    language: str | None = None  # their notices' language; None: helpdesk.language


# every agent's address (``emails``: every ingest batch asks), built once (see ``store.dialect``)
HOLD_WAIT_MS = 2000  # how long a routing batch waits for the agents it holds, at most

_AGENT_EMAILS = select(Agent.email)


class AgentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_name(self, name: str) -> Agent | None:
        return self.session.scalars(select(Agent).where(Agent.name == name)).first()

    def status_of(self, name: str) -> str | None:
        """Agent ``name``'s routing status; None: no such agent."""
        return self.session.scalar(select(Agent.status).where(Agent.name == name))

    def names(self) -> list[str]:
        """Every agent's name (unordered: callers sort as they show them)."""
        return list(self.session.scalars(select(Agent.name)))

    def by_email(self, address: str) -> Agent | None:
        address = address.strip().lower()
        return self.session.scalars(
            select(Agent).where(func.lower(Agent.email) == address).order_by(Agent.id)
        ).first()

    def emails(self) -> frozenset[str]:
        """Every agent's address, lowercased: is a sender one of ours?"""
        return frozenset(e.strip().lower() for e in self.session.scalars(_AGENT_EMAILS))

    def by_ids(self, ids: list[int]) -> list[Agent]:
        if not ids:
            return []
        return list(self.session.scalars(select(Agent).where(Agent.id.in_(ids)).order_by(Agent.id)))

    def by_names(self, names: list[str]) -> list[Agent]:
        """Agents by name, case-insensitively (as @mentions are written)."""
        if not names:
            return []
        lowered = [n.lower() for n in names]
        return list(
            self.session.scalars(
                select(Agent).where(func.lower(Agent.name).in_(lowered)).order_by(Agent.id)
            )
        )

    def by_telegram_user(self, user_id: str) -> Agent | None:
        return self.session.scalars(select(Agent).where(Agent.telegram_user_id == user_id)).first()

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

    def routing_candidates(
        self, teams: Mapping[int, str], channel: str | None, *, available_only: bool = False
    ) -> list[Member]:
        """The agents of ``teams`` with what routing weighs: the input to router's choice.

        ``available_only``: only those online with a free slot (the only ones who
        can be chosen; the others matter only to explain why nobody was).
        ``channel``: the channel of the ticket to route, whose load is counted for
        the agents with a limit in it; None (a drain, for tickets of any channel):
        every channel an agent has a limit in. Two queries: the agents (with which
        of ``teams`` they are in, and their skills), and those loads.
        """
        dialect = self.session.get_bind().dialect.name
        rows = self.session.execute(
            statements.candidates(available_only, dialect), {"team_ids": list(teams)}
        ).all()
        if not rows:
            return []
        memberships: dict[int, set[str]] = defaultdict(set)
        first: dict[int, Any] = {}
        for row in rows:
            memberships[row[0]].add(teams[row[10]])
            first.setdefault(row[0], row)
        limited = {
            agent_id: [channel] if channel else list(r[9])
            for agent_id, r in first.items()
            if r[9] and (channel is None or channel in r[9])
        }
        counted = sorted({c for channels in limited.values() for c in channels})
        loads = self._channel_loads(list(limited), counted) if limited else {}
        return [
            Member(
                facts=AgentFacts(
                    id=r[0],
                    name=r[1],
                    status=AgentStatus(r[2]),
                    capacity=r[3],
                    load=r[4],
                    teams=frozenset(memberships[agent_id]),
                    last_assigned_at=r[5],
                    skills=r[13] or {},
                    seniority=r[8] or 0,
                    channel_capacity=dict(r[9] or {}),
                    channel_load={
                        c: loads.get((agent_id, c), 0) for c in limited.get(agent_id, ())
                    },
                ),
                email=r[6],
                display_name=r[7],
                telegram_chat_id=r[11],
                language=r[12],
            )
            for agent_id, r in first.items()
        ]

    def _channel_loads(
        self, agent_ids: list[int], channels: list[str]
    ) -> dict[tuple[int, str], int]:
        """(agent, channel) -> the agent's active tickets in that channel (absent: none)."""
        active = [s.value for s in ACTIVE_STATUSES]
        return {
            (agent_id, channel): count
            for agent_id, channel, count in self.session.execute(
                select(Ticket.assignee_id, Ticket.channel, func.count())
                .where(
                    Ticket.assignee_id.in_(agent_ids),
                    Ticket.channel.in_(channels),
                    Ticket.status.in_(active),
                )
                .group_by(Ticket.assignee_id, Ticket.channel)
            )
            if agent_id is not None
        }

    def hold_free(self, agent_ids: Sequence[int]) -> dict[int, tuple[int, int, datetime | None]]:
        """Lock the rows of the agents of ``agent_ids`` that are online with room, in id
        order, waiting for another router that holds one (PostgreSQL; SQLite's writers are
        serial), and read them afresh: id -> (load, capacity, last_assigned_at).

        A routing batch takes their slots later in the transaction (``take_slots``); as it
        holds their rows meanwhile, nobody else can change what it read. It locks them all
        in one statement, before it decides, and no other agent after: two batches lock
        agents in the same order, so they queue, never deadlock. It waits at most
        ``HOLD_WAIT_MS`` (PostgreSQL's lock_timeout, for this statement only): past it the
        store raises lock_not_available (an OperationalError, SQLSTATE 55P03)."""
        if self.session.get_bind().dialect.name != "postgresql":
            rows = self.session.execute(statements.hold_free(), {"agent_ids": list(agent_ids)})
            return {row[0]: (row[1], row[2], row[3]) for row in rows}
        # the wait bounded (HOLD_WAIT_MS): past it, PostgreSQL raises lock_not_available
        # (55P03), which aborts the transaction; the batch's caller routes its tickets alone
        previous = self.session.execute(
            statements.bound_lock_wait(), {"lock_timeout": f"{HOLD_WAIT_MS}ms"}
        ).scalar_one()
        rows = self.session.execute(statements.hold_free(), {"agent_ids": list(agent_ids)})
        held = {row[0]: (row[1], row[2], row[3]) for row in rows}
        self.session.execute(statements.restore_lock_wait(), {"lock_timeout": previous})
        return held

    def take_slots(self, slots: Mapping[int, int], now: datetime) -> int:
        """Give each agent of ``slots`` that many more tickets (one statement), for a batch
        that holds their rows (``hold_free``); each still online and within capacity, or
        its row is left as it was. How many agents' rows took theirs."""
        if not slots:
            return 0
        result = self.session.execute(
            statements.take_slots(),
            [{"agent_id": a, "taken": n, "now": now} for a, n in slots.items()],
        )
        return int(getattr(result, "rowcount", 0))

    def channel_loads(
        self, agent_ids: list[int], channels: list[str]
    ) -> dict[tuple[int, str], int]:
        """(agent, channel) -> the agent's active tickets in that channel (absent: none)."""
        return self._channel_loads(agent_ids, channels)

    def channel_load(self, agent_id: int, channel: str) -> int:
        """The agent's active tickets in ``channel`` (read after claiming the agent's row)."""
        return self._channel_loads([agent_id], [channel]).get((agent_id, channel), 0)

    def claim_mode(self, team_id: int) -> bool:
        """Whether the team offers its tickets (the first claim wins) instead of assigning."""
        return bool(self.session.scalar(select(Team.claim_mode).where(Team.id == team_id)))

    def teams_served_by(self, agent_id: int | None) -> list[int]:
        """The teams whose backlog this agent's free slot may take: the agent's own, and
        those that fall back to one of them."""
        if agent_id is None:
            return []
        own = list(
            self.session.scalars(
                select(agent_teams.c.team_id).where(agent_teams.c.agent_id == agent_id)
            )
        )
        falling_back = (
            list(self.session.scalars(select(Team.id).where(Team.fallback_team_id.in_(own))))
            if own
            else []
        )
        return list(dict.fromkeys([*own, *falling_back]))

    def team_id(self, name: str) -> int:
        """The id of team ``name``, created when missing."""
        found = self.session.execute(select(Team.id).where(Team.name == name)).scalar()
        if found is not None:
            return found
        inserted = insert_ignoring_conflict(self.session, Team, {"name": name})
        if inserted is not None:
            return int(inserted)
        return self.session.execute(select(Team.id).where(Team.name == name)).scalar_one()

    def lock_holding(self, agent_id: int, statuses: Sequence[Status]) -> tuple[Agent, list[Ticket]]:
        """The agent's row and its tickets in ``statuses``, locked, none missed."""
        return lock_agent_holding(self.session, agent_id, statuses)

    def lock(self, agent_ids: Sequence[int]) -> None:
        """Lock these agents' rows in id order (PostgreSQL): two operations that both
        touch the same agents then queue instead of deadlocking."""
        ids = sorted({i for i in agent_ids if i is not None})
        if ids and self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                select(Agent.id).where(Agent.id.in_(ids)).order_by(Agent.id).with_for_update()
            ).all()

    def claim_slot(self, agent_id: int, now: datetime) -> bool:
        """Take one slot if the agent is online with room: never past capacity.

        A conditional UPDATE: on PostgreSQL a racing transaction waits for the
        row lock, then re-checks ``load < capacity``; on SQLite writers are serial.
        """
        result = self.session.execute(statements.claim_slot(), {"agent_id": agent_id, "now": now})
        return bool(getattr(result, "rowcount", 0))

    def reclaim_slot(self, agent_id: int) -> None:
        """A reopened ticket takes its slot back, even past capacity: it is already theirs."""
        self.session.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values(load=Agent.load + 1)
            .execution_options(synchronize_session=False)
        )

    def claim_first_free(
        self, ranked_ids: list[int], now: datetime, *, wait: bool = True
    ) -> int | None:
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
            claimed = self.session.execute(
                statements.claim_best_free(), {"ranked": ranked_ids, "now": now}
            ).scalar()
            if claimed is not None:
                return int(claimed)
            if not wait:  # holding another agent's row already: waiting could deadlock
                return None
        return self._claim_waiting(ranked_ids, now)

    def claim_first_free_assigning(
        self, ranked_ids: list[int], now: datetime, ticket_id: int, status: Status | None
    ) -> tuple[int | None, bool]:
        """``claim_first_free``, and the ticket ``ticket_id`` given to the agent claimed
        unless someone has it or it is done (``status``, when not None, set with it): the
        agent claimed (None: nobody could take the ticket, nothing changed) and whether
        the ticket took it (False: someone else has it; the caller rolls back).

        On PostgreSQL the claim and the assignment are one statement while an agent is
        free whose row no other router holds; else (every candidate busy, or SQLite) the
        claim waits, best first, and the assignment follows it."""
        if not ranked_ids:
            return None, False
        if self.session.get_bind().dialect.name == "postgresql":
            values: dict[str, Any] = {"ranked": ranked_ids, "now": now, "ticket_id": ticket_id}
            if status is not None:
                values["new_status"] = status.value
            row = self.session.execute(
                ticket_claims.assign_to_best_free(status is not None), values
            ).first()
            if row is not None:
                return int(row[0]), row[1] is not None
        claimed = self._claim_waiting(ranked_ids, now)
        if claimed is None:
            return None, False
        return claimed, ticket_claims.assign(self.session, ticket_id, claimed, now, status)

    def _claim_waiting(self, ranked_ids: list[int], now: datetime) -> int | None:
        """A slot of the best agent of ``ranked_ids`` that can take one, waiting for a row
        another router holds (PostgreSQL; SQLite's writers are serial)."""
        for agent_id in ranked_ids:
            if self.claim_slot(agent_id, now):
                return agent_id
        return None

    def undo_claim(self, agent_id: int) -> None:
        """Give back a slot claimed in this transaction (``last_assigned_at`` stays: putting
        back an older value could erase a newer one another router wrote)."""
        self.release_slot(agent_id)

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
