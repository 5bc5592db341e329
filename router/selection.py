"""Agent selection: the eligible agents for a ticket, best first, and why.

Eligible: online; in one of the ticket's teams (``TicketFacts.teams``); every
required skill at or above its minimum level (and every optional one too when
``SelectionPolicy.wait_for_optional_skills`` is set); a free slot overall
(``load < capacity``; capacity 0 is never eligible) and, when the agent
has a capacity for the ticket's channel, a free slot in that channel.

Ranking key, compared in this order, best first:

1. senior first: only when the ticket's priority is in
   ``policy.prefer_senior_for``; agents with ``seniority >= policy.senior_at``
   come before every other eligible agent, whatever their skills. It is a yes
   or no, not the years: two seniors are ranked by the keys below.
2. skill match, higher first (``skill_match``): (a) how many optional skills
   the agent meets (level >= the optional minimum), then (b) the sum, over
   every skill the ticket names (required and optional, each skill once), of
   the agent's level capped at 5, 0 where the agent lacks the skill.
3. load ratio ``load / capacity``, lower first.
4. last assignment, earlier first; never assigned comes before everyone
   (round robin among equals: the one idle longest goes next).
5. agent id, lower first: the order is total, so the decision does not depend
   on the order of the input (ids are unique).

``Decision.ranked`` holds the best ``policy.shortlist`` eligible agents (10 by
default; None for all), the candidates the route worker tries to claim in
turn. Picking them costs O(n log k), not a sort of every eligible agent.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from router.catalogs import SOURCE_LANGUAGE, Catalog
from router.routing_facts import MAX_SKILL_LEVEL, AgentFacts, TicketFacts
from router.vocabulary import AgentStatus, Priority
from router.vocabulary_texts import priority_word

CATALOG = Catalog.beside(__file__)

RankKey = tuple[int, int, int, float, datetime, int]

WHY_NOT_LINES = 10
_STATUS_ORDER = {AgentStatus.ONLINE: 0, AgentStatus.AWAY: 1, AgentStatus.OFFLINE: 2}


@dataclass(frozen=True)
class SelectionPolicy:
    """How agents are ranked beyond skills, load and idle time.

    ``prefer_senior_for``: priorities whose tickets go to senior agents first
    (e.g. ``{Priority.URGENT, Priority.HIGH}``); ``senior_at``: the seniority
    that counts as senior. ``shortlist``: how many ranked candidates a decision
    carries (None: all). ``wait_for_optional_skills``: optional skills gate
    eligibility too, so the ticket waits for a full match until the skills
    timeout drops them (``relax_requirements``); off by default, where they
    only rank.
    """

    prefer_senior_for: frozenset[Priority] = frozenset()
    senior_at: int = 3
    shortlist: int | None = 10
    wait_for_optional_skills: bool = False


DEFAULT_POLICY = SelectionPolicy()


@dataclass(frozen=True)
class Decision:
    """The best candidates (best first) and why; empty ``ranked`` means wait.

    ``eligible`` counts every eligible agent; ``ranked`` is the best
    ``policy.shortlist`` of them. ``reasons`` explains the first agent, or,
    when nobody is eligible, says why not for up to ten agents of the team.
    """

    ranked: tuple[AgentFacts, ...]
    reasons: tuple[str, ...]
    eligible: int = 0

    @property
    def agent(self) -> AgentFacts | None:
        return self.ranked[0] if self.ranked else None


def choose_agent(
    ticket: TicketFacts,
    agents: Sequence[AgentFacts],
    now: datetime,
    *,
    policy: SelectionPolicy = DEFAULT_POLICY,
    explained: bool = True,
) -> Decision:
    """Rank the eligible agents for ``ticket`` (see the module docstring for the rules).

    ``explained=False``: the same choice without its reasons (a simulation's, which
    replays many and shows none)."""
    gate = _gate(ticket, policy)
    teams = ticket.teams
    only_team = teams[0] if len(teams) == 1 else None
    team_set = frozenset(teams)
    channel = ticket.channel
    online = AgentStatus.ONLINE
    eligible: list[AgentFacts] = []
    for a in agents:  # the hot loop: cheapest tests first
        if a.status is not online or a.load >= a.capacity or a.capacity <= 0:
            continue
        if only_team is not None:
            if only_team not in a.teams:
                continue
        elif team_set.isdisjoint(a.teams):
            continue
        if a.channel_capacity:
            limit = a.channel_capacity.get(channel)
            if limit is not None and a.channel_load.get(channel, 0) >= limit:
                continue
        skills = a.skills
        for skill, minimum, _ in gate:
            if skills.get(skill, 0) < minimum:
                break
        else:
            eligible.append(a)
    if not eligible:
        reasons = why_not(ticket, agents, policy=policy) if explained else ()
        return Decision(ranked=(), reasons=reasons)
    key = ranking_key(ticket, now, policy)
    if policy.shortlist is None:
        ranked = sorted(eligible, key=key)
    else:
        ranked = heapq.nsmallest(policy.shortlist, eligible, key=key)
    reasons = (explain(ranked[0], ticket, now, policy=policy),) if explained else ()
    return Decision(ranked=tuple(ranked), reasons=reasons, eligible=len(eligible))


def skill_match(agent: AgentFacts, ticket: TicketFacts) -> tuple[int, int]:
    """(optional skills met, sum of levels capped at 5 over the skills the ticket names)."""
    return _match(agent.skills, tuple(ticket.optional_skills.items()), _named_skills(ticket))


def ranking_key(
    ticket: TicketFacts, now: datetime, policy: SelectionPolicy = DEFAULT_POLICY
) -> Callable[[AgentFacts], RankKey]:
    """The sort key of an eligible agent for ``ticket``: smaller is better."""
    seniority_counts = ticket.priority in policy.prefer_senior_for
    senior_at = policy.senior_at
    never = datetime.min.replace(tzinfo=now.tzinfo)
    optional = tuple(ticket.optional_skills.items())
    named = _named_skills(ticket)

    def key(a: AgentFacts) -> RankKey:
        met, total = _match(a.skills, optional, named)
        junior = 1 if seniority_counts and a.seniority < senior_at else 0
        return (junior, -met, -total, a.load / a.capacity, a.last_assigned_at or never, a.id)

    return key


def explain(
    agent: AgentFacts,
    ticket: TicketFacts,
    now: datetime,
    *,
    policy: SelectionPolicy = DEFAULT_POLICY,
    language: str = SOURCE_LANGUAGE,
) -> str:
    """Why this agent: "team support, billing≥2 ✓ (3), german≥2 ✗ optional, load 1/5, ...",
    in ``language`` (the audit log's is English; a notice's is its reader's)."""
    _ = CATALOG.texts(language).gettext
    parts = [_team_part(agent, ticket, language)]
    skills = agent.skills
    for skill, minimum in ticket.required_skills.items():
        level = skills.get(skill, 0)
        parts.append(f"{skill}≥{minimum} {'✓' if level >= minimum else '✗'} ({level})")
    for skill, minimum in ticket.optional_skills.items():
        level = skills.get(skill, 0)
        need = f"{skill}≥{minimum}"
        if level >= minimum:
            parts.append(_("%(need)s ✓ optional (%(level)s)", need=need, level=level))
        elif level:
            parts.append(_("%(need)s ✗ optional (%(level)s)", need=need, level=level))
        else:
            parts.append(_("%(need)s ✗ optional", need=need))
    parts.append(_("load %(load)s/%(capacity)s", load=agent.load, capacity=agent.capacity))
    channel_limit = agent.channel_capacity.get(ticket.channel)
    if channel_limit is not None:
        used = agent.channel_load.get(ticket.channel, 0)
        parts.append(f"{ticket.channel} {used}/{channel_limit}")
    if agent.last_assigned_at is None:
        parts.append(_("never assigned"))
    else:
        minutes = max(int((now - agent.last_assigned_at).total_seconds() // 60), 0)
        parts.append(_("idle %(minutes)s min", minutes=minutes))
    priority = priority_word(ticket.priority.value, language)
    senior = ticket.priority in policy.prefer_senior_for and agent.seniority >= policy.senior_at
    parts.append(_("senior for %(priority)s", priority=priority) if senior else priority)
    return _(", ").join(parts)


def why_not(
    ticket: TicketFacts,
    agents: Sequence[AgentFacts],
    *,
    policy: SelectionPolicy = DEFAULT_POLICY,
    limit: int = WHY_NOT_LINES,
) -> tuple[str, ...]:
    """Nobody is eligible: a headline, then one line per agent of the ticket's teams.

    Online agents come first (full or short of a skill: the actionable ones),
    then away, then offline, each by id; at most ``limit`` lines, then how many
    agents were not looked at. Agents of other teams are not mentioned.
    """
    teams = ticket.teams
    team_set = frozenset(teams)
    gate = _gate(ticket, policy)
    members = [a for a in agents if not team_set.isdisjoint(a.teams)]
    members.sort(key=lambda a: (_STATUS_ORDER.get(a.status, 3), a.id))
    lines: list[str] = []
    looked = 0
    for a in members:
        if len(lines) >= limit:
            break
        looked += 1
        blocker = _blocker(a, ticket, gate)
        if blocker is not None:
            lines.append(f"{a.name}: {blocker}")
    if looked < len(members):
        lines.append(f"and {len(members) - looked} more")
    online = sum(1 for a in members if a.status is AgentStatus.ONLINE)
    headline = (
        f"no eligible agent in team {' or '.join(teams)} ({len(members)} members, {online} online)"
    )
    return (headline, *lines)


def _blocker(
    agent: AgentFacts, ticket: TicketFacts, gate: tuple[tuple[str, int, bool], ...]
) -> str | None:
    """What keeps an agent of the team from taking the ticket; None if nothing does."""
    if agent.status is not AgentStatus.ONLINE:
        return str(agent.status.value)
    if agent.capacity <= 0 or agent.load >= agent.capacity:
        return f"full {agent.load}/{agent.capacity}"
    limit = agent.channel_capacity.get(ticket.channel)
    used = agent.channel_load.get(ticket.channel, 0)
    if limit is not None and used >= limit:
        return f"full in {ticket.channel} {used}/{limit}"
    short = []
    for skill, minimum, optional in gate:
        level = agent.skills.get(skill, 0)
        if level < minimum:
            text = f"{skill} {level} < {minimum}" if level else f"lacks {skill}≥{minimum}"
            short.append(text + (" (optional)" if optional else ""))
    return ", ".join(short) or None


def _gate(ticket: TicketFacts, policy: SelectionPolicy) -> tuple[tuple[str, int, bool], ...]:
    """The skill minimums that decide eligibility: (skill, minimum, is it optional)."""
    gate = [(s, m, False) for s, m in ticket.required_skills.items()]
    if policy.wait_for_optional_skills:
        gate += [(s, m, True) for s, m in ticket.optional_skills.items()]
    return tuple(gate)


def _match(
    skills: Mapping[str, int], optional: tuple[tuple[str, int], ...], named: tuple[str, ...]
) -> tuple[int, int]:
    met = 0
    for skill, minimum in optional:
        if skills.get(skill, 0) >= minimum:
            met += 1
    total = 0
    for skill in named:
        total += min(skills.get(skill, 0), MAX_SKILL_LEVEL)
    return met, total


def _named_skills(ticket: TicketFacts) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*ticket.required_skills, *ticket.optional_skills]))


def _team_part(agent: AgentFacts, ticket: TicketFacts, language: str) -> str:
    _ = CATALOG.texts(language).gettext
    if ticket.team in agent.teams:
        return _("team %(team)s", team=ticket.team)
    widened = next((t for t in ticket.widened_to if t in agent.teams), None)
    if widened is not None:
        return _("team %(team)s (widened)", team=widened)
    return _("team %(team)s", team=ticket.team)
