"""Tell the admins that a webhook subscription was paused: by Telegram when linked, else by
email, through the outbox (in the transaction that paused it), in each admin's language."""

from __future__ import annotations

import html

from connectors.webhooks.notices import paused_notice
from router.language_choice import language_of
from router.vocabulary import OutboxKind
from store.db import UnitOfWork
from store.models.webhooks import WebhookSubscription
from workers.desk.outgoing import queue_chat, queue_email
from workers.runtime.context import Runtime

KIND = OutboxKind.WEBHOOK_PAUSED


def tell_admins_paused(
    runtime: Runtime, uow: UnitOfWork, subscription: WebhookSubscription, reason: str
) -> int:
    """Queue the notice to every admin; how many were told."""
    settings = runtime.settings
    languages = {a.name: a.language for a in settings.agents}
    told = 0
    for admin in uow.webhooks.admins():
        language = language_of(languages.get(admin.name) or settings.helpdesk.language) or "en"
        rendered = paused_notice(
            webhook_id=subscription.id,
            url=subscription.url,
            reason=reason[:500],
            helpdesk_name=settings.helpdesk.name,
            language=language,
        )
        key = f"{KIND}:{subscription.id}:{subscription.updated_at.isoformat()}:{admin.id}"
        if settings.telegram.enabled and admin.telegram_chat_id:
            queue_chat(
                runtime,
                uow,
                kind=KIND,
                ticket_id=None,
                chat_id=admin.telegram_chat_id,
                html=f"<b>{html.escape(rendered.subject)}</b>\n\n{html.escape(rendered.body_text)}",
                text=f"{rendered.subject}\n\n{rendered.body_text}",
                dedupe_key=key,
                agent_id=admin.id,
                subject=rendered.subject,
            )
        else:
            queue_email(
                runtime,
                uow,
                kind=KIND,
                ticket_id=None,
                recipient=admin.email,
                recipient_name=admin.display_name or admin.name,
                rendered=rendered,
                dedupe_key=key,
                automatic=False,
                agent_id=admin.id,
            )
        told += 1
    return told
