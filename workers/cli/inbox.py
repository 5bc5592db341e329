"""``relaydesk inbox list|retry``: see what came in and what could not be processed."""

from __future__ import annotations

from typing import Any

import click

from config.settings import Settings
from router.vocabulary import Channel, RowState
from workers.cli.context import echo_json, pass_settings, runtime_for, when
from workers.cli.speech import cli_texts

STATES = [s.value for s in RowState if s is not RowState.SENDING]


@click.group()
def inbox() -> None:
    """Inspect inbound messages and retry failed ones."""


@inbox.command("list")
@click.option("--state", type=click.Choice(STATES), default=None, help="e.g. failed")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def list_inbox(settings: Settings, state: str | None, limit: int, as_json: bool) -> None:
    """List inbox rows, newest first."""
    with runtime_for(settings) as runtime, runtime.db.unit_of_work() as uow:
        rows: list[dict[str, Any]] = [
            {
                "id": i.id,
                "channel": i.channel,
                "key": i.idempotency_key,
                "state": i.state,
                "attempts": i.attempts,
                "ticket": i.ticket_id,
                "error": i.error if i.state != RowState.QUIET.value else None,
                "why": i.error,  # why it failed, or why it is quiet (an auto-reply, a bounce)
                "received_at": i.received_at,
                "sender": (i.payload or {}).get("sender_address"),
            }
            for i in uow.inbox.recent(state=RowState(state) if state else None, limit=limit)
        ]
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'ID':>6} {'CHANNEL':<8} {'STATE':<7} {'TRIES':>5} {'TICKET':>6} RECEIVED / WHY")
    for r in rows:
        click.echo(
            f"{r['id']:>6} {r['channel']:<8} {r['state']:<7} {r['attempts']:>5} "
            f"{r['ticket'] or '-':>6} {when(r['received_at'])} {r['why'] or ''}"
        )


@inbox.command("retry")
@click.argument("inbox_id", type=int)
@pass_settings
def retry(settings: Settings, inbox_id: int) -> None:
    """Give failed inbox row INBOX_ID another chance."""
    with runtime_for(settings) as runtime:
        with runtime.db.unit_of_work() as uow:
            ok = uow.inbox.retry(inbox_id, runtime.now())
            item = uow.inbox.get(inbox_id)
            channel = Channel(item.channel) if item else None
        if not ok or channel is None:
            raise click.ClickException(
                cli_texts(settings).gettext("inbox row %(id)s is not a failed row", id=inbox_id)
            )
        if not settings.embedded:
            runtime.enqueue_ingest(inbox_id, channel)
    click.echo(cli_texts(settings).gettext("inbox row %(id)s queued again", id=inbox_id))
