"""The desk's configuration versions: what each contained, and who applied which, when.

The newest change is the configuration in force; every process of the fleet reads it
between messages (``ConfigVersions.current``), so all agree on one version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.versions import DeskFile
from router.vocabulary import ConfigAction
from store.models import ConfigChange, ConfigVersion


@dataclass(frozen=True)
class CurrentConfig:
    """The change in force: its number (a new one each time, a rollback too) and version."""

    change_id: int
    version: str


@dataclass(frozen=True)
class AppliedChange:
    change_id: int
    version: str
    action: ConfigAction
    applied_by: str
    applied_at: datetime


class ConfigVersions:
    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self) -> CurrentConfig | None:
        row = self.session.execute(
            select(ConfigChange.id, ConfigChange.version).order_by(ConfigChange.id.desc()).limit(1)
        ).first()
        return CurrentConfig(row.id, row.version) if row else None

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

    def record(
        self, desk_file: DeskFile, *, action: ConfigAction, applied_by: str, now: datetime
    ) -> CurrentConfig:
        """Make ``desk_file`` the desk's configuration from this transaction's commit on."""
        version = desk_file.version
        if self.session.get(ConfigVersion, version) is None:
            self.session.add(
                ConfigVersion(version=version, content=desk_file.content, created_at=now)
            )
            self.session.flush()
        change = ConfigChange(
            version=version,
            action=ConfigAction(action).value,
            applied_by=applied_by[:320],
            applied_at=now,
        )
        self.session.add(change)
        self.session.flush()
        return CurrentConfig(change.id, version)

    def history(self, limit: int = 100) -> list[AppliedChange]:
        """The latest ``limit`` changes, newest first."""
        rows = self.session.scalars(
            select(ConfigChange).order_by(ConfigChange.id.desc()).limit(limit)
        )
        return [
            AppliedChange(r.id, r.version, ConfigAction(r.action), r.applied_by, r.applied_at)
            for r in rows
        ]
