"""Distributed mode: `relaydesk worker` processes on Redis (and RabbitMQ) with PostgreSQL.

Includes the crash test: a worker process is killed with SIGKILL in the middle
of a batch, and every accepted message still ends as exactly one ticket,
assigned, its agent notified once.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from config import load_settings
from config.settings import Settings
from router.envelopes import InboundMessage
from router.vocabulary import Channel
from store.models import InboxItem, OutboxItem, Ticket
from tests.support.processes import (
    MIGRATE_TIMEOUT_S,
    Background,
    child_pids,
    migrated_env,
    relaydesk_env,
    run,
    wait_until,
)
from tests.support.services import (
    fresh_postgres_database,
    private_rabbitmq_vhost,
)
from tests.support.smtp_sink import SmtpSink
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONFIG = """
[helpdesk]
name = "relaydesk test"
address = "support@desk.test"
default_team = "support"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {port}

[scheduler]
interval_s = 0.5
redrive_after_s = 8
send_lease_s = 10

[broker]
namespace = "{namespace}"
heartbeat_timeout_ms = 5000

[[teams]]
name = "support"

[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
capacity = 10000
status = "online"

[[agents]]
name = "ben"
email = "ben@desk.test"
teams = ["support"]
capacity = 10000
status = "online"
"""


@pytest.fixture
def deployment(
    redis_url: str, tmp_path: Path, smtp_sink: SmtpSink
) -> Iterator[tuple[Path, dict[str, str]]]:
    config = tmp_path / "relaydesk.toml"
    config.write_text(CONFIG.format(port=smtp_sink.port, namespace=f"t{uuid.uuid4().hex[:8]}"))
    with fresh_postgres_database() as pg_url:
        env, migrated = migrated_env(config, pg_url, redis_url)
        assert "agent ana created" in migrated
        yield config, env


def settings_of(config: Path, env: dict[str, str]) -> Settings:
    return load_settings(config, environ=env)


def submit(settings: Settings, count: int, prefix: str) -> list[int]:
    runtime = build_runtime(settings, pool_size=2)
    try:
        intake = StoreIntake(runtime)
        return [
            intake.accept(
                InboundMessage(
                    channel=Channel.WEB,
                    idempotency_key=f"{prefix}-{i}",
                    sender_address=f"customer{i}@example.org",
                    sender_name=f"Customer {i}",
                    subject=f"request {i}",
                    body_text=f"body {i}",
                )
            ).inbox_id
            for i in range(count)
        ]
    finally:
        runtime.close()


def counts(settings: Settings) -> dict[str, int]:
    runtime = build_runtime(settings, pool_size=1)
    try:
        with runtime.db.unit_of_work() as uow:
            s = uow.session
            return {
                "tickets": s.scalar(select(func.count()).select_from(Ticket)) or 0,
                "assigned": s.scalar(
                    select(func.count()).select_from(Ticket).where(Ticket.assignee_id.is_not(None))
                )
                or 0,
                "sent": s.scalar(
                    select(func.count()).select_from(OutboxItem).where(OutboxItem.state == "done")
                )
                or 0,
                "inbox_done": s.scalar(
                    select(func.count()).select_from(InboxItem).where(InboxItem.state == "done")
                )
                or 0,
            }
    finally:
        runtime.close()


def test_worker_processes_on_redis_and_postgres_take_messages_to_notified_agents(
    deployment: tuple[Path, dict[str, str]], smtp_sink: SmtpSink
) -> None:
    config, env = deployment
    settings = settings_of(config, env)
    worker = Background(["worker", "--processes", "2", "--threads", "4"], env)
    try:
        worker.wait_for_output("2 processes x 4 threads")
        submit(settings, 20, "plain")
        messages = smtp_sink.wait_for(40, timeout=60)  # 20 acknowledgements + 20 notices
    finally:
        assert worker.stop() == 0, worker.output()
    recipients = Counter(m.rcpt_tos[0] for m in messages)
    assert recipients["ana@desk.test"] + recipients["ben@desk.test"] == 20
    # least loaded first; concurrent routers may read the same loads, so only roughly even
    assert min(recipients["ana@desk.test"], recipients["ben@desk.test"]) >= 5
    assert counts(settings) == {"tickets": 20, "assigned": 20, "sent": 40, "inbox_done": 20}


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    deployment: tuple[Path, dict[str, str]], smtp_sink: SmtpSink
) -> None:
    config, env = deployment
    settings = settings_of(config, env)
    total = 300
    workers = Background(["worker", "--processes", "2", "--threads", "4"], env)
    scheduler = Background(["scheduler"], env)
    try:
        workers.wait_for_output("2 processes x 4 threads")
        scheduler.wait_for_output("relaydesk scheduler")
        submit(settings, total, "crash")
        wait_until(lambda: counts(settings)["sent"] >= 60, 60)
        banner = workers.output().split("(pids ", 1)[1].split(")", 1)[0]
        victim = int(banner.split()[0])
        assert victim in child_pids(workers.proc.pid)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: "restarting" in workers.output(), 10, workers.output)
        wait_until(
            lambda: (
                counts(settings)
                == {"tickets": total, "assigned": total, "sent": 2 * total, "inbox_done": total}
            ),
            120,
            lambda: f"{counts(settings)}\n{workers.output()[-3000:]}",
        )
    finally:
        scheduler.stop()
        workers.stop()
    runtime = build_runtime(settings, pool_size=1)
    try:
        with runtime.db.unit_of_work() as uow:
            per_inbox = uow.session.execute(
                select(InboxItem.ticket_id, func.count()).group_by(InboxItem.ticket_id)
            ).all()
            notices = uow.session.execute(
                select(OutboxItem.ticket_id, OutboxItem.message_id).where(
                    OutboxItem.kind == "assignment"
                )
            ).all()
    finally:
        runtime.close()
    assert len(per_inbox) == total and all(n == 1 for _, n in per_inbox)  # one ticket each
    assert len(notices) == total and len({t for t, _ in notices}) == total  # notified once
    arrived = Counter(str(m.message["Message-ID"]).strip() for m in smtp_sink.messages)
    for _, message_id in notices:
        assert arrived[message_id] >= 1
    # a resend after the crash carries the same Message-ID, so at most the few messages in
    # flight at the kill can arrive twice, and a mail client shows them once
    assert sum(n - 1 for n in arrived.values()) <= 8


def test_a_worker_with_a_backlog_takes_untouched_rows_along_in_one_batch(
    deployment: tuple[Path, dict[str, str]], smtp_sink: SmtpSink, redis_url: str
) -> None:
    """Rows whose messages are still queued are ingested with the first one taken; their
    own messages then find them done. The rest of the pipeline gets lists."""
    config, env = deployment
    settings = settings_of(config, env)
    runtime = build_runtime(settings, pool_size=2)
    try:
        with runtime.db.unit_of_work() as uow:
            ids = [
                uow.inbox.accept(
                    InboundMessage(
                        channel=Channel.WEB,
                        idempotency_key=f"backlog-{i}",
                        sender_address=f"c{i}@example.org",
                        body_text="help",
                    ),
                    now=runtime.now(),
                    redrive_after=runtime.redrive_after,
                ).inbox_id
                for i in range(15)  # fewer than worker.batch_max (20)
            ]
        runtime.ingest_actors[Channel.WEB].fn(ids[0])  # one message, as a worker takes it
        with runtime.db.unit_of_work() as uow:
            states = {item.state for item in uow.inbox.recent(limit=100)}
            attempts = uow.session.execute(
                select(InboxItem.id, InboxItem.attempts).where(InboxItem.id.in_(ids))
            ).all()
        assert states == {"done"} and counts(settings)["tickets"] == 15
        assert {a for i, a in attempts if i != ids[0]} == {0}  # taken along, not attempted
        runtime.ingest_actors[Channel.WEB].fn(ids[1])  # its own message later: a no-op
        assert counts(settings)["tickets"] == 15
        route_queue = f"{settings.broker.namespace}:route"
        queued = redis.Redis.from_url(redis_url).hvals(f"{route_queue}.msgs")
        assert len(queued) == 1 and b"[" in queued[0]  # one message carries the 15 tickets
    finally:
        runtime.close()


def test_the_same_pipeline_runs_on_rabbitmq(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    config = tmp_path / "relaydesk.toml"
    config.write_text(CONFIG.format(port=smtp_sink.port, namespace="unused"))
    with private_rabbitmq_vhost() as amqp_url, fresh_postgres_database() as pg_url:
        env = relaydesk_env(config, RELAYDESK_DATABASE_URL=pg_url, RELAYDESK_BROKER_URL=amqp_url)
        assert run(["migrate"], env, timeout=MIGRATE_TIMEOUT_S).returncode == 0
        settings = settings_of(config, env)
        worker = Background(["worker", "--processes", "1", "--threads", "2"], env)
        try:
            worker.wait_for_output("1 processes x 2 threads")
            submit(settings, 3, f"amqp-{uuid.uuid4().hex[:6]}")
            smtp_sink.wait_for(6, timeout=60)
        finally:
            assert worker.stop() == 0, worker.output()
        assert counts(settings)["assigned"] == 3
