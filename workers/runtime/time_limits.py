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
from time import monotonic, sleep
from types import TracebackType
from typing import Any

from dramatiq import Broker
from dramatiq.middleware import Middleware, TimeLimit, TimeLimitExceeded, default_middleware

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
    for the message's own deadline is the message's). Nothing where no watchdog runs.

    The watchdog clears a deadline under its lock and raises the interrupt after letting
    go of it, so ours may land after the block ended, or inside ``__exit__``: there it is
    waited for and absorbed (the block's work is done; the step's limit is not the
    message's), before the message's deadline is put back. One the block met already
    (``TimeLimitExceeded`` anywhere in the leaving exception's ``__context__``/``__cause__``
    chain) is not waited for; one the block caught entirely cannot be told from one on
    its way, so that wait is short (``LATE_S``)."""

    def __init__(self, limit_ms: float) -> None:
        self.limit_ms = limit_ms
        self.fired = False
        self._outer: float | None = None
        self._mine: float | None = None
        self._restored = False

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
        arrived = _met(exc)
        while True:
            try:
                self._end(manager, arrived)
                return
            except TimeLimitExceeded:
                if self._restored:  # the message's own deadline, put back: its to raise
                    raise
                arrived = True  # ours, late

    def _end(self, manager: Any, arrived: bool) -> None:
        ours = threading.get_ident()
        if not self.fired:
            with manager.mu:
                self.fired = manager.deadlines.get(ours) is None  # (the watchdog clears it)
                if not self.fired:
                    manager.deadlines[ours] = self._outer
                    self._restored = True
                    return
        if not arrived:  # on its way: the watchdog raises it just after letting go of mu
            _await_interrupt()
        with manager.mu:
            manager.deadlines[ours] = self._outer
            self._restored = True


LATE_S = 0.5  # the watchdog raises just after letting go of its lock: a GIL switch or so


def _met(exc: BaseException | None) -> bool:
    """A ``TimeLimitExceeded`` is ``exc`` or in its ``__context__``/``__cause__`` chain."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        one = todo.pop()
        if one is None or id(one) in seen:
            continue
        if isinstance(one, TimeLimitExceeded):
            return True
        seen.add(id(one))
        todo += [one.__cause__, one.__context__]
    return False


def _await_interrupt(within_s: float = LATE_S) -> None:
    """Sleep in short steps until the watchdog's interrupt lands (raising it), at most
    ``within_s``."""
    until = monotonic() + within_s
    while monotonic() < until:
        sleep(0.002)


__all__ = ["SharedTimeLimit", "StepLimit", "broker_middleware"]
