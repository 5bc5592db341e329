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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    timeouts: SkillsTimeout,
    policy: SelectionPolicy = DEFAULT_POLICY,
    claim_mode: bool = False,
) -> list[Planned]:
    """Walk ``waiting`` (each ticket with the time it was queued, in backlog order) and
    say who takes what: (ticket id, agent before taking it), in the order given.

    ``waiting`` is consumed only as far as needed: not past the point where nobody
    is free.
    """
    agents = {a.id: a for a in free if _has_room(a)}
    plan: list[Planned] = []
    if not agents:
        return plan
    for facts, queued_at in waiting:
        relaxed, _ = relax_requirements(facts, now - queued_at, timeouts)
        chosen = choose_agent(relaxed, list(agents.values()), now, policy=policy).agent
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


def _has_room(agent: AgentFacts) -> bool:
    return agent.status is AgentStatus.ONLINE and agent.load < agent.capacity
