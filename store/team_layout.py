"""How teams hang together for the backlog drain: members, fallback teams, claim mode.

The drain hands free slots to waiting tickets of every team that shares agents
with the one it was started for (``router.backlog_drain.drain_group``); this is
what it reads to know which those are, and whether anyone in them is free.
Teams and their memberships are few rows: read whole, in two statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.vocabulary import AgentStatus
from store.models import Agent, Team, agent_teams


@dataclass(frozen=True)
class TeamLayout:
    """Every team: its name, fallback team, members, and whether it is in claim mode."""

    names: dict[int, str] = field(default_factory=dict)
    fallbacks: dict[int, int | None] = field(default_factory=dict)
    members: dict[int, frozenset[int]] = field(default_factory=dict)
    claim_mode: frozenset[int] = frozenset()

    def serving(self, team_ids: Collection[int]) -> dict[int, str]:
        """The teams and their fallback teams, id -> name: whose agents may take their tickets."""
        found: dict[int, str] = {}
        for team in sorted(team_ids):
            found[team] = self.names[team]
            fallback = self.fallbacks.get(team)
            if fallback is not None:
                found[fallback] = self.names[fallback]
        return found


class TeamLayoutRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def layout(self) -> TeamLayout:
        teams = self.session.execute(
            select(Team.id, Team.name, Team.fallback_team_id, Team.claim_mode)
        ).all()
        members: dict[int, set[int]] = defaultdict(set)
        for team_id, agent_id in self.session.execute(
            select(agent_teams.c.team_id, agent_teams.c.agent_id)
        ):
            members[team_id].add(agent_id)
        return TeamLayout(
            names={t.id: t.name for t in teams},
            fallbacks={t.id: t.fallback_team_id for t in teams},
            members={t.id: frozenset(members.get(t.id, ())) for t in teams},
            claim_mode=frozenset(t.id for t in teams if t.claim_mode),
        )

    def free_slots(self, team_ids: Collection[int]) -> int:
        """Free slots of the online agents of the teams and of their fallback teams (which
        may take their tickets after the skills timeout): nothing to drain into when 0."""
        fallbacks = select(Team.fallback_team_id).where(Team.id.in_(list(team_ids)))
        members = (
            select(agent_teams.c.agent_id)
            .where(agent_teams.c.team_id.in_(list(team_ids)) | agent_teams.c.team_id.in_(fallbacks))
            .distinct()
        )
        free = self.session.scalar(
            select(func.coalesce(func.sum(Agent.capacity - Agent.load), 0)).where(
                Agent.id.in_(members),
                Agent.status == AgentStatus.ONLINE.value,
                Agent.load < Agent.capacity,
            )
        )
        return int(free or 0)
