"""A Redis broker whose idle consumers wait for their queue to fill instead of sleeping.

dramatiq's Redis consumer polls: when its queue is empty it sleeps, doubling the sleep
up to the worker's idle timeout (``broker.worker_timeout_ms``), and a message sent to a
quiet queue waits for the end of that sleep, at every hop of a ticket (ingest, route,
deliver). Here a consumer whose fetch came back empty blocks in Redis until its queue
holds a message, for the same timeout at most: ``BLMOVE queue queue RIGHT RIGHT`` takes
the queue's last message id and puts it back where it was, so the queue's contents and
order are left as they are, and returns as soon as there is one (every consumer blocked
on the queue wakes, and the fetches decide who takes it). The move is still a write: a
message sent to a quiet queue costs one such write per consumer blocked on it. The
delayed queues (``.DQ``) block the same way; as with dramatiq's sleep, a delayed
message that falls due, and an acknowledgement, wait for the end of the consumer's wait
(at most the idle timeout) to be handled.

Nothing else changes: messages are sent, fetched, acknowledged and given back by
dramatiq's Lua script, whoever sent them (a process without this broker, the
maintenance giving back a dead worker's messages). A consumer that cannot fetch because
its prefetch is full sleeps as dramatiq's does, and so does every consumer on a Redis
older than 6.2 (no ``BLMOVE``). RabbitMQ pushes its messages to its consumers and needs
none of this.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff
from dramatiq.errors import ConnectionClosed

log = logging.getLogger(__name__)


class WakingRedisBroker(RedisBroker):
    """dramatiq's Redis broker; an idle consumer wakes when its queue gets a message."""

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _WakingConsumer


class _WakingConsumer(_RedisConsumer):
    """dramatiq's consumer with its idle timeout 0 (it returns at once when it finds
    nothing), blocking here until its queue is not empty instead."""

    def __init__(self, broker: RedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, 0)
        self.idle_timeout_ms = timeout
        self.queue_key = f"{broker.namespace}:{queue_name}"  # the list of message ids
        self.blocks = True  # False on a server without BLMOVE: sleep as dramatiq does

    def __next__(self) -> Any:
        fetches = not self.message_cache and self.outstanding_message_count < self.prefetch
        message = super().__next__()
        if message is None and fetches and self.blocks:
            self._wait_for_message()
        elif message is None:  # prefetch full (the worker threads hold enough), or no BLMOVE
            _, backoff_ms = compute_backoff(self.misses - 1, max_backoff=self.idle_timeout_ms)
            time.sleep(backoff_ms / 1000)
        return message

    def _wait_for_message(self) -> None:
        key, timeout = self.queue_key, self.idle_timeout_ms / 1000
        try:
            self.broker.client.blmove(key, key, timeout, "RIGHT", "RIGHT")
        except redis.TimeoutError:  # a socket timeout shorter than the wait: waited enough
            return
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None
        except redis.ResponseError as exc:
            if "unknown command" not in str(exc).lower():
                raise  # out of memory, a read-only replica...: as dramatiq's own fetch would
            log.warning("Redis cannot block on %s (%s): polling it instead", key, exc)
            self.blocks = False  # before Redis 6.2: no BLMOVE


__all__ = ["WakingRedisBroker"]
