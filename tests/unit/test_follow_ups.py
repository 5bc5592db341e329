"""The follow-up rules: business days skip weekends; remind, then resolve; close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    assert business_days_between(late, late + timedelta(days=2), "Asia/Shanghai") == 1


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


def test_a_resolved_ticket_is_closed_after_its_days() -> None:
    assert resolved_follow_up(FRIDAY, FRIDAY + timedelta(days=6, hours=23), DAYS) is None
    assert resolved_follow_up(FRIDAY, FRIDAY + timedelta(days=7), DAYS) is FollowUp.CLOSE
