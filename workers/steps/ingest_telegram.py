"""What ingest does for Telegram: customers' messages and commands, agents' actions.

The inbox keeps each raw update. Here it is read (``connectors.telegram.updates``):

- a linked agent (only ever by a one-time code) replying to a notification answers
  that ticket's customer on the customer's channel; ``/note`` keeps it internal;
  ``/status online|away|offline`` and ``/mine``; the inline buttons Claim, Resolve,
  Pending. Each goes through the same functions as the command line, in the
  inbox row's transaction, so each writes the same audit events.
- anyone else is a customer: a message opens a ticket or joins the chat's open
  one (``/new`` starts another, ``/status`` lists theirs); files become
  attachments; an edit is recorded as a new message saying so; stickers and the
  like get a polite answer and open nothing.

The update is read and its files downloaded before the transaction
(``prepare_update``), so no database lock is held while bytes cross the network.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from connectors.telegram.bot_replies import (
    agent_status_changed_html,
    agent_status_html,
    answer_recorded_html,
    button_done,
    button_for_agents_only,
    button_not_ours,
    edits_not_sent_html,
    files_not_sent_html,
    not_done,
    private_only_html,
    unknown_command_html,
    welcome_html,
)
from connectors.telegram.chat_text import escape_html, trim
from connectors.telegram.commands import (
    CUSTOMER_COMMANDS,
    Command,
    parse_button,
    parse_command,
    parse_ticket_ref,
)
from connectors.telegram.notices import (
    agent_help,
    agent_ticket_list,
    chat_file_too_large,
    chat_new_started,
    chat_ticket_list,
    chat_unsupported,
    files_only_text,
    link_result,
    next_buttons,
)
from connectors.telegram.updates import ChatUpdate, UpdateKind, parse_update
from router.envelopes import AttachmentRef, InboundMessage
from router.errors import NotFound, OutOfTurn, PermanentError, TransientError
from router.lifecycle import ACTIVE_STATUSES
from router.thread_keys import chat_message_ref
from router.vocabulary import AgentStatus, AuditAction, Channel, OutboxKind, RowState, Status
from store.chats import SentRef
from store.db import UnitOfWork
from store.models import Agent, Ticket
from workers.desk.agents import change_agent_status, link_code_hash
from workers.desk.assignments import claim_in
from workers.desk.outgoing import queue_chat
from workers.desk.replies import post_answer
from workers.desk.ticket_status import change_ticket_status
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)

_RECORDING_GRACE_S = 120  # how long a just-sent bot message may wait to be recorded

_STATUS_OF = {"resolve": Status.RESOLVED, "pending": Status.PENDING, "reopen": Status.OPEN}


def _parse(raw: bytes | None) -> ChatUpdate:
    if raw is None:
        raise PermanentError("a Telegram update without its raw JSON: nothing to read")
    try:
        return parse_update(json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise PermanentError(f"unreadable Telegram update: {exc}") from None


@dataclass(frozen=True)
class PreparedUpdate:
    """An update read before the transaction, its files already kept."""

    update: ChatUpdate
    files: dict[str, AttachmentRef]


# -- before the transaction: read it, fetch its files -------------------------
def prepare_update(runtime: Runtime, inbox_id: int) -> PreparedUpdate | None:
    """Read the row's update (None when it is not pending) and download a customer's
    files into the content-addressed store, so no database lock is held meanwhile.

    A file over the size limit, or one Telegram refuses to serve, is listed
    with why instead. Network trouble raises ``TransientError`` (retried).
    """
    with runtime.db.unit_of_work() as uow:
        item = uow.inbox.get(inbox_id)
        if item is None or item.state != RowState.PENDING.value:
            return None
        if uow.inbox.waiting_behind([inbox_id]):  # (checked again in the transaction)
            raise OutOfTurn(f"inbox {inbox_id} waits for an older update of its chat")
        update = _parse(item.raw)
        if update.files and uow.agents.by_telegram_user(update.user_id) is not None:
            return PreparedUpdate(update, {})  # agents' files are not forwarded (yet)
    limit = runtime.settings.telegram.max_attachment_bytes
    refs = {}
    for f in update.files:
        if f.size is not None and f.size > limit:
            why = f"too large: {f.size} bytes, the limit is {limit}"
            refs[f.file_id] = _not_kept(f.file_name, f.mime_type, f.size, why)
            continue
        try:
            data, _path = runtime.chat_api.download(f.file_id, limit)
        except PermanentError as exc:
            refs[f.file_id] = _not_kept(f.file_name, f.mime_type, f.size or 0, f"not kept: {exc}")
            continue
        refs[f.file_id] = AttachmentRef(
            filename=f.file_name,
            content_type=f.mime_type,
            size=len(data),
            sha256=runtime.files.put(data),
        )
    return PreparedUpdate(update, refs)


def _not_kept(name: str, mime: str, size: int, why: str) -> AttachmentRef:
    """A file listed on the message without its bytes, and why."""
    return AttachmentRef(filename=name, content_type=mime, size=size, sha256=None, skipped=why)


# -- in the transaction -----------------------------------------------------
def read_update(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    envelope: InboundMessage,
    prepared: PreparedUpdate,
) -> InboundMessage | None:
    """The customer message in this update, or None when it was handled here (the inbox
    row is then finished)."""
    update = prepared.update
    if update.kind is UpdateKind.OTHER or update.is_bot or not update.chat_id:
        _finish(runtime, uow, inbox_id, RowState.QUIET, None, "update of a kind not handled")
        return None
    agent = uow.agents.by_telegram_user(update.user_id) if update.user_id else None
    if update.kind is UpdateKind.CALLBACK:
        _button(runtime, uow, inbox_id, update, agent)
        return None
    if update.chat_type != "private":  # a group is many people: never one customer
        _say(runtime, uow, update, private_only_html(), kind=OutboxKind.CHAT_PRIVATE_ONLY)
        _finish(runtime, uow, inbox_id, RowState.QUIET, None, "a message in a group chat")
        return None
    command = parse_command(update.text) if update.kind is UpdateKind.MESSAGE else None
    if command is not None and command.name == "start" and command.args:
        _link(runtime, uow, inbox_id, update, command.args)
        return None
    if agent is not None:
        if update.kind is UpdateKind.EDITED:  # what was sent stays sent: never act twice
            _say(runtime, uow, update, edits_not_sent_html(), kind=OutboxKind.AGENT_ANSWER)
            _finish(runtime, uow, inbox_id, RowState.QUIET, None, "an agent's edit")
            return None
        _agent_message(runtime, uow, inbox_id, update, agent, command)
        return None
    return _customer_message(runtime, uow, inbox_id, envelope, prepared, command)


def _finish(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    state: RowState,
    ticket_id: int | None,
    why: str = "",
) -> None:
    uow.inbox.finish(inbox_id, state=state, ticket_id=ticket_id, now=runtime.now())
    if why and state is RowState.QUIET:
        log.info("telegram update in inbox %s kept quietly: %s", inbox_id, why)


def _say(
    runtime: Runtime,
    uow: UnitOfWork,
    update: ChatUpdate,
    html: str,
    *,
    kind: OutboxKind,
    ticket_id: int | None = None,
) -> None:
    """Answer in the chat the update came from (once per update)."""
    queue_chat(
        runtime,
        uow,
        kind=kind,
        ticket_id=ticket_id,
        chat_id=update.chat_id,
        html=html,
        text="",
        dedupe_key=f"tg-answer:{update.update_id}:{kind}",
        automatic=True,
    )


# -- linking an agent -------------------------------------------------------
def _link(runtime: Runtime, uow: UnitOfWork, inbox_id: int, update: ChatUpdate, code: str) -> None:
    now = runtime.now()
    agent = None
    if update.chat_type == "private" and update.user_id:
        agent = uow.chats.agent_by_code(link_code_hash(code), now)
    if agent is None:
        uow.audit.record(
            ticket_id=None,
            actor=f"telegram:{update.user_id}",
            action=AuditAction.AGENT_LINK_REFUSED,
            detail="a /start code that is unknown, spent or expired (or not in a private chat)",
            now=now,
        )
        _say(runtime, uow, update, link_result(False, None), kind=OutboxKind.LINK)
    else:
        uow.chats.link(agent, update.user_id, update.chat_id)
        uow.audit.record(
            ticket_id=None,
            actor=f"agent:{agent.name}",
            action=AuditAction.AGENT_LINKED,
            detail=f"{agent.name} linked Telegram user {update.user_id} with a one-time code",
            now=now,
        )
        _say(runtime, uow, update, link_result(True, agent.name), kind=OutboxKind.LINK)
    _finish(runtime, uow, inbox_id, RowState.DONE, None)


# -- agents -----------------------------------------------------------------
def _agent_message(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    update: ChatUpdate,
    agent: Agent,
    command: Command | None,
) -> None:
    answer: str | None
    ticket_id = None
    try:
        if command is not None and command.name == "status":
            answer = _agent_status(runtime, uow, agent, command.args)
        elif command is not None and command.name == "mine":
            answer = _mine(runtime, uow, agent)
        elif command is not None and command.name in ("note", "reply"):
            ticket_id, answer = _answer(
                runtime,
                uow,
                update,
                agent,
                command.args,
                internal=command.name == "note",
                named=True,
            )
        elif command is not None:
            answer = agent_help()
        elif update.reply_to_message_id is not None:
            ticket_id, answer = _answer(runtime, uow, update, agent, update.text, internal=False)
        else:
            answer = agent_help()
    except (PermanentError, NotFound) as exc:
        answer = escape_html(not_done(exc))
    if answer:
        _say(runtime, uow, update, answer, kind=OutboxKind.AGENT_ANSWER, ticket_id=ticket_id)
    _finish(runtime, uow, inbox_id, RowState.DONE, ticket_id)


def _agent_status(runtime: Runtime, uow: UnitOfWork, agent: Agent, args: str) -> str:
    wanted = args.strip().lower()
    if not wanted:
        return agent_status_html(agent.status, agent.load, agent.capacity)
    try:
        status = AgentStatus(wanted)
    except ValueError:
        raise PermanentError("say /status online, /status away or /status offline") from None
    previous = change_agent_status(runtime, uow, agent, status, actor=f"agent:{agent.name}")
    return agent_status_changed_html(previous, status.value)


def _mine(runtime: Runtime, uow: UnitOfWork, agent: Agent) -> str:
    rows = [
        (t.id, t.subject, t.status, t.priority)
        for t in uow.tickets.assigned_to(agent.id, ACTIVE_STATUSES)
    ]
    return agent_ticket_list(rows, tag_prefix=runtime.settings.helpdesk.tag_prefix)


def _answer(
    runtime: Runtime,
    uow: UnitOfWork,
    update: ChatUpdate,
    agent: Agent,
    text: str,
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
        raise PermanentError(
            "reply to a ticket's notification, or name the ticket: /note #123 your text"
        )
    ticket = _allowed(uow, update, agent, number)
    if update.files:
        _say(runtime, uow, update, files_not_sent_html(), kind=OutboxKind.AGENT_FILES)
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


def _allowed(uow: UnitOfWork, update: ChatUpdate, agent: Agent, number: int) -> Ticket:
    """The ticket, locked, if this agent may work on it from the chat; else one refusal
    for every reason (so the chat does not tell which tickets exist)."""
    ticket = uow.tickets.get(number, for_update=True)
    if ticket is not None and (
        ticket.assignee_id == agent.id
        or uow.chats.told_about(update.chat_id, number)
        or (ticket.assignee_id is None and ticket.team is not None and ticket.team in agent.teams)
    ):
        return ticket
    raise PermanentError(f"#{number} is not one of your tickets")


def _button(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    update: ChatUpdate,
    agent: Agent | None,
) -> None:
    """An inline button: do it as the agent would from the command line, then say so."""
    pressed = parse_button(update.callback_data)
    ticket_id = pressed.ticket if pressed else None
    ref = _sent(runtime, uow, update, update.message_id, ours=True) if update.message_id else None
    if pressed is None or ref is None or ref.ticket_id != pressed.ticket:
        answer = button_not_ours()
        ticket_id = None
    elif agent is None:
        answer = button_for_agents_only()
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
            answer = button_done(pressed.action, pressed.ticket)
            _mark_notification(runtime, uow, update, ref, pressed.action, answer)
        except (PermanentError, NotFound) as exc:  # InvalidTransition is a PermanentError
            answer = not_done(exc)
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
        action="answer_callback",
        target_id=update.callback_id,
    )
    _finish(runtime, uow, inbox_id, RowState.DONE, ticket_id)


def _mark_notification(
    runtime: Runtime, uow: UnitOfWork, update: ChatUpdate, ref: SentRef, action: str, done: str
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
    buttons = (tuple(b.to_payload() for b in next_buttons(action, ref.ticket_id)), *links)
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
        action="edit",
        target_id=str(update.message_id),
    )


# -- customers --------------------------------------------------------------
def _customer_message(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    envelope: InboundMessage,
    prepared: PreparedUpdate,
    command: Command | None,
) -> InboundMessage | None:
    update = prepared.update
    now = runtime.now()
    tag = runtime.settings.helpdesk.tag_prefix
    text = update.text
    if command is not None and command.name in ("start", "help"):
        _say(
            runtime,
            uow,
            update,
            welcome_html(runtime.settings.helpdesk.name),
            kind=OutboxKind.CHAT_HELP,
        )
        _finish(runtime, uow, inbox_id, RowState.DONE, None)
        return None
    if command is not None and command.name not in CUSTOMER_COMMANDS:
        _say(runtime, uow, update, unknown_command_html(command.name), kind=OutboxKind.CHAT_HELP)
        _finish(runtime, uow, inbox_id, RowState.DONE, None)
        return None
    if command is not None and command.name == "status":
        customer = uow.customers.identify(Channel.TELEGRAM, update.chat_id, update.user_name, now)
        rows = [(t.id, t.subject, t.status) for t in uow.tickets.of_requester(customer.id)]
        _say(
            runtime,
            uow,
            update,
            chat_ticket_list(rows, tag_prefix=tag),
            kind=OutboxKind.CHAT_STATUS,
        )
        _finish(runtime, uow, inbox_id, RowState.DONE, None)
        return None
    if command is not None and command.name == "new":
        uow.customers.identify(Channel.TELEGRAM, update.chat_id, update.user_name, now)
        uow.chats.mark_new_thread(update.chat_id, now)
        if not command.args and not update.files:
            _say(runtime, uow, update, chat_new_started(), kind=OutboxKind.CHAT_NEW)
            _finish(runtime, uow, inbox_id, RowState.DONE, None)
            return None
        text = command.args
    if update.unsupported and not text:
        _say(
            runtime,
            uow,
            update,
            chat_unsupported(update.unsupported),
            kind=OutboxKind.CHAT_UNSUPPORTED,
        )
        _finish(runtime, uow, inbox_id, RowState.QUIET, None, f"a {update.unsupported}")
        return None
    attachments = tuple(
        prepared.files.get(f.file_id) or _not_kept(f.file_name, f.mime_type, 0, "not fetched")
        for f in update.files
    )
    limit = runtime.settings.telegram.max_attachment_bytes
    for ref in attachments:
        if ref.sha256 is None and ref.size > limit:
            _say(
                runtime,
                uow,
                update,
                chat_file_too_large(ref.filename, limit),
                kind=OutboxKind.CHAT_FILE,
            )
    problems = update.problems
    if update.unsupported:
        problems += (f"a {update.unsupported} came with the text: not kept",)
    edited = update.kind is UpdateKind.EDITED
    answers: tuple[str, ...] = ()  # the message edited or replied to: its ticket (ingest)
    if edited:
        answers = (update.external_id,)
    elif update.reply_to_message_id is not None:
        answers = (chat_message_ref(update.chat_id, update.reply_to_message_id),)
    body = text or (files_only_text([a.filename for a in attachments]) if attachments else "")
    if edited:
        body = f"(edited) {body}"
    return InboundMessage(
        channel=Channel.TELEGRAM,
        idempotency_key=envelope.idempotency_key,
        sender_address=update.chat_id,
        sender_name=update.user_name,
        subject=_subject(text, attachments),
        body_text=body,
        external_id=(
            f"{update.external_id}:edit:{update.update_id}" if edited else update.external_id
        ),
        in_reply_to=answers,
        source="telegram",
        attachments=attachments,
        problems=problems,
    )


def _subject(text: str, attachments: tuple[AttachmentRef, ...]) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return f"{attachments[0].filename} from Telegram" if attachments else "Telegram message"
    return trim(first, 80)
