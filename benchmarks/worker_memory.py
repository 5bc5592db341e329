"""A worker process's memory over many tickets: how high it goes, and whether it stays flat.

    python -m benchmarks.worker_memory [--tickets 100000] [--samples 20]
        [--warm-tickets 1000] [--processes 2] [--threads 4] [--agents 20]
        [--intake-threads 4] [--rate R]

From a fresh clone (``pip install -e '.[dev]'``, PostgreSQL on 127.0.0.1:5432 as the
README's tests use it, and ``redis-server`` on the PATH unless RELAYDESK_BENCH_REDIS
names a Redis to use): 100,000 tickets take about an hour on 2 cores;
``--tickets 2000 --samples 4`` is a run of a minute.

The pipeline of ``benchmarks.pipeline`` (web intake -> ingest -> route -> the
acknowledgement and the agent's notice delivered to an SMTP sink, which only counts
them here), on Redis (RELAYDESK_BENCH_REDIS, else a private redis-server) and a fresh
PostgreSQL database (dropped afterwards), on one set of worker processes for the whole
run. A warm-up of ``--warm-tickets`` goes first; then ``--tickets`` are offered in
``--samples`` rounds (each all at once, or at ``--rate`` per second), and once a
round's mail has all arrived each worker process's resident set (VmRSS, /proc) is
printed, so its course over the run can be read.

The last line is key=value pairs: tickets, worker_rss_warm_mb (the largest resident
set of a worker process after the warm-up), worker_rss_mid_mb (half way),
worker_rss_end_mb, worker_rss_peak_mb (the largest peak, VmHWM),
worker_rss_growth_mb (the largest growth of one process from after the warm-up to
the end), worker_rss_late_growth_mb (the same over the second half: about 0 when
flat), worker_cpu_ms_per_ticket and tickets_per_s.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
import uuid

import redis

from benchmarks.bench_redis import bench_redis, redis_url
from benchmarks.pipeline_desk import (
    CAPACITY,
    bench_desk,
    cpu_seconds,
    push,
    start_workers,
    worker_memory,
)
from tests.support.smtp_sink import SmtpSink
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime

MAILS_PER_TICKET = 2  # the acknowledgement and the agent's notice


def _mb(kib: int) -> float:
    return kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20, help="Rounds, one reading each.")
    parser.add_argument("--warm-tickets", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--intake-threads", type=int, default=4)
    parser.add_argument(
        "--rate", type=float, default=0, help="Tickets per second offered (default: at once)."
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
    total = args.warm_tickets + args.tickets
    agents = max(args.agents, total // CAPACITY + 1)  # nobody is ever full
    with (
        bench_desk(namespace, agents=agents, keep_mail=False) as desk,
        tempfile.TemporaryFile("w+") as worker_log,
    ):
        worker = start_workers(desk.env, args.processes, args.threads, worker_log)
        runtime = build_runtime(desk.settings, pool_size=args.intake_threads + 2)
        intake = StoreIntake(runtime)
        try:
            time.sleep(4)  # workers boot
            print(f"warm-up: {args.warm_tickets} tickets ...", flush=True)
            _offer(intake, desk.sink, args, "warm", args.warm_tickets, first=0)
            warm = worker_memory(worker.pid)
            _say(0, warm, 0.0)
            cpu_before = cpu_seconds(worker.pid)
            start = time.perf_counter()
            readings = [warm]
            done = 0
            for n in range(args.samples):
                count = args.tickets * (n + 1) // args.samples - done
                _offer(intake, desk.sink, args, "bench", count, first=done)
                done += count
                readings.append(worker_memory(worker.pid))
                _say(done, readings[-1], time.perf_counter() - start)
            elapsed = time.perf_counter() - start
            worker_cpu = cpu_seconds(worker.pid) - cpu_before
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
            runtime.close()
    mid, end = readings[len(readings) // 2], readings[-1]
    print(
        f"tickets={done} "
        f"worker_rss_warm_mb={_mb(max(rss for _, rss in warm.values())):.0f} "
        f"worker_rss_mid_mb={_mb(max(rss for _, rss in mid.values())):.0f} "
        f"worker_rss_end_mb={_mb(max(rss for _, rss in end.values())):.0f} "
        f"worker_rss_peak_mb={_mb(max(hwm for hwm, _ in end.values())):.0f} "
        f"worker_rss_growth_mb={_growth(warm, end):.1f} "
        f"worker_rss_late_growth_mb={_growth(mid, end):.1f} "
        f"worker_cpu_ms_per_ticket={worker_cpu * 1000 / max(done, 1):.1f} "
        f"tickets_per_s={done / elapsed:.1f}"
    )


def _offer(
    intake: StoreIntake,
    sink: SmtpSink,
    args: argparse.Namespace,
    prefix: str,
    count: int,
    first: int,
) -> None:
    """Offer ``count`` tickets and wait until their mail has all arrived."""
    expected = sink.received + MAILS_PER_TICKET * count
    push(intake, prefix, count, args.intake_threads, args.rate, first=first)
    sink.wait_for_count(expected, timeout=120 + count)  # at least a ticket a second


def _growth(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]) -> float:
    """The largest growth of one worker process's resident set, in MB."""
    grown = [_mb(after[pid][1] - rss) for pid, (_, rss) in before.items() if pid in after]
    return max(grown, default=0.0)


def _say(done: int, memory: dict[int, tuple[int, int]], elapsed: float) -> None:
    each = ", ".join(f"{pid}: {_mb(rss):.1f} MB" for pid, (_, rss) in sorted(memory.items()))
    rate = f", {done / elapsed:.0f} tickets/s" if elapsed else ""
    print(f"  {done} tickets{rate}: resident {each}", flush=True)


if __name__ == "__main__":
    with bench_redis():  # RELAYDESK_BENCH_REDIS, else a private redis-server
        main()
