"""Claiming an agent's slot for a ticket: the best ranked agent that can take one, within
its per-channel limit, and the ticket given to it; and a batch's view of the free agents,
corrected by the agents it holds and counting the tickets it gave them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from router.routing_facts import AgentFacts
from store.agents import Member
from store.db import UnitOfWork
from store.tickets import RoutingTicket
from workers.steps.route_notices import assignment_status

FreeAgents = dict[tuple[frozenset[int], str], dict[int, Member]]
"""A batch's view of the agents free to take its tickets: by the teams and the channel
they were read for, by id."""


def claim_slot(
    uow: UnitOfWork,
    ranked: tuple[AgentFacts, ...],
    channel: str,
    now: datetime,
    *,
    wait: bool = True,
) -> AgentFacts | None:
    """Claim a slot of the best ranked agent that can take one, in its channel too.

    The per-channel load is counted after the agent's row is claimed (and so
    locked until commit): a concurrent router claiming the same agent waits,
    then counts this ticket, so no channel goes past its limit either.
    """
    candidates = list(ranked)
    holding = not wait
    while candidates:
        ids = [c.id for c in candidates]
        claimed = uow.agents.claim_first_free(ids, now, wait=not holding)
        agent = next((c for c in candidates if c.id == claimed), None)
        if agent is None:
            return None
        if within_channel_limit(uow, agent, channel):
            return agent
        uow.agents.undo_claim(agent.id)  # its row stays locked until commit: wait on no other
        holding = True
        candidates.remove(agent)
    return None


def claim_and_assign(
    uow: UnitOfWork,
    ticket: RoutingTicket,
    ranked: tuple[AgentFacts, ...],
    channel: str,
    now: datetime,
) -> tuple[AgentFacts | None, bool]:
    """Claim a slot of the best ranked agent that can take one and give it the ticket
    (new -> open): the agent (None: nobody could take it, nothing changed) and whether
    the ticket took it (False: someone else has it; the caller rolls back).

    One statement where the store can (``AgentRepository.claim_first_free_assigning``),
    unless one of ``ranked`` has a limit in ``channel``: that load is counted between the
    claim and the assignment (``claim_slot``)."""
    status = assignment_status(ticket)
    number = ticket.facts.id
    if any(channel in agent.channel_capacity for agent in ranked):
        chosen = claim_slot(uow, ranked, channel, now)
        if chosen is None:
            return None, False
        return chosen, uow.tickets.assign_if_unassigned(number, chosen.id, now, status=status)
    ids = [agent.id for agent in ranked]
    claimed, assigned = uow.agents.claim_first_free_assigning(ids, now, number, status)
    return next((agent for agent in ranked if agent.id == claimed), None), assigned


def within_channel_limit(uow: UnitOfWork, agent: AgentFacts, channel: str) -> bool:
    """After claiming the agent's row: still under its limit in ``channel``, if it has one."""
    limit = agent.channel_capacity.get(channel)
    return limit is None or uow.agents.channel_load(agent.id, channel) < limit


def count_assignment(
    free: FreeAgents,
    agent_id: int,
    channel: str,
    now: datetime,
) -> None:
    """The batch's view of the agent after it took a ticket: one more load (and in the
    ticket's channel), just assigned; gone from the free ones once full."""
    for members in free.values():
        member = members.get(agent_id)
        if member is None:
            continue
        taken = member.facts.taking(channel, now)
        if taken.load >= taken.capacity:
            del members[agent_id]
        else:
            members[agent_id] = replace(member, facts=taken)


def hold(uow: UnitOfWork, free: FreeAgents, agent_ids: Collection[int]) -> set[int]:
    """Lock the agents ``agent_ids`` that can still take a ticket, in id order, waiting for
    a writer that holds one (at most ``store.agents.HOLD_WAIT_MS``), and correct the
    batch's view: those it holds as the store has them now (their load, capacity, last
    assignment, and their loads in the channels the views counted, recounted once their
    rows are locked), the others (gone offline or full meanwhile) gone from it. Returns
    those it holds."""
    fresh = uow.agents.hold_free(sorted(agent_ids))
    counted: dict[int, set[str]] = {}  # the channels each view counted an agent's load in
    for members in free.values():
        for agent_id in fresh:
            if agent_id in members:
                counted.setdefault(agent_id, set()).update(members[agent_id].facts.channel_load)
    limited = sorted(i for i, channels in counted.items() if channels)
    channels = sorted({c for i in limited for c in counted[i]})
    loads = uow.agents.channel_loads(limited, channels) if limited else {}
    for members in free.values():
        for agent_id in agent_ids:
            member = members.get(agent_id)
            if member is None:
                continue
            if agent_id not in fresh:
                del members[agent_id]
                continue
            load, capacity, last_assigned_at = fresh[agent_id]
            # recounted where the view counted it (its channel, when limited there), so an
            # agent nobody else changed reads back as the batch saw it
            channel_load = {c: loads.get((agent_id, c), 0) for c in member.facts.channel_load}
            facts = replace(
                member.facts,
                load=load,
                capacity=capacity,
                last_assigned_at=last_assigned_at,
                channel_load=channel_load,
            )
            members[agent_id] = replace(member, facts=facts)
    return set(fresh)
