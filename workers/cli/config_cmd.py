"""``relaydesk config check``: validate a settings file, print every problem with its key path."""

from __future__ import annotations

import os

import click

from config.email_settings import unread_reply_address
from config.loader import EXAMPLE_PATH, ConfigError, load_settings
from config.redact import redact_url
from workers.cli.context import config_option


@click.group("config")
def config_group() -> None:
    """Inspect and validate configuration."""


@config_group.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@config_option
@click.pass_context
def check(ctx: click.Context, path: str | None) -> None:
    """Validate PATH (or --config, or the example); exit 2 when anything is wrong."""
    chosen = path or (ctx.obj or {}).get("config_path") or os.environ.get("RELAYDESK_CONFIG")
    shown = chosen or f"{EXAMPLE_PATH} (the shipped example)"
    try:
        settings = load_settings(chosen)
    except ConfigError as exc:
        click.echo(f"{shown}: {len(exc.problems)} problem(s)", err=True)
        for key, message in exc.problems:
            click.echo(f"  {key}: {message}", err=True)
        raise SystemExit(2) from None
    click.echo(f"{shown}: ok")
    click.echo(f"  database  {redact_url(settings.database_url)}")
    click.echo(
        f"  broker    {'in-process' if settings.embedded else redact_url(settings.broker_url)}"
    )
    click.echo(f"  teams     {', '.join(t.name for t in settings.teams) or '-'}")
    click.echo(f"  agents    {', '.join(a.name for a in settings.agents) or '-'}")
    click.echo(f"  smtp      {settings.smtp.transport} {settings.smtp.host}:{settings.smtp.port}")
    unread = unread_reply_address(settings.helpdesk.address, settings.email)
    if unread:
        click.echo(f"  warning   {unread}")
    telegram = settings.telegram
    if telegram.enabled:
        source = (
            f"${telegram.token_env}"
            if telegram.token_env
            else telegram.token_file or "inline (prefer token_env)"
        )
        try:
            missing = "" if telegram.resolved_token() else " (empty: the bot cannot start)"
        except OSError as exc:
            missing = f" (unreadable: {exc.strerror})"
        click.echo(f"  telegram  {telegram.mode}, token from {source}{missing}")
    else:
        click.echo("  telegram  off")
