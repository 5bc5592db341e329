"""Outbox rows delivered in the worker thread that committed them, not sent to ``outbound``.

A worker process that consumes a channel's outbound queue would send a lone unit of
work's delivery message only to fetch it back (a send, fetches, waits, an
acknowledgement, a hop's wait). Inside an ``InlineDeliveries.block`` (opened with every
``Runtime.gather_sends``: an ingest batch's transaction, a routing), the deliveries a
thread queues after its commit on a channel consumed here are held; when the block ends,
after its other sends, a lone row is delivered here (``deliver``: the deliver step's
``deliver_here``, the outbound actor's claim and record, so a consumer that also gets
the row cannot send it twice), and several go to the outbound queue merged (``send``),
as before.

What the thread may spend is bounded: a delivery here waits for the far side at most the
deliver step's time limit (the sender's per-send ``timeout_s``: no interrupt reaches a
thread blocked in a socket's read), or the adapter's own timeouts if shorter; at most
``permits`` threads of the process deliver here on a channel at once (the others send);
none while one here on it has been running longer than ``slow_s``; and after a delivery
here failed, was asked to wait, or took longer than ``slow_s``, the channel's rows of
this process go to the queue for ``pause_s`` (a hung or refusing server holds the
outbound consumers, as before, and the one thread that found it out, for at most that
timeout; not the ingest and routing of every lone ticket). A block that ends with an
exception sends its rows. A row sent (or failed for good) here is counted in
DELIVERED_HERE; its delivery's own counters are the outbound actor's
(``relaydesk_deliveries_total``, the failures').
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from prometheus_client import Counter

from router.vocabulary import Channel

DELIVERED_HERE = Counter(
    "relaydesk_outbox_delivered_here_total",
    "Outbox rows delivered (or failed for good) in the worker thread that queued them, "
    "without an outbound message",
    ("channel",),
)
SLOW_S = 0.5  # a delivery here taking longer pauses its channel's deliveries here
PAUSE_S = 30.0  # for this long: the channel's rows go to its outbound queue meanwhile

Row = tuple[int, Channel]


class HereBudget:
    """Which channel may deliver here now: at most ``permits`` threads at once; none while
    a delivery here on it has been running longer than ``slow_s`` (a hung server: the
    others do not wait for its timeout to find out); none for ``pause_s`` after one failed,
    was asked to wait, or took longer than ``slow_s``."""

    def __init__(
        self,
        permits: int,
        *,
        slow_s: float = SLOW_S,
        pause_s: float = PAUSE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.permits = max(permits, 1)
        self.slow_s = slow_s
        self.pause_s = pause_s
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[Channel, dict[int, float]] = {}  # thread -> when it started
        self._paused_until: dict[Channel, float] = {}

    def take(self, channel: Channel) -> bool:
        """A permit to deliver on ``channel`` here for this thread; False: send the row."""
        with self._lock:
            now = self._clock()
            running = self._running.setdefault(channel, {})
            if now < self._paused_until.get(channel, 0.0) or len(running) >= self.permits:
                return False
            if any(now - started > self.slow_s for started in running.values()):
                return False
            running[threading.get_ident()] = now
            return True

    def give(self, channel: Channel, *, ok: bool) -> None:
        """This thread's permit back, if it holds one; a failed or slow delivery pauses the
        channel here."""
        with self._lock:
            now = self._clock()
            started = self._running.get(channel, {}).pop(threading.get_ident(), None)
            if started is None:  # none taken
                return
            if not ok or now - started > self.slow_s:
                self._paused_until[channel] = now + self.pause_s


class InlineDeliveries:
    """Per thread: while a block is open, deliveries on ``channels`` are held; at its end
    a lone one is delivered here, several are sent merged."""

    def __init__(
        self,
        deliver: Callable[[int, Channel], bool],
        send: Callable[[list[Row]], None],
        channels: frozenset[Channel],
        budget: HereBudget,
    ) -> None:
        self._deliver = deliver  # True: done here; False: failed or waiting, left to the queue
        self._send = send
        self.channels = channels
        self.budget = budget
        self._local = threading.local()

    def hold(self, outbox_id: int, channel: Channel) -> bool:
        """Keep the delivery for the end of the open block; False when no block is open
        or ``channel``'s outbound queue is not consumed here."""
        held: list[Row] | None = getattr(self._local, "held", None)
        if held is None or channel not in self.channels:
            return False
        held.append((outbox_id, channel))
        return True

    @contextmanager
    def block(self, inner: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
        """Hold the deliveries queued inside ``inner()`` (the gathering of sends, which
        goes out first), then deliver or send them. A block ending with an exception (a
        failure, a time limit, a stop) sends the rows committed before it, then raises: it
        does not spend more time here."""
        if getattr(self._local, "held", None) is not None:  # nested: the outer block does
            yield
            return
        self._local.held = []
        try:
            with inner():
                yield
        except BaseException:
            held, self._local.held = self._local.held, None
            if held:
                self._send(list(dict.fromkeys(held)))
            raise
        held, self._local.held = self._local.held, None
        if held:
            self._end(list(dict.fromkeys(held)))

    def _end(self, held: list[Row]) -> None:
        if len(held) > 1:
            self._send(held)
            return
        outbox_id, channel = held[0]
        ok = False
        try:  # (taken inside: an interrupt just after ``take`` still gives the permit back)
            if not self.budget.take(channel):
                self._send(held)
                return
            ok = self._deliver(outbox_id, channel)
        finally:
            self.budget.give(channel, ok=ok)


__all__ = ["DELIVERED_HERE", "HereBudget", "InlineDeliveries"]
