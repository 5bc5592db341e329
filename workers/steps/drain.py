"""Drain a team's backlog: hand the free slots to the waiting tickets, most urgent first.

A pass reads, in one transaction, the free agents of the team and of its
fallback team (their loads in every channel they have a limit in) and the
backlog in order, page by page, and plans who takes what with the pure
``router.backlog_drain.plan_drain``. Then it carries the plan out, one ticket
per transaction, each locked and its agent's slot claimed as ``route`` does
(``route_to``). An idle desk whose backlog fits nobody free costs one read per
pass; a ticket nobody free could take is never locked.

Teams that share agents are drained together, their backlogs as one in one
order (``router.backlog_drain.drain_group``): a shared agent's slot goes to the
most urgent ticket it fits, whichever team's drain happened to run.

A slot freed while a pass runs is not the pass's: whoever freed it drains from
the top (``drain_soon``), so a normal ticket never takes a slot ahead of an
urgent one that fits it. A ticket given back to the queue (unassigned, or moved
to another team) waits its turn there in the same way, and the agent it was
taken from is passed over for it while anyone else free can take it. When the
plan goes stale (another router took a ticket or a slot first) the pass stops
and plans again from the top, on what the store says now.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime

from router.backlog_drain import Planned, drain_group, plan_drain
from router.routing_facts import TicketFacts
from store.db import UnitOfWork
from store.team_layout import TeamLayout
from workers.runtime.context import Runtime
from workers.runtime.routing_policy import selection_policy, skills_timeout
from workers.steps.route import route, route_to

log = logging.getLogger(__name__)

PASSES = 3  # plans gone stale in a row before leaving the rest to the next drain


def drain_backlog(
    runtime: Runtime, team_id: int, *, batch: int = 200, avoid: Mapping[int, int] | None = None
) -> int:
    """Route the waiting tickets of the team (and of the teams it shares agents with) in
    backlog order into the free slots; how many were assigned (claim mode: offered to
    whoever free could take them, none assigned). ``batch``: the backlog is read in pages
    of this many. ``avoid``: ticket id -> the agent it was just taken from."""
    assigned = 0
    for _ in range(PASSES):
        plan, claim_mode = _plan(runtime, team_id, batch, avoid)
        if claim_mode:
            for ticket_id, _agent in plan:
                route(runtime, ticket_id)  # offers it; nobody's slot is taken
            return 0
        for ticket_id, agent in plan:
            if not route_to(runtime, ticket_id, agent.id):
                break  # stale: plan again on what the store says now
            assigned += 1
        else:
            return assigned
    log.info(
        "team %s: the drain's plan went stale %d times; the next drain goes on", team_id, PASSES
    )
    return assigned


def _plan(
    runtime: Runtime, team_id: int, batch: int, avoid: Mapping[int, int] | None
) -> tuple[list[Planned], bool]:
    """One pass's plan, read in one transaction, and whether the team is in claim mode."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        layout = uow.teams.layout()
        if team_id not in layout.names:
            return [], False
        group = drain_group(team_id, layout.fallbacks, layout.members, layout.claim_mode)
        if uow.teams.free_slots(group) == 0:
            return [], False
        serving = layout.serving(group)
        free = [m.facts for m in uow.agents.routing_candidates(serving, None, available_only=True)]
        # the drained team's version (a pilot team's: its candidate)
        routing = runtime.configs.desk().for_team(layout.names[team_id]).settings.routing
        timeouts = {
            layout.names[team]: skills_timeout(routing, _fallback_name(layout, team))
            for team in group
        }
        claim_mode = team_id in layout.claim_mode
        plan = plan_drain(
            _backlog(uow, group, batch),
            free,
            now,
            timeouts=timeouts,
            policy=selection_policy(routing),
            claim_mode=claim_mode,
            avoid=avoid,
        )
    return plan, claim_mode


def _fallback_name(layout: TeamLayout, team: int) -> str | None:
    fallback = layout.fallbacks.get(team)
    return layout.names[fallback] if fallback is not None else None


def _backlog(
    uow: UnitOfWork, team_ids: Collection[int], batch: int
) -> Iterator[tuple[TicketFacts, datetime]]:
    """The teams' waiting tickets in backlog order, read a page at a time as the plan
    asks for more (by key, so a ticket taken meanwhile never makes a page skip one)."""
    after = None
    while True:
        page = uow.tickets.waiting_facts(team_ids, batch, after=after)
        for _key, facts, queued_at in page:
            yield facts, queued_at
        if len(page) < batch:
            return
        after = page[-1][0]


def drain_soon(
    runtime: Runtime, team_ids: list[int], *, avoid: Mapping[int, int] | None = None
) -> None:
    """Drain the teams' backlogs: inline when embedded, else by the broker. ``avoid``:
    ticket id -> the agent it was just taken from (passed over while others can take it)."""
    for team_id in dict.fromkeys(team_ids):
        if runtime.settings.embedded:
            drain_backlog(runtime, team_id, avoid=avoid)
        else:
            runtime.enqueue_drain(team_id, avoid)
