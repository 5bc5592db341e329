"""``relaydesk config``: check a settings file; reload it into the running desk, list the
versions applied, roll back to one (workers/desk/config_changes.py)."""

from __future__ import annotations

import os

import click
from rich.console import Console
from rich.table import Table

from config.email_settings import unread_reply_address
from config.loader import EXAMPLE_PATH, ConfigError, chosen_path, load_settings
from config.redact import redact_url
from config.settings import Settings
from router.errors import NotFound
from router.vocabulary import ConfigAction
from workers.cli.config_pilot import pilot_from_cli, pilot_group
from workers.cli.config_speech import operator, say_applied
from workers.cli.context import (
    config_option,
    echo_json,
    pass_settings,
    runtime_for,
    when,
    zone_option,
)
from workers.cli.speech import cli_texts
from workers.desk.config_changes import apply_settings, config_history, roll_back


@click.group("config")
def config_group() -> None:
    """Inspect, validate and apply the configuration."""


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
    smtp = settings.smtp
    if smtp.transport == "file":  # no relay: the host and port are not used
        click.echo(f"  smtp      file: .eml files in {smtp.file_dir}/")
    else:
        click.echo(f"  smtp      smtp {smtp.host}:{smtp.port}")
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


@config_group.command("reload")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--by", default=None, help="Who applies it (default: user@host).")
@click.option(
    "--pilot-teams",
    default=None,
    metavar="TEAM,...",
    help="Only these teams decide by it; the rest keep the desk's version (see config pilot).",
)
@config_option
@click.pass_context
def reload(ctx: click.Context, path: str | None, by: str | None, pilot_teams: str | None) -> None:
    """Validate PATH (or --config) and make it the desk's configuration: every process
    switches at its next message. A file with any problem is refused whole (exit 2).
    With --pilot-teams, it decides for those teams' tickets only until `config pilot
    promote` (everyone) or `config pilot end` (no one)."""
    chosen = chosen_path(path or (ctx.obj or {}).get("config_path"))
    try:
        candidate = load_settings(chosen)
    except ConfigError as exc:
        texts = cli_texts(Settings())
        click.echo(
            texts.ngettext(
                "%(file)s: %(num)d problem; nothing changed.",
                "%(file)s: %(num)d problems; nothing changed.",
                len(exc.problems),
                file=str(chosen),
            ),
            err=True,
        )
        for key, message in exc.problems:
            click.echo(f"  {key}: {message}", err=True)
        raise SystemExit(2) from None
    if pilot_teams is not None:
        with runtime_for(candidate) as runtime:
            pilot_from_cli(runtime, candidate, pilot_teams, operator(by), cli_texts(candidate))
        return
    with runtime_for(candidate) as runtime:
        applied = apply_settings(
            runtime, candidate, action=ConfigAction.RELOAD, applied_by=operator(by)
        )
    say_applied(applied, cli_texts(candidate))


@config_group.command("rollback")
@click.argument("version")
@click.option("--by", default=None, help="Who applies it (default: user@host).")
@pass_settings
def rollback(settings: Settings, version: str, by: str | None) -> None:
    """Make VERSION (its first digits will do; see `config history`) the desk's
    configuration again: every process switches at its next message."""
    texts = cli_texts(settings)
    with runtime_for(settings) as runtime:
        try:
            applied = roll_back(runtime, version, applied_by=operator(by))
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
        except ConfigError as exc:
            click.echo(
                texts.gettext(
                    "Configuration %(version)s no longer validates; nothing changed.",
                    version=version,
                ),
                err=True,
            )
            for key, message in exc.problems:
                click.echo(f"  {key}: {message}", err=True)
            raise SystemExit(2) from None
    say_applied(applied, texts)


@config_group.command("history")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@zone_option
@pass_settings
def history(settings: Settings, limit: int, as_json: bool, zone: str) -> None:
    """The configuration versions applied, newest (the desk's now) first: who, when, how."""
    with runtime_for(settings) as runtime:
        changes = config_history(runtime, limit)
    if as_json:
        echo_json(
            [
                {
                    "change": c.change_id,
                    "version": c.version,
                    "action": c.action.value,
                    "applied_by": c.applied_by,
                    "applied_at": c.applied_at,
                    "current": i == 0,
                    "pilot": {"version": c.pilot.version, "teams": list(c.pilot.teams)}
                    if c.pilot
                    else None,
                }
                for i, c in enumerate(changes)
            ]
        )
        return
    _ = cli_texts(settings).gettext
    if not changes:
        click.echo(_("No configuration version recorded yet: each process runs its own file."))
        return
    table = Table(title=_("Configuration versions"))
    headers = (_("Change"), _("Version"), _("Pilot"), _("How"), _("Applied by"), _("Applied at"))
    for header in (*headers, ""):
        table.add_column(header)
    for i, c in enumerate(changes):
        mark = _("current") if i == 0 else ""
        table.add_row(
            str(c.change_id),
            c.version,
            _(
                "%(version)s on %(teams)s",
                version=c.pilot.version,
                teams=", ".join(c.pilot.teams),
            )
            if c.pilot
            else "",
            c.action.value,
            c.applied_by,
            when(c.applied_at, zone),
            mark,
        )
    Console().print(table)


config_group.add_command(pilot_group)
