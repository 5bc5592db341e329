"""The one shape of a step that takes many rows in one broker message.

Like a Mailman runner, the base owns the loop and a step says only what differs:

1. ``begin``: claim the rows (or find those the message may still work on);
2. ``together``: do them in one transaction; returns those left to do one by one
   (all of them when the transaction failed as a whole, none when it did them all);
3. ``one``: each left row alone, in its own transaction; False, or an exception
   of ``caught``, puts the row on the list to try again alone;
4. ``give_back``: rows an interruption (a time limit, a shutdown) kept from being
   tried are released at once;
5. ``resend``: the rows to try again go back to the queue one by one, after the
   first backoff, so each has dramatiq's retries of its own and holds back no other.

Between two rows the loop asks ``stopping``: once the process was told to stop
(SIGTERM), the row in hand was the last; the rest are given back and resent, so
another worker takes them at once instead of this one finishing the batch past its
grace period (or leaving them held when it exits).

Attempts are counted where they are kept: on the inbox row by the
``InboxAttempts`` middleware, on the outbox row by its claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from dramatiq import Actor

from config.settings import StepRetries
from workers.runtime.batching import ids_of

log = logging.getLogger(__name__)


class BatchStep:
    name = "batch"
    caught: tuple[type[BaseException], ...] = (Exception,)  # from ``one``: try it again alone

    def begin(self, ids: list[int]) -> list[int]:
        return ids

    def together(self, ids: list[int]) -> list[int]:
        return ids

    def one(self, item_id: int) -> bool:
        raise NotImplementedError

    def give_back(self, ids: list[int]) -> None:
        """Release rows that were claimed and never tried."""

    def stopping(self) -> bool:
        """The process was told to stop: try no further row."""
        return False

    def resend(self, ids: list[int]) -> None:
        raise NotImplementedError

    def around(self) -> AbstractContextManager[None]:
        """What holds for the whole message (e.g. its sends gathered)."""
        return nullcontext()

    def handle(self, ids: int | list[int], *args: Any) -> None:
        """A broker message's ids (one, or a list): the loop, then the resends."""
        again = self.run(ids_of(ids))
        if again:
            self.resend(again)

    def run(self, ids: list[int]) -> list[int]:
        """The loop; returns the rows to try again alone."""
        with self.around():
            todo = self.begin(ids)
            if not todo:
                return []
            left = self.together(todo)
            again: list[int] = []
            untried = list(left)
            try:
                for item_id in left:
                    if self.stopping():
                        log.info("%s stopped short: %d rows given back", self.name, len(untried))
                        break
                    untried.remove(item_id)
                    try:
                        if not self.one(item_id):
                            again.append(item_id)
                    except self.caught:
                        log.exception(
                            "%s of %s failed; it is tried again alone", self.name, item_id
                        )
                        again.append(item_id)
            finally:
                if untried:
                    self.give_back(untried)
        return again + untried  # (given back when the loop stopped short: sent again)


def per_message(make: Callable[[], BatchStep]) -> Callable[..., None]:
    """An actor's function: a new step for each message (a step keeps what its message
    claimed), handling the message's arguments."""

    def handle(ids: int | list[int], *args: Any) -> None:
        make().handle(ids, *args)

    return handle


def resend_alone(actor: Actor, ids: list[int], retries: StepRetries) -> None:
    """Rows of a batch that failed go back on the queue one by one, after the first
    backoff: each then has dramatiq's retries of its own, and the rest of its batch
    is not held back by it."""
    for item_id in ids:
        try:
            actor.send_with_options(args=(item_id,), delay=retries.min_backoff_ms)
        except Exception:  # the row is durable: the scheduler re-drives it
            log.warning("could not resend %s to %s; the scheduler will", item_id, actor)


__all__ = ["BatchStep", "per_message", "resend_alone"]
