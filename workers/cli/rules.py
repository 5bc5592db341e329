"""``relaydesk rules simulate``: what a candidate configuration's classification rules
would change on the period's tickets, written nowhere (router/rule_simulation.py)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from typing import TextIO

import click
from rich.console import Console
from rich.progress import track
from rich.table import Table

from config import load_settings
from config.loader import ConfigError
from config.settings import Settings
from router.catalogs import Texts
from router.rule_simulation import Simulation, compare
from store.ticket_arrivals import TicketArrivals
from workers.cli.context import pass_settings, runtime_for
from workers.cli.speech import cli_texts
from workers.desk.reports import report_period
from workers.runtime.rule_book import rule_setup


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
    fmt: str,
) -> None:
    """Replay the period's tickets through CANDIDATE's rules as they arrived and list what
    would change: category, priority, team, skills; rules that never match; tickets no
    rule matches. Nothing is written."""
    proposed = rule_setup(_candidate(candidate))
    texts = cli_texts(settings)
    with runtime_for(settings) as runtime:
        if first is None and last is None and since is None:
            since = "30d"
        try:
            period = report_period(runtime, since=since, first=_day(first), last=_day(last))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        with runtime.db.unit_of_work() as uow:
            arrivals = TicketArrivals(uow.session)
            total = arrivals.count(period.start, period.end, team)
            err = Console(stderr=True)
            stream = track(
                arrivals.between(period.start, period.end, team),
                total=total,
                description=texts.gettext("Replaying tickets"),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            )
            result = compare(stream, rule_setup(settings), proposed)
    if fmt == "json":
        _json(result, sys.stdout)
    elif fmt == "csv":
        _csv(result, sys.stdout)
    else:
        _tables(result, texts, Console())


def _json(result: Simulation, out: TextIO) -> None:
    json.dump(
        {
            "tickets": result.tickets,
            "changed": result.changed,
            "changes": [
                {
                    "field": c.field,
                    "from": c.before,
                    "to": c.after,
                    "count": c.count,
                    "examples": list(c.examples),
                }
                for c in result.changes
            ],
            "rules_never_matched": list(result.rules_never_matched),
            "unmatched": result.unmatched,
            "unmatched_examples": list(result.unmatched_examples),
        },
        out,
        indent=2,
    )
    out.write("\n")


def _csv(result: Simulation, out: TextIO) -> None:
    """One row per change; never-matching rules and unmatched tickets as rows of their own."""
    writer = csv.writer(out)
    writer.writerow(["kind", "field", "from", "to", "count", "examples"])
    for c in result.changes:
        examples = " ".join(str(n) for n in c.examples)
        writer.writerow(["change", c.field, c.before, c.after, c.count, examples])
    for name in result.rules_never_matched:
        writer.writerow(["rule_never_matched", "", name, "", 0, ""])
    examples = " ".join(str(n) for n in result.unmatched_examples)
    writer.writerow(["no_rule_matched", "", "", "", result.unmatched, examples])


def _tables(result: Simulation, texts: Texts, console: Console) -> None:
    _ = texts.gettext
    console.print(
        texts.ngettext(
            "%(changed)d of %(num)d ticket would be classified differently.",
            "%(changed)d of %(num)d tickets would be classified differently.",
            result.tickets,
            changed=result.changed,
        )
    )
    if result.changes:
        table = Table(title=_("What would change"))
        for header in (_("Field"), _("From"), _("To"), _("Tickets"), _("For example")):
            table.add_column(header)
        words = {
            "category": _("category"),
            "priority": _("priority"),
            "team": _("team"),
            "skills": _("skills"),
        }
        for c in result.changes:
            examples = ", ".join(f"#{n}" for n in c.examples)
            table.add_row(words[c.field], c.before, c.after, str(c.count), examples)
        console.print(table)
    if result.rules_never_matched:
        console.print(
            _(
                "Rules that would never match: %(rules)s",
                rules=", ".join(result.rules_never_matched),
            )
        )
    if result.unmatched:
        examples = ", ".join(f"#{n}" for n in result.unmatched_examples)
        console.print(
            texts.ngettext(
                "%(num)d ticket matches no rule (for example %(examples)s).",
                "%(num)d tickets match no rule (for example %(examples)s).",
                result.unmatched,
                examples=examples,
            )
        )
