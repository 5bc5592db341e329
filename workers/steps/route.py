"""Route: give a waiting ticket to the best agent, claimed atomically.

Locks the ticket row first, then claims an agent slot with a conditional
UPDATE and assigns the ticket (one statement on PostgreSQL, see
``route_slots.claim_and_assign``); if either check fails the transaction rolls
back as a whole, so a ticket is never assigned twice and an agent never goes
past capacity.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from datetime import datetime
from enum import StrEnum
from typing import Any

from router.selection import Decision, choose_agent, explain
from store.db import UnitOfWork
from store.tickets import RoutingTicket
from workers.runtime.batch_step import BatchStep, resend_alone
from workers.runtime.context import Runtime
from workers.runtime.inline_routes import ROUTED_HERE
from workers.runtime.routing_policy import selection_policy
from workers.steps.route_batch import route_together
from workers.steps.route_inputs import routing_inputs, waits
from workers.steps.route_notices import offer, record_assignment, record_waiting
from workers.steps.route_slots import claim_and_assign

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
    """Route tickets: together in one transaction (``route_together``), then alone, each
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
            return route_together(self.runtime, ids)
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
        if ticket is None or not waits(ticket):
            return Outcome.NOT_ROUTABLE
        with runtime.configs.for_team(ticket.facts.team):  # a pilot team's: its candidate
            return _route_locked(runtime, uow, ticket, now, avoid)


def _route_locked(
    runtime: Runtime, uow: UnitOfWork, ticket: RoutingTicket, now: datetime, avoid: int | None
) -> Outcome:
    facts, relaxed, teams = routing_inputs(runtime, ticket, now)
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
    chosen, assigned = claim_and_assign(uow, ticket, decision.ranked, facts.channel, now)
    if chosen is None:
        record_waiting(runtime, uow, ticket, relaxed, decision.reasons)
        return Outcome.NO_AGENT
    if not assigned:
        raise _LostRace()
    choice = (decision, facts, relaxed)
    record_assignment(runtime, uow, ticket, members[chosen.id], choice, now, policy)
    return Outcome.ASSIGNED


def route_to(runtime: Runtime, ticket_id: int, agent_id: int) -> bool:
    """Assign the ticket to ``agent_id`` (a drain's plan) if it still waits and that
    agent can still take it; False, with nothing changed, when the plan went stale
    (someone else took the ticket or the slot)."""
    now = runtime.now()
    try:
        with runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.lock_for_routing(ticket_id)
            if ticket is None or not waits(ticket) or ticket.claim_mode:
                return False
            with runtime.configs.for_team(ticket.facts.team):
                return _route_to_locked(runtime, uow, ticket, agent_id, now)
    except _LostRace:
        return False


def _route_to_locked(
    runtime: Runtime, uow: UnitOfWork, ticket: RoutingTicket, agent_id: int, now: datetime
) -> bool:
    policy = selection_policy(runtime.settings.routing)
    facts, relaxed, teams = routing_inputs(runtime, ticket, now)
    candidates = uow.agents.routing_candidates(teams, facts.channel, available_only=True)
    member = next((m for m in candidates if m.facts.id == agent_id), None)
    if member is None:
        return False
    decision = choose_agent(facts, [member.facts], now, policy=policy)
    if decision.agent is None:
        return False
    chosen, assigned = claim_and_assign(uow, ticket, decision.ranked, facts.channel, now)
    if chosen is None:
        return False
    if not assigned:
        raise _LostRace()
    record_assignment(runtime, uow, ticket, member, (decision, facts, relaxed), now, policy)
    return True


def route_here(runtime: Runtime, ticket_ids: list[int]) -> None:
    """Route a lone ticket in this thread, as a route message carrying it would
    (``RouteBatch``); should that fail (the store away, a bug) it is sent to the route queue,
    with dramatiq's retries: its ingest is committed, and is not failed for it. Several
    tickets are sent to the route queue, as from a process that does not consume it; the
    route queue's consumers batch what waits there, as before. (Chosen when a route batch
    passed over an agent another router held: every ingest batch routed where it was
    ingested gave its tickets to the agents it could hold, 19 of 20 to one agent of two in
    a loaded run. A batch now waits for them, since the ninth session's fair; several
    tickets routed here were not measured again.)"""
    if len(ticket_ids) > 1:
        _send_to_route(runtime, ticket_ids)
        return
    again = ticket_ids
    try:
        again = RouteBatch(runtime).run(ticket_ids)
    except Exception:
        log.exception("routing ticket %s here failed; it is sent to route", ticket_ids)
    finally:  # (a time limit or a stop, too: sent, then raised)
        _send_to_route(runtime, again)
    ROUTED_HERE.inc(len(ticket_ids) - len(again))


def _send_to_route(runtime: Runtime, ticket_ids: list[int]) -> None:
    """Send tickets to the route queue merged, as the ingest message's own sends were (its
    gathering ended before its tickets were handed here): a batch's tickets sent one a
    message were routed one a message, and each notice delivered alone."""
    with runtime.gather_sends():
        for ticket_id in ticket_ids:
            runtime.enqueue_route(ticket_id)


def route_soon(runtime: Runtime, ticket_ids: list[int], *, avoid: int | None = None) -> None:
    """Route tickets: inline in a process without a worker (the embedded CLI), else by
    the broker. ``avoid``: an agent they were taken from, chosen only if nobody else can."""
    for ticket_id in ticket_ids:
        if runtime.settings.embedded:
            route(runtime, ticket_id, avoid=avoid)
        else:
            runtime.enqueue_route(ticket_id, avoid)
