from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.business_calendar import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    is_open,
)
from router.sla_clock import (
    SlaEvent,
    SlaTargets,
    TicketClocks,
    apply,
    deadlines,
    pause,
    remaining,
    resume,
    start_timer,
    stop,
)
from tests.unit.test_calendar import GERMANY, TICK, H, berlin, calendars, starts

MONDAY_9 = berlin(2025, 3, 10, 9)
TARGETS = SlaTargets(first_response=4 * H, next_response=8 * H, resolution=20 * H)


# --- timers --------------------------------------------------------------------------------


def test_a_new_timer_runs_and_warns_at_three_quarters_of_its_target() -> None:
    timer = start_timer("resolution", 8 * H, MONDAY_9)
    assert timer.is_running and not timer.is_stopped
    # 9-12 and 13-17 give 7 h on Monday: warned at 16:00 (6 h), due Tuesday 10:00.
    assert deadlines(timer, GERMANY) == (berlin(2025, 3, 10, 16), berlin(2025, 3, 11, 10))


def test_the_warning_share_is_configurable() -> None:
    timer = start_timer("first_response", 4 * H, MONDAY_9, warn_share=0.5)
    assert deadlines(timer, GERMANY)[0] == berlin(2025, 3, 10, 11)


def test_a_paused_timer_resumes_with_the_time_that_was_left() -> None:
    timer = start_timer("resolution", 8 * H, MONDAY_9)
    paused = pause(timer, GERMANY, berlin(2025, 3, 10, 11))
    assert paused.consumed == 2 * H
    assert deadlines(paused, GERMANY) == (None, None)
    assert remaining(paused, GERMANY, berlin(2025, 3, 20)) == 6 * H  # nothing counts meanwhile
    resumed = resume(paused, berlin(2025, 3, 12, 10))
    # 6 h left from Wednesday 10:00: 10-12 and 13-17. The warning (at 6 h used) is at 15:00.
    assert deadlines(resumed, GERMANY) == (berlin(2025, 3, 12, 15), berlin(2025, 3, 12, 17))


def test_time_outside_business_hours_is_not_consumed_by_a_pause() -> None:
    timer = start_timer("resolution", 8 * H, berlin(2025, 3, 7, 16))  # Friday 16:00
    assert pause(timer, GERMANY, berlin(2025, 3, 9, 20)).consumed == H  # Sunday evening


def test_the_warning_is_gone_once_its_share_was_used() -> None:
    timer = pause(start_timer("resolution", 8 * H, MONDAY_9), GERMANY, berlin(2025, 3, 10, 16))
    assert timer.consumed == 6 * H
    warn_at, due_at = deadlines(resume(timer, berlin(2025, 3, 11, 9)), GERMANY)
    assert warn_at is None
    assert due_at == berlin(2025, 3, 11, 11)


def test_remaining_turns_negative_once_the_target_is_missed() -> None:
    timer = start_timer("first_response", 4 * H, MONDAY_9)
    assert remaining(timer, GERMANY, berlin(2025, 3, 10, 14)) == timedelta(0)  # 9-12, 13-14
    assert remaining(timer, GERMANY, berlin(2025, 3, 10, 15)) == -H


def test_a_timer_resumed_with_nothing_left_is_due_at_once() -> None:
    timer = pause(start_timer("first_response", H, MONDAY_9), GERMANY, berlin(2025, 3, 10, 11))
    assert deadlines(resume(timer, berlin(2025, 3, 10, 14)), GERMANY) == (
        None,
        berlin(2025, 3, 10, 14),
    )
    assert deadlines(resume(timer, berlin(2025, 3, 10, 20)), GERMANY)[1] == berlin(2025, 3, 11, 9)


def test_a_stopped_timer_records_what_it_used_and_cannot_be_resumed() -> None:
    timer = stop(start_timer("first_response", 4 * H, MONDAY_9), GERMANY, berlin(2025, 3, 10, 14))
    assert timer.is_stopped and not timer.is_running
    assert timer.consumed == 4 * H  # met, just: 9-12 and 13-14
    assert resume(timer, berlin(2025, 3, 11, 9)) == timer
    assert stop(timer, GERMANY, berlin(2025, 3, 12, 9)) == timer
    assert deadlines(timer, GERMANY) == (None, None)


def test_invalid_targets_and_shares_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        start_timer("resolution", -H, MONDAY_9)
    with pytest.raises(ValueError, match="warn_share"):
        start_timer("resolution", H, MONDAY_9, warn_share=1.5)


# --- the reducer -----------------------------------------------------------------------------


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return berlin(2025, 3, day, hour, minute)


def step(clocks: TicketClocks, event: SlaEvent, now: datetime) -> TicketClocks:
    return apply(clocks, event, TARGETS, GERMANY, now)


def test_a_conversation_drives_the_clocks() -> None:
    clocks = step(TicketClocks(), SlaEvent.CUSTOMER_MESSAGE, at(9))
    assert clocks.first_response is not None and clocks.first_response.is_running
    assert clocks.resolution is not None and clocks.resolution.is_running
    assert clocks.next_response is None

    assert step(clocks, SlaEvent.INTERNAL_NOTE, at(9, 30)) == clocks

    clocks = step(clocks, SlaEvent.AGENT_REPLY, at(10))
    assert clocks.first_response is not None and clocks.first_response.consumed == H
    assert clocks.first_response.is_stopped

    clocks = step(clocks, SlaEvent.CUSTOMER_MESSAGE, at(11))
    first_wait = clocks.next_response
    assert first_wait is not None and first_wait.started_at == at(11)
    # A second message before the answer keeps the clock that is already running.
    assert step(clocks, SlaEvent.CUSTOMER_MESSAGE, at(11, 30)).next_response == first_wait

    clocks = step(clocks, SlaEvent.AGENT_REPLY, at(14))
    assert clocks.next_response is not None and clocks.next_response.consumed == 2 * H
    assert clocks.next_response.is_stopped


def test_pending_pauses_every_clock_and_open_resumes_them() -> None:
    clocks = step(TicketClocks(), SlaEvent.CUSTOMER_MESSAGE, at(9))
    clocks = step(clocks, SlaEvent.PENDING, at(10))
    assert clocks.paused
    assert all(not t.is_running and t.consumed == H for t in clocks.timers())
    # A message that arrives while pending starts its clock paused.
    clocks = step(step(clocks, SlaEvent.AGENT_REPLY, at(10)), SlaEvent.CUSTOMER_MESSAGE, at(11))
    assert clocks.next_response is not None and not clocks.next_response.is_running

    clocks = step(clocks, SlaEvent.OPEN, at(9, day=12))
    assert not clocks.paused
    assert clocks.resolution is not None
    assert deadlines(clocks.resolution, GERMANY)[1] == add_business_time(
        GERMANY, at(9, day=12), 19 * H
    )
    assert clocks.next_response is not None and clocks.next_response.is_running


def test_resolving_stops_every_clock_and_reopening_continues_the_resolution_clock() -> None:
    clocks = step(TicketClocks(), SlaEvent.CUSTOMER_MESSAGE, at(9))
    clocks = step(clocks, SlaEvent.RESOLVED, at(12))
    assert all(t.is_stopped for t in clocks.timers())
    assert clocks.resolution is not None and clocks.resolution.consumed == 3 * H

    clocks = step(clocks, SlaEvent.REOPENED, at(9, day=17))
    assert clocks.resolution is not None and clocks.resolution.is_running
    assert remaining(clocks.resolution, GERMANY, at(9, day=17)) == 17 * H
    assert clocks.first_response is not None and clocks.first_response.is_stopped
    # The customer's new message is waiting for an answer.
    clocks = step(clocks, SlaEvent.CUSTOMER_MESSAGE, at(9, day=17))
    assert clocks.next_response is not None and clocks.next_response.is_running


def test_reopening_a_ticket_that_was_not_resolved_changes_nothing() -> None:
    clocks = step(TicketClocks(), SlaEvent.CUSTOMER_MESSAGE, at(9))
    assert step(clocks, SlaEvent.REOPENED, at(10)) == clocks


# --- properties --------------------------------------------------------------------------------

run_lengths = st.integers(0, 120 * 3600).map(lambda s: timedelta(seconds=s))
targets = st.integers(0, 200 * 3600).map(lambda s: timedelta(seconds=s))
shares = st.sampled_from([0.0, 0.5, 0.75, 0.9, 1.0])
FAST = settings(max_examples=120, deadline=None)


@FAST
@given(calendars(), starts, targets, run_lengths, run_lengths, run_lengths)
def test_pausing_and_resuming_conserves_the_remaining_time(
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta,
    run: timedelta,
    pause_length: timedelta,
    later: timedelta,
) -> None:
    timer = start_timer("resolution", target, start)
    paused_at = start + run
    left = remaining(timer, calendar, paused_at)
    paused = pause(timer, calendar, paused_at)
    resumed_at = paused_at + pause_length
    assert remaining(paused, calendar, resumed_at) == left
    resumed = resume(paused, resumed_at)
    assert remaining(resumed, calendar, resumed_at) == left
    # Afterwards only business time while running counts.
    now = resumed_at + later
    assert remaining(resumed, calendar, now) == left - business_time_between(
        calendar, resumed_at, now
    )


@FAST
@given(calendars(), starts, targets, run_lengths, shares)
def test_deadlines_are_ordered_in_business_hours_and_exactly_the_time_left_away(
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta,
    run: timedelta,
    share: float,
) -> None:
    timer = pause(start_timer("next_response", target, start, share), calendar, start + run)
    resumed = resume(timer, start + run)
    warn_at, due_at = deadlines(resumed, calendar)
    assert due_at is not None
    left = max(target - timer.consumed, timedelta(0))
    assert business_time_between(calendar, start + run, due_at) == left
    assert is_open(calendar, due_at) or (left > timedelta(0) and is_open(calendar, due_at - TICK))
    if warn_at is not None:
        assert start + run <= warn_at <= due_at
        assert timer.consumed + business_time_between(calendar, start + run, warn_at) == (
            target * share
        )


@FAST
@given(calendars(), starts, targets, run_lengths)
def test_a_stopped_timer_used_exactly_what_it_no_longer_has_left(
    calendar: BusinessCalendar, start: datetime, target: timedelta, run: timedelta
) -> None:
    timer = start_timer("first_response", target, start)
    left = remaining(timer, calendar, start + run)
    stopped = stop(timer, calendar, start + run)
    assert stopped.consumed == target - left
    assert remaining(stopped, calendar, start + run + run) == left
    assert stopped.stopped_at == (start + run).astimezone(UTC)
