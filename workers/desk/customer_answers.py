"""An agent's public answer, queued to a ticket's requester on the channel that answers them,
or passed on to another address of theirs when it could not be delivered: what the
registry's ``answer_customer`` and ``pass_answer_on`` of email and of Telegram do."""

from __future__ import annotations

from connectors.telegram.chat_text import escape_html
from connectors.telegram.notices import chat_agent_reply, chat_agent_reply_text
from router.envelopes import AttachmentRef
from router.notice_texts import Rendered, agent_reply, reply_subject
from router.thread_keys import answer_threading
from router.vocabulary import ChatAction, OutboxKind
from store.db import UnitOfWork
from store.models import Ticket
from workers.desk.languages import customer_language
from workers.desk.outgoing import queue_chat, queue_email
from workers.runtime.context import Runtime


def answer_by_email(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: Ticket,
    text: str,
    *,
    agent_name: str,
    message_id: str,
    dedupe_key: str | None,
    confirm_chat_id: str | None,
    files: tuple[AttachmentRef, ...] = (),
) -> str:
    """The answer as a mail in the ticket's thread, from the address the requester wrote to,
    with ``files`` attached; the text sent."""
    name = agent_name
    rendered = agent_reply(
        number=ticket.id,
        subject=ticket.subject,
        text=text,
        agent_name=name,
        helpdesk_name=runtime.settings.helpdesk.name,
        language=customer_language(runtime, ticket.requester),
        tag_prefix=runtime.settings.helpdesk.tag_prefix,
    )
    body = rendered.body_text
    parent, references = answer_threading(*uow.messages.conversation(ticket.id))
    queue_email(
        runtime,
        uow,
        kind=OutboxKind.REPLY,
        ticket_id=ticket.id,
        recipient=ticket.requester_address,
        recipient_name=ticket.requester.name,
        rendered=rendered,
        dedupe_key=dedupe_key,
        automatic=False,
        in_reply_to=parent,
        references=references,
        message_id=message_id,
        from_address=ticket.reply_address,
        confirm_chat_id=confirm_chat_id,
        attachments=files,
    )
    return body


def answer_in_chat(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: Ticket,
    text: str,
    *,
    agent_name: str,
    message_id: str,
    dedupe_key: str | None,
    confirm_chat_id: str | None,
    files: tuple[AttachmentRef, ...] = (),
) -> str:
    """The answer in the chat the customer wrote in, then each of ``files`` as a document;
    the text sent."""
    name = agent_name
    tag_prefix = runtime.settings.helpdesk.tag_prefix
    body = chat_agent_reply_text(
        text=text, agent_name=name, number=ticket.id, tag_prefix=tag_prefix
    )
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.REPLY,
        ticket_id=ticket.id,
        chat_id=ticket.requester_address,
        html=chat_agent_reply(text=text, agent_name=name, number=ticket.id, tag_prefix=tag_prefix),
        text=body,
        dedupe_key=dedupe_key,
        recipient_name=ticket.requester.name,
        message_id=message_id,
        confirm_chat_id=confirm_chat_id,
    )
    for index, ref in enumerate(files):  # each file a document of its own, after the text
        queue_chat(
            runtime,
            uow,
            kind=OutboxKind.REPLY_FILE,
            ticket_id=ticket.id,
            chat_id=ticket.requester_address,
            html="",
            text="",
            dedupe_key=f"{dedupe_key}:file:{index}"[:255] if dedupe_key else None,
            recipient_name=ticket.requester.name,
            action=ChatAction.DOCUMENT,
            attachments=(ref,),
        )
    return body


def pass_on_by_email(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: Ticket,
    address: str,
    text: str,
    *,
    dedupe_key: str,
    confirm_chat_id: str | None,
) -> None:
    tag_prefix = runtime.settings.helpdesk.tag_prefix
    language = customer_language(runtime, ticket.requester)
    queue_email(
        runtime,
        uow,
        kind=OutboxKind.REPLY,
        ticket_id=ticket.id,
        recipient=address,
        recipient_name=ticket.requester.name,
        rendered=Rendered(
            reply_subject(ticket.subject, ticket.id, language, tag_prefix), text, language
        ),
        dedupe_key=dedupe_key,
        automatic=False,
        from_address=ticket.reply_address,
        confirm_chat_id=confirm_chat_id,
    )


def pass_on_in_chat(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: Ticket,
    address: str,
    text: str,
    *,
    dedupe_key: str,
    confirm_chat_id: str | None,
) -> None:
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.REPLY,
        ticket_id=ticket.id,
        chat_id=address,
        html=escape_html(text),
        text=text,
        dedupe_key=dedupe_key,
        recipient_name=ticket.requester.name,
        confirm_chat_id=confirm_chat_id,
    )
