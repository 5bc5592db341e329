"""``relaydesk rules simulate``: what a candidate configuration would change on the
period's tickets (classification, routing, SLA), written nowhere
(router/desk_simulation.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime

import click
from rich.console import Console
from rich.progress import track

from config import load_settings
from config.loader import ConfigError
from config.settings import Settings
from router.rule_simulation import Arrival
from router.simulation_report import report
from workers.cli.context import pass_settings, runtime_for
from workers.cli.simulation_output import print_tables, write_csv
from workers.cli.speech import cli_texts
from workers.desk.simulations import simulate_candidate


@click.group("rules")
def rules() -> None:
    """The classification rules: try a change on past tickets before applying it."""


def _candidate(path: str) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as exc:
        for where, message in exc.problems:
            click.echo(f"config error: {path}: {where}: {message}", err=True)
        raise SystemExit(2) from None


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@rules.command("simulate")
@click.argument("candidate", type=click.Path(exists=True, dir_okay=False))
@click.option("--since", default=None, help="today, 7d, 30d or any number of days [30d].")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day (included).")
@click.option("--team", multiple=True, help="Only the tickets of this team now (repeatable).")
@click.option(
    "--pilot-teams",
    default="",
    help="Pilot CANDIDATE on these teams only (a,b), the rest keeping the desk's "
    "configuration, as `config reload --pilot-teams` would.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@pass_settings
def simulate(
    settings: Settings,
    candidate: str,
    since: str | None,
    first: datetime | None,
    last: datetime | None,
    team: tuple[str, ...],
    pilot_teams: str,
    fmt: str,
) -> None:
    """Replay the period's tickets through CANDIDATE as they arrived and list what would
    change: category, priority, team, skills; rules that never match; tickets no rule
    matches; who would take the work and who could not; SLA due times and the targets
    met or missed. Nothing is written."""
    proposed = _candidate(candidate)
    texts = cli_texts(settings)
    err = Console(stderr=True)

    def watch(arrivals: Iterator[Arrival], total: int) -> Iterable[Arrival]:
        description = texts.gettext("Replaying tickets")
        disable = not err.is_terminal
        return track(
            arrivals,
            total=total,
            description=description,
            console=err,
            transient=True,
            disable=disable,
        )

    with runtime_for(settings) as runtime:
        try:
            result = simulate_candidate(
                runtime,
                proposed,
                since=since,
                first=_day(first),
                last=_day(last),
                teams=team,
                pilot_teams=tuple(t.strip() for t in pilot_teams.split(",") if t.strip()),
                watch=watch,
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    if fmt == "json":
        json.dump(report(result), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif fmt == "csv":
        write_csv(result, sys.stdout)
    else:
        print_tables(result, texts, Console())
