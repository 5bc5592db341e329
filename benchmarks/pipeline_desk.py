"""The desk the pipeline benchmarks run on (``benchmarks.pipeline``, ``benchmarks.worker_memory``).

A private configuration (one team, ``--agents`` online agents by email), a fresh
PostgreSQL database (migrated; dropped afterwards), an SMTP sink for what the workers
send, and the helpers both benchmarks measure with: the worker processes started as
ops would run them, tickets pushed through direct intake, and each worker process's
CPU and memory read from /proc.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from benchmarks.bench_redis import redis_url
from config import load_settings
from config.settings import Settings
from router.envelopes import InboundMessage
from router.vocabulary import Channel
from tests.support.services import fresh_postgres_database
from tests.support.smtp_sink import SmtpSink
from workers.channels.intake import StoreIntake

CAPACITY = 10_000  # an agent's, the most the settings allow
WORKER_QUEUES = "ingest.web,route,outbound.email"  # what the pipeline uses, as ops would run it

CONFIG = """
[helpdesk]
name = "relaydesk bench"
address = "support@bench.test"
default_team = "support"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {port}

[scheduler]
redrive_after_s = 120

[broker]
namespace = "{namespace}"
{broker}
[[teams]]
name = "support"
{agents}
"""

AGENT = """
[[agents]]
name = "agent{i}"
email = "agent{i}@bench.test"
teams = ["support"]
capacity = {capacity}
status = "online"
"""


@dataclass(frozen=True)
class BenchDesk:
    settings: Settings
    env: dict[str, str]  # the worker processes' environment
    sink: SmtpSink


@contextmanager
def bench_desk(
    namespace: str, *, agents: int, keep_mail: bool = True, worker_timeout_ms: int | None = None
) -> Iterator[BenchDesk]:
    """The desk, migrated, its sink listening; each agent holds up to ``CAPACITY`` tickets
    (nobody is released: the agents must hold every ticket of a run between them).
    ``keep_mail``: the sink keeps each message (else it counts them);
    ``worker_timeout_ms``: the broker's idle timeout (else the settings' default)."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        SmtpSink(keep=keep_mail) as sink,
        fresh_postgres_database(durable=True) as pg,
    ):
        config = Path(tmp) / "bench.toml"
        people = "".join(AGENT.format(i=i, capacity=CAPACITY) for i in range(agents))
        broker = f"worker_timeout_ms = {worker_timeout_ms}\n" if worker_timeout_ms else ""
        config.write_text(
            CONFIG.format(port=sink.port, namespace=namespace, broker=broker, agents=people)
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
        env.update(
            RELAYDESK_CONFIG=str(config),
            RELAYDESK_DATABASE_URL=pg,
            RELAYDESK_BROKER_URL=redis_url(),
            PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        )
        subprocess.run(
            [sys.executable, "-m", "workers", "migrate"], env=env, check=True, capture_output=True
        )
        yield BenchDesk(load_settings(config, environ=env), env, sink)


def start_workers(
    env: dict[str, str], processes: int, threads: int, log: IO[str]
) -> subprocess.Popen[bytes]:
    """``relaydesk worker`` on the pipeline's queues; its processes are its children."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workers",
            "worker",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
            "--queues",
            WORKER_QUEUES,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def push(
    intake: StoreIntake, prefix: str, count: int, threads: int, rate: float = 0, first: int = 0
) -> dict[int, float]:
    """Accept ``count`` tickets (numbered from ``first``), as fast as possible or paced at
    ``rate`` per second: {inbox id: when accepted}."""
    run = uuid.uuid4().hex[:8]
    start = time.perf_counter()

    def one(i: int) -> tuple[int, float]:
        if rate:
            delay = start + (i - first) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        receipt = intake.accept(
            InboundMessage(
                channel=Channel.WEB,
                idempotency_key=f"{prefix}-{run}-{i}",
                # a new requester each: the auto-reply limit would hold back the
                # acknowledgements of a requester who wrote in every run
                sender_address=f"customer{i}-{run}@example.org",
                sender_name=f"Customer {i}",
                subject=f"Request {i}",
                body_text="Something is broken, please help.",
            )
        )
        return receipt.inbox_id, time.perf_counter()

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one, range(first, first + count)))


def _children(pid: int) -> list[int]:
    """The worker processes of ``relaydesk worker`` ``pid`` (not multiprocessing's
    resource tracker beside them)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = []
    for child in children.read_text().split() if children.exists() else []:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            found.append(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process's children (the worker processes), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for child in _children(pid):
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def worker_memory(pid: int) -> dict[int, tuple[int, int]]:
    """Each worker process's peak and current resident set in KiB (VmHWM, VmRSS), by pid."""
    found: dict[int, tuple[int, int]] = {}
    for child in _children(pid):
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        kib = [int(fields.get(k, "0 kB").split()[0]) for k in ("VmHWM", "VmRSS")]
        found[child] = (kib[0], kib[1])
    return found
