"""The simulator's report equals what the live desk does: a seeded demo desk is copied
(SQLite: the file, through sqlite3's backup; PostgreSQL: CREATE DATABASE ... TEMPLATE),
the candidate is applied for real on the copy (a reload, followed from the store as a
worker follows it), and each seeded ticket's first message is replayed through the
live ingest's writes as a ticket of its own (its inbox row, ``ingest_opening``: the
customer, the requester's language, classification, audit, SLA clocks, the message, as
``IngestWrites`` writes a ticket ingest decided to open) and the route step; then compared,
ticket by ticket, with ``rules simulate``'s outcomes, and its report (JSON, from the
command line) with the changes counted from the live desk: the same replay before the
reload gives the "from" side. Threading is left out on purpose: a replayed message must
open a ticket, not join the one it opened when it was seeded. The SLA clocks of each
ticket opened are then moved as the seeded ticket's were (its first reply, its pending
periods, resolutions and reopenings, through the live ``clock_event``, the sweep's
breach step before each), and each clock's last due time and verdict are the report's.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from config import EXAMPLE_PATH, load_settings
from router.envelopes import InboundMessage
from router.lifecycle import DONE_STATUSES
from router.rule_simulation import FIELDS, Arrival, compare, values
from router.sla_clock import SlaEvent, status_event
from router.sla_simulation import due_times, move
from router.vocabulary import AuditAction, ConfigAction, Status
from store.db import Database, UnitOfWork
from store.models import Message, SlaTimer
from store.roster_snapshot import agents_now
from store.ticket_arrivals import TicketArrivals
from tests.conftest import make_settings
from tests.support.desk_copy import copy_of
from workers.cli.main import main
from workers.desk.config_changes import apply_at_start, apply_settings
from workers.desk.demo_seed import seed_demo
from workers.desk.sla_clocks import clock_event
from workers.runtime.build import build_runtime
from workers.runtime.config_follow import follow_store
from workers.runtime.context import Runtime
from workers.runtime.desk_setup import desk_setup
from workers.runtime.rule_book import rule_setup
from workers.steps.ingest import ingest_opening
from workers.steps.route import route

END = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
PLAN = {"tickets": 30, "days": 4, "languages": ("en", "zh"), "seed": 20}
FIRST, LAST = (END - timedelta(days=10)).date(), END.date()


def candidate_text() -> str:
    """The README's example change (Chinese refunds to billing), another priority by
    default, the outage rule's priority high instead of urgent (the standard SLA
    policy instead of the urgent one), and a shorter standard first response."""
    text = EXAMPLE_PATH.read_text()
    for before, after in (
        ('"invoice", "refund", "charged"', '"invoice", "refund", "charged", "退款", "扣款"'),
        ('default_priority = "normal"', 'default_priority = "low"'),
        ('set = { priority = "urgent", tags = ["outage"] }', 'set = { priority = "high" }'),
        ('first_response = "4h"', 'first_response = "2h"'),
    ):
        assert before in text, before
        text = text.replace(before, after)
    return text


Seen = dict[int, dict[str, str]]  # seeded ticket -> the compared fields of its replay


Arrived = list[tuple[int, InboundMessage, datetime]]
History = dict[int, Arrival]  # seeded ticket -> its reply and status changes
TINY = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)


def replay(
    runtime: Runtime,
    arrived: Arrived,
    round_: str,
    history: History | None = None,
    as_of: datetime | None = None,
) -> Seen:
    """Each seeded ticket's first message through the ingest and route steps, at the time
    it first arrived; what the ticket it opened was given. With ``history``, the clocks
    of the ticket it opened are then moved as the seeded ticket's were (``clock_event``
    for its first reply and each status change, as the reply and status use cases call
    it), the SLA sweep's breach step running before each (``take_breaches``), and the
    last due time of each clock's run and its verdict at ``as_of`` are kept too."""
    seen: Seen = {}
    for number, message, at in arrived:
        runtime.clock = lambda at=at: at  # type: ignore[misc]
        key = f"replay-{round_}-{number}"  # (its access key chosen as ingest chooses one)
        again = replace(message, idempotency_key=key, access_key=None, ticket_number=None)
        opened = replay_opening(runtime, number, again)
        route(runtime, opened)
        with runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.get(opened)
            assert ticket is not None and ticket.team is not None
            skills = ", ".join(f"{s}>={n}" for s, n in sorted(ticket.required_skills.items()))
            seen[number] = {
                "category": ticket.category,
                "priority": ticket.priority,
                "team": ticket.team.name,
                "skills": skills or "-",
                "version": next(
                    e.config_version
                    for e in uow.audit.for_ticket(opened)
                    if e.action == AuditAction.TICKET_CREATED
                )
                or "",
            }
            dues = dict(
                uow.session.execute(
                    select(SlaTimer.kind, SlaTimer.due_at).where(SlaTimer.ticket_id == opened)
                ).all()
            )
            policy = uow.sla.clocks(opened)
            seen[number] |= {
                "policy": policy.policy if policy else "-",
                "first_response": str(dues.get("first_response")),
                "resolution": str(dues.get("resolution")),
            }
        if history is not None and as_of is not None:
            seen[number] |= live_clocks(runtime, opened, history[number], as_of)
    return seen


def replay_opening(runtime: Runtime, number: int, message: InboundMessage) -> int:
    """Ticket ``number``'s first ``message`` into the inbox and through the live ingest's
    writes as a ticket of its own (``ingest_opening``); the ticket it opened, whose
    requester is the seeded ticket's."""
    with runtime.db.unit_of_work() as uow:
        inbox_id = uow.inbox.accept(message, now=runtime.now(), redrive_after=MINUTE).inbox_id
    opened = ingest_opening(runtime, inbox_id)
    with runtime.db.unit_of_work() as uow:
        replayed, seeded = uow.tickets.get(opened), uow.tickets.get(number)
        assert replayed is not None and seeded is not None
        assert replayed.requester_id == seeded.requester_id, f"ticket #{number}"
        kept = uow.session.scalars(select(Message.inbox_id).where(Message.ticket_id == opened))
        assert list(kept) == [inbox_id]  # its message written, as ingest writes one
    return opened


def live_clocks(runtime: Runtime, opened: int, seeded: Arrival, as_of: datetime) -> dict[str, str]:
    """Move ``opened``'s clocks through ``seeded``'s reply and status changes on the live
    desk; each clock's last due time and its verdict (breached once the sweep marked it,
    met once stopped, else open)."""
    last: dict[str, datetime | None] = {}

    def look(uow: UnitOfWork) -> dict[str, SlaTimer]:
        timers = {t.kind: t for t in uow.sla.for_ticket(opened)}
        for kind, timer in timers.items():
            if timer.running_since is not None and timer.target_s is not None:
                last[kind] = timer.due_at or timer.breached_at
        return timers

    with runtime.db.unit_of_work() as uow:
        look(uow)
    events = [(at, 1 + n, status_event(b, a)) for n, (at, b, a) in enumerate(seeded.moves)]
    if seeded.responded_at is not None:
        events.append((seeded.responded_at, 0, SlaEvent.AGENT_REPLY))
    for at, _, event in sorted((e for e in events if e[2] is not None), key=lambda e: e[:2]):
        assert event is not None
        with runtime.db.unit_of_work() as uow:
            # the sweep came by just before (at the instant itself, the event is first)
            uow.sla.take_breaches(at - TINY, 100, [opened])
        with runtime.db.unit_of_work() as uow:
            clock_event(runtime, uow, opened, event, at)
        with runtime.db.unit_of_work() as uow:
            look(uow)
    with runtime.db.unit_of_work() as uow:
        uow.sla.take_breaches(as_of, 100, [opened])
        timers = look(uow)
    result: dict[str, str] = {}
    for kind in ("first_response", "resolution"):
        timer = timers.get(kind)
        if timer is None or timer.target_s is None:
            result |= {f"{kind}_last": "None", f"{kind}_verdict": "untracked"}
            continue
        verdict = "breached" if timer.breached_at else "met" if timer.stopped_at else "open"
        result |= {f"{kind}_last": str(last.get(kind)), f"{kind}_verdict": verdict}
    return result


def due(text: str) -> datetime | None:
    return None if text == "None" else datetime.fromisoformat(text)


def norm(field: str, value: str) -> str:
    """Skills in one order (PostgreSQL's JSONB keeps a mapping's keys sorted)."""
    return ", ".join(sorted(value.split(", "))) if field == "skills" else value


def sorted_skills(fields: dict[str, str]) -> dict[str, str]:
    return {**fields, "skills": norm("skills", fields["skills"])}


def test_the_simulators_report_equals_what_the_live_desk_does(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url)
    seed_demo(settings, end=END, **PLAN)  # type: ignore[arg-type]
    path = tmp_path / "candidate.toml"
    path.write_text(candidate_text())

    # the simulator, on the seeded desk, as an operator runs it
    result = CliRunner().invoke(
        main,
        ["rules", "simulate", str(path), "--from", str(FIRST), "--to", str(LAST), "--format=json"],
        env={"RELAYDESK_DATABASE_URL": database_url, "LANG": "C"},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    candidate = load_settings(path, environ={"RELAYDESK_DATABASE_URL": database_url})
    db = Database(database_url)
    try:
        with db.unit_of_work() as uow:
            arrivals = TicketArrivals(uow.session)
            start = datetime.combine(FIRST, datetime.min.time(), UTC) - timedelta(days=1)
            stop = END + timedelta(days=1)
            replayed = list(arrivals.between(start, stop))
            simulated = compare(
                replayed, rule_setup(settings), rule_setup(candidate), keep_outcomes=True
            )
            known = agents_now(uow.session)
            at = {a.number: a.arrived_at for a in replayed if a.arrived_at is not None}
            arrived = [(n, m, at[n]) for n, m, _tier, _org in arrivals.messages(start, stop)]
    finally:
        db.dispose()
    assert simulated.tickets == report["tickets"] == PLAN["tickets"] == len(arrived)
    assert report["changed"] > 0  # the candidate changes something: the test can fail
    history = {a.number: a for a in replayed}
    as_of = datetime.fromisoformat(report["sla"]["as_of"])
    # the seeded history holds tickets that waited on their requester and were reopened
    assert any(to is Status.PENDING for a in replayed for _, _, to in a.moves)
    assert any(b in DONE_STATUSES and to is Status.OPEN for a in replayed for _, b, to in a.moves)

    with copy_of(database_url) as copy_url:
        runtime = build_runtime(make_settings(copy_url), pool_size=2)
        try:
            desk_version = apply_at_start(runtime, "test").version
            before = replay(runtime, arrived, "current", history, as_of)
            on_copy = load_settings(path, environ={"RELAYDESK_DATABASE_URL": copy_url})
            applied = apply_settings(
                runtime, on_copy, action=ConfigAction.RELOAD, applied_by="test"
            )
            assert follow_store(runtime)  # as every worker does before its next message
            after = replay(runtime, arrived, "candidate", history, as_of)
        finally:
            runtime.close()

    assert {s["version"] for s in before.values()} == {desk_version}
    assert {s["version"] for s in after.values()} == {applied.version}
    # ticket by ticket: what the live desk gave each replayed ticket is the simulation's
    for number, decision in simulated.outcomes.items():
        live = {f: after[number][f] for f in FIELDS}
        assert sorted_skills(live) == sorted_skills(values(decision)), f"ticket #{number}"
    # and the SLA: each ticket's policy and due times under the candidate, as the
    # simulator plans them (router.sla_simulation.due_times), are the live clocks'
    sla = desk_setup(candidate, known).sla
    by_number = {a.number: a for a in replayed}
    moved = 0
    for number, decision in simulated.outcomes.items():
        arrival = by_number[number]
        assert arrival.arrived_at is not None
        dues = due_times(
            sla,
            priority=decision.priority,
            category=decision.category,
            team=decision.team,
            tier=arrival.facts.customer_tier,
            channel=arrival.facts.channel,
            arrived_at=arrival.arrived_at,
        )
        live = after[number]
        assert (live["policy"], live["first_response"], live["resolution"]) == (
            dues.policy or "-",
            str(dues.first_response),
            str(dues.resolution),
        ), f"ticket #{number}"
        moved += before[number]["first_response"] != live["first_response"]
    assert moved > 0  # the candidate moves due times: the comparison can fail
    # the report's SLA section, counted from the live clocks before and after the reload
    policies = Counter(
        (before[n]["policy"], after[n]["policy"])
        for n in before
        if before[n]["policy"] != after[n]["policy"]
    )
    assert {(p["from"], p["to"]): p["count"] for p in report["sla"]["policy_changes"]} == dict(
        policies
    )
    # each clock moved through its ticket's reply, pending periods and reopenings: its
    # last due time and its verdict on the live desk are the simulation's
    paused = 0
    for kind in ("first_response", "resolution"):
        last, verdict = f"{kind}_last", f"{kind}_verdict"
        moves = Counter(move(due(before[n][last]), due(after[n][last])) for n in before)
        reported_moves = {m: c for m, c in report["sla"][kind]["moves"].items() if c}
        assert reported_moves == {m.value: c for m, c in moves.items() if m is not None}, kind
        for side, seen in (("current", before), ("candidate", after)):
            counted_verdicts = Counter(seen[n][verdict] for n in seen)
            reported_verdicts = {v: c for v, c in report["sla"][kind][side].items() if c}
            assert reported_verdicts == dict(counted_verdicts), (kind, side)
        flips = Counter((before[n][verdict], after[n][verdict]) for n in before)
        assert report["sla"][kind]["met_to_breached"]["count"] == flips[("met", "breached")]
        assert report["sla"][kind]["breached_to_met"]["count"] == flips[("breached", "met")]
        paused += sum(after[n][last] != after[n][kind] for n in after)
    assert paused > 0  # pauses and reopenings moved due times: the replay of them counts
    # and the report: each change's count and examples, as the live desk changed them
    counted: Counter[tuple[str, str, str]] = Counter()
    numbers: dict[tuple[str, str, str], set[int]] = {}
    for number in before:
        old, new = sorted_skills(before[number]), sorted_skills(after[number])
        for field in FIELDS:
            if old[field] != new[field]:
                counted[(field, old[field], new[field])] += 1
                numbers.setdefault((field, old[field], new[field]), set()).add(number)
    reported = {
        (c["field"], norm(c["field"], c["from"]), norm(c["field"], c["to"])): c
        for c in report["changes"]
    }
    assert {key: c["count"] for key, c in reported.items()} == dict(counted)
    for key, c in reported.items():
        assert set(c["examples"]) <= numbers[key]
    changed = {
        n
        for n in before
        if any(sorted_skills(before[n])[f] != sorted_skills(after[n])[f] for f in FIELDS)
    }
    assert report["changed"] == len(changed)
