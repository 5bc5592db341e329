"""Ingest as a batch step: a message's inbox rows, together, else one by one.

Their attempts are counted before (``InboxAttempts``). With a backlog behind it,
a worker takes untouched rows of its channel along into the transaction (unless
its channel says not: a chat update's files are fetched before). A row that fails
records why on itself; out of attempts, or failing for good, it stays failed with
its reason and is not tried again; else it is tried again alone.
"""

from __future__ import annotations

import logging
from typing import Any

from router.errors import OutOfTurn, PermanentError
from router.vocabulary import Channel, RowState
from workers.runtime.batch_step import BatchStep, resend_alone
from workers.runtime.context import Runtime
from workers.runtime.inbox_attempts import InboxAttempts
from workers.steps.ingest import hand_on, ingest, ingest_together

log = logging.getLogger(__name__)


class IngestBatch(BatchStep):
    name = "ingest"

    def __init__(self, runtime: Runtime, channel: Channel, attempts: InboxAttempts) -> None:
        self.runtime = runtime
        self.channel = channel
        self.attempts = attempts
        self.retries = runtime.settings.retries.ingest

    def stopping(self) -> bool:
        return self.runtime.stopping.is_set()

    def handle(self, ids: int | list[int], *args: Any) -> None:
        """The message, then its new tickets routed here (``Runtime.routing_here``)."""
        with self.runtime.routing_here():
            super().handle(ids, *args)

    def begin(self, ids: list[int]) -> list[int]:
        return self.attempts.ready(ids, self.channel)

    def together(self, ready: list[int]) -> list[int]:
        runtime = self.runtime
        room = runtime.settings.worker.batch_max - len(ready)
        if runtime.settings.embedded or not runtime.channels[self.channel].batches:
            room = 0
        if len(ready) == 1 and room == 0:  # alone: a failure is the message's, retried
            self.one(ready[0])
            return []
        batch = ingest_together(runtime, ready, self.channel, take_along=room)
        if batch.ok:
            return []
        with runtime.db.unit_of_work() as uow:  # taken along: their attempts count now
            uow.inbox.begin_attempts(batch.taken, now=runtime.now(), lease=runtime.redrive_after)
        return sorted(ready + batch.taken)  # the batch failed as a whole

    def one(self, inbox_id: int) -> bool:
        """One row, its attempt counted already."""
        runtime = self.runtime
        try:
            ingest(runtime, inbox_id, self.channel)
        except OutOfTurn:  # the older row of its chat hands the turn on: not an attempt
            self._wait_for_turn(inbox_id)
            return True
        except BaseException as exc:  # TimeLimitExceeded is a BaseException: count it too
            permanent = isinstance(exc, PermanentError)
            with runtime.db.unit_of_work() as uow:
                state = uow.inbox.record_failure(
                    inbox_id,
                    error=f"{type(exc).__name__}: {exc}",
                    permanent=permanent,
                    max_attempts=self.retries.max_attempts,
                    now=runtime.now(),
                )
            if state is RowState.FAILED and isinstance(exc, Exception):
                log.error("inbox %s failed for good: %s", inbox_id, exc)
                hand_on(runtime, [inbox_id], self.channel)  # the chat's next update goes on
                return True  # kept in the inbox with its reason; not retried again
            raise
        return True

    def _wait_for_turn(self, inbox_id: int) -> None:
        """Give the attempt back; the older row hands the turn on once it is done. Its
        hand-on may have found this row locked by this very attempt (begin_attempts skips
        locked rows), so once the attempt is given back, look again."""
        runtime = self.runtime
        with runtime.db.unit_of_work() as uow:
            uow.inbox.give_back_attempt(inbox_id)
        with runtime.db.unit_of_work() as uow:
            waiting = uow.inbox.waiting_behind([inbox_id])
        if not waiting:
            runtime.enqueue_ingest(inbox_id, self.channel)

    def resend(self, ids: list[int]) -> None:
        resend_alone(self.runtime.ingest_actors[self.channel], ids, self.retries)


__all__ = ["IngestBatch"]
