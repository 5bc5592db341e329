"""Telegram's limits are shared: one budget per chat and per bot, across processes on Redis."""

from __future__ import annotations

import time
import uuid

import pytest
from dramatiq.rate_limits.backends import RedisBackend, StubBackend

from router.errors import TransientError
from workers.channels.chat_throttle import ChatThrottle

pytestmark = pytest.mark.integration


def throttle(backend: object, namespace: str, **kw: object) -> ChatThrottle:
    return ChatThrottle(
        backend,  # type: ignore[arg-type]
        per_bot=kw.pop("per_bot", 30),  # type: ignore[arg-type]
        per_chat=1,
        namespace=namespace,
        max_wait_s=kw.pop("max_wait_s", 0.3),  # type: ignore[arg-type]
    )


def early_in_a_second() -> None:
    """The limiters count per wall-clock second: start where no boundary falls in the test."""
    while time.time() % 1 > 0.2:
        time.sleep(0.01)


def test_one_message_per_chat_per_second_other_chats_go_on() -> None:
    t = throttle(StubBackend(), "t")
    early_in_a_second()
    t.wait_turn("1")
    t.wait_turn("2")  # another chat: its own budget
    with pytest.raises(TransientError):
        t.wait_turn("1")  # the same chat within the second: no turn within max_wait_s


def test_a_chat_waits_its_turn_rather_than_failing_when_the_wait_is_short() -> None:
    t = throttle(StubBackend(), "t", max_wait_s=2.5)
    t.wait_turn("1")
    t.wait_turn("1")  # waits for the next second, then goes


def test_the_bot_wide_budget_counts_every_chat() -> None:
    t = throttle(StubBackend(), "t", per_bot=3)
    early_in_a_second()
    for chat in ("1", "2", "3"):
        t.wait_turn(chat)
    with pytest.raises(TransientError):
        t.wait_turn("4")


def test_two_processes_on_redis_share_one_budget(redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    first = throttle(RedisBackend(url=redis_url), namespace)
    second = throttle(RedisBackend(url=redis_url), namespace)
    early_in_a_second()
    first.wait_turn("42")
    with pytest.raises(TransientError):
        second.wait_turn("42")
    second.wait_turn("43")
