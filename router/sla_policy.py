"""SLA policies: which targets a ticket gets, on which calendar, and who hears of a breach.

Policies are configuration data tried in order; the first whose conditions all
hold applies (a policy without conditions matches every ticket, so it belongs
last). ``choose_policy`` answers the policy *and its reasons*, one line per
policy tried, for the ticket's audit log::

    SLA policy urgent skipped: priority: normal is not urgent
    SLA policy standard: no conditions, matches every ticket

A target left out of a policy is not tracked: ``SlaPolicy.tracks(kind)`` says so,
and no timer of that kind should get deadlines.

The calendar of a ticket is the policy's own when it names one, else the team's,
else the default (``calendar_for``). ``"24x7"`` is the built-in always-open one.

At a breach the escalation chain is planned once (``escalation_targets``): each
step names a role (the assignee, the team's supervisor, the manager) or an agent,
and a delay after the breach in business time on the ticket's calendar (real time
when no calendar is given). People who are missing are skipped and a person
already on the plan is not told twice, so the order of first mention is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple

from router.business_calendar import BusinessCalendar, add_business_time
from router.sla_clock import TimerKind
from router.vocabulary import Channel, Priority

ALWAYS_OPEN = "24x7"  # the name of the built-in always-open calendar
EscalationRole = Literal["assignee", "supervisor", "manager", "agent"]
_ZERO = timedelta(0)
_SHOWN_VALUES = 5  # values listed in a reason before "..."


@dataclass(frozen=True)
class PolicyCondition:
    """The ``when`` of a policy: each condition given must hold; a tuple means any of.

    Text values compare ignoring case.
    """

    priority: tuple[Priority, ...] = ()
    category: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    channel: tuple[Channel, ...] = ()

    def test(
        self,
        *,
        priority: Priority,
        category: str | None = None,
        team: str | None = None,
        tier: str | None = None,
        channel: Channel | None = None,
    ) -> tuple[bool, str]:
        """Whether a ticket with these facts matches, and why (or why not)."""
        checks: tuple[tuple[str, Sequence[str], str | None], ...] = (
            ("priority", [p.value for p in self.priority], priority.value),
            ("category", self.category, category),
            ("team", self.team, team),
            ("tier", self.tier, tier),
            ("channel", [c.value for c in self.channel], channel.value if channel else None),
        )
        matched = []
        for key, wanted, value in checks:
            if not wanted:
                continue
            listing = _listing(wanted)
            if not value:
                return False, f"{key}: none given, wanted {listing}"
            if value.casefold() not in {w.casefold() for w in wanted}:
                return False, f"{key}: {value} is not {listing}"
            matched.append(f"{key} {value}")
        return True, ", ".join(matched) or "no conditions, matches every ticket"


@dataclass(frozen=True)
class SlaPolicy:
    """Business-time targets (``None``: not tracked) for the tickets ``when`` matches."""

    name: str
    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None
    warn_share: float = 0.75  # warn at this share of a target
    calendar: str | None = None  # None: the team's calendar, else the default
    when: PolicyCondition = PolicyCondition()

    def __post_init__(self) -> None:
        targets = (self.first_response, self.next_response, self.resolution)
        if all(t is None for t in targets):
            raise ValueError(f"SLA policy {self.name!r} has no target")
        if any(t is not None and t <= _ZERO for t in targets):
            raise ValueError(f"SLA policy {self.name!r} has a target that is not positive")
        if not 0.0 < self.warn_share < 1.0:
            raise ValueError(f"warn_share is a share of the target in (0, 1): {self.warn_share}")

    def target(self, kind: TimerKind) -> timedelta | None:
        """The business-time target of ``kind``; ``None`` when it is not tracked."""
        targets = {
            "first_response": self.first_response,
            "next_response": self.next_response,
            "resolution": self.resolution,
        }
        return targets[kind]

    def tracks(self, kind: TimerKind) -> bool:
        return self.target(kind) is not None


def choose_policy(
    policies: Iterable[SlaPolicy],
    *,
    priority: Priority,
    category: str | None = None,
    team: str | None = None,
    tier: str | None = None,
    channel: Channel | None = None,
) -> tuple[SlaPolicy | None, tuple[str, ...]]:
    """The first policy that matches (or ``None``), and a reason per policy tried."""
    reasons = []
    for policy in policies:
        matched, why = policy.when.test(
            priority=priority, category=category, team=team, tier=tier, channel=channel
        )
        if matched:
            reasons.append(f"SLA policy {policy.name}: {why}")
            return policy, tuple(reasons)
        reasons.append(f"SLA policy {policy.name} skipped: {why}")
    reasons.append("no SLA policy matches: no SLA clocks")
    return None, tuple(reasons)


def calendar_for(
    policy: SlaPolicy | None,
    *,
    team: str | None,
    team_calendars: Mapping[str, str],
    default: str = ALWAYS_OPEN,
) -> tuple[str, str]:
    """The name of the ticket's calendar and why: the policy's, the team's or the default."""
    if policy is not None and policy.calendar is not None:
        return policy.calendar, f"calendar {policy.calendar}: set by SLA policy {policy.name}"
    if team is not None and team in team_calendars:
        name = team_calendars[team]
        return name, f"calendar {name}: of team {team}"
    return default, f"calendar {default}: the default"


def bumped(priority: Priority) -> Priority:
    """One step more urgent; urgent stays urgent."""
    by_rank = sorted(Priority, key=lambda p: p.rank)
    return by_rank[max(priority.rank - 1, 0)]


# --- escalation --------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationStep:
    """``to``: "assignee", "supervisor", "manager" or an agent's name; ``after`` the breach."""

    to: str
    after: timedelta = _ZERO


class EscalationTarget(NamedTuple):
    """One planned notification: when, to whom, and in which role."""

    at: datetime
    recipient: str
    role: EscalationRole


EscalationPlan = tuple[EscalationTarget, ...]


def escalation_targets(
    steps: Iterable[EscalationStep],
    *,
    assignee: str | None,
    team_supervisor: str | None,
    manager: str | None,
    breached_at: datetime,
    calendar: BusinessCalendar | None = None,
) -> EscalationPlan:
    """Who is told of a breach and when (UTC), in the order of the steps.

    A step whose person is missing is skipped; a person already planned is not
    planned again. ``after`` is business time on ``calendar`` (real time without
    one); a step at zero is due at the breach itself, even outside business hours.
    """
    if breached_at.tzinfo is None or breached_at.utcoffset() is None:
        raise ValueError(f"a naive datetime has no place in the SLA clock: {breached_at!r}")
    people: dict[str, tuple[EscalationRole, str | None]] = {
        "assignee": ("assignee", assignee),
        "supervisor": ("supervisor", team_supervisor),
        "manager": ("manager", manager),
    }
    plan: list[EscalationTarget] = []
    seen: set[str] = set()
    for step in steps:
        role, person = people.get(step.to, ("agent", step.to))
        if not person or person in seen:
            continue
        seen.add(person)
        plan.append(EscalationTarget(_after(breached_at, step.after, calendar), person, role))
    return tuple(plan)


def _after(breached_at: datetime, delay: timedelta, calendar: BusinessCalendar | None) -> datetime:
    if delay < _ZERO:
        raise ValueError(f"an escalation delay cannot be negative: {delay}")
    if calendar is None or delay == _ZERO:
        return breached_at.astimezone(UTC) + delay
    return add_business_time(calendar, breached_at, delay)


def _listing(values: Sequence[str]) -> str:
    shown = ", ".join(values[:_SHOWN_VALUES])
    if len(values) > _SHOWN_VALUES:
        shown += ", ..."
    return shown if len(values) == 1 else f"one of {shown}"
