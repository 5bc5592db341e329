"""Pending and resolved tickets move on by themselves: the rules, as pure functions.

A pending ticket (the desk waits for its requester) reminds the requester after
``remind`` business days and is resolved after ``resolve`` business days without
an answer; a resolved ticket is closed after ``close`` days (a reply after that
opens a follow-up ticket, as always). Business days are Monday to Friday in the
desk's time zone, counted from the day after the ticket started waiting. 0: never.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class FollowUp(StrEnum):
    REMIND = "remind"
    RESOLVE = "resolve"
    CLOSE = "close"


@dataclass(frozen=True)
class FollowUpDays:
    remind: int = 3  # business days pending before the requester is reminded
    resolve: int = 7  # business days pending before it is resolved without an answer
    close: int = 7  # days resolved before it is closed


def business_days_between(start: datetime, end: datetime, zone: str = "UTC") -> int:
    """Weekdays after ``start``'s local date up to ``end``'s local date, both in ``zone``."""
    tz = ZoneInfo(zone)
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    days = 0
    day = first + timedelta(days=1)
    while day <= last:
        days += day.weekday() < 5
        day += timedelta(days=1)
    return days


def pending_follow_up(
    pending_since: datetime,
    reminded_at: datetime | None,
    now: datetime,
    days: FollowUpDays,
    zone: str = "UTC",
) -> FollowUp | None:
    """What a pending ticket waiting since ``pending_since`` is due for now, if anything."""
    waited = business_days_between(pending_since, now, zone)
    if days.resolve and waited >= days.resolve:
        return FollowUp.RESOLVE
    if days.remind and waited >= days.remind and reminded_at is None:
        return FollowUp.REMIND
    return None


def resolved_follow_up(resolved_at: datetime, now: datetime, days: FollowUpDays) -> FollowUp | None:
    if days.close and now - resolved_at >= timedelta(days=days.close):
        return FollowUp.CLOSE
    return None
