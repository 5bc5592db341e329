"""Pending and resolved tickets move on by themselves, on the real store (both
databases): the pending notice with what was asked, the reminder, the resolution
without an answer, the close; per team; every move audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from router.followups import FollowUp
from router.vocabulary import Status
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.desk.assignments import assign_ticket
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status
from workers.steps.requester_follow_ups import follow_up

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TEAMS = [{"name": "support", "supervisor": "sam"},
         {"name": "billing", "supervisor": "sam", "resolved_close_days": 0}]  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.at = MONDAY

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(database_url: str, clock: Clock) -> Iterator[Desk]:
    settings = make_settings(database_url, relaydesk_teams=json.dumps(TEAMS))
    for desk in desk_for(settings):
        desk.runtime.clock = clock
        yield desk


def mails(desk: Desk, needle: str) -> list[str]:
    return [m.body_text for m in desk.sender.to("jo@example.org") if needle in m.body_text]


def actions(desk: Desk, number: int) -> list[tuple[str, str, str]]:
    with desk.runtime.db.unit_of_work() as uow:
        return [(e.actor, e.action, e.detail) for e in uow.audit.for_ticket(number)]


def test_going_pending_tells_the_requester_what_was_asked_unless_the_answer_just_did(
    desk: Desk, clock: Clock
) -> None:
    asked = desk.submit("web:1", subject="Printer jams")
    assign_ticket(desk.runtime, asked, "ana", force=True)
    answer_ticket(desk.runtime, asked, "ana", "Which model is it?", status=Status.PENDING)
    desk.settle()
    assert mails(desk, "waiting for your answer") == []  # the answer itself asked

    clock.at += timedelta(hours=1)
    set_ticket_status(desk.runtime, asked, Status.OPEN, actor="agent:ana")
    set_ticket_status(desk.runtime, asked, Status.PENDING, actor="agent:ana")
    desk.settle()
    (notice,) = mails(desk, "waiting for your answer")
    assert f"your request [#{asked}] is waiting for your answer." in notice
    assert "> Which model is it?" in notice and f"/api/v1/tickets/{asked}?key=" in notice


def test_a_pending_ticket_is_reminded_then_resolved_then_closed_each_audited(
    desk: Desk, clock: Clock
) -> None:
    number = desk.submit("web:2", subject="VPN")
    assign_ticket(desk.runtime, number, "ana", force=True)
    answer_ticket(desk.runtime, number, "ana", "Is it the office VPN?", status=Status.PENDING)

    clock.at = MONDAY + timedelta(days=2)  # Wednesday: 2 business days
    assert follow_up(desk.runtime)[FollowUp.REMIND] == 0
    clock.at = MONDAY + timedelta(days=3)  # Thursday: 3
    assert follow_up(desk.runtime)[FollowUp.REMIND] == 1
    assert follow_up(desk.runtime)[FollowUp.REMIND] == 0  # once
    desk.settle()
    (reminder,) = mails(desk, "a reminder")
    assert "> Is it the office VPN?" in reminder

    clock.at = MONDAY + timedelta(days=9)  # the Wednesday after: 7 business days
    assert follow_up(desk.runtime)[FollowUp.RESOLVE] == 1
    assert desk.ticket(number).status == "resolved"
    desk.settle()
    assert mails(desk, "we have resolved your request")  # with the rating question

    # business days of the desk's calendar (the example's "office": Germany's holidays)
    clock.at = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)  # Mon-Fri would count 7 by now
    assert follow_up(desk.runtime)[FollowUp.CLOSE] == 0  # but Christmas Day is a holiday
    clock.at = datetime(2026, 12, 28, 10, 0, tzinfo=UTC)  # 17, 18, 21-24, 28: seven
    assert follow_up(desk.runtime)[FollowUp.CLOSE] == 1
    assert desk.ticket(number).status == "closed"
    moves = [(a, d) for a, kind, d in actions(desk, number) if a == "system:follow-up"]
    assert moves == [
        ("system:follow-up", "pending for 3 business days: the requester is reminded"),
        (
            "system:follow-up",
            "pending -> resolved: no answer from the requester in 7 business days",
        ),
        ("system:follow-up", "resolved -> closed: resolved 7 business days ago"),
    ]


def test_a_teams_own_days_win_and_0_is_never(desk: Desk, clock: Clock) -> None:
    refund = desk.submit("web:3", subject="Refund for my invoice")  # the billing team's
    assert desk.ticket(refund).team == "billing"
    set_ticket_status(desk.runtime, refund, Status.RESOLVED, actor="agent:ben")

    clock.at = MONDAY + timedelta(days=30)
    follow_up(desk.runtime)

    assert desk.ticket(refund).status == "resolved"  # billing never closes by itself


def test_a_teams_own_calendar_and_its_holiday_delay_the_reminder(
    database_url: str, clock: Clock
) -> None:
    calendars = [
        {"name": "office", "timezone": "Europe/Berlin", "hours": {"mon": "09:00-17:00"}},
        {"name": "shanghai", "timezone": "Asia/Shanghai", "extra_dates": ["2026-12-09"],
         "hours": {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}},
    ]  # fmt: skip
    settings = make_settings(
        database_url,
        relaydesk_teams=json.dumps(TEAMS),
        relaydesk_sla__calendars=json.dumps(calendars),
        relaydesk_sla__team_calendars__support="shanghai",
    )
    for desk in desk_for(settings):
        desk.runtime.clock = clock
        number = desk.submit("web:4", subject="VPN")
        assert desk.ticket(number).team == "support"
        answer_ticket(desk.runtime, number, "ana", "Which office?", status=Status.PENDING)

        clock.at = MONDAY + timedelta(days=3)  # Thursday: Tue, Thu (Wednesday is closed)
        assert follow_up(desk.runtime)[FollowUp.REMIND] == 0
        clock.at = MONDAY + timedelta(days=4)  # Friday: three
        assert follow_up(desk.runtime)[FollowUp.REMIND] == 1
