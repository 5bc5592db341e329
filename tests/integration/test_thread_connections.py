"""A worker's dramatiq threads each keep a Redis connection of their own
(``workers.runtime.thread_connections``): a worker thread's acknowledgements and sends take
no connection from the pool per command, and a command cut by an exception raised in the
thread does not leave its reply to be read as the next command's. Real Redis (the test
session's private redis-server, each test's own namespace)."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq import Worker

from config import load_settings
from workers.runtime.broker import make_broker
from workers.runtime.thread_connections import ThreadConnections
from workers.runtime.waking_broker import WakingRedisBroker

pytestmark = pytest.mark.integration

QUEUE = "kept.test"


@pytest.fixture
def broker(redis_url: str) -> Iterator[WakingRedisBroker]:
    namespace = f"kept{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        environ={"RELAYDESK_BROKER_URL": redis_url, "RELAYDESK_BROKER__NAMESPACE": namespace}
    )
    broker = make_broker(settings)
    assert isinstance(broker, WakingRedisBroker)
    yield broker
    broker.close()
    broker.client.connection_pool.disconnect()
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


def test_worker_threads_acknowledge_and_send_on_a_connection_of_their_own(
    broker: WakingRedisBroker,
) -> None:
    done: queue.Queue[int] = queue.Queue()
    last = dramatiq.actor(actor_name="kept_last", queue_name=QUEUE, broker=broker)(done.put)

    def first(n: int) -> None:
        last.send(n)  # the next step's message, sent from the worker thread

    step = dramatiq.actor(actor_name="kept_first", queue_name=QUEUE, broker=broker)(first)
    pool = broker.client.connection_pool
    taken: list[str] = []
    get_connection = pool.get_connection

    def counted() -> Any:
        taken.append(threading.current_thread().name)
        return get_connection()

    pool.get_connection = counted
    worker = Worker(broker, queues={QUEUE}, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        for n in range(10):
            step.send(n)
        assert sorted(done.get(timeout=15) for _ in range(10)) == list(range(10))
    finally:
        worker.stop(timeout=5000)
    workers = {t.name for t in worker.workers}
    # 20 messages acknowledged and 10 sent by the worker threads: one connection each
    assert sum(1 for name in taken if name in workers) <= len(workers)


class _Cut(BaseException):
    """As dramatiq's time limit: raised in the thread wherever it is."""


def test_a_command_cut_after_its_send_leaves_no_reply_for_the_next_one(redis_url: str) -> None:
    client = ThreadConnections(redis.ConnectionPool.from_url(redis_url))
    key = f"kept{uuid.uuid4().hex[:8]}"
    client.keep_connection()
    client.set(f"{key}:b", "the value")
    connection = client._kept.client.connection
    read_response = connection.read_response

    def cut(*args: Any, **kwargs: Any) -> Any:
        connection.read_response = read_response  # once: the command is sent, not read
        raise _Cut

    connection.read_response = cut
    with pytest.raises(_Cut):
        client.set(f"{key}:a", "1")
    assert client.get(f"{key}:b") == b"the value"  # not the SET's "OK" left unread
    client.delete(f"{key}:a", f"{key}:b")
    client.close()
