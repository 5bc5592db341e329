"""Long-running processes: the all-in-one serve, worker processes, the scheduler, the web app."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from types import FrameType

import dramatiq

from config.loader import ConfigError
from config.redact import redact_url
from config.settings import Settings
from router.errors import RelaydeskError
from store.db import Database
from store.directory_sync import sync_directory
from store.migrate import upgrade
from workers.desk.config_changes import apply_at_start
from workers.runtime.boot_heap import freeze_boot_heap
from workers.runtime.broker import describe
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime, utc_now
from workers.runtime.dead_workers import bury
from workers.runtime.hangup import reload_on_hangup
from workers.runtime.heartbeat import Heartbeat
from workers.runtime.inline_deliveries import HereBudget, InlineDeliveries
from workers.runtime.inline_routes import InlineRoutes
from workers.runtime.json_logs import configure as configure_logs
from workers.runtime.queues import ROUTE, outbound_queue
from workers.runtime.shutdown import STOP_GRACE_MS, stop_worker
from workers.runtime.tally import install as install_tally
from workers.runtime.web_processes import POOL_SIZE, run_uvicorn, supervise_web
from workers.runtime.web_processes import make_web_app as make_web_app
from workers.runtime.web_stop import WebStop
from workers.steps.deliver_here import deliver_here, send_to_outbound
from workers.steps.route import route_here

log = logging.getLogger(__name__)


def prepare_database(runtime: Runtime) -> list[str]:
    """Apply migrations and bring config's teams and agents into the store."""
    upgrade(runtime.db)
    with runtime.db.unit_of_work() as uow:
        return sync_directory(uow, runtime.settings, runtime.now())


def _outbound_description(settings: Settings) -> str:
    smtp = settings.smtp
    if smtp.transport == "file":
        return f"outbound email written to {os.path.abspath(smtp.file_dir)}/ (.eml files)"
    return f"outbound email via SMTP relay {smtp.host}:{smtp.port}"


def boot_actors(runtime: Runtime) -> None:
    """Tell the broker's middleware this process runs actors, as dramatiq's own command
    does in each worker process: the time limits' watchdog starts (without it no actor's
    ``time_limit`` is enforced)."""
    runtime.broker.emit_after("process_boot")


def serve(settings: Settings, config_path: Path | None = None) -> None:
    """Everything in one process: web intake, in-process worker, scheduler; SIGHUP reloads
    ``config_path``."""
    from workers.channels.mail_connectors import MailConnectors
    from workers.runtime.scheduler import Scheduler

    stop = WebStop()  # a stop while it starts shuts it down once started, cleanly
    runtime = build_runtime(settings)
    changes = prepare_database(runtime)
    applied = apply_at_start(runtime, f"serve {runtime.holder}")
    if config_path is not None:
        reload_on_hangup(runtime, config_path, "serve")
    worker = dramatiq.Worker(
        runtime.broker,
        worker_threads=settings.worker.threads,
        worker_timeout=settings.broker.worker_timeout_ms,
    )
    scheduler = Scheduler(runtime)
    if settings.embedded:
        scheduler.redrive_everything_now()
    else:
        boot_actors(runtime)  # the stub broker of embedded mode booted when it was made
    worker.start()
    heartbeat = Heartbeat(runtime, "serve", ["all"]).start()
    sched_thread = threading.Thread(target=scheduler.run, name="scheduler", daemon=True)
    sched_thread.start()
    mail = MailConnectors(runtime, smtp=settings.email.inbound_smtp.enabled)
    chat = None
    try:
        connectors = mail.start()
        if settings.telegram.enabled:
            from workers.channels.intake import StoreIntake
            from workers.channels.telegram_connector import TelegramConnector

            chat = TelegramConnector(runtime, StoreIntake(runtime))
            connectors += chat.start()
    except (OSError, ConfigError, RelaydeskError) as exc:  # a taken port, a bad token, ...
        mail.stop()
        if chat is not None:
            chat.stop()
        scheduler.stop()
        worker.stop(timeout=10_000)
        heartbeat.stop()
        runtime.close()
        inbound = settings.email.inbound_smtp
        if isinstance(exc, RelaydeskError):
            raise SystemExit(f"relaydesk: cannot start the Telegram connector: {exc}") from None
        if isinstance(exc, ConfigError):
            raise SystemExit(f"relaydesk: cannot start the email connectors: {exc}") from None
        raise SystemExit(
            f"relaydesk: cannot start inbound SMTP on {inbound.host}:{inbound.port}: {exc} "
            "(set email.inbound_smtp.port, or enabled = false)"
        ) from None
    web = settings.web
    print(
        "relaydesk serve\n"
        f"  web intake   http://{web.host}:{web.port}/  (API http://{web.host}:{web.port}/docs)\n"
        f"  database     {redact_url(settings.database_url)}\n"
        f"  broker       {describe(settings)}, {settings.worker.threads} worker threads\n"
        f"  scheduler    every {settings.scheduler.interval_s:g}s\n"
        f"  config       version {applied.version}\n"
        f"  {_outbound_description(settings)}\n"
        + "".join(f"  {line}\n" for line in connectors)
        + (f"  directory    {', '.join(changes)}\n" if changes else "")
        + "Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        run_uvicorn(runtime, stop)
    finally:
        print("relaydesk: shutting down", flush=True)
        if chat is not None:
            chat.stop()
        mail.stop()
        scheduler.stop()
        sched_thread.join(timeout=5)
        gave_back = stop_worker(runtime, worker)
        heartbeat.stop(leave=gave_back)
        runtime.close()
        print("relaydesk: stopped", flush=True)


def web(settings: Settings, config_path: Path | None = None, workers: int = 1) -> None:
    if workers > 1:
        supervise_web(settings, workers, config_path)
        return
    stop = WebStop()  # a stop while it starts shuts it down once started: exit 0
    runtime = build_runtime(settings, pool_size=POOL_SIZE)
    if config_path is not None:
        reload_on_hangup(runtime, config_path, "web")
    print(f"relaydesk web on http://{settings.web.host}:{settings.web.port}/", flush=True)
    heartbeat = Heartbeat(runtime, "web").start()
    try:
        run_uvicorn(runtime, stop)
    finally:
        heartbeat.stop()
        runtime.close()


def run_scheduler(settings: Settings, config_path: Path | None = None) -> None:
    from workers.runtime.scheduler import Scheduler

    runtime = build_runtime(settings, pool_size=2)
    scheduler = Scheduler(runtime)
    stop_on_signals(scheduler.stop)
    if config_path is not None:
        reload_on_hangup(runtime, config_path, "scheduler")
    print(
        f"relaydesk scheduler: sweeping every {settings.scheduler.interval_s:g}s, "
        f"re-driving rows unfinished after {settings.scheduler.redrive_after_s:g}s",
        flush=True,
    )
    heartbeat = Heartbeat(runtime, "scheduler").start()
    try:
        scheduler.run()
    finally:
        heartbeat.stop()
        runtime.close()


def route_where_consumed(runtime: Runtime, queues: Iterable[str]) -> None:
    """A process that consumes ``route`` routes the tickets its ingest commits in the
    ingesting thread (``workers/runtime/inline_routes.py``): a route message sent there
    would only be fetched back. Elsewhere ingest sends them, as before."""
    if ROUTE in queues:
        runtime.inline_routes = InlineRoutes(partial(route_here, runtime))


def deliver_where_consumed(runtime: Runtime, queues: Iterable[str], threads: int) -> None:
    """A process that consumes a channel's outbound queue delivers a lone row its threads
    queue on it in the queuing thread (``workers/runtime/inline_deliveries.py``), at most
    half its ``threads`` at once (none of one thread: it would be the process's only one
    held by a slow server); elsewhere the rows are sent, as before."""
    consumed = set(queues)
    channels = frozenset(c for c in runtime.channels.outbound() if outbound_queue(c) in consumed)
    if channels and threads >= 2:
        runtime.inline_deliveries = InlineDeliveries(
            partial(deliver_here, runtime),
            partial(send_to_outbound, runtime),
            channels,
            HereBudget(threads // 2, slow_s=runtime.settings.worker.deliver_here_slow_ms / 1000),
        )


def stop_on_signals(stop: Callable[[], object]) -> None:
    """Call ``stop`` on SIGINT (Ctrl-C) or SIGTERM instead of dying."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def worker_process(settings: Settings, queues: list[str], threads: int, index: int = 0) -> None:
    """One worker process: consume ``queues`` with ``threads`` threads until SIGTERM; its
    Prometheus metrics on ``worker.metrics_port`` + ``index`` when the port is set."""
    configure_logs(settings.log_format, logging.INFO)
    # SIGHUP to the process group reaches the supervisor, which reloads for the fleet:
    # a worker process takes the new version from the store at its next message
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    runtime = build_runtime(settings, pool_size=threads + 2)
    tally = install_tally(runtime.broker)
    route_where_consumed(runtime, queues)
    deliver_where_consumed(runtime, queues, threads)
    statements = runtime.db.count_statements()
    if settings.worker.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker.metrics_port + index, addr=settings.web.host)
    worker = dramatiq.Worker(
        runtime.broker,
        queues=set(queues),
        worker_threads=threads,
        worker_timeout=settings.broker.worker_timeout_ms,
    )
    stopping = threading.Event()
    stop_on_signals(stopping.set)
    boot_actors(runtime)
    freeze_boot_heap()
    worker.start()
    heartbeat = Heartbeat(runtime, "worker", queues).start()
    log.info("worker %d consuming %s with %d threads", os.getpid(), ",".join(queues), threads)
    stopping.wait()
    gave_back = stop_worker(runtime, worker)
    heartbeat.stop(leave=gave_back)
    runtime.close()
    log.info("worker %d %s", os.getpid(), tally.summary())
    log.info("worker %d sent %s", os.getpid(), statements.summary())


def supervise_workers(
    settings: Settings,
    queues: Iterable[str],
    processes: int,
    threads: int,
    config_path: Path | None = None,
) -> None:
    """Start ``processes`` worker processes; restart any that dies; stop all on SIGTERM;
    on SIGHUP apply ``config_path`` for the fleet."""
    ctx = multiprocessing.get_context("spawn")
    queue_list = list(queues)
    stopping = threading.Event()
    hangup_runtime = build_runtime(settings, pool_size=1) if config_path else None
    if hangup_runtime is not None and config_path is not None:
        reload_on_hangup(hangup_runtime, config_path, "worker")

    def spawn(index: int) -> multiprocessing.process.BaseProcess:
        proc = ctx.Process(
            target=worker_process,
            args=(settings, queue_list, threads, index),
            name="relaydesk-worker",
        )
        proc.start()
        return proc

    stop_on_signals(stopping.set)
    store = Database(settings.database_url, pool_size=1)
    children = [spawn(i) for i in range(processes)]
    started = [time.monotonic()] * processes
    crashes = [0] * processes
    print(
        f"relaydesk worker: {processes} processes x {threads} threads on "
        f"{', '.join(queue_list)} via {describe(settings)} "
        f"(pids {' '.join(str(c.pid) for c in children)})",
        flush=True,
    )
    while not stopping.wait(0.5):
        for i, child in enumerate(children):
            if child.is_alive():
                continue
            # a child that dies soon after starting is crash-looping: back off, up to 30 s
            quick = time.monotonic() - started[i] < 10
            crashes[i] = crashes[i] + 1 if quick else 0
            delay = min(2 ** crashes[i], 30) if crashes[i] else 0
            log.warning("worker %s exited with %s", child.pid, child.exitcode)
            if child.pid is not None:  # the others would know after dead_after_s
                bury(store, settings, host=socket.gethostname(), pid=child.pid, now=utc_now)
            print(
                f"relaydesk worker: {child.pid} exited ({child.exitcode}), restarting"
                + (f" in {delay}s" if delay else ""),
                file=sys.stderr,
                flush=True,
            )
            if delay and stopping.wait(delay):
                break
            children[i] = spawn(i)
            started[i] = time.monotonic()
    for child in children:
        if child.is_alive() and child.pid:
            os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_MS / 1000 + 5
    for child in children:
        child.join(timeout=max(deadline - time.monotonic(), 0.1))
        if child.is_alive():
            child.kill()  # it did not leave by itself: what it held is taken as a dead one's
            child.join(1)
            if child.pid is not None:
                bury(store, settings, host=socket.gethostname(), pid=child.pid, now=utc_now)
    store.dispose()
    if hangup_runtime is not None:
        hangup_runtime.close()
