"""Declare the actors on a runtime's broker: thin adapters over the steps.

Each actor's retry limits come from settings (dramatiq's default keeps a
failing message for weeks). Ingest failures are counted on the inbox row; when
they run out, or the error is permanent, the row is marked failed with its
reason and the message is not retried again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import dramatiq
from dramatiq import Actor

from config.settings import StepRetries
from router.errors import OutOfTurn, PermanentError
from router.vocabulary import Channel, RowState
from workers.runtime.batching import ids_of
from workers.runtime.context import Runtime
from workers.runtime.queues import ROUTE, SLA, ingest_queue, outbound_queue
from workers.runtime.webhook_actor import declare_webhook_actor
from workers.steps.deliver import deliver, deliver_each
from workers.steps.drain import drain_backlog
from workers.steps.ingest import hand_on, ingest, ingest_together
from workers.steps.route import route, route_each
from workers.steps.sla_sweep import sweep_sla

log = logging.getLogger(__name__)


def _options(retries: StepRetries) -> dict[str, Any]:
    return {
        "max_retries": retries.max_attempts - 1,
        "min_backoff": retries.min_backoff_ms,
        "max_backoff": retries.max_backoff_ms,
        "time_limit": retries.time_limit_ms,
        "throws": (PermanentError,),
    }


def _declare(
    runtime: Runtime, fn: Callable[..., object], name: str, queue: str, retries: StepRetries
) -> Actor[..., object]:
    declare = dramatiq.actor(
        actor_name=name, queue_name=queue, broker=runtime.broker, **_options(retries)
    )
    return declare(fn)


def _ingest_guarded(runtime: Runtime, channel: Channel) -> Callable[[int | list[int]], None]:
    retries = runtime.settings.retries.ingest

    def give_up(inbox_id: int, attempt: int) -> None:
        """Earlier attempts died without reporting back (a kill, a time limit)."""
        with runtime.db.unit_of_work() as uow:
            uow.inbox.record_failure(
                inbox_id,
                error=f"gave up: {attempt - 1} attempts started and none finished",
                permanent=True,
                max_attempts=retries.max_attempts,
                now=runtime.now(),
            )
        log.error("inbox %s failed for good: no attempt finished", inbox_id)
        hand_on(runtime, [inbox_id], channel)

    def wait_for_turn(inbox_id: int) -> None:
        """Give the attempt back; the older row hands the turn on once it is done. Its
        hand-on may have found this row locked by this very attempt (begin_attempts skips
        locked rows), so once the attempt is given back, look again."""
        with runtime.db.unit_of_work() as uow:
            uow.inbox.give_back_attempt(inbox_id)
        with runtime.db.unit_of_work() as uow:
            waiting = uow.inbox.waiting_behind([inbox_id])
        if not waiting:
            runtime.enqueue_ingest(inbox_id, channel)

    def attempt_one(inbox_id: int) -> None:
        """One row, its attempt counted already."""
        try:
            ingest(runtime, inbox_id, channel)
        except OutOfTurn:  # the older row of its chat hands the turn on: not an attempt
            wait_for_turn(inbox_id)
            return
        except BaseException as exc:  # TimeLimitExceeded is a BaseException: count it too
            permanent = isinstance(exc, PermanentError)
            with runtime.db.unit_of_work() as uow:
                state = uow.inbox.record_failure(
                    inbox_id,
                    error=f"{type(exc).__name__}: {exc}",
                    permanent=permanent,
                    max_attempts=retries.max_attempts,
                    now=runtime.now(),
                )
            if state is RowState.FAILED and isinstance(exc, Exception):
                log.error("inbox %s failed for good: %s", inbox_id, exc)
                hand_on(runtime, [inbox_id], channel)  # the chat's next update goes on
                return  # kept in the inbox with its reason; not retried again
            raise

    def run(inbox_ids: int | list[int]) -> None:
        with runtime.db.unit_of_work() as uow:
            attempts = uow.inbox.begin_attempts(
                ids_of(inbox_ids), now=runtime.now(), lease=runtime.redrive_after
            )
        # missing: done, failed for good, held by a batch, or unknown: nothing to do
        ready = sorted(i for i, attempt in attempts.items() if attempt <= retries.max_attempts)
        for inbox_id, attempt in attempts.items():
            if attempt > retries.max_attempts:
                give_up(inbox_id, attempt)
        if not ready:
            return
        # with a backlog behind it, a worker takes untouched rows of its channel along
        # (unless its channel says not: chat updates' files are fetched before)
        room = runtime.settings.worker.batch_max - len(ready)
        if runtime.settings.embedded or not runtime.channels[channel].batches:
            room = 0
        if len(ready) == 1 and room == 0:
            attempt_one(ready[0])
            return
        batch = ingest_together(runtime, ready, channel, take_along=room)
        if batch.ok:
            return
        with runtime.db.unit_of_work() as uow:  # taken along: their attempts count now
            uow.inbox.begin_attempts(batch.taken, now=runtime.now(), lease=runtime.redrive_after)
        failed: list[int] = []
        for inbox_id in sorted(ready + batch.taken):  # the batch failed as a whole
            try:
                attempt_one(inbox_id)
            except Exception:
                failed.append(inbox_id)
        resend_alone(runtime.ingest_actors[channel], failed, retries)

    return run


def resend_alone(actor: Actor, ids: list[int], retries: StepRetries) -> None:
    """Rows of a batch that failed go back on the queue one by one, after the first
    backoff: each then has dramatiq's retries of its own, and the rest of its batch
    is not held back by it."""
    for item_id in ids:
        try:
            actor.send_with_options(args=(item_id,), delay=retries.min_backoff_ms)
        except Exception:  # the row is durable: the scheduler re-drives it
            log.warning("could not resend %s to %s; the scheduler will", item_id, actor)


def declare_actors(runtime: Runtime) -> None:
    retries = runtime.settings.retries
    for channel in runtime.channels.inbound():
        runtime.ingest_actors[channel] = _declare(
            runtime,
            _ingest_guarded(runtime, channel),
            f"ingest_{channel.value}",
            ingest_queue(channel),
            retries.ingest,
        )

    def route_ticket(ticket_id: int | list[int], avoid: int | None = None) -> None:
        if isinstance(ticket_id, int):
            route(runtime, ticket_id, avoid=avoid)
            return
        failed = route_each(runtime, ids_of(ticket_id))
        resend_alone(runtime.route_actor, failed, retries.route)  # type: ignore[arg-type]

    def drain_team(team_id: int, avoid: list[list[int]] | None = None) -> None:
        drain_backlog(runtime, team_id, avoid={t: a for t, a in avoid or ()})

    runtime.route_actor = _declare(runtime, route_ticket, "route_ticket", ROUTE, retries.route)
    runtime.drain_actor = _declare(runtime, drain_team, "drain_backlog", ROUTE, retries.route)

    def fire_sla(ticket_ids: list[int], handed_at: str | None = None) -> None:
        sweep_sla(
            runtime,
            limit=max(len(ticket_ids) * 3, 1),
            ticket_ids=ticket_ids,
            handed_at=datetime.fromisoformat(handed_at) if handed_at else None,
        )

    runtime.sla_actor = _declare(runtime, fire_sla, "fire_sla", SLA, retries.route)

    def deliver_rows(outbox_id: int | list[int]) -> None:
        if isinstance(outbox_id, int):
            deliver(runtime, outbox_id)
            return
        retry = deliver_each(runtime, ids_of(outbox_id))
        for channel, ids in retry.items():
            resend_alone(runtime.deliver_actors[channel], ids, retries.deliver)

    for out in runtime.channels.outbound():
        runtime.deliver_actors[out] = _declare(
            runtime, deliver_rows, f"deliver_{out.value}", outbound_queue(out), retries.deliver
        )
    declare_webhook_actor(runtime)
    runtime.list_actors.update(
        actor.actor_name
        for actor in (
            *runtime.ingest_actors.values(),
            runtime.route_actor,
            *runtime.deliver_actors.values(),
        )
    )


__all__ = ["declare_actors"]
