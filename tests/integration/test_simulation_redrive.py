"""A queued simulation job whose message Redis still holds (waiting, delayed, or taken
by a worker that has not finished it) is not sent again by the scheduler, however long
it waits; once its message is gone it is. Real Redis (the test session's private
redis-server, this test's own namespace)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from store.simulation_jobs import SimulationJobs
from tests.conftest import make_settings
from tests.support.staff import Clock
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.runtime.queued_messages import held_arguments
from workers.runtime.queues import SIMULATE
from workers.runtime.simulation_queue import ACTOR, enqueue_simulation
from workers.steps.simulation_jobs import redrive_simulations

pytestmark = pytest.mark.integration


@pytest.fixture
def runtime(sqlite_url: str, redis_url: str) -> Iterator[Runtime]:
    namespace = f"simredrive{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        sqlite_url, relaydesk_broker_url=redis_url, relaydesk_broker__namespace=namespace
    )
    runtime = build_runtime(settings, pool_size=2, clock=Clock())
    prepare_database(runtime)
    yield runtime
    runtime.close()
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


def _job(runtime: Runtime) -> int:
    with runtime.db.unit_of_work() as uow:
        return SimulationJobs(uow.session).add(
            {"candidate": "", "since": "today"}, requested_by="t", now=runtime.now()
        )


def _held(runtime: Runtime) -> list[int]:
    held = held_arguments(runtime.broker, SIMULATE, ACTOR)
    assert held is not None  # Redis can say
    return sorted(args[0] for args in held)


def test_redis_holds_a_message_until_a_worker_finishes_it(runtime: Runtime) -> None:
    waiting, delayed = _job(runtime), _job(runtime)
    enqueue_simulation(runtime, waiting)
    runtime.broker.get_actor(ACTOR).send_with_options(args=(delayed,), delay=60_000)
    runtime.enqueue_route(1)  # another actor's message, on another queue
    assert _held(runtime) == [waiting, delayed]
    consumer = runtime.broker.consume(SIMULATE, prefetch=1, timeout=1000)
    try:
        taken = next(consumer)
        assert taken is not None and taken.args == (waiting,)
        assert _held(runtime) == [waiting, delayed]  # taken, not finished: still held
        consumer.ack(taken)
        assert _held(runtime) == [delayed]
    finally:
        consumer.close()


def test_a_queued_job_is_sent_again_only_once_its_message_is_gone(runtime: Runtime) -> None:
    job = _job(runtime)
    enqueue_simulation(runtime, job)
    clock = runtime.clock
    assert isinstance(clock, Clock)
    for _ in range(3):  # quiet for redrive_after each time, its message waiting
        clock.advance(seconds=runtime.redrive_after.total_seconds() + 1)
        assert redrive_simulations(runtime, limit=10) == 0
        assert _held(runtime) == [job]
    runtime.broker.flush(SIMULATE)  # the message is lost (this test's namespace: its keys only)
    assert redrive_simulations(runtime, limit=10) == 0  # its quiet time starts again
    clock.advance(seconds=runtime.redrive_after.total_seconds() + 1)
    assert redrive_simulations(runtime, limit=10) == 1
    assert _held(runtime) == [job]
