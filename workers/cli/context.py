"""Shared plumbing of the commands: settings from the group, a runtime, JSON output."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

import click

from config import load_settings
from config.loader import ConfigError
from config.settings import Settings, known_zone
from router.time_texts import reader_time
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime


def _remember_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:  # given after the command: it wins over one given before it
        ctx.ensure_object(dict)
        ctx.obj["config_path"] = value


# --config is the group's option (`relaydesk --config x.toml serve`) and every command's
# (`relaydesk serve --config x.toml`), as users type it
config_option = click.option(
    "-c",
    "--config",
    type=click.Path(dir_okay=False),
    expose_value=False,
    is_eager=True,
    callback=_remember_config,
    help="TOML settings file (also accepted before the command; env RELAYDESK_CONFIG).",
)


def settings_or_exit(ctx: click.Context) -> Settings:
    """The settings the group's (or the command's) --config names; exit 2 with every problem."""
    try:
        settings = load_settings(ctx.obj.get("config_path"))
    except ConfigError as exc:
        for path, message in exc.problems:
            click.echo(f"config error: {path}: {message}", err=True)
        raise SystemExit(2) from None
    return _with_log_format(settings, ctx.obj.get("log_format"))


def _with_log_format(settings: Settings, chosen: str | None) -> Settings:
    """--log-format wins over the config's ``log_format`` (and reaches spawned workers)."""
    import logging

    from workers.runtime.json_logs import configure

    if chosen is not None and chosen != settings.log_format:
        settings = settings.model_copy(update={"log_format": chosen})
    if settings.log_format == "json":
        configure("json", logging.getLogger().level)
    return settings


def pass_settings(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The command gets the settings (from --config, before or after it) as first argument."""

    @config_option
    @click.pass_context
    @functools.wraps(fn)
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        return fn(settings_or_exit(ctx), *args, **kwargs)

    return wrapper


@contextmanager
def runtime_for(settings: Settings) -> Iterator[Runtime]:
    """A runtime for one command: the schema must exist (run ``relaydesk migrate``)."""
    from store.migrate import current_revision

    runtime = build_runtime(settings, pool_size=1)
    runtime.handoff_to_scheduler = settings.embedded
    try:
        if current_revision(runtime.db) is None:
            raise click.ClickException(
                "the database has no relaydesk schema yet: run `relaydesk migrate` first"
            )
        yield runtime
    finally:
        runtime.close()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, default=_default, indent=2, ensure_ascii=False))


def when(value: datetime | None, zone: str = "UTC") -> str:
    """A stored time as its reader reads it: in ``zone``, to the second, the zone said."""
    return reader_time(value, zone) if value else "-"


def zone_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--tz ZONE``: the reader's time zone (UTC when not given)."""

    def known(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
        try:
            return known_zone(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option(
        "--tz",
        "zone",
        default="UTC",
        show_default=True,
        callback=known,
        help="Show times in this time zone (e.g. Europe/Berlin).",
    )(fn)
