"""Fewer broker messages under load: many row ids ride in one message.

Two ways ids come together:

- ``Gathering``: the sends one worker thread makes inside a block (the
  after-commit sends of a batch's transaction) go out at its end, one message
  per actor carrying every id. Nothing waits: the block decides the batch.
- ``SendWindow``: a connector's intake accepts one message at a time, from
  many threads. Its ingest sends wait up to a few milliseconds in a window and
  go out together; while windows keep gathering more than one id (a busy intake)
  the window widens, up to four times, and it narrows again at the first id that
  comes alone or after a pause. A process that dies with ids still in the window loses only
  the messages, never the rows: the scheduler re-drives every row left pending,
  the same as for a crash between a commit and its send.

An actor that takes a list also takes a single id (the scheduler's re-drives,
and messages sent before batching existed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dramatiq import Actor

Send = Callable[["Actor", int | list[int]], None]


def ids_of(value: int | list[int]) -> list[int]:
    """The ids an actor's message carries, in order, each once."""
    if isinstance(value, int):
        return [value]
    return list(dict.fromkeys(int(v) for v in value))


def chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _send_held(send: Send, held: list[tuple[Actor, list[int]]], max_ids: int) -> None:
    """Each actor's ids, each once, in messages of at most ``max_ids`` (one id alone)."""
    for actor, ids in held:
        for part in chunks(list(dict.fromkeys(ids)), max_ids):
            send(actor, part if len(part) > 1 else part[0])


class Gathering:
    """Per thread: while a block is open, sends to list-taking actors are held, then merged."""

    def __init__(self, send: Send, max_ids: int) -> None:
        self._send = send
        self._max_ids = max_ids
        self._local = threading.local()

    def hold(self, actor: Actor, item_id: int) -> bool:
        """Keep the send for the end of the open block; False when no block is open."""
        held: dict[str, tuple[Actor, list[int]]] | None = getattr(self._local, "held", None)
        if held is None:
            return False
        held.setdefault(actor.actor_name, (actor, []))[1].append(item_id)
        return True

    @contextmanager
    def block(self) -> Iterator[None]:
        if getattr(self._local, "held", None) is not None:  # nested: the outer block sends
            yield
            return
        self._local.held = {}
        try:
            yield
        finally:
            held, self._local.held = self._local.held, None
            _send_held(self._send, list(held.values()), self._max_ids)


class SendWindow:
    """Ids sent from any thread within a window of the first go out as one message.

    The window is ``window_s`` while ids come alone. A window that gathered more than
    one id (or filled up) doubles the next one, up to ``widest_s``; one that held a
    single id brings it back to ``window_s``, and so does a pause longer than the window
    between a send and the next id. A busy intake sends fewer, larger messages (at full
    speed most of the ingest messages of small windows found their rows taken along by a
    batch already, and cost a transaction each for nothing), and a quiet one waits no
    longer than before."""

    def __init__(
        self, send: Send, *, window_s: float, max_ids: int, widest_s: float | None = None
    ) -> None:
        self._send = send
        self._window_s = window_s
        self._widest_s = max(window_s, widest_s if widest_s is not None else 4 * window_s)
        self._waiting_s = window_s  # the window now: window_s up to widest_s
        self._max_ids = max_ids
        self._lock = threading.Condition()
        self._held: dict[str, tuple[Actor, list[int]]] = {}
        self._first_at: float | None = None
        self._sent_at = 0.0  # when the last window went out
        self._closed = False
        self._thread: threading.Thread | None = None

    def add(self, actor: Actor, item_id: int) -> None:
        with self._lock:
            if self._closed:
                full: list[tuple[Actor, list[int]]] = [(actor, [item_id])]
            else:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="relaydesk-send-window", daemon=True
                    )
                    self._thread.start()
                ids = self._held.setdefault(actor.actor_name, (actor, []))[1]
                ids.append(item_id)
                if self._first_at is None:
                    self._first_at = now = time.monotonic()
                    if now - self._sent_at > self._waiting_s:  # a pause: the desk is quiet
                        self._waiting_s = self._window_s
                    self._lock.notify()
                full = []
                if len(ids) >= self._max_ids:
                    full = [self._held.pop(actor.actor_name)]
                    self._widen(busy=True)
                    self._sent_at = time.monotonic()
                    if not self._held:  # nothing left waiting: the next id opens a window
                        self._first_at = None
        _send_held(self._send, full, self._max_ids)  # a full batch goes at once, from here

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._first_at is None and not self._closed:
                    self._lock.wait()
                # to the end of the window open now: a full batch may have emptied the one
                # this wait began for, and the next id opened another (``_first_at`` anew)
                while self._first_at is not None and not self._closed:
                    left = self._first_at + self._waiting_s - time.monotonic()
                    if left <= 0:
                        break
                    self._lock.wait(left)
                batch = list(self._held.values())
                self._held.clear()
                if batch:
                    self._widen(busy=sum(len(ids) for _, ids in batch) > 1)
                    self._sent_at = time.monotonic()
                self._first_at = None
                closed = self._closed
            _send_held(self._send, batch, self._max_ids)  # (send never raises: it logs)
            if closed:
                return

    @property
    def waiting_s(self) -> float:
        """How long the next window waits for more ids after its first."""
        with self._lock:
            return self._waiting_s

    def _widen(self, *, busy: bool) -> None:
        """(Under the lock.) A window that gathered more than one id doubles the next."""
        self._waiting_s = min(2 * self._waiting_s, self._widest_s) if busy else self._window_s

    def close(self) -> None:
        """Send what is held and stop."""
        with self._lock:
            self._closed = True
            self._lock.notify()
            thread = self._thread
        if thread is not None:  # (never started: nothing was held)
            thread.join(5)


__all__ = ["Gathering", "SendWindow", "chunks", "ids_of"]
