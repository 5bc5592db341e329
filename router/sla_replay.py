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
runs (or waits) within it at ``as_of``.
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
)

Events = tuple[tuple[datetime, SlaEvent], ...]


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


def _outcome(timer: Timer | None, run: _Run, as_of: datetime) -> ClockOutcome:
    if timer is None or timer.target is None:
        return UNTRACKED
    if run.breached or (timer.is_running and run.due is not None and run.due < as_of):
        return ClockOutcome(run.due, Verdict.BREACHED)
    return ClockOutcome(run.due, Verdict.MET if timer.is_stopped else Verdict.OPEN)
