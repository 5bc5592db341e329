"""A worker process that consumes a channel's outbound queue delivers a lone unit of work's
row in the thread that queued it, without an outbound message; several go to the queue
merged; a process without the queue sends, as before; a delivery that fails here leaves
its row to the queue, which delivers it once. Real Redis, both stores; and real worker
processes on PostgreSQL, counted by their tallies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_settings
from router.envelopes import InboundMessage
from router.errors import Throttled, TransientError
from router.vocabulary import Channel, RowState
from store.models import OutboxItem
from tests.conftest import make_settings
from tests.support.desk import CollectingSender
from tests.support.processes import Background, migrated_env
from tests.support.services import fresh_postgres_database
from tests.support.smtp_sink import SmtpSink
from workers.channels.intake import StoreIntake
from workers.runtime import queues
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.inline_deliveries import DELIVERED_HERE, HereBudget
from workers.runtime.processes import (
    deliver_where_consumed,
    prepare_database,
    route_where_consumed,
)
from workers.runtime.queued_messages import held_arguments

pytestmark = [pytest.mark.integration]

WEB = queues.ingest_queue(Channel.WEB)
OUT = queues.outbound_queue(Channel.EMAIL)
HERE = [WEB, queues.ROUTE, OUT]


@pytest.fixture
def runtime(database_url: str, redis_url: str) -> Iterator[Runtime]:
    """The example desk (ana and ben online, acknowledging) on a real Redis broker, nobody
    consuming, its email collected."""
    settings = make_settings(
        database_url,
        relaydesk_broker_url=redis_url,
        relaydesk_broker__namespace=f"t{uuid.uuid4().hex[:8]}",
    )
    built = build_runtime(settings, pool_size=6)
    built.use_sender(Channel.EMAIL, CollectingSender())
    try:
        prepare_database(built)
        yield built
    finally:
        built.close()


def _sent(runtime: Runtime) -> CollectingSender:
    sender = runtime.sender(Channel.EMAIL)
    assert isinstance(sender, CollectingSender)
    return sender


def _accepted(runtime: Runtime, key: str) -> int:
    return (
        StoreIntake(runtime)
        .accept(
            InboundMessage(
                channel=Channel.WEB,
                idempotency_key=key,
                sender_address=f"{key}@example.org",
                subject="help",
                body_text="it is broken",
            )
        )
        .inbox_id
    )


def _consuming(runtime: Runtime, queue_names: list[str]) -> None:
    route_where_consumed(runtime, queue_names)
    deliver_where_consumed(runtime, queue_names, threads=2)
    if runtime.inline_deliveries is not None:  # (not about slowness: none under load)
        runtime.inline_deliveries.budget = HereBudget(1, slow_s=60)


def _deliver_messages(runtime: Runtime) -> list[tuple[object, ...]] | None:
    return held_arguments(runtime.broker, OUT, "deliver_email")


def _rows(runtime: Runtime) -> list[tuple[int, str]]:
    with runtime.db.unit_of_work() as uow:
        query = uow.session.query(OutboxItem).order_by(OutboxItem.id)
        return [(row.id, row.recipient) for row in query]


def _states(runtime: Runtime) -> list[str]:
    with runtime.db.unit_of_work() as uow:
        return [row.state for row in uow.session.query(OutboxItem).order_by(OutboxItem.id)]


def _here() -> float:
    return DELIVERED_HERE.labels(Channel.EMAIL.value)._value.get()


def test_a_lone_tickets_acknowledgement_and_notice_are_delivered_without_a_message(
    runtime: Runtime,
) -> None:
    _consuming(runtime, HERE)
    before = _here()
    runtime.ingest_actors[Channel.WEB].fn(_accepted(runtime, "here"))
    recipients = [m.recipient for m in _sent(runtime).sent]
    assert len(recipients) == 2 and recipients[0] == "here@example.org"  # acknowledged first
    assert _deliver_messages(runtime) == []
    assert _states(runtime) == [RowState.DONE.value, RowState.DONE.value]
    assert _here() == before + 2
    # each waited for the far side at most the deliver step's time limit
    assert _sent(runtime).timeouts == [runtime.settings.retries.deliver.time_limit_ms / 1000] * 2


def test_a_row_asked_to_wait_is_not_counted_and_pauses_its_channel_here(
    runtime: Runtime,
) -> None:
    _consuming(runtime, HERE)
    before = _here()
    _sent(runtime).failures.append(Throttled("slow down", retry_after=30))
    runtime.ingest_actors[Channel.WEB].fn(_accepted(runtime, "waits"))
    assert _sent(runtime).sent == []  # the notice went to the queue: the channel paused
    assert _here() == before
    held = _deliver_messages(runtime)
    assert held is not None and sorted(int(str(h[0])) for h in held) == [
        i for i, _ in _rows(runtime)
    ]
    assert _states(runtime) == [RowState.PENDING.value, RowState.PENDING.value]


def test_a_process_of_one_thread_sends_its_rows(runtime: Runtime) -> None:
    route_where_consumed(runtime, HERE)
    deliver_where_consumed(runtime, HERE, threads=1)  # its only thread is not held here
    runtime.ingest_actors[Channel.WEB].fn(_accepted(runtime, "alone"))
    assert _sent(runtime).sent == []
    held = _deliver_messages(runtime)
    assert held is not None and len(held) == 2


def test_a_process_not_consuming_the_outbound_queue_sends_its_rows(runtime: Runtime) -> None:
    _consuming(runtime, [WEB, queues.ROUTE])
    runtime.ingest_actors[Channel.WEB].fn(_accepted(runtime, "sent"))
    assert _sent(runtime).sent == []
    held = _deliver_messages(runtime)
    assert held is not None and len(held) == 2  # the acknowledgement's, the notice's
    assert _states(runtime) == [RowState.PENDING.value, RowState.PENDING.value]


def test_a_batchs_rows_go_to_the_queue_merged(runtime: Runtime) -> None:
    """Two tickets in one ingest message: both acknowledgements in one message, as
    before (their routing goes to the route queue, whose batch notifies merged too)."""
    _consuming(runtime, HERE)
    ids = [_accepted(runtime, key) for key in ("first", "second")]
    runtime.ingest_actors[Channel.WEB].fn(ids[0])  # the second is taken along
    assert _sent(runtime).sent == []
    held = _deliver_messages(runtime)
    assert held is not None and len(held) == 1
    (outbox_ids,) = held[0]
    assert isinstance(outbox_ids, list) and len(outbox_ids) == 2


def test_a_delivery_failing_here_goes_to_the_queue_and_is_delivered_once(
    runtime: Runtime,
) -> None:
    _consuming(runtime, HERE)
    sender = _sent(runtime)
    sender.failures.append(TransientError("451 try later"))
    runtime.ingest_actors[Channel.WEB].fn(_accepted(runtime, "fails"))
    # the acknowledgement failed here: resent alone, after the first backoff; the
    # channel is paused here, so the notice went to the queue too
    held = _deliver_messages(runtime)
    assert held is not None and len(held) == 2 and all(isinstance(h[0], int) for h in held)
    assert sender.sent == []
    assert _states(runtime) == [RowState.PENDING.value, RowState.PENDING.value]
    actor = runtime.deliver_actors[Channel.EMAIL]
    for (outbox_id,) in held:
        actor.fn(outbox_id)  # the messages, as a worker takes them
        actor.fn(outbox_id)  # and once more, as a redelivery: nothing to do
    recipients = [m.recipient for m in sender.sent]
    assert len(recipients) == 2 and "fails@example.org" in recipients
    assert _states(runtime) == [RowState.DONE.value, RowState.DONE.value]


def test_a_stopping_process_sends_the_row(runtime: Runtime) -> None:
    _consuming(runtime, HERE)
    runtime.stopping.set()
    runtime.ingest_actors[Channel.WEB].fn(_accepted(runtime, "stop"))
    assert _sent(runtime).sent == []
    acknowledgement = [i for i, to in _rows(runtime) if to == "stop@example.org"]
    held = _deliver_messages(runtime)
    assert held is not None and len(acknowledgement) == 1
    assert any(acknowledgement[0] in (h[0] if isinstance(h[0], list) else [h[0]]) for h in held)


CONFIG = """
[helpdesk]
name = "relaydesk test"
address = "support@desk.test"
default_team = "support"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {port}

[broker]
namespace = "{namespace}"

[worker]
deliver_here_slow_ms = 60000  # a test machine's load must not send a row to the queue

[[teams]]
name = "support"

[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
capacity = 100
status = "online"
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("queue_sets", "deliver_messages"),
    [
        ([f"{WEB},{queues.ROUTE},{OUT}"], 0),
        ([f"{WEB},{queues.ROUTE}", OUT], 6),
    ],
)
def test_worker_processes_deliver_here_only_where_they_consume_outbound(
    redis_url: str,
    tmp_path: Path,
    smtp_sink: SmtpSink,
    queue_sets: list[str],
    deliver_messages: int,
) -> None:
    """Three tickets, one at a time, through real worker processes: acknowledged and their
    agent notified over SMTP; the delivery messages the workers' tallies counted."""
    config = tmp_path / "relaydesk.toml"
    config.write_text(CONFIG.format(port=smtp_sink.port, namespace=f"t{uuid.uuid4().hex[:8]}"))
    with fresh_postgres_database() as pg_url:
        env, _ = migrated_env(config, pg_url, redis_url)
        workers = [
            Background(["worker", "--processes", "1", "--threads", "2", "--queues", q], env)
            for q in queue_sets
        ]
        try:
            for worker in workers:
                worker.wait_for_output("1 processes x 2 threads")
            runtime = build_runtime(load_settings(config, environ=env), pool_size=2)
            try:
                for i in range(3):
                    _accepted(runtime, f"lone-{i}")
                    smtp_sink.wait_for(2 * (i + 1), timeout=30)  # acknowledged, ana notified
            finally:
                runtime.close()
        finally:
            outputs = []
            for worker in workers:
                assert worker.stop() == 0, worker.output()
                outputs.append(worker.output())
    tallies = "\n".join(line for out in outputs for line in out.splitlines() if "processed" in line)
    counted = sum(int(n) for n in re.findall(r"deliver_email (\d+)/", tallies))
    assert counted == deliver_messages, tallies
    assert len(smtp_sink.messages) == 6
