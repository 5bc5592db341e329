"""Apply a macro: its reply, and its status, in one transaction audited as the macro; then
its team (a transfer to that team's queue, with the macro as the reason)."""

from __future__ import annotations

from config.macro_settings import MacroSettings
from router.audit_origin import ActorRef
from router.errors import NotFound
from router.lifecycle import check_transition
from router.macros import MacroApplied, MacroFacts, macro_summary, macro_text
from router.vocabulary import AuditAction, Status
from workers.desk.assignments import agent_named, transfer_ticket
from workers.desk.replies import post_answer
from workers.desk.ticket_status import change_ticket_status
from workers.runtime.context import Runtime


def macro_named(runtime: Runtime, name: str) -> MacroSettings:
    for macro in runtime.settings.macros:
        if macro.name == name:
            return macro
    raise NotFound(f"no macro {name!r}")


def apply_macro(
    runtime: Runtime, number: int, name: str, agent_name: str, *, actor: ActorRef
) -> MacroApplied:
    """``agent_name`` applies macro ``name`` to ticket ``number``: its text (placeholders
    filled) goes to the requester as the agent's reply, and the ticket takes the macro's
    status in the same transaction; ``NotFound``, or ``PermanentError``/``ValueError`` for a
    reply or status the ticket cannot take (then nothing is sent)."""
    macro = macro_named(runtime, name)
    with runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(number, for_update=True)
        if ticket is None:
            raise NotFound(f"no ticket #{number}")
        agent = agent_named(uow, agent_name)
        status = Status(macro.status) if macro.status else None
        if status is not None and status is not Status(ticket.status):
            check_transition(Status(ticket.status), status)  # refused before anything is sent
        facts = MacroFacts(
            requester_name=ticket.requester.name or ticket.requester_address,
            ticket_number=ticket.id,
            agent_name=agent.display_name or agent.name,
        )
        text = macro_text(macro.body, facts)
        post_answer(runtime, uow, ticket, agent, text, internal=False, via="macro", actor=actor)
        if status is not None and status is not Status(ticket.status):
            change_ticket_status(runtime, uow, number, status, actor=actor, reason=macro.name)
        uow.audit.record(
            ticket_id=number,
            actor=actor,
            action=AuditAction.MACRO_APPLIED,
            detail=macro_summary(macro.name, macro.status, macro.team),
            now=runtime.now(),
            data={"macro": macro.name, "status": macro.status, "team": macro.team},
        )
        team_now = ticket.team.name if ticket.team else None
    if macro.team and macro.team != team_now:
        transfer_ticket(
            runtime, number, reason=f"macro {macro.name}", to_team=macro.team, actor=actor
        )
    return MacroApplied(
        macro=macro.name, number=number, text=text, status=macro.status, team=macro.team
    )
