"""The staff API under load: 8 programs reading and answering a desk of a million tickets.

    python -m benchmarks.api [--tickets 1000000] [--clients 8] [--rounds 50]

From a fresh clone (``pip install -e '.[dev]'``, PostgreSQL on 127.0.0.1:5432 as the
README's tests use it): the benchmark creates a database of its own, drops it at the
end. ``--tickets 2000 --rounds 3`` is a smoke run of seconds.

1. Seeding: ``benchmarks.desk_seed`` (a year of a large desk: the tickets, three
   messages each, SLA clocks, customers in organisations), then ``VACUUM ANALYZE``.
2. The baseline: the same use cases (list, search, read) called in this process, one
   at a time, ``--rounds`` each; ``--explain`` prints the plan of each kind's slowest.
3. ``relaydesk web`` in a process of its own on a free port (the one the
   distributed mode runs; ``--workers N``: ``relaydesk web --workers N``), an admin's
   API token. One client then sends each kind of request alone, 25 times: its median
   and the web processes' CPU milliseconds a request (``<kind>_cpu_ms``, read from
   /proc: the figure a loaded machine divides its cores by).
4. ``--clients`` threads, each with its own keep-alive connection, each doing
   ``--rounds`` rounds of: a ticket list by filter (status, team, priority,
   organisation or breached SLA, sorted), a full-text search (a rare word: a
   ticket's number in its subject; a common one: "password", in a third of the
   messages), a ticket read in full, and a reply (``--no-reply`` leaves it out;
   answered as soon as the reply is accepted: it is sent by the workers, which do
   not run here). Each on a ticket drawn at random.

The targets (issue 15): list p99 <= 50 ms, search p99 <= 200 ms, read p99 <= 20 ms,
a reply accepted p99 <= 50 ms. On a machine shared with other work the absolute
times say as much about the load as about the API: ``idle_read_p50_ms`` (one client,
before the load) is the baseline of the same run, and ``cpu_ms_per_request`` (the web
processes' CPU under the load, per request) does not depend on it as much. Beside it,
what else the machine spent on each request under the load: ``client_cpu_ms_per_request``
(this process: the clients' threads) and ``database_cpu_ms_per_request`` (the PostgreSQL
backends serving the benchmark's database, read from /proc; ``na`` when the server is on
another machine). Eight clients that never pause wait behind each other's CPU, all three
kinds, on a machine of few cores.

``--database NAME`` keeps the seeded desk for the next run: the database NAME is made
and seeded when it does not exist yet, and reused (not seeded again) when it holds
``--tickets`` tickets; drop it yourself when done (``dropdb -h 127.0.0.1 -U postgres
NAME``). Replies of earlier runs stay in it.

The last line is key=value pairs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import make_url

from benchmarks.desk_seed import NOW, TEAMS, desk_config, kept_database, seed_or_reuse
from config import load_settings
from router.access import Principal
from router.ticket_list import TicketFilters, TicketOrder
from tests.support.services import free_port, fresh_postgres_database
from workers.desk.api_tokens import create_token, token_caller
from workers.desk.ticket_reads import staff_ticket, ticket_page
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database

TARGETS_MS = {"list": 50.0, "search": 200.0, "read": 20.0, "reply": 50.0}
ADMIN = '[[agents]]\nname = "root"\nemail = "root@bench.test"\nrole = "admin"\ncapacity = 0\n'
TICKETS = "/api/v1/desk/tickets"
REPLY = {"text": "Thanks, we are looking into it and will write again today."}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)] if ordered else 0.0


def cpu_s(pid: int) -> float:
    """CPU seconds (user and system) used so far by process ``pid`` and its children alive
    (the web workers), read from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, parents = 0.0, {pid}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) in parents:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def database_cpu_s(database: str) -> float | None:
    """CPU seconds used so far by the PostgreSQL backends serving ``database`` (their
    process titles name it), read from /proc; None when none is found (a server on
    another machine)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, found = 0.0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
            if not title.startswith(b"postgres: ") or f" {database} ".encode() not in title:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total, found = total + (int(fields[11]) + int(fields[12])) / tick, True
    return total if found else None


@contextmanager
def web_process(config: Path, env: dict[str, str], workers: int = 1) -> Iterator[tuple[str, int]]:
    """``relaydesk web`` on a free port (``workers`` processes); its base URL and process
    id once it answers."""
    port = free_port()
    env = {**env, "RELAYDESK_WEB__PORT": str(port), "RELAYDESK_WEB__HOST": "127.0.0.1"}
    more = ["--workers", str(workers)] if workers > 1 else []
    process = subprocess.Popen(
        [sys.executable, "-m", "workers", "web", "--config", str(config), *more],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # several processes start slowly on a busy machine
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"relaydesk web did not start: {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Workload:
    """What one client asks, drawn at random (seeded per client): each request as the
    query string of the API and as the use case's filters (the in-process baseline)."""

    def __init__(self, tickets: int, seed: int, reply: str | None) -> None:
        self.tickets = tickets
        self.random = random.Random(seed)
        self.reply_path = reply

    def number(self) -> int:
        return self.random.randint(1, self.tickets)

    def list_case(self) -> tuple[dict[str, Any], TicketFilters, TicketOrder]:
        pick, team = self.random.randrange(5), self.random.choice(TEAMS)
        if pick == 0:
            return (
                {"status": "open", "team": team},
                TicketFilters(status=("open",), team=(team,)),
                TicketOrder.UPDATED_DESC,
            )
        if pick == 1:
            return (
                {"priority": "urgent", "sort": "priority"},
                TicketFilters(priority=("urgent",)),
                TicketOrder.PRIORITY,
            )
        if pick == 2:
            org = f"Org {self.random.randint(1, 2000)}"
            return (
                {"organisation": org},
                TicketFilters(organisation=(org,)),
                TicketOrder.UPDATED_DESC,
            )
        if pick == 3:
            return (
                {"breached": "true", "team": team},
                TicketFilters(breached=True, team=(team,)),
                TicketOrder.UPDATED_DESC,
            )
        return (
            {"status": ["pending", "open"], "sort": "-created"},
            TicketFilters(status=("pending", "open")),
            TicketOrder.CREATED_DESC,
        )

    def search_case(self) -> tuple[str, str]:
        return (
            ("rare", str(self.number()))
            if self.random.random() < 0.5
            else (
                "common",
                "password",
            )
        )


def run_client(
    base: str,
    token: str,
    work: Workload,
    rounds: int,
    times: dict[str, list[float]],
    failures: list[str],
    lock: threading.Lock,
) -> None:
    mine: dict[str, list[float]] = {}
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:

        def timed(kind: str, call: Callable[[], httpx.Response]) -> None:
            began = time.perf_counter()
            answer = call()
            mine.setdefault(kind, []).append((time.perf_counter() - began) * 1000)
            if not answer.is_success:
                failures.append(f"{kind}: {answer.status_code} {answer.text[:200]}")

        # a reply goes to an open ticket (most of a year's tickets are closed: 409)
        active = client.get(TICKETS, params={"status": ["new", "open"], "limit": 100})
        answerable = [t["number"] for t in active.json()["tickets"]] or [work.number()]
        for _ in range(rounds):
            timed("list", partial(client.get, TICKETS, params=work.list_case()[0]))
            kind, words = work.search_case()
            timed(f"search_{kind}", partial(client.get, TICKETS, params={"q": words}))
            timed("read", lambda: client.get(f"{TICKETS}/{work.number()}"))
            if work.reply_path is not None:
                path = work.reply_path.format(number=work.random.choice(answerable))
                timed("reply", partial(client.post, path, json=REPLY))
    with lock:
        for kind, samples in mine.items():
            times.setdefault(kind, []).extend(samples)


def in_process(
    runtime: Runtime, principal: Principal, tickets: int, rounds: int, explain: bool
) -> dict[str, list[float]]:
    """The baseline: the same use cases called in this process, one at a time (no HTTP,
    no other client); with ``explain``, the plan of each kind's slowest query."""
    work = Workload(tickets, 10_000, None)
    times: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    slowest: dict[str, tuple[float, list[tuple[str, Any]]]] = {}
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    engines = {runtime.db.engine, runtime.db.read_engine}  # reads have a pool of their own
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(rounds):
            filters, order = work.list_case()[1:]
            kind, words = work.search_case()
            for name, call in (
                ("list", partial(ticket_page, runtime, principal, filters, order=order)),
                (
                    f"search_{kind}",
                    partial(ticket_page, runtime, principal, TicketFilters(q=words)),
                ),
                ("read", partial(staff_ticket, runtime, work.number())),
            ):
                statements.clear()
                began = time.perf_counter()
                call()
                ms = (time.perf_counter() - began) * 1000
                times.setdefault(name, []).append(ms)
                counts.setdefault(name, []).append(len(statements))
                if ms > slowest.get(name, (0.0, []))[0]:
                    slowest[name] = (ms, list(statements))
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    for name, made in sorted(counts.items()):
        print(f"  {name}: {statistics.mean(made):.1f} statements a call")
    if explain:
        with runtime.db.read_engine.connect() as conn:  # planned as the reads are
            for name, (ms, executed) in sorted(slowest.items()):
                # a list's own query (it has a LIMIT), else the longest statement
                statement, parameters = max(executed, key=lambda e: ("LIMIT" in e[0], len(e[0])))
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                print(f"  the slowest {name} ({ms:.0f} ms), its main statement's plan:")
                for (line,) in plan:
                    print(f"    {line}")
    return times


def one_client(
    base: str, token: str, pid: int, work: Workload, n: int = 25
) -> dict[str, tuple[float, float]]:
    """Each kind of request alone, ``n`` times by one client before the load: its median
    time and the web process's CPU milliseconds per request (the figure a loaded machine
    divides its cores by)."""
    figures: dict[str, tuple[float, float]] = {}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as one:
        active = one.get(TICKETS, params={"status": ["new", "open"], "limit": 100})
        answerable = [t["number"] for t in active.json()["tickets"]] or [1]
        calls: dict[str, Callable[[], httpx.Response]] = {
            "list": lambda: one.get(TICKETS, params=work.list_case()[0]),
            "search": lambda: one.get(TICKETS, params={"q": work.search_case()[1]}),
            "read": lambda: one.get(f"{TICKETS}/{work.number()}"),
        }
        if work.reply_path is not None:
            path = work.reply_path
            calls["reply"] = lambda: one.post(
                path.format(number=work.random.choice(answerable)), json=REPLY
            )
        for kind, call in calls.items():
            for _ in range(3):
                call()
            walls, cpu = [], cpu_s(pid)
            for _ in range(n):
                began = time.perf_counter()
                call()
                walls.append((time.perf_counter() - began) * 1000)
            cpu_ms = (cpu_s(pid) - cpu) * 1000 / n
            figures[kind] = (statistics.median(walls), cpu_ms)
            print(
                f"  one client alone: {kind:<7} median {figures[kind][0]:6.1f} ms, "
                f"web process CPU {cpu_ms:5.1f} ms a request",
                flush=True,
            )
    return figures


def reply_path(base: str) -> str | None:
    """The staff API's reply operation, when it has one yet."""
    paths = httpx.get(f"{base}/openapi.json").json()["paths"]
    for path, operations in paths.items():
        if path.startswith(f"{TICKETS}/{{number}}/") and "repl" in path and "post" in operations:
            return path
    return None


def _run(args: argparse.Namespace, tmp: Path, url: str) -> None:
    config = desk_config(tmp / "api.toml", tmp / "outbox", more_agents=ADMIN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env.update(RELAYDESK_DATABASE_URL=url, RELAYDESK_BROKER_URL="stub://")
    runtime = build_runtime(load_settings(config, environ=env), pool_size=2)
    runtime.clock = lambda: NOW
    try:
        prepare_database(runtime)
        seed_s = seed_or_reuse(runtime, args.tickets)
        print(f"  {seed_s:.0f} s", flush=True)
        token = create_token(runtime, "root").secret
        caller = token_caller(runtime, token, address=None)
        assert caller is not None
        print(f"baseline: the use cases in process, one at a time, {args.rounds} rounds")
        baseline = in_process(runtime, caller.principal, args.tickets, args.rounds, args.explain)
        for kind, samples in sorted(baseline.items()):
            print(
                f"  {kind:<14} n={len(samples):<5} p50 {statistics.median(samples):7.1f} ms  "
                f"p99 {_pct(samples, 0.99):7.1f} ms",
                flush=True,
            )
    finally:
        runtime.close()
    with web_process(config, env, args.workers) as (base, pid):
        path = None if args.no_reply else reply_path(base)
        if path is None and not args.no_reply:
            print("  the staff API has no reply operation yet: replies left out", flush=True)
        alone = one_client(base, token, pid, Workload(args.tickets, 99, path))
        idle_ms = alone["read"][0]
        database = make_url(url).database or ""
        cpu_began, client_began = cpu_s(pid), time.process_time()
        database_began = database_cpu_s(database)
        times: dict[str, list[float]] = {}
        failures: list[str] = []
        lock = threading.Lock()
        clients = [
            threading.Thread(
                target=run_client,
                args=(base, token, Workload(args.tickets, n, path), args.rounds),
                kwargs={"times": times, "failures": failures, "lock": lock},
            )
            for n in range(args.clients)
        ]
        began = time.perf_counter()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        elapsed = time.perf_counter() - began
        load_cpu_s = cpu_s(pid) - cpu_began
        client_cpu_s = time.process_time() - client_began
        database_ended = database_cpu_s(database)
    times["search"] = times.get("search_rare", []) + times.get("search_common", [])
    requests = sum(len(v) for k, v in times.items() if k != "search")
    figures: dict[str, str] = {
        "tickets": str(args.tickets),
        "clients": str(args.clients),
        "workers": str(args.workers),
    }
    print(f"{args.clients} clients, {requests} requests in {elapsed:.1f} s", flush=True)
    for kind in ("list", "search", "search_rare", "search_common", "read", "reply"):
        samples = times.get(kind, [])
        if not samples:
            figures[f"{kind}_p99_ms"] = "na"
            continue
        p50, p99 = statistics.median(samples), _pct(samples, 0.99)
        target = TARGETS_MS.get(kind)
        mark = "" if target is None or p99 <= target else f"  OVER {target:.0f}"
        print(f"  {kind:<14} n={len(samples):<5} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms{mark}")
        figures[f"{kind}_p99_ms"] = f"{p99:.1f}"
    for failure in failures[:5]:
        print(f"  failed: {failure}", flush=True)
    for kind in ("list", "search_rare", "search_common", "read"):
        samples = baseline.get(kind, [])
        figures[f"{kind}_in_process_p99_ms"] = f"{_pct(samples, 0.99):.1f}" if samples else "na"
    figures.update(
        requests_per_s=f"{requests / elapsed:.0f}",
        idle_read_p50_ms=f"{idle_ms:.1f}",
        cpu_ms_per_request=f"{load_cpu_s * 1000 / requests:.1f}",
        client_cpu_ms_per_request=f"{client_cpu_s * 1000 / requests:.1f}",
        database_cpu_ms_per_request=(
            "na"
            if database_began is None or database_ended is None
            else f"{(database_ended - database_began) * 1000 / requests:.1f}"
        ),
        **{f"{kind}_cpu_ms": f"{cpu:.1f}" for kind, (_, cpu) in alone.items()},
        load_average=f"{os.getloadavg()[0]:.1f}",
        failures=str(len(failures)),
        seed_s=f"{seed_s:.0f}",
    )
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    if failures:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=50, help="Of each request, per client.")
    parser.add_argument("--no-reply", action="store_true", help="Reads only.")
    parser.add_argument(
        "--workers", type=int, default=1, help="Web processes (`relaydesk web --workers`)."
    )
    parser.add_argument(
        "--explain", action="store_true", help="Print the plans of the slowest queries."
    )
    parser.add_argument(
        "--database", help="A database to keep the seeded desk in and reuse (see above)."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.database:
            _run(args, Path(tmp), kept_database(args.database))
            return
        with fresh_postgres_database(durable=True) as url:
            _run(args, Path(tmp), url)


if __name__ == "__main__":
    main()
