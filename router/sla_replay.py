"""A ticket's SLA clocks replayed as the live desk moved them, under any configuration.

The clocks start at arrival (the first customer message) and go through the reducer
the live desk uses (``router.sla_clock.apply``), fed with what happened to the ticket:
its first public reply, and each change of its status as ``status_event`` maps it
(pending pauses the clocks, open again resumes them, resolved stops them, reopened
resumes the resolution with the business time it had left). Events at one instant
take the reply first, then the status changes in their order.

While a clock runs, its due time is the one ``deadlines`` gives (the live desk's
``due_at``); the clock is breached when it runs past it (the live SLA sweep marks the
breach at that instant, and a breach stays), met when it stops first, open while it
runs (or waits) within it at ``as_of``. A ticket that never waited nor reopened takes
a short way to the same result (``_one_run``): most tickets, at a fraction of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from router.rule_simulation import Arrival
from router.sla_clock import (
    SlaEvent,
    SlaTargets,
    TicketClocks,
    Timer,
    apply,
    deadlines,
    status_event,
)
from router.sla_simulation import (
    KINDS,
    NO_OUTCOMES,
    UNTRACKED,
    ClockOutcome,
    ClockPlan,
    Outcomes,
    Verdict,
    planned_due_times,
)

Events = tuple[tuple[datetime, SlaEvent], ...]
# the events after which a clock runs again (a ticket without them: one run per clock)
_RESUMING = frozenset({SlaEvent.PENDING, SlaEvent.OPEN, SlaEvent.REOPENED})
_STOPS_FIRST_RESPONSE = frozenset({SlaEvent.AGENT_REPLY, SlaEvent.RESOLVED})


def clock_events(arrival: Arrival) -> Events:
    """What moved the ticket's clocks after it arrived, in order."""
    found: list[tuple[datetime, int, SlaEvent]] = []
    if arrival.responded_at is not None:
        found.append((arrival.responded_at, 0, SlaEvent.AGENT_REPLY))
    for n, (at, before, after) in enumerate(arrival.moves, start=1):
        event = status_event(before, after)
        if event is not None:
            found.append((at, n, event))
    found.sort(key=lambda e: (e[0], e[1]))
    return tuple((at, event) for at, _, event in found)


@dataclass
class _Run:
    """One clock's current run: its due time, whether it ever ran past one."""

    due: datetime | None = None
    breached: bool = False
    seen: tuple[datetime | None, float] | None = None  # (running_since, consumed) of ``due``


def replay_clocks(
    plan: ClockPlan | None, arrived_at: datetime, events: Events, as_of: datetime
) -> Outcomes:
    """The ticket's first-response and resolution clocks under ``plan`` (None: no policy
    matches, nothing tracked), moved by ``events``, judged at ``as_of``."""
    if plan is None:
        return NO_OUTCOMES
    if not any(event in _RESUMING for _, event in events):
        return _one_run(plan, arrived_at, events, as_of)
    policy, calendar = plan.policy, plan.calendar
    targets = SlaTargets(
        first_response=policy.first_response,
        next_response=None,  # later customer messages are not replayed
        resolution=policy.resolution,
        warn_share=policy.warn_share,
    )
    clocks = apply(TicketClocks(), SlaEvent.CUSTOMER_MESSAGE, targets, calendar, arrived_at)
    runs = {kind: _Run() for kind in KINDS}

    def look() -> None:
        for kind in KINDS:
            timer: Timer | None = getattr(clocks, kind)
            if timer is None or timer.running_since is None or timer.target is None:
                continue
            run = runs[kind]
            key = (timer.running_since, timer.consumed.total_seconds())
            if run.seen != key:  # a new run (or the first): its due time
                run.due, run.seen = deadlines(timer, calendar)[1], key

    look()
    for at, event in events:
        at = max(at, arrived_at)
        for kind in KINDS:
            timer = getattr(clocks, kind)
            run = runs[kind]
            if timer is not None and timer.is_running and run.due is not None and run.due < at:
                run.breached = True
        clocks = apply(clocks, event, targets, calendar, at)
        look()
    first, resolution = (_outcome(getattr(clocks, kind), runs[kind], as_of) for kind in KINDS)
    return Outcomes(policy.name, first, resolution)


def _one_run(plan: ClockPlan, arrived_at: datetime, events: Events, as_of: datetime) -> Outcomes:
    """The clocks of a ticket that never waited nor reopened: each runs once, from its
    arrival to its first stop, due when its clock started says (what ``replay_clocks``
    finds the long way, without counting business time between events)."""
    dues = planned_due_times(plan, arrived_at)
    replied = next((at for at, e in events if e in _STOPS_FIRST_RESPONSE), None)
    resolved = next((at for at, e in events if e is SlaEvent.RESOLVED), None)
    return Outcomes(
        plan.policy.name,
        _judged(dues.first_response, replied, arrived_at, as_of),
        _judged(dues.resolution, resolved, arrived_at, as_of),
    )


def _judged(
    due: datetime | None, stopped: datetime | None, arrived_at: datetime, as_of: datetime
) -> ClockOutcome:
    if due is None:
        return UNTRACKED
    if stopped is None:
        return ClockOutcome(due, Verdict.BREACHED if due < as_of else Verdict.OPEN)
    return ClockOutcome(due, Verdict.BREACHED if due < max(stopped, arrived_at) else Verdict.MET)


def _outcome(timer: Timer | None, run: _Run, as_of: datetime) -> ClockOutcome:
    if timer is None or timer.target is None:
        return UNTRACKED
    if run.breached or (timer.is_running and run.due is not None and run.due < as_of):
        return ClockOutcome(run.due, Verdict.BREACHED)
    return ClockOutcome(run.due, Verdict.MET if timer.is_stopped else Verdict.OPEN)
