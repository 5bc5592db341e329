"""The report's pure definitions: periods, duration bins and percentiles, the figures."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.report_facts import DayCount, clock_state
from router.report_figures import (
    AGE_BUCKETS,
    BacklogRow,
    LoadDay,
    age_bucket,
    backlog,
    load_over_time,
    top_ten,
    volume,
)
from router.report_period import Period, day_start, period_named
from router.report_stats import BIN_ERROR, BIN_RATIO, Durations, bin_of, percentile, summarise

NOW = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # the day Europe/Berlin moves to summer time


def test_today_and_seven_days_are_whole_local_days_ending_today() -> None:
    assert period_named("today", now=NOW) == Period(date(2026, 3, 29), date(2026, 3, 29))
    week = period_named("7d", now=NOW, timezone="Europe/Berlin")
    assert (week.first, week.last, week.days) == (date(2026, 3, 23), date(2026, 3, 29), 7)
    assert week.previous() == Period(date(2026, 3, 16), date(2026, 3, 22), "Europe/Berlin")


def test_a_day_with_a_clock_change_lasts_what_the_wall_clock_says() -> None:
    day = Period(date(2026, 3, 29), date(2026, 3, 29), "Europe/Berlin")
    assert day.end - day.start == timedelta(hours=23)
    assert day.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert day_start(date(2026, 1, 1), "Asia/Kolkata") == datetime(2025, 12, 31, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize("spec", ["", "0d", "week", "7", "-3d"])
def test_a_period_that_is_not_today_or_days_is_refused_with_the_reason(spec: str) -> None:
    with pytest.raises(ValueError, match="a period is 'today' or a number of days"):
        period_named(spec, now=NOW)


def test_a_long_period_is_counted_in_weeks_starting_on_monday() -> None:
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31))  # a Thursday to a Tuesday
    assert quarter.weekly
    assert quarter.buckets()[:3] == [date(2026, 1, 1), date(2026, 1, 5), date(2026, 1, 12)]
    assert quarter.bucket_of(date(2026, 1, 4)) == date(2026, 1, 1)  # cut by the period


def test_a_period_reads_whole_months_and_the_days_around_them() -> None:
    year = Period(date(2025, 12, 2), date(2026, 12, 1))
    assert year.whole_months() == (
        (date(2026, 1, 1), date(2026, 11, 1)),
        [(date(2025, 12, 2), date(2025, 12, 31)), (date(2026, 12, 1), date(2026, 12, 1))],
    )
    assert Period(date(2026, 2, 1), date(2026, 2, 28)).whole_months() == (
        (date(2026, 2, 1), date(2026, 2, 1)),
        [],
    )
    assert Period(date(2026, 2, 2), date(2026, 3, 30)).whole_months() == (
        None,
        [(date(2026, 2, 2), date(2026, 3, 30))],
    )


def test_a_period_reads_whole_weeks_in_the_days_its_months_leave() -> None:
    year = Period(date(2025, 12, 2), date(2026, 12, 1))
    assert year.rollup_spans() == [
        ("quarter", date(2026, 1, 1), date(2026, 7, 1)),  # January to September
        ("month", date(2026, 10, 1), date(2026, 11, 1)),
        ("week", date(2025, 12, 8), date(2025, 12, 22)),  # Mondays: the 8th to the 28th
        ("day", date(2025, 12, 2), date(2025, 12, 7)),
        ("day", date(2025, 12, 29), date(2025, 12, 31)),
        ("day", date(2026, 12, 1), date(2026, 12, 1)),
    ]
    assert Period(date(2026, 11, 23), date(2026, 11, 28)).rollup_spans() == [
        ("day", date(2026, 11, 23), date(2026, 11, 28))  # no whole week
    ]
    assert Period(date(2026, 2, 1), date(2027, 5, 31)).rollup_spans() == [
        ("quarter", date(2026, 4, 1), date(2027, 1, 1)),
        ("month", date(2026, 2, 1), date(2026, 3, 1)),
        ("month", date(2027, 4, 1), date(2027, 5, 1)),
    ]
    assert Period(date(2026, 2, 1), date(2026, 4, 30)).rollup_spans() == [
        ("month", date(2026, 2, 1), date(2026, 4, 1))  # no whole quarter
    ]


@settings(deadline=None)  # a busy machine's pause is no failure of the spans
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)), st.integers(0, 800))
def test_the_rollup_spans_cover_the_period_once(first: date, length: int) -> None:
    period = Period(first, first + timedelta(days=length))
    days = []
    for span, a, b in period.rollup_spans():
        if span == "day":
            days += Period(a, b).each_day()
        elif span == "week":
            assert a.weekday() == 0 and b.weekday() == 0
            days += Period(a, b + timedelta(days=6)).each_day()
        elif span == "month":
            last = (b + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            assert a.day == 1 and b.day == 1
            days += Period(a, last).each_day()
        else:
            assert span == "quarter" and a.day == 1 and b.day == 1
            assert a.month % 3 == 1 and b.month % 3 == 1
            last = (b + timedelta(days=95)).replace(day=1) - timedelta(days=1)
            days += Period(a, last).each_day()
    assert sorted(days) == period.each_day()


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)), st.integers(0, 800))
def test_whole_months_and_days_cover_the_period_once(first: date, length: int) -> None:
    period = Period(first, first + timedelta(days=length))
    months, runs = period.whole_months()
    days = [d for a, b in runs for d in Period(a, b).each_day()]
    if months is not None:
        month = months[0]
        while month <= months[1]:
            days += [
                d
                for d in Period(month, month + timedelta(days=31)).each_day()
                if d.month == month.month
            ]
            month = (month + timedelta(days=32)).replace(day=1)
    assert sorted(days) == period.each_day()


@settings(suppress_health_check=[HealthCheck.too_slow])  # a busy machine draws slowly
@given(st.lists(st.floats(min_value=0, max_value=10**8, allow_nan=False), min_size=1))
def test_a_percentile_is_off_by_less_than_a_bin(seconds: list[float]) -> None:
    ordered = sorted(seconds)
    for p in (50, 90):
        exact = ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]
        found = percentile(Durations.of(seconds), p)
        assert found is not None
        assert abs(found - exact) <= max(exact * BIN_ERROR, 1.0) + 1e-6


def test_the_bins_widen_with_the_duration() -> None:
    assert [bin_of(s) for s in (0, 0.99, 1, 2, 4, 3600, 86400 * 365)] == [
        0,
        0,
        1,
        17,  # 16 bins a doubling
        33,
        190,
        399,
    ]
    assert bin_of(3600 * BIN_RATIO**2) == bin_of(3600) + 2
    assert 0.04 < BIN_ERROR < 0.045


def test_median_and_ninetieth_percentile_are_nearest_ranks() -> None:
    values = Durations.of([60, 120, 180, 240, 300, 360, 420, 480, 540, 3000])
    summary = summarise(values)
    assert (summary.count, summary.mean_s) == (10, 570)
    assert (summary.median_s, summary.p90_s) == (300, 540)  # the 5th and the 9th
    assert percentile(Durations.of([10, 20]), 50) == 10  # of an even count, the lower
    assert summarise(Durations()).median_s is None


def test_durations_add_up_as_one_set() -> None:
    assert Durations.of([1, 2]) + Durations.of([2, 700]) == Durations.of([1, 2, 2, 700])


def test_a_clock_is_met_breached_or_running() -> None:
    assert clock_state(target_s=60, consumed_s=60, stopped=True, breached=False) == "met"
    assert clock_state(target_s=60, consumed_s=61, stopped=True, breached=False) == "breached"
    assert clock_state(target_s=60, consumed_s=0, stopped=False, breached=True) == "breached"
    assert clock_state(target_s=60, consumed_s=90, stopped=False, breached=False) == "running"


def test_volume_puts_each_day_in_its_bucket_beside_the_previous_period() -> None:
    period = Period(date(2026, 3, 2), date(2026, 3, 3))
    rows = [
        DayCount(date(2026, 3, 2), "email", "billing", 2, 1),
        DayCount(date(2026, 3, 3), "web", "general", 1, 0),
    ]
    before = [DayCount(date(2026, 2, 28), "email", "billing", 5, 5)]
    figure = volume(period, rows, before)
    assert [(b.start, b.created, b.resolved) for b in figure.buckets] == [
        (date(2026, 3, 2), 2, 1),
        (date(2026, 3, 3), 1, 0),
    ]
    assert figure.buckets[0].created_by_channel == {"email": 2}
    assert [(c.name, c.created, c.previous_created) for c in figure.by_channel] == [
        ("email", 2, 5),
        ("web", 1, 0),
    ]
    empty = volume(period, [], [])
    assert (empty.total.created, empty.by_category) == (0, ())


def test_the_backlog_tells_the_queue_the_agents_and_the_customers_apart() -> None:
    figure = backlog(
        [
            BacklogRow("new", "high", False, 0, 2),
            BacklogRow("open", "normal", True, 4, 1),
            BacklogRow("pending", "urgent", True, 1, 3),
        ]
    )
    assert (figure.waiting_in_queue, figure.waiting_for_agent, figure.waiting_on_customer) == (
        2,
        1,
        3,
    )
    assert list(figure.by_priority) == ["urgent", "high", "normal"]
    assert list(figure.by_age) == [label for label, _ in AGE_BUCKETS]
    assert age_bucket(NOW - timedelta(days=30), NOW) == 4


def test_top_ten_keeps_the_ten_largest_then_by_name() -> None:
    counts = {f"c{n:02d}": n % 4 for n in range(20)}
    ranked = top_ten(counts)
    assert len(ranked) == 10 and ranked[0] == ("c03", 3)
    assert top_ten({}) == () and top_ten({"x": 0}) == ()


def test_load_against_capacity_is_summed_per_bucket() -> None:
    week = Period(date(2026, 3, 23), date(2026, 3, 25))
    points = load_over_time(
        week,
        [
            LoadDay(date(2026, 3, 23), load_sum=2, capacity_sum=10, peak=1),
            LoadDay(date(2026, 3, 23), load_sum=6, capacity_sum=10, peak=4),
            LoadDay(date(2026, 3, 25), load_sum=5, capacity_sum=5, peak=2),
        ],
    )
    assert [(p.start.day, p.load_share, p.peak) for p in points] == [
        (23, 0.4, 4),
        (24, None, None),  # no samples
        (25, 1.0, 2),
    ]
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31))
    weekly = load_over_time(
        quarter, [LoadDay(date(2026, 1, 6), 1, 4, 1), LoadDay(date(2026, 1, 9), 3, 4, 2)]
    )
    assert [(p.load_share, p.peak) for p in weekly if p.start == date(2026, 1, 5)] == [(0.5, 2)]
