"""The desk's configuration versions and the changes that applied them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, JSONType, UTCDateTime


class ConfigVersion(Base):
    """A configuration file's canonical content (config/versions.py), named by its hash."""

    __tablename__ = "config_versions"

    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConfigChange(Base):
    """One application of a version: the newest row is the desk's configuration now."""

    __tablename__ = "config_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(ForeignKey("config_versions.version"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # router.vocabulary.ConfigAction's values
    applied_by: Mapped[str] = mapped_column(String(320))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # a pilot: this candidate decides for the teams named (a JSON list), ``version`` for the rest
    pilot_version: Mapped[str | None] = mapped_column(ForeignKey("config_versions.version"))
    pilot_teams: Mapped[list[str] | None] = mapped_column(JSONType)
