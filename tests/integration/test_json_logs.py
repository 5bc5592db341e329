"""Logs as JSON: one event per line, carrying the actor and the row its message is
about, written by real worker threads processing real messages (both databases)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from router.errors import TransientError
from tests.conftest import FAST_RETRIES, make_settings
from tests.support.desk import Desk, desk_for
from workers.runtime.json_logs import JsonFormatter


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, **FAST_RETRIES))


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("workers")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_a_failed_delivery_is_one_json_event_naming_its_actor_and_outbox_row(
    desk: Desk, lines: io.StringIO
) -> None:
    desk.sender.failures.append(TransientError("421 try later"))
    assert desk.submit("j1", sender="jo@example.org")
    events = [json.loads(line) for line in lines.getvalue().splitlines()]
    failed = [e for e in events if "failed" in e["message"] and e.get("actor") == "deliver_email"]
    assert failed, events
    event = failed[0]
    assert event["level"] == "warning" and event["logger"] == "workers.steps.deliver"
    assert f"outbox {event['outbox_id']}" in event["message"]
    assert event["ts"].endswith("+00:00") and isinstance(event["pid"], int)


def test_an_event_outside_any_message_names_what_the_caller_gave() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %s", ("it",), None)
    record.ticket = 42
    event = json.loads(JsonFormatter().format(record))
    assert event["message"] == "sent it" and event["ticket"] == 42 and "actor" not in event


def test_a_tickets_life_can_be_followed_by_its_number_across_steps(
    desk: Desk, lines: io.StringIO
) -> None:
    logger = logging.getLogger("workers")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        number = desk.submit("j2", sender="kim@example.org")
    finally:
        logger.setLevel(level)
    assert number
    events = [json.loads(line) for line in lines.getvalue().splitlines()]
    about = [e for e in events if e.get("ticket") == number]
    opened = [e for e in about if f"opened ticket #{number}" in e["message"]]
    assert opened and opened[0]["actor"] == "ingest_web" and opened[0]["inbox_id"]
    delivered = [e for e in about if "delivered to kim@example.org" in e["message"]]
    assert delivered and delivered[0]["actor"] == "deliver_email"  # the acknowledgement
    assert delivered[0]["outbox_id"]
    if any(e.get("actor") == "route_ticket" for e in events):  # an agent was free
        assert any(f"ticket #{number} assigned to" in e["message"] for e in about)
