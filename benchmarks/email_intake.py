"""Throughput of email intake: IMAP poller -> ingest, and inbound SMTP -> ingest.

    python -m benchmarks.email_intake [--messages 2000] [--processes 2] [--threads 4]
        [--smtp-clients 4] [--batch 50] [--skip-imap] [--skip-smtp] [--skip-desk]
        [--queues ingest.email] [--desk-queues ingest.email,route,outbound.email]
        [--sequential] [--stall-timeout 60]

Builds N messages of mixed shapes in memory (``benchmarks.mail_corpus``: copies
of the test corpus with fresh Message-IDs, plain, HTML-only, text + HTML, 50-200
KiB attachments), then runs each phase on a fresh PostgreSQL database (dropped
afterwards) and its own Redis namespace (a private redis-server started for
the run, or RELAYDESK_BENCH_REDIS, whose keys of the run are deleted afterwards), with worker
processes consuming the phase's queues (outbound mail goes to an aiosmtpd sink
in this process):

1. IMAP: the N messages are appended to a private Dovecot's INBOX (not timed),
   then one ``ImapPoller`` (after = "seen") runs in this process; timed from its
   start until every inbox row is ingested (a ticket, a message on one, quiet
   or failed). The workers consume ``--queues``: ingest only, by default, so
   this is the time until every message is a ticket;
2. SMTP: an ``SmtpInboundServer`` runs in this process and K client processes
   (smtplib, one connection each, CRLF line endings as an MTA sends them) send
   their share of the same N messages; timed from the first MAIL until every
   inbox row is ingested; workers on ``--queues``;
3. IMAP, whole desk: phase 1 again with the workers on ``--desk-queues`` (ingest,
   route and outbound email): while the messages become tickets, the tickets are
   routed and the acknowledgements and the agents' notices are sent, all on the
   same cores; still timed until every row is ingested.

``--sequential`` stops the workers (SIGSTOP) while the poller runs, to see the
poller's rate and the workers' rate each on its own.

The figures are CPU-bound on 2 cores: anything else running meanwhile lowers
them, and the CPU report names it. Every phase prints where the time goes (the
poller's or server's own stages, the workers' wall and CPU per actor, CPU
seconds by process, the store's timestamps). A row that is never ingested fails
the run loudly (no state change for --stall-timeout seconds) with the counts by
state, errors, queue sizes and the workers' log.

The last line is key=value pairs: imap_msgs_per_s and smtp_msgs_per_s (N /
time until all are ingested), imap_accept_per_s and smtp_accept_per_s (N / time
until the poller committed the last one, or the last 250 was received), then
messages, tickets (new tickets opened, IMAP phase), processes, threads, the
whole desk's imap_desk_msgs_per_s, and more.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import signal
import smtplib
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import dramatiq
import redis
from sqlalchemy import Engine, create_engine, text

from benchmarks.bench_redis import bench_redis, redis_url
from benchmarks.mail_corpus import HELPDESK, Corpus, build_corpus
from config import load_settings
from config.email_settings import MailboxSettings
from config.settings import Settings
from connectors.email.imap import ImapPoller
from connectors.email.imap_session import ImapSession
from connectors.email.smtp_inbound import SmtpInboundServer
from router.vocabulary import Channel
from tests.support.dovecot import Dovecot
from tests.support.services import fresh_postgres_database
from tests.support.smtp_sink import SmtpSink
from workers.channels.mail_intake import (
    ImapMessageSink,
    InboundMail,
    SmtpMailSink,
    StoreMailboxState,
)
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database, worker_process
from workers.runtime.queues import ROUTE, ingest_queue, outbound_queue

QUEUES = (ingest_queue(Channel.EMAIL), ROUTE, outbound_queue(Channel.EMAIL))
FINAL = ("done", "quiet", "failed")
WARM_UP = 30  # messages through every step before a phase is timed (imports, pools)
CORES = os.cpu_count() or 1

CONFIG = """
[helpdesk]
name = "relaydesk bench"
address = "{address}"
default_team = "support"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {port}

[scheduler]
redrive_after_s = 600

[broker]
namespace = "{namespace}"

[email]
attachments_dir = "{attachments}"

[email.inbound_smtp]
host = "127.0.0.1"
port = 0
addresses = ["{address}"]
# one connection carries a client's whole share: the default (100 of each command
# per session) would close it after 99 messages
max_commands = 100000

[[teams]]
name = "support"
{agents}
"""

AGENT = """
[[agents]]
name = "agent{i}"
email = "agent{i}@bench.test"
teams = ["support"]
capacity = 10000
status = "online"
"""


# -- where the time goes in this process -----------------------------------------------


class Timings:
    """Wall seconds and calls per stage; thread-safe (the SMTP server delivers in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stages: dict[str, list[float]] = {}  # name -> [seconds, calls]

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            stage = self.stages.setdefault(name, [0.0, 0])
            stage[0] += seconds
            stage[1] += 1

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - start)

    def seconds(self, name: str) -> float:
        return self.stages.get(name, [0.0, 0])[0]

    def calls(self, name: str) -> int:
        return int(self.stages.get(name, [0.0, 0])[1])


class TimedSession:
    """An ``ImapSession`` whose server round trips are timed."""

    def __init__(self, session: ImapSession, timings: Timings) -> None:
        self._session = session
        self._timings = timings

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def uids_after(self, last_uid: int) -> list[int]:
        with self._timings("imap: NOOP + UID SEARCH"):
            return self._session.uids_after(last_uid)

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        with self._timings("imap: UID FETCH RFC822.SIZE"):
            return self._session.sizes(uids)

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        with self._timings("imap: UID FETCH BODY.PEEK[]"):
            return self._session.fetch(uids)

    def settle(self, uids: Sequence[int]) -> None:
        with self._timings("imap: UID STORE +FLAGS \\Seen"):
            self._session.settle(uids)


class TimedIntake:
    """``StoreIntake`` timed: INSERT + COMMIT of the inbox rows (the enqueue runs after it)."""

    def __init__(self, intake: Any, timings: Timings) -> None:
        self._intake = intake
        self._timings = timings

    def accept(self, message: Any, *, raw: bytes | None = None) -> Any:
        with self._timings("sink: store (INSERT + COMMIT + enqueue)"):
            return self._intake.accept(message, raw=raw)

    def accept_many(self, messages: Any) -> Any:
        with self._timings("sink: store (INSERT + COMMIT + enqueue)"):
            return self._intake.accept_many(messages)

    def expect(self, messages: int) -> None:
        self._intake.expect(messages)


def _time_sink(runtime: Runtime, mail: InboundMail, timings: Timings) -> None:
    """Time the inbox commit and the enqueue (a Redis round trip) of this runtime's intake."""
    mail.intake = TimedIntake(mail.intake, timings)  # type: ignore[assignment]
    enqueue = runtime.enqueue_ingest

    def timed_enqueue(inbox_id: int, channel: Channel) -> None:
        with timings("sink: enqueue ingest (Redis)"):
            enqueue(inbox_id, channel)

    runtime.enqueue_ingest = timed_enqueue  # type: ignore[method-assign]


class TimedImapSink:
    def __init__(self, runtime: Runtime, timings: Timings) -> None:
        self._sink = ImapMessageSink(runtime)
        self._timings = timings
        _time_sink(runtime, self._sink.mail, timings)

    def deliver(self, mailbox: str, uidvalidity: int, uid: int, raw: bytes) -> None:
        with self._timings("sink: deliver (all)"):
            self._sink.deliver(mailbox, uidvalidity, uid, raw)

    def deliver_many(
        self, mailbox: str, uidvalidity: int, messages: Sequence[tuple[int, bytes]]
    ) -> None:
        with self._timings("sink: deliver (all)"):
            self._sink.deliver_many(mailbox, uidvalidity, messages)

    def keep_refused(
        self, mailbox: str, uidvalidity: int, uid: int, headers: bytes, reason: str
    ) -> None:
        self._sink.keep_refused(mailbox, uidvalidity, uid, headers, reason)


class TimedSmtpSink:
    def __init__(self, runtime: Runtime, timings: Timings) -> None:
        self._sink = SmtpMailSink(runtime)
        self._timings = timings
        _time_sink(runtime, self._sink.mail, timings)

    def deliver(self, raw: bytes, *, mail_from: str, recipients: tuple[str, ...]) -> None:
        with self._timings("sink: deliver (all)"):
            self._sink.deliver(raw, mail_from=mail_from, recipients=recipients)

    def sessions(self, open_now: int) -> None:
        self._sink.sessions(open_now)


class TimedState:
    def __init__(self, state: StoreMailboxState, timings: Timings) -> None:
        self._state = state
        self._timings = timings

    def load(self, mailbox: str) -> tuple[int, int] | None:
        with self._timings("cursor: load, save, report"):
            return self._state.load(mailbox)

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        with self._timings("cursor: load, save, report"):
            self._state.save(mailbox, uidvalidity, last_uid)

    def report(self, mailbox: str, error: str | None) -> None:
        with self._timings("cursor: load, save, report"):
            self._state.report(mailbox, error)


def _print_stages(timings: Timings, wall: float, count: int, title: str) -> None:
    """Each stage: total seconds, share of ``wall``, ms per message, calls."""
    deliver = timings.seconds("sink: deliver (all)")
    store = timings.seconds("sink: store (INSERT + COMMIT + enqueue)")
    enqueue = timings.seconds("sink: enqueue ingest (Redis)")
    rows: list[tuple[str, float, int]] = [
        (name, secs, int(calls))
        for name, (secs, calls) in timings.stages.items()
        if not name.startswith("sink:")
    ]
    rows += [
        (
            "sink: read headers (envelope_message)",
            deliver - store,
            timings.calls("sink: deliver (all)"),
        ),
        (
            "sink: INSERT + COMMIT inbox rows",
            store - enqueue,
            timings.calls("sink: store (INSERT + COMMIT + enqueue)"),
        ),
        ("sink: enqueue ingest (Redis)", enqueue, timings.calls("sink: enqueue ingest (Redis)")),
    ]
    accounted = sum(secs for _name, secs, _calls in rows)
    if wall:
        rows.append(("(rest: poller loop, GIL waits)", wall - accounted, 0))
    print(f"  {title}" + (f" (wall {wall:.2f} s):" if wall else ":"))
    for name, secs, calls in rows:
        share = f"{secs / wall * 100:5.1f}%" if wall else "      "
        per = f"{secs * 1000 / count:6.2f} ms/msg" if count else ""
        calls_text = f"  ({calls} calls, {secs * 1000 / calls:.2f} ms each)" if calls else ""
        print(f"    {name:44} {secs:7.2f} s {share} {per}{calls_text}")


# -- CPU seconds by process ------------------------------------------------------------


def _stat(path: str) -> list[str] | None:
    try:
        return Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _ticks(fields: list[str], children: bool = False) -> float:
    used = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        used += int(fields[13]) + int(fields[14])  # of children waited for (exited ones)
    return used / os.sysconf("SC_CLK_TCK")


_STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def _machine() -> dict[str, float]:
    """CPU seconds of all cores since boot, by kind (/proc/stat)."""
    line = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    tick = os.sysconf("SC_CLK_TCK")
    return {name: int(value) / tick for name, value in zip(_STAT_FIELDS, line, strict=False)}


@dataclass
class CpuProbe:
    """CPU seconds by process group, this process's threads, and whatever else ran.

    Keys: ``machine:<kind>`` (/proc/stat), ``group:<name>`` (our processes, Dovecot,
    PostgreSQL, Redis), ``thread:<label>`` (this process), ``pid:<pid>:<comm>``
    (any other process).
    """

    workers: Sequence[int] = ()
    dovecot_pgid: int | None = None
    ignore: Sequence[int] = ()  # processes that report their own CPU
    labels: dict[int, str] = field(default_factory=dict)  # native thread id -> label

    def snapshot(self) -> dict[str, float]:
        out = {f"machine:{kind}": value for kind, value in _machine().items()}
        for thread in threading.enumerate():
            fields = _stat(f"/proc/self/task/{thread.native_id}/stat")
            if fields is None or thread.native_id is None:
                continue
            label = self.labels.get(thread.native_id) or _thread_label(thread.name)
            out[f"thread:{label}"] = out.get(f"thread:{label}", 0.0) + _ticks(fields)
        me, workers = os.getpid(), set(self.workers)
        for proc in Path("/proc").glob("[0-9]*"):
            fields = _stat(f"{proc}/stat")
            pid = int(proc.name)
            if fields is None or pid in self.ignore:
                continue
            try:
                comm = (proc / "comm").read_text().strip()
            except OSError:
                continue
            if pid == me:
                key = "group:bench process"
            elif pid in workers:
                key = "group:workers"
            elif self.dovecot_pgid is not None and int(fields[2]) == self.dovecot_pgid:
                key = "group:dovecot"
            elif comm == "postgres":
                key = "group:postgresql (all backends)"
            elif comm.startswith("redis-server"):
                key = "group:redis"
            else:
                key = f"pid:{pid}:{comm}"
            # Dovecot's and PostgreSQL's exited children (a logout, a backend) count with
            # them; for anything else, what exits is left to "not attributed"
            children = key in ("group:dovecot", "group:postgresql (all backends)")
            out[key] = out.get(key, 0.0) + _ticks(fields, children=children)
        return out


def _thread_label(name: str) -> str:
    if name.startswith("smtp-inbound"):
        return "inbound SMTP delivery threads"
    return "other"


def _cpu_report(
    before: dict[str, float], after: dict[str, float], wall: float, extra: dict[str, float]
) -> dict[str, float]:
    """Print CPU seconds used between two snapshots; returns them by key."""
    used = {k: after[k] - before.get(k, 0.0) for k in after}
    used.update(extra)
    machine = {k.split(":", 1)[1]: v for k, v in used.items() if k.startswith("machine:")}
    busy = sum(machine.values()) - machine.get("idle", 0.0) - machine.get("iowait", 0.0)
    groups = {k.split(":", 1)[1]: v for k, v in used.items() if k.startswith("group:")}
    threads = {k.split(":", 1)[1]: v for k, v in used.items() if k.startswith("thread:")}
    others: dict[str, float] = {}
    for key, value in used.items():
        if key.startswith("pid:"):
            comm = key.split(":", 2)[2]
            others[comm] = others.get(comm, 0.0) + value
    print(
        f"  CPU seconds in the window ({wall:.2f} s wall x {CORES} cores = "
        f"{wall * CORES:.1f} available; machine busy {busy:.1f} = {busy / wall / CORES:.0%}; "
        + ", ".join(f"{k} {machine.get(k, 0.0):.1f}" for k in ("system", "softirq", "steal"))
        + "):"
    )
    for name, value in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"    {name:40} {value:6.2f} s  ({value / wall:.2f} cores)")
        if name == "bench process":
            for label, secs in sorted(threads.items(), key=lambda kv: -kv[1]):
                if secs >= 0.01:
                    print(f"      thread: {label:32} {secs:6.2f} s")
    top = sorted(((v, k) for k, v in others.items() if v >= 0.05), reverse=True)[:4]
    print(
        f"    {'other processes':40} {sum(others.values()):6.2f} s  "
        + ", ".join(f"{comm} {secs:.2f}" for secs, comm in top)
    )
    unseen = busy - sum(groups.values()) - sum(others.values())
    print(f"    {'not attributed (kernel; processes gone)':40} {unseen:6.2f} s")
    result = {f"group:{k}": v for k, v in groups.items()}
    result["machine busy"] = busy
    return result


# -- worker processes, with a clock per actor ------------------------------------------


class ActorClock(dramatiq.Middleware):
    """Wall and thread CPU seconds per message, by actor (in each worker process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.stats: dict[str, list[float]] = {}  # actor -> [messages, wall, cpu, failures]

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self._local.start = (time.monotonic(), time.thread_time())

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        start = getattr(self._local, "start", None)
        if start is None:
            return
        wall, cpu = time.monotonic() - start[0], time.thread_time() - start[1]
        with self._lock:
            stat = self.stats.setdefault(message.actor_name, [0, 0.0, 0.0, 0])
            stat[0] += 1
            stat[1] += wall
            stat[2] += cpu
            stat[3] += exception is not None


def _worker_main(settings: Settings, queues: list[str], threads: int, log: str, out: str) -> None:
    """``workers.runtime.processes.worker_process``, its output in ``log``, with an ActorClock."""
    import workers.runtime.processes

    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    clock = ActorClock()
    build = workers.runtime.processes.build_runtime

    def build_with_clock(*args: Any, **kwargs: Any) -> Runtime:
        runtime = build(*args, **kwargs)
        runtime.broker.add_middleware(clock)
        return runtime

    workers.runtime.processes.build_runtime = build_with_clock
    worker_process(settings, queues, threads)
    (Path(out) / f"{os.getpid()}.json").write_text(json.dumps(clock.stats))


@dataclass
class Desk:
    """One phase's store, broker namespace and worker processes."""

    name: str
    settings: Settings
    runtime: Runtime
    engine: Engine
    namespace: str
    workers: list[multiprocessing.process.BaseProcess]
    log: Path
    stats_dir: Path
    queues: list[str] = field(default_factory=lambda: list(QUEUES))  # those consumed
    base_id: int = 0  # inbox rows above this one are the measured ones
    actor_stats: dict[str, list[float]] = field(default_factory=dict)

    def queue_sizes(self, queues: Sequence[str] = QUEUES) -> dict[str, int]:
        """Messages in Redis (queued, in flight, delayed ``.DQ``, dead ``.XQ``) by queue."""
        client = redis.Redis.from_url(redis_url())
        sizes = {}
        for queue in queues:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                sizes[name] = int(client.hlen(f"{self.namespace}:{name}.msgs"))
        return sizes

    def signal_workers(self, signum: int) -> None:
        for proc in self.workers:
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signum)

    def stop_workers(self) -> None:
        """SIGTERM, wait, collect each one's actor clock; a worker that hangs is killed."""
        for proc in self.workers:
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.workers:
            proc.join(30)
            if proc.is_alive():
                print(f"  worker {proc.pid} did not stop within 30 s: killed", flush=True)
                proc.kill()
                proc.join(5)
            stats = self.stats_dir / f"{proc.pid}.json"
            if stats.exists():
                for actor, values in json.loads(stats.read_text()).items():
                    total = self.actor_stats.setdefault(actor, [0, 0.0, 0.0, 0])
                    for i, value in enumerate(values):
                        total[i] += value
        self.workers = []


@contextmanager
def desk(
    phase: str, tmp: Path, sink: SmtpSink, args: argparse.Namespace, queues: str
) -> Iterator[Desk]:
    """A fresh database and namespace, migrated, with warm worker processes on ``queues``."""
    namespace = f"bench-{phase}-{uuid.uuid4().hex[:6]}"
    with fresh_postgres_database(durable=True) as url:
        config = tmp / f"{phase}.toml"
        config.write_text(
            CONFIG.format(
                address=HELPDESK,
                port=sink.port,
                namespace=namespace,
                attachments=tmp / f"attachments-{phase}",
                agents="".join(AGENT.format(i=i) for i in range(20)),
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
        env.update(RELAYDESK_DATABASE_URL=url, RELAYDESK_BROKER_URL=redis_url())
        settings = load_settings(config, environ=env)
        runtime = build_runtime(settings, pool_size=16)
        engine = create_engine(url, pool_size=2)
        stats_dir = tmp / f"actor-stats-{phase}"
        stats_dir.mkdir()
        the_desk = Desk(
            phase, settings, runtime, engine, namespace, [], tmp / f"workers-{phase}.log", stats_dir
        )
        try:
            prepare_database(runtime)
            ctx = multiprocessing.get_context("spawn")
            consumed = [q.strip() for q in queues.split(",") if q.strip()]
            the_desk.queues = consumed
            for _ in range(args.processes):
                proc = ctx.Process(
                    target=_worker_main,
                    args=(settings, consumed, args.threads, str(the_desk.log), str(stats_dir)),
                    name="relaydesk-bench-worker",
                )
                proc.start()
                the_desk.workers.append(proc)
            _wait_for_workers(the_desk, args.processes)
            _warm_up(the_desk)
            yield the_desk
        finally:
            the_desk.stop_workers()
            runtime.close()
            engine.dispose()
            client = redis.Redis.from_url(redis_url())
            keys = list(client.scan_iter(f"{namespace}:*", count=1000))
            if keys:
                client.delete(*keys)


def _wait_for_workers(the_desk: Desk, processes: int) -> None:
    """Until every worker process has fetched from Redis (a heartbeat each)."""
    client = redis.Redis.from_url(redis_url())
    deadline = time.monotonic() + 60
    while client.zcard(f"{the_desk.namespace}:__heartbeats__") < processes:
        dead = [p.pid for p in the_desk.workers if not p.is_alive()]
        if dead or time.monotonic() > deadline:
            raise RuntimeError(
                f"worker processes did not start (dead: {dead}):\n{_tail(the_desk.log)}"
            )
        time.sleep(0.1)


def _warm_up(the_desk: Desk) -> None:
    """A few messages of every shape through ingest, route and delivery; not measured."""
    warm = build_corpus(WARM_UP, f"warm-{uuid.uuid4().hex[:8]}", seed=2)
    mail = InboundMail(the_desk.runtime)
    for message in warm.messages:
        mail.accept(message.raw, recipients=(), source="warm-up")
    deadline = time.monotonic() + 120
    while True:
        counts = _counts(the_desk.engine, 0)
        sizes = the_desk.queue_sizes(the_desk.queues)  # only those consumed can drain
        queued = [n for q, n in sizes.items() if not q.endswith(".XQ")]
        if sum(counts.get(s, 0) for s in FINAL) >= WARM_UP and not any(queued):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"warm-up did not finish: {_diagnosis(the_desk)}")
        time.sleep(0.1)
    with the_desk.engine.connect() as conn:
        the_desk.base_id = int(
            conn.execute(text("SELECT coalesce(max(id), 0) FROM inbox")).scalar() or 0
        )


# -- watching the inbox ----------------------------------------------------------------


def _counts(engine: Engine, base_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT state, count(*) FROM inbox WHERE id > :base GROUP BY state"),
            {"base": base_id},
        ).all()
    return {str(state): int(count) for state, count in rows}


class Stalled(RuntimeError):
    pass


class Watcher(threading.Thread):
    """Counts the measured inbox rows by state every ``interval`` s until all are final."""

    def __init__(self, the_desk: Desk, target: int, interval: float = 0.05) -> None:
        super().__init__(name="bench-watcher", daemon=True)
        self.desk = the_desk
        self.target = target
        self.interval = interval
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.done_at: float | None = None
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                counts = _counts(self.desk.engine, self.desk.base_id)
                now = time.monotonic()
                self.samples.append((now, counts))
                if sum(counts.get(s, 0) for s in FINAL) >= self.target:
                    self.done_at = now
                    return
                self._halt.wait(self.interval)
        except BaseException as error:
            self.error = error

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def wait(self, stall_s: float) -> float:
        """When the last row became final; raises ``Stalled`` if nothing moves for stall_s."""
        last: dict[str, int] | None = None
        changed = time.monotonic()
        while self.is_alive():
            self.join(0.5)
            latest = self.samples[-1][1] if self.samples else None
            if latest != last:
                last, changed = latest, time.monotonic()
            elif time.monotonic() - changed > stall_s:
                self.stop()
                raise Stalled(
                    f"no inbox row changed state for {stall_s:.0f} s: {_diagnosis(self.desk)}"
                )
        if self.error is not None:
            raise self.error
        assert self.done_at is not None
        return self.done_at

    def at(self, moment: float) -> dict[str, int]:
        """The counts last seen at or before ``moment``."""
        found: dict[str, int] = {}
        for sampled, counts in self.samples:
            if sampled > moment:
                break
            found = counts
        return found

    def timeline(self, start: float, step: float = 1.0) -> str:
        """Rows committed / ingested at each ``step`` since ``start``."""
        points, mark = [], start + step
        end = self.samples[-1][0] if self.samples else start
        while mark < end + step:
            counts = self.at(mark)
            committed = sum(counts.values())
            ingested = sum(counts.get(s, 0) for s in FINAL)
            points.append(f"{mark - start:.0f}s {committed}/{ingested}")
            mark += step
        return ", ".join(points)


def _diagnosis(the_desk: Desk) -> str:
    """Everything that says why rows are not ingested: states, errors, queues, workers."""
    with the_desk.engine.connect() as conn:
        states = conn.execute(
            text(
                "SELECT state, attempts, count(*) FROM inbox WHERE id > :base "
                "GROUP BY state, attempts ORDER BY state, attempts"
            ),
            {"base": the_desk.base_id},
        ).all()
        errors = conn.execute(
            text(
                "SELECT state, left(coalesce(error, ''), 200), count(*), min(id) FROM inbox "
                "WHERE id > :base AND state <> 'done' AND state <> 'quiet' "
                "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 8"
            ),
            {"base": the_desk.base_id},
        ).all()
    alive = {p.pid: p.is_alive() for p in the_desk.workers}
    return (
        "\n  inbox rows by (state, attempts): "
        + ", ".join(f"{s}/{a}: {n}" for s, a, n in states)
        + "\n  unfinished or failed rows, by error (state, error, count, first id):\n"
        + "".join(f"    {s} | {e!r} | {n} | {i}\n" for s, e, n, i in errors)
        + f"  Redis messages pending (queue.msgs): {the_desk.queue_sizes()}\n"
        + f"  worker processes alive: {alive}\n"
        + f"  worker log ({the_desk.log}), last lines:\n{_tail(the_desk.log)}"
    )


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "    (empty)"
    return "\n".join(
        "    " + line for line in path.read_text(errors="replace").splitlines()[-lines:]
    )


# -- results from the store ------------------------------------------------------------


def _outcome(the_desk: Desk, count: int) -> dict[str, float]:
    """How the measured rows ended, and the store's own timestamps (ms)."""
    base = {"base": the_desk.base_id}
    with the_desk.engine.connect() as conn:
        states: dict[str, int] = dict(
            conn.execute(
                text("SELECT state, count(*) FROM inbox WHERE id > :base GROUP BY state"), base
            ).all()
        )
        tickets = int(
            conn.execute(
                text(
                    "SELECT count(*) FROM tickets WHERE id IN "
                    "(SELECT ticket_id FROM inbox WHERE id > :base AND state = 'done')"
                ),
                base,
            ).scalar()
            or 0
        )
        failed = conn.execute(
            text(
                "SELECT left(coalesce(error, ''), 160), count(*) FROM inbox "
                "WHERE id > :base AND state = 'failed' GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
            ),
            base,
        ).all()
        lag = conn.execute(
            text(
                "SELECT percentile_cont(ARRAY[0.5, 0.9, 1.0]) WITHIN GROUP (ORDER BY "
                "extract(epoch FROM m.created_at - i.received_at)) FROM inbox i "
                "JOIN messages m ON m.inbox_id = i.id WHERE i.id > :base"
            ),
            base,
        ).scalar()
        assigned = conn.execute(
            text(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY "
                "extract(epoch FROM t.assigned_at - t.created_at)), count(t.assigned_at) "
                "FROM tickets t WHERE t.id IN "
                "(SELECT ticket_id FROM inbox WHERE id > :base AND state = 'done')"
            ),
            base,
        ).one()
        sent = int(
            conn.execute(
                text(
                    "SELECT count(*) FROM outbox WHERE state = 'done' AND ticket_id IN "
                    "(SELECT ticket_id FROM inbox WHERE id > :base)"
                ),
                base,
            ).scalar()
            or 0
        )
    done, quiet, failures = (int(states.get(s, 0)) for s in FINAL)
    print(
        f"  rows: {done} done ({tickets} new tickets, {done - tickets} joined a ticket), "
        f"{quiet} quiet, {failures} failed, {count - done - quiet - failures} unfinished"
    )
    for error, n in failed:
        print(f"    failed x{n}: {error}")
    if lag:
        print(
            "  store timestamps: received -> ingest began "
            f"p50 {lag[0] * 1000:.0f} ms, p90 {lag[1] * 1000:.0f} ms, max {lag[2] * 1000:.0f} ms"
            f"; ticket -> assigned p50 {(assigned[0] or 0) * 1000:.0f} ms "
            f"({assigned[1]} assigned, {sent} notifications sent by now)"
        )
    return {"done": done, "tickets": tickets, "quiet": quiet, "failed": failures}


def _print_actor_stats(the_desk: Desk) -> None:
    print("  workers, per message (wall in a worker thread / CPU of that thread):")
    for actor, (n, wall, cpu, failures) in sorted(the_desk.actor_stats.items()):
        if n:
            print(
                f"    {actor:28} {int(n):5} msgs  wall {wall / n * 1000:6.1f} ms  "
                f"CPU {cpu / n * 1000:6.1f} ms"
                + (f"  ({int(failures)} raised)" if failures else "")
            )


def _store_probe(engine: Engine, rounds: int = 200) -> str:
    """What a round trip and a one-row INSERT + COMMIT cost on this PostgreSQL."""
    with engine.connect() as conn:
        settings = ", ".join(
            f"{name}={conn.execute(text(f'SHOW {name}')).scalar()}"
            for name in ("synchronous_commit", "fsync", "wal_sync_method")
        )
        conn.execute(text("CREATE TABLE bench_commit_probe (id serial PRIMARY KEY, v int)"))
        conn.commit()
        start = time.monotonic()
        for i in range(rounds):
            conn.execute(text("SELECT :v"), {"v": i})
        trip = (time.monotonic() - start) / rounds
        conn.commit()
        start = time.monotonic()
        for i in range(rounds):
            conn.execute(text("INSERT INTO bench_commit_probe (v) VALUES (:v)"), {"v": i})
            conn.commit()
        commit = (time.monotonic() - start) / rounds
        conn.execute(text("DROP TABLE bench_commit_probe"))
        conn.commit()
    return (
        f"PostgreSQL {settings}: a round trip {trip * 1000:.2f} ms, "
        f"a one-row INSERT + COMMIT {commit * 1000:.2f} ms"
    )


# -- phase 1: IMAP -----------------------------------------------------------------------


def run_imap(
    corpus: Corpus,
    tmp: Path,
    sink: SmtpSink,
    args: argparse.Namespace,
    *,
    queues: str,
    key: str = "imap",
) -> dict[str, float]:
    """The IMAP phase with workers on ``queues``; its figures are named ``{key}_...``."""
    count = len(corpus.messages)
    print(
        f"{key.upper().replace('_', ' ')}: {count} messages, one poller "
        f"(batch {args.batch}, after = seen), workers on {queues} ...",
        flush=True,
    )
    with Dovecot() as dovecot:
        account = dovecot.new_account("bench")
        start = time.monotonic()
        with dovecot.client(account.user) as client:
            for first in range(0, count, 250):
                client.multiappend("INBOX", [m.raw for m in corpus.messages[first : first + 250]])
        print(f"  setup: appended to INBOX in {time.monotonic() - start:.1f} s", flush=True)
        with desk(key.replace("_", "-"), tmp, sink, args, queues) as the_desk:
            print(f"  {_store_probe(the_desk.engine)}", flush=True)
            timings = Timings()
            sessions: list[TimedSession] = []

            def connect(settings: Any) -> ImapSession:
                with timings("imap: connect + LOGIN + SELECT"):
                    session = TimedSession(ImapSession.open(settings), timings)
                sessions.append(session)
                return cast(ImapSession, session)  # a timed stand-in for one

            poller = ImapPoller(
                account.settings("bench", after="seen", batch=args.batch, timeout_s=60),
                TimedImapSink(the_desk.runtime, timings),
                TimedState(StoreMailboxState(the_desk.runtime), timings),
                connect=connect,
            )
            probe = CpuProbe(
                workers=[p.pid for p in the_desk.workers if p.pid],
                dovecot_pgid=getattr(getattr(dovecot, "_proc", None), "pid", None),
                labels=_labels(sink, main="poller (main thread)"),
            )
            watcher = Watcher(the_desk, count)
            if args.sequential:  # the workers wait (SIGSTOP) until the poller is done
                the_desk.signal_workers(signal.SIGSTOP)
            cpu_start = probe.snapshot()
            poller_cpu = time.thread_time()
            started = time.monotonic()
            watcher.start()
            delivered, empty_polls = 0, 0
            try:
                while delivered < count:
                    got = poller.poll_once()
                    delivered += got
                    empty_polls = 0 if got else empty_polls + 1
                    if empty_polls > 20:
                        raise RuntimeError(
                            f"the poller delivered {delivered} of {count} and then nothing "
                            f"in 20 polls: {_diagnosis(the_desk)}"
                        )
                polled = time.monotonic()
                poller_cpu = time.thread_time() - poller_cpu
                cpu_polled = probe.snapshot()
                if args.sequential:
                    the_desk.signal_workers(signal.SIGCONT)
                ingested = watcher.wait(args.stall_timeout)
            finally:
                if args.sequential:
                    the_desk.signal_workers(signal.SIGCONT)
                watcher.stop()
                for session in sessions:
                    session.close()
            cpu_end = probe.snapshot()
            unseen = len(dovecot_unseen(dovecot, account.user))
            wall, poll_wall = ingested - started, polled - started
            at_polled = watcher.at(polled)
            print(
                f"  the poller committed {count} rows in {poll_wall:.2f} s "
                f"({count / poll_wall:.0f}/s; {sum(at_polled.get(s, 0) for s in FINAL)} "
                f"ingested by then); all ingested after {wall:.2f} s ({count / wall:.0f}/s), "
                f"ingest lag after the poller {ingested - polled:.2f} s; "
                f"{unseen} left without \\Seen"
            )
            print(f"  progress (committed/ingested): {watcher.timeline(started)}")
            _print_stages(timings, poll_wall, count, "the poller's stages")
            if args.sequential:
                print("  while the poller ran alone (workers stopped):")
                _cpu_report(
                    cpu_start, cpu_polled, poll_wall, {"thread:poller (main thread)": poller_cpu}
                )
                print(f"  then the workers alone: {count / (ingested - polled):.0f} msgs/s")
                used = _cpu_report(cpu_polled, cpu_end, ingested - polled, {})
            else:
                used = _cpu_report(
                    cpu_start, cpu_end, wall, {"thread:poller (main thread)": poller_cpu}
                )
            the_desk.stop_workers()
            _print_actor_stats(the_desk)
            outcome = _outcome(the_desk, count)
    figures = {
        "msgs_per_s": count / wall,
        "accept_per_s": count / poll_wall,
        "ingest_lag_s": ingested - polled,
        "poller_cpu_ms_per_msg": poller_cpu * 1000 / count,
        "worker_cpu_ms_per_msg": used.get("group:workers", 0.0) * 1000 / count,
        "machine_busy": used["machine busy"] / wall / CORES,
        "tickets": outcome["tickets"],
        "quiet": outcome["quiet"],
        "failed": outcome["failed"],
    }
    return {f"{key}_{name}": value for name, value in figures.items()}


def dovecot_unseen(dovecot: Dovecot, user: str) -> list[int]:
    with dovecot.client(user) as client:
        client.select_folder("INBOX", readonly=True)
        return list(client.search("UNSEEN"))


def _labels(sink: SmtpSink, main: str, server: SmtpInboundServer | None = None) -> dict[int, str]:
    """Native thread id -> what the thread does, for the CPU report."""
    labels = {threading.main_thread().native_id or 0: main}
    for owner, label in ((sink, "outbound SMTP sink (aiosmtpd)"), (server, "inbound SMTP loop")):
        controller = getattr(owner, "_controller", None)
        thread = getattr(controller, "_thread", None)
        if thread is not None and thread.native_id:
            labels[thread.native_id] = label
    return labels


# -- phase 2: inbound SMTP ---------------------------------------------------------------


def _smtp_client(
    host: str,
    port: int,
    messages: list[bytes],
    go: Any,
    results: Any,
) -> None:
    """One sending MTA: one connection, its share of the messages, one after another."""
    try:
        smtp = smtplib.SMTP(host, port, timeout=120)
        smtp.ehlo("client.bench.example.org")
        results.put(("ready", os.getpid(), None))
        go.wait()
        cpu_start = os.times()
        accepted: list[tuple[float, float]] = []
        refused: list[str] = []
        for raw in messages:
            start = time.monotonic()
            try:
                smtp.sendmail("mta@bench.example.org", [HELPDESK], raw)
            except smtplib.SMTPResponseException as error:
                refused.append(f"{error.smtp_code} {error.smtp_error!r}")
                continue
            accepted.append((start, time.monotonic()))
        smtp.quit()
        cpu = os.times()
        used = cpu.user + cpu.system - cpu_start.user - cpu_start.system
        results.put(("done", os.getpid(), (accepted, refused, used)))
    except BaseException as error:
        results.put(("error", os.getpid(), repr(error)))
        raise


def _crlf(raw: bytes) -> bytes:
    """Line endings as SMTP carries them: a sending MTA converts bare LF (and CR) to CRLF.

    (smtplib does so only for ``str`` messages; aiosmtpd reads lines up to CRLF, so a
    bare-LF message longer than 1000 bytes would be one over-long line: 500.)
    """
    return _EOL.sub(b"\r\n", raw)


_EOL = re.compile(rb"\r\n|\n|\r(?!\n)")


def run_smtp(
    corpus: Corpus, tmp: Path, sink: SmtpSink, args: argparse.Namespace, *, queues: str
) -> dict[str, float]:
    count, clients = len(corpus.messages), args.smtp_clients
    print(
        f"SMTP: {count} messages, {clients} client processes, one connection each, "
        f"workers on {queues} ..."
    )
    with desk("smtp", tmp, sink, args, queues) as the_desk:
        timings = Timings()
        smtp_sink = TimedSmtpSink(the_desk.runtime, timings)
        server = SmtpInboundServer(  # told of its sessions as `relaydesk serve`'s is
            the_desk.settings.email.inbound_smtp, smtp_sink, on_sessions=smtp_sink.sessions
        )
        server.start()
        ctx = multiprocessing.get_context("spawn")
        go, results = ctx.Event(), ctx.Queue()
        host, port = server.address
        procs = [
            ctx.Process(
                target=_smtp_client,
                args=(host, port, [_crlf(m.raw) for m in corpus.messages[i::clients]], go, results),
                name=f"smtp-client-{i}",
            )
            for i in range(clients)
        ]
        watcher = Watcher(the_desk, count)
        try:
            for proc in procs:
                proc.start()
            for _ in procs:
                kind, pid, detail = results.get(timeout=60)
                if kind != "ready":
                    raise RuntimeError(f"SMTP client {pid} could not start: {detail}")
            probe = CpuProbe(
                workers=[p.pid for p in the_desk.workers if p.pid],
                ignore=[p.pid for p in procs if p.pid],
                labels=_labels(sink, main="main (waiting)", server=server),
            )
            cpu_start = probe.snapshot()
            started = time.monotonic()
            watcher.start()
            go.set()
            accepted: list[tuple[float, float]] = []
            refused: list[str] = []
            client_cpu = 0.0
            for _ in procs:
                kind, pid, detail = results.get(timeout=args.stall_timeout * 10)
                if kind != "done":
                    raise RuntimeError(f"SMTP client {pid} failed: {detail}")
                accepted += detail[0]
                refused += detail[1]
                client_cpu += detail[2]
            if refused:
                raise RuntimeError(
                    f"{len(refused)} messages refused by the inbound SMTP server, e.g. "
                    f"{refused[:3]}: {_diagnosis(the_desk)}"
                )
            last_250 = max(end for _start, end in accepted)
            ingested = watcher.wait(args.stall_timeout)
            cpu_end = probe.snapshot()
        finally:
            watcher.stop()
            server.stop()
            for proc in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
        wall, accept_wall = ingested - started, last_250 - started
        latencies = sorted((end - start) * 1000 for start, end in accepted)
        print(
            f"  the server answered 250 to {count} in {accept_wall:.2f} s "
            f"({count / accept_wall:.0f}/s; per message p50 {statistics.median(latencies):.1f} "
            f"ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms as the clients saw it; "
            f"{sum(watcher.at(last_250).get(s, 0) for s in FINAL)} ingested by then); "
            f"all ingested after {wall:.2f} s ({count / wall:.0f}/s), "
            f"ingest lag {ingested - last_250:.2f} s"
        )
        print(f"  progress (committed/ingested): {watcher.timeline(started)}")
        _print_stages(timings, 0.0, count, "the server's delivery stages (summed over its threads)")
        used = _cpu_report(cpu_start, cpu_end, wall, {"group:smtp client processes": client_cpu})
        the_desk.stop_workers()
        _print_actor_stats(the_desk)
        outcome = _outcome(the_desk, count)
    return {
        "smtp_msgs_per_s": count / wall,
        "smtp_accept_per_s": count / accept_wall,
        "smtp_ingest_lag_s": ingested - last_250,
        "smtp_worker_cpu_ms_per_msg": used.get("group:workers", 0.0) * 1000 / count,
        "smtp_machine_busy": used["machine busy"] / wall / CORES,
        "smtp_tickets": outcome["tickets"],
        "smtp_failed": outcome["failed"],
    }


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2, help="Worker processes.")
    parser.add_argument("--threads", type=int, default=4, help="Threads per worker process.")
    parser.add_argument("--smtp-clients", type=int, default=4, help="Parallel SMTP clients.")
    parser.add_argument(
        "--batch",
        type=int,
        default=MailboxSettings.model_fields["batch"].default,
        help="Messages per IMAP FETCH (default: a mailbox's, as shipped).",
    )
    parser.add_argument(
        "--queues",
        default=ingest_queue(Channel.EMAIL),
        help="Queues the workers consume in the IMAP and SMTP phases (default: ingest only: "
        "the time until every message is a ticket).",
    )
    parser.add_argument(
        "--desk-queues",
        default=",".join(QUEUES),
        help="Queues of the whole-desk IMAP phase (default: ingest, route and outbound "
        "email: tickets are routed and both mails sent meanwhile).",
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="IMAP: stop the workers (SIGSTOP) until the poller is done, to see the "
        "poller's rate and the workers' rate each on their own.",
    )
    parser.add_argument("--skip-imap", action="store_true")
    parser.add_argument("--skip-smtp", action="store_true")
    parser.add_argument("--skip-desk", action="store_true", help="Leave out the whole desk.")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=60,
        help="Fail when no inbox row changes state for this long (seconds).",
    )
    args = parser.parse_args()

    corpus = build_corpus(args.messages, uuid.uuid4().hex[:8])
    print(f"corpus: {corpus.describe()}", flush=True)
    print(
        f"workers: {args.processes} processes x {args.threads} threads; {CORES} cores",
        flush=True,
    )
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp, SmtpSink() as sink:
        if not args.skip_imap:
            result.update(run_imap(corpus, Path(tmp), sink, args, queues=args.queues))
        if not args.skip_smtp:
            result.update(run_smtp(corpus, Path(tmp), sink, args, queues=args.queues))
        if not args.skip_desk:
            result.update(
                run_imap(corpus, Path(tmp), sink, args, queues=args.desk_queues, key="imap_desk")
            )
    nan = float("nan")
    tickets = result.get("imap_tickets", result.get("smtp_tickets", nan))
    fields: list[tuple[str, Any]] = [
        ("imap_msgs_per_s", result.get("imap_msgs_per_s", nan)),
        ("smtp_msgs_per_s", result.get("smtp_msgs_per_s", nan)),
        ("imap_accept_per_s", result.get("imap_accept_per_s", nan)),
        ("smtp_accept_per_s", result.get("smtp_accept_per_s", nan)),
        ("messages", args.messages),
        ("tickets", tickets),
        ("processes", args.processes),
        ("threads", args.threads),
        ("smtp_clients", args.smtp_clients),
        ("expected_tickets", corpus.expected["tickets"]),
    ]
    fields += [
        (key, value)
        for key, value in result.items()
        if key not in dict(fields) and key not in ("imap_tickets", "imap_desk_tickets")
    ]
    print(" ".join(f"{key}={_fmt(value)}" for key, value in fields))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


if __name__ == "__main__":
    with bench_redis():  # RELAYDESK_BENCH_REDIS, else a private redis-server
        main()
