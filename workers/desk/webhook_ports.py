"""``connectors.ports.WebhookAdmin`` over the webhook use cases (part of ``StaffPorts``)."""

from __future__ import annotations

from router.staff_views import Caller
from router.vocabulary import RowState
from router.webhook_views import DeliveryView, NewWebhook, WebhookView
from store.errors import store_errors
from workers.desk import webhooks
from workers.runtime.context import Runtime


class WebhookPorts:
    """Implements ``connectors.ports.WebhookAdmin``; an outage of the store is a
    ``TransientError`` (503)."""

    runtime: Runtime

    def add_webhook(
        self, caller: Caller, *, url: str, events: list[str], secret: str | None, description: str
    ) -> NewWebhook:
        with store_errors("add webhook"):
            return webhooks.add_webhook(
                self.runtime,
                url,
                events,
                secret=secret,
                description=description,
                actor=caller.origin,
            )

    def webhooks(self) -> list[WebhookView]:
        with store_errors("list webhooks"):
            return webhooks.list_webhooks(self.runtime)

    def webhook(self, webhook_id: int) -> WebhookView:
        with store_errors("read webhook"):
            return webhooks.get_webhook(self.runtime, webhook_id)

    def pause_webhook(self, caller: Caller, webhook_id: int, reason: str) -> WebhookView:
        with store_errors("pause webhook"):
            return webhooks.pause_webhook(
                self.runtime, webhook_id, reason=reason, actor=caller.origin
            )

    def resume_webhook(self, caller: Caller, webhook_id: int) -> WebhookView:
        with store_errors("resume webhook"):
            return webhooks.resume_webhook(self.runtime, webhook_id, actor=caller.origin)

    def remove_webhook(self, caller: Caller, webhook_id: int) -> None:
        with store_errors("remove webhook"):
            webhooks.remove_webhook(self.runtime, webhook_id, actor=caller.origin)

    def send_test_event(self, caller: Caller, webhook_id: int) -> DeliveryView:
        with store_errors("test webhook"):
            return webhooks.send_test_event(self.runtime, webhook_id, actor=caller.origin)

    def webhook_deliveries(
        self, webhook_id: int, *, states: list[RowState], limit: int
    ) -> list[DeliveryView]:
        with store_errors("list webhook deliveries"):
            return webhooks.deliveries(self.runtime, webhook_id, states=states, limit=limit)

    def redeliver(self, caller: Caller, webhook_id: int, delivery_id: int) -> DeliveryView:
        with store_errors("redeliver webhook"):
            return webhooks.redeliver(
                self.runtime, delivery_id, webhook_id=webhook_id, actor=caller.origin
            )
