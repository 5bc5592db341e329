"""``relaydesk demo seed``: a made-up history played through the desk's own use cases,
on SQLite and PostgreSQL; nothing it sends leaves, and a running desk is refused."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from config.settings import Settings
from router.demo_history import Step, plan_history
from store.db import Database
from store.models import AuditEvent, Message, OutboxItem, Rating, ReportDay, Ticket
from store.process_beats import Beating
from tests.conftest import make_settings
from workers.desk.demo_seed import DeskIsRunning, seed_demo
from workers.runtime.build import build_runtime
from workers.runtime.processes import prepare_database
from workers.steps.report_refresh import refresh_reports

END = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
PLAN: dict[str, Any] = {"tickets": 24, "days": 4, "languages": ("en", "zh"), "seed": 11}


def seeded(settings: Settings) -> Database:
    seed_demo(settings, end=END, **PLAN)
    return Database(settings.database_url)


def test_a_seeded_desk_has_the_planned_tickets_with_their_whole_lives(settings: Settings) -> None:
    plan = plan_history(
        end=END, zone=settings.reports.timezone, channels=_channels(settings), **PLAN
    )
    db = seeded(settings)
    with db.unit_of_work() as uow:
        session = uow.session
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        statuses = Counter(t.status for t in tickets)
        assert len(tickets) == PLAN["tickets"]
        # each made at its arrival, in the made-up past, not when the seed ran
        arrivals = sorted(e.at for e in plan.events if e.step is Step.ARRIVE)
        assert [t.created_at for t in tickets] == arrivals
        assert {"resolved", "open"} <= set(statuses) or {"resolved", "pending"} <= set(statuses)
        assert {t.subject for t in tickets} == {r.subject for r in plan.requests}
        # agents answered and noted through the use cases: messages and audit by agent
        agent_messages = session.scalar(
            select(func.count()).select_from(Message).where(Message.author.like("agent:%"))
        )
        assert agent_messages and agent_messages > 0
        actors = set(session.scalars(select(AuditEvent.actor)).all())
        assert any(a.startswith("agent:") for a in actors)
        planned_ratings = sum(e.step is Step.RATE for e in plan.events)
        ratings = session.scalar(select(func.count()).select_from(Rating))
        assert ratings == planned_ratings
        # what the desk sent in that past was taken by nobody, and nothing is left to send
        states = Counter(session.scalars(select(OutboxItem.state)).all())
        assert states and set(states) == {"done"}
    db.dispose()


def test_a_desk_whose_reports_were_counted_before_reports_the_seeded_history(
    settings: Settings,
) -> None:
    runtime = build_runtime(settings)  # a desk that ran before (its rollups counted today)
    try:
        prepare_database(runtime)
        refresh_reports(runtime)
    finally:
        runtime.close()

    db = seeded(settings)
    with db.unit_of_work() as uow:
        created = uow.session.scalar(select(func.sum(ReportDay.created)))
        tickets = uow.session.scalar(select(func.count()).select_from(Ticket))
    db.dispose()

    assert created == tickets == PLAN["tickets"]


def test_the_same_seed_makes_the_same_desk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    def summary(name: str) -> list[tuple[str, str, str, str]]:
        settings = make_settings(f"sqlite:///{tmp_path / name}")
        db = seeded(settings)
        with db.unit_of_work() as uow:
            rows = uow.session.execute(
                select(Ticket.subject, Ticket.status, Ticket.channel, Ticket.priority).order_by(
                    Ticket.id
                )
            ).all()
        db.dispose()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    assert summary("one.db") == summary("two.db")


def test_a_running_desk_is_refused_and_keeps_its_tickets(settings: Settings) -> None:
    db = Database(settings.database_url)
    now = datetime.now(UTC)
    with db.unit_of_work() as uow:
        uow.process_beats.beat(
            Beating(holder="host:1:ab", kind="worker", host="host", pid=1),
            started_at=now - timedelta(minutes=5),
            now=now,
        )
    with pytest.raises(DeskIsRunning, match="worker"):
        seeded(settings)
    with db.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == 0
    db.dispose()


def test_the_command_seeds_and_says_what_it_did(settings: Settings) -> None:
    from workers.cli.main import main

    env = {"RELAYDESK_DATABASE_URL": settings.database_url, "LANG": "C.UTF-8"}
    result = CliRunner().invoke(main, ["demo", "seed", "--tickets", "5", "--days", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert "5 tickets" in result.stdout
    # stderr is no terminal here (no bar): it says how far the seed got, a line a tenth
    said = result.stderr.splitlines()
    assert 1 < len(said) <= 10, result.stderr
    assert said[-1].startswith("Seeding the demo desk: ") and said[-1].endswith(" events played")
    played = [int(line.split(": ")[1].split()[0]) for line in said]
    assert played == sorted(played) and said[-1].count(str(played[-1])) == 2  # n of n
    bad = CliRunner().invoke(main, ["demo", "seed", "--lang", "fr"], env=env)
    assert bad.exit_code == 2 and "en, zh" in bad.output


def _channels(settings: Settings):  # type: ignore[no-untyped-def]
    from workers.channels.demo_requesters import demo_channels

    return demo_channels(settings)
