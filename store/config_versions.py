"""The desk's configuration versions: what each contained, and who applied which, when.

The newest change is the configuration in force; every process of the fleet reads it
between messages (``ConfigVersions.current``), so all agree on one version: when it may
have changed (``store.config_signals``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from config.versions import DeskFile
from router.vocabulary import ConfigAction
from store import config_signals
from store.models import ConfigChange, ConfigVersion


@dataclass(frozen=True)
class Pilot:
    """A candidate version deciding for ``teams``; the change's version decides for the rest."""

    version: str
    teams: tuple[str, ...]


@dataclass(frozen=True)
class CurrentConfig:
    """The change in force: its number (a new one each time, a rollback too), version, and
    the pilot it carries, if any."""

    change_id: int
    version: str
    pilot: Pilot | None = None


@dataclass(frozen=True)
class AppliedChange:
    change_id: int
    version: str
    action: ConfigAction
    applied_by: str
    applied_at: datetime
    pilot: Pilot | None = None


def _pilot(version: str | None, teams: list[str] | None) -> Pilot | None:
    return Pilot(version, tuple(teams or ())) if version is not None else None


class ConfigVersions:
    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self) -> CurrentConfig | None:
        row = self.session.execute(
            select(
                ConfigChange.id,
                ConfigChange.version,
                ConfigChange.pilot_version,
                ConfigChange.pilot_teams,
            )
            .order_by(ConfigChange.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return CurrentConfig(row.id, row.version, _pilot(row.pilot_version, row.pilot_teams))

    def file_of(self, version: str) -> DeskFile | None:
        content = self.session.scalar(
            select(ConfigVersion.content).where(ConfigVersion.version == version)
        )
        return DeskFile(content) if content is not None else None

    def named(self, prefix: str) -> list[str]:
        """The versions whose name starts with ``prefix`` (a version may be shortened)."""
        if not prefix:
            return []
        escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return list(
            self.session.scalars(
                select(ConfigVersion.version)
                .where(ConfigVersion.version.like(f"{escaped}%", escape="\\"))
                .order_by(ConfigVersion.version)
            )
        )

    def keep(self, desk_file: DeskFile, now: datetime) -> str:
        """Store ``desk_file``'s content under its version (once); the version."""
        version = desk_file.version
        if self.session.get(ConfigVersion, version) is None:
            self.session.add(
                ConfigVersion(version=version, content=desk_file.content, created_at=now)
            )
            self.session.flush()
        return version

    def record(
        self,
        desk_file: DeskFile,
        *,
        action: ConfigAction,
        applied_by: str,
        now: datetime,
        pilot: tuple[DeskFile, tuple[str, ...]] | None = None,
    ) -> CurrentConfig:
        """Make ``desk_file`` the desk's configuration from this transaction's commit on;
        ``pilot``: a candidate and the teams it decides for meanwhile."""
        version = self.keep(desk_file, now)
        piloted = Pilot(self.keep(pilot[0], now), pilot[1]) if pilot else None
        change = ConfigChange(
            version=version,
            action=ConfigAction(action).value,
            applied_by=applied_by[:320],
            applied_at=now,
            pilot_version=piloted.version if piloted else None,
            pilot_teams=list(piloted.teams) if piloted else None,
        )
        self.session.add(change)
        self.session.flush()
        config_signals.notify(self.session)  # the listening processes read it after the commit
        return CurrentConfig(change.id, version, piloted)

    def history(self, limit: int = 100) -> list[AppliedChange]:
        """The latest ``limit`` changes, newest first."""
        return self._changes(select(ConfigChange).order_by(ConfigChange.id.desc()).limit(limit))

    def last(self, action: ConfigAction) -> AppliedChange | None:
        """The newest change made by ``action`` (the last pilot started, say)."""
        found = self._changes(
            select(ConfigChange)
            .where(ConfigChange.action == ConfigAction(action).value)
            .order_by(ConfigChange.id.desc())
            .limit(1)
        )
        return found[0] if found else None

    def _changes(self, query: Select[Any]) -> list[AppliedChange]:
        rows = self.session.scalars(query)
        return [
            AppliedChange(
                r.id,
                r.version,
                ConfigAction(r.action),
                r.applied_by,
                r.applied_at,
                _pilot(r.pilot_version, r.pilot_teams),
            )
            for r in rows
        ]
