"""Prometheus metrics, on both databases: /metrics on the web app shows the fleet's
gauges read from the store and the broker, and the counters of the actors' messages
(processed, failed, retried, duration) that the middleware keeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import dramatiq
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from router.envelopes import OutboundMessage
from router.errors import TransientError
from router.vocabulary import Channel, OutboxKind
from tests.conftest import FAST_RETRIES, make_settings
from tests.support.desk import Desk, desk_for
from workers.runtime.processes import make_web_app


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, **FAST_RETRIES))


def _scrape(desk: Desk) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with TestClient(make_web_app(desk.runtime)) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def test_metrics_show_the_rows_waiting_and_the_messages_each_actor_processed(desk: Desk) -> None:
    runtime = desk.runtime
    desk.sender.failures.append(TransientError("421 try later"))  # the first send fails
    number = desk.submit("m1")  # ingest, route, deliver: each actor processes its message
    assert number
    with runtime.db.unit_of_work() as uow:
        uow.outbox.add(
            OutboundMessage(
                channel=Channel.EMAIL,
                recipient="late@x.org",
                subject="s",
                body_text="b",
                message_id="<metrics@x>",
            ),
            kind=OutboxKind.REPLY,
            ticket_id=None,
            now=runtime.now() - timedelta(minutes=5),
            redrive_after=timedelta(hours=1),
        )
    seen = _scrape(desk)
    assert seen[("relaydesk_outbox_rows", (("state", "pending"),))] == 1
    assert seen[("relaydesk_outbox_oldest_unfinished_seconds", ())] >= 300
    # the rows still to do or failed, 0 or not; the finished ones are history, not scraped
    assert seen[("relaydesk_inbox_rows", (("state", "failed"),))] == 0
    assert seen[("relaydesk_outbox_rows", (("state", "sending"),))] == 0
    assert ("relaydesk_inbox_rows", (("state", "done"),)) not in seen
    assert ("relaydesk_outbox_rows", (("state", "done"),)) not in seen
    ingest = (("actor", "ingest_web"), ("queue", "ingest.web"))
    assert seen[("relaydesk_messages_processed_total", ingest)] >= 1
    assert seen[("relaydesk_message_duration_seconds_count", ingest)] >= 1
    assert ("relaydesk_queue_depth", (("kind", "ready"), ("queue", "route"))) in seen
    assert seen[("relaydesk_intake_total", (("channel", "web"), ("outcome", "new")))] >= 1
    assert seen[("relaydesk_deliveries_total", (("channel", "email"),))] >= 1
    failure = (("channel", "email"), ("outcome", "pending"), ("reason", "TransientError"))
    assert seen[("relaydesk_delivery_failures_total", failure)] >= 1


def test_a_failing_message_is_counted_failed_then_retried(desk: Desk) -> None:
    broker, tries = desk.runtime.broker, []

    @dramatiq.actor(broker=broker, queue_name="route", actor_name="flaky", min_backoff=1)
    def flaky() -> None:
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("once")

    flaky.send()
    desk.settle()
    seen = _scrape(desk)
    labels = (("actor", "flaky"), ("queue", "route"))
    assert len(tries) == 2
    assert seen[("relaydesk_messages_failed_total", labels)] >= 1
    assert seen[("relaydesk_messages_retried_total", labels)] >= 1
    assert seen[("relaydesk_messages_processed_total", labels)] >= 1
