"""``relaydesk status``: the fleet on one screen, read from the store and the broker, on
both databases; queue depths read from a real (private) Redis."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import dramatiq
from click.testing import CliRunner
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import update

from router.envelopes import InboundMessage, OutboundMessage
from router.vocabulary import Channel, OutboxKind
from store.db import Database
from store.models import InboxItem
from store.process_beats import Beating
from workers.cli import main
from workers.runtime.queue_depth import queue_depths

MINUTE = timedelta(minutes=1)


def _seed(url: str, now: datetime) -> None:
    db = Database(url)
    with db.unit_of_work() as uow:
        alive = Beating(holder="h1:10:a", kind="worker", host="h1", pid=10, queues=("ingest.web",))
        gone = Beating(
            holder="h2:20:b", kind="worker", host="h2", pid=20, queues=("deliver.email",)
        )
        uow.process_beats.beat(alive, started_at=now - MINUTE, now=now)
        uow.process_beats.beat(gone, started_at=now - 60 * MINUTE, now=now - 30 * MINUTE)
        uow.inbox.accept(
            InboundMessage(
                channel=Channel.WEB, idempotency_key="k1", sender_address="jo@x.org", body_text="hi"
            ),
            now=now - 2 * MINUTE,
            redrive_after=MINUTE,
        )
        for key in ("k2", "k3"):  # two rows finished long ago
            uow.inbox.accept(
                InboundMessage(
                    channel=Channel.WEB,
                    idempotency_key=key,
                    sender_address="jo@x.org",
                    body_text="old",
                ),
                now=now - 600 * MINUTE,
                redrive_after=MINUTE,
            )
        uow.session.execute(
            update(InboxItem).where(InboxItem.idempotency_key != "k1").values(state="done")
        )
        uow.outbox.add(
            OutboundMessage(
                channel=Channel.EMAIL,
                recipient="jo@x.org",
                subject="s",
                body_text="b",
                message_id="<status@x>",
            ),
            kind=OutboxKind.REPLY,
            ticket_id=None,
            now=now - 3 * MINUTE,
            redrive_after=MINUTE,
        )
    db.dispose()


def _run(url: str, *args: str) -> str:
    env = {"RELAYDESK_DATABASE_URL": url, "RELAYDESK_BROKER_URL": "stub://"}
    result = CliRunner(env=env).invoke(main, ["status", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_status_shows_each_process_quiet_or_running_and_the_work_waiting(
    database_url: str,
) -> None:
    now = datetime.now(UTC)
    _seed(database_url, now)
    data = json.loads(_run(database_url, "--json"))
    by_pid = {p["pid"]: p for p in data["processes"]}
    assert (by_pid[10]["quiet"], by_pid[20]["quiet"]) == (False, True)
    assert by_pid[20]["last_beat_age_s"] >= 30 * 60
    # the command line counts the finished rows too; every open state is there, 0 or not
    assert data["inbox"]["by_state"] == {"done": 2, "failed": 0, "pending": 1}
    assert data["inbox"]["oldest_unfinished_age_s"] >= 120
    assert data["outbox"]["by_state"] == {"failed": 0, "pending": 1, "sending": 0}
    assert data["outbox"]["oldest_unfinished_age_s"] >= 180
    queues = {q["queue"]: q for q in data["queues"]}
    assert "ingest.web" in queues and queues["ingest.web"]["ready"] == 0
    assert data["breaches_last_hour"] == 0 and data["backlog"] == []
    text = _run(database_url)
    assert "quiet" in text and "running" in text and "ingest.web" in text


def test_queue_depth_and_oldest_message_are_read_from_redis(redis_url: str) -> None:
    broker = RedisBroker(url=redis_url, namespace=f"t{uuid.uuid4().hex[:8]}")
    try:

        @dramatiq.actor(broker=broker, queue_name="deliver.email", actor_name="noop")
        def noop(n: int) -> None:
            pass

        before = datetime.now(UTC) - timedelta(seconds=1)
        for n in range(3):
            noop.send(n)
        noop.send_with_options(args=(9,), delay=60_000)
        (depth,) = queue_depths(broker, ["deliver.email"])
        assert (depth.ready, depth.delayed) == (3, 1)
        assert depth.oldest is not None and before <= depth.oldest <= datetime.now(UTC)
    finally:
        broker.close()
