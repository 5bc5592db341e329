"""Tickets nobody can take yet: the order they wait in, and how their requirements relax.

A ticket with no eligible agent waits in a backlog ordered by ``backlog_key``.
While it waits, the skills timeout relaxes it step by step
(``relax_requirements``): after a wait set per priority its optional skills
are dropped, and after another it may also go to a fallback team. Both are
pure: the caller says how long the ticket has waited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from router.routing_facts import EMPTY, TicketFacts
from router.vocabulary import Priority

BacklogKey = tuple[int, int, datetime, datetime, int]

_NO_DUE = datetime.max.replace(tzinfo=UTC)


def backlog_key(ticket: TicketFacts) -> BacklogKey:
    """Sort key of a waiting ticket: most urgent, then SLA due soonest (none last), then oldest.

    The ticket id breaks the last ties, so the order is total.
    """
    due = ticket.sla_due_at
    return (
        ticket.priority.rank,
        0 if due is not None else 1,
        due if due is not None else _NO_DUE,
        ticket.created_at,
        ticket.id,
    )


@dataclass(frozen=True)
class RelaxAfter:
    """How long a ticket of one priority waits before each step; None: never.

    The steps are independent; set ``widen`` at or after ``drop_optional`` for
    the usual order (first any agent with the required skills, then the
    fallback team).
    """

    drop_optional: timedelta | None = None
    widen: timedelta | None = None


NEVER_RELAX = RelaxAfter()


@dataclass(frozen=True)
class SkillsTimeout:
    """The skills timeout, per priority, and the team a ticket widens to."""

    urgent: RelaxAfter = NEVER_RELAX
    high: RelaxAfter = NEVER_RELAX
    normal: RelaxAfter = NEVER_RELAX
    low: RelaxAfter = NEVER_RELAX
    fallback_team: str | None = None

    def for_priority(self, priority: Priority) -> RelaxAfter:
        return {
            Priority.URGENT: self.urgent,
            Priority.HIGH: self.high,
            Priority.NORMAL: self.normal,
            Priority.LOW: self.low,
        }[priority]


def relax_requirements(
    ticket: TicketFacts, waited: timedelta, timeouts: SkillsTimeout
) -> tuple[TicketFacts, tuple[str, ...]]:
    """The ticket's facts relaxed for having waited ``waited``, and what changed.

    Idempotent: relaxing relaxed facts again changes nothing and says nothing.
    Reasons read "waited 15 min: optional skills dropped", "waited 40 min:
    widened to team tier2"; a step with nothing to change (no optional skills,
    no fallback team, already widened) gives no reason.
    """
    after = timeouts.for_priority(ticket.priority)
    minutes = int(waited.total_seconds() // 60)
    relaxed = ticket
    reasons: list[str] = []
    if _due(after.drop_optional, waited) and ticket.optional_skills:
        relaxed = replace(relaxed, optional_skills=EMPTY)
        reasons.append(f"waited {minutes} min: optional skills dropped")
    fallback = timeouts.fallback_team
    if _due(after.widen, waited) and fallback and fallback not in ticket.teams:
        relaxed = replace(relaxed, widened_to=(*ticket.widened_to, fallback))
        reasons.append(f"waited {minutes} min: widened to team {fallback}")
    return relaxed, tuple(reasons)


def _due(after: timedelta | None, waited: timedelta) -> bool:
    return after is not None and waited >= after
