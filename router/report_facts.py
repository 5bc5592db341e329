"""What each ticket tells the reports, and which tickets each figure counts.

These are the definitions; the store's queries and the daily rollups compute
the same sums in SQL for speed, and the tests check that both agree with the
functions here on the same tickets (``tests/integration/test_reports_store.py``).

- **created** in a period: the ticket's first message arrived in it.
- **resolved** in a period: the ticket was last set resolved (or closed without
  being resolved first) in it; a ticket reopened since is not resolved.
- **first response time**: from the ticket's creation to the first public reply
  of an agent (internal notes do not count), counted in the period of that
  reply. In *wall time* as the clock on the wall; in *business time* as the
  ticket's SLA clock counts it: only the hours of the ticket's calendar, not
  counting time the ticket waited on the customer (tickets without an SLA
  clock have no business time).
- **resolution time**: from creation to the (last) resolution, counted in the
  period of the resolution; business time as the SLA resolution clock counts it.
- **replies per ticket**: agents' public replies on the tickets resolved in the
  period, divided by their number.
- **reopen rate**: the share of the tickets resolved in the period that had been
  reopened (resolved, then opened again) at least once.
- **handling time**: from the ticket's (last) assignment to its agent until its
  resolution, for the tickets resolved in the period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from router.report_period import Period, local_date
from router.report_stats import Durations


@dataclass(frozen=True)
class TicketRecord:
    """One ticket as the reports see it (names, not ids)."""

    id: int
    created_at: datetime
    status: str
    priority: str
    channel: str
    category: str
    team: str | None
    assignee: str | None
    requester: str
    organisation: str | None = None
    form: str | None = None
    tags: tuple[str, ...] = ()
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    first_responder: str | None = None
    first_response_business_s: float | None = None
    done_at: datetime | None = None  # resolved, or closed without a resolution
    resolution_business_s: float | None = None
    replies: int = 0  # agents' public replies
    reopens: int = 0
    config_version: str | None = None  # that classified it (router.report_versions)


def seconds_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def in_period(at: datetime | None, period: Period) -> bool:
    return at is not None and period.start <= at < period.end


@dataclass(frozen=True)
class DayCount:
    """Tickets created and resolved on one local day, in one channel and category."""

    day: date
    channel: str
    category: str
    created: int = 0
    resolved: int = 0


def day_counts(records: Iterable[TicketRecord], period: Period) -> list[DayCount]:
    """Created and resolved per local day, channel and category (the volume's facts)."""
    created: Counter[tuple[date, str, str]] = Counter()
    resolved: Counter[tuple[date, str, str]] = Counter()
    for r in records:
        if in_period(r.created_at, period):
            created[(local_date(r.created_at, period.timezone), r.channel, r.category)] += 1
        if r.done_at is not None and in_period(r.done_at, period):
            resolved[(local_date(r.done_at, period.timezone), r.channel, r.category)] += 1
    return [
        DayCount(day, channel, category, created[key], resolved[key])
        for key in sorted(created.keys() | resolved.keys())
        for day, channel, category in [key]
    ]


@dataclass(frozen=True)
class SpeedFacts:
    """What the speed figure is computed from."""

    first_response_wall: Durations = field(default_factory=Durations)
    first_response_business: Durations = field(default_factory=Durations)
    resolution_wall: Durations = field(default_factory=Durations)
    resolution_business: Durations = field(default_factory=Durations)
    resolved: int = 0
    replies_on_resolved: int = 0
    reopened_resolved: int = 0


def speed_facts(records: Iterable[TicketRecord], period: Period) -> SpeedFacts:
    fr_wall: list[float] = []
    fr_business: list[float] = []
    res_wall: list[float] = []
    res_business: list[float] = []
    resolved = replies = reopened = 0
    for r in records:
        if r.first_response_at is not None and in_period(r.first_response_at, period):
            fr_wall.append(seconds_between(r.created_at, r.first_response_at))
            if r.first_response_business_s is not None:
                fr_business.append(r.first_response_business_s)
        if r.done_at is not None and in_period(r.done_at, period):
            resolved += 1
            replies += r.replies
            reopened += r.reopens > 0
            res_wall.append(seconds_between(r.created_at, r.done_at))
            if r.resolution_business_s is not None:
                res_business.append(r.resolution_business_s)
    return SpeedFacts(
        Durations.of(fr_wall),
        Durations.of(fr_business),
        Durations.of(res_wall),
        Durations.of(res_business),
        resolved,
        replies,
        reopened,
    )


@dataclass(frozen=True)
class PersonFacts:
    """One agent's (or team's) work in a period."""

    name: str
    handled: int = 0  # tickets answered publicly in the period
    resolved: int = 0
    reopened: int = 0  # of those resolved, reopened at least once
    handling: Durations = field(default_factory=Durations)
    first_response: Durations = field(default_factory=Durations)


def person_facts(
    records: Iterable[TicketRecord],
    period: Period,
    *,
    by: str,
    handled: dict[str, int] | None = None,
) -> list[PersonFacts]:
    """Per agent (``by="agent"``: the ticket's assignee; its first responder for the
    first response) or per team (``by="team"``). ``handled``: tickets answered in the
    period per name, from the messages (the records do not list every reply)."""
    resolved: Counter[str] = Counter()
    reopened: Counter[str] = Counter()
    handling: dict[str, list[float]] = {}
    first: dict[str, list[float]] = {}
    for r in records:
        owner = r.assignee if by == "agent" else r.team
        if owner is not None and r.done_at is not None and in_period(r.done_at, period):
            resolved[owner] += 1
            reopened[owner] += r.reopens > 0
            if r.assigned_at is not None:
                handling.setdefault(owner, []).append(seconds_between(r.assigned_at, r.done_at))
        responder = r.first_responder if by == "agent" else r.team
        answered = r.first_response_at
        if responder is not None and answered is not None and in_period(answered, period):
            first.setdefault(responder, []).append(seconds_between(r.created_at, answered))
    handled = handled or {}
    names = sorted(resolved.keys() | first.keys() | handled.keys())
    return [
        PersonFacts(
            name,
            handled=handled.get(name, 0),
            resolved=resolved[name],
            reopened=reopened[name],
            handling=Durations.of(handling.get(name, ())),
            first_response=Durations.of(first.get(name, ())),
        )
        for name in names
    ]


def volume_by(records: Iterable[TicketRecord], period: Period, *, key: str) -> Counter[str]:
    """Tickets created in the period per requester, organisation, form, tag or category
    (a ticket counts once for each of its tags; none for an empty value)."""
    counts: Counter[str] = Counter()
    for r in records:
        if not in_period(r.created_at, period):
            continue
        if key == "tag":
            counts.update(set(r.tags))
            continue
        value = getattr(r, key)
        if value:
            counts[value] += 1
    return counts


# --- SLA clocks --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockRecord:
    """One SLA clock of one ticket (``sla_timers``), with the ticket's priority and team."""

    policy: str
    kind: str
    priority: str
    team: str | None
    started_at: datetime
    target_s: float | None
    consumed_s: float
    stopped: bool
    breached: bool
    escalation_step: int = 0


@dataclass(frozen=True)
class ClockCount:
    """SLA clocks that started in the period, by how they stand now."""

    policy: str
    priority: str
    team: str | None
    kind: str
    met: int = 0
    breached: int = 0
    running: int = 0


def clock_state(*, target_s: float | None, consumed_s: float, stopped: bool, breached: bool) -> str:
    """``"met"``, ``"breached"`` or ``"running"`` (also paused): one clock as it stands."""
    if breached or (stopped and target_s is not None and consumed_s > target_s):
        return "breached"
    return "met" if stopped else "running"


def clock_counts(
    clocks: Iterable[ClockRecord], period: Period
) -> tuple[list[ClockCount], dict[int, int]]:
    """The clocks with a target started in the period as they stand now, per policy,
    priority, team and kind; and the breached ones by the number of escalation steps
    fired."""
    counts: dict[tuple[str, str, str | None, str], Counter[str]] = {}
    steps: Counter[int] = Counter()
    for c in clocks:
        if c.target_s is None or not in_period(c.started_at, period):
            continue  # a clock without a target is recorded, never promised
        state = clock_state(
            target_s=c.target_s, consumed_s=c.consumed_s, stopped=c.stopped, breached=c.breached
        )
        counts.setdefault((c.policy, c.priority, c.team, c.kind), Counter())[state] += 1
        if state == "breached":
            steps[c.escalation_step] += 1
    rows = [
        ClockCount(policy, priority, team, kind, n["met"], n["breached"], n["running"])
        for (policy, priority, team, kind), n in sorted(
            counts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "", kv[0][3])
        )
    ]
    return rows, dict(sorted(steps.items()))
