"""``relaydesk customers list|show|create|update|merge``: customer records.

A customer is named by id or by one of their email addresses. ``--as NAME``
records who made a change (a claim: whoever runs the command owns the database).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from config.settings import Settings
from router.audit_origin import ActorRef, cli_as
from router.customer_records import AttributeValue, CustomerChanges, CustomerView
from router.errors import AlreadyTaken, NotFound
from router.vocabulary import Channel
from workers.cli.context import echo_json, pass_settings, runtime_for, when
from workers.desk import customers as desk
from workers.desk.organisations import organisation_named
from workers.runtime.context import Runtime


@click.group()
def customers() -> None:
    """Customers: profiles, tier, organisation, custom attributes; merge two into one."""


@contextmanager
def refusals() -> Iterator[None]:
    """The desk's refusals as the command's error message."""
    try:
        yield
    except (NotFound, AlreadyTaken, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def attributes_of(pairs: tuple[str, ...]) -> dict[str, AttributeValue]:
    """``key=value`` pairs; a value that reads as a JSON number or true/false is one."""
    result: dict[str, AttributeValue] = {}
    for pair in pairs:
        key, equals, text = pair.partition("=")
        if not equals:
            raise click.BadParameter(f"{pair!r}: write key=value")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        result[key.strip()] = value if isinstance(value, int | float | bool) else text
    return result


def actor_of(as_agent: str | None) -> ActorRef:
    return cli_as(as_agent) if as_agent else "cli"


def customer_id(runtime: Runtime, named: str) -> int:
    return int(named) if named.isdigit() and len(named) < 10 else desk.customer_at(runtime, named)


def organisation_id(runtime: Runtime, name: str | None) -> int | None:
    return None if name is None else organisation_named(runtime, name).id


def show_customer(view: CustomerView) -> None:
    org = view.organisation
    click.echo(f"customer {view.id}: {view.name or '(no name)'}")
    if view.merged_into is not None:
        click.echo(f"  merged into customer {view.merged_into}")
    click.echo(f"  organisation: {org.name if org else '-'}")
    own = "own" if view.own_tier else ("organisation's" if view.tier else "")
    click.echo(f"  tier: {view.tier or '-'}" + (f" ({own})" if own else ""))
    for identity in view.identities:
        bounced = " (bounces)" if identity.bounced else ""
        click.echo(f"  {identity.channel}: {identity.address}{bounced}")
    for key, value in sorted(view.attributes.items()):
        click.echo(f"  {key} = {value}")
    for t in view.tickets:
        click.echo(f"  #{t.number} {t.status:<8} {t.priority:<6} {when(t.created_at)} {t.subject}")


def _as_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--as", "as_agent", default=None, help="The agent making the change.")(fn)


@customers.command("list")
@click.option("--search", "text", default="", help="In a name or an address.")
@click.option("--org", default=None, help="Only this organisation's customers.")
@click.option("--after", default=0, help="Continue after this id.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def list_(
    settings: Settings, text: str, org: str | None, after: int, limit: int, as_json: bool
) -> None:
    """Customers by id, with their organisation, tier and addresses."""
    with runtime_for(settings) as runtime, refusals():
        rows = desk.find_customers(
            runtime,
            text=text,
            organisation_id=organisation_id(runtime, org),
            after=after,
            limit=limit,
        )
    if as_json:
        echo_json(rows)
        return
    for c in rows:
        addresses = ", ".join(i.address for i in c.identities)
        org_name = c.organisation.name if c.organisation else "-"
        click.echo(
            f"{c.id:>6} {c.name[:24]:<24} {org_name[:16]:<16} {c.tier or '-':<8} {addresses}"
        )


@customers.command("show")
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def show(settings: Settings, customer: str, as_json: bool) -> None:
    """A customer's profile and tickets (CUSTOMER: an id or an email address)."""
    with runtime_for(settings) as runtime, refusals():
        view = desk.customer_profile(runtime, customer_id(runtime, customer))
    echo_json(view) if as_json else show_customer(view)


@customers.command("create")
@click.argument("name")
@click.option("--email", multiple=True, help="An email address (repeatable).")
@click.option("--telegram", multiple=True, help="A Telegram chat id (repeatable).")
@click.option("--tier", default=None)
@click.option("--org", default=None, help="The organisation's name.")
@click.option("--attr", multiple=True, help="A custom attribute, key=value (repeatable).")
@_as_option
@pass_settings
def create(
    settings: Settings,
    name: str,
    email: tuple[str, ...],
    telegram: tuple[str, ...],
    tier: str | None,
    org: str | None,
    attr: tuple[str, ...],
    as_agent: str | None,
) -> None:
    """Enter a customer by hand."""
    addresses = [(Channel.EMAIL, a) for a in email] + [(Channel.TELEGRAM, a) for a in telegram]
    with runtime_for(settings) as runtime, refusals():
        view = desk.create_customer(
            runtime,
            name=name,
            addresses=addresses,
            tier=tier,
            organisation_id=organisation_id(runtime, org),
            attributes=attributes_of(attr),
            actor=actor_of(as_agent),
        )
    show_customer(view)


@customers.command("update")
@click.argument("customer")
@click.option("--name", default=None)
@click.option("--tier", default=None)
@click.option("--no-tier", is_flag=True, help="Remove the customer's own tier.")
@click.option("--org", default=None, help="Move to this organisation.")
@click.option("--no-org", is_flag=True, help="Take out of their organisation.")
@click.option("--attr", multiple=True, help="Set a custom attribute, key=value (repeatable).")
@click.option("--drop-attr", multiple=True, help="Remove a custom attribute (repeatable).")
@click.option("--add-email", multiple=True)
@click.option("--remove-email", multiple=True)
@_as_option
@pass_settings
def update(
    settings: Settings,
    customer: str,
    name: str | None,
    tier: str | None,
    no_tier: bool,
    org: str | None,
    no_org: bool,
    attr: tuple[str, ...],
    drop_attr: tuple[str, ...],
    add_email: tuple[str, ...],
    remove_email: tuple[str, ...],
    as_agent: str | None,
) -> None:
    """Change a customer (CUSTOMER: an id or an email address); what is not named is kept."""
    with runtime_for(settings) as runtime, refusals():
        changes = CustomerChanges(
            name=name,
            tier=tier,
            clear_tier=no_tier,
            organisation_id=organisation_id(runtime, org),
            clear_organisation=no_org,
            attributes=attributes_of(attr),
            drop_attributes=drop_attr,
            add_addresses=tuple(("email", a) for a in add_email),
            remove_addresses=tuple(("email", a) for a in remove_email),
        )
        view = desk.update_customer(
            runtime, customer_id(runtime, customer), changes, actor=actor_of(as_agent)
        )
    show_customer(view)


@customers.command("merge")
@click.argument("merged")
@click.argument("into")
@_as_option
@pass_settings
def merge(settings: Settings, merged: str, into: str, as_agent: str | None) -> None:
    """Fold customer MERGED into INTO: tickets and addresses move to INTO, which keeps its
    profile and fills its gaps from MERGED."""
    with runtime_for(settings) as runtime, refusals():
        view = desk.merge_customers(
            runtime,
            customer_id(runtime, merged),
            customer_id(runtime, into),
            actor=actor_of(as_agent),
        )
    show_customer(view)
