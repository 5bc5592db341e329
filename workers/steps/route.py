"""Route: give a waiting ticket to the best agent, claimed atomically.

Locks the ticket row first, then claims an agent slot with a conditional
UPDATE; if either check fails the transaction rolls back as a whole, so a
ticket is never assigned twice and an agent never goes past capacity.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from datetime import datetime
from enum import StrEnum
from typing import Any

from router.backlog import relax_requirements
from router.lifecycle import is_active
from router.routing_facts import TicketFacts
from router.selection import Decision, choose_agent, explain
from store.agents import Member
from store.db import UnitOfWork
from store.tickets import RoutingTicket
from workers.runtime.batch_step import BatchStep, resend_alone
from workers.runtime.context import Runtime
from workers.runtime.routing_policy import selection_policy, skills_timeout
from workers.steps.route_notices import assign, offer, record_waiting
from workers.steps.route_slots import claim_slot, count_assignment

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ASSIGNED = "assigned"
    OFFERED = "offered"  # claim mode: offered to the eligible agents, waits for a claim
    NO_AGENT = "no_agent"  # waits in the backlog
    NOT_ROUTABLE = "not_routable"  # gone, assigned already, or not active


class _LostRace(Exception):
    """Another worker assigned the ticket between our look and our claim."""


def route(runtime: Runtime, ticket_id: int, *, avoid: int | None = None) -> Outcome:
    """Assign the ticket if it waits and an agent is free (offer it, in claim mode).

    ``avoid``: an agent the ticket was just taken from; chosen only if nobody
    else can take it.
    """
    try:
        return _route(runtime, ticket_id, avoid)
    except _LostRace:
        return Outcome.NOT_ROUTABLE


class RouteBatch(BatchStep):
    """Route tickets: together in one transaction (``_route_together``), then alone, each
    in its own transaction, those the batch left; the notices' sends go out merged. A
    message of one ticket (an int) is routed alone, its failure retried by dramatiq."""

    name = "routing"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def stopping(self) -> bool:
        return self.runtime.stopping.is_set()

    def handle(self, ids: int | list[int], *args: Any) -> None:
        if isinstance(ids, int):
            route(self.runtime, ids, avoid=args[0] if args else None)
            return
        super().handle(ids)

    def around(self) -> AbstractContextManager[None]:
        return self.runtime.gather_sends()

    def together(self, ids: list[int]) -> list[int]:
        if len(ids) == 1:
            return ids
        try:
            return _route_together(self.runtime, ids)
        except Exception as exc:  # e.g. a deadlock with a writer outside routing
            log.info("routing %d tickets together failed (%s): one by one", len(ids), exc)
            return ids

    def one(self, ticket_id: int) -> bool:
        route(self.runtime, ticket_id)
        return True

    def resend(self, ids: list[int]) -> None:
        assert self.runtime.route_actor is not None
        resend_alone(self.runtime.route_actor, ids, self.runtime.settings.retries.route)


def _route(runtime: Runtime, ticket_id: int, avoid: int | None = None) -> Outcome:
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.lock_for_routing(ticket_id)
        if ticket is None or not _waits(ticket):
            return Outcome.NOT_ROUTABLE
        with runtime.configs.for_team(ticket.facts.team):  # a pilot team's: its candidate
            return _route_locked(runtime, uow, ticket, now, avoid)


def _route_locked(
    runtime: Runtime, uow: UnitOfWork, ticket: RoutingTicket, now: datetime, avoid: int | None
) -> Outcome:
    facts, relaxed, teams = _routing_inputs(runtime, ticket, now)
    policy = selection_policy(runtime.settings.routing)
    members = {
        m.facts.id: m
        for m in uow.agents.routing_candidates(teams, facts.channel, available_only=True)
    }
    decision = choose_agent(facts, [m.facts for m in members.values()], now, policy=policy)
    if decision.agent is None:  # nobody: look at everyone, to say why in the audit log
        members = {m.facts.id: m for m in uow.agents.routing_candidates(teams, facts.channel)}
        decision = choose_agent(facts, [m.facts for m in members.values()], now, policy=policy)
    if avoid is not None and len(decision.ranked) > 1:  # the others first
        ranked = tuple(a for a in decision.ranked if a.id != avoid)
        ranked += tuple(a for a in decision.ranked if a.id == avoid)
        first = explain(ranked[0], facts, now, policy=policy)
        decision = Decision(ranked, (first,), decision.eligible)
    reasons = relaxed + decision.reasons
    if ticket.claim_mode:
        offered = offer(runtime, uow, ticket, decision.ranked, members, reasons)
        return Outcome.OFFERED if offered else Outcome.NO_AGENT
    chosen = claim_slot(uow, decision.ranked, facts.channel, now)
    if chosen is None:
        record_waiting(runtime, uow, ticket, relaxed, decision.reasons)
        return Outcome.NO_AGENT
    choice = (decision, facts, relaxed)
    if not assign(runtime, uow, ticket, members[chosen.id], choice, now, policy):
        raise _LostRace()
    return Outcome.ASSIGNED


def route_to(runtime: Runtime, ticket_id: int, agent_id: int) -> bool:
    """Assign the ticket to ``agent_id`` (a drain's plan) if it still waits and that
    agent can still take it; False, with nothing changed, when the plan went stale
    (someone else took the ticket or the slot)."""
    now = runtime.now()
    try:
        with runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.lock_for_routing(ticket_id)
            if ticket is None or not _waits(ticket) or ticket.claim_mode:
                return False
            with runtime.configs.for_team(ticket.facts.team):
                return _route_to_locked(runtime, uow, ticket, agent_id, now)
    except _LostRace:
        return False


def _route_to_locked(
    runtime: Runtime, uow: UnitOfWork, ticket: RoutingTicket, agent_id: int, now: datetime
) -> bool:
    policy = selection_policy(runtime.settings.routing)
    facts, relaxed, teams = _routing_inputs(runtime, ticket, now)
    candidates = uow.agents.routing_candidates(teams, facts.channel, available_only=True)
    member = next((m for m in candidates if m.facts.id == agent_id), None)
    if member is None:
        return False
    decision = choose_agent(facts, [member.facts], now, policy=policy)
    if decision.agent is None:
        return False
    if claim_slot(uow, decision.ranked, facts.channel, now) is None:
        return False
    if not assign(runtime, uow, ticket, member, (decision, facts, relaxed), now, policy):
        raise _LostRace()
    return True


def _waits(ticket: RoutingTicket) -> bool:
    """Unassigned, in a team, and active: routing may give it to someone."""
    return ticket.assignee_id is None and ticket.team_id is not None and is_active(ticket.status)


def _routing_inputs(
    runtime: Runtime, ticket: RoutingTicket, now: datetime
) -> tuple[TicketFacts, tuple[str, ...], dict[int, str]]:
    """The ticket's facts (relaxed by how long it waited), why, and the teams that may
    take it (its own; its fallback team once the skills timeout widened it)."""
    assert ticket.team_id is not None
    fallback = ticket.fallback_team
    timeouts = skills_timeout(runtime.settings.routing, fallback[1] if fallback else None)
    facts, relaxed = relax_requirements(ticket.facts, now - ticket.queued_at, timeouts)
    teams = {ticket.team_id: ticket.facts.team}
    if fallback is not None and fallback[1] in facts.widened_to:
        teams[fallback[0]] = fallback[1]
    return facts, relaxed, teams


def _route_together(runtime: Runtime, ticket_ids: list[int]) -> list[int]:
    """Assign many tickets in one transaction; returns those left to route one by one.

    The tickets are locked in one statement; the candidates of each team are read
    once and their loads kept current as the batch assigns. An agent whose row another
    router holds is passed over, never waited for (a batch holds the agents it
    claimed, so waiting could deadlock two batches). What the batch does not settle
    the simple way (claim mode, nobody free, every candidate held elsewhere) is left
    to ``route``, alone, which explains and waits as usual.
    """
    now = runtime.now()
    left: list[int] = []
    with runtime.db.unit_of_work() as uow:
        tickets = uow.tickets.lock_many_for_routing(ticket_ids)
        free: dict[tuple[frozenset[int], str], dict[int, Member]] = {}
        for ticket in tickets.values():
            if not _waits(ticket):
                continue
            if ticket.claim_mode:
                left.append(ticket.facts.id)
                continue
            with runtime.configs.for_team(ticket.facts.team):  # a pilot team's: its candidate
                if not _route_one_of_many(runtime, uow, ticket, free, now):
                    left.append(ticket.facts.id)
    return left


def _route_one_of_many(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: RoutingTicket,
    free: dict[tuple[frozenset[int], str], dict[int, Member]],
    now: datetime,
) -> bool:
    """One ticket of a batch; False when it is left to ``route``, alone."""
    policy = selection_policy(runtime.settings.routing)
    facts, relaxed, teams = _routing_inputs(runtime, ticket, now)
    key = (frozenset(teams), facts.channel)
    if key not in free:
        free[key] = {
            m.facts.id: m
            for m in uow.agents.routing_candidates(teams, facts.channel, available_only=True)
        }
    members = free[key]
    if not members:  # nobody free: routed alone, which says why it waits
        return False
    decision = choose_agent(facts, [m.facts for m in members.values()], now, policy=policy)
    chosen = (
        claim_slot(uow, decision.ranked, facts.channel, now, wait=False)
        if decision.agent is not None
        else None
    )
    if chosen is None:
        return False
    choice = (decision, facts, relaxed)
    if not assign(runtime, uow, ticket, members[chosen.id], choice, now, policy):
        uow.agents.undo_claim(chosen.id)  # (it is locked: cannot happen; never assume)
        return True  # (as before: not left to route alone)
    count_assignment(free, chosen.id, facts.channel, now)
    return True


def route_soon(runtime: Runtime, ticket_ids: list[int], *, avoid: int | None = None) -> None:
    """Route tickets: inline in a process without a worker (the embedded CLI), else by
    the broker. ``avoid``: an agent they were taken from, chosen only if nobody else can."""
    for ticket_id in ticket_ids:
        if runtime.settings.embedded:
            route(runtime, ticket_id, avoid=avoid)
        else:
            runtime.enqueue_route(ticket_id, avoid)
