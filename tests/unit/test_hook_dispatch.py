"""The desk's brokers call a middleware's hook only where the middleware defines it, in
dramatiq's order and with dramatiq's handling of what a hook raises."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, MiddlewareError

from config import load_settings
from workers.runtime.broker import make_broker
from workers.runtime.hook_dispatch import defined_hooks


class Recording(Middleware):
    """Defines two hooks; asked for any hook, says so."""

    def __init__(self, name: str, calls: list[str], asked: list[str]) -> None:
        self.name, self.calls, self.asked = name, calls, asked

    def __getattribute__(self, attribute: str) -> Any:
        if attribute.startswith(("before_", "after_")):
            object.__getattribute__(self, "asked").append(attribute)
        return object.__getattribute__(self, attribute)

    def before_process_message(self, broker: Broker, message: Any) -> None:
        self.calls.append(f"{self.name} before {message}")

    def after_process_message(self, broker: Broker, message: Any, **kwargs: Any) -> None:
        self.calls.append(f"{self.name} after {message} {kwargs}")


class Failing(Middleware):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def before_process_message(self, broker: Broker, message: Any) -> None:
        raise self.error

    def after_process_message(self, broker: Broker, message: Any, **kwargs: Any) -> None:
        raise self.error


class Bare:  # not a dramatiq Middleware: it has no hooks at all
    pass


def _brokers(*middleware: Any) -> tuple[Broker, Broker]:
    """dramatiq's own stub broker and the desk's, with the same middleware."""
    return StubBroker(middleware=list(middleware)), defined_hooks(StubBroker)(
        middleware=list(middleware)
    )


def test_an_in_process_broker_does_not_ask_a_middleware_for_hooks_it_does_not_define() -> None:
    broker = make_broker(load_settings(environ={"RELAYDESK_BROKER_URL": "stub://"}))
    calls: list[str] = []
    asked: list[str] = []
    broker.add_middleware(Recording("r", calls, asked))
    for _ in range(10):
        broker.emit_before("ack", "m")
        broker.emit_after("ack", "m")
        broker.emit_before("process_message", "m")
    assert asked.count("before_ack") <= 1  # found once, never called (dramatiq: 10 each)
    assert asked.count("after_ack") <= 1
    assert calls == ["r before m"] * 10


def test_hooks_run_in_dramatiqs_order_before_forwards_after_backwards() -> None:
    for broker in _brokers():
        calls: list[str] = []
        for name in ("a", "b", "c"):
            broker.add_middleware(Recording(name, calls, []))
        broker.emit_before("process_message", "m")
        broker.emit_after("process_message", "m", result=1)
        assert calls == [
            "a before m",
            "b before m",
            "c before m",
            "c after m {'result': 1}",
            "b after m {'result': 1}",
            "a after m {'result': 1}",
        ], type(broker)


def test_a_middleware_added_later_is_called_from_then_on() -> None:
    calls: list[str] = []
    broker = _brokers(Recording("a", calls, []))[1]
    broker.emit_before("process_message", "1")
    broker.add_middleware(Recording("b", calls, []))
    broker.emit_before("process_message", "2")
    broker.middleware.remove(broker.middleware[0])
    broker.emit_before("process_message", "3")
    assert calls == ["a before 1", "a before 2", "b before 2", "b before 3"]


def test_a_failing_hook_is_logged_and_the_others_run_as_dramatiq_runs_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes = []
    for broker in _brokers():
        calls: list[str] = []
        broker.add_middleware(Recording("a", calls, []))
        broker.add_middleware(Failing(ValueError("boom")))
        broker.middleware.append(Bare())  # type: ignore[arg-type]  # (add_middleware refuses it)
        broker.add_middleware(Recording("b", calls, []))
        caplog.clear()
        with caplog.at_level(logging.CRITICAL):
            broker.emit_before("process_message", "m")
            broker.emit_after("process_message", "m")
        logged = [
            (r.getMessage().split(" of ")[0], r.exc_info and r.exc_info[0]) for r in caplog.records
        ]
        outcomes.append((calls, logged))
    assert outcomes[1] == outcomes[0]
    assert outcomes[1][1] == [
        ("Unexpected failure in before_process_message", ValueError),
        ("Unexpected failure in before_process_message", AttributeError),
        ("Unexpected failure in after_process_message", AttributeError),
        ("Unexpected failure in after_process_message", ValueError),
    ]


def test_a_middleware_error_from_a_before_hook_stops_the_event() -> None:
    for broker in _brokers():
        calls: list[str] = []
        broker.add_middleware(Failing(MiddlewareError("stop")))
        broker.add_middleware(Recording("b", calls, []))
        with pytest.raises(MiddlewareError):
            broker.emit_before("process_message", "m")
        assert calls == []


class Equal(Recording):
    """A middleware equal to any other of its class (a dataclass's ``__eq__`` would be)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Equal)

    __hash__ = Middleware.__hash__


def test_a_middleware_replaced_by_an_equal_one_is_no_longer_called() -> None:
    for broker in _brokers():
        calls: list[str] = []
        broker.add_middleware(Equal("old", calls, []))
        broker.emit_before("process_message", "1")
        broker.middleware[0] = Equal("new", calls, [])
        broker.emit_before("process_message", "2")
        assert calls == ["old before 1", "new before 2"], type(broker)


@pytest.mark.parametrize("which", ["dramatiq's", "the desk's"])
def test_a_hook_patched_after_the_first_event_is_the_one_called(
    which: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = _brokers()[0 if which == "dramatiq's" else 1]
    calls: list[str] = []
    middleware = Recording("a", calls, [])
    broker.add_middleware(middleware)
    broker.emit_before("process_message", "1")
    with monkeypatch.context() as patch:
        patch.setattr(
            Recording, "before_process_message", lambda self, b, m: calls.append(f"class {m}")
        )
        broker.emit_before("process_message", "2")
    middleware.before_process_message = lambda b, m: calls.append(f"instance {m}")  # type: ignore[method-assign,assignment]
    broker.emit_before("process_message", "3")
    assert calls == ["a before 1", "class 2", "instance 3"]
