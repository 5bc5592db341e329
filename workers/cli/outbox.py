"""``relaydesk outbox list|retry``: see what was sent, what failed and why; send again."""

from __future__ import annotations

import click

from config.settings import Settings
from router.vocabulary import AuditAction, Channel, RowState, SystemActor
from workers.cli.context import echo_json, pass_settings, runtime_for
from workers.cli.speech import cli_texts

STATES = [s.value for s in RowState if s is not RowState.QUIET]


@click.group()
def outbox() -> None:
    """Inspect outbound messages and retry failed deliveries."""


@outbox.command("list")
@click.option("--state", type=click.Choice(STATES), default=None, help="e.g. failed")
@click.option("--ticket", type=int, default=None, help="Only this ticket's messages.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def list_outbox(
    settings: Settings, state: str | None, ticket: int | None, limit: int, as_json: bool
) -> None:
    """List outbox rows, newest first."""
    with runtime_for(settings) as runtime, runtime.db.unit_of_work() as uow:
        rows = [
            {
                "id": o.id,
                "channel": o.channel,
                "kind": o.kind,
                "recipient": o.recipient,
                "ticket": o.ticket_id,
                "state": o.state,
                "attempts": o.attempts,
                "message_id": o.message_id,
                "error": o.error,
                "created_at": o.created_at,
                "sent_at": o.sent_at,
            }
            for o in uow.outbox.recent(
                ticket_id=ticket, state=RowState(state) if state else None, limit=limit
            )
        ]
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'ID':>6} {'KIND':<16} {'STATE':<8} {'TRIES':>5} {'TICKET':>6} RECIPIENT / ERROR")
    for r in rows:
        click.echo(
            f"{r['id']:>6} {r['kind']:<16} {r['state']:<8} {r['attempts']:>5} "
            f"{r['ticket'] or '-':>6} {r['recipient']} {r['error'] or ''}"
        )


@outbox.command("retry")
@click.argument("outbox_id", type=int)
@pass_settings
def retry(settings: Settings, outbox_id: int) -> None:
    """Send failed outbox row OUTBOX_ID again, with a fresh set of attempts."""
    with runtime_for(settings) as runtime:
        with runtime.db.unit_of_work() as uow:
            ok = uow.outbox.retry(outbox_id, runtime.now())
            item = uow.outbox.get(outbox_id)
            channel = Channel(item.channel) if item else None
            if ok and item is not None:
                uow.audit.record(
                    ticket_id=item.ticket_id,
                    actor=SystemActor.CLI,
                    action=AuditAction.OUTBOX_RETRY,
                    detail=f"{item.kind} to {item.recipient} queued again by an operator",
                    now=runtime.now(),
                    data={"outbox_id": outbox_id},
                )
        if not ok or channel is None:
            raise click.ClickException(
                cli_texts(settings).gettext("outbox row %(id)s is not a failed row", id=outbox_id)
            )
        if not settings.embedded:
            runtime.enqueue_delivery(outbox_id, channel)
    click.echo(
        cli_texts(settings).gettext(
            "outbox row %(id)s queued again (the message keeps its Message-ID)", id=outbox_id
        )
    )
