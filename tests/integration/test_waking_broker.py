"""On Redis a consumer that found its queue empty blocks until a message is sent to it:
the message is not left for the end of the consumer's idle timeout, and the queue is
left as it was. Real Redis (the test session's private redis-server, each test's own
namespace); the messages are sent, fetched and acknowledged as dramatiq does."""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq import Broker, Worker
from dramatiq.common import dq_name

from config import load_settings
from tests.support.redis_server import private_redis_server
from workers.runtime.broker import broker_kind, make_broker
from workers.runtime.queue_depth import queue_depths
from workers.runtime.waking_broker import WakingRedisBroker

pytestmark = pytest.mark.integration

QUEUE = "wake.test"
LONG_WAIT_MS = 60_000  # a consumer that is not woken sleeps past every deadline below


@pytest.fixture
def namespace(redis_url: str) -> Iterator[str]:
    name = f"wake{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


@pytest.fixture
def broker(redis_url: str, namespace: str) -> Iterator[WakingRedisBroker]:
    """The desk's broker on the session's Redis, its connections named ``namespace`` (so
    a test counts only its own consumers waiting, whatever other tests left blocked)."""
    named = f"{redis_url}?client_name={namespace}"
    settings = load_settings(
        environ={"RELAYDESK_BROKER_URL": named, "RELAYDESK_BROKER__NAMESPACE": namespace}
    )
    broker = make_broker(settings)
    assert isinstance(broker, WakingRedisBroker)
    yield broker
    broker.close()
    broker.client.connection_pool.disconnect()  # ends its consumers still waiting in Redis


def _blocked(redis_url: str, namespace: str) -> int:
    """How many of the test's broker connections wait in a blocking command."""
    clients = redis.Redis.from_url(redis_url).client_list()
    return sum(1 for c in clients if c.get("name") == namespace and "b" in c.get("flags", ""))


def _wait_until_blocked(redis_url: str, namespace: str, count: int) -> None:
    """Until ``count`` of the test's consumers wait in Redis for a send."""
    pause = threading.Event()
    for _ in range(200):
        if _blocked(redis_url, namespace) >= count:
            return
        pause.wait(0.05)
    raise AssertionError("the consumer never blocked waiting for its queue")


def _consume_one(broker: Broker, queue_name: str, got: queue.Queue[Any]) -> threading.Thread:
    def run() -> None:
        consumer = broker.consume(queue_name, prefetch=1, timeout=LONG_WAIT_MS)
        for message in consumer:
            if message is not None:
                got.put(message)
                consumer.ack(message)
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_redis_broker_is_still_known_as_redis_to_the_desk(broker: Broker) -> None:
    assert broker_kind(broker) == "RedisBroker"
    assert [d.ready for d in queue_depths(broker, [QUEUE])] == [0]


def test_a_send_wakes_a_consumer_waiting_on_an_empty_queue(
    broker: WakingRedisBroker, redis_url: str, namespace: str
) -> None:
    actor = dramatiq.actor(actor_name="wake_me", queue_name=QUEUE, broker=broker)(lambda n: None)
    got: queue.Queue[Any] = queue.Queue()
    thread = _consume_one(broker, QUEUE, got)
    _wait_until_blocked(redis_url, namespace, 1)  # its fetch found nothing: it waits

    sent = actor.send(7)

    message = got.get(timeout=15)  # far less than the consumer's idle wait
    assert (message.message_id, message.args) == (sent.message_id, (7,))
    thread.join(15)
    assert [d.ready for d in queue_depths(broker, [QUEUE])] == [0]  # acknowledged, not waiting
    client = redis.Redis.from_url(redis_url)
    assert client.hlen(f"{broker.namespace}:{QUEUE}.msgs") == 0


def test_a_delayed_send_wakes_the_delay_queues_consumer(
    broker: WakingRedisBroker, redis_url: str, namespace: str
) -> None:
    actor = dramatiq.actor(actor_name="wake_later", queue_name=QUEUE, broker=broker)(lambda: None)
    got: queue.Queue[Any] = queue.Queue()
    thread = _consume_one(broker, dq_name(QUEUE), got)
    _wait_until_blocked(redis_url, namespace, 1)

    sent = actor.send_with_options(delay=1)

    message = got.get(timeout=15)
    assert message.message_id == sent.message_id
    thread.join(15)


def test_a_worker_with_a_long_idle_timeout_runs_what_is_sent_after_it_went_idle_in_order(
    broker: WakingRedisBroker, redis_url: str, namespace: str
) -> None:
    done: queue.Queue[int] = queue.Queue()
    actor = dramatiq.actor(actor_name="wake_worker", queue_name=QUEUE, broker=broker)(done.put)
    worker = Worker(broker, queues={QUEUE}, worker_threads=1, worker_timeout=LONG_WAIT_MS)
    worker.start()
    try:
        for n in range(3):
            _wait_until_blocked(redis_url, namespace, 2)  # the queue's and its delay queue's
            actor.send(n)
            assert done.get(timeout=15) == n
        _wait_until_blocked(redis_url, namespace, 2)
        for n in range(3, 10):  # sent together: taken in the order sent
            actor.send(n)
        assert [done.get(timeout=15) for _ in range(3, 10)] == list(range(3, 10))
    finally:
        worker.stop(timeout=100)  # ms: its consumers still wait; the fixture disconnects them


def _counting_fetches(broker: WakingRedisBroker) -> list[int]:
    """Each fetch's size asked, as the broker's consumers send them (dramatiq's script)."""
    asked: list[int] = []
    fetch = broker.do_fetch

    def counted(queue_name: str, count: int) -> Any:
        asked.append(count)
        return fetch(queue_name, count)

    broker.do_fetch = counted  # type: ignore[attr-defined]  # (dramatiq makes it on first use)
    return asked


def test_a_consumer_that_drained_its_queue_waits_before_it_fetches_again(
    broker: WakingRedisBroker, redis_url: str, namespace: str
) -> None:
    """One fetch a message sent to a waiting consumer (its queue emptied by the fetch that
    took the message: no second fetch to find it empty), every message taken in order."""
    actor = dramatiq.actor(actor_name="wake_count", queue_name=QUEUE, broker=broker)(lambda n: None)
    fetches = _counting_fetches(broker)
    got: queue.Queue[Any] = queue.Queue()
    consumer = broker.consume(QUEUE, prefetch=4, timeout=LONG_WAIT_MS)

    def run() -> None:
        for message in consumer:
            if message is not None:
                got.put(message.args[0])
                consumer.ack(message)
                if message.args[0] == "stop":
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    for n in range(5):
        _wait_until_blocked(redis_url, namespace, 1)
        before = len(fetches)
        actor.send(n)
        assert got.get(timeout=15) == n
        _wait_until_blocked(redis_url, namespace, 1)  # waiting again, not fetching
        assert len(fetches) - before == 1
    actor.send("stop")
    thread.join(15)
    assert [d.ready for d in queue_depths(broker, [QUEUE])] == [0]


def test_an_idle_consumer_keeps_its_process_alive_to_the_other_workers(
    redis_url: str, namespace: str
) -> None:
    """An idle consumer's waits that time out are not each followed by a fetch, but it still
    fetches (the process's heartbeat, which dramatiq's maintenance reads to give back a dead
    worker's messages) well within the heartbeat timeout."""
    settings = load_settings(
        environ={
            "RELAYDESK_BROKER_URL": redis_url,
            "RELAYDESK_BROKER__NAMESPACE": namespace,
            "RELAYDESK_BROKER__HEARTBEAT_TIMEOUT_MS": "2000",
        }
    )
    broker = make_broker(settings)
    assert isinstance(broker, WakingRedisBroker)
    fetches = _counting_fetches(broker)
    stop = threading.Event()

    def run() -> None:
        consumer = broker.consume(QUEUE, prefetch=1, timeout=50)
        for _ in consumer:
            if stop.is_set():
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    client = redis.Redis.from_url(redis_url)
    beats = f"{namespace}:__heartbeats__"
    try:
        for _ in range(6):
            stop.wait(0.5)
            beat = client.zscore(beats, broker.broker_id)
            assert beat is not None
            assert client.time()[0] * 1000 - beat < 2000  # alive to the others
    finally:
        stop.set()
        thread.join(5)
        broker.close()
    assert 3 <= len(fetches) < 20  # not one a wait (60 in 3 s), one or two a 500 ms


def test_a_consumer_keeps_one_connection_and_gives_it_back_when_its_thread_ends(
    broker: WakingRedisBroker, redis_url: str, namespace: str
) -> None:
    """A consumer's fetches and waits go on one connection of its own (none taken from the
    pool and given back per command); its thread's end gives it back to the pool."""
    actor = dramatiq.actor(actor_name="wake_kept", queue_name=QUEUE, broker=broker)(lambda n: None)
    pool = broker.client.connection_pool
    taken: list[str] = []
    get_connection = pool.get_connection

    def counted() -> Any:
        taken.append(threading.current_thread().name)
        return get_connection()

    pool.get_connection = counted
    got: queue.Queue[Any] = queue.Queue()
    thread = _consume_one(broker, QUEUE, got)
    _wait_until_blocked(redis_url, namespace, 1)
    actor.send(1)
    assert got.get(timeout=15).args == (1,)
    thread.join(15)
    assert taken.count(thread.name) == 1  # its own, kept: fetches, waits and its ack
    del thread
    assert not pool._in_use_connections  # given back at the thread's end


def test_a_worker_whose_connections_were_killed_in_redis_takes_the_next_message(
    broker: WakingRedisBroker, redis_url: str, namespace: str
) -> None:
    done: queue.Queue[int] = queue.Queue()
    actor = dramatiq.actor(actor_name="wake_killed", queue_name=QUEUE, broker=broker)(done.put)
    worker = Worker(broker, queues={QUEUE}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        _wait_until_blocked(redis_url, namespace, 2)
        client = redis.Redis.from_url(redis_url)
        for c in client.client_list():
            if c.get("name") == namespace and "b" in c.get("flags", ""):
                client.client_kill_filter(_id=c["id"])
        actor.send(5)
        assert done.get(timeout=15) == 5
    finally:
        worker.stop(timeout=2000)


def _counting_waits(broker: WakingRedisBroker) -> list[float]:
    """Each wait's timeout (seconds), as the broker's consumers send them."""
    waits: list[float] = []
    blmove = broker.client.blmove

    def counted(first: str, second: str, timeout: float, src: str, dest: str) -> Any:
        waits.append(timeout)
        return blmove(first, second, timeout, src, dest)

    broker.client.blmove = counted
    return waits


def test_an_idle_consumer_waits_until_its_next_fetch_not_one_idle_timeout_at_a_time(
    broker: WakingRedisBroker,
) -> None:
    """With a 50 ms idle timeout an idle consumer sent a wait every 50 ms (about 40 in two
    seconds); it now waits until its next fetch (the heartbeat) is due, and still fetches."""
    waits = _counting_waits(broker)
    fetches = _counting_fetches(broker)
    stop = threading.Event()

    def run() -> None:
        consumer = broker.consume(QUEUE, prefetch=1, timeout=50)
        for _ in consumer:
            if stop.is_set():
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    stop.wait(2)
    stop.set()
    thread.join(5)
    assert 2 <= len(fetches) < 10  # about one every 500 ms: the process's heartbeat
    assert 2 <= len(waits) <= len(fetches) + 1  # one a fetch: none when a fetch is due
    assert max(waits) > 0.1  # (the old waits: the idle timeout, 0.05)


def test_a_delay_queues_consumer_holding_a_delayed_message_waits_the_idle_timeout(
    broker: WakingRedisBroker,
) -> None:
    """It must look at the message it holds as it falls due: its waits stay short until
    the message is moved to its queue; a queue's own consumer holding a message (in a
    worker thread) waits long."""
    actor = dramatiq.actor(actor_name="wake_held", queue_name=QUEUE, broker=broker)(lambda: None)
    actor.send_with_options(delay=60_000)
    actor.send()
    delayed = broker.consume(dq_name(QUEUE), prefetch=2, timeout=100)
    plain = broker.consume(QUEUE, prefetch=2, timeout=100)
    for consumer in (delayed, plain):
        consumer.fetch_every_s = 60.0  # type: ignore[attr-defined]  # long waits: a minute
    assert delayed._wait_s() > 1 and plain._wait_s() > 1  # type: ignore[attr-defined]
    held_later, held_now = next(delayed), next(plain)
    assert held_later is not None and held_now is not None
    assert delayed._wait_s() == 0.1  # type: ignore[attr-defined]
    assert plain._wait_s() > 1  # type: ignore[attr-defined]
    waits = _counting_waits(broker)
    assert next(delayed) is None  # it drained its queue: it waits, as long as it sends
    assert waits == [0.1]
    delayed.ack(held_later)
    assert delayed._wait_s() > 1  # type: ignore[attr-defined]
    plain.ack(held_now)


def test_a_stopping_worker_ends_its_consumers_waits_and_they_wait_short_until_it_boots(
    broker: WakingRedisBroker, redis_url: str, namespace: str
) -> None:
    """A consumer blocked for longer than the idle timeout would hold the worker's stop
    that long: the stop's start unblocks it in Redis, and its next waits are the idle
    timeout's, until a worker boots on the broker again."""
    waits = _counting_waits(broker)
    woken = threading.Event()
    stop = threading.Event()

    def run() -> None:
        consumer = broker.consume(QUEUE, prefetch=1, timeout=100)
        consumer.fetch_every_s = 60.0  # type: ignore[attr-defined]  # its waits: a minute
        for _ in consumer:
            woken.set()
            if stop.is_set():
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        _wait_until_blocked(redis_url, namespace, 1)
        woken.clear()
        sent = len(waits)
        assert waits[-1] > 1  # the wait under way: its minute
        broker.emit_before("worker_shutdown", None)
        assert woken.wait(15)  # woken, long before its minute
        deadline = time.monotonic() + 15
        while len(waits) <= sent and time.monotonic() < deadline:
            time.sleep(0.01)
        assert waits[sent:] and set(waits[sent:]) == {0.1}  # its next waits: short
        broker.emit_before("worker_boot", None)
        assert not broker.stopping.is_set()
    finally:
        stop.set()
        broker.emit_before("worker_shutdown", None)
        thread.join(15)


def test_a_stop_does_not_wait_for_a_redis_that_stopped_answering() -> None:
    """The stop's unblock of the consumers' waits is sent on a thread of its own: with Redis
    frozen (SIGSTOP) it took the socket's timeout, 5 s, for each consumer (two a queue), on
    the thread that stops the worker, before its worker threads were told to stop."""
    with private_redis_server() as url:
        pid = int(redis.Redis.from_url(url).info("server")["process_id"])
        settings = load_settings(
            environ={"RELAYDESK_BROKER_URL": url, "RELAYDESK_BROKER__NAMESPACE": "frozen"}
        )
        broker = make_broker(settings)
        assert isinstance(broker, WakingRedisBroker)
        for name in ("frozen.a", "frozen.b"):
            dramatiq.actor(actor_name=name, queue_name=name, broker=broker)(lambda: None)
        worker = Worker(broker, worker_threads=1, worker_timeout=100)
        worker.start()
        try:
            deadline = time.monotonic() + 15
            while len(broker.waiting) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(broker.waiting) == 4  # two queues, each with its delay queue
            os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                unblocking = broker.unblock_consumers()
                assert time.monotonic() - started < 2
                assert unblocking is not None and unblocking.is_alive()  # still waiting
            finally:
                os.kill(pid, signal.SIGCONT)
            unblocking.join(15)
            assert not unblocking.is_alive()
        finally:
            worker.stop(timeout=5_000)
            broker.close()
