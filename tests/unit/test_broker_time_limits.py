"""Every broker a process builds shares one time-limit watchdog thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.middleware import TimeLimitExceeded
from dramatiq.middleware.threading import raise_thread_exception

from config import load_settings
from workers.runtime import time_limits
from workers.runtime.broker import make_broker
from workers.runtime.time_limits import StepLimit


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


def _run_in_a_worker(time_limit: int, body: Callable[[], None]) -> None:
    broker = make_broker(load_settings(environ={"RELAYDESK_BROKER_URL": "stub://"}))
    done = threading.Event()

    def actor_fn() -> None:
        try:
            body()
        finally:
            done.set()

    actor = dramatiq.actor(broker=broker, time_limit=time_limit, max_retries=0)(actor_fn)
    worker = Worker(broker, worker_timeout=50)
    worker.start()
    try:
        actor.send()
        assert done.wait(10)
    finally:
        worker.stop()


def _sleep(seconds: float) -> None:
    for _ in range(int(seconds / 0.05)):
        time.sleep(0.05)


def test_a_step_limit_inside_a_message_interrupts_the_block_and_the_message_goes_on() -> None:
    seen: dict[str, object] = {}

    def body() -> None:
        limit = StepLimit(200)
        try:
            with limit:
                _sleep(5)
        except TimeLimitExceeded:
            seen["fired"] = limit.fired
        _sleep(1.5)  # past another watchdog round: the message's own limit is not hit
        seen["went on"] = True

    _run_in_a_worker(60_000, body)
    assert seen == {"fired": True, "went on": True}


def test_the_messages_own_sooner_limit_is_the_messages() -> None:
    seen: dict[str, object] = {}

    def body() -> None:
        limit = StepLimit(60_000)
        try:
            with limit:
                _sleep(5)
        except TimeLimitExceeded:
            seen["fired"] = limit.fired
            raise

    _run_in_a_worker(300, body)
    assert seen == {"fired": False}


def test_a_step_limits_interrupt_landing_after_its_block_is_absorbed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watchdog clears the deadline under its lock and raises after letting go of it:
    the interrupt may land once the block's work is done. It is the step's, not the
    message's: absorbed, and the message's deadline put back."""
    manager = SimpleNamespace(mu=threading.RLock(), deadlines={})
    monkeypatch.setattr(time_limits, "_watchdog", manager)
    seen: dict[str, object] = {}

    def body() -> None:
        ours = threading.get_ident()
        outer = time.monotonic() + 600
        manager.deadlines[ours] = outer  # the message's
        limit = StepLimit(1000)
        try:
            with limit:
                with manager.mu:  # the watchdog, as its deadline passes
                    manager.deadlines[ours] = None
                late = threading.Timer(0.1, raise_thread_exception, (ours, TimeLimitExceeded))
                late.start()  # its interrupt, once it let go of the lock
            _sleep(1)
            seen["went on"] = limit.fired
            seen["deadline"] = manager.deadlines[ours] == outer
        except TimeLimitExceeded:
            seen["failed"] = True

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(10)
    assert seen == {"went on": True, "deadline": True}


def _exit_after_the_interrupt(monkeypatch: pytest.MonkeyPatch, convert: bool) -> float:
    """The watchdog fired StepLimit's deadline and its interrupt landed in the block,
    which turned it into another exception (``convert``) or caught it: the seconds
    ``__exit__`` took, with the message's deadline put back."""
    manager = SimpleNamespace(mu=threading.RLock(), deadlines={})
    monkeypatch.setattr(time_limits, "_watchdog", manager)
    ours = threading.get_ident()
    outer = time.monotonic() + 600
    manager.deadlines[ours] = outer
    limit = StepLimit(1000)
    took = 0.0
    with pytest.raises(RuntimeError) if convert else _nothing():
        with limit:
            with manager.mu:  # the watchdog, as the step's deadline passes
                manager.deadlines[ours] = None
            try:
                raise TimeLimitExceeded  # its interrupt, landed
            except TimeLimitExceeded:
                started = time.monotonic()
                if convert:
                    raise RuntimeError("recording the failure failed") from None
        took = time.monotonic() - started
    if convert:
        took = time.monotonic() - started
    assert limit.fired and manager.deadlines[ours] == outer
    return took


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def test_an_interrupt_turned_into_another_exception_is_not_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _exit_after_the_interrupt(monkeypatch, convert=True) < 0.3  # (it waited 5 s)


def test_an_interrupt_the_block_caught_is_waited_for_only_briefly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _exit_after_the_interrupt(monkeypatch, convert=False) < 2  # (it waited 5 s)
