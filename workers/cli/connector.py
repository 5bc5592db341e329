"""``relaydesk connector imap|smtp|telegram``: run a channel connector on its own."""

from __future__ import annotations

import threading
from typing import Any

import click

from config.settings import Settings
from workers.cli.context import echo_json, pass_settings, runtime_for, when


@click.group()
def connector() -> None:
    """Run a channel connector on its own (distributed mode)."""


def _run(settings: Settings, *, imap: bool, smtp: bool) -> None:
    from workers.channels.mail_connectors import run_mail_connectors
    from workers.runtime.build import build_runtime
    from workers.runtime.heartbeat import Heartbeat
    from workers.runtime.processes import stop_on_signals

    runtime = build_runtime(settings, pool_size=4)
    stop = threading.Event()
    stop_on_signals(stop.set)
    kinds = ["imap"] * imap + ["smtp"] * smtp
    heartbeat = Heartbeat(runtime, "connector", kinds).start()
    try:
        run_mail_connectors(runtime, imap=imap, smtp=smtp, stop=stop)
    finally:
        heartbeat.stop()
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


@connector.command()
@pass_settings
def telegram(settings: Settings) -> None:
    """Poll the Telegram bot's updates into the inbox (or, in webhook mode, register the
    webhook the web app receives and exit)."""
    from router.errors import RelaydeskError
    from workers.channels.intake import StoreIntake
    from workers.channels.telegram_connector import TelegramConnector, run_telegram_connector
    from workers.runtime.build import build_runtime
    from workers.runtime.processes import stop_on_signals

    if not settings.telegram.enabled:
        raise click.UsageError("Telegram is not enabled: set [telegram] enabled = true and a token")
    runtime = build_runtime(settings, pool_size=4)
    try:
        if settings.telegram.mode == "webhook":
            connector_ = TelegramConnector(runtime, StoreIntake(runtime))
            try:
                for line in connector_.start():
                    click.echo(f"relaydesk connector: {line}")
            finally:
                connector_.stop()
            return
        from workers.runtime.heartbeat import Heartbeat

        stop = threading.Event()
        stop_on_signals(stop.set)
        heartbeat = Heartbeat(runtime, "connector", ["telegram"]).start()
        try:
            run_telegram_connector(runtime, StoreIntake(runtime), stop)
        finally:
            heartbeat.stop()
    except RelaydeskError as exc:
        raise click.ClickException(f"Telegram: {exc}") from None
    finally:
        runtime.close()


@connector.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def status(settings: Settings, as_json: bool) -> None:
    """How far each IMAP mailbox has been read, and its last error."""
    with runtime_for(settings) as runtime, runtime.db.unit_of_work() as uow:
        cursors = {c.mailbox: c for c in uow.mailboxes.all()}
    rows: list[dict[str, Any]] = []
    for mailbox in settings.email.mailboxes:
        cursor = cursors.get(mailbox.name)
        rows.append(
            {
                "mailbox": mailbox.name,
                "server": f"{mailbox.username}@{mailbox.host}:{mailbox.port}/{mailbox.folder}",
                "uidvalidity": cursor.uidvalidity if cursor else None,
                "last_uid": cursor.last_uid if cursor else None,
                "error": cursor.last_error if cursor else None,
                "updated_at": cursor.updated_at if cursor else None,
            }
        )
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no IMAP mailboxes configured")
    for row in rows:
        state = (
            "never polled"
            if row["uidvalidity"] is None
            else (
                f"UIDVALIDITY {row['uidvalidity']}, last UID {row['last_uid']}, "
                f"at {when(row['updated_at'])}"
            )
        )
        click.echo(f"{row['mailbox']:<12} {row['server']}: {state}")
        if row["error"]:
            click.echo(f"{'':<12} error: {row['error']}")
