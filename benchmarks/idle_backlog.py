"""What an idle desk with a waiting backlog costs PostgreSQL, in transactions per second.

    python -m benchmarks.idle_backlog [--tickets 401] [--settle 15] [--window 30]

Two desks, one after the other in the same run, each on a fresh PostgreSQL
database (dropped afterwards) and its own Redis namespace
(a private redis-server started for the run, or RELAYDESK_BENCH_REDIS, where only
this run's keys are deleted): one team, one online agent of capacity 5, one ``relaydesk
worker`` process and one ``relaydesk scheduler`` (it drains each team's
backlog every 2.5 s), N web tickets submitted through intake and ingested and
routed by the worker.

- ``full``, the baseline: the agent has no channel limit, takes 5 tickets and
  is full; the rest wait.
- ``web limit``: the agent has ``channel_capacity = { web = 1 }``: one ticket
  is assigned, and the agent's 4 free slots fit none of the waiting ones.

Once every inbox row is ingested, the desk is left ``--settle`` seconds, then
its database's transactions (``pg_stat_database``: commits and rollbacks; the
benchmark's own two reads included) are counted over ``--window`` seconds.
Nobody does anything meanwhile: the desk is idle, whatever it spends is the
backlog's upkeep.

The last line is key=value pairs: full_tps, web_limit_tps, ratio (web limit
over full), tickets, window_s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, select, text

from benchmarks.bench_redis import bench_redis, redis_url
from config import load_settings
from router.envelopes import InboundMessage
from router.vocabulary import Channel
from store.models import InboxItem, Ticket
from tests.support.processes import Background, migrated_env, wait_until
from tests.support.services import fresh_postgres_database
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime

CONFIG = """
[helpdesk]
name = "relaydesk idle backlog bench"
address = "support@bench.test"
default_team = "desk"
acknowledge = false

[smtp]
transport = "file"
file_dir = "{outbox}"

[broker]
namespace = "{namespace}"

[[teams]]
name = "desk"

[[agents]]
name = "solo"
email = "solo@bench.test"
teams = ["desk"]
status = "online"
capacity = 5
{limit}
"""


def _submit(runtime: Runtime, count: int) -> None:
    intake = StoreIntake(runtime)
    for i in range(count):
        intake.accept(
            InboundMessage(
                channel=Channel.WEB,
                idempotency_key=f"idle-{i}",
                sender_address=f"c{i}@example.org",
                subject=f"cannot log in {i}",
                body_text="The login page says my password expired.",
            )
        )


def _ingested(runtime: Runtime, count: int) -> bool:
    with runtime.db.unit_of_work() as uow:
        done = uow.session.scalar(
            select(func.count()).select_from(InboxItem).where(InboxItem.state == "done")
        )
    return done == count


def _transactions(url: str) -> int:
    name = url.rsplit("/", 1)[1]
    engine = create_engine(url.rsplit("/", 1)[0] + "/postgres")
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT xact_commit + xact_rollback FROM pg_stat_database "
                        "WHERE datname = :name"
                    ),
                    {"name": name},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _desk(args: argparse.Namespace, limit: str) -> tuple[float, int]:
    """Transactions per second of the idle desk, and how many tickets wait."""
    namespace = f"bench-idle-{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory() as tmp, fresh_postgres_database(durable=True) as url:
            config = Path(tmp) / "idle.toml"
            config.write_text(
                CONFIG.format(outbox=Path(tmp) / "outbox", namespace=namespace, limit=limit)
            )
            env, _ = migrated_env(config, url, redis_url())
            settings = load_settings(config, environ=env)
            worker = Background(["worker", "--processes", "1"], env)
            scheduler = Background(["scheduler"], env)
            runtime = build_runtime(settings, pool_size=2)
            try:
                _submit(runtime, args.tickets)
                wait_until(lambda: _ingested(runtime, args.tickets), 300, worker.output)
                time.sleep(args.settle)
                before, started = _transactions(url), time.monotonic()
                time.sleep(args.window)
                after, elapsed = _transactions(url), time.monotonic() - started
                with runtime.db.unit_of_work() as uow:
                    waiting = int(
                        uow.session.scalar(
                            select(func.count())
                            .select_from(Ticket)
                            .where(Ticket.assignee_id.is_(None))
                        )
                        or 0
                    )
            finally:
                scheduler.stop()
                worker.stop()
                runtime.close()
    finally:  # only this run's keys: others may share the Redis database
        client = redis.Redis.from_url(redis_url())
        keys = list(client.scan_iter(f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
    return (after - before) / elapsed, waiting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tickets", type=int, default=401)
    parser.add_argument("--settle", type=float, default=15.0)
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args()
    full, full_waiting = _desk(args, "")
    print(f"full (no channel limit): {full:.1f} transactions/s, {full_waiting} tickets waiting")
    limited, limited_waiting = _desk(args, "channel_capacity = { web = 1 }")
    print(
        f"web limit 1 (4 free slots no waiting ticket fits): {limited:.1f} transactions/s, "
        f"{limited_waiting} tickets waiting"
    )
    print(
        f"full_tps={full:.1f} web_limit_tps={limited:.1f} ratio={limited / full:.2f} "
        f"tickets={args.tickets} window_s={args.window:g}"
    )


if __name__ == "__main__":
    with bench_redis():  # RELAYDESK_BENCH_REDIS, else a private redis-server
        main()
