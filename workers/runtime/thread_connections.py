"""The broker's Redis client, on which each of a worker's dramatiq threads keeps a
connection of its own.

A worker's consumer threads send its fetches and its waits on their queues, its worker
threads the acknowledgements and the next steps' messages: every Redis command of a
message. Through redis-py's pool each command takes a connection, checks that no reply
is left unread on it (a ``select`` on the socket) and gives it back, under the pool's
lock: 25-40 us of the 45-100 of a command's client CPU. A thread that ``keeps`` a
connection sends its commands on it directly, as redis-py's single-connection client
does; every other thread (a web request's, the scheduler's) goes through the pool.

The pool's check is there for a command cut between its send and its read, whose reply
would otherwise be read as the next command's: dramatiq's time limit and shutdown raise
in a worker thread wherever it is. On a kept connection a command that ends in anything
but Redis's own errors (which redis-py handles, disconnecting where the reply may be
left) closes the connection, and the next command opens it anew. A thread's connection
goes back to the pool when the thread ends.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from dramatiq import Broker
from dramatiq.middleware import Middleware

log = logging.getLogger(__name__)


class ThreadConnections(redis.Redis):
    """A Redis client whose commands go through its pool, but for the threads that
    ``keep_connection()``: theirs go on a connection of their own."""

    def __init__(self, connection_pool: redis.ConnectionPool) -> None:
        super().__init__(connection_pool=connection_pool)
        self._kept = threading.local()

    def keep_connection(self) -> None:
        """From now on this thread's commands go on one connection, kept for its life."""
        if getattr(self._kept, "client", None) is None:
            self._kept.client = redis.Redis(
                connection_pool=self.connection_pool, single_connection_client=True
            )

    def execute_command(self, *args: Any, **options: Any) -> Any:
        kept: redis.Redis | None = getattr(self._kept, "client", None)
        if kept is None:
            return super().execute_command(*args, **options)
        try:
            return kept.execute_command(*args, **options)
        except redis.RedisError:
            raise  # Redis's answer, read whole, or redis-py's disconnect already
        except BaseException:  # an exception raised in the thread mid-command
            if kept.connection is not None:
                kept.connection.disconnect()  # a reply may be left on it: opened anew
            raise


class KeepConnections(Middleware):
    """A worker's consumer and worker threads each keep a connection of their own."""

    def after_consumer_thread_boot(self, broker: Broker, thread: Any) -> None:
        _keep(broker)

    def after_worker_thread_boot(self, broker: Broker, thread: Any) -> None:
        _keep(broker)


def _keep(broker: Broker) -> None:
    client = getattr(broker, "client", None)
    if isinstance(client, ThreadConnections):
        try:
            client.keep_connection()
        except redis.ConnectionError as exc:  # (a consumer tries again at its next fetch)
            log.warning("Redis unreachable as a thread started (%s): it uses the pool", exc)


__all__ = ["KeepConnections", "ThreadConnections"]
