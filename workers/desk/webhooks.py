"""Webhook subscriptions, what admins do with them (CLI and staff API alike): add, list,
test, read deliveries, redeliver, pause, resume, remove. Each change is audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from connectors.webhooks.sender import ReceiverRefused, check_receiver
from connectors.webhooks.signing import check_secret, new_secret
from router.audit_origin import ActorRef
from router.errors import NotFound, TransientError
from router.vocabulary import AuditAction, RowState, SystemActor
from router.webhook_events import TEST_EVENT, parse_events
from router.webhook_views import DeliveryView, NewWebhook, WebhookView
from store.db import UnitOfWork
from store.models.webhooks import WebhookSubscription
from store.webhook_capture import add_event
from workers.desk.webhook_notices import tell_admins_paused
from workers.runtime.context import Runtime
from workers.runtime.webhook_queue import enqueue_webhooks

MAX_DESCRIPTION_CHARS = 200


def view_of(subscription: WebhookSubscription) -> WebhookView:
    return WebhookView(
        id=subscription.id,
        url=subscription.url,
        events=tuple(subscription.events),
        description=subscription.description,
        active=subscription.active,
        paused_reason=subscription.paused_reason,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
        created_by=subscription.created_by,
    )


def check_url(runtime: Runtime, url: str) -> str:
    """``url`` if webhooks may go there now (``ValueError`` says why not): http(s), and a
    host that resolves to addresses outside the desk's network, unless config allows."""
    url = url.strip()
    try:
        check_receiver(url, runtime.settings.webhooks)
    except (ReceiverRefused, TransientError) as exc:
        raise ValueError(str(exc)) from None
    return url


def add_webhook(
    runtime: Runtime,
    url: str,
    events: Sequence[str],
    *,
    secret: str | None = None,
    description: str = "",
    actor: ActorRef = SystemActor.CLI,
) -> NewWebhook:
    """Subscribe ``url`` to ``events``, signed with ``secret`` (made here when None);
    ``ValueError`` for a URL, an event or a secret that cannot be."""
    wanted = parse_events(events)
    url = check_url(runtime, url)
    secret = check_secret(secret) if secret else new_secret()
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise ValueError(f"the description is longer than {MAX_DESCRIPTION_CHARS} characters")
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        subscription = uow.webhooks.add(
            url=url,
            events=[e.value for e in wanted],
            secret=secret,
            description=description,
            created_by=str(actor),
            now=now,
        )
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.WEBHOOK_ADDED,
            detail=f"webhook {subscription.id}: {url} for {', '.join(e.value for e in wanted)}",
            now=now,
            data={"webhook_id": subscription.id},
        )
        return NewWebhook(webhook=view_of(subscription), secret=secret)


def list_webhooks(runtime: Runtime) -> list[WebhookView]:
    with runtime.db.unit_of_work() as uow:
        return [view_of(s) for s in uow.webhooks.all()]


def _subscription(uow: UnitOfWork, webhook_id: int, *, lock: bool = False) -> WebhookSubscription:
    subscription = uow.webhooks.get(webhook_id, lock=lock)
    if subscription is None:
        raise NotFound(f"no webhook {webhook_id}")
    return subscription


def get_webhook(runtime: Runtime, webhook_id: int) -> WebhookView:
    with runtime.db.unit_of_work() as uow:
        return view_of(_subscription(uow, webhook_id))


def send_test_event(
    runtime: Runtime, webhook_id: int, *, actor: ActorRef = SystemActor.CLI
) -> DeliveryView:
    """Send a ``webhook.test`` event to this subscription only (paused or not: a paused one
    keeps it until resumed); its delivery."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        subscription = _subscription(uow, webhook_id)
        [delivery_id] = add_event(
            uow.session,
            TEST_EVENT,
            ticket_id=None,
            data={"webhook_id": subscription.id, "requested_by": str(actor)},
            now=now,
            subscription_ids=[subscription.id],
            redrive_after=runtime.redrive_after,
        )
        uow.after_commit(lambda: enqueue_webhooks(runtime, [delivery_id]))
    return _delivery(runtime, delivery_id)


def deliveries(
    runtime: Runtime, webhook_id: int, *, states: Sequence[RowState] = (), limit: int = 50
) -> list[DeliveryView]:
    """A subscription's deliveries, newest first."""
    with runtime.db.unit_of_work() as uow:
        _subscription(uow, webhook_id)
        return uow.webhook_deliveries.recent(webhook_id=webhook_id, states=states, limit=limit)


def _delivery(runtime: Runtime, delivery_id: int) -> DeliveryView:
    with runtime.db.unit_of_work() as uow:
        found = uow.webhook_deliveries.get(delivery_id)
    if found is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    return found


def redeliver(
    runtime: Runtime,
    delivery_id: int,
    *,
    webhook_id: int | None = None,
    actor: ActorRef = SystemActor.CLI,
) -> DeliveryView:
    """Send a delivery that was done or failed again, with the same webhook-id and body
    (a receiver that has it drops it); ``ValueError`` while it is still under way."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        found = uow.webhook_deliveries.get(delivery_id)
        if found is None or webhook_id not in (None, found.webhook_id):
            raise NotFound(f"no webhook delivery {delivery_id}")
        if not uow.webhook_deliveries.redeliver(
            delivery_id, now=now, redrive_after=runtime.redrive_after
        ):
            raise ValueError(f"delivery {delivery_id} is still {found.state}: it is under way")
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.WEBHOOK_REDELIVERED,
            detail=f"delivery {delivery_id} ({found.event_type}) of webhook {found.webhook_id}",
            now=now,
            data={"webhook_id": found.webhook_id, "delivery_id": delivery_id},
        )
        uow.after_commit(lambda: enqueue_webhooks(runtime, [delivery_id]))
    return _delivery(runtime, delivery_id)


def pause_webhook(
    runtime: Runtime, webhook_id: int, *, reason: str = "", actor: ActorRef = SystemActor.CLI
) -> WebhookView:
    """Stop delivering (events are still recorded for it, and wait)."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        subscription = _subscription(uow, webhook_id, lock=True)
        if subscription.active:
            why = f"paused by {actor}" + (f": {reason}" if reason else "")
            uow.webhooks.set_active(subscription, False, reason=why, now=now)
            _audit(uow, actor, AuditAction.WEBHOOK_PAUSED, subscription, why, now)
        return view_of(subscription)


def resume_webhook(
    runtime: Runtime, webhook_id: int, *, actor: ActorRef = SystemActor.CLI
) -> WebhookView:
    """Deliver again: what waited while paused goes now, oldest first."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        subscription = _subscription(uow, webhook_id, lock=True)
        if not subscription.active:
            uow.webhooks.set_active(subscription, True, reason=None, now=now)
            waiting = uow.webhook_deliveries.pending_of(subscription.id, now=now)
            _audit(
                uow,
                actor,
                AuditAction.WEBHOOK_RESUMED,
                subscription,
                f"{len(waiting)} waiting",
                now,
            )
            uow.after_commit(lambda: enqueue_webhooks(runtime, waiting))
        return view_of(subscription)


def remove_webhook(runtime: Runtime, webhook_id: int, *, actor: ActorRef = SystemActor.CLI) -> None:
    """Delete a subscription and its deliveries."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        subscription = _subscription(uow, webhook_id, lock=True)
        _audit(uow, actor, AuditAction.WEBHOOK_REMOVED, subscription, subscription.url, now)
        uow.webhooks.remove(subscription.id)


def pause_failing(runtime: Runtime, uow: UnitOfWork, webhook_id: int, reason: str) -> bool:
    """A delivery ran out of attempts: pause its subscription and tell the admins, in the
    caller's transaction; False when it was paused (or removed) already."""
    subscription = uow.webhooks.get(webhook_id, lock=True)
    if subscription is None or not subscription.active:
        return False
    now = runtime.now()
    uow.webhooks.set_active(subscription, False, reason=reason, now=now)
    _audit(uow, SystemActor.WEBHOOKS, AuditAction.WEBHOOK_PAUSED, subscription, reason, now)
    tell_admins_paused(runtime, uow, subscription, reason)
    return True


def _audit(
    uow: UnitOfWork,
    actor: ActorRef,
    action: AuditAction,
    subscription: WebhookSubscription,
    detail: str,
    now: datetime,
) -> None:
    uow.audit.record(
        ticket_id=None,
        actor=actor,
        action=action,
        detail=f"webhook {subscription.id}: {detail}"[:2000],
        now=now,
        data={"webhook_id": subscription.id},
    )
