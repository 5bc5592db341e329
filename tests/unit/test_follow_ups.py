"""The follow-up rules: business days are the calendar's (weekends and holidays
skipped); remind, then resolve; close."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from router.business_calendar import BusinessCalendar, weekdays
from router.followups import (
    FollowUp,
    FollowUpDays,
    business_days_between,
    pending_follow_up,
    resolved_follow_up,
)

FRIDAY = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
DAYS = FollowUpDays(remind=3, resolve=7, close=7)


def test_business_days_skip_the_weekend_and_count_in_the_desks_zone() -> None:
    assert business_days_between(FRIDAY, FRIDAY + timedelta(days=1)) == 0  # Saturday
    assert business_days_between(FRIDAY, FRIDAY + timedelta(days=3)) == 1  # Monday
    assert business_days_between(FRIDAY, FRIDAY + timedelta(days=7)) == 5  # next Friday
    late = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # already Saturday in Shanghai
    shanghai = weekdays("Asia/Shanghai")
    assert business_days_between(late, late + timedelta(days=2), shanghai) == 1


OFFICE = {d: ((time(9), time(17)),) for d in range(5)}
CHRISTMAS = BusinessCalendar("Europe/Berlin", OFFICE, frozenset({date(2026, 12, 24)}))


def test_business_days_skip_the_calendars_holidays_and_closed_weekdays() -> None:
    # Friday 4 Dec to Thursday 31 Dec: 19 weekdays, the 24th a holiday of the calendar
    end = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    assert business_days_between(FRIDAY, end) == 19
    assert business_days_between(FRIDAY, end, CHRISTMAS) == 18
    german = BusinessCalendar.from_country("DE", timezone="Europe/Berlin", weekly=OFFICE)
    assert business_days_between(FRIDAY, end, german) == 18  # the 25th (the 26th: Saturday)
    saturdays = BusinessCalendar("UTC", {5: ((time(10), time(14)),)})
    assert business_days_between(FRIDAY, FRIDAY + timedelta(days=14), saturdays) == 2


def test_a_holiday_delays_the_reminder_the_resolution_and_the_close() -> None:
    monday = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)
    thursday = monday + timedelta(days=3)  # 22, 23, 24: three weekdays, one a holiday
    assert pending_follow_up(monday, None, thursday, DAYS) is FollowUp.REMIND
    assert pending_follow_up(monday, None, thursday, DAYS, CHRISTMAS) is None
    assert pending_follow_up(monday, None, thursday + timedelta(days=1), DAYS, CHRISTMAS) is (
        FollowUp.REMIND
    )
    assert resolved_follow_up(monday, monday + timedelta(days=9), DAYS) is FollowUp.CLOSE
    assert resolved_follow_up(monday, monday + timedelta(days=9), DAYS, CHRISTMAS) is None
    assert resolved_follow_up(monday, monday + timedelta(days=10), DAYS, CHRISTMAS) is (
        FollowUp.CLOSE
    )


def test_a_pending_ticket_is_reminded_once_then_resolved() -> None:
    assert pending_follow_up(FRIDAY, None, FRIDAY + timedelta(days=4), DAYS) is None  # Tue: 2
    wednesday = FRIDAY + timedelta(days=5)
    assert pending_follow_up(FRIDAY, None, wednesday, DAYS) is FollowUp.REMIND
    assert pending_follow_up(FRIDAY, wednesday, wednesday, DAYS) is None
    assert pending_follow_up(FRIDAY, wednesday, FRIDAY + timedelta(days=11), DAYS) is (
        FollowUp.RESOLVE
    )
    never = FollowUpDays(remind=0, resolve=0, close=0)
    assert pending_follow_up(FRIDAY, None, FRIDAY + timedelta(days=60), never) is None


def test_a_resolved_ticket_is_closed_after_its_business_days() -> None:
    assert resolved_follow_up(FRIDAY, FRIDAY + timedelta(days=8), DAYS) is None  # Sat: 6
    assert resolved_follow_up(FRIDAY, FRIDAY + timedelta(days=11), DAYS) is FollowUp.CLOSE
