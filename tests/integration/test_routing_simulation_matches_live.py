"""The simulator's routing equals what the live desk's route step and backlog drains do,
ticket by ticket, under the load model the simulator documents (router/routing_replay.py):
a seeded demo desk is copied; on the copy the candidate is applied for real, the period
starts as the model starts it (no ticket open, every agent's load 0 and never assigned:
the seeded tickets are closed in the copy, a test's shortcut on a throwaway copy), and
the period is replayed in time order: each seeded ticket's first message arrives at its
arrival time (the ingest step that opens a ticket, then the route step), and each
replayed ticket is resolved at its real resolution time (the status use case, which
frees the slot and drains the backlog). Who took each ticket, and when, is then the
simulator's ``RoutingReplay`` under the candidate's roster, and the command line's
report counts the same assignments per agent.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import update

from config import EXAMPLE_PATH, load_settings
from router.desk_simulation import ticket_facts
from router.envelopes import InboundMessage
from router.routing_replay import Routed, RoutingReplay
from router.rule_simulation import Arrival, compare
from router.vocabulary import AuditAction, ConfigAction, Status, SystemActor
from store.db import Database
from store.models import Agent, Ticket
from store.roster_snapshot import agents_now
from store.ticket_arrivals import TicketArrivals
from tests.conftest import make_settings
from tests.integration.test_simulation_matches_live import replay_opening
from tests.support.desk_copy import copy_of
from workers.cli.main import main
from workers.desk.config_changes import apply_at_start, apply_settings
from workers.desk.demo_seed import seed_demo
from workers.desk.ticket_status import set_ticket_status
from workers.runtime.build import build_runtime
from workers.runtime.config_follow import follow_store
from workers.runtime.context import Runtime
from workers.runtime.desk_setup import desk_setup
from workers.runtime.rule_book import rule_setup
from workers.steps.route import route

END = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
PLAN = {"tickets": 30, "days": 4, "languages": ("en", "zh"), "seed": 20}
FIRST, LAST = (END - timedelta(days=10)).date(), END.date()

Took = dict[int, tuple[str | None, datetime | None]]  # seeded ticket -> agent, when


def candidate_text() -> str:
    """Fewer hands: every agent takes at most two tickets at once, so tickets wait for
    slots and the drains decide too; Chinese refunds go to billing."""
    text = EXAMPLE_PATH.read_text()
    text = text.replace(
        '"invoice", "refund", "charged"', '"invoice", "refund", "charged", "退款", "扣款"'
    )
    assert "capacity = " in text
    lines = [
        "capacity = 2" if line.startswith("capacity = ") else line for line in text.splitlines()
    ]
    return "\n".join(lines) + "\n"


def live(runtime: Runtime, arrivals: list[Arrival], messages: dict[int, InboundMessage]) -> Took:
    """The period replayed on the desk: arrivals and resolutions in time order."""
    events = sorted(
        [(a.arrived_at, 1, a.number) for a in arrivals if a.arrived_at]
        + [(a.done_at, 0, a.number) for a in arrivals if a.done_at]
    )
    opened: dict[int, int] = {}
    for at, kind, number in events:
        runtime.clock = lambda at=at: at  # type: ignore[misc]
        if kind == 0:
            if number in opened:  # (a resolution at its own arrival instant: none here)
                set_ticket_status(runtime, opened[number], Status.RESOLVED, actor=SystemActor.CLI)
            continue
        message = replace(
            messages[number],
            idempotency_key=f"replay-{number}",
            access_key=None,
            ticket_number=None,
        )
        opened[number] = replay_opening(runtime, number, message)
        route(runtime, opened[number])
    took: Took = {}
    with runtime.db.unit_of_work() as uow:
        for number, ticket_id in opened.items():
            assigned = [
                e
                for e in uow.audit.for_ticket(ticket_id)
                if e.action == AuditAction.TICKET_ASSIGNED
            ]
            took[number] = (
                (assigned[0].data["agent"], assigned[0].created_at) if assigned else (None, None)
            )
    return took


def test_the_simulators_routing_equals_what_the_live_desk_does(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url)
    seed_demo(settings, end=END, **PLAN)  # type: ignore[arg-type]
    path = tmp_path / "candidate.toml"
    path.write_text(candidate_text())
    result = CliRunner().invoke(
        main,
        ["rules", "simulate", str(path), "--from", str(FIRST), "--to", str(LAST), "--format=json"],
        env={"RELAYDESK_DATABASE_URL": database_url, "LANG": "C"},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["routing"]
    candidate = load_settings(path, environ={"RELAYDESK_DATABASE_URL": database_url})
    db = Database(database_url)
    try:
        with db.unit_of_work() as uow:
            reader = TicketArrivals(uow.session)
            start = datetime.combine(FIRST, datetime.min.time(), UTC) - timedelta(days=1)
            stop = END + timedelta(days=1)
            arrivals = list(reader.between(start, stop))
            messages = {n: m for n, m, _tier, _org in reader.messages(start, stop)}
            known = agents_now(uow.session)
    finally:
        db.dispose()
    outcomes = compare(
        arrivals, rule_setup(settings), rule_setup(candidate), keep_outcomes=True
    ).outcomes
    expected: Took = {}

    def decided(routed: Routed) -> None:
        agent = routed.agent.name if routed.agent else None
        expected[routed.ticket.id] = (agent, routed.assigned_at)

    replay = RoutingReplay(desk_setup(candidate, known).roster, decided)
    for arrival in arrivals:
        assert arrival.arrived_at is not None
        facts = ticket_facts(arrival, outcomes[arrival.number], arrival.arrived_at)
        replay.arrive(facts, arrival.done_at)
    replay.finish()
    assert len(expected) == PLAN["tickets"]
    waited = [
        a.number
        for a in arrivals
        if expected[a.number][0] is not None and expected[a.number][1] != a.arrived_at
    ]
    assert waited  # some took a slot another freed: the drains are compared too

    with copy_of(database_url) as copy_url:
        runtime = build_runtime(make_settings(copy_url), pool_size=2)
        try:
            apply_at_start(runtime, "test")
            on_copy = load_settings(path, environ={"RELAYDESK_DATABASE_URL": copy_url})
            apply_settings(runtime, on_copy, action=ConfigAction.RELOAD, applied_by="test")
            assert follow_store(runtime)
            with runtime.db.unit_of_work() as uow:  # the model's start: nothing open
                uow.session.execute(
                    update(Ticket).values(status=Status.CLOSED.value, assignee_id=None)
                )
                uow.session.execute(update(Agent).values(load=0, last_assigned_at=None))
            seen = live(runtime, arrivals, messages)
        finally:
            runtime.close()

    assert {n: seen[n] for n in sorted(seen)} == {n: expected[n] for n in sorted(expected)}
    per_agent = Counter(agent for agent, _ in seen.values() if agent)
    assert report["assigned"]["candidate"] == sum(per_agent.values())
    reported = {a["name"]: a["candidate"] for a in report["agents"] if a.get("candidate")}
    assert reported == dict(per_agent)
