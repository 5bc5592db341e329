"""What a web submission costs the desk while its workers are stalled (the issue's backlog),
and how many durable answers the web intake alone gives under load.

    python -m benchmarks.web_intake [--submissions 200] [--rate 20] [--database sqlite|postgresql]
        [--load 20] [--clients 16]

Runs the web app (in process, through its ASGI interface) on a desk whose workers do
nothing, so every submission stays pending, and posts ``--submissions`` tickets at
``--rate`` per second, each in its own thread as concurrent clients do. Counted in the
web's engine: statements and transactions per submission; and the process's CPU time
per submission (only the web runs). The baseline is the same run with the wait off
(``web.intake_wait_s = 0``: accept and answer 202), the floor of any submission; the
measured run uses the default wait (2 s) and backlog threshold (0.5 s).

PostgreSQL (127.0.0.1:5432, trust) gets a database of its own, dropped afterwards;
SQLite a file in a temporary folder.

The load run (``--load`` seconds, 0 for none): ``relaydesk web`` alone, one uvicorn
process, on a fresh PostgreSQL database and a private Redis broker with no worker
(``web.intake_wait_s = 0``: each answer is 202 once the submission is committed), and
``--clients`` locust users (locust is a dev dependency; ``benchmarks/web_load_users.py``)
posting ``POST /api/v1/tickets`` back to back. Its figures: load_answers_per_s,
load_p50_ms, load_p99_ms (locust's, rounded to two digits as locust does), load_failures,
load_web_cpu_ms (the web process's CPU per answer) and load_clients.

The last line is key=value pairs: statements_per_submission, baseline_statements,
statements_ratio, cpu_ms_per_submission, baseline_cpu_ms, cpu_ratio, answered_201,
answered_202, submissions, rate, then the load run's.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from csv import DictReader as csv_rows
from pathlib import Path

from fastapi.testclient import TestClient

from config import load_settings
from connectors.web.app import create_app
from store.db import Database
from store.migrate import upgrade
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime
from workers.runtime.processes import prepare_database

TICKET = {
    "requester": {"name": "Jo Park", "email": "jo@example.org"},
    "subject": "Cannot log in",
    "body": "The login page says my password expired.",
}


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    from tests.support.services import fresh_postgres_database

    with fresh_postgres_database(durable=True) as url:
        yield url


def run(url: str, *, wait_s: float, submissions: int, rate: float) -> dict[str, float]:
    """Post ``submissions`` at ``rate``/s to a stalled desk: statements, CPU, answers."""
    db = Database(url)
    upgrade(db)
    db.dispose()
    settings = load_settings(
        environ={"RELAYDESK_DATABASE_URL": url, "RELAYDESK_WEB__INTAKE_WAIT_S": str(wait_s)}
    )
    runtime = build_runtime(settings)  # a stub broker and no worker: nothing is ingested
    prepare_database(runtime)
    intake = StoreIntake(runtime)
    client = TestClient(create_app(intake=intake, tickets=intake, settings=settings))
    answers = Counter[int]()
    lock = threading.Lock()

    def post(n: int) -> None:
        response = client.post("/api/v1/tickets", json=TICKET, headers={"Idempotency-Key": f"b{n}"})
        with lock:
            answers[response.status_code] += 1

    # counted where the dialect calls the driver: a listener on the engine would make every
    # connection of it slower than the desk's own (docs/performance.md, a transaction's cost)
    tally = runtime.db.count_statements()
    cpu = time.process_time()
    threads = []
    start = time.monotonic()
    for n in range(submissions):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=post, args=(n,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu
    client.close()
    runtime.close()
    return {
        "statements": tally.statements / submissions,
        "cpu_ms": cpu * 1000 / submissions,
        "answered_201": answers[201],
        "answered_202": answers[202],
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"relaydesk web exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError("relaydesk web did not listen in time")


def _warm(port: int, count: int = 20) -> None:
    """A few submissions first: the process's first requests pay for its imports."""
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for n in range(count):
            body = dict(TICKET, requester={"name": "Warm", "email": f"warm{n}@example.org"})
            client.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": f"warm-{n}"})


def load(*, seconds: float, clients: int) -> dict[str, float]:
    """``clients`` locust users against ``relaydesk web`` alone for ``seconds``."""
    from benchmarks.bench_redis import bench_redis
    from tests.support.services import free_port, fresh_postgres_database

    root = Path(__file__).resolve().parents[1]
    with (
        bench_redis() as redis,
        fresh_postgres_database(durable=True) as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
        env.update(
            RELAYDESK_DATABASE_URL=url,
            RELAYDESK_BROKER_URL=redis,
            RELAYDESK_BROKER__NAMESPACE=f"webload{uuid.uuid4().hex[:6]}",
            RELAYDESK_WEB__PORT=str(port),
            RELAYDESK_WEB__INTAKE_WAIT_S="0",
            WEB_LOAD_RUN=uuid.uuid4().hex[:8],
            PYTHONPATH=str(root),
        )
        run = [sys.executable, "-m", "workers"]
        subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True)
        web = subprocess.Popen(
            [*run, "web"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_for_port(port, web)
            _warm(port)
            cpu = _cpu_seconds(web.pid)
            csv = Path(tmp) / "load"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(root / "benchmarks" / "web_load_users.py"),
                    "--headless",
                    "--users",
                    str(clients),
                    "--spawn-rate",
                    str(clients),
                    "--run-time",
                    f"{seconds:g}s",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(csv),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                env=env,
                check=False,  # locust exits 1 when any request failed: counted below
                capture_output=True,
                timeout=seconds + 120,
            )
            cpu = _cpu_seconds(web.pid) - cpu
        finally:
            web.terminate()
            web.wait(30)
        with (Path(tmp) / "load_stats.csv").open() as stats:
            row = next(r for r in csv_rows(stats) if r["Name"] == "POST /api/v1/tickets")
    answers = int(row["Request Count"]) - int(row["Failure Count"])
    return {
        "load_answers_per_s": float(row["Requests/s"]) - float(row["Failures/s"]),
        "load_p50_ms": float(row["50%"]),
        "load_p99_ms": float(row["99%"]),
        "load_failures": float(row["Failure Count"]),
        "load_web_cpu_ms": cpu * 1000 / max(answers, 1),
        "load_clients": float(clients),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--load", type=float, default=20.0, help="Seconds of the load run (0: none)."
    )
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    with database(args.database) as url:
        baseline = run(url, wait_s=0, submissions=args.submissions, rate=args.rate)
    with database(args.database) as url:
        measured = run(url, wait_s=2.0, submissions=args.submissions, rate=args.rate)
    figures = {
        "statements_per_submission": f"{measured['statements']:.1f}",
        "baseline_statements": f"{baseline['statements']:.1f}",
        "statements_ratio": f"{measured['statements'] / baseline['statements']:.2f}",
        "cpu_ms_per_submission": f"{measured['cpu_ms']:.1f}",
        "baseline_cpu_ms": f"{baseline['cpu_ms']:.1f}",
        "cpu_ratio": f"{measured['cpu_ms'] / max(baseline['cpu_ms'], 0.001):.2f}",
        "answered_201": str(int(measured["answered_201"])),
        "answered_202": str(int(measured["answered_202"])),
        "submissions": str(args.submissions),
        "rate": f"{args.rate:g}",
    }
    if args.load > 0:
        print(f"load: {args.clients} clients for {args.load:g} s on relaydesk web ...", flush=True)
        loaded = load(seconds=args.load, clients=args.clients)
        print(
            f"  {loaded['load_answers_per_s']:.0f} durable answers/s, p50 "
            f"{loaded['load_p50_ms']:.0f} ms, p99 {loaded['load_p99_ms']:.0f} ms, "
            f"{loaded['load_failures']:.0f} failed, {loaded['load_web_cpu_ms']:.2f} ms of the "
            "web process's CPU per answer",
            flush=True,
        )
        figures.update(
            {k: f"{v:.1f}" if "ms" in k or "per_s" in k else f"{v:.0f}" for k, v in loaded.items()}
        )
    print(" ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
