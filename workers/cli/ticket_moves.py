"""``relaydesk tickets merge|split``: move messages between tickets of one requester, the
same use cases as the staff API's and the ticket page's."""

from __future__ import annotations

import click

from config.settings import Settings
from router.audit_origin import ActorRef, cli_as
from router.vocabulary import SystemActor
from workers.cli.context import pass_settings
from workers.cli.speech import cli_texts
from workers.cli.tickets import _run, tickets
from workers.desk.merges import merge_tickets
from workers.desk.splits import split_message


def _actor(as_agent: str | None) -> ActorRef:
    return cli_as(as_agent) if as_agent else SystemActor.CLI


@tickets.command("merge")
@click.argument("number", type=int)
@click.option("--into", type=int, required=True, help="The ticket that remains (same requester).")
@click.option("--as", "as_agent", default=None, help="Who merges (recorded as claimed).")
@pass_settings
def merge(settings: Settings, number: int, into: int, as_agent: str | None) -> None:
    """Merge ticket NUMBER into INTO: it closes, its messages move, its requester is told."""
    moved = _run(settings, merge_tickets, number, into, actor=_actor(as_agent))
    said = cli_texts(settings).gettext(
        "#%(number)s: merged into #%(into)s, %(moved)s messages moved",
        number=number,
        into=into,
        moved=moved,
    )
    click.echo(said)


@tickets.command("split")
@click.argument("number", type=int)
@click.argument("message_id", type=int)
@click.option("--subject", default="", help="The new ticket's subject.")
@click.option("--as", "as_agent", default=None, help="Who splits (recorded as claimed).")
@pass_settings
def split(
    settings: Settings, number: int, message_id: int, subject: str, as_agent: str | None
) -> None:
    """Move the customer's message MESSAGE_ID of ticket NUMBER into a new ticket."""
    new = _run(settings, split_message, number, message_id, subject=subject, actor=_actor(as_agent))
    said = cli_texts(settings).gettext(
        "#%(number)s: message %(message_id)s split out into #%(new)s",
        number=number,
        message_id=message_id,
        new=new,
    )
    click.echo(said)
