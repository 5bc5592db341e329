"""SLA clocks through time: warnings before the breach, escalation up the chain, pauses.

The clock is injected; the sweep is the scheduler's own. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from config import load_settings
from router.vocabulary import AgentStatus, AuditAction, Status
from tests.support.desk import Desk, desk_for
from workers.desk.agents import set_agent_status
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status
from workers.steps.sla_sweep import hand_off_sla, sweep_sla

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CONFIG = """
database_url = "{url}"
[helpdesk]
default_team = "support"
[sla]
manager = "sam"
bump_priority_on_breach = true
[[sla.policies]]
name = "vip"
when = {{ category = "vip" }}
calendar = "24x7"
first_response = "10m"

[[sla.policies]]
name = "standard"
calendar = "24x7"
first_response = "1h"
resolution = "8h"
warn_share = 0.75
[[teams]]
name = "support"
supervisor = "boss"
[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
status = "online"
[[agents]]
name = "boss"
email = "boss@desk.test"
teams = ["support"]
status = "away"
timezone = "Europe/Berlin"
[[agents]]
name = "sam"
email = "sam@desk.test"
status = "away"
"""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = T0 + timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Desk]:
    path = tmp_path / "relaydesk.toml"
    path.write_text(CONFIG.format(url=database_url))
    for desk in desk_for(load_settings(path, environ={})):
        desk.runtime.clock = clock
        yield desk


def _sla_mail(desk: Desk) -> list[tuple[str, str]]:
    desk.settle()
    return [
        (m.recipient.split("@")[0], m.subject.split(":")[0])
        for m in desk.sender.sent
        if m.subject.startswith("SLA")
    ]


def _actions(desk: Desk, number: int) -> list[str]:
    with desk.runtime.db.unit_of_work() as uow:
        return [e.action for e in uow.audit.for_ticket(number) if e.action.startswith("sla.")]


def test_a_warning_comes_before_the_breach_and_the_breach_climbs_the_chain(
    desk: Desk, clock: Clock
) -> None:
    number = desk.submit("sla1", subject="VPN down", body="help")
    assert desk.ticket(number).assignee == "ana"
    clock.at(44)
    sweep_sla(desk.runtime)
    assert _sla_mail(desk) == []
    clock.at(46)  # 75 % of the 1 h first response
    sweep_sla(desk.runtime)
    sweep_sla(desk.runtime)  # a second sweep fires nothing again
    assert _sla_mail(desk) == [("ana", "SLA warning")]
    clock.at(61)
    sweep_sla(desk.runtime)
    assert _sla_mail(desk)[1:] == [("ana", "SLA breached")]
    assert desk.ticket(number).priority == "high"  # bumped on breach
    with desk.runtime.db.unit_of_work() as uow:
        bumped = uow.tickets.get(number)
        assert bumped is not None and bumped.updated_at == clock.now  # the reports see it
    clock.at(92)  # + 30 min: the team's supervisor
    sweep_sla(desk.runtime)
    assert _sla_mail(desk)[2:] == [("boss", "SLA breached")]
    clock.at(185)  # + 2 h: the manager
    sweep_sla(desk.runtime)
    sweep_sla(desk.runtime)
    assert _sla_mail(desk)[3:] == [("sam", "SLA breached")]
    assert _actions(desk, number) == [
        "sla.policy",
        "sla.warning",
        "sla.breached",
        "sla.escalated",
        "sla.escalated",
        "sla.escalated",
    ]


def test_a_breach_caught_up_after_downtime_is_recorded_at_its_deadline_and_fires_its_steps(
    desk: Desk, clock: Clock
) -> None:
    number = desk.submit("sla-down", subject="VPN down", body="help")
    clock.at(200)  # the desk was down from before the warning until past every step's time
    sweep_sla(desk.runtime)
    sweep_sla(desk.runtime)  # each step once
    assert sorted(_sla_mail(desk)) == [
        ("ana", "SLA breached"),
        ("ana", "SLA warning"),
        ("boss", "SLA breached"),
        ("sam", "SLA breached"),
    ]
    with desk.runtime.db.unit_of_work() as uow:
        first = next(t for t in uow.sla.for_ticket(number) if t.kind == "first_response")
        assert first.breached_at == T0 + timedelta(hours=1)  # the deadline, not the catch-up
        assert first.escalation_step == 3 and first.next_escalation_at is None
        fired = [e.detail for e in uow.audit.for_ticket(number) if e.action == "sla.escalated"]
    assert _actions(desk, number)[1:] == ["sla.warning", "sla.breached"] + ["sla.escalated"] * 3
    assert fired == [  # in the chain's order, all at once
        "first_response breached: ana (assignee) told",
        "first_response breached: boss (supervisor) told",
        "first_response breached: sam (manager) told",
    ]


def test_a_notice_gives_the_due_time_to_the_second_in_the_readers_zone(
    desk: Desk, clock: Clock
) -> None:
    clock.at(39 / 60)  # due at 10:00:39 UTC
    number = desk.submit("sla-zone", subject="VPN down", body="help")
    clock.at(95)
    sweep_sla(desk.runtime)
    desk.settle()
    told = sorted((m.recipient, m.body_text) for m in desk.sender.sent if "SLA" in m.subject)
    assert [(to, text.split(".", 1)[0]) for to, text in told] == [
        (
            "ana@desk.test",
            f"SLA breached: first response on [#{number}] was due "
            "Nov 25, 2026, 10:00:39\u202fAM UTC",
        ),  # ana has no zone: UTC
        (
            "ana@desk.test",
            f"SLA warning: first response on [#{number}] is due Nov 25, 2026, 10:00:39\u202fAM UTC",
        ),
        (
            "boss@desk.test",
            f"SLA breached: first response on [#{number}] was due "
            "Nov 25, 2026, 11:00:39\u202fAM UTC+01:00",
        ),  # Europe/Berlin, as English writes a date
    ]


def test_an_answered_ticket_fires_nothing(desk: Desk, clock: Clock) -> None:
    number = desk.submit("sla2")
    clock.at(10)
    answer_ticket(desk.runtime, number, "ana", "On it.")
    clock.at(120)
    sweep_sla(desk.runtime)
    assert _sla_mail(desk) == []
    with desk.runtime.db.unit_of_work() as uow:
        (first, resolution) = uow.sla.for_ticket(number)
    assert first.kind == "first_response" and first.stopped_at is not None
    assert first.consumed_s == 600 and first.breached_at is None  # met, in 10 min
    assert resolution.due_at == T0 + timedelta(hours=8)


def test_an_answer_that_moves_the_clocks_reads_and_locks_them_once(
    desk: Desk, clock: Clock
) -> None:
    number = desk.submit("sla2b")
    clock.at(10)
    seen: list[str] = []

    def timers_read(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM sla_timers" in statement:
            seen.append(statement)

    event.listen(desk.runtime.db.engine, "before_cursor_execute", timers_read)
    try:
        answer_ticket(desk.runtime, number, "ana", "On it.")  # stops the first response
    finally:
        event.remove(desk.runtime.db.engine, "before_cursor_execute", timers_read)
    assert len(seen) == 1, seen  # read FOR UPDATE by the clocks' move, written without again
    with desk.runtime.db.unit_of_work() as uow:
        (first, _) = uow.sla.for_ticket(number)
    assert first.stopped_at == T0 + timedelta(minutes=10) and first.consumed_s == 600


def test_pending_pauses_the_clock_and_open_resumes_it_with_the_time_left(
    desk: Desk, clock: Clock
) -> None:
    number = desk.submit("sla3")
    clock.at(30)
    set_ticket_status(desk.runtime, number, Status.PENDING, reason="waiting on the customer")
    clock.at(300)
    sweep_sla(desk.runtime)
    assert _sla_mail(desk) == []  # five hours later, paused: nothing
    set_ticket_status(desk.runtime, number, Status.OPEN)
    with desk.runtime.db.unit_of_work() as uow:
        first = uow.sla.for_ticket(number)[0]
    assert first.warn_at == T0 + timedelta(minutes=315)  # 45 - 30 = 15 min left to warn
    assert first.due_at == T0 + timedelta(minutes=330)
    clock.at(316)
    sweep_sla(desk.runtime)
    assert _sla_mail(desk) == [("ana", "SLA warning")]


def test_a_delivery_in_flight_on_a_ticket_hides_none_of_its_due_steps(
    desk: Desk, clock: Clock
) -> None:
    if desk.runtime.db.dialect != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite writers run one at a time)")
    number = desk.submit("sla-busy")
    clock.at(200)
    with desk.runtime.db.unit_of_work() as delivering:  # records a send: refers to the ticket
        delivering.audit.record(
            ticket_id=number,
            actor="system:deliver",
            action=AuditAction.OUTBOX_SENT,
            detail="-",
            now=T0,
        )
        delivering.audit.flush()
        fired = sweep_sla(desk.runtime)
    assert (fired.warnings, fired.breaches, fired.escalations) == (1, 1, 3)


def test_two_schedulers_at_once_fire_each_step_once(desk: Desk, clock: Clock) -> None:
    number = desk.submit("sla4")
    clock.at(200)
    threads = [threading.Thread(target=sweep_sla, args=(desk.runtime,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sweep_sla(desk.runtime)
    mail = _sla_mail(desk)
    assert sorted(mail) == [  # every step past its time (from the 60 min deadline), once
        ("ana", "SLA breached"),
        ("ana", "SLA warning"),
        ("boss", "SLA breached"),
        ("sam", "SLA breached"),
    ]
    assert _actions(desk, number).count("sla.breached") == 1


def test_the_backlog_goes_by_priority_then_the_nearest_sla_deadline_then_age(
    desk: Desk, clock: Clock
) -> None:
    set_agent_status(desk.runtime, "ana", AgentStatus.OFFLINE)
    older = desk.submit("sla5", subject="older, 1 h to answer")
    clock.at(5)
    urgent_sla = desk.submit("sla6", subject="newer, 10 min to answer", category_hint="vip")
    with desk.runtime.db.unit_of_work() as uow:
        ana = uow.agents.by_name("ana")
        assert ana is not None
        ana.capacity = 1
    set_agent_status(desk.runtime, "ana", AgentStatus.ONLINE)  # one slot: who gets it?
    desk.settle()
    assert desk.ticket(urgent_sla).assignee == "ana" and desk.ticket(older).assignee is None


def test_the_scheduler_hands_due_steps_to_the_workers_and_again_when_lost(
    desk: Desk, clock: Clock
) -> None:
    number = desk.submit("handoff", subject="Printer", body="help")
    clock.at(46)
    lost: list[list[int]] = []
    desk.runtime.enqueue_sla = lambda ticket_ids, handed_at: lost.append(ticket_ids)  # type: ignore[method-assign]
    assert hand_off_sla(desk.runtime) == [number] and lost == [[number]]
    assert hand_off_sla(desk.runtime) == []  # handed off: the next sweeps leave it alone
    clock.at(48)  # redrive_after_s (60 s) later, still not fired: handed off again
    assert hand_off_sla(desk.runtime) == [number]
    sweep_sla(desk.runtime, ticket_ids=lost[-1])  # what the worker does with it
    sweep_sla(desk.runtime, ticket_ids=lost[0])  # a late duplicate fires nothing
    assert _sla_mail(desk) == [("ana", "SLA warning")]
    assert hand_off_sla(desk.runtime) == []
    del desk.runtime.enqueue_sla  # the real broker, and the desk's worker threads
    clock.at(61)
    assert hand_off_sla(desk.runtime) == [number]
    assert _sla_mail(desk)[1:] == [("ana", "SLA breached")]


def test_the_hand_off_query_uses_the_deadline_indexes_on_sqlite(tmp_path: Path) -> None:
    """Its cost must grow with what is due, not with every open timer (SQLite too)."""
    from sqlalchemy import text

    from store.db import Database
    from store.migrate import upgrade

    db = Database(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(db)
    captured: list[str] = []
    with db.engine.connect() as conn:
        from sqlalchemy import event

        @event.listens_for(conn, "before_cursor_execute")
        def grab(_c, _cur, statement, params, _ctx, _many):  # type: ignore[no-untyped-def]
            upper = statement.upper()
            if "UPDATE SLA_TIMERS" in upper and not upper.startswith("EXPLAIN"):  # after a WITH
                captured.append(statement)
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                captured.extend(str(r[-1]) for r in rows)

        from sqlalchemy.orm import Session

        from store.sla import SlaRepository

        with Session(bind=conn) as session:
            SlaRepository(session).hand_off_due(T0, stale_before=T0, limit=10)
        conn.execute(text("SELECT 1"))
    plan = " | ".join(captured[1:])
    assert "INDEX ix_sla_timers_warn" in plan and "INDEX ix_sla_timers_due" in plan, plan
    assert "SCAN sla_timers" not in plan.replace("SCAN sla_timers USING", ""), plan
    db.dispose()


def test_a_chain_replanned_by_an_assignment_never_tells_anyone_twice(
    desk: Desk, clock: Clock
) -> None:
    from workers.desk.assignments import assign_ticket

    set_agent_status(desk.runtime, "ana", AgentStatus.OFFLINE)
    number = desk.submit("replan", subject="Nobody here", body="help")
    assert desk.ticket(number).assignee is None
    clock.at(61)
    sweep_sla(desk.runtime)  # breached; step 0 of the chain without an assignee: boss, later
    clock.at(92)
    sweep_sla(desk.runtime)
    assert [who for who, what in _sla_mail(desk) if what == "SLA breached"] == ["boss"]
    set_agent_status(desk.runtime, "ana", AgentStatus.ONLINE)
    assign_ticket(desk.runtime, number, "ana", force=True)
    desk.settle()  # what those set off (notices, a drain) is done before the clock moves
    clock.at(300)
    sweep_sla(desk.runtime)
    breached = [who for who, what in _sla_mail(desk) if what == "SLA breached"]
    assert breached.count("boss") == 1 and "sam" in breached
    assert "ana" not in breached  # the chain was fixed at the breach, when nobody had it
