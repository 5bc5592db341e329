"""Routing many tickets in one transaction: decided in memory, written together.

The tickets are locked in one statement and the candidates of each team are read once.
Every agent so read (online with room) is then locked in one statement, in id order,
and read afresh (``route_slots.hold``), before anything is decided: a batch waits there
for another writer that holds one of them (at most ``store.agents.HOLD_WAIT_MS``; past it
the store raises lock_not_available, the batch is rolled back and ``RouteBatch`` routes
its tickets alone), and locks no agent after. The lock-order rule: any writer that holds
two agents takes them in id order (a batch; the directory sync, which locks those it may
change first), so they queue, never deadlock (a lone routing holds one agent and waits
for nothing after; writers outside routing lock tickets before agents, and the batch
holds only tickets that wait, which nobody else may assign meanwhile). Each ticket
is then decided against those agents as the store has them, counting the batch's own
assignments as it goes: nobody else can change them before the commit.

(The batch once locked only the agents it chose, passing over, never waiting for, one
another router held, and decided that agent's tickets again onto those it held: one
router holding an agent for a moment sent a whole batch to the others, 19 of 20 tickets
to one agent of two in a loaded run of test_distributed.)

The plan is written as it was decided: the agents' slots in one statement (each agent's
load up by its tickets), the tickets' assignments in one, each ticket's audit event and
notice. So a batch sends the same few statements whatever its size.

What the batch does not settle the simple way (claim mode, nobody free) is left to
``route``, alone, which explains and waits as usual.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from router.routing_facts import TicketFacts
from router.selection import Decision, SelectionPolicy, choose_agent
from store.agents import Member
from store.db import UnitOfWork
from store.tickets import RoutingTicket
from workers.desk.outgoing import Gathered
from workers.runtime.context import Runtime
from workers.runtime.routing_policy import selection_policy
from workers.steps.route_inputs import routing_inputs, waits
from workers.steps.route_notices import assignment_status, record_assignment
from workers.steps.route_slots import FreeAgents, count_assignment, hold


class BatchRefused(Exception):
    """The store refused a write the batch's locks should have made certain: the batch
    is rolled back and its tickets routed alone (it cannot happen; it is never assumed)."""


@dataclass(frozen=True)
class _Plan:
    """A ticket of the batch, the agent it goes to, and why."""

    ticket: RoutingTicket
    member: Member
    choice: tuple[Decision, TicketFacts, tuple[str, ...]]  # the decision, its facts, relaxed
    policy: SelectionPolicy


def route_together(runtime: Runtime, ticket_ids: list[int]) -> list[int]:
    """Assign many tickets in one transaction; returns those left to route one by one."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        tickets = [t for t in uow.tickets.lock_many_for_routing(ticket_ids).values() if waits(t)]
        plans = _plan(runtime, uow, [t for t in tickets if not t.claim_mode], now)
        _write(uow, plans, now)
        notices = Gathered(runtime, uow)  # the agents' notices: one statement
        for plan in plans.values():
            with runtime.configs.for_team(plan.ticket.facts.team):
                record_assignment(
                    runtime, uow, plan.ticket, plan.member, plan.choice, now, plan.policy, notices
                )
        notices.flush()
    return [t.facts.id for t in tickets if t.facts.id not in plans]


def _plan(
    runtime: Runtime, uow: UnitOfWork, tickets: list[RoutingTicket], now: datetime
) -> dict[int, _Plan]:
    """Each ticket an agent can take now, by ticket id, on agents the batch holds: every
    agent it may choose, held before it decides."""
    free: FreeAgents = {}
    inputs: dict[int, _Inputs] = {}
    for ticket in tickets:
        with runtime.configs.for_team(ticket.facts.team):  # a pilot team's: its candidate
            inputs[ticket.facts.id] = _read(runtime, uow, ticket, free, now)
    candidates = {agent_id for members in free.values() for agent_id in members}
    if candidates:
        hold(uow, free, candidates)  # all at once, in id order: then as the store has them
    plans: dict[int, _Plan] = {}
    for ticket in tickets:
        with runtime.configs.for_team(ticket.facts.team):
            plan = _decide(runtime, ticket, inputs[ticket.facts.id], free, now)
        if plan is not None:
            plans[ticket.facts.id] = plan
            count_assignment(free, plan.member.facts.id, plan.choice[1].channel, now)
    return plans


_Inputs = tuple[TicketFacts, tuple[str, ...], tuple[frozenset[int], str]]
"""A ticket's facts (relaxed by its wait), why relaxed, and its candidates' key."""


def _read(
    runtime: Runtime, uow: UnitOfWork, ticket: RoutingTicket, free: FreeAgents, now: datetime
) -> _Inputs:
    """The ticket's routing inputs, its team's (and channel's) candidates read into
    ``free`` the first time the batch meets them."""
    facts, relaxed, teams = routing_inputs(runtime, ticket, now)
    key = (frozenset(teams), facts.channel)
    if key not in free:
        free[key] = {
            m.facts.id: m
            for m in uow.agents.routing_candidates(teams, facts.channel, available_only=True)
        }
    return facts, relaxed, key


def _decide(
    runtime: Runtime, ticket: RoutingTicket, inputs: _Inputs, free: FreeAgents, now: datetime
) -> _Plan | None:
    """The agent the ticket goes to among the batch's ``free`` agents; None: nobody is free."""
    policy = selection_policy(runtime.settings.routing)
    facts, relaxed, key = inputs
    members = free[key]
    if not members:  # nobody free: routed alone, which says why it waits
        return None
    decision = choose_agent(facts, [m.facts for m in members.values()], now, policy=policy)
    if decision.agent is None:
        return None
    return _Plan(ticket, members[decision.agent.id], (decision, facts, relaxed), policy)


def _write(uow: UnitOfWork, plans: dict[int, _Plan], now: datetime) -> None:
    """The batch's slots and assignments, a statement each (two if some tickets change
    status and others do not)."""
    slots = Counter(plan.member.facts.id for plan in plans.values())
    if uow.agents.take_slots(slots, now) != len(slots):
        raise BatchRefused("an agent the batch holds could not take its tickets")
    assignments = [
        (number, plan.member.facts.id, assignment_status(plan.ticket))
        for number, plan in plans.items()
    ]
    if uow.tickets.assign_many_if_unassigned(assignments, now) != len(assignments):
        raise BatchRefused("a ticket the batch holds could not be assigned")
