"""Agents answer: a public reply reaches the requester on their channel; a note stays inside.

``post_answer`` serves every way an agent answers (an email reply to a
notification, a reply in Telegram, ``answer_ticket`` for the command line), so
each writes the same message, audit event and outbox row.
"""

from __future__ import annotations

import uuid

from router.access import Ability, Principal
from router.audit_origin import ActorRef
from router.envelopes import AttachmentRef
from router.errors import NotFound, PermanentError
from router.lifecycle import check_transition
from router.mentions import parse_mentions
from router.notice_texts import mention_notice, mentioned_by
from router.sla_clock import SlaEvent
from router.storable import is_id
from router.vocabulary import AuditAction, Channel, Direction, OutboxKind, Status
from store.db import UnitOfWork
from store.models import Agent, Ticket
from store.staff_ticket_reads import StaffTicketReads, require_version, version_of
from store.ticket_scope import require_scope
from workers.desk.agent_notices import AgentContact, TicketBrief, notify_agent
from workers.desk.languages import agent_language
from workers.desk.outgoing import new_message_id
from workers.desk.sla_clocks import clock_event
from workers.desk.ticket_status import set_ticket_status
from workers.runtime.context import Runtime


def answer_ticket(
    runtime: Runtime,
    number: int,
    agent_name: str,
    text: str,
    *,
    internal: bool = False,
    status: Status | None = None,
    via: str = "cli",
    actor: ActorRef | None = None,
    if_match: str | None = None,
    files: tuple[AttachmentRef, ...] = (),
    principal: Principal | None = None,
) -> str | None:
    """An agent's public reply (sent to the requester, with ``files``: kept ones) or
    internal note, then a status; the ticket's version after the answer (None with a
    status: the status changes it again).

    ``actor``: who the audit log names (default: the agent); the command line passes
    ``cli_as(agent)``, the staff API its caller's origin, and ``principal``: the caller,
    whose scope and role are checked on the locked row (``OutOfScope``, ``NotAllowed``).
    The ticket (locked), its requester, the agent and the ticket's version are one
    statement."""
    with runtime.db.unit_of_work() as uow:
        found = (
            StaffTicketReads(uow.session).locked_for_answer(number, agent_name)
            if is_id(number)
            else None
        )
        if principal is not None:  # the staff gate's check, on the row just locked
            ability = Ability.NOTE if internal else Ability.REPLY
            require_scope(principal, ability, found[0] if found is not None else None)
        if found is None:
            raise NotFound(f"no ticket #{number}")
        ticket, agent, (_, messages) = found
        require_version(uow.session, ticket, if_match, found[2])  # the version the caller read
        if agent is None:
            raise NotFound(f"no agent {agent_name!r}")
        if status is not None and status is not Status(ticket.status):  # refuse before sending
            check_transition(Status(ticket.status), status)
        added = post_answer(
            runtime, uow, ticket, agent, text, internal=internal, via=via, actor=actor, files=files
        )
        # the ticket is locked: the answer is its newest message
        version = version_of(ticket, (added, messages + 1))
    if status is None:
        return version
    set_ticket_status(
        runtime, number, status, actor=actor or f"agent:{agent_name}", reason="answered"
    )
    return None


def post_answer(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: Ticket,
    agent: Agent,
    text: str,
    *,
    internal: bool,
    via: str,
    actor: ActorRef | None = None,
    external_id: str | None = None,
    inbox_id: int | None = None,
    confirm_chat_id: str | None = None,
    files: tuple[AttachmentRef, ...] = (),
) -> int:
    """Add ``agent``'s answer to a locked ``ticket``; a public one is sent to the requester,
    with ``files`` (kept, by hash): attached to the mail, or each a document in the chat.
    The message's id.

    ``confirm_chat_id``: the agent answered from this chat, and is told there once the
    answer is delivered, or that it could not be."""
    if not text.strip():
        raise PermanentError("an empty answer: nothing to send")
    if Status(ticket.status) is Status.CLOSED:
        raise PermanentError(f"ticket #{ticket.id} is closed: answer in a new ticket")
    now = runtime.now()
    author = f"agent:{agent.name}"
    recorded = actor or author  # the audit log's actor; the message's author is the agent
    if internal and files:
        raise PermanentError("files go with a reply: a note has none")
    if internal:
        added = uow.messages.add(
            ticket.id,
            direction=Direction.INTERNAL,
            channel=Channel(ticket.channel),
            author=author,
            body_text=text.strip(),
            agent_id=agent.id,
            external_id=external_id,
            inbox_id=inbox_id,
            now=now,
        )
        uow.audit.record(
            ticket_id=ticket.id,
            actor=recorded,
            action=AuditAction.NOTE_ADDED,
            detail=f"via {via}",
            now=now,
            data={"message": added},
        )
        _tell_the_mentioned(runtime, uow, ticket, agent, text.strip(), external_id)
        return added
    name = agent.display_name or agent.name
    message_id = new_message_id(runtime)
    dedupe_key = f"reply:{external_id}"[:255] if external_id else None
    # the channel the answer goes out on: the ticket's, or the one that answers its
    # requesters (a web requester is answered by email)
    answering = runtime.channels.answering(Channel(ticket.channel))
    sent_on = answering.channel
    body = answering.answer_customer(
        runtime,
        uow,
        ticket,
        text,
        agent_name=name,
        message_id=message_id,
        dedupe_key=dedupe_key,
        confirm_chat_id=confirm_chat_id,
        files=files,
    )
    added = uow.messages.add(  # after the thread was read: the answer is not its own parent
        ticket.id,
        direction=Direction.OUTBOUND,
        channel=sent_on,
        author=author,
        body_text=body,
        agent_id=agent.id,
        external_id=message_id,
        inbox_id=inbox_id,
        now=now,
        attachments=files,
    )
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.first_responder_id = agent.id
    ticket.reply_count = (ticket.reply_count or 0) + 1
    ticket.updated_at = now  # before the clocks are read: the ticket's changes one UPDATE
    clock_event(runtime, uow, ticket.id, SlaEvent.AGENT_REPLY, now)
    uow.audit.record(
        ticket_id=ticket.id,
        actor=recorded,
        action=AuditAction.MESSAGE_REPLIED,
        detail=f"public reply to {ticket.requester_address} via {via}",
        now=now,
        data={"message_id": message_id, "files": [f.filename for f in files], "message": added},
    )
    return added


def _tell_the_mentioned(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: Ticket,
    author: Agent,
    text: str,
    external_id: str | None,
) -> None:
    """Each agent @mentioned in a note hears of it on their own channel (not the author)."""
    names = [n for n in parse_mentions(text) if n != author.name.lower()]
    if not names:
        return
    brief = TicketBrief.of(ticket, latest=text)
    by = author.display_name or author.name
    key = external_id or uuid.uuid4().hex
    for mentioned in uow.agents.by_names(names):
        contact = AgentContact.of(mentioned)
        language = agent_language(runtime, contact)
        rendered = mention_notice(
            number=ticket.id,
            subject=ticket.subject,
            by=by,
            text=text,
            language=language,
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
        )
        notify_agent(
            runtime,
            uow,
            contact,
            brief,
            kind=OutboxKind.MENTION,
            rendered=rendered,
            dedupe_key=f"mention:{ticket.id}:{mentioned.id}:{key}"[:255],
            detail=mentioned_by(by, language),
        )
