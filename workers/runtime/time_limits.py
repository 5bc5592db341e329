"""dramatiq's time limits with one watchdog thread per process, however many brokers.

dramatiq's ``TimeLimit`` starts a watchdog thread when its broker boots and never
stops it. A process that builds several runtimes (the command line, the tests, a
benchmark) would keep one thread per broker ever built, each waking every second
and asking for the GIL; hundreds of them starve the threads doing the work.
Deadlines are kept per worker thread, so one watchdog serves every broker.
"""

from __future__ import annotations

import threading
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


__all__ = ["SharedTimeLimit", "broker_middleware"]
