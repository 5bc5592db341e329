"""``relaydesk report``: the figures of a period in the terminal, as CSV or as JSON."""

from __future__ import annotations

import sys
import time
from datetime import date, datetime

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from config.settings import Settings
from router.report_figures import ReportFilters
from workers.cli.context import pass_settings, runtime_for
from workers.cli.report_output import print_tables, write_csv, write_json
from workers.desk.reports import STEPS, make_report, report_period

SHOW_PROGRESS_AFTER_S = 0.5  # a report quicker than this shows no bar


class _Bar:
    """A progress bar on stderr that appears only once the report takes a while."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.began = time.monotonic()
        self.progress: Progress | None = None
        self.done = 0

    def __call__(self, step: str) -> None:
        self.done += 1
        late = time.monotonic() - self.began > SHOW_PROGRESS_AFTER_S
        if self.progress is None and late and self.console.is_terminal:
            self.progress = Progress(
                TextColumn("counting {task.description}"),
                BarColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(step, total=len(STEPS), completed=self.done)
        if self.progress is not None:
            self.progress.update(self.task, completed=self.done, description=step)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@click.command("report")
@click.option("--since", default=None, help="today, 7d, 30d or any number of days [7d].")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day (included).")
@click.option("--team", multiple=True, help="Only this team's tickets (repeatable).")
@click.option("--channel", multiple=True, help="email, telegram, web (repeatable).")
@click.option("--category", multiple=True, help="Repeatable.")
@click.option("--priority", multiple=True, help="urgent, high, normal, low (repeatable).")
@click.option("--agent", multiple=True, help="The tickets' assignee (repeatable).")
@click.option("--organisation", multiple=True, help="The requester's (repeatable).")
@click.option("--form", multiple=True, help="The web form's slug (repeatable).")
@click.option(
    "--config-version",
    multiple=True,
    help="The configuration version that classified the ticket (repeatable; config history).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@pass_settings
def report(
    settings: Settings,
    since: str | None,
    first: datetime | None,
    last: datetime | None,
    team: tuple[str, ...],
    channel: tuple[str, ...],
    category: tuple[str, ...],
    priority: tuple[str, ...],
    agent: tuple[str, ...],
    organisation: tuple[str, ...],
    form: tuple[str, ...],
    config_version: tuple[str, ...],
    fmt: str,
) -> None:
    """The desk's figures over a period: volume, backlog, speed, promises, people and
    the top tens (README: "Reports" says what each one means)."""
    filters = ReportFilters(
        team=team,
        channel=channel,
        category=category,
        priority=tuple(p.lower() for p in priority),
        agent=agent,
        organisation=organisation,
        form=form,
        config_version=config_version,
    )
    with runtime_for(settings) as runtime:
        try:
            period = report_period(runtime, since=since, first=_day(first), last=_day(last))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        bar = _Bar(Console(stderr=True))
        try:
            made = make_report(runtime, period, filters, progress=bar)
        finally:
            bar.close()
    if fmt == "csv":
        write_csv(made, sys.stdout)
    elif fmt == "json":
        write_json(made, sys.stdout)
    else:
        print_tables(made, Console())
