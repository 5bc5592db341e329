"""SLA simulation: due times under two configurations, the clocks replayed through
pending periods and reopenings, and the targets that flip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from router.business_calendar import always_open, weekdays
from router.rule_facts import MessageFacts
from router.rule_simulation import Arrival
from router.sla_policy import PolicyCondition, SlaPolicy
from router.sla_replay import clock_events, replay_clocks
from router.sla_simulation import (
    ClockOutcome,
    Dues,
    Move,
    Outcomes,
    SlaSetup,
    SlaTally,
    Verdict,
    clock_plan,
    due_times,
    move,
)
from router.vocabulary import Channel, Priority, Status

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


def arrival(
    number: int = 1,
    responded: timedelta | None = None,
    *moves: tuple[timedelta, Status, Status],
) -> Arrival:
    """A ticket that arrived at MONDAY_9, answered and moved after the times given."""
    return Arrival(
        number=number,
        facts=MessageFacts(channel=Channel.EMAIL),
        arrived_at=MONDAY_9,
        responded_at=None if responded is None else MONDAY_9 + responded,
        moves=tuple((MONDAY_9 + at, before, after) for at, before, after in moves),
    )


def replay(s: SlaSetup, a: Arrival, as_of: datetime = MONDAY_9 + timedelta(days=30)) -> Outcomes:
    plan = clock_plan(
        s,
        priority=Priority.NORMAL,
        category="general",
        team="support",
        tier=None,
        channel=Channel.EMAIL,
    )
    assert a.arrived_at is not None
    return replay_clocks(plan, a.arrived_at, clock_events(a), as_of)


H = timedelta(hours=1)


def test_a_clock_that_never_waits_is_due_as_it_started_and_judged_by_the_real_times() -> None:
    answered = replay(setup("4h"), arrival(1, 4 * H, (5 * H, Status.OPEN, Status.RESOLVED)))
    assert answered.first_response == ClockOutcome(MONDAY_9 + 4 * H, Verdict.MET)  # at the due
    assert answered.resolution == ClockOutcome(MONDAY_9 + 8 * H, Verdict.MET)
    late = replay(setup("1h"), arrival(2, 2 * H))
    assert late.first_response == ClockOutcome(MONDAY_9 + H, Verdict.BREACHED)
    assert late.resolution.verdict is Verdict.BREACHED  # never resolved, due long ago
    running = replay(setup("4h"), arrival(3), as_of=MONDAY_9 + 2 * H)
    assert running.first_response == ClockOutcome(MONDAY_9 + 4 * H, Verdict.OPEN)
    assert dues(setup("4h")).first_response == running.first_response.due  # as it started


def test_waiting_on_the_requester_pauses_the_clocks_and_moves_their_due_times() -> None:
    # pending after 1 h for 10 h: both clocks paused, then due 10 h later than planned
    waited = arrival(
        1,
        12 * H,
        (1 * H, Status.OPEN, Status.PENDING),
        (11 * H, Status.PENDING, Status.OPEN),
        (14 * H, Status.OPEN, Status.RESOLVED),
    )
    clocks = replay(setup("4h"), waited)
    assert clocks.first_response == ClockOutcome(MONDAY_9 + 14 * H, Verdict.MET)
    assert clocks.resolution == ClockOutcome(MONDAY_9 + 18 * H, Verdict.MET)
    # without the pause both would have been breached: the old replay's view
    assert dues(setup("4h")).first_response < waited.responded_at  # type: ignore[operator]
    # a clock that ran past its due time before the pause stays breached
    late = replay(setup("1h"), arrival(2, 12 * H, (2 * H, Status.OPEN, Status.PENDING)))
    assert late.first_response == ClockOutcome(MONDAY_9 + H, Verdict.BREACHED)
    # still pending at as_of, within its time: open, not breached
    waiting = replay(setup("4h"), arrival(3, None, (H, Status.NEW, Status.PENDING)))
    assert waiting.first_response == ClockOutcome(MONDAY_9 + 4 * H, Verdict.OPEN)


def test_a_reopened_ticket_resumes_its_resolution_clock_with_the_time_it_had_left() -> None:
    # resolved after 3 h (5 h left of 8), reopened a day later, resolved 6 h after that
    reopened = arrival(
        1,
        H,
        (3 * H, Status.OPEN, Status.RESOLVED),
        (27 * H, Status.RESOLVED, Status.OPEN),
        (33 * H, Status.OPEN, Status.RESOLVED),
    )
    clocks = replay(setup("4h"), reopened)
    assert clocks.first_response == ClockOutcome(MONDAY_9 + 4 * H, Verdict.MET)  # stays stopped
    assert clocks.resolution == ClockOutcome(MONDAY_9 + 32 * H, Verdict.BREACHED)
    in_time = replay(setup("4h"), reopened, as_of=MONDAY_9 + 30 * H)
    assert in_time.resolution.verdict is Verdict.BREACHED  # the history is what it is
    # resolved without a reply: the first-response clock stops with the others
    unanswered = replay(setup("4h"), arrival(2, None, (2 * H, Status.NEW, Status.RESOLVED)))
    assert unanswered.first_response == ClockOutcome(MONDAY_9 + 4 * H, Verdict.MET)


def test_a_tighter_target_turns_a_met_response_into_a_breach_and_back() -> None:
    as_of = MONDAY_9 + timedelta(days=3)
    tally = SlaTally(as_of=as_of)
    loose, tight = setup("4h"), setup("1h")
    answered = arrival(7, 2 * H, (2 * H, Status.OPEN, Status.RESOLVED))
    unanswered = arrival(9)
    tally.add(7, replay(loose, answered, as_of), replay(tight, answered, as_of))
    tally.add(8, replay(tight, answered, as_of), replay(loose, answered, as_of))
    tally.add(9, replay(loose, unanswered, as_of), replay(tight, unanswered, as_of))
    first = tally.clocks["first_response"]
    assert (first.met_to_breached, first.met_to_breached_examples) == (1, [7])
    assert (first.breached_to_met, first.breached_to_met_examples) == (1, [8])
    assert first.moves[Move.EARLIER_HOURS] == 2 and first.moves[Move.LATER_HOURS] == 1
    resolution = tally.clocks["resolution"]
    assert resolution.moves[Move.UNCHANGED] == 3
    assert resolution.current[Verdict.MET] == 2 and resolution.current[Verdict.BREACHED] == 1
