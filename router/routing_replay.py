"""Past tickets replayed through a roster: who would have taken each one, and why not.

The replay walks the tickets in arrival order with the same pure functions the live
route step uses (``relax_requirements``, ``choose_agent``), on a model of load that
is deterministic and explainable:

- every agent starts the period with no tickets (load 0), with the status, teams,
  skills, capacity and seniority its configuration gives it (the replay does not
  follow agents signing in and out);
- a ticket is offered at its arrival time to the agents of its team (its facts as
  classified by the configuration); the best eligible agent takes it and holds one
  slot (overall and in the ticket's channel) until the ticket's real resolution
  time (``done_at``: resolved, or closed without a resolution); a ticket still open
  holds its slot to the end of the replay;
- a ticket nobody is eligible for at arrival is counted with why
  (``Blocked``); when the reason is that everyone able is full, it waits in the
  backlog order (``backlog_key``) and takes the next slot an able agent frees
  before its own real resolution, its requirements relaxed by the time it waited
  (the skills timeout, as live); otherwise it is never assigned;
- a slot frees at the instant of the real resolution, before any ticket arriving
  at that instant is offered.

``claim_mode`` teams are replayed as if the best eligible agent claimed at once.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from router.backlog import (
    NEVER_RELAX,
    BacklogKey,
    SkillsTimeout,
    backlog_key,
    relax_requirements,
)
from router.routing_facts import AgentFacts, TicketFacts
from router.selection import SelectionPolicy, choose_agent
from router.vocabulary import AgentStatus, Priority

PURGE_EVERY = 1000  # arrivals between two sweeps of the backlog for tickets resolved


class Blocked(StrEnum):
    """Why nobody could take a ticket when it arrived."""

    NO_AGENT_IN_TEAM = "no_agent_in_team"
    NO_SKILL = "no_skill"  # nobody of the team has the required skills
    OFFLINE = "offline"  # those with the skills are offline or away
    FULL = "full"  # those able are full: the ticket waits for a slot


@dataclass(frozen=True)
class Roster:
    """A configuration's routing: its agents, selection policy and skills timeouts
    (``timeouts`` by team, with the team's fallback; absent teams never relax)."""

    agents: tuple[AgentFacts, ...]
    policy: SelectionPolicy
    timeouts: Mapping[str, SkillsTimeout] = field(default_factory=dict, hash=False)
    # a pilot's teams rank by the candidate's policy (``router.pilot``), the rest by ``policy``
    team_policies: Mapping[str, SelectionPolicy] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Routed:
    """What the replay did with one ticket: who took it (``None``: nobody) and when,
    and why nobody could take it at arrival (``None`` when someone did)."""

    ticket: TicketFacts
    agent: AgentFacts | None
    assigned_at: datetime | None
    blocked: Blocked | None


@dataclass(order=True)
class _Waiting:
    key: BacklogKey
    ticket: TicketFacts = field(compare=False)
    done_at: datetime | None = field(compare=False)


class RoutingReplay:
    """The replay of one roster; feed tickets in arrival order to ``arrive``, then call
    ``finish``. ``decided`` hears of each ticket once, when its fate is known."""

    def __init__(self, roster: Roster, decided: Callable[[Routed], None]) -> None:
        self.roster = roster
        self._decided = decided
        # the best agent only (the replay claims no slot that could be taken meanwhile)
        self._policy = replace(roster.policy, shortlist=1)
        self._team_policies = {
            team: replace(policy, shortlist=1) for team, policy in roster.team_policies.items()
        }
        self._agents = {a.id: a for a in roster.agents}
        self._by_team: dict[str, list[int]] = {}
        for a in roster.agents:
            for team in sorted(a.teams):
                self._by_team.setdefault(team, []).append(a.id)
        self._relaxing = {
            team: timeout
            for team, timeout in roster.timeouts.items()
            if timeout.fallback_team
            or any(timeout.for_priority(p) != NEVER_RELAX for p in Priority)
        }
        # a team's waiting tickets may go to its agents, and to its fallback team's
        self._sources: dict[str, set[str]] = {}
        for team, timeout in self._relaxing.items():
            if timeout.fallback_team:
                self._sources.setdefault(timeout.fallback_team, set()).add(team)
        self._releases: list[tuple[datetime, int, int, str]] = []  # (at, seq, agent, channel)
        self._seq = 0
        self._waiting: dict[str, list[_Waiting]] = {}  # by team, in backlog order
        self._blockers: dict[tuple[object, ...], Blocked] = {}
        self._arrived = 0

    def arrive(self, ticket: TicketFacts, done_at: datetime | None) -> None:
        """Offer ``ticket`` at its ``created_at``; it holds a slot until ``done_at``."""
        now = ticket.created_at
        self._advance(now)
        self._arrived += 1
        if self._arrived % PURGE_EVERY == 0:
            self._purge(now)
        members = self._members(ticket)
        policy = self._policy_of(ticket.team)
        decision = choose_agent(ticket, members, now, policy=policy, explained=False)
        if decision.agent is not None:
            self._take(decision.agent, ticket, now, done_at, None)
            return
        why = (ticket.teams, ticket.required_skills, ticket.optional_skills)
        blocked = self._blockers.get(why)  # all but "full" hold for the whole replay
        if blocked is None:
            blocked = blocker(ticket, members, policy)
            self._blockers[why] = blocked
        if blocked is Blocked.FULL and (done_at is None or done_at > now):
            waiting = self._waiting.setdefault(ticket.team, [])
            bisect.insort(waiting, _Waiting(backlog_key(ticket), ticket, done_at))
        else:
            self._decided(Routed(ticket, None, None, blocked))

    def finish(self) -> None:
        """Free every slot still held (waiting tickets take them); the rest never get one."""
        self._advance(None)
        for waiting in self._waiting.values():
            for w in waiting:
                self._decided(Routed(w.ticket, None, None, Blocked.FULL))
        self._waiting.clear()

    def _members(self, ticket: TicketFacts) -> list[AgentFacts]:
        teams = ticket.teams
        if len(teams) == 1:
            return [self._agents[i] for i in self._by_team.get(teams[0], ())]
        ids: dict[int, None] = {}
        for team in teams:
            ids.update(dict.fromkeys(self._by_team.get(team, ())))
        return [self._agents[i] for i in ids]

    def _take(
        self,
        agent: AgentFacts,
        ticket: TicketFacts,
        now: datetime,
        done_at: datetime | None,
        blocked: Blocked | None,
    ) -> None:
        self._agents[agent.id] = agent.taking(ticket.channel, now)
        self._decided(Routed(ticket, agent, now, blocked))
        if done_at is not None:
            self._seq += 1
            heapq.heappush(self._releases, (max(done_at, now), self._seq, agent.id, ticket.channel))

    def _advance(self, until: datetime | None) -> None:
        """Free the slots of tickets resolved by ``until`` (all, for None), in time order;
        each freed slot goes to the first waiting ticket its agent can take."""
        while self._releases and (until is None or self._releases[0][0] <= until):
            at, _, agent_id, channel = heapq.heappop(self._releases)
            agent = self._agents[agent_id]
            channel_load = dict(agent.channel_load)
            channel_load[channel] = max(channel_load.get(channel, 0) - 1, 0)
            freed = replace(agent, load=max(agent.load - 1, 0), channel_load=channel_load)
            self._agents[agent_id] = freed
            if self._waiting:
                self._drain(freed, at)

    def _drain(self, agent: AgentFacts, now: datetime) -> None:
        """Give the freed slot to the first waiting ticket (in backlog order) of the teams
        the agent may take from; tickets resolved meanwhile leave, never assigned."""
        best: tuple[_Waiting, TicketFacts, list[_Waiting]] | None = None
        teams = set(agent.teams)
        for team in agent.teams:
            teams |= self._sources.get(team, set())
        for team in teams:
            waiting = self._waiting.get(team)
            if not waiting:
                continue
            gone = []
            for w in waiting:
                if best is not None and best[0] < w:
                    break
                if w.done_at is not None and w.done_at <= now:
                    gone.append(w)
                    continue
                facts = self._relaxed(w.ticket, now)
                policy = self._policy_of(w.ticket.team)
                found = choose_agent(facts, [agent], now, policy=policy, explained=False)
                if found.agent is not None:
                    best = (w, facts, waiting)
                    break
            for w in gone:  # resolved before a slot came: never assigned
                waiting.remove(w)
                self._decided(Routed(w.ticket, None, None, Blocked.FULL))
        if best is not None:
            w, facts, waiting = best
            waiting.remove(w)
            self._take(agent, facts, now, w.done_at, Blocked.FULL)

    def _purge(self, now: datetime) -> None:
        """Tickets resolved while they waited leave the backlog (never assigned): what it
        holds is what still waits, not every ticket that ever did."""
        for waiting in self._waiting.values():
            gone = [w for w in waiting if w.done_at is not None and w.done_at <= now]
            if gone:
                waiting[:] = [w for w in waiting if w.done_at is None or w.done_at > now]
                for w in gone:
                    self._decided(Routed(w.ticket, None, None, Blocked.FULL))

    def _policy_of(self, team: str) -> SelectionPolicy:
        return self._team_policies.get(team, self._policy)

    def _relaxed(self, ticket: TicketFacts, now: datetime) -> TicketFacts:
        timeout = self._relaxing.get(ticket.team)
        if timeout is None:
            return ticket
        return relax_requirements(ticket, now - ticket.created_at, timeout)[0]


def blocker(ticket: TicketFacts, agents: list[AgentFacts], policy: SelectionPolicy) -> Blocked:
    """Why none of ``agents`` (the ticket's teams) is eligible, most fundamental first."""
    teams = frozenset(ticket.teams)
    members = [a for a in agents if not teams.isdisjoint(a.teams)]
    if not members:
        return Blocked.NO_AGENT_IN_TEAM
    gate = dict(ticket.required_skills)
    if policy.wait_for_optional_skills:
        for skill, level in ticket.optional_skills.items():
            gate[skill] = max(gate.get(skill, 0), level)
    skilled = [a for a in members if all(a.skills.get(s, 0) >= n for s, n in gate.items())]
    if not skilled:
        return Blocked.NO_SKILL
    if not any(a.status is AgentStatus.ONLINE and a.capacity > 0 for a in skilled):
        return Blocked.OFFLINE
    return Blocked.FULL
