"""Which messages the broker still holds for a queue: read from the broker itself.

A message is held from its send until a worker acknowledges it: waiting in the queue,
in its delay queue (a retry, a hold), or taken by a worker that has not finished it
(Redis keeps it for the worker's acknowledgement and gives it back if that worker
dies). Redis says all of it; the in-process stub broker what waits in its queues (a
message its worker has taken is no longer there); RabbitMQ cannot say without taking
the messages, so there the answer is ``None`` (not known).
"""

from __future__ import annotations

from typing import Any

from dramatiq import Broker, Message
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from workers.runtime.broker import broker_kind


def held_arguments(broker: Broker, queue: str, actor: str) -> list[tuple[Any, ...]] | None:
    """The arguments of each message for ``actor`` that ``broker`` holds on ``queue``;
    ``None`` when the broker cannot say."""
    if isinstance(broker, StubBroker):
        raws = [raw for name in (queue, dq_name(queue)) for raw in _stub_queue(broker, name)]
    elif broker_kind(broker) == "RedisBroker":
        raws = _redis(broker, queue)
    else:
        return None
    held = []
    for raw in raws:
        try:
            message = Message.decode(raw)
        except Exception:  # not one of ours to read: it names no job
            continue
        if message.actor_name == actor:
            held.append(tuple(message.args))
    return held


def _stub_queue(broker: StubBroker, name: str) -> list[bytes]:
    waiting = broker.queues.get(name)
    if waiting is None:
        return []
    with waiting.mutex:
        return list(waiting.queue)


def _redis(broker: Any, queue: str) -> list[bytes]:
    client, name = broker.client, f"{broker.namespace}:{queue}"
    return [
        raw
        for key in (f"{name}.msgs", f"{broker.namespace}:{dq_name(queue)}.msgs")
        for raw in client.hvals(key)
    ]
