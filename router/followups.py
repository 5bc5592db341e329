"""Pending and resolved tickets move on by themselves: the rules, as pure functions.

A pending ticket (the desk waits for its requester) reminds the requester after
``remind`` business days and is resolved after ``resolve`` business days without
an answer; a resolved ticket is closed after ``close`` business days (a reply after
that opens a follow-up ticket, as always). Business days are the days of the team's
business calendar (``router.business_calendar``: its opening days, less its
holidays, in its zone), counted from the day after the ticket started waiting;
a desk without a calendar counts Monday to Friday (``weekdays``). 0: never.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from router.business_calendar import BusinessCalendar, weekdays


class FollowUp(StrEnum):
    REMIND = "remind"
    RESOLVE = "resolve"
    CLOSE = "close"


@dataclass(frozen=True)
class FollowUpDays:
    remind: int = 3  # business days pending before the requester is reminded
    resolve: int = 7  # business days pending before it is resolved without an answer
    close: int = 7  # business days resolved before it is closed


_MONDAY_TO_FRIDAY = weekdays("UTC")


def business_days_between(
    start: datetime,
    end: datetime,
    calendar: BusinessCalendar = _MONDAY_TO_FRIDAY,
    *,
    enough: int | None = None,
) -> int:
    """Business days of ``calendar`` after ``start``'s local date up to ``end``'s (the
    count stops at ``enough``, when given: a ticket waiting for years costs no more)."""
    first, last = calendar.local_date(start), calendar.local_date(end)
    days = 0
    day = first + timedelta(days=1)
    while day <= last and (enough is None or days < enough):
        days += calendar.is_business_day(day)
        day += timedelta(days=1)
    return days


def pending_follow_up(
    pending_since: datetime,
    reminded_at: datetime | None,
    now: datetime,
    days: FollowUpDays,
    calendar: BusinessCalendar = _MONDAY_TO_FRIDAY,
) -> FollowUp | None:
    """What a pending ticket waiting since ``pending_since`` is due for now, if anything."""
    waited = business_days_between(
        pending_since, now, calendar, enough=max(days.remind, days.resolve)
    )
    if days.resolve and waited >= days.resolve:
        return FollowUp.RESOLVE
    if days.remind and waited >= days.remind and reminded_at is None:
        return FollowUp.REMIND
    return None


def resolved_follow_up(
    resolved_at: datetime,
    now: datetime,
    days: FollowUpDays,
    calendar: BusinessCalendar = _MONDAY_TO_FRIDAY,
) -> FollowUp | None:
    """Whether a ticket resolved at ``resolved_at`` is due to close now."""
    if not days.close:
        return None
    waited = business_days_between(resolved_at, now, calendar, enough=days.close)
    return FollowUp.CLOSE if waited >= days.close else None
