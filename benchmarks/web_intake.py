"""What a web submission costs the desk while its workers are stalled (the issue's backlog).

    python -m benchmarks.web_intake [--submissions 200] [--rate 20] [--database sqlite|postgresql]

Runs the web app (in process, through its ASGI interface) on a desk whose workers do
nothing, so every submission stays pending, and posts ``--submissions`` tickets at
``--rate`` per second, each in its own thread as concurrent clients do. Counted in the
web's engine: statements and transactions per submission; and the process's CPU time
per submission (only the web runs). The baseline is the same run with the wait off
(``web.intake_wait_s = 0``: accept and answer 202), the floor of any submission; the
measured run uses the default wait (2 s) and backlog threshold (0.5 s).

PostgreSQL (127.0.0.1:5432, trust) gets a database of its own, dropped afterwards;
SQLite a file in a temporary folder.

The last line is key=value pairs: statements_per_submission, baseline_statements,
statements_ratio, cpu_ms_per_submission, baseline_cpu_ms, cpu_ratio, answered_201,
answered_202, submissions, rate.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event

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

    with fresh_postgres_database() as url:
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
    statements = Counter[str]()

    def count(_c: object, _cur: object, statement: str, *_a: object) -> None:
        statements[statement.split(None, 1)[0].upper()] += 1

    answers = Counter[int]()
    lock = threading.Lock()

    def post(n: int) -> None:
        response = client.post("/api/v1/tickets", json=TICKET, headers={"Idempotency-Key": f"b{n}"})
        with lock:
            answers[response.status_code] += 1

    event.listen(runtime.db.engine, "before_cursor_execute", count)
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
    event.remove(runtime.db.engine, "before_cursor_execute", count)
    client.close()
    runtime.close()
    return {
        "statements": sum(statements.values()) / submissions,
        "cpu_ms": cpu * 1000 / submissions,
        "answered_201": answers[201],
        "answered_202": answers[202],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
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
    print(" ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
