"""The demo desk's planned history: deterministic, in time order, in office hours, in the
languages and channels asked for."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from router.demo_corpus import TOPICS
from router.demo_history import Step, plan_history
from router.vocabulary import Channel

END = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)


def plan(**kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "seed": 7,
        "tickets": 400,
        "days": 30,
        "languages": ("en", "zh"),
        "end": END,
        "zone": "Europe/Berlin",
    }
    args.update(kw)
    return plan_history(**args)  # type: ignore[arg-type]


def test_the_same_seed_plans_the_same_history_and_another_seed_another() -> None:
    assert plan() == plan()
    assert plan(seed=8).events != plan().events


def test_events_are_in_time_order_inside_the_period_and_each_request_starts_by_arriving() -> None:
    history = plan()
    times = [e.at for e in history.events]
    assert times == sorted(times)
    assert END - timedelta(days=30) <= times[0] and times[-1] <= END
    first_step: dict[int, Step] = {}
    for event in history.events:
        first_step.setdefault(event.request, event.step)
    assert set(first_step) == set(range(400))
    assert set(first_step.values()) == {Step.ARRIVE}


def test_requests_arrive_in_office_hours_on_weekdays_with_a_few_at_weekends() -> None:
    zone = ZoneInfo("Europe/Berlin")
    arrivals = [e.at.astimezone(zone) for e in plan().events if e.step is Step.ARRIVE]
    assert all(8 <= a.hour < 18 for a in arrivals)
    weekend = sum(a.weekday() >= 5 for a in arrivals)
    assert 0 < weekend < len(arrivals) * 0.15


def test_each_requester_writes_in_their_language_and_both_languages_are_used() -> None:
    history = plan()
    for request in history.requests:
        language = history.requesters[request.requester].language
        assert request.topic in TOPICS[language]
    assert {r.language for r in history.requesters} == {"en", "zh"}
    only_zh = plan(languages=("zh",))
    assert {r.language for r in only_zh.requesters} == {"zh"}


def test_the_lives_are_varied_as_on_a_real_desk() -> None:
    steps = Counter(e.step for e in plan().events)
    assert steps[Step.ARRIVE] == 400
    for step in (Step.ANSWER, Step.ASK, Step.NOTE, Step.TRANSFER, Step.RESOLVE, Step.RATE):
        assert steps[step] > 0, step
    ratings = [e for e in plan().events if e.step is Step.RATE]
    assert any(e.good for e in ratings) and any(not e.good for e in ratings)


def test_only_the_desks_channels_are_used() -> None:
    channels = Counter(r.channel for r in plan().requests)
    assert set(channels) == {Channel.EMAIL, Channel.WEB, Channel.TELEGRAM}
    no_chat = plan(channels=(Channel.EMAIL, Channel.WEB))
    assert {r.channel for r in no_chat.requests} == {Channel.EMAIL, Channel.WEB}


def test_nothing_is_planned_after_the_end_so_the_last_requests_are_still_open() -> None:
    history = plan(end=END)
    assert max(e.at for e in history.events) <= END
    resolved = {e.request for e in history.events if e.step is Step.RESOLVE}
    recent = {
        e.request
        for e in history.events
        if e.step is Step.ARRIVE and e.at > END - timedelta(days=1)
    }
    assert recent and not recent <= resolved


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"languages": ("fr",)}, "languages"),
        ({"languages": ()}, "languages"),
        ({"days": 0}, "days"),
        ({"channels": ()}, "channel"),
    ],
)
def test_a_plan_that_cannot_be_made_says_why(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(**kw)
