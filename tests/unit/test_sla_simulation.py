"""SLA simulation: due times under two configurations and the targets that flip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from router.business_calendar import always_open, weekdays
from router.sla_policy import PolicyCondition, SlaPolicy
from router.sla_simulation import (
    Dues,
    Move,
    SlaSetup,
    SlaTally,
    Verdict,
    due_times,
    move,
    verdict,
)
from router.vocabulary import Channel, Priority

MONDAY_9 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
CALENDARS = {"24x7": always_open(), "office": weekdays("UTC")}


def setup(first: str, *, calendar: str = "24x7") -> SlaSetup:
    hours = {"1h": timedelta(hours=1), "4h": timedelta(hours=4)}[first]
    policy = SlaPolicy("standard", first_response=hours, resolution=timedelta(hours=8))
    return SlaSetup((policy,), CALENDARS, default_calendar=calendar)


def dues(s: SlaSetup, at: datetime = MONDAY_9, priority: Priority = Priority.NORMAL) -> Dues:
    return due_times(
        s,
        priority=priority,
        category="general",
        team="support",
        tier=None,
        channel=Channel.EMAIL,
        arrived_at=at,
    )


def test_due_times_follow_the_policy_and_calendar_as_the_clocks_start() -> None:
    assert dues(setup("4h")).first_response == MONDAY_9 + timedelta(hours=4)
    friday_10pm = datetime(2026, 3, 6, 22, tzinfo=UTC)
    office = dues(setup("4h", calendar="office"), friday_10pm)
    assert office.first_response == datetime(2026, 3, 9, 2, tzinfo=UTC)  # closed at weekends


def test_no_matching_policy_tracks_nothing() -> None:
    urgent_only = SlaPolicy(
        "urgent",
        first_response=timedelta(minutes=30),
        when=PolicyCondition(priority=(Priority.URGENT,)),
    )
    s = SlaSetup((urgent_only,), CALENDARS)
    assert dues(s).first_response is None and dues(s).policy is None
    assert dues(s, priority=Priority.URGENT).first_response == MONDAY_9 + timedelta(minutes=30)


def test_moves_are_bucketed_by_direction_and_size() -> None:
    at = MONDAY_9
    assert move(at, at) is Move.UNCHANGED
    assert move(at, at - timedelta(hours=3)) is Move.EARLIER_HOURS
    assert move(at, at + timedelta(minutes=5)) is Move.LATER_MINUTES
    assert move(at, at + timedelta(days=2)) is Move.LATER_DAYS
    assert move(None, at) is Move.NEWLY_TRACKED
    assert move(at, None) is Move.NO_LONGER_TRACKED
    assert move(None, None) is None


def test_verdicts_compare_the_real_time_with_the_due_time() -> None:
    due = MONDAY_9 + timedelta(hours=1)
    later = MONDAY_9 + timedelta(days=1)
    assert verdict(due, due, later) is Verdict.MET
    assert verdict(due, due + timedelta(seconds=1), later) is Verdict.BREACHED
    assert verdict(due, None, later) is Verdict.BREACHED
    assert verdict(due, None, MONDAY_9) is Verdict.OPEN
    assert verdict(None, due, later) is Verdict.UNTRACKED


def test_a_tighter_target_turns_a_met_response_into_a_breach_and_back() -> None:
    as_of = MONDAY_9 + timedelta(days=3)
    tally = SlaTally(as_of=as_of)
    loose, tight = dues(setup("4h")), dues(setup("1h"))
    two_hours = MONDAY_9 + timedelta(hours=2)
    tally.add(7, loose, tight, responded_at=two_hours, resolved_at=two_hours)
    tally.add(8, tight, loose, responded_at=two_hours, resolved_at=two_hours)
    tally.add(9, loose, tight, responded_at=MONDAY_9, resolved_at=None)
    first = tally.clocks["first_response"]
    assert (first.met_to_breached, first.met_to_breached_examples) == (1, [7])
    assert (first.breached_to_met, first.breached_to_met_examples) == (1, [8])
    assert first.moves[Move.EARLIER_HOURS] == 2 and first.moves[Move.LATER_HOURS] == 1
    resolution = tally.clocks["resolution"]
    assert resolution.moves[Move.UNCHANGED] == 3
    assert resolution.current[Verdict.MET] == 2 and resolution.current[Verdict.BREACHED] == 1
