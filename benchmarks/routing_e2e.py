"""Phase ``e2e`` of ``benchmarks.routing``: routing throughput through the store and workers.

On a fresh PostgreSQL database (dropped afterwards) and its own Redis namespace
(a private redis-server started for the run, or RELAYDESK_BENCH_REDIS, where only
this run's keys are deleted afterwards): one team of A agents (online, capacity 5-20, seniority
0-10, each of 20 skills at level 1-5 with a chance of one half, a fifth with a
web limit of 2-6) and rules that give a ticket 0-2 required skills, 0-1 optional
one and sometimes an urgent or high priority, by keywords in its subject.

N tickets (and a warm-up of 50) are made before timing, by intake and ingest in
this process on a stub broker, so none is routed yet. Then P worker processes
(``workers.runtime.processes.worker_process`` consuming only ``route``, T threads each)
start on Redis; the warm-up is routed; every ticket gets one route message at
once, and the clock runs from the first send to the last route that finished.
Done means exactly N distinct tickets with a ``ticket.assigned`` or
``ticket.waiting`` audit event. Assignment notices are written to the outbox in
the route transaction (part of routing) but not delivered: nothing consumes the
outbound queue, and the transport is ``file`` anyway.

Each worker records, per route message, its wall and thread CPU time and its SQL
statements (BEGIN and COMMIT not counted); CPU seconds by process come from /proc.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import signal
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import event, func, select

from benchmarks.bench_redis import ENV as BENCH_REDIS_ENV
from benchmarks.bench_redis import bench_redis, redis_url
from config import load_settings
from config.settings import Settings
from router.envelopes import InboundMessage
from router.vocabulary import Channel
from store.models import AuditEvent, InboxItem
from tests.support.services import fresh_postgres_database
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database, worker_process
from workers.runtime.queues import ROUTE
from workers.steps.ingest import ingest

SKILLS = [f"s{k:02d}" for k in range(20)]
WARM_UP = 50
ROUTED = ("ticket.assigned", "ticket.waiting")
STALL_S = 60

CONFIG = """
[helpdesk]
name = "relaydesk routing bench"
address = "support@bench.test"
default_team = "desk"
acknowledge = false

[smtp]
transport = "file"
file_dir = "{outbox}"

[broker]
namespace = "{namespace}"

[routing]
prefer_senior_for = ["urgent", "high"]

[[teams]]
name = "desk"
{rules}{agents}"""


def _rules(rng: random.Random) -> str:
    rules = [
        '[[rules.all_match]]\nname = "urgent"\nwhen = { keywords = ["urgent"] }\n'
        'set = { priority = "urgent" }\n',
        '[[rules.all_match]]\nname = "high"\nwhen = { keywords = ["soon"] }\n'
        'set = { priority = "high" }\n',
    ]
    for skill in SKILLS:
        for word, kind in (("need", "required"), ("like", "optional")):
            rules.append(
                f'[[rules.all_match]]\nname = "{word}-{skill}"\n'
                f'when = {{ keywords = ["{word}{skill}"] }}\n'
                f"set = {{ {kind}_skills = {{ {skill} = {rng.randint(1, 3)} }} }}\n"
            )
    return "\n".join(rules)


def _agents(rng: random.Random, count: int) -> str:
    blocks = []
    for i in range(count):
        skills = ", ".join(f"{s} = {rng.randint(1, 5)}" for s in SKILLS if rng.random() < 0.5)
        limit = f"channel_capacity = {{ web = {rng.randint(2, 6)} }}\n" if i % 5 == 0 else ""
        blocks.append(
            f'\n[[agents]]\nname = "a{i}"\nemail = "a{i}@bench.test"\nteams = ["desk"]\n'
            f'status = "online"\ncapacity = {rng.randint(5, 20)}\n'
            f"seniority = {rng.randint(0, 10)}\nskills = {{ {skills} }}\n{limit}"
        )
    return "".join(blocks)


def _subjects(rng: random.Random, count: int) -> list[str]:
    subjects = []
    for i in range(count):
        named = rng.sample(SKILLS, 3)
        words = [f"need{s}" for s in named[: rng.randint(0, 2)]]
        words += [f"like{named[2]}"] if rng.random() < 0.5 else []
        words += rng.choices(([], ["urgent"], ["soon"]), (0.7, 0.1, 0.2))[0]
        subjects.append(" ".join(["problem", *rng.sample(words, len(words)), str(i)]))
    return subjects


def _create(runtime: Runtime, subjects: list[str], tag: str) -> list[int]:
    """Real tickets through intake and ingest, on ``runtime``'s stub broker: none routed."""
    intake = StoreIntake(runtime)

    def one(i: int) -> int:
        receipt = intake.accept(
            InboundMessage(
                channel=Channel.WEB,
                idempotency_key=f"{tag}-{i}",
                sender_address=f"{tag}-{i}@example.org",
                sender_name=f"Customer {i}",
                subject=subjects[i],
                body_text="It does not work since this morning, please help.",
            )
        )
        ingest(runtime, receipt.inbox_id)
        return receipt.inbox_id

    with ThreadPoolExecutor(4) as pool:
        inbox_ids = list(pool.map(one, range(len(subjects))))
    with runtime.db.unit_of_work() as uow:
        tickets = uow.session.scalars(
            select(InboxItem.ticket_id).where(InboxItem.id.in_(inbox_ids))
        ).all()
    assert len(tickets) == len(subjects) and None not in tickets, "a ticket was not created"
    return sorted(int(t) for t in tickets if t is not None)


# -- worker processes, recording every route ---------------------------------------------


class RouteRecorder(dramatiq.Middleware):
    """Per route message: [ticket, finished (epoch s), wall s, thread CPU s, statements, failed]."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.records: list[list[Any]] = []

    def statement(self, *_: Any) -> None:
        self.local.statements = getattr(self.local, "statements", 0) + 1

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self.local.statements = 0
        self.local.start = (time.perf_counter(), time.thread_time())

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        start = getattr(self.local, "start", None)
        if start is None or message.actor_name != "route_ticket":
            return
        record = [
            message.args[0],
            time.time(),
            time.perf_counter() - start[0],
            time.thread_time() - start[1],
            self.local.statements,
            exception is not None,
        ]
        with self.lock:
            self.records.append(record)


def _worker_main(settings: Settings, threads: int, log: str, out: str) -> None:
    """``worker_process`` on the route queue, its output in ``log``, its records in ``out``."""
    import workers.runtime.processes

    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    recorder = RouteRecorder()
    build = workers.runtime.processes.build_runtime

    def build_recording(*args: Any, **kwargs: Any) -> Runtime:
        runtime = build(*args, **kwargs)
        runtime.broker.add_middleware(recorder)
        event.listen(runtime.db.engine, "before_cursor_execute", recorder.statement)
        return runtime

    workers.runtime.processes.build_runtime = build_recording
    worker_process(settings, [ROUTE], threads)
    Path(out, f"{os.getpid()}.json").write_text(json.dumps(recorder.records))


# -- CPU seconds by process, from /proc ---------------------------------------------------


def _cpu(workers: set[int]) -> dict[str, float]:
    tick = os.sysconf("SC_CLK_TCK")
    line = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    total = sum(int(v) for v in line[:8]) / tick
    out = {"machine busy": total - (int(line[3]) + int(line[4])) / tick}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            comm, rest = proc.joinpath("stat").read_text().split(" (", 1)[1].rsplit(") ", 1)
        except (OSError, ValueError):
            continue
        fields, pid = rest.split(), int(proc.name)
        used = int(fields[11]) + int(fields[12])
        if pid == os.getpid():
            key = "bench process"
        elif pid in workers:
            key = "workers"
        elif comm == "postgres":  # with its exited backends
            key, used = "postgresql", used + int(fields[13]) + int(fields[14])
        elif comm.startswith("redis-server"):
            key = "redis"
        else:
            key = "other processes"
        out[key] = out.get(key, 0.0) + used / tick
    return out


# -- the phase ---------------------------------------------------------------------------


def _routed(runtime: Runtime, first: int) -> dict[str, set[int]]:
    with runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(AuditEvent.action, AuditEvent.ticket_id).where(
                AuditEvent.action.in_(ROUTED), AuditEvent.ticket_id >= first
            )
        ).all()
    found: dict[str, set[int]] = {a: set() for a in ROUTED}
    for action, ticket_id in rows:
        if ticket_id is not None:
            found[action].add(ticket_id)
    return found


def _count_routed(runtime: Runtime, first: int) -> int:
    with runtime.db.unit_of_work() as uow:
        return int(
            uow.session.scalar(
                select(func.count(func.distinct(AuditEvent.ticket_id))).where(
                    AuditEvent.action.in_(ROUTED), AuditEvent.ticket_id >= first
                )
            )
            or 0
        )


def _wait(runtime: Runtime, first: int, target: int, workers: list[Any], log: Path) -> None:
    """Until ``target`` tickets from id ``first`` on are routed; loud on a stall."""
    seen, since = -1, time.monotonic()
    while (done := _count_routed(runtime, first)) < target:
        if done != seen:
            seen, since = done, time.monotonic()
        dead = [p.pid for p in workers if not p.is_alive()]
        if dead or time.monotonic() - since > STALL_S:
            tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
            raise RuntimeError(f"stalled at {done} of {target} routed (dead: {dead}):\n{tail}")
        time.sleep(0.1)


def _stop(workers: list[Any]) -> None:
    for proc in workers:
        if proc.is_alive() and proc.pid:
            os.kill(proc.pid, signal.SIGTERM)
    for proc in workers:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
            proc.join(5)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)] if ordered else 0.0


def e2e_phase(args: argparse.Namespace) -> dict[str, str]:
    namespace = f"bench-routing-{uuid.uuid4().hex[:8]}"
    try:
        with (
            bench_redis(),  # RELAYDESK_BENCH_REDIS, else a private redis-server
            tempfile.TemporaryDirectory() as tmp,
            fresh_postgres_database(durable=True) as url,
        ):
            return _report(args, **_run(args, namespace, Path(tmp), url))
    finally:  # only this run's keys, when RELAYDESK_BENCH_REDIS is shared with others
        if os.environ.get(BENCH_REDIS_ENV):
            client = redis.Redis.from_url(redis_url())
            keys = list(client.scan_iter(f"{namespace}:*", count=1000))
            if keys:
                client.delete(*keys)


def _run(args: argparse.Namespace, namespace: str, tmp: Path, url: str) -> dict[str, Any]:
    rng = random.Random(args.seed)
    config = tmp / "routing.toml"
    config.write_text(
        CONFIG.format(
            outbox=tmp / "outbox",
            namespace=namespace,
            rules=_rules(rng),
            agents=_agents(rng, args.e2e_agents),
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env.update(RELAYDESK_DATABASE_URL=url, RELAYDESK_BROKER_URL=redis_url())
    settings = load_settings(config, environ=env)
    stub = StubBroker()
    stub.emit_after("process_boot")
    maker = build_runtime(settings, broker=stub, pool_size=6)
    sender = build_runtime(settings, pool_size=2)
    log, out = tmp / "workers.log", tmp / "records"
    out.mkdir()
    workers: list[Any] = []
    try:
        prepare_database(maker)
        began = time.perf_counter()
        warm = _create(maker, _subjects(rng, WARM_UP), "warm")
        tickets = _create(maker, _subjects(rng, args.e2e_tickets), "bench")
        made_s = time.perf_counter() - began
        maker.close()
        ctx = multiprocessing.get_context("spawn")
        for _ in range(args.processes):
            proc = ctx.Process(target=_worker_main, args=(settings, args.threads, str(log), out))
            proc.start()
            workers.append(proc)
        for ticket_id in warm:  # boots the workers' connections, caches and code paths
            sender.enqueue_route(ticket_id)
        _wait(sender, warm[0], WARM_UP, workers, log)
        pids = {p.pid for p in workers if p.pid}
        cpu_before, sent = _cpu(pids), {}
        start = time.time()
        for ticket_id in tickets:
            sender.enqueue_route(ticket_id)
            sent[ticket_id] = time.time()
        enqueue_s = time.time() - start
        _wait(sender, tickets[0], len(tickets), workers, log)
        cpu = {k: v - cpu_before.get(k, 0.0) for k, v in _cpu(pids).items()}
        seen_s = time.time() - start
        _stop(workers)  # they write their records as they exit
        routed = _routed(sender, tickets[0])
    finally:
        _stop(workers)
        sender.close()
        maker.close()
    records = [r for f in out.glob("*.json") for r in json.loads(f.read_text())]
    return {
        "sent": sent,
        "start": start,
        "made_s": made_s,
        "enqueue_s": enqueue_s,
        "seen_s": seen_s,
        "cpu": cpu,
        "routed": routed,
        "records": [r for r in records if r[0] in sent],
    }


def _report(
    args: argparse.Namespace,
    *,
    sent: dict[int, float],
    start: float,
    made_s: float,
    enqueue_s: float,
    seen_s: float,
    cpu: dict[str, float],
    routed: dict[str, set[int]],
    records: list[list[Any]],
) -> dict[str, str]:
    n = len(sent)
    assigned = routed["ticket.assigned"]
    assert len(assigned) + len(routed["ticket.waiting"]) == n, "assigned + waiting != tickets"
    ok = [r for r in records if not r[5]]
    complete = {r[0] for r in ok} == set(sent)  # else a worker died with its records
    elapsed = max(r[1] for r in ok) - start if complete else seen_s
    latency = [(r[1] - sent[r[0]]) * 1000 for r in ok]
    wall = [r[2] * 1000 for r in records]
    statements = {
        a: [r[4] for r in ok if (r[0] in assigned) is (a == "assigned")]
        for a in ("assigned", "waiting")
    }
    per_route = statistics.fmean(r[4] for r in ok)
    print(
        f"end to end: {n} tickets, {args.e2e_agents} agents x {len(SKILLS)} skills in one team, "
        f"{args.processes} worker processes x {args.threads} threads consuming only route "
        "(PostgreSQL + Redis)"
    )
    print(f"  made {n + WARM_UP} tickets by intake + ingest in {made_s:.1f} s (not timed)")
    print(
        f"  routed {n} in {elapsed:.2f} s = {n / elapsed:.0f} tickets/s: assigned "
        f"{len(assigned)} ({100 * len(assigned) / n:.1f}%), waiting {n - len(assigned)}; "
        f"{len(records) - len(ok)} failed attempts (retried)"
        + ("" if complete else "; records missing: elapsed as polled")
    )
    print(
        f"  route sent -> committed (all {n} sent at once, in {enqueue_s:.2f} s; mostly "
        f"queueing): p50 {_pct(latency, 0.5):.0f} ms, p99 {_pct(latency, 0.99):.0f} ms"
    )
    print(
        f"  one route, in the worker: wall p50 {_pct(wall, 0.5):.1f} ms, p99 "
        f"{_pct(wall, 0.99):.1f} ms; thread CPU {statistics.fmean(r[3] for r in ok) * 1000:.2f} "
        f"ms; SQL statements {per_route:.1f} (+ BEGIN, COMMIT): "
        + ", ".join(f"{k} {statistics.fmean(v):.1f}" for k, v in statements.items() if v)
    )
    print(f"  CPU seconds while routing ({seen_s:.2f} s wall x {os.cpu_count()} cores):")
    for key, secs in sorted(cpu.items(), key=lambda kv: -kv[1]):
        print(
            f"    {key:18} {secs:6.2f} s  {secs / seen_s:4.2f} cores  "
            f"{secs * 1000 / n:5.2f} ms/ticket"
        )
    return {
        "routed_per_s": f"{n / elapsed:.0f}",
        "e2e_tickets": str(n),
        "e2e_processes": str(args.processes),
        "e2e_threads": str(args.threads),
        "e2e_agents": str(args.e2e_agents),
        "e2e_assigned_pct": f"{100 * len(assigned) / n:.1f}",
        "e2e_p50_ms": f"{_pct(latency, 0.5):.0f}",
        "e2e_p99_ms": f"{_pct(latency, 0.99):.0f}",
        "route_p50_ms": f"{_pct(wall, 0.5):.1f}",
        "route_p99_ms": f"{_pct(wall, 0.99):.1f}",
        "worker_cpu_ms_per_route": f"{cpu.get('workers', 0.0) * 1000 / n:.2f}",
        "pg_cpu_ms_per_route": f"{cpu.get('postgresql', 0.0) * 1000 / n:.2f}",
        "sql_per_route": f"{per_route:.1f}",
    }
