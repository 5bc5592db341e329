"""A worker process that consumes ``route`` routes the tickets its ingest commits in the
ingesting thread, without a route message; one that does not sends them, as before; a
routing that fails there falls back to the route message. Real Redis, both stores; and
real worker processes on PostgreSQL, counted by their tallies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_settings
from router.envelopes import InboundMessage
from router.vocabulary import Channel
from store.models import Ticket
from tests.conftest import make_settings
from tests.support.processes import Background, migrated_env
from tests.support.services import fresh_postgres_database
from tests.support.smtp_sink import SmtpSink
from workers.channels.intake import StoreIntake
from workers.runtime import queues
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database, route_where_consumed
from workers.runtime.queued_messages import held_arguments
from workers.steps import route as route_step

pytestmark = [pytest.mark.integration]

WEB = queues.ingest_queue(Channel.WEB)


@pytest.fixture
def runtime(database_url: str, redis_url: str) -> Iterator[Runtime]:
    """The example desk (ana and ben online) on a real Redis broker, nobody consuming."""
    settings = make_settings(
        database_url,
        relaydesk_broker_url=redis_url,
        relaydesk_broker__namespace=f"t{uuid.uuid4().hex[:8]}",
        relaydesk_helpdesk__acknowledge="false",
    )
    built = build_runtime(settings, pool_size=6)
    try:
        prepare_database(built)
        yield built
    finally:
        built.close()


def _ingested(runtime: Runtime, key: str) -> int:
    """A web message accepted, then its ingest message handled as a worker would; its
    ticket's number."""
    intake = StoreIntake(runtime)
    receipt = intake.accept(
        InboundMessage(
            channel=Channel.WEB,
            idempotency_key=key,
            sender_address=f"{key}@example.org",
            subject="help",
            body_text="it is broken",
        )
    )
    runtime.ingest_actors[Channel.WEB].fn(receipt.inbox_id)
    made = intake.receipt(receipt.inbox_id)
    assert made is not None and made.ticket_number is not None
    return made.ticket_number


def _assignee(runtime: Runtime, number: int) -> int | None:
    with runtime.db.unit_of_work() as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        return ticket.assignee_id


def _route_messages(runtime: Runtime) -> list[tuple[object, ...]] | None:
    return held_arguments(runtime.broker, queues.ROUTE, "route_ticket")


def test_a_process_consuming_route_routes_its_ingests_tickets_without_a_message(
    runtime: Runtime,
) -> None:
    route_where_consumed(runtime, [WEB, queues.ROUTE])
    number = _ingested(runtime, "here")
    assert _assignee(runtime, number) is not None
    assert _route_messages(runtime) == []


def test_an_ingest_batch_of_several_tickets_sends_them_to_route(runtime: Runtime) -> None:
    """Only a lone ticket is routed where it was ingested: a route batch passes over an
    agent another router holds, and every ingest batch routing its own tickets at once
    gave them to the agents each could hold. Several are sent in one message, merged as
    the message's other sends are (one a message made every routing and notice alone)."""
    route_where_consumed(runtime, [WEB, queues.ROUTE])
    intake = StoreIntake(runtime)
    ids = [
        intake.accept(
            InboundMessage(
                channel=Channel.WEB,
                idempotency_key=key,
                sender_address=f"{key}@example.org",
                subject="help",
                body_text="it is broken",
            )
        ).inbox_id
        for key in ("first", "second")
    ]
    runtime.ingest_actors[Channel.WEB].fn(ids[0])  # the second is taken along
    receipts = [intake.receipt(inbox_id) for inbox_id in ids]
    numbers = [r.ticket_number for r in receipts if r is not None and r.ticket_number]
    assert len(numbers) == 2
    assert _route_messages(runtime) == [(sorted(numbers),)]  # one message: a route batch
    assert [_assignee(runtime, n) for n in numbers] == [None, None]


def test_a_process_not_consuming_route_sends_the_route_message(runtime: Runtime) -> None:
    route_where_consumed(runtime, [WEB])
    number = _ingested(runtime, "sent")
    assert _assignee(runtime, number) is None
    assert _route_messages(runtime) == [(number,)]


def test_a_routing_that_fails_here_falls_back_to_the_route_message(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    route_where_consumed(runtime, [WEB, queues.ROUTE])

    def store_away(*_args: object, **_kwargs: object) -> route_step.Outcome:
        raise ConnectionError("the store is away")

    with monkeypatch.context() as patched:
        patched.setattr(route_step, "_route", store_away)
        number = _ingested(runtime, "fails")  # the ingest message does not fail for it
    assert _assignee(runtime, number) is None
    assert _route_messages(runtime) == [(number,)]
    assert runtime.route_actor is not None
    runtime.route_actor.fn(number)  # the route message, as a worker takes it
    assert _assignee(runtime, number) is not None


def test_a_routing_that_fails_as_a_whole_here_sends_every_ticket(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    route_where_consumed(runtime, [WEB, queues.ROUTE])

    def broken(*_args: object) -> list[int]:
        raise RuntimeError("a bug")

    with monkeypatch.context() as patched:
        patched.setattr(route_step.RouteBatch, "run", broken)
        number = _ingested(runtime, "bug")
    assert _route_messages(runtime) == [(number,)]


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
    ("queue_sets", "route_messages"),
    [
        ([f"{WEB},{queues.ROUTE},outbound.email"], 0),
        ([f"{WEB},outbound.email", queues.ROUTE], 3),
    ],
)
def test_worker_processes_route_here_only_where_they_consume_route(
    redis_url: str,
    tmp_path: Path,
    smtp_sink: SmtpSink,
    queue_sets: list[str],
    route_messages: int,
) -> None:
    """Three tickets, one at a time, through real worker processes: acknowledged and their
    agent notified; the route messages the workers' tallies counted."""
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
                    StoreIntake(runtime).accept(
                        InboundMessage(
                            channel=Channel.WEB,
                            idempotency_key=f"lone-{i}",
                            sender_address=f"c{i}@example.org",
                            subject="help",
                            body_text="it is broken",
                        )
                    )
                    smtp_sink.wait_for(2 * (i + 1), timeout=30)  # acknowledged, ana notified
            finally:
                runtime.close()
        finally:
            outputs = []
            for worker in workers:
                assert worker.stop() == 0, worker.output()
                outputs.append(worker.output())
    tallies = "\n".join(line for out in outputs for line in out.splitlines() if "processed" in line)
    counted = sum(int(n) for n in re.findall(r"route_ticket (\d+)/", tallies))
    assert counted == route_messages, tallies
