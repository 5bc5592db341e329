"""A requester signs in to "my requests" with a one-time link by mail (no password), and
sees all their tickets, newest first, on every channel."""

from __future__ import annotations

import secrets
from datetime import timedelta

from connectors.web.requester.notices import sign_in_mail
from router.ticket_views import TicketView
from router.vocabulary import OutboxKind
from store.tickets import view_of
from workers.desk.outgoing import queue_email
from workers.runtime.context import Runtime

LINK_TTL = timedelta(minutes=30)
SESSION_TTL = timedelta(days=7)


def send_sign_in_link(runtime: Runtime, address: str, *, link_base: str, language: str) -> None:
    """Mail a one-time link to ``address`` when a requester is known by it (nothing
    otherwise, and nothing says which: the page answers the same)."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        customer_id = uow.requester_access.customer_with_email(address)
        if customer_id is None:
            return
        secret = secrets.token_urlsafe(24)
        uow.requester_access.add(customer_id, "link", secret, now=now, expires_at=now + LINK_TTL)
        queue_email(
            runtime,
            uow,
            kind=OutboxKind.SIGN_IN_LINK,
            ticket_id=None,
            recipient=address.strip().lower(),
            recipient_name="",
            rendered=sign_in_mail(
                link=f"{link_base}/my-requests/sign-in/{secret}",
                minutes=int(LINK_TTL.total_seconds() // 60),
                helpdesk_name=runtime.settings.helpdesk.name,
                language=language,
            ),
            dedupe_key=None,
            automatic=True,
        )


def sign_in(runtime: Runtime, link_secret: str) -> str | None:
    """A session's secret for a link's first use; None for a used, expired or unknown one."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        customer_id = uow.requester_access.use_link(link_secret, now)
        if customer_id is None:
            return None
        session = secrets.token_urlsafe(32)
        uow.requester_access.add(
            customer_id, "session", session, now=now, expires_at=now + SESSION_TTL
        )
        return session


def my_tickets(runtime: Runtime, session_secret: str) -> list[TicketView] | None:
    """The session's requester's tickets, newest first; None: not signed in."""
    with runtime.db.unit_of_work() as uow:
        customer_id = uow.requester_access.session_customer(session_secret, runtime.now())
        if customer_id is None:
            return None
        return [view_of(t) for t in uow.requester_access.tickets_of(customer_id)]


def requester_language(runtime: Runtime, secret: str) -> str | None:
    """The language kept for the requester of a session or of a sign-in link not used yet;
    None when not known (the link is not used up by asking)."""
    with runtime.db.unit_of_work() as uow:
        return uow.requester_access.language_of(secret, runtime.now())
