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
(``prepare_updates``), so no database lock is held while bytes cross the network.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectors.telegram.bot_api import BotApi
from connectors.telegram.bot_replies import (
    edits_not_sent_html,
    private_only_html,
    unknown_command_html,
    welcome_html,
)
from connectors.telegram.chat_text import trim
from connectors.telegram.commands import (
    CUSTOMER_COMMANDS,
    Command,
)
from connectors.telegram.customer_texts import (
    chat_file_too_large,
    chat_new_started,
    chat_ticket_list,
    chat_unsupported,
)
from connectors.telegram.notices import (
    edited_text,
    files_only_text,
    link_result,
    untitled_subject,
)
from connectors.telegram.updates import ChatUpdate, UpdateKind, parse_update
from router.chat_readings import ACTING, ChatReading, written_first
from router.envelopes import AttachmentRef, InboundMessage
from router.errors import OutOfTurn, PermanentError
from router.thread_keys import chat_message_ref
from router.vocabulary import AuditAction, Channel, OutboxKind, RowState
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.models import Ticket
from workers.desk.agents import link_code_hash
from workers.desk.languages import agent_language, chat_language
from workers.runtime.context import Runtime
from workers.steps.ingest_telegram_agents import agent_message, button
from workers.steps.ingest_telegram_answers import finish_update, say
from workers.steps.ingest_telegram_readings import (
    command_of,
    is_read,
    message_ref,
    reading_of,
    refused_alone,
)

if TYPE_CHECKING:
    from workers.steps.ingest_writes import IngestWrites

log = logging.getLogger(__name__)


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
def prepare_updates(
    runtime: Runtime, inbox_ids: Sequence[int], api: BotApi, along: Sequence[int] = ()
) -> dict[int, PreparedUpdate | None]:
    """Read the rows' updates (None: a row not pending) in one short transaction and
    download customers' files into the content-addressed store after it, so no database
    lock is held meanwhile. Out of turn when a row has an older pending row of its chat
    that is not of ``inbox_ids`` or ``along`` (of its batch, ingested before it in the
    same transaction).

    A file over the size limit, or one Telegram refuses to serve, is listed
    with why instead. Network trouble raises ``TransientError`` (retried).
    """
    with runtime.db.unit_of_work() as uow:
        raws = uow.inbox.pending_raws(inbox_ids)
        waiting = uow.inbox.waiting_behind(sorted(raws), besides=[*inbox_ids, *along])
        if waiting:  # (asked again in the ingest's transaction)
            raise OutOfTurn(f"inbox {waiting} waits for an older update of its chat")
        updates = {i: _parse(raw) for i, raw in raws.items()}
        uow.chats.look_up_users(u.user_id for u in updates.values() if u.files)
        agents = {i for i, u in updates.items() if u.files and uow.chats.agent_of_user(u.user_id)}
    prepared: dict[int, PreparedUpdate | None] = dict.fromkeys(inbox_ids)
    for inbox_id, update in updates.items():
        files = {} if inbox_id in agents else _files(runtime, update, api)  # (not an agent's)
        prepared[inbox_id] = PreparedUpdate(update, files)
    return prepared


def _files(runtime: Runtime, update: ChatUpdate, api: BotApi) -> dict[str, AttachmentRef]:
    """The update's files, downloaded and kept (or listed with why not)."""
    limit = runtime.settings.telegram.max_attachment_bytes
    refs = {}
    for f in update.files:
        if f.size is not None and f.size > limit:
            why = f"too large: {f.size} bytes, the limit is {limit}"
            refs[f.file_id] = _not_kept(f.file_name, f.mime_type, f.size, why)
            continue
        try:
            data, _path = api.download(f.file_id, limit)
        except PermanentError as exc:
            refs[f.file_id] = _not_kept(f.file_name, f.mime_type, f.size or 0, f"not kept: {exc}")
            continue
        refs[f.file_id] = AttachmentRef(
            filename=f.file_name,
            content_type=f.mime_type,
            size=len(data),
            sha256=runtime.files.put(data),
        )
    return refs


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
    earlier: IngestWrites | None = None,
) -> InboundMessage | None:
    """The customer message in this update, or None when it was handled here (the inbox
    row is then finished). ``earlier``: the rows of its batch decided before it, written
    first when this reading needs them in the store, or is of a chat one of them is in
    (``router.chat_readings``)."""
    update = prepared.update
    if not is_read(update):
        finish_update(runtime, uow, inbox_id, RowState.QUIET, None, "update of a kind not handled")
        return None
    agent = uow.chats.agent_of_user(update.user_id) if update.user_id else None
    language = chat_language(runtime, uow, update.chat_id, update.language_code, agent)
    command = command_of(update)
    reading = reading_of(update, command, agent)
    if reading in ACTING:  # (it may one day close or merge a ticket the batch looked up)
        uow.chats.forget_open_tickets()
    if (
        earlier is not None
        and earlier.rows
        and written_first(reading, update.chat_id, earlier.chats())
    ):
        earlier.write()
    if reading is ChatReading.BUTTON:
        button(runtime, uow, inbox_id, update, agent, language)
        return None
    if reading is ChatReading.GROUP:  # a group is many people: never one customer
        say(runtime, uow, update, private_only_html(language), kind=OutboxKind.CHAT_PRIVATE_ONLY)
        finish_update(runtime, uow, inbox_id, RowState.QUIET, None, "a message in a group chat")
        return None
    if reading is ChatReading.LINK:
        assert command is not None
        _link(runtime, uow, inbox_id, update, command.args, language)
        return None
    if reading is ChatReading.AGENT_EDIT:  # what was sent stays sent: never act twice
        say(runtime, uow, update, edits_not_sent_html(language), kind=OutboxKind.AGENT_ANSWER)
        finish_update(runtime, uow, inbox_id, RowState.QUIET, None, "an agent's edit")
        return None
    if reading is ChatReading.AGENT:
        assert agent is not None
        agent_message(runtime, uow, inbox_id, update, agent, command, language)
        return None
    return _customer_message(runtime, uow, inbox_id, envelope, prepared, command, language)


# -- linking an agent -------------------------------------------------------
def _link(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    update: ChatUpdate,
    code: str,
    language: str,
) -> None:
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
        say(runtime, uow, update, link_result(False, None, language), kind=OutboxKind.LINK)
    else:
        uow.chats.link(agent, update.user_id, update.chat_id)
        uow.audit.record(
            ticket_id=None,
            actor=f"agent:{agent.name}",
            action=AuditAction.AGENT_LINKED,
            detail=f"{agent.name} linked Telegram user {update.user_id} with a one-time code",
            now=now,
        )
        linked = link_result(True, agent.name, agent_language(runtime, agent))
        say(runtime, uow, update, linked, kind=OutboxKind.LINK)
    finish_update(runtime, uow, inbox_id, RowState.DONE, None)


# -- customers --------------------------------------------------------------
def _customer_message(
    runtime: Runtime,
    uow: UnitOfWork,
    inbox_id: int,
    envelope: InboundMessage,
    prepared: PreparedUpdate,
    command: Command | None,
    language: str,
) -> InboundMessage | None:
    update = prepared.update
    now = runtime.now()
    tag = runtime.settings.helpdesk.tag_prefix
    text = update.text
    if command is not None and command.name in ("start", "help"):
        say(
            runtime,
            uow,
            update,
            welcome_html(runtime.settings.helpdesk.name, language),
            kind=OutboxKind.CHAT_HELP,
        )
        finish_update(runtime, uow, inbox_id, RowState.DONE, None)
        return None
    if command is not None and command.name not in CUSTOMER_COMMANDS:
        unknown = unknown_command_html(command.name, language)
        say(runtime, uow, update, unknown, kind=OutboxKind.CHAT_HELP)
        finish_update(runtime, uow, inbox_id, RowState.DONE, None)
        return None
    if command is not None and command.name == "status":
        customer = uow.customers.identify(Channel.TELEGRAM, update.chat_id, update.user_name, now)
        rows = [(t.id, t.subject, t.status) for t in uow.tickets.of_requester(customer.id)]
        say(
            runtime,
            uow,
            update,
            chat_ticket_list(rows, language, tag_prefix=tag),
            kind=OutboxKind.CHAT_STATUS,
        )
        finish_update(runtime, uow, inbox_id, RowState.DONE, None)
        return None
    if command is not None and command.name == "new":
        uow.customers.identify(Channel.TELEGRAM, update.chat_id, update.user_name, now)
        uow.chats.mark_new_thread(update.chat_id, now)
        if not command.args and not update.files:
            say(runtime, uow, update, chat_new_started(language), kind=OutboxKind.CHAT_NEW)
            finish_update(runtime, uow, inbox_id, RowState.DONE, None)
            return None
        text = command.args
    refused = refused_alone(update, text)
    if refused is not None:
        say(
            runtime,
            uow,
            update,
            chat_unsupported(refused, language),
            kind=OutboxKind.CHAT_UNSUPPORTED,
        )
        finish_update(runtime, uow, inbox_id, RowState.QUIET, None, f"a {refused}")
        return None
    attachments = tuple(
        prepared.files.get(f.file_id) or _not_kept(f.file_name, f.mime_type, 0, "not fetched")
        for f in update.files
    )
    limit = runtime.settings.telegram.max_attachment_bytes
    for ref in attachments:
        if ref.sha256 is None and ref.size > limit:
            say(
                runtime,
                uow,
                update,
                chat_file_too_large(ref.filename, limit, language),
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
    desk_language = runtime.settings.helpdesk.language  # its agents read the markers
    names = [a.filename for a in attachments]
    body = text or (files_only_text(names, desk_language) if attachments else "")
    if edited:
        body = edited_text(body, desk_language)
    return InboundMessage(
        channel=Channel.TELEGRAM,
        idempotency_key=envelope.idempotency_key,
        sender_address=update.chat_id,
        sender_name=update.user_name,
        subject=_subject(text, attachments, language),
        body_text=body,
        external_id=message_ref(update),
        in_reply_to=answers,
        source="telegram",
        attachments=attachments,
        problems=problems,
        language=update.language_code,
    )


def _subject(text: str, attachments: tuple[AttachmentRef, ...], language: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return untitled_subject(attachments[0].filename if attachments else None, language)
    return trim(first, 80)


def chat_thread(uow: UnitOfWork, message: InboundMessage, customer: CustomerRef) -> Ticket | None:
    """A chat message joins the chat's open (or resolved: it reopens) ticket, an edit its
    message's ticket, a reply the ticket of the message it answers; unless ``/new``
    asked for a new one."""
    wants_new = uow.chats.lock_chat(message.sender_address)
    kept, open_ticket = uow.chats.take_open_ticket(customer.id)  # as its batch found it
    if message.in_reply_to:  # an edit, or a reply: the ticket of the message it refers to
        found = uow.messages.ticket_of_message_ids(message.in_reply_to) or uow.chats.ticket_of(
            message.in_reply_to
        )
        if found is not None:
            return uow.tickets.get(found, for_update=True)
    if wants_new:
        uow.chats.mark_new_thread(message.sender_address, None)
        return None
    if kept:
        return open_ticket
    return uow.tickets.open_in_chat(customer.id, Channel.TELEGRAM.value, for_update=True)
