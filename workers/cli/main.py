"""``relaydesk``: the group, the shared --config option and the run commands."""

from __future__ import annotations

import getpass
import logging
import socket
from pathlib import Path

import click

from config.loader import chosen_path
from config.settings import Settings
from workers.channels.standard import standard_channels
from workers.cli import ticket_moves  # noqa: F401  (its commands join `tickets`)
from workers.cli.agents import agents
from workers.cli.config_cmd import config_group
from workers.cli.connector import connector
from workers.cli.context import pass_settings
from workers.cli.customers import customers
from workers.cli.demo import demo
from workers.cli.export import export
from workers.cli.health import health
from workers.cli.inbox import inbox
from workers.cli.organisations import orgs
from workers.cli.outbox import outbox
from workers.cli.report import report
from workers.cli.rules import rules
from workers.cli.status import status
from workers.cli.tickets import tickets
from workers.cli.tokens import tokens
from workers.cli.webhooks import webhooks
from workers.runtime.json_logs import configure as configure_logs
from workers.runtime.queues import all_queues

QUEUES = all_queues(standard_channels())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    envvar="RELAYDESK_CONFIG",
    type=click.Path(dir_okay=False),
    help="TOML settings file (default: the shipped example; env RELAYDESK_CONFIG).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    envvar="RELAYDESK_LOG_FORMAT",
    default=None,
    help="Logs as text, or as one JSON event per line (default: config's log_format).",
)
@click.pass_context
def main(
    ctx: click.Context, config_path: str | None, verbose: bool, log_format: str | None
) -> None:
    """relaydesk: an omnichannel helpdesk built as a fleet of workers."""
    configure_logs(log_format or "text", logging.INFO if verbose else logging.WARNING)
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["log_format"] = log_format


def _config_file() -> Path:
    """The file this process was started with: SIGHUP reads it again."""
    return chosen_path(click.get_current_context().find_root().obj.get("config_path"))


@main.command()
@pass_settings
def serve(settings: Settings) -> None:
    """Run everything in one process: web intake, worker, scheduler."""
    from workers.runtime.processes import serve as run

    run(settings, _config_file())


@main.command()
@click.option(
    "--queues",
    default=",".join(QUEUES),
    show_default=True,
    help="Comma-separated queues to consume.",
)
@click.option("--processes", "-p", type=click.IntRange(1, 64), default=None, help="Processes.")
@click.option("--threads", "-t", type=click.IntRange(1, 256), default=None, help="Threads each.")
@pass_settings
def worker(settings: Settings, queues: str, processes: int | None, threads: int | None) -> None:
    """Run worker processes on a shared broker (distributed mode)."""
    from workers.runtime.processes import supervise_workers

    if settings.embedded:
        raise click.UsageError(
            "`relaydesk worker` needs a shared broker: set RELAYDESK_BROKER_URL=redis://... "
            "(or amqp://...); for one process use `relaydesk serve`"
        )
    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(names) - set(QUEUES))
    if unknown or not names:
        raise click.BadParameter(
            f"unknown queue(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(QUEUES)}",
            param_hint="--queues",
        )
    supervise_workers(
        settings,
        names,
        processes or settings.worker.processes,
        threads or settings.worker.threads,
        _config_file(),
    )


@main.command()
@pass_settings
def scheduler(settings: Settings) -> None:
    """Run the scheduler: re-drive unfinished work, drain backlogs."""
    from workers.runtime.processes import run_scheduler

    run_scheduler(settings, _config_file())


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Web processes sharing the port (about one per core).",
)
@pass_settings
def web(settings: Settings, workers: int) -> None:
    """Run the web intake and API alone (distributed mode)."""
    from workers.runtime.processes import web as run

    run(settings, _config_file(), workers)


@main.command()
@pass_settings
def migrate(settings: Settings) -> None:
    """Apply database migrations and load config's teams and agents."""
    from config.redact import redact_url
    from router.errors import TransientError
    from store.errors import store_errors
    from store.migrate import current_revision
    from workers.desk.config_changes import apply_at_start
    from workers.runtime.build import build_runtime
    from workers.runtime.processes import prepare_database

    runtime = build_runtime(settings, pool_size=1)
    try:
        try:
            with store_errors("migrating"):
                changes = prepare_database(runtime)
        except TransientError as exc:
            raise click.ClickException(
                f"cannot reach the database {redact_url(settings.database_url)}: {exc} "
                "(on PostgreSQL, create it first, e.g. `createdb relaydesk`)"
            ) from None
        applied = apply_at_start(runtime, f"migrate {getpass.getuser()}@{socket.gethostname()}")
        click.echo(f"database at revision {current_revision(runtime.db)}")
        for change in changes:
            click.echo(f"  {change}")
        click.echo(f"configuration version {applied.version}")
    finally:
        runtime.close()


main.add_command(connector)
main.add_command(agents)
main.add_command(tickets)
main.add_command(tokens)
main.add_command(webhooks)
main.add_command(customers)
main.add_command(orgs)
main.add_command(inbox)
main.add_command(outbox)
main.add_command(config_group)
main.add_command(report)
main.add_command(rules)
main.add_command(export)
main.add_command(status)
main.add_command(health)
main.add_command(demo)
