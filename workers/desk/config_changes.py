"""Changing the desk's configuration without a restart: reload, rollback, history.

A candidate is validated before anything is written (``config.loader`` raises
``ConfigError`` with every problem: the caller shows them, nothing changes). A valid
one becomes the desk's version in one transaction with the roster it names (teams,
agents, skills, capacity: ``store.directory_sync``); every process switches to it at
its next message (``workers.runtime.config_follow``). A reload or rollback ends a
pilot (``workers.desk.config_pilots``): the change it records carries none.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings
from config.versions import DeskFile, restart_keys
from router.errors import NotFound
from router.vocabulary import ConfigAction
from store.config_versions import AppliedChange
from store.directory_sync import sync_directory
from workers.runtime.config_follow import settings_of_version
from workers.runtime.context import Runtime
from workers.runtime.desk_config import shared_file


class AmbiguousVersion(NotFound):
    """A shortened version that names more than one."""

    def __init__(self, prefix: str, versions: list[str]) -> None:
        self.versions = versions
        super().__init__(f"{prefix!r} names {len(versions)} versions: {', '.join(versions)}")


@dataclass(frozen=True)
class Applied:
    version: str
    previous: str | None
    changed: bool  # False: it was the desk's version already, nothing was written
    restart_keys: tuple[str, ...] = ()  # keys read at start: they wait for each restart
    directory: tuple[str, ...] = ()  # what the roster's sync changed
    pilot_ended: str | None = None  # the candidate of the pilot this change ended


def apply_settings(
    runtime: Runtime,
    settings: Settings,
    *,
    action: ConfigAction,
    applied_by: str,
    desk_file: DeskFile | None = None,
) -> Applied:
    """Make validated ``settings`` (stored as ``desk_file``, default: their shared part)
    the desk's configuration, with its roster, in one transaction."""
    desk_file = desk_file or shared_file(settings)
    with runtime.db.unit_of_work() as uow:
        versions = uow.config_versions
        current = versions.current()
        before = versions.file_of(current.version) if current else None
        if current is not None and current.version == desk_file.version and not current.pilot:
            return Applied(desk_file.version, current.version, changed=False)
        directory = sync_directory(uow, settings, runtime.now())
        versions.record(desk_file, action=action, applied_by=applied_by, now=runtime.now())
    waits = restart_keys(before.data, desk_file.data) if before else []
    return Applied(
        desk_file.version,
        current.version if current else None,
        changed=True,
        restart_keys=tuple(waits),
        directory=tuple(directory),
        pilot_ended=current.pilot.version if current and current.pilot else None,
    )


def apply_at_start(runtime: Runtime, applied_by: str) -> Applied:
    """``migrate`` and ``serve`` apply their file: the first version (``start``), or a
    reload when the store's differs."""
    with runtime.db.unit_of_work() as uow:
        first = uow.config_versions.current() is None
    action = ConfigAction.START if first else ConfigAction.RELOAD
    return apply_settings(runtime, runtime.settings, action=action, applied_by=applied_by)


def roll_back(runtime: Runtime, version: str, *, applied_by: str) -> Applied:
    """Make a recorded version (named by its first digits) the desk's again; raises
    ``NotFound`` (or ``AmbiguousVersion``), or ``ConfigError`` when it no longer
    validates with this machine's environment."""
    with runtime.db.unit_of_work() as uow:
        names = uow.config_versions.named(version.strip())
        if len(names) > 1:
            raise AmbiguousVersion(version, names)
        desk_file = uow.config_versions.file_of(names[0]) if names else None
    if desk_file is None:
        raise NotFound(f"no configuration version {version!r}")
    settings = settings_of_version(desk_file, runtime.start_settings)
    return apply_settings(
        runtime, settings, action=ConfigAction.ROLLBACK, applied_by=applied_by, desk_file=desk_file
    )


def config_history(runtime: Runtime, limit: int = 100) -> list[AppliedChange]:
    """The latest changes, newest (the desk's version now) first."""
    with runtime.db.unit_of_work() as uow:
        return uow.config_versions.history(limit)
