"""The report's figures, each assembled once from the facts the store counted.

Which tickets each figure counts is defined in ``router.report_facts``; how
durations are summed up in ``router.report_stats``. Everything here is pure:
``now`` and the period come in, nothing is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from router.report_facts import ClockCount, DayCount, PersonFacts, SpeedFacts
from router.report_period import Period
from router.report_stats import Summary, share, summarise
from router.vocabulary import Priority, Status

TOP = 10


@dataclass(frozen=True)
class ReportFilters:
    """Which tickets a report looks at; each given filter is "any of" its values."""

    team: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    agent: tuple[str, ...] = ()  # the ticket's assignee
    organisation: tuple[str, ...] = ()
    form: tuple[str, ...] = ()
    # the configuration version that classified the ticket (router.report_versions)
    config_version: tuple[str, ...] = ()

    def given(self) -> dict[str, tuple[str, ...]]:
        return {k: v for k, v in vars(self).items() if v}


# --- volume ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Compared:
    """Created and resolved in the period, and in the period before."""

    name: str
    created: int
    resolved: int
    previous_created: int
    previous_resolved: int


_NOTHING = Compared("all", 0, 0, 0, 0)


@dataclass(frozen=True)
class VolumeBucket:
    start: date  # the day, or the first day of the week
    created: int
    resolved: int
    created_by_channel: Mapping[str, int]


@dataclass(frozen=True)
class Volume:
    weekly: bool
    buckets: tuple[VolumeBucket, ...]
    total: Compared
    by_channel: tuple[Compared, ...]
    by_category: tuple[Compared, ...]


def volume(period: Period, rows: Iterable[DayCount], previous: Iterable[DayCount]) -> Volume:
    """Created and resolved per day (per week past ``WEEKLY_AFTER_DAYS``), by channel
    and category, each beside the same count in the previous period."""
    now_rows, before = list(rows), list(previous)
    created: Counter[date] = Counter()
    resolved: Counter[date] = Counter()
    by_channel: dict[date, Counter[str]] = {}
    for row in now_rows:
        bucket = period.bucket_of(row.day)
        created[bucket] += row.created
        resolved[bucket] += row.resolved
        by_channel.setdefault(bucket, Counter())[row.channel] += row.created
    buckets = tuple(
        VolumeBucket(b, created[b], resolved[b], dict(sorted(by_channel.get(b, {}).items())))
        for b in period.buckets()
    )
    return Volume(
        weekly=period.weekly,
        buckets=buckets,
        total=(_compared_each(now_rows, before, lambda r: "all") or (_NOTHING,))[0],
        by_channel=_compared_each(now_rows, before, lambda r: r.channel),
        by_category=_compared_each(now_rows, before, lambda r: r.category),
    )


def _sums(rows: Iterable[DayCount], key: Callable[[DayCount], str]) -> tuple[Counter[str], ...]:
    created: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    for row in rows:
        created[key(row)] += row.created
        resolved[key(row)] += row.resolved
    return created, resolved


def _compared_each(
    rows: list[DayCount], before: list[DayCount], key: Callable[[DayCount], str]
) -> tuple[Compared, ...]:
    created, resolved = _sums(rows, key)
    was_created, was_resolved = _sums(before, key)
    names = created.keys() | resolved.keys() | was_created.keys() | was_resolved.keys()
    found = (Compared(n, created[n], resolved[n], was_created[n], was_resolved[n]) for n in names)
    return tuple(sorted(found, key=lambda c: (-c.created, -c.resolved, c.name)))


# --- backlog ---------------------------------------------------------------------------

AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("under 1 day", timedelta(days=1)),
    ("1-3 days", timedelta(days=3)),
    ("3-7 days", timedelta(days=7)),
    ("1-4 weeks", timedelta(days=28)),
    ("over 4 weeks", None),
)


def age_bucket(created_at: datetime, now: datetime) -> int:
    """The index in ``AGE_BUCKETS`` of a ticket created at ``created_at``."""
    age = now - created_at
    for index, (_, below) in enumerate(AGE_BUCKETS):
        if below is None or age < below:
            return index
    raise AssertionError("the last age bucket has no bound")  # pragma: no cover


@dataclass(frozen=True)
class BacklogRow:
    status: str
    priority: str
    assigned: bool
    age: int  # index in AGE_BUCKETS
    count: int


@dataclass(frozen=True)
class Backlog:
    """Open tickets now (new, open or pending)."""

    total: int
    by_status: Mapping[str, int]
    by_priority: Mapping[str, int]
    by_age: Mapping[str, int]  # every age bucket, in order
    waiting_in_queue: int  # new or open, nobody assigned
    waiting_for_agent: int  # new or open, assigned
    waiting_on_customer: int  # pending


def backlog(rows: Iterable[BacklogRow]) -> Backlog:
    status: Counter[str] = Counter()
    priority: Counter[str] = Counter()
    age: Counter[str] = Counter()
    queue = agent = customer = 0
    for row in rows:
        status[row.status] += row.count
        priority[row.priority] += row.count
        age[AGE_BUCKETS[row.age][0]] += row.count
        if row.status == Status.PENDING.value:
            customer += row.count
        elif row.assigned:
            agent += row.count
        else:
            queue += row.count
    ranks = {p.value: p.rank for p in Priority}
    return Backlog(
        total=sum(status.values()),
        by_status={s.value: status[s.value] for s in Status if s.value in status},
        by_priority=dict(sorted(priority.items(), key=lambda kv: (ranks.get(kv[0], 99), kv[0]))),
        by_age={label: age[label] for label, _ in AGE_BUCKETS},
        waiting_in_queue=queue,
        waiting_for_agent=agent,
        waiting_on_customer=customer,
    )


# --- speed -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Speed:
    first_response_wall: Summary
    first_response_business: Summary
    resolution_wall: Summary
    resolution_business: Summary
    resolved: int
    replies_per_ticket: float | None
    reopen_rate: float | None


def speed(facts: SpeedFacts) -> Speed:
    return Speed(
        first_response_wall=summarise(facts.first_response_wall),
        first_response_business=summarise(facts.first_response_business),
        resolution_wall=summarise(facts.resolution_wall),
        resolution_business=summarise(facts.resolution_business),
        resolved=facts.resolved,
        replies_per_ticket=share(facts.replies_on_resolved, facts.resolved),
        reopen_rate=share(facts.reopened_resolved, facts.resolved),
    )


# --- people ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadFacts:
    """Samples of one agent's load over the period (taken by the scheduler)."""

    name: str
    samples: int
    load_sum: int
    capacity_sum: int
    peak: int


@dataclass(frozen=True)
class LoadDay:
    """The load samples of one local day, summed over the agents in the report."""

    day: date
    load_sum: int
    capacity_sum: int
    peak: int


@dataclass(frozen=True)
class LoadPoint:
    start: date  # the day, or the first day of the week
    load_share: float | None  # open tickets assigned against capacity, over the samples
    peak: int | None  # the most open tickets one agent held at one sample


def load_over_time(period: Period, days: Iterable[LoadDay]) -> tuple[LoadPoint, ...]:
    """Per day (per week past ``WEEKLY_AFTER_DAYS``): the agents' sampled load against
    their capacity (the sum of the loads over the sum of the capacities), and the peak;
    ``None`` for a bucket without samples."""
    load: Counter[date] = Counter()
    capacity: Counter[date] = Counter()
    peak: dict[date, int] = {}
    for row in days:
        bucket = period.bucket_of(row.day)
        load[bucket] += row.load_sum
        capacity[bucket] += row.capacity_sum
        peak[bucket] = max(peak.get(bucket, 0), row.peak)
    return tuple(LoadPoint(b, share(load[b], capacity[b]), peak.get(b)) for b in period.buckets())


@dataclass(frozen=True)
class Person:
    name: str
    handled: int
    resolved: int
    median_handling_s: float | None
    median_first_response_s: float | None
    reopened: int
    mean_load: float | None  # open tickets assigned, on average over the samples
    load_share: float | None  # that load against capacity
    peak_load: int | None
    satisfaction: float | None  # good ratings / all ratings; None: no ratings


def people(
    facts: Iterable[PersonFacts],
    *,
    load: Iterable[LoadFacts] = (),
    ratings: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[Person, ...]:
    """Per agent or team; ``ratings``: (good, bad) per name, ``None`` when the desk keeps
    no ratings."""
    loads = {f.name: f for f in load}
    counted = list(facts)
    # rated in the period for a ticket resolved before it: shown with their ratings alone
    unseen = sorted(set(ratings or {}) - {f.name for f in counted})
    out = []
    for f in [*counted, *(PersonFacts(name) for name in unseen)]:
        sampled = loads.get(f.name)
        good, bad = (ratings or {}).get(f.name, (0, 0))
        out.append(
            Person(
                name=f.name,
                handled=f.handled,
                resolved=f.resolved,
                median_handling_s=summarise(f.handling).median_s,
                median_first_response_s=summarise(f.first_response).median_s,
                reopened=f.reopened,
                mean_load=share(sampled.load_sum, sampled.samples) if sampled else None,
                load_share=share(sampled.load_sum, sampled.capacity_sum) if sampled else None,
                peak_load=sampled.peak if sampled else None,
                satisfaction=share(good, good + bad),
            )
        )
    return tuple(sorted(out, key=lambda p: (-p.handled, -p.resolved, p.name)))


# --- promises --------------------------------------------------------------------------


@dataclass(frozen=True)
class Attainment:
    name: str
    met: int
    breached: int
    running: int
    attainment: float | None  # met / (met + breached)


@dataclass(frozen=True)
class Promises:
    total: Attainment
    by_policy: tuple[Attainment, ...]
    by_priority: tuple[Attainment, ...]
    by_team: tuple[Attainment, ...]
    by_clock: tuple[Attainment, ...]
    breaches_by_step: Mapping[int, int]  # escalation steps fired -> breached clocks


def promises(rows: Iterable[ClockCount], steps: Mapping[int, int]) -> Promises:
    counted = list(rows)

    def by(key: object) -> tuple[Attainment, ...]:
        sums: dict[str, list[int]] = {}
        for row in counted:
            name = key(row) or "-"  # type: ignore[operator]
            acc = sums.setdefault(name, [0, 0, 0])
            acc[0] += row.met
            acc[1] += row.breached
            acc[2] += row.running
        return tuple(
            Attainment(n, m, b, r, share(m, m + b)) for n, (m, b, r) in sorted(sums.items())
        )

    total = by(lambda r: "all") or (Attainment("all", 0, 0, 0, None),)
    return Promises(
        total=total[0],
        by_policy=by(lambda r: r.policy),
        by_priority=by(lambda r: r.priority),
        by_team=by(lambda r: r.team),
        by_clock=by(lambda r: r.kind),
        breaches_by_step=dict(sorted(steps.items())),
    )


# --- top ten ---------------------------------------------------------------------------


def top_ten(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """The ten largest, then by name; ``()`` is "no data"."""
    ranked = sorted(((n, c) for n, c in counts.items() if c > 0), key=lambda nc: (-nc[1], nc[0]))
    return tuple(ranked[:TOP])
