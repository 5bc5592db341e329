"""``relaydesk config reload FILE --pilot-teams a,b`` and ``relaydesk config pilot``:
a candidate configuration for some teams first, then for everyone or for no one
(workers/desk/config_pilots.py), and what each version decided meanwhile."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from config.settings import Settings
from router.catalogs import Texts
from router.vocabulary import AuditAction
from workers.cli.config_speech import operator, say_applied
from workers.cli.context import echo_json, pass_settings, runtime_for, when, zone_option
from workers.cli.speech import cli_texts
from workers.desk.config_pilots import (
    PilotComparison,
    PilotProblem,
    PilotRefused,
    PilotStarted,
    compare_pilot,
    end_pilot,
    promote_pilot,
    start_pilot,
)
from workers.runtime.context import Runtime


def problem_text(problem: PilotProblem, team: str, texts: Texts) -> str:
    _ = texts.gettext
    if problem is PilotProblem.NO_VERSION:
        return _("no configuration version is in force yet: apply one first")
    if problem is PilotProblem.NO_TEAMS:
        return _("name at least one team to pilot on")
    if problem is PilotProblem.NOT_A_TEAM:
        return _("%(team)s is not a team of both the desk's version and the candidate", team=team)
    if problem is PilotProblem.SAME_VERSION:
        return _("the candidate is the desk's version already")
    return _("no pilot is running")


def refuse(exc: PilotRefused, texts: Texts) -> None:
    click.echo(texts.gettext("Nothing changed:"), err=True)
    for problem, team in exc.problems:
        click.echo(f"  {problem_text(problem, team, texts)}", err=True)
    raise SystemExit(2)


def pilot_from_cli(
    runtime: Runtime, candidate: Settings, teams: str, applied_by: str, texts: Texts
) -> None:
    """``config reload FILE --pilot-teams``: start the pilot and say what happened."""
    _ = texts.gettext
    try:
        started = start_pilot(runtime, candidate, teams.split(","), applied_by=applied_by)
    except PilotRefused as exc:
        refuse(exc, texts)
    say_started(started, texts)


def say_started(started: PilotStarted, texts: Texts) -> None:
    _ = texts.gettext
    click.echo(
        _(
            "Configuration %(candidate)s piloted on %(teams)s; every other team keeps "
            "%(version)s. Every process switches at its next message.",
            candidate=started.candidate,
            teams=", ".join(started.teams),
            version=started.version,
        )
    )
    if started.ended:
        click.echo(_("  the pilot of %(version)s ended", version=started.ended))
    if started.roster_waits:
        click.echo(
            _(
                "  the candidate's %(keys)s differ: the roster changes when the pilot is promoted",
                keys=", ".join(started.roster_waits),
            )
        )


@click.group("pilot")
def pilot_group() -> None:
    """A candidate configuration piloted on some teams: promote it, end it, compare."""


@pilot_group.command("promote")
@click.option("--by", default=None, help="Who applies it (default: user@host).")
@pass_settings
def promote(settings: Settings, by: str | None) -> None:
    """The piloted candidate becomes every team's configuration (its roster too)."""
    texts = cli_texts(settings)
    with runtime_for(settings) as runtime:
        try:
            applied = promote_pilot(runtime, applied_by=operator(by))
        except PilotRefused as exc:
            refuse(exc, texts)
    say_applied(applied, texts)


@pilot_group.command("end")
@click.option("--by", default=None, help="Who applies it (default: user@host).")
@pass_settings
def end(settings: Settings, by: str | None) -> None:
    """Every team back on the desk's version; the candidate is kept in the history."""
    texts = cli_texts(settings)
    with runtime_for(settings) as runtime:
        try:
            candidate = end_pilot(runtime, applied_by=operator(by))
        except PilotRefused as exc:
            refuse(exc, texts)
    click.echo(
        texts.gettext(
            "The pilot of %(version)s ended: every team decides by the desk's version at "
            "its next message.",
            version=candidate,
        )
    )


@pilot_group.command("compare")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@zone_option
@pass_settings
def compare(settings: Settings, as_json: bool, zone: str) -> None:
    """Per team and version, the tickets created, assigned and breached since the last
    pilot started: the pilot's teams under the candidate beside the rest."""
    texts = cli_texts(settings)
    with runtime_for(settings) as runtime:
        result = compare_pilot(runtime)
    if as_json:
        echo_json(_as_json(result))
        return
    _ = texts.gettext
    started = result.started
    if started is None or started.pilot is None:
        click.echo(_("No pilot was ever started."))
        return
    click.echo(
        _(
            "Pilot of %(candidate)s on %(teams)s beside %(version)s, since %(since)s%(state)s.",
            candidate=started.pilot.version,
            teams=", ".join(started.pilot.teams),
            version=started.version,
            since=when(started.applied_at, zone),
            state=_(" (running)") if result.running else _(" (over)"),
        )
    )
    columns = {
        AuditAction.TICKET_CREATED: _("Created"),
        AuditAction.TICKET_ASSIGNED: _("Assigned"),
        AuditAction.SLA_BREACHED: _("Breached"),
    }
    counts: dict[tuple[str, str], dict[AuditAction, int]] = {}
    for d in result.decisions:
        counts.setdefault((d.team, d.version), {})[d.action] = d.tickets
    table = Table(title=_("Tickets decided, per team and version"))
    for header in (_("Team"), _("Version"), *columns.values()):
        table.add_column(header)
    for (team, version), row in counts.items():
        mark = _("%(version)s (pilot)", version=version)
        shown = mark if version == started.pilot.version else version or "-"
        table.add_row(team, shown, *(str(row.get(a, 0)) for a in columns))
    Console().print(table)


def _as_json(result: PilotComparison) -> dict[str, object]:
    started = result.started
    pilot = started.pilot if started else None
    return {
        "pilot": None
        if started is None or pilot is None
        else {
            "version": started.version,
            "candidate": pilot.version,
            "teams": list(pilot.teams),
            "started_at": started.applied_at,
            "running": result.running,
        },
        "decisions": [
            {
                "team": d.team,
                "version": d.version,
                "action": d.action.value,
                "tickets": d.tickets,
            }
            for d in result.decisions
        ],
    }
