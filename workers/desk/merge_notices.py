"""What a merge tells the requester of the merged ticket, on the channel that answers
them: that their request goes on in the other one (``workers.desk.merges``)."""

from __future__ import annotations

from connectors.web.requester.notices import merged_chat, merged_mail
from router.requester_view import ticket_link
from router.thread_keys import answer_threading
from router.vocabulary import OutboxKind
from store.db import UnitOfWork
from store.models import Ticket
from workers.desk.languages import customer_language
from workers.desk.outgoing import queue_chat, queue_email
from workers.runtime.context import Runtime


def merged_in_chat(runtime: Runtime, uow: UnitOfWork, source: Ticket, target: Ticket) -> None:
    """In the chat the requester wrote in (a message there joins the target from now on)."""
    settings = runtime.settings
    if not settings.telegram.enabled:
        return
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.MERGED,
        ticket_id=target.id,
        chat_id=source.requester_address,
        html=merged_chat(
            number=source.id,
            into=target.id,
            language=customer_language(runtime, source.requester),
            tag_prefix=settings.helpdesk.tag_prefix,
        ),
        text="",
        dedupe_key=f"merged:{source.id}",
        automatic=True,
    )


def merged_by_email(runtime: Runtime, uow: UnitOfWork, source: Ticket, target: Ticket) -> None:
    """By mail, answering the source's thread, under the target's tag and with the
    target's link: an answer to it joins the target."""
    settings = runtime.settings
    rendered = merged_mail(
        number=source.id,
        into=target.id,
        subject=target.subject,
        requester_name=source.requester.name,
        link=ticket_link(settings.web.link_base(), target.id, target.access_key),
        helpdesk_name=settings.helpdesk.name,
        language=customer_language(runtime, source.requester),
        tag_prefix=settings.helpdesk.tag_prefix,
    )
    parent, references = answer_threading(*uow.messages.conversation(source.id))
    queue_email(
        runtime,
        uow,
        kind=OutboxKind.MERGED,
        ticket_id=target.id,
        recipient=source.requester_address,
        recipient_name=source.requester.name,
        rendered=rendered,
        dedupe_key=f"merged:{source.id}",
        automatic=True,
        in_reply_to=parent,
        references=references,
        from_address=source.reply_address,
    )
