"""A candidate configuration replayed on past tickets: classification, routing and SLA.

Each arrival (in ticket number order, which is arrival order) is classified by both
configurations (``RuleSetup.decide``, as ingest does); each configuration's decision
then goes, with the ticket's arrival time and channel, to that configuration's
routing replay (``router.routing_replay``: its roster, its load model) and to its
SLA clocks, replayed through the ticket's reply and status changes as the live clocks
moved (``router.sla_replay``). Nothing is kept per ticket beyond what the
routing replays hold (the slots taken and the tickets waiting), so memory follows
the open load, not the period.

A pilot (``Pilot``) is simulated as ``config pilot`` runs it live (``router.pilot``):
the candidate side classifies in two steps (``classify_in_pilot``), the version that
classified a ticket starts its SLA clocks, and routing keeps the desk's agents (a
candidate's roster waits for its promotion) with each pilot team ranking by the
candidate's routing settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from router.pilot import classify_in_pilot
from router.routing_facts import TicketFacts
from router.routing_replay import Roster, RoutingReplay
from router.routing_shift import RoutingShift, RoutingTally, shift
from router.rule_simulation import Arrival, ClassificationTally, RuleSetup, Simulation
from router.rules import Classified
from router.sla_replay import clock_events, replay_clocks
from router.sla_simulation import ClockPlan, SlaSetup, SlaTally, clock_plan
from router.vocabulary import Channel


@dataclass(frozen=True)
class DeskSetup:
    """What a configuration decides with: its rules, its roster, its SLA."""

    rules: RuleSetup
    roster: Roster
    sla: SlaSetup


@dataclass(frozen=True)
class Pilot:
    """The candidate decides for ``teams`` only; ``roster``: the desk's agents, each pilot
    team's routing settings the candidate's."""

    teams: frozenset[str]
    roster: Roster


@dataclass(frozen=True)
class DeskSimulation:
    classification: Simulation
    routing: RoutingShift
    sla: SlaTally


def simulate(
    arrivals: Iterable[Arrival],
    current: DeskSetup,
    candidate: DeskSetup,
    *,
    as_of: datetime,
    on_ticket: Callable[[], None] | None = None,
    pilot: Pilot | None = None,
    keep_outcomes: bool = False,
) -> DeskSimulation:
    """Replay ``arrivals`` through both setups (the candidate for ``pilot``'s teams only,
    if given). ``as_of``: the instant a due time without a real response must have
    passed to count as breached (the simulation's now). ``keep_outcomes``: each ticket's
    decision on the candidate's side, by number (tests hold it to the live desk's)."""
    roster = candidate.roster if pilot is None else pilot.roster
    rules = ClassificationTally(keep_outcomes=keep_outcomes)
    tallies = (
        RoutingTally(senior_at=current.roster.policy.senior_at),
        RoutingTally(senior_at=roster.policy.senior_at),
    )
    replays = (
        RoutingReplay(current.roster, tallies[0].add),
        RoutingReplay(roster, tallies[1].add),
    )
    sla = SlaTally(as_of=as_of)
    for arrival in arrivals:
        before = current.rules.classify(arrival)
        if pilot is None:
            after, deciding, by_candidate = candidate.rules.classify(arrival), candidate, True
        else:
            made = classify_in_pilot(
                arrival.facts,
                current.rules,
                candidate.rules,
                pilot.teams,
                category_hint=arrival.category_hint,
                priority_hint=arrival.priority_hint,
            )
            after, by_candidate = made.decision, made.by_candidate
            deciding = candidate if by_candidate else current
        rules.add(arrival, before, after, by_candidate=by_candidate)
        if arrival.arrived_at is not None:
            replays[0].arrive(ticket_facts(arrival, before, arrival.arrived_at), arrival.done_at)
            replays[1].arrive(ticket_facts(arrival, after, arrival.arrived_at), arrival.done_at)
            plans = (_plan(current.sla, arrival, before), _plan(deciding.sla, arrival, after))
            events = clock_events(arrival)
            now = replay_clocks(plans[0], arrival.arrived_at, events, as_of)
            if plans[0] is None or plans[1] is None or not plans[0].same_clocks(plans[1]):
                then = replay_clocks(plans[1], arrival.arrived_at, events, as_of)
            else:  # the same targets on the same calendar: the same clocks
                then = replace(now, policy=plans[1].policy.name)
            sla.add(arrival.number, now, then)
        if on_ticket is not None:
            on_ticket()
    for replay in replays:
        replay.finish()
    return DeskSimulation(rules.result(candidate.rules), shift(*tallies), sla)


def ticket_facts(arrival: Arrival, decision: Classified, arrived_at: datetime) -> TicketFacts:
    """The ticket as routing sees it when it arrives under ``decision``."""
    channel = arrival.facts.channel or Channel.EMAIL
    return TicketFacts(
        id=arrival.number,
        team=decision.team,
        priority=decision.priority,
        created_at=arrived_at,
        channel=channel.value,
        required_skills=dict(decision.required_skills),
        optional_skills=dict(decision.optional_skills),
    )


def _plan(setup: SlaSetup, arrival: Arrival, decision: Classified) -> ClockPlan | None:
    return clock_plan(
        setup,
        priority=decision.priority,
        category=decision.category,
        team=decision.team,
        tier=arrival.facts.customer_tier,
        channel=arrival.facts.channel,
    )
