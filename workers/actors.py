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

import dramatiq
from dramatiq import Actor

from config.settings import StepRetries
from router.errors import PermanentError
from router.vocabulary import Channel, RowState
from workers.deliver import deliver
from workers.ingest import ingest
from workers.queues import (
    INBOUND_CHANNELS,
    OUTBOUND_CHANNELS,
    ROUTE,
    SLA,
    ingest_queue,
    outbound_queue,
)
from workers.route import drain_backlog, route
from workers.runtime import Runtime
from workers.sla_sweep import sweep_sla

log = logging.getLogger(__name__)


def _options(retries: StepRetries) -> dict[str, object]:
    return {
        "max_retries": retries.max_attempts - 1,
        "min_backoff": retries.min_backoff_ms,
        "max_backoff": retries.max_backoff_ms,
        "time_limit": retries.time_limit_ms,
        "throws": (PermanentError,),
    }


def _declare(
    runtime: Runtime, fn: Callable[[int], object], name: str, queue: str, retries: StepRetries
) -> Actor:  # type: ignore[type-arg]
    return dramatiq.actor(
        fn, actor_name=name, queue_name=queue, broker=runtime.broker, **_options(retries)
    )


def _ingest_guarded(runtime: Runtime, channel: Channel) -> Callable[[int], None]:
    retries = runtime.settings.retries.ingest

    def run(inbox_id: int) -> None:
        with runtime.db.unit_of_work() as uow:
            attempt = uow.inbox.begin_attempt(
                inbox_id, now=runtime.now(), lease=runtime.redrive_after
            )
        if attempt is None:
            return  # done, failed for good, or unknown: a redelivery is a no-op
        if attempt > retries.max_attempts:  # earlier attempts died without reporting back
            with runtime.db.unit_of_work() as uow:
                uow.inbox.record_failure(
                    inbox_id,
                    error=f"gave up: {attempt - 1} attempts started and none finished",
                    permanent=True,
                    max_attempts=retries.max_attempts,
                    now=runtime.now(),
                )
            log.error("inbox %s failed for good: no attempt finished", inbox_id)
            return
        try:
            ingest(runtime, inbox_id, channel)
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
                return  # kept in the inbox with its reason; not retried again
            raise

    return run


def declare_actors(runtime: Runtime) -> None:
    retries = runtime.settings.retries
    for channel in INBOUND_CHANNELS:
        runtime.ingest_actors[channel] = _declare(
            runtime,
            _ingest_guarded(runtime, channel),
            f"ingest_{channel.value}",
            ingest_queue(channel),
            retries.ingest,
        )

    def route_ticket(ticket_id: int, avoid: int | None = None) -> None:
        route(runtime, ticket_id, avoid=avoid)

    def drain_team(team_id: int) -> None:
        drain_backlog(runtime, team_id)

    runtime.route_actor = _declare(runtime, route_ticket, "route_ticket", ROUTE, retries.route)
    runtime.drain_actor = _declare(runtime, drain_team, "drain_backlog", ROUTE, retries.route)

    def fire_sla(ticket_ids: list[int], handed_at: str | None = None) -> None:
        sweep_sla(
            runtime,
            limit=max(len(ticket_ids) * 3, 1),
            ticket_ids=ticket_ids,
            handed_at=datetime.fromisoformat(handed_at) if handed_at else None,
        )

    runtime.sla_actor = _declare(runtime, fire_sla, "fire_sla", SLA, retries.route)  # type: ignore[arg-type]

    def deliver_row(outbox_id: int) -> None:
        deliver(runtime, outbox_id)

    for out in OUTBOUND_CHANNELS:
        runtime.deliver_actors[out] = _declare(
            runtime, deliver_row, f"deliver_{out.value}", outbound_queue(out), retries.deliver
        )


__all__ = ["declare_actors"]
