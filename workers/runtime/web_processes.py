"""``relaydesk web --workers N``: N web processes answering on one listening socket.

The parent binds the socket, then starts each process (spawned, not forked: nothing of
the parent's engine or threads is copied) with the socket handed over, as uvicorn's own
``--workers`` does; the kernel gives each connection to a process waiting in ``accept``.
A process that dies is started again; SIGTERM or SIGINT stops them all; SIGHUP applies
the configuration file for the fleet once, in the parent (each process follows the
store at its heartbeat, as a single ``relaydesk web`` does).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from config.settings import Settings
from workers.runtime.boot_heap import collect_young_less_often, freeze_boot_heap
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.hangup import reload_on_hangup
from workers.runtime.heartbeat import Heartbeat
from workers.runtime.web_stop import WebStop

POOL_SIZE = 8  # database connections per web process: the threads that wait on it


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


def make_web_app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from connectors.web.app import create_app
    from workers.channels.intake import StoreIntake
    from workers.desk.requester_ports import RequesterPorts
    from workers.desk.staff_ports import StaffPorts
    from workers.runtime.config_follow import PinPerRequest
    from workers.runtime.connector_metrics import CountedWebhook
    from workers.runtime.fleet_metrics import exposition
    from workers.runtime.health import readiness

    intake = StoreIntake(runtime)
    app = create_app(
        intake=intake,
        tickets=intake,
        settings=runtime.settings,
        staff=StaffPorts(runtime),
        requester=RequesterPorts(runtime),
        ready=lambda: readiness(runtime),
        metrics=lambda: exposition(runtime),
        telegram_health=CountedWebhook(runtime.connector_health),
    )
    app.add_middleware(PinPerRequest, runtime=runtime)
    return app


def make_served_app(runtime: Runtime):  # type: ignore[no-untyped-def]
    """The app as a web process serves it: made, then the process's boot heap frozen and
    its young collections made less often (``boot_heap``). Once per process: tests make
    apps with ``make_web_app``."""
    app = make_web_app(runtime)
    freeze_boot_heap()
    collect_young_less_often()
    return app


def run_uvicorn(
    runtime: Runtime, stop: WebStop, sockets: list[socket.socket] | None = None
) -> None:
    """The app under uvicorn until SIGTERM or SIGINT (``stop``: the process's, made when it
    started), on ``sockets`` (else binding the configured address); uvloop and httptools
    when installed (uvicorn's "auto")."""
    import uvicorn

    web = runtime.settings.web
    config = uvicorn.Config(
        make_served_app(runtime), host=web.host, port=web.port, log_level="warning", lifespan="off"
    )
    stop.serve(uvicorn.Server(config), sockets)


def web_process(settings: Settings, sock: socket.socket | None = None) -> None:
    """One web process: the app under uvicorn, on ``sock`` (else binding its own)."""
    stop = WebStop()  # the parent's SIGTERM may come while this one still starts
    if sock is not None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the parent reloads for the fleet
    runtime = build_runtime(settings, pool_size=POOL_SIZE)
    heartbeat = Heartbeat(runtime, "web").start()
    try:
        run_uvicorn(runtime, stop, sockets=[sock] if sock is not None else None)
    finally:
        heartbeat.stop()
        runtime.close()


def supervise_web(settings: Settings, workers: int, config_path: Path | None = None) -> None:
    """``workers`` web processes on one socket; restart any that dies; stop all on
    SIGTERM or SIGINT."""
    web = settings.web
    sock = listening_socket(web.host, web.port)
    ctx = multiprocessing.get_context("spawn")
    stopping = threading.Event()
    hangup_runtime = build_runtime(settings, pool_size=1) if config_path else None
    if hangup_runtime is not None and config_path is not None:
        reload_on_hangup(hangup_runtime, config_path, "web")

    def spawn() -> multiprocessing.process.BaseProcess:
        proc = ctx.Process(target=web_process, args=(settings, sock), name="relaydesk-web")
        proc.start()
        return proc

    def stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children = [spawn() for _ in range(workers)]
    print(
        f"relaydesk web on http://{web.host}:{web.port}/: {workers} processes "
        f"(pids {' '.join(str(c.pid) for c in children)})",
        flush=True,
    )
    try:
        while not stopping.wait(0.5):
            for i, child in enumerate(children):
                if child.is_alive():
                    continue
                print(
                    f"relaydesk web: {child.pid} exited ({child.exitcode}), restarting",
                    file=sys.stderr,
                    flush=True,
                )
                time.sleep(1)  # a process that cannot start is not restarted in a hot loop
                children[i] = spawn()
    finally:
        for child in children:
            if child.is_alive() and child.pid:
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children:
            child.join(timeout=max(deadline - time.monotonic(), 0.1))
            if child.is_alive():
                child.kill()
        sock.close()
        if hangup_runtime is not None:
            hangup_runtime.close()
