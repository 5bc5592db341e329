"""``relaydesk tickets list|show|status|reply|note|edit|assign|transfer|unassign|claim``
(``merge`` and ``split`` are in ``ticket_moves``)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

import click

from config.settings import Settings
from router.audit_origin import cli_as
from router.errors import InvalidTransition, NotFound, PermanentError
from router.ticket_edits import TicketEdit
from router.ticket_views import TicketView
from router.vocabulary import Priority, Status, SystemActor
from store.models import SlaTimer
from store.tickets import view_of
from workers.cli.context import echo_json, pass_settings, runtime_for, when, zone_option
from workers.cli.speech import cli_texts
from workers.desk.assignments import assign_ticket, claim_ticket, transfer_ticket, unassign_ticket
from workers.desk.replies import answer_ticket
from workers.desk.ticket_fields import edit_ticket
from workers.desk.ticket_status import set_ticket_status

STATUSES = [s.value for s in Status]


@click.group()
def tickets() -> None:
    """Look at and change tickets."""


def _public(view: TicketView) -> dict[str, Any]:
    """The view as JSON data, without the access key: that is the requester's secret."""
    data = asdict(view)
    del data["access_key"]
    return data


@tickets.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--assignee", default=None, help="Agent name.")
@click.option("--team", default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def list_tickets(
    settings: Settings,
    status: str | None,
    assignee: str | None,
    team: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List tickets, newest first."""
    with runtime_for(settings) as runtime, runtime.db.unit_of_work() as uow:
        views = [
            view_of(t)
            for t in uow.tickets.recent(
                status=Status(status) if status else None, assignee=assignee, team=team, limit=limit
            )
        ]
    if as_json:
        echo_json([_public(v) for v in views])
        return
    click.echo(f"{'#':>6} {'STATUS':<9} {'PRIORITY':<8} {'ASSIGNEE':<10} {'TEAM':<10} SUBJECT")
    for v in views:
        click.echo(
            f"{v.number:>6} {v.status:<9} {v.priority:<8} {v.assignee or '-':<10} "
            f"{v.team or '-':<10} {v.subject[:60]}"
        )


@tickets.command("show")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@zone_option
@pass_settings
def show(settings: Settings, number: int, as_json: bool, zone: str) -> None:
    """Show ticket NUMBER with its messages, deliveries and audit log (times in UTC, or in
    the zone --tz names; --json gives them in ISO 8601 with their offset)."""
    with runtime_for(settings) as runtime, runtime.db.unit_of_work() as uow:
        view = uow.tickets.view(number)
        ticket = uow.tickets.get(number)
        if view is None or ticket is None:
            raise click.ClickException(f"no ticket #{number}")
        form, fields = ticket.form, dict(ticket.custom_fields or {})
        audit: list[dict[str, Any]] = [
            {
                "at": e.created_at,
                "actor": e.actor,
                "action": e.action,
                "detail": e.detail,
                "origin": (e.data or {}).get("origin"),
            }
            for e in uow.audit.for_ticket(number)
        ]
        outbox = [
            {
                "id": o.id,
                "kind": o.kind,
                "channel": o.channel,
                "recipient": o.recipient,
                "state": o.state,
                "attempts": o.attempts,
                "message_id": o.message_id,
                "error": o.error,
            }
            for o in reversed(uow.outbox.recent(ticket_id=number, limit=1000))
        ]
        clocks = [_clock(t, zone) for t in uow.sla.for_ticket(number)]
    if as_json:
        data: dict[str, Any] = {
            "ticket": {**_public(view), "form": form, "custom_fields": fields},
            "sla": clocks,
            "outbox": outbox,
            "audit": audit,
        }
        echo_json(data)
        return
    click.echo(f"Ticket #{view.number}: {view.subject}")
    click.echo(f"  status {view.status}, priority {view.priority}, category {view.category}")
    click.echo(f"  requester {view.requester_name} <{view.requester_address}> via {view.channel}")
    if view.organisation:
        click.echo(f"  organisation {view.organisation}")
    click.echo(f"  assignee {view.assignee or '-'}, team {view.team or '-'}")
    click.echo(f"  created {when(view.created_at, zone)}, resolved {when(view.resolved_at, zone)}")
    if form or fields:  # what the requester's form asked, as the ticket keeps it now
        click.echo(f"\nFields{f' (form {form})' if form else ''}:")
        for name, value in sorted(fields.items()):
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            click.echo(f"  {name}: {shown}")
    click.echo("\nMessages:")
    for m in view.messages:
        click.echo(f"  [{when(m.created_at, zone)}] {m.direction} {m.channel} {m.author}")
        for line in m.body_text.splitlines()[:20]:
            click.echo(f"    {line}")
        for a in m.attachments:
            kept = "" if a.kept else f" - not kept: {a.note}"
            click.echo(f"    [attachment] {a.filename} ({a.content_type}, {a.size} bytes){kept}")
    if clocks:
        click.echo("\nSLA:")
        for c in clocks:
            click.echo(f"  {c['kind']:<15} {c['policy']:<12} {c['state']:<9} {c['detail']}")
    click.echo("\nDeliveries:")
    for o in outbox:
        err = f" ({o['error']})" if o["error"] else ""
        click.echo(f"  {o['kind']:<16} {o['recipient']:<32} {o['state']} x{o['attempts']}{err}")
    click.echo("\nAudit log:")
    for e in audit:
        actor = e["actor"] + _how(e["origin"])
        click.echo(f"  [{when(e['at'], zone)}] {actor:<16} {e['action']:<18} {e['detail']}")


def _how(origin: dict[str, Any] | None) -> str:
    """How an event's actor was identified, when it was recorded: the CLI's --as is a claim."""
    if not origin:
        return ""
    if origin.get("claimed_as"):
        return " (cli --as)"
    where = f" from {origin['address']}" if origin.get("address") else ""
    token = f" {origin['token_id']}" if origin.get("token_id") else ""
    return f" ({origin.get('via', '?')}{token}{where})"


def _clock(timer: SlaTimer, zone: str) -> dict[str, Any]:
    """One SLA clock as a person reads it: met, breached, running, paused or untracked."""
    if timer.target_s is None:
        state, detail = "untracked", "no target in its policy"
    elif timer.breached_at is not None:
        state, detail = "breached", f"at {when(timer.breached_at, zone)}"
        if timer.stopped_at is not None:
            detail += f", stopped {when(timer.stopped_at, zone)}"
    elif timer.stopped_at is not None:
        state, detail = "met", f"at {when(timer.stopped_at, zone)}"
    elif timer.paused:
        left = max(timer.target_s - timer.consumed_s, 0)
        state, detail = "paused", f"{left / 60:.0f} min of business time left"
    else:
        state, detail = "running", f"due {when(timer.due_at, zone)}"
    return {
        "kind": timer.kind,
        "policy": timer.policy,
        "calendar": timer.calendar,
        "target_s": timer.target_s,
        "state": state,
        "detail": detail,
        "due_at": timer.due_at,
        "warned_at": timer.warned_at,
        "breached_at": timer.breached_at,
        "stopped_at": timer.stopped_at,
        "escalation_step": timer.escalation_step,
    }


@tickets.command("status")
@click.argument("number", type=int)
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--reason", default="", help="Why (goes to the audit log).")
@pass_settings
def set_status(settings: Settings, number: int, status: str, reason: str) -> None:
    """Move ticket NUMBER to STATUS (validated by the lifecycle)."""
    with runtime_for(settings) as runtime:
        try:
            before = set_ticket_status(runtime, number, Status(status), reason=reason)
        except (NotFound, InvalidTransition) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"#{number}: {before.value} -> {status}")


def _answer(
    settings: Settings, number: int, agent: str, text: str, internal: bool, status: str | None
) -> None:
    if text == "-":
        text = sys.stdin.read()
    target = Status(status) if status else None
    _run(
        settings,
        answer_ticket,
        number,
        agent,
        text,
        internal=internal,
        status=target,
        actor=cli_as(agent),  # the audit log: asserted by whoever ran the command
    )


@tickets.command("reply")
@click.argument("number", type=int)
@click.argument("text")
@click.option("--as", "agent", required=True, help="The answering agent's name.")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Then move to this.")
@pass_settings
def reply(settings: Settings, number: int, text: str, agent: str, status: str | None) -> None:
    """Answer ticket NUMBER publicly with TEXT ("-" reads stdin): the requester receives it."""
    _answer(settings, number, agent, text, False, status)
    click.echo(
        cli_texts(settings).gettext(
            "#%(number)s: reply by %(agent)s queued to the requester", number=number, agent=agent
        )
    )


@tickets.command("note")
@click.argument("number", type=int)
@click.argument("text")
@click.option("--as", "agent", required=True, help="The agent writing the note.")
@pass_settings
def note(settings: Settings, number: int, text: str, agent: str) -> None:
    """Add an internal note (never sent to the requester) to ticket NUMBER."""
    _answer(settings, number, agent, text, True, None)
    click.echo(
        cli_texts(settings).gettext(
            "#%(number)s: note by %(agent)s added", number=number, agent=agent
        )
    )


def _run(settings: Settings, operation: Any, *args: Any, **kwargs: Any) -> Any:
    with runtime_for(settings) as runtime:
        try:
            return operation(runtime, *args, **kwargs)
        except (NotFound, InvalidTransition, PermanentError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None


@tickets.command("assign")
@click.argument("number", type=int)
@click.argument("agent")
@click.option("--reason", default="", help="Why (goes to the audit log).")
@click.option("--force", is_flag=True, help="Even past the agent's capacity or status.")
@pass_settings
def assign(settings: Settings, number: int, agent: str, reason: str, force: bool) -> None:
    """Give ticket NUMBER to AGENT (taking it from its assignee)."""
    previous = _run(settings, assign_ticket, number, agent, reason=reason, force=force)
    click.echo(f"#{number}: {previous or '-'} -> {agent}")


@tickets.command("transfer")
@click.argument("number", type=int)
@click.option("--agent", default=None, help="To this agent.")
@click.option("--team", default=None, help="To this team's queue.")
@click.option("--reason", required=True, help="Why (goes to the audit log).")
@pass_settings
def transfer(
    settings: Settings, number: int, agent: str | None, team: str | None, reason: str
) -> None:
    """Move ticket NUMBER to another agent or another team's queue."""
    _run(settings, transfer_ticket, number, reason=reason, to_agent=agent, to_team=team)
    _ = cli_texts(settings).gettext
    target = agent or _("team %(team)s", team=team)
    moved = _("#%(number)s: transferred to %(target)s", number=number, target=target)
    click.echo(moved + _now_with(settings, number))


def _now_with(settings: Settings, number: int) -> str:
    """Where a ticket that went back to a queue stands now (routed inline when embedded)."""
    if not settings.embedded:
        return ""  # the routers run elsewhere: they have not decided yet
    with runtime_for(settings) as runtime, runtime.db.unit_of_work() as uow:
        view = uow.tickets.view(number, with_messages=False)
    if view is None:
        return ""
    _ = cli_texts(settings).gettext
    if view.assignee:
        return _(", now with %(agent)s", agent=view.assignee)
    return _(", waiting for an agent")


@tickets.command("unassign")
@click.argument("number", type=int)
@click.option("--reason", default="", help="Why (goes to the audit log).")
@pass_settings
def unassign(settings: Settings, number: int, reason: str) -> None:
    """Return ticket NUMBER to its team's queue."""
    previous = _run(settings, unassign_ticket, number, reason=reason)
    back = cli_texts(settings).gettext(
        "#%(number)s: taken from %(agent)s, back in the queue", number=number, agent=previous
    )
    click.echo(back + _now_with(settings, number))


@tickets.command("claim")
@click.argument("number", type=int)
@click.option("--as", "agent", required=True, help="The claiming agent's name.")
@pass_settings
def claim(settings: Settings, number: int, agent: str) -> None:
    """Take waiting ticket NUMBER as AGENT; the first claim wins."""
    _run(settings, claim_ticket, number, agent, actor=cli_as(agent))
    click.echo(
        cli_texts(settings).gettext("#%(number)s: claimed by %(agent)s", number=number, agent=agent)
    )


@tickets.command("edit")
@click.argument("number", type=int)
@click.option("--priority", type=click.Choice([p.value for p in Priority]), default=None)
@click.option("--category", default=None)
@click.option("--team", default=None, help="Its agent, if not in it, gives it back to its queue.")
@click.option("--tag", "tags", multiple=True, help="The tags (replacing them); repeat it.")
@click.option("--no-tags", is_flag=True, help="Remove every tag.")
@click.option("--field", "fields", multiple=True, help="KEY=VALUE to set, KEY= to remove.")
@click.option("--reason", default="", help="Why (goes to the audit log).")
@click.option("--as", "agent", default=None, help="The agent making the change.")
@pass_settings
def edit(
    settings: Settings,
    number: int,
    priority: str | None,
    category: str | None,
    team: str | None,
    tags: tuple[str, ...],
    no_tags: bool,
    fields: tuple[str, ...],
    reason: str,
    agent: str | None,
) -> None:
    """Change ticket NUMBER's priority, category, team, tags or custom fields (the SLA
    clocks are planned again when priority, category or team change)."""
    _ = cli_texts(settings).gettext
    custom: dict[str, Any] = {}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(
                _("%(item)s: give it as KEY=VALUE", item=repr(item)), param_hint="--field"
            )
        custom[key] = value or None
    change = TicketEdit(
        priority=priority,
        category=category,
        team=team,
        tags=() if no_tags else (tags or None),
        custom_fields=custom or None,
    )
    actor = cli_as(agent) if agent else SystemActor.CLI
    changed = _run(settings, edit_ticket, number, change, actor=actor, reason=reason)
    if changed:
        click.echo(_("#%(number)s: changed %(fields)s", number=number, fields=", ".join(changed)))
    else:
        click.echo(_("#%(number)s: nothing changed", number=number))
