"""Hand webhook deliveries to their actor (``workers.runtime.webhook_actor`` declares it)."""

from __future__ import annotations

import logging

from workers.runtime.context import Runtime

log = logging.getLogger(__name__)

ACTOR = "deliver_webhook"


def enqueue_webhooks(runtime: Runtime, delivery_ids: list[int]) -> None:
    """Send each delivery to the actor (after the commit that wrote it); one that cannot
    be sent is the scheduler's to re-drive."""
    if not delivery_ids:
        return
    try:
        actor = runtime.broker.get_actor(ACTOR)
    except Exception:  # no actor in this process: the scheduler re-drives the rows
        return
    for delivery_id in delivery_ids:
        try:
            actor.send(delivery_id)
        except Exception:
            log.warning("could not enqueue webhook delivery %s; the scheduler will", delivery_id)
