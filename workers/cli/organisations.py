"""``relaydesk orgs list|show|create|update``: organisations, named by name or id."""

from __future__ import annotations

import click

from config.settings import Settings
from router.customer_records import OrganisationChanges, OrganisationView
from workers.cli.context import echo_json, pass_settings, runtime_for
from workers.cli.customers import actor_of, attributes_of, refusals
from workers.desk import organisations as desk
from workers.runtime.context import Runtime


@click.group()
def orgs() -> None:
    """Organisations: name, tier, custom attributes, and the email domains that link
    customers to them."""


def _id(runtime: Runtime, named: str) -> int:
    return (
        int(named)
        if named.isdigit() and len(named) < 10
        else desk.organisation_named(runtime, named).id
    )


def _show(view: OrganisationView) -> None:
    click.echo(f"organisation {view.id}: {view.name}")
    click.echo(f"  tier: {view.tier or '-'}")
    click.echo(f"  domains: {', '.join(view.domains) or '-'}")
    click.echo(f"  customers: {view.customers}")
    for key, value in sorted(view.attributes.items()):
        click.echo(f"  {key} = {value}")


@orgs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def list_(settings: Settings, as_json: bool) -> None:
    """Every organisation with its tier, domains and number of customers."""
    rows: list[OrganisationView] = []
    with runtime_for(settings) as runtime:
        while page := desk.list_organisations(runtime, after=rows[-1].id if rows else 0):
            rows.extend(page)
    if as_json:
        echo_json(rows)
        return
    for o in rows:
        click.echo(
            f"{o.id:>5} {o.name[:24]:<24} {o.tier or '-':<8} {o.customers:>6}  "
            f"{', '.join(o.domains)}"
        )


@orgs.command("show")
@click.argument("organisation")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def show(settings: Settings, organisation: str, as_json: bool) -> None:
    """An organisation (by name or id)."""
    with runtime_for(settings) as runtime, refusals():
        view = desk.organisation(runtime, _id(runtime, organisation))
    echo_json(view) if as_json else _show(view)


@orgs.command("create")
@click.argument("name")
@click.option("--domain", multiple=True, help="An email domain of theirs (repeatable).")
@click.option("--tier", default=None)
@click.option("--attr", multiple=True, help="A custom attribute, key=value (repeatable).")
@click.option("--as", "as_agent", default=None, help="The agent making the change.")
@pass_settings
def create(
    settings: Settings,
    name: str,
    domain: tuple[str, ...],
    tier: str | None,
    attr: tuple[str, ...],
    as_agent: str | None,
) -> None:
    """Add an organisation; customers writing from its domains join it."""
    with runtime_for(settings) as runtime, refusals():
        view = desk.create_organisation(
            runtime,
            name=name,
            tier=tier,
            domains=domain,
            attributes=attributes_of(attr),
            actor=actor_of(as_agent),
        )
    _show(view)


@orgs.command("update")
@click.argument("organisation")
@click.option("--name", default=None, help="A new name.")
@click.option("--tier", default=None)
@click.option("--no-tier", is_flag=True, help="Remove its tier.")
@click.option("--domain", multiple=True, help="Its domains: the whole list (repeatable).")
@click.option("--no-domains", is_flag=True, help="Remove every domain.")
@click.option("--attr", multiple=True, help="Set a custom attribute, key=value (repeatable).")
@click.option("--drop-attr", multiple=True, help="Remove a custom attribute (repeatable).")
@click.option("--as", "as_agent", default=None, help="The agent making the change.")
@pass_settings
def update(
    settings: Settings,
    organisation: str,
    name: str | None,
    tier: str | None,
    no_tier: bool,
    domain: tuple[str, ...],
    no_domains: bool,
    attr: tuple[str, ...],
    drop_attr: tuple[str, ...],
    as_agent: str | None,
) -> None:
    """Change an organisation (by name or id); what is not named is kept."""
    changes = OrganisationChanges(
        name=name,
        tier=tier,
        clear_tier=no_tier,
        domains=() if no_domains else (domain or None),
        attributes=attributes_of(attr),
        drop_attributes=drop_attr,
    )
    with runtime_for(settings) as runtime, refusals():
        view = desk.update_organisation(
            runtime, _id(runtime, organisation), changes, actor=actor_of(as_agent)
        )
    _show(view)
