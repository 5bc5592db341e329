"""Apply a macro: its reply (with files, if any) and every field it changes (status,
priority, tags added, team) in one transaction, audited as the macro (``macro.applied``,
beside each change's own event)."""

from __future__ import annotations

from router.audit_origin import ActorRef
from router.envelopes import AttachmentRef
from router.errors import NotFound
from router.lifecycle import check_transition
from router.macros import (
    MacroApplied,
    MacroDefinition,
    MacroFacts,
    macro_summary,
    macro_text,
    tags_added,
)
from router.ticket_edits import TicketEdit
from router.vocabulary import AuditAction, Status
from store.staff_ticket_reads import require_version
from workers.desk.assignments import agent_named
from workers.desk.macro_book import macro_named
from workers.desk.replies import post_answer
from workers.desk.ticket_fields import edit_fields_in
from workers.desk.ticket_status import change_ticket_status
from workers.runtime.context import Runtime
from workers.steps.drain import drain_soon


def apply_macro(
    runtime: Runtime,
    number: int,
    name: str,
    agent_name: str,
    *,
    actor: ActorRef,
    text: str | None = None,
    files: tuple[AttachmentRef, ...] = (),
    status: Status | None = None,
    if_match: str | None = None,
) -> MacroApplied:
    """``agent_name`` applies macro ``name`` to ticket ``number``: its text (placeholders
    filled; or ``text``, the agent's edit of it) goes to the requester as the agent's reply
    with ``files``, and the ticket takes the macro's status (``status`` given instead wins),
    priority, tags and team in the same transaction. ``NotFound``, ``StaleVersion``, or
    ``PermanentError``/``ValueError`` for a reply or change the ticket cannot take (then
    nothing is sent and nothing changes)."""
    macro = macro_named(runtime, name)
    target = status or (Status(macro.status) if macro.status else None)
    with runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(number, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket #{number}")
        require_version(uow.session, ticket, if_match)
        agent = agent_named(uow, agent_name)
        if target is not None and target is not Status(ticket.status):
            check_transition(Status(ticket.status), target)  # refused before anything is sent
        facts = MacroFacts(
            requester_name=ticket.requester.name or ticket.requester_address,
            ticket_number=ticket.id,
            agent_name=agent.display_name or agent.name,
        )
        reply = text if text and text.strip() else macro_text(macro.body, facts)
        post_answer(
            runtime,
            uow,
            ticket,
            agent,
            reply,
            internal=False,
            via="macro",
            actor=actor,
            files=files,
        )
        edit = _field_changes(macro, tuple(ticket.tags or ()))
        edited = edit_fields_in(runtime, uow, ticket, edit, actor=actor, reason=f"macro {name}")
        if target is not None and target is not Status(ticket.status):
            change_ticket_status(runtime, uow, number, target, actor=actor, reason=macro.name)
        uow.audit.record(
            ticket_id=number,
            actor=actor,
            action=AuditAction.MACRO_APPLIED,
            detail=macro_summary(
                macro.name,
                target.value if target else None,
                macro.team,
                priority=macro.priority,
                tags=macro.tags,
                files=len(files),
            ),
            now=runtime.now(),
            data={
                "macro": macro.name,
                "source": macro.source,
                "status": target.value if target else None,
                "priority": macro.priority,
                "tags": list(macro.tags),
                "team": macro.team,
                "files": [f.filename for f in files],
                "edited_text": bool(text and text.strip()),
            },
        )
    if edited.drain:
        drain_soon(runtime, list(edited.drain), avoid=edited.avoid)
    return MacroApplied(
        macro=macro.name,
        number=number,
        text=reply,
        status=target.value if target else None,
        team=macro.team,
        priority=macro.priority,
        tags=macro.tags,
        files=tuple(f.filename for f in files),
    )


def _field_changes(macro: MacroDefinition, tags: tuple[str, ...]) -> TicketEdit:
    return TicketEdit(
        priority=macro.priority,
        team=macro.team,
        tags=tags_added(tags, macro.tags) if macro.tags else None,
    )
