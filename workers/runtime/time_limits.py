"""dramatiq's time limits with one watchdog thread per process, however many brokers.

dramatiq's ``TimeLimit`` starts a watchdog thread when its broker boots and never
stops it. A process that builds several runtimes (the command line, the tests, a
benchmark) would keep one thread per broker ever built, each waking every second
and asking for the GIL; hundreds of them starve the threads doing the work.
Deadlines are kept per worker thread, so one watchdog serves every broker.

``StepLimit``: a step run inside another step's message (a delivery made in the thread
that queued it) keeps its own step's time limit there, not the message's.
"""

from __future__ import annotations

import threading
from time import monotonic
from types import TracebackType
from typing import Any

from dramatiq import Broker
from dramatiq.middleware import Middleware, TimeLimit, default_middleware

_lock = threading.Lock()
_watchdog: Any = None  # the process's started timeout manager, once one broker booted


class SharedTimeLimit(TimeLimit):
    """``TimeLimit`` whose watchdog thread is the process's one, started once."""

    def after_process_boot(self, broker: Broker) -> None:
        global _watchdog
        with _lock:
            if _watchdog is None:
                super().after_process_boot(broker)  # starts self.manager
                _watchdog = self.manager
            else:
                self.manager = _watchdog


def broker_middleware() -> list[Middleware]:
    """dramatiq's default middleware, its time limit sharing the process's watchdog."""
    return [SharedTimeLimit() if m is TimeLimit else m() for m in default_middleware]


class StepLimit:
    """Inside, this worker thread's deadline is at most ``limit_ms`` away (the message's,
    if sooner), and the message's again after. ``fired``: the watchdog interrupted the
    block for this limit (its ``TimeLimitExceeded`` is then the block's to handle; one
    for the message's own deadline is the message's). Nothing where no watchdog runs."""

    def __init__(self, limit_ms: float) -> None:
        self.limit_ms = limit_ms
        self.fired = False
        self._outer: float | None = None
        self._mine: float | None = None

    def __enter__(self) -> StepLimit:
        manager = _watchdog
        if manager is None or not hasattr(manager, "deadlines"):  # none, or gevent's
            return self
        with manager.mu:
            self._outer = manager.deadlines.get(threading.get_ident())
            self._mine = monotonic() + self.limit_ms / 1000
            if self._outer is None or self._mine < self._outer:
                manager.deadlines[threading.get_ident()] = self._mine
            else:
                self._mine = None  # the message's comes first: nothing of ours
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        manager = _watchdog
        if self._mine is None or manager is None:
            return
        with manager.mu:
            ours = threading.get_ident()
            self.fired = manager.deadlines.get(ours) is None  # (the watchdog clears it)
            manager.deadlines[ours] = self._outer


__all__ = ["SharedTimeLimit", "StepLimit", "broker_middleware"]
