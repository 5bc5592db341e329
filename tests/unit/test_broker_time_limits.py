"""Every broker a process builds shares one time-limit watchdog thread."""

from __future__ import annotations

import threading
import time

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.middleware import TimeLimitExceeded

from config import load_settings
from workers.runtime.broker import make_broker


def _watchdogs() -> int:
    return sum(1 for t in threading.enumerate() if type(t).__name__.endswith("TimeoutManager"))


def test_building_many_in_process_brokers_starts_one_watchdog_thread() -> None:
    settings = load_settings(environ={"RELAYDESK_BROKER_URL": "stub://"})
    make_broker(settings)
    before = _watchdogs()
    for _ in range(25):
        make_broker(settings)
    assert before <= 1
    assert _watchdogs() == before


def test_the_shared_watchdog_still_stops_an_actor_past_its_time_limit() -> None:
    broker = make_broker(load_settings(environ={"RELAYDESK_BROKER_URL": "stub://"}))
    make_broker(load_settings(environ={"RELAYDESK_BROKER_URL": "stub://"}))  # a second one
    stopped = threading.Event()

    def slow() -> None:
        try:
            for _ in range(100):
                time.sleep(0.05)
        except TimeLimitExceeded:
            stopped.set()
            raise

    actor = dramatiq.actor(broker=broker, time_limit=200, max_retries=0)(slow)
    worker = Worker(broker, worker_timeout=50)
    worker.start()
    try:
        actor.send()
        assert stopped.wait(5), "the time limit was not enforced"
    finally:
        worker.stop()


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "amqp://guest:guest@127.0.0.1:1/%2F"])
def test_brokers_of_other_processes_start_no_watchdog_here(url: str) -> None:
    before = _watchdogs()
    make_broker(load_settings(environ={"RELAYDESK_BROKER_URL": url}))
    assert _watchdogs() == before
