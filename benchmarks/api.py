"""The staff API under load: 8 programs reading and answering a desk of a million tickets.

    python -m benchmarks.api [--tickets 1000000] [--clients 8] [--rounds 50]

From a fresh clone (``pip install -e '.[dev]'``, PostgreSQL on 127.0.0.1:5432 as the
README's tests use it): the benchmark creates a database of its own, drops it at the
end. ``--tickets 2000 --rounds 3`` is a smoke run of seconds.

1. Seeding: ``benchmarks.desk_seed`` (a year of a large desk: the tickets, three
   messages each, SLA clocks, customers in organisations), then ``VACUUM ANALYZE``.
2. ``relaydesk web`` in a process of its own on a free port (the one the
   distributed mode runs), an admin's API token.
3. ``--clients`` threads, each with its own keep-alive connection, each doing
   ``--rounds`` rounds of: a ticket list by filter (status, team, priority,
   organisation or breached SLA, sorted), a full-text search (a rare word: a
   ticket's number in its subject; a common one: "password", in a third of the
   messages), a ticket read in full, and a reply (``--no-reply`` leaves it out;
   answered as soon as the reply is accepted: it is sent by the workers, which do
   not run here). Each on a ticket drawn at random.

The targets (issue 15): list p99 <= 50 ms, search p99 <= 200 ms, read p99 <= 20 ms,
a reply accepted p99 <= 50 ms. On a machine shared with other work the absolute
times say as much about the load as about the API: ``idle_read_p50_ms`` (one client,
before the load) is the baseline of the same run.

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

from benchmarks.desk_seed import NOW, TEAMS, desk_config, seed_desk
from config import load_settings
from tests.support.services import free_port, fresh_postgres_database
from workers.desk.api_tokens import create_token
from workers.runtime.context import build_runtime
from workers.runtime.processes import prepare_database

TARGETS_MS = {"list": 50.0, "search": 200.0, "read": 20.0, "reply": 50.0}
ADMIN = '[[agents]]\nname = "root"\nemail = "root@bench.test"\nrole = "admin"\ncapacity = 0\n'
TICKETS = "/api/v1/desk/tickets"
REPLY = {"body": "Thanks, we are looking into it and will write again today."}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)] if ordered else 0.0


@contextmanager
def web_process(config: Path, env: dict[str, str]) -> Iterator[str]:
    """``relaydesk web`` on a free port; its base URL once it answers."""
    port = free_port()
    env = {**env, "RELAYDESK_WEB__PORT": str(port), "RELAYDESK_WEB__HOST": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "workers", "web", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"relaydesk web did not start: {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Workload:
    """What one client asks, drawn at random (seeded per client)."""

    def __init__(self, tickets: int, seed: int, reply: str | None) -> None:
        self.tickets = tickets
        self.random = random.Random(seed)
        self.reply_path = reply

    def number(self) -> int:
        return self.random.randint(1, self.tickets)

    def list_params(self) -> dict[str, Any]:
        pick = self.random.randrange(5)
        if pick == 0:
            return {"status": "open", "team": self.random.choice(TEAMS)}
        if pick == 1:
            return {"priority": "urgent", "sort": "priority"}
        if pick == 2:
            return {"organisation": f"Org {self.random.randint(1, 2000)}"}
        if pick == 3:
            return {"breached": "true", "team": self.random.choice(TEAMS)}
        return {"status": ["pending", "open"], "sort": "-created"}

    def search_params(self) -> tuple[str, dict[str, Any]]:
        if self.random.random() < 0.5:
            return "rare", {"q": str(self.number())}
        return "common", {"q": "password"}


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

        def timed(kind: str, call: Callable[[], httpx.Response], ok: int = 200) -> None:
            began = time.perf_counter()
            answer = call()
            mine.setdefault(kind, []).append((time.perf_counter() - began) * 1000)
            if answer.status_code != ok:
                failures.append(f"{kind}: {answer.status_code} {answer.text[:200]}")

        for _ in range(rounds):
            timed("list", lambda: client.get(TICKETS, params=work.list_params()))
            kind, params = work.search_params()
            timed(f"search_{kind}", partial(client.get, TICKETS, params=params))
            timed("read", lambda: client.get(f"{TICKETS}/{work.number()}"))
            if work.reply_path is not None:
                path = work.reply_path.format(number=work.number())
                timed("reply", partial(client.post, path, json=REPLY), ok=202)
    with lock:
        for kind, samples in mine.items():
            times.setdefault(kind, []).extend(samples)


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
        print(f"seeding {args.tickets} tickets over a year ...", flush=True)
        seed_s = seed_desk(runtime, args.tickets)
        print(f"  {seed_s:.0f} s", flush=True)
        token = create_token(runtime, "root").secret
    finally:
        runtime.close()
    with web_process(config, env) as base:
        path = None if args.no_reply else reply_path(base)
        if path is None and not args.no_reply:
            print("  the staff API has no reply operation yet: replies left out", flush=True)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as one:
            idle = []
            for n in range(1, 21):
                began = time.perf_counter()
                one.get(f"{TICKETS}/{1 + (n * 7919) % args.tickets}")
                idle.append((time.perf_counter() - began) * 1000)
        idle_ms = statistics.median(idle[5:])
        print(f"  one client alone: a ticket read in {idle_ms:.1f} ms (median)", flush=True)
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
    times["search"] = times.get("search_rare", []) + times.get("search_common", [])
    requests = sum(len(v) for k, v in times.items() if k != "search")
    figures: dict[str, str] = {"tickets": str(args.tickets), "clients": str(args.clients)}
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
    figures.update(
        requests_per_s=f"{requests / elapsed:.0f}",
        idle_read_p50_ms=f"{idle_ms:.1f}",
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_postgres_database() as url:
        _run(args, Path(tmp), url)


if __name__ == "__main__":
    main()
