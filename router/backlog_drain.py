"""The backlog drain's plan: which waiting tickets the free agents take, in backlog order.

A pass walks a team's backlog in order (``router.backlog.backlog_key``: most
urgent first) against the free agents as they were when the pass began. Each
ticket someone free can take (relaxed for how long it waited, checked in its
own channel too) is planned for the best of them, and the plan counts that
agent's new load, overall and in the ticket's channel, before the next ticket
is looked at: a ticket is planned only for a slot no ticket before it wanted.
The walk stops once nobody is free. A slot freed after the pass began is not
this pass's to give; whoever freed it starts a pass of its own, from the top.

In claim mode an offer takes no slot: every ticket someone free could take is
planned (to be offered), and the agents stay as they were.

Teams that share agents (one's members are another's fallback, or an agent is in
both) are drained together, as one backlog in one order (``drain_group``): else
the shared agents would serve whichever team's drain ran first, a normal ticket of
one team ahead of an urgent one of the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import datetime

from router.backlog import SkillsTimeout, relax_requirements
from router.routing_facts import AgentFacts, TicketFacts
from router.selection import DEFAULT_POLICY, SelectionPolicy, choose_agent
from router.vocabulary import AgentStatus

Planned = tuple[int, AgentFacts]  # a ticket id, and the agent that takes it (as it is now)


def plan_drain(
    waiting: Iterable[tuple[TicketFacts, datetime]],
    free: Sequence[AgentFacts],
    now: datetime,
    *,
    timeouts: SkillsTimeout | Mapping[str, SkillsTimeout],
    policy: SelectionPolicy = DEFAULT_POLICY,
    claim_mode: bool = False,
    avoid: Mapping[int, int] | None = None,
) -> list[Planned]:
    """Walk ``waiting`` (each ticket with the time it was queued, in backlog order) and
    say who takes what: (ticket id, agent before taking it), in the order given.

    ``timeouts``: the skills timeout, or one per team name (each ticket relaxes by its
    own team's). ``avoid``: ticket id -> the agent it was just taken from, passed over
    for it while anyone else free can take it.

    ``waiting`` is consumed only as far as needed: not past the point where nobody
    is free.
    """
    agents = {a.id: a for a in free if _has_room(a)}
    plan: list[Planned] = []
    if not agents:
        return plan
    for facts, queued_at in waiting:
        timeout = timeouts if isinstance(timeouts, SkillsTimeout) else timeouts[facts.team]
        relaxed, _ = relax_requirements(facts, now - queued_at, timeout)
        chosen = _choose(relaxed, agents, now, policy, (avoid or {}).get(facts.id))
        if chosen is None:
            continue
        plan.append((facts.id, chosen))
        if claim_mode:
            continue
        taken = chosen.taking(relaxed.channel, now)
        if _has_room(taken):
            agents[chosen.id] = taken
        else:
            del agents[chosen.id]
            if not agents:
                break
    return plan


def _choose(
    ticket: TicketFacts,
    agents: Mapping[int, AgentFacts],
    now: datetime,
    policy: SelectionPolicy,
    avoid: int | None,
) -> AgentFacts | None:
    if avoid is not None and avoid in agents:
        others = [a for a in agents.values() if a.id != avoid]
        chosen = choose_agent(ticket, others, now, policy=policy).agent
        if chosen is not None:
            return chosen
    return choose_agent(ticket, list(agents.values()), now, policy=policy).agent


def drain_group(
    team_id: int,
    fallbacks: Mapping[int, int | None],
    members: Mapping[int, Set[int]],
    claim_mode: Set[int] = frozenset(),
) -> frozenset[int]:
    """The teams whose backlogs are drained with ``team_id``'s, as one: those that share
    an agent with it, directly or through others (a team's tickets may go to its own
    members and, once widened, to its fallback team's).

    ``fallbacks``: every team -> its fallback team; ``members``: team -> its agents.
    A team in claim mode offers instead of assigning: it is drained on its own.
    """
    if team_id in claim_mode:
        return frozenset({team_id})

    def serving(team: int) -> set[int]:
        fallback = fallbacks.get(team)
        return set(members.get(team, ())) | set(members.get(fallback, ()) if fallback else ())

    group = {team_id}
    agents = serving(team_id)
    while True:
        joined = {
            team
            for team in fallbacks
            if team not in group and team not in claim_mode and not agents.isdisjoint(serving(team))
        }
        if not joined:
            return frozenset(group)
        group |= joined
        for team in joined:
            agents |= serving(team)


def _has_room(agent: AgentFacts) -> bool:
    return agent.status is AgentStatus.ONLINE and agent.load < agent.capacity
