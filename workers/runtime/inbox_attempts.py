"""Counting ingest attempts on the inbox rows: a dramatiq middleware, as Retries is.

Before an ingest actor runs, each row its message carries gets one more attempt
(``begin_attempts``, which also leases the row and passes over rows done, failed
for good or held by another batch). A row whose earlier attempts all died without
reporting back (a kill, a time limit) and are used up is failed for good here, with
why, and the next row of its sequence gets its turn. The actor works on the rows
left (``ready``). Counting before the actor, not in it, counts an attempt that never
returns too.
"""

from __future__ import annotations

import logging
import threading

from dramatiq import Broker
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from router.vocabulary import Channel
from store.inbox import begin_attempts
from workers.runtime.batching import ids_of
from workers.runtime.context import Runtime
from workers.steps.ingest import hand_on

log = logging.getLogger(__name__)


class InboxAttempts(Middleware):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.max_attempts = runtime.settings.retries.ingest.max_attempts
        self._channels: dict[str, Channel] = {}  # the ingest actors' names
        self._local = threading.local()

    def watch(self, actor_name: str, channel: Channel) -> None:
        self._channels[actor_name] = channel

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        channel = self._channels.get(message.actor_name)
        if channel is None or not message.args:
            return
        ids = ids_of(message.args[0])
        self._local.counted = (message.actor_name, ids, self._begin(ids, channel))

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        self._local.counted = None

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self._local.counted = None

    def ready(self, ids: list[int], channel: Channel) -> list[int]:
        """The rows of this message the actor may try, their attempts counted: by the
        middleware before the actor, else (the actor called directly) now."""
        counted = getattr(self._local, "counted", None)
        self._local.counted = None
        if counted is not None and counted[0] in self._channels and counted[1] == ids:
            return list(counted[2])
        return self._begin(ids, channel)

    def _begin(self, ids: list[int], channel: Channel) -> list[int]:
        runtime = self.runtime
        # its own transaction of one statement, committed before the work it counts (on
        # PostgreSQL in autocommit: no BEGIN and COMMIT round trips)
        with runtime.db.one_statement() as statement:
            attempts = begin_attempts(
                statement, ids, now=runtime.now(), lease=runtime.redrive_after
            )
        # missing: done, failed for good, held by a batch, or unknown: nothing to do
        for inbox_id, attempt in attempts.items():
            if attempt > self.max_attempts:
                self._give_up(inbox_id, attempt, channel)
        return sorted(i for i, attempt in attempts.items() if attempt <= self.max_attempts)

    def _give_up(self, inbox_id: int, attempt: int, channel: Channel) -> None:
        """Earlier attempts died without reporting back (a kill, a time limit)."""
        runtime = self.runtime
        with runtime.db.unit_of_work() as uow:
            uow.inbox.record_failure(
                inbox_id,
                error=f"gave up: {attempt - 1} attempts started and none finished",
                permanent=True,
                max_attempts=self.max_attempts,
                now=runtime.now(),
            )
        log.error("inbox %s failed for good: no attempt finished", inbox_id)
        hand_on(runtime, [inbox_id], channel)


__all__ = ["InboxAttempts"]
