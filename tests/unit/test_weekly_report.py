"""When a team's weekly report is due and which week it covers (router.weekly_report)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from router.weekly_report import due_week


def test_the_week_before_the_local_hour_is_due_for_a_day() -> None:
    # Friday 17:00 in Shanghai is 09:00 UTC
    plan = {"weekday": 4, "hour": 17, "timezone": "Asia/Shanghai"}
    assert due_week(datetime(2026, 12, 4, 8, 59, tzinfo=UTC), **plan) is None  # type: ignore[arg-type]
    week = due_week(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), **plan)  # type: ignore[arg-type]
    assert week is not None
    assert (week.due_on, week.first, week.last) == (
        date(2026, 12, 4),
        date(2026, 11, 27),
        date(2026, 12, 3),
    )
    later = due_week(datetime(2026, 12, 5, 8, 59, tzinfo=UTC), **plan)  # type: ignore[arg-type]
    assert later == week
    assert due_week(datetime(2026, 12, 5, 9, 0, tzinfo=UTC), **plan) is None  # type: ignore[arg-type]
    assert due_week(datetime(2026, 12, 11, 9, 0, tzinfo=UTC), **plan).due_on == date(2026, 12, 11)  # type: ignore[arg-type, union-attr]
