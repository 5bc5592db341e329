"""Declare the actors on a runtime's broker: one line per step, over the steps.

Each actor's retry limits come from settings (dramatiq's default keeps a
failing message for weeks). Ingest, route and deliver are batch steps
(``workers.runtime.batch_step``): a message carries one row or many. Ingest
attempts are counted on the inbox row by the ``InboxAttempts`` middleware; when
they run out, or the error is permanent, the row is marked failed with its
reason and the message is not retried again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import dramatiq
from dramatiq import Actor

from config.settings import StepRetries
from router.errors import PermanentError
from workers.runtime.batch_step import per_message
from workers.runtime.config_follow import ConfigPin
from workers.runtime.context import Runtime
from workers.runtime.inbox_attempts import InboxAttempts
from workers.runtime.queues import ROUTE, SLA, ingest_queue, outbound_queue
from workers.runtime.simulation_actor import declare_simulation_actor
from workers.runtime.webhook_actor import declare_webhook_actor
from workers.steps.deliver import DeliverBatch
from workers.steps.drain import drain_backlog
from workers.steps.ingest_batch import IngestBatch
from workers.steps.route import RouteBatch
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


def declare_actors(runtime: Runtime) -> None:
    retries = runtime.settings.retries
    runtime.broker.add_middleware(ConfigPin(runtime))
    attempts = InboxAttempts(runtime)
    runtime.broker.add_middleware(attempts)
    for channel in runtime.channels.inbound():
        name = f"ingest_{channel.value}"
        attempts.watch(name, channel)
        ingest = per_message(partial(IngestBatch, runtime, channel, attempts))
        runtime.ingest_actors[channel] = _declare(
            runtime, ingest, name, ingest_queue(channel), retries.ingest
        )
    route = per_message(partial(RouteBatch, runtime))
    runtime.route_actor = _declare(runtime, route, "route_ticket", ROUTE, retries.route)

    def drain_team(team_id: int, avoid: list[list[int]] | None = None) -> None:
        drain_backlog(runtime, team_id, avoid={t: a for t, a in avoid or ()})

    runtime.drain_actor = _declare(runtime, drain_team, "drain_backlog", ROUTE, retries.route)

    def fire_sla(ticket_ids: list[int], handed_at: str | None = None) -> None:
        sweep_sla(
            runtime,
            limit=max(len(ticket_ids) * 3, 1),
            ticket_ids=ticket_ids,
            handed_at=datetime.fromisoformat(handed_at) if handed_at else None,
        )

    runtime.sla_actor = _declare(runtime, fire_sla, "fire_sla", SLA, retries.route)
    deliver = per_message(partial(DeliverBatch, runtime))
    for out in runtime.channels.outbound():
        runtime.deliver_actors[out] = _declare(
            runtime, deliver, f"deliver_{out.value}", outbound_queue(out), retries.deliver
        )
    declare_webhook_actor(runtime)
    declare_simulation_actor(runtime)
    runtime.list_actors.update(
        actor.actor_name
        for actor in (
            *runtime.ingest_actors.values(),
            runtime.route_actor,
            *runtime.deliver_actors.values(),
        )
    )


__all__ = ["declare_actors"]
