"""Every process follows the desk's configuration version in the store.

A worker looks between messages (``ConfigPin``, a dramatiq middleware: before each
message it follows the store, then pins the version to the thread until the message
is done), the scheduler before each sweep, every other process at its heartbeat; a
web request keeps the version it began with (``PinPerRequest``). A worker process on
PostgreSQL listens for changes (``store.config_signals``) and reads the store before a
message only after one was heard (or while it is not listening), instead of paying a
transaction for every message. A new version is validated here once more, with this
machine's ``RELAYDESK_*`` environment on top, and switched to whole; one that does not
validate here is refused whole too (logged with every problem) and the process keeps its
version.
"""

from __future__ import annotations

import logging
import os
import threading

from dramatiq import Broker
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from config.loader import ConfigError, settings_of
from config.settings import Settings
from config.versions import DeskFile
from store.config_versions import CurrentConfig
from workers.runtime.context import Runtime
from workers.runtime.desk_config import MACHINE_KEYS, DeskConfig

log = logging.getLogger(__name__)
_switching = threading.Lock()


def settings_of_version(desk_file: DeskFile, start: Settings) -> Settings:
    """A stored version as this process runs it: its environment on top, its own
    database, broker and log format kept."""
    settings = settings_of(desk_file.data, os.environ)
    return settings.model_copy(update={key: getattr(start, key) for key in MACHINE_KEYS})


def _same(config: DeskConfig, current: CurrentConfig) -> bool:
    """Whether ``config`` is the change's version with the change's pilot."""
    if config.version != current.version:
        return False
    if config.pilot is None or current.pilot is None:
        return config.pilot is None and current.pilot is None
    candidate, teams = config.pilot
    return candidate.version == current.pilot.version and teams == set(current.pilot.teams)


_Found = tuple[CurrentConfig, DeskFile | None, DeskFile | None]


def _changed(runtime: Runtime) -> _Found | None:
    """The store's change with its version's and pilot's files, unless this process runs
    it already."""
    slot = runtime.configs
    with runtime.db.unit_of_work() as uow:
        versions = uow.config_versions
        current = versions.current()
        if current is None or current.change_id == slot.change_seen:
            return None
        if _same(slot.latest, current):
            slot.change_seen = current.change_id
            return None
        pilot_file = versions.file_of(current.pilot.version) if current.pilot else None
        return current, versions.file_of(current.version), pilot_file


def follow_store(runtime: Runtime) -> bool:
    """Switch to the store's current version (and pilot) if it changed since the last look;
    True when this process switched."""
    slot = runtime.configs
    watch = runtime.db.config_watch
    mark = watch.reading()
    try:
        found = _changed(runtime)
    except Exception:  # the store is away: keep deciding by the version we have
        log.warning("could not read the configuration version; keeping %s", slot.latest.version)
        return False
    watch.read(mark)  # the store answered: the next read is due when a change is heard
    if found is None:
        return False
    current, desk_file, pilot_file = found
    if desk_file is None or (current.pilot is not None and pilot_file is None):
        return False
    try:
        settings = settings_of_version(desk_file, runtime.start_settings)
        config = DeskConfig(settings, current.version)
        if current.pilot is not None and pilot_file is not None:
            candidate = DeskConfig(
                settings_of_version(pilot_file, runtime.start_settings), current.pilot.version
            )
            config = DeskConfig(
                settings, current.version, (candidate, frozenset(current.pilot.teams))
            )
    except ConfigError as exc:
        log.error(
            "configuration %s does not validate in this process; keeping %s: %s",
            current.version,
            slot.latest.version,
            "; ".join(f"{key}: {message}" for key, message in exc.problems),
        )
        slot.change_seen = current.change_id
        return False
    with _switching:  # threads that read the same change at once: one switches
        if slot.change_seen == current.change_id:
            return False
        before = slot.latest.version
        slot.switch(config, current.change_id)
    if current.pilot is not None:
        log.info(
            "configuration %s -> %s, piloting %s on %s",
            before,
            current.version,
            current.pilot.version,
            ", ".join(current.pilot.teams),
        )
    else:
        log.info("configuration %s -> %s", before, current.version)
    return True


class ConfigPin(Middleware):
    """One configuration version per message, the store's latest when the message starts:
    read before it, unless the process listens for changes and heard none since."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def after_process_boot(self, broker: Broker) -> None:
        self.runtime.db.listen_for_config_changes()  # a worker process, on PostgreSQL
        self.runtime.db.listen_for_kept_reads()  # (the agents' addresses)

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        if self.runtime.db.config_watch.must_read():
            follow_store(self.runtime)
        self.runtime.configs.pin()

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        self.runtime.configs.unpin()

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self.runtime.configs.unpin()


class PinPerRequest:
    """ASGI middleware: a web request is served by one version, its process's latest
    as the request begins (the process follows the store at its heartbeat)."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.runtime.configs.pinned():
            await self.app(scope, receive, send)
