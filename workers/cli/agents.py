"""``relaydesk agents add|list|status|link|unlink|password|sign-out``."""

from __future__ import annotations

import sys
from typing import Any

import click

from config.settings import Settings
from router.errors import NotFound
from router.vocabulary import AgentStatus
from workers.cli.context import echo_json, pass_settings, runtime_for, when
from workers.cli.speech import cli_texts
from workers.desk.agents import add_agent, make_link_code, set_agent_status, unlink_agent
from workers.desk.sign_in import end_sessions, set_password

STATUSES = [s.value for s in AgentStatus]


@click.group()
def agents() -> None:
    """Manage agents."""


def _skill(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, int]:
    skills = {}
    for value in values:
        name, sep, level = value.partition("=")
        if not sep or not name or not level.isdigit() or not 1 <= int(level) <= 5:
            raise click.BadParameter(f"{value!r}: expected SKILL=LEVEL with LEVEL 1..5")
        skills[name.strip().lower()] = int(level)  # skill names are compared lowercased
    return skills


@agents.command("add")
@click.argument("name")
@click.option("--email", required=True, help="Where notifications go.")
@click.option("--display-name", default="", help="Full name.")
@click.option("--team", "teams", multiple=True, help="Team (repeatable).")
@click.option("--capacity", type=click.IntRange(0, 10_000), default=5, show_default=True)
@click.option("--status", type=click.Choice(STATUSES), default="offline", show_default=True)
@click.option("--skill", "skills", multiple=True, callback=_skill, help="SKILL=LEVEL (1..5).")
@pass_settings
def add(
    settings: Settings,
    name: str,
    email: str,
    display_name: str,
    teams: tuple[str, ...],
    capacity: int,
    status: str,
    skills: dict[str, int],
) -> None:
    """Add agent NAME."""
    if "@" not in email or any(c in email for c in "\r\n <>"):  # the rule config applies
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="--email")
    with runtime_for(settings) as runtime:
        try:
            add_agent(
                runtime,
                name=name,
                email=email,
                display_name=display_name,
                teams=teams,
                capacity=capacity,
                status=AgentStatus(status),
                skills=skills,
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"agent {name} added ({status}, capacity {capacity})")


@agents.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def list_agents(settings: Settings, as_json: bool) -> None:
    """List agents with their status and load."""
    with runtime_for(settings) as runtime, runtime.db.unit_of_work() as uow:
        rows: list[dict[str, Any]] = [
            {
                "name": a.name,
                "display_name": a.display_name,
                "email": a.email,
                "status": a.status,
                "load": a.load,
                "capacity": a.capacity,
                "teams": sorted(t.name for t in a.teams),
                "skills": {s.skill: s.level for s in a.skills},
                "last_assigned_at": a.last_assigned_at,
            }
            for a in uow.agents.all()
        ]
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'NAME':<12} {'STATUS':<8} {'LOAD':>7}  {'TEAMS':<20} LAST ASSIGNED")
    for r in rows:
        load = f"{r['load']}/{r['capacity']}"
        teams = ",".join(r["teams"])
        click.echo(
            f"{r['name']:<12} {r['status']:<8} {load:>7}  {teams:<20} {when(r['last_assigned_at'])}"
        )


@agents.command("status")
@click.argument("name")
@click.argument("status", type=click.Choice(STATUSES), required=False)
@pass_settings
def status(settings: Settings, name: str, status: str | None) -> None:
    """Show agent NAME's routing status, or set it to STATUS."""
    with runtime_for(settings) as runtime:
        if status is None:
            with runtime.db.unit_of_work() as uow:
                agent = uow.agents.by_name(name)
                if agent is None:
                    raise click.ClickException(f"no agent named {name!r}")
                click.echo(f"{name}: {agent.status}, load {agent.load}/{agent.capacity}")
            return
        try:
            previous = set_agent_status(runtime, name, AgentStatus(status))
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{name}: {previous} -> {status}")


@agents.command("link")
@click.argument("name")
@pass_settings
def link(settings: Settings, name: str) -> None:
    """Print a one-time code that links agent NAME's Telegram account (send /start CODE to the
    bot); a new code replaces the previous one."""
    with runtime_for(settings) as runtime:
        try:
            code, expires_at = make_link_code(runtime, name)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
    minutes = max(1, round((expires_at - runtime.now()).total_seconds() / 60))
    texts = cli_texts(settings)
    _ = texts.gettext
    click.echo(_("Link code for %(agent)s: %(code)s", agent=name, code=code))
    click.echo(
        texts.ngettext(
            "%(agent)s sends this to the support bot within %(num)d minute:",
            "%(agent)s sends this to the support bot within %(num)d minutes:",
            minutes,
            agent=name,
        )
    )
    click.echo(f"  /start {code}")
    if not settings.telegram.enabled:
        click.echo(_("(Telegram is not enabled in this configuration yet.)"))


@agents.command("unlink")
@click.argument("name")
@pass_settings
def unlink(settings: Settings, name: str) -> None:
    """Forget agent NAME's Telegram account: notices go by email again."""
    with runtime_for(settings) as runtime:
        try:
            unlink_agent(runtime, name)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(cli_texts(settings).gettext("%(agent)s: Telegram unlinked", agent=name))


@agents.command("password")
@click.argument("name")
@pass_settings
def password(settings: Settings, name: str) -> None:
    """Set agent NAME's password for signing in to the staff API and the workspace.

    On a terminal it is asked twice and never echoed; otherwise the first line
    of standard input is the password (for scripts). NAME's open sessions end.
    """
    _ = cli_texts(settings).gettext
    if sys.stdin.isatty():
        secret = click.prompt(
            _("New password for %(agent)s", agent=name),
            hide_input=True,
            confirmation_prompt=_("Repeat it"),
        )
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    with runtime_for(settings) as runtime:
        try:
            ended = set_password(runtime, name, secret)
        except (NotFound, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    texts = cli_texts(settings)
    if ended:
        click.echo(
            texts.ngettext(
                "%(agent)s: password set; %(num)d open session ended",
                "%(agent)s: password set; %(num)d open sessions ended",
                ended,
                agent=name,
            )
        )
    else:
        click.echo(texts.gettext("%(agent)s: password set", agent=name))


@agents.command("sign-out")
@click.argument("name")
@pass_settings
def sign_out(settings: Settings, name: str) -> None:
    """End every open session of agent NAME at once (their API tokens stay: `tokens revoke`)."""
    with runtime_for(settings) as runtime:
        try:
            ended = end_sessions(runtime, name)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        cli_texts(settings).ngettext(
            "%(agent)s: %(num)d open session ended",
            "%(agent)s: %(num)d open sessions ended",
            ended,
            agent=name,
        )
    )
