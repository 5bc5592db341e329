"""A broker that comes back empty (wiped, or a Redis restarted with nothing on disk) is
noticed by the scheduler on its next sweep, and every pending row is sent on at once
instead of after ``redrive_after_s``; rows a live worker is sending keep their lease.
Real Redis (the test session's private redis-server, this test's own namespace), on
both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from router.envelopes import InboundMessage, OutboundMessage
from router.vocabulary import Channel, OutboxKind
from tests.conftest import make_settings
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.runtime.scheduler import Scheduler

pytestmark = pytest.mark.integration


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    name = f"epoch{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


@pytest.fixture
def runtime(database_url: str, redis_url: str, namespace: str) -> Iterator[Runtime]:
    settings = make_settings(
        database_url, relaydesk_broker_url=redis_url, relaydesk_broker__namespace=namespace
    )
    runtime = build_runtime(settings, pool_size=2)
    prepare_database(runtime)
    yield runtime
    runtime.close()


def _accept_without_message(runtime: Runtime, key: str) -> int:
    """An inbox row whose broker message is gone: due again only in ``redrive_after_s``."""
    with runtime.db.unit_of_work() as uow:
        return uow.inbox.accept(
            InboundMessage(
                channel=Channel.WEB, idempotency_key=key, sender_address="a@b.org", body_text="b"
            ),
            now=runtime.now(),
            redrive_after=runtime.redrive_after,
        ).inbox_id


def _queue_mail(runtime: Runtime, n: int) -> int:
    with runtime.db.unit_of_work() as uow:
        outbox_id = uow.outbox.add(
            OutboundMessage(
                channel=Channel.EMAIL,
                recipient=f"r{n}@example.org",
                subject="s",
                body_text="b",
                message_id=f"<epoch{n}@desk>",
            ),
            kind=OutboxKind.REPLY,
            ticket_id=None,
            now=runtime.now(),
            redrive_after=runtime.redrive_after,
        )
    assert outbox_id is not None
    return outbox_id


def _wipe(redis_url: str, namespace: str) -> None:
    """What a wiped broker has left of this deployment: nothing."""
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


def test_a_broker_that_lost_its_messages_has_every_pending_row_sent_on_at_once(
    runtime: Runtime, redis_url: str, namespace: str
) -> None:
    scheduler = Scheduler(runtime)
    _accept_without_message(runtime, "before-first-sweep")
    first = scheduler.sweep(drain=False)  # a broker never marked: as good as a wiped one
    assert first.inbox == 1

    inbox_id = _accept_without_message(runtime, "queued-then-wiped")
    pending_mail = _queue_mail(runtime, 1)
    sending_mail = _queue_mail(runtime, 2)
    with runtime.db.unit_of_work() as uow:  # a live worker is sending this one
        assert uow.outbox.claim(
            sending_mail, now=runtime.now(), lease=runtime.send_lease, holder="alive"
        )
    assert scheduler.sweep(drain=False) == first.__class__(inbox=0, outbox=0, teams=0)

    _wipe(redis_url, namespace)
    swept = scheduler.sweep(drain=False)
    assert (swept.inbox, swept.outbox) == (2, 1)  # both inbox rows: no worker took either
    with runtime.db.unit_of_work() as uow:
        assert uow.outbox.get(sending_mail).state == "sending"  # type: ignore[union-attr]
        assert uow.outbox.get(pending_mail).state == "pending"  # type: ignore[union-attr]
    queued = redis.Redis.from_url(redis_url).hvals(f"{namespace}:ingest.web.msgs")
    assert any(str(inbox_id).encode() in body for body in queued)  # on its queue again
    assert scheduler.sweep(drain=False).inbox == 0  # marked again: nothing more
