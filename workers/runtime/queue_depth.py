"""How much waits on each broker queue, and since when: read from the broker itself.

Redis: the queue's list of message ids (and its delay queue), the oldest read from
the message it names. RabbitMQ: the queue's message count (the broker does not say
how old its head is). The in-process stub broker: its queues' sizes and heads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker

from workers.runtime.broker import broker_kind


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    ready: int  # waiting to be taken
    delayed: int | None  # waiting for their time (retries, holds); None: not known
    oldest: datetime | None  # when the oldest waiting message was sent


def queue_depths(broker: Broker, queues: Iterable[str]) -> list[QueueDepth]:
    if isinstance(broker, StubBroker):
        return [_stub(broker, q) for q in queues]
    if broker_kind(broker) == "RedisBroker":
        return [_redis(broker, q) for q in queues]
    return [_rabbitmq(broker, q) for q in queues]


def _sent_at(raw: bytes | str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        stamp = json.loads(raw)["message_timestamp"]
    except (ValueError, KeyError, TypeError):
        return None
    return datetime.fromtimestamp(stamp / 1000, UTC)


def _stub(broker: StubBroker, queue: str) -> QueueDepth:
    ready = broker.queues.get(queue)
    delayed = broker.queues.get(f"{queue}.DQ")
    head: Any = ready.queue[0] if ready is not None and ready.queue else None
    return QueueDepth(
        queue=queue,
        ready=ready.qsize() if ready is not None else 0,
        delayed=delayed.qsize() if delayed is not None else 0,
        oldest=_sent_at(head),
    )


def _redis(broker: Any, queue: str) -> QueueDepth:
    client, name = broker.client, f"{broker.namespace}:{queue}"
    head = client.lindex(name, 0)
    raw = client.hget(f"{name}.msgs", head) if head is not None else None
    return QueueDepth(
        queue=queue,
        ready=int(client.llen(name)),
        delayed=int(client.hlen(f"{name}.DQ.msgs")),
        oldest=_sent_at(raw),
    )


def _rabbitmq(broker: Any, queue: str) -> QueueDepth:
    method = broker.channel.queue_declare(queue=queue, durable=True, passive=True).method
    delayed = broker.channel.queue_declare(queue=f"{queue}.DQ", durable=True, passive=True).method
    return QueueDepth(
        queue=queue,
        ready=int(method.message_count),
        delayed=int(delayed.message_count),
        oldest=None,
    )


__all__ = ["QueueDepth", "queue_depths"]
