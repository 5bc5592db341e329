"""What a linked agent does from the chat: answer or note a ticket, ``/status``, ``/mine``,
and the inline buttons Claim, Resolve, Pending (each as the command line does it)."""

from __future__ import annotations

import logging

from connectors.telegram.bot_replies import (
    agent_status_changed_html,
    agent_status_html,
    answer_recorded_html,
    button_done,
    button_for_agents_only,
    button_not_ours,
    files_not_sent_html,
    name_the_ticket,
    not_done,
    not_yours,
    say_status_how,
)
from connectors.telegram.chat_text import escape_html, trim
from connectors.telegram.commands import (
    RATING_ACTIONS,
    Command,
    parse_button,
    parse_ticket_ref,
)
from connectors.telegram.notices import (
    agent_help,
    agent_ticket_list,
    next_buttons,
)
from connectors.telegram.updates import ChatUpdate
from router.errors import NotFound, PermanentError, TransientError
from router.lifecycle import ACTIVE_STATUSES
from router.vocabulary import AgentStatus, ChatAction, OutboxKind, RowState, Status
from store.chats import SentRef
from store.db import UnitOfWork
from store.models import Agent, Ticket
from workers.desk.agents import change_agent_status
from workers.desk.assignments import claim_in
from workers.desk.outgoing import queue_chat
from workers.desk.replies import post_answer
from workers.desk.ticket_status import change_ticket_status
from workers.runtime.context import Runtime
from workers.steps.ingest_telegram_answers import finish_update, say
from workers.steps.ingest_telegram_ratings import rate_from_chat

log = logging.getLogger(__name__)


_RECORDING_GRACE_S = 120  # how long a just-sent bot message may wait to be recorded


_STATUS_OF = {"resolve": Status.RESOLVED, "pending": Status.PENDING, "reopen": Status.OPEN}


# -- agents -----------------------------------------------------------------
def agent_message(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    update: ChatUpdate,
    agent: Agent,
    command: Command | None,
    language: str,
) -> None:
    answer: str | None
    ticket_id = None
    try:
        if command is not None and command.name == "status":
            answer = _agent_status(runtime, uow, agent, command.args, language)
        elif command is not None and command.name == "mine":
            answer = _mine(runtime, uow, agent, language)
        elif command is not None and command.name in ("note", "reply"):
            ticket_id, answer = _answer(
                runtime,
                uow,
                update,
                agent,
                command.args,
                language,
                internal=command.name == "note",
                named=True,
            )
        elif command is not None:
            answer = agent_help(language)
        elif update.reply_to_message_id is not None:
            ticket_id, answer = _answer(
                runtime, uow, update, agent, update.text, language, internal=False
            )
        else:
            answer = agent_help(language)
    except (PermanentError, NotFound) as exc:
        answer = escape_html(not_done(exc, language))
    if answer:
        say(runtime, uow, update, answer, kind=OutboxKind.AGENT_ANSWER, ticket_id=ticket_id)
    finish_update(runtime, uow, inbox_id, RowState.DONE, ticket_id)


def _agent_status(runtime: Runtime, uow: UnitOfWork, agent: Agent, args: str, language: str) -> str:
    wanted = args.strip().lower()
    if not wanted:
        return agent_status_html(agent.status, agent.load, agent.capacity, language)
    try:
        status = AgentStatus(wanted)
    except ValueError:
        raise PermanentError(say_status_how(language)) from None
    previous = change_agent_status(runtime, uow, agent, status, actor=f"agent:{agent.name}")
    return agent_status_changed_html(previous, status.value, language)


def _mine(runtime: Runtime, uow: UnitOfWork, agent: Agent, language: str) -> str:
    rows = [
        (t.id, t.subject, t.status, t.priority)
        for t in uow.tickets.assigned_to(agent.id, ACTIVE_STATUSES)
    ]
    return agent_ticket_list(rows, language, tag_prefix=runtime.settings.helpdesk.tag_prefix)


def _answer(
    runtime: Runtime,
    uow: UnitOfWork,
    update: ChatUpdate,
    agent: Agent,
    text: str,
    language: str,
    *,
    internal: bool,
    named: bool = False,
) -> tuple[int, str]:
    """A reply to a ticket's notice answers that ticket; ``/note #123 ...`` (``named``)
    may name one instead. Either way, only a ticket this agent was told about in this
    chat, or one assigned to the agent or waiting in the agent's team. A note is
    confirmed at once (the ticket, and what to say: nothing yet for a public answer,
    which is confirmed once it is delivered, or reported when it cannot be)."""
    number = None
    if update.reply_to_message_id is not None:
        ref = _sent(runtime, uow, update, update.reply_to_message_id, ours=update.reply_to_bot)
        number = ref.ticket_id if ref else None
    if number is None and named:
        number, text = parse_ticket_ref(text) if text.lstrip().startswith("#") else (None, text)
    if number is None:
        raise PermanentError(name_the_ticket(language))
    ticket = _allowed(uow, update, agent, number, language)
    if update.files:
        say(runtime, uow, update, files_not_sent_html(language), kind=OutboxKind.AGENT_FILES)
    post_answer(
        runtime,
        uow,
        ticket,
        agent,
        text,
        internal=internal,
        via="telegram",
        external_id=update.external_id,
        confirm_chat_id=None if internal else update.chat_id,
    )
    if not internal:
        return ticket.id, ""
    return ticket.id, answer_recorded_html(
        internal=True,
        channel=ticket.channel,
        number=ticket.id,
        tag_prefix=runtime.settings.helpdesk.tag_prefix,
        language=language,
    )


def _sent(
    runtime: Runtime, uow: UnitOfWork, update: ChatUpdate, message_id: int, *, ours: bool
) -> SentRef | None:
    """What our message ``message_id`` in this chat was about. A message of the bot's sent
    moments ago may not be recorded yet (its delivery commits after Telegram took it): try
    again shortly. An older one we never recorded is about no ticket."""
    ref = uow.chats.sent(update.chat_id, message_id)
    if ref is None and ours:
        sent_at = update.ref_date or 0
        if runtime.now().timestamp() - sent_at < _RECORDING_GRACE_S:
            raise TransientError(f"bot message {message_id} in {update.chat_id}: not recorded yet")
    return ref


def _allowed(
    uow: UnitOfWork, update: ChatUpdate, agent: Agent, number: int, language: str
) -> Ticket:
    """The ticket, locked, if this agent may work on it from the chat; else one refusal
    for every reason (so the chat does not tell which tickets exist)."""
    ticket = uow.tickets.get(number, for_update=True)
    if ticket is not None and (
        ticket.assignee_id == agent.id
        or uow.chats.told_about(update.chat_id, number)
        or (ticket.assignee_id is None and ticket.team is not None and ticket.team in agent.teams)
    ):
        return ticket
    raise PermanentError(not_yours(number, language))


def button(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    update: ChatUpdate,
    agent: Agent | None,
    language: str,
) -> None:
    """An inline button: do it as the agent would from the command line, then say so."""
    pressed = parse_button(update.callback_data)
    ticket_id = pressed.ticket if pressed else None
    ref = _sent(runtime, uow, update, update.message_id, ours=True) if update.message_id else None
    if pressed is None or ref is None or ref.ticket_id != pressed.ticket:
        answer = button_not_ours(language)
        ticket_id = None
    elif pressed.action in RATING_ACTIONS:
        answer = rate_from_chat(runtime, uow, update, pressed)
    elif agent is None:
        answer = button_for_agents_only(language)
    else:
        actor = f"agent:{agent.name}"
        try:
            if pressed.action == "claim":
                claim_in(runtime, uow, pressed.ticket, agent.name, actor=actor)
            else:
                change_ticket_status(
                    runtime,
                    uow,
                    pressed.ticket,
                    _STATUS_OF[pressed.action],
                    actor=actor,
                    reason="from Telegram",
                )
            answer = button_done(pressed.action, pressed.ticket, language)
            _mark_notification(runtime, uow, update, ref, pressed.action, answer, language)
        except (PermanentError, NotFound) as exc:  # InvalidTransition is a PermanentError
            answer = not_done(exc, language)
    answer = trim(answer, 200)  # Telegram's limit for a callback's answer
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.CALLBACK_ANSWER,
        ticket_id=ticket_id,
        chat_id=update.chat_id,
        html=escape_html(answer),
        text=answer,
        dedupe_key=f"tg-callback:{update.callback_id}",
        automatic=True,
        action=ChatAction.ANSWER_CALLBACK,
        target_id=update.callback_id,
    )
    finish_update(runtime, uow, inbox_id, RowState.DONE, ticket_id)


def _mark_notification(
    runtime: Runtime,
    uow: UnitOfWork,
    update: ChatUpdate,
    ref: SentRef,
    action: str,
    done: str,
    language: str,
) -> None:
    """Edit the notification the button was on: say what was done, offer what is next."""
    item = uow.outbox.get(ref.outbox_id) if ref.outbox_id else None
    if item is None or update.message_id is None:
        return
    html = (item.payload or {}).get("body_html") or ""
    links = tuple(
        tuple(b for b in row if b.get("url"))
        for row in (item.payload or {}).get("buttons") or ()
        if any(b.get("url") for b in row)
    )
    assert ref.ticket_id is not None  # a button acts on the ticket its notice is about
    buttons = (
        tuple(b.to_payload() for b in next_buttons(action, ref.ticket_id, language)),
        *links,
    )
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.NOTICE_UPDATE,
        ticket_id=ref.ticket_id,
        chat_id=update.chat_id,
        html=f"{html}\n\n<b>✓ {escape_html(done)}</b>",
        text="",
        buttons=buttons,
        dedupe_key=f"tg-edit:{update.callback_id}",
        automatic=True,
        action=ChatAction.EDIT,
        target_id=str(update.message_id),
    )
