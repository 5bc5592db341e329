"""How a ticket's SLA due times would move under another configuration, and what that
would make of the targets it met or missed.

A ticket's clocks are those it gets when it arrives, through the same functions
ingest uses: the first matching policy (``choose_policy``), its calendar
(``calendar_for``), its targets; then ``router.sla_replay`` moves them as the live
desk did, through the clocks' own reducer (``router.sla_clock.apply``): paused
while the ticket waited on its requester, the first response stopped by the first
public reply, the resolution stopped when resolved and resumed with the time left
when reopened. A clock's due time is the one of its last run (``deadlines``: what
the live desk showed then); for a ticket that never waited, the due time of a clock
started at arrival (``planned_due_times``).

A target is breached when its clock ran past its due time (the live sweep marks it
then), met when it stopped before, open while it runs (or waits) within it at
``as_of``, and untracked when the policy sets no target (or no policy matches).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from router.business_calendar import BusinessCalendar, add_business_time
from router.sla_clock import TimerKind
from router.sla_policy import ALWAYS_OPEN, SlaPolicy, calendar_for, choose_policy
from router.vocabulary import Channel, Priority

KINDS: tuple[TimerKind, ...] = ("first_response", "resolution")
EXAMPLES = 5
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SlaSetup:
    """A configuration's SLA: its policies in order, calendars by name, team calendars."""

    policies: tuple[SlaPolicy, ...]
    calendars: Mapping[str, BusinessCalendar] = field(hash=False)
    team_calendars: Mapping[str, str] = field(default_factory=dict, hash=False)
    default_calendar: str = ALWAYS_OPEN


@dataclass(frozen=True)
class Dues:
    policy: str | None
    first_response: datetime | None
    resolution: datetime | None

    def of(self, kind: TimerKind) -> datetime | None:
        return self.first_response if kind == "first_response" else self.resolution


NO_DUES = Dues(None, None, None)


@dataclass(frozen=True)
class ClockPlan:
    """The policy a ticket gets and the calendar its clocks count on."""

    policy: SlaPolicy
    calendar: BusinessCalendar

    def same_clocks(self, other: ClockPlan) -> bool:
        """Whether ``other`` gives the same due times (perhaps under another name)."""
        mine, theirs = self.policy, other.policy
        return (mine.first_response, mine.resolution) == (
            theirs.first_response,
            theirs.resolution,
        ) and self.calendar == other.calendar


def clock_plan(
    setup: SlaSetup,
    *,
    priority: Priority,
    category: str,
    team: str,
    tier: str | None,
    channel: Channel | None,
) -> ClockPlan | None:
    """The first matching policy and its calendar, as ``start_clocks`` chooses them."""
    if not setup.policies:
        return None
    policy, _ = choose_policy(
        setup.policies, priority=priority, category=category, team=team, tier=tier, channel=channel
    )
    if policy is None:
        return None
    name, _ = calendar_for(
        policy, team=team, team_calendars=setup.team_calendars, default=setup.default_calendar
    )
    return ClockPlan(policy, setup.calendars[name])


def due_times(
    setup: SlaSetup,
    *,
    priority: Priority,
    category: str,
    team: str,
    tier: str | None,
    channel: Channel | None,
    arrived_at: datetime,
) -> Dues:
    """The ticket's first-response and resolution due times under ``setup``."""
    plan = clock_plan(
        setup, priority=priority, category=category, team=team, tier=tier, channel=channel
    )
    return planned_due_times(plan, arrived_at)


def planned_due_times(plan: ClockPlan | None, arrived_at: datetime) -> Dues:
    """The ticket's first-response and resolution due times as its clocks start: what
    ``deadlines`` gives a clock started at arrival (``start_timer``, nothing consumed),
    its target of business time added on its calendar."""
    if plan is None:
        return NO_DUES
    policy, calendar = plan.policy, plan.calendar
    first, resolution = policy.first_response, policy.resolution
    return Dues(
        policy.name,
        None if first is None else add_business_time(calendar, arrived_at, first),
        None if resolution is None else add_business_time(calendar, arrived_at, resolution),
    )


class Verdict(StrEnum):
    MET = "met"
    BREACHED = "breached"
    OPEN = "open"
    UNTRACKED = "untracked"


@dataclass(frozen=True)
class ClockOutcome:
    """What became of one clock under a configuration: its due time (its last run's)
    and its verdict."""

    due: datetime | None
    verdict: Verdict


UNTRACKED = ClockOutcome(None, Verdict.UNTRACKED)


@dataclass(frozen=True)
class Outcomes:
    """A ticket's clocks under one configuration (``router.sla_replay.replay_clocks``)."""

    policy: str | None
    first_response: ClockOutcome = UNTRACKED
    resolution: ClockOutcome = UNTRACKED

    def of(self, kind: TimerKind) -> ClockOutcome:
        return self.first_response if kind == "first_response" else self.resolution


NO_OUTCOMES = Outcomes(None)


class Move(StrEnum):
    """How far a due time moves, candidate minus current."""

    EARLIER_DAYS = "earlier_over_1d"
    EARLIER_HOURS = "earlier_1h_to_1d"
    EARLIER_MINUTES = "earlier_under_1h"
    UNCHANGED = "unchanged"
    LATER_MINUTES = "later_under_1h"
    LATER_HOURS = "later_1h_to_1d"
    LATER_DAYS = "later_over_1d"
    NEWLY_TRACKED = "newly_tracked"
    NO_LONGER_TRACKED = "no_longer_tracked"


def move(current: datetime | None, candidate: datetime | None) -> Move | None:
    """The bucket of the move; None when neither configuration tracks the clock."""
    if current is None or candidate is None:
        if current is None and candidate is None:
            return None
        return Move.NEWLY_TRACKED if current is None else Move.NO_LONGER_TRACKED
    delta = candidate - current
    size = abs(delta)
    if not delta:
        return Move.UNCHANGED
    if delta < timedelta(0):
        return (
            Move.EARLIER_DAYS
            if size > _DAY
            else Move.EARLIER_HOURS
            if size >= _HOUR
            else Move.EARLIER_MINUTES
        )
    return (
        Move.LATER_DAYS
        if size > _DAY
        else Move.LATER_HOURS
        if size >= _HOUR
        else Move.LATER_MINUTES
    )


@dataclass
class ClockTally:
    """One clock kind over every ticket: moves, verdicts on each side, and the flips."""

    moves: Counter[Move] = field(default_factory=Counter)
    current: Counter[Verdict] = field(default_factory=Counter)
    candidate: Counter[Verdict] = field(default_factory=Counter)
    met_to_breached: int = 0
    breached_to_met: int = 0
    met_to_breached_examples: list[int] = field(default_factory=list)
    breached_to_met_examples: list[int] = field(default_factory=list)
    shift_s: float = 0.0  # the sum of the moves, both sides tracked
    shifted: int = 0

    def add(self, number: int, current: ClockOutcome, candidate: ClockOutcome) -> None:
        before, after = current.due, candidate.due
        moved = move(before, after)
        if moved is not None:
            self.moves[moved] += 1
        if before is not None and after is not None:
            self.shift_s += (after - before).total_seconds()
            self.shifted += 1
        old, new = current.verdict, candidate.verdict
        self.current[old] += 1
        self.candidate[new] += 1
        if old is Verdict.MET and new is Verdict.BREACHED:
            self.met_to_breached += 1
            _keep(self.met_to_breached_examples, number)
        elif old is Verdict.BREACHED and new is Verdict.MET:
            self.breached_to_met += 1
            _keep(self.breached_to_met_examples, number)

    @property
    def mean_shift_s(self) -> float:
        return self.shift_s / self.shifted if self.shifted else 0.0


@dataclass
class SlaTally:
    as_of: datetime
    tickets: int = 0
    policies: Counter[tuple[str, str]] = field(default_factory=Counter)  # (current, candidate)
    clocks: dict[str, ClockTally] = field(default_factory=lambda: {k: ClockTally() for k in KINDS})

    def add(self, number: int, current: Outcomes, candidate: Outcomes) -> None:
        self.tickets += 1
        if current.policy != candidate.policy:
            self.policies[(current.policy or "-", candidate.policy or "-")] += 1
        for kind in KINDS:
            self.clocks[kind].add(number, current.of(kind), candidate.of(kind))


def _keep(examples: list[int], number: int) -> None:
    if len(examples) < EXAMPLES:
        examples.append(number)
