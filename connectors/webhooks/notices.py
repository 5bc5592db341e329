"""What an admin is told when a webhook subscription is paused, in the admin's language."""

from __future__ import annotations

from router.catalogs import Catalog
from router.notice_texts import Rendered

CATALOG = Catalog.beside(__file__)


def paused_notice(
    *, webhook_id: int, url: str, reason: str, helpdesk_name: str, language: str
) -> Rendered:
    """The mail (or chat message) telling an admin that deliveries to ``url`` stopped."""
    _ = CATALOG.texts(language).gettext
    subject = _("%(helpdesk)s: webhook %(id)s paused", helpdesk=helpdesk_name, id=webhook_id)
    body = "\n\n".join(
        (
            _(
                "Deliveries to webhook %(id)s (%(url)s) kept failing, so it was paused.",
                id=webhook_id,
                url=url,
            ),
            _("Last failure: %(reason)s", reason=reason),
            _(
                "Events are still recorded for it. Once the receiver works again, run "
                "`relaydesk webhooks resume %(id)s`: what waited is sent then; "
                "`relaydesk webhooks deliveries %(id)s` shows what failed, and "
                "`relaydesk webhooks redeliver DELIVERY` sends one again.",
                id=webhook_id,
            ),
        )
    )
    return Rendered(subject=subject, body_text=body, language=language)
