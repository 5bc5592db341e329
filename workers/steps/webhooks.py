"""Deliver webhooks: one attempt per delivery, the row keeps the retries.

A delivery is claimed (with a lease), sent, and marked delivered on a 2xx; on
anything else (an error status, a redirect, a timeout, a refused address) it
waits for its next time on ``webhooks.retry_schedule_s`` and the scheduler's
sweep (``redrive_webhooks``) sends it then: waits of hours live in the store,
not in the broker. Out of attempts, it has failed, and its subscription is
paused and the admins told.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from connectors.webhooks.sender import WebhookRequest, WebhookSender
from router.errors import PermanentError, TransientError
from router.vocabulary import RowState
from router.webhook_events import webhook_body
from router.webhook_policy import answer_problem, delivered, next_attempt
from store.webhook_deliveries import ClaimedDelivery
from workers.desk.webhooks import pause_failing
from workers.runtime.context import Runtime
from workers.runtime.webhook_queue import enqueue_webhooks

log = logging.getLogger(__name__)


def deliver_webhook(runtime: Runtime, sender: WebhookSender, delivery_id: int) -> RowState | None:
    """One attempt at a delivery; its new state, or None when there was nothing to do
    (done already, another attempt holds it, not yet its time, or its subscription is
    paused)."""
    with runtime.db.unit_of_work() as uow:
        claimed = uow.webhook_deliveries.claim(
            delivery_id, now=runtime.now(), lease=runtime.send_lease
        )
    if claimed is None:
        return None
    if claimed.attempts > len(runtime.settings.webhooks.retry_schedule_s) + 1:
        return _failed(runtime, claimed, "gave up: earlier attempts never finished", None)
    request = WebhookRequest(
        url=claimed.url,
        message_id=claimed.message_id,
        timestamp=runtime.now(),
        body=webhook_body(
            claimed.type,
            occurred_at=claimed.occurred_at,
            sequence=claimed.sequence,
            data=claimed.data,
        ),
        secret=claimed.secret,
    )
    try:
        answer = sender.send(request)
    except (TransientError, PermanentError) as exc:
        return _failed(runtime, claimed, str(exc), None)
    if not delivered(answer.status):
        return _failed(
            runtime, claimed, answer_problem(answer.status, answer.location), answer.status
        )
    with runtime.db.unit_of_work() as uow:
        uow.webhook_deliveries.mark_delivered(claimed.id, status=answer.status, now=runtime.now())
    return RowState.DONE


def _failed(runtime: Runtime, claimed: ClaimedDelivery, error: str, status: int | None) -> RowState:
    now = runtime.now()
    schedule = runtime.settings.webhooks.retry_schedule_s
    retry_at = next_attempt(claimed.attempts, schedule, now)
    with runtime.db.unit_of_work() as uow:
        state = uow.webhook_deliveries.mark_failed_attempt(
            claimed.id, error=error, status=status, retry_at=retry_at, now=now
        )
        if state is RowState.FAILED:
            pause_failing(
                runtime,
                uow,
                claimed.webhook_id,
                f"delivery {claimed.id} ({claimed.type}) failed {claimed.attempts} times; "
                f"the last: {error}",
            )
    log.warning(
        "webhook delivery %s (attempt %s) to %s failed (%s): %s",
        claimed.id,
        claimed.attempts,
        claimed.url,
        state.value,
        error,
    )
    return state


def redrive_webhooks(runtime: Runtime, *, limit: int) -> int:
    """The scheduler's part: deliveries whose retry time came (or whose message was lost)
    are sent again; how many."""
    again = runtime.redrive_after or runtime.send_lease
    with runtime.db.unit_of_work() as uow:
        due = uow.webhook_deliveries.due_for_redrive(
            now=runtime.now(), again_after=again, limit=limit
        )
    enqueue_webhooks(runtime, due)
    return len(due)


def prune_webhooks(runtime: Runtime, *, limit: int = 1000) -> int:
    """Forget events older than ``webhooks.keep_days`` and their deliveries (the scheduler
    does it now and then); how many events."""
    before = runtime.now() - timedelta(days=runtime.settings.webhooks.keep_days)
    with runtime.db.unit_of_work() as uow:
        pruned = uow.webhook_deliveries.prune(before=before, limit=limit)
    if pruned:
        log.info("forgot %d webhook events older than %s", pruned, before.isoformat())
    return pruned
