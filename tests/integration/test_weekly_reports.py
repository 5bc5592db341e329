"""The weekly report by mail, on SQLite and PostgreSQL: at the team's hour its supervisor
gets one mail (however often and by however many schedulers it is asked) with the week's
figures against the week before, the three charts and the CSV of the week's tickets;
before the hour, and a day late, nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from router.vocabulary import OutboxKind
from router.weekly_report import due_week
from store.models import OutboxItem
from tests.support.staff import DIRECTORY, START, StaffDesk, staff_desk
from workers.steps.weekly_reports import _send, send_weekly_reports, supervisors

pytestmark = pytest.mark.integration

TEAMS = (
    '[{"name": "support", "supervisor": "sam",'
    ' "weekly_report": {"weekday": 0, "hour": 8, "timezone": "UTC"}},'
    ' {"name": "billing"}, {"name": "sales"}]'
)


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    assert DIRECTORY["relaydesk_teams"].startswith('[{"name": "support"')
    with staff_desk(database_url, relaydesk_teams=TEAMS) as staff:
        yield staff


def created_at(desk: StaffDesk, days_ago: float, team: str) -> int:
    desk.clock.now = START - timedelta(days=days_ago)
    try:
        return desk.ticket(team, None)
    finally:
        desk.clock.now = START


def rows(desk: StaffDesk) -> list[OutboxItem]:
    with desk.runtime.db.unit_of_work() as uow:
        found = uow.session.scalars(
            select(OutboxItem).where(OutboxItem.kind == OutboxKind.WEEKLY_REPORT.value)
        ).all()
        uow.session.expunge_all()
        return list(found)


def test_the_supervisor_gets_the_week_once_with_charts_and_tickets(desk: StaffDesk) -> None:
    # START is Monday 2026-12-07 09:00 UTC: the week reported is Nov 30 .. Dec 6
    this_week = [created_at(desk, 2, "support"), created_at(desk, 6, "support")]
    created_at(desk, 10, "support")  # the week before
    created_at(desk, 2, "billing")  # another team's
    desk.clock.now = START - timedelta(hours=2)  # 07:00, before the hour
    assert send_weekly_reports(desk.runtime) == 0
    desk.clock.now = START
    assert send_weekly_reports(desk.runtime) == 1
    assert send_weekly_reports(desk.runtime) == 0  # asked again: already queued
    week = due_week(START, weekday=0, hour=8, timezone="UTC")
    assert week is not None
    [sam] = supervisors(desk.runtime.settings.teams[0], desk.runtime.settings.agents)
    assert _send(desk.runtime, "support", week, "UTC", [sam]) == 0  # a second scheduler
    [row] = rows(desk)
    assert row.recipient == "sam@x.test"
    payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
    assert "support: 2026-11-30 to 2026-12-06" in payload["subject"]
    assert "Tickets created: 2 (week before: 1)" in payload["body_text"]
    files = {a["filename"]: a for a in payload["attachments"]}
    assert sorted(files) == [
        "backlog.svg",
        "channels.svg",
        "tickets-support-2026-11-30.csv",
        "volume.svg",
    ]
    svg = desk.runtime.files.read(files["volume.svg"]["sha256"]).decode("utf-8")
    assert "Tickets created and resolved" in svg and "<script" not in svg
    csv_text = desk.runtime.files.read(files["tickets-support-2026-11-30.csv"]["sha256"])
    lines = csv_text.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 3  # the header and this week's two
    assert sorted(int(line.split(",")[0]) for line in lines[1:]) == sorted(this_week)
    desk.clock.now = START + timedelta(days=7, hours=1)  # the next Monday
    assert send_weekly_reports(desk.runtime) == 1


def test_a_day_late_the_week_is_skipped(desk: StaffDesk) -> None:
    desk.clock.now = START + timedelta(days=1)  # Tuesday 09:00: the scheduler was down
    assert send_weekly_reports(desk.runtime) == 0
    assert rows(desk) == []
