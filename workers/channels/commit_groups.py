"""Group commit: items handed in by many threads at once are committed together.

The inbound SMTP server delivers each message on a thread of its own and the web intake
each submission on one; each paid a transaction (and PostgreSQL a WAL flush) of its own.
``CommitGroups.submit`` makes the first caller the leader: it commits what is waiting
(its own item first) in one call of ``commit_many``, and while it does, later callers
wait; when it is done, the first of them leads the next group with everything that
arrived meanwhile. A caller is answered when its own group is committed, never later:
one thread alone pays one commit, as before, and a busy desk pays one per group.

A group that fails is tried again one item at a time, so each caller gets its own item's
outcome (a value the store refuses fails only its own message).

A caller that knows how many items are on their way (the inbound SMTP server: one from
each open session, whose client waits for its 250 before it sends the next) says so with
``expect``: a leader then waits, at most ``gather_s``, until that many are waiting before
it commits. Four clients that each wait for their answer otherwise make groups of one or
two (the next ones arrive just after a commit began), and their ingest batches as small.
A wait that ends with fewer items than expected lowers the expectation to what came (an
open session that sends nothing, a connection kept open between bursts, must not cost
every message the wait); a group that finds more waiting raises it again, up to what
``expect`` said, and a new ``expect`` starts over from its count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Waiter(Generic[Item, Result]):
    __slots__ = ("done", "error", "item", "lead", "result", "size")

    def __init__(self, item: Item, size: int) -> None:
        self.item = item
        self.size = size
        self.done = threading.Event()
        self.lead = False  # woken to lead the next group rather than with its result
        self.result: Result | None = None
        self.error: BaseException | None = None


class CommitGroups(Generic[Item, Result]):
    """``commit_many(items) -> results`` (one each, in order) for items from any thread.

    ``max_items`` and ``max_bytes`` bound a group (``size`` of an item is its bytes, as
    the caller counts them); an item larger than ``max_bytes`` is a group of its own.
    """

    def __init__(
        self,
        commit_many: Callable[[Sequence[Item]], Sequence[Result]],
        *,
        max_items: int = 64,
        max_bytes: int = 8 * 1024 * 1024,
        gather_s: float = 0.0,
    ) -> None:
        self._commit_many = commit_many
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._gather_s = gather_s
        self._expected = 0  # what ``expect`` said
        self._likely = 0  # what a leader waits for: at most that, lowered by waits in vain
        self._lock = threading.Condition()
        self._waiting: list[_Waiter[Item, Result]] = []
        self._leading = False

    def expect(self, items: int) -> None:
        """How many items are on their way now (each open SMTP session's next message):
        a leader waits up to ``gather_s`` for that many, or fewer when a group is bounded
        smaller. 0 or 1: a leader commits what is waiting at once."""
        with self._lock:
            self._expected = self._likely = items
            self._lock.notify_all()

    @property
    def waits_for(self) -> int:
        """How many items a leader waits for now (see ``expect``)."""
        with self._lock:
            return self._likely

    def submit(self, item: Item, size: int = 0) -> Result:
        """Commit ``item`` (with whatever else is waiting); its result, or its error."""
        waiter: _Waiter[Item, Result] = _Waiter(item, size)
        with self._lock:
            self._waiting.append(waiter)
            self._lock.notify_all()  # a leader gathering counts it
            follow = self._leading
            self._leading = True
        if follow:
            waiter.done.wait()
        if not waiter.done.is_set() or waiter.lead:
            self._lead()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result  # type: ignore[return-value]

    def _lead(self) -> None:
        """Commit the waiting group (this thread's item is first in it), then hand on."""
        with self._lock:
            self._gather()
            group = self._take()
        try:
            self._commit(group)
        finally:
            with self._lock:
                if self._waiting:
                    successor = self._waiting[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._leading = False

    def _gather(self) -> None:
        """Wait (the lock held, released while waiting) until the expected items are
        waiting, a group is full, or ``gather_s`` has passed."""
        if self._gather_s <= 0:
            return
        deadline = time.monotonic() + self._gather_s
        while len(self._waiting) < min(self._likely, self._max_items):
            if sum(w.size for w in self._waiting) >= self._max_bytes:
                return
            left = deadline - time.monotonic()
            if left <= 0:  # some never came: wait for as many as did from now on
                self._likely = len(self._waiting)
                return
            self._lock.wait(left)
        # more than the lowered expectation came: some quiet session sends again
        self._likely = max(self._likely, min(len(self._waiting), self._expected))

    def _take(self) -> list[_Waiter[Item, Result]]:
        taken, held = 0, 0
        for waiter in self._waiting:
            if taken and (taken >= self._max_items or held + waiter.size > self._max_bytes):
                break
            taken += 1
            held += waiter.size
        group = self._waiting[:taken]
        del self._waiting[:taken]
        return group

    def _commit(self, group: list[_Waiter[Item, Result]]) -> None:
        """Commit ``group``; each waiter gets its result or its error, and is woken."""
        try:
            results = self._commit_many([waiter.item for waiter in group])
        except Exception as error:
            if len(group) == 1:
                group[0].error = error
                self._wake(group)
            else:
                for waiter in group:
                    self._commit([waiter])
            return
        except BaseException as error:  # an interruption: nobody is left waiting
            for waiter in group:
                waiter.error = error
            self._wake(group)
            raise
        for waiter, result in zip(group, results, strict=True):
            waiter.result = result
        self._wake(group)

    @staticmethod
    def _wake(group: list[_Waiter[Item, Result]]) -> None:
        for waiter in group:
            waiter.lead = False
            waiter.done.set()
