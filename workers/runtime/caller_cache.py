"""Who a token or a session stands for, remembered for a moment by the process.

Reading a caller from the store (the token or session row, the account, its teams, the
team names) is a transaction of six statements: more than the ticket read it guards.
A web process keeps each answer for ``TTL_S`` seconds, for the same secret from the same
address, while the configuration version is the same, and no later than the instant the
desk must look at the row again (the token expires, its use is to be recorded, the
session ends or is to be touched: ``until``, on the desk's clock).

Revoking a token, ending a session or setting a password in this process forgets every
caller at once; done by another process (the CLI, another web process) it takes effect
here within ``TTL_S`` seconds. A caller refused is never remembered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from router.staff_views import Caller

TTL_S = 2.0
MAX_ENTRIES = 10_000

Key = tuple[str, str | None]  # the secret's hash, the client's address


@dataclass(frozen=True)
class _Entry:
    caller: Caller
    version: str
    checked: float  # monotonic seconds
    until: datetime | None


class CallerCache:
    def __init__(self, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[Key, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, key: Key, *, version: str, now: datetime) -> Caller | None:
        """The caller remembered for ``key``, while still good; else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if (
            entry.version != version
            or self.clock() - entry.checked >= self.ttl_s
            or (entry.until is not None and now >= entry.until)
        ):
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return entry.caller

    def put(self, key: Key, caller: Caller, *, version: str, until: datetime | None) -> None:
        entry = _Entry(caller=caller, version=version, checked=self.clock(), until=until)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = entry

    def forget_all(self) -> None:
        with self._lock:
            self._entries.clear()
