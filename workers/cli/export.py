"""``relaydesk export``: tickets (and their messages) as CSV or JSON Lines."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import click

from config.settings import Settings
from router.export_format import ExportFilters
from router.vocabulary import Priority, Status
from workers.cli.context import pass_settings, runtime_for
from workers.desk.export import Export


def _instant(value: datetime | None) -> datetime | None:
    """A date or time given on the command line, read as UTC."""
    return None if value is None else value.replace(tzinfo=UTC)


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option("--messages", is_flag=True, help="CSV: a row per message; JSON: nested.")
@click.option("--bom", is_flag=True, help="Start the CSV with a UTF-8 byte order mark (Excel).")
@click.option("--after", type=click.IntRange(0), default=0, help="Continue after this ticket.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--status", multiple=True, type=click.Choice([s.value for s in Status]))
@click.option("--priority", multiple=True, type=click.Choice([p.value for p in Priority]))
@click.option("--team", multiple=True)
@click.option("--assignee", multiple=True, help="Agent name.")
@click.option("--channel", multiple=True)
@click.option("--category", multiple=True)
@click.option("--tag", multiple=True, help="Tickets with any of these tags.")
@click.option("--organisation", multiple=True, help="The requester's organisation.")
@click.option("--form", multiple=True, help="The web form's slug.")
@click.option("--config-version", multiple=True, help="The version that classified the ticket.")
@click.option("--created-from", type=click.DateTime(), help="UTC, included.")
@click.option("--created-to", type=click.DateTime(), help="UTC, excluded.")
@pass_settings
def export(
    settings: Settings,
    fmt: str,
    messages: bool,
    bom: bool,
    after: int,
    output: Path | None,
    status: tuple[str, ...],
    priority: tuple[str, ...],
    team: tuple[str, ...],
    assignee: tuple[str, ...],
    channel: tuple[str, ...],
    category: tuple[str, ...],
    tag: tuple[str, ...],
    organisation: tuple[str, ...],
    form: tuple[str, ...],
    config_version: tuple[str, ...],
    created_from: datetime | None,
    created_to: datetime | None,
) -> None:
    """Write tickets, oldest first, to OUTPUT (default: standard output). A stopped export
    continues with --after and the cursor it printed (appending to OUTPUT)."""
    filters = ExportFilters(
        status=status,
        priority=priority,
        team=team,
        assignee=assignee,
        channel=channel,
        category=category,
        tag=tag,
        organisation=organisation,
        form=form,
        config_version=config_version,
        created_from=_instant(created_from),
        created_to=_instant(created_to),
    )
    with runtime_for(settings) as runtime:
        job = Export(runtime, filters, fmt=fmt, messages=messages, after=after, bom=bom)  # type: ignore[arg-type]
        sink: BinaryIO = output.open("ab" if after else "wb") if output else sys.stdout.buffer
        try:
            for chunk in job:
                sink.write(chunk.encode("utf-8"))
        finally:
            sink.flush()
            if output:
                sink.close()
            click.echo(
                f"{job.count} tickets exported; cursor {job.cursor} "
                f"(continue with --after {job.cursor})",
                err=True,
            )
