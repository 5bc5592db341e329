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
message that falls due waits for the end of the consumer's wait (at most the idle
timeout) to be moved to its queue (acknowledgements are sent by the worker threads).

A consumer whose last fetch came back short (fewer messages than it asked for: it
emptied the queue) or whose wait timed out waits before it fetches again, instead of
fetching to find the queue empty: one fetch a message sent to a quiet queue instead of
two, and an idle consumer's timed-out waits are not each followed by a fetch. It still
fetches every half second at least (a quarter of the broker's heartbeat timeout when
that is shorter): each command of dramatiq's script is the process's heartbeat, which
the other workers read to tell a dead worker, and carries the chance of the maintenance
that gives a dead worker's messages back (an idle consumer's chances are so five times
fewer than with a fetch after every 100 ms wait).

An idle consumer's wait lasts until that fetch is due (the idle timeout when it is
longer), not the idle timeout: a send wakes it all the same, and its thread has nothing
to look at between two waits, but for its stop, a pause, and the delayed messages a
delay queue's consumer holds until they fall due. So it waits the idle timeout only
while it holds such a message (one fetched and not yet moved to its queue) and once its
worker is stopping: the worker's ``before_worker_shutdown`` unblocks every consumer
waiting in Redis (``CLIENT UNBLOCK`` of its connection), and their waits are short
until the worker boots again. An idle consumer so sends two waits and two fetches a
second instead of ten and two. A pause (dramatiq's ``Worker.pause``, which this project
does not call) is noticed at the end of the wait under way, half a second at most.

Nothing else changes: messages are sent, fetched, acknowledged and given back by
dramatiq's Lua script, whoever sent them (a process without this broker, the
maintenance giving back a dead worker's messages). A consumer that cannot fetch because
its prefetch is full sleeps as dramatiq's does, and so does every consumer on a Redis
older than 6.2 (no ``BLMOVE``). RabbitMQ pushes its messages to its consumers and needs
none of this.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, q_name
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import Middleware

from workers.runtime.hook_dispatch import DefinedHooks
from workers.runtime.thread_connections import KeepConnections, ThreadConnections

log = logging.getLogger(__name__)

FETCH_EVERY_S = 0.5  # at most, between an idle consumer's fetches (a quarter of the
# broker's heartbeat timeout when that is shorter)


class WakingRedisBroker(DefinedHooks, RedisBroker):
    """dramatiq's Redis broker; an idle consumer wakes when its queue gets a message.
    A worker's consumer and worker threads each send on a connection of their own
    (``workers.runtime.thread_connections``)."""

    def __init__(self, *, url: str, **options: Any) -> None:
        pool = redis.ConnectionPool.from_url(url)
        super().__init__(client=ThreadConnections(connection_pool=pool), **options)
        self.add_middleware(KeepConnections())
        self.add_middleware(_ShortWaitsAtStop())
        self.stopping = threading.Event()  # the worker is stopping: waits are short
        self.waiting: set[int] = set()  # its consumers' Redis connection ids

    def unblock_consumers(self) -> threading.Thread | None:
        """End the waits of this broker's consumers blocked in Redis (each fetches or
        waits again at once, as its thread decides): in one round trip, on a thread of
        its own (returned), so that a stop never waits for Redis (a Redis that stopped
        answering would hold it for the socket's timeout; each wait ends at its own
        timeout anyway, half a second at most)."""
        waiting = sorted(self.waiting)
        if not waiting:
            return None
        thread = threading.Thread(
            target=self._unblock, args=(waiting,), name="redis-unblock", daemon=True
        )
        thread.start()
        return thread

    def _unblock(self, client_ids: list[int]) -> None:
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for client_id in client_ids:
                    pipe.client_unblock(client_id)
                pipe.execute()
        except redis.RedisError as exc:  # the waits end at their timeouts anyway
            log.warning("could not unblock the Redis consumers %s: %s", client_ids, exc)

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _WakingConsumer


class _WakingConsumer(_RedisConsumer):
    """dramatiq's consumer with its idle timeout 0 (it returns at once when it finds
    nothing), blocking here until its queue is not empty instead."""

    def __init__(
        self, broker: WakingRedisBroker, queue_name: str, prefetch: int, timeout: int
    ) -> None:
        super().__init__(broker, queue_name, prefetch, 0)
        self.broker: WakingRedisBroker = broker
        self.idle_timeout_ms = timeout
        self.queue_key = f"{broker.namespace}:{queue_name}"  # the list of message ids
        self.blocks = True  # False on a server without BLMOVE: sleep as dramatiq does
        self.drained = False  # the last fetch or wait found the queue empty: wait first
        self.fetched_at = time.monotonic()
        self.kept = False
        self.client_id: int | None = None  # its connection's, in Redis
        self.delays = q_name(queue_name) != queue_name  # a delay queue's consumer
        # an idle consumer still fetches this often: its fetch is the process's heartbeat
        # (and a chance of maintenance) that tells other workers it is alive
        self.fetch_every_s = min(FETCH_EVERY_S, broker.heartbeat_timeout / 4000)

    def __next__(self) -> Any:
        if not self.kept:
            try:  # this consumer's thread: its own commands, on a connection made now
                self.broker.client.keep_connection()
                self.client_id = self.broker.client.client_id()  # (to unblock it at a stop)
            except redis.ConnectionError as exc:  # Redis not up yet: dramatiq retries quietly
                raise ConnectionClosed(exc) from None
            self.broker.waiting.add(self.client_id)
            self.kept = True
        fetches = not self.message_cache and self.outstanding_message_count < self.prefetch
        if fetches and self.drained and self.blocks:
            if self._heartbeat_due() or self._wait_for_message():
                self.drained = False  # something came (or it is time to beat): fetch next
            return None  # back to the consumer thread: its delayed messages, its stop
        asked = self.prefetch - self.outstanding_message_count
        message = super().__next__()
        if fetches:
            self.fetched_at = time.monotonic()
            self.drained = message is None or len(self.message_cache) + 1 < asked
        if message is None and fetches and self.blocks:
            if self._wait_for_message():
                self.drained = False
        elif message is None:  # prefetch full (the worker threads hold enough), or no BLMOVE
            _, backoff_ms = compute_backoff(self.misses - 1, max_backoff=self.idle_timeout_ms)
            time.sleep(backoff_ms / 1000)
        return message

    def close(self) -> None:
        if self.client_id is not None:
            self.broker.waiting.discard(self.client_id)

    def _heartbeat_due(self) -> bool:
        return time.monotonic() - self.fetched_at >= self.fetch_every_s

    def _wait_s(self) -> float:
        """How long to wait: until the next fetch is due, or the idle timeout while this
        consumer holds delayed messages or its worker is stopping."""
        idle_s = self.idle_timeout_ms / 1000
        if self.broker.stopping.is_set() or (self.delays and self.queued_message_ids):
            return idle_s
        return max(self.fetch_every_s - (time.monotonic() - self.fetched_at), idle_s)

    def _wait_for_message(self) -> bool:
        """Block until the queue holds a message (True) or the wait passed (False)."""
        key, timeout = self.queue_key, self._wait_s()
        try:
            return self.broker.client.blmove(key, key, timeout, "RIGHT", "RIGHT") is not None
        except redis.TimeoutError:  # a socket timeout shorter than the wait: waited enough
            return True
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None
        except redis.ResponseError as exc:
            if "unknown command" not in str(exc).lower():
                raise  # out of memory, a read-only replica...: as dramatiq's own fetch would
            log.warning("Redis cannot block on %s (%s): polling it instead", key, exc)
            self.blocks = False  # before Redis 6.2: no BLMOVE
            return True


class _ShortWaitsAtStop(Middleware):
    """A stopping worker's consumers wait no longer than its idle timeout, from the
    moment its stop begins (their long waits under way ended) until it boots again."""

    def before_worker_boot(self, broker: Broker, worker: Any) -> None:
        if isinstance(broker, WakingRedisBroker):
            broker.stopping.clear()

    def before_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        if isinstance(broker, WakingRedisBroker):
            broker.stopping.set()
            broker.unblock_consumers()


__all__ = ["WakingRedisBroker"]
