"""A notice to an agent by email or in their Telegram chat: what the registry's
``notify_agent`` of each does. In a chat, a notice about a customer's message names its
files, and the files within ``telegram.max_attachment_bytes`` follow it."""

from __future__ import annotations

from connectors.telegram.notices import agent_notice, forwarded_file_caption
from router.envelopes import AttachmentRef, OutboundMessage
from router.notice_texts import Rendered
from router.vocabulary import AuditAction, ChatAction, OutboxKind, SystemActor
from store.db import UnitOfWork
from workers.desk.agent_notices import AgentContact, TicketBrief
from workers.desk.languages import agent_language
from workers.desk.outgoing import Gathered, queue_chat, queue_email
from workers.runtime.context import Runtime

# outbox kinds of notices about a customer's message: they name its files and pass them on
_ABOUT_A_MESSAGE = frozenset({OutboxKind.ASSIGNMENT, OutboxKind.OFFER, OutboxKind.REPLY_NOTICE})
# outbox kinds -> the kinds of chat notice they are shown as
_CHAT_KINDS: dict[OutboxKind, str] = {
    OutboxKind.ASSIGNMENT: "assignment",
    OutboxKind.OFFER: "offer",
    OutboxKind.TAKEN: "taken",
    OutboxKind.REPLY_NOTICE: "reply",
    OutboxKind.MENTION: "mention",
    OutboxKind.SLA_WARNING: "sla_warning",
    OutboxKind.SLA_BREACHED: "sla_breach",
}


def notify_by_email(
    runtime: Runtime,
    uow: UnitOfWork,
    contact: AgentContact,
    brief: TicketBrief,
    *,
    kind: OutboxKind,
    rendered: Rendered,
    dedupe_key: str | None,
    detail: str = "",
    gather: Gathered | None = None,
) -> int | None:
    return queue_email(
        runtime,
        uow,
        kind=kind,
        ticket_id=brief.number,
        recipient=contact.email,
        recipient_name=contact.display_name,
        rendered=rendered,
        dedupe_key=dedupe_key,
        automatic=False,
        agent_id=contact.id,
        gather=gather,
    )


def notify_in_chat(
    runtime: Runtime,
    uow: UnitOfWork,
    contact: AgentContact,
    brief: TicketBrief,
    *,
    kind: OutboxKind,
    rendered: Rendered,
    dedupe_key: str | None,
    detail: str = "",
    gather: Gathered | None = None,
) -> int | None:
    """``gather``: a batch's, which queues the notice with the others; when files follow
    it (they need its id) it is written at once in one statement with what the batch
    gathered before it (``Gathered.now``), so the chat's messages keep their order."""
    assert contact.telegram_chat_id is not None  # (the adapter's agent_address said so)
    telegram = runtime.settings.telegram
    files: tuple[AttachmentRef, ...] = ()
    if kind in _ABOUT_A_MESSAGE:
        known = brief.files
        files = known if known is not None else uow.messages.latest_inbound_files(brief.number)
    language = agent_language(runtime, contact)
    notice = agent_notice(
        kind=_CHAT_KINDS.get(kind, kind),
        number=brief.number,
        priority=brief.priority,
        requester=brief.requester.label(language),
        language=language,
        subject=brief.subject,
        latest=brief.latest,
        detail=detail,
        web_url=telegram.ticket_url(brief.number),
        tag_prefix=runtime.settings.helpdesk.tag_prefix,
        files=[(f.filename, f.skipped if f.sha256 is None else None) for f in files],
    )
    outbox_id = queue_chat(
        runtime,
        uow,
        kind=kind,
        ticket_id=brief.number,
        chat_id=contact.telegram_chat_id,
        html=notice.html,
        text=rendered.body_text,
        buttons=notice.buttons_payload(),
        dedupe_key=dedupe_key,
        agent_id=contact.id,
        recipient_name=contact.display_name or contact.name,
        subject=rendered.subject,  # for the email it becomes if the chat is unreachable
        gather=gather,
        at_once=bool(files),  # the files need its id; it still leaves after those gathered
    )
    if outbox_id is not None:
        _pass_on_files(
            runtime, uow, contact.telegram_chat_id, brief.number, files, outbox_id, language, gather
        )
    return outbox_id


def _pass_on_files(
    runtime: Runtime,
    uow: UnitOfWork,
    chat_id: str,
    number: int,
    files: tuple[AttachmentRef, ...],
    notice_id: int,
    language: str,
    gather: Gathered | None = None,
) -> None:
    """The customer's kept files within the size limit, into the agent's chat after the
    notice (a chat's messages leave in order); a reply to one answers the ticket.
    ``gather``: the batch's, which writes them after the notice (written already)."""
    limit = runtime.settings.telegram.max_attachment_bytes
    tag_prefix = runtime.settings.helpdesk.tag_prefix
    for index, ref in enumerate(files):
        if ref.sha256 is None or ref.size > limit:
            continue  # named in the notice, with why
        queue_chat(
            runtime,
            uow,
            kind=OutboxKind.CUSTOMER_FILE,
            ticket_id=number,
            chat_id=chat_id,
            html=forwarded_file_caption(
                number=number, filename=ref.filename, language=language, tag_prefix=tag_prefix
            ),
            text="",
            dedupe_key=f"file:{notice_id}:{index}",
            automatic=True,
            action=ChatAction.DOCUMENT,
            attachments=(ref,),
            gather=gather,
        )


def fall_back_to_email(
    runtime: Runtime, uow: UnitOfWork, outbox_id: int, message: OutboundMessage, why: str
) -> None:
    """A notice to an agent who blocked the bot: unlink the chat, send it by email (in the
    transaction that fails the row, so the notice cannot be lost in between)."""
    item = uow.outbox.get(outbox_id)
    if item is None or item.agent_id is None:
        return  # a customer's chat: nothing else to reach them by
    found = uow.agents.by_ids([item.agent_id])
    if not found:
        return
    agent = found[0]
    if agent.telegram_chat_id == message.recipient:
        uow.chats.unlink(agent)
        uow.audit.record(
            ticket_id=item.ticket_id,
            actor=SystemActor.DELIVER,
            action=AuditAction.AGENT_UNLINKED,
            detail=f"{agent.name}: Telegram unreachable ({why[:200]}); notices go by email",
            now=runtime.now(),
        )
    queue_email(
        runtime,
        uow,
        kind=OutboxKind(item.kind),
        ticket_id=item.ticket_id,
        recipient=agent.email,
        recipient_name=agent.display_name,
        rendered=Rendered(
            subject=message.subject or f"relaydesk: {item.kind}",
            body_text=message.body_text,
            language=agent_language(runtime, agent),  # the chat notice was written in it
        ),
        dedupe_key=f"fallback:{outbox_id}",
        automatic=False,
        agent_id=agent.id,
    )
