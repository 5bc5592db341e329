"""SLA sweep at scale: N open tickets with running timers in PostgreSQL, K of them due.

    python -m benchmarks.sla [--tickets 1000000] [--due 1000] [--interval S] [--skip-delay]

On a fresh PostgreSQL database (dropped afterwards), with one team, a few agents
and a 24x7 policy (first response 1h, resolution 8h, warn at 75%):

1. N tickets, each assigned to an agent, and their two running timers
   (first_response, resolution) are bulk-loaded with ``generate_series``; every
   deadline lies 15 minutes or more in the future, so nothing is due.
2. Rounds: K fresh ``resolution`` timers get ``due_at`` spread over the last
   second before "now"; the hand-off statement (``SlaRepository.hand_off_due``, in
   a transaction rolled back) is timed alone and its plan shown. Then the sweep, timed:
   the scheduler's ``hand_off_sla(runtime, limit=K)`` with the clock fixed at
   "now" (one UPDATE ... RETURNING marks the K due timers handed off, then one
   broker message per 50 tickets). Then, timed apart as ``fire_ms``, what the SLA
   workers do with those messages, here one chunk after the other in one thread:
   breach phase (K breaches) plus escalation phase (step 0, the assignee, is told
   at once: K outbox emails).
3. Fire delay: the real ``Scheduler.run`` loop (real clock, every ``interval_s``)
   and an in-process SLA worker (``WORKER_THREADS`` threads on the ``sla`` queue)
   for about 10 s while 100 timers per second become due (``due_at`` set ahead
   of time). Delay = the breach notification's outbox ``created_at`` minus the
   timer's due instant.

The broker is an in-process stub (the outbox transport is ``file``; deliveries
are not consumed). The last line is key=value pairs.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import event, text
from sqlalchemy.orm import Session

import workers.runtime.scheduler
from config import load_settings
from router.vocabulary import Priority
from store.db import UnitOfWork
from tests.support.services import fresh_postgres_database
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime, utc_now
from workers.runtime.processes import prepare_database
from workers.runtime.queues import SLA
from workers.runtime.scheduler import Scheduler
from workers.steps.sla_sweep import hand_off_sla, sweep_sla

AGENTS = 8
ROUNDS = 5
DELAY_RUN_S = 10.0
DELAY_RATE = 100  # timers due per second during the fire-delay run
WORKER_THREADS = 2  # the in-process SLA worker of the fire-delay run

CONFIG = """
[helpdesk]
name = "relaydesk sla bench"
address = "support@bench.test"
default_team = "desk"
acknowledge = false

[smtp]
transport = "file"
file_dir = "{outbox}"

[broker]
namespace = "bench-sla"

[sla]
default_calendar = "24x7"

[[sla.policies]]
name = "standard"
first_response = "1h"
resolution = "8h"
warn_share = 0.75

[[teams]]
name = "desk"
supervisor = "a0"
{agents}"""

AGENT = """
[[agents]]
name = "a{i}"
email = "a{i}@bench.test"
teams = ["desk"]
status = "online"
"""

LOAD_TICKETS = """
INSERT INTO tickets (subject, status, priority, priority_rank, category, channel,
    requester_id, requester_address, assignee_id, team_id, custom_fields, required_skills,
    optional_skills, tags, access_key, created_at, updated_at)
SELECT 'problem ' || g, 'open', 'normal', :rank, 'general', 'web',
    :customer, 'customer@example.org', (:agents)[1 + g % cardinality(:agents)], :team,
    '{}'::jsonb, '{}'::jsonb, '{}'::jsonb, '[]'::jsonb, md5(g::text),
    :now - make_interval(secs => g % 1800), :now
FROM generate_series(1, :n) AS g
"""

# started 0-30 min ago: first warnings 15 min from now, first breaches 30 min from now
LOAD_TIMERS = """
INSERT INTO sla_timers (ticket_id, kind, policy, calendar, target_s, warn_share, consumed_s,
    started_at, running_since, paused, warn_at, due_at, escalation_step)
SELECT t.id, k.kind, 'standard', '24x7', k.target, 0.75, 0, t.created_at, t.created_at, false,
    t.created_at + make_interval(secs => k.target * 0.75),
    t.created_at + make_interval(secs => k.target), 0
FROM tickets AS t
CROSS JOIN (VALUES ('first_response', 3600.0), ('resolution', 28800.0)) AS k(kind, target)
"""

MAKE_DUE = """
UPDATE sla_timers AS s SET due_at = v.due
FROM unnest(CAST(:ids AS bigint[]), CAST(:dues AS timestamptz[])) AS v(id, due)
WHERE s.id = v.id
"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)] if ordered else 0.0


class SqlMeter:
    """Statements and their time (driver round trips) on one engine."""

    def __init__(self, engine: Any) -> None:
        self.count, self.seconds, self._start = 0, 0.0, 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._start = time.perf_counter()

    def _after(self, *_: Any) -> None:
        self.count += 1
        self.seconds += time.perf_counter() - self._start

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0


class Picker:
    """Fresh ``resolution`` timers (never made due before), spread over the table."""

    def __init__(self, ids: list[int], seed: int = 7) -> None:
        self.ids = ids
        random.Random(seed).shuffle(self.ids)

    def take(self, k: int) -> list[int]:
        if len(self.ids) < k:
            raise SystemExit("not enough tickets for that many due timers: raise --tickets")
        out, self.ids = self.ids[:k], self.ids[k:]
        return out


def _make_due(runtime: Runtime, ids: list[int], dues: list[datetime]) -> None:
    with runtime.db.engine.begin() as conn:
        conn.execute(text(MAKE_DUE), {"ids": ids, "dues": dues})


def _load(runtime: Runtime, tickets: int) -> tuple[float, int]:
    now = utc_now()
    began = time.perf_counter()
    with runtime.db.engine.begin() as conn:
        team = conn.execute(text("SELECT id FROM teams WHERE name = 'desk'")).scalar_one()
        agents = list(conn.execute(text("SELECT id FROM agents ORDER BY id")).scalars())
        customer = conn.execute(
            text("INSERT INTO customers (name, created_at) VALUES ('Bench', :now) RETURNING id"),
            {"now": now},
        ).scalar_one()
        conn.execute(
            text(LOAD_TICKETS),
            {
                "rank": Priority.NORMAL.rank,
                "customer": customer,
                "agents": agents,
                "team": team,
                "now": now,
                "n": tickets,
            },
        )
        conn.execute(text(LOAD_TIMERS))
    with runtime.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("ANALYZE tickets; ANALYZE sla_timers")
        )
    load_s = time.perf_counter() - began
    with runtime.db.engine.connect() as conn:
        running = conn.execute(
            text(
                "SELECT count(*) FROM sla_timers "
                "WHERE running_since IS NOT NULL AND stopped_at IS NULL AND NOT paused"
            )
        ).scalar_one()
    return load_s, int(running)


def _resolution_ids(runtime: Runtime) -> list[int]:
    with runtime.db.engine.connect() as conn:
        return list(
            conn.execute(text("SELECT id FROM sla_timers WHERE kind = 'resolution'")).scalars()
        )


def _claim_ms(runtime: Runtime, now: datetime, limit: int) -> tuple[float, int]:
    """The hand-off statement alone (``hand_off_due``), in a transaction rolled back."""
    session = Session(runtime.db.engine)
    try:
        began = time.perf_counter()
        stale = now - timedelta(seconds=runtime.settings.scheduler.redrive_after_s)
        tickets = UnitOfWork(session).sla.hand_off_due(now, stale_before=stale, limit=limit)
        return (time.perf_counter() - began) * 1000, len(tickets)
    finally:
        session.rollback()
        session.close()


_HAND_OFF = re.compile(r"\bUPDATE\s+sla_timers\b", re.IGNORECASE)


def _explain(runtime: Runtime, now: datetime, limit: int) -> str:
    """EXPLAIN ANALYZE of the very statement ``hand_off_due`` sends (rolled back)."""
    captured: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: Any) -> None:
        # the hand-off's UPDATE, wherever it stands in the statement (it may follow a CTE)
        if _HAND_OFF.search(statement):
            captured.append((statement, params))

    event.listen(runtime.db.engine, "before_cursor_execute", grab)
    try:
        _claim_ms(runtime, now, limit)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", grab)
    if not captured:
        raise SystemExit("sla bench: hand_off_due sent no UPDATE of sla_timers to explain")
    statement, params = captured[0]
    with runtime.db.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params
        ).scalars()
        out = "\n".join(f"    {line}" for line in plan)
        conn.rollback()
    return out


def _rounds(runtime: Runtime, picker: Picker, due: int) -> dict[str, Any]:
    meter = SqlMeter(runtime.db.engine)
    sweeps, claims, statements, sql_ms, fires = [], [], [], [], []
    plan = ""
    for r in range(ROUNDS):
        now = utc_now()
        ids = picker.take(due)
        _make_due(runtime, ids, [now - timedelta(milliseconds=1000 * i / due) for i in range(due)])
        if r == 0:
            plan = _explain(runtime, now, due)
        claim_ms, claimed = _claim_ms(runtime, now, due)
        assert claimed == due, f"the hand-off found {claimed}, expected {due}"
        claims.append(claim_ms)
        runtime.clock = lambda now=now: now  # type: ignore[misc]
        meter.reset()
        began = time.perf_counter()
        handed = hand_off_sla(runtime, limit=due)  # the scheduler's sweep
        sweeps.append((time.perf_counter() - began) * 1000)
        statements.append(meter.count)
        sql_ms.append(meter.seconds * 1000)
        assert len(handed) == due, f"handed off {len(handed)}, expected {due}"
        runtime.broker.flush(SLA)  # nobody consumes here: the workers' part is timed next
        began = time.perf_counter()
        breaches = escalations = 0
        for start in range(0, due, 50):  # as the SLA workers do it, one chunk after the other
            result = sweep_sla(runtime, limit=150, ticket_ids=handed[start : start + 50])
            breaches += result.breaches
            escalations += result.escalations
        fires.append((time.perf_counter() - began) * 1000)
        assert breaches == due and escalations == due, (breaches, escalations)
        print(
            f"  round {r + 1}: sweep (hand-off) {sweeps[-1]:.1f} ms, {statements[-1]} SQL "
            f"statements taking {sql_ms[-1]:.1f} ms; the statement alone {claim_ms:.1f} ms; "
            f"then the workers' firing ({breaches} breaches + {escalations} assignee emails) "
            f"{fires[-1]:.0f} ms in one thread",
            flush=True,
        )
    runtime.clock = utc_now
    event.remove(runtime.db.engine, "before_cursor_execute", meter._before)
    event.remove(runtime.db.engine, "after_cursor_execute", meter._after)
    return {
        "sweeps": sweeps,
        "fires": fires,
        "claims": claims,
        "statements": statistics.fmean(statements),
        "sql_ms": statistics.fmean(sql_ms),
        "plan": plan,
    }


def _fire_delay(runtime: Runtime, picker: Picker, interval: float) -> dict[str, Any]:
    """The real scheduler loop on the real clock while timers fall due continuously."""
    settings = runtime.settings
    runtime.settings = settings.model_copy(
        update={"scheduler": settings.scheduler.model_copy(update={"interval_s": interval})}
    )
    count = int(DELAY_RUN_S * DELAY_RATE)
    ids = picker.take(count)
    first = utc_now() + timedelta(seconds=1)
    dues = [first + timedelta(seconds=i / DELAY_RATE) for i in range(count)]
    _make_due(runtime, ids, dues)
    ends: list[datetime] = []  # when each hand-off returned
    original = workers.runtime.scheduler.hand_off_sla

    def recorded(rt: Runtime, *, limit: int = 1000) -> Any:
        result = original(rt, limit=limit)
        ends.append(utc_now())
        return result

    workers.runtime.scheduler.hand_off_sla = recorded  # type: ignore[assignment]
    scheduler = Scheduler(runtime)
    thread = threading.Thread(target=scheduler.run, daemon=True)
    worker = dramatiq.Worker(
        runtime.broker, queues={SLA}, worker_threads=WORKER_THREADS, worker_timeout=100
    )  # the SLA workers
    try:
        worker.start()
        thread.start()
        time.sleep((dues[-1] - utc_now()).total_seconds() + 2 * interval + 1.0)
    finally:
        scheduler.stop()
        thread.join(30)
        runtime.broker.join(SLA)
        worker.stop()
        workers.runtime.scheduler.hand_off_sla = original
        runtime.settings = settings
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.id, s.breached_at, o.created_at FROM sla_timers AS s "
                "LEFT JOIN outbox AS o ON o.ticket_id = s.ticket_id AND o.kind = 'sla_breached' "
                "WHERE s.id = ANY(:ids)"
            ),
            {"ids": ids},
        ).all()
    due_of = dict(zip(ids, dues, strict=True))
    queued, missing = [], 0
    for timer_id, breached_at, created_at in rows:
        if breached_at is None or created_at is None:
            missing += 1
            continue
        due_at = due_of[timer_id]
        queued.append((created_at - due_at).total_seconds() * 1000)
    return {
        "fired": len(queued),
        "missing": missing,
        "ticks": len(ends),
        "p50": _pct(queued, 0.5),
        "p99": _pct(queued, 0.99),
        "max": max(queued, default=0.0),
    }


def _print_delay(interval: float, d: dict[str, Any]) -> None:
    print(
        f"  interval {interval:g} s: {d['fired']} fired over {d['ticks']} ticks "
        f"({d['missing']} not fired); due -> outbox row created p50 {d['p50']:.0f} ms, "
        f"p99 {d['p99']:.0f} ms, max {d['max']:.0f} ms",
        flush=True,
    )


def _run(args: argparse.Namespace, tmp: Path, url: str) -> None:
    config = tmp / "sla.toml"
    agents = "".join(AGENT.format(i=i) for i in range(AGENTS))
    config.write_text(CONFIG.format(outbox=tmp / "outbox", agents=agents))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env.update(RELAYDESK_DATABASE_URL=url, RELAYDESK_BROKER_URL="stub://")
    settings = load_settings(config, environ=env)
    interval = args.interval or settings.scheduler.interval_s
    stub = StubBroker()
    stub.emit_after("process_boot")
    runtime = build_runtime(settings, broker=stub, pool_size=4)
    try:
        prepare_database(runtime)
        print(f"loading {args.tickets} open tickets x 2 running timers ...", flush=True)
        load_s, open_timers = _load(runtime, args.tickets)
        print(
            f"  loaded in {load_s:.1f} s (INSERT ... SELECT generate_series, then ANALYZE); "
            f"{open_timers} running timers",
            flush=True,
        )
        picker = Picker(_resolution_ids(runtime))
        print(f"sweep: {ROUNDS} rounds of {args.due} timers due in the last second", flush=True)
        rounds = _rounds(runtime, picker, args.due)
        print(f"  hand-off statement ({args.due} rows) plan:\n{rounds['plan']}", flush=True)
        sweeps = rounds["sweeps"]
        print(
            f"  sweep (hand-off) p50 {statistics.median(sweeps):.1f} ms, max "
            f"{max(sweeps):.1f} ms: {rounds['statements']:.0f} SQL statements taking "
            f"{rounds['sql_ms']:.1f} ms in the driver, {args.due // 50} broker messages; "
            f"the workers' firing p50 {statistics.median(rounds['fires']):.0f} ms per "
            f"{args.due} in one thread",
            flush=True,
        )
        delay: dict[str, Any] = {"p50": float("nan"), "p99": float("nan")}
        if not args.skip_delay:
            print(
                f"fire delay: Scheduler.run on the real clock, {DELAY_RATE} breaches due per "
                f"second for {DELAY_RUN_S:g} s; each queues the assignee's email (escalation "
                "step 0)",
                flush=True,
            )
            delay = _fire_delay(runtime, picker, interval)
            _print_delay(interval, delay)
            if interval != 0.2:
                _print_delay(0.2, _fire_delay(runtime, picker, 0.2))
    finally:
        runtime.close()
    print(
        f"open_timers={open_timers} sweep_ms={statistics.median(sweeps):.1f} "
        f"sweep_ms_max={max(sweeps):.1f} sweep_query_ms={statistics.median(rounds['claims']):.2f} "
        f"fire_ms={statistics.median(rounds['fires']):.0f} "
        f"fire_delay_p50_ms={delay['p50']:.0f} fire_delay_p99_ms={delay['p99']:.0f} "
        f"due={args.due} interval_s={interval:g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument(
        "--interval", type=float, default=None, help="Scheduler interval_s (default: config's)."
    )
    parser.add_argument("--skip-delay", action="store_true", help="Only the sweep rounds.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_postgres_database(durable=True) as url:
        _run(args, Path(tmp), url)


if __name__ == "__main__":
    main()
