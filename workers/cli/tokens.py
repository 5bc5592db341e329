"""``relaydesk tokens create|list|revoke``: API tokens for programs."""

from __future__ import annotations

from dataclasses import asdict

import click

from config.settings import Settings
from router.credentials import parse_lifetime
from router.errors import NotFound
from router.vocabulary import Role
from workers.cli.context import echo_json, pass_settings, runtime_for, when
from workers.cli.speech import cli_texts
from workers.desk.api_tokens import create_token, list_tokens, revoke_token

ROLES = [r.value for r in Role]


@click.group()
def tokens() -> None:
    """API tokens: a program acting for an agent, sent as `Authorization: Bearer TOKEN`."""


def _lifetime(_ctx: click.Context, _param: click.Parameter, value: str) -> object:
    try:
        return parse_lifetime(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@tokens.command("create")
@click.option("--agent", required=True, help="The agent the token acts for.")
@click.option(
    "--role", type=click.Choice(ROLES), default=None, help="Narrower than the agent's role."
)
@click.option(
    "--expires",
    "lifetime",
    default="never",
    show_default=True,
    callback=_lifetime,
    help="Lifetime: 90m, 12h, 30d, 8w or never.",
)
@click.option("--name", default="", help="What it is for, e.g. crm-sync.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def create(
    settings: Settings,
    agent: str,
    role: str | None,
    lifetime: object,
    name: str,
    as_json: bool,
) -> None:
    """Make a token for AGENT and print it, this once: only its hash is kept."""
    with runtime_for(settings) as runtime:
        try:
            made = create_token(
                runtime,
                agent,
                role=Role(role) if role else None,
                lifetime=lifetime,  # type: ignore[arg-type]
                name=name,
            )
        except (NotFound, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        echo_json({"token": made.secret, **asdict(made.token)})
        return
    token = made.token
    expires = f"expires {when(token.expires_at)}" if token.expires_at else "never expires"
    click.echo(f"token {token.id} for {token.agent} as {token.role}, {expires}:")
    click.echo(made.secret)
    click.echo(
        cli_texts(settings).gettext("It is shown this once: keep it in a secret store."),
        err=True,
    )


@tokens.command("list")
@click.option("--agent", default=None, help="Only this agent's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def list_(settings: Settings, agent: str | None, as_json: bool) -> None:
    """List tokens (never their secrets): role, expiry, revocation and last use."""
    with runtime_for(settings) as runtime:
        rows = list_tokens(runtime, agent=agent)
    if as_json:
        echo_json(rows)
        return
    click.echo(
        f"{'ID':>4} {'HINT':<13} {'AGENT':<10} {'ROLE':<10} {'NAME':<16} {'EXPIRES':<19} LAST USED"
    )
    for t in rows:
        state = f"revoked {when(t.revoked_at)}" if t.revoked_at else when(t.expires_at)
        used = f"{when(t.last_used_at)} from {t.last_used_from}" if t.last_used_at else "never"
        click.echo(
            f"{t.id:>4} {t.hint + '…':<13} {t.agent:<10} {t.role:<10} {t.name[:16]:<16} "
            f"{state:<19} {used}"
        )


@tokens.command("revoke")
@click.argument("token_id", type=int)
@pass_settings
def revoke(settings: Settings, token_id: int) -> None:
    """Revoke token TOKEN_ID: it stops working at once."""
    with runtime_for(settings) as runtime:
        try:
            token = revoke_token(runtime, token_id)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"token {token.id} ({token.agent}, {token.name or 'unnamed'}) revoked")
