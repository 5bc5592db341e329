"""What ``relaydesk config`` says about a change it applied, and who applied it."""

from __future__ import annotations

import getpass
import socket

import click

from router.catalogs import Texts
from workers.desk.config_changes import Applied


def operator(by: str | None) -> str:
    return by or f"{getpass.getuser()}@{socket.gethostname()}"


def say_applied(applied: Applied, texts: Texts) -> None:
    _ = texts.gettext
    if not applied.changed:
        click.echo(
            _(
                "Configuration %(version)s is the desk's already: nothing changed.",
                version=applied.version,
            )
        )
        return
    click.echo(
        _(
            "Configuration %(version)s applied (was %(previous)s): every process "
            "switches to it at its next message.",
            version=applied.version,
            previous=applied.previous or "-",
        )
    )
    if applied.pilot_ended:
        click.echo(_("  the pilot of %(version)s ended", version=applied.pilot_ended))
    for change in applied.directory:
        click.echo(_("  roster: %(change)s", change=change))
    if applied.restart_keys:
        click.echo(
            _(
                "  takes effect as each process restarts: %(keys)s",
                keys=", ".join(applied.restart_keys),
            )
        )
