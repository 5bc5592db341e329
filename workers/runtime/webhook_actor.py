"""The webhook actor on its own queue, ``outbound.webhook``, and how deliveries reach it.

A thin adapter: the delivery row keeps the attempts and the schedule (hours
long), so the actor itself never retries; a message lost or failed is the
scheduler's to re-drive. Declaring it also tells the process's store where new
deliveries go once their transaction commits (``Database.webhook_outlet``).
"""

from __future__ import annotations

import logging
import threading

import dramatiq

from connectors.webhooks.sender import WebhookSender
from store.webhook_capture import WebhookOutlet
from workers.runtime.context import Runtime
from workers.runtime.queues import WEBHOOKS
from workers.runtime.webhook_queue import ACTOR, enqueue_webhooks
from workers.steps.webhooks import deliver_webhook

log = logging.getLogger(__name__)


def declare_webhook_actor(runtime: Runtime) -> None:
    senders: list[WebhookSender] = []
    lock = threading.Lock()

    def sender() -> WebhookSender:
        with lock:
            if not senders:
                senders.append(WebhookSender(runtime.settings.webhooks))
            return senders[0]

    def deliver(delivery_id: int) -> None:
        deliver_webhook(runtime, sender(), delivery_id)

    timeouts = runtime.settings.webhooks
    declare = dramatiq.actor(
        actor_name=ACTOR,
        queue_name=WEBHOOKS,
        broker=runtime.broker,
        max_retries=0,
        # a name lookup, a connection and an answer, with room to record the outcome
        time_limit=int((timeouts.connect_timeout_s + timeouts.timeout_s) * 1000) + 30_000,
    )
    declare(deliver)
    runtime.db.webhook_outlet = WebhookOutlet(
        enqueue=lambda ids: enqueue_webhooks(runtime, ids),
        redrive_after=lambda: runtime.redrive_after,
        link_base=runtime.settings.web.link_base,
    )
