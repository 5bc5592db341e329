"""``relaydesk connector imap|smtp``: run an email connector on its own."""

from __future__ import annotations

import threading

import click

from config.settings import Settings
from workers.cli.context import pass_settings


@click.group()
def connector() -> None:
    """Run a channel connector on its own (distributed mode)."""


def _run(settings: Settings, *, imap: bool, smtp: bool) -> None:
    from workers.mail_connectors import run_mail_connectors
    from workers.processes import stop_on_signals
    from workers.runtime import build_runtime

    runtime = build_runtime(settings, pool_size=4)
    stop = threading.Event()
    stop_on_signals(stop.set)
    try:
        run_mail_connectors(runtime, imap=imap, smtp=smtp, stop=stop)
    finally:
        runtime.close()


@connector.command()
@pass_settings
def imap(settings: Settings) -> None:
    """Poll the configured IMAP mailboxes (IDLE where offered) into the inbox."""
    if not settings.email.mailboxes:
        raise click.UsageError("no mailboxes configured: add [[email.mailboxes]] to the config")
    _run(settings, imap=True, smtp=False)


@connector.command()
@pass_settings
def smtp(settings: Settings) -> None:
    """Receive mail over SMTP for the configured addresses and domains."""
    inbound = settings.email.inbound_smtp
    if not (inbound.addresses or inbound.domains):
        raise click.UsageError(
            "set email.inbound_smtp.addresses or .domains: the server accepts mail only for them"
        )
    _run(settings, imap=False, smtp=True)
