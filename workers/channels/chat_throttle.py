"""Telegram's limits (about 30 messages a second per bot, one a second per chat), shared
by every worker: dramatiq's window rate limiters on Redis when the broker is Redis, in
process otherwise (embedded mode is one process; with RabbitMQ each process keeps its own).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dramatiq.rate_limits import RateLimiterBackend, WindowRateLimiter
from dramatiq.rate_limits.backends import StubBackend

from config.settings import Settings
from router.errors import Throttled


def rate_limiter_backend(settings: Settings) -> RateLimiterBackend:
    if settings.broker_url.startswith(("redis://", "rediss://")):
        from dramatiq.rate_limits.backends import RedisBackend

        return RedisBackend(url=settings.broker_url)
    return StubBackend()


class ChatThrottle:
    """``wait_turn(chat_id)`` blocks until one more message to that chat is allowed, or
    raises ``Throttled`` after ``max_wait_s`` (the message waits a second, unspent)."""

    def __init__(
        self,
        backend: RateLimiterBackend,
        *,
        per_bot: int,
        per_chat: int,
        namespace: str = "relaydesk",
        max_wait_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend = backend
        self.per_chat = per_chat
        self.namespace = namespace
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.bot = WindowRateLimiter(backend, f"{namespace}:tg:bot", limit=per_bot, window=1)

    def wait_turn(self, chat_id: str) -> None:
        chat = WindowRateLimiter(
            self.backend, f"{self.namespace}:tg:chat:{chat_id}", limit=self.per_chat, window=1
        )
        deadline = time.monotonic() + self.max_wait_s
        for limiter in (chat, self.bot):  # the chat's turn first: it must not hold a bot slot
            while True:
                with limiter.acquire(raise_on_failure=False) as acquired:
                    if acquired:
                        break
                if time.monotonic() > deadline:  # a busy second: wait as Telegram would ask
                    raise Throttled(f"Telegram rate limit: no turn for chat {chat_id}", 1.0)
                self.sleep(0.05)
