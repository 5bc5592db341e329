"""Throughput and latency of the distributed pipeline, against a bare dramatiq baseline.

    python -m benchmarks.pipeline [--tickets 2000] [--processes 2] [--threads 4] [--rate R]
        [--rates 50,100] [--paced-tickets 1000] [--idle-seconds 5] [--worker-timeout-ms MS]
        [--hops 500] [--hop-rate 50] [--hops-only]

Runs on Redis (a private redis-server started for the run, or RELAYDESK_BENCH_REDIS)
and a fresh PostgreSQL database (dropped afterwards). In one run it measures:

1. the hop rate of a no-op dramatiq actor on the same broker, with the same
   worker processes, threads and broker settings (the baseline), then ``--hops``
   no-op messages sent at ``--hop-rate`` to idle workers: how long each takes from
   its send to a worker thread (what the broker adds to every step of a ticket);
2. N tickets pushed through direct intake -> ingest -> route -> agent
   notification delivered to an SMTP sink (aiosmtpd), with the requester's
   acknowledgement delivered too;
3. for each of ``--rates``, ``--paced-tickets`` tickets offered at that rate (below
   capacity: latency without queueing, and what a quiet desk costs per ticket), on
   worker processes of their own.

``--hops-only`` stops after step 1 (its figures as a last key=value line of their own:
noop_hops_per_s, hop_p50_ms, hop_p99_ms, hop_cpu_ms). ``--worker-timeout-ms`` sets the
workers' idle timeout (``broker.worker_timeout_ms``: how long an idle consumer waits on
its queue before it looks again).

The last line is key=value pairs: tickets_per_s, p50_ms, p99_ms (accepted ->
agent notified), noop_hops_per_s, hops_per_ticket (the actor steps a ticket
takes), hop_p50_ms, hop_p99_ms and hop_cpu_ms (the paced no-op messages: send ->
worker thread, and the workers' CPU per message, waiting included), ratio
(tickets_per_s x hops_per_ticket / noop_hops_per_s), messages_per_ticket (broker
messages the workers took per ticket, from their tallies: under load many tickets
share one), statements_per_ticket and commits_per_ticket (what the worker processes
sent to the database and committed, from the same tallies: their whole life, the
warm-up included), worker_cpu_ms_per_ticket,
db_transactions_per_ticket (every transaction on the database meanwhile, from
pg_stat_database: the intake's and the benchmark's own reads included) and
worker_rss_peak_mb (the largest peak resident set of a worker process, from
/proc VmHWM) with worker_rss_growth_mb (the largest growth of one from after the
warm-up to the end), idle_cpu_ms_per_s (the worker processes' CPU per second with no
traffic, over ``--idle-seconds`` after the warm-up: what a quiet desk costs); then per
paced rate R: rateR_p50_ms, rateR_p99_ms, rateR_cpu_ms_per_ticket,
rateR_idle_cpu_ms_per_s, rateR_db_transactions_per_ticket,
rateR_statements_per_ticket and rateR_rss_peak_mb.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import signal
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import IO

import dramatiq
import redis
from sqlalchemy import select, text

from benchmarks.bench_redis import bench_redis, redis_url
from benchmarks.pipeline_desk import (
    bench_desk,
    cpu_seconds,
    push,
    start_workers,
    worker_memory,
)
from config.settings import Settings
from store.models import InboxItem, OutboxItem, Ticket
from tests.support.smtp_sink import SmtpSink
from workers.channels.intake import StoreIntake
from workers.runtime.broker import make_broker
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime

NOOP_QUEUE = "bench.noop"
STEPS_PER_TICKET = 4  # ingest, route, deliver acknowledgement, deliver agent notice
WARM_TICKETS = 50
WARM_HOPS = 20


# -- the baseline: a no-op actor on the same broker and worker settings ----------------


def _noop_worker(settings: Settings, threads: int, counter_key: str) -> None:
    broker = make_broker(settings)
    client = redis.Redis.from_url(redis_url())

    def noop() -> None:
        client.incr(counter_key)  # the only way to know it ran; one round trip

    def hop(sent_at: float) -> None:  # how long the message took to reach a worker thread
        client.rpush(counter_key, time.time() - sent_at)

    dramatiq.actor(actor_name="bench_noop", queue_name=NOOP_QUEUE, broker=broker)(noop)
    dramatiq.actor(actor_name="bench_hop", queue_name=NOOP_QUEUE, broker=broker)(hop)
    worker = dramatiq.Worker(
        broker,
        queues={NOOP_QUEUE},
        worker_threads=threads,
        worker_timeout=settings.broker.worker_timeout_ms,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    stop.wait()
    worker.stop()


def _noop_workers(
    settings: Settings, processes: int, threads: int, key: str
) -> list[multiprocessing.process.BaseProcess]:
    ctx = multiprocessing.get_context("spawn")
    procs: list[multiprocessing.process.BaseProcess] = [
        ctx.Process(target=_noop_worker, args=(settings, threads, key)) for _ in range(processes)
    ]
    for p in procs:
        p.start()
    time.sleep(3)  # let the workers boot and start polling
    return procs


def _stop_noop_workers(procs: list[multiprocessing.process.BaseProcess]) -> None:
    for p in procs:
        os.kill(p.pid or 0, signal.SIGTERM)
    for p in procs:
        p.join(15)


def _process_cpu(procs: list[multiprocessing.process.BaseProcess]) -> float:
    """User + system CPU seconds of these processes, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = [Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split() for p in procs]
    return sum(int(f[11]) + int(f[12]) for f in fields) / tick


def measure_hops(
    settings: Settings, processes: int, threads: int, count: int, rate: float
) -> dict[str, float]:
    """``count`` no-op messages sent at ``rate`` per second to idle workers: how long each
    took from its send to a worker thread (p50, p99) and the workers' CPU per message,
    their waiting included."""
    key = f"bench-hop-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url())
    broker = make_broker(settings)
    actor = dramatiq.actor(actor_name="bench_hop", queue_name=NOOP_QUEUE, broker=broker)(
        lambda sent_at: None
    )
    procs = _noop_workers(settings, processes, threads, key)
    try:
        for _ in range(WARM_HOPS):  # every worker booted and polling before the timing
            actor.send(time.time())
        _wait_length(client, key, WARM_HOPS)
        client.delete(key)
        time.sleep(1)  # idle again
        cpu_before = _process_cpu(procs)
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            actor.send(time.time())
        _wait_length(client, key, count)
        cpu = _process_cpu(procs) - cpu_before
        waits = sorted(float(w) * 1000 for w in client.lrange(key, 0, -1))
    finally:
        _stop_noop_workers(procs)
        client.delete(key)
    return {
        "p50_ms": statistics.median(waits),
        "p99_ms": waits[max(int(len(waits) * 0.99) - 1, 0)],
        "cpu_ms": cpu * 1000 / count,
    }


def _wait_length(client: redis.Redis, key: str, target: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while client.llen(key) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no-op hops stalled at {client.llen(key)} of {target}")
        time.sleep(0.01)


def measure_noop(settings: Settings, processes: int, threads: int, count: int) -> float:
    key = f"bench-noop-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url())
    broker = make_broker(settings)
    actor = dramatiq.actor(actor_name="bench_noop", queue_name=NOOP_QUEUE, broker=broker)(
        lambda: None
    )
    procs = _noop_workers(settings, processes, threads, key)
    warm = min(count // 10, 500)
    for _ in range(warm):
        actor.send()
    _wait_counter(client, key, warm)
    client.delete(key)
    start = time.perf_counter()
    for _ in range(count):
        actor.send()
    _wait_counter(client, key, count)
    elapsed = time.perf_counter() - start
    _stop_noop_workers(procs)
    client.delete(key)
    return count / elapsed


def _wait_counter(client: redis.Redis, key: str, target: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while int(client.get(key) or 0) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no-op baseline stalled at {int(client.get(key) or 0)} of {target}")
        time.sleep(0.005)


# -- the pipeline ---------------------------------------------------------------------


def run_pipeline(
    settings: Settings,
    env: dict[str, str],
    sink: SmtpSink,
    args: argparse.Namespace,
    *,
    tickets: int,
    rate: float,
) -> dict[str, float]:
    """``tickets`` through the pipeline on worker processes of their own, offered all at
    once (``rate`` 0) or at ``rate`` per second."""
    with tempfile.TemporaryFile("w+") as worker_log:  # parsed for the workers' tallies
        return _run_pipeline(settings, env, sink, args, worker_log, tickets, rate)


def _run_pipeline(
    settings: Settings,
    env: dict[str, str],
    sink: SmtpSink,
    args: argparse.Namespace,
    worker_log: IO[str],
    tickets: int,
    rate: float,
) -> dict[str, float]:
    worker = start_workers(env, args.processes, args.threads, worker_log)
    runtime = build_runtime(settings, pool_size=args.intake_threads + 2)
    intake = StoreIntake(runtime)
    try:
        time.sleep(4)  # workers boot
        before = len(sink.messages)  # (a paced run follows others on the same sink)
        push(intake, "warm", WARM_TICKETS, args.intake_threads)
        sink.wait_for(before + 2 * WARM_TICKETS, timeout=120)
        baseline = len(sink.messages)
        rss_warm = worker_memory(worker.pid)
        idle_from = cpu_seconds(worker.pid)
        time.sleep(args.idle_seconds)  # nothing sent: what the workers cost while waiting
        idle_cpu = cpu_seconds(worker.pid) - idle_from
        xacts_before = _transactions(runtime)
        cpu_before = cpu_seconds(worker.pid)
        start = time.perf_counter()
        accepted = push(intake, "bench", tickets, args.intake_threads, rate)
        sink.wait_for(baseline + 2 * tickets, timeout=600)
        elapsed = time.perf_counter() - start
        worker_cpu = cpu_seconds(worker.pid) - cpu_before
        memory = worker_memory(worker.pid)
        time.sleep(1.5)  # a backend reports its transactions to the statistics within 1 s
        transactions = _transactions(runtime) - xacts_before
        arrivals = sink.arrival_times()
        with runtime.db.unit_of_work() as uow:
            rows = uow.session.execute(
                select(InboxItem.id, OutboxItem.message_id)
                .join(OutboxItem, OutboxItem.ticket_id == InboxItem.ticket_id)
                .where(OutboxItem.kind == "assignment", InboxItem.id.in_(list(accepted)))
            ).all()
        latencies = [
            (arrivals[message_id] - accepted[inbox_id]) * 1000
            for inbox_id, message_id in rows
            if message_id in arrivals
        ]
        stages = _stages(runtime, list(accepted))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        runtime.close()
    worker_log.seek(0)
    output = worker_log.read()
    args.worker_log.write(output)
    messages = sum(int(m) for m in re.findall(r"processed (\d+) messages", output))
    sent = re.findall(r"sent (\d+) statements, (\d+) commits", output)
    statements, commits = (sum(int(pair[i]) for pair in sent) for i in (0, 1))
    latencies.sort()
    print("  stages (median ms): " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items()))
    growth = [
        (rss - rss_warm[pid][1]) / 1024 for pid, (_, rss) in memory.items() if pid in rss_warm
    ]
    return {
        "tickets": float(tickets),
        "notified": float(len(latencies)),
        "tickets_per_s": tickets / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)],
        "worker_cpu_ms_per_ticket": worker_cpu * 1000 / tickets,
        "idle_cpu_ms_per_s": idle_cpu * 1000 / args.idle_seconds if args.idle_seconds else 0,
        # every transaction on the database, the intake's and the benchmark's reads included
        "db_transactions_per_ticket": transactions / tickets,
        # every message the workers took, the warm-up's 50 tickets included
        "messages_per_ticket": messages / (tickets + WARM_TICKETS),
        # the workers' statements and commits over their whole life, per ticket of it (the
        # warm-up's included, and what they do idle: a few heartbeats)
        "statements_per_ticket": statements / (tickets + WARM_TICKETS),
        "commits_per_ticket": commits / (tickets + WARM_TICKETS),
        "worker_rss_peak_mb": max((hwm for hwm, _ in memory.values()), default=0) / 1024,
        "worker_rss_growth_mb": max(growth, default=0.0),
    }


def _transactions(runtime: Runtime) -> int:
    """Transactions committed and rolled back on the benchmark's database so far."""
    with runtime.db.unit_of_work() as uow:
        return int(
            uow.session.execute(
                text(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database"
                    " WHERE datname = current_database()"
                )
            ).scalar_one()
        )


def _stages(runtime: Runtime, inbox_ids: list[int]) -> dict[str, float]:
    """Where the time goes, from the timestamps the store keeps (median, ms)."""
    with runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(
                InboxItem.received_at,
                Ticket.created_at,
                Ticket.assigned_at,
                OutboxItem.created_at,
                OutboxItem.sent_at,
            )
            .join(Ticket, Ticket.id == InboxItem.ticket_id)
            .join(
                OutboxItem, (OutboxItem.ticket_id == Ticket.id) & (OutboxItem.kind == "assignment")
            )
            .where(InboxItem.id.in_(inbox_ids))
        ).all()

    def median_ms(pairs: list[tuple[datetime, datetime]]) -> float:
        return statistics.median((b - a).total_seconds() * 1000 for a, b in pairs) if pairs else 0

    return {
        "accepted->ingested": median_ms([(r[0], r[1]) for r in rows]),
        "ingested->assigned": median_ms([(r[1], r[2]) for r in rows if r[2]]),
        "assigned->sent": median_ms([(r[3], r[4]) for r in rows if r[4]]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--intake-threads", type=int, default=4)
    parser.add_argument("--noop-messages", type=int, default=20000)
    parser.add_argument(
        "--skip-noop", action="store_true", help="Only the pipeline (no ratio, no hops)."
    )
    parser.add_argument(
        "--hop-rate",
        type=float,
        default=50,
        help="No-op messages per second sent to idle workers after the baseline, to time "
        "each hop from send to worker thread (0: none).",
    )
    parser.add_argument("--hops", type=int, default=500, help="How many (--hop-rate).")
    parser.add_argument(
        "--hops-only", action="store_true", help="Only the no-op baseline and hops."
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="Tickets per second offered (default: all at once, which measures throughput; "
        "a rate below capacity measures latency without queueing).",
    )
    parser.add_argument(
        "--rates",
        default="50,100",
        help="Paced runs after the main one, tickets per second, comma-separated "
        "('' for none): latency and worker CPU per ticket below capacity.",
    )
    parser.add_argument("--paced-tickets", type=int, default=1000)
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=5,
        help="How long each run's workers are left without traffic after the warm-up, "
        "their CPU measured meanwhile.",
    )
    parser.add_argument(
        "--worker-timeout-ms",
        type=int,
        default=None,
        help="The broker's idle timeout (broker.worker_timeout_ms; default: the settings').",
    )
    parser.add_argument(
        "--worker-log",
        type=argparse.FileType("w"),
        default="/dev/null",
        help="Where the worker processes' output goes.",
    )
    args = parser.parse_args()

    namespace = f"bench{uuid.uuid4().hex[:6]}"
    try:
        _run(args, namespace)
    finally:  # only this run's keys: another benchmark may share the database
        client = redis.Redis.from_url(redis_url())
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)


def _run(args: argparse.Namespace, namespace: str) -> None:
    with bench_desk(
        namespace, agents=args.agents, worker_timeout_ms=args.worker_timeout_ms
    ) as desk:
        settings, env, sink = desk.settings, desk.env, desk.sink
        print(
            f"baseline: no-op actor, {args.processes} processes x {args.threads} threads ...",
            flush=True,
        )
        noop = (
            float("nan")
            if args.skip_noop
            else measure_noop(settings, args.processes, args.threads, args.noop_messages)
        )
        print(f"  {noop:.0f} hops/s", flush=True)
        hops = {"p50_ms": float("nan"), "p99_ms": float("nan"), "cpu_ms": float("nan")}
        if args.hop_rate and not args.skip_noop:
            print(f"no-op hops: {args.hops} sent at {args.hop_rate:g}/s ...", flush=True)
            hops = measure_hops(settings, args.processes, args.threads, args.hops, args.hop_rate)
            print(
                f"  send -> worker thread p50 {hops['p50_ms']:.1f} ms, p99 "
                f"{hops['p99_ms']:.1f} ms, {hops['cpu_ms']:.2f} ms of worker CPU per message",
                flush=True,
            )
        if args.hops_only:
            print(
                f"noop_hops_per_s={noop:.1f} hop_p50_ms={hops['p50_ms']:.1f} "
                f"hop_p99_ms={hops['p99_ms']:.1f} hop_cpu_ms={hops['cpu_ms']:.2f}"
            )
            return
        print(f"pipeline: {args.tickets} tickets ...", flush=True)
        result = run_pipeline(settings, env, sink, args, tickets=args.tickets, rate=args.rate)
        _say(result)
        paced: dict[str, dict[str, float]] = {}
        for rate in (float(r) for r in args.rates.split(",") if r.strip()):
            print(f"paced: {args.paced_tickets} tickets at {rate:g}/s ...", flush=True)
            paced[f"{rate:g}"] = run_pipeline(
                settings, env, sink, args, tickets=args.paced_tickets, rate=rate
            )
            _say(paced[f"{rate:g}"])
    # a hop is one step of one ticket through an actor (what the no-op measures per
    # message); under load many tickets share a broker message (messages_per_ticket)
    ratio = result["tickets_per_s"] * STEPS_PER_TICKET / noop
    print(
        f"tickets_per_s={result['tickets_per_s']:.1f} p50_ms={result['p50_ms']:.1f} "
        f"p99_ms={result['p99_ms']:.1f} noop_hops_per_s={noop:.1f} "
        f"hops_per_ticket={STEPS_PER_TICKET} ratio={ratio:.3f} "
        f"hop_p50_ms={hops['p50_ms']:.1f} hop_p99_ms={hops['p99_ms']:.1f} "
        f"hop_cpu_ms={hops['cpu_ms']:.2f} "
        f"messages_per_ticket={result['messages_per_ticket']:.2f} "
        f"worker_cpu_ms_per_ticket={result['worker_cpu_ms_per_ticket']:.1f} "
        f"idle_cpu_ms_per_s={result['idle_cpu_ms_per_s']:.1f} "
        f"db_transactions_per_ticket={result['db_transactions_per_ticket']:.2f} "
        f"statements_per_ticket={result['statements_per_ticket']:.2f} "
        f"commits_per_ticket={result['commits_per_ticket']:.2f} "
        f"worker_rss_peak_mb={result['worker_rss_peak_mb']:.0f} "
        f"worker_rss_growth_mb={result['worker_rss_growth_mb']:.1f}"
        + "".join(
            f" rate{rate}_p50_ms={r['p50_ms']:.1f} rate{rate}_p99_ms={r['p99_ms']:.1f}"
            f" rate{rate}_cpu_ms_per_ticket={r['worker_cpu_ms_per_ticket']:.1f}"
            f" rate{rate}_idle_cpu_ms_per_s={r['idle_cpu_ms_per_s']:.1f}"
            f" rate{rate}_db_transactions_per_ticket={r['db_transactions_per_ticket']:.2f}"
            f" rate{rate}_statements_per_ticket={r['statements_per_ticket']:.2f}"
            f" rate{rate}_rss_peak_mb={r['worker_rss_peak_mb']:.0f}"
            for rate, r in paced.items()
        )
    )


def _say(result: dict[str, float]) -> None:
    print(
        f"  {result['tickets_per_s']:.0f} tickets/s, accepted -> agent notified "
        f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms "
        f"({result['notified']:.0f} of {result['tickets']:.0f} measured), "
        f"{result['worker_cpu_ms_per_ticket']:.1f} ms of worker CPU per ticket "
        f"({result['idle_cpu_ms_per_s']:.1f} ms per second idle), "
        f"{result['db_transactions_per_ticket']:.2f} database transactions per ticket, "
        f"the workers' {result['statements_per_ticket']:.1f} statements and "
        f"{result['commits_per_ticket']:.2f} commits per ticket, "
        f"worker RSS peak {result['worker_rss_peak_mb']:.0f} MB "
        f"(+{result['worker_rss_growth_mb']:.1f} MB after the warm-up)",
        flush=True,
    )


if __name__ == "__main__":
    with bench_redis():  # RELAYDESK_BENCH_REDIS, else a private redis-server
        main()
