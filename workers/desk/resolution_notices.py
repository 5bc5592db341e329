"""What a resolution changes: the requester is told (in their chat, or by mail) and asked
how the help was, and the agents' notices about the ticket lose the buttons that no
longer apply."""

from __future__ import annotations

from connectors.telegram.customer_texts import chat_resolved
from connectors.telegram.notices import has_actions, retired_notice
from connectors.web.requester.notices import rating_buttons, resolved_mail
from router.requester_view import ticket_link
from router.thread_keys import answer_threading
from router.vocabulary import Channel, ChatAction, OutboxKind, Status
from router.vocabulary_texts import status_word
from store.db import UnitOfWork
from store.models import Ticket
from workers.desk.languages import agent_language, customer_language
from workers.desk.outgoing import queue_chat, queue_email
from workers.runtime.context import Runtime


def after_resolution(runtime: Runtime, uow: UnitOfWork, ticket: Ticket, status: Status) -> None:
    """``ticket`` was just resolved or closed (in this transaction): the requester is told
    on the channel that answers them, with the rating question (``requester.ratings``),
    and each channel says so where it has more to say."""
    if status is Status.RESOLVED and runtime.settings.requester.resolved_notice:
        answering = runtime.channels.answering(Channel(ticket.channel))
        answering.tell_resolved(runtime, uow, ticket)
    for adapter in runtime.channels:
        adapter.after_resolution(runtime, uow, ticket, status)


def resolved_in_chat(runtime: Runtime, uow: UnitOfWork, ticket: Ticket) -> None:
    """The requester hears it in the chat they wrote in, with the rating buttons."""
    settings = runtime.settings
    if not settings.telegram.enabled:
        return
    ask = settings.requester.ratings
    language = customer_language(runtime, ticket.requester)
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.RESOLVED,
        ticket_id=ticket.id,
        chat_id=ticket.requester_address,
        html=chat_resolved(
            number=ticket.id, language=language, tag_prefix=settings.helpdesk.tag_prefix
        ),
        text="",
        buttons=(rating_buttons(ticket.id, language),) if ask else (),
        dedupe_key=None,
        automatic=True,
    )


def resolved_by_email(runtime: Runtime, uow: UnitOfWork, ticket: Ticket) -> None:
    """The requester hears it by mail in the ticket's thread, with the rating links."""
    settings = runtime.settings
    ask = settings.requester.ratings
    language = customer_language(runtime, ticket.requester)
    link = ticket_link(settings.web.link_base(), ticket.id, ticket.access_key)
    rendered = resolved_mail(
        number=ticket.id,
        subject=ticket.subject,
        requester_name=ticket.requester.name,
        link=link,
        ask_rating=ask,
        helpdesk_name=settings.helpdesk.name,
        language=language,
        tag_prefix=settings.helpdesk.tag_prefix,
    )
    parent, references = answer_threading(*uow.messages.conversation(ticket.id))
    queue_email(
        runtime,
        uow,
        kind=OutboxKind.RESOLVED,
        ticket_id=ticket.id,
        recipient=ticket.requester_address,
        recipient_name=ticket.requester.name,
        rendered=rendered,
        dedupe_key=None,
        automatic=True,
        in_reply_to=parent,
        references=references,
        from_address=ticket.reply_address,
    )


def retire_buttons(runtime: Runtime, uow: UnitOfWork, ticket_id: int, status: Status) -> None:
    """Edit every notice about the ticket that still offers actions: say what happened
    (``status``, in the words of the agent whose chat it is) and keep only its links. (A
    button pressed on one of them edits it once more, to offer what comes next.) The
    requester's rating buttons stay: a rating may be given for a week."""
    for chat_id, message_id, payload in uow.chats.notices_about(ticket_id):
        buttons = payload.get("buttons") or []
        if payload.get("chat_action", ChatAction.SEND) != ChatAction.SEND or not has_actions(
            buttons
        ):
            continue
        if _asks_rating(buttons):
            continue
        agent = uow.agents.by_telegram_user(chat_id)  # a private chat's id is its user's
        language = agent_language(runtime, agent) if agent else runtime.settings.helpdesk.language
        word = status_word(status.value, language)
        done = word[:1].upper() + word[1:]
        notice = retired_notice(str(payload.get("body_html") or ""), buttons, done)
        queue_chat(
            runtime,
            uow,
            kind=OutboxKind.NOTICE_UPDATE,
            ticket_id=ticket_id,
            chat_id=chat_id,
            html=notice.html,
            text="",
            buttons=notice.buttons_payload(),
            dedupe_key=None,
            automatic=True,
            action=ChatAction.EDIT,
            target_id=str(message_id),
        )


def _asks_rating(buttons: list[list[dict[str, str]]]) -> bool:
    return any(
        str(b.get("callback_data", "")).startswith(("rd:good:", "rd:bad:"))
        for row in buttons
        for b in row
    )
