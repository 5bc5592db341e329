"""The broker's Redis client, on which each consumer thread keeps a connection of its own.

A consumer thread sends most of a worker's Redis commands (every fetch and every wait on
its queue, one or two of each a message at a quiet desk), one after the other. Through
redis-py's pool each command takes a connection, checks that no reply is left unread on
it (a ``select`` on the socket) and gives it back, under the pool's lock: about 40 us of
the 60-100 of a command's client CPU. A thread that ``keeps`` a connection sends its
commands on it directly, as redis-py's single-connection client does.

Only consumer threads keep one: nothing interrupts them in a command. A worker thread can
be (dramatiq's time limit and shutdown raise in it), and a command cut between its send
and its read would leave its reply unread on a kept connection, read as the next
command's; on the pool such a connection is found with data and opened anew. Every other
thread goes through the pool as before. A thread's connection goes back to the pool when
the thread ends.
"""

from __future__ import annotations

import threading
from typing import Any

import redis


class ConsumerConnections(redis.Redis):
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
        kept = getattr(self._kept, "client", None)
        if kept is None:
            return super().execute_command(*args, **options)
        return kept.execute_command(*args, **options)


__all__ = ["ConsumerConnections"]
