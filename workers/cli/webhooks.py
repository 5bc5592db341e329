"""``relaydesk webhooks add|list|test|deliveries|redeliver|pause|resume|remove``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import click

from config.settings import Settings
from router.errors import NotFound
from router.vocabulary import RowState
from router.webhook_events import WebhookEvent
from router.webhook_views import DeliveryView, WebhookView
from workers.cli.context import echo_json, pass_settings, runtime_for, when
from workers.desk import webhooks as desk
from workers.runtime.context import Runtime

EVENTS = [e.value for e in WebhookEvent]
STATES = [RowState.PENDING.value, RowState.SENDING.value, RowState.DONE.value, "failed"]


@click.group()
def webhooks() -> None:
    """Signed webhooks: tell a CRM, an ERP or a status page what happens on tickets."""


@contextmanager
def _desk(settings: Settings) -> Iterator[Runtime]:
    """A runtime whose use cases' refusals are the command's errors."""
    with runtime_for(settings) as runtime:
        try:
            yield runtime
        except (NotFound, ValueError) as exc:
            raise click.ClickException(str(exc)) from None


def _json_or(as_json: bool, data: Any, text: Callable[[], None]) -> None:
    if as_json:
        echo_json(data)
    else:
        text()


@webhooks.command("add")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    required=True,
    type=click.Choice(EVENTS),
    help="An event to send (repeat for more).",
)
@click.option("--secret", default=None, help="whsec_<base64>: one of yours (default: made here).")
@click.option("--description", default="", help="What it is for, e.g. crm-sync.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def add(
    settings: Settings,
    url: str,
    events: tuple[str, ...],
    secret: str | None,
    description: str,
    as_json: bool,
) -> None:
    """Subscribe URL to events and print its signing secret, this once."""
    with _desk(settings) as runtime:
        made = desk.add_webhook(runtime, url, events, secret=secret, description=description)
    if as_json:
        echo_json({**asdict(made.webhook), "secret": made.secret})
        return
    click.echo(
        f"webhook {made.webhook.id}: {made.webhook.url} for {', '.join(made.webhook.events)}"
    )
    click.echo(made.secret)
    click.echo("The secret is shown this once: give it to the receiver to verify.", err=True)


def _line(hook: WebhookView) -> str:
    state = "active" if hook.active else f"paused ({hook.paused_reason})"
    return f"{hook.id:>4} {hook.url}\n     {', '.join(hook.events)}; {state}" + (
        f"; {hook.description}" if hook.description else ""
    )


@webhooks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def list_(settings: Settings, as_json: bool) -> None:
    """List the subscriptions (never their secrets)."""
    with _desk(settings) as runtime:
        rows = desk.list_webhooks(runtime)

    def text() -> None:
        for hook in rows:
            click.echo(_line(hook))

    _json_or(as_json, rows, text)


def _delivery_line(d: DeliveryView) -> str:
    status = d.last_status if d.last_status is not None else "-"
    after = f" next {when(d.next_attempt_at)}" if d.next_attempt_at else ""
    done = f" delivered {when(d.delivered_at)}" if d.delivered_at else ""
    ticket = f"#{d.ticket_number}" if d.ticket_number else "-"
    line = (
        f"{d.id:>6} {d.event_type:<22} {ticket:<7} {d.state:<8} {d.attempts:>3} {status!s:>4} "
        f"{when(d.created_at)}{done}{after}"
    )
    return line + (f"\n       {d.error}" if d.error and d.state != "done" else "")


@webhooks.command("deliveries")
@click.argument("webhook_id", type=int)
@click.option("--state", "states", multiple=True, type=click.Choice(STATES), help="Only these.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def deliveries(
    settings: Settings, webhook_id: int, states: tuple[str, ...], limit: int, as_json: bool
) -> None:
    """A subscription's deliveries, newest first: attempts, last HTTP status, error."""
    with _desk(settings) as runtime:
        rows = desk.deliveries(
            runtime, webhook_id, states=[RowState(s) for s in states], limit=limit
        )

    def text() -> None:
        click.echo(f"{'ID':>6} {'EVENT':<22} {'TICKET':<7} {'STATE':<8} TRY HTTP CREATED")
        for d in rows:
            click.echo(_delivery_line(d))

    _json_or(as_json, rows, text)


@webhooks.command("test")
@click.argument("webhook_id", type=int)
@pass_settings
def test(settings: Settings, webhook_id: int) -> None:
    """Send a webhook.test event to WEBHOOK_ID alone (`deliveries` shows how it went)."""
    with _desk(settings) as runtime:
        made = desk.send_test_event(runtime, webhook_id)
    click.echo(f"delivery {made.id} ({made.message_id}) queued for webhook {webhook_id}")


@webhooks.command("redeliver")
@click.argument("delivery_id", type=int)
@pass_settings
def redeliver(settings: Settings, delivery_id: int) -> None:
    """Send a delivery again, done or failed, with its webhook-id (receivers drop repeats)."""
    with _desk(settings) as runtime:
        again = desk.redeliver(runtime, delivery_id)
    click.echo(
        f"delivery {again.id} ({again.event_type}) queued again for webhook {again.webhook_id}"
    )


@webhooks.command("pause")
@click.argument("webhook_id", type=int)
@click.option("--reason", default="", help="Why, for the others.")
@pass_settings
def pause(settings: Settings, webhook_id: int, reason: str) -> None:
    """Stop delivering to WEBHOOK_ID; its events wait until `resume`."""
    with _desk(settings) as runtime:
        hook = desk.pause_webhook(runtime, webhook_id, reason=reason)
    click.echo(f"webhook {hook.id} paused")


@webhooks.command("resume")
@click.argument("webhook_id", type=int)
@pass_settings
def resume(settings: Settings, webhook_id: int) -> None:
    """Deliver to WEBHOOK_ID again: what waited goes now, oldest first."""
    with _desk(settings) as runtime:
        hook = desk.resume_webhook(runtime, webhook_id)
    click.echo(f"webhook {hook.id} active")


@webhooks.command("remove")
@click.argument("webhook_id", type=int)
@pass_settings
def remove(settings: Settings, webhook_id: int) -> None:
    """Delete WEBHOOK_ID and its deliveries."""
    with _desk(settings) as runtime:
        desk.remove_webhook(runtime, webhook_id)
    click.echo(f"webhook {webhook_id} removed")
